//! The brokerage's single-table layout: every key is built here, and every item is a typed
//! struct written and read through `serde_dynamo` (amounts as exact Numbers, through
//! `shared::dynamo::number`). See docs/data-model.md.

use aws_sdk_dynamodb::types::AttributeValue;
use brokerage_domain::{
    Account, AccountId, Amount, Cash, DedupKey, Holding, IssuerName, LedgerEntry, Operation, Order,
    Owner, Price, Shares,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use shared::dynamo::{self, from_item, to_item, to_value, Item, Malformed};
use std::collections::BTreeMap;

const ACCOUNT_SK: &str = "ACCOUNT";
const ORDER_PREFIX: &str = "ORDER#";

pub fn account_pk(id: AccountId) -> String {
    format!("ACCOUNT#{id}")
}

/// The item that hands out account ids.
pub fn counter_key() -> Item {
    dynamo::key("COUNTER", "ACCOUNT_ID")
}

pub fn account_key(id: AccountId) -> Item {
    dynamo::key(account_pk(id), ACCOUNT_SK)
}

/// Ledger entries sort by their sequence number: the account's version after the order.
pub fn order_sk(seq: u64) -> String {
    format!("{ORDER_PREFIX}{seq:020}")
}

pub fn order_prefix() -> &'static str {
    ORDER_PREFIX
}

pub fn order_key(id: AccountId, seq: u64) -> Item {
    dynamo::key(account_pk(id), order_sk(seq))
}

fn guard_sk(k: &DedupKey, bucket: i64) -> String {
    format!(
        "DEDUP#{}#{}#{}#{bucket}",
        k.operation.as_wire(),
        k.issuer,
        k.shares.get()
    )
}

/// The duplicate guard of one key in one window bucket (see `DedupKey::bucket`).
pub fn guard_key(id: AccountId, k: &DedupKey, bucket: i64) -> Item {
    dynamo::key(account_pk(id), guard_sk(k, bucket))
}

