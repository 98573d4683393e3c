//! `/sprockets` (GET a page, POST one) and `/sprockets/{id}` (GET through the cache, PUT,
//! PATCH as a JSON Merge Patch, DELETE); other methods 405 with `Allow`.

use factories_domain::cursor;
use factories_domain::{Kind, Precondition, SprocketPatch, SprocketSpec};
use factories_store::{invalid, not_found, store_error, Factories, SprocketItem};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use shared::http::{self, ApiError};
use shared::{idempotency, Owner};

const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 500;
const KIND: Kind = Kind::Sprocket;

pub async fn handle(app: &Factories, req: Request) -> Response<Body> {
    http::finish(&http::path(&req), route(app, &req).await)
}

async fn route(app: &Factories, req: &Request) -> Result<Response<Body>, ApiError> {
    let owner = http::caller(app, req).await?;
    if http::path_param(req, "id", "sprockets").is_none() {
        return match *req.method() {
            Method::GET => list(app, req, &owner).await,
            Method::POST => {
                idempotency::once(app, req, &owner, || async {
                    let spec = spec_body(req)?;
                    create(app, &owner, &spec).await
                })
                .await
            }
            _ => Err(ApiError::MethodNotAllowed("GET, POST")),
        };
    }
    let method = req.method().clone();
    if ![Method::GET, Method::PUT, Method::PATCH, Method::DELETE].contains(&method) {
        return Err(ApiError::MethodNotAllowed("GET, PUT, PATCH, DELETE"));
    }
    let id = factories_store::id(req, "sprockets", KIND)?;
    match method {
        Method::GET => {
            let (version, body) = read(app, &owner, id).await?;
            Ok(factories_store::conditional_get(
                req, KIND, id, version, body,
            ))
        }
        Method::PUT => {
            let spec = spec_body(req)?;
            let pre = factories_store::if_match(req, KIND, id)?;
            replace(app, &owner, id, &spec, &pre).await
        }
        Method::PATCH => {
            http::json_content_type(req)?;
            let patch = SprocketPatch::parse(&http::object_body(req)?).map_err(invalid)?;
            let pre = factories_store::if_match(req, KIND, id)?;
            update(app, &owner, id, &patch, &pre, StatusCode::OK).await
        }
        _ => {
            let pre = factories_store::if_match(req, KIND, id)?;
            app.store
                .delete_sprocket(&owner, id, &pre)
                .await
                .map_err(store_error(KIND))?;
            app.cache.forget_sprocket(&owner, id).await;
            tracing::info!(sprocket = id, outcome = "deleted");
            Ok(http::empty(StatusCode::NO_CONTENT))
        }
    }
}

fn spec_body(req: &Request) -> Result<SprocketSpec, ApiError> {
    http::json_content_type(req)?;
    SprocketSpec::parse(&http::object_body(req)?).map_err(invalid)
}

/// The answer of a write: the sprocket, its ETag, the cache updated first.
async fn written(
    app: &Factories,
    owner: &Owner,
    item: &SprocketItem,
    status: StatusCode,
) -> Response<Body> {
    let body = factories_store::json(&item.sprocket());
    app.cache
        .put_sprocket(owner, item.id, item.version, body.clone(), true)
        .await;
    factories_store::with_etag(http::json_text(status, body), KIND, item.id, item.version)
}

/// Creates a sprocket: 201 with its `Location` and ETag.
pub async fn create(
    app: &Factories,
    owner: &Owner,
    spec: &SprocketSpec,
) -> Result<Response<Body>, ApiError> {
    let item = app
        .store
        .create_sprocket(owner, spec)
        .await
        .map_err(store_error(KIND))?;
    app.metrics.count("SprocketsCreated", &[]);
    tracing::info!(sprocket = item.id, outcome = "created");
    let response = written(app, owner, &item, StatusCode::CREATED).await;
    Ok(factories_store::with_location(
        response,
        &format!("/sprockets/{}", item.id),
    ))
}

/// Replaces all four fields (PUT): one conditional write.
pub async fn replace(
    app: &Factories,
    owner: &Owner,
    id: u64,
    spec: &SprocketSpec,
    pre: &Precondition,
) -> Result<Response<Body>, ApiError> {
    let patch = SprocketPatch {
        teeth: Some(spec.teeth),
        pitch_diameter: Some(spec.pitch_diameter),
        outside_diameter: Some(spec.outside_diameter),
        pitch: Some(spec.pitch),
    };
    update(app, owner, id, &patch, pre, StatusCode::OK).await
}

async fn update(
    app: &Factories,
    owner: &Owner,
    id: u64,
    patch: &SprocketPatch,
    pre: &Precondition,
    status: StatusCode,
) -> Result<Response<Body>, ApiError> {
    let item = app
        .store
        .update_sprocket(owner, id, patch, pre)
        .await
        .map_err(store_error(KIND))?;
    tracing::info!(sprocket = id, version = item.version, outcome = "updated");
    Ok(written(app, owner, &item, status).await)
}

/// A sprocket's answer and version, through the cache.
pub async fn read(app: &Factories, owner: &Owner, id: u64) -> Result<(u64, String), ApiError> {
    if let Some(hit) = app.cache.get_sprocket(owner, id).await {
        app.metrics.count("CacheHits", &[]);
        return Ok(hit);
    }
    app.metrics.count("CacheMisses", &[]);
    let item = app
        .store
        .get_sprocket(owner, id)
        .await
        .map_err(store_error(KIND))?
        .ok_or_else(|| not_found(KIND))?;
    let body = factories_store::json(&item.sprocket());
    app.cache
        .put_sprocket(owner, id, item.version, body.clone(), false)
        .await;
    Ok((item.version, body))
}

#[derive(Serialize)]
struct ListPage {
    sprockets: Vec<factories_domain::Sprocket>,
    next_cursor: Option<String>,
}

/// A page of sprockets, ascending id (one Query).
pub async fn page(
    app: &Factories,
    owner: &Owner,
    limit: usize,
    after: Option<u64>,
) -> Result<(Vec<factories_domain::Sprocket>, Option<String>), ApiError> {
    let (items, more) = app
        .store
        .list_sprockets(owner, after, limit)
        .await
        .map_err(store_error(KIND))?;
    let next = more
        .then(|| items.last().map(|i| cursor::encode_list(i.id)))
        .flatten();
    Ok((items.iter().map(SprocketItem::sprocket).collect(), next))
}

async fn list(app: &Factories, req: &Request, owner: &Owner) -> Result<Response<Body>, ApiError> {
    let (limit, after) = factories_store::list_params(req, DEFAULT_LIMIT, MAX_LIMIT)?;
    let (sprockets, next_cursor) = page(app, owner, limit, after).await?;
    Ok(http::json(
        StatusCode::OK,
        &ListPage {
            sprockets,
            next_cursor,
        },
    ))
}
