//! API Gateway's limits where it is absent (the local API): per key rate, burst and daily
//! quota, the stage's rate and burst for all keys together, kept in Redis; 429 as API
//! Gateway answers, and a refused request changes nothing.

use api_tests::*;
use lambda_http::{Body, Response};
use serde_json::json;
use shared::{KeySource, Limits};
use std::time::Duration;

const OTHER: &str = "local-other-key";

/// Limits no test reaches, to lower one at a time.
fn generous() -> Limits {
    Limits {
        key_rate: 1_000,
        key_burst: 1_000,
        daily_quota: 1_000_000,
        stage_rate: 1_000,
        stage_burst: 1_000,
    }
}

/// Limits a second request would break in every way: burst, stage burst and quota.
fn one_request() -> Limits {
    Limits {
        key_burst: 1,
        stage_burst: 1,
        daily_quota: 1,
        ..generous()
    }
}

/// An app with these limits; `change` adjusts the rest of the test configuration.
async fn limited_with(limits: Limits, change: impl FnOnce(&mut shared::Config)) -> TestApp {
    let mut c = config(&unique_table(), Some(required_env("REDIS_URL")));
    c.limits = limits;
    change(&mut c);
    app_with(c).await
}

async fn limited(limits: Limits) -> TestApp {
    limited_with(limits, |_| {}).await
}

/// A request of `key` that the limits let through (account 1 does not exist: 404).
async fn admitted(t: &TestApp, key: &str) {
    assert_eq!(read(t, key).await.status(), 404);
}

async fn read(t: &TestApp, key: &str) -> Response<Body> {
    get_account::handle(
        t,
        with_header(request("get-account", 1, ""), "x-api-key", key),
    )
    .await
}

fn assert_429(resp: &Response<Body>, title: &str) -> u64 {
    assert_eq!(resp.status(), 429, "{:?}", resp.body());
    assert_eq!(content_type(resp), "application/problem+json");
    let body = json_of(resp);
    assert_eq!(body["title"], json!(title));
    assert_eq!(body["status"], json!(429));
    resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .expect("Retry-After in seconds")
}

#[tokio::test]
async fn a_key_gets_its_burst_then_429_and_the_refused_request_changes_nothing() {
    let t = limited(Limits {
        key_rate: 1,
        key_burst: 3,
        ..generous()
    })
    .await;
    for id in 1..=3 {
        let opened = create_account::handle(&t, event("create-account")).await;
        assert_eq!(json_of(&opened)["id"], json!(id));
    }
    let refused = create_account::handle(&t, event("create-account")).await;
    assert_eq!(assert_429(&refused, "THROTTLED"), 1);
    assert_eq!(
        t.store
            .load_account(&owner(), brokerage_domain::AccountId(4))
            .await
            .unwrap(),
        None
    );
    let order = order(OPEN_TS, "BUY", "AAPL", 1, "1");
    let refused = place_order::handle(&t, request("place-order", 1, &order)).await;
    assert_429(&refused, "THROTTLED");
    assert_eq!(
        stored(&t, 1).await.version,
        0,
        "the refused order was not applied"
    );
    // The limit is the key's: another key still has its own burst.
    admitted(&t, OTHER).await;
}

#[tokio::test]
async fn the_burst_refills_at_the_key_rate() {
    let t = limited(Limits {
        key_rate: 2,
        key_burst: 1,
        ..generous()
    })
    .await;
    admitted(&t, "local-dev-key").await;
    assert_eq!(assert_429(&read(&t, "local-dev-key").await, "THROTTLED"), 1);
    // One request every 500 ms.
    tokio::time::sleep(Duration::from_millis(600)).await;
    admitted(&t, "local-dev-key").await;
}

#[tokio::test]
async fn the_stage_limit_holds_every_key_together() {
    let t = limited(Limits {
        stage_rate: 1,
        stage_burst: 2,
        ..generous()
    })
    .await;
    admitted(&t, "local-dev-key").await;
    admitted(&t, "local-dev-key").await;
    assert_429(&read(&t, OTHER).await, "THROTTLED");
}

#[tokio::test]
async fn the_daily_quota_refuses_until_the_day_ends() {
    let t = limited(Limits {
        daily_quota: 2,
        ..generous()
    })
    .await;
    admitted(&t, "local-dev-key").await;
    admitted(&t, "local-dev-key").await;
    let wait = assert_429(&read(&t, "local-dev-key").await, "QUOTA_EXCEEDED");
    assert!((1..=86_400).contains(&wait), "{wait}");
    // The quota is the key's.
    admitted(&t, OTHER).await;
}

#[tokio::test]
async fn without_redis_the_limits_let_requests_through() {
    let t = limited_with(one_request(), |c| {
        c.redis_url = Some("redis://127.0.0.1:1/".into());
    })
    .await;
    for _ in 0..3 {
        admitted(&t, "local-dev-key").await;
    }
}

#[tokio::test]
async fn behind_api_gateway_the_functions_leave_the_limits_to_it() {
    let t = limited_with(one_request(), |c| c.keys = KeySource::ApiGateway).await;
    assert!(t.limiter.is_none());
    for _ in 0..3 {
        let resp = get_account::handle(&t, request("get-account", 1, "")).await;
        assert_eq!(resp.status(), 404);
    }
}
