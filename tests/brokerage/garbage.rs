//! Whatever a client sends, every route answers below 500, errors as problem+json, and
//! nothing changes.

use api_tests::*;
use lambda_http::{Body, Request, Response};
use serde_json::json;

fn check(route: &str, what: &str, resp: &Response<Body>) {
    let status = resp.status().as_u16();
    assert!(status < 500, "{route} {what}: {status} {:?}", resp.body());
    if status >= 400 {
        assert_eq!(
            content_type(resp),
            "application/problem+json",
            "{route} {what}"
        );
        let problem = json_of(resp);
        assert_eq!(problem["status"], json!(status), "{route} {what}");
        assert!(
            problem["title"].is_string() && problem["detail"].is_string(),
            "{route} {what}"
        );
    }
}

fn bodies() -> Vec<Vec<u8>> {
    let mut bodies: Vec<Vec<u8>> = [
        "", " ", "null", "true", "1", "\"x\"", "[]", "[{}]", "{", "}", "{\"cash\":", "{\"cash\":1,}", "{'cash':1}",
        "{\"cash\":NaN}", "{\"cash\":Infinity}", "{\"cash\":-0}", "{\"cash\":1e309}", "{\"cash\":1e-400}",
        "{\"cash\":0.1e1}", "{\"cash\":1E2}", "{\"cash\":{\"$numberDecimal\":\"1\"}}", "{\"cash\":[1]}",
        "{\"timestamp\":1e400,\"operation\":\"BUY\",\"issuer_name\":\"X\",\"total_shares\":1,\"share_price\":1}",
        "{\"timestamp\":-9223372036854775809,\"operation\":\"BUY\",\"issuer_name\":\"X\",\"total_shares\":1,\"share_price\":1}",
        "{\"timestamp\":1571325625,\"operation\":\"BUY\",\"issuer_name\":\"X\",\"total_shares\":18446744073709551616,\"share_price\":1}",
        "{\"timestamp\":1571325625,\"operation\":\"BUY\",\"issuer_name\":\"\\u0000\",\"total_shares\":1,\"share_price\":1}",
        "{\"timestamp\":1571325625,\"operation\":\"BUY\",\"issuer_name\":\"X\",\"total_shares\":1,\"share_price\":999999999999999999999999999999}",
        "{\"timestamp\":1571325625,\"operation\":\"BUY\",\"issuer_name\":\"\\ud800\",\"total_shares\":1,\"share_price\":1}",
        "{\"cash\":1,\"cash\":-1}",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    bodies.push(format!("{{\"cash\":{}}}", "9".repeat(5000)).into_bytes());
    bodies.push(format!("{}1{}", "[".repeat(200), "]".repeat(200)).into_bytes());
    bodies.push(format!("{{\"a\":{}1{}}}", "{\"a\":".repeat(300), "}".repeat(300)).into_bytes());
    bodies.push(vec![0xff, 0xfe, b'{', b'}']);
    bodies.push(format!("{{\"cash\":1,\"pad\":\"{}\"}}", "x".repeat(17 * 1024)).into_bytes());
    let mut rng = fastrand::Rng::with_seed(7);
    for _ in 0..300 {
        let len = rng.usize(0..64);
        let alphabet = b"{}[]\":,0123456789.eE+-truefalsnul \\xu";
        bodies.push(
            (0..len)
                .map(|_| {
                    if rng.bool() {
                        alphabet[rng.usize(..alphabet.len())]
                    } else {
                        rng.u8(..)
                    }
                })
                .collect(),
        );
    }
    bodies
}

fn paths() -> Vec<&'static str> {
    vec![
        "0",
        "-1",
        "abc",
        "1.5",
        "01",
        "99999999999999999999999",
        "%00",
        "1%2F2",
        "",
    ]
}

