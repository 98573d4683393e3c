//! Snapshots: each collection read whole from its upstream, validated, and written as a
//! new generation that META adopts in one conditional write, so a reader sees one
//! generation or the other, never a mix.
//!
//! A request asks [`Snapshots::ensure`] for each collection it reads: within `fresh` it is
//! served; within `swr` it is served and refreshed once in the background; older, it is
//! refetched in the request (at most 3 s) and, if that fails, served up to `max_stale`
//! with a notice; with nothing usable the collection is unavailable. One refresh at a time
//! per collection (a lease on META): the others wait for its result.

use crate::items::{self, batch_get, Key, META_PK};
use crate::upstream::{Fetched, Upstreams};
use crate::Windows;
use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use catalog_domain::{validate, Collection, Record, Source, COLLECTIONS};
use futures::{stream, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};
use shared::dynamo::{n, s, unavailable, Unavailable};
use shared::{App, Cache, Clock, Metrics};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How long a refresh holds its collection.
const LEASE_SECONDS: i64 = 15;
/// How long a request waits for its collection's refresh.
pub const IN_REQUEST: Duration = Duration::from_secs(3);
/// META items live in Redis this long.
const META_TTL: Duration = Duration::from_secs(5);
/// A background refresh is asked for at most this often per collection.
const REVALIDATE_EVERY: u64 = 30;
const DAY: i64 = 86_400;

/// A collection's META item.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    pub pk: String,
    /// The collection's key, `fakestore/products`.
    pub sk: String,
    /// The adopted generation; 0 before the first.
    #[serde(default)]
    pub generation: u64,
    #[serde(default)]
    pub count: u64,
    #[serde(default)]
    pub rejected: u64,
    #[serde(default)]
    pub chunks: u32,
    #[serde(default)]
    pub hash: Option<String>,
    #[serde(default)]
    pub etag: Option<String>,
    /// When the upstream last confirmed the snapshot (Unix seconds).
    #[serde(default)]
    pub fetched_at: i64,
    /// When the generation's items were last written (their TTL counts from it).
    #[serde(default)]
    pub written_at: i64,
    #[serde(default)]
    pub failed_at: Option<i64>,
    #[serde(default)]
    pub failure: Option<String>,
    #[serde(default)]
    pub lease_until: Option<i64>,
    #[serde(default)]
    pub lease_id: Option<String>,
}

impl Meta {
    pub fn collection(&self) -> Option<Collection> {
        Collection::from_key(&self.sk)
    }

    /// The partition of its generation's items.
    pub fn partition(&self) -> String {
        items::partition(&self.sk, self.generation)
    }

    /// The key of entity `id`.
    pub fn entity(&self, id: u64) -> Key {
        (self.partition(), items::entity_sk(id))
    }

    pub fn children(&self, parent: u64) -> Key {
        (self.partition(), items::parent_sk(parent))
    }

    pub fn chunks(&self) -> Vec<Key> {
        (0..self.chunks)
            .map(|c| (self.partition(), items::chunk_sk(c)))
            .collect()
    }

    fn failed_since_fetch(&self) -> Option<&str> {
        match (self.failed_at, &self.failure) {
            (Some(at), Some(reason)) if at >= self.fetched_at => Some(reason),
            _ => None,
        }
    }
}

/// What a request may say of a collection it read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// Served past `fresh` after a failed refresh.
    Stale { age_seconds: i64, reason: String },
    /// Nothing usable: the collection is absent from the answer.
    Unavailable { reason: String },
}

/// A collection as a request may read it.
#[derive(Debug, Clone)]
pub struct Served {
    pub collection: Collection,
    /// The generation to read; `None` when unavailable.
    pub meta: Option<Meta>,
    pub notice: Option<Notice>,
}

/// The state of a collection for `sources`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Fresh,
    Stale,
    Expired,
    Empty,
}

/// How `refresh-upstream` is asked to run: invoked asynchronously in AWS (a Lambda's
/// spawned tasks stop when its answer is sent), a task of this process elsewhere.
pub enum Refresher {
    InProcess,
    Lambda {
        function: String,
        endpoint: Option<String>,
        client: tokio::sync::OnceCell<aws_sdk_lambda::Client>,
    },
}

