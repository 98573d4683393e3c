//! The single-table layout: every key is built here, and every item is encoded and decoded
//! here. Amounts are written as DynamoDB Numbers from their exact decimal text (a serde
//! mapping would carry them as strings or through `f64`). See docs/data-model.md.

use aws_sdk_dynamodb::types::AttributeValue;
use domain::{
    Account, AccountId, Amount, Cash, DedupKey, Holding, IssuerName, LedgerEntry, Operation, Order,
    Owner, Price, Shares,
};
use rust_decimal::Decimal;
use std::collections::{BTreeMap, HashMap};

use crate::store::{IdempotencyRecord, SavedResponse};

pub type Item = HashMap<String, AttributeValue>;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
const ACCOUNT_SK: &str = "ACCOUNT";
const ORDER_PREFIX: &str = "ORDER#";

pub fn account_pk(id: AccountId) -> String {
    format!("ACCOUNT#{id}")
}

fn key(pk: String, sk: String) -> Item {
    HashMap::from([(PK.into(), s(pk)), (SK.into(), s(sk))])
}

/// The item that hands out account ids.
pub fn counter_key() -> Item {
    key("COUNTER".into(), "ACCOUNT_ID".into())
}

pub fn account_key(id: AccountId) -> Item {
    key(account_pk(id), ACCOUNT_SK.into())
}

/// Ledger entries sort by their sequence number: the account's version after the order.
pub fn order_sk(seq: u64) -> String {
    format!("{ORDER_PREFIX}{seq:020}")
}

pub fn order_prefix() -> &'static str {
    ORDER_PREFIX
}

pub fn order_key(id: AccountId, seq: u64) -> Item {
    key(account_pk(id), order_sk(seq))
}

/// The duplicate guard of one key in one window bucket (see `DedupKey::bucket`).
pub fn guard_key(id: AccountId, k: &DedupKey, bucket: i64) -> Item {
    let sk = format!(
        "DEDUP#{}#{}#{}#{bucket}",
        k.operation.as_wire(),
        k.issuer,
        k.shares.get()
    );
    key(account_pk(id), sk)
}

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub fn dec(v: Decimal) -> AttributeValue {
    AttributeValue::N(v.normalize().to_string())
}

/// An item that does not have the shape this module writes.
#[derive(Debug, thiserror::Error)]
#[error("malformed item: {0}")]
pub struct Malformed(pub String);

fn get<'a>(item: &'a Item, name: &str) -> Result<&'a AttributeValue, Malformed> {
    item.get(name)
        .ok_or_else(|| Malformed(format!("missing {name}")))
}

pub fn get_n<T: std::str::FromStr>(item: &Item, name: &str) -> Result<T, Malformed> {
    get(item, name)?
        .as_n()
        .ok()
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| Malformed(format!("{name} is not a number of the expected type")))
}

fn get_dec(item: &Item, name: &str) -> Result<Decimal, Malformed> {
    let text = get(item, name)?
        .as_n()
        .map_err(|_| Malformed(format!("{name} is not N")))?;
    Decimal::from_str_exact(text)
        .or_else(|_| Decimal::from_scientific(text))
        .map_err(|_| Malformed(format!("{name} is not a decimal")))
}

pub fn get_s<'a>(item: &'a Item, name: &str) -> Result<&'a str, Malformed> {
    get(item, name)?
        .as_s()
        .map(String::as_str)
        .map_err(|_| Malformed(format!("{name} is not S")))
}

pub fn holdings_value(holdings: &BTreeMap<IssuerName, Holding>) -> AttributeValue {
    AttributeValue::M(
        holdings
            .iter()
            .map(|(name, h)| {
                let m = HashMap::from([
                    ("shares".to_owned(), n(h.shares)),
                    ("price".to_owned(), dec(h.price.value())),
                ]);
                (name.to_string(), AttributeValue::M(m))
            })
            .collect(),
    )
}

pub fn account_item(a: &Account, now: i64) -> Item {
    let mut item = account_key(a.id);
    item.extend([
        ("id".to_owned(), n(a.id.0)),
        ("owner".to_owned(), s(&a.owner.0)),
        ("cash".to_owned(), dec(a.cash.value())),
        ("holdings".to_owned(), holdings_value(&a.holdings)),
        ("version".to_owned(), n(a.version)),
        ("created_at".to_owned(), n(now)),
    ]);
    item
}

