//! An analytics event: parsed from a request body field by field, and answered back with
//! its timestamp in UTC and its value exact.

use chrono::{DateTime, Datelike, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde::{Serialize, Serializer};
use shared::{Field, Fields};
use std::fmt;

/// A UUID in its 8-4-4-4-12 hex form, kept lowercase.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct EventId(String);

impl EventId {
    /// Any case in, lowercase kept; any other shape is `None`.
    pub fn parse(s: &str) -> Option<EventId> {
        let groups: Vec<&str> = s.split('-').collect();
        let lengths = [8, 4, 4, 4, 12];
        let ok = groups.len() == lengths.len()
            && groups
                .iter()
                .zip(lengths)
                .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()));
        ok.then(|| EventId(s.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceType {
    Desktop,
    Mobile,
    Tablet,
}

impl DeviceType {
    pub fn parse(s: &str) -> Option<DeviceType> {
        match s {
            "desktop" => Some(DeviceType::Desktop),
            "mobile" => Some(DeviceType::Mobile),
            "tablet" => Some(DeviceType::Tablet),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DeviceType::Desktop => "desktop",
            DeviceType::Mobile => "mobile",
            DeviceType::Tablet => "tablet",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    pub id: EventId,
    pub device_type: Option<DeviceType>,
    pub category: Option<i32>,
    pub client: i32,
    pub client_group: i32,
    #[serde(serialize_with = "rfc3339_utc")]
    pub timestamp: DateTime<Utc>,
    pub valid: bool,
    #[serde(serialize_with = "shared::input::serialize_decimal")]
    pub value: Decimal,
}

/// Why a body is not an event: the field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{field}` {reason}")]
pub struct EventError {
    pub field: String,
    pub reason: &'static str,
}

const FIELDS: [&str; 8] = [
    "id",
    "device_type",
    "category",
    "client",
    "client_group",
    "timestamp",
    "valid",
    "value",
];

/// Values are below 10^12 in absolute value, with at most 6 decimals.
const VALUE_BOUND: i64 = 1_000_000_000_000;
const VALUE_DECIMALS: u32 = 6;

impl Event {
    /// The event a body describes; `new_id` names it when the body has no `id`. The first
    /// field found wrong, in the order of the contract's table, is the one refused (an unknown
    /// field before any).
    pub fn parse(fields: &Fields, new_id: impl FnOnce() -> EventId) -> Result<Event, EventError> {
        let bad = |field: &str, reason| EventError {
            field: field.to_owned(),
            reason,
        };
        let mut unknown: Vec<&str> = fields.names().filter(|n| !FIELDS.contains(n)).collect();
        unknown.sort_unstable();
        if let Some(name) = unknown.first() {
            return Err(bad(name, "is not a field of an event"));
        }
        let id = match fields.get("id") {
            Field::Missing => new_id(),
            Field::Text(s) => EventId::parse(&s).ok_or(bad("id", "must be a UUID"))?,
            _ => return Err(bad("id", "must be a UUID")),
        };
        let device_type = match fields.get("device_type") {
            Field::Missing | Field::Null => None,
            Field::Text(s) => Some(DeviceType::parse(&s).ok_or(bad(
                "device_type",
                "must be \"desktop\", \"mobile\", \"tablet\" or null",
            ))?),
            _ => {
                return Err(bad(
                    "device_type",
                    "must be \"desktop\", \"mobile\", \"tablet\" or null",
                ))
            }
        };
        let category = match fields.get("category") {
            Field::Missing | Field::Null => None,
            f => Some(int32(&f).ok_or(bad("category", "must be a 32-bit integer or null"))?),
        };
        let required_int = |name: &'static str| match fields.get(name) {
            Field::Missing => Err(bad(name, "is required")),
            f => int32(&f).ok_or(bad(name, "must be a 32-bit integer")),
        };
        let client = required_int("client")?;
        let client_group = required_int("client_group")?;
        let timestamp = match fields.get("timestamp") {
            Field::Missing => return Err(bad("timestamp", "is required")),
            Field::Text(s) => parse_timestamp(&s).ok_or(bad(
                "timestamp",
                "must be RFC 3339 with an offset, at most 6 fraction digits, years 1970 to 9999",
            ))?,
            _ => return Err(bad("timestamp", "must be an RFC 3339 string")),
        };
        let valid = match fields.get("valid") {
            Field::Missing => return Err(bad("valid", "is required")),
            Field::Bool(b) => b,
            _ => return Err(bad("valid", "must be true or false")),
        };
        let value = match fields.get("value") {
            Field::Missing => return Err(bad("value", "is required")),
            f => f
                .as_decimal()
                .filter(|v| v.scale() <= VALUE_DECIMALS && v.abs() < Decimal::from(VALUE_BOUND))
                .ok_or(bad(
                    "value",
                    "must be a number below 10^12 in absolute value, with at most 6 decimals",
                ))?,
        };
        Ok(Event {
            id,
            device_type,
            category,
            client,
            client_group,
            timestamp,
            valid,
            value,
        })
    }
}

/// A JSON number with an integral value (`14` or `14.0`) within `i32`; a string is not one.
fn int32(field: &Field) -> Option<i32> {
    field.as_integer().and_then(|n| i32::try_from(n).ok())
}

/// RFC 3339 with an offset, at most 6 fraction digits, in the years 1970 to 9999 (UTC).
pub fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    // chrono takes up to 9 fraction digits; more than 6 would be rounded away.
    if let Some(dot) = s.find('.') {
        let digits = s[dot + 1..].bytes().take_while(u8::is_ascii_digit).count();
        if digits > 6 {
            return None;
        }
    }
    let t = DateTime::parse_from_rfc3339(s).ok()?.with_timezone(&Utc);
    (1970..=9999).contains(&t.year()).then_some(t)
}

/// UTC with `Z`, the fraction only when it is not zero (in as few digits as it needs).
fn rfc3339_utc<S: Serializer>(t: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format_timestamp(t))
}

pub fn format_timestamp(t: &DateTime<Utc>) -> String {
    let text = t.to_rfc3339_opts(SecondsFormat::Micros, true);
    // `...:00.120000Z` -> `...:00.12Z`; `...:00.000000Z` -> `...:00Z`.
    let (body, _) = text.split_at(text.len() - 1);
    let trimmed = body.trim_end_matches('0').trim_end_matches('.');
    format!("{trimmed}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(json: &str) -> Fields {
        Fields::parse(json.as_bytes()).unwrap()
    }

    fn fixed() -> EventId {
        EventId::parse("00000000-0000-4000-8000-000000000000").unwrap()
    }

    const GOOD: &str = r#"{"id": "3F2B9C1E-7A4D-4C3E-9B1A-0D6F5E4C3B2A", "device_type": "mobile",
        "category": 512, "client": 731, "client_group": 14,
        "timestamp": "2026-03-10T09:15:00.120+01:00", "valid": true, "value": 42.170}"#;

    #[test]
    fn a_good_event_is_kept_exactly_and_answered_in_utc() {
        let e = Event::parse(&fields(GOOD), fixed).unwrap();
        assert_eq!(e.id.as_str(), "3f2b9c1e-7a4d-4c3e-9b1a-0d6f5e4c3b2a");
        assert_eq!(e.value.to_string(), "42.17");
        assert_eq!(
            serde_json::to_string(&e).unwrap(),
            r#"{"id":"3f2b9c1e-7a4d-4c3e-9b1a-0d6f5e4c3b2a","device_type":"mobile","category":512,"client":731,"client_group":14,"timestamp":"2026-03-10T08:15:00.12Z","valid":true,"value":42.17}"#
        );
    }

    #[test]
    fn absent_optional_fields_are_null_and_an_absent_id_is_made() {
        let e = Event::parse(
            &fields(r#"{"client": 1, "client_group": 2.0, "timestamp": "2026-03-10T08:15:00Z", "valid": false, "value": 0}"#),
            fixed,
        )
        .unwrap();
        assert_eq!((e.id, e.device_type, e.category), (fixed(), None, None));
        assert_eq!(e.client_group, 2);
        assert_eq!(format_timestamp(&e.timestamp), "2026-03-10T08:15:00Z");
    }

    #[test]
    fn each_wrong_field_is_named() {
        let cases = [
            (r#""_id": 1"#, "_id"),
            (r#""id": "3f2b9c1e7a4d4c3e9b1a0d6f5e4c3b2a""#, "id"),
            (r#""device_type": "phone""#, "device_type"),
            (r#""category": 2147483648"#, "category"),
            (r#""client": "731""#, "client"),
            (r#""client": 1.5"#, "client"),
            (r#""timestamp": "2026-03-10T08:15:00""#, "timestamp"),
            (
                r#""timestamp": "2026-03-10T08:15:00.1234567Z""#,
                "timestamp",
            ),
            (r#""timestamp": "1969-12-31T23:59:59Z""#, "timestamp"),
            (r#""valid": "true""#, "valid"),
            (r#""value": 1.0000001"#, "value"),
            (r#""value": 1000000000000"#, "value"),
            (r#""value": "1""#, "value"),
        ];
        for (patch, field) in cases {
            let mut v: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(GOOD).unwrap();
            let p: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&format!("{{{patch}}}")).unwrap();
            v.extend(p);
            let body = serde_json::to_string(&v).unwrap();
            let err = Event::parse(&fields(&body), fixed).unwrap_err();
            assert_eq!(err.field, field, "{patch}");
        }
        for missing in ["client", "client_group", "timestamp", "valid", "value"] {
            let mut v: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(GOOD).unwrap();
            v.remove(missing);
            let body = serde_json::to_string(&v).unwrap();
            assert_eq!(
                Event::parse(&fields(&body), fixed).unwrap_err().field,
                missing
            );
        }
    }
}