impl Refresher {
    /// `REFRESH_FUNCTION_NAME` names the function to invoke (`LAMBDA_ENDPOINT` overrides
    /// where, e.g. `cargo lambda watch`); unset: refresh in process.
    pub fn from_env() -> Refresher {
        match std::env::var("REFRESH_FUNCTION_NAME")
            .ok()
            .filter(|f| !f.is_empty())
        {
            Some(function) => Refresher::Lambda {
                function,
                endpoint: std::env::var("LAMBDA_ENDPOINT")
                    .ok()
                    .filter(|e| !e.is_empty()),
                client: tokio::sync::OnceCell::new(),
            },
            None => Refresher::InProcess,
        }
    }
}

/// The payload `refresh-upstream` takes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshRequest {
    /// `fakestore/products`.
    pub collection: String,
}

struct Inner {
    client: aws_sdk_dynamodb::Client,
    table: String,
    cache: Cache,
    clock: Arc<dyn Clock>,
    metrics: Metrics,
    upstreams: Upstreams,
    refresher: Refresher,
    windows: HashMap<Source, Windows>,
    /// In-process background refreshes not yet finished (counted before they are spawned).
    refreshing: AtomicUsize,
}

#[derive(Clone)]
pub struct Snapshots(Arc<Inner>);

fn condition_failed<E, R>(e: &aws_sdk_dynamodb::error::SdkError<E, R>) -> bool
where
    E: std::fmt::Debug + aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    e.as_service_error()
        .and_then(|s| s.code())
        .is_some_and(|c| c == "ConditionalCheckFailedException")
}

impl Snapshots {
    pub fn new(
        app: &App,
        upstreams: Upstreams,
        refresher: Refresher,
        windows: HashMap<Source, Windows>,
    ) -> Snapshots {
        Snapshots(Arc::new(Inner {
            client: app.dynamodb.clone(),
            table: app.config.table_name.clone(),
            cache: app.cache.clone(),
            clock: app.clock.clone(),
            metrics: app.metrics.clone(),
            upstreams,
            refresher,
            windows,
            refreshing: AtomicUsize::new(0),
        }))
    }

    /// Background refreshes this process started that have not finished yet.
    pub fn refreshing(&self) -> usize {
        self.0.refreshing.load(Ordering::SeqCst)
    }

    pub fn windows(&self, source: Source) -> Windows {
        self.0.windows[&source]
    }

    pub fn now(&self) -> i64 {
        self.0.clock.now()
    }

