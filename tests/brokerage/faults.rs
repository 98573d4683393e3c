//! Infrastructure faults: Redis killed or frozen mid-run, DynamoDB Local killed and back,
//! DynamoDB hanging, and (with a mock client, as no real server does it on demand)
//! write conflicts on every attempt and throttling. Never a 5xx but 503, never a
//! panic, never a stale read after a write that returned.

use api_tests::procs::Server;
use api_tests::*;
use aws_sdk_dynamodb::operation::get_item::GetItemError;
use aws_sdk_dynamodb::operation::query::QueryError;
use aws_sdk_dynamodb::operation::transact_get_items::{
    TransactGetItemsError, TransactGetItemsOutput,
};
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::error::{
    ProvisionedThroughputExceededException, TransactionConflictException,
};
use aws_sdk_dynamodb::types::ItemResponse;
use aws_sdk_dynamodb::Client;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use brokerage_domain::{Account, AccountId, Cash};
use serde_json::json;
use shared::Field;
use std::time::{Duration, Instant};

fn assert_503(resp: &lambda_http::Response<lambda_http::Body>) {
    assert_eq!(resp.status(), 503, "{:?}", resp.body());
    assert_eq!(resp.headers()["retry-after"], "1");
    assert_eq!(content_type(resp), "application/problem+json");
}

/// Account 1 of the events' tenant, with 1000 in cash, as DynamoDB would return it.
fn stored_account() -> std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue> {
    let cash = Cash::parse(&Field::Number("1000".into())).unwrap();
    brokerage_store::items::account_item(&Account::open(AccountId(1), owner(), cash), 0).unwrap()
}

