//! `make bench`, the events service: ingestion through the local API (release) beside bare
//! conditional `PutItem`s on the same DynamoDB Local, at the same concurrency, timed in the
//! order A B B A; the aggregation of everything ingested by `aggregate-events` fed from the
//! table's stream by the repo's poller (in this process, counting its writes); the
//! aggregation lag of single events under a steady load; the report's three shapes of the contract
//! timed through the report function with the cache off, with their DynamoDB calls. Adds
//! the `events_` keys to target/bench/summary.json and prints a table.
//!
//! Usage: events-bench EVENTS CLIENTS

use api_tests::http_client::Api;
use api_tests::{merge_summary, required_env, CallCounter};
use events_domain::Event;
use events_store::items::EventItem;
use events_store::Events;
use serde_json::{json, Value};
use shared::{App, Config, Owner, State, SystemClock};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The tenant whose 100,000 events the reports read, and the one the lag probes use.
const TENANT: &str = "local-dev-key";
const PROBES: &str = "local-other-key";
const LAG_PROBES: usize = 40;
/// The background ingestion while the lag is probed (events/s).
const LAG_LOAD_PER_SECOND: u64 = 20;
const REPORT_RUNS: usize = 30;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let total: usize = args.first().map_or(100_000, |a| a.parse().unwrap());
    let clients: usize = args.get(1).map_or(8, |a| a.parse().unwrap());
    let api = Api::from_env();
    let (events, calls) = events_app().await;
    let events = Arc::new(events);

    // The bare work of an ingested event: one conditional PutItem of the same item on a
    // table of the same shape (with its stream), nothing else.
    let raw = Arc::new(raw_table(&events).await);
    let per_client = total / clients;
    let half = per_client / 2;
    let warm = (half / 20).max(1);
    ingest(&api, clients, warm, 0).await;
    raw_puts(&raw, clients, warm, 0).await;
    let (mut api_wall, mut api_n, mut raw_wall, mut raw_n) = (Duration::ZERO, 0, Duration::ZERO, 0);
    let mut latencies = Vec::new();
    for (round, path) in [0, 1, 1, 0].into_iter().enumerate() {
        let offset = 1 + round / 2;
        let started = Instant::now();
        if path == 0 {
            latencies.extend(ingest(&api, clients, half, offset).await);
            api_wall += started.elapsed();
            api_n += clients * half;
        } else {
            raw_puts(&raw, clients, half, offset).await;
            raw_wall += started.elapsed();
            raw_n += clients * half;
        }
    }
    let ingested = api_n + clients * warm;
    let ingest_rate = api_n as f64 / api_wall.as_secs_f64();
    let raw_rate = raw_n as f64 / raw_wall.as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    eprintln!(
        "ingested {ingested} events: {ingest_rate:.0}/s through the API, {raw_rate:.0} raw PutItem/s"
    );
    // The stream is read only now: ingestion and raw writes above were compared without the
    // aggregator's writes beside them, and it now works through all of them alone.
    let aggregation = Aggregation::start(events.clone()).await;
    let caught_up = Instant::now();
    aggregation.until(ingested).await;
    let catch_up_s = caught_up.elapsed().as_secs_f64();
    let aggregated_rate = ingested as f64 / catch_up_s;
    eprintln!("aggregated {ingested} events in {catch_up_s:.1} s: {aggregated_rate:.0}/s");
    let writes_per_event = aggregation.cell_writes.load(Ordering::SeqCst) as f64
        / aggregation.changes.load(Ordering::SeqCst) as f64;

    // Lag: one probe event at a time while a client keeps ingesting at a steady rate the
    // local aggregator sustains, each probe counted in a report (its own client id).
    let (mut lags, more) = probe_lag(&api, LAG_LOAD_PER_SECOND).await;
    lags.sort_by(f64::total_cmp);
    // The reports are timed on aggregates at rest.
    aggregation.until(ingested + more).await;
    eprintln!("lag p50 {:.0} ms", percentile(&lags, 0.5));

    let mut shapes = serde_json::Map::new();
    let mut printed = Vec::new();
    for (name, query, bound) in [
        (
            "date_device_type_valid",
            vec![("group_by", "date device_type valid")],
            2,
        ),
        (
            "top_clients",
            vec![
                ("group_by", "client"),
                ("order_by", "-count"),
                ("limit", "10"),
            ],
            2,
        ),
        (
            "client_category_valid_7_days",
            vec![
                ("group_by", "client category"),
                ("valid", "true"),
                ("start_date", "2026-03-10"),
                ("end_date", "2026-03-17"),
            ],
            10,
        ),
    ] {
        let (p50, p95, rows, ddb) = time_report(&events, &calls, &query).await;
        shapes.insert(format!("events_report_{name}_p50_ms"), json!(round(p50)));
        shapes.insert(format!("events_report_{name}_p95_ms"), json!(round(p95)));
        shapes.insert(format!("events_report_{name}_ddb_calls"), json!(ddb));
        shapes.insert(format!("events_report_{name}_rows"), json!(rows));
        printed.push((name, p50, p95, ddb, bound, rows));
    }

    let mut figures = json!({
        "events_ingested": ingested,
        "events_clients": clients,
        "events_ingest_per_second": round(ingest_rate),
        "events_raw_putitem_per_second": round(raw_rate),
        "events_ingest_to_raw_ratio": round(ingest_rate / raw_rate),
        "events_post_p50_ms": round(percentile(&latencies, 0.5)),
        "events_post_p95_ms": round(percentile(&latencies, 0.95)),
        "events_aggregate_writes_per_event": round(writes_per_event),
        "events_aggregation_s": round(catch_up_s),
        "events_aggregated_per_second": round(aggregated_rate),
        "events_lag_load_per_second": LAG_LOAD_PER_SECOND,
        "events_lag_p50_ms": round(percentile(&lags, 0.5)),
        "events_lag_p99_ms": round(percentile(&lags, 0.99)),
        "events_report_cache": "off (the report function in this process, release build)",
    })
    .as_object()
    .unwrap()
    .clone();
    figures.extend(shapes);
    merge_summary("events_", figures);

    println!("\n{:<44} {:>14}  target", "events: measure", "value");
    let row =
        |name: &str, value: String, target: &str| println!("{name:<44} {value:>14}  {target}");
    row(
        "events ingested through the API",
        ingested.to_string(),
        &format!("{clients} clients"),
    );
    row(
        "events_ingest_per_second",
        format!("{ingest_rate:.0}"),
        "release build",
    );
    row(
        "events_raw_putitem_per_second",
        format!("{raw_rate:.0}"),
        "same DynamoDB Local",
    );
    row(
        "events_ingest_to_raw_ratio",
        format!("{:.2}", ingest_rate / raw_rate),
        ">= 0.5",
    );
    row(
        "POST /event p50 / p95 ms",
        format!(
            "{:.1} / {:.1}",
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.95)
        ),
        "",
    );
    row(
        "events_aggregate_writes_per_event",
        format!("{writes_per_event:.1}"),
        "cells written per event",
    );
    row(
        "aggregation of everything ingested",
        format!("{catch_up_s:.1} s"),
        "",
    );
    row(
        "events_aggregated_per_second",
        format!("{aggregated_rate:.0}"),
        "the aggregator alone, from the stream's start",
    );
    row(
        "events_lag p50 / p99 ms",
        format!(
            "{:.0} / {:.0}",
            percentile(&lags, 0.5),
            percentile(&lags, 0.99)
        ),
        &format!("p99 <= 5000, under {LAG_LOAD_PER_SECOND} events/s"),
    );
    for (name, p50, p95, ddb, bound, rows) in printed {
        row(
            &format!("report {name} p50 / p95 ms"),
            format!("{p50:.1} / {p95:.1}"),
            &format!("{rows} rows; {ddb} DynamoDB calls (<= {bound})"),
        );
    }
    println!("\nwritten: target/bench/summary.json");
}