    /// Every collection's META: from Redis (5 s), else one Query.
    pub async fn metas(&self) -> Result<HashMap<Collection, Meta>, Unavailable> {
        let key = self.0.cache.key("metas");
        if let Some(key) = &key {
            if let Some(cached) = self.0.cache.get(key.clone()).await {
                if let Ok(metas) = serde_json::from_str::<Vec<Meta>>(&cached) {
                    return Ok(by_collection(metas));
                }
            }
        }
        let metas = self.query_metas().await?;
        if let Some(key) = key {
            let version = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64);
            let text = serde_json::to_string(&metas).expect("metas serialize");
            self.0
                .cache
                .put_if_newer_for(key, version, text, META_TTL)
                .await;
        }
        Ok(by_collection(metas))
    }

    async fn query_metas(&self) -> Result<Vec<Meta>, Unavailable> {
        let out = self
            .0
            .client
            .query()
            .table_name(&self.0.table)
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(META_PK))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out
            .items
            .unwrap_or_default()
            .iter()
            .filter_map(|i| serde_dynamo::from_item(i.clone()).ok())
            .collect())
    }

    async fn meta(&self, collection: Collection) -> Result<Option<Meta>, Unavailable> {
        let out = self
            .0
            .client
            .get_item()
            .table_name(&self.0.table)
            .set_key(Some(shared::dynamo::key(META_PK, collection.key())))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.item.and_then(|i| serde_dynamo::from_item(i).ok()))
    }

    async fn forget_metas(&self) {
        if let Some(key) = self.0.cache.key("metas") {
            self.0.cache.forget(key).await;
        }
    }

    pub fn state(&self, meta: Option<&Meta>) -> State {
        let Some(meta) = meta.filter(|m| m.generation > 0) else {
            return State::Empty;
        };
        let Some(c) = meta.collection() else {
            return State::Empty;
        };
        let w = self.windows(c.source);
        let age = (self.now() - meta.fetched_at).max(0) as u64;
        if age <= w.fresh.as_secs() {
            State::Fresh
        } else if age <= w.swr.as_secs() {
            State::Stale
        } else {
            State::Expired
        }
    }

    /// The generation of `collection` a request may read, refreshing as its age requires.
    pub async fn ensure(&self, collection: Collection, meta: Option<Meta>) -> Served {
        let w = self.windows(collection.source);
        let now = self.now();
        let usable = meta.clone().filter(|m| m.generation > 0);
        let age = usable.as_ref().map(|m| (now - m.fetched_at).max(0));
        match (usable, age) {
            (Some(m), Some(age)) if age as u64 <= w.fresh.as_secs() => Served {
                collection,
                meta: Some(m),
                notice: None,
            },
            (Some(m), Some(age)) if age as u64 <= w.swr.as_secs() => {
                self.revalidate(collection).await;
                let notice = m.failed_since_fetch().map(|reason| Notice::Stale {
                    age_seconds: age,
                    reason: reason.to_owned(),
                });
                Served {
                    collection,
                    meta: Some(m),
                    notice,
                }
            }
            (old, age) => {
                let refreshed =
                    match tokio::time::timeout(IN_REQUEST, self.refresh(collection)).await {
                        Ok(r) => r,
                        Err(_) => Err("timeout".to_owned()),
                    };
                match (refreshed, old, age) {
                    (Ok(m), _, _) if m.generation > 0 => Served {
                        collection,
                        meta: Some(m),
                        notice: None,
                    },
                    (Ok(_), _, _) => unavailable_served(collection, "no-snapshot".into()),
                    (Err(reason), Some(old), Some(age)) if age as u64 <= w.max_stale.as_secs() => {
                        Served {
                            collection,
                            meta: Some(old),
                            notice: Some(Notice::Stale {
                                age_seconds: age,
                                reason,
                            }),
                        }
                    }
                    (Err(reason), _, _) => unavailable_served(collection, reason),
                }
            }
        }
    }

    /// Asks for one background refresh of `collection` (at most one per 30 s).
    pub async fn revalidate(&self, collection: Collection) {
        if let Some(conn) = self.0.cache.connection() {
            let key = self
                .0
                .cache
                .key(&format!("revalidate:{}", collection.key()))
                .expect("cache enabled");
            let mut conn = conn.clone();
            let won: Option<Option<String>> = shared::cache::bounded(
                Duration::from_millis(100),
                "cache",
                "set",
                "refreshing anyway",
                async move {
                    redis::cmd("SET")
                        .arg(key)
                        .arg(1)
                        .arg("NX")
                        .arg("EX")
                        .arg(REVALIDATE_EVERY)
                        .query_async(&mut conn)
                        .await
                },
            )
            .await;
            if matches!(won, Some(None)) {
                return;
            }
        }
        match &self.0.refresher {
            Refresher::InProcess => {
                let me = self.clone();
                me.0.refreshing.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let _ = me.refresh(collection).await;
                    me.0.refreshing.fetch_sub(1, Ordering::SeqCst);
                });
            }
            Refresher::Lambda {
                function,
                endpoint,
                client,
            } => {
                let client = client
                    .get_or_init(|| async {
                        let mut loader =
                            aws_config::defaults(aws_config::BehaviorVersion::latest());
                        if let Some(e) = endpoint {
                            loader = loader.endpoint_url(e);
                        }
                        aws_sdk_lambda::Client::new(&loader.load().await)
                    })
                    .await;
                let payload = serde_json::to_vec(&RefreshRequest {
                    collection: collection.key(),
                })
                .expect("serializes");
                let sent = client
                    .invoke()
                    .function_name(function)
                    .invocation_type(aws_sdk_lambda::types::InvocationType::Event)
                    .payload(aws_sdk_lambda::primitives::Blob::new(payload))
                    .send()
                    .await;
                if let Err(e) = sent {
                    tracing::warn!(error = %aws_sdk_lambda::error::DisplayErrorContext(&e), collection = %collection.key(), "could not ask for a background refresh");
                }
            }
        }
    }

    /// Refreshes `collection` from its upstream, or waits for the refresh another holds.
    /// The META it leaves, or why it failed.
    pub async fn refresh(&self, collection: Collection) -> Result<Meta, String> {
        let me = format!("{:016x}", fastrand::u64(..));
        let now = self.now();
        let leased = self
            .0
            .client
            .update_item()
            .table_name(&self.0.table)
            .set_key(Some(shared::dynamo::key(META_PK, collection.key())))
            .update_expression("SET lease_until = :until, lease_id = :me")
            .condition_expression("attribute_not_exists(lease_until) OR lease_until < :now")
            .expression_attribute_values(":until", n(now + LEASE_SECONDS))
            .expression_attribute_values(":me", s(&me))
            .expression_attribute_values(":now", n(now))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllOld)
            .send()
            .await;
        let before = match leased {
            Ok(out) => out
                .attributes
                .and_then(|i| serde_dynamo::from_item::<_, Meta>(i).ok())
                .unwrap_or_else(|| Meta {
                    pk: META_PK.into(),
                    sk: collection.key(),
                    ..Meta::default()
                }),
            Err(e) if condition_failed(&e) => return self.wait_for_refresh(collection, now).await,
            Err(e) => {
                tracing::error!(error = %unavailable(e), "refresh lease not taken");
                return Err("dynamodb-unavailable".to_owned());
            }
        };
        // Another request may have refreshed it between this one reading META and taking
        // the lease: what it adopted is the answer (one upstream GET for N misses).
        if before.generation > 0
            && now - before.fetched_at <= self.windows(collection.source).fresh.as_secs() as i64
        {
            self.release(collection, &me, None).await;
            return Ok(before);
        }
        let result = self.fetch_and_adopt(collection, &before, &me).await;
        if let Err(reason) = &result {
            self.release(collection, &me, Some(reason)).await;
        }
        self.forget_metas().await;
        result
    }

    /// Another request holds the lease: its outcome, as META shows it once released.
    async fn wait_for_refresh(&self, collection: Collection, since: i64) -> Result<Meta, String> {
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let meta = self
                .meta(collection)
                .await
                .map_err(|_| "dynamodb-unavailable".to_owned())?;
            let Some(meta) = meta else { continue };
            let held = meta.lease_until.is_some_and(|until| until >= self.now());
            if held {
                continue;
            }
            if meta.fetched_at >= since && meta.generation > 0 {
                return Ok(meta);
            }
            return Err(meta
                .failure
                .clone()
                .unwrap_or_else(|| "refresh-failed".into()));
        }
    }

    async fn fetch_and_adopt(
        &self,
        collection: Collection,
        before: &Meta,
        me: &str,
    ) -> Result<Meta, String> {
        // Once a day the whole answer is asked for (no If-None-Match), so an unchanged
        // snapshot's items get their TTL rewritten; a 304 carries nothing to rewrite them with.
        let now = self.now();
        let etag = before
            .etag
            .as_deref()
            .filter(|_| before.generation > 0 && before.written_at + DAY > now);
        let fetched = self
            .0
            .upstreams
            .fetch(collection, etag)
            .await
            .map_err(|e| e.reason())?;
        let (body, etag) = match fetched {
            Fetched::NotModified => return self.confirm(collection, before, me, None, now).await,
            Fetched::Body { body, etag } => (body, etag),
        };
        let snapshot = match validate(collection, &body) {
            Ok(s) => s,
            Err(refusal) => {
                tracing::warn!(collection = %collection.key(), reason = refusal.reason(), detail = %refusal, "snapshot refused");
                self.0.metrics.count(
                    "SnapshotsRefused",
                    &[
                        ("Source", collection.source.slug()),
                        ("Collection", collection.name()),
                        ("Reason", refusal.reason()),
                    ],
                );
                return Err(refusal.reason().to_owned());
            }
        };
        for (reason, count) in &snapshot.rejected {
            for _ in 0..*count {
                self.0.metrics.count(
                    "RecordsRejected",
                    &[
                        ("Source", collection.source.slug()),
                        ("Collection", collection.name()),
                        ("Reason", reason),
                    ],
                );
            }
        }
        if before.generation > 0 && before.hash.as_deref() == Some(snapshot.hash.as_str()) {
            // Unchanged: only META's times move, and the items' TTL once a day.
            let rewrite = before.written_at + DAY <= now;
            if rewrite {
                self.write_items(collection, before.generation, &snapshot.records, now)
                    .await?;
            }
            return self
                .confirm(collection, before, me, Some((etag, rewrite)), now)
                .await;
        }
        let generation = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_millis() as u64)
            .max(before.generation + 1);
        let chunks = self
            .write_items(collection, generation, &snapshot.records, now)
            .await?;
        let mut update = self
            .0
            .client
            .update_item()
            .table_name(&self.0.table)
            .set_key(Some(shared::dynamo::key(META_PK, collection.key())))
            .update_expression(
                "SET generation = :g, #count = :count, rejected = :rejected, chunks = :chunks, #hash = :hash, fetched_at = :now, written_at = :now REMOVE lease_until, lease_id, failed_at, failure, etag",
            )
            .condition_expression("lease_id = :me")
            .expression_attribute_names("#count", "count")
            .expression_attribute_names("#hash", "hash")
            .expression_attribute_values(":g", n(generation))
            .expression_attribute_values(":count", n(snapshot.records.len()))
            .expression_attribute_values(":rejected", n(snapshot.rejected_count()))
            .expression_attribute_values(":chunks", n(chunks))
            .expression_attribute_values(":hash", s(&snapshot.hash))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":me", s(me))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew);
        if let Some(etag) = etag {
            update = update
                .update_expression(
                    "SET generation = :g, #count = :count, rejected = :rejected, chunks = :chunks, #hash = :hash, fetched_at = :now, written_at = :now, etag = :etag REMOVE lease_until, lease_id, failed_at, failure",
                )
                .expression_attribute_values(":etag", s(etag));
        }
        let out = update.send().await.map_err(|e| {
            if condition_failed(&e) {
                "lease-lost".to_owned()
            } else {
                tracing::error!(error = %unavailable(e), "META update failed");
                "dynamodb-unavailable".to_owned()
            }
        })?;
        tracing::info!(collection = %collection.key(), generation, records = snapshot.records.len(), rejected = snapshot.rejected_count(), "snapshot adopted");
        out.attributes
            .and_then(|i| serde_dynamo::from_item(i).ok())
            .ok_or_else(|| "meta-unreadable".to_owned())
    }

    /// The upstream confirmed the snapshot: only META's times (and etag) move.
    async fn confirm(
        &self,
        collection: Collection,
        before: &Meta,
        me: &str,
        changed: Option<(Option<String>, bool)>,
        now: i64,
    ) -> Result<Meta, String> {
        if before.generation == 0 {
            return Err("no-snapshot".into());
        }
        let mut sets = vec!["fetched_at = :now"];
        let mut update = self
            .0
            .client
            .update_item()
            .table_name(&self.0.table)
            .set_key(Some(shared::dynamo::key(META_PK, collection.key())))
            .condition_expression("lease_id = :me AND generation = :g")
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":me", s(me))
            .expression_attribute_values(":g", n(before.generation))
            .return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew);
        if let Some((etag, rewritten)) = changed {
            if let Some(etag) = etag {
                sets.push("etag = :etag");
                update = update.expression_attribute_values(":etag", s(etag));
            }
            if rewritten {
                sets.push("written_at = :now");
            }
        }
        let expr = format!(
            "SET {} REMOVE lease_until, lease_id, failed_at, failure",
            sets.join(", ")
        );
        let out = update.update_expression(expr).send().await.map_err(|e| {
            if condition_failed(&e) {
                "lease-lost".to_owned()
            } else {
                tracing::error!(error = %unavailable(e), "META update failed");
                "dynamodb-unavailable".to_owned()
            }
        })?;
        out.attributes
            .and_then(|i| serde_dynamo::from_item(i).ok())
            .ok_or_else(|| "meta-unreadable".to_owned())
    }

    /// Gives the lease back, noting why the refresh failed.
    async fn release(&self, collection: Collection, me: &str, failure: Option<&String>) {
        let mut update = self
            .0
            .client
            .update_item()
            .table_name(&self.0.table)
            .set_key(Some(shared::dynamo::key(META_PK, collection.key())))
            .update_expression("REMOVE lease_until, lease_id")
            .condition_expression("lease_id = :me")
            .expression_attribute_values(":me", s(me));
        if let Some(reason) = failure {
            update = update
                .update_expression(
                    "SET failed_at = :now, failure = :why REMOVE lease_until, lease_id",
                )
                .expression_attribute_values(":now", n(self.now()))
                .expression_attribute_values(":why", s(reason));
        }
        if let Err(e) = update.send().await {
            if !condition_failed(&e) {
                tracing::warn!(error = %unavailable(e), "could not release a refresh lease; it expires by itself");
            }
        }
    }

    /// Writes a generation's items; the number of list chunks.
    async fn write_items(
        &self,
        collection: Collection,
        generation: u64,
        records: &[Record],
        now: i64,
    ) -> Result<u32, String> {
        let w = self.windows(collection.source);
        let expires = now + w.max_stale.as_secs() as i64 + DAY;
        let pk = items::partition(&collection.key(), generation);
        let json = |v: &dyn erased::Json| v.text();
        let mut puts: Vec<(String, String)> = Vec::new();
        let mut groups: BTreeMap<u64, Vec<&Record>> = BTreeMap::new();
        for r in records {
            puts.push((items::entity_sk(r.id()), json(r)));
            if let Some(p) = r.parent() {
                groups.entry(p).or_default().push(r);
            }
        }
        for (parent, children) in groups {
            puts.push((items::parent_sk(parent), json(&children)));
        }
        let mut chunks: Vec<Vec<&Record>> = vec![Vec::new()];
        let mut size = 0;
        for r in records {
            let len = json(r).len() + 1;
            if size + len > items::CHUNK_BYTES && !chunks.last().expect("one").is_empty() {
                chunks.push(Vec::new());
                size = 0;
            }
            size += len;
            chunks.last_mut().expect("one").push(r);
        }
        let count = chunks.len() as u32;
        for (i, chunk) in chunks.iter().enumerate() {
            puts.push((items::chunk_sk(i as u32), json(chunk)));
        }
        let requests: Vec<WriteRequest> = puts
            .into_iter()
            .map(|(sk, v)| {
                let item = HashMap::from([
                    ("pk".to_owned(), s(&pk)),
                    ("sk".to_owned(), s(sk)),
                    ("v".to_owned(), AttributeValue::S(v)),
                    ("expires_at".to_owned(), n(expires)),
                ]);
                WriteRequest::builder()
                    .put_request(
                        PutRequest::builder()
                            .set_item(Some(item))
                            .build()
                            .expect("item is set"),
                    )
                    .build()
            })
            .collect();
        let batches: Vec<Vec<WriteRequest>> =
            requests.chunks(25).map(<[WriteRequest]>::to_vec).collect();
        stream::iter(batches.into_iter().map(|batch| self.batch_write(batch)))
            .buffer_unordered(4)
            .try_collect::<Vec<()>>()
            .await
            .map_err(|e| {
                tracing::error!(error = %e.0, "snapshot items could not be written");
                "dynamodb-unavailable".to_owned()
            })?;
        Ok(count)
    }

    async fn batch_write(&self, mut batch: Vec<WriteRequest>) -> Result<(), Unavailable> {
        for attempt in 0..6 {
            if batch.is_empty() {
                return Ok(());
            }
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(25 << attempt)).await;
            }
            let out = self
                .0
                .client
                .batch_write_item()
                .request_items(&self.0.table, std::mem::take(&mut batch))
                .send()
                .await
                .map_err(unavailable)?;
            batch = out
                .unprocessed_items
                .and_then(|mut u| u.remove(&self.0.table))
                .unwrap_or_default();
        }
        if batch.is_empty() {
            Ok(())
        } else {
            Err(Unavailable("BatchWriteItem left items unprocessed".into()))
        }
    }

    /// The `v` of each key that exists.
    pub async fn read(&self, keys: &[Key]) -> Result<HashMap<Key, String>, Unavailable> {
        batch_get(&self.0.client, &self.0.table, keys).await
    }

    /// Every collection's META, for `sources` and for tests.
    pub async fn all_metas(&self) -> Result<Vec<(Collection, Option<Meta>)>, Unavailable> {
        let metas = self.metas().await?;
        Ok(COLLECTIONS
            .iter()
            .map(|c| (*c, metas.get(c).cloned()))
            .collect())
    }
}

fn unavailable_served(collection: Collection, reason: String) -> Served {
    Served {
        collection,
        meta: None,
        notice: Some(Notice::Unavailable { reason }),
    }
}

fn by_collection(metas: Vec<Meta>) -> HashMap<Collection, Meta> {
    metas
        .into_iter()
        .filter_map(|m| Some((m.collection()?, m)))
        .collect()
}

/// JSON text of what is stored.
mod erased {
    pub trait Json {
        fn text(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn text(&self) -> String {
            serde_json::to_string(self).expect("records serialize")
        }
    }
}
