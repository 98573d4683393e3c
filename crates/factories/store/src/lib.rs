//! The factories service's I/O: its items and access patterns ([`items`], [`store`]), its
//! cache ([`cache`]), and what its functions share ([`Factories`], the request helpers
//! below), built once per cold start.

pub mod cache;
pub mod items;
pub mod store;

use factories_domain::etag::{self, Kind};
use factories_domain::{Invalid, ParamError, Precondition};
use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Request, Response};
use shared::http::{ApiError, Problem};
use shared::{App, BoxError, Service, State};

pub use cache::FactoriesCache;
pub use items::{FactoryItem, SprocketItem, Summary};
pub use store::{Store, StoreError, Written};

/// Imports and chart writes may carry up to 1 MiB.
pub const MAX_BULK_BYTES: usize = 1024 * 1024;

pub struct Factories {
    pub app: App,
    pub store: Store,
    pub cache: FactoriesCache,
}

impl State for Factories {
    const SERVICE: Service = Service {
        table_env: "FACTORIES_TABLE",
        table: "factories",
        metrics_namespace: "Factories",
    };

    fn new(app: App) -> Result<Self, BoxError> {
        Ok(Factories::with(app))
    }
}

impl Factories {
    pub fn with(app: App) -> Factories {
        Factories {
            store: Store::new(app.dynamodb.clone(), app.config.table_name.clone()),
            cache: FactoriesCache::new(app.cache.clone()),
            app,
        }
    }
}

impl std::ops::Deref for Factories {
    type Target = App;
    fn deref(&self) -> &App {
        &self.app
    }
}

pub fn not_found(kind: Kind) -> ApiError {
    ApiError::Service(match kind {
        Kind::Sprocket => Problem {
            status: StatusCode::NOT_FOUND,
            kind: "/problems/sprocket-not-found",
            title: "Sprocket not found",
            detail: "no such sprocket",
            retry_after: None,
        },
        Kind::Factory => Problem {
            status: StatusCode::NOT_FOUND,
            kind: "/problems/factory-not-found",
            title: "Factory not found",
            detail: "no such factory",
            retry_after: None,
        },
    })
}

/// A store failure as the answer of a route about `kind`.
pub fn store_error(kind: Kind) -> impl Fn(StoreError) -> ApiError {
    move |e| match e {
        StoreError::Unavailable(e) => e.into(),
        StoreError::Malformed(m) => m.into(),
        StoreError::NotFound => not_found(kind),
        StoreError::PreconditionFailed => ApiError::PreconditionFailed,
        StoreError::Busy => {
            tracing::warn!("the resource kept changing during every attempt");
            ApiError::Unavailable
        }
    }
}

pub fn invalid(e: Invalid) -> ApiError {
    ApiError::InvalidField {
        field: e.field.into(),
        reason: e.reason,
    }
}

pub fn invalid_parameter(e: ParamError) -> ApiError {
    ApiError::InvalidQuery {
        param: e.parameter.into(),
        reason: e.reason,
    }
}

/// The `{id}` after the path segment `after`; an id that is not a positive integer names
/// nothing (404).
pub fn id(req: &Request, after: &str, kind: Kind) -> Result<u64, ApiError> {
    shared::http::path_param(req, "id", after)
        .as_deref()
        .and_then(factories_domain::parse_id)
        .ok_or_else(|| not_found(kind))
}

fn header_text<'a>(req: &'a Request, name: &'static str) -> Result<Option<&'a str>, ApiError> {
    match req.headers().get(name) {
        None => Ok(None),
        Some(v) => v.to_str().map(Some).map_err(|_| ApiError::InvalidHeader {
            header: name,
            reason: "must be visible ASCII".into(),
        }),
    }
}

/// The write's `If-Match`, for resource `id`.
pub fn if_match(req: &Request, kind: Kind, id: u64) -> Result<Precondition, ApiError> {
    Ok(Precondition::if_match(
        header_text(req, "if-match")?,
        kind,
        id,
    ))
}

/// Whether the request's `If-None-Match` names this version (then the answer is 304).
pub fn not_modified(req: &Request, kind: Kind, id: u64, version: u64) -> bool {
    let header = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok());
    etag::not_modified(header, kind, id, version)
}

/// `response` with the ETag of `version` of resource `id`.
pub fn with_etag(
    mut response: Response<Body>,
    kind: Kind,
    id: u64,
    version: u64,
) -> Response<Body> {
    let tag = HeaderValue::from_str(&etag::etag(kind, id, version)).expect("ASCII");
    response.headers_mut().insert(header::ETAG, tag);
    response
}

pub fn with_location(mut response: Response<Body>, location: &str) -> Response<Body> {
    let value = HeaderValue::from_str(location).expect("ASCII");
    response.headers_mut().insert(header::LOCATION, value);
    response
}

/// The answer to a GET: 304 if `If-None-Match` holds the version, else `body`; with its ETag.
pub fn conditional_get(
    req: &Request,
    kind: Kind,
    id: u64,
    version: u64,
    body: String,
) -> Response<Body> {
    let response = if not_modified(req, kind, id, version) {
        shared::http::empty(StatusCode::NOT_MODIFIED)
    } else {
        shared::http::json_text(StatusCode::OK, body)
    };
    with_etag(response, kind, id, version)
}

/// An answer's JSON text.
pub fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("answers serialize")
}

/// `limit` (1..`max`, else `default`) and `cursor` of a list query.
pub fn list_params(
    req: &Request,
    default: usize,
    max: usize,
) -> Result<(usize, Option<u64>), ApiError> {
    let limit = match shared::http::query(req, "limit") {
        None => default,
        Some(raw) => raw
            .parse()
            .ok()
            .filter(|n| (1..=max).contains(n) && !raw.starts_with('+'))
            .ok_or(ApiError::InvalidQuery {
                param: "limit".into(),
                reason: format!("must be a whole number from 1 to {max}"),
            })?,
    };
    let after = match shared::http::query(req, "cursor") {
        None => None,
        Some(raw) => Some(factories_domain::cursor::decode_list(&raw).ok_or(
            ApiError::InvalidQuery {
                param: "cursor".into(),
                reason: "is not a cursor this API returned".into(),
            },
        )?),
    };
    Ok((limit, after))
}
