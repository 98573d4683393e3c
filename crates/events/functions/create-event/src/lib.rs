//! `POST /event`: store one event (one conditional `PutItem`), or 409 if the id is taken.

use events_domain::Event;
use events_store::items::EventItem;
use events_store::{event_exists, invalid_event, new_event_id, Events};
use lambda_http::http::{header, StatusCode};
use lambda_http::{Body, Request, Response};
use shared::http::{self, ApiError};
use shared::{idempotency, Owner};

pub async fn handle(app: &Events, req: Request) -> Response<Body> {
    let result = async {
        let owner = http::caller(app, &req).await?;
        idempotency::once(app, &req, &owner, || create(app, &req, &owner)).await
    };
    http::finish(&http::path(&req), result.await)
}

async fn create(app: &Events, req: &Request, owner: &Owner) -> Result<Response<Body>, ApiError> {
    let fields = http::object_body(req)?;
    let event = Event::parse(&fields, new_event_id).map_err(invalid_event)?;
    let item = EventItem::new(owner, &event, events_store::now_us());
    if !app.store.put_event(&item).await? {
        shared::telemetry::outcome("exists", event.id.as_str());
        return Err(event_exists());
    }
    app.metrics.count("EventsCreated", &[]);
    shared::telemetry::outcome("created", event.id.as_str());
    let mut response = http::json(StatusCode::CREATED, &event);
    let location =
        header::HeaderValue::from_str(&format!("/event/{}", event.id.as_str())).expect("ASCII");
    response.headers_mut().insert(header::LOCATION, location);
    Ok(response)
}
