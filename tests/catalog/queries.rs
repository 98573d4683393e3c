//! The schema's semantics, request errors and call counts.

use crate::common::*;
use lambda_http::http::StatusCode;
use serde_json::{json, Value};

const NESTED: &str = "{ user(id:1){ posts(first:10){ nodes{ comments(first:5){ nodes{ body } } } } carts{ lines{ product{ title } } } } }";

#[tokio::test]
async fn the_nested_example_is_exact_and_makes_at_most_4_dynamodb_calls() {
    let t = fresh().await;
    filled(&t).await;
    // META is in Redis now (5 s); the query reads the user, its posts and carts, then the
    // comments and products: one batch per level.
    let d = data(&t, NESTED).await;
    let calls = t.calls.take();
    assert!(calls <= 4, "{calls} DynamoDB calls");
    assert_eq!(t.fakes.total_hits(), 0, "a fresh cache calls no upstream");
    let posts = d["user"]["posts"]["nodes"].as_array().unwrap();
    // Two posts in JSONPlaceholder and two in DummyJSON, with 3 and 2 comments each.
    assert_eq!(posts.len(), 4);
    let counts: Vec<usize> = posts
        .iter()
        .map(|p| p["comments"]["nodes"].as_array().unwrap().len())
        .collect();
    assert_eq!(counts, vec![3, 3, 2, 2]);
    let carts = d["user"]["carts"].as_array().unwrap();
    assert_eq!(carts.len(), 3);
    assert_eq!(
        carts[0]["lines"][0]["product"]["title"],
        "Screen Cleaning Wipe"
    );
    assert_eq!(carts[2]["lines"][0]["product"]["title"], "Sea Salt Sachet");
}

#[tokio::test]
async fn users_join_across_sources_by_id() {
    let t = fresh().await;
    let d = data(&t, "{ user(id: 1) { id name sources albums { id userId } todos { id } carts { id } posts { totalCount nodes { id source author { name } } } } nobody: user(id: 99) { id } zero: user(id: 0) { id } }").await;
    let u = &d["user"];
    assert_eq!(u["name"], "Ava Thornton", "DummyJSON's name first");
    assert_eq!(
        u["sources"],
        json!(["FAKE_STORE", "JSON_PLACEHOLDER", "DUMMY_JSON"])
    );
    assert_eq!(
        u["albums"],
        json!([{"id": "jsonplaceholder:1", "userId": 1}, {"id": "jsonplaceholder:7", "userId": 1}])
    );
    assert_eq!(u["todos"].as_array().unwrap().len(), 5);
    assert_eq!(
        u["carts"],
        json!([{"id": "fakestore:1"}, {"id": "fakestore:2"}, {"id": "dummyjson:1"}])
    );
    assert_eq!(u["posts"]["totalCount"], 4);
    assert_eq!(
        u["posts"]["nodes"][0],
        json!({"id": "jsonplaceholder:1", "source": "JSON_PLACEHOLDER", "author": {"name": "Ava Thornton"}})
    );
    assert_eq!(u["posts"]["nodes"][2]["id"], "dummyjson:1");
    assert_eq!(d["nobody"], Value::Null);
    assert_eq!(d["zero"], Value::Null);
}

