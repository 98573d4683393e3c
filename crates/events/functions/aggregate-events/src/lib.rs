//! `aggregate-events`: a batch of the events table's stream, applied to the aggregates
//! exactly once (see `events_store::aggregate`). INSERT adds an event, REMOVE subtracts it;
//! anything else (an idempotency record, a MODIFY) moves nothing.
//!
//! The event source mapping has a tumbling window so that each batch names its shard
//! (`shardId`): checkpoints and marks are per shard. A returned error makes Lambda retry
//! the batch (bisected); nothing of it is visible until the retry completes it.

use aws_lambda_events::event::dynamodb::{EventRecord, TimeWindowEvent, TimeWindowEventResponse};
use events_domain::Change;
use events_store::items::{EventItem, EVENT_SK};
use events_store::{Applied, Events, StreamChange};
use shared::dynamo::{Item, Malformed};
use shared::{BoxError, Owner};

pub async fn handle(
    app: &Events,
    batch: TimeWindowEvent,
) -> Result<TimeWindowEventResponse, BoxError> {
    let applied = apply(app, batch).await?;
    tracing::info!(
        changes = applied.changes,
        cell_writes = applied.cell_writes,
        committed = applied.committed,
        "batch applied"
    );
    app.metrics.count("AggregateBatches", &[]);
    Ok(TimeWindowEventResponse::default())
}

/// The batch applied; what it moved.
pub async fn apply(app: &Events, batch: TimeWindowEvent) -> Result<Applied, BoxError> {
    let shard =
        batch.time_window_properties.shard_id.clone().ok_or(
            "the batch names no shard (the event source mapping needs its tumbling window)",
        )?;
    let mut changes = Vec::new();
    for record in &batch.dynamo_db_event.records {
        match change(record) {
            Ok(Some(c)) => changes.push(c),
            Ok(None) => {}
            // Only this service writes the table: such a record is a defect to see, not a
            // reason to stop the shard.
            Err(e) => {
                tracing::error!(event_id = record.event_id, error = %e, "stream record skipped");
                app.metrics.count("MalformedRecords", &[]);
            }
        }
    }
    Ok(app
        .aggregator
        .apply(&shard, changes, app.clock.now())
        .await?)
}

/// The change a record reports, if it is an event's.
pub fn change(record: &EventRecord) -> Result<Option<StreamChange>, Malformed> {
    let (image, inserted) = match record.event_name.as_str() {
        "INSERT" => (&record.change.new_image, true),
        "REMOVE" => (&record.change.old_image, false),
        _ => return Ok(None),
    };
    let item: Item = image.clone().into();
    if item
        .get(shared::dynamo::SK)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        != Some(EVENT_SK)
    {
        return Ok(None);
    }
    let stored = EventItem::from_item(&item)?;
    let event = stored.event()?;
    let seq = record
        .change
        .sequence_number
        .clone()
        .ok_or_else(|| Malformed("a stream record without its sequence number".into()))?;
    Ok(Some(StreamChange {
        owner: Owner(stored.tenant.clone()),
        seq,
        created: record.change.approximate_creation_date_time.timestamp(),
        change: if inserted {
            Change::Inserted(event)
        } else {
            Change::Removed(event)
        },
    }))
}
