//! Every route's answers and rules, and the DynamoDB calls each costs.

use crate::common::*;
use lambda_http::http::Method;

async fn create_sprocket(t: &T) -> (u64, String) {
    let r = call(t, req(Method::POST, "/sprockets", KEY, SPROCKET)).await;
    assert_eq!(r.status(), 201);
    let id = json(&r)["id"].as_u64().unwrap();
    assert_eq!(r.headers()["location"], format!("/sprockets/{id}").as_str());
    (id, etag(&r))
}

#[tokio::test]
async fn a_sprocket_lives_reads_through_the_cache_and_writes_once() {
    let t = fresh().await;
    let (id, tag) = create_sprocket(&t).await;
    let path = format!("/sprockets/{id}");
    t.calls.take();
    // Cached by the create: no call.
    let r = call(&t, req(Method::GET, &path, KEY, "")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(t.calls.take(), 0);
    assert_eq!(
        json(&r),
        serde_json::json!({"id": id, "teeth": 17, "pitch_diameter": 2.5, "outside_diameter": 2.75, "pitch": 0.5, "version": 1})
    );
    assert_eq!(etag(&r), tag);
    let r = call(
        &t,
        with(req(Method::GET, &path, KEY, ""), "if-none-match", &tag),
    )
    .await;
    assert_eq!(r.status(), 304);
    // Another tenant: nothing there, cache or not.
    assert_eq!(
        call(&t, req(Method::GET, &path, OTHER, "")).await.status(),
        404
    );

    // PUT: one conditional write, no read first.
    t.calls.take();
    let body = r#"{"teeth": 18, "pitch_diameter": 3, "outside_diameter": 3.25, "pitch": 0.5}"#;
    let r = call(
        &t,
        with(req(Method::PUT, &path, KEY, body), "if-match", &tag),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(t.calls.take(), 1);
    assert_eq!(json(&r)["version"], 2);
    let tag2 = etag(&r);
    assert_ne!(tag, tag2);
    // The old ETag no longer matches: 412 and nothing changes.
    let r = call(
        &t,
        with(
            req(Method::PATCH, &path, KEY, r#"{"teeth": 5}"#),
            "if-match",
            &tag,
        ),
    )
    .await;
    assert_eq!(r.status(), 412);
    assert_eq!(t.calls.take(), 1);
    let r = call(&t, req(Method::GET, &path, KEY, "")).await;
    assert_eq!(json(&r)["teeth"], 18);
    // PATCH: a merge patch.
    let r = call(
        &t,
        with(
            req(Method::PATCH, &path, KEY, r#"{"pitch": 0.75}"#),
            "content-type",
            "application/merge-patch+json",
        ),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(json(&r)["pitch"], 0.75);
    assert_eq!(json(&r)["teeth"], 18);
    assert_eq!(json(&r)["version"], 3);
    // The cache holds the write: a read sees it at once, with no call.
    t.calls.take();
    let r = call(&t, req(Method::GET, &path, KEY, "")).await;
    assert_eq!(json(&r)["version"], 3);
    assert_eq!(t.calls.take(), 0);
    // Other tenants cannot write it either.
    assert_eq!(
        call(&t, req(Method::DELETE, &path, OTHER, ""))
            .await
            .status(),
        404
    );
    t.calls.take();
    assert_eq!(
        call(&t, req(Method::DELETE, &path, KEY, "")).await.status(),
        204
    );
    assert_eq!(t.calls.take(), 1);
    for m in [Method::GET, Method::PUT, Method::PATCH, Method::DELETE] {
        let body = if m == Method::PUT {
            SPROCKET
        } else if m == Method::PATCH {
            "{}"
        } else {
            ""
        };
        assert_eq!(
            call(&t, req(m.clone(), &path, KEY, body)).await.status(),
            404,
            "{m}"
        );
    }
    // A miss is one call.
    let (id, _) = create_sprocket(&t).await;
    redis_flush(&t).await;
    t.calls.take();
    assert_eq!(
        call(&t, req(Method::GET, &format!("/sprockets/{id}"), KEY, ""))
            .await
            .status(),
        200
    );
    assert_eq!(t.calls.take(), 1);
}

async fn redis_flush(t: &T) {
    let client = redis::Client::open(t.app.config.redis_url.clone().unwrap()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}:*", t.app.config.table_name))
        .query_async(&mut conn)
        .await
        .unwrap();
    for k in keys {
        let _: () = redis::cmd("DEL")
            .arg(k)
            .query_async(&mut conn)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn bad_input_is_named_and_changes_nothing() {
    let t = fresh().await;
    let (id, _) = create_sprocket(&t).await;
    let path = format!("/sprockets/{id}");
    let cases: Vec<(Method, String, &str, u16, &str)> = vec![
        (
            Method::POST,
            "/sprockets".into(),
            r#"{"teeth": 0, "pitch_diameter": 1, "outside_diameter": 1, "pitch": 1}"#,
            400,
            "teeth",
        ),
        (
            Method::POST,
            "/sprockets".into(),
            r#"{"teeth": 5, "pitch_diameter": 1, "outside_diameter": 1}"#,
            400,
            "pitch",
        ),
        (Method::POST, "/sprockets".into(), "[1]", 400, ""),
        (Method::POST, "/sprockets".into(), "{", 400, ""),
        (
            Method::PATCH,
            path.clone(),
            r#"{"teeth": null}"#,
            400,
            "teeth",
        ),
        (
            Method::PUT,
            path.clone(),
            r#"{"teeth": 5}"#,
            400,
            "pitch_diameter",
        ),
        (Method::GET, "/sprockets?limit=0".into(), "", 400, "limit"),
        (
            Method::GET,
            "/sprockets?cursor=abc".into(),
            "",
            400,
            "cursor",
        ),
        (Method::GET, "/sprockets/abc".into(), "", 404, ""),
        (Method::GET, "/sprockets/0".into(), "", 404, ""),
        (Method::POST, path.clone(), "{}", 405, ""),
        (Method::PATCH, "/sprockets".into(), "{}", 405, ""),
        (
            Method::GET,
            "/factories/1/chart-data?from=5&to=5".into(),
            "",
            400,
            "to",
        ),
        (
            Method::GET,
            "/factories/1/chart-data?bucket=0".into(),
            "",
            400,
            "bucket",
        ),
        (Method::PUT, "/factories/1".into(), "{}", 405, ""),
        (Method::GET, "/imports".into(), "", 405, ""),
        (
            Method::POST,
            "/imports".into(),
            r#"{"sprockets": [{"teeth": 1.5}]}"#,
            400,
            "/sprockets/0/teeth",
        ),
    ];
    for (m, p, body, status, field) in cases {
        let r = call(&t, req(m.clone(), &p, KEY, body)).await;
        assert_eq!(r.status(), status, "{m} {p} {body}");
        assert_eq!(api_tests::content_type(&r), "application/problem+json");
        if !field.is_empty() {
            assert_eq!(json(&r)["field"], field, "{m} {p} {body}");
        }
        if status == 405 {
            assert!(r.headers().contains_key("allow"), "{m} {p}");
        }
    }
    let r = call(
        &t,
        with(
            req(Method::POST, "/sprockets", KEY, SPROCKET),
            "content-type",
            "text/plain",
        ),
    )
    .await;
    assert_eq!(r.status(), 415);
    let big = format!(r#"{{"teeth": 5, "x": "{}"}}"#, "a".repeat(17 * 1024));
    assert_eq!(
        call(&t, req(Method::POST, "/sprockets", KEY, &big))
            .await
            .status(),
        413
    );
    // Nothing was written: the one sprocket is still version 1 and alone.
    let r = call(&t, req(Method::GET, "/sprockets", KEY, "")).await;
    let list = json(&r);
    assert_eq!(list["sprockets"].as_array().unwrap().len(), 1);
    assert_eq!(list["sprockets"][0]["version"], 1);
    assert_eq!(list["next_cursor"], serde_json::Value::Null);
}

#[tokio::test]
async fn lists_page_in_id_order_per_tenant() {
    let t = fresh().await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(create_sprocket(&t).await.0);
    }
    call(&t, req(Method::POST, "/sprockets", OTHER, SPROCKET)).await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let q = match &cursor {
            Some(c) => format!("/sprockets?limit=2&cursor={c}"),
            None => "/sprockets?limit=2".into(),
        };
        t.calls.take();
        let page = json(&call(&t, req(Method::GET, &q, KEY, "")).await);
        assert_eq!(t.calls.take(), 1);
        seen.extend(
            page["sprockets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["id"].as_u64().unwrap()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ids);
}

#[tokio::test]
async fn charts_are_upserted_whole_and_read_in_pages_and_buckets() {
    let t = fresh().await;
    let r = call(&t, req(Method::POST, "/factories", KEY, "{}")).await;
    assert_eq!(r.status(), 201);
    let created_tag = etag(&r);
    let s = json(&r);
    assert_eq!(s["point_count"], 0);
    assert_eq!(s["first_time"], serde_json::Value::Null);
    let id = s["id"].as_u64().unwrap();
    let chart_path = format!("/factories/{id}/chart-data");
    let r = call(
        &t,
        req(Method::POST, &chart_path, KEY, &chart([120, 0, 60, 180])),
    )
    .await;
    assert_eq!(r.status(), 200);
    let w = json(&r);
    assert_eq!(
        (
            w["inserted"].as_u64(),
            w["replaced"].as_u64(),
            w["unchanged"].as_u64()
        ),
        (Some(4), Some(0), Some(0))
    );
    assert_eq!(w["factory"]["version"], 2);
    assert_eq!(w["factory"]["first_time"], 0);
    assert_eq!(w["factory"]["last_time"], 180);
    // The same points again: nothing changes, the version stays.
    let w = json(&call(&t, req(Method::POST, &chart_path, KEY, &chart([0, 60]))).await);
    assert_eq!(
        (w["unchanged"].as_u64(), w["factory"]["version"].as_u64()),
        (Some(2), Some(2))
    );
    // One replaced, one new.
    let body = r#"{"sprocket_production_actual": [7, 9], "sprocket_production_goal": [8, 9], "time": [60, 240]}"#;
    let r = call(&t, req(Method::POST, &chart_path, KEY, body)).await;
    let w = json(&r);
    assert_eq!(
        (w["inserted"].as_u64(), w["replaced"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(w["factory"]["point_count"], 5);
    let tag = etag(&r);
    // An invalid write changes nothing.
    let bad = r#"{"sprocket_production_actual": [1, 1], "sprocket_production_goal": [1], "time": [1, 2]}"#;
    assert_eq!(
        call(&t, req(Method::POST, &chart_path, KEY, bad))
            .await
            .status(),
        400
    );
    let r = call(&t, req(Method::GET, &chart_path, KEY, "")).await;
    assert_eq!(r.status(), 200);
    assert_eq!(etag(&r), tag);
    assert_eq!(
        json(&r),
        serde_json::json!({"sprocket_production_actual": [0, 7, 20, 80, 9], "sprocket_production_goal": [0, 8, 20, 80, 9], "time": [0, 60, 120, 180, 240], "next_cursor": null})
    );
    let r = call(
        &t,
        with(
            req(Method::GET, &chart_path, KEY, ""),
            "if-none-match",
            &tag,
        ),
    )
    .await;
    assert_eq!(r.status(), 304);
    // Buckets of 120 s from 60: [0,120) holds 60 only (from is inclusive), [120,240), [240, 360).
    let page = json(
        &call(
            &t,
            req(
                Method::GET,
                &format!("{chart_path}?from=60&bucket=120&limit=2"),
                KEY,
                "",
            ),
        )
        .await,
    );
    assert_eq!(page["time"], serde_json::json!([0, 120]));
    assert_eq!(
        page["sprocket_production_actual"],
        serde_json::json!([7, 100])
    );
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let page = json(
        &call(
            &t,
            req(
                Method::GET,
                &format!("{chart_path}?from=60&bucket=120&limit=2&cursor={cursor}"),
                KEY,
                "",
            ),
        )
        .await,
    );
    assert_eq!(page["time"], serde_json::json!([240]));
    assert_eq!(page["next_cursor"], serde_json::Value::Null);
    // If-Match on chart writes.
    let r = call(
        &t,
        with(
            req(Method::POST, &chart_path, KEY, &chart([999])),
            "if-match",
            &created_tag,
        ),
    )
    .await;
    assert_eq!(r.status(), 412);
    // Other tenants see nothing.
    assert_eq!(
        call(&t, req(Method::GET, &chart_path, OTHER, ""))
            .await
            .status(),
        404
    );
    assert_eq!(
        call(&t, req(Method::GET, &format!("/factories/{id}"), OTHER, ""))
            .await
            .status(),
        404
    );
    assert_eq!(
        call(&t, req(Method::POST, &chart_path, OTHER, &chart([5])))
            .await
            .status(),
        404
    );
}

#[tokio::test]
async fn a_chart_page_of_ten_thousand_points_costs_at_most_three_calls() {
    let t = fresh().await;
    let r = call(
        &t,
        req(
            Method::POST,
            "/factories",
            KEY,
            &format!(r#"{{"chart_data": {}}}"#, chart(0..10_000)),
        ),
    )
    .await;
    assert_eq!(r.status(), 201);
    let id = json(&r)["id"].as_u64().unwrap();
    assert_eq!(json(&r)["point_count"], 10_000);
    let path = format!("/factories/{id}/chart-data?limit=10000");
    redis_flush(&t).await;
    t.calls.take();
    let r = call(&t, req(Method::GET, &path, KEY, "")).await;
    assert_eq!(r.status(), 200);
    let cold = t.calls.take();
    assert!(cold <= 3, "{cold} calls");
    let body = match r.body() {
        lambda_http::Body::Text(s) => s.len(),
        _ => panic!("text"),
    };
    assert!(body < 400_000, "{body} bytes");
    assert_eq!(json(&r)["time"].as_array().unwrap().len(), 10_000);
    // Cached: no call; the summary cached and the page not: one.
    call(&t, req(Method::GET, &path, KEY, "")).await;
    assert_eq!(t.calls.take(), 0);
    call(
        &t,
        req(
            Method::GET,
            &format!("/factories/{id}/chart-data?limit=10"),
            KEY,
            "",
        ),
    )
    .await;
    assert_eq!(t.calls.take(), 1);
    call(&t, req(Method::GET, &format!("/factories/{id}"), KEY, "")).await;
    assert_eq!(t.calls.take(), 0);
}

#[tokio::test]
async fn imports_create_each_key_once_and_a_rerun_writes_nothing() {
    let t = fresh().await;
    let seed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/factories/seed_factory_data.json"
    ))
    .unwrap();
    let sprockets = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/factories/seed_sprocket_types.json"
    ))
    .unwrap();
    let r = call(&t, req(Method::POST, "/imports", KEY, &seed)).await;
    assert_eq!(r.status(), 200, "{:?}", r.body());
    let a = json(&r);
    assert_eq!(a["factories"].as_array().unwrap().len(), 3);
    assert!(a["factories"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["result"] == "created"));
    assert_eq!(a["factories"][1]["key"], "factory-2");
    let r = call(&t, req(Method::POST, "/imports", KEY, &sprockets)).await;
    let b = json(&r);
    let ids: Vec<u64> = b["sprockets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids.len(), 3);
    assert!(
        ids[0] != ids[1] && ids[1] != ids[2],
        "three identical sprockets are three"
    );
    // A re-run: every entry unchanged, the same ids, no write at all.
    t.writes.take();
    let again = json(&call(&t, req(Method::POST, "/imports", KEY, &seed)).await);
    assert!(again["factories"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["result"] == "unchanged"));
    assert_eq!(
        again["factories"],
        a["factories"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| serde_json::json!({"key": e["key"], "id": e["id"], "result": "unchanged"}))
            .collect::<serde_json::Value>()
    );
    let again = json(&call(&t, req(Method::POST, "/imports", KEY, &sprockets)).await);
    assert!(again["sprockets"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["result"] == "unchanged"));
    assert_eq!(t.writes.take(), 0);
    // A changed sprocket is updated; a deleted one's key creates a new one.
    let changed = sprockets.replacen("\"teeth\": 5", "\"teeth\": 6", 1);
    let c = json(&call(&t, req(Method::POST, "/imports", KEY, &changed)).await);
    assert_eq!(c["sprockets"][0]["result"], "updated");
    call(
        &t,
        req(Method::DELETE, &format!("/sprockets/{}", ids[1]), KEY, ""),
    )
    .await;
    let c = json(&call(&t, req(Method::POST, "/imports", KEY, &sprockets)).await);
    assert_eq!(c["sprockets"][1]["result"], "created");
    assert_ne!(c["sprockets"][1]["id"].as_u64().unwrap(), ids[1]);
    // The seed's first factory: 20 points 60 s apart.
    let f = a["factories"][0]["id"].as_u64().unwrap();
    let s = json(&call(&t, req(Method::GET, &format!("/factories/{f}"), KEY, "")).await);
    assert_eq!(s["point_count"], 20);
    assert_eq!(
        s["last_time"].as_i64().unwrap() - s["first_time"].as_i64().unwrap(),
        19 * 60
    );
    // An invalid entry: its pointer, and nothing written.
    t.writes.take();
    let bad = r#"{"factories": [{"key": "new-one", "factory": {}}, {"factory": {"chart_data": {"sprocket_production_actual": [1,1,1,1,1], "sprocket_production_goal": [1,1,1,1,1], "time": [1,2,3,4,4]}}}]}"#;
    let r = call(&t, req(Method::POST, "/imports", KEY, bad)).await;
    assert_eq!(r.status(), 400);
    assert_eq!(json(&r)["field"], "/factories/1/factory/chart_data/time/4");
    assert_eq!(t.writes.take(), 0);
}

#[tokio::test]
async fn the_originals_paths_answer_its_shapes() {
    let t = fresh().await;
    let seed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/factories/seed_factory_data.json"
    ))
    .unwrap();
    let a = json(&call(&t, req(Method::POST, "/imports", KEY, &seed)).await);
    let f = a["factories"][0]["id"].as_u64().unwrap();
    for path in [format!("/api/factory/{f}/"), format!("/api/factory/{f}")] {
        let r = call(&t, req(Method::GET, &path, KEY, "")).await;
        assert_eq!(r.status(), 200, "{path}");
        let v = json(&r);
        assert_eq!(v[0]["id"], f);
        assert_eq!(v[0]["chart_data"]["time"].as_array().unwrap().len(), 20);
    }
    let time = json(
        &call(
            &t,
            req(Method::GET, &format!("/api/factory/{f}/time/"), KEY, ""),
        )
        .await,
    );
    assert_eq!(time.as_array().unwrap().len(), 20);
    let actual = json(
        &call(
            &t,
            req(
                Method::GET,
                &format!("/api/factory/{f}/production-actual/"),
                KEY,
                "",
            ),
        )
        .await,
    );
    assert!(actual
        .as_array()
        .unwrap()
        .iter()
        .all(|v| (28..=33).contains(&v.as_i64().unwrap())));
    let list = json(&call(&t, req(Method::GET, "/api/factories/", KEY, "")).await);
    assert_eq!(list.as_array().unwrap().len(), 3);
    assert_eq!(
        call(&t, req(Method::GET, "/api/factory/999999/", KEY, ""))
            .await
            .status(),
        404
    );
    assert_eq!(
        call(
            &t,
            req(Method::GET, &format!("/api/factory/{f}/"), OTHER, "")
        )
        .await
        .status(),
        404
    );
    // Writes on GET are gone: 405, nothing written.
    let r = call(
        &t,
        req(Method::GET, "/api/sprocket/create/5/6/4/7/", KEY, ""),
    )
    .await;
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "POST");
    assert_eq!(
        json(&call(&t, req(Method::GET, "/api/sprockets/", KEY, "")).await),
        serde_json::json!([])
    );
    let r = call(
        &t,
        req(Method::POST, "/api/sprocket/create/5/6/4/7/", KEY, ""),
    )
    .await;
    assert_eq!(r.status(), 201);
    let id = json(&r)["id"].as_u64().unwrap();
    let old = json(
        &call(
            &t,
            req(Method::GET, &format!("/api/sprocket/{id}/"), KEY, ""),
        )
        .await,
    );
    assert_eq!(
        old,
        serde_json::json!([{"id": id, "teeth": 5, "pitch": 7, "pitch_diameter": 6, "outside_diameter": 4}])
    );
    let r = call(
        &t,
        req(
            Method::POST,
            &format!("/api/sprocket/{id}/update/6/6/4/7"),
            KEY,
            "",
        ),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(json(&r)["version"], 2);
    assert_eq!(
        call(
            &t,
            req(Method::POST, "/api/sprocket/create/0/6/4/7/", KEY, "")
        )
        .await
        .status(),
        400
    );
}

#[tokio::test]
async fn redis_down_leaves_dynamodb_answering() {
    let port = api_tests::silent_listener().await;
    let t = build(config(
        &api_tests::unique_table(),
        Some(format!("redis://127.0.0.1:{port}/")),
    ))
    .await;
    t.store.create_table().await.unwrap();
    let (id, _) = create_sprocket(&t).await;
    let r = call(&t, req(Method::GET, &format!("/sprockets/{id}"), KEY, "")).await;
    assert_eq!(r.status(), 200);
    let r = call(
        &t,
        req(
            Method::POST,
            "/factories",
            KEY,
            &format!(r#"{{"chart_data": {}}}"#, chart([1, 2])),
        ),
    )
    .await;
    assert_eq!(r.status(), 201);
    let f = json(&r)["id"].as_u64().unwrap();
    let r = call(
        &t,
        req(Method::GET, &format!("/factories/{f}/chart-data"), KEY, ""),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(json(&r)["time"], serde_json::json!([1, 2]));
}
