//! The brokerage's single-table layout: every key is built here, and every item is a typed
//! struct written and read through `serde_dynamo` (amounts as exact Numbers, through
//! `shared::dynamo::number`). See docs/data-model.md.

use aws_sdk_dynamodb::types::AttributeValue;
use brokerage_domain::{
    Account, AccountId, Amount, Cash, DedupKey, Holding, IssuerName, LedgerEntry, Operation, Order,
    Owner, Price, Shares, DEDUP_WINDOW_SECS,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use shared::dynamo::{self, from_item, to_item, to_value, Item, Malformed};
use std::collections::BTreeMap;

use crate::store::GUARDS_KEPT;

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

/// Ledger pages sort by their first entry's sequence number (an entry's is the account's
/// version after the order).
pub fn order_sk(seq: u64) -> String {
    format!("{ORDER_PREFIX}{seq:020}")
}

pub fn order_prefix() -> &'static str {
    ORDER_PREFIX
}

pub fn order_key(id: AccountId, seq: u64) -> Item {
    dynamo::key(account_pk(id), order_sk(seq))
}

/// A duplicate key as the account's books and its guard items name it.
pub fn guard_name(k: &DedupKey) -> String {
    format!("{}#{}#{}", k.operation.as_wire(), k.issuer, k.shares.get())
}

fn guard_sk(name: &str, bucket: i64) -> String {
    format!("DEDUP#{name}#{bucket}")
}

/// The duplicate guard item of one key in one window bucket (see `DedupKey::bucket`).
pub fn guard_key(id: AccountId, k: &DedupKey, bucket: i64) -> Item {
    dynamo::key(account_pk(id), guard_sk(&guard_name(k), bucket))
}

/// What the account item keeps beside the balance, so that an accepted order can write that
/// one item alone: its latest accepted orders until they are written out as a ledger page,
/// and the duplicate guards of the accepted orders stamped after `fence`. Guards of orders
/// stamped at or before `fence` are guard items (one per key and window bucket).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Books {
    /// Oldest first; their sequence numbers are above every ledger page's.
    #[serde(default)]
    pub recent: Vec<Pending>,
    /// Duplicate key (`guard_name`) to the timestamps of its accepted orders after `fence`.
    #[serde(default)]
    pub guards: BTreeMap<String, Vec<i64>>,
    pub fence: i64,
}

fn all_guards_are_items() -> i64 {
    i64::MAX
}

impl Books {
    /// A new account's: no guard items at all.
    pub fn new() -> Books {
        Books {
            recent: Vec::new(),
            guards: BTreeMap::new(),
            fence: i64::MIN,
        }
    }
}

impl Books {
    /// Takes the entries to be written out as a ledger page, and the guards but those of the
    /// last window before the newest (at most [`GUARDS_KEPT`]) to be written out as guard
    /// items, raising the fence to the newest of them.
    pub fn write_out(&mut self) -> (Vec<Pending>, Vec<(String, i64)>) {
        let entries = std::mem::take(&mut self.recent);
        let mut stamps: Vec<i64> = self.guards.values().flatten().copied().collect();
        stamps.sort_unstable_by(|x, y| y.cmp(x));
        let mut fence = stamps.first().map_or(self.fence, |newest| {
            newest.saturating_sub(DEDUP_WINDOW_SECS)
        });
        if let Some(&kept_last) = stamps.get(GUARDS_KEPT) {
            fence = fence.max(kept_last);
        }
        let fence = fence.max(self.fence);
        let mut moved = Vec::new();
        for (name, list) in self.guards.iter_mut() {
            list.retain(|&t| {
                let keep = t > fence;
                if !keep {
                    moved.push((name.clone(), t));
                }
                keep
            });
        }
        self.guards.retain(|_, list| !list.is_empty());
        self.fence = fence;
        (entries, moved)
    }
}

impl Default for Books {
    fn default() -> Books {
        Books::new()
    }
}

/// An accepted order kept in the account item until it is written out in a ledger page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub seq: u64,
    pub timestamp: i64,
    pub operation: String,
    pub issuer_name: String,
    pub total_shares: u64,
    #[serde(with = "rust_decimal::serde::str")]
    pub share_price: Decimal,
    pub accepted_at: i64,
    /// Tells this commit's entry from another's with the same sequence number, when a write
    /// whose answer was lost is judged again.
    pub nonce: u64,
}

