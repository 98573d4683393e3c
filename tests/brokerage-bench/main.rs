//! `make bench`: the order path through the local API, the same orders handed to the
//! handler in this process, and the bare DynamoDB work of an order, at the same concurrency
//! and side by side (warmed up, then timed in the order A B C C B A), with the CPU each
//! group of processes spent per order; DynamoDB calls per order; cold start and peak RSS of
//! each release function against a fake Lambda Runtime API; zipped sizes (measured by the
//! script). Writes target/bench/summary.json and prints a table.
//!
//! Usage: bench ORDERS CLIENTS FUNCTIONS_DIR ZIP_SIZES_FILE

use api_tests::http_client::Api;
use api_tests::*;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use serde_json::{json, Value};
use shared::dynamo::{n, s};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const FUNCTIONS: [&str; 4] = [
    "create-account",
    "place-order",
    "get-account",
    "list-orders",
];
const STARTS: usize = 11;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let orders: usize = args.first().map_or(2000, |a| a.parse().unwrap());
    let clients: usize = args.get(1).map_or(8, |a| a.parse().unwrap());
    let functions_dir = args
        .get(2)
        .cloned()
        .unwrap_or_else(|| "target/release".into());
    let zips_file = args.get(3).cloned();
    let per_client = orders / clients;

    let api = Api::from_env();
    // `make run`'s API: the dev build (DEV_API_URL), beside the release one (API_URL).
    let dev_api = Api::at(&required_env("DEV_API_URL"));
    let ids = open_accounts(&api, clients).await;
    let dev_ids = open_accounts(&dev_api, clients).await;
    let t = fresh_app().await;
    let handler_ids = open_in_process(&t, clients).await;
    // Untimed warm-up of every path: DynamoDB Local's JIT and every connection pool.
    let warm = (per_client / 10).max(1);
    api_orders(&api, &ids, 0, warm).await;
    api_orders(&dev_api, &dev_ids, 0, warm).await;
    handler_orders(&t, &handler_ids, 0, warm).await;
    // The raw loop's accounts: the warm-up's, then each timed run's own.
    let raw_first = |round: usize| (round * clients) as u64;
    for round in [0, 3, 6] {
        open_raw(&t, raw_first(round), clients).await;
    }
    raw_transactions(&t, raw_first(0), clients, warm).await;
    // Timed in the order A B C D D C B A, half the orders each time, so that drift in the
    // machine's load or in DynamoDB Local's state falls on every path alike.
    let half = per_client / 2;
    let mut paths: [Path; 4] = Default::default();
    for (round, path) in [0, 1, 2, 3, 3, 2, 1, 0].into_iter().enumerate() {
        let before = cpu_seconds();
        let started = Instant::now();
        let offset = (warm + (round / 4) * half) as u64;
        let latencies = match path {
            0 => api_orders(&api, &ids, offset, half).await,
            1 => handler_orders(&t, &handler_ids, offset, half).await,
            3 => api_orders(&dev_api, &dev_ids, offset, half).await,
            _ => {
                raw_transactions(&t, raw_first(round + 1), clients, half).await;
                vec![]
            }
        };
        paths[path].add(started.elapsed(), clients * half, latencies, before);
    }
    let [api_path, handler_path, raw_path, dev_path] = &paths;
    // One client at a time, release then dev, then release again (half each time).
    let single = (per_client / 2).max(1);
    let mut one: [Path; 2] = Default::default();
    for (round, path) in [0, 1, 1, 0].into_iter().enumerate() {
        let (a, account) = if path == 0 {
            (&api, ids[0])
        } else {
            (&dev_api, dev_ids[0])
        };
        let before = cpu_seconds();
        let started = Instant::now();
        let offset = (warm + per_client + (round / 2) * single) as u64;
        let latencies = api_orders(a, &[account], offset, single).await;
        one[path].add(started.elapsed(), single, latencies, before);
    }
    let [one_path, one_dev_path] = &one;
    let (api_rate, raw_rate, handler_rate) =
        (api_path.rate(), raw_path.rate(), handler_path.rate());
    let (p50, p99) = api_path.percentiles();
    let calls = calls_per_order().await;
    let mut starts = Vec::new();
    for f in FUNCTIONS {
        starts.push((f, cold_starts(&format!("{functions_dir}/{f}"), f)));
    }
    let zips: Vec<(String, u64)> = zips_file
        .and_then(|p| std::fs::read_to_string(p).ok())
        .map(|t| {
            t.lines()
                .filter_map(|l| l.split_once(' '))
                .map(|(f, b)| (f.to_owned(), b.trim().parse().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default();

    let init_ms = starts.iter().map(|(_, (ms, _))| *ms).fold(0.0, f64::max);
    let max_rss_mb = starts.iter().map(|(_, (_, mb))| *mb).fold(0.0, f64::max);
    let (handler_p50, handler_p99) = handler_path.percentiles();
    let summary = json!({
        "orders": api_path.orders,
        "order_step_seconds": order_step(),
        "clients": clients,
        "orders_per_second": round(api_rate),
        "dev_orders_per_second": round(dev_path.rate()),
        "dev_to_release_ratio": round(dev_path.rate() / api_rate),
        "orders_per_second_1_client": round(one_path.rate()),
        "p50_ms_1_client": round(one_path.percentiles().0),
        "dev_orders_per_second_1_client": round(one_dev_path.rate()),
        "dev_p50_ms_1_client": round(one_dev_path.percentiles().0),
        "p50_ms": round(p50),
        "p99_ms": round(p99),
        "raw_transactions_per_second": round(raw_rate),
        "raw_work": "per order: the account item's conditional UpdateItem with its books; every 16th order one TransactWriteItems that also writes the 16 entries out as one ledger page and the guards out of the window; an accepted order's work on a warm cache",
        "api_to_raw_ratio": round(api_rate / raw_rate),
        "handler_orders_per_second": round(handler_rate),
        "handler_p50_ms": round(handler_p50),
        "handler_p99_ms": round(handler_p99),
        "handler_to_raw_ratio": round(handler_rate / raw_rate),
        "cpu_ms_per_order": {
            "api": api_path.cpu_ms_per_order(),
            "dev_api": dev_path.cpu_ms_per_order(),
            "handler": handler_path.cpu_ms_per_order(),
            "raw": raw_path.cpu_ms_per_order(),
        },
        "ddb_calls_per_accepted_order": calls.accepted,
        "ddb_calls_per_accepted_order_cold": calls.accepted,
        "ddb_calls_per_accepted_order_warm": calls.accepted_warm,
        "ddb_calls_per_rejected_order": calls.rejected,
        "ddb_calls_per_idempotent_accepted_order": calls.keyed_accepted,
        "ddb_calls_per_idempotent_rejected_order": calls.keyed_rejected,
        "ddb_calls_per_idempotent_replay": calls.replay,
        "init_ms": round(init_ms),
        "max_rss_mb": round(max_rss_mb),
        "max_zip_bytes": zips.iter().map(|(_, b)| *b).max(),
        "functions": starts.iter().map(|(f, (ms, mb))| {
            let zip = zips.iter().find(|(z, _)| z == f).map(|(_, b)| *b);
            (f.to_string(), json!({"init_ms": round(*ms), "rss_mb": round(*mb), "zip_bytes": zip}))
        }).collect::<serde_json::Map<String, Value>>(),
    });
    std::fs::create_dir_all("target/bench").unwrap();
    std::fs::write(
        "target/bench/summary.json",
        serde_json::to_string_pretty(&summary).unwrap(),
    )
    .unwrap();

    println!("\n{:<44} {:>12}  target", "measure", "value");
    let row =
        |name: &str, value: String, target: &str| println!("{name:<44} {value:>12}  {target}");
    row(
        "orders through the API",
        format!("{}", api_path.orders),
        &format!("{clients} clients, 1 account each"),
    );
    row(
        "orders_per_second",
        format!("{api_rate:.0}"),
        "release build",
    );
    row(
        "dev_orders_per_second",
        format!("{:.0}", dev_path.rate()),
        &format!(
            "make run's dev build: {:.2} of release (>= 0.85)",
            dev_path.rate() / api_rate
        ),
    );
    row(
        "orders_per_second_1_client / p50_ms",
        format!("{:.0} / {:.1}", one_path.rate(), one_path.percentiles().0),
        &format!(
            "dev: {:.0} / {:.1}",
            one_dev_path.rate(),
            one_dev_path.percentiles().0
        ),
    );
    row("p50_ms / p99_ms", format!("{p50:.1} / {p99:.1}"), "");
    row(
        "raw_transactions_per_second",
        format!("{raw_rate:.0}"),
        "same work, bare SDK",
    );
    row(
        "api_to_raw_ratio",
        format!("{:.2}", api_rate / raw_rate),
        ">= 0.7",
    );
    row(
        "handler_orders_per_second",
        format!("{handler_rate:.0}"),
        "place-order's handler in process",
    );
    row(
        "handler p50_ms / p99_ms",
        format!("{handler_p50:.1} / {handler_p99:.1}"),
        "",
    );
    row(
        "handler_to_raw_ratio",
        format!("{:.2}", handler_rate / raw_rate),
        "",
    );
    row(
        "ddb_calls_per_accepted_order",
        calls.accepted.to_string(),
        "<= 2",
    );
    row(
        "ddb_calls_per_accepted_order_warm",
        calls.accepted_warm.to_string(),
        "1",
    );
    row(
        "ddb_calls_per_rejected_order",
        calls.rejected.to_string(),
        "<= 1",
    );
    row(
        "ddb_calls_per_idempotent_accepted_order",
        calls.keyed_accepted.to_string(),
        "<= 2",
    );
    row(
        "ddb_calls_per_idempotent_rejected_order",
        calls.keyed_rejected.to_string(),
        "read + the write that keeps the answer",
    );
    row(
        "ddb_calls_per_idempotent_replay",
        calls.replay.to_string(),
        "1",
    );
    for (f, (ms, mb)) in &starts {
        let zip = zips
            .iter()
            .find(|(z, _)| z == f)
            .map_or("-".into(), |(_, b)| b.to_string());
        row(
            &format!("{f}: init ms / RSS MB / zip B"),
            format!("{ms:.1} / {mb:.1}"),
            &format!("<= 30 / <= 20; zip {zip} (<= 4194304)"),
        );
    }
    println!("\nCPU ms per order, by process group");
    print!("{:<8}", "path");
    for g in CPU_GROUPS {
        print!(" {g:>15}");
    }
    println!();
    for (name, path) in [
        ("api", api_path),
        ("handler", handler_path),
        ("raw", raw_path),
    ] {
        print!("{name:<8}");
        let ms = path.cpu_ms_per_order();
        for g in CPU_GROUPS {
            print!(" {:>15.2}", ms[g].as_f64().unwrap_or(0.0));
        }
        println!();
    }
    println!("\nwritten: target/bench/summary.json");
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// One way of placing orders, summed over its timed runs.
#[derive(Default)]
struct Path {
    wall: Duration,
    orders: usize,
    latencies: Vec<f64>,
    /// CPU seconds by process group, over this path's runs.
    cpu: HashMap<&'static str, f64>,
}

impl Path {
    fn add(
        &mut self,
        wall: Duration,
        orders: usize,
        latencies: Vec<f64>,
        before: HashMap<&'static str, f64>,
    ) {
        self.wall += wall;
        self.orders += orders;
        self.latencies.extend(latencies);
        for (group, after) in cpu_seconds() {
            *self.cpu.entry(group).or_default() += after - before.get(group).unwrap_or(&0.0);
        }
    }

    fn rate(&self) -> f64 {
        self.orders as f64 / self.wall.as_secs_f64()
    }

    fn percentiles(&self) -> (f64, f64) {
        let mut all = self.latencies.clone();
        all.sort_by(f64::total_cmp);
        (percentile(&all, 0.5), percentile(&all, 0.99))
    }

    /// CPU milliseconds per order by process group.
    fn cpu_ms_per_order(&self) -> serde_json::Map<String, Value> {
        CPU_GROUPS
            .iter()
            .map(|g| {
                let ms = self.cpu.get(g).unwrap_or(&0.0) * 1e3 / self.orders as f64;
                (g.to_string(), json!(round(ms)))
            })
            .collect()
    }
}

const CPU_GROUPS: [&str; 5] = ["dynamodb-local", "redis", "emulator", "functions", "driver"];

/// CPU seconds used so far by each group of the stack's processes and by this driver.
fn cpu_seconds() -> HashMap<&'static str, f64> {
    // /proc reports in USER_HZ, which Linux fixes at 100 for user space.
    const TICK: f64 = 0.01;
    let mut out: HashMap<&'static str, f64> = HashMap::new();
    let me = std::process::id().to_string();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // The command name is in parentheses and may hold spaces: fields follow the last ')'.
        let Some((head, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        let comm = head.split_once('(').map_or("", |(_, c)| c);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
        let cpu = (ticks(11) + ticks(12)) * TICK;
        let cmdline = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let group = if pid == me {
            "driver"
        } else if cmdline.contains("DynamoDBLocal") {
            "dynamodb-local"
        } else if comm == "redis-server" {
            "redis"
        } else if comm.starts_with("cargo-lambda") {
            "emulator"
        } else if FUNCTIONS.contains(&comm) {
            "functions"
        } else {
            continue;
        };
        *out.entry(group).or_default() += cpu;
    }
    out
}

async fn open_accounts(api: &Api, clients: usize) -> Vec<u64> {
    let mut ids = Vec::new();
    for _ in 0..clients {
        let r = api.post("/accounts", r#"{"cash": 100000000}"#).await;
        ids.push(r.json()["id"].as_u64().expect("account opened"));
    }
    ids
}

async fn open_in_process(t: &TestApp, clients: usize) -> Vec<u64> {
    let mut ids = Vec::new();
    for _ in 0..clients {
        let r = create_account::handle(
            t,
            with_body(event("create-account"), r#"{"cash": 100000000}"#),
        )
        .await;
        ids.push(json_of(&r)["id"].as_u64().expect("account opened"));
    }
    ids
}

/// An accepted buy, distinct from every other (so never a duplicate) by its share count.
/// The `n`th order of an account: stamped `ORDER_STEP` seconds (default 10) after the one
/// before, as a busy trader's are, with its own share count (no two are duplicates). With
/// `ORDER_STEP=0` every order is stamped the same second: past `GUARDS_KEPT` of them, each
/// is checked against guard items in a transaction (the worst case, BENCHMARKS.md).
fn bench_order(n: u64) -> String {
    order(
        OPEN_TS + order_step() * n as i64,
        "BUY",
        "BENCH",
        n + 1,
        "0.01",
    )
}

fn order_step() -> i64 {
    std::env::var("ORDER_STEP").map_or(10, |s| s.parse().expect("ORDER_STEP: seconds"))
}

/// One client per account, each placing `per_client` bench orders (numbered from `offset`)
/// one after another with `place(id, body)`, which answers the response's JSON; every
/// order must be accepted. Returns the latencies (ms).
async fn timed_orders<F, Fut>(ids: &[u64], offset: u64, per_client: usize, place: F) -> Vec<f64>
where
    F: Fn(u64, String) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Value> + Send,
{
    let tasks: Vec<_> = ids
        .iter()
        .map(|&id| {
            let place = place.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                for i in offset..offset + per_client as u64 {
                    let t = Instant::now();
                    let answer = place(id, bench_order(i)).await;
                    latencies.push(t.elapsed().as_secs_f64() * 1e3);
                    assert_eq!(answer["business_errors"], json!([]), "order {i} on {id}");
                }
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all
}

/// Orders through the API: each client buys on its own account. Returns the latencies (ms).
async fn api_orders(api: &Api, ids: &[u64], offset: u64, per_client: usize) -> Vec<f64> {
    let api = api.clone();
    timed_orders(ids, offset, per_client, move |id, body| {
        let api = api.clone();
        async move {
            api.post(&format!("/accounts/{id}/orders"), body)
                .await
                .json()
        }
    })
    .await
}

/// The same orders handed to place-order's handler in this process: the function's own
/// work (JSON, rules, DynamoDB, the cache write) without the emulator's HTTP hops and
/// without log output. Returns the latencies (ms).
async fn handler_orders(t: &TestApp, ids: &[u64], offset: u64, per_client: usize) -> Vec<f64> {
    let app = std::sync::Arc::clone(&t.app);
    timed_orders(ids, offset, per_client, move |id, body| {
        let app = std::sync::Arc::clone(&app);
        async move { json_of(&place_order::handle(&app, request("place-order", id, &body)).await) }
    })
    .await
}

/// The DynamoDB work of an accepted order on a warm cache, with nothing around it: the
/// account item's conditional update with its books (the order's entry and guard added),
/// and for every `FLUSH_AT`th order one transaction that also writes the entries out as a
/// ledger page and the guards that fell out of the window as guard items. The items are
/// the store's own (`items`), on accounts of their own (numbered from `first`).
async fn raw_transactions(t: &TestApp, first: u64, clients: usize, per_client: usize) {
    use brokerage_domain::{AccountId, Owner};
    use brokerage_store::items::{self, Books, Pending};
    use brokerage_store::store::FLUSH_AT;
    let table = t.config.table_name.clone();
    let client = t.store.client().clone();
    let tasks: Vec<_> = (0..clients as u64)
        .map(|c| {
            let client = client.clone();
            let table = table.clone();
            let id = AccountId(RAW_ACCOUNTS + first + c);
            let owner = Owner("raw".into());
            tokio::spawn(async move {
                let mut books = Books::new();
                for i in 0..per_client as u64 {
                    let timestamp = OPEN_TS + order_step() * i as i64;
                    books.recent.push(Pending {
                        seq: i + 1,
                        timestamp,
                        operation: "BUY".into(),
                        issuer_name: "BENCH".into(),
                        total_shares: i + 1,
                        share_price: "0.01".parse().unwrap(),
                        accepted_at: timestamp,
                        nonce: fastrand::u64(..),
                    });
                    books
                        .guards
                        .insert(format!("BUY#BENCH#{}", i + 1), vec![timestamp]);
                    let flush = books.recent.len() >= FLUSH_AT;
                    let (written, moved) = if flush {
                        books.write_out()
                    } else {
                        (Vec::new(), Vec::new())
                    };
                    let value = items::books_value(&books).unwrap();
                    let update = Update::builder()
                        .table_name(&table)
                        .set_key(Some(items::account_key(id)))
                        .update_expression(
                            "SET cash = :cash, holdings = :holdings, version = :next, books = :books",
                        )
                        .condition_expression(
                            "version = :version AND #owner = :owner AND cash >= :amount",
                        )
                        .expression_attribute_names("#owner", "owner")
                        .expression_attribute_values(":owner", s(&owner.0))
                        .expression_attribute_values(":amount", n(1))
                        .expression_attribute_values(":next", n(i + 1))
                        .expression_attribute_values(":version", n(i))
                        .expression_attribute_values(":cash", n(100_000_000 - i))
                        .expression_attribute_values(
                            ":holdings",
                            AttributeValue::M(HashMap::from([(
                                "BENCH".to_owned(),
                                AttributeValue::M(HashMap::from([
                                    ("shares".to_owned(), n(i + 1)),
                                    ("price".to_owned(), n("0.01")),
                                ])),
                            )])),
                        )
                        .expression_attribute_values(":books", value)
                        .build()
                        .unwrap();
                    if !flush {
                        client
                            .update_item()
                            .table_name(&table)
                            .set_key(Some(update.key))
                            .update_expression(update.update_expression)
                            .set_condition_expression(update.condition_expression)
                            .set_expression_attribute_names(update.expression_attribute_names)
                            .set_expression_attribute_values(update.expression_attribute_values)
                            .send()
                            .await
                            .expect("raw update");
                        continue;
                    }
                    let put = |item| {
                        let put = Put::builder().table_name(&table).set_item(Some(item));
                        TransactWriteItem::builder()
                            .put(put.build().unwrap())
                            .build()
                    };
                    let mut writes = vec![TransactWriteItem::builder().update(update).build()];
                    writes.push(put(items::page_item(id, &owner, &written).unwrap()));
                    for (name, ts) in &moved {
                        writes.push(put(items::guard_item(id, name, *ts).unwrap()));
                    }
                    client
                        .transact_write_items()
                        .client_request_token(format!("{:032x}", fastrand::u128(..)))
                        .set_transact_items(Some(writes))
                        .send()
                        .await
                        .expect("raw transaction");
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
}

/// The raw loop's accounts, far above any the bench opens.
const RAW_ACCOUNTS: u64 = 1 << 40;

/// Opens the raw loop's accounts `first..first + clients`, as `Store::open_account` writes them.
async fn open_raw(t: &TestApp, first: u64, clients: usize) {
    use brokerage_domain::{Account, AccountId, Cash, Owner};
    for c in 0..clients as u64 {
        let id = AccountId(RAW_ACCOUNTS + first + c);
        let account = Account::open(
            id,
            Owner("raw".into()),
            Cash::from_stored(100_000_000.into()),
        );
        t.store
            .client()
            .put_item()
            .table_name(&t.config.table_name)
            .set_item(Some(
                brokerage_store::items::account_item(&account, OPEN_TS).unwrap(),
            ))
            .send()
            .await
            .expect("raw account");
    }
}

struct Calls {
    /// With nothing cached (the account's first order).
    accepted: usize,
    /// On the cached view of the account.
    accepted_warm: usize,
    rejected: usize,
    keyed_accepted: usize,
    keyed_rejected: usize,
    replay: usize,
}

/// DynamoDB calls of accepted and rejected orders, without and with an `Idempotency-Key`,
/// and of a keyed order's replay, counted by an SDK interceptor.
async fn calls_per_order() -> Calls {
    let t = fresh_app().await;
    create_account::handle(&t, with_body(event("create-account"), r#"{"cash": 100}"#)).await;
    t.calls.take();
    Calls {
        accepted: calls_of(&t, order(OPEN_TS, "BUY", "A", 1, "10"), None).await,
        accepted_warm: calls_of(&t, order(OPEN_TS, "BUY", "E", 1, "10"), None).await,
        rejected: calls_of(&t, order(OPEN_TS, "BUY", "B", 1, "1000"), None).await,
        keyed_accepted: calls_of(&t, order(OPEN_TS, "BUY", "C", 1, "10"), Some("k-1")).await,
        keyed_rejected: calls_of(&t, order(OPEN_TS, "BUY", "D", 1, "1000"), Some("k-2")).await,
        replay: calls_of(&t, order(OPEN_TS, "BUY", "C", 1, "10"), Some("k-1")).await,
    }
}

/// The DynamoDB calls of one order of account 1, with `key` as its `Idempotency-Key`.
async fn calls_of(t: &TestApp, body: String, key: Option<&str>) -> usize {
    let mut req = request("place-order", 1, &body);
    if let Some(key) = key {
        req = with_header(req, "idempotency-key", key);
    }
    place_order::handle(t, req).await;
    t.calls.take()
}

/// Median exec-to-first-response of a release function against a fake Runtime API, and the
/// largest peak RSS seen.
fn cold_starts(binary: &str, function: &str) -> (f64, f64) {
    let event = std::fs::read_to_string(format!(
        "{}/../events/{function}.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let env = [("BROKERAGE_TABLE", "bench-cold")];
    let start = api_tests::cold_start::cold_starts(binary, function, &event, &env, STARTS);
    (start.first_response_ms, start.rss_mb)
}
