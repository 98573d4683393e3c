//! `make bench`, the factories service: its functions' handlers in this process (release
//! build) on the bench's DynamoDB Local and Redis, each DynamoDB call counted. Times a
//! sprocket read hot (from Redis) and cold (the cache off), a sprocket update, and a
//! 10,000-point chart page cold; counts the calls of a hit and a miss of each read. Adds
//! the `factories_` keys to target/bench/summary.json and prints a table.
//!
//! Usage: factories-bench RUNS

use api_tests::{merge_summary, required_env, service_config, CallCounter};
use factories_store::Factories;
use lambda_http::http::Method;
use lambda_http::{Body, Request, RequestExt, Response};
use serde_json::json;
use shared::{App, Config, KeySource, State, SystemClock};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

const KEY: &str = "local-dev-key";

fn config(table: &str, redis: Option<String>) -> Config {
    let mut c = service_config(Factories::SERVICE, table, redis);
    c.keys = KeySource::Local(vec![KEY.into()]);
    c
}

async fn app(config: Config, calls: &CallCounter) -> Factories {
    let sdk = shared::app::sdk_config(&config).await;
    let client = aws_sdk_dynamodb::Client::from_conf(
        shared::app::dynamodb_config(&sdk)
            .interceptor(calls.clone())
            .build(),
    );
    Factories::with(App::new(config, client, Arc::new(SystemClock)).expect("app builds"))
}

fn req(method: Method, path_and_query: &str, body: &str) -> Request {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let mut params: HashMap<String, Vec<String>> = HashMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        params.entry(k.into()).or_default().push(v.into());
    }
    lambda_http::http::Request::builder()
        .method(method)
        .uri(format!("http://localhost{path}"))
        .header("x-api-key", KEY)
        .body(if body.is_empty() {
            Body::Empty
        } else {
            Body::Text(body.into())
        })
        .expect("a request")
        .with_query_string_parameters(params)
}

async fn call(app: &Factories, r: Request) -> Response<Body> {
    let path = r.uri().path().to_owned();
    let resp = if path.starts_with("/sprockets") {
        sprockets::handle(app, r).await
    } else {
        factories::handle(app, r).await
    };
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp
}

