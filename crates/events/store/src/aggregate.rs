//! Applies a stream batch to the aggregates, exactly once, a tenant's part of it visible
//! to reports all at once.
//!
//! - **One writer per tenant.** A batch takes the tenant's next generation by a conditional
//!   write of its head (`pending`); another shard's batch for the tenant waits for it.
//! - **Each cell moves once per generation.** A cell keeps its counters at its generation
//!   and at the one before; reports read the committed generation, so a generation being
//!   written is invisible until its head commits, and then visible whole.
//! - **Exactly once.** Changes at or before the shard's checkpoint (in the head) are done.
//!   A batch retried after dying between writes finds its own pending generation and
//!   carries on: a cell it already wrote at that generation has the sequence number of its
//!   newest change (`m`), and only newer ones are added. A generation commits only when its
//!   batches reached the tenant's highest sequence number it ever saw (`pending.high`), so
//!   a batch split smaller on retry (bisect) never shows part of what the first attempt
//!   wrote.

use aws_sdk_dynamodb::types::{KeysAndAttributes, PutRequest, WriteRequest};
use chrono_tz::Tz;
use events_domain::{Cell, Change, Dims};
use futures::{StreamExt, TryStreamExt};
use rust_decimal::Decimal;
use shared::dynamo::{self, n, unavailable, Item};
use shared::tenant::Owner;
use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use crate::items::{cell_key, cell_pk, seq_cmp, CellItem, Checkpoint, HeadItem, Pending};
use crate::store::{Store, StoreError};

/// A checkpoint older than this names a shard whose records have left the stream (24 h).
const CHECKPOINT_KEPT_SECONDS: i64 = 2 * 86_400;
/// How long a batch waits for another shard's generation of the same tenant.
const WAIT_FOR_OTHER_SHARD: Duration = Duration::from_secs(10);
const BATCH_GET: usize = 100;
const BATCH_WRITE: usize = 25;
/// Concurrent writes of one tenant's cells, and tenants of one batch in parallel.
const WRITES_IN_FLIGHT: usize = 8;
const TENANTS_IN_FLIGHT: usize = 4;

/// One record of the stream: whose event, where in the shard, when, and what happened.
#[derive(Debug, Clone)]
pub struct StreamChange {
    pub owner: Owner,
    pub seq: String,
    /// The record's approximate creation time, Unix seconds.
    pub created: i64,
    pub change: Change,
}

/// What applying a batch did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    pub changes: usize,
    pub cell_writes: usize,
    pub committed: usize,
}

#[derive(Clone)]
pub struct Aggregator {
    store: Store,
    tz: Tz,
}

impl Aggregator {
    pub fn new(store: Store, tz: Tz) -> Aggregator {
        Aggregator { store, tz }
    }

    /// Applies one batch of `shard`, its records in shard order. An error leaves what was
    /// written to be completed by the batch's retry.
    pub async fn apply(
        &self,
        shard: &str,
        changes: Vec<StreamChange>,
        now: i64,
    ) -> Result<Applied, StoreError> {
        let mut tenants: BTreeMap<String, Vec<StreamChange>> = BTreeMap::new();
        for c in changes {
            tenants.entry(c.owner.0.clone()).or_default().push(c);
        }
        let results: Vec<Applied> = futures::stream::iter(tenants.into_values())
            .map(|mut changes| {
                changes.sort_by(|a, b| seq_cmp(&a.seq, &b.seq));
                self.apply_tenant(shard, changes, now)
            })
            .buffer_unordered(TENANTS_IN_FLIGHT)
            .try_collect()
            .await?;
        Ok(results
            .into_iter()
            .fold(Applied::default(), |a, b| Applied {
                changes: a.changes + b.changes,
                cell_writes: a.cell_writes + b.cell_writes,
                committed: a.committed + b.committed,
            }))
    }