#[derive(Debug, Serialize, Deserialize)]
struct AccountItem {
    pk: String,
    sk: String,
    id: u64,
    owner: String,
    #[serde(with = "shared::dynamo::number")]
    cash: Decimal,
    holdings: BTreeMap<String, HoldingItem>,
    version: u64,
    /// Only on the item `open_account` writes; order commits update the other attributes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    created_at: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize)]
struct HoldingItem {
    shares: u64,
    #[serde(with = "shared::dynamo::number")]
    price: Decimal,
}

#[derive(Debug, Serialize, Deserialize)]
struct OrderItem {
    pk: String,
    sk: String,
    owner: String,
    seq: u64,
    timestamp: i64,
    operation: String,
    issuer_name: String,
    total_shares: u64,
    #[serde(with = "shared::dynamo::number")]
    share_price: Decimal,
    #[serde(with = "shared::dynamo::number")]
    amount: Decimal,
    accepted_at: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct GuardItem {
    pk: String,
    sk: String,
    /// The accepted order's timestamp.
    ts: i64,
}

/// Only what a ledger page needs to know of each item before decoding it.
#[derive(Debug, Deserialize)]
struct OwnedItem {
    owner: String,
}

#[derive(Debug, Deserialize)]
struct SeqItem {
    seq: u64,
}

/// The counter's attributes as `UpdatedNew` returns them.
#[derive(Debug, Deserialize)]
struct CounterValue {
    value: u64,
}

fn holdings_items(holdings: &BTreeMap<IssuerName, Holding>) -> BTreeMap<String, HoldingItem> {
    holdings
        .iter()
        .map(|(name, h)| {
            let item = HoldingItem {
                shares: h.shares,
                price: h.price.value().normalize(),
            };
            (name.to_string(), item)
        })
        .collect()
}

/// The holdings attribute as an order's update writes it.
pub fn holdings_value(
    holdings: &BTreeMap<IssuerName, Holding>,
) -> Result<AttributeValue, Malformed> {
    to_value(&holdings_items(holdings))
}

pub fn account_item(a: &Account, now: i64) -> Result<Item, Malformed> {
    let pk = account_pk(a.id);
    to_item(&AccountItem {
        pk,
        sk: ACCOUNT_SK.into(),
        id: a.id.0,
        owner: a.owner.0.clone(),
        cash: a.cash.value().normalize(),
        holdings: holdings_items(&a.holdings),
        version: a.version,
        created_at: Some(now),
    })
}

pub fn decode_account(item: &Item) -> Result<Account, Malformed> {
    let stored: AccountItem = from_item(item)?;
    let mut holdings = BTreeMap::new();
    for (name, h) in stored.holdings {
        let issuer = IssuerName::new(&name).ok_or_else(|| Malformed(format!("issuer {name}")))?;
        let holding = Holding {
            shares: h.shares,
            price: Price::from_stored(h.price),
        };
        holdings.insert(issuer, holding);
    }
    Ok(Account {
        id: AccountId(stored.id),
        owner: Owner(stored.owner),
        cash: Cash::from_stored(stored.cash),
        holdings,
        version: stored.version,
    })
}

pub fn order_item(
    account: &Account,
    seq: u64,
    order: &Order,
    accepted_at: i64,
) -> Result<Item, Malformed> {
    to_item(&OrderItem {
        pk: account_pk(account.id),
        sk: order_sk(seq),
        owner: account.owner.0.clone(),
        seq,
        timestamp: order.timestamp,
        operation: order.operation.as_wire().into(),
        issuer_name: order.issuer.as_str().into(),
        total_shares: order.shares.get(),
        share_price: order.price.value().normalize(),
        amount: order.amount().value().normalize(),
        accepted_at,
    })
}

pub fn decode_order(id: AccountId, item: &Item) -> Result<LedgerEntry, Malformed> {
    let stored: OrderItem = from_item(item)?;
    let seq = stored.seq;
    let bad = |what: &str| Malformed(format!("order {seq}: {what}"));
    let shares = Shares::new(stored.total_shares).ok_or_else(|| bad("total_shares"))?;
    let price = Price::from_stored(stored.share_price);
    Ok(LedgerEntry {
        id: format!("{id}-{seq}"),
        timestamp: stored.timestamp,
        operation: Operation::from_wire(&stored.operation).ok_or_else(|| bad("operation"))?,
        issuer_name: IssuerName::new(&stored.issuer_name).ok_or_else(|| bad("issuer_name"))?,
        total_shares: shares,
        share_price: price,
        amount: Amount::of(shares, price),
    })
}

pub fn guard_item(id: AccountId, k: &DedupKey, order: &Order) -> Result<Item, Malformed> {
    to_item(&GuardItem {
        pk: account_pk(id),
        sk: guard_sk(k, DedupKey::bucket(order.timestamp)),
        ts: order.timestamp,
    })
}

/// The timestamp of the accepted order a guard stands for.
pub fn decode_guard(item: &Item) -> Result<i64, Malformed> {
    from_item::<GuardItem>(item).map(|g| g.ts)
}

/// The owner recorded on an account or ledger item.
pub fn decode_owner(item: &Item) -> Result<Owner, Malformed> {
    from_item::<OwnedItem>(item).map(|o| Owner(o.owner))
}

pub fn decode_seq(item: &Item) -> Result<u64, Malformed> {
    from_item::<SeqItem>(item).map(|s| s.seq)
}

pub fn decode_counter(attributes: &Item) -> Result<AccountId, Malformed> {
    from_item::<CounterValue>(attributes).map(|c| AccountId(c.value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::Field;

    #[test]
    fn accounts_round_trip_exactly() {
        let mut a = Account::open(
            AccountId(7),
            Owner("tenant-a".into()),
            Cash::parse(&Field::Number("1000.10".into())).unwrap(),
        );
        a.holdings.insert(
            IssuerName::new("BRK.B").unwrap(),
            Holding {
                shares: 3,
                price: Price::from_stored(Decimal::new(1234567, 6)),
            },
        );
        a.version = 9;
        let item = account_item(&a, 0).unwrap();
        assert_eq!(item["cash"], AttributeValue::N("1000.1".into()));
        assert_eq!(decode_account(&item).unwrap(), a);
    }

    #[test]
    fn money_is_stored_as_exact_numbers() {
        for text in ["0.1", "1000.5", "999999999999.99"] {
            let cash = Cash::from_stored(Decimal::from_str_exact(text).unwrap());
            let a = Account::open(AccountId(1), Owner("t".into()), cash);
            let item = account_item(&a, 0).unwrap();
            assert_eq!(item["cash"], AttributeValue::N(text.into()));
            assert_eq!(
                decode_account(&item).unwrap().cash.value().to_string(),
                text
            );
        }
    }

    #[test]
    fn ledger_keys_sort_by_sequence_as_strings() {
        assert!(order_sk(9) < order_sk(10));
        assert!(order_sk(u64::MAX - 1) < order_sk(u64::MAX));
    }
}
