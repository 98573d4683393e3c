//! The routes' rules through their handlers: races, tenants, bad input that changes nothing,
//! the DynamoDB calls each route makes (the contract's bounds), and DynamoDB or Redis down.

use crate::common::{self, body, create, id, on_event, report, Stream, KEY, NOW, OTHER};
use api_tests::{silent_listener, unique_table, with_header};
use chrono_tz::Tz;
use events_domain::{Change, EventId};
use events_store::StreamChange;
use lambda_http::{Body, Response};
use shared::Owner;

fn problem(resp: &Response<Body>, status: u16) -> serde_json::Value {
    assert_eq!(resp.status(), status, "{:?}", resp.body());
    assert_eq!(api_tests::content_type(resp), "application/problem+json");
    common::json(resp)
}

#[tokio::test(flavor = "multi_thread")]
async fn of_parallel_creates_of_one_id_one_is_201_and_the_stored_event_is_its() {
    let t = common::fresh().await;
    let answers = futures::future::join_all((0..16).map(|n| {
        let events = t.events.clone();
        async move {
            let value = format!("{n}.5");
            let resp = create_event::handle(&events, create(KEY, &body(1, 9, &value))).await;
            (resp.status().as_u16(), value)
        }
    }))
    .await;
    let won: Vec<&String> = answers
        .iter()
        .filter(|(s, _)| *s == 201)
        .map(|(_, v)| v)
        .collect();
    assert_eq!(won.len(), 1, "{answers:?}");
    assert!(answers.iter().all(|(s, _)| *s == 201 || *s == 409));
    let stored = get_event::handle(&t, on_event("get-event", KEY, &id(1))).await;
    assert_eq!(common::json(&stored)["value"].to_string(), *won[0]);

    // The 409 names its problem; the event is unchanged.
    let again = create_event::handle(&t, create(KEY, &body(1, 9, "77"))).await;
    assert!(problem(&again, 409)["type"]
        .as_str()
        .unwrap()
        .ends_with("event-exists"));
    let stored = get_event::handle(&t, on_event("get-event", KEY, &id(1))).await;
    assert_eq!(common::json(&stored)["value"].to_string(), *won[0]);
}

