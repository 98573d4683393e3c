//! `openapi.yaml` is kept true for the events routes: every status it documents for them is
//! one they really answer, with a body its schema accepts (real answers from the handlers,
//! on DynamoDB Local and Redis).

use crate::common::{self, body, create, id, on_event, report, KEY};
use api_tests::openapi::{check, openapi};
use api_tests::{required_env, unique_table, with_header, without_header};
use chrono_tz::Tz;
use lambda_http::{Body, Request, Response};
use std::collections::{BTreeMap, BTreeSet};

const CREATE: (&str, &str) = ("post", "/event");
const GET: (&str, &str) = ("get", "/event/{event_id}");
const DELETE: (&str, &str) = ("delete", "/event/{event_id}");
const REPORT: (&str, &str) = ("get", "/report");

/// One request to each route, with its answer.
async fn every_route(
    t: &common::T,
    change: impl Fn(Request) -> Request,
) -> Vec<((&'static str, &'static str), Response<Body>)> {
    vec![
        (
            CREATE,
            create_event::handle(t, change(create(KEY, &body(50, 1, "1")))).await,
        ),
        (
            GET,
            get_event::handle(t, change(on_event("get-event", KEY, &id(50)))).await,
        ),
        (
            DELETE,
            delete_event::handle(t, change(on_event("delete-event", KEY, &id(50)))).await,
        ),
        (
            REPORT,
            report::handle(t, change(report(KEY, &[("group_by", "valid")]))).await,
        ),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn every_documented_status_is_a_real_answer_in_the_documented_shape() {
    let doc = openapi();
    let t = common::fresh().await;
    let mut seen: BTreeMap<(&str, &str), BTreeSet<u16>> = BTreeMap::new();
    let mut record = |route: (&'static str, &'static str), resp: Response<Body>| {
        let status = check(&doc, route.0, route.1, &resp);
        seen.entry(route).or_default().insert(status);
    };

    record(
        CREATE,
        create_event::handle(&t, create(KEY, &body(1, 1, "1.5"))).await,
    );
    record(
        CREATE,
        create_event::handle(&t, create(KEY, &body(1, 1, "2"))).await,
    );
    record(
        CREATE,
        create_event::handle(&t, create(KEY, r#"{"client": "1"}"#)).await,
    );
    let big = format!(r#"{{"pad": "{}"}}"#, "x".repeat(17 * 1024));
    record(CREATE, create_event::handle(&t, create(KEY, &big)).await);
    let keyed = |r, k: &str| with_header(r, "idempotency-key", k);
    create_event::handle(&t, keyed(create(KEY, &body(2, 1, "1")), "k")).await;
    record(
        CREATE,
        create_event::handle(&t, keyed(create(KEY, &body(3, 1, "1")), "k")).await,
    );

    record(
        GET,
        get_event::handle(&t, on_event("get-event", KEY, &id(1))).await,
    );
    record(
        GET,
        get_event::handle(&t, on_event("get-event", KEY, "nope")).await,
    );
    record(
        GET,
        get_event::handle(&t, on_event("get-event", KEY, &id(9))).await,
    );
    record(
        DELETE,
        delete_event::handle(&t, on_event("delete-event", KEY, &id(1))).await,
    );
    record(
        DELETE,
        delete_event::handle(&t, on_event("delete-event", KEY, &id(1))).await,
    );
    record(
        DELETE,
        delete_event::handle(&t, on_event("delete-event", KEY, "nope")).await,
    );
    record(
        REPORT,
        report::handle(&t, report(KEY, &[("group_by", "date client")])).await,
    );
    record(
        REPORT,
        report::handle(&t, report(KEY, &[("limit", "0")])).await,
    );
    // Over 100,000 cells in range: the problem as the function renders it (filling that
    // many cells is the bench's business, not a test's).
    record(
        REPORT,
        events_store::report_too_large().into_response("/report"),
    );

    // Without a key: 403 on every route.
    for (route, resp) in every_route(&t, |r| without_header(r, "x-api-key")).await {
        record(route, resp);
    }
    // DynamoDB unreachable: 503 on every route.
    let mut c = common::config(&unique_table(), None, vec![KEY.into()]);
    c.dynamodb_endpoint = Some("http://127.0.0.1:1".into());
    let down = common::build(c, Tz::UTC, Vec::new()).await;
    for (route, resp) in every_route(&down, |r| r).await {
        record(route, resp);
    }
    // The key's burst spent: 429 on every route.
    let mut c = common::config(
        &unique_table(),
        Some(required_env("REDIS_URL")),
        vec![KEY.into()],
    );
    c.limits.key_rate = 1;
    c.limits.key_burst = 1;
    let limited = common::build(c, Tz::UTC, Vec::new()).await;
    limited.store.create_tables().await.unwrap();
    report::handle(&limited, report(KEY, &[])).await;
    for (route, resp) in every_route(&limited, |r| r).await {
        record(route, resp);
    }

    for route in [CREATE, GET, DELETE, REPORT] {
        let op = &doc["paths"][route.1][route.0];
        for (status, _) in op["responses"].as_object().expect("responses") {
            let status: u16 = status.parse().unwrap();
            assert!(
                seen.get(&route).is_some_and(|s| s.contains(&status)),
                "{} {} documents {status} but no test answer had it",
                route.0,
                route.1
            );
        }
    }
}
