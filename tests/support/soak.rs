//! A randomized run against the local API from many concurrent clients, then a reconciliation
//! of every account against its ledger. `make soak` runs it at scale; a test runs a small one.

use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use crate::http_client::{Api, Reply};

const TENANTS: [&str; 2] = ["local-dev-key", "local-other-key"];
const ISSUERS: [&str; 4] = ["AAPL", "MSFT", "BRK.A", "NFLX"];
const PRICES: [&str; 4] = ["1.5", "10", "33.33", "100.000001"];
// 2019-10-17 10:20:25 in Mexico City; orders fall within the following two hours.
const OPEN_TS: i64 = 1_571_325_625;

#[derive(Debug, Default, Clone)]
pub struct Report {
    pub operations: u64,
    pub accounts: usize,
    pub clients: usize,
    pub accepted: u64,
    pub rejected: BTreeMap<String, u64>,
    pub replays: u64,
    pub conflicts_409: u64,
    pub reads: u64,
    pub cross_tenant_reads: u64,
    pub ledger_entries: u64,
    pub violations: Vec<String>,
}

impl Report {
    pub fn print(&self) {
        println!(
            "soak: {} operations from {} concurrent clients over {} accounts",
            self.operations, self.clients, self.accounts
        );
        println!("  orders accepted        {}", self.accepted);
        for (code, n) in &self.rejected {
            println!("  rejected {code:<22} {n}");
        }
        println!(
            "  idempotent replays     {} (409 while in flight: {})",
            self.replays, self.conflicts_409
        );
        println!(
            "  balance reads          {} (other tenant's: {})",
            self.reads, self.cross_tenant_reads
        );
        println!("  ledger entries         {}", self.ledger_entries);
        println!("  violations             {}", self.violations.len());
        for v in self.violations.iter().take(20) {
            println!("    {v}");
        }
    }
}

struct Acct {
    id: u64,
    tenant: usize,
    initial: Decimal,
    /// Accepted order answers seen (first answers, not replays).
    accepted: u64,
}

#[derive(Default)]
struct Shared {
    report: Report,
    accounts: Vec<Acct>,
}

fn dec(v: &Value) -> Option<Decimal> {
    // Numbers print back in their shortest form, which is the decimal the API wrote.
    Decimal::from_str(&v.as_number()?.to_string()).ok()
}

/// Checks an order answer's balance: never negative, no empty holding.
fn check_balance(balance: &Value, what: &str, violations: &mut Vec<String>) {
    if dec(&balance["cash"]).is_none_or(|c| c < Decimal::ZERO) {
        violations.push(format!("{what}: cash {}", balance["cash"]));
    }
    for h in balance["issuers"].as_array().into_iter().flatten() {
        if h["total_shares"].as_u64().is_none_or(|n| n == 0) {
            violations.push(format!("{what}: holding {h}"));
        }
    }
}

