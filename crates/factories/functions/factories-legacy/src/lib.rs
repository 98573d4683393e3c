//! The original's paths under `/api/`, kept for its clients (trailing slash optional):
//! a small router that translates each to the new routes' code. Unknown ids are 404
//! (the original answered `[]` or 500); its writes on GET are POST only (405 otherwise).

use factories_domain::{Kind, Precondition, SprocketSpec};
use lambda_http::http::{header, HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use serde_json::value::RawValue;
use shared::http::{self, ApiError};
use shared::{Fields, Owner};

use factories_store::{invalid, not_found, Factories};

/// The original's pages: 20 factories (their latest 1,000 points) or 100 sprockets.
const FACTORY_PAGE: usize = 20;
const FACTORY_POINTS: usize = 1_000;
const SPROCKET_PAGE: usize = 100;
/// A legacy chart: the latest 10,000 points.
const CHART_POINTS: usize = 10_000;

pub async fn handle(app: &Factories, req: Request) -> Response<Body> {
    http::finish(&http::path(&req), route(app, &req).await)
}

async fn route(app: &Factories, req: &Request) -> Result<Response<Body>, ApiError> {
    let owner = http::caller(app, req).await?;
    let path = http::path(req);
    let rest = path
        .trim_start_matches('/')
        .strip_prefix("api/")
        .unwrap_or("");
    let segments: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let get_only = |m: &Method| -> Result<(), ApiError> {
        match *m {
            Method::GET => Ok(()),
            _ => Err(ApiError::MethodNotAllowed("GET")),
        }
    };
    let post_only = |m: &Method| -> Result<(), ApiError> {
        match *m {
            Method::POST => Ok(()),
            _ => Err(ApiError::MethodNotAllowed("POST")),
        }
    };
    let method = req.method();
    match segments.as_slice() {
        ["factories"] => {
            get_only(method)?;
            factories(app, req, &owner).await
        }
        ["factory", id, rest @ ..]
            if matches!(
                rest,
                [] | ["chart-data" | "production-actual" | "production-goal" | "time"]
            ) =>
        {
            get_only(method)?;
            let id = factories_domain::parse_id(id).ok_or_else(|| not_found(Kind::Factory))?;
            let (_, columns) = factories::latest(app, &owner, id, CHART_POINTS).await?;
            match rest {
                [] => Ok(http::json(
                    StatusCode::OK,
                    &[LegacyFactory {
                        id,
                        chart_data: columns,
                    }],
                )),
                ["chart-data"] => Ok(http::json(StatusCode::OK, &columns)),
                ["production-actual"] => Ok(http::json(
                    StatusCode::OK,
                    &columns.sprocket_production_actual,
                )),
                ["production-goal"] => Ok(http::json(
                    StatusCode::OK,
                    &columns.sprocket_production_goal,
                )),
                ["time"] => Ok(http::json(StatusCode::OK, &columns.time)),
                _ => Err(ApiError::RouteNotFound),
            }
        }
        ["sprockets"] => {
            get_only(method)?;
            sprockets(app, req, &owner).await
        }
        ["sprocket", "create", t, pd, od, p] => {
            post_only(method)?;
            let spec = spec_of(t, pd, od, p)?;
            http_idempotent(app, req, &owner, || sprockets::create(app, &owner, &spec)).await
        }
        ["sprocket", id, "update", t, pd, od, p] => {
            post_only(method)?;
            let id = factories_domain::parse_id(id).ok_or_else(|| not_found(Kind::Sprocket))?;
            let spec = spec_of(t, pd, od, p)?;
            http_idempotent(app, req, &owner, || {
                sprockets::replace(app, &owner, id, &spec, &Precondition::None)
            })
            .await
        }
        ["sprocket", id] => {
            get_only(method)?;
            let id = factories_domain::parse_id(id).ok_or_else(|| not_found(Kind::Sprocket))?;
            let (_, body) = sprockets::read(app, &owner, id).await?;
            let sprocket: LegacySprocket =
                serde_json::from_str(&body).map_err(|_| ApiError::Internal)?;
            Ok(http::json(StatusCode::OK, &[sprocket]))
        }
        _ => Err(ApiError::RouteNotFound),
    }
}

async fn http_idempotent<F, Fut>(
    app: &Factories,
    req: &Request,
    owner: &Owner,
    run: F,
) -> Result<Response<Body>, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<Response<Body>, ApiError>>,
{
    shared::idempotency::once(app, req, owner, run).await
}

/// The four path segments as a sprocket: integers, in the original's order.
fn spec_of(t: &str, pd: &str, od: &str, p: &str) -> Result<SprocketSpec, ApiError> {
    let names = ["teeth", "pitch_diameter", "outside_diameter", "pitch"];
    let values = [t, pd, od, p];
    for (name, v) in names.iter().zip(values) {
        if v.is_empty() || v.len() > 12 || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ApiError::InvalidField {
                field: (*name).into(),
                reason: "must be a whole number in the path".into(),
            });
        }
    }
    let body = format!(
        "{{\"teeth\": {t}, \"pitch_diameter\": {pd}, \"outside_diameter\": {od}, \"pitch\": {p}}}"
    );
    let fields = Fields::parse(body.as_bytes()).map_err(|_| ApiError::Internal)?;
    SprocketSpec::parse(&fields).map_err(invalid)
}

#[derive(Serialize)]
struct LegacyFactory {
    id: u64,
    chart_data: factories_domain::chart::Columns,
}

/// The original's sprocket: no version.
#[derive(Serialize, serde::Deserialize)]
struct LegacySprocket {
    id: u64,
    teeth: u32,
    pitch: Box<RawValue>,
    pitch_diameter: Box<RawValue>,
    outside_diameter: Box<RawValue>,
}

/// `Link: <?cursor=…>; rel="next"` where there is a next page: a reference relative to
/// the request's own URL, so that it holds behind any stage or domain prefix.
fn with_next(mut response: Response<Body>, next: Option<String>) -> Response<Body> {
    if let Some(cursor) = next {
        let link = format!("<?cursor={cursor}>; rel=\"next\"");
        response
            .headers_mut()
            .insert(header::LINK, HeaderValue::from_str(&link).expect("ASCII"));
    }
    response
}

async fn factories(
    app: &Factories,
    req: &Request,
    owner: &Owner,
) -> Result<Response<Body>, ApiError> {
    let (_, after) = factories_store::list_params(req, FACTORY_PAGE, FACTORY_PAGE)?;
    let (summaries, next) = factories::page(app, owner, FACTORY_PAGE, after).await?;
    let mut list = Vec::with_capacity(summaries.len());
    for s in &summaries {
        let (_, columns) = factories::latest(app, owner, s.id, FACTORY_POINTS).await?;
        list.push(LegacyFactory {
            id: s.id,
            chart_data: columns,
        });
    }
    Ok(with_next(http::json(StatusCode::OK, &list), next))
}

async fn sprockets(
    app: &Factories,
    req: &Request,
    owner: &Owner,
) -> Result<Response<Body>, ApiError> {
    let (_, after) = factories_store::list_params(req, SPROCKET_PAGE, SPROCKET_PAGE)?;
    let (list, next) = sprockets::page(app, owner, SPROCKET_PAGE, after).await?;
    let text = serde_json::to_string(&list).map_err(|_| ApiError::Internal)?;
    let legacy: Vec<LegacySprocket> =
        serde_json::from_str(&text).map_err(|_| ApiError::Internal)?;
    Ok(with_next(http::json(StatusCode::OK, &legacy), next))
}
