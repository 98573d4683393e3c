//! `openapi.yaml` is kept true: its routes are the template's routes, and every status it
//! documents for a route is one the route really answers, with a body that its schema
//! accepts (real answers from the handlers, on DynamoDB Local and Redis).

use api_tests::openapi::{check, openapi, yaml};
use api_tests::*;
use lambda_http::{Body, Request, Response};
use std::collections::{BTreeMap, BTreeSet};

/// (method, path) of every function event in template.yaml.
fn template_routes() -> BTreeSet<(String, String)> {
    let template = yaml("template.yaml");
    let mut routes = BTreeSet::new();
    let resources = template["Resources"].as_mapping().expect("Resources");
    for resource in resources.values() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        // A function only another function invokes (RefreshUpstreamFunction) has no events.
        let Some(events) = resource["Properties"]["Events"].as_mapping() else {
            continue;
        };
        for event in events.values() {
            // Stream and queue triggers are not routes.
            if event["Type"].as_str() != Some("Api") {
                continue;
            }
            let props = &event["Properties"];
            routes.insert((
                props["Method"].as_str().unwrap().to_lowercase(),
                props["Path"].as_str().unwrap().to_owned(),
            ));
        }
    }
    routes
}

#[test]
fn the_document_has_exactly_the_templates_routes() {
    let doc = openapi();
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if method != "parameters" {
                documented.insert((method.clone(), path.clone()));
            }
        }
    }
    // A route declared for any method serves every method the document lists on its path;
    // a greedy `{proxy+}` path serves every path under its prefix.
    let template = template_routes();
    let serves = |(m, p): &(String, String), (dm, dp): &(String, String)| {
        let path = match p.strip_suffix("{proxy+}") {
            Some(prefix) => dp.starts_with(prefix),
            None => dp == p,
        };
        path && (m == dm || m == "any")
    };
    for route in &documented {
        assert!(
            template.iter().any(|t| serves(t, route)),
            "{route:?} is documented but no function of the template serves it"
        );
    }
    for t in &template {
        assert!(
            documented.iter().any(|route| serves(t, route)),
            "{t:?} is in the template but not documented"
        );
    }
    assert!(BROKERAGE
        .iter()
        .all(|(m, p)| documented.contains(&(m.to_string(), p.to_string()))));
}

type Route = (&'static str, &'static str);
const ACCOUNTS: Route = ("post", "/accounts");
const ACCOUNT: Route = ("get", "/accounts/{id}");
const PLACE: Route = ("post", "/accounts/{id}/orders");
const LIST: Route = ("get", "/accounts/{id}/orders");
/// The brokerage's routes; the other services' are checked by their own tests.
const BROKERAGE: [Route; 4] = [ACCOUNTS, ACCOUNT, PLACE, LIST];