fn id_of(resp: &Response<Body>) -> u64 {
    api_tests::json_of(resp)["id"].as_u64().expect("an id")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// p50 and p99 (or p95) of `runs` timed calls of `make`'s requests, in ms.
async fn time(app: &Factories, runs: usize, mut make: impl FnMut(usize) -> Request) -> Vec<f64> {
    let mut ms = Vec::with_capacity(runs);
    for i in 0..runs {
        let r = make(i);
        let t = Instant::now();
        call(app, r).await;
        ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    ms
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(500);
    let table = format!("bench-factories-{:08x}", fastrand::u32(..));
    let calls = CallCounter::default();
    let cold_calls = CallCounter::default();
    let hot = app(config(&table, Some(required_env("REDIS_URL"))), &calls).await;
    let cold = app(config(&table, None), &cold_calls).await;
    hot.store.create_table().await.expect("table");

    let sprocket =
        r#"{"teeth": 17, "pitch_diameter": 2.5, "outside_diameter": 2.75, "pitch": 0.5}"#;
    let id = id_of(&call(&hot, req(Method::POST, "/sprockets", sprocket)).await);
    let path = format!("/sprockets/{id}");
    calls.take();
    call(&hot, req(Method::GET, &path, "")).await;
    let sprocket_hit = calls.take();
    cold_calls.take();
    call(&cold, req(Method::GET, &path, "")).await;
    let sprocket_miss = cold_calls.take();
    let hot_ms = time(&hot, runs, |_| req(Method::GET, &path, "")).await;
    let cold_ms = time(&cold, runs, |_| req(Method::GET, &path, "")).await;
    calls.take();
    let update_ms = time(&hot, runs, |i| {
        req(
            Method::PATCH,
            &path,
            &format!(r#"{{"teeth": {}}}"#, i % 1000 + 1),
        )
    })
    .await;
    let update_calls = calls.take() as f64 / runs as f64;

    let times: Vec<String> = (0..10_000)
        .map(|t| (1_600_000_000 + t * 60).to_string())
        .collect();
    let vals: Vec<String> = (0..10_000).map(|t| (28 + t % 6).to_string()).collect();
    let chart = format!(
        r#"{{"chart_data": {{"sprocket_production_actual": [{v}], "sprocket_production_goal": [{v}], "time": [{}]}}}}"#,
        times.join(","),
        v = vals.join(",")
    );
    let t = Instant::now();
    let f = id_of(&call(&hot, req(Method::POST, "/factories", &chart)).await);
    let create_10000_ms = t.elapsed().as_secs_f64() * 1e3;
    let page = format!("/factories/{f}/chart-data?limit=10000");
    let resp = call(&cold, req(Method::GET, &page, "")).await;
    let page_bytes = match resp.body() {
        Body::Text(s) => s.len(),
        _ => 0,
    };
    cold_calls.take();
    call(&cold, req(Method::GET, &page, "")).await;
    let page_cold_calls = cold_calls.take();
    let page_runs = (runs / 10).max(20);
    let page_ms = time(&cold, page_runs, |_| req(Method::GET, &page, "")).await;
    // Through the cache: the page filled, then a hit; another page with the summary cached.
    call(&hot, req(Method::GET, &page, "")).await;
    calls.take();
    call(&hot, req(Method::GET, &page, "")).await;
    let page_hit = calls.take();
    call(
        &hot,
        req(
            Method::GET,
            &format!("/factories/{f}/chart-data?limit=100"),
            "",
        ),
    )
    .await;
    let page_miss_summary_cached = calls.take();
    call(&hot, req(Method::GET, &format!("/factories/{f}"), "")).await;
    let factory_hit = calls.take();
    cold_calls.take();
    call(&cold, req(Method::GET, &format!("/factories/{f}"), "")).await;
    let factory_miss = cold_calls.take();

    let figures = json!({
        "factories_runs": runs,
        "factories_ddb_calls_sprocket_hit": sprocket_hit,
        "factories_ddb_calls_sprocket_miss": sprocket_miss,
        "factories_ddb_calls_factory_hit": factory_hit,
        "factories_ddb_calls_factory_miss": factory_miss,
        "factories_ddb_calls_chart_page_hit": page_hit,
        "factories_ddb_calls_chart_page_miss_summary_cached": page_miss_summary_cached,
        "factories_ddb_calls_chart_10000_cold": page_cold_calls,
        "factories_ddb_calls_per_update": round(update_calls),
        "factories_chart_10000_bytes": page_bytes,
        "factories_chart_10000_cold_p50_ms": round(percentile(&page_ms, 0.5)),
        "factories_chart_10000_cold_p95_ms": round(percentile(&page_ms, 0.95)),
        "factories_chart_10000_create_ms": round(create_10000_ms),
        "factories_sprocket_read_hot_p50_ms": round(percentile(&hot_ms, 0.5)),
        "factories_sprocket_read_hot_p99_ms": round(percentile(&hot_ms, 0.99)),
        "factories_sprocket_read_cold_p50_ms": round(percentile(&cold_ms, 0.5)),
        "factories_sprocket_read_cold_p99_ms": round(percentile(&cold_ms, 0.99)),
        "factories_update_p50_ms": round(percentile(&update_ms, 0.5)),
        "factories_update_p99_ms": round(percentile(&update_ms, 0.99)),
        "factories_bench": "the functions' handlers in this process (release build), DynamoDB Local and redis-server on loopback; cold: the cache off",
    });
    merge_summary("factories_", figures.as_object().unwrap().clone());
    println!("\n{:<52} {:>12}", "factories: measure", "value");
    for (k, v) in figures.as_object().unwrap() {
        if k != "factories_bench" {
            println!("{k:<52} {v:>12}");
        }
    }
    println!("(contract: hit 0 calls, miss 1, a 10,000-point page <= 3 calls and < 400 KB, update 1 call)");
    println!("\nwritten: target/bench/summary.json");
}
