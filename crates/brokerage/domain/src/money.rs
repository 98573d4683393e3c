//! Exact amounts: cash, prices, share counts and tickers, each valid by construction.

use rust_decimal::Decimal;
use serde::{Serialize, Serializer};
use std::fmt;

use shared::Field;

/// Account cash is capped well inside `Decimal`'s 28 digits, so that cash plus the largest
/// order amount (shares < 10^12 × price < 10^9, 6 decimals) is still computed exactly.
const MAX_CASH: Decimal = Decimal::from_parts(0xA764_0000, 0x0DE0_B6B3, 0, false, 0); // 10^18
const MAX_INITIAL_CASH: i64 = 1_000_000_000_000; // 10^12, exclusive
const MAX_PRICE: i64 = 1_000_000_000; // 10^9, exclusive
const MAX_SHARES: u64 = 1_000_000_000_000; // 10^12, exclusive
const CASH_SCALE: u32 = 2;
const PRICE_SCALE: u32 = 6;

/// Cash held by an account. Never negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Cash(Decimal);

/// A positive share price with at most 6 decimal places, below 10^9.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Price(Decimal);

/// The value of an order: shares × price, exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Amount(Decimal);

/// A positive whole number of shares, below 10^12.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Shares(u64);

/// A ticker: 1 to 12 characters of `A-Z`, `0-9`, `.` and `-`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IssuerName(String);

/// Why an opening cash amount was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CashError {
    #[error("is required")]
    Missing,
    #[error("must be a JSON number")]
    NotANumber,
    #[error("must not be negative")]
    Negative,
    #[error("must have at most 2 decimal places")]
    TooPrecise,
    #[error("must be below 10^12")]
    TooLarge,
    #[error("must be a number from 0 to below 10^12 with at most 2 decimal places")]
    OutOfRange,
}

impl Cash {
    pub const ZERO: Cash = Cash(Decimal::ZERO);

    /// Opening cash from a request field: a JSON number, >= 0, at most 2 decimals, < 10^12.
    pub fn parse(field: &Field) -> Result<Cash, CashError> {
        let value = match field {
            Field::Missing | Field::Null => return Err(CashError::Missing),
            Field::Number(_) => field.as_decimal().ok_or(CashError::OutOfRange)?,
            Field::Text(_) | Field::Bool(_) | Field::Other => return Err(CashError::NotANumber),
        };
        if value.is_sign_negative() && !value.is_zero() {
            return Err(CashError::Negative);
        }
        if value.scale() > CASH_SCALE {
            return Err(CashError::TooPrecise);
        }
        if value >= Decimal::from(MAX_INITIAL_CASH) {
            return Err(CashError::TooLarge);
        }
        Ok(Cash(value.abs().normalize()))
    }

    /// A stored amount, trusted: it was validated when it was written.
    pub fn from_stored(value: Decimal) -> Cash {
        Cash(value.normalize())
    }

    pub fn value(self) -> Decimal {
        self.0
    }

    pub fn covers(self, amount: Amount) -> bool {
        self.0 >= amount.0
    }

    /// `None` when the result would pass the cash ceiling.
    pub fn plus(self, amount: Amount) -> Option<Cash> {
        let sum = self.0.checked_add(amount.0)?;
        (sum < MAX_CASH).then(|| Cash(sum.normalize()))
    }

    /// `None` when the amount is more than the cash.
    pub fn minus(self, amount: Amount) -> Option<Cash> {
        self.covers(amount)
            .then(|| Cash((self.0 - amount.0).normalize()))
    }
}

impl Price {
    pub fn parse(field: &Field) -> Option<Price> {
        let value = field.as_decimal()?;
        (value > Decimal::ZERO && value.scale() <= PRICE_SCALE && value < Decimal::from(MAX_PRICE))
            .then_some(Price(value))
    }

    pub fn from_stored(value: Decimal) -> Price {
        Price(value.normalize())
    }

    pub fn value(self) -> Decimal {
        self.0
    }
}

impl Amount {
    pub fn of(shares: Shares, price: Price) -> Amount {
        // Cannot overflow: < 10^21 with at most 6 decimals fits in 28 digits.
        Amount((Decimal::from(shares.0) * price.0).normalize())
    }

    pub fn value(self) -> Decimal {
        self.0
    }
}

impl Shares {
    pub fn parse(field: &Field) -> Option<Shares> {
        let n = u64::try_from(field.as_integer()?).ok()?;
        Shares::new(n)
    }

    pub fn new(n: u64) -> Option<Shares> {
        (n > 0 && n < MAX_SHARES).then_some(Shares(n))
    }

    pub fn get(self) -> u64 {
        self.0
    }
}

