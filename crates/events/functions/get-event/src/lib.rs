//! `GET /event/{event_id}`: the event, read through the Redis cache.

use events_store::{event_id, event_not_found, Events};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::http::{self, ApiError};

pub async fn handle(app: &Events, req: Request) -> Response<Body> {
    http::finish(&http::path(&req), get(app, &req).await)
}

async fn get(app: &Events, req: &Request) -> Result<Response<Body>, ApiError> {
    let owner = http::caller(app, req).await?;
    let id = event_id(req)?;
    if let Some(body) = app.cache.get_event(&owner, &id).await {
        app.metrics.count("CacheHits", &[]);
        return Ok(http::json_text(StatusCode::OK, body));
    }
    let item = app
        .store
        .get_event(&owner, &id)
        .await?
        .ok_or_else(event_not_found)?;
    app.metrics.count("CacheMisses", &[]);
    let body = serde_json_text(&item.event()?);
    app.cache
        .put_event(&owner, &id, item.created_us, body.clone())
        .await;
    Ok(http::json_text(StatusCode::OK, body))
}

fn serde_json_text(event: &events_domain::Event) -> String {
    events_store::event_json(event)
}
