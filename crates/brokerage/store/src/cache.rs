//! Account views in the platform's Redis cache, each with its account's version, so that
//! no late fill or slower order ever puts an older balance back. Beside the view (after a
//! newline, which compact JSON never holds) the account item's books, so that an order can be
//! judged and applied on the cached state without a read.

use crate::items::Books;
use crate::store::Held;
use brokerage_domain::{Account, AccountId, Cash, Holding, IssuerName, Owner, Price};
use serde::Deserialize;
use serde_json::value::RawValue;
use shared::{Cache, Field};
use std::collections::BTreeMap;

#[derive(Clone)]
pub struct AccountCache {
    cache: Cache,
}

/// The name of an account's view: with its owner, so that another tenant's read misses
/// and goes to the store, which refuses it.
pub fn account_name(owner: &Owner, id: AccountId) -> String {
    format!("account:{id}:{owner}")
}

impl AccountCache {
    pub fn new(cache: Cache) -> AccountCache {
        AccountCache { cache }
    }

    /// The cached JSON view of an account of `owner`, if present.
    pub async fn get_account(&self, owner: &Owner, id: AccountId) -> Option<String> {
        let key = self.cache.key(&account_name(owner, id))?;
        let mut cached = self.cache.get(key).await?;
        if let Some(end) = cached.find('\n') {
            cached.truncate(end);
        }
        Some(cached)
    }

    /// The account item as its cached view, books and version say it stands, for judging an
    /// order without a read: a commit on it is conditioned on that version, so a stale view
    /// costs a failed write (which returns the account item as it is), never a wrong answer.
    /// `None` for a view cached without its books.
    pub async fn get_state(&self, owner: &Owner, id: AccountId) -> Option<Held> {
        let key = self.cache.key(&account_name(owner, id))?;
        let (version, cached) = self.cache.get_versioned(key).await?;
        let (view, books) = cached.split_once('\n')?;
        let account = decode_view(owner, version, view).filter(|a| a.id == id);
        let books = serde_json::from_str::<Books>(books).ok();
        match (account, books) {
            (Some(account), Some(books)) => Some(Held { account, books }),
            _ => {
                tracing::warn!(account_id = %id, "cached view unreadable; using DynamoDB");
                None
            }
        }
    }

    /// Caches the account's view unless a newer version is already there.
    pub async fn put_account(&self, account: &Account) {
        self.put(account, None).await
    }

    /// Caches the account's view and its books unless a newer version is already there.
    pub async fn put_held(&self, account: &Account, books: &Books) {
        self.put(account, Some(books)).await
    }

    async fn put(&self, account: &Account, books: Option<&Books>) {
        let Some(key) = self.cache.key(&account_name(&account.owner, account.id)) else {
            return;
        };
        let view = serde_json::to_string(&account.view()).and_then(|mut view| {
            if let Some(books) = books {
                view.push('\n');
                view.push_str(&serde_json::to_string(books)?);
            }
            Ok(view)
        });
        match view {
            Ok(view) => {
                self.cache.put_if_newer(key, account.version, view).await;
            }
            Err(e) => tracing::error!(error = %e, "account view did not serialize"),
        }
    }
}

#[derive(Deserialize)]
struct CachedView<'a> {
    id: u64,
    #[serde(borrow)]
    cash: &'a RawValue,
    #[serde(borrow)]
    issuers: Vec<CachedIssuer<'a>>,
}

#[derive(Deserialize)]
struct CachedIssuer<'a> {
    issuer_name: String,
    total_shares: u64,
    #[serde(borrow)]
    share_price: &'a RawValue,
}

/// An account back from its view (which holds all of it but the owner, in the key, and the
/// version, beside it), its numbers read exactly.
fn decode_view(owner: &Owner, version: u64, view: &str) -> Option<Account> {
    let exact = |raw: &RawValue| Field::Number(raw.get().to_owned()).as_decimal();
    let v: CachedView = serde_json::from_str(view).ok()?;
    let mut holdings = BTreeMap::new();
    for i in v.issuers {
        let holding = Holding {
            shares: i.total_shares,
            price: Price::from_stored(exact(i.share_price)?),
        };
        holdings.insert(IssuerName::new(&i.issuer_name)?, holding);
    }
    Some(Account {
        id: AccountId(v.id),
        owner: owner.clone(),
        cash: Cash::from_stored(exact(v.cash)?),
        holdings,
        version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal::Decimal;

    #[test]
    fn a_view_gives_back_the_account_exactly() {
        let mut a = Account::open(
            AccountId(3),
            Owner("t".into()),
            Cash::from_stored(Decimal::from_str_exact("999999999999.99").unwrap()),
        );
        a.holdings.insert(
            IssuerName::new("BRK.B").unwrap(),
            Holding {
                shares: 7,
                price: Price::from_stored(Decimal::from_str_exact("0.000001").unwrap()),
            },
        );
        a.version = 12;
        let view = serde_json::to_string(&a.view()).unwrap();
        assert_eq!(decode_view(&a.owner, 12, &view), Some(a));
        assert_eq!(decode_view(&Owner("t".into()), 1, "{\"id\":1}"), None);
    }
}
