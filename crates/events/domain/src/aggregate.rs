//! Aggregate cells: for every subset of the six dimensions, one counter (count and exact
//! sum) per distinct combination of its values. Every event adds to one cell of each of the
//! 64 subsets, so any report (grouped and filtered columns, with the day when dates are used)
//! is read from the cells of exactly one subset, in as many items as it has combinations.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use std::collections::BTreeMap;

use crate::event::{DeviceType, Event};

/// The six dimensions, in the order of the contract's `group_by` list (which is also the
/// order ties are broken in and the order of a cell's key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dim {
    Date,
    DeviceType,
    Category,
    Client,
    ClientGroup,
    Valid,
}

impl Dim {
    pub const ALL: [Dim; 6] = [
        Dim::Date,
        Dim::DeviceType,
        Dim::Category,
        Dim::Client,
        Dim::ClientGroup,
        Dim::Valid,
    ];

    pub fn parse(s: &str) -> Option<Dim> {
        Dim::ALL.into_iter().find(|d| d.name() == s)
    }

    /// As `group_by` names it.
    pub fn name(self) -> &'static str {
        match self {
            Dim::Date => "date",
            Dim::DeviceType => "device_type",
            Dim::Category => "category",
            Dim::Client => "client",
            Dim::ClientGroup => "client_group",
            Dim::Valid => "valid",
        }
    }

    /// As a report row names it (`date` is shown as `day`).
    pub fn column(self) -> &'static str {
        match self {
            Dim::Date => "day",
            other => other.name(),
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A subset of the dimensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Dims(u8);

impl Dims {
    pub const NONE: Dims = Dims(0);
    pub const ALL: Dims = Dims(0b11_1111);

    pub fn of(dims: impl IntoIterator<Item = Dim>) -> Dims {
        Dims(dims.into_iter().fold(0, |m, d| m | d.bit()))
    }

    pub fn contains(self, d: Dim) -> bool {
        self.0 & d.bit() != 0
    }

    pub fn with(self, d: Dim) -> Dims {
        Dims(self.0 | d.bit())
    }

    /// The dimensions in the subset, in their order.
    pub fn iter(self) -> impl Iterator<Item = Dim> {
        Dim::ALL.into_iter().filter(move |d| self.contains(*d))
    }

    /// Every subset: the cells an event adds to.
    pub fn every() -> impl Iterator<Item = Dims> {
        (0..=Dims::ALL.0).map(Dims)
    }

    /// A stable name for the subset, for keys: its bits as two hex digits.
    pub fn code(self) -> String {
        format!("{:02x}", self.0)
    }

    pub fn from_code(s: &str) -> Option<Dims> {
        u8::from_str_radix(s, 16)
            .ok()
            .filter(|m| *m <= Dims::ALL.0)
            .map(Dims)
    }
}

/// One dimension's value in a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DimValue {
    /// A calendar day in the report time zone.
    Day(NaiveDate),
    /// `None` (null) sorts first, then alphabetically.
    Device(Option<DeviceType>),
    Category(Option<i32>),
    Client(i32),
    ClientGroup(i32),
    /// `false` before `true`.
    Valid(bool),
}

impl DimValue {
    pub fn of(event: &Event, dim: Dim, tz: Tz) -> DimValue {
        match dim {
            Dim::Date => DimValue::Day(day_of(&event.timestamp, tz)),
            Dim::DeviceType => DimValue::Device(event.device_type),
            Dim::Category => DimValue::Category(event.category),
            Dim::Client => DimValue::Client(event.client),
            Dim::ClientGroup => DimValue::ClientGroup(event.client_group),
            Dim::Valid => DimValue::Valid(event.valid),
        }
    }

    fn encode(self) -> String {
        match self {
            DimValue::Day(d) => d.format("%Y-%m-%d").to_string(),
            DimValue::Device(None) | DimValue::Category(None) => "null".into(),
            DimValue::Device(Some(d)) => d.as_str().into(),
            DimValue::Category(Some(n)) | DimValue::Client(n) | DimValue::ClientGroup(n) => {
                n.to_string()
            }
            DimValue::Valid(b) => b.to_string(),
        }
    }

    fn decode(dim: Dim, s: &str) -> Option<DimValue> {
        let int = || s.parse::<i32>().ok();
        Some(match dim {
            Dim::Date => DimValue::Day(NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?),
            Dim::DeviceType if s == "null" => DimValue::Device(None),
            Dim::DeviceType => DimValue::Device(Some(DeviceType::parse(s)?)),
            Dim::Category if s == "null" => DimValue::Category(None),
            Dim::Category => DimValue::Category(Some(int()?)),
            Dim::Client => DimValue::Client(int()?),
            Dim::ClientGroup => DimValue::ClientGroup(int()?),
            Dim::Valid => DimValue::Valid(s.parse().ok()?),
        })
    }
}

/// The calendar day of an instant in `tz`.
pub fn day_of(t: &DateTime<Utc>, tz: Tz) -> NaiveDate {
    t.with_timezone(&tz).date_naive()
}

