//! `make bench`, the catalog service: the graphql handler in this process (release build)
//! on the bench's DynamoDB Local and Redis, the fake upstreams in process. Times filling
//! an empty cache from the fakes, then the contract's nested query with 8 clients on a
//! fresh cache (p50/p99, queries/s), counting DynamoDB calls and upstream GETs per query;
//! cold starts of the release graphql binary against a fake Lambda Runtime API (Init: exec
//! to its first `next`), the same app's build in this process, and the arm64 zip of the
//! function where it was built. Adds the `catalog_` keys to target/bench/summary.json.
//!
//! Usage: catalog-bench QUERIES_PER_CLIENT CLIENTS

use api_tests::cold_start::{cold_starts, ColdStart};
use api_tests::{merge_summary, required_env, service_config, unique_table, CallCounter};
use catalog_fake_upstreams::Fakes;
use catalog_store::snapshot::Refresher;
use catalog_store::{Catalog, Upstreams};
use graphql::Graphql;
use lambda_http::http::Method;
use lambda_http::{Body, Request};
use serde_json::{json, Value};
use shared::{App, KeySource, State, SystemClock};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

const KEY: &str = "local-dev-key";
const NESTED: &str = "{ user(id:1){ posts(first:10){ nodes{ comments(first:5){ nodes{ body } } } } carts{ lines{ product{ title } } } } }";
const EVERYTHING: &str = "{ products(first: 1) { totalCount } posts(first: 1) { totalCount } users(first: 1) { totalCount } user(id: 1) { albums { photos(first: 1) { totalCount } } todos { id } carts { id } posts(first: 4) { nodes { comments(first: 1) { totalCount } } } } }";

