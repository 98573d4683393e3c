//! `POST /graphql` (at most 16 KiB) and `GET /graphql?query=&operationName=&variables=&extensions=`.
//!
//! Request errors (parse, validation, depth, cost, a persisted query unknown or whose hash
//! is not its query's) are 400 `{"errors": [...]}` with no `data`; what failed while
//! executing is 200 with `data` and `errors`. A body that is not a JSON object, a batch, or
//! no query at all is 400 problem+json.

pub mod schema;

use async_graphql::{ServerError, Variables};
use catalog_domain::cost::{self, TooMuch};
use catalog_store::snapshot::Notice;
use catalog_store::Catalog;
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use shared::http::{self, ApiError, Problem};
use shared::{App, BoxError, Service, State};
use std::time::Duration;

pub use schema::{build, CatalogSchema, Ctx};

pub const MAX_BODY: usize = 16 * 1024;
/// Automatic persisted queries live this long in Redis.
const APQ_TTL: Duration = Duration::from_secs(86_400);

pub struct Graphql {
    pub catalog: Catalog,
    pub schema: CatalogSchema,
}

impl State for Graphql {
    const SERVICE: Service = <Catalog as State>::SERVICE;

    fn new(app: App) -> Result<Self, BoxError> {
        let introspection = std::env::var("GRAPHQL_INTROSPECTION").map_or(true, |v| v != "off");
        Ok(Graphql {
            catalog: Catalog::new(app)?,
            schema: build(introspection),
        })
    }
}

pub async fn handle(app: &Graphql, req: Request) -> Response<Body> {
    http::finish(&http::path(&req), route(app, &req).await)
}

fn problem(detail: &'static str) -> ApiError {
    ApiError::Service(Problem {
        status: StatusCode::BAD_REQUEST,
        kind: "/problems/bad-graphql-request",
        title: "Bad GraphQL request",
        detail,
        retry_after: None,
    })
}

/// A GraphQL request error: 400 with `errors` only.
fn request_error(code: &str, message: impl Into<String>) -> Response<Body> {
    let body = json!({"errors": [{"message": message.into(), "extensions": {"code": code}}]});
    http::json(StatusCode::BAD_REQUEST, &body)
}

struct Params {
    query: Option<String>,
    operation_name: Option<String>,
    variables: Option<Value>,
    extensions: Option<Value>,
}

async fn route(app: &Graphql, req: &Request) -> Result<Response<Body>, ApiError> {
    http::caller(&app.catalog.app, req).await?;
    if http::path(req).trim_end_matches('/') != "/graphql" {
        return Err(ApiError::RouteNotFound);
    }
    let params = match *req.method() {
        Method::POST => post_params(req)?,
        Method::GET => get_params(req)?,
        _ => return Err(ApiError::MethodNotAllowed("GET, POST")),
    };
    Ok(execute(app, params).await)
}

fn post_params(req: &Request) -> Result<Params, ApiError> {
    let body = req.body().as_ref();
    if body.len() > MAX_BODY {
        return Err(ApiError::PayloadTooLarge(MAX_BODY));
    }
    let value: Value =
        serde_json::from_slice(body).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    match value {
        Value::Array(_) => Err(problem(
            "batched requests are not supported: send one operation per request",
        )),
        Value::Object(mut o) => Ok(Params {
            query: match o.remove("query") {
                None | Some(Value::Null) => None,
                Some(Value::String(q)) => Some(q),
                Some(_) => return Err(problem("`query` must be a string")),
            },
            operation_name: match o.remove("operationName") {
                None | Some(Value::Null) => None,
                Some(Value::String(n)) => Some(n),
                Some(_) => return Err(problem("`operationName` must be a string")),
            },
            variables: o.remove("variables"),
            extensions: o.remove("extensions"),
        }),
        _ => Err(ApiError::NotAnObject),
    }
}

fn get_params(req: &Request) -> Result<Params, ApiError> {
    let json_param = |name: &'static str| -> Result<Option<Value>, ApiError> {
        http::query(req, name)
            .map(|v| serde_json::from_str(&v))
            .transpose()
            .map_err(|_| ApiError::InvalidQuery {
                param: name.into(),
                reason: "must be JSON".into(),
            })
    };
    Ok(Params {
        query: http::query(req, "query").filter(|q| !q.is_empty()),
        operation_name: http::query(req, "operationName").filter(|q| !q.is_empty()),
        variables: json_param("variables")?,
        extensions: json_param("extensions")?,
    })
}

fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The query to run, resolving an automatic persisted query (Apollo's protocol).
async fn resolve_query(app: &Graphql, params: &Params) -> Result<String, Response<Body>> {
    let persisted = params
        .extensions
        .as_ref()
        .and_then(|e| e.get("persistedQuery"))
        .filter(|p| !p.is_null());
    let Some(persisted) = persisted else {
        return params.query.clone().ok_or_else(|| {
            http::finish(
                "/graphql",
                Err(problem("a GraphQL request needs a `query`")),
            )
        });
    };
    let hash = persisted
        .get("sha256Hash")
        .and_then(Value::as_str)
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .map(str::to_ascii_lowercase)
        .ok_or_else(|| {
            request_error(
                "BAD_USER_INPUT",
                "extensions.persistedQuery.sha256Hash must be a SHA-256 in hex",
            )
        })?;
    if persisted.get("version").and_then(Value::as_i64) != Some(1) {
        return Err(request_error(
            "BAD_USER_INPUT",
            "extensions.persistedQuery.version must be 1",
        ));
    }
    let cache = &app.catalog.app.cache;
    let key = cache.key(&format!("apq:{hash}"));
    match &params.query {
        Some(query) => {
            if sha256_hex(query) != hash {
                return Err(request_error(
                    "BAD_USER_INPUT",
                    "provided sha256Hash does not match the query",
                ));
            }
            if let Some(key) = key {
                cache.put_if_newer_for(key, 1, query.clone(), APQ_TTL).await;
            }
            Ok(query.clone())
        }
        None => {
            let found = match key {
                Some(key) => cache.get(key).await,
                None => None,
            };
            found
                .ok_or_else(|| request_error("PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound"))
        }
    }
}

async fn execute(app: &Graphql, params: Params) -> Response<Body> {
    let query = match resolve_query(app, &params).await {
        Ok(q) => q,
        Err(resp) => return resp,
    };
    let variables = match &params.variables {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(v)) => v.clone(),
        Some(_) => return request_error("BAD_USER_INPUT", "`variables` must be an object"),
    };
    let doc = match async_graphql::parser::parse_query(&query) {
        Ok(doc) => doc,
        Err(e) => return request_error("GRAPHQL_PARSE_FAILED", e.to_string()),
    };
    if let Err(too_much) = cost::check(&doc, params.operation_name.as_deref(), &variables) {
        let code = match too_much {
            TooMuch::Deep(_) => "QUERY_TOO_DEEP",
            TooMuch::Costly(_) => "QUERY_TOO_COMPLEX",
        };
        return request_error(code, too_much.to_string());
    }
    let ctx = std::sync::Arc::new(Ctx::new(app.catalog.snapshots.clone()));
    let mut request = async_graphql::Request::new(query)
        .variables(Variables::from_json(Value::Object(variables)));
    if let Some(name) = params.operation_name {
        request = request.operation_name(name);
    }
    let response = app.schema.execute(request.data(ctx.clone())).await;
    let request_failed = !response.errors.is_empty()
        && response.data == async_graphql::Value::Null
        && response.errors.iter().all(|e| e.path.is_empty());
    if request_failed {
        let errors: Vec<Value> = response.errors.iter().map(validation_error).collect();
        return http::json(StatusCode::BAD_REQUEST, &json!({ "errors": errors }));
    }
    let mut body = serde_json::to_value(&response).unwrap_or_else(|_| json!({"data": null}));
    null_errored_fields(&mut body, &response.errors);
    let notices: Vec<Value> = ctx
        .notices
        .lock()
        .expect("not poisoned")
        .values()
        .map(|(c, notice)| notice_error(c.source.slug(), c.name(), notice))
        .collect();
    if !notices.is_empty() {
        let errors = body
            .as_object_mut()
            .expect("a response is an object")
            .entry("errors")
            .or_insert_with(|| json!([]));
        if let Value::Array(list) = errors {
            list.extend(notices);
        }
    }
    http::json(StatusCode::OK, &body)
}

/// A field that failed is `null` in `data`, as GraphQL says (async-graphql leaves a
/// nullable field that failed out of its object).
fn null_errored_fields(body: &mut Value, errors: &[ServerError]) {
    use async_graphql::PathSegment;
    for e in errors {
        let Some((PathSegment::Field(last), parents)) = e.path.split_last() else {
            continue;
        };
        if body["data"].is_null() && parents.is_empty() {
            body["data"] = json!({});
        }
        // Response keys are GraphQL names: nothing to escape in the pointer.
        let pointer: String = parents
            .iter()
            .map(|segment| match segment {
                PathSegment::Field(name) => format!("/{name}"),
                PathSegment::Index(i) => format!("/{i}"),
            })
            .collect();
        if let Some(object) = body["data"]
            .pointer_mut(&pointer)
            .and_then(Value::as_object_mut)
        {
            object.entry(last.clone()).or_insert(Value::Null);
        }
    }
}

fn validation_error(e: &ServerError) -> Value {
    let code = if e.message.contains("variable") || e.message.contains("Invalid value for argument")
    {
        "BAD_USER_INPUT"
    } else {
        "GRAPHQL_VALIDATION_FAILED"
    };
    let mut v = serde_json::to_value(e).unwrap_or_else(|_| json!({"message": e.message}));
    v["extensions"] = json!({"code": code});
    v
}

/// The `errors` entry of a collection's notice.
pub fn notice_error(source: &str, collection: &str, notice: &Notice) -> Value {
    match notice {
        Notice::Stale {
            age_seconds,
            reason,
        } => json!({
            "message": format!("{source}/{collection} is served {age_seconds} s old: its refresh failed ({reason})"),
            "extensions": {"code": "STALE_DATA", "source": source, "collection": collection, "ageSeconds": age_seconds, "reason": reason},
        }),
        Notice::Unavailable { reason } => json!({
            "message": format!("{source}/{collection} is unavailable: its upstream failed ({reason}) and nothing usable is cached"),
            "extensions": {"code": "UPSTREAM_UNAVAILABLE", "source": source, "collection": collection, "reason": reason},
        }),
    }
}
