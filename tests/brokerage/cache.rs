//! The read-through cache on redis-server, and what happens when Redis is away or slow.

use api_tests::*;
use brokerage_domain::AccountId;
use serde_json::json;
use std::time::{Duration, Instant};

async fn redis_get(key: &str) -> Option<String> {
    let client = redis::Client::open(required_env("REDIS_URL")).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("GET")
        .arg(key)
        .query_async(&mut conn)
        .await
        .unwrap()
}

async fn redis_ttl(key: &str) -> i64 {
    let client = redis::Client::open(required_env("REDIS_URL")).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    redis::cmd("TTL")
        .arg(key)
        .query_async(&mut conn)
        .await
        .unwrap()
}

/// Changes the stored cash behind the cache's back.
async fn set_cash_in_dynamodb(t: &TestApp, id: u64, cash: &str) {
    use aws_sdk_dynamodb::types::AttributeValue;
    t.store
        .client()
        .update_item()
        .table_name(t.store.table())
        .key("pk", AttributeValue::S(format!("ACCOUNT#{id}")))
        .key("sk", AttributeValue::S("ACCOUNT".into()))
        .update_expression("SET cash = :c")
        .expression_attribute_values(":c", AttributeValue::N(cash.into()))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn a_read_fills_the_cache_and_the_next_read_is_served_from_it() {
    let t = fresh_app().await;
    create_account::handle(&t, with_body(event("create-account"), r#"{"cash": 500}"#)).await;
    let key = format!(
        "{}:{}",
        t.config.table_name,
        brokerage_store::cache::account_name(&owner(), AccountId(1))
    );
    assert_eq!(redis_get(&key).await, None);

    t.calls.take();
    let first = get_account::handle(&t, event("get-account")).await;
    assert_eq!(json_of(&first)["cash"], json!(500));
    assert_eq!(t.calls.take(), 1, "a miss reads DynamoDB");
    let cached = redis_get(&key).await.expect("the miss filled the cache");
    // The view as served, then the account item's books that orders are judged on.
    let (view, books) = cached.split_once('\n').expect("the view, then the books");
    assert!(
        view.ends_with(r#"{"id":1,"cash":500,"issuers":[]}"#),
        "{cached}"
    );
    let books: brokerage_store::Books = serde_json::from_str(books).unwrap();
    assert_eq!(books, brokerage_store::Books::new());
    let ttl = redis_ttl(&key).await;
    assert!(
        (1..=60).contains(&ttl),
        "TTL {ttl} follows the configuration"
    );

    set_cash_in_dynamodb(&t, 1, "7").await;
    t.calls.take();
    let second = get_account::handle(&t, event("get-account")).await;
    assert_eq!(json_of(&second)["cash"], json!(500), "served from Redis");
    assert_eq!(t.calls.take(), 0, "a hit makes no DynamoDB call");
}

#[tokio::test]
async fn an_accepted_order_updates_the_cache_before_it_answers() {
    let t = fresh_app().await;
    create_account::handle(&t, with_body(event("create-account"), r#"{"cash": 1000}"#)).await;
    get_account::handle(&t, event("get-account")).await;
    place_order::handle(&t, event("place-order")).await;
    let after = get_account::handle(&t, event("get-account")).await;
    assert_eq!(json_of(&after)["cash"], json!(900));
    assert_eq!(json_of(&after)["issuers"][0]["total_shares"], json!(2));
}

#[tokio::test]
async fn an_older_state_never_replaces_a_newer_one_in_the_cache() {
    let t = fresh_app().await;
    create_account::handle(&t, with_body(event("create-account"), r#"{"cash": 1000}"#)).await;
    let before = t
        .store
        .load_account(&owner(), AccountId(1))
        .await
        .unwrap()
        .unwrap();
    place_order::handle(&t, event("place-order")).await;
    // A slow reader that loaded the account before the order now fills the cache.
    t.accounts.put_account(&before).await;
    let after = get_account::handle(&t, event("get-account")).await;
    assert_eq!(json_of(&after)["cash"], json!(900));
}

#[tokio::test]
async fn redis_refusing_connections_degrades_to_dynamodb() {
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let t = app_with(config(
        &unique_table(),
        Some(format!("redis://127.0.0.1:{closed}/")),
    ))
    .await;
    let created =
        create_account::handle(&t, with_body(event("create-account"), r#"{"cash": 10}"#)).await;
    assert_eq!(created.status(), 201);
    for _ in 0..3 {
        let r = get_account::handle(&t, event("get-account")).await;
        assert_eq!(r.status(), 200);
        assert_eq!(json_of(&r)["cash"], json!(10));
    }
    let placed = place_order::handle(
        &t,
        with_body(event("place-order"), order(OPEN_TS, "BUY", "X", 1, "10")),
    )
    .await;
    assert_eq!(json_of(&placed)["business_errors"], json!([]));
    assert_eq!(
        json_of(&get_account::handle(&t, event("get-account")).await)["cash"],
        json!(0)
    );
}

#[tokio::test]
async fn a_redis_that_never_answers_costs_at_most_the_cache_timeout() {
    // Accepts connections and reads, but never replies.
    let port = silent_listener().await;
    let mut c = config(&unique_table(), Some(format!("redis://127.0.0.1:{port}/")));
    c.cache_timeout = Duration::from_millis(50);
    let t = app_with(c).await;
    create_account::handle(&t, with_body(event("create-account"), r#"{"cash": 10}"#)).await;
    // Warm the DynamoDB connection so only the cache's share is timed.
    t.store.load_account(&owner(), AccountId(1)).await.unwrap();

    let started = Instant::now();
    let r = get_account::handle(&t, event("get-account")).await;
    let took = started.elapsed();
    assert_eq!(r.status(), 200);
    assert_eq!(json_of(&r)["cash"], json!(10));
    // A miss that times out (50 ms) plus a fill that times out (50 ms) plus one local read.
    assert!(took < Duration::from_millis(600), "took {took:?}");
}

#[tokio::test]
async fn without_redis_configured_every_read_goes_to_dynamodb() {
    let t = app_with(config(&unique_table(), None)).await;
    assert!(!t.cache.is_enabled());
    create_account::handle(&t, with_body(event("create-account"), r#"{"cash": 3}"#)).await;
    t.calls.take();
    assert_eq!(
        json_of(&get_account::handle(&t, event("get-account")).await)["cash"],
        json!(3)
    );
    assert_eq!(t.calls.take(), 1);
}
