//! Snapshots: single flight, freshness windows, conditional refresh, generations,
//! validation and privacy before caching.

use crate::common::*;
use catalog_domain::{Collection, COLLECTIONS};
use serde_json::{json, Value};

const PRODUCTS: &str = "{ products(first: 100) { totalCount nodes { id title } } }";

async fn meta(t: &T, key: &str) -> catalog_store::Meta {
    let c = Collection::from_key(key).unwrap();
    t.app
        .catalog
        .snapshots
        .all_metas()
        .await
        .unwrap()
        .into_iter()
        .find(|(k, _)| *k == c)
        .unwrap()
        .1
        .unwrap()
}

async fn forget_metas(t: &T) {
    let cache = &t.app.catalog.app.cache;
    cache.forget(cache.key("metas").unwrap()).await;
}

#[tokio::test]
async fn concurrent_misses_make_one_upstream_get_per_collection() {
    let t = fresh().await;
    let answers = futures::future::join_all((0..8).map(|_| gql(&t, PRODUCTS, json!({})))).await;
    for (status, body) in answers {
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["products"]["totalCount"], 47, "{body}");
    }
    assert_eq!(t.fakes.hits("fakestore/products"), 1);
    assert_eq!(t.fakes.hits("dummyjson/products"), 1);
    assert_eq!(t.fakes.total_hits(), 2);
}

#[tokio::test]
async fn fresh_is_served_without_a_call_and_stale_is_revalidated_once_in_the_background() {
    let t = fresh().await;
    filled(&t).await;
    let before = meta(&t, "dummyjson/products").await;
    t.advance(600);
    data(&t, PRODUCTS).await;
    assert_eq!(t.fakes.total_hits(), 0, "within FRESH nothing is fetched");
    t.advance(1);
    forget_metas(&t).await;
    for _ in 0..3 {
        data(&t, PRODUCTS).await;
    }
    t.settle().await;
    assert_eq!(
        t.fakes.hits("dummyjson/products"),
        1,
        "one background refresh"
    );
    // The upstream answered 304 to If-None-Match: only META's times moved.
    let after = meta(&t, "dummyjson/products").await;
    assert_eq!(after.generation, before.generation);
    assert_eq!(after.fetched_at, before.fetched_at + 601);
}

#[tokio::test]
async fn an_unchanged_snapshot_has_its_items_ttl_rewritten_daily() {
    let t = fresh().await;
    filled(&t).await;
    let before = meta(&t, "fakestore/users").await;
    // A day on, the refresh asks for the whole answer (no If-None-Match): unchanged, the
    // items are written again (their TTL moves) under the same generation.
    t.advance(86_401);
    forget_metas(&t).await;
    data(&t, "{ users { totalCount } }").await;
    let after = meta(&t, "fakestore/users").await;
    assert_eq!(after.generation, before.generation);
    assert_eq!(after.written_at, before.written_at + 86_401);
    assert_eq!(after.fetched_at, after.written_at);
}

#[tokio::test]
async fn a_change_is_a_new_generation_adopted_whole() {
    let t = fresh().await;
    filled(&t).await;
    let before = meta(&t, "fakestore/products").await;
    t.fault(
        "fakestore",
        Some("products"),
        "edit",
        json!({"value": "Renamed Headphones"}),
    );
    t.advance(86_401);
    forget_metas(&t).await;
    let d = data(&t, PRODUCTS).await;
    assert_eq!(d["products"]["nodes"][0]["title"], "Renamed Headphones");
    let after = meta(&t, "fakestore/products").await;
    assert!(after.generation > before.generation);
    assert_ne!(after.hash, before.hash);
    // The old generation's items stay readable (with their TTL) for readers still on it.
    let old = t
        .app
        .catalog
        .snapshots
        .read(&[before.entity(1)])
        .await
        .unwrap();
    assert!(old.values().next().unwrap().contains("Wireless"));
}

#[tokio::test]
async fn expired_is_refetched_in_the_request_and_served_stale_when_that_fails() {
    let t = fresh().await;
    filled(&t).await;
    t.fault(
        "dummyjson",
        Some("products"),
        "status",
        json!({"status": 500}),
    );
    t.advance(86_401);
    forget_metas(&t).await;
    let (status, body) = gql(&t, PRODUCTS, json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body["data"]["products"]["totalCount"], 47, "{body}");
    assert_eq!(codes(&body), vec!["STALE_DATA"]);
    let e = &body["errors"][0]["extensions"];
    assert_eq!(e["source"], "dummyjson");
    assert_eq!(e["collection"], "products");
    assert_eq!(e["ageSeconds"], 86_401);
    assert_eq!(e["reason"], "status-500");
    assert!(
        !body.to_string().contains("127.0.0.1"),
        "errors never carry upstream URLs"
    );
    assert!(
        !body.to_string().contains("internal.example"),
        "nor upstream bodies"
    );
}

