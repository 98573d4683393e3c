//! Tenant isolation: the caller is its API key (locally) or API Gateway's key id (deployed);
//! an account is seen only by the key that opened it, and others get 404, on every route.

use api_tests::http_client::Api;
use api_tests::*;
use serde_json::json;
use shared::KeySource;

const OTHER: &str = "local-other-key";

/// Every route, as the request a given key would send, for account 1.
async fn every_route(
    t: &TestApp,
    change: impl Fn(lambda_http::Request) -> lambda_http::Request,
) -> Vec<u16> {
    let o = order(OPEN_TS + 1000, "BUY", "MSFT", 1, "1");
    vec![
        create_account::handle(t, change(event("create-account")))
            .await
            .status()
            .as_u16(),
        place_order::handle(t, change(request("place-order", 1, &o)))
            .await
            .status()
            .as_u16(),
        get_account::handle(t, change(request("get-account", 1, "")))
            .await
            .status()
            .as_u16(),
        list_orders::handle(t, change(request("list-orders", 1, "")))
            .await
            .status()
            .as_u16(),
    ]
}

#[tokio::test]
async fn a_missing_or_unknown_key_is_403_on_every_route_and_changes_nothing() {
    let t = fresh_app().await;
    let none = every_route(&t, |r| without_header(r, "x-api-key")).await;
    assert_eq!(none, vec![403; 4]);
    let unknown = every_route(&t, |r| with_header(r, "x-api-key", "guess")).await;
    assert_eq!(unknown, vec![403; 4]);
    let resp = get_account::handle(&t, without_header(event("get-account"), "x-api-key")).await;
    assert_eq!(content_type(&resp), "application/problem+json");
    assert_eq!(json_of(&resp)["status"], json!(403));
    // Nothing was opened by the refused requests: the first real account is 1.
    let opened = create_account::handle(&t, event("create-account")).await;
    assert_eq!(json_of(&opened)["id"], json!(1));
}

#[tokio::test]
async fn another_tenant_gets_404_for_an_account_on_every_route_and_changes_nothing() {
    let t = fresh_app().await;
    create_account::handle(&t, event("create-account")).await;
    let buy = order(OPEN_TS, "BUY", "AAPL", 2, "50");
    let placed = place_order::handle(&t, request("place-order", 1, &buy)).await;
    assert_eq!(json_of(&placed)["business_errors"], json!([]));
    // The owner's read fills the cache: the other tenant must not be served from it.
    get_account::handle(&t, request("get-account", 1, "")).await;

    let as_other = |r| with_header(r, "x-api-key", OTHER);
    let statuses = every_route(&t, as_other).await;
    // The other key may open its own account (201), but sees nothing of account 1.
    assert_eq!(statuses, vec![201, 404, 404, 404]);
    let resp = get_account::handle(&t, as_other(request("get-account", 1, ""))).await;
    assert_eq!(json_of(&resp)["title"], json!("Account not found"));

    let mine = get_account::handle(&t, request("get-account", 1, "")).await;
    assert_eq!(json_of(&mine)["cash"], json!(900));
    let ledger = list_orders::handle(&t, request("list-orders", 1, "")).await;
    assert_eq!(json_of(&ledger)["orders"].as_array().unwrap().len(), 1);
    // The other tenant's account (2) is its own, and equally hidden from the first.
    let theirs = get_account::handle(&t, request("get-account", 2, "")).await;
    assert_eq!(theirs.status(), 404);
    let theirs = get_account::handle(&t, as_other(request("get-account", 2, ""))).await;
    assert_eq!(theirs.status(), 200);
}

#[tokio::test]
async fn an_account_without_orders_is_hidden_from_other_tenants_ledger_reads() {
    let t = fresh_app().await;
    create_account::handle(&t, event("create-account")).await;
    let other = list_orders::handle(
        &t,
        with_header(request("list-orders", 1, ""), "x-api-key", OTHER),
    )
    .await;
    assert_eq!(other.status(), 404);
    let mine = list_orders::handle(&t, request("list-orders", 1, "")).await;
    assert_eq!(json_of(&mine), json!({"orders": [], "next_cursor": null}));
}

#[tokio::test]
async fn behind_api_gateway_the_tenant_is_the_key_id_it_checked() {
    let mut config = config(&unique_table(), None);
    config.keys = KeySource::ApiGateway;
    let t = app_with(config).await;
    // The events carry requestContext.identity.apiKeyId = k3y1d0001; the header is ignored.
    let opened =
        create_account::handle(&t, without_header(event("create-account"), "x-api-key")).await;
    assert_eq!(opened.status(), 201);
    let mine = get_account::handle(&t, event("get-account")).await;
    assert_eq!(mine.status(), 200);

    let mut other = event("get-account");
    if let Some(lambda_http::request::RequestContext::ApiGatewayV1(ctx)) =
        lambda_http::RequestExt::request_context_ref(&other).cloned()
    {
        let mut ctx = ctx;
        ctx.identity.api_key_id = Some("k3y1d0002".into());
        other = lambda_http::RequestExt::with_request_context(
            other,
            lambda_http::request::RequestContext::ApiGatewayV1(ctx.clone()),
        );
        assert_eq!(get_account::handle(&t, other).await.status(), 404);
        ctx.identity.api_key_id = None;
        let keyless = lambda_http::RequestExt::with_request_context(
            event("get-account"),
            lambda_http::request::RequestContext::ApiGatewayV1(ctx),
        );
        assert_eq!(get_account::handle(&t, keyless).await.status(), 403);
    } else {
        panic!("events/get-account.json is a REST API event");
    }
}

#[tokio::test]
async fn over_http_the_local_api_checks_keys_like_api_gateway() {
    let api = Api::from_env();
    let opened = api.send("POST", "/accounts", r#"{"cash": 10}"#).await;
    assert_eq!(opened.status, 201);
    let id = opened.json()["id"].as_u64().unwrap();
    let path = format!("/accounts/{id}");
    assert_eq!(api.with_key(None).get(&path).await.status, 403);
    assert_eq!(api.with_key(Some("nope")).get(&path).await.status, 403);
    assert_eq!(api.with_key(Some(OTHER)).get(&path).await.status, 404);
    assert_eq!(api.get(&path).await.status, 200);
}
