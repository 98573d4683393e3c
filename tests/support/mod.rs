//! Test harness: a fresh table per test on the DynamoDB Local and redis-server that
//! `make test` starts (their addresses arrive as `DYNAMODB_ENDPOINT` and `REDIS_URL`), a
//! DynamoDB call counter, API Gateway events from `events/`, and an HTTP client for the
//! local API (`API_URL`).

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeDeserializationInterceptorContextMut, BeforeTransmitInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use brokerage_store::Brokerage;
use lambda_http::{Body, Request, Response};
use shared::{App, Clock, Config, FixedClock, MarketHours, Service, State};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub mod cold_start;
pub mod events;
pub mod http_client;
pub mod openapi;
pub mod procs;
pub mod soak;

/// 2019-10-17 10:20:25 in Mexico City: the spec's example, inside market hours.
pub const OPEN_TS: i64 = 1_571_325_625;
/// 2020-03-04 16:57:25 in Mexico City: after the close.
pub const CLOSED_TS: i64 = 1_583_362_645;
/// The server's "now" in tests: 2026-01-01.
pub const NOW: i64 = 1_767_225_600;

pub fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests with `make test`, which starts DynamoDB Local, redis-server and the API")
    })
}

/// Counts DynamoDB HTTP requests (attempts, so SDK retries count too).
#[derive(Debug, Default, Clone)]
pub struct CallCounter(Arc<AtomicUsize>);

impl CallCounter {
    pub fn take(&self) -> usize {
        self.0.swap(0, Ordering::SeqCst)
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    fn read_before_transmit(
        &self,
        _ctx: &BeforeTransmitInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

pub struct TestApp {
    pub app: Arc<Brokerage>,
    pub calls: CallCounter,
    pub clock: Arc<FixedClock>,
    /// The EMF documents the app has written.
    pub metric_lines: Arc<std::sync::Mutex<Vec<String>>>,
}

impl TestApp {
    /// The metrics written so far as (name, business error dimension) pairs, then forgotten.
    pub fn take_metrics(&self) -> Vec<(String, Option<String>)> {
        let lines = std::mem::take(&mut *self.metric_lines.lock().unwrap());
        lines
            .iter()
            .map(|line| {
                let doc: serde_json::Value = serde_json::from_str(line).expect("EMF is JSON");
                let name = doc["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Name"]
                    .as_str()
                    .expect("one metric")
                    .to_owned();
                assert_eq!(doc[&name], 1, "{line}");
                (name, doc["BusinessError"].as_str().map(str::to_owned))
            })
            .collect()
    }
}

impl std::ops::Deref for TestApp {
    type Target = Brokerage;
    fn deref(&self) -> &Brokerage {
        &self.app
    }
}

/// Puts a bench's figures (every key starting with `prefix`) into target/bench/summary.json,
/// replacing that prefix's earlier keys and keeping the other benches'.
pub fn merge_summary(prefix: &str, figures: serde_json::Map<String, serde_json::Value>) {
    const SUMMARY: &str = "target/bench/summary.json";
    let mut summary: serde_json::Map<String, serde_json::Value> = std::fs::read_to_string(SUMMARY)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    summary.retain(|k, _| !k.starts_with(prefix));
    summary.extend(figures);
    std::fs::create_dir_all("target/bench").expect("target/bench");
    std::fs::write(
        SUMMARY,
        serde_json::to_string_pretty(&summary).expect("JSON"),
    )
    .expect("summary written");
}

pub fn unique_table() -> String {
    format!("test-{}-{:016x}", std::process::id(), fastrand::u64(..))
}

/// A service's defaults on `table` of the test stack's DynamoDB Local, with `redis_url`, and
/// limits no test reaches.
pub fn service_config(service: Service, table: &str, redis_url: Option<String>) -> Config {
    let mut c = Config::from_lookup(service, |_| None).expect("defaults are valid");
    c.table_name = table.to_owned();
    // The limits' state in Redis is per API: each table's own.
    c.api_name = table.to_owned();
    c.dynamodb_endpoint = Some(required_env("DYNAMODB_ENDPOINT"));
    c.redis_url = redis_url;
    // Only the limits' own tests are throttled (they set their own).
    c.limits = shared::Limits {
        key_rate: 1_000_000,
        key_burst: 1_000_000,
        daily_quota: 1_000_000_000,
        stage_rate: 1_000_000,
        stage_burst: 1_000_000,
    };
    c
}

pub fn config(table: &str, redis_url: Option<String>) -> Config {
    let mut config = service_config(Brokerage::SERVICE, table, redis_url);
    config.cache_ttl = Duration::from_secs(60);
    config
}

/// The tenant of the events in `events/` (their `x-api-key`), one of the default local keys.
pub fn owner() -> brokerage_domain::Owner {
    brokerage_domain::Owner("local-dev-key".into())
}

/// An app on a new, empty table, with the cache on the harness's Redis.
pub async fn fresh_app() -> TestApp {
    app_with(config(&unique_table(), Some(required_env("REDIS_URL")))).await
}

/// An app with the given configuration; its table is created if missing.
pub async fn app_with(config: Config) -> TestApp {
    let t = build_app(config).await;
    t.store.create_table().await.expect("table is created");
    t.calls.take();
    t
}

/// An app with the given configuration, creating nothing.
pub async fn app_with_no_table(config: Config) -> TestApp {
    build_app(config).await
}

/// An app whose DynamoDB endpoint refuses every connection (nothing listens on port 1),
/// without a cache.
pub async fn app_without_dynamodb() -> TestApp {
    let mut config = config(&unique_table(), None);
    config.dynamodb_endpoint = Some("http://127.0.0.1:1".into());
    build_app(config).await
}

/// The app a function builds at cold start, but with a fixed clock, a client that counts
/// its calls, and metrics kept in memory.
async fn build_app(config: Config) -> TestApp {
    let calls = CallCounter::default();
    let sdk = shared::app::sdk_config(&config).await;
    let client = aws_sdk_dynamodb::Client::from_conf(
        shared::app::dynamodb_config(&sdk)
            .interceptor(calls.clone())
            .build(),
    );
    app_from_client(config, client, calls)
}

/// An app on the given DynamoDB client (a mock, say), whose calls `calls` counts.
pub fn app_from_client(
    config: Config,
    client: aws_sdk_dynamodb::Client,
    calls: CallCounter,
) -> TestApp {
    let clock = Arc::new(FixedClock::new(NOW));
    let mut app = App::new(config, client, clock.clone() as Arc<dyn Clock>).expect("app builds");
    let (metrics, metric_lines) = shared::Metrics::memory("Brokerage/test", "test");
    app.metrics = metrics;
    TestApp {
        app: Arc::new(Brokerage::with_market(app, MarketHours::default())),
        calls,
        clock,
        metric_lines,
    }
}

/// Runs `race` once, just before the first order write its client sends (`UpdateItem` or
/// `TransactWriteItems`): another writer committing between this client's read and its write.
pub struct BeforeFirstWrite(std::sync::Mutex<Option<Race>>);

impl BeforeFirstWrite {
    pub fn new(race: impl FnOnce() + Send + 'static) -> BeforeFirstWrite {
        BeforeFirstWrite(std::sync::Mutex::new(Some(Box::new(race))))
    }
}

impl std::fmt::Debug for BeforeFirstWrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BeforeFirstWrite")
    }
}

impl Intercept for BeforeFirstWrite {
    fn name(&self) -> &'static str {
        "BeforeFirstWrite"
    }