/// One combination of the values of one subset's dimensions.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cell {
    pub dims: Dims,
    /// One value per dimension of `dims`, in their order.
    pub values: Vec<DimValue>,
}

impl Cell {
    pub fn of(event: &Event, dims: Dims, tz: Tz) -> Cell {
        Cell {
            dims,
            values: dims.iter().map(|d| DimValue::of(event, d, tz)).collect(),
        }
    }

    /// The cell's key within its subset: its values in order, `#`-separated. The day comes
    /// first, so the cells of a date range are one key range.
    pub fn key(&self) -> String {
        let parts: Vec<String> = self.values.iter().map(|v| v.encode()).collect();
        format!("#{}", parts.join("#"))
    }

    pub fn from_key(dims: Dims, key: &str) -> Option<Cell> {
        let rest = key.strip_prefix('#')?;
        let parts: Vec<&str> = if rest.is_empty() {
            vec![]
        } else {
            rest.split('#').collect()
        };
        let list: Vec<Dim> = dims.iter().collect();
        if parts.len() != list.len() {
            return None;
        }
        let values = list
            .iter()
            .zip(parts)
            .map(|(d, p)| DimValue::decode(*d, p))
            .collect::<Option<Vec<_>>>()?;
        Some(Cell { dims, values })
    }

    /// This cell's value of `dim`, if its subset has it.
    pub fn value(&self, dim: Dim) -> Option<DimValue> {
        self.dims
            .iter()
            .position(|d| d == dim)
            .map(|i| self.values[i])
    }
}

/// What a cell's counters move by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Delta {
    pub count: i64,
    pub sum: Decimal,
}

/// A change the table's stream reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Inserted(Event),
    Removed(Event),
}

/// The deltas of a batch of changes: one per cell any of them touches, cells whose changes
/// cancel out left out.
pub fn fold(changes: &[Change], tz: Tz) -> BTreeMap<Cell, Delta> {
    let mut deltas: BTreeMap<Cell, Delta> = BTreeMap::new();
    for change in changes {
        let (event, sign) = match change {
            Change::Inserted(e) => (e, 1),
            Change::Removed(e) => (e, -1),
        };
        for dims in Dims::every() {
            let d = deltas.entry(Cell::of(event, dims, tz)).or_default();
            d.count += sign;
            d.sum += Decimal::from(sign) * event.value;
        }
    }
    deltas.retain(|_, d| d.count != 0 || !d.sum.is_zero());
    deltas
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::EventId;

    fn event(ts: &str, value: &str) -> Event {
        Event {
            id: EventId::parse("00000000-0000-4000-8000-000000000001").unwrap(),
            device_type: None,
            category: Some(-3),
            client: 7,
            client_group: 2,
            timestamp: crate::event::parse_timestamp(ts).unwrap(),
            valid: false,
            value: Decimal::from_str_exact(value).unwrap(),
        }
    }

    #[test]
    fn keys_round_trip_for_every_subset() {
        let e = event("2026-03-10T23:30:00Z", "1.5");
        for dims in Dims::every() {
            let cell = Cell::of(&e, dims, Tz::UTC);
            assert_eq!(
                Cell::from_key(dims, &cell.key()),
                Some(cell.clone()),
                "{dims:?}"
            );
            assert_eq!(Dims::from_code(&dims.code()), Some(dims));
        }
        let all = Cell::of(&e, Dims::ALL, Tz::UTC);
        assert_eq!(all.key(), "#2026-03-10#null#-3#7#2#false");
        assert_eq!(Cell::of(&e, Dims::NONE, Tz::UTC).key(), "#");
    }

    #[test]
    fn days_are_calendar_days_of_the_report_time_zone() {
        let e = event("2026-03-10T23:30:00Z", "1");
        let tz: Tz = "America/Mexico_City".parse().unwrap();
        let cell = Cell::of(&e, Dims::of([Dim::Date]), tz);
        assert_eq!(cell.key(), "#2026-03-10");
        let tokyo: Tz = "Asia/Tokyo".parse().unwrap();
        assert_eq!(
            Cell::of(&e, Dims::of([Dim::Date]), tokyo).key(),
            "#2026-03-11"
        );
    }

    #[test]
    fn a_batch_folds_into_one_delta_per_cell_and_cancelling_changes_vanish() {
        let a = event("2026-03-10T08:00:00Z", "0.1");
        let b = event("2026-03-10T09:00:00Z", "0.2");
        let deltas = fold(&[Change::Inserted(a.clone()), Change::Inserted(b)], Tz::UTC);
        assert_eq!(deltas.len(), 64, "both events share every cell");
        let total = deltas[&Cell::of(&a, Dims::NONE, Tz::UTC)];
        assert_eq!((total.count, total.sum.to_string()), (2, "0.3".into()));
        let none = fold(&[Change::Inserted(a.clone()), Change::Removed(a)], Tz::UTC);
        assert!(none.is_empty());
    }
}
