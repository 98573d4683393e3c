//! `GET /accounts/{id}`: the balance, read through the Redis cache.

use brokerage_store::{account_id, account_not_found, Brokerage, Held};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::http::{self, ApiError};

pub async fn handle(app: &Brokerage, req: Request) -> Response<Body> {
    http::finish(&http::path(&req), balance(app, &req).await)
}

async fn balance(app: &Brokerage, req: &Request) -> Result<Response<Body>, ApiError> {
    let owner = http::caller(app, req).await?;
    let id = account_id(req)?;
    if let Some(view) = app.accounts.get_account(&owner, id).await {
        app.metrics.count("CacheHits", &[]);
        tracing::info!(account_id = %id, cache = "hit", outcome = "found");
        return Ok(http::json_text(StatusCode::OK, view));
    }
    let Held { account, books } = app
        .store
        .load(&owner, id)
        .await?
        .ok_or_else(account_not_found)?;
    app.metrics.count("CacheMisses", &[]);
    app.accounts.put_held(&account, &books).await;
    tracing::info!(account_id = %id, cache = "miss", outcome = "found");
    Ok(http::json(StatusCode::OK, &account.view()))
}
