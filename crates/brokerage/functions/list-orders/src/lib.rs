//! `GET /accounts/{id}/orders`: the accepted orders, newest first, a page at a time.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use brokerage_domain::{AccountId, LedgerEntry};
use brokerage_store::{account_id, account_not_found, Brokerage};
use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use shared::http::{self, ApiError};

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 500;

#[derive(Serialize)]
struct OrdersResponse {
    orders: Vec<LedgerEntry>,
    next_cursor: Option<String>,
}

pub async fn handle(app: &Brokerage, req: Request) -> Response<Body> {
    http::finish(&http::path(&req), list(app, &req).await)
}

async fn list(app: &Brokerage, req: &Request) -> Result<Response<Body>, ApiError> {
    let owner = http::caller(app, req).await?;
    let id = account_id(req)?;
    let limit = match http::query(req, "limit") {
        None => DEFAULT_LIMIT,
        Some(raw) => raw
            .parse()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or(ApiError::InvalidQuery {
                param: "limit".into(),
                reason: format!("must be a whole number from 1 to {MAX_LIMIT}"),
            })?,
    };
    let before = match http::query(req, "cursor") {
        None => None,
        Some(raw) => Some(decode_cursor(&raw).ok_or(ApiError::InvalidQuery {
            param: "cursor".into(),
            reason: "is not a cursor this API returned".into(),
        })?),
    };
    let page = app
        .store
        .orders_page(&owner, id, limit, before)
        .await?
        .ok_or_else(account_not_found)?;
    tracing::info!(account_id = %id, orders = page.orders.len(), outcome = "listed");
    let body = OrdersResponse {
        orders: page.orders,
        next_cursor: page.next.map(encode_cursor),
    };
    Ok(http::json(StatusCode::OK, &body))
}

/// Opaque to clients: the sequence number of the last order of the page.
fn encode_cursor(seq: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("o:{seq}"))
}

fn decode_cursor(cursor: &str) -> Option<u64> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let seq = std::str::from_utf8(&bytes).ok()?.strip_prefix("o:")?;
    AccountId::parse(seq).map(|id| id.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_forgeries() {
        assert_eq!(decode_cursor(&encode_cursor(42)), Some(42));
        for bad in ["", "!!", "bzo", "eDo0Mg", "bzotMQ"] {
            assert_eq!(decode_cursor(bad), None, "{bad}");
        }
    }
}
