//! HTTP glue: request bodies to fields, answers to JSON, and every error to one RFC 9457
//! problem, mapped in exactly one place (`ApiError::into_response`).

use crate::dynamo::{Malformed, Unavailable};
use crate::input::{BodyError, Fields};
use crate::tenant::Owner;
use lambda_http::http::{header, StatusCode};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;

use crate::config::KeySource;
use crate::limits::Refusal;
use crate::App;
use std::borrow::Cow;
use std::time::Duration;

pub const MAX_BODY_BYTES: usize = 16 * 1024;
const JSON: &str = "application/json";
const PROBLEM_JSON: &str = "application/problem+json";

/// Everything a request can fail with. Business-rule violations are not here: they are
/// answers, not errors.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("the body must be a JSON object")]
    NotAnObject,
    #[error("`{field}` {reason}")]
    InvalidField {
        field: Cow<'static, str>,
        reason: String,
    },
    #[error("query parameter `{param}` {reason}")]
    InvalidQuery {
        param: Cow<'static, str>,
        reason: String,
    },
    #[error("header `{header}` {reason}")]
    InvalidHeader {
        header: &'static str,
        reason: String,
    },
    #[error("a valid API key is required in the x-api-key header")]
    Forbidden,
    /// API Gateway's throttling refusal, where the functions apply its limits.
    #[error("Too Many Requests")]
    Throttled(Duration),
    /// API Gateway's quota refusal, likewise.
    #[error("Limit Exceeded")]
    QuotaExceeded(Duration),
    #[error("no such route")]
    RouteNotFound,
    #[error("the body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("the body must be JSON (application/json or a +json type), not {0}")]
    UnsupportedMediaType(String),
    /// The path exists; its methods are these (the `Allow` header).
    #[error("this path answers {0} only")]
    MethodNotAllowed(&'static str),
    #[error("If-Match does not match the current ETag; nothing was changed")]
    PreconditionFailed,
    #[error("a request with this Idempotency-Key is still being processed; retry shortly")]
    IdempotencyInFlight,
    #[error("this Idempotency-Key was used with another request; use a new key")]
    IdempotencyMismatch,
    #[error("the service is temporarily unavailable; retry shortly")]
    Unavailable,
    /// A refusal of a service's own, e.g. a resource it does not have (404).
    #[error("{0}")]
    Service(Problem),
    #[error("internal error")]
    Internal,
}

/// What a service says of a refusal of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub status: StatusCode,
    /// The problem type, e.g. `/problems/account-not-found`.
    pub kind: &'static str,
    pub title: &'static str,
    pub detail: &'static str,
    /// Seconds for `Retry-After`, where a retry may succeed.
    pub retry_after: Option<u64>,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.detail)
    }
}

impl From<Unavailable> for ApiError {
    fn from(e: Unavailable) -> Self {
        tracing::error!(detail = %e.0, "DynamoDB call failed");
        ApiError::Unavailable
    }
}

impl From<Malformed> for ApiError {
    fn from(e: Malformed) -> Self {
        tracing::error!(error = %e, "stored item has an unexpected shape");
        ApiError::Internal
    }
}