impl Pending {
    pub fn of(order: &Order, seq: u64, accepted_at: i64, nonce: u64) -> Pending {
        Pending {
            seq,
            timestamp: order.timestamp,
            operation: order.operation.as_wire().into(),
            issuer_name: order.issuer.as_str().into(),
            total_shares: order.shares.get(),
            share_price: order.price.value().normalize(),
            accepted_at,
            nonce,
        }
    }
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
    /// The books ([`Books`]) as JSON text, absent on an account item written before they
    /// existed. DynamoDB parses and stores one string far more cheaply than the same data as
    /// nested maps and lists, and an order writes the books whole every time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    books: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct HoldingItem {
    shares: u64,
    #[serde(with = "shared::dynamo::number")]
    price: Decimal,
}

/// Entries written out of the books together, oldest first: one item, so that writing
/// them out costs the transaction one put, not one per entry.
#[derive(Debug, Serialize, Deserialize)]
struct PageItem {
    pk: String,
    sk: String,
    owner: String,
    /// The entries as the books keep them (JSON text).
    entries: String,
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
        books: Some(books_text(&Books::new())?),
    })
}

fn books_text(books: &Books) -> Result<String, Malformed> {
    serde_json::to_string(books).map_err(|e| Malformed(format!("books: {e}")))
}

/// The books' attribute as an order's update writes it.
pub fn books_value(books: &Books) -> Result<AttributeValue, Malformed> {
    books_text(books).map(AttributeValue::S)
}

pub fn decode_account(item: &Item) -> Result<Account, Malformed> {
    decode_held(item).map(|(account, _)| account)
}

/// The account and its books, from one parse of the account item. An item written before
/// the books existed has none, and all its guards are guard items.
pub fn decode_held(item: &Item) -> Result<(Account, Books), Malformed> {
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
    let books = match stored.books {
        None => Books {
            fence: all_guards_are_items(),
            ..Books::new()
        },
        Some(text) => serde_json::from_str(&text).map_err(|e| Malformed(format!("books: {e}")))?,
    };
    let account = Account {
        id: AccountId(stored.id),
        owner: Owner(stored.owner),
        cash: Cash::from_stored(stored.cash),
        holdings,
        version: stored.version,
    };
    Ok((account, books))
}

/// The ledger page of entries written out of the books (oldest first, at least one).
pub fn page_item(id: AccountId, owner: &Owner, entries: &[Pending]) -> Result<Item, Malformed> {
    let first = entries
        .first()
        .ok_or_else(|| Malformed("an empty ledger page".into()))?;
    to_item(&PageItem {
        pk: account_pk(id),
        sk: order_sk(first.seq),
        owner: owner.0.clone(),
        entries: serde_json::to_string(entries).map_err(|e| Malformed(format!("page: {e}")))?,
    })
}

/// A ledger page's entries, oldest first.
pub fn decode_page(item: &Item) -> Result<Vec<Pending>, Malformed> {
    let stored: PageItem = from_item(item)?;
    serde_json::from_str(&stored.entries).map_err(|e| Malformed(format!("page: {e}")))
}

/// An accepted order kept in the books, as the ledger lists it.
pub fn decode_pending(id: AccountId, p: &Pending) -> Result<LedgerEntry, Malformed> {
    entry(
        id,
        p.seq,
        p.timestamp,
        &p.operation,
        &p.issuer_name,
        p.total_shares,
        p.share_price,
    )
}

fn entry(
    id: AccountId,
    seq: u64,
    timestamp: i64,
    operation: &str,
    issuer_name: &str,
    total_shares: u64,
    share_price: Decimal,
) -> Result<LedgerEntry, Malformed> {
    let bad = |what: &str| Malformed(format!("order {seq}: {what}"));
    let shares = Shares::new(total_shares).ok_or_else(|| bad("total_shares"))?;
    let price = Price::from_stored(share_price);
    Ok(LedgerEntry {
        id: format!("{id}-{seq}"),
        timestamp,
        operation: Operation::from_wire(operation).ok_or_else(|| bad("operation"))?,
        issuer_name: IssuerName::new(issuer_name).ok_or_else(|| bad("issuer_name"))?,
        total_shares: shares,
        share_price: price,
        amount: Amount::of(shares, price),
    })
}

/// The guard item of an accepted order stamped `ts` with the duplicate key `name`.
pub fn guard_item(id: AccountId, name: &str, ts: i64) -> Result<Item, Malformed> {
    to_item(&GuardItem {
        pk: account_pk(id),
        sk: guard_sk(name, DedupKey::bucket(ts)),
        ts,
    })
}

/// The timestamp of the accepted order a guard stands for.
pub fn decode_guard(item: &Item) -> Result<i64, Malformed> {
    from_item::<GuardItem>(item).map(|g| g.ts)
}

/// The owner recorded on an account item or ledger page.
pub fn decode_owner(item: &Item) -> Result<Owner, Malformed> {
    from_item::<OwnedItem>(item).map(|o| Owner(o.owner))
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
