//! Upstream manners, driven through the fake upstreams' fault switches.

use crate::common::*;
use catalog_domain::source::Kind;
use catalog_domain::{Collection, Source};
use catalog_store::upstream::{Bucket, Fetched};
use catalog_store::{UpstreamError, Upstreams};
use serde_json::json;
use std::time::{Duration, Instant};

fn upstreams(t: &T) -> Upstreams {
    let urls: std::collections::HashMap<String, String> = t
        .fakes
        .urls()
        .into_iter()
        .map(|(e, u)| (format!("UPSTREAM_{e}_URL"), u))
        .collect();
    Upstreams::from_lookup(
        &|k: &str| urls.get(k).cloned(),
        t.app.catalog.app.cache.connection(),
    )
    .unwrap()
    .with_namespace(&t.table)
}

fn products() -> Collection {
    Collection::find(Source::FakeStore, Kind::Product).unwrap()
}

#[tokio::test]
async fn a_5xx_or_a_timeout_is_retried_once() {
    let t = fresh().await;
    let u = upstreams(&t);
    t.fault(
        "fakestore",
        Some("products"),
        "status",
        json!({"status": 503, "times": 1}),
    );
    assert!(matches!(
        u.fetch(products(), None).await,
        Ok(Fetched::Body { .. })
    ));
    assert_eq!(t.fakes.hits("fakestore/products"), 2);
    t.fault(
        "fakestore",
        Some("products"),
        "status",
        json!({"status": 503}),
    );
    assert_eq!(
        u.fetch(products(), None).await.unwrap_err(),
        UpstreamError::Status(503)
    );
    assert_eq!(t.fakes.hits("fakestore/products"), 4, "one retry, not more");
    t.fakes.clear();
    t.fault(
        "fakestore",
        Some("products"),
        "status",
        json!({"status": 404}),
    );
    assert_eq!(
        u.fetch(products(), None).await.unwrap_err(),
        UpstreamError::Status(404)
    );
    assert_eq!(
        t.fakes.hits("fakestore/products"),
        5,
        "a 404 is not retried"
    );
    t.fakes.clear();
    t.fault(
        "fakestore",
        Some("products"),
        "hang",
        json!({"delay_ms": 7000, "times": 1}),
    );
    let started = Instant::now();
    assert!(u.fetch(products(), None).await.is_ok());
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(5) && took < Duration::from_secs(7),
        "{took:?}"
    );
}

#[tokio::test]
async fn a_429s_retry_after_holds_every_instance_off() {
    let t = fresh().await;
    t.fault(
        "fakestore",
        Some("products"),
        "429",
        json!({"retry_after": 2, "times": 1}),
    );
    let (a, b) = (upstreams(&t), upstreams(&t));
    assert_eq!(
        a.fetch(products(), None).await.unwrap_err(),
        UpstreamError::RateLimited
    );
    // The other instance waits too, without calling.
    assert_eq!(
        b.fetch(products(), None).await.unwrap_err(),
        UpstreamError::RateLimited
    );
    assert_eq!(t.fakes.hits("fakestore/products"), 1);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(b.fetch(products(), None).await.is_ok());
    // Through the API: nothing cached and rate-limited is UPSTREAM_UNAVAILABLE.
    t.fault("jsonplaceholder", Some("users"), "429", json!({}));
    let (status, body) = gql(&t, "{ users { totalCount } }", json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["data"]["users"]["totalCount"], 6,
        "the other sources answer: {body}"
    );
    assert_eq!(codes(&body), vec!["UPSTREAM_UNAVAILABLE"]);
    assert_eq!(body["errors"][0]["extensions"]["reason"], "rate-limited");
}

#[tokio::test]
async fn five_failures_open_the_circuit_for_every_instance_then_one_probe() {
    let t = fresh().await;
    let (a, b) = (upstreams(&t), upstreams(&t));
    t.fault("dummyjson", None, "status", json!({"status": 500}));
    let dj = Collection::find(Source::DummyJson, Kind::Todo).unwrap();
    for _ in 0..5 {
        assert_eq!(
            a.fetch(dj, None).await.unwrap_err(),
            UpstreamError::Status(500)
        );
    }
    assert_eq!(t.fakes.hits("dummyjson/todos"), 5);
    assert_eq!(
        b.fetch(dj, None).await.unwrap_err(),
        UpstreamError::CircuitOpen
    );
    assert_eq!(
        t.fakes.hits("dummyjson/todos"),
        5,
        "an open circuit calls nothing"
    );
    // Other upstreams have circuits of their own.
    assert!(a.fetch(products(), None).await.is_ok());
    // After 30 s one probe goes through; here it fails, so the circuit opens again.
    let cache = &t.app.catalog.app.cache;
    let mut conn = cache.connection().unwrap();
    let _: () = redis::cmd("DEL")
        .arg(format!("{}:upstream:dummyjson:open", t.table))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        a.fetch(dj, None).await.unwrap_err(),
        UpstreamError::Status(500)
    );
    assert_eq!(t.fakes.hits("dummyjson/todos"), 6);
    assert_eq!(
        b.fetch(dj, None).await.unwrap_err(),
        UpstreamError::CircuitOpen
    );
    t.fakes.clear();
    let _: () = redis::cmd("DEL")
        .arg(format!("{}:upstream:dummyjson:open", t.table))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(b.fetch(dj, None).await.is_ok(), "a good probe closes it");
    assert!(a.fetch(dj, None).await.is_ok());
}

#[tokio::test]
async fn the_token_bucket_is_shared_and_waits_at_most_200_ms() {
    let t = fresh().await;
    let bucket = Bucket {
        rate: 1.0,
        burst: 2.0,
    };
    let a = upstreams(&t).with_bucket(Source::FakeStore, bucket);
    let b = upstreams(&t).with_bucket(Source::FakeStore, bucket);
    assert!(a.fetch(products(), None).await.is_ok());
    assert!(b.fetch(products(), None).await.is_ok());
    // The burst is spent across both instances; the next token is ~1 s away.
    assert_eq!(
        a.fetch(products(), None).await.unwrap_err(),
        UpstreamError::RateLimited
    );
    assert_eq!(t.fakes.hits("fakestore/products"), 2);
    // A token within 200 ms is waited for.
    let fast = upstreams(&t).with_bucket(
        Source::JsonPlaceholder,
        Bucket {
            rate: 10.0,
            burst: 1.0,
        },
    );
    let users = Collection::find(Source::JsonPlaceholder, Kind::User).unwrap();
    assert!(fast.fetch(users, None).await.is_ok());
    assert!(fast.fetch(users, None).await.is_ok());
}

#[tokio::test]
async fn a_conditional_get_answers_304_with_the_etag() {
    let t = fresh().await;
    let u = upstreams(&t);
    let Ok(Fetched::Body { etag, .. }) = u.fetch(products(), None).await else {
        panic!()
    };
    let etag = etag.expect("the fakes send an ETag");
    assert!(matches!(
        u.fetch(products(), Some(&etag)).await,
        Ok(Fetched::NotModified)
    ));
}
