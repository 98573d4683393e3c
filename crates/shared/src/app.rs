//! What a function holds across invocations: built once per cold start.
//!
//! [`App`] is the platform's part (configuration, the DynamoDB client, the Redis cache and
//! limits, the clock, metrics); a service wraps it with its own store in a [`State`].

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use std::sync::Arc;
use std::time::Duration;
use tracing::Instrument;

use crate::config::Service;
use crate::limits::Limiter;
use crate::{Cache, Clock, Config, KeySource, Metrics, SystemClock};

pub struct App {
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// The Redis connection of every cache entry and limit (disabled without `REDIS_URL`).
    pub cache: Cache,
    /// API Gateway's limits, applied here when it is not in front (locally, with Redis).
    pub limiter: Option<Limiter>,
    pub clock: Arc<dyn Clock>,
    pub config: Config,
    pub metrics: Metrics,
}

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What a service's functions hold: the platform's [`App`] and the service's own parts,
/// built from it once per cold start.
pub trait State: Sized + Send + Sync + 'static {
    /// The service's defaults for its table and metrics.
    const SERVICE: Service;
    fn new(app: App) -> Result<Self, BoxError>;
}

impl App {
    /// Configuration from the environment, clients built once, the system clock, metrics
    /// on stdout.
    pub async fn from_env(service: Service) -> Result<App, BoxError> {
        let config = Config::from_env(service)?;
        let client = aws_sdk_dynamodb::Client::from_conf(
            dynamodb_config(&sdk_config(&config).await).build(),
        );
        let mut app = App::new(config, client, Arc::new(SystemClock))?;
        app.metrics = Metrics::stdout(&app.config.metrics_namespace, &function_name());
        Ok(app)
    }

    pub fn new(
        config: Config,
        client: aws_sdk_dynamodb::Client,
        clock: Arc<dyn Clock>,
    ) -> Result<App, BoxError> {
        let cache = match &config.redis_url {
            Some(url) => Cache::connect(
                url,
                &config.table_name,
                config.cache_ttl,
                config.cache_timeout,
            )?,
            None => Cache::disabled(),
        };
        let limiter = match (&config.keys, cache.connection()) {
            (KeySource::Local(_), Some(conn)) => Some(Limiter::new(
                conn,
                &config.api_name,
                config.limits.clone(),
                config.cache_timeout,
            )),
            _ => None,
        };
        Ok(App {
            dynamodb: client,
            cache,
            limiter,
            clock,
            config,
            metrics: Metrics::off(),
        })
    }
}

/// Lambda names the function; elsewhere (cargo lambda watch, tests) the binary does.
fn function_name() -> String {
    std::env::var("AWS_LAMBDA_FUNCTION_NAME")
        .ok()
        .or_else(|| {
            let exe = std::env::current_exe().ok()?;
            Some(exe.file_name()?.to_string_lossy().into_owned())
        })
        .unwrap_or_default()
}

/// The AWS configuration. With a local endpoint, a fixed region and placeholder
/// credentials stand in for the ones AWS provides to a deployed function.
pub async fn sdk_config(config: &Config) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(1))
                .operation_attempt_timeout(Duration::from_secs(2))
                .operation_timeout(Duration::from_secs(5))
                .build(),
        );
    if let Some(endpoint) = &config.dynamodb_endpoint {
        loader = loader.endpoint_url(endpoint);
        if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
            loader = loader
                .credentials_provider(Credentials::new("local", "local", None, None, "local"));
        }
        if std::env::var_os("AWS_REGION").is_none()
            && std::env::var_os("AWS_DEFAULT_REGION").is_none()
        {
            loader = loader.region(Region::new("us-east-1"));
        }
    }
    loader.load().await
}

/// A DynamoDB client configuration to add to (tests add an interceptor that counts calls).
pub fn dynamodb_config(sdk: &SdkConfig) -> aws_sdk_dynamodb::config::Builder {
    aws_sdk_dynamodb::config::Builder::from(sdk)
}

/// A function's `main`: [`serve`] on a single-threaded runtime. A Lambda execution
/// environment handles one request at a time, so worker threads would only add wakeups
/// across threads (most of a function's CPU time under load, when it had them).
pub fn run<S, F, Fut>(handle: F) -> Result<(), lambda_http::Error>
where
    S: State,
    F: Fn(&'static S, lambda_http::Request) -> Fut,
    Fut: std::future::Future<Output = lambda_http::Response<lambda_http::Body>> + Send,
{
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(serve(handle))
}

/// Runs a function: JSON logs, the state built once, then `handle` for every request.
/// The state lives as long as the process, which is what a Lambda execution environment is.
pub async fn serve<S, F, Fut>(handle: F) -> Result<(), lambda_http::Error>
where
    S: State,
    F: Fn(&'static S, lambda_http::Request) -> Fut,
    Fut: std::future::Future<Output = lambda_http::Response<lambda_http::Body>> + Send,
{
    crate::telemetry::init();
    let app: &'static S = Box::leak(Box::new(S::new(App::from_env(S::SERVICE).await?)?));
    lambda_http::run(lambda_http::service_fn(|req: lambda_http::Request| {
        // Every log line of the request carries its id and route (never its body); a
        // handler may add its outcome (`telemetry::outcome`) to the closing line.
        let span = tracing::info_span!(
            "request",
            request_id = %crate::http::request_id(&req),
            route = %crate::http::route(&req),
            outcome = tracing::field::Empty,
            id = tracing::field::Empty,
            detail = tracing::field::Empty,
        );
        let started = std::time::Instant::now();
        let response = handle(app, req);
        async move {
            let response = response.await;
            tracing::info!(
                status = response.status().as_u16(),
                latency_ms = started.elapsed().as_secs_f64() * 1e3,
                "request done"
            );
            Ok::<_, std::convert::Infallible>(response)
        }
        .instrument(span)
    }))
    .await
}