pub fn decode_account(item: &Item) -> Result<Account, Malformed> {
    let mut holdings = BTreeMap::new();
    let map = get(item, "holdings")?
        .as_m()
        .map_err(|_| Malformed("holdings is not M".into()))?;
    for (name, value) in map {
        let h = value
            .as_m()
            .map_err(|_| Malformed(format!("holding {name} is not M")))?;
        let issuer = IssuerName::new(name).ok_or_else(|| Malformed(format!("issuer {name}")))?;
        let holding = Holding {
            shares: get_n(h, "shares")?,
            price: Price::from_stored(get_dec(h, "price")?),
        };
        holdings.insert(issuer, holding);
    }
    Ok(Account {
        id: AccountId(get_n(item, "id")?),
        owner: decode_owner(item)?,
        cash: Cash::from_stored(get_dec(item, "cash")?),
        holdings,
        version: get_n(item, "version")?,
    })
}

pub fn order_item(account: &Account, seq: u64, order: &Order, accepted_at: i64) -> Item {
    let mut item = order_key(account.id, seq);
    item.extend([
        ("owner".to_owned(), s(&account.owner.0)),
        ("seq".to_owned(), n(seq)),
        ("timestamp".to_owned(), n(order.timestamp)),
        ("operation".to_owned(), s(order.operation.as_wire())),
        ("issuer_name".to_owned(), s(order.issuer.as_str())),
        ("total_shares".to_owned(), n(order.shares.get())),
        ("share_price".to_owned(), dec(order.price.value())),
        ("amount".to_owned(), dec(order.amount().value())),
        ("accepted_at".to_owned(), n(accepted_at)),
    ]);
    item
}

pub fn decode_order(id: AccountId, item: &Item) -> Result<LedgerEntry, Malformed> {
    let seq: u64 = get_n(item, "seq")?;
    let bad = |what: &str| Malformed(format!("order {seq}: {what}"));
    let shares = Shares::new(get_n(item, "total_shares")?).ok_or_else(|| bad("total_shares"))?;
    let price = Price::from_stored(get_dec(item, "share_price")?);
    Ok(LedgerEntry {
        id: format!("{id}-{seq}"),
        timestamp: get_n(item, "timestamp")?,
        operation: Operation::from_wire(get_s(item, "operation")?)
            .ok_or_else(|| bad("operation"))?,
        issuer_name: IssuerName::new(get_s(item, "issuer_name")?)
            .ok_or_else(|| bad("issuer_name"))?,
        total_shares: shares,
        share_price: price,
        amount: Amount::of(shares, price),
    })
}

pub fn guard_item(id: AccountId, k: &DedupKey, order: &Order) -> Item {
    let mut item = guard_key(id, k, DedupKey::bucket(order.timestamp));
    item.insert("ts".to_owned(), n(order.timestamp));
    item
}

pub fn decode_guard(item: &Item) -> Result<i64, Malformed> {
    get_n(item, "ts")
}

/// The owner recorded on an account or ledger item.
pub fn decode_owner(item: &Item) -> Result<Owner, Malformed> {
    Ok(Owner(get_s(item, "owner")?.to_owned()))
}

/// An idempotency record: one per owner and key (the owner's length first, so no owner and
/// key pair can spell another's).
pub fn idempotency_key(owner: &Owner, key: &str) -> Item {
    let pk = format!("IDEMPOTENCY#{}#{}#{key}", owner.0.len(), owner.0);
    self::key(pk, "IDEMPOTENCY".into())
}

pub fn headers_value(headers: &[(String, String)]) -> AttributeValue {
    AttributeValue::M(headers.iter().map(|(k, v)| (k.clone(), s(v))).collect())
}

pub fn decode_idempotency(item: &Item) -> Result<IdempotencyRecord, Malformed> {
    let response = match get_s(item, "state")? {
        "done" => {
            let headers = get(item, "headers")?
                .as_m()
                .map_err(|_| Malformed("headers is not M".into()))?
                .iter()
                .map(|(k, v)| {
                    Ok((
                        k.clone(),
                        v.as_s()
                            .map_err(|_| Malformed(format!("header {k}")))?
                            .clone(),
                    ))
                })
                .collect::<Result<_, Malformed>>()?;
            let body = get(item, "body")?
                .as_b()
                .map_err(|_| Malformed("body is not B".into()))?
                .as_ref()
                .to_vec();
            Some(SavedResponse {
                status: get_n(item, "status")?,
                headers,
                body,
            })
        }
        _ => None,
    };
    Ok(IdempotencyRecord {
        fingerprint: get_s(item, "fingerprint")?.to_owned(),
        response,
    })
}

pub fn decode_seq(item: &Item) -> Result<u64, Malformed> {
    get_n(item, "seq")
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::Field;

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
        let item = account_item(&a, 0);
        assert_eq!(item["cash"], AttributeValue::N("1000.1".into()));
        assert_eq!(decode_account(&item).unwrap(), a);
    }

    #[test]
    fn ledger_keys_sort_by_sequence_as_strings() {
        assert!(order_sk(9) < order_sk(10));
        assert!(order_sk(u64::MAX - 1) < order_sk(u64::MAX));
    }
}
