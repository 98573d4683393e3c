//! The store's access patterns on DynamoDB Local, and how many calls each order costs.

use api_tests::*;
use brokerage_domain::{AccountId, BusinessError, Cash, Order};
use shared::{Field, MarketHours};

fn cash(s: &str) -> Cash {
    Cash::parse(&Field::Number(s.into())).unwrap()
}

/// Places an order of the events' tenant through the store, under the default market
/// hours, at `NOW`; the account must exist.
async fn place(
    store: &brokerage_store::Store,
    id: AccountId,
    body: &str,
) -> brokerage_store::OrderOutcome {
    let order = parse(body);
    store
        .place_order(
            &owner(),
            id,
            Some(&order),
            &MarketHours::default(),
            NOW,
            None,
            None,
        )
        .await
        .unwrap()
        .judged()
        .expect("judged now")
        .expect("the account exists")
}

fn parse(body: &str) -> Order {
    let v: serde_json::Map<String, serde_json::Value> = serde_json::from_str(body).unwrap();
    Order::parse(
        |k| match v.get(k) {
            None => Field::Missing,
            Some(serde_json::Value::String(s)) => Field::Text(s.clone()),
            Some(serde_json::Value::Number(n)) => Field::Number(n.to_string()),
            Some(_) => Field::Other,
        },
        NOW,
    )
    .expect("a valid order")
}

#[tokio::test]
async fn accounts_round_trip_and_unknown_ones_are_none() {
    let t = fresh_app().await;
    let opened = t
        .store
        .open_account(&owner(), cash("1000.25"), NOW)
        .await
        .unwrap();
    assert_eq!(opened.id, AccountId(1));
    assert_eq!(
        t.store.load_account(&owner(), opened.id).await.unwrap(),
        Some(opened)
    );
    assert_eq!(
        t.store.load_account(&owner(), AccountId(2)).await.unwrap(),
        None
    );
    let second = t
        .store
        .open_account(&owner(), cash("0"), NOW)
        .await
        .unwrap();
    assert_eq!(second.id, AccountId(2));
}

#[tokio::test]
async fn an_accepted_order_costs_two_calls_and_a_rejected_one_costs_one() {
    let t = fresh_app().await;
    let m = MarketHours::default();
    let id = t
        .store
        .open_account(&owner(), cash("1000"), NOW)
        .await
        .unwrap()
        .id;
    t.calls.take();

    let out = place(&t.store, id, &order(OPEN_TS, "BUY", "AAPL", 2, "50")).await;
    assert!(out.accepted());
    assert_eq!(
        t.calls.take(),
        2,
        "accepted order: one TransactGetItems, one TransactWriteItems"
    );

    let out = place(
        &t.store,
        id,
        &order(OPEN_TS + 600, "BUY", "AAPL", 2, "5000"),
    )
    .await;
    assert_eq!(
        out.business_errors,
        vec![BusinessError::InsufficientBalance]
    );
    assert_eq!(t.calls.take(), 1, "rejected order: the read only");

    let out = place(&t.store, id, &order(OPEN_TS + 10, "BUY", "AAPL", 2, "50")).await;
    assert_eq!(
        out.business_errors,
        vec![BusinessError::DuplicatedOperation]
    );
    assert_eq!(t.calls.take(), 1);

    let out = place(&t.store, id, &order(CLOSED_TS, "SELL", "AAPL", 1, "50")).await;
    assert_eq!(out.business_errors, vec![BusinessError::ClosedMarket]);
    assert_eq!(t.calls.take(), 1);

    assert!(t
        .store
        .place_order(
            &owner(),
            AccountId(99),
            Some(&parse(&order(OPEN_TS, "BUY", "X", 1, "1"))),
            &m,
            NOW,
            None,
            None
        )
        .await
        .unwrap()
        .judged()
        .expect("judged now")
        .is_none());
    assert_eq!(t.calls.take(), 1);
}

