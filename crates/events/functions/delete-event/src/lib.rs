//! `DELETE /event/{event_id}`: one conditional `DeleteItem`; the cached event goes before
//! the answer.

use events_store::{event_id, event_not_found, Events};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use shared::http::{self, ApiError};

pub async fn handle(app: &Events, req: Request) -> Response<Body> {
    http::finish(&http::path(&req), delete(app, &req).await)
}

async fn delete(app: &Events, req: &Request) -> Result<Response<Body>, ApiError> {
    let owner = http::caller(app, req).await?;
    let id = event_id(req)?;
    let item = app
        .store
        .delete_event(&owner, &id)
        .await?
        .ok_or_else(event_not_found)?;
    app.cache.forget_event(&owner, &id, item.created_us).await;
    app.metrics.count("EventsDeleted", &[]);
    shared::telemetry::outcome("deleted", id.as_str());
    Ok(Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Body::Empty)
        .expect("status and body are valid"))
}
