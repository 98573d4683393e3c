//! `POST /accounts/{id}/orders`: judge one order and apply it if it breaks no rule.

use brokerage_domain::{Balance, BusinessError, Order};
use brokerage_store::{account_id, account_not_found, Brokerage, Keep, OrderOutcome, Placed};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use shared::http::{self, ApiError};
use shared::idempotency;

#[derive(Serialize)]
struct OrderResponse {
    current_balance: Balance,
    business_errors: Vec<BusinessError>,
}

pub async fn handle(app: &Brokerage, req: Request) -> Response<Body> {
    let path = http::path(&req);
    http::finish(&path, place(app, &req, &path).await)
}

async fn place(app: &Brokerage, req: &Request, path: &str) -> Result<Response<Body>, ApiError> {
    let owner = http::caller(app, req).await?;
    let keyed = idempotency::keyed(req)?;
    let now = app.clock.now();
    let expires_at = now + app.config.idempotency_ttl.as_secs() as i64;
    // A bad id or body is refused before anything is read; with a key, that answer is kept
    // too, so the key cannot then be used for another request (422).
    let (id, fields) = match account_id(req).and_then(|id| Ok((id, http::object_body(req)?))) {
        Ok(parsed) => parsed,
        Err(e) => {
            let Some(keyed) = &keyed else { return Err(e) };
            let refusal = e.into_response(path);
            let saved = idempotency::save(&refusal);
            let kept = idempotency::keep_alone(
                &app.dynamodb,
                &app.config.table_name,
                &owner,
                keyed,
                now,
                expires_at,
                &saved,
            );
            return match kept.await? {
                idempotency::Verdict::Free => Ok(refusal),
                earlier => earlier.into_answer().unwrap_or(Err(ApiError::Internal)),
            };
        }
    };
    let order = Order::parse(|name| fields.get(name), now);
    let answer = |outcome: Option<&OrderOutcome>| idempotency::save(&respond(outcome, path));
    let keep = keyed.as_ref().map(|keyed| Keep {
        keyed,
        expires_at,
        answer: &answer,
    });
    // The account as cached: an accepted order is then one write, with no read.
    let cached = match &order {
        Some(_) => app.accounts.get_state(&owner, id).await,
        None => None,
    };
    let placed = app
        .store
        .place_order(
            &owner,
            id,
            order.as_ref(),
            &app.market,
            now,
            keep.as_ref(),
            cached,
        )
        .await?;
    let outcome = match placed {
        Placed::Judged(outcome) => outcome.ok_or_else(account_not_found)?,
        Placed::Earlier(verdict) => {
            shared::telemetry::outcome("replayed", &id.to_string());
            return verdict.into_answer().unwrap_or(Err(ApiError::Internal));
        }
    };
    // Before answering, so no read after this response sees the older balance; a rejection
    // judged on DynamoDB's state refreshes a view that was behind it.
    app.accounts
        .put_held(&outcome.account, &outcome.books)
        .await;
    if outcome.accepted() {
        app.metrics.count("OrdersAccepted", &[]);
    } else {
        app.metrics.count("OrdersRejected", &[]);
    }
    // One count per rule broken, so a dashboard can say why orders are refused.
    for error in &outcome.business_errors {
        app.metrics
            .count("OrdersRejected", &[("BusinessError", error.code())]);
    }
    if outcome.accepted() {
        shared::telemetry::outcome("accepted", &id.to_string());
    } else {
        shared::telemetry::outcome("rejected", &id.to_string());
        let codes: Vec<&str> = outcome.business_errors.iter().map(|e| e.code()).collect();
        shared::telemetry::detail(&codes.join(","));
    }
    Ok(respond(Some(&outcome), path))
}

/// The answer to an outcome (`None`: no such account), as sent and as kept for replays.
fn respond(outcome: Option<&OrderOutcome>, path: &str) -> Response<Body> {
    match outcome {
        Some(o) => http::json(
            StatusCode::OK,
            &OrderResponse {
                current_balance: o.account.balance(),
                business_errors: o.business_errors.clone(),
            },
        ),
        None => account_not_found().into_response(path),
    }
}
