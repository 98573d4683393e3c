//! The aggregator on DynamoDB Local: a batch delivered twice, retried after dying between
//! two of its writes (and bisected), or replayed never counts an event twice or loses one,
//! and reports see a batch whole or not at all.

use crate::common::{self, T};
use aggregate_events::change;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use events_domain::{compute, Change, Event, EventId, ReportQuery};
use events_store::StreamChange;
use rust_decimal::Decimal;
use shared::Owner;
use std::sync::atomic::{AtomicUsize, Ordering};

fn event(n: u32, client: i32, value: &str) -> Event {
    Event {
        id: EventId::parse(&format!("00000000-0000-4000-8000-{n:012}")).unwrap(),
        device_type: None,
        category: Some((n % 3) as i32),
        client,
        client_group: 1,
        timestamp: events_domain::event::parse_timestamp(&format!(
            "2026-03-{:02}T08:15:00Z",
            10 + n % 3
        ))
        .unwrap(),
        valid: n.is_multiple_of(2),
        value: Decimal::from_str_exact(value).unwrap(),
    }
}

fn inserted(owner: &Owner, seq: u64, e: Event) -> StreamChange {
    StreamChange {
        owner: owner.clone(),
        seq: format!("{seq:021}"),
        created: 1_773_130_000,
        change: Change::Inserted(e),
    }
}

async fn total(events: &T, owner: &Owner, query: &str) -> (i64, String) {
    let pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect();
    let q = ReportQuery::parse(&pairs).unwrap();
    let head = events.store.head(owner).await.unwrap();
    let cells = events.store.report_cells(owner, &q, head).await.unwrap();
    let report = compute(&q, cells.cells);
    let (count, sum) = report
        .rows
        .iter()
        .fold((0, Decimal::ZERO), |(c, s), r| (c + r.count, s + r.sum));
    (count, sum.normalize().to_string())
}

#[tokio::test]
async fn a_batch_delivered_twice_counts_once() {
    let events = common::fresh().await;
    let owner = Owner("tenant-a".into());
    let batch: Vec<StreamChange> = (0..20)
        .map(|n| inserted(&owner, 100 + n as u64, event(n, 7, "0.1")))
        .collect();
    events
        .aggregator
        .apply("shard-1", batch.clone(), 1)
        .await
        .unwrap();
    events.aggregator.apply("shard-1", batch, 2).await.unwrap();
    assert_eq!(total(&events, &owner, "group_by=").await, (20, "2".into()));
    assert_eq!(
        total(&events, &owner, "group_by=date+valid").await,
        (20, "2".into())
    );
}

#[tokio::test]
async fn a_bisected_retry_and_a_replay_neither_double_nor_lose() {
    let events = common::fresh().await;
    let owner = Owner("tenant-b".into());
    let all: Vec<StreamChange> = (0..30)
        .map(|n| inserted(&owner, 1000 + n as u64, event(n, n as i32 % 4, "1.5")))
        .collect();
    // The shard's batches in order, then the whole shard replayed from its start, then a
    // batch cut at other boundaries.
    events
        .aggregator
        .apply("shard-1", all[..10].to_vec(), 1)
        .await
        .unwrap();
    events
        .aggregator
        .apply("shard-1", all[10..20].to_vec(), 2)
        .await
        .unwrap();
    events
        .aggregator
        .apply("shard-1", all[20..].to_vec(), 3)
        .await
        .unwrap();
    events
        .aggregator
        .apply("shard-1", all.clone(), 4)
        .await
        .unwrap();
    events
        .aggregator
        .apply("shard-1", all[5..25].to_vec(), 5)
        .await
        .unwrap();
    assert_eq!(total(&events, &owner, "group_by=").await, (30, "45".into()));
    assert_eq!(
        total(&events, &owner, "group_by=client+category").await,
        (30, "45".into())
    );
    // A removal subtracts exactly.
    let removed = StreamChange {
        change: Change::Removed(event(3, 3, "1.5")),
        ..inserted(&owner, 5000, event(3, 3, "1.5"))
    };
    events
        .aggregator
        .apply("shard-1", vec![removed], 6)
        .await
        .unwrap();
    assert_eq!(
        total(&events, &owner, "group_by=client").await,
        (29, "43.5".into())
    );
    // Other tenants see nothing.
    assert_eq!(
        total(&events, &Owner("tenant-c".into()), "group_by=").await,
        (0, "0".into())
    );
}

#[test]
fn stream_records_of_the_sample_event_are_read_as_changes() {
    let sample = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../events/aggregate-events.json"
    ))
    .unwrap();
    let batch: aws_lambda_events::event::dynamodb::TimeWindowEvent =
        serde_json::from_str(&sample).unwrap();
    assert!(batch.time_window_properties.shard_id.is_some());
    let changes: Vec<_> = batch
        .dynamo_db_event
        .records
        .iter()
        .filter_map(|r| change(r).unwrap())
        .collect();
    assert_eq!(changes.len(), batch.dynamo_db_event.records.len());
    assert!(changes
        .iter()
        .any(|c| matches!(c.change, Change::Removed(_))));
}

/// Lets the first `allowed` requests of one DynamoDB operation through, then fails every
/// later one, as if the function died there: what was written stays written.
#[derive(Debug)]
struct DiesAt {
    operation: &'static str,
    /// Only the requests whose body holds this (a condition, say).
    body: Option<&'static str>,
    allowed: AtomicUsize,
}

