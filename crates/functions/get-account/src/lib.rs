//! `GET /accounts/{id}`: the balance, read through the Redis cache.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::http::{self, ApiError};
use shared::App;

pub async fn handle(app: &App, req: Request) -> Response<Body> {
    http::finish(&http::path(&req), balance(app, &req).await)
}

async fn balance(app: &App, req: &Request) -> Result<Response<Body>, ApiError> {
    let owner = http::caller(app, req).await?;
    let id = http::account_id(req)?;
    if let Some(view) = app.cache.get_account(&owner, id).await {
        app.metrics.count("CacheHits", &[]);
        tracing::info!(account_id = %id, cache = "hit", outcome = "found");
        return Ok(http::json_text(StatusCode::OK, view));
    }
    let account = app
        .store
        .load_account(&owner, id)
        .await?
        .ok_or(ApiError::AccountNotFound)?;
    app.metrics.count("CacheMisses", &[]);
    app.cache.put_account(&account).await;
    tracing::info!(account_id = %id, cache = "miss", outcome = "found");
    Ok(http::json(StatusCode::OK, &account.view()))
}