pub async fn run(api: &Api, operations: u64, clients: usize, accounts: usize) -> Report {
    let state = Arc::new(Mutex::new(Shared::default()));
    // Open the accounts, alternating tenants.
    for i in 0..accounts {
        let tenant = i % TENANTS.len();
        let cash = Decimal::new(fastrand::i64(100_000..10_000_000), 2);
        let reply = api
            .with_key(Some(TENANTS[tenant]))
            .post("/accounts", format!(r#"{{"cash": {cash}}}"#))
            .await;
        let mut s = state.lock().unwrap();
        s.report.operations += 1;
        match reply.status {
            201 => {
                let id = reply.json()["id"].as_u64().unwrap_or(0);
                s.accounts.push(Acct {
                    id,
                    tenant,
                    initial: cash,
                    accepted: 0,
                });
            }
            other => s.report.violations.push(format!("open: {other}")),
        }
    }
    let ids: Vec<(u64, usize)> = state
        .lock()
        .unwrap()
        .accounts
        .iter()
        .map(|a| (a.id, a.tenant))
        .collect();
    let per_client = operations.saturating_sub(accounts as u64) / clients as u64;
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let api = api.clone();
        let ids = ids.clone();
        let state = state.clone();
        tasks.push(tokio::spawn(async move {
            let mut last_accepted: Option<(usize, String, i64)> = None;
            for _ in 0..per_client {
                step(&api, &ids, &state, &mut last_accepted).await;
            }
        }));
    }
    for t in tasks {
        if let Err(e) = t.await {
            state
                .lock()
                .unwrap()
                .report
                .violations
                .push(format!("client panicked: {e}"));
        }
    }
    reconcile(api, &state).await;
    let mut s = state.lock().unwrap();
    s.report.accounts = s.accounts.len();
    s.report.clients = clients;
    s.report.clone()
}

async fn step(
    api: &Api,
    ids: &[(u64, usize)],
    state: &Mutex<Shared>,
    last: &mut Option<(usize, String, i64)>,
) {
    let pick = fastrand::usize(..ids.len());
    let (id, tenant) = ids[pick];
    let as_owner = api.with_key(Some(TENANTS[tenant]));
    let roll = fastrand::u32(..100);
    if roll < 20 {
        // A balance read; sometimes by the other tenant, which must not see it.
        let cross = roll < 3;
        let caller = if cross {
            api.with_key(Some(TENANTS[1 - tenant]))
        } else {
            as_owner
        };
        let reply = caller.get(&format!("/accounts/{id}")).await;
        let mut s = state.lock().unwrap();
        s.report.operations += 1;
        s.report.reads += 1;
        if cross {
            s.report.cross_tenant_reads += 1;
            if reply.status != 404 {
                s.report.violations.push(format!(
                    "account {id} answered {} to another tenant",
                    reply.status
                ));
            }
        } else if reply.status != 200 {
            s.report
                .violations
                .push(format!("read {id}: {}", reply.status));
        } else {
            check_balance(
                &reply.json(),
                &format!("read {id}"),
                &mut s.report.violations,
            );
        }
        return;
    }
    // A duplicate of this client's last accepted order, a little later: must be refused.
    if roll < 30 {
        if let Some((p, body, ts)) = last.clone() {
            let later = ts + fastrand::i64(1..300);
            let body = body.replace(
                &format!("\"timestamp\": {ts}"),
                &format!("\"timestamp\": {later}"),
            );
            let (aid, at) = ids[p];
            let reply = api
                .with_key(Some(TENANTS[at]))
                .post(&format!("/accounts/{aid}/orders"), body)
                .await;
            let mut s = state.lock().unwrap();
            s.report.operations += 1;
            record_order(&mut s, p, &reply, false);
            let errors = reply.json()["business_errors"].clone();
            if !errors
                .as_array()
                .is_some_and(|e| e.iter().any(|c| c == "DUPLICATED_OPERATION"))
            {
                s.report
                    .violations
                    .push(format!("duplicate on {aid} {later} answered {errors}"));
            }
            return;
        }
    }
    let op = if fastrand::bool() { "BUY" } else { "SELL" };
    let ts = OPEN_TS + fastrand::i64(0..7200);
    let body = format!(
        r#"{{"timestamp": {ts}, "operation": "{op}", "issuer_name": "{}", "total_shares": {}, "share_price": {}}}"#,
        ISSUERS[fastrand::usize(..ISSUERS.len())],
        fastrand::u32(1..6),
        PRICES[fastrand::usize(..PRICES.len())],
    );
    let path = format!("/accounts/{id}/orders");
    let key = (roll < 60).then(|| format!("soak-{:016x}", fastrand::u64(..)));
    let headers: Vec<(&str, &str)> = key
        .iter()
        .map(|k| ("idempotency-key", k.as_str()))
        .collect();
    let first = as_owner
        .send_with("POST", &path, &headers, body.clone())
        .await;
    let accepted = {
        let mut s = state.lock().unwrap();
        s.report.operations += 1;
        record_order(&mut s, pick, &first, true)
    };
    if accepted {
        *last = Some((pick, body.clone(), ts));
    }
    // A client retrying a keyed order (say its connection dropped): the same answer.
    if key.is_some() && fastrand::u32(..100) < 40 {
        let again = as_owner.send_with("POST", &path, &headers, body).await;
        let mut s = state.lock().unwrap();
        s.report.operations += 1;
        match again.status {
            409 => s.report.conflicts_409 += 1,
            _ if again == first => s.report.replays += 1,
            _ => s.report.violations.push(format!(
                "replay on {id} differs: {} vs {}",
                again.status, first.status
            )),
        }
    }
}

/// Counts an order answer; true when it was accepted.
fn record_order(s: &mut Shared, account: usize, reply: &Reply, first_answer: bool) -> bool {
    if reply.status != 200 {
        s.report.violations.push(format!(
            "order answered {}: {}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        ));
        return false;
    }
    let body = reply.json();
    check_balance(&body["current_balance"], "order", &mut s.report.violations);
    let errors = body["business_errors"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if errors.is_empty() {
        s.report.accepted += 1;
        if first_answer {
            s.accounts[account].accepted += 1;
        }
        true
    } else {
        for e in errors {
            *s.report
                .rejected
                .entry(e.as_str().unwrap_or("?").to_owned())
                .or_default() += 1;
        }
        false
    }
}

async fn reconcile(api: &Api, state: &Mutex<Shared>) {
    let accounts: Vec<(u64, usize, Decimal, u64)> = state
        .lock()
        .unwrap()
        .accounts
        .iter()
        .map(|a| (a.id, a.tenant, a.initial, a.accepted))
        .collect();
    let mut all_ids = HashSet::new();
    for (id, tenant, initial, accepted) in accounts {
        let caller = api.with_key(Some(TENANTS[tenant]));
        let mut violations = Vec::new();
        let mut ledger: Vec<Value> = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/accounts/{id}/orders?limit=500&cursor={c}"),
                None => format!("/accounts/{id}/orders?limit=500"),
            };
            let page = caller.get(&path).await.json();
            ledger.extend(page["orders"].as_array().cloned().unwrap_or_default());
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        let balance = caller.get(&format!("/accounts/{id}")).await.json();
        let mut cash = initial;
        let mut shares: HashMap<String, i64> = HashMap::new();
        let mut seen: HashMap<(String, String, u64), Vec<i64>> = HashMap::new();
        // Oldest first: the running balance must never go negative.
        for o in ledger.iter().rev() {
            let amount = dec(&o["amount"]).unwrap_or_default();
            let issuer = o["issuer_name"].as_str().unwrap_or("").to_owned();
            let n = o["total_shares"].as_i64().unwrap_or(0);
            let op = o["operation"].as_str().unwrap_or("").to_owned();
            if op == "BUY" {
                cash -= amount;
                *shares.entry(issuer.clone()).or_default() += n;
            } else {
                cash += amount;
                *shares.entry(issuer.clone()).or_default() -= n;
            }
            if cash < Decimal::ZERO || shares[&issuer] < 0 {
                violations.push(format!("account {id}: negative after order {}", o["id"]));
            }
            if !all_ids.insert(o["id"].as_str().unwrap_or("").to_owned()) {
                violations.push(format!("account {id}: order id {} twice", o["id"]));
            }
            let ts = o["timestamp"].as_i64().unwrap_or(0);
            let same = seen.entry((op, issuer, n as u64)).or_default();
            if same.iter().any(|t| (t - ts).abs() < 300) {
                violations.push(format!("account {id}: duplicate accepted at {ts}"));
            }
            same.push(ts);
        }
        if dec(&balance["cash"]) != Some(cash) {
            violations.push(format!(
                "account {id}: cash {} but the ledger says {cash}",
                balance["cash"]
            ));
        }
        let held: HashMap<String, i64> = balance["issuers"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|h| {
                (
                    h["issuer_name"].as_str().unwrap_or("").to_owned(),
                    h["total_shares"].as_i64().unwrap_or(0),
                )
            })
            .collect();
        shares.retain(|_, n| *n != 0);
        if held != shares {
            violations.push(format!(
                "account {id}: holds {held:?} but the ledger says {shares:?}"
            ));
        }
        if ledger.len() as u64 != accepted {
            violations.push(format!(
                "account {id}: {accepted} orders accepted but {} in the ledger",
                ledger.len()
            ));
        }
        let mut s = state.lock().unwrap();
        s.report.ledger_entries += ledger.len() as u64;
        s.report.violations.extend(violations);
    }
}