    fn read_before_transmit(
        &self,
        ctx: &BeforeTransmitInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if is_order_write(ctx) {
            if let Some(race) = self.0.lock().unwrap().take() {
                race();
            }
        }
        Ok(())
    }
}

/// An app on `t`'s table whose first order write waits for `race` to run to its end
/// (on the same runtime: call from a multi-threaded test).
pub fn racing_app(t: &TestApp, race: impl FnOnce() + Send + 'static) -> TestApp {
    intercepted_app(
        t,
        BeforeFirstWrite::new(move || tokio::task::block_in_place(race)),
    )
}

/// Whether the request is an order write: `UpdateItem` or `TransactWriteItems`.
fn is_order_write(ctx: &BeforeTransmitInterceptorContextRef<'_>) -> bool {
    let target = ctx.request().headers().get("x-amz-target").unwrap_or("");
    target.ends_with(".TransactWriteItems") || target.ends_with(".UpdateItem")
}

/// An app on `t`'s table whose client also runs `interceptor`, with its own call counter.
fn intercepted_app(t: &TestApp, interceptor: impl Intercept + 'static) -> TestApp {
    let calls = CallCounter::default();
    let config = t
        .store
        .client()
        .config()
        .to_builder()
        .interceptor(calls.clone())
        .interceptor(interceptor)
        .build();
    let client = aws_sdk_dynamodb::Client::from_conf(config);
    app_from_client(t.config.clone(), client, calls)
}

/// Loses the answer to the first order write its client sends, after DynamoDB applied it:
/// runs `meanwhile` (other writers, say), then hands the SDK a 500 in place of the answer,
/// so that the SDK sends the same write again.
pub struct LoseFirstAnswer {
    /// Whether the attempt in flight is the write, and what runs before its answer is lost.
    state: std::sync::Mutex<(bool, Option<Race>)>,
}

type Race = Box<dyn FnOnce() + Send>;