#[tokio::test]
async fn conflicts_on_every_attempt_end_in_a_503_after_bounded_retries() {
    let snapshot = mock!(Client::transact_get_items).then_output(|| {
        TransactGetItemsOutput::builder()
            .responses(
                ItemResponse::builder()
                    .set_item(Some(stored_account()))
                    .build(),
            )
            .responses(ItemResponse::builder().build())
            .responses(ItemResponse::builder().build())
            .responses(ItemResponse::builder().build())
            .build()
    });
    // The account item's write alone, refused each time for a transaction in progress on it.
    let conflict = mock!(Client::update_item).then_error(|| {
        UpdateItemError::TransactionConflictException(
            TransactionConflictException::builder()
                .message("transaction in progress")
                .build(),
        )
    });
    let client = mock_client!(aws_sdk_dynamodb, RuleMode::MatchAny, [&snapshot, &conflict]);
    let t = app_from_client(
        config(&unique_table(), None),
        client,
        CallCounter::default(),
    );
    let started = Instant::now();
    let resp = place_order::handle(
        &t,
        request("place-order", 1, &order(OPEN_TS, "BUY", "AAPL", 1, "1")),
    )
    .await;
    assert_503(&resp);
    assert_eq!(json_of(&resp)["title"], json!("Account busy"));
    // Every attempt judged on a fresh read, with jittered backoff between them.
    let attempts = brokerage_store::store::MAX_COMMIT_ATTEMPTS as usize;
    assert_eq!(conflict.num_calls(), attempts);
    assert_eq!(snapshot.num_calls(), attempts);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn throttling_is_a_503_on_reads_and_orders() {
    let throttled_read = mock!(Client::get_item).then_error(|| {
        GetItemError::ProvisionedThroughputExceededException(
            ProvisionedThroughputExceededException::builder()
                .message("slow down")
                .build(),
        )
    });
    let throttled_snapshot = mock!(Client::transact_get_items).then_error(|| {
        TransactGetItemsError::ProvisionedThroughputExceededException(
            ProvisionedThroughputExceededException::builder()
                .message("slow down")
                .build(),
        )
    });
    let throttled_query = mock!(Client::query).then_error(|| {
        QueryError::ProvisionedThroughputExceededException(
            ProvisionedThroughputExceededException::builder()
                .message("slow down")
                .build(),
        )
    });
    let client = mock_client!(
        aws_sdk_dynamodb,
        RuleMode::MatchAny,
        [&throttled_read, &throttled_snapshot, &throttled_query]
    );
    let t = app_from_client(
        config(&unique_table(), None),
        client,
        CallCounter::default(),
    );
    assert_503(&get_account::handle(&t, request("get-account", 1, "")).await);
    assert_503(
        &place_order::handle(
            &t,
            request("place-order", 1, &order(OPEN_TS, "BUY", "A", 1, "1")),
        )
        .await,
    );
    assert_503(&list_orders::handle(&t, request("list-orders", 1, "")).await);
}

#[tokio::test]
async fn a_dynamodb_that_never_answers_is_a_503_within_the_sdk_timeouts() {
    // Accepts connections and reads nothing back: every call times out.
    let port = silent_listener().await;
    let mut config = config(&unique_table(), None);
    config.dynamodb_endpoint = Some(format!("http://127.0.0.1:{port}"));
    let t = app_with_no_table(config).await;
    let started = Instant::now();
    assert_503(
        &place_order::handle(
            &t,
            request("place-order", 1, &order(OPEN_TS, "BUY", "A", 1, "1")),
        )
        .await,
    );
    // The SDK's operation timeout is 5 s.
    assert!(
        started.elapsed() < Duration::from_secs(7),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn dynamodb_stopped_is_a_503_and_the_same_app_recovers_when_it_returns() {
    let mut ddb = Server::dynamodb();
    let mut config = config(&unique_table(), None);
    config.dynamodb_endpoint = Some(ddb.url("http"));
    let t = app_with(config).await;
    assert_eq!(
        create_account::handle(&t, event("create-account"))
            .await
            .status(),
        201
    );

    ddb.kill();
    assert_503(&create_account::handle(&t, event("create-account")).await);
    assert_503(&get_account::handle(&t, event("get-account")).await);
    assert_503(&place_order::handle(&t, event("place-order")).await);
    assert_503(&list_orders::handle(&t, event("list-orders")).await);

    // Back (in memory, so empty): the same app, with the same client, works again.
    ddb.restart();
    t.store.create_table().await.unwrap();
    let opened = create_account::handle(&t, event("create-account")).await;
    assert_eq!(opened.status(), 201);
    let placed = place_order::handle(&t, event("place-order")).await;
    assert_eq!(json_of(&placed)["business_errors"], json!([]));
}

#[tokio::test]
async fn redis_killed_mid_run_never_gives_a_5xx_nor_a_stale_read_when_it_returns() {
    let mut redis = Server::redis();
    let t = app_with(config(&unique_table(), Some(redis.url("redis") + "/"))).await;
    create_account::handle(
        &t,
        with_body(event("create-account"), r#"{"cash": 100000}"#),
    )
    .await;
    let mut expected_cash = 100_000;
    for i in 0..60i64 {
        if i == 20 {
            redis.kill();
        }
        if i == 40 {
            redis.restart();
        }
        // Distinct share counts: never a duplicate.
        let buy = order(OPEN_TS + i, "BUY", "AAPL", (i + 1) as u64, "1");
        let placed = place_order::handle(&t, request("place-order", 1, &buy)).await;
        assert_eq!(placed.status(), 200, "order {i}");
        expected_cash -= i + 1;
        for _ in 0..2 {
            let read = get_account::handle(&t, request("get-account", 1, "")).await;
            assert_eq!(read.status(), 200, "read {i}");
            assert_eq!(
                json_of(&read)["cash"],
                json!(expected_cash),
                "read after order {i}"
            );
        }
    }
}

#[tokio::test]
async fn redis_frozen_bounds_every_answer_by_the_cache_timeout_and_stays_fresh() {
    let redis = Server::redis();
    let t = app_with(config(&unique_table(), Some(redis.url("redis") + "/"))).await;
    create_account::handle(&t, with_body(event("create-account"), r#"{"cash": 1000}"#)).await;
    get_account::handle(&t, request("get-account", 1, "")).await;

    redis.signal("-STOP");
    let mut slowest = Duration::ZERO;
    for i in 0..5i64 {
        let started = Instant::now();
        let buy = order(OPEN_TS + i, "BUY", "AAPL", (i + 1) as u64, "1");
        assert_eq!(
            place_order::handle(&t, request("place-order", 1, &buy))
                .await
                .status(),
            200
        );
        let read = get_account::handle(&t, request("get-account", 1, "")).await;
        assert_eq!(read.status(), 200);
        slowest = slowest.max(started.elapsed());
    }
    // Two requests, each with at most one cache call bounded by 50 ms, plus DynamoDB Local.
    assert!(slowest < Duration::from_millis(1000), "{slowest:?}");
    redis.signal("-CONT");
    // Writes queued while frozen land now or never; either way no read is stale.
    for _ in 0..3 {
        let read = get_account::handle(&t, request("get-account", 1, "")).await;
        assert_eq!(json_of(&read)["cash"], json!(1000 - 15));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