fn request(query: &str) -> Request {
    lambda_http::http::Request::builder()
        .method(Method::POST)
        .uri("http://localhost/graphql")
        .header("x-api-key", KEY)
        .header("content-type", "application/json")
        .body(Body::Text(json!({ "query": query }).to_string()))
        .expect("a request")
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn build(fakes: &Fakes, calls: &CallCounter) -> (Graphql, f64) {
    let table = unique_table();
    let started = Instant::now();
    let mut c = service_config(Catalog::SERVICE, &table, Some(required_env("REDIS_URL")));
    c.keys = KeySource::Local(vec![KEY.into()]);
    let sdk = shared::app::sdk_config(&c).await;
    let client = aws_sdk_dynamodb::Client::from_conf(
        shared::app::dynamodb_config(&sdk)
            .interceptor(calls.clone())
            .build(),
    );
    let app = App::new(c, client, Arc::new(SystemClock)).expect("app builds");
    let urls: HashMap<String, String> = fakes
        .urls()
        .into_iter()
        .map(|(e, u)| (format!("UPSTREAM_{e}_URL"), u))
        .collect();
    let get = |k: &str| urls.get(k).cloned();
    let upstreams = Upstreams::from_lookup(&get, app.cache.connection())
        .expect("client")
        .with_namespace(&table);
    let catalog = Catalog::with(app, upstreams, Refresher::InProcess, &get).expect("catalog");
    let g = Graphql {
        catalog,
        schema: graphql::build(true),
    };
    let init_ms = started.elapsed().as_secs_f64() * 1e3;
    shared::dynamo::create_table(&g.catalog.app.dynamodb, &table, false)
        .await
        .expect("table");
    (g, init_ms)
}

async fn query(app: &Graphql, q: &str) -> Value {
    let resp = graphql::handle(app, request(q)).await;
    assert_eq!(resp.status(), 200);
    let body: Value = serde_json::from_slice(resp.body().as_ref()).expect("JSON");
    assert!(body.get("errors").is_none(), "{body}");
    body
}

/// Cold starts of the release graphql binary on the bench's stack, each answering the
/// sample event (a query of the warm table).
fn cold_start(upstreams: Vec<(&'static str, String)>, table: &str) -> ColdStart {
    let event = std::fs::read_to_string("events/graphql.json").expect("events/graphql.json");
    let (dynamodb, redis) = (required_env("DYNAMODB_ENDPOINT"), required_env("REDIS_URL"));
    let urls: Vec<(String, String)> = upstreams
        .into_iter()
        .map(|(e, u)| (format!("UPSTREAM_{e}_URL"), u))
        .collect();
    let mut env = vec![
        ("CATALOG_TABLE", table),
        ("DYNAMODB_ENDPOINT", dynamodb.as_str()),
        ("REDIS_URL", redis.as_str()),
    ];
    env.extend(urls.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    cold_starts("target/release/graphql", "graphql", &event, &env, 11)
}

fn main() {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(8 << 20)
        .build()
        .expect("runtime")
        .block_on(run());
}

async fn run() {
    let mut args = std::env::args().skip(1);
    let per_client: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(500);
    let clients: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(8);
    let fixtures = std::path::Path::new("fixtures/catalog");
    let fakes = Fakes::start(fixtures, 0).await.expect("fakes start");
    let calls = CallCounter::default();
    let (app, init_ms) = build(&fakes, &calls).await;
    let app: &'static Graphql = Box::leak(Box::new(app));

    // An empty cache filled from the fakes by one query that reads all 15 collections.
    calls.take();
    let started = Instant::now();
    query(app, EVERYTHING).await;
    let fill_ms = started.elapsed().as_secs_f64() * 1e3;
    let fill_gets = fakes.total_hits();
    query(app, "{ sources { state } }").await;
    query(app, NESTED).await;
    fakes.reset_hits();
    calls.take();

    let started = Instant::now();
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            tokio::spawn(async move {
                let mut ms = Vec::with_capacity(per_client);
                for _ in 0..per_client {
                    let t = Instant::now();
                    query(app, NESTED).await;
                    ms.push(t.elapsed().as_secs_f64() * 1e3);
                }
                ms
            })
        })
        .collect();
    let mut ms: Vec<f64> = Vec::new();
    for t in tasks {
        ms.extend(t.await.expect("a client"));
    }
    let elapsed = started.elapsed().as_secs_f64();
    ms.sort_by(f64::total_cmp);
    let queries = ms.len();
    let ddb_per_query = calls.take() as f64 / queries as f64;
    let upstream_gets = fakes.total_hits();
    let table = app.catalog.app.config.table_name.clone();
    let urls = fakes.urls();
    let start = tokio::task::spawn_blocking(move || cold_start(urls, &table))
        .await
        .expect("cold starts");
    let zip = std::fs::metadata("target/lambda/graphql/bootstrap.zip")
        .ok()
        .map(|m| m.len());
    let figures = json!({
        "catalog_warm_p50_ms": (percentile(&ms, 0.5) * 100.0).round() / 100.0,
        "catalog_warm_p99_ms": (percentile(&ms, 0.99) * 100.0).round() / 100.0,
        "catalog_warm_queries_per_second": (queries as f64 / elapsed).round(),
        "catalog_clients": clients,
        "catalog_ddb_calls_per_query_warm": ddb_per_query,
        "catalog_upstream_gets_warm": upstream_gets,
        "catalog_fill_ms": fill_ms.round(),
        "catalog_fill_upstream_gets": fill_gets,
        "catalog_init_ms": (start.init_ms * 100.0).round() / 100.0,
        "catalog_first_response_ms": (start.first_response_ms * 100.0).round() / 100.0,
        "catalog_rss_mb": (start.rss_mb * 10.0).round() / 10.0,
        "catalog_init_in_process_ms": (init_ms * 100.0).round() / 100.0,
        "catalog_graphql_zip_bytes": zip,
    });
    merge_summary("catalog_", figures.as_object().expect("an object").clone());
    println!("\ncatalog ({queries} nested queries, {clients} clients, fresh cache)");
    for (k, v) in figures.as_object().expect("an object") {
        println!("  {k:<36} {v}");
    }
    println!("\nwritten: target/bench/summary.json");
}
