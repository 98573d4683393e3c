//! `Idempotency-Key` on both POSTs: replays answer byte for byte and apply nothing twice,
//! another body is 422, a request still running is 409, and a crashed request's key frees
//! itself.

use api_tests::*;
use lambda_http::{Body, Response};
use serde_json::json;

fn keyed(req: lambda_http::Request, key: &str) -> lambda_http::Request {
    with_header(req, "idempotency-key", key)
}

/// Status, the headers a client sees, and the exact body bytes.
fn wire(resp: &Response<Body>) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut headers: Vec<_> = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
        .collect();
    headers.sort();
    (
        resp.status().as_u16(),
        headers,
        resp.body().as_ref().to_vec(),
    )
}

#[tokio::test]
async fn a_replayed_order_answers_the_same_bytes_and_applies_once() {
    let t = fresh_app().await;
    create_account::handle(&t, event("create-account")).await;
    let buy = order(OPEN_TS, "BUY", "AAPL", 2, "50");
    let first = place_order::handle(&t, keyed(request("place-order", 1, &buy), "k-1")).await;
    assert_eq!(json_of(&first)["business_errors"], json!([]));
    for _ in 0..3 {
        let again = place_order::handle(&t, keyed(request("place-order", 1, &buy), "k-1")).await;
        // Not DUPLICATED_OPERATION: the first answer itself.
        assert_eq!(wire(&again), wire(&first));
    }
    assert_eq!(stored_cash(&t, 1).await, "900");
    let ledger = list_orders::handle(&t, request("list-orders", 1, "")).await;
    assert_eq!(json_of(&ledger)["orders"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_replayed_opening_returns_the_same_account_and_opens_no_other() {
    let t = fresh_app().await;
    let open = || {
        keyed(
            with_body(event("create-account"), r#"{"cash": 5}"#),
            "open-1",
        )
    };
    let first = create_account::handle(&t, open()).await;
    assert_eq!(first.status(), 201);
    assert_eq!(
        wire(&create_account::handle(&t, open()).await),
        wire(&first)
    );
    // The next opening without the key gets the next id: the replay opened nothing.
    let next = create_account::handle(&t, event("create-account")).await;
    assert_eq!(json_of(&next)["id"], json!(2));
}

#[tokio::test]
async fn a_key_reused_with_another_body_is_422_and_changes_nothing() {
    let t = fresh_app().await;
    create_account::handle(&t, event("create-account")).await;
    let buy = |shares| order(OPEN_TS, "BUY", "AAPL", shares, "50");
    place_order::handle(&t, keyed(request("place-order", 1, &buy(2)), "k")).await;
    let other = place_order::handle(&t, keyed(request("place-order", 1, &buy(3)), "k")).await;
    assert_eq!(other.status(), 422);
    assert_eq!(content_type(&other), "application/problem+json");
    // Another account's path with the same key and body is another request too.
    create_account::handle(&t, event("create-account")).await;
    let elsewhere = place_order::handle(&t, keyed(request("place-order", 2, &buy(2)), "k")).await;
    assert_eq!(elsewhere.status(), 422);
    assert_eq!(stored_cash(&t, 1).await, "900");
}

#[tokio::test]
async fn a_key_still_in_flight_is_409_until_its_lock_passes() {
    let t = fresh_app().await;
    create_account::handle(&t, event("create-account")).await;
    let req = || {
        keyed(
            request("place-order", 1, &order(OPEN_TS, "BUY", "AAPL", 1, "1")),
            "busy",
        )
    };
    // A request that took the key and then died (as a crashed function would).
    let lock = t.config.idempotency_lock.as_secs() as i64;
    hold_key(&t, &req(), "busy", "dead").await;
    let busy = place_order::handle(&t, req()).await;
    assert_eq!(busy.status(), 409);
    assert_eq!(busy.headers()["retry-after"], "1");
    assert_eq!(json_of(&busy)["status"], json!(409));
    // Once its lock has passed, a retry takes the key over and runs.
    t.clock.set(NOW + lock + 1);
    let taken_over = place_order::handle(&t, req()).await;
    assert_eq!(json_of(&taken_over)["business_errors"], json!([]));
    assert_eq!(
        wire(&place_order::handle(&t, req()).await),
        wire(&taken_over)
    );
}

#[tokio::test]
async fn a_key_answers_replays_for_a_day_then_is_new() {
    let t = fresh_app().await;
    let open = || keyed(event("create-account"), "daily");
    let first = create_account::handle(&t, open()).await;
    t.clock.set(NOW + 86_400 - 1);
    assert_eq!(
        wire(&create_account::handle(&t, open()).await),
        wire(&first)
    );
    t.clock.set(NOW + 86_400 + 1);
    let later = create_account::handle(&t, open()).await;
    assert_eq!(json_of(&later)["id"], json!(2));
}

#[tokio::test]
async fn keys_belong_to_their_tenant() {
    let t = fresh_app().await;
    let mine = create_account::handle(&t, keyed(event("create-account"), "same")).await;
    let other = keyed(
        with_header(event("create-account"), "x-api-key", "local-other-key"),
        "same",
    );
    let theirs = create_account::handle(&t, other).await;
    assert_eq!(theirs.status(), 201);
    assert_ne!(json_of(&theirs)["id"], json_of(&mine)["id"]);
}

#[tokio::test]
async fn errors_are_replayed_too_and_bad_keys_are_400() {
    let t = fresh_app().await;
    let bad_cash = || keyed(with_body(event("create-account"), r#"{"cash": -1}"#), "e");
    let first = create_account::handle(&t, bad_cash()).await;
    assert_eq!(first.status(), 400);
    assert_eq!(
        wire(&create_account::handle(&t, bad_cash()).await),
        wire(&first)
    );

    for key in ["", &"k".repeat(256), "with space"] {
        let resp = create_account::handle(&t, keyed(event("create-account"), key)).await;
        assert_eq!(resp.status(), 400, "{key:?}");
        assert_eq!(json_of(&resp)["field"], json!("Idempotency-Key"));
    }
    let next = create_account::handle(&t, event("create-account")).await;
    assert_eq!(json_of(&next)["id"], json!(1));
}

#[tokio::test]
async fn a_key_costs_an_accepted_order_no_call_and_a_replay_one() {
    let t = fresh_app().await;
    create_account::handle(&t, with_body(event("create-account"), r#"{"cash": 100}"#)).await;
    let buy = order(OPEN_TS, "BUY", "X", 1, "10");
    t.calls.take();
    let first = place_order::handle(&t, keyed(request("place-order", 1, &buy), "cost")).await;
    assert_eq!(json_of(&first)["business_errors"], json!([]));
    assert_eq!(
        t.calls.take(),
        2,
        "the read with the key's record, the transaction that writes it"
    );
    let again = place_order::handle(&t, keyed(request("place-order", 1, &buy), "cost")).await;
    assert_eq!(wire(&again), wire(&first));
    assert_eq!(t.calls.take(), 1, "a replay is the read alone");
    assert_eq!(stored_cash(&t, 1).await, "90");
}

#[tokio::test]
async fn a_rejected_keyed_order_keeps_its_answer_though_the_account_changes() {
    let t = fresh_app().await;
    create_account::handle(&t, with_body(event("create-account"), r#"{"cash": 100}"#)).await;
    place_order::handle(
        &t,
        request("place-order", 1, &order(OPEN_TS, "BUY", "X", 1, "10")),
    )
    .await;
    let costly = || {
        keyed(
            request("place-order", 1, &order(OPEN_TS, "BUY", "Y", 1, "95")),
            "no",
        )
    };
    t.calls.take();
    let first = place_order::handle(&t, costly()).await;
    assert_eq!(
        json_of(&first)["business_errors"],
        json!(["INSUFFICIENT_BALANCE"])
    );
    assert_eq!(
        t.calls.take(),
        2,
        "the read, and the write that keeps the answer"
    );
    // Cash enough for it now: the retry still gets the first answer, and buys nothing.
    let sell = order(OPEN_TS + 1, "SELL", "X", 1, "20");
    place_order::handle(&t, request("place-order", 1, &sell)).await;
    assert_eq!(stored_cash(&t, 1).await, "110");
    t.calls.take();
    assert_eq!(wire(&place_order::handle(&t, costly()).await), wire(&first));
    assert_eq!(t.calls.take(), 1);
    assert_eq!(stored_cash(&t, 1).await, "110");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyed_order_whose_key_is_taken_before_its_commit_answers_as_the_first() {
    let t = fresh_app().await;
    create_account::handle(&t, with_body(event("create-account"), r#"{"cash": 100}"#)).await;
    let buy = order(OPEN_TS, "BUY", "X", 1, "10");
    let req = move || keyed(request("place-order", 1, &buy), "late");
    // Another request with the same key commits between this one's read and its write: the
    // key's record refuses the transaction and its answer is this request's.
    let (app, first) = (
        t.app.clone(),
        std::sync::Arc::new(std::sync::Mutex::new(None)),
    );
    let seen = first.clone();
    let rival = req.clone();
    let late_app = racing_app(&t, move || {
        let resp = tokio::runtime::Handle::current().block_on(place_order::handle(&app, rival()));
        *seen.lock().unwrap() = Some(wire(&resp));
    });
    let late = place_order::handle(&late_app, req()).await;
    let first = first.lock().unwrap().take().expect("the rival ran");
    assert_eq!(json_of(&late)["business_errors"], json!([]));
    assert_eq!(wire(&late), first);
    assert_eq!(stored_cash(&t, 1).await, "90");
    assert_eq!(
        late_app.calls.take(),
        2,
        "its read and its refused transaction"
    );
}

#[tokio::test]
async fn a_key_refused_for_its_order_s_form_is_kept_like_any_answer() {
    let t = fresh_app().await;
    create_account::handle(&t, with_body(event("create-account"), r#"{"cash": 100}"#)).await;
    let bad = || keyed(request("place-order", 1, "{not json"), "form");
    let first = place_order::handle(&t, bad()).await;
    assert_eq!(first.status(), 400);
    assert_eq!(wire(&place_order::handle(&t, bad()).await), wire(&first));
    // The key answered a request already: another request with it is 422, and buys nothing.
    let good = keyed(
        request("place-order", 1, &order(OPEN_TS, "BUY", "X", 1, "10")),
        "form",
    );
    assert_eq!(place_order::handle(&t, good).await.status(), 422);
    let unknown = || {
        keyed(
            request("place-order", 9, &order(OPEN_TS, "BUY", "X", 1, "10")),
            "gone",
        )
    };
    assert_eq!(place_order::handle(&t, unknown()).await.status(), 404);
    let elsewhere = keyed(
        request("place-order", 1, &order(OPEN_TS, "BUY", "X", 1, "10")),
        "gone",
    );
    assert_eq!(place_order::handle(&t, elsewhere).await.status(), 422);
    assert_eq!(stored_cash(&t, 1).await, "100");
}

#[tokio::test]
async fn parallel_retries_of_one_keyed_order_apply_it_once() {
    let t = fresh_app().await;
    create_account::handle(&t, with_body(event("create-account"), r#"{"cash": 1000}"#)).await;
    let buy = order(OPEN_TS, "BUY", "AAPL", 1, "10");
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let app = t.app.clone();
        let req = keyed(request("place-order", 1, &buy), "par");
        tasks.push(tokio::spawn(
            async move { place_order::handle(&app, req).await },
        ));
    }
    let mut answers = Vec::new();
    for task in tasks {
        answers.push(task.await.unwrap());
    }
    let done: Vec<_> = answers.iter().filter(|r| r.status() == 200).collect();
    assert!(!done.is_empty());
    // Every 200 is the same answer; the others are 409 (the first was still running).
    for r in &done {
        assert_eq!(wire(r), wire(done[0]));
        assert_eq!(json_of(r)["business_errors"], json!([]));
    }
    assert!(answers
        .iter()
        .all(|r| r.status() == 200 || r.status() == 409));
    assert_eq!(stored_cash(&t, 1).await, "990");
}
