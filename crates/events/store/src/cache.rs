//! Events and report pages in Redis. An event never changes; its entry's version is the
//! creation time of that incarnation of the id, and a delete leaves a tombstone one above
//! it, so a late fill of a deleted event never comes back while a re-created one does. A
//! report page is keyed by the tenant's generation: a new generation is a new key.

use sha2::{Digest, Sha256};
use shared::tenant::Owner;
use shared::Cache;
use std::time::Duration;

use events_domain::{EventId, ReportQuery};

/// How long a report page is kept (the contract's 60 s).
const REPORT_TTL: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct EventsCache {
    cache: Cache,
}

impl EventsCache {
    pub fn new(cache: Cache) -> EventsCache {
        EventsCache { cache }
    }

    fn event_key(&self, owner: &Owner, id: &EventId) -> Option<String> {
        self.cache.key(&format!(
            "event:{}:{}:{}",
            owner.0.len(),
            owner.0,
            id.as_str()
        ))
    }

    /// The event's answer, if cached (a tombstone is a miss).
    pub async fn get_event(&self, owner: &Owner, id: &EventId) -> Option<String> {
        let key = self.event_key(owner, id)?;
        self.cache.get(key).await.filter(|v| !v.is_empty())
    }

    pub async fn put_event(&self, owner: &Owner, id: &EventId, created_us: u64, body: String) {
        if let Some(key) = self.event_key(owner, id) {
            self.cache.put_if_newer(key, created_us, body).await;
        }
    }

    /// Replaces the deleted incarnation (created at `created_us`) by a tombstone.
    pub async fn forget_event(&self, owner: &Owner, id: &EventId, created_us: u64) {
        if let Some(key) = self.event_key(owner, id) {
            self.cache
                .put_if_newer(key, created_us + 1, String::new())
                .await;
        }
    }

    fn report_key(&self, owner: &Owner, g: u64, query: &ReportQuery) -> Option<String> {
        // The parsed query, not its text: `a b` and `a,b` are one page.
        let digest = Sha256::digest(format!("{query:?}"));
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        self.cache
            .key(&format!("report:{}:{}:{g}:{hex}", owner.0.len(), owner.0))
    }

    pub async fn get_report(&self, owner: &Owner, g: u64, query: &ReportQuery) -> Option<String> {
        self.cache.get(self.report_key(owner, g, query)?).await
    }

    pub async fn put_report(&self, owner: &Owner, g: u64, query: &ReportQuery, body: String) {
        if let Some(key) = self.report_key(owner, g, query) {
            self.cache.put_if_newer_for(key, g, body, REPORT_TTL).await;
        }
    }
}
