//! Concurrent requests on DynamoDB Local: the transaction's conditions, not luck, decide.

use api_tests::*;
use brokerage_domain::AccountId;
use rust_decimal::Decimal;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

async fn place_all(t: &TestApp, id: u64, bodies: Vec<String>) -> Vec<Value> {
    let tasks: Vec<_> = bodies
        .into_iter()
        .map(|body| {
            let app = Arc::clone(&t.app);
            tokio::spawn(async move {
                let resp = place_order::handle(&app, request("place-order", id, &body)).await;
                assert_eq!(resp.status(), 200, "{:?}", resp.body());
                json_of(&resp)
            })
        })
        .collect();
    let mut out = Vec::new();
    for task in tasks {
        out.push(task.await.expect("task completes"));
    }
    out
}

fn accepted(results: &[Value]) -> Vec<&Value> {
    results
        .iter()
        .filter(|r| r["business_errors"] == json!([]))
        .collect()
}

async fn open(t: &TestApp, cash: &str) -> u64 {
    let resp = create_account::handle(
        t,
        with_body(event("create-account"), format!(r#"{{"cash": {cash}}}"#)),
    )
    .await;
    json_of(&resp)["id"].as_u64().unwrap()
}

/// Every ledger entry of an account, newest first, following cursors.
async fn ledger(t: &TestApp, id: u64) -> Vec<brokerage_domain::LedgerEntry> {
    let mut all = Vec::new();
    let mut before = None;
    loop {
        let page = t
            .store
            .orders_page(&owner(), AccountId(id), 500, before)
            .await
            .unwrap()
            .unwrap();
        all.extend(page.orders);
        match page.next {
            Some(next) => before = Some(next),
            None => return all,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_parallel_buys_of_the_whole_balance_leave_exactly_one_accepted() {
    let t = fresh_app().await;
    let id = open(&t, "1000").await;
    // Different timestamps and tickers, so only the balance can stop them.
    let bodies = (0..20)
        .map(|i| order(OPEN_TS + i * 600, "BUY", &format!("T{i}"), 1, "1000"))
        .collect();
    let results = place_all(&t, id, bodies).await;
    let winners = accepted(&results);
    assert_eq!(winners.len(), 1, "{results:#?}");
    assert_eq!(winners[0]["current_balance"]["cash"], json!(0));
    for r in &results {
        if r["business_errors"] != json!([]) {
            assert_eq!(r["business_errors"], json!(["INSUFFICIENT_BALANCE"]));
        }
    }
    let stored = stored(&t, id).await;
    assert_eq!(stored.cash.value(), Decimal::ZERO);
    assert_eq!(ledger(&t, id).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_parallel_identical_orders_leave_one() {
    let t = fresh_app().await;
    let id = open(&t, "1000").await;
    let results = place_all(&t, id, vec![order(OPEN_TS, "BUY", "AAPL", 1, "10"); 10]).await;
    assert_eq!(accepted(&results).len(), 1, "{results:#?}");
    for r in results.iter().filter(|r| r["business_errors"] != json!([])) {
        assert_eq!(r["business_errors"], json!(["DUPLICATED_OPERATION"]));
    }
    assert_eq!(ledger(&t, id).await.len(), 1);
    let stored = stored(&t, id).await;
    assert_eq!(stored.cash.value(), Decimal::from(990));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_duplicates_with_out_of_order_timestamps_keep_the_window() {
    let t = fresh_app().await;
    let id = open(&t, "100000").await;
    let offsets: Vec<i64> = vec![
        0, 250, -250, 100, -100, 299, -299, 300, -300, 550, -550, 20, 600, -600,
    ];
    let bodies = offsets
        .iter()
        .map(|d| order(OPEN_TS + d, "BUY", "Z", 1, "1"))
        .collect();
    let results = place_all(&t, id, bodies).await;
    let entries = ledger(&t, id).await;
    let times: Vec<i64> = entries.iter().map(|e| e.timestamp).collect();
    for (i, a) in times.iter().enumerate() {
        for b in &times[i + 1..] {
            assert!((a - b).abs() >= 300, "{a} and {b} both accepted: {times:?}");
        }
    }
    for (d, r) in offsets.iter().zip(&results) {
        let ts = OPEN_TS + d;
        let dup = r["business_errors"] == json!(["DUPLICATED_OPERATION"]);
        let accepted = r["business_errors"] == json!([]);
        assert!(dup || accepted, "{r}");
        if dup {
            assert!(
                times.iter().any(|t| (t - ts).abs() < 300),
                "{ts} rejected without a neighbour in {times:?}"
            );
        }
    }
    assert_eq!(accepted(&results).len(), times.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_parallel_account_openings_get_twenty_distinct_ids() {
    let t = fresh_app().await;
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let app = Arc::clone(&t.app);
            tokio::spawn(async move {
                let r = create_account::handle(
                    &app,
                    with_body(event("create-account"), format!(r#"{{"cash": {i}}}"#)),
                )
                .await;
                assert_eq!(r.status(), 201);
                let v = json_of(&r);
                (v["id"].as_u64().unwrap(), v["cash"].as_u64().unwrap())
            })
        })
        .collect();
    let mut ids = HashSet::new();
    for task in tasks {
        let (id, cash) = task.await.unwrap();
        assert!(ids.insert(id), "id {id} handed out twice");
        let stored = stored(&t, id).await;
        assert_eq!(
            stored.cash.value(),
            Decimal::from(cash),
            "account {id} was not overwritten"
        );
    }
    assert_eq!(ids, (1..=20).collect());
}

/// A random mix of buys and sells from many concurrent clients over several accounts;
/// afterwards each account's ledger must explain its balance exactly.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_random_concurrent_mix_of_1000_orders_reconciles_exactly() {
    const ACCOUNTS: u64 = 6;
    const ORDERS: usize = 1200;
    const CLIENTS: usize = 16;
    let t = fresh_app().await;
    let mut initial = BTreeMap::new();
    for _ in 0..ACCOUNTS {
        let id = open(&t, "2500.75").await;
        initial.insert(id, Decimal::new(250075, 2));
    }
    let mut rng = fastrand::Rng::with_seed(0x5eed);
    let bodies: Vec<(u64, String)> = (0..ORDERS)
        .map(|_| {
            let id = rng.u64(1..=ACCOUNTS);
            let op = if rng.u8(0..10) < 6 { "BUY" } else { "SELL" };
            let issuer = ["AAPL", "MSFT", "BRK.B"][rng.usize(0..3)];
            let shares = rng.u64(1..6);
            let price = format!("{}.{:02}", rng.u32(1..120), rng.u32(0..100));
            // Three market days, so some orders fall within each other's window.
            let ts = OPEN_TS + rng.i64(0..3) * 86_400 + rng.i64(0..4 * 3600);
            (id, order(ts, op, issuer, shares, &price))
        })
        .collect();
    let queue = Arc::new(std::sync::Mutex::new(bodies));
    let responses = Arc::new(std::sync::Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (app, queue, responses) = (
                Arc::clone(&t.app),
                Arc::clone(&queue),
                Arc::clone(&responses),
            );
            tokio::spawn(async move {
                loop {
                    let Some((id, body)) = queue.lock().unwrap().pop() else {
                        return;
                    };
                    let resp = place_order::handle(&app, request("place-order", id, &body)).await;
                    assert_eq!(resp.status(), 200, "{:?}", resp.body());
                    responses.lock().unwrap().push((id, json_of(&resp)));
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    let responses = responses.lock().unwrap().clone();
    assert_eq!(responses.len(), ORDERS);
    let accepted_count = responses
        .iter()
        .filter(|(_, r)| r["business_errors"] == json!([]))
        .count();
    assert!(
        accepted_count > ORDERS / 10,
        "only {accepted_count} accepted: the mix tests too little"
    );

    let mut ledger_total = 0;
    let mut states = HashSet::new();
    for (&id, &start) in &initial {
        let entries = ledger(&t, id).await;
        ledger_total += entries.len();
        let mut cash = start;
        let mut held: BTreeMap<String, i64> = BTreeMap::new();
        // Oldest first: the ledger's order is the order of acceptance.
        for e in entries.iter().rev() {
            let n = e.total_shares.get() as i64;
            let amount = e.amount.value();
            assert_eq!(amount, Decimal::from(n) * e.share_price.value());
            let h = held.entry(e.issuer_name.to_string()).or_default();
            match e.operation {
                brokerage_domain::Operation::Buy => {
                    cash -= amount;
                    *h += n;
                }
                brokerage_domain::Operation::Sell => {
                    cash += amount;
                    *h -= n;
                }
            }
            assert!(
                cash >= Decimal::ZERO && *h >= 0,
                "account {id} went negative at {e:?}"
            );
            states.insert((id, cash.normalize().to_string()));
        }
        let stored = stored(&t, id).await;
        assert_eq!(stored.cash.value(), cash, "account {id} cash");
        assert_eq!(
            stored.version as usize,
            entries.len(),
            "account {id} version counts its orders"
        );
        for (issuer, n) in &held {
            assert_eq!(
                stored.shares_of(&brokerage_domain::IssuerName::new(issuer).unwrap()) as i64,
                *n,
                "account {id} {issuer}"
            );
        }
        for (i, a) in entries.iter().enumerate() {
            for b in &entries[i + 1..] {
                let same = a.operation == b.operation
                    && a.issuer_name == b.issuer_name
                    && a.total_shares == b.total_shares;
                assert!(
                    !same || (a.timestamp - b.timestamp).abs() >= 300,
                    "duplicates accepted: {a:?} {b:?}"
                );
            }
        }
    }
    assert_eq!(
        ledger_total, accepted_count,
        "every accepted answer is in a ledger, and nothing else is"
    );
    for (id, r) in responses
        .iter()
        .filter(|(_, r)| r["business_errors"] == json!([]))
    {
        let cash = r["current_balance"]["cash"].to_string();
        assert!(
            states.contains(&(*id, cash.clone())),
            "account {id}: answered cash {cash} is no state the ledger passed through"
        );
    }
}
