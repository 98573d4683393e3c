//! A report from the cells of the query's subset alone: filtered, rolled up to the grouped
//! columns, sorted in a total order and paged.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::BTreeMap;

use crate::aggregate::{Cell, Delta, DimValue};
use crate::query::{Column, ReportQuery};

/// More combinations than this in the query's range: 422 `report-too-large`.
pub const MAX_CELLS: usize = 100_000;
/// The mean's decimals (rounded half to even).
const MEAN_DECIMALS: u32 = 6;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The grouped columns' values, in their canonical order.
    pub values: Vec<DimValue>,
    pub count: i64,
    pub sum: Decimal,
    pub mean: Decimal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub rows: Vec<Row>,
    pub total_count: usize,
    pub offset: u32,
    pub page_size: u32,
    pub next_offset: Option<u64>,
}

/// The report `query` asks for, from the cells of `query.cells()` (any others are
/// ignored) and their counters.
pub fn compute(query: &ReportQuery, cells: impl IntoIterator<Item = (Cell, Delta)>) -> Report {
    let subset = query.cells();
    let mut groups: BTreeMap<Vec<DimValue>, Delta> = BTreeMap::new();
    for (cell, delta) in cells {
        if cell.dims != subset || !cell.values.iter().all(|v| query.admits(*v)) {
            continue;
        }
        let key: Vec<DimValue> = query
            .group_by
            .iter()
            .filter_map(|d| cell.value(*d))
            .collect();
        let g = groups.entry(key).or_default();
        g.count += delta.count;
        g.sum += delta.sum;
    }
    let mut rows: Vec<Row> = groups
        .into_iter()
        .filter(|(_, d)| d.count > 0)
        .map(|(values, d)| Row {
            values,
            count: d.count,
            sum: d.sum.normalize(),
            mean: (d.sum / Decimal::from(d.count))
                .round_dp_with_strategy(MEAN_DECIMALS, RoundingStrategy::MidpointNearestEven)
                .normalize(),
        })
        .collect();
    rows.sort_by(|a, b| compare(query, a, b));
    let total_count = rows.len();
    let start = (query.offset as usize).min(total_count);
    let end = (start + query.limit as usize).min(total_count);
    let next = query.offset as u64 + query.limit as u64;
    Report {
        rows: rows.drain(start..end).collect(),
        total_count,
        offset: query.offset,
        page_size: query.limit,
        next_offset: (next < total_count as u64).then_some(next),
    }
}

/// `order_by` first, then every grouped column ascending in the canonical order: groups
/// differ in at least one grouped value, so this is a total order.
fn compare(query: &ReportQuery, a: &Row, b: &Row) -> Ordering {
    let position = |d| query.group_by.iter().position(|g| *g == d);
    for o in &query.order_by {
        let ord = match o.column {
            Column::Count => a.count.cmp(&b.count),
            Column::Sum => a.sum.cmp(&b.sum),
            Column::Mean => a.mean.cmp(&b.mean),
            Column::Dim(d) => match position(d) {
                Some(i) => a.values[i].cmp(&b.values[i]),
                None => Ordering::Equal,
            },
        };
        let ord = if o.descending { ord.reverse() } else { ord };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    a.values.cmp(&b.values)
}

impl Serialize for Row {
    /// The grouped columns (`date` as `day`), then `count`, `sum` and `mean`.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.values.len() + 3))?;
        for v in &self.values {
            match v {
                DimValue::Day(d) => {
                    map.serialize_entry("day", &d.format("%Y-%m-%d").to_string())?
                }
                DimValue::Device(d) => map.serialize_entry("device_type", d)?,
                DimValue::Category(c) => map.serialize_entry("category", c)?,
                DimValue::Client(c) => map.serialize_entry("client", c)?,
                DimValue::ClientGroup(g) => map.serialize_entry("client_group", g)?,
                DimValue::Valid(b) => map.serialize_entry("valid", b)?,
            }
        }
        map.serialize_entry("count", &self.count)?;
        map.serialize_entry("sum", &Exact(self.sum))?;
        map.serialize_entry("mean", &Exact(self.mean))?;
        map.end()
    }
}

struct Exact(Decimal);

