//! Orders as they arrive, and as they stand in the ledger once accepted.

use serde::Serialize;

use crate::money::{Amount, IssuerName, Price, Shares};
use shared::Field;

/// Two accepted orders with the same key must lie at least this far apart (seconds).
pub const DEDUP_WINDOW_SECS: i64 = 300;
/// How far into the future of the server's clock a timestamp may lie (seconds).
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum Operation {
    #[serde(rename = "BUY")]
    Buy,
    #[serde(rename = "SELL")]
    Sell,
}

impl Operation {
    pub fn parse(field: &Field) -> Option<Operation> {
        match field {
            Field::Text(s) => Operation::from_wire(s),
            _ => None,
        }
    }

    pub fn from_wire(s: &str) -> Option<Operation> {
        match s {
            "BUY" => Some(Operation::Buy),
            "SELL" => Some(Operation::Sell),
            _ => None,
        }
    }

    pub fn as_wire(self) -> &'static str {
        match self {
            Operation::Buy => "BUY",
            Operation::Sell => "SELL",
        }
    }
}

/// A well-formed order. Constructing one proves every field is in range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub timestamp: i64,
    pub operation: Operation,
    pub issuer: IssuerName,
    pub shares: Shares,
    pub price: Price,
}

impl Order {
    /// Reads an order from its body fields; `None` is the `INVALID_OPERATION` case.
    /// `now` is the server's Unix time in seconds.
    pub fn parse(field: impl Fn(&str) -> Field, now: i64) -> Option<Order> {
        let timestamp = field("timestamp").as_integer()?;
        if timestamp < 0 || timestamp > now.saturating_add(MAX_CLOCK_SKEW_SECS) {
            return None;
        }
        Some(Order {
            timestamp,
            operation: Operation::parse(&field("operation"))?,
            issuer: IssuerName::parse(&field("issuer_name"))?,
            shares: Shares::parse(&field("total_shares"))?,
            price: Price::parse(&field("share_price"))?,
        })
    }

    pub fn amount(&self) -> Amount {
        Amount::of(self.shares, self.price)
    }

    pub fn dedup_key(&self) -> DedupKey {
        DedupKey {
            operation: self.operation,
            issuer: self.issuer.clone(),
            shares: self.shares,
        }
    }
}

/// What makes two orders "the same" for the duplicate rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DedupKey {
    pub operation: Operation,
    pub issuer: IssuerName,
    pub shares: Shares,
}

impl DedupKey {
    /// The window bucket of a timestamp. Accepted orders of one key are at least a window
    /// apart, so a bucket holds at most one, and any order within the window of `t` lies in
    /// bucket(t) - 1, bucket(t) or bucket(t) + 1.
    pub fn bucket(timestamp: i64) -> i64 {
        timestamp.div_euclid(DEDUP_WINDOW_SECS)
    }

    pub fn within_window(a: i64, b: i64) -> bool {
        (a - b).abs() < DEDUP_WINDOW_SECS
    }
}

/// An accepted order, as the ledger lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LedgerEntry {
    pub id: String,
    pub timestamp: i64,
    pub operation: Operation,
    pub issuer_name: IssuerName,
    pub total_shares: Shares,
    pub share_price: Price,
    pub amount: Amount,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const NOW: i64 = 1_700_000_000;

    fn body(pairs: &[(&str, Field)]) -> impl Fn(&str) -> Field {
        let map: HashMap<String, Field> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        move |k| map.get(k).cloned().unwrap_or(Field::Missing)
    }

    fn valid() -> Vec<(&'static str, Field)> {
        vec![
            ("timestamp", Field::Number("1571325625".into())),
            ("operation", Field::Text("BUY".into())),
            ("issuer_name", Field::Text("AAPL".into())),
            ("total_shares", Field::Number("2".into())),
            ("share_price", Field::Number("50".into())),
        ]
    }

    fn with(key: &str, value: Field) -> Vec<(&'static str, Field)> {
        valid()
            .into_iter()
            .map(|(k, v)| if k == key { (k, value.clone()) } else { (k, v) })
            .collect()
    }

    #[test]
    fn a_valid_order_parses() {
        let order = Order::parse(body(&valid()), NOW).unwrap();
        assert_eq!(order.timestamp, 1571325625);
        assert_eq!(order.operation, Operation::Buy);
        assert_eq!(order.amount().value().to_string(), "100");
    }

    #[test]
    fn each_bad_field_makes_the_order_invalid() {
        let bad = [
            ("timestamp", Field::Missing),
            ("timestamp", Field::Text("1571325625".into())),
            ("timestamp", Field::Number("-1".into())),
            ("timestamp", Field::Number("1.5".into())),
            ("timestamp", Field::Number((NOW + 301).to_string())),
            ("operation", Field::Text("buy".into())),
            ("operation", Field::Text("HOLD".into())),
            ("operation", Field::Null),
            ("issuer_name", Field::Text("aapl".into())),
            ("issuer_name", Field::Number("1".into())),
            ("total_shares", Field::Number("0".into())),
            ("total_shares", Field::Number("2.5".into())),
            ("share_price", Field::Number("0".into())),
            ("share_price", Field::Other),
        ];
        for (key, value) in bad {
            assert!(
                Order::parse(body(&with(key, value.clone())), NOW).is_none(),
                "{key}={value:?}"
            );
        }
    }

    #[test]
    fn a_timestamp_up_to_five_minutes_ahead_is_allowed() {
        let ok = with("timestamp", Field::Number((NOW + 300).to_string()));
        assert!(Order::parse(body(&ok), NOW).is_some());
    }

    #[test]
    fn buckets_cover_the_window_from_both_sides() {
        for t in [0, 1, 299, 300, 301, 599, 1_571_325_625] {
            for other in [t - 299, t - 1, t, t + 1, t + 299] {
                let d = DedupKey::bucket(other) - DedupKey::bucket(t);
                assert!((-1..=1).contains(&d), "{t} {other}");
            }
        }
    }
}