impl std::fmt::Debug for LoseFirstAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoseFirstAnswer")
    }
}

impl Intercept for LoseFirstAnswer {
    fn name(&self) -> &'static str {
        "LoseFirstAnswer"
    }

    fn read_before_transmit(
        &self,
        ctx: &BeforeTransmitInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let mut state = self.state.lock().unwrap();
        // Armed by the first write; one order's calls go out one after another.
        if state.1.is_some() && is_order_write(ctx) {
            state.0 = true;
        }
        Ok(())
    }

    fn modify_before_deserialization(
        &self,
        ctx: &mut BeforeDeserializationInterceptorContextMut<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let meanwhile = {
            let mut state = self.state.lock().unwrap();
            if !std::mem::take(&mut state.0) {
                return Ok(());
            }
            state.1.take()
        };
        assert!(
            ctx.response().status().is_success(),
            "the write went through"
        );
        if let Some(meanwhile) = meanwhile {
            meanwhile();
        }
        let response = ctx.response_mut();
        *response.status_mut() = aws_smithy_runtime_api::http::StatusCode::try_from(500)?;
        *response.body_mut() = aws_smithy_types::body::SdkBody::from(
            r#"{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"answer lost"}"#,
        );
        Ok(())
    }
}

/// An app on `t`'s table whose first order write is applied but its answer lost, after
/// `meanwhile` ran to its end (on the same runtime: call from a multi-threaded test).
pub fn lossy_app(t: &TestApp, meanwhile: impl FnOnce() + Send + 'static) -> TestApp {
    let lose = LoseFirstAnswer {
        state: std::sync::Mutex::new((
            false,
            Some(Box::new(move || tokio::task::block_in_place(meanwhile))),
        )),
    };
    intercepted_app(t, lose)
}

/// An API Gateway REST proxy event from `events/`, as the function receives it.
pub fn event(name: &str) -> Request {
    let path = format!("{}/../events/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A copy of an event with another body.
pub fn with_body(mut req: Request, body: impl Into<Body>) -> Request {
    *req.body_mut() = body.into();
    req
}

pub fn json_of(resp: &Response<Body>) -> serde_json::Value {
    serde_json::from_slice(resp.body().as_ref()).unwrap_or_else(|e| {
        panic!(
            "body is not JSON ({e}): {:?}",
            String::from_utf8_lossy(resp.body().as_ref())
        )
    })
}

pub fn content_type(resp: &Response<Body>) -> &str {
    resp.headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// An order body.
pub fn order(ts: i64, op: &str, issuer: &str, shares: u64, price: &str) -> String {
    format!(
        r#"{{"timestamp":{ts},"operation":"{op}","issuer_name":"{issuer}","total_shares":{shares},"share_price":{price}}}"#
    )
}

/// A request with a header set (or replaced).
pub fn with_header(mut req: Request, name: &'static str, value: &str) -> Request {
    req.headers_mut()
        .insert(name, value.parse().expect("a valid header value"));
    req
}

/// A request without a header.
pub fn without_header(mut req: Request, name: &str) -> Request {
    req.headers_mut().remove(name);
    req
}

/// A server that accepts connections and never answers; its port.
pub async fn silent_listener() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    port
}

/// An account of the events' tenant, as stored.
pub async fn stored(t: &TestApp, id: u64) -> brokerage_domain::Account {
    let account = t
        .store
        .load_account(&owner(), brokerage_domain::AccountId(id))
        .await;
    account.unwrap().expect("the account exists")
}

/// The cash of an account of the events' tenant, as stored.
pub async fn stored_cash(t: &TestApp, id: u64) -> String {
    stored(t, id).await.cash.value().to_string()
}

/// Claims `key` for `req` as a request still running (`nonce`) would, for the lock's length.
pub async fn hold_key(t: &TestApp, req: &Request, key: &str, nonce: &str) {
    let keyed = shared::idempotency::Keyed {
        key: key.into(),
        fingerprint: shared::idempotency::fingerprint(req),
    };
    let lock = t.config.idempotency_lock.as_secs() as i64;
    let verdict = shared::idempotency::claim(
        &t.app,
        &owner(),
        &keyed,
        nonce,
        NOW,
        NOW + lock,
        NOW + 86_400,
    )
    .await
    .expect("the key is claimed");
    assert!(
        matches!(verdict, shared::idempotency::Verdict::Free),
        "{verdict:?}"
    );
}

/// The event for a route with the account id in its path and the given body.
pub fn request(route: &str, id: u64, body: &str) -> Request {
    use lambda_http::RequestExt;
    let req = event(route);
    let mut params = std::collections::HashMap::new();
    params.insert("id".to_owned(), id.to_string());
    with_body(req, body.to_owned()).with_path_parameters(params)
}