#[tokio::test]
async fn a_failed_background_refresh_is_said_with_stale_data() {
    let t = fresh().await;
    filled(&t).await;
    t.fault(
        "jsonplaceholder",
        Some("users"),
        "status",
        json!({"status": 503}),
    );
    t.advance(3_600);
    forget_metas(&t).await;
    data(&t, "{ users { totalCount } }").await;
    t.settle().await;
    forget_metas(&t).await;
    let (_, body) = gql(&t, "{ users { totalCount } }", json!({})).await;
    assert_eq!(body["data"]["users"]["totalCount"], 6);
    assert_eq!(codes(&body), vec!["STALE_DATA"]);
    assert_eq!(body["errors"][0]["extensions"]["reason"], "status-503");
    // One refresh and its one retry.
    assert_eq!(t.fakes.hits("jsonplaceholder/users"), 2);
}

#[tokio::test]
async fn past_max_stale_or_never_cached_a_collection_is_unavailable_and_the_others_answer() {
    let t = fresh().await;
    t.fault("dummyjson", None, "status", json!({"status": 500}));
    let (status, body) = gql(
        &t,
        r#"{ products(first: 100) { totalCount } product(id: "dummyjson:1") { id } }"#,
        json!({}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["data"]["products"]["totalCount"], 12,
        "Fake Store still answers: {body}"
    );
    assert_eq!(body["data"]["product"], Value::Null);
    assert_eq!(codes(&body), vec!["UPSTREAM_UNAVAILABLE"]);
    assert_eq!(body["errors"][0]["extensions"]["collection"], "products");
    t.fakes.clear();
    data(&t, PRODUCTS).await;
    t.fault("dummyjson", None, "status", json!({"status": 500}));
    t.advance(7 * 86_400 + 1);
    forget_metas(&t).await;
    let (_, body) = gql(&t, PRODUCTS, json!({})).await;
    assert_eq!(body["data"]["products"]["totalCount"], 12);
    assert_eq!(codes(&body), vec!["UPSTREAM_UNAVAILABLE"]);
    let (_, body) = gql(
        &t,
        "{ sources { source collection state count } }",
        json!({}),
    )
    .await;
    let dj = body["data"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == "DUMMY_JSON" && s["collection"] == "products")
        .unwrap()
        .clone();
    assert_eq!(dj["state"], "EXPIRED");
}

#[tokio::test]
async fn a_wrong_answer_is_refused_whole_and_the_old_snapshot_kept() {
    for (kind, reason) in [
        ("drift", "invalid-envelope"),
        ("short-page", "total-mismatch"),
        ("bad-json", "invalid-json"),
    ] {
        let t = fresh().await;
        filled(&t).await;
        let before = meta(&t, "dummyjson/products").await;
        t.fault("dummyjson", Some("products"), kind, json!({}));
        t.advance(86_401);
        forget_metas(&t).await;
        let (_, body) = gql(&t, PRODUCTS, json!({})).await;
        assert_eq!(body["data"]["products"]["totalCount"], 47, "{kind}: {body}");
        assert_eq!(codes(&body), vec!["STALE_DATA"], "{kind}");
        assert_eq!(body["errors"][0]["extensions"]["reason"], reason, "{kind}");
        assert_eq!(
            meta(&t, "dummyjson/products").await.generation,
            before.generation
        );
        let refused = t.metric("SnapshotsRefused");
        assert_eq!(refused.last().unwrap()["Reason"], reason);
    }
}

#[tokio::test]
async fn bad_records_are_dropped_and_counted_and_secrets_never_stored() {
    let t = fresh().await;
    filled(&t).await;
    let rejected = t.metric("RecordsRejected");
    let mut seen: Vec<(String, String, String)> = rejected
        .iter()
        .map(|m| {
            (
                m["Source"].as_str().unwrap().into(),
                m["Collection"].as_str().unwrap().into(),
                m["Reason"].as_str().unwrap().into(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        vec![
            (
                "dummyjson".into(),
                "products".into(),
                "invalid-price".into()
            ),
            (
                "jsonplaceholder".into(),
                "photos".into(),
                "invalid-url".into()
            ),
            (
                "jsonplaceholder".into(),
                "todos".into(),
                "invalid-string".into()
            ),
        ]
    );
    let d = data(&t, "{ sources { source collection state count rejected } }").await;
    let sources = d["sources"].as_array().unwrap();
    assert_eq!(sources.len(), COLLECTIONS.len());
    assert!(sources.iter().all(|s| s["state"] == "FRESH"), "{d}");
    let photos = sources
        .iter()
        .find(|s| s["collection"] == "photos")
        .unwrap();
    assert_eq!(
        (photos["count"].as_i64(), photos["rejected"].as_i64()),
        (Some(119), Some(1))
    );
    // The whole table, as text: no secret of any fixture is in it.
    let mut dump = String::new();
    let mut start = None;
    loop {
        let out = t
            .app
            .catalog
            .app
            .dynamodb
            .scan()
            .table_name(&t.table)
            .set_exclusive_start_key(start)
            .send()
            .await
            .unwrap();
        dump.push_str(&format!("{:?}", out.items()));
        start = out.last_evaluated_key;
        if start.is_none() {
            break;
        }
    }
    assert!(dump.contains("Ava"), "the dump holds the users");
    for secret in [
        "SECRETPW",
        "SSN-",
        "EIN-",
        "SECRETIBAN",
        "SECRETWALLET",
        "203.0.113.",
        "02:00:5e:",
        "SECRETUA",
        "424242",
        "password",
        "macAddress",
    ] {
        assert!(!dump.contains(secret), "{secret} is stored");
    }
}
