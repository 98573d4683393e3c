//! Account views in the platform's Redis cache, each with its account's version, so that
//! no late fill or slower order ever puts an older balance back.

use brokerage_domain::{Account, AccountId, Owner};
use shared::Cache;

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
        self.cache.get(key).await
    }

    /// Caches the account's view unless a newer version is already there.
    pub async fn put_account(&self, account: &Account) {
        let Some(key) = self.cache.key(&account_name(&account.owner, account.id)) else {
            return;
        };
        match serde_json::to_string(&account.view()) {
            Ok(view) => self.cache.put_if_newer(key, account.version, view).await,
            Err(e) => tracing::error!(error = %e, "account view did not serialize"),
        }
    }
}