impl IssuerName {
    pub fn parse(field: &Field) -> Option<IssuerName> {
        let Field::Text(s) = field else { return None };
        IssuerName::new(s)
    }

    pub fn new(s: &str) -> Option<IssuerName> {
        let valid = (1..=12).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
        valid.then(|| IssuerName(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IssuerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub use shared::input::serialize_decimal;

macro_rules! decimal_json {
    ($($t:ty),*) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serialize_decimal(&self.0, serializer)
            }
        }
    )*};
}
decimal_json!(Cash, Price, Amount);

impl Serialize for Shares {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(self.0)
    }
}

impl Serialize for IssuerName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(s: &str) -> Field {
        Field::Number(s.into())
    }

    #[test]
    fn max_cash_constant_is_ten_to_the_eighteenth() {
        assert_eq!(MAX_CASH, Decimal::from(1_000_000_000_000_000_000_i64));
    }

    #[test]
    fn opening_cash_accepts_two_decimals_and_zero() {
        assert_eq!(
            Cash::parse(&num("1000.50")).unwrap().value().to_string(),
            "1000.5"
        );
        assert_eq!(Cash::parse(&num("0")).unwrap(), Cash::ZERO);
        assert_eq!(Cash::parse(&num("-0")).unwrap(), Cash::ZERO);
        assert_eq!(
            Cash::parse(&num("10.500")).unwrap().value().to_string(),
            "10.5"
        );
        assert_eq!(
            Cash::parse(&num("999999999999.99"))
                .unwrap()
                .value()
                .to_string(),
            "999999999999.99"
        );
    }

    #[test]
    fn opening_cash_refuses_what_the_spec_lists() {
        assert_eq!(Cash::parse(&Field::Missing), Err(CashError::Missing));
        assert_eq!(Cash::parse(&Field::Null), Err(CashError::Missing));
        assert_eq!(
            Cash::parse(&Field::Text("10".into())),
            Err(CashError::NotANumber)
        );
        assert_eq!(Cash::parse(&Field::Other), Err(CashError::NotANumber));
        assert_eq!(Cash::parse(&num("-1")), Err(CashError::Negative));
        assert_eq!(Cash::parse(&num("1.001")), Err(CashError::TooPrecise));
        assert_eq!(Cash::parse(&num("1000000000000")), Err(CashError::TooLarge));
        assert_eq!(Cash::parse(&num("1e400")), Err(CashError::OutOfRange));
        assert_eq!(Cash::parse(&num("1e-400")), Err(CashError::OutOfRange));
    }

    #[test]
    fn prices_allow_six_decimals_and_must_be_positive() {
        assert!(Price::parse(&num("0.000001")).is_some());
        assert!(Price::parse(&num("0.0000001")).is_none());
        assert!(Price::parse(&num("0")).is_none());
        assert!(Price::parse(&num("-5")).is_none());
        assert!(Price::parse(&num("999999999.999999")).is_some());
        assert!(Price::parse(&num("1000000000")).is_none());
        assert!(Price::parse(&Field::Text("5".into())).is_none());
    }

    #[test]
    fn shares_are_positive_whole_numbers() {
        assert_eq!(Shares::parse(&num("2")).unwrap().get(), 2);
        assert!(Shares::parse(&num("0")).is_none());
        assert!(Shares::parse(&num("-1")).is_none());
        assert!(Shares::parse(&num("1.5")).is_none());
        assert!(Shares::parse(&num("1000000000000")).is_none());
    }

    #[test]
    fn tickers_follow_the_alphabet_and_length() {
        for ok in ["AAPL", "BRK.B", "RDS-A", "A", "ABCDEFGHIJKL", "123"] {
            assert!(IssuerName::new(ok).is_some(), "{ok}");
        }
        for bad in ["", "aapl", "ABCDEFGHIJKLM", "AA PL", "ÄAPL", "AAPL\n"] {
            assert!(IssuerName::new(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn amounts_are_exact() {
        let p = Price::parse(&num("0.1")).unwrap();
        let a = Amount::of(Shares::new(3).unwrap(), p);
        assert_eq!(a.value().to_string(), "0.3");
        let cash = Cash::parse(&num("1000.50")).unwrap();
        let all = Amount::of(
            Shares::new(1).unwrap(),
            Price::parse(&num("1000.50")).unwrap(),
        );
        assert_eq!(cash.minus(all), Some(Cash::ZERO));
    }

    #[test]
    fn json_numbers_have_no_trailing_zeros() {
        let cash = Cash::from_stored(Decimal::new(90000, 2));
        assert_eq!(serde_json::to_string(&cash).unwrap(), "900");
        let sum = Cash::from_stored(Decimal::new(1, 1) + Decimal::new(2, 1));
        assert_eq!(serde_json::to_string(&sum).unwrap(), "0.3");
    }
}
