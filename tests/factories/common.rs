//! The factories service's app for its tests: the app each function builds at cold start,
//! on DynamoDB Local and redis-server, with a client that counts its calls (and its writes).

use api_tests::{required_env, service_config, unique_table, CallCounter};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use factories_store::Factories;
use lambda_http::http::Method;
use lambda_http::{Body, Request, RequestExt, Response};
use shared::{App, Config, FixedClock, KeySource, State};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub const KEY: &str = "local-dev-key";
pub const OTHER: &str = "local-other-key";

/// Counts the calls that write (every operation but reads).
#[derive(Debug, Default, Clone)]
pub struct WriteCounter(Arc<AtomicUsize>);

impl WriteCounter {
    pub fn take(&self) -> usize {
        self.0.swap(0, Ordering::SeqCst)
    }
}

impl Intercept for WriteCounter {
    fn name(&self) -> &'static str {
        "WriteCounter"
    }

    fn read_before_transmit(
        &self,
        _ctx: &BeforeTransmitInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let op = cfg.load::<Metadata>().map(|m| m.name()).unwrap_or_default();
        if !matches!(
            op,
            "GetItem" | "BatchGetItem" | "Query" | "Scan" | "DescribeTable"
        ) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
        Ok(())
    }
}

pub struct T {
    pub app: Arc<Factories>,
    pub calls: CallCounter,
    pub writes: WriteCounter,
}

impl std::ops::Deref for T {
    type Target = Factories;
    fn deref(&self) -> &Factories {
        &self.app
    }
}

pub fn config(table: &str, redis_url: Option<String>) -> Config {
    let mut c = service_config(Factories::SERVICE, table, redis_url);
    c.cache_ttl = Duration::from_secs(60);
    c.keys = KeySource::Local(vec![KEY.into(), OTHER.into()]);
    c
}

pub async fn build(config: Config) -> T {
    let calls = CallCounter::default();
    let writes = WriteCounter::default();
    let sdk = shared::app::sdk_config(&config).await;
    let client = aws_sdk_dynamodb::Client::from_conf(
        shared::app::dynamodb_config(&sdk)
            .interceptor(calls.clone())
            .interceptor(writes.clone())
            .build(),
    );
    let app =
        App::new(config, client, Arc::new(FixedClock::new(1_767_225_600))).expect("app builds");
    T {
        app: Arc::new(Factories::with(app)),
        calls,
        writes,
    }
}

/// A new table, the cache on the harness's Redis.
pub async fn fresh() -> T {
    let t = build(config(&unique_table(), Some(required_env("REDIS_URL")))).await;
    t.store.create_table().await.expect("table is created");
    t.calls.take();
    t.writes.take();
    t
}

/// A request as `cargo lambda watch` hands it over (a plain HTTP request), as tenant `key`.
pub fn req(method: Method, path_and_query: &str, key: &str, body: &str) -> Request {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let mut params: HashMap<String, Vec<String>> = HashMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        params.entry(k.into()).or_default().push(v.into());
    }
    let body = if body.is_empty() {
        Body::Empty
    } else {
        Body::Text(body.into())
    };
    lambda_http::http::Request::builder()
        .method(method)
        .uri(format!("http://localhost{path}"))
        .header("x-api-key", key)
        .header("content-type", "application/json")
        .body(body)
        .expect("a request")
        .with_query_string_parameters(params)
}

pub fn with(mut r: Request, name: &'static str, value: &str) -> Request {
    r.headers_mut().insert(name, value.parse().unwrap());
    r
}

pub fn json(resp: &Response<Body>) -> serde_json::Value {
    api_tests::json_of(resp)
}

pub fn etag(resp: &Response<Body>) -> String {
    resp.headers()["etag"].to_str().unwrap().to_owned()
}

/// Routes a request to its function, as the router (cargo lambda watch, API Gateway) does.
pub async fn call(t: &T, r: Request) -> Response<Body> {
    let path = r.uri().path().to_owned();
    if path.starts_with("/sprockets") {
        sprockets::handle(&t.app, r).await
    } else if path.starts_with("/factories") {
        factories::handle(&t.app, r).await
    } else if path.starts_with("/imports") {
        imports::handle(&t.app, r).await
    } else {
        factories_legacy::handle(&t.app, r).await
    }
}

pub const SPROCKET: &str =
    r#"{"teeth": 17, "pitch_diameter": 2.5, "outside_diameter": 2.75, "pitch": 0.5}"#;

/// A chart body of points at `times`, actual = goal = time % 100.
pub fn chart(times: impl IntoIterator<Item = i64>) -> String {
    let times: Vec<i64> = times.into_iter().collect();
    let vals: Vec<String> = times.iter().map(|t| (t % 100).to_string()).collect();
    format!(
        r#"{{"sprocket_production_actual": [{v}], "sprocket_production_goal": [{v}], "time": [{}]}}"#,
        times
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(","),
        v = vals.join(",")
    )
}
