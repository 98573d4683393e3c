//! Each function's `handle`, fed the API Gateway events in `events/`, on a fresh table.

use api_tests::*;
use serde_json::json;

#[tokio::test]
async fn the_events_replay_the_whole_flow() {
    let t = fresh_app().await;

    let created = create_account::handle(&t, event("create-account")).await;
    assert_eq!(created.status(), 201);
    assert_eq!(content_type(&created), "application/json");
    assert_eq!(created.headers()["location"], "/accounts/1");
    assert_eq!(
        json_of(&created),
        json!({"id": 1, "cash": 1000, "issuers": []})
    );

    let placed = place_order::handle(&t, event("place-order")).await;
    assert_eq!(placed.status(), 200);
    assert_eq!(
        json_of(&placed),
        json!({"current_balance": {"cash": 900, "issuers": [{"issuer_name": "AAPL", "total_shares": 2, "share_price": 50}]},
               "business_errors": []})
    );

    let replayed = place_order::handle(&t, event("place-order")).await;
    assert_eq!(
        json_of(&replayed)["business_errors"],
        json!(["DUPLICATED_OPERATION"])
    );
    assert_eq!(json_of(&replayed)["current_balance"]["cash"], json!(900));

    let balance = get_account::handle(&t, event("get-account")).await;
    assert_eq!(balance.status(), 200);
    assert_eq!(
        json_of(&balance),
        json!({"id": 1, "cash": 900, "issuers": [{"issuer_name": "AAPL", "total_shares": 2, "share_price": 50}]})
    );

    let listed = list_orders::handle(&t, event("list-orders")).await;
    assert_eq!(listed.status(), 200);
    assert_eq!(
        json_of(&listed),
        json!({"orders": [{"id": "1-1", "timestamp": 1571325625, "operation": "BUY", "issuer_name": "AAPL",
                           "total_shares": 2, "share_price": 50, "amount": 100}],
               "next_cursor": null})
    );
}

