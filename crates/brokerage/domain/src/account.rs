//! Accounts, holdings and the balance view clients see.

use serde::Serialize;
use std::collections::BTreeMap;

use crate::money::{Cash, IssuerName, Price};
use crate::order::{Operation, Order};
pub use shared::Owner;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct AccountId(pub u64);

impl AccountId {
    /// A path segment as an account id: a positive integer in canonical form.
    pub fn parse(s: &str) -> Option<AccountId> {
        if s.is_empty() || s.starts_with('0') || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok().map(AccountId)
    }
}

impl std::fmt::Display for AccountId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Shares held of one issuer and the price of the last accepted order for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holding {
    pub shares: u64,
    pub price: Price,
}

/// An account as stored. `version` counts accepted orders: it orders the ledger and lets a
/// write be conditioned on the exact state it was computed from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    /// The tenant that opened the account; no other sees it.
    pub owner: Owner,
    pub cash: Cash,
    pub holdings: BTreeMap<IssuerName, Holding>,
    pub version: u64,
}

impl Account {
    pub fn open(id: AccountId, owner: Owner, cash: Cash) -> Account {
        Account {
            id,
            owner,
            cash,
            holdings: BTreeMap::new(),
            version: 0,
        }
    }

    pub fn shares_of(&self, issuer: &IssuerName) -> u64 {
        self.holdings.get(issuer).map_or(0, |h| h.shares)
    }

    /// The state after an order, or `None` if it would overdraw cash or shares
    /// (or pass the cash ceiling).
    pub fn apply(&self, order: &Order) -> Option<Account> {
        let amount = order.amount();
        let held = self.shares_of(&order.issuer);
        let n = order.shares.get();
        let (cash, shares) = match order.operation {
            Operation::Buy => (self.cash.minus(amount)?, held.checked_add(n)?),
            Operation::Sell => (self.cash.plus(amount)?, held.checked_sub(n)?),
        };
        let mut next = self.clone();
        next.cash = cash;
        next.version += 1;
        if shares == 0 {
            next.holdings.remove(&order.issuer);
        } else {
            next.holdings.insert(
                order.issuer.clone(),
                Holding {
                    shares,
                    price: order.price,
                },
            );
        }
        Some(next)
    }

    pub fn balance(&self) -> Balance {
        Balance {
            cash: self.cash,
            issuers: self
                .holdings
                .iter()
                .map(|(name, h)| IssuerView {
                    issuer_name: name.clone(),
                    total_shares: h.shares,
                    share_price: h.price,
                })
                .collect(),
        }
    }

    pub fn view(&self) -> AccountView {
        let Balance { cash, issuers } = self.balance();
        AccountView {
            id: self.id,
            cash,
            issuers,
        }
    }
}

/// `current_balance` of an order response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Balance {
    pub cash: Cash,
    pub issuers: Vec<IssuerView>,
}

/// One entry of `issuers`, sorted by `issuer_name`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct IssuerView {
    pub issuer_name: IssuerName,
    pub total_shares: u64,
    pub share_price: Price,
}

/// The body of `POST /accounts` and `GET /accounts/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountView {
    pub id: AccountId,
    pub cash: Cash,
    pub issuers: Vec<IssuerView>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_are_canonical_positive_integers() {
        assert_eq!(AccountId::parse("42"), Some(AccountId(42)));
        for bad in [
            "",
            "0",
            "042",
            "-1",
            "1.0",
            "abc",
            "99999999999999999999999",
        ] {
            assert_eq!(AccountId::parse(bad), None, "{bad}");
        }
    }
}