/// The events app as a function builds it, on `make bench`'s tables, with the cache off and
/// its DynamoDB calls counted.
async fn events_app() -> (Events, CallCounter) {
    let mut config = Config::from_lookup(Events::SERVICE, |k| std::env::var(k).ok()).unwrap();
    config.redis_url = None;
    let calls = CallCounter::default();
    let sdk = shared::app::sdk_config(&config).await;
    let client = aws_sdk_dynamodb::Client::from_conf(
        shared::app::dynamodb_config(&sdk)
            .interceptor(calls.clone())
            .build(),
    );
    let app = App::new(config, client, Arc::new(SystemClock)).unwrap();
    let aggregates =
        events_store::aggregates_table(&app.config.table_name, |k| std::env::var(k).ok());
    (Events::with(app, aggregates, chrono_tz::Tz::UTC), calls)
}

/// The stream, read by the repo's poller and applied by `aggregate-events` in this process.
struct Aggregation {
    changes: Arc<AtomicUsize>,
    cell_writes: Arc<AtomicUsize>,
    _task: tokio::task::JoinHandle<Result<(), String>>,
}

impl Aggregation {
    async fn start(events: Arc<Events>) -> Aggregation {
        let sdk = shared::app::sdk_config(&events.app.config).await;
        let streams = aws_sdk_dynamodbstreams::Client::from_conf(
            aws_sdk_dynamodbstreams::config::Builder::from(&sdk)
                .endpoint_url(required_env("DYNAMODB_ENDPOINT"))
                .build(),
        );
        let arn =
            events_poller::Poller::stream_arn(&events.app.dynamodb, &events.app.config.table_name)
                .await
                .unwrap();
        let changes = Arc::new(AtomicUsize::new(0));
        let cell_writes = Arc::new(AtomicUsize::new(0));
        let (c, w) = (changes.clone(), cell_writes.clone());
        let deliver: events_poller::Deliver = Arc::new(move |payload: Value| {
            let (events, c, w) = (events.clone(), c.clone(), w.clone());
            Box::pin(async move {
                let batch = serde_json::from_value(payload).map_err(|e| e.to_string())?;
                let applied = aggregate_events::apply(&events, batch)
                    .await
                    .map_err(|e| e.to_string())?;
                c.fetch_add(applied.changes, Ordering::SeqCst);
                w.fetch_add(applied.cell_writes, Ordering::SeqCst);
                Ok(())
            })
        });
        Aggregation {
            changes,
            cell_writes,
            _task: tokio::spawn(events_poller::Poller::new(streams, arn, deliver).run()),
        }
    }

