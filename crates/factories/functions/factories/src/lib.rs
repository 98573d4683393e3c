//! `/factories` (GET a page, POST one), `/factories/{id}` (its summary) and
//! `/factories/{id}/chart-data` (GET a page of points or buckets, POST points upserted by
//! time, whole); reads go through the cache; other methods 405 with `Allow`.

use factories_domain::chart::Columns;
use factories_domain::{Chart, ChartQuery, Kind, Point, Pointer};
use factories_store::{
    invalid, invalid_parameter, not_found, store_error, Factories, FactoryItem, Summary, Written,
};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use shared::http::{self, ApiError};
use shared::{idempotency, Owner};

const KIND: Kind = Kind::Factory;
pub const DEFAULT_LIMIT: usize = 50;
const MAX_LIMIT: usize = 500;

pub async fn handle(app: &Factories, req: Request) -> Response<Body> {
    http::finish(&http::path(&req), route(app, &req).await)
}

async fn route(app: &Factories, req: &Request) -> Result<Response<Body>, ApiError> {
    let owner = http::caller(app, req).await?;
    let path = http::path(req);
    let chart = path.trim_end_matches('/').ends_with("/chart-data");
    if http::path_param(req, "id", "factories").is_none() {
        return match *req.method() {
            Method::GET => list(app, req, &owner).await,
            Method::POST => idempotency::once(app, req, &owner, || create(app, req, &owner)).await,
            _ => Err(ApiError::MethodNotAllowed("GET, POST")),
        };
    }
    if !chart {
        if req.method() != Method::GET {
            return Err(ApiError::MethodNotAllowed("GET"));
        }
        let id = factories_store::id(req, "factories", KIND)?;
        let s = summary(app, &owner, id).await?;
        return Ok(factories_store::conditional_get(
            req,
            KIND,
            id,
            s.version,
            factories_store::json(&s),
        ));
    }
    match *req.method() {
        Method::GET => {
            let id = factories_store::id(req, "factories", KIND)?;
            let query = ChartQuery::parse(|k| http::query(req, k)).map_err(invalid_parameter)?;
            let (version, body) = chart_page(app, &owner, id, &query).await?;
            Ok(factories_store::conditional_get(
                req, KIND, id, version, body,
            ))
        }
        Method::POST => {
            idempotency::once(app, req, &owner, || async {
                let id = factories_store::id(req, "factories", KIND)?;
                http::json_content_type(req)?;
                let fields = http::object_body_within(req, factories_store::MAX_BULK_BYTES)?;
                let chart = Chart::parse_fields(&fields, &Pointer::root(), 1).map_err(invalid)?;
                let pre = factories_store::if_match(req, KIND, id)?;
                let written = app
                    .store
                    .write_chart(&owner, id, &chart.0, &pre)
                    .await
                    .map_err(store_error(KIND))?;
                Ok(chart_written(app, &owner, &written).await)
            })
            .await
        }
        _ => Err(ApiError::MethodNotAllowed("GET, POST")),
    }
}

#[derive(Serialize)]
struct WriteAnswer {
    factory: Summary,
    inserted: usize,
    replaced: usize,
    unchanged: usize,
}

/// The answer of a chart write, the cache updated first.
pub async fn chart_written(app: &Factories, owner: &Owner, w: &Written) -> Response<Body> {
    let summary = w.factory.summary();
    app.cache.put_factory(owner, &summary, true).await;
    tracing::info!(
        factory = summary.id,
        version = summary.version,
        inserted = w.inserted,
        replaced = w.replaced,
        outcome = "chart written"
    );
    let body = WriteAnswer {
        factory: summary.clone(),
        inserted: w.inserted,
        replaced: w.replaced,
        unchanged: w.unchanged,
    };
    factories_store::with_etag(
        http::json(StatusCode::OK, &body),
        KIND,
        summary.id,
        summary.version,
    )
}

async fn create(app: &Factories, req: &Request, owner: &Owner) -> Result<Response<Body>, ApiError> {
    http::json_content_type(req)?;
    let fields = http::object_body_within(req, factories_store::MAX_BULK_BYTES)?;
    if let Some(name) = fields.names().find(|n| *n != "chart_data") {
        return Err(ApiError::InvalidField {
            field: name.to_owned().into(),
            reason: "is not a field of a factory (its one field: chart_data)".into(),
        });
    }
    let points = match fields.raw("chart_data") {
        None => Vec::new(),
        Some(raw) => {
            Chart::parse_at(raw, &Pointer::root().join("chart_data"), 0)
                .map_err(invalid)?
                .0
        }
    };
    let factory = app
        .store
        .create_factory(owner, &points, None)
        .await
        .map_err(store_error(KIND))?
        .ok_or(ApiError::Internal)?;
    app.metrics.count("FactoriesCreated", &[]);
    let summary = factory.summary();
    app.cache.put_factory(owner, &summary, true).await;
    tracing::info!(
        factory = summary.id,
        points = points.len(),
        outcome = "created"
    );
    let response = factories_store::with_etag(
        http::json(StatusCode::CREATED, &summary),
        KIND,
        summary.id,
        summary.version,
    );
    Ok(factories_store::with_location(
        response,
        &format!("/factories/{}", summary.id),
    ))
}

