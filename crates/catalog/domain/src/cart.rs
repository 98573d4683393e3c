//! Exact cart totals.

use rust_decimal::Decimal;

/// `unitPrice × quantity`, or `None` without a unit price (an unknown product).
pub fn line_total(unit_price: Option<Decimal>, quantity: u32) -> Option<Decimal> {
    unit_price?.checked_mul(Decimal::from(quantity))
}

/// The sum of the line totals, exact; `None` if any line's is.
pub fn total(line_totals: &[Option<Decimal>]) -> Option<Decimal> {
    line_totals
        .iter()
        .try_fold(Decimal::ZERO, |sum, line| sum.checked_add((*line)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn totals_are_exact_and_unknown_when_a_line_is() {
        let lines = [line_total(Some(d("0.1")), 3), line_total(Some(d("0.2")), 1)];
        assert_eq!(lines[0], Some(d("0.3")));
        assert_eq!(total(&lines), Some(d("0.5")));
        assert_eq!(total(&[Some(d("0.1")), None]), None);
        assert_eq!(total(&[]), Some(Decimal::ZERO));
    }
}
