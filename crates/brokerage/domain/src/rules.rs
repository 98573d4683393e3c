//! The five business rules. A violation is a value, not an error.

use serde::Serialize;

use crate::account::Account;
use crate::order::{DedupKey, Operation, Order};
use shared::MarketHours;

/// In the order the response lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BusinessError {
    InvalidOperation,
    ClosedMarket,
    DuplicatedOperation,
    InsufficientBalance,
    InsufficientStocks,
}

impl BusinessError {
    /// The code as it appears in `business_errors`.
    pub fn code(self) -> &'static str {
        match self {
            BusinessError::InvalidOperation => "INVALID_OPERATION",
            BusinessError::ClosedMarket => "CLOSED_MARKET",
            BusinessError::DuplicatedOperation => "DUPLICATED_OPERATION",
            BusinessError::InsufficientBalance => "INSUFFICIENT_BALANCE",
            BusinessError::InsufficientStocks => "INSUFFICIENT_STOCKS",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The state the order produces.
    Accept(Account),
    /// Every rule the order breaks, in the order of `BusinessError`.
    Reject(Vec<BusinessError>),
}

/// Judges a well-formed order against an account and the timestamps of the accepted orders
/// with the same `DedupKey` near it (any others are ignored).
pub fn evaluate(
    order: &Order,
    account: &Account,
    same_key_accepted: &[i64],
    market: &MarketHours,
) -> Decision {
    let mut errors = Vec::new();
    if !market.is_open(order.timestamp) {
        errors.push(BusinessError::ClosedMarket);
    }
    if same_key_accepted
        .iter()
        .any(|&t| DedupKey::within_window(t, order.timestamp))
    {
        errors.push(BusinessError::DuplicatedOperation);
    }
    let next = account.apply(order);
    if next.is_none() {
        errors.push(match order.operation {
            Operation::Buy if !account.cash.covers(order.amount()) => {
                BusinessError::InsufficientBalance
            }
            Operation::Buy => BusinessError::InvalidOperation, // would pass the share ceiling
            Operation::Sell if account.shares_of(&order.issuer) < order.shares.get() => {
                BusinessError::InsufficientStocks
            }
            Operation::Sell => BusinessError::InvalidOperation, // would pass the cash ceiling
        });
    }
    match next {
        Some(next) if errors.is_empty() => Decision::Accept(next),
        _ => {
            if errors.contains(&BusinessError::InvalidOperation) {
                errors = vec![BusinessError::InvalidOperation];
            }
            Decision::Reject(errors)
        }
    }
}
