//! `POST /accounts/{id}/orders`: judge one order and apply it if it breaks no rule.

use domain::{Balance, BusinessError, Order, Owner};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use shared::http::{self, ApiError};
use shared::idempotency;
use shared::{App, OrderOutcome};

#[derive(Serialize)]
struct OrderResponse {
    current_balance: Balance,
    business_errors: Vec<BusinessError>,
}

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    let result = async {
        let owner = http::caller(app, &req).await?;
        idempotency::once(app, &req, &owner, |key| place(app, &req, &owner, key)).await
    };
    http::finish(&http::path(&req), result.await)
}

async fn place(
    app: &App,
    req: &Request,
    owner: &Owner,
    idempotency_key: Option<String>,
) -> Result<Response<Body>, ApiError> {
    let id = http::account_id(req)?;
    let fields = http::object_body(req)?;
    let now = app.clock.now();
    let outcome = match Order::parse(|name| fields.get(name), now) {
        Some(order) => {
            app.store
                .place_order(
                    owner,
                    id,
                    &order,
                    &app.config.market,
                    now,
                    idempotency_key.as_deref(),
                )
                .await?
        }
        None => app
            .store
            .load_account(owner, id)
            .await?
            .map(|account| OrderOutcome {
                account,
                business_errors: vec![BusinessError::InvalidOperation],
            }),
    };
    let outcome = outcome.ok_or(ApiError::AccountNotFound)?;
    if outcome.accepted() {
        // Before answering, so no read after this response sees the older balance.
        app.cache.put_account(&outcome.account).await;
        app.metrics.count("OrdersAccepted", &[]);
    } else {
        app.metrics.count("OrdersRejected", &[]);
    }
    // One count per rule broken, so a dashboard can say why orders are refused.
    for error in &outcome.business_errors {
        app.metrics
            .count("OrdersRejected", &[("BusinessError", error.code())]);
    }
    tracing::info!(
        account_id = %id,
        outcome = if outcome.accepted() { "accepted" } else { "rejected" },
        business_errors = ?outcome.business_errors,
    );
    let body = OrderResponse {
        current_balance: outcome.account.balance(),
        business_errors: outcome.business_errors,
    };
    Ok(http::json(StatusCode::OK, &body))
}