/// One request to each route (account 1), with its answer.
async fn every_route(t: &TestApp) -> [(Route, Response<Body>); 4] {
    let body = order(OPEN_TS, "BUY", "AAPL", 1, "1");
    [
        (
            ACCOUNTS,
            create_account::handle(t, with_body(event("create-account"), r#"{"cash": 1}"#)).await,
        ),
        (
            ACCOUNT,
            get_account::handle(t, request("get-account", 1, "")).await,
        ),
        (
            PLACE,
            place_order::handle(t, request("place-order", 1, &body)).await,
        ),
        (
            LIST,
            list_orders::handle(t, request("list-orders", 1, "")).await,
        ),
    ]
}

fn with_query(req: Request, query: &[(&str, &str)]) -> Request {
    use lambda_http::RequestExt;
    let mut params = std::collections::HashMap::new();
    for (k, v) in query {
        params.insert(k.to_string(), v.to_string());
    }
    req.with_query_string_parameters(params)
}

#[tokio::test]
async fn every_documented_status_is_a_real_answer_in_the_documented_shape() {
    let doc = openapi();
    let t = fresh_app().await;
    let mut seen: BTreeMap<(String, String), BTreeSet<u16>> = BTreeMap::new();
    let mut record = |method: &str, path: &str, resp: Response<Body>| {
        let status = check(&doc, method, path, &resp);
        seen.entry((method.into(), path.into()))
            .or_default()
            .insert(status);
    };
    let big = format!(r#"{{"cash": 1, "pad": "{}"}}"#, "x".repeat(17 * 1024));
    let (accounts, account, place, list) = (ACCOUNTS, ACCOUNT, PLACE, LIST);

    let create = |body: &str| {
        create_account::handle(&t, with_body(event("create-account"), body.to_owned()))
    };
    record(accounts.0, accounts.1, create(r#"{"cash": 1000.5}"#).await);
    record(accounts.0, accounts.1, create(r#"{"cash": -1}"#).await);
    record(accounts.0, accounts.1, create("not json").await);
    record(accounts.0, accounts.1, create(&big).await);

    let order_to = |id: u64, body: &str| place_order::handle(&t, request("place-order", id, body));
    record(
        place.0,
        place.1,
        order_to(1, &order(OPEN_TS, "BUY", "AAPL", 2, "50.25")).await,
    );
    record(
        place.0,
        place.1,
        order_to(1, &order(OPEN_TS + 60, "BUY", "MSFT", 1, "10")).await,
    );
    record(
        place.0,
        place.1,
        order_to(1, &order(CLOSED_TS, "SELL", "NFLX", 9, "1")).await,
    );
    record(
        place.0,
        place.1,
        order_to(1, r#"{"operation": "HOLD"}"#).await,
    );
    record(place.0, place.1, order_to(1, "[]").await);
    record(
        place.0,
        place.1,
        order_to(2, &order(OPEN_TS, "BUY", "AAPL", 1, "1")).await,
    );
    record(place.0, place.1, order_to(1, &big).await);

    record(
        account.0,
        account.1,
        get_account::handle(&t, request("get-account", 1, "")).await,
    );
    record(
        account.0,
        account.1,
        get_account::handle(&t, request("get-account", 1, "")).await,
    );
    record(
        account.0,
        account.1,
        get_account::handle(&t, request("get-account", 7, "")).await,
    );

    let page = |id: u64, q: &[(&str, &str)]| {
        list_orders::handle(&t, with_query(request("list-orders", id, ""), q))
    };
    let first = page(1, &[("limit", "1")]).await;
    let cursor = json_of(&first)["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    record(list.0, list.1, first);
    record(
        list.0,
        list.1,
        page(1, &[("limit", "1"), ("cursor", &cursor)]).await,
    );
    record(list.0, list.1, page(1, &[("limit", "0")]).await);
    record(list.0, list.1, page(1, &[("cursor", "junk")]).await);
    record(list.0, list.1, page(3, &[]).await);

    // Without a key, every route: 403.
    let keyless = |r| without_header(r, "x-api-key");
    record(
        accounts.0,
        accounts.1,
        create_account::handle(&t, keyless(event("create-account"))).await,
    );
    record(
        account.0,
        account.1,
        get_account::handle(&t, keyless(request("get-account", 1, ""))).await,
    );
    record(
        place.0,
        place.1,
        place_order::handle(&t, keyless(request("place-order", 1, "{}"))).await,
    );
    record(
        list.0,
        list.1,
        list_orders::handle(&t, keyless(request("list-orders", 1, ""))).await,
    );

    // Idempotency-Key reused with another body (422), and held by a running request (409).
    let keyed = |r, k: &str| with_header(r, "idempotency-key", k);
    create_account::handle(&t, keyed(event("create-account"), "a")).await;
    record(
        accounts.0,
        accounts.1,
        create_account::handle(
            &t,
            keyed(with_body(event("create-account"), r#"{"cash": 2}"#), "a"),
        )
        .await,
    );
    let buy = order(OPEN_TS + 2000, "BUY", "IBM", 1, "1");
    place_order::handle(&t, keyed(request("place-order", 1, &buy), "b")).await;
    record(
        place.0,
        place.1,
        place_order::handle(&t, keyed(request("place-order", 1, "{}"), "b")).await,
    );
    for (route, req) in [
        (accounts, keyed(event("create-account"), "c")),
        (place, keyed(request("place-order", 1, &buy), "c")),
    ] {
        hold_key(&t, &req, "c", "running").await;
        let resp = if route == accounts {
            create_account::handle(&t, req).await
        } else {
            place_order::handle(&t, req).await
        };
        record(route.0, route.1, resp);
        shared::idempotency::release(&t.app, &owner(), "c", "running")
            .await
            .unwrap();
    }

    // Every route, with DynamoDB unreachable: 503 with Retry-After.
    let down = app_without_dynamodb().await;
    for ((method, path), resp) in every_route(&down).await {
        record(method, path, resp);
    }

    // Every route, once the key's burst is spent: 429, as API Gateway answers it.
    let mut c = config(&unique_table(), Some(required_env("REDIS_URL")));
    c.limits.key_rate = 1;
    c.limits.key_burst = 1;
    let limited = app_with(c).await;
    get_account::handle(&limited, request("get-account", 1, "")).await;
    for ((method, path), resp) in every_route(&limited).await {
        record(method, path, resp);
    }

    // Each status the document promises was seen.
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if method == "parameters" || !BROKERAGE.iter().any(|(m, p)| m == method && p == path) {
                continue;
            }
            for (status, _) in op["responses"].as_object().unwrap() {
                let status: u16 = status.parse().unwrap();
                assert!(
                    seen.get(&(method.clone(), path.clone()))
                        .is_some_and(|s| s.contains(&status)),
                    "{method} {path} documents {status} but no test answer had it"
                );
            }
        }
    }
}
