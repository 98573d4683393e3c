//! Random events and random report parameters: every report page equals a reference computed
//! here from the same events, naively. The events go through the real routes into DynamoDB
//! Local, its stream through the repo's poller into the real `aggregate-events` (each batch
//! delivered twice), and the page comes from the real report function.

use crate::common::{self, Stream};
use api_tests::{required_env, unique_table};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::cell::Cell;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// Day buckets in a zone whose clocks move within the events' range (2026-03-08).
const TZ: Tz = chrono_tz::America::New_York;
const CASES: u32 = 20;
const QUERIES_PER_CASE: usize = 4;
const SHRINKS: u32 = 64;
/// 2026-03-05T00:00:00Z: the events span six days from here.
const START: i64 = 1_772_668_800;
const DIMS: [&str; 6] = [
    "date",
    "device_type",
    "category",
    "client",
    "client_group",
    "valid",
];
const DEVICES: [Option<&str>; 4] = [None, Some("desktop"), Some("mobile"), Some("tablet")];

#[derive(Debug, Clone)]
struct Ev {
    device: Option<&'static str>,
    category: Option<i32>,
    client: i32,
    group: i32,
    /// Microseconds since the epoch.
    at_us: i64,
    /// The offset the timestamp is written with, in minutes.
    offset_min: i32,
    valid: bool,
    value: Decimal,
    deleted: bool,
}

fn an_event() -> impl Strategy<Value = Ev> {
    (
        (0..4usize, prop::option::of(0..3i32), 0..4i32, 0..2i32),
        (
            0..6 * 86_400_000_000i64,
            prop::sample::select(vec![0, 330, -480]),
        ),
        (any::<bool>(), -10_000_000..10_000_000i64, 0..=6u32, 0..5u8),
    )
        .prop_map(
            |((d, category, client, group), (us, offset_min), (valid, m, scale, del))| Ev {
                device: DEVICES[d],
                category,
                client,
                group,
                at_us: START * 1_000_000 + us,
                offset_min,
                valid,
                value: Decimal::new(m, scale),
                deleted: del == 0,
            },
        )
}

#[derive(Debug, Clone)]
struct Query {
    /// `None`: the parameter is absent (all six).
    group_by: Option<Vec<&'static str>>,
    /// Column names, `-` for descending.
    order_by: Vec<String>,
    clients: Option<Vec<i32>>,
    client_groups: Option<Vec<i32>>,
    categories: Option<Vec<Option<i32>>>,
    device_types: Option<Vec<Option<&'static str>>>,
    valid: Option<bool>,
    start_date: Option<NaiveDate>,
    end_date: Option<NaiveDate>,
    offset: u32,
    limit: u32,
    separator: &'static str,
}

fn day(n: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 4 + n).unwrap()
}

fn a_query() -> impl Strategy<Value = Query> {
    let group_by = prop::option::weighted(
        0.85,
        prop::sample::subsequence(DIMS.to_vec(), 0..=6).prop_shuffle(),
    );
    group_by.prop_flat_map(|group_by| {
        let grouped = group_by.clone().unwrap_or(DIMS.to_vec());
        let mut orderable: Vec<String> = grouped.iter().map(|s| s.to_string()).collect();
        orderable.extend(["count", "sum", "mean"].map(String::from));
        let n = orderable.len();
        let order_by = prop::sample::subsequence(orderable, 0..=n.min(3))
            .prop_shuffle()
            .prop_flat_map(|cols| {
                let k = cols.len();
                (Just(cols), prop::collection::vec(any::<bool>(), k))
            })
            .prop_map(|(cols, desc)| {
                cols.into_iter()
                    .zip(desc)
                    .map(|(c, d)| if d { format!("-{c}") } else { c })
                    .collect::<Vec<_>>()
            });
        let filters = (
            prop::option::weighted(0.3, prop::sample::subsequence(vec![0, 1, 2, 3, 9], 1..=3)),
            prop::option::weighted(0.2, prop::sample::subsequence(vec![0, 1], 1..=2)),
            prop::option::weighted(
                0.3,
                prop::sample::subsequence(vec![None, Some(0), Some(1), Some(2)], 1..=3),
            ),
            prop::option::weighted(0.3, prop::sample::subsequence(DEVICES.to_vec(), 1..=3)),
            prop::option::weighted(0.3, any::<bool>()),
        );
        let range = (
            prop::option::weighted(0.3, 0..7u32),
            prop::option::weighted(0.3, 1..8u32),
        );
        (
            Just(group_by),
            order_by,
            filters,
            range,
            (
                0..12u32,
                1..10u32,
                prop::sample::select(vec![" ", ",", "+"]),
            ),
        )
            .prop_map(
                |(
                    group_by,
                    order_by,
                    (clients, groups, categories, devices, valid),
                    (s, e),
                    (offset, limit, sep),
                )| {
                    let end = match (s, e) {
                        (Some(s), Some(e)) if e <= s => None,
                        (_, e) => e,
                    };
                    Query {
                        group_by,
                        order_by,
                        clients,
                        client_groups: groups,
                        categories,
                        device_types: devices,
                        valid,
                        start_date: s.map(day),
                        end_date: end.map(day),
                        offset,
                        limit,
                        separator: sep,
                    }
                },
            )
    })
}

