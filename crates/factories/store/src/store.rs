//! The access patterns of the routes. Reads are single calls where the contract counts
//! them; a sprocket write is one conditional write; a chart write is committed whole in
//! one conditional transaction (its intent beside the summary's new version) and then
//! applied, so that readers and later writers see it whole or not at all.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Delete, KeysAndAttributes, Put, PutRequest, ReturnValue,
    ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update, WriteRequest,
};
use aws_sdk_dynamodb::Client;
use factories_domain::chart::merge;
use factories_domain::{Point, Precondition, SprocketPatch, SprocketSpec, Upsert};
use shared::dynamo::{self, n, s, unavailable, Item, Malformed, Unavailable};
use shared::tenant::Owner;
use std::collections::HashMap;
use std::time::Duration;

use crate::items::*;

/// How long the writer that commits a chart write alone applies it: longer than a
/// function's timeout, so that only a writer that died is ever taken over.
pub const LEASE_SECONDS: i64 = 60;
/// Attempts of a read that sees a write land while it reads.
const ATTEMPTS: usize = 8;
/// How long a chart write waits for the writes to its factory that are ahead of it.
const WRITE_PATIENCE: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
    #[error(transparent)]
    Malformed(#[from] Malformed),
    #[error("no such resource")]
    NotFound,
    #[error("If-Match does not hold")]
    PreconditionFailed,
    /// Concurrent writes kept moving the resource.
    #[error("the resource kept changing")]
    Busy,
}

#[derive(Clone)]
pub struct Store {
    client: Client,
    table: String,
}

/// A chart write's outcome: the summary after it and what it did.
#[derive(Debug, Clone)]
pub struct Written {
    pub factory: FactoryItem,
    pub inserted: usize,
    pub replaced: usize,
    pub unchanged: usize,
}

/// Points read for a page: every point in `[start, cutoff)`, at the summary's version.
#[derive(Debug, Clone)]
pub struct Read {
    pub factory: FactoryItem,
    pub points: Vec<Point>,
    pub cutoff: i64,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn nonce() -> String {
    format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..))
}

fn is_conditional<E, R>(e: &SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    matches!(e, SdkError::ServiceError(s) if s.err().code() == Some("ConditionalCheckFailedException"))
}

/// Whether a cancelled transaction failed a condition (rather than meeting another
/// transaction on the same items, which a retry resolves).
fn condition_failed<R>(
    e: &SdkError<aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError, R>,
) -> bool {
    match e.as_service_error() {
        Some(
            aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(c),
        ) => c
            .cancellation_reasons()
            .iter()
            .any(|r| r.code() == Some("ConditionalCheckFailed")),
        _ => false,
    }
}

fn is_cancelled<R>(
    e: &SdkError<aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError, R>,
) -> bool {
    e.as_service_error()
        .is_some_and(|s| s.is_transaction_canceled_exception())
}

/// The condition of a write to an existing item under `If-Match`, with its values.
fn precondition(p: &Precondition, values: &mut HashMap<String, AttributeValue>) -> String {
    match p {
        Precondition::None | Precondition::Exists => "attribute_exists(pk)".into(),
        Precondition::Version(versions) if versions.is_empty() => {
            values.insert(":never".into(), n(-1));
            "attribute_exists(pk) AND version = :never".into()
        }
        Precondition::Version(versions) => {
            let names: Vec<String> = versions
                .iter()
                .take(100)
                .enumerate()
                .map(|(i, v)| {
                    let name = format!(":if{i}");
                    values.insert(name.clone(), n(v));
                    name
                })
                .collect();
            format!("attribute_exists(pk) AND version IN ({})", names.join(", "))
        }
    }
}