    async fn until(&self, changes: usize) {
        while self.changes.load(Ordering::SeqCst) < changes {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn generated(rng: &mut fastrand::Rng) -> Event {
    api_tests::events::generated(rng, events_store::new_event_id())
}

/// `n` events from each of `clients` clients through `POST /event`; each one's latency (ms).
async fn ingest(api: &Api, clients: usize, n: usize, round: usize) -> Vec<f64> {
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let api = api.clone();
            tokio::spawn(async move {
                let mut rng = fastrand::Rng::with_seed((round * 1000 + c) as u64);
                let mut out = Vec::with_capacity(n);
                for _ in 0..n {
                    let body = events_store::event_json(&generated(&mut rng));
                    let started = Instant::now();
                    let reply = api.post("/event", body).await;
                    assert_eq!(
                        reply.status,
                        201,
                        "{:?}",
                        String::from_utf8_lossy(&reply.body)
                    );
                    out.push(started.elapsed().as_secs_f64() * 1e3);
                }
                out
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all
}

struct Raw {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

async fn raw_table(events: &Events) -> Raw {
    let table = format!("{}-raw", events.app.config.table_name);
    shared::dynamo::create_table(&events.app.dynamodb, &table, true)
        .await
        .unwrap();
    Raw {
        client: events.app.dynamodb.clone(),
        table,
    }
}

async fn raw_puts(raw: &Arc<Raw>, clients: usize, n: usize, round: usize) {
    let tasks: Vec<_> = (0..clients)
        .map(|c| {
            let raw = raw.clone();
            tokio::spawn(async move {
                let mut rng = fastrand::Rng::with_seed((round * 1000 + c) as u64);
                let owner = Owner(TENANT.into());
                for _ in 0..n {
                    let item = EventItem::new(&owner, &generated(&mut rng), events_store::now_us());
                    raw.client
                        .put_item()
                        .table_name(&raw.table)
                        .set_item(Some(item.to_item().unwrap()))
                        .condition_expression("attribute_not_exists(pk)")
                        .send()
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}

/// Milliseconds from each probe's 201 until a report counts it, with `per_second` other
/// events ingested meanwhile; and how many events it created.
async fn probe_lag(api: &Api, per_second: u64) -> (Vec<f64>, usize) {
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let background = {
        let (api, stop) = (api.clone(), stop.clone());
        tokio::spawn(async move {
            let mut rng = fastrand::Rng::with_seed(90_000);
            let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / per_second));
            let mut created = 0;
            while !stop.load(Ordering::SeqCst) {
                tick.tick().await;
                let body = events_store::event_json(&generated(&mut rng));
                if api.post("/event", body).await.status == 201 {
                    created += 1;
                }
            }
            created
        })
    };
    let probes = api.with_key(Some(PROBES));
    let mut lags = Vec::new();
    for i in 0..LAG_PROBES {
        let client = 1_000_000 + i;
        let body = format!(
            r#"{{"client": {client}, "client_group": 1, "timestamp": "2026-03-10T08:15:00Z", "valid": true, "value": 1}}"#
        );
        let reply = probes.post("/event", body).await;
        assert_eq!(reply.status, 201);
        let created = Instant::now();
        loop {
            let page = probes
                .get(&format!("/report?group_by=client&clients={client}"))
                .await
                .json();
            if page["rows"][0]["count"] == 1 {
                break;
            }
            assert!(
                created.elapsed() < Duration::from_secs(60),
                "probe {i} never counted"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        lags.push(created.elapsed().as_secs_f64() * 1e3);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::SeqCst);
    let created = background.await.unwrap();
    (lags, created + LAG_PROBES)
}

/// p50 and p95 (ms) of the report through its function with the cache off, its rows, and
/// its DynamoDB calls.
async fn time_report(
    events: &Events,
    calls: &CallCounter,
    query: &[(&str, &str)],
) -> (f64, f64, u64, usize) {
    use lambda_http::RequestExt;
    let mut params: std::collections::HashMap<String, Vec<String>> = Default::default();
    for (k, v) in query {
        params.entry(k.to_string()).or_default().push(v.to_string());
    }
    let request = || {
        api_tests::with_header(api_tests::event("report"), "x-api-key", TENANT)
            .with_query_string_parameters(params.clone())
    };
    let resp = report::handle(events, request()).await;
    assert_eq!(resp.status(), 200, "{:?}", resp.body());
    let rows = api_tests::json_of(&resp)["pagination"]["total_count"]
        .as_u64()
        .unwrap();
    calls.take();
    let mut times = Vec::new();
    let mut ddb = 0;
    for _ in 0..REPORT_RUNS {
        let started = Instant::now();
        let resp = report::handle(events, request()).await;
        times.push(started.elapsed().as_secs_f64() * 1e3);
        assert_eq!(resp.status(), 200);
        ddb = ddb.max(calls.take());
    }
    times.sort_by(f64::total_cmp);
    (percentile(&times, 0.5), percentile(&times, 0.95), rows, ddb)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}
