//! Sprockets, factory summaries and chart pages in Redis, each entry with its version.
//!
//! A write puts the new state's entry before it answers (or removes the entry when Redis
//! did not take it), and `put_if_newer` keeps a late fill from replacing a newer entry. A
//! deleted sprocket's entry is a tombstone above every version, and ids are never reused.
//! Chart pages are keyed by the factory's version: a write makes the summary name a new
//! version, so no page of an older one is ever read again.

use sha2::{Digest, Sha256};
use shared::tenant::Owner;
use shared::Cache;

use crate::items::Summary;

#[derive(Clone)]
pub struct FactoriesCache {
    cache: Cache,
}

fn tenant(owner: &Owner) -> String {
    format!("{}:{}", owner.0.len(), owner.0)
}

impl FactoriesCache {
    pub fn new(cache: Cache) -> FactoriesCache {
        FactoriesCache { cache }
    }

    fn sprocket_key(&self, owner: &Owner, id: u64) -> Option<String> {
        self.cache.key(&format!("sprocket:{}:{id}", tenant(owner)))
    }

    fn factory_key(&self, owner: &Owner, id: u64) -> Option<String> {
        self.cache.key(&format!("factory:{}:{id}", tenant(owner)))
    }

    fn page_key(&self, owner: &Owner, id: u64, version: u64, view: &str) -> Option<String> {
        let digest = Sha256::digest(view.as_bytes());
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        self.cache
            .key(&format!("chart:{}:{id}:{version}:{hex}", tenant(owner)))
    }

    /// A cached sprocket's answer and version (a tombstone is a miss).
    pub async fn get_sprocket(&self, owner: &Owner, id: u64) -> Option<(u64, String)> {
        let key = self.sprocket_key(owner, id)?;
        self.cache
            .get_versioned(key)
            .await
            .filter(|(_, body)| !body.is_empty())
    }

    async fn put(&self, key: Option<String>, version: u64, body: String, write: bool) {
        let Some(key) = key else { return };
        if !self.cache.put_if_newer(key.clone(), version, body).await
            && write
            && !self.cache.forget(key).await
        {
            tracing::error!("cache entry neither updated nor removed after a write");
        }
    }

    /// Caches a sprocket read (`write`: after a write, which must not leave an older entry).
    pub async fn put_sprocket(
        &self,
        owner: &Owner,
        id: u64,
        version: u64,
        body: String,
        write: bool,
    ) {
        self.put(self.sprocket_key(owner, id), version, body, write)
            .await
    }

    /// A deleted sprocket: a tombstone no fill can replace.
    pub async fn forget_sprocket(&self, owner: &Owner, id: u64) {
        self.put(self.sprocket_key(owner, id), u64::MAX, String::new(), true)
            .await
    }

    pub async fn get_factory(&self, owner: &Owner, id: u64) -> Option<Summary> {
        let key = self.factory_key(owner, id)?;
        let (_, body) = self.cache.get_versioned(key).await?;
        match serde_json::from_str(&body) {
            Ok(summary) => Some(summary),
            Err(e) => {
                tracing::warn!(error = %e, "cached summary unreadable; using DynamoDB");
                None
            }
        }
    }

    pub async fn put_factory(&self, owner: &Owner, summary: &Summary, write: bool) {
        let body = serde_json::to_string(summary).expect("a summary serializes");
        self.put(
            self.factory_key(owner, summary.id),
            summary.version,
            body,
            write,
        )
        .await
    }

    /// A chart page (`view` names the query) of one version of a factory.
    pub async fn get_page(
        &self,
        owner: &Owner,
        id: u64,
        version: u64,
        view: &str,
    ) -> Option<String> {
        self.cache
            .get(self.page_key(owner, id, version, view)?)
            .await
    }

    pub async fn put_page(&self, owner: &Owner, id: u64, version: u64, view: &str, body: String) {
        self.put(
            self.page_key(owner, id, version, view),
            version,
            body,
            false,
        )
        .await
    }
}