    async fn apply_tenant(
        &self,
        shard: &str,
        changes: Vec<StreamChange>,
        now: i64,
    ) -> Result<Applied, StoreError> {
        let owner = changes[0].owner.clone();
        // The tenant's own newest record (`changes` is in shard order): a bisected retry
        // commits with the half that holds it, which holds this tenant's records too.
        let high = changes.last().expect("a tenant with changes").seq.clone();
        let high = high.as_str();
        let (mut head, g) = self.acquire(&owner, shard, high).await?;
        let done = head.cp.get(shard).map(|c| c.seq.clone());
        let changes: Vec<StreamChange> = changes
            .into_iter()
            .filter(|c| {
                done.as_ref()
                    .is_none_or(|d| seq_cmp(&c.seq, d) == Ordering::Greater)
            })
            .collect();
        let created = changes.iter().map(|c| c.created).max();
        let writes = self.cell_writes(&owner, &changes, g).await?;
        let cell_writes = writes.len();
        self.write_cells(writes).await?;

        head.cp.insert(
            shard.to_owned(),
            Checkpoint {
                seq: high.to_owned(),
                at: now,
            },
        );
        head.cp.retain(|_, c| c.at >= now - CHECKPOINT_KEPT_SECONDS);
        let pending = head.pending.clone().expect("acquired");
        let commits = seq_cmp(high, &pending.high) != Ordering::Less;
        if commits {
            head.g = g;
            head.pending = None;
            if let Some(t) = created {
                // Creation times are whole seconds: a record of the same second may still
                // be on its way, so the second before is the one fully counted.
                head.as_of = head.as_of.max(t - 1);
            }
        }
        if !self.put_head(&head, Some(g)).await? {
            // The generation is no longer this batch's: its retry finds out why.
            return Err(StoreError::Busy);
        }
        Ok(Applied {
            changes: changes.len(),
            cell_writes,
            committed: commits as usize,
        })
    }

    /// The tenant's head with a generation pending for `shard`: its own from an attempt that
    /// died (carried on), or the next one.
    async fn acquire(
        &self,
        owner: &Owner,
        shard: &str,
        high: &str,
    ) -> Result<(HeadItem, u64), StoreError> {
        let started = tokio::time::Instant::now();
        loop {
            let mut head = self.store.head(owner).await?;
            let result = match head.pending.clone() {
                Some(p) if p.shard == shard => if seq_cmp(high, &p.high) == Ordering::Greater {
                    head.pending = Some(Pending {
                        high: high.to_owned(),
                        ..p.clone()
                    });
                    self.put_head(&head, Some(p.g)).await?
                } else {
                    true
                }
                .then_some(p.g),
                // Another shard is applying a generation of this tenant.
                Some(_) => None,
                None => {
                    let g = head.g + 1;
                    head.pending = Some(Pending {
                        g,
                        shard: shard.to_owned(),
                        high: high.to_owned(),
                    });
                    self.put_fresh_head(&head).await?.then_some(g)
                }
            };
            if let Some(g) = result {
                return Ok((head, g));
            }
            if started.elapsed() > WAIT_FOR_OTHER_SHARD {
                return Err(StoreError::Busy);
            }
            tokio::time::sleep(Duration::from_millis(50 + fastrand::u64(..50))).await;
        }
    }

    /// Writes the head while it holds generation `holding`: `false` if it no longer does.
    async fn put_head(&self, head: &HeadItem, holding: Option<u64>) -> Result<bool, StoreError> {
        let mut put = self
            .store
            .client()
            .put_item()
            .table_name(self.store.aggregates_table())
            .set_item(Some(dynamo::to_item(head)?));
        if let Some(g) = holding {
            put = put
                .condition_expression("pending.g = :g")
                .expression_attribute_values(":g", n(g));
        }
        conditional(put.send().await)
    }

    /// Takes the next generation: the head must be as read, with nothing pending.
    async fn put_fresh_head(&self, head: &HeadItem) -> Result<bool, StoreError> {
        let put = self
            .store
            .client()
            .put_item()
            .table_name(self.store.aggregates_table())
            .set_item(Some(dynamo::to_item(head)?))
            .condition_expression(
                "attribute_not_exists(pk) OR (g = :g AND attribute_not_exists(pending))",
            )
            .expression_attribute_values(":g", n(head.g));
        conditional(put.send().await)
    }

    /// The cells `changes` move at generation `g`, as they must be written: each read first
    /// (the cells written at `g` by an attempt that died take only the newer changes).
    async fn cell_writes(
        &self,
        owner: &Owner,
        changes: &[StreamChange],
        g: u64,
    ) -> Result<Vec<CellItem>, StoreError> {
        // Per cell, the changes touching it, in shard order.
        let mut touched: BTreeMap<Cell, Vec<usize>> = BTreeMap::new();
        for (i, c) in changes.iter().enumerate() {
            let event = match &c.change {
                Change::Inserted(e) | Change::Removed(e) => e,
            };
            for dims in Dims::every() {
                touched
                    .entry(Cell::of(event, dims, self.tz))
                    .or_default()
                    .push(i);
            }
        }
        let keys: Vec<Item> = touched.keys().map(|c| cell_key(owner, c)).collect();
        let existing = self.read_cells(keys).await?;
        let mut writes = Vec::new();
        for (cell, indexes) in touched {
            let pk = cell_pk(owner, cell.dims);
            let sk = cell.key();
            let mut item = existing
                .get(&(pk.clone(), sk.clone()))
                .cloned()
                .unwrap_or(CellItem {
                    pk,
                    sk,
                    ..CellItem::default()
                });
            let fresh: Vec<usize> = indexes
                .into_iter()
                .filter(|i| item.g != g || seq_cmp(&changes[*i].seq, &item.m) == Ordering::Greater)
                .collect();
            let Some(last) = fresh.last() else {
                continue;
            };
            if item.g != g {
                (item.pc, item.ps, item.pg) = (item.c, item.s, item.g);
                item.g = g;
            }
            for i in &fresh {
                let (sign, e) = match &changes[*i].change {
                    Change::Inserted(e) => (1, e),
                    Change::Removed(e) => (-1, e),
                };
                item.c += sign;
                item.s += Decimal::from(sign) * e.value;
            }
            item.m = changes[*last].seq.clone();
            writes.push(item);
        }
        Ok(writes)
    }

