//! A JSON value as the edge hands it over: numbers keep their exact source text, so no
//! amount ever passes through a binary float.

use rust_decimal::Decimal;
use serde::{Serialize, Serializer};

/// A JSON number's exact value, or `None` if `Decimal` cannot hold it without rounding
/// (more than 28 significant digits, or too large or too small).
fn exact_decimal(text: &str) -> Option<Decimal> {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], text[i + 1..].parse::<i32>().ok()?),
        None => (text, 0),
    };
    let mut d = Decimal::from_str_exact(mantissa).ok()?;
    if d.is_zero() {
        return Some(Decimal::ZERO);
    }
    d = d.normalize();
    if exponent < 0 {
        let scale = d.scale().checked_add(exponent.unsigned_abs())?;
        d.set_scale(scale).ok()?;
    } else {
        // Beyond 10^28 nothing fits; the bound also keeps the loop short.
        if exponent > 28 {
            return None;
        }
        for _ in 0..exponent {
            if d.scale() > 0 {
                d.set_scale(d.scale() - 1).ok()?;
            } else {
                d = d.checked_mul(Decimal::TEN)?;
            }
        }
    }
    Some(d)
}

/// One field of a request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Missing,
    Null,
    /// A JSON number, as written by the client (e.g. `"1000.50"`, `"1e3"`).
    Number(String),
    Text(String),
    Bool(bool),
    /// An array or object.
    Other,
}

impl Field {
    /// A JSON number as an exact decimal; `None` for anything else or out of `Decimal` range.
    pub fn as_decimal(&self) -> Option<Decimal> {
        let Field::Number(text) = self else {
            return None;
        };
        exact_decimal(text).map(|d| d.normalize())
    }

    /// A JSON number with an integral value (`2` or `2.0`), as `i64`.
    pub fn as_integer(&self) -> Option<i64> {
        use rust_decimal::prelude::ToPrimitive;
        let d = self.as_decimal()?;
        if d.fract().is_zero() {
            d.to_i64()
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_their_exact_value() {
        assert_eq!(
            Field::Number("0.1".into())
                .as_decimal()
                .unwrap()
                .to_string(),
            "0.1"
        );
        assert_eq!(
            Field::Number("1e3".into())
                .as_decimal()
                .unwrap()
                .to_string(),
            "1000"
        );
        assert_eq!(
            Field::Number("1000.50".into())
                .as_decimal()
                .unwrap()
                .to_string(),
            "1000.5"
        );
        assert_eq!(Field::Number("1e400".into()).as_decimal(), None);
        assert_eq!(Field::Number("1e-400".into()).as_decimal(), None);
        assert_eq!(
            Field::Number("0e999999999".into())
                .as_decimal()
                .unwrap()
                .to_string(),
            "0"
        );
        assert_eq!(
            Field::Number("15E-1".into())
                .as_decimal()
                .unwrap()
                .to_string(),
            "1.5"
        );
        assert_eq!(
            Field::Number("1.25e2".into())
                .as_decimal()
                .unwrap()
                .to_string(),
            "125"
        );
        assert_eq!(
            Field::Number("-2.5e+1".into())
                .as_decimal()
                .unwrap()
                .to_string(),
            "-25"
        );
        assert_eq!(Field::Text("1".into()).as_decimal(), None);
    }

    #[test]
    fn digits_beyond_decimal_precision_are_refused_not_rounded() {
        // 31 significant digits: rounding would turn this into a valid price of 1.
        assert_eq!(
            Field::Number("1.000000000000000000000000000001".into()).as_decimal(),
            None
        );
        assert_eq!(
            Field::Number("1.000000000000000000000000000001e0".into()).as_decimal(),
            None
        );
        assert_eq!(Field::Number("9".repeat(40)).as_decimal(), None);
    }

    #[test]
    fn integers_accept_integral_values_only() {
        assert_eq!(Field::Number("2.0".into()).as_integer(), Some(2));
        assert_eq!(Field::Number("2.5".into()).as_integer(), None);
        assert_eq!(
            Field::Number("99999999999999999999".into()).as_integer(),
            None
        );
    }
}

/// Why a body is not a JSON object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("the body is not valid JSON: {0}")]
    Malformed(String),
    #[error("the body must be a JSON object")]
    NotAnObject,
}

/// The top-level members of a JSON object body, numbers kept as their source text.
pub struct Fields(std::collections::HashMap<String, Box<serde_json::value::RawValue>>);

impl Fields {
    /// Parses a body that must be one JSON object.
    pub fn parse(bytes: &[u8]) -> Result<Fields, BodyError> {
        let raw: &serde_json::value::RawValue =
            serde_json::from_slice(bytes).map_err(|e| BodyError::Malformed(e.to_string()))?;
        if !raw.get().starts_with('{') {
            return Err(BodyError::NotAnObject);
        }
        let map =
            serde_json::from_str(raw.get()).map_err(|e| BodyError::Malformed(e.to_string()))?;
        Ok(Fields(map))
    }

    /// The names of the object's members, to refuse those a route does not know.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    pub fn get(&self, name: &str) -> Field {
        match self.0.get(name) {
            Some(raw) => Field::of(raw),
            None => Field::Missing,
        }
    }

    /// A member as its raw JSON text, for a nested array or object to be read in turn.
    pub fn raw(&self, name: &str) -> Option<&serde_json::value::RawValue> {
        self.0.get(name).map(|r| &**r)
    }
}

impl Field {
    /// What one raw JSON value is, numbers kept as their source text.
    pub fn of(raw: &serde_json::value::RawValue) -> Field {
        let text = raw.get();
        match text.as_bytes().first() {
            Some(b'"') => serde_json::from_str(text).map_or(Field::Other, Field::Text),
            Some(b'-' | b'0'..=b'9') => Field::Number(text.to_owned()),
            Some(b'n') => Field::Null,
            Some(b't') => Field::Bool(true),
            Some(b'f') => Field::Bool(false),
            _ => Field::Other,
        }
    }
}

/// Writes a decimal as a JSON number with no trailing zeros (`900`, `0.3`), never via `f64`.
pub fn serialize_decimal<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    let raw = serde_json::value::RawValue::from_string(value.normalize().to_string())
        .map_err(serde::ser::Error::custom)?;
    raw.serialize(serializer)
}
