//! The events service's apps, requests and stream for its tests: the app each function builds
//! at cold start, on DynamoDB Local and redis-server, with a client that counts its calls.

use api_tests::{required_env, service_config, unique_table, CallCounter};
use aws_smithy_runtime_api::client::interceptors::SharedInterceptor;
use chrono_tz::Tz;
use events_store::Events;
use lambda_http::{Body, Request, RequestExt, Response};
use shared::{App, Config, FixedClock, KeySource, State};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The tenants' keys the tests' apps accept (`x-api-key`); the first is the events' samples'.
pub const KEY: &str = "local-dev-key";
pub const OTHER: &str = "local-other-key";
/// A fixed clock for the aggregator's checkpoints.
pub const NOW: i64 = 1_773_130_000;

pub struct T {
    pub events: Arc<Events>,
    pub calls: CallCounter,
}

impl std::ops::Deref for T {
    type Target = Events;
    fn deref(&self) -> &Events {
        &self.events
    }
}

/// The configuration of a test on `table`: no limits, the given Redis, `keys` accepted.
pub fn config(table: &str, redis_url: Option<String>, keys: Vec<String>) -> Config {
    let mut c = service_config(Events::SERVICE, table, redis_url);
    c.cache_ttl = Duration::from_secs(60);
    c.keys = KeySource::Local(keys);
    c
}

/// Both tables new, the cache on the harness's Redis, the two default keys.
pub async fn fresh() -> T {
    let c = config(
        &unique_table(),
        Some(required_env("REDIS_URL")),
        vec![KEY.into(), OTHER.into()],
    );
    let t = build(c, Tz::UTC, Vec::new()).await;
    t.store.create_tables().await.expect("tables are created");
    t.calls.take();
    t
}

/// The app on `config`, its client with `interceptors` besides the call counter.
pub async fn build(config: Config, tz: Tz, interceptors: Vec<SharedInterceptor>) -> T {
    let calls = CallCounter::default();
    let sdk = shared::app::sdk_config(&config).await;
    let mut builder = shared::app::dynamodb_config(&sdk).interceptor(calls.clone());
    for i in interceptors {
        builder.push_interceptor(i);
    }
    let client = aws_sdk_dynamodb::Client::from_conf(builder.build());
    let aggregates = events_store::aggregates_table(&config.table_name, |_| None);
    let app = App::new(config, client, Arc::new(FixedClock::new(NOW))).expect("app builds");
    T {
        events: Arc::new(Events::with(app, aggregates, tz)),
        calls,
    }
}

/// Another app on `t`'s tables and cache, its client with `interceptor` too.
pub async fn beside(t: &T, interceptor: impl aws_sdk_dynamodb::config::Intercept + 'static) -> T {
    build(
        t.app.config.clone(),
        t.tz,
        vec![SharedInterceptor::new(interceptor)],
    )
    .await
}

/// An API Gateway event from `events/`, as the function receives it, with tenant `key`.
pub fn sample(name: &str, key: &str) -> Request {
    api_tests::with_header(api_tests::event(name), "x-api-key", key)
}

pub fn create(key: &str, body: &str) -> Request {
    api_tests::with_body(sample("create-event", key), body.to_owned())
}

/// `route` (get-event or delete-event) for `id`.
pub fn on_event(route: &str, key: &str, id: &str) -> Request {
    let mut params = HashMap::new();
    params.insert("event_id".to_owned(), id.to_owned());
    sample(route, key).with_path_parameters(params)
}

/// `GET /report` with the query's `(name, value)` pairs (a name may repeat).
pub fn report(key: &str, query: &[(&str, &str)]) -> Request {
    let mut params: HashMap<String, Vec<String>> = HashMap::new();
    for (k, v) in query {
        params.entry(k.to_string()).or_default().push(v.to_string());
    }
    sample("report", key).with_query_string_parameters(params)
}

pub fn json(resp: &Response<Body>) -> serde_json::Value {
    api_tests::json_of(resp)
}

/// An event body: `n` names its id.
pub fn body(n: u64, client: i32, value: &str) -> String {
    format!(
        r#"{{"id": "{}", "device_type": "mobile", "category": 3, "client": {client},
            "client_group": 1, "timestamp": "2026-03-10T08:15:00Z", "valid": true, "value": {value}}}"#,
        id(n)
    )
}

pub fn id(n: u64) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// DynamoDB Local's stream of `t`'s events table, read by the repo's poller and delivered
/// to `aggregate-events`' handler in this process, as `make run` does. `delivered` counts
/// the events' records of the batches that succeeded (first deliveries and repeats alike).
pub struct Stream {
    pub delivered: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<Result<(), String>>,
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Stream {
    /// Starts polling; `twice` delivers every batch a second time (the mapping's retry of a
    /// batch whose answer was lost).
    pub async fn start(t: &T, twice: bool) -> Stream {
        let sdk = shared::app::sdk_config(&t.app.config).await;
        let streams = aws_sdk_dynamodbstreams::Client::from_conf(
            aws_sdk_dynamodbstreams::config::Builder::from(&sdk)
                .endpoint_url(required_env("DYNAMODB_ENDPOINT"))
                .build(),
        );
        let arn = events_poller::Poller::stream_arn(&t.app.dynamodb, &t.app.config.table_name)
            .await
            .expect("the events table has a stream");
        let delivered = Arc::new(AtomicUsize::new(0));
        let events = t.events.clone();
        let counted = delivered.clone();
        let deliver: events_poller::Deliver = Arc::new(move |payload: serde_json::Value| {
            let events = events.clone();
            let counted = counted.clone();
            Box::pin(async move {
                let records = payload["Records"].as_array().map_or(0, Vec::len);
                for _ in 0..(1 + twice as usize) {
                    let batch =
                        serde_json::from_value(payload.clone()).map_err(|e| e.to_string())?;
                    aggregate_events::handle(&events, batch)
                        .await
                        .map_err(|e| e.to_string())?;
                }
                counted.fetch_add(records, Ordering::SeqCst);
                Ok(())
            })
        });
        let mut poller = events_poller::Poller::new(streams, arn, deliver);
        poller.window = Duration::from_millis(100);
        Stream {
            delivered,
            task: tokio::spawn(poller.run()),
        }
    }

    /// Waits until at least `records` stream records were delivered.
    pub async fn until(&self, records: usize) {
        let started = tokio::time::Instant::now();
        while self.delivered.load(Ordering::SeqCst) < records {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the stream delivered {} of {records} records",
                self.delivered.load(Ordering::SeqCst)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