impl DiesAt {
    fn new(operation: &'static str, allowed: usize) -> DiesAt {
        DiesAt {
            operation,
            body: None,
            allowed: AtomicUsize::new(allowed),
        }
    }
}

impl Intercept for DiesAt {
    fn name(&self) -> &'static str {
        "DiesAt"
    }

    fn read_before_transmit(
        &self,
        ctx: &BeforeTransmitInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let target = ctx.request().headers().get("x-amz-target").unwrap_or("");
        let body = ctx.request().body().bytes().unwrap_or_default();
        let holds = |needle: &str| body.windows(needle.len()).any(|w| w == needle.as_bytes());
        if target.ends_with(&format!(".{}", self.operation))
            && self.body.is_none_or(holds)
            && self
                .allowed
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_err()
        {
            return Err("the function died here".into());
        }
        Ok(())
    }
}

/// The report totals of a few shapes, and the rows of the finest one.
async fn shapes(events: &T, owner: &Owner) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    for q in ["group_by=", "group_by=client+category", "limit=1000"] {
        out.push(total(events, owner, q).await);
    }
    out
}

/// What `shapes` must say of `events` (each counted once).
fn expected(events: &[StreamChange]) -> Vec<(i64, String)> {
    let sum: Decimal = events
        .iter()
        .map(|c| match &c.change {
            Change::Inserted(e) => e.value,
            Change::Removed(e) => -e.value,
        })
        .sum();
    vec![(events.len() as i64, sum.normalize().to_string()); 3]
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_retried_after_dying_between_its_writes_counts_once_and_shows_whole() {
    let events = common::fresh().await;
    // Dying before any cell is written, after some cells, after most, and after every
    // cell but before the head commits (the second PutItem).
    for (i, (operation, allowed)) in [
        ("BatchWriteItem", 0),
        ("BatchWriteItem", 3),
        ("BatchWriteItem", 30),
        ("PutItem", 1),
    ]
    .into_iter()
    .enumerate()
    {
        let owner = Owner(format!("tenant-dies-{i}"));
        let first: Vec<StreamChange> = (0..40)
            .map(|n| inserted(&owner, 100 + n as u64, event(n, n as i32 % 5, "0.25")))
            .collect();
        events
            .aggregator
            .apply("shard-1", first.clone(), 1)
            .await
            .unwrap();
        assert_eq!(shapes(&events, &owner).await, expected(&first));

        let batch: Vec<StreamChange> = (40..140)
            .map(|n| inserted(&owner, 200 + n as u64, event(n, n as i32 % 7, "1.000001")))
            .collect();
        let dying = common::beside(&events, DiesAt::new(operation, allowed)).await;
        let died = dying.aggregator.apply("shard-1", batch.clone(), 2).await;
        assert!(died.is_err(), "{operation} {allowed}: {died:?}");
        // Nothing of the batch shows, however much of it was written.
        assert_eq!(
            shapes(&events, &owner).await,
            expected(&first),
            "{operation} {allowed}"
        );

        // Lambda retries it, bisected: the first half alone still shows nothing of it.
        let half = events
            .aggregator
            .apply("shard-1", batch[..50].to_vec(), 3)
            .await
            .unwrap();
        assert_eq!(half.committed, 0, "{operation} {allowed}");
        assert_eq!(shapes(&events, &owner).await, expected(&first));
        let rest = events
            .aggregator
            .apply("shard-1", batch[50..].to_vec(), 4)
            .await
            .unwrap();
        assert_eq!(rest.committed, 1);
        let all: Vec<StreamChange> = first.iter().chain(&batch).cloned().collect();
        assert_eq!(
            shapes(&events, &owner).await,
            expected(&all),
            "{operation} {allowed}"
        );
        // And delivered once more whole: nothing moves.
        events
            .aggregator
            .apply("shard-1", batch.clone(), 5)
            .await
            .unwrap();
        assert_eq!(shapes(&events, &owner).await, expected(&all));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bisected_batch_of_two_tenants_commits_each_with_its_own_records() {
    let events = common::fresh().await;
    let (a, b) = (Owner("tenant-a".into()), Owner("tenant-b".into()));
    let batch = vec![
        inserted(&a, 10, event(1, 1, "1")),
        inserted(&a, 11, event(2, 1, "2")),
        inserted(&b, 12, event(3, 2, "4")),
        inserted(&b, 13, event(4, 2, "8")),
    ];
    // Every cell written, neither head committed.
    let dying = common::beside(
        &events,
        DiesAt {
            body: Some("pending.g = :g"),
            ..DiesAt::new("PutItem", 0)
        },
    )
    .await;
    assert!(dying
        .aggregator
        .apply("shard-1", batch.clone(), 1)
        .await
        .is_err());
    assert_eq!(total(&events, &a, "group_by=").await, (0, "0".into()));
    assert_eq!(total(&events, &b, "group_by=").await, (0, "0".into()));
    // The retry's first half holds only the first tenant's records: it commits them.
    let first = events
        .aggregator
        .apply("shard-1", batch[..2].to_vec(), 2)
        .await
        .unwrap();
    assert_eq!(first.committed, 1);
    assert_eq!(total(&events, &a, "group_by=").await, (2, "3".into()));
    assert_eq!(total(&events, &b, "group_by=").await, (0, "0".into()));
    events
        .aggregator
        .apply("shard-1", batch[2..].to_vec(), 3)
        .await
        .unwrap();
    assert_eq!(total(&events, &a, "group_by=").await, (2, "3".into()));
    assert_eq!(total(&events, &b, "group_by=").await, (2, "12".into()));
}
