//! The events service's aggregation on DynamoDB Local: exactly once, whole generations.

use aggregate_events::change;
use chrono_tz::Tz;
use events_domain::{compute, Change, Event, EventId, ReportQuery};
use events_store::{Events, StreamChange};
use rust_decimal::Decimal;
use shared::{App, FixedClock, Owner, State};
use std::sync::Arc;

async fn events_app() -> Events {
    let table = api_tests::unique_table();
    let mut config = shared::Config::from_lookup(Events::SERVICE, |_| None).unwrap();
    config.table_name = table.clone();
    config.dynamodb_endpoint = Some(api_tests::required_env("DYNAMODB_ENDPOINT"));
    let sdk = shared::app::sdk_config(&config).await;
    let client = aws_sdk_dynamodb::Client::from_conf(shared::app::dynamodb_config(&sdk).build());
    let app = App::new(config, client, Arc::new(FixedClock::new(1_773_130_000))).unwrap();
    let events = Events::with(app, format!("{table}-aggregates"), Tz::UTC);
    events.store.create_tables().await.unwrap();
    events
}

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

async fn total(events: &Events, owner: &Owner, query: &str) -> (i64, String) {
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
    let events = events_app().await;
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
    let events = events_app().await;
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