#[derive(Serialize)]
struct ProblemBody<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    title: &'a str,
    status: u16,
    detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parameter: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    instance: Option<&'a str>,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::MalformedJson(_)
            | ApiError::NotAnObject
            | ApiError::InvalidField { .. }
            | ApiError::InvalidQuery { .. }
            | ApiError::InvalidHeader { .. } => StatusCode::BAD_REQUEST,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::Throttled(_) | ApiError::QuotaExceeded(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::IdempotencyInFlight => StatusCode::CONFLICT,
            ApiError::IdempotencyMismatch => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::RouteNotFound => StatusCode::NOT_FOUND,
            ApiError::Service(p) => p.status,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ApiError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn kind_and_title(&self) -> (&'static str, &'static str) {
        match self {
            ApiError::MalformedJson(_) => ("/problems/malformed-json", "Malformed JSON"),
            ApiError::NotAnObject => ("/problems/not-an-object", "Body is not a JSON object"),
            ApiError::InvalidField { .. } => ("/problems/invalid-field", "Invalid field"),
            ApiError::InvalidQuery { .. } => ("/problems/invalid-query", "Invalid query parameter"),
            ApiError::InvalidHeader { .. } => ("/problems/invalid-header", "Invalid header"),
            ApiError::Forbidden => ("/problems/forbidden", "Forbidden"),
            // As the stage's gateway responses answer (template.yaml).
            ApiError::Throttled(_) => ("/problems/gateway", "THROTTLED"),
            ApiError::QuotaExceeded(_) => ("/problems/gateway", "QUOTA_EXCEEDED"),
            ApiError::IdempotencyInFlight => {
                ("/problems/idempotency-in-flight", "Request in progress")
            }
            ApiError::IdempotencyMismatch => {
                ("/problems/idempotency-mismatch", "Idempotency-Key reused")
            }
            ApiError::Service(p) => (p.kind, p.title),
            ApiError::RouteNotFound => ("/problems/route-not-found", "Not found"),
            ApiError::PayloadTooLarge(_) => ("/problems/payload-too-large", "Payload too large"),
            ApiError::UnsupportedMediaType(_) => {
                ("/problems/unsupported-media-type", "Unsupported media type")
            }
            ApiError::MethodNotAllowed(_) => ("/problems/method-not-allowed", "Method not allowed"),
            ApiError::PreconditionFailed => {
                ("/problems/precondition-failed", "Precondition failed")
            }
            ApiError::Unavailable => ("/problems/unavailable", "Service unavailable"),
            ApiError::Internal => ("/problems/internal", "Internal error"),
        }
    }

    /// The problem+json answer. `instance` is the request path.
    pub fn into_response(self, instance: &str) -> Response<Body> {
        let (kind, title) = self.kind_and_title();
        let field = match &self {
            ApiError::InvalidField { field, .. } => Some(field.as_ref()),
            ApiError::InvalidQuery { param, .. } => Some(param.as_ref()),
            ApiError::InvalidHeader { header, .. } => Some(*header),
            _ => None,
        };
        let status = self.status();
        let allow = match &self {
            ApiError::MethodNotAllowed(allow) => Some(*allow),
            _ => None,
        };
        let problem = ProblemBody {
            kind,
            title,
            status: status.as_u16(),
            detail: self.to_string(),
            field,
            // A query parameter is named as such too (`field` is kept for older clients).
            parameter: match &self {
                ApiError::InvalidQuery { param, .. } => Some(param.as_ref()),
                _ => None,
            },
            instance: Some(instance),
        };
        let mut response = respond(status, PROBLEM_JSON, &problem);
        let retry_after = match self {
            ApiError::Unavailable | ApiError::IdempotencyInFlight => Some(1),
            ApiError::Service(p) => p.retry_after,
            // Whole seconds, rounded up: retrying at the stated time must not be refused.
            ApiError::Throttled(wait) | ApiError::QuotaExceeded(wait) => {
                Some(wait.as_millis().div_ceil(1000).max(1) as u64)
            }
            _ => None,
        };
        if let Some(allow) = allow {
            response
                .headers_mut()
                .insert(header::ALLOW, header::HeaderValue::from_static(allow));
        }
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        response
    }
}

/// A JSON answer.
pub fn json<T: Serialize>(status: StatusCode, body: &T) -> Response<Body> {
    respond(status, JSON, body)
}

/// A JSON answer from an already serialized body (e.g. a cached view).
pub fn json_text(status: StatusCode, body: String) -> Response<Body> {
    with_body(status, JSON, body)
}

fn respond<T: Serialize>(status: StatusCode, content_type: &str, body: &T) -> Response<Body> {
    match serde_json::to_string(body) {
        Ok(text) => with_body(status, content_type, text),
        Err(e) => {
            tracing::error!(error = %e, "response did not serialize");
            with_body(
                StatusCode::INTERNAL_SERVER_ERROR,
                PROBLEM_JSON,
                r#"{"type":"/problems/internal","title":"Internal error","status":500}"#.into(),
            )
        }
    }
}