impl Serialize for Exact {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        shared::input::serialize_decimal(&self.0, serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::{fold, Change, Dims};
    use crate::event::{DeviceType, Event, EventId};
    use chrono_tz::Tz;

    fn event(n: u32, device: Option<DeviceType>, client: i32, valid: bool, value: &str) -> Event {
        Event {
            id: EventId::parse(&format!("00000000-0000-4000-8000-{n:012}")).unwrap(),
            device_type: device,
            category: None,
            client,
            client_group: 1,
            timestamp: crate::event::parse_timestamp("2026-03-10T08:15:00Z").unwrap(),
            valid,
            value: Decimal::from_str_exact(value).unwrap(),
        }
    }

    fn report(events: &[Event], query: &str) -> Report {
        let pairs: Vec<(String, String)> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap();
                (k.to_owned(), v.replace('+', " "))
            })
            .collect();
        let q = ReportQuery::parse(&pairs).unwrap();
        let changes: Vec<Change> = events.iter().cloned().map(Change::Inserted).collect();
        compute(&q, fold(&changes, Tz::UTC))
    }

    #[test]
    fn rows_group_count_sum_and_mean_exactly() {
        let events = [
            event(1, Some(DeviceType::Mobile), 1, true, "0.1"),
            event(2, Some(DeviceType::Mobile), 2, true, "0.2"),
            event(3, None, 3, false, "1"),
        ];
        let r = report(&events, "group_by=date+device_type");
        assert_eq!(
            serde_json::to_string(&r.rows).unwrap(),
            r#"[{"day":"2026-03-10","device_type":null,"count":1,"sum":1,"mean":1},{"day":"2026-03-10","device_type":"mobile","count":2,"sum":0.3,"mean":0.15}]"#
        );
        let valid_only = report(&events, "group_by=&valid=true");
        assert_eq!(valid_only.rows.len(), 1);
        assert_eq!(valid_only.rows[0].count, 2);
        let invalid = report(&events, "group_by=device_type&valid=false");
        assert_eq!(invalid.rows[0].values, vec![DimValue::Device(None)]);
    }

    #[test]
    fn means_round_half_to_even() {
        let events = [
            event(1, None, 1, true, "0"),
            event(2, None, 1, true, "0.000001"),
        ];
        // (0.000000 + 0.000001) / 2 = 0.0000005: to even, 0.
        let r = report(&events, "group_by=client");
        assert_eq!(r.rows[0].mean, Decimal::ZERO);
        let three = [
            event(1, None, 1, true, "1"),
            event(2, None, 1, true, "1"),
            event(3, None, 1, true, "0"),
        ];
        assert_eq!(
            report(&three, "group_by=client").rows[0].mean.to_string(),
            "0.666667"
        );
    }

    #[test]
    fn order_by_then_grouped_columns_and_pages_neither_overlap_nor_skip() {
        let events: Vec<Event> = (0..7)
            .map(|i| event(i, None, (i % 4) as i32, true, "1"))
            .collect();
        let all = report(&events, "group_by=client&order_by=-count");
        let clients: Vec<_> = all.rows.iter().map(|r| (r.values[0], r.count)).collect();
        assert_eq!(
            clients,
            vec![
                (DimValue::Client(0), 2),
                (DimValue::Client(1), 2),
                (DimValue::Client(2), 2),
                (DimValue::Client(3), 1)
            ]
        );
        let first = report(&events, "group_by=client&order_by=-count&limit=3");
        assert_eq!((first.total_count, first.next_offset), (4, Some(3)));
        let second = report(&events, "group_by=client&order_by=-count&limit=3&offset=3");
        assert_eq!(second.next_offset, None);
        let paged: Vec<_> = first.rows.into_iter().chain(second.rows).collect();
        assert_eq!(paged, all.rows);
        assert!(report(&events, "group_by=client&offset=9").rows.is_empty());
    }

    #[test]
    fn cells_of_other_subsets_are_ignored() {
        let events = [event(1, None, 1, true, "2")];
        let r = report(&events, "group_by=");
        assert_eq!(r.rows.len(), 1);
        assert_eq!(
            r.rows[0].count, 1,
            "only the cell of the empty subset counts"
        );
        assert_eq!(
            Dims::NONE,
            ReportQuery::parse(&[("group_by".into(), "".into())])
                .unwrap()
                .cells()
        );
    }
}