/// A factory's summary, through the cache (only settled versions are cached).
pub async fn summary(app: &Factories, owner: &Owner, id: u64) -> Result<Summary, ApiError> {
    if let Some(s) = app.cache.get_factory(owner, id).await {
        app.metrics.count("CacheHits", &[]);
        return Ok(s);
    }
    app.metrics.count("CacheMisses", &[]);
    let factory = app
        .store
        .get_factory(owner, id)
        .await
        .map_err(store_error(KIND))?
        .ok_or_else(|| not_found(KIND))?;
    let s = factory.summary();
    if factory.pending.is_none() {
        app.cache.put_factory(owner, &s, false).await;
    }
    Ok(s)
}

/// One view of a factory's chart (a page, or its latest points), cached under the
/// factory's version: a cache hit costs no DynamoDB call; a miss with the summary cached,
/// one Query.
async fn view<F>(
    app: &Factories,
    owner: &Owner,
    id: u64,
    name: &str,
    read: F,
) -> Result<(u64, String), ApiError>
where
    F: AsyncFnOnce(Option<FactoryItem>) -> Result<(FactoryItem, String), ApiError>,
{
    let cached = app.cache.get_factory(owner, id).await;
    if let Some(s) = &cached {
        if let Some(body) = app.cache.get_page(owner, id, s.version, name).await {
            app.metrics.count("CacheHits", &[]);
            return Ok((s.version, body));
        }
    }
    app.metrics.count("CacheMisses", &[]);
    let had_summary = cached.is_some();
    let (factory, body) = read(cached.map(|s| FactoryItem::from_summary(owner, &s))).await?;
    if factory.pending.is_none() {
        if !had_summary {
            app.cache
                .put_factory(owner, &factory.summary(), false)
                .await;
        }
        app.cache
            .put_page(owner, id, factory.version, name, body.clone())
            .await;
    }
    Ok((factory.version, body))
}

/// A page of the chart for `query`, and the factory's version.
pub async fn chart_page(
    app: &Factories,
    owner: &Owner,
    id: u64,
    query: &ChartQuery,
) -> Result<(u64, String), ApiError> {
    let name = format!("page:{query:?}");
    view(app, owner, id, &name, async |cached| {
        let read = app
            .store
            .read_chart(
                owner,
                id,
                cached,
                query.start(),
                query.to,
                query.read_limit(),
                false,
            )
            .await
            .map_err(store_error(KIND))?;
        let page = query.page(&read.points, read.cutoff);
        Ok((read.factory, factories_store::json(&page)))
    })
    .await
}

/// The latest `n` points of the chart in its column shape (the original's charts).
pub async fn latest(
    app: &Factories,
    owner: &Owner,
    id: u64,
    n: usize,
) -> Result<(u64, Columns), ApiError> {
    let name = format!("latest:{n}");
    let (version, body) = view(app, owner, id, &name, async |cached| {
        let read = app
            .store
            .read_chart(
                owner,
                id,
                cached,
                0,
                factories_domain::chart::MAX_TIME + 1,
                n,
                true,
            )
            .await
            .map_err(store_error(KIND))?;
        let points: &[Point] = &read.points;
        Ok((read.factory, factories_store::json(&Columns::of(points))))
    })
    .await?;
    let columns = serde_json::from_str(&body).map_err(|_| ApiError::Internal)?;
    Ok((version, columns))
}

#[derive(Serialize)]
struct ListPage {
    factories: Vec<Summary>,
    next_cursor: Option<String>,
}

/// A page of the tenant's factories, ascending id (one Query).
pub async fn page(
    app: &Factories,
    owner: &Owner,
    limit: usize,
    after: Option<u64>,
) -> Result<(Vec<Summary>, Option<String>), ApiError> {
    let (items, more) = app
        .store
        .list_factories(owner, after, limit)
        .await
        .map_err(store_error(KIND))?;
    let next = more
        .then(|| {
            items
                .last()
                .map(|i| factories_domain::cursor::encode_list(i.id))
        })
        .flatten();
    Ok((items.iter().map(FactoryItem::summary).collect(), next))
}

async fn list(app: &Factories, req: &Request, owner: &Owner) -> Result<Response<Body>, ApiError> {
    let (limit, after) = factories_store::list_params(req, DEFAULT_LIMIT, MAX_LIMIT)?;
    let (factories, next_cursor) = page(app, owner, limit, after).await?;
    Ok(http::json(
        StatusCode::OK,
        &ListPage {
            factories,
            next_cursor,
        },
    ))
}