fn list<T>(values: &[T], show: impl Fn(&T) -> String, sep: &str) -> String {
    values.iter().map(show).collect::<Vec<_>>().join(sep)
}

impl Query {
    fn params(&self) -> Vec<(String, String)> {
        let sep = self.separator;
        let opt = |v: &Option<i32>| v.map_or("null".into(), |n| n.to_string());
        let mut p = Vec::new();
        if let Some(g) = &self.group_by {
            p.push(("group_by".into(), g.join(sep)));
        }
        if !self.order_by.is_empty() {
            p.push(("order_by".into(), self.order_by.join(sep)));
        }
        if let Some(v) = &self.clients {
            p.push(("clients".into(), list(v, i32::to_string, sep)));
        }
        if let Some(v) = &self.client_groups {
            p.push(("client_groups".into(), list(v, i32::to_string, sep)));
        }
        if let Some(v) = &self.categories {
            p.push(("categories".into(), list(v, opt, sep)));
        }
        if let Some(v) = &self.device_types {
            let show = |d: &Option<&str>| d.unwrap_or("null").to_owned();
            p.push(("device_types".into(), list(v, show, sep)));
        }
        if let Some(v) = self.valid {
            p.push(("valid".into(), v.to_string()));
        }
        if let Some(d) = self.start_date {
            p.push(("start_date".into(), d.to_string()));
        }
        if let Some(d) = self.end_date {
            p.push(("end_date".into(), d.to_string()));
        }
        p.push(("offset".into(), self.offset.to_string()));
        p.push(("limit".into(), self.limit.to_string()));
        p
    }
}

/// A grouped value, ordered as the contract orders it: null first, false before true,
/// device types alphabetically, days by date.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Day(NaiveDate),
    Text(Option<&'static str>),
    Int(Option<i32>),
    Bool(bool),
}

impl Key {
    fn json(&self) -> String {
        match self {
            Key::Day(d) => format!("\"{d}\""),
            Key::Text(t) => t.map_or("null".into(), |t| format!("\"{t}\"")),
            Key::Int(n) => n.map_or("null".into(), |n| n.to_string()),
            Key::Bool(b) => b.to_string(),
        }
    }
}

fn key(e: &Ev, dim: &str) -> Key {
    match dim {
        "date" => Key::Day(local_day(e)),
        "device_type" => Key::Text(e.device),
        "category" => Key::Int(e.category),
        "client" => Key::Int(Some(e.client)),
        "client_group" => Key::Int(Some(e.group)),
        _ => Key::Bool(e.valid),
    }
}

fn local_day(e: &Ev) -> NaiveDate {
    DateTime::<Utc>::from_timestamp_micros(e.at_us)
        .unwrap()
        .with_timezone(&TZ)
        .date_naive()
}

struct Row {
    keys: Vec<Key>,
    count: i64,
    sum: Decimal,
    mean: Decimal,
}

