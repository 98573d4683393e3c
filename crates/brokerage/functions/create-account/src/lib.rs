//! `POST /accounts`: open an account with its initial cash.

use brokerage_domain::{Cash, Owner};
use brokerage_store::Brokerage;
use lambda_http::http::{header, StatusCode};
use lambda_http::{Body, Request, Response};
use shared::http::{self, ApiError};
use shared::idempotency;

pub async fn handle(app: &Brokerage, req: Request) -> Response<Body> {
    let result = async {
        let owner = http::caller(app, &req).await?;
        idempotency::once(app, &req, &owner, || open(app, &req, &owner)).await
    };
    http::finish(&http::path(&req), result.await)
}

async fn open(app: &Brokerage, req: &Request, owner: &Owner) -> Result<Response<Body>, ApiError> {
    let fields = http::object_body(req)?;
    let cash = Cash::parse(&fields.get("cash")).map_err(|e| ApiError::InvalidField {
        field: "cash".into(),
        reason: e.to_string(),
    })?;
    let account = app.store.open_account(owner, cash, app.clock.now()).await?;
    app.metrics.count("AccountsOpened", &[]);
    tracing::info!(account_id = %account.id, outcome = "opened");
    let mut response = http::json(StatusCode::CREATED, &account.view());
    let location =
        header::HeaderValue::from_str(&format!("/accounts/{}", account.id)).expect("ASCII");
    response.headers_mut().insert(header::LOCATION, location);
    Ok(response)
}