#[tokio::test]
async fn garbage_at_every_route_never_gets_a_5xx_and_changes_nothing() {
    let t = fresh_app().await;
    create_account::handle(&t, with_body(event("create-account"), r#"{"cash": 100}"#)).await;
    let before = t
        .store
        .load_account(&owner(), brokerage_domain::AccountId(1))
        .await
        .unwrap()
        .unwrap();

    for body in bodies() {
        let what = format!(
            "body {:?}",
            String::from_utf8_lossy(&body[..body.len().min(60)])
        );
        let as_body = || Body::Binary(body.clone());
        let resp = create_account::handle(&t, with_body(event("create-account"), as_body())).await;
        check("create-account", &what, &resp);
        if resp.status() == 201 {
            // Only a valid opening cash may open an account.
            assert!(
                std::str::from_utf8(&body).is_ok_and(|s| s.contains("cash")),
                "{what}"
            );
        }
        check(
            "place-order",
            &what,
            &place_order::handle(&t, with_body(event("place-order"), as_body())).await,
        );
        check(
            "get-account",
            &what,
            &get_account::handle(&t, with_body(event("get-account"), as_body())).await,
        );
        check(
            "list-orders",
            &what,
            &list_orders::handle(&t, with_body(event("list-orders"), as_body())).await,
        );
    }

    for p in paths() {
        let req = |route: &str| -> Request {
            use lambda_http::RequestExt;
            let mut params = std::collections::HashMap::new();
            params.insert("id".to_owned(), p.to_owned());
            event(route).with_path_parameters(params)
        };
        let what = format!("id {p:?}");
        for (route, resp) in [
            (
                "place-order",
                place_order::handle(&t, req("place-order")).await,
            ),
            (
                "get-account",
                get_account::handle(&t, req("get-account")).await,
            ),
            (
                "list-orders",
                list_orders::handle(&t, req("list-orders")).await,
            ),
        ] {
            check(route, &what, &resp);
            assert_eq!(resp.status(), 404, "{route} {what}");
        }
    }

    let after = t
        .store
        .load_account(&owner(), brokerage_domain::AccountId(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(after, before, "garbage changed the account");
    assert!(t
        .store
        .orders_page(&owner(), brokerage_domain::AccountId(1), 10, None)
        .await
        .unwrap()
        .unwrap()
        .orders
        .is_empty());
}

#[tokio::test]
async fn bodies_over_16_kib_get_413_and_at_the_limit_are_read() {
    let t = fresh_app().await;
    let pad = |n: usize| format!("{{\"cash\":1,\"pad\":\"{}\"}}", "x".repeat(n));
    let overhead = pad(0).len();
    let at_limit = pad(16 * 1024 - overhead);
    assert_eq!(at_limit.len(), 16 * 1024);
    let ok = create_account::handle(&t, with_body(event("create-account"), at_limit)).await;
    assert_eq!(ok.status(), 201);
    let over = create_account::handle(
        &t,
        with_body(event("create-account"), pad(16 * 1024 - overhead + 1)),
    )
    .await;
    assert_eq!(over.status(), 413);
    assert_eq!(content_type(&over), "application/problem+json");
    let order_over = place_order::handle(&t, with_body(event("place-order"), pad(20_000))).await;
    assert_eq!(order_over.status(), 413);
}

#[tokio::test]
async fn malformed_and_non_object_bodies_are_400() {
    let t = fresh_app().await;
    create_account::handle(&t, with_body(event("create-account"), r#"{"cash": 1}"#)).await;
    for body in ["{", "not json", "", "[]", "\"text\"", "42", "null"] {
        let a = create_account::handle(&t, with_body(event("create-account"), body)).await;
        assert_eq!(a.status(), 400, "{body}");
        let o = place_order::handle(&t, with_body(event("place-order"), body)).await;
        assert_eq!(o.status(), 400, "{body}");
        assert_eq!(content_type(&o), "application/problem+json");
    }
}

#[tokio::test]
async fn invalid_order_fields_are_invalid_operation_with_the_balance() {
    let t = fresh_app().await;
    create_account::handle(&t, with_body(event("create-account"), r#"{"cash": 100}"#)).await;
    let base = json!({"timestamp": OPEN_TS, "operation": "BUY", "issuer_name": "AAPL", "total_shares": 1, "share_price": 1});
    let bad = [
        ("timestamp", json!(null)),
        ("timestamp", json!("1571325625")),
        ("timestamp", json!(1.5)),
        ("timestamp", json!(-5)),
        ("operation", json!("buy")),
        ("operation", json!("HOLD")),
        ("operation", json!(1)),
        ("issuer_name", json!("aapl")),
        ("issuer_name", json!("")),
        ("issuer_name", json!("TOOLONGTICKER")),
        ("issuer_name", json!("A B")),
        ("total_shares", json!(0)),
        ("total_shares", json!(-1)),
        ("total_shares", json!(1.5)),
        ("total_shares", json!("1")),
        ("share_price", json!(0)),
        ("share_price", json!(-1)),
        ("share_price", json!(0.0000001)),
        ("share_price", json!(1e9)),
        ("share_price", json!("1")),
    ];
    for (field, value) in bad {
        let mut body = base.clone();
        body[field] = value.clone();
        let r = place_order::handle(&t, with_body(event("place-order"), body.to_string())).await;
        assert_eq!(r.status(), 200, "{field}={value}");
        let v = json_of(&r);
        assert_eq!(
            v["business_errors"],
            json!(["INVALID_OPERATION"]),
            "{field}={value}"
        );
        assert_eq!(
            v["current_balance"],
            json!({"cash": 100, "issuers": []}),
            "{field}={value}"
        );
    }
    let mut missing = base.clone();
    missing.as_object_mut().unwrap().remove("share_price");
    let r = place_order::handle(&t, with_body(event("place-order"), missing.to_string())).await;
    assert_eq!(json_of(&r)["business_errors"], json!(["INVALID_OPERATION"]));
}
