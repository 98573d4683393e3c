//! The CloudWatch metrics each handler writes (EMF), read back from the app's metric sink.

use api_tests::*;

fn named(name: &str, error: Option<&str>) -> (String, Option<String>) {
    (name.to_owned(), error.map(str::to_owned))
}

#[tokio::test]
async fn orders_are_counted_accepted_or_rejected_by_each_business_error() {
    let t = fresh_app().await;
    create_account::handle(&t, with_body(event("create-account"), r#"{"cash": 100}"#)).await;
    assert_eq!(t.take_metrics(), vec![named("AccountsOpened", None)]);

    let place = |body: String| place_order::handle(&t, request("place-order", 1, &body));
    place(order(OPEN_TS, "BUY", "AAPL", 1, "10")).await;
    assert_eq!(t.take_metrics(), vec![named("OrdersAccepted", None)]);

    // Closed and too expensive at once: one rejection, one count per broken rule.
    place(order(CLOSED_TS, "BUY", "AAPL", 100, "10")).await;
    assert_eq!(
        t.take_metrics(),
        vec![
            named("OrdersRejected", None),
            named("OrdersRejected", Some("CLOSED_MARKET")),
            named("OrdersRejected", Some("INSUFFICIENT_BALANCE")),
        ]
    );

    place(r#"{"operation": "HOLD"}"#.into()).await;
    assert_eq!(
        t.take_metrics(),
        vec![
            named("OrdersRejected", None),
            named("OrdersRejected", Some("INVALID_OPERATION")),
        ]
    );

    // Errors that are not orders (unknown account) count nothing.
    place_order::handle(
        &t,
        request("place-order", 99, &order(OPEN_TS, "BUY", "A", 1, "1")),
    )
    .await;
    assert_eq!(t.take_metrics(), vec![]);
}

#[tokio::test]
async fn balance_reads_count_cache_hits_and_misses() {
    let t = fresh_app().await;
    create_account::handle(&t, with_body(event("create-account"), r#"{"cash": 100}"#)).await;
    t.take_metrics();
    get_account::handle(&t, event("get-account")).await;
    get_account::handle(&t, event("get-account")).await;
    assert_eq!(
        t.take_metrics(),
        vec![named("CacheMisses", None), named("CacheHits", None)]
    );
}

#[test]
fn logs_name_the_route_as_api_gateway_does() {
    assert_eq!(
        shared::http::route(&event("place-order")),
        "POST /accounts/{id}/orders"
    );
    assert_eq!(
        shared::http::route(&event("get-account")),
        "GET /accounts/{id}"
    );
    // No API Gateway resource (a plain HTTP request): the method and the path.
    let plain = lambda_http::http::Request::builder()
        .method("GET")
        .uri("http://127.0.0.1/accounts/7")
        .body(lambda_http::Body::Empty)
        .unwrap();
    assert_eq!(shared::http::route(&plain), "GET /accounts/7");
}