impl Store {
    pub fn new(client: Client, table: String) -> Store {
        Store { client, table }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub async fn create_table(&self) -> Result<(), Unavailable> {
        dynamo::create_table(&self.client, &self.table, false).await
    }

    /// The next id of `kind` (one counter per kind, shared by every tenant).
    pub async fn next_id(&self, kind: &str) -> Result<u64, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(counter_key(kind)))
            .update_expression("ADD n :one")
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(unavailable)?;
        out.attributes()
            .and_then(|a| a.get("n"))
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| Malformed("counter".into()).into())
    }

    // ------------------------------------------------------------------ sprockets

    pub async fn create_sprocket(
        &self,
        owner: &Owner,
        spec: &SprocketSpec,
    ) -> Result<SprocketItem, StoreError> {
        let id = self.next_id("sprocket").await?;
        let item = SprocketItem::new(owner, id, spec, 1);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item.to_item()?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(unavailable)?;
        Ok(item)
    }

    pub async fn get_sprocket(
        &self,
        owner: &Owner,
        id: u64,
    ) -> Result<Option<SprocketItem>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(sprocket_key(owner, id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.item().map(SprocketItem::from_item).transpose()?)
    }

    /// A page of the tenant's sprockets after `after`, ascending id: one Query.
    pub async fn list_sprockets(
        &self,
        owner: &Owner,
        after: Option<u64>,
        limit: usize,
    ) -> Result<(Vec<SprocketItem>, bool), StoreError> {
        let (items, more) = self.list(sprockets_pk(owner), after, limit).await?;
        let items = items
            .iter()
            .map(SprocketItem::from_item)
            .collect::<Result<_, _>>()?;
        Ok((items, more))
    }

    /// Sets `patch`'s fields (all four for a PUT) and adds 1 to the version: one conditional
    /// write, no read first.
    pub async fn update_sprocket(
        &self,
        owner: &Owner,
        id: u64,
        patch: &SprocketPatch,
        pre: &Precondition,
    ) -> Result<SprocketItem, StoreError> {
        let mut values = HashMap::from([(":one".to_owned(), n(1))]);
        let mut sets = vec!["version = version + :one".to_owned()];
        let fields = [
            ("teeth", patch.teeth.map(n)),
            ("pitch_diameter", patch.pitch_diameter.map(dynamo::dec)),
            ("outside_diameter", patch.outside_diameter.map(dynamo::dec)),
            ("pitch", patch.pitch.map(dynamo::dec)),
        ];
        for (name, value) in fields {
            if let Some(v) = value {
                sets.push(format!("{name} = :{name}"));
                values.insert(format!(":{name}"), v);
            }
        }
        let condition = precondition(pre, &mut values);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(sprocket_key(owner, id)))
            .update_expression(format!("SET {}", sets.join(", ")))
            .condition_expression(condition)
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => Ok(SprocketItem::from_item(
                out.attributes()
                    .ok_or_else(|| Malformed("no attributes".into()))?,
            )?),
            Err(e) => Err(self.refused(e)),
        }
    }

    /// 404 when the item was not there, 412 when it was (its condition was `If-Match`).
    fn refused<E, R>(&self, e: SdkError<E, R>) -> StoreError
    where
        E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
        SdkError<E, R>: ConditionItem,
    {
        if is_conditional(&e) {
            return match e.old_item() {
                Some(_) => StoreError::PreconditionFailed,
                None => StoreError::NotFound,
            };
        }
        unavailable(e).into()
    }

    /// Deletes a sprocket: one conditional write. The deleted item's version.
    pub async fn delete_sprocket(
        &self,
        owner: &Owner,
        id: u64,
        pre: &Precondition,
    ) -> Result<u64, StoreError> {
        let mut values = HashMap::new();
        let condition = precondition(pre, &mut values);
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(sprocket_key(owner, id)))
            .condition_expression(condition)
            .set_expression_attribute_values((!values.is_empty()).then_some(values))
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => Ok(out
                .attributes()
                .map(SprocketItem::from_item)
                .transpose()?
                .map_or(0, |i| i.version)),
            Err(e) => Err(self.refused(e)),
        }
    }

    // ------------------------------------------------------------------ lists

    async fn list(
        &self,
        pk: String,
        after: Option<u64>,
        limit: usize,
    ) -> Result<(Vec<Item>, bool), StoreError> {
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk > :after")
            .expression_attribute_values(":pk", s(pk))
            .expression_attribute_values(":after", s(format!("{:020}", after.unwrap_or(0))))
            .limit(limit as i32 + 1)
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let mut items = out.items.unwrap_or_default();
        let more = items.len() > limit;
        items.truncate(limit);
        Ok((items, more))
    }

    pub async fn list_factories(
        &self,
        owner: &Owner,
        after: Option<u64>,
        limit: usize,
    ) -> Result<(Vec<FactoryItem>, bool), StoreError> {
        let (items, more) = self.list(factories_pk(owner), after, limit).await?;
        let items = items
            .iter()
            .map(FactoryItem::from_item)
            .collect::<Result<_, _>>()?;
        Ok((items, more))
    }

    // ------------------------------------------------------------------ factories

    pub async fn get_factory(
        &self,
        owner: &Owner,
        id: u64,
    ) -> Result<Option<FactoryItem>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(factory_key(owner, id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.item().map(FactoryItem::from_item).transpose()?)
    }

    /// A new factory with `points` (sorted, unique times): its summary, its intent and, if
    /// `import` names one, its import key, in one transaction; then the points applied.
    /// `None` when the import key was taken meanwhile (nothing written).
    pub async fn create_factory(
        &self,
        owner: &Owner,
        points: &[Point],
        import: Option<&str>,
    ) -> Result<Option<FactoryItem>, StoreError> {
        let id = self.next_id("factory").await?;
        let mut factory = FactoryItem::new(owner, id);
        factory.point_count = points.len() as u64;
        factory.first_time = points.first().map(|p| p.time);
        factory.last_time = points.last().map(|p| p.time);
        let tag = nonce();
        if !points.is_empty() {
            factory.pending = Some(tag.clone());
            factory.lease_until = Some(now() + LEASE_SECONDS);
        }
        let mut items = vec![self.put(factory.to_item()?, "attribute_not_exists(pk)")];
        if !points.is_empty() {
            items.push(self.put(IntentItem::new(id, &tag, 1, points).to_item()?, ""));
        }
        if let Some(key) = import {
            items.push(self.import_put(owner, "F", key, id));
        }
        if !self.transact_settled(items).await? {
            // The import key was taken meanwhile.
            return Ok(None);
        }
        if !points.is_empty() {
            self.apply(id, &tag, 1, points).await?;
            self.finish(owner, id, &tag).await?;
            factory.pending = None;
            factory.lease_until = None;
        }
        Ok(Some(factory))
    }

    /// Upserts `points` (sorted, unique times) into factory `id`, whole: reads the summary
    /// and the stored points at those times, then, if anything changes, commits the write
    /// (its intent and the summary's new version, on the condition that the version did not
    /// move) and applies it. A concurrent write that commits first makes this one start
    /// again on its result (so no point is lost), or, under `If-Match`, a 412.
    pub async fn write_chart(
        &self,
        owner: &Owner,
        id: u64,
        points: &[Point],
        pre: &Precondition,
    ) -> Result<Written, StoreError> {
        // Writes to one factory take turns: wait for those ahead for a while, not forever.
        let deadline = tokio::time::Instant::now() + WRITE_PATIENCE;
        for attempt in 0.. {
            if tokio::time::Instant::now() > deadline {
                break;
            }
            let Some(factory) = self.get_factory(owner, id).await? else {
                return Err(StoreError::NotFound);
            };
            if factory.pending.is_some() {
                self.settle(owner, &factory, attempt).await?;
                continue;
            }
            if !pre.holds(factory.version) {
                return Err(StoreError::PreconditionFailed);
            }
            let existing = self.points_at(id, points).await?;
            let plan = Upsert::plan(points, &existing);
            if !plan.changes() {
                return Ok(Written {
                    factory,
                    inserted: 0,
                    replaced: 0,
                    unchanged: plan.unchanged,
                });
            }
            let version = factory.version + 1;
            let mut next = factory.clone();
            next.version = version;
            next.point_count += plan.inserted as u64;
            let (lo, hi) = (points[0].time, points[points.len() - 1].time);
            next.first_time = Some(next.first_time.map_or(lo, |t| t.min(lo)));
            next.last_time = Some(next.last_time.map_or(hi, |t| t.max(hi)));
            let tag = nonce();
            let lease = now() + LEASE_SECONDS;
            let commit = Update::builder()
                .table_name(&self.table)
                .set_key(Some(factory_key(owner, id)))
                .update_expression(
                    "SET version = :nv, point_count = :count, first_time = :first, \
                     last_time = :last, pending = :tag, lease_until = :lease",
                )
                .condition_expression("version = :v AND attribute_not_exists(pending)")
                .expression_attribute_values(":nv", n(version))
                .expression_attribute_values(":v", n(factory.version))
                .expression_attribute_values(":count", n(next.point_count))
                .expression_attribute_values(":first", n(next.first_time.unwrap_or(lo)))
                .expression_attribute_values(":last", n(next.last_time.unwrap_or(hi)))
                .expression_attribute_values(":tag", s(&tag))
                .expression_attribute_values(":lease", n(lease))
                .build()
                .expect("table, key and expression are set");
            let intent = IntentItem::new(id, &tag, version, &plan.writes);
            let items = vec![
                TransactWriteItem::builder().update(commit).build(),
                self.put(intent.to_item()?, ""),
            ];
            match self.transact(items).await {
                Ok(()) => {}
                // Another write committed first: start again from its result.
                Err(e) if is_cancelled(&e) => {
                    tokio::time::sleep(backoff(attempt)).await;
                    continue;
                }
                Err(e) => return Err(unavailable(e).into()),
            }
            self.apply(id, &tag, version, &plan.writes).await?;
            self.finish(owner, id, &tag).await?;
            return Ok(Written {
                factory: next,
                inserted: plan.inserted,
                replaced: plan.replaced,
                unchanged: plan.unchanged,
            });
        }
        Err(StoreError::Busy)
    }

    /// A write found pending: wait for its writer while its lease runs, then finish it.
    async fn settle(
        &self,
        owner: &Owner,
        factory: &FactoryItem,
        attempt: usize,
    ) -> Result<(), StoreError> {
        let tag = factory.pending.clone().unwrap_or_default();
        if factory.lease_until.unwrap_or(0) >= now() {
            tokio::time::sleep(backoff(attempt)).await;
            return Ok(());
        }
        // Take the lease over (only one taker wins), then apply the intent and clear it.
        let took = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(factory_key(owner, factory.id)))
            .update_expression("SET lease_until = :lease")
            .condition_expression("pending = :tag AND lease_until < :now")
            .expression_attribute_values(":tag", s(&tag))
            .expression_attribute_values(":now", n(now()))
            .expression_attribute_values(":lease", n(now() + LEASE_SECONDS))
            .send()
            .await;
        match took {
            Ok(_) => {}
            Err(e) if is_conditional(&e) => return Ok(()),
            Err(e) => return Err(unavailable(e).into()),
        }
        tracing::warn!(
            factory = factory.id,
            "finishing a chart write whose writer stopped"
        );
        if let Some(intent) = self.intent(factory.id).await? {
            if intent.nonce == tag {
                self.apply(factory.id, &tag, intent.version, &intent.points()?)
                    .await?;
            }
        }
        self.finish(owner, factory.id, &tag).await
    }

    async fn intent(&self, id: u64) -> Result<Option<IntentItem>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(intent_key(id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(out.item().map(IntentItem::from_item).transpose()?)
    }

    /// Writes a committed intent's points (idempotent: the same values at the same version).
    async fn apply(
        &self,
        id: u64,
        _tag: &str,
        version: u64,
        points: &[Point],
    ) -> Result<(), StoreError> {
        for chunk in points.chunks(25) {
            let mut requests = chunk
                .iter()
                .map(|p| {
                    Ok(WriteRequest::builder()
                        .put_request(
                            PutRequest::builder()
                                .set_item(Some(PointItem::new(id, p, version).to_item()?))
                                .build()
                                .expect("item is set"),
                        )
                        .build())
                })
                .collect::<Result<Vec<_>, Malformed>>()?;
            for attempt in 0.. {
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, requests)
                    .send()
                    .await
                    .map_err(unavailable)?;
                requests = out
                    .unprocessed_items
                    .and_then(|mut u| u.remove(&self.table))
                    .unwrap_or_default();
                if requests.is_empty() {
                    break;
                }
                if attempt >= 10 {
                    return Err(StoreError::Busy);
                }
                tokio::time::sleep(backoff(attempt)).await;
            }
        }
        Ok(())
    }

    /// Clears an applied write: the summary's `pending` and the intent, if still its own.
    async fn finish(&self, owner: &Owner, id: u64, tag: &str) -> Result<(), StoreError> {
        let clear = Update::builder()
            .table_name(&self.table)
            .set_key(Some(factory_key(owner, id)))
            .update_expression("REMOVE pending, lease_until")
            .condition_expression("pending = :tag")
            .expression_attribute_values(":tag", s(tag))
            .build()
            .expect("table, key and expression are set");
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(intent_key(id)))
            .condition_expression("nonce = :tag")
            .expression_attribute_values(":tag", s(tag))
            .build()
            .expect("table and key are set");
        // A failed condition: someone else finished it.
        self.transact_settled(vec![
            TransactWriteItem::builder().update(clear).build(),
            TransactWriteItem::builder().delete(delete).build(),
        ])
        .await
        .map(|_| ())
    }

    /// The stored points at the times of `points` (consistent reads, 100 keys a call).
    async fn points_at(&self, id: u64, points: &[Point]) -> Result<Vec<Point>, StoreError> {
        let mut found = Vec::new();
        for chunk in points.chunks(100) {
            let mut keys: Vec<Item> = chunk.iter().map(|p| point_key(id, p.time)).collect();
            for attempt in 0.. {
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .consistent_read(true)
                    .build()
                    .expect("keys are set");
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(unavailable)?;
                for item in out
                    .responses
                    .and_then(|mut r| r.remove(&self.table))
                    .unwrap_or_default()
                {
                    found.push(PointItem::from_item(&item)?.point()?);
                }
                keys = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .map(|k| k.keys)
                    .unwrap_or_default();
                if keys.is_empty() {
                    break;
                }
                if attempt >= 10 {
                    return Err(StoreError::Busy);
                }
                tokio::time::sleep(backoff(attempt)).await;
            }
        }
        Ok(found)
    }

    /// Up to `max` points of factory `id` in `[start, to)` (ascending; the last `max` with
    /// `latest`), as of one version: `factory` is the summary if the caller has it (from the
    /// cache), else it is read. Any point written after that version makes the read start
    /// again from DynamoDB's summary; a write being applied is merged from its intent.
    #[allow(clippy::too_many_arguments)]
    pub async fn read_chart(
        &self,
        owner: &Owner,
        id: u64,
        cached: Option<FactoryItem>,
        start: i64,
        to: i64,
        max: usize,
        latest: bool,
    ) -> Result<Read, StoreError> {
        let mut known = cached;
        for _ in 0..ATTEMPTS {
            let factory = match known.take() {
                Some(f) => f,
                None => self
                    .get_factory(owner, id)
                    .await?
                    .ok_or(StoreError::NotFound)?,
            };
            let overlay = match &factory.pending {
                None => Vec::new(),
                Some(tag) => match self.intent(id).await? {
                    Some(i) if &i.nonce == tag => i.points()?,
                    // Finished meanwhile: read again.
                    _ => continue,
                },
            };
            let (items, exhausted) = self.query_points(id, start, to, max, latest).await?;
            let mut stored = Vec::with_capacity(items.len());
            let mut newer = false;
            for item in &items {
                newer |= item.v > factory.version;
                stored.push(item.point()?);
            }
            if newer {
                continue;
            }
            stored.sort_unstable_by_key(|p| p.time);
            // What the read covers: all of [start, to) if it was exhausted, else up to the
            // last point read (from it, reading the latest).
            let (lo, hi) = match (exhausted, latest) {
                (true, _) => (start, to),
                (false, false) => (start, stored.last().map_or(to, |p| p.time + 1)),
                (false, true) => (stored.first().map_or(start, |p| p.time), to),
            };
            let extra = overlay.into_iter().filter(|p| p.time >= lo && p.time < hi);
            let mut points = merge(stored, extra);
            if latest && points.len() > max {
                points.drain(..points.len() - max);
            }
            return Ok(Read {
                factory,
                points,
                cutoff: hi,
            });
        }
        Err(StoreError::Busy)
    }

    /// Point items in `[start, to)`: up to `max`, and whether that was all of them.
    async fn query_points(
        &self,
        id: u64,
        start: i64,
        to: i64,
        max: usize,
        latest: bool,
    ) -> Result<(Vec<PointItem>, bool), StoreError> {
        let mut items = Vec::new();
        let mut from_key = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk BETWEEN :lo AND :hi")
                .expression_attribute_values(":pk", s(chart_pk(id)))
                .expression_attribute_values(":lo", s(point_sk(start)))
                .expression_attribute_values(":hi", s(point_sk(to - 1)))
                .scan_index_forward(!latest)
                .limit((max - items.len()) as i32)
                .consistent_read(true)
                .set_exclusive_start_key(from_key)
                .send()
                .await
                .map_err(unavailable)?;
            for item in out.items() {
                items.push(PointItem::from_item(item)?);
            }
            from_key = out.last_evaluated_key;
            if from_key.is_none() {
                return Ok((items, true));
            }
            if items.len() >= max {
                return Ok((items, false));
            }
        }
    }

    // ------------------------------------------------------------------ imports

    fn import_put(&self, owner: &Owner, kind: &str, key: &str, id: u64) -> TransactWriteItem {
        let item = HashMap::from([
            ("pk".to_owned(), s(imports_pk(owner))),
            ("sk".to_owned(), s(import_sk(kind, key))),
            ("id".to_owned(), n(id)),
        ]);
        TransactWriteItem::builder()
            .put(
                Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item))
                    .condition_expression("attribute_not_exists(pk)")
                    .build()
                    .expect("table and item are set"),
            )
            .build()
    }

    /// Every import key of the tenant: (`F` or `S`, key) to id.
    pub async fn import_keys(
        &self,
        owner: &Owner,
    ) -> Result<HashMap<(String, String), u64>, StoreError> {
        let mut keys = HashMap::new();
        let mut from_key = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(imports_pk(owner)))
                .consistent_read(true)
                .set_exclusive_start_key(from_key)
                .send()
                .await
                .map_err(unavailable)?;
            for item in out.items() {
                let sk = item.get("sk").and_then(|v| v.as_s().ok());
                let id = item
                    .get("id")
                    .and_then(|v| v.as_n().ok())
                    .and_then(|v| v.parse().ok());
                let (Some(sk), Some(id)) = (sk, id) else {
                    return Err(Malformed("import key".into()).into());
                };
                if let Some((kind, key)) = sk.split_once('#') {
                    keys.insert((kind.to_owned(), key.to_owned()), id);
                }
            }
            from_key = out.last_evaluated_key;
            if from_key.is_none() {
                return Ok(keys);
            }
        }
    }

    /// The tenant's sprockets with these ids that exist (100 keys a call).
    pub async fn sprockets_by_id(
        &self,
        owner: &Owner,
        ids: &[u64],
    ) -> Result<HashMap<u64, SprocketItem>, StoreError> {
        let mut found = HashMap::new();
        for chunk in ids.chunks(100) {
            let mut keys: Vec<Item> = chunk.iter().map(|&id| sprocket_key(owner, id)).collect();
            for attempt in 0.. {
                let request = KeysAndAttributes::builder()
                    .set_keys(Some(keys))
                    .consistent_read(true)
                    .build()
                    .expect("keys are set");
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(unavailable)?;
                for item in out
                    .responses
                    .and_then(|mut r| r.remove(&self.table))
                    .unwrap_or_default()
                {
                    let sprocket = SprocketItem::from_item(&item)?;
                    found.insert(sprocket.id, sprocket);
                }
                keys = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .map(|k| k.keys)
                    .unwrap_or_default();
                if keys.is_empty() {
                    break;
                }
                if attempt >= 10 {
                    return Err(StoreError::Busy);
                }
                tokio::time::sleep(backoff(attempt)).await;
            }
        }
        Ok(found)
    }

    /// A new sprocket under import key `key`, replacing the key's id if it named `replaces`
    /// (a deleted sprocket): `None` when another import took the key first.
    pub async fn import_sprocket(
        &self,
        owner: &Owner,
        key: &str,
        spec: &SprocketSpec,
        replaces: Option<u64>,
    ) -> Result<Option<SprocketItem>, StoreError> {
        let id = self.next_id("sprocket").await?;
        let item = SprocketItem::new(owner, id, spec, 1);
        let mapping = match replaces {
            None => self.import_put(owner, "S", key, id),
            Some(old) => TransactWriteItem::builder()
                .update(
                    Update::builder()
                        .table_name(&self.table)
                        .key("pk", s(imports_pk(owner)))
                        .key("sk", s(import_sk("S", key)))
                        .update_expression("SET id = :id")
                        .condition_expression("id = :old")
                        .expression_attribute_values(":id", n(id))
                        .expression_attribute_values(":old", n(old))
                        .build()
                        .expect("table, key and expression are set"),
                )
                .build(),
        };
        let items = vec![
            self.put(item.to_item()?, "attribute_not_exists(pk)"),
            mapping,
        ];
        Ok(self.transact_settled(items).await?.then_some(item))
    }

    fn put(&self, item: Item, condition: &str) -> TransactWriteItem {
        let mut put = Put::builder().table_name(&self.table).set_item(Some(item));
        if !condition.is_empty() {
            put = put.condition_expression(condition);
        }
        TransactWriteItem::builder()
            .put(put.build().expect("table and item are set"))
            .build()
    }

    /// A transaction that must settle: retried while it meets another transaction on
    /// the same items; `false` when one of its conditions failed.
    async fn transact_settled(&self, items: Vec<TransactWriteItem>) -> Result<bool, StoreError> {
        for attempt in 0..10 {
            match self.transact(items.clone()).await {
                Ok(()) => return Ok(true),
                Err(e) if condition_failed(&e) => return Ok(false),
                Err(e) if is_cancelled(&e) => tokio::time::sleep(backoff(attempt)).await,
                Err(e) => return Err(unavailable(e).into()),
            }
        }
        Err(StoreError::Busy)
    }

    async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> Result<
        (),
        SdkError<
            aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError,
            aws_sdk_dynamodb::config::http::HttpResponse,
        >,
    > {
        self.client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .map(|_| ())
    }
}

fn backoff(attempt: usize) -> Duration {
    let base = 5u64 << attempt.min(4);
    Duration::from_millis(base + fastrand::u64(..base))
}

/// The item a conditional write's refusal returned, if the item was there.
pub trait ConditionItem {
    fn old_item(&self) -> Option<&Item>;
}

impl<R> ConditionItem for SdkError<aws_sdk_dynamodb::operation::update_item::UpdateItemError, R> {
    fn old_item(&self) -> Option<&Item> {
        match self.as_service_error()? {
            aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(c) => c.item(),
            _ => None,
        }
    }
}

impl<R> ConditionItem for SdkError<aws_sdk_dynamodb::operation::delete_item::DeleteItemError, R> {
    fn old_item(&self) -> Option<&Item> {
        match self.as_service_error()? {
            aws_sdk_dynamodb::operation::delete_item::DeleteItemError::ConditionalCheckFailedException(c) => c.item(),
            _ => None,
        }
    }
}
