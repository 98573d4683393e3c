//! A JSON value as the edge hands it over: numbers keep their exact source text, so no
//! amount ever passes through a binary float.

/// One field of a request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Missing,
    Null,
    /// A JSON number, as written by the client (e.g. `"1000.50"`, `"1e3"`).
    Number(String),
    Text(String),
    /// A boolean, array or object.
    Other,
}

impl Field {
    /// A JSON number as an exact decimal; `None` for anything else or out of `Decimal` range.
    pub fn as_decimal(&self) -> Option<rust_decimal::Decimal> {
        let Field::Number(text) = self else {
            return None;
        };
        let parsed = if text.contains(['e', 'E']) {
            rust_decimal::Decimal::from_scientific(text).ok()
        } else {
            text.parse().ok()
        };
        parsed.map(|d: rust_decimal::Decimal| d.normalize())
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
        assert_eq!(Field::Text("1".into()).as_decimal(), None);
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