#[tokio::test(flavor = "multi_thread")]
async fn of_parallel_deletes_one_is_204_and_the_event_is_gone() {
    let t = common::fresh().await;
    assert_eq!(
        create_event::handle(&t, create(KEY, &body(2, 1, "1")))
            .await
            .status(),
        201
    );
    // Read once so that the cache holds it: the delete must remove it.
    let read = get_event::handle(&t, on_event("get-event", KEY, &id(2))).await;
    assert_eq!(read.status(), 200);
    let statuses = futures::future::join_all((0..12).map(|_| {
        let events = t.events.clone();
        async move {
            delete_event::handle(&events, on_event("delete-event", KEY, &id(2)))
                .await
                .status()
                .as_u16()
        }
    }))
    .await;
    assert_eq!(
        statuses.iter().filter(|s| **s == 204).count(),
        1,
        "{statuses:?}"
    );
    assert!(statuses.iter().all(|s| *s == 204 || *s == 404));
    problem(
        &get_event::handle(&t, on_event("get-event", KEY, &id(2))).await,
        404,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn other_tenants_get_404_and_empty_reports_and_change_nothing() {
    let t = common::fresh().await;
    let stream = Stream::start(&t, false).await;
    // The uppercase id is the same event.
    let upper = id(3).to_uppercase();
    let created = create_event::handle(&t, create(KEY, &body(3, 5, "2.5"))).await;
    assert_eq!(created.status(), 201);
    assert_eq!(
        created.headers()["location"],
        format!("/event/{}", id(3)).as_str()
    );
    stream.until(1).await;
    let theirs = |route| on_event(route, OTHER, &upper);
    problem(&get_event::handle(&t, theirs("get-event")).await, 404);
    problem(&delete_event::handle(&t, theirs("delete-event")).await, 404);
    let empty = report::handle(&t, report(OTHER, &[("group_by", "")])).await;
    assert_eq!(empty.status(), 200);
    assert_eq!(common::json(&empty)["rows"], serde_json::json!([]));
    assert_eq!(common::json(&empty)["pagination"]["total_count"], 0);
    // The owner still has it, and its report counts it.
    let mine = get_event::handle(&t, on_event("get-event", KEY, &upper)).await;
    assert_eq!(common::json(&mine)["id"], id(3).as_str());
    let total = report::handle(&t, report(KEY, &[("group_by", "")])).await;
    assert_eq!(
        common::json(&total)["rows"],
        serde_json::json!([{"count": 1, "sum": 2.5, "mean": 2.5}])
    );
}

#[tokio::test]
async fn bad_input_is_a_problem_naming_it_and_changes_nothing() {
    let t = common::fresh().await;
    let good = body(4, 1, "1");
    let with = |field: &str, value: &str| {
        let mut v: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&good).unwrap();
        match value {
            "<absent>" => {
                v.remove(field);
            }
            raw => {
                v.insert(field.into(), serde_json::from_str(raw).unwrap());
            }
        }
        serde_json::to_string(&v).unwrap()
    };
    for (field, value) in [
        ("id", r#""not-a-uuid""#),
        ("id", "7"),
        ("device_type", r#""phone""#),
        ("category", "1.5"),
        ("category", "2147483648"),
        ("client", "<absent>"),
        ("client", r#""7""#),
        ("client_group", "null"),
        ("timestamp", r#""2026-03-10T08:15:00""#),
        ("timestamp", r#""2026-03-10T08:15:00.1234567Z""#),
        ("timestamp", r#""1969-12-31T23:59:59Z""#),
        ("valid", "1"),
        ("value", "1.0000001"),
        ("value", "1000000000000"),
        ("value", r#""42.17""#),
        ("_id", r#""x""#),
    ] {
        let resp = create_event::handle(&t, create(KEY, &with(field, value))).await;
        let p = problem(&resp, 400);
        assert_eq!(p["field"], field, "{field}: {value}");
    }
    problem(&create_event::handle(&t, create(KEY, "[1]")).await, 400);
    problem(&create_event::handle(&t, create(KEY, "{")).await, 400);
    let big = format!(r#"{{"pad": "{}"}}"#, "x".repeat(17 * 1024));
    problem(&create_event::handle(&t, create(KEY, &big)).await, 413);
    // Nothing of those was stored.
    problem(
        &get_event::handle(&t, on_event("get-event", KEY, &id(4))).await,
        404,
    );
    let p = problem(
        &get_event::handle(&t, on_event("get-event", KEY, "12345")).await,
        400,
    );
    assert_eq!(p["field"], "event_id");
    problem(
        &delete_event::handle(&t, on_event("delete-event", KEY, "x")).await,
        400,
    );

    for (query, parameter) in [
        (vec![("group_by", "date,colour")], "group_by"),
        (vec![("group_by", "client client")], "group_by"),
        (
            vec![("group_by", "client"), ("order_by", "valid")],
            "order_by",
        ),
        (vec![("clients", "1,x")], "clients"),
        (vec![("categories", "2147483648")], "categories"),
        (vec![("device_types", "phone")], "device_types"),
        (vec![("valid", "yes")], "valid"),
        (vec![("valid", "true"), ("valid", "false")], "valid"),
        (vec![("start_date", "2026-02-30")], "start_date"),
        (
            vec![("start_date", "2026-03-02"), ("end_date", "2026-03-02")],
            "end_date",
        ),
        (vec![("limit", "0")], "limit"),
        (vec![("limit", "1001")], "limit"),
        (vec![("offset", "1000001")], "offset"),
        (vec![("colour", "red")], "colour"),
    ] {
        let resp = report::handle(&t, report(KEY, &query)).await;
        let p = problem(&resp, 400);
        assert_eq!(p["parameter"], parameter, "{query:?}");
    }
    let many: Vec<String> = (0..101).map(|n| n.to_string()).collect();
    let resp = report::handle(&t, report(KEY, &[("clients", &many.join(","))])).await;
    assert_eq!(problem(&resp, 400)["parameter"], "clients");
}

/// `n` generated events of `owner`, as stream records.
fn generated(owner: &Owner, n: usize) -> Vec<StreamChange> {
    let mut rng = fastrand::Rng::with_seed(7);
    (0..n)
        .map(|i| StreamChange {
            owner: owner.clone(),
            seq: format!("{:021}", 1000 + i),
            created: NOW,
            change: Change::Inserted(api_tests::events::generated(
                &mut rng,
                EventId::parse(&id(i as u64)).unwrap(),
            )),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn each_route_makes_no_more_dynamodb_calls_than_the_contract_allows() {
    // Cache off: the calls of a miss. Every key of the local list is a tenant.
    let c = common::config(&unique_table(), None, vec![KEY.into()]);
    let t = common::build(c, Tz::UTC, Vec::new()).await;
    t.store.create_tables().await.unwrap();
    let owner = Owner(KEY.into());
    let changes = generated(&owner, 3000);
    for chunk in changes.chunks(1000) {
        t.aggregator
            .apply("shard-1", chunk.to_vec(), NOW)
            .await
            .unwrap();
    }
    t.calls.take();
    for (query, bound) in [
        (vec![("group_by", "date device_type valid")], 2),
        (
            vec![
                ("group_by", "client"),
                ("order_by", "-count"),
                ("limit", "10"),
            ],
            2,
        ),
        (
            vec![
                ("group_by", "client category"),
                ("valid", "true"),
                ("start_date", "2026-03-10"),
                ("end_date", "2026-03-17"),
            ],
            10,
        ),
    ] {
        let resp = report::handle(&t, report(KEY, &query)).await;
        assert_eq!(resp.status(), 200, "{query:?}");
        let rows = common::json(&resp)["pagination"]["total_count"]
            .as_u64()
            .unwrap();
        assert!(rows > 0, "{query:?}");
        let calls = t.calls.take();
        assert!(calls <= bound, "{query:?}: {calls} calls, bound {bound}");
    }
    // POST /event: one PutItem; with an Idempotency-Key, two more (the record's claim and keep).
    let resp = create_event::handle(&t, create(KEY, &body(900_001, 1, "1"))).await;
    assert_eq!(resp.status(), 201);
    assert_eq!(t.calls.take(), 1);
    let keyed = with_header(create(KEY, &body(900_002, 1, "1")), "idempotency-key", "k1");
    assert_eq!(create_event::handle(&t, keyed).await.status(), 201);
    assert_eq!(t.calls.take(), 3);
    // GET: one GetItem without a cache; DELETE: one DeleteItem.
    let resp = get_event::handle(&t, on_event("get-event", KEY, &id(900_001))).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(t.calls.take(), 1);
    let resp = delete_event::handle(&t, on_event("delete-event", KEY, &id(900_001))).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(t.calls.take(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn cached_reads_make_one_call_or_none() {
    let t = common::fresh().await;
    let owner = Owner(KEY.into());
    t.aggregator
        .apply("shard-1", generated(&owner, 200), NOW)
        .await
        .unwrap();
    assert_eq!(
        create_event::handle(&t, create(KEY, &body(5, 1, "1")))
            .await
            .status(),
        201
    );
    let get = || get_event::handle(&t, on_event("get-event", KEY, &id(5)));
    assert_eq!(get().await.status(), 200);
    t.calls.take();
    assert_eq!(get().await.status(), 200);
    assert_eq!(t.calls.take(), 0, "a cached event costs no call");
    let q = [("group_by", "client"), ("order_by", "-sum")];
    let first = report::handle(&t, report(KEY, &q)).await;
    t.calls.take();
    let again = report::handle(&t, report(KEY, &q)).await;
    assert_eq!(again.body(), first.body());
    assert_eq!(t.calls.take(), 1, "a cached page costs the head's read");
}

#[tokio::test(flavor = "multi_thread")]
async fn dynamodb_down_is_503_on_every_route_and_loses_no_event() {
    let mut c = common::config(&unique_table(), None, vec![KEY.into()]);
    c.dynamodb_endpoint = Some("http://127.0.0.1:1".into());
    let t = common::build(c, Tz::UTC, Vec::new()).await;
    for resp in [
        create_event::handle(&t, create(KEY, &body(6, 1, "1"))).await,
        get_event::handle(&t, on_event("get-event", KEY, &id(6))).await,
        delete_event::handle(&t, on_event("delete-event", KEY, &id(6))).await,
        report::handle(&t, report(KEY, &[])).await,
    ] {
        problem(&resp, 503);
        assert!(resp.headers().contains_key("retry-after"));
    }
    // The aggregator fails the batch, which the mapping then retries: nothing is dropped.
    let owner = Owner(KEY.into());
    assert!(t
        .aggregator
        .apply("shard-1", generated(&owner, 5), NOW)
        .await
        .is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_silent_is_a_cache_miss_and_dynamodb_answers() {
    let port = silent_listener().await;
    let mut c = common::config(
        &unique_table(),
        Some(format!("redis://127.0.0.1:{port}")),
        vec![KEY.into()],
    );
    c.cache_timeout = std::time::Duration::from_millis(50);
    let t = common::build(c, Tz::UTC, Vec::new()).await;
    t.store.create_tables().await.unwrap();
    let stream = Stream::start(&t, false).await;
    assert_eq!(
        create_event::handle(&t, create(KEY, &body(7, 1, "3.5")))
            .await
            .status(),
        201
    );
    for _ in 0..2 {
        let resp = get_event::handle(&t, on_event("get-event", KEY, &id(7))).await;
        assert_eq!(common::json(&resp)["value"], 3.5);
    }
    stream.until(1).await;
    let resp = report::handle(&t, report(KEY, &[("group_by", "valid")])).await;
    assert_eq!(
        common::json(&resp)["rows"],
        serde_json::json!([{"valid": true, "count": 1, "sum": 3.5, "mean": 3.5}])
    );
    assert_eq!(
        delete_event::handle(&t, on_event("delete-event", KEY, &id(7)))
            .await
            .status(),
        204
    );
}