fn with_body(status: StatusCode, content_type: &str, body: String) -> Response<Body> {
    let mut response = Response::new(Body::Text(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_str(content_type).expect("ASCII"),
    );
    response
}

/// Who the request acts for. Behind API Gateway, the id of the API key it checked; locally,
/// the `x-api-key` header, which must be one of the configured keys (403 otherwise, as API
/// Gateway answers a missing or unknown key).
pub fn owner(keys: &KeySource, req: &Request) -> Result<Owner, ApiError> {
    let id = match keys {
        KeySource::ApiGateway => match req.request_context_ref() {
            Some(RequestContext::ApiGatewayV1(ctx)) => ctx.identity.api_key_id.clone(),
            _ => None,
        },
        KeySource::Local(allowed) => req
            .headers()
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .filter(|k| allowed.iter().any(|a| a == k))
            .map(str::to_owned),
    };
    id.filter(|k| !k.is_empty())
        .map(Owner)
        .ok_or(ApiError::Forbidden)
}

/// The caller, admitted: [`owner`], then, where the functions apply API Gateway's limits,
/// one request counted against them (429 once they are spent, as API Gateway answers).
pub async fn caller(app: &App, req: &Request) -> Result<Owner, ApiError> {
    let owner = owner(&app.config.keys, req)?;
    if let Some(limiter) = &app.limiter {
        limiter.admit(&owner.0).await.map_err(|r| match r {
            Refusal::Throttled(wait) => ApiError::Throttled(wait),
            Refusal::QuotaExceeded(wait) => ApiError::QuotaExceeded(wait),
        })?;
    }
    Ok(owner)
}

/// Reads a body that must be a JSON object of at most 16 KiB.
pub fn object_body(req: &Request) -> Result<Fields, ApiError> {
    object_body_within(req, MAX_BODY_BYTES)
}

/// Reads a body that must be a JSON object of at most `max` bytes.
pub fn object_body_within(req: &Request, max: usize) -> Result<Fields, ApiError> {
    let bytes: &[u8] = req.body().as_ref();
    if bytes.len() > max {
        return Err(ApiError::PayloadTooLarge(max));
    }
    Fields::parse(bytes).map_err(|e| match e {
        BodyError::Malformed(detail) => ApiError::MalformedJson(detail),
        BodyError::NotAnObject => ApiError::NotAnObject,
    })
}

/// The path parameter `name`: from API Gateway's path parameters, else (a plain HTTP
/// request) the path segment after the literal segment `after`.
pub fn path_param(req: &Request, name: &str, after: &str) -> Option<String> {
    if let Some(v) = req.path_parameters().first(name) {
        return Some(v.to_owned());
    }
    let path = req.uri().path();
    let mut segments = path
        .trim_matches('/')
        .split('/')
        .skip_while(|s| *s != after)
        .skip(1);
    segments.next().map(str::to_owned)
}

/// A query string parameter; the first if repeated.
pub fn query(req: &Request, name: &str) -> Option<String> {
    req.query_string_parameters_ref()
        .and_then(|q| q.first(name))
        .map(str::to_owned)
}

/// The path the request was made to, for problem `instance` members and logs.
pub fn path(req: &Request) -> String {
    // API Gateway's path without the stage prefix, when the request came through it.
    match req.raw_http_path() {
        "" => req.uri().path().to_owned(),
        raw => raw.to_owned(),
    }
}

/// The route as API Gateway names it (`POST /accounts/{id}/orders`), for logs; the raw path
/// where there is no resource (a plain HTTP request).
pub fn route(req: &Request) -> String {
    let resource = match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.resource_path.clone(),
        Some(RequestContext::ApiGatewayV2(ctx)) => {
            ctx.route_key.clone().filter(|r| r != "$default")
        }
        _ => None,
    };
    match resource {
        Some(r) if r.contains(' ') => r,
        Some(r) => format!("{} {r}", req.method()),
        None => format!("{} {}", req.method(), path(req)),
    }
}

/// The Lambda request id, for correlating logs.
pub fn request_id(req: &Request) -> String {
    req.lambda_context_ref()
        .map(|c| c.request_id.clone())
        .unwrap_or_default()
}

/// Ends a request: the answer, or its error as a problem for `instance`.
pub fn finish(instance: &str, result: Result<Response<Body>, ApiError>) -> Response<Body> {
    result.unwrap_or_else(|e| e.into_response(instance))
}

/// Refuses a body whose `Content-Type` is not JSON (415): `application/json` or any
/// `+json` type, parameters allowed; a body without one is read as JSON.
pub fn json_content_type(req: &Request) -> Result<(), ApiError> {
    let Some(value) = req.headers().get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let text = value.to_str().unwrap_or("");
    let essence = text
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let json = essence == JSON
        || essence
            .split_once('/')
            .is_some_and(|(_, sub)| sub.ends_with("+json") && !sub.starts_with('+'));
    if json {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(if text.is_empty() {
            "an empty type".into()
        } else {
            format!("{text:?}")
        }))
    }
}

/// An answer with no body (204, 304).
pub fn empty(status: StatusCode) -> Response<Body> {
    let mut response = Response::new(Body::Empty);
    *response.status_mut() = status;
    response
}