#[tokio::test]
async fn the_handlers_cost_the_same_calls_as_the_store() {
    let t = fresh_app().await;
    create_account::handle(&t, with_body(event("create-account"), r#"{"cash": 100}"#)).await;
    t.calls.take();
    place_order::handle(
        &t,
        request("place-order", 1, &order(OPEN_TS, "BUY", "X", 1, "10")),
    )
    .await;
    assert_eq!(
        t.calls.take(),
        2,
        "accepted, nothing cached: a read and the transaction"
    );
    place_order::handle(
        &t,
        request("place-order", 1, &order(OPEN_TS + 300, "BUY", "X", 1, "10")),
    )
    .await;
    assert_eq!(
        t.calls.take(),
        1,
        "accepted on the cached account: the transaction alone"
    );
    place_order::handle(
        &t,
        request(
            "place-order",
            1,
            &order(OPEN_TS + 600, "BUY", "X", 1, "1000"),
        ),
    )
    .await;
    assert_eq!(t.calls.take(), 1, "rejected by a rule");
    place_order::handle(&t, request("place-order", 1, r#"{"operation":"HOLD"}"#)).await;
    assert_eq!(t.calls.take(), 1, "invalid order");
}

/// A store on `t`'s table whose first order write waits for `rival` to be placed by
/// another store, and the counter of its own calls.
fn racing_store(
    t: &TestApp,
    id: AccountId,
    rival: String,
) -> (brokerage_store::Store, CallCounter) {
    let other = t.store.clone();
    // The rival runs to its end on the same runtime (whose connections both clients share)
    // before this write goes out.
    let racing = racing_app(t, move || {
        let out = tokio::runtime::Handle::current().block_on(place(&other, id, &rival));
        assert!(out.accepted(), "the rival commits");
    });
    (racing.store.clone(), racing.calls.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_that_loses_a_race_is_judged_again_from_the_returned_items() {
    let t = fresh_app().await;
    let id = t
        .store
        .open_account(&owner(), cash("100"), NOW)
        .await
        .unwrap()
        .id;
    // Judged against 100 in cash, then the rival spends 60 before the write: the write is
    // cancelled, and the account it returns decides without another read.
    let rival = order(OPEN_TS, "BUY", "X", 1, "60");
    let (store, calls) = racing_store(&t, id, rival);
    let body = order(OPEN_TS + 600, "BUY", "Y", 1, "60");
    let lost = place(&store, id, &body).await;
    assert_eq!(
        lost.business_errors,
        vec![BusinessError::InsufficientBalance]
    );
    assert_eq!(lost.account.cash, cash("40"));
    assert_eq!(calls.take(), 2, "one read, one cancelled write");

    // Still affordable after the rival: committed on the second write, with no re-read,
    // and the answer is the state both orders produced.
    let rival = order(OPEN_TS + 1200, "BUY", "X", 1, "10");
    let (store, calls) = racing_store(&t, id, rival);
    let body = order(OPEN_TS + 1800, "SELL", "X", 1, "25");
    let won = place(&store, id, &body).await;
    assert!(won.accepted(), "{:?}", won.business_errors);
    assert_eq!(won.account.cash, cash("55"));
    assert_eq!(won.account.version, 3);
    assert_eq!(calls.take(), 3, "one read, a cancelled write, the write");
    assert_eq!(
        t.store.load_account(&owner(), id).await.unwrap(),
        Some(won.account)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_resent_after_its_answer_was_lost_is_recognised_in_the_books() {
    let t = fresh_app().await;
    let id = t
        .store
        .open_account(&owner(), cash("100"), NOW)
        .await
        .unwrap()
        .id;
    let lossy = lossy_app(&t, || {});
    let placed = place(&lossy.store, id, &order(OPEN_TS, "BUY", "X", 2, "5")).await;
    // The resend's condition fails on the order's own version: its entry in the books
    // (its sequence number and nonce) says that this order moved it, once.
    assert!(placed.accepted(), "{:?}", placed.business_errors);
    assert_eq!(placed.account.cash, cash("90"));
    assert_eq!(placed.account.version, 1);
    assert_eq!(lossy.calls.take(), 3, "a read, the write, its resend");
    assert_eq!(
        t.store.load_account(&owner(), id).await.unwrap(),
        Some(placed.account)
    );
    assert_eq!(whole_ledger(&t, id, 500).await, vec![(OPEN_TS, 2)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_resent_after_its_entry_was_written_out_is_recognised_in_the_ledger() {
    use brokerage_store::store::FLUSH_AT;
    let t = fresh_app().await;
    let id = t
        .store
        .open_account(&owner(), cash("1000"), NOW)
        .await
        .unwrap()
        .id;
    // Between the write and its resend, other orders fill the books, and the last of
    // them writes every entry out as a ledger page, this order's too.
    let other = t.store.clone();
    let lossy = lossy_app(&t, move || {
        tokio::runtime::Handle::current().block_on(async {
            for i in 1..FLUSH_AT as i64 {
                let body = order(OPEN_TS + 10 * i, "BUY", "X", i as u64, "1");
                assert!(place(&other, id, &body).await.accepted(), "order {i}");
            }
        })
    });
    let placed = place(&lossy.store, id, &order(OPEN_TS, "BUY", "Y", 2, "5")).await;
    assert!(placed.accepted(), "{:?}", placed.business_errors);
    assert_eq!(
        lossy.calls.take(),
        4,
        "a read, the write, its resend, the page"
    );
    assert_eq!(items_of(&t, id, "ORDER#").await, 1);
    let spent: i64 = 10 + (1..FLUSH_AT as i64).sum::<i64>();
    let stored = t.store.load_account(&owner(), id).await.unwrap().unwrap();
    assert_eq!(stored.cash, cash(&(1000 - spent).to_string()));
    assert_eq!(stored.version, FLUSH_AT as u64);
    let ledger = whole_ledger(&t, id, 500).await;
    assert_eq!(ledger.len(), FLUSH_AT);
    assert_eq!(
        ledger.iter().filter(|o| **o == (OPEN_TS, 2)).count(),
        1,
        "{ledger:?}"
    );
}

#[tokio::test]
async fn amounts_are_stored_as_exact_dynamodb_numbers() {
    let t = fresh_app().await;
    let id = t
        .store
        .open_account(&owner(), cash("0.30"), NOW)
        .await
        .unwrap()
        .id;
    place(&t.store, id, &order(OPEN_TS, "BUY", "X", 3, "0.1")).await;
    let raw = t
        .store
        .client()
        .get_item()
        .table_name(t.store.table())
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S("ACCOUNT#1".into()),
        )
        .key(
            "sk",
            aws_sdk_dynamodb::types::AttributeValue::S("ACCOUNT".into()),
        )
        .send()
        .await
        .unwrap();
    let item = raw.item().unwrap();
    assert_eq!(item["cash"].as_n().unwrap(), "0");
    let holding = item["holdings"].as_m().unwrap()["X"].as_m().unwrap();
    assert_eq!(holding["price"].as_n().unwrap(), "0.1");
    assert_eq!(holding["shares"].as_n().unwrap(), "3");
}

/// An app on `t`'s table without a cache: its orders leave `t`'s cached view behind.
async fn uncached(t: &TestApp) -> TestApp {
    app_with(config(&t.config.table_name, None)).await
}

#[tokio::test]
async fn an_order_judged_on_a_stale_cached_account_is_judged_again_on_the_real_one() {
    let t = fresh_app().await;
    create_account::handle(&t, with_body(event("create-account"), r#"{"cash": 100}"#)).await;
    let buy = |ts: i64, price: &str| request("place-order", 1, &order(ts, "BUY", "X", 1, price));
    place_order::handle(&t, buy(OPEN_TS, "10")).await;
    assert_eq!(stored_cash(&t, 1).await, "90");
    // Elsewhere, the cash goes down to 10: the cached view still says 90.
    let other = uncached(&t).await;
    place_order::handle(&other, buy(OPEN_TS + 300, "80")).await;
    t.calls.take();
    let resp = place_order::handle(&t, buy(OPEN_TS + 600, "50")).await;
    assert_eq!(
        json_of(&resp)["business_errors"],
        serde_json::json!(["INSUFFICIENT_BALANCE"])
    );
    assert_eq!(
        json_of(&resp)["current_balance"]["cash"],
        serde_json::json!(10)
    );
    assert_eq!(
        t.calls.take(),
        1,
        "the refused transaction returned the account as it is"
    );
    assert_eq!(stored_cash(&t, 1).await, "10");
}

#[tokio::test]
async fn a_rejection_the_cache_suggests_is_confirmed_by_a_read() {
    let t = fresh_app().await;
    create_account::handle(&t, with_body(event("create-account"), r#"{"cash": 100}"#)).await;
    let order_of =
        |ts: i64, op: &str, price: &str| request("place-order", 1, &order(ts, op, "X", 1, price));
    place_order::handle(&t, order_of(OPEN_TS, "BUY", "90")).await;
    // Elsewhere, a sale takes the cash up to 200: the cached view still says 10.
    let other = uncached(&t).await;
    place_order::handle(&other, order_of(OPEN_TS + 300, "SELL", "190")).await;
    t.calls.take();
    let resp = place_order::handle(&t, order_of(OPEN_TS + 600, "BUY", "50")).await;
    assert_eq!(json_of(&resp)["business_errors"], serde_json::json!([]));
    assert_eq!(
        t.calls.take(),
        2,
        "the confirming read, then the transaction"
    );
    assert_eq!(stored_cash(&t, 1).await, "150");
}

#[tokio::test]
async fn money_round_trips_exactly_as_dynamodb_numbers() {
    let t = fresh_app().await;
    for text in ["0.1", "1000.5", "999999999999.99"] {
        let opened = t
            .store
            .open_account(&owner(), cash(text), NOW)
            .await
            .unwrap();
        let raw = t
            .store
            .client()
            .get_item()
            .table_name(t.store.table())
            .set_key(Some(brokerage_store::items::account_key(opened.id)))
            .send()
            .await
            .unwrap();
        let item = raw.item().expect("the account is stored");
        assert_eq!(item["cash"].as_n().unwrap(), text, "stored as a Number");
        let loaded = t.store.load_account(&owner(), opened.id).await.unwrap();
        assert_eq!(loaded.unwrap().cash.value().to_string(), text);
    }
}

/// The ledger as list-orders pages it, `limit` at a time, newest first: (timestamp, shares).
async fn whole_ledger(t: &TestApp, id: AccountId, limit: u32) -> Vec<(i64, u64)> {
    let mut out = Vec::new();
    let mut before = None;
    loop {
        let page = t
            .store
            .orders_page(&owner(), id, limit, before)
            .await
            .unwrap()
            .expect("the account exists");
        assert!(page.orders.len() <= limit as usize);
        out.extend(
            page.orders
                .iter()
                .map(|o| (o.timestamp, o.total_shares.get())),
        );
        match page.next {
            Some(next) => before = Some(next),
            None => return out,
        }
    }
}

/// Ledger pages (`ORDER#`) or guard items (`DEDUP#`) written out of the account item so far.
async fn items_of(t: &TestApp, id: AccountId, prefix: &str) -> usize {
    t.store
        .client()
        .query()
        .table_name(t.store.table())
        .key_condition_expression("pk = :pk AND begins_with(sk, :o)")
        .expression_attribute_values(":pk", shared::dynamo::s(format!("ACCOUNT#{}", id.0)))
        .expression_attribute_values(":o", shared::dynamo::s(prefix))
        .send()
        .await
        .unwrap()
        .count() as usize
}

#[tokio::test]
async fn orders_kept_in_the_account_item_are_written_out_and_listed_once_newest_first() {
    use brokerage_store::store::FLUSH_AT;
    let t = fresh_app().await;
    create_account::handle(
        &t,
        with_body(event("create-account"), r#"{"cash": 100000}"#),
    )
    .await;
    let id = AccountId(1);
    let n = 2 * FLUSH_AT + 3;
    t.calls.take();
    for i in 0..n as i64 {
        let body = order(OPEN_TS + 10 * i, "BUY", "X", i as u64 + 1, "1");
        let resp = place_order::handle(&t, request("place-order", 1, &body)).await;
        assert_eq!(json_of(&resp)["business_errors"], serde_json::json!([]));
        // The first reads the account; every other is one write, the ones that write the
        // account item's entries out as a ledger page too.
        assert_eq!(t.calls.take(), if i == 0 { 2 } else { 1 }, "order {i}");
    }
    // Two pages of FLUSH_AT entries each.
    assert_eq!(items_of(&t, id, "ORDER#").await, 2);
    let newest_first: Vec<(i64, u64)> = (0..n as i64)
        .rev()
        .map(|i| (OPEN_TS + 10 * i, i as u64 + 1))
        .collect();
    for limit in [1, 5, FLUSH_AT as u32, 500] {
        assert_eq!(
            whole_ledger(&t, id, limit).await,
            newest_first,
            "limit {limit}"
        );
    }
    // The same through the handler, and the balance that the ledger adds up to.
    let page = list_orders::handle(&t, request("list-orders", 1, "")).await;
    assert_eq!(json_of(&page)["orders"].as_array().unwrap().len(), n);
    let spent: u64 = (1..=n as u64).sum();
    assert_eq!(stored_cash(&t, 1).await, (100000 - spent).to_string());
}

#[tokio::test]
async fn the_duplicate_window_is_exact_for_guards_written_out_of_the_account_item() {
    use brokerage_store::store::{FLUSH_AT, GUARDS_KEPT};
    let t = fresh_app().await;
    let id = t
        .store
        .open_account(&owner(), cash("100000"), NOW)
        .await
        .unwrap()
        .id;
    let t0 = OPEN_TS + 3000;
    assert!(place(&t.store, id, &order(t0, "BUY", "K", 7, "1"))
        .await
        .accepted());
    // Enough other orders at the same second that the account item writes every guard out,
    // so the ones below are judged on guard items.
    for i in 0..(GUARDS_KEPT + 2 * FLUSH_AT) as u64 {
        let out = place(&t.store, id, &order(t0, "BUY", "OTHER", i + 1, "1")).await;
        assert!(out.accepted(), "{i}: {:?}", out.business_errors);
    }
    assert_eq!(
        items_of(&t, id, "DEDUP#").await,
        1 + GUARDS_KEPT + 2 * FLUSH_AT,
        "every guard an item: written out, then, once the fence passed that second, written so"
    );
    let dup = vec![BusinessError::DuplicatedOperation];
    for ts in [t0 - 299, t0 - 1, t0, t0 + 1, t0 + 299] {
        let out = place(&t.store, id, &order(ts, "BUY", "K", 7, "1")).await;
        assert_eq!(out.business_errors, dup, "{ts}");
        let out = place(&t.store, id, &order(ts, "BUY", "OTHER", 1, "1")).await;
        assert_eq!(out.business_errors, dup, "{ts}");
    }
    // A window away on either side is no duplicate, and is one for whatever follows.
    assert!(place(&t.store, id, &order(t0 + 300, "BUY", "K", 7, "1"))
        .await
        .accepted());
    assert!(place(&t.store, id, &order(t0 - 300, "BUY", "K", 7, "1"))
        .await
        .accepted());
    for ts in [t0 - 599, t0 + 599] {
        let out = place(&t.store, id, &order(ts, "BUY", "K", 7, "1")).await;
        assert_eq!(out.business_errors, dup, "{ts}");
    }
    // The same through the handler, judged on the cached account item.
    let app_id = create_account::handle(
        &t,
        with_body(event("create-account"), r#"{"cash": 100000}"#),
    )
    .await;
    let app_id = json_of(&app_id)["id"].as_u64().unwrap();
    let buy =
        |ts: i64, shares: u64| request("place-order", app_id, &order(ts, "BUY", "Y", shares, "1"));
    for i in 0..(GUARDS_KEPT + 2 * FLUSH_AT) as u64 {
        let resp = place_order::handle(&t, buy(t0, i + 1)).await;
        assert_eq!(
            json_of(&resp)["business_errors"],
            serde_json::json!([]),
            "{i}"
        );
    }
    for shares in [1, 20, (GUARDS_KEPT + 2 * FLUSH_AT) as u64] {
        let resp = place_order::handle(&t, buy(t0 + 299, shares)).await;
        assert_eq!(
            json_of(&resp)["business_errors"],
            serde_json::json!(["DUPLICATED_OPERATION"]),
            "{shares}"
        );
        let resp = place_order::handle(&t, buy(t0 + 300, shares)).await;
        assert_eq!(
            json_of(&resp)["business_errors"],
            serde_json::json!([]),
            "{shares}"
        );
    }
    let orders = whole_ledger(&t, AccountId(app_id), 7).await;
    assert_eq!(orders.len(), GUARDS_KEPT + 2 * FLUSH_AT + 3);
}
