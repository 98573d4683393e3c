//! The graphql function's app for tests: DynamoDB Local with a call counter, Redis, the
//! fake upstreams in this process, and a clock the test moves.

use api_tests::{required_env, service_config, unique_table, CallCounter};
use catalog_fake_upstreams::{Fakes, Fault};
use catalog_store::snapshot::Refresher;
use catalog_store::{Catalog, Upstreams};
use graphql::Graphql;
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::{json, Value};
use shared::{App, FixedClock, KeySource, Metrics, State};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const KEY: &str = "local-dev-key";
pub const START: i64 = 1_767_225_600;

pub struct T {
    pub app: Arc<Graphql>,
    pub calls: CallCounter,
    pub fakes: Fakes,
    pub clock: Arc<FixedClock>,
    pub metrics: Arc<Mutex<Vec<String>>>,
    pub table: String,
}

pub fn fixtures() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/catalog")
}

pub async fn fresh() -> T {
    fresh_with(&[]).await
}

/// A new table and fakes; `env` sets the freshness windows (e.g. `FRESH_SECONDS`).
pub async fn fresh_with(env: &[(&str, &str)]) -> T {
    let table = unique_table();
    let fakes = Fakes::start(&fixtures(), 0).await.expect("fakes start");
    let mut c = service_config(Catalog::SERVICE, &table, Some(required_env("REDIS_URL")));
    c.keys = KeySource::Local(vec![KEY.into()]);
    c.cache_timeout = Duration::from_millis(200);
    let calls = CallCounter::default();
    let sdk = shared::app::sdk_config(&c).await;
    let client = aws_sdk_dynamodb::Client::from_conf(
        shared::app::dynamodb_config(&sdk)
            .interceptor(calls.clone())
            .build(),
    );
    let clock = Arc::new(FixedClock::new(START));
    let mut app = App::new(c, client, clock.clone()).expect("app builds");
    let (metrics, lines) = Metrics::memory("Catalog", "graphql");
    app.metrics = metrics;
    shared::dynamo::create_table(&app.dynamodb, &table, false)
        .await
        .expect("table");
    let urls: HashMap<String, String> = fakes
        .urls()
        .into_iter()
        .map(|(env, url)| (format!("UPSTREAM_{env}_URL"), url))
        .collect();
    let env: HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let get = |k: &str| urls.get(k).or_else(|| env.get(k)).cloned();
    let upstreams = Upstreams::from_lookup(&get, app.cache.connection())
        .expect("client")
        .with_namespace(&table);
    let catalog = Catalog::with(app, upstreams, Refresher::InProcess, &get).expect("catalog");
    calls.take();
    T {
        app: Arc::new(Graphql {
            catalog,
            schema: graphql::build(true),
        }),
        calls,
        fakes,
        clock,
        metrics: lines,
        table,
    }
}

impl T {
    pub fn fault(&self, source: &str, collection: Option<&str>, kind: &str, extra: Value) {
        let mut f = json!({"source": source, "collection": collection, "kind": kind});
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            f[k] = v;
        }
        self.fakes
            .fault(serde_json::from_value::<Fault>(f).expect("a fault"));
    }

    pub fn advance(&self, secs: i64) {
        use shared::Clock;
        self.clock.set(self.clock.now() + secs);
    }

    /// Metric lines named `name`.
    pub fn metric(&self, name: &str) -> Vec<Value> {
        self.metrics
            .lock()
            .unwrap()
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v.get(name).is_some())
            .collect()
    }

    /// Lets background refreshes (tasks of this runtime) finish.
    pub async fn settle(&self) {
        for _ in 0..500 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            if self.app.catalog.snapshots.refreshing() > 0 {
                continue;
            }
            let metas = self.app.catalog.snapshots.all_metas().await.unwrap();
            if metas
                .iter()
                .all(|(_, m)| m.as_ref().is_none_or(|m| m.lease_id.is_none()))
            {
                return;
            }
        }
        panic!("background refreshes still running after 10 s");
    }
}

pub fn post_req(body: &str) -> Request {
    lambda_http::http::Request::builder()
        .method(Method::POST)
        .uri("http://localhost/graphql")
        .header("x-api-key", KEY)
        .header("content-type", "application/json")
        .body(Body::Text(body.into()))
        .expect("a request")
}

pub fn get_req(params: &[(&str, &str)]) -> Request {
    let map: HashMap<String, Vec<String>> = params
        .iter()
        .map(|(k, v)| (k.to_string(), vec![v.to_string()]))
        .collect();
    lambda_http::http::Request::builder()
        .method(Method::GET)
        .uri("http://localhost/graphql")
        .header("x-api-key", KEY)
        .body(Body::Empty)
        .expect("a request")
        .with_query_string_parameters(map)
}

pub async fn call(t: &T, r: Request) -> Response<Body> {
    graphql::handle(&t.app, r).await
}

pub async fn gql(t: &T, query: &str, variables: Value) -> (StatusCode, Value) {
    let body = json!({"query": query, "variables": variables}).to_string();
    let resp = call(t, post_req(&body)).await;
    (resp.status(), api_tests::json_of(&resp))
}

/// The query's data, asserting it had no errors.
pub async fn data(t: &T, query: &str) -> Value {
    let (status, body) = gql(t, query, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    body["data"].clone()
}

/// The `extensions.code` of each error.
pub fn codes(body: &Value) -> Vec<String> {
    body["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|e| e["extensions"]["code"].as_str().unwrap_or("").to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Every collection read once, so later queries are served from the snapshots.
pub async fn filled(t: &T) {
    let d = data(t, "{ sources { state } products(first: 1) { totalCount } posts(first: 1) { totalCount } users(first: 1) { totalCount } user(id: 1) { albums { photos(first: 1) { totalCount } } todos { id } carts { id } posts(first: 4) { nodes { comments(first: 1) { totalCount } } } } }").await;
    assert_eq!(d["users"]["totalCount"], 6);
    // Every refresh dropped META from Redis; this puts it back (for 5 s).
    let d = data(t, "{ sources { state } }").await;
    assert!(
        d["sources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["state"] == "FRESH"),
        "{d}"
    );
    t.fakes.reset_hits();
    t.calls.take();
}