#[tokio::test]
async fn the_challenge_examples_answer_as_the_spec_says() {
    let t = fresh_app().await;
    create_account::handle(&t, with_body(event("create-account"), r#"{"cash": 1000}"#)).await;
    let buy = |body: String| place_order::handle(&t, request("place-order", 1, &body));

    let first = json_of(&buy(order(OPEN_TS, "BUY", "AAPL", 2, "50")).await);
    assert_eq!(first["current_balance"]["cash"], json!(900));

    // The second example is at 16:57 in Mexico City: closed, and nothing changes.
    let second = json_of(&buy(order(1_583_362_645, "BUY", "NFLX", 8, "100")).await);
    assert_eq!(second["business_errors"], json!(["CLOSED_MARKET"]));
    assert_eq!(second["current_balance"]["cash"], json!(900));
}

#[tokio::test]
async fn every_rule_is_reported_together_and_changes_nothing() {
    let t = fresh_app().await;
    create_account::handle(&t, with_body(event("create-account"), r#"{"cash": 100}"#)).await;
    let place = |body: String| place_order::handle(&t, request("place-order", 1, &body));
    json_of(&place(order(CLOSED_TS - 3 * 3600, "BUY", "X", 1, "10")).await);

    let r = json_of(&place(order(CLOSED_TS, "BUY", "X", 1, "5000")).await);
    assert_eq!(
        r["business_errors"],
        json!(["CLOSED_MARKET", "INSUFFICIENT_BALANCE"])
    );
    let r = json_of(&place(order(CLOSED_TS - 3 * 3600 + 100, "SELL", "Y", 1, "1")).await);
    assert_eq!(r["business_errors"], json!(["INSUFFICIENT_STOCKS"]));
    let r = json_of(&place(order(CLOSED_TS - 3 * 3600 - 299, "BUY", "X", 1, "10")).await);
    assert_eq!(r["business_errors"], json!(["DUPLICATED_OPERATION"]));
    let r = json_of(&place(order(NOW + 301, "BUY", "X", 1, "10")).await);
    assert_eq!(r["business_errors"], json!(["INVALID_OPERATION"]));
    assert_eq!(
        r["current_balance"],
        json!({"cash": 90, "issuers": [{"issuer_name": "X", "total_shares": 1, "share_price": 10}]})
    );

    let ledger = json_of(&list_orders::handle(&t, event("list-orders")).await);
    assert_eq!(ledger["orders"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn money_is_exact_on_the_wire() {
    let t = fresh_app().await;
    let created = create_account::handle(
        &t,
        with_body(event("create-account"), r#"{"cash": 1000.50}"#),
    )
    .await;
    assert_eq!(
        created.body().as_ref(),
        br#"{"id":1,"cash":1000.5,"issuers":[]}"#
    );
    let all_in = place_order::handle(
        &t,
        request("place-order", 1, &order(OPEN_TS, "BUY", "X", 1, "1000.50")),
    )
    .await;
    assert_eq!(all_in.body().as_ref(), br#"{"current_balance":{"cash":0,"issuers":[{"issuer_name":"X","total_shares":1,"share_price":1000.5}]},"business_errors":[]}"#);
    let tenth = place_order::handle(
        &t,
        request(
            "place-order",
            1,
            &order(OPEN_TS + 600, "SELL", "X", 1, "0.1"),
        ),
    )
    .await;
    assert_eq!(
        json_of(&tenth)["current_balance"]["cash"].to_string(),
        "0.1"
    );
    let more = place_order::handle(&t, request("place-order", 1, &format!(r#"{{"timestamp":{},"operation":"BUY","issuer_name":"Y","total_shares":1,"share_price":0.1}}"#, OPEN_TS + 1200))).await;
    assert_eq!(json_of(&more)["business_errors"], json!([]));
    let stored = t
        .store
        .load_account(&owner(), brokerage_domain::AccountId(1))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.cash.value().to_string(), "0");
}

#[tokio::test]
async fn unknown_accounts_are_404_problems_on_every_route() {
    let t = fresh_app().await;
    for resp in [
        place_order::handle(
            &t,
            request("place-order", 42, &order(OPEN_TS, "BUY", "X", 1, "1")),
        )
        .await,
        place_order::handle(&t, request("place-order", 42, r#"{"operation":"HOLD"}"#)).await,
        get_account::handle(&t, request("get-account", 42, "")).await,
        list_orders::handle(&t, request("list-orders", 42, "")).await,
    ] {
        assert_eq!(resp.status(), 404);
        assert_eq!(content_type(&resp), "application/problem+json");
        assert_eq!(json_of(&resp)["status"], json!(404));
    }
}

#[tokio::test]
async fn bad_opening_cash_is_a_400_that_names_the_field() {
    let t = fresh_app().await;
    for body in [
        r#"{}"#,
        r#"{"cash":null}"#,
        r#"{"cash":"1000"}"#,
        r#"{"cash":-1}"#,
        r#"{"cash":1.001}"#,
        r#"{"cash":1e12}"#,
        r#"{"cash":true}"#,
    ] {
        let resp = create_account::handle(&t, with_body(event("create-account"), body)).await;
        assert_eq!(resp.status(), 400, "{body}");
        assert_eq!(content_type(&resp), "application/problem+json");
        let problem = json_of(&resp);
        assert_eq!(problem["field"], json!("cash"), "{body}");
        assert!(
            problem["detail"].as_str().unwrap().contains("cash"),
            "{body}"
        );
    }
    let ok = create_account::handle(&t, with_body(event("create-account"), r#"{"cash":0}"#)).await;
    assert_eq!(
        json_of(&ok)["id"],
        json!(1),
        "refused bodies consumed no id"
    );
}

#[tokio::test]
async fn orders_list_newest_first_in_pages() {
    let t = fresh_app().await;
    create_account::handle(&t, with_body(event("create-account"), r#"{"cash": 1000}"#)).await;
    for i in 0..5 {
        let r = place_order::handle(
            &t,
            request(
                "place-order",
                1,
                &order(OPEN_TS + i * 600, "BUY", "X", 1, "1"),
            ),
        )
        .await;
        assert_eq!(json_of(&r)["business_errors"], json!([]));
    }
    let page = |query: &str| {
        let mut req = request("list-orders", 1, "");
        use lambda_http::RequestExt;
        let params: std::collections::HashMap<String, String> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .filter_map(|p| p.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
            .collect();
        req = req.with_query_string_parameters(params);
        list_orders::handle(&t, req)
    };
    let first = json_of(&page("limit=2").await);
    let ts: Vec<i64> = first["orders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["timestamp"].as_i64().unwrap())
        .collect();
    assert_eq!(ts, vec![OPEN_TS + 2400, OPEN_TS + 1800]);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let second = json_of(&page(&format!("limit=2&cursor={cursor}")).await);
    assert_eq!(second["orders"][0]["timestamp"], json!(OPEN_TS + 1200));
    let third = json_of(
        &page(&format!(
            "limit=2&cursor={}",
            second["next_cursor"].as_str().unwrap()
        ))
        .await,
    );
    assert_eq!(third["orders"].as_array().unwrap().len(), 1);
    assert_eq!(third["next_cursor"], json!(null));
    assert_eq!(
        json_of(&page("").await)["orders"].as_array().unwrap().len(),
        5
    );

    for bad in [
        "limit=0",
        "limit=501",
        "limit=abc",
        "limit=-1",
        "cursor=zzz",
        "cursor=",
    ] {
        let resp = page(bad).await;
        assert_eq!(resp.status(), 400, "{bad}");
        assert_eq!(content_type(&resp), "application/problem+json");
    }
}
