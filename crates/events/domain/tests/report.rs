//! Reports from folded cells equal a naive report computed from the events themselves, for
//! random events, random deletes and random queries.

use chrono::{TimeZone, Utc};
use chrono_tz::Tz;
use events_domain::*;
use proptest::prelude::*;
use rust_decimal::{Decimal, RoundingStrategy};
use std::collections::BTreeMap;

fn arb_event() -> impl Strategy<Value = Event> {
    (
        any::<u32>(),
        prop::option::of(prop::sample::select(vec![
            DeviceType::Desktop,
            DeviceType::Mobile,
            DeviceType::Tablet,
        ])),
        prop::option::of(-2i32..3),
        0i32..4,
        0i32..2,
        0i64..(5 * 86_400),
        any::<bool>(),
        -1_000_000i64..1_000_000,
    )
        .prop_map(
            |(n, device_type, category, client, group, secs, valid, cents)| Event {
                id: EventId::parse(&format!("00000000-0000-4000-8000-{n:012}")).unwrap(),
                device_type,
                category,
                client,
                client_group: group,
                timestamp: Utc.timestamp_opt(1_773_100_000 + secs, 0).unwrap(),
                valid,
                value: Decimal::new(cents, 3),
            },
        )
}

fn arb_query() -> impl Strategy<Value = Vec<(String, String)>> {
    let dims = prop::sample::subsequence(
        vec![
            "date",
            "device_type",
            "category",
            "client",
            "client_group",
            "valid",
        ],
        0..=6,
    );
    (
        dims,
        prop::option::of(prop::sample::subsequence(vec!["0", "1", "3"], 1..=3)),
        prop::option::of(prop::sample::subsequence(vec!["null", "-1", "2"], 1..=3)),
        prop::option::of(any::<bool>()),
        prop::option::of((0u32..4, 1u32..3)),
        prop::option::of(prop::sample::subsequence(
            vec!["count", "-count", "sum", "-mean"],
            1..=1,
        )),
        0u32..6,
        1u32..5,
    )
        .prop_map(|(g, clients, cats, valid, dates, measure, offset, limit)| {
            let mut q = vec![("group_by".to_owned(), g.join(" "))];
            if let Some(c) = clients {
                q.push(("clients".into(), c.join(",")));
            }
            if let Some(c) = cats {
                q.push(("categories".into(), c.join(" ")));
            }
            if let Some(v) = valid {
                q.push(("valid".into(), v.to_string()));
            }
            if let Some((start, len)) = dates {
                q.push(("start_date".into(), format!("2026-03-{:02}", 10 + start)));
                q.push((
                    "end_date".into(),
                    format!("2026-03-{:02}", 10 + start + len),
                ));
            }
            if let Some(m) = measure {
                q.push(("order_by".into(), m.join(",")));
            }
            q.push(("offset".into(), offset.to_string()));
            q.push(("limit".into(), limit.to_string()));
            q
        })
}

/// The report straight from the events, computed the obvious way.
fn naive(events: &[Event], q: &ReportQuery, tz: Tz) -> Vec<(Vec<DimValue>, i64, Decimal)> {
    let mut groups: BTreeMap<Vec<DimValue>, (i64, Decimal)> = BTreeMap::new();
    fn within<T: PartialEq>(list: &Option<Vec<T>>, v: T) -> bool {
        list.as_ref().is_none_or(|l| l.contains(&v))
    }
    for e in events {
        let day = e.timestamp.with_timezone(&tz).date_naive();
        let admitted = within(&q.clients, e.client)
            && within(&q.client_groups, e.client_group)
            && within(&q.categories, e.category)
            && within(&q.device_types, e.device_type)
            && q.valid.is_none_or(|v| v == e.valid)
            && q.start_date.is_none_or(|s| day >= s)
            && q.end_date.is_none_or(|end| day < end);
        if !admitted {
            continue;
        }
        let key = q
            .group_by
            .iter()
            .map(|d| match d {
                Dim::Date => DimValue::Day(day),
                Dim::DeviceType => DimValue::Device(e.device_type),
                Dim::Category => DimValue::Category(e.category),
                Dim::Client => DimValue::Client(e.client),
                Dim::ClientGroup => DimValue::ClientGroup(e.client_group),
                Dim::Valid => DimValue::Valid(e.valid),
            })
            .collect();
        let g = groups.entry(key).or_insert((0, Decimal::ZERO));
        g.0 += 1;
        g.1 += e.value;
    }
    let mut rows: Vec<_> = groups.into_iter().map(|(k, (c, s))| (k, c, s)).collect();
    let mean = |c: i64, s: Decimal| {
        (s / Decimal::from(c)).round_dp_with_strategy(6, RoundingStrategy::MidpointNearestEven)
    };
    rows.sort_by(|a, b| {
        for o in &q.order_by {
            let ord = match o.column {
                Column::Count => a.1.cmp(&b.1),
                Column::Sum => a.2.cmp(&b.2),
                Column::Mean => mean(a.1, a.2).cmp(&mean(b.1, b.2)),
                Column::Dim(_) => unreachable!("the strategy orders by measures only"),
            };
            let ord = if o.descending { ord.reverse() } else { ord };
            if ord.is_ne() {
                return ord;
            }
        }
        a.0.cmp(&b.0)
    });
    rows
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn folded_reports_equal_the_naive_report(
        events in prop::collection::vec(arb_event(), 0..40),
        deleted in prop::collection::vec(any::<prop::sample::Index>(), 0..10),
        pairs in arb_query(),
        tz in prop::sample::select(vec![Tz::UTC, Tz::America__Mexico_City, Tz::Asia__Tokyo]),
    ) {
        let q = ReportQuery::parse(&pairs).unwrap();
        // Inserts in two batches, deletes of some of them in a third: cells add up.
        let mut gone: Vec<usize> = deleted.iter().map(|i| i.index(events.len().max(1))).collect();
        gone.sort_unstable();
        gone.dedup();
        gone.retain(|i| *i < events.len());
        let (a, b) = events.split_at(events.len() / 2);
        let mut cells: BTreeMap<Cell, Delta> = BTreeMap::new();
        let batches = [
            a.iter().cloned().map(Change::Inserted).collect::<Vec<_>>(),
            b.iter().cloned().map(Change::Inserted).collect(),
            gone.iter().map(|i| Change::Removed(events[*i].clone())).collect(),
        ];
        for batch in &batches {
            for (cell, d) in fold(batch, tz) {
                let c = cells.entry(cell).or_default();
                c.count += d.count;
                c.sum += d.sum;
            }
        }
        let kept: Vec<Event> = events
            .iter()
            .enumerate()
            .filter(|(i, _)| !gone.contains(i))
            .map(|(_, e)| e.clone())
            .collect();
        let report = compute(&q, cells);
        let expected = naive(&kept, &q, tz);
        prop_assert_eq!(report.total_count, expected.len());
        let page: Vec<_> = expected
            .iter()
            .skip(q.offset as usize)
            .take(q.limit as usize)
            .collect();
        prop_assert_eq!(report.rows.len(), page.len());
        for (row, (values, count, sum)) in report.rows.iter().zip(page) {
            prop_assert_eq!(&row.values, values);
            prop_assert_eq!(row.count, *count);
            prop_assert_eq!(row.sum, *sum);
            let mean = (*sum / Decimal::from(*count))
                .round_dp_with_strategy(6, RoundingStrategy::MidpointNearestEven);
            prop_assert_eq!(row.mean, mean);
        }
        let next = q.offset as usize + q.limit as usize;
        prop_assert_eq!(report.next_offset, (next < expected.len()).then_some(next as u64));
    }
}
