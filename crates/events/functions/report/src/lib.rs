//! `GET /report`: the tenant's committed generation (one read), then the page from Redis
//! or from the cells of the query's subset.

use events_domain::event::format_timestamp;
use events_domain::{compute, ReportQuery};
use events_store::{invalid_parameter, Events};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use shared::http::{self, ApiError};

pub async fn handle(app: &Events, req: Request) -> Response<Body> {
    http::finish(&http::path(&req), report(app, &req).await)
}

#[derive(Serialize)]
struct Page<'a> {
    rows: &'a [events_domain::Row],
    pagination: Pagination,
    as_of: String,
}

#[derive(Serialize)]
struct Pagination {
    total_count: usize,
    offset: u32,
    page_size: u32,
    next_offset: Option<u64>,
}

/// The query string's `(name, value)` pairs, every value of a repeated name in order.
fn pairs(req: &Request) -> Vec<(String, String)> {
    let params = req.query_string_parameters();
    let mut names: Vec<&str> = params.iter().map(|(k, _)| k).collect();
    names.sort_unstable();
    names.dedup();
    names
        .into_iter()
        .flat_map(|name| {
            params
                .all(name)
                .unwrap_or_default()
                .into_iter()
                .map(move |v| (name.to_owned(), v.to_owned()))
        })
        .collect()
}

async fn report(app: &Events, req: &Request) -> Result<Response<Body>, ApiError> {
    let owner = http::caller(app, req).await?;
    let query = ReportQuery::parse(&pairs(req)).map_err(invalid_parameter)?;
    let head = app.store.head(&owner).await?;
    if let Some(body) = app.cache.get_report(&owner, head.g, &query).await {
        app.metrics.count("CacheHits", &[]);
        return Ok(http::json_text(StatusCode::OK, body));
    }
    let cells = app.store.report_cells(&owner, &query, head).await?;
    let report = compute(&query, cells.cells);
    let as_of = chrono::DateTime::from_timestamp(cells.head.as_of, 0).unwrap_or_default();
    let body = serde_json::to_string(&Page {
        rows: &report.rows,
        pagination: Pagination {
            total_count: report.total_count,
            offset: report.offset,
            page_size: report.page_size,
            next_offset: report.next_offset,
        },
        as_of: format_timestamp(&as_of),
    })
    .map_err(|_| ApiError::Internal)?;
    app.metrics.count("CacheMisses", &[]);
    app.cache
        .put_report(&owner, cells.head.g, &query, body.clone())
        .await;
    tracing::info!(
        rows = report.total_count,
        generation = cells.head.g,
        "report answered"
    );
    Ok(http::json_text(StatusCode::OK, body))
}