/// The report, straight from the events.
fn reference(events: &[Ev], q: &Query) -> Vec<Row> {
    let grouped: Vec<&str> = DIMS
        .into_iter()
        .filter(|d| q.group_by.as_ref().is_none_or(|g| g.contains(d)))
        .collect();
    let mut groups: BTreeMap<Vec<Key>, (i64, Decimal)> = BTreeMap::new();
    for e in events.iter().filter(|e| !e.deleted) {
        let admitted = q.clients.as_ref().is_none_or(|v| v.contains(&e.client))
            && q.client_groups
                .as_ref()
                .is_none_or(|v| v.contains(&e.group))
            && q.categories
                .as_ref()
                .is_none_or(|v| v.contains(&e.category))
            && q.device_types
                .as_ref()
                .is_none_or(|v| v.contains(&e.device))
            && q.valid.is_none_or(|v| v == e.valid)
            && q.start_date.is_none_or(|d| local_day(e) >= d)
            && q.end_date.is_none_or(|d| local_day(e) < d);
        if admitted {
            let g = groups
                .entry(grouped.iter().map(|d| key(e, d)).collect())
                .or_insert((0, Decimal::ZERO));
            g.0 += 1;
            g.1 += e.value;
        }
    }
    let mut rows: Vec<Row> = groups
        .into_iter()
        .map(|(keys, (count, sum))| Row {
            keys,
            count,
            sum,
            mean: (sum / Decimal::from(count))
                .round_dp_with_strategy(6, RoundingStrategy::MidpointNearestEven),
        })
        .collect();
    rows.sort_by(|a, b| {
        for o in &q.order_by {
            let (desc, col) = match o.strip_prefix('-') {
                Some(c) => (true, c),
                None => (false, o.as_str()),
            };
            let ord = match col {
                "count" => a.count.cmp(&b.count),
                "sum" => a.sum.cmp(&b.sum),
                "mean" => a.mean.cmp(&b.mean),
                dim => {
                    let i = grouped.iter().position(|d| *d == dim).unwrap();
                    a.keys[i].cmp(&b.keys[i])
                }
            };
            let ord = if desc { ord.reverse() } else { ord };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        a.keys.cmp(&b.keys)
    });
    rows
}

#[derive(Deserialize)]
struct Page {
    rows: Vec<BTreeMap<String, Box<RawValue>>>,
    pagination: serde_json::Value,
}

fn exact(raw: &RawValue) -> Decimal {
    Decimal::from_str_exact(raw.get())
        .or_else(|_| Decimal::from_scientific(raw.get()))
        .unwrap_or_else(|e| panic!("{}: {e}", raw.get()))
}

fn timestamp(e: &Ev) -> String {
    let at = DateTime::<Utc>::from_timestamp_micros(e.at_us).unwrap();
    let offset = FixedOffset::east_opt(e.offset_min * 60).unwrap();
    at.with_timezone(&offset)
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

#[test]
fn every_report_equals_a_reference_computed_from_the_events() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let keys: Vec<String> = (0..CASES + SHRINKS + 1)
        .map(|n| format!("pt-{n}"))
        .collect();
    let t = rt.block_on(async {
        let c = common::config(
            &unique_table(),
            Some(required_env("REDIS_URL")),
            keys.clone(),
        );
        let t = common::build(c, TZ, Vec::new()).await;
        t.store.create_tables().await.unwrap();
        t
    });
    let stream = rt.block_on(Stream::start(&t, true));
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        // Each run is a tenant of its own: the keys cover the cases and the shrinking.
        max_shrink_iters: SHRINKS,
        failure_persistence: None,
        ..Config::default()
    });
    let case = Cell::new(0usize);
    let records = Cell::new(0usize);
    let strategy = (
        prop::collection::vec(an_event(), 1..30),
        prop::collection::vec(a_query(), QUERIES_PER_CASE),
    );
    let result = runner.run(&strategy, |(events, queries)| {
        let key = keys[case.get()].clone();
        case.set(case.get() + 1);
        rt.block_on(async {
            for (i, e) in events.iter().enumerate() {
                let mut body = serde_json::json!({
                    "id": common::id(i as u64),
                    "device_type": e.device,
                    "category": e.category,
                    "client": e.client,
                    "client_group": e.group,
                    "timestamp": timestamp(e),
                    "valid": e.valid,
                })
                .to_string();
                body.insert_str(body.len() - 1, &format!(r#","value":{}"#, e.value));
                let resp = create_event::handle(&t, common::create(&key, &body)).await;
                assert_eq!(resp.status(), 201, "{body}: {:?}", resp.body());
                records.set(records.get() + 1);
            }
            for (i, _) in events.iter().enumerate().filter(|(_, e)| e.deleted) {
                let resp = delete_event::handle(
                    &t,
                    common::on_event("delete-event", &key, &common::id(i as u64)),
                )
                .await;
                assert_eq!(resp.status(), 204);
                records.set(records.get() + 1);
            }
            stream.until(records.get()).await;
            for q in &queries {
                let params = q.params();
                let pairs: Vec<(&str, &str)> = params
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let resp = report::handle(&t, common::report(&key, &pairs)).await;
                assert_eq!(resp.status(), 200, "{params:?}: {:?}", resp.body());
                let text = std::str::from_utf8(resp.body().as_ref())
                    .unwrap()
                    .to_owned();
                let page: Page = serde_json::from_str(&text).unwrap();
                let want = reference(&events, q);
                let grouped: Vec<&str> = DIMS
                    .into_iter()
                    .filter(|d| q.group_by.as_ref().is_none_or(|g| g.contains(d)))
                    .collect();
                let from = (q.offset as usize).min(want.len());
                let to = (from + q.limit as usize).min(want.len());
                let context = format!("{params:?} -> {text}");
                prop_assert_eq!(page.rows.len(), to - from, "{}", context);
                for (got, want) in page.rows.iter().zip(&want[from..to]) {
                    prop_assert_eq!(got.len(), grouped.len() + 3, "{}", context);
                    for (dim, k) in grouped.iter().zip(&want.keys) {
                        let column = if *dim == "date" { "day" } else { dim };
                        prop_assert_eq!(got[column].get(), k.json(), "{}", context);
                    }
                    prop_assert_eq!(got["count"].get(), want.count.to_string(), "{}", context);
                    prop_assert_eq!(exact(&got["sum"]), want.sum, "{}", context);
                    prop_assert_eq!(exact(&got["mean"]), want.mean, "{}", context);
                }
                let p = &page.pagination;
                prop_assert_eq!(
                    p["total_count"].as_u64(),
                    Some(want.len() as u64),
                    "{}",
                    context
                );
                prop_assert_eq!(p["offset"].as_u64(), Some(q.offset as u64));
                prop_assert_eq!(p["page_size"].as_u64(), Some(q.limit as u64));
                let next = q.offset as u64 + q.limit as u64;
                let want_next = (next < want.len() as u64).then_some(next);
                prop_assert_eq!(p["next_offset"].as_u64(), want_next, "{}", context);
            }
            Ok(())
        })
    });
    drop(stream);
    if let Err(e) = result {
        panic!("{e}");
    }
}