    async fn read_cells(
        &self,
        keys: Vec<Item>,
    ) -> Result<HashMap<(String, String), CellItem>, StoreError> {
        let table = self.store.aggregates_table().to_owned();
        let chunks: Vec<Vec<Item>> = keys.chunks(BATCH_GET).map(<[Item]>::to_vec).collect();
        let items: Vec<Vec<Item>> = futures::stream::iter(chunks)
            .map(|chunk| self.batch_get(&table, chunk))
            .buffer_unordered(WRITES_IN_FLIGHT)
            .try_collect()
            .await?;
        let mut cells = HashMap::new();
        for item in items.into_iter().flatten() {
            let cell: CellItem = dynamo::from_item(&item)?;
            cells.insert((cell.pk.clone(), cell.sk.clone()), cell);
        }
        Ok(cells)
    }

    async fn batch_get(&self, table: &str, keys: Vec<Item>) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::new();
        let mut wanted = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(true)
                .build()
                .map_err(|e| shared::dynamo::Malformed(e.to_string()))?,
        );
        let mut round = 0u32;
        while let Some(ask) = wanted.take() {
            let out = self
                .store
                .client()
                .batch_get_item()
                .request_items(table, ask)
                .send()
                .await
                .map_err(unavailable)?;
            if let Some(items) = out.responses().and_then(|r| r.get(table)) {
                found.extend(items.iter().cloned());
            }
            wanted = out
                .unprocessed_keys()
                .and_then(|u| u.get(table))
                .filter(|k| !k.keys().is_empty())
                .cloned();
            if wanted.is_some() {
                round += 1;
                backoff(round).await;
            }
        }
        Ok(found)
    }

    async fn write_cells(&self, cells: Vec<CellItem>) -> Result<(), StoreError> {
        let table = self.store.aggregates_table().to_owned();
        let requests = cells
            .iter()
            .map(|c| {
                Ok(WriteRequest::builder()
                    .put_request(
                        PutRequest::builder()
                            .set_item(Some(dynamo::to_item(c)?))
                            .build()
                            .map_err(|e| shared::dynamo::Malformed(e.to_string()))?,
                    )
                    .build())
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let chunks: Vec<Vec<WriteRequest>> = requests
            .chunks(BATCH_WRITE)
            .map(<[WriteRequest]>::to_vec)
            .collect();
        futures::stream::iter(chunks)
            .map(|chunk| self.batch_write(&table, chunk))
            .buffer_unordered(WRITES_IN_FLIGHT)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }

    async fn batch_write(
        &self,
        table: &str,
        mut requests: Vec<WriteRequest>,
    ) -> Result<(), StoreError> {
        let mut round = 0u32;
        while !requests.is_empty() {
            let out = self
                .store
                .client()
                .batch_write_item()
                .request_items(table, requests)
                .send()
                .await
                .map_err(unavailable)?;
            requests = out
                .unprocessed_items()
                .and_then(|u| u.get(table))
                .cloned()
                .unwrap_or_default();
            if !requests.is_empty() {
                round += 1;
                backoff(round).await;
            }
        }
        Ok(())
    }
}

/// A conditional write's outcome: `false` when its condition failed.
fn conditional<T, E>(
    result: Result<
        T,
        aws_sdk_dynamodb::error::SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
    >,
) -> Result<bool, StoreError>
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Ok(_) => Ok(true),
        Err(e)
            if aws_sdk_dynamodb::error::ProvideErrorMetadata::code(&e)
                == Some("ConditionalCheckFailedException") =>
        {
            Ok(false)
        }
        Err(e) => Err(unavailable(e).into()),
    }
}

async fn backoff(round: u32) {
    tokio::time::sleep(Duration::from_millis(20 * u64::from(round.min(10)))).await;
}
