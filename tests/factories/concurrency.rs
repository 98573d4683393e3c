//! Concurrency: one winner per `If-Match`, no lost chart point, each import key created
//! once, a cache that never answers older than a returned write, and a chart write whose
//! writer died after committing it seen whole and finished by the next writer.

use crate::common::*;
use factories_domain::Point;
use lambda_http::http::Method;
use std::sync::Arc;

#[tokio::test]
async fn parallel_writes_with_one_if_match_let_exactly_one_through() {
    let t = Arc::new(fresh().await);
    let r = call(&t, req(Method::POST, "/sprockets", KEY, SPROCKET)).await;
    let id = json(&r)["id"].as_u64().unwrap();
    let tag = etag(&r);
    let mut tasks = Vec::new();
    for i in 0..12 {
        let (t, tag) = (t.clone(), tag.clone());
        tasks.push(tokio::spawn(async move {
            let body = format!(r#"{{"teeth": {}}}"#, i + 1);
            let r = call(
                &t,
                with(
                    req(Method::PATCH, &format!("/sprockets/{id}"), KEY, &body),
                    "if-match",
                    &tag,
                ),
            )
            .await;
            r.status().as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|&&s| s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|&&s| s == 412).count(),
        11,
        "{statuses:?}"
    );
    let r = call(&t, req(Method::GET, &format!("/sprockets/{id}"), KEY, "")).await;
    assert_eq!(json(&r)["version"], 2);
}

#[tokio::test]
async fn concurrent_chart_writes_to_one_factory_never_lose_a_point() {
    let t = Arc::new(fresh().await);
    let r = call(&t, req(Method::POST, "/factories", KEY, "{}")).await;
    let id = json(&r)["id"].as_u64().unwrap();
    let writers = 8;
    let per = 25i64;
    let mut tasks = Vec::new();
    for w in 0..writers {
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            let times = (0..per).map(move |k| w * 1000 + k);
            let r = call(
                &t,
                req(
                    Method::POST,
                    &format!("/factories/{id}/chart-data"),
                    KEY,
                    &chart(times),
                ),
            )
            .await;
            assert_eq!(r.status(), 200, "{:?}", r.body());
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let s = json(&call(&t, req(Method::GET, &format!("/factories/{id}"), KEY, "")).await);
    assert_eq!(s["point_count"].as_i64(), Some(writers * per));
    assert_eq!(s["version"].as_i64(), Some(1 + writers));
    let page = json(
        &call(
            &t,
            req(
                Method::GET,
                &format!("/factories/{id}/chart-data?limit=10000"),
                KEY,
                "",
            ),
        )
        .await,
    );
    assert_eq!(page["time"].as_array().unwrap().len() as i64, writers * per);
}

#[tokio::test]
async fn concurrent_identical_imports_create_each_key_once() {
    let t = Arc::new(fresh().await);
    let body = format!(
        r#"{{"factories": [{{"key": "plant-a", "factory": {{"chart_data": {}}}}}], "sprockets": [{{"key": "s1", "teeth": 5, "pitch_diameter": 5, "outside_diameter": 6, "pitch": 1}}]}}"#,
        chart([1, 2, 3])
    );
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let (t, body) = (t.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let r = call(&t, req(Method::POST, "/imports", KEY, &body)).await;
            assert_eq!(r.status(), 200, "{:?}", r.body());
            json(&r)
        }));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    for kind in ["factories", "sprockets"] {
        let created = answers
            .iter()
            .filter(|a| a[kind][0]["result"] == "created")
            .count();
        assert_eq!(created, 1, "{kind}: {answers:?}");
        let ids: std::collections::BTreeSet<u64> = answers
            .iter()
            .map(|a| a[kind][0]["id"].as_u64().unwrap())
            .collect();
        assert_eq!(ids.len(), 1, "{kind}: {answers:?}");
    }
    let list = json(&call(&t, req(Method::GET, "/sprockets", KEY, "")).await);
    assert_eq!(list["sprockets"].as_array().unwrap().len(), 1);
    let list = json(&call(&t, req(Method::GET, "/factories", KEY, "")).await);
    assert_eq!(list["factories"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn reads_never_see_an_older_state_than_a_returned_write() {
    let t = Arc::new(fresh().await);
    let r = call(&t, req(Method::POST, "/sprockets", KEY, SPROCKET)).await;
    let id = json(&r)["id"].as_u64().unwrap();
    let r = call(&t, req(Method::POST, "/factories", KEY, "{}")).await;
    let f = json(&r)["id"].as_u64().unwrap();
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Readers: versions they see never go down.
    let mut readers = Vec::new();
    for _ in 0..3 {
        let (t, done) = (t.clone(), done.clone());
        readers.push(tokio::spawn(async move {
            let (mut last_s, mut last_f) = (0, 0);
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                let s =
                    json(&call(&t, req(Method::GET, &format!("/sprockets/{id}"), KEY, "")).await);
                let v = s["version"].as_u64().unwrap();
                assert!(v >= last_s, "sprocket version {v} after {last_s}");
                last_s = v;
                let r = call(
                    &t,
                    req(Method::GET, &format!("/factories/{f}/chart-data"), KEY, ""),
                )
                .await;
                let n = json(&r)["time"].as_array().unwrap().len();
                assert!(n >= last_f, "chart of {n} points after {last_f}");
                last_f = n;
            }
        }));
    }
    for i in 1..=150u64 {
        let body = format!(r#"{{"teeth": {}}}"#, i % 1000 + 1);
        let w = call(
            &t,
            req(Method::PATCH, &format!("/sprockets/{id}"), KEY, &body),
        )
        .await;
        assert_eq!(w.status(), 200);
        let r = json(&call(&t, req(Method::GET, &format!("/sprockets/{id}"), KEY, "")).await);
        assert_eq!(r["version"].as_u64(), Some(i + 1), "read after write {i}");
        assert_eq!(r["teeth"].as_u64(), Some(i % 1000 + 1));
        if i % 3 == 0 {
            let w = call(
                &t,
                req(
                    Method::POST,
                    &format!("/factories/{f}/chart-data"),
                    KEY,
                    &chart([i as i64]),
                ),
            )
            .await;
            assert_eq!(w.status(), 200);
            let page = json(
                &call(
                    &t,
                    req(Method::GET, &format!("/factories/{f}/chart-data"), KEY, ""),
                )
                .await,
            );
            assert_eq!(
                page["time"].as_array().unwrap().len() as u64,
                i / 3,
                "chart after write {i}"
            );
            let s = json(&call(&t, req(Method::GET, &format!("/factories/{f}"), KEY, "")).await);
            assert_eq!(s["point_count"].as_u64(), Some(i / 3));
        }
    }
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    for r in readers {
        r.await.unwrap();
    }
}

#[tokio::test]
async fn a_write_whose_writer_died_after_committing_is_seen_whole_and_finished() {
    let t = fresh().await;
    let owner = shared::Owner(KEY.into());
    let r = call(
        &t,
        req(
            Method::POST,
            "/factories",
            KEY,
            &format!(r#"{{"chart_data": {}}}"#, chart([10, 20])),
        ),
    )
    .await;
    let id = json(&r)["id"].as_u64().unwrap();
    // The commit of a write of three points, as its writer left it: the summary at the new
    // version naming the intent, an expired lease, one point applied of three.
    let points = [
        Point {
            time: 20,
            actual: 99,
            goal: 99,
        },
        Point {
            time: 30,
            actual: 3,
            goal: 3,
        },
        Point {
            time: 40,
            actual: 4,
            goal: 4,
        },
    ];
    let intent = factories_store::items::IntentItem::new(id, "dead", 2, &points);
    t.store
        .client()
        .put_item()
        .table_name(t.store.table())
        .set_item(Some(intent.to_item().unwrap()))
        .send()
        .await
        .unwrap();
    let mut summary = t.store.get_factory(&owner, id).await.unwrap().unwrap();
    summary.version = 2;
    summary.point_count = 4;
    summary.last_time = Some(40);
    summary.pending = Some("dead".into());
    summary.lease_until = Some(0);
    t.store
        .client()
        .put_item()
        .table_name(t.store.table())
        .set_item(Some(summary.to_item().unwrap()))
        .send()
        .await
        .unwrap();
    let applied = factories_store::items::PointItem::new(id, &points[1], 2);
    t.store
        .client()
        .put_item()
        .table_name(t.store.table())
        .set_item(Some(applied.to_item().unwrap()))
        .send()
        .await
        .unwrap();
    // Readers see the committed write whole (the cache still names version 1: the stored
    // point of version 2 sends the read to DynamoDB).
    let page = json(
        &call(
            &t,
            req(Method::GET, &format!("/factories/{id}/chart-data"), KEY, ""),
        )
        .await,
    );
    assert_eq!(page["time"], serde_json::json!([10, 20, 30, 40]));
    assert_eq!(
        page["sprocket_production_actual"],
        serde_json::json!([10, 99, 3, 4])
    );
    // The next writer finishes it first, then writes its own.
    let w = json(
        &call(
            &t,
            req(
                Method::POST,
                &format!("/factories/{id}/chart-data"),
                KEY,
                &chart([50]),
            ),
        )
        .await,
    );
    assert_eq!(w["factory"]["version"], 3);
    assert_eq!(w["factory"]["point_count"], 5);
    let settled = t.store.get_factory(&owner, id).await.unwrap().unwrap();
    assert_eq!(settled.pending, None);
    let page = json(
        &call(
            &t,
            req(Method::GET, &format!("/factories/{id}/chart-data"), KEY, ""),
        )
        .await,
    );
    assert_eq!(page["time"], serde_json::json!([10, 20, 30, 40, 50]));
    assert_eq!(
        page["sprocket_production_actual"],
        serde_json::json!([10, 99, 3, 4, 50])
    );
}

#[tokio::test]
async fn parallel_chart_writes_with_one_if_match_let_exactly_one_through() {
    let t = Arc::new(fresh().await);
    let r = call(&t, req(Method::POST, "/factories", KEY, "{}")).await;
    let id = json(&r)["id"].as_u64().unwrap();
    let tag = etag(&r);
    let mut tasks = Vec::new();
    for w in 0..6i64 {
        let (t, tag) = (t.clone(), tag.clone());
        tasks.push(tokio::spawn(async move {
            let body = chart([w * 10, w * 10 + 1]);
            let r = call(
                &t,
                with(
                    req(
                        Method::POST,
                        &format!("/factories/{id}/chart-data"),
                        KEY,
                        &body,
                    ),
                    "if-match",
                    &tag,
                ),
            )
            .await;
            r.status().as_u16()
        }));
    }
    let mut statuses = Vec::new();
    for task in tasks {
        statuses.push(task.await.unwrap());
    }
    assert_eq!(
        statuses.iter().filter(|&&s| s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|&&s| s == 412).count(),
        5,
        "{statuses:?}"
    );
    let s = json(&call(&t, req(Method::GET, &format!("/factories/{id}"), KEY, "")).await);
    assert_eq!(
        (s["version"].as_u64(), s["point_count"].as_u64()),
        (Some(2), Some(2))
    );
}