#[tokio::test]
async fn cart_totals_are_exact_and_null_when_a_product_is_unknown() {
    let t = fresh().await;
    let d = data(&t, "{ user(id: 1) { carts { id total lines { quantity unitPrice lineTotal } } } u2: user(id: 2) { carts { id total lines { product { id } unitPrice lineTotal } } } }").await;
    let carts = &d["user"]["carts"];
    // 0.1 + 0.2 is 0.3 exactly, not 0.30000000000000004.
    assert_eq!(carts[0]["total"].to_string(), "0.3");
    assert_eq!(carts[2]["total"].to_string(), "40.48");
    assert_eq!(carts[2]["lines"][0]["lineTotal"].to_string(), "0.3");
    assert_eq!(carts[2]["lines"][0]["unitPrice"].to_string(), "0.1");
    let missing = d["u2"]["carts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "fakestore:7")
        .unwrap()
        .clone();
    assert_eq!(missing["total"], Value::Null);
    assert_eq!(
        missing["lines"][1],
        json!({"product": null, "unitPrice": null, "lineTotal": null})
    );
    assert_eq!(missing["lines"][0]["lineTotal"].to_string(), "64.75");
}

#[tokio::test]
async fn categories_unify_both_stores_and_similar_is_nearest_price() {
    let t = fresh().await;
    let d = data(
        &t,
        r#"{ jewelry: products(category: "jewelry", first: 100) { totalCount nodes { id category } }
        legacy: products(category: "jewelery") { totalCount }
        beauty: products(category: "beauty") { totalCount nodes { source } }
        wireless: products(search: "wIrElEsS") { nodes { id } }
        dj: products(source: DUMMY_JSON, first: 1) { totalCount }
        product(id: "fakestore:4") { price similar(first: 3) { id price category } } }"#,
    )
    .await;
    let ids: Vec<&str> = d["jewelry"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![
            "fakestore:4",
            "fakestore:5",
            "fakestore:6",
            "dummyjson:25",
            "dummyjson:26"
        ]
    );
    assert_eq!(d["legacy"]["totalCount"], 5);
    assert_eq!(d["beauty"]["totalCount"], 2);
    assert_eq!(d["beauty"]["nodes"][0]["source"], "DUMMY_JSON");
    let wireless: Vec<&str> = d["wireless"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        wireless,
        vec!["fakestore:1", "fakestore:2", "dummyjson:13", "dummyjson:29"]
    );
    // 36 listed, one refused by validation (a negative price).
    assert_eq!(d["dj"]["totalCount"], 35);
    let p = &d["product"];
    assert_eq!(p["price"].to_string(), "24.5");
    // 24.5: nearest are 45.99 (21.49 away), 0.2 (24.3), 129.99; never itself.
    let similar: Vec<&str> = p["similar"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    assert_eq!(similar, vec!["dummyjson:25", "fakestore:6", "dummyjson:26"]);
}

#[tokio::test]
async fn pages_never_repeat_or_skip_and_end_at_total_count() {
    let t = fresh().await;
    let mut seen = Vec::new();
    let mut after = Value::Null;
    let mut total;
    loop {
        let (status, body) = gql(&t, "query($after: String) { products(first: 7, after: $after) { totalCount pageInfo { hasNextPage endCursor } nodes { id } } }", json!({"after": after})).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let p = &body["data"]["products"];
        total = p["totalCount"].as_u64().unwrap();
        seen.extend(
            p["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| n["id"].as_str().unwrap().to_owned()),
        );
        if !p["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = p["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(total, 12 + 35);
    assert_eq!(seen.len() as u64, total);
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!(unique, seen);
    assert!(seen[..12].iter().all(|s| s.starts_with("fakestore:")));
    // More than 100 photos in one album page in full.
    let d = data(&t, r#"{ album(id: "jsonplaceholder:1") { photos(first: 100) { totalCount pageInfo { hasNextPage } nodes { id } } } }"#).await;
    assert_eq!(d["album"]["photos"]["totalCount"], 105);
    assert_eq!(d["album"]["photos"]["pageInfo"]["hasNextPage"], true);
}

#[tokio::test]
async fn ids_and_arguments_are_checked() {
    let t = fresh().await;
    let (status, body) = gql(&t, r#"{ a: product(id: "amazon:1") { id } }"#, json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["data"],
        json!({"a": null}),
        "the field is null, not left out"
    );
    assert_eq!(codes(&body), vec!["BAD_USER_INPUT"]);
    let (_, body) = gql(
        &t,
        r#"{ p: product(id: "fakestore:999") { id } a: album(id: "dummyjson:1") { id } }"#,
        json!({}),
    )
    .await;
    assert_eq!(body["data"], json!({"p": null, "a": null}));
    assert!(body.get("errors").is_none(), "{body}");
    for q in [
        r#"{ products(first: 0) { totalCount } }"#,
        r#"{ products(first: 101) { totalCount } }"#,
        r#"{ products(after: "bm90LWEtY3Vyc29y") { totalCount } }"#,
    ] {
        let (status, body) = gql(&t, q, json!({})).await;
        assert_eq!(status, StatusCode::OK, "{q}");
        assert_eq!(codes(&body), vec!["BAD_USER_INPUT"], "{q}: {body}");
    }
}

#[tokio::test]
async fn request_errors_are_400_and_never_5xx() {
    let t = fresh().await;
    let cases: Vec<(String, &str)> = vec![
        (json!({"query": "{ products { "}).to_string(), "GRAPHQL_PARSE_FAILED"),
        (json!({"query": "{ nosuchfield }"}).to_string(), "GRAPHQL_VALIDATION_FAILED"),
        (json!({"query": "query($id: Int!) { user(id: $id) { id } }", "variables": {"id": "x"}}).to_string(), "BAD_USER_INPUT"),
        (json!({"query": "{ products(first: 100) { nodes { similar(first: 100) { id } } } }"}).to_string(), "QUERY_TOO_COMPLEX"),
        (json!({"query": "{ product(id: \"fakestore:1\") { similar { similar { similar { similar { similar { similar { similar { similar { similar { id } } } } } } } } } } }"}).to_string(), "QUERY_TOO_DEEP"),
        (json!({"query": "{ sources { count } }", "variables": [1]}).to_string(), "BAD_USER_INPUT"),
    ];
    for (body, code) in cases {
        let resp = call(&t, post_req(&body)).await;
        let json = api_tests::json_of(&resp);
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{body}: {json}");
        assert_eq!(codes(&json), vec![code], "{body}: {json}");
        assert!(json.get("data").is_none(), "{json}");
    }
    for body in [
        "[{\"query\": \"{ sources { count } }\"}]",
        "\"{ sources { count } }\"",
        "{}",
        "{\"query\": 5}",
        "not json",
    ] {
        let resp = call(&t, post_req(body)).await;
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(
            api_tests::content_type(&resp),
            "application/problem+json",
            "{body}"
        );
    }
    let big =
        json!({"query": format!("{{ sources {{ count }} }} #{}", "x".repeat(17_000))}).to_string();
    assert_eq!(
        call(&t, post_req(&big)).await.status(),
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let mut put = post_req("{}");
    *put.method_mut() = lambda_http::http::Method::PUT;
    let resp = call(&t, put).await;
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(resp.headers()["allow"], "GET, POST");
    let mut anonymous = post_req("{}");
    anonymous.headers_mut().remove("x-api-key");
    assert_eq!(call(&t, anonymous).await.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn get_requests_and_persisted_queries_follow_apollo() {
    let t = fresh().await;
    let resp = call(
        &t,
        get_req(&[
            ("query", "query Q($n: Int!) { user(id: $n) { id } }"),
            ("variables", "{\"n\": 2}"),
            ("operationName", "Q"),
        ]),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(api_tests::json_of(&resp)["data"]["user"]["id"], 2);
    let query = "{ sources { source collection } }";
    let hash = format!(
        "{:x}",
        <sha2::Sha256 as sha2::Digest>::digest(query.as_bytes())
    );
    let ext = json!({"persistedQuery": {"version": 1, "sha256Hash": hash}});
    let resp = call(&t, post_req(&json!({"extensions": ext}).to_string())).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        codes(&api_tests::json_of(&resp)),
        vec!["PERSISTED_QUERY_NOT_FOUND"]
    );
    let wrong = json!({"query": "{ sources { count } }", "extensions": ext}).to_string();
    let resp = call(&t, post_req(&wrong)).await;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(codes(&api_tests::json_of(&resp)), vec!["BAD_USER_INPUT"]);
    let resp = call(
        &t,
        post_req(&json!({"query": query, "extensions": ext}).to_string()),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = call(&t, get_req(&[("extensions", &ext.to_string())])).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(
        api_tests::json_of(&resp)["data"]["sources"]
            .as_array()
            .unwrap()
            .len(),
        15
    );
}

#[tokio::test]
async fn the_published_sdl_is_the_servers_schema() {
    let sdl = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates/catalog/schema.graphql"),
    )
    .unwrap();
    assert_eq!(
        sdl.trim(),
        graphql::build(true).sdl().trim(),
        "regenerate crates/catalog/schema.graphql"
    );
    // And introspection agrees with it, through the handler.
    let t = fresh().await;
    let d = data(&t, "{ __type(name: \"Query\") { fields { name } } }").await;
    let fields: Vec<&str> = d["__type"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        vec!["product", "album", "user", "products", "posts", "users", "sources"]
    );
    for f in &fields {
        assert!(
            sdl.contains(&format!("\t{f}(")) || sdl.contains(&format!("\t{f}:")),
            "{f}"
        );
    }
}
