//! `Idempotency-Key` on POSTs: the first request with a key runs and its answer is kept for
//! a day; a retry with the same key and the same request gets that answer byte for byte and
//! changes nothing; the same key with another request is 422; while the first still runs,
//! 409. Keys belong to their owner: two tenants may use the same key.

use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use sha2::{Digest, Sha256};
use std::future::Future;

use crate::http::{self, ApiError};
use crate::store::{Claim, SavedResponse};
use crate::App;
use domain::Owner;

pub const HEADER: &str = "idempotency-key";
const MAX_KEY_LEN: usize = 255;
/// The headers of an answer that a replay repeats (with its status and body).
const KEPT_HEADERS: [header::HeaderName; 3] =
    [header::CONTENT_TYPE, header::LOCATION, header::RETRY_AFTER];

/// Runs `run` at most once per owner and `Idempotency-Key`. Without the header it simply
/// runs. `run` gets the key, to name the work it does (e.g. a transaction's token).
pub async fn once<F, Fut>(
    app: &App,
    req: &Request,
    owner: &Owner,
    run: F,
) -> Result<Response<Body>, ApiError>
where
    F: FnOnce(Option<String>) -> Fut,
    Fut: Future<Output = Result<Response<Body>, ApiError>>,
{
    let Some(key) = key(req)? else {
        return run(None).await;
    };
    let fingerprint = fingerprint(req);
    let now = app.clock.now();
    let nonce = format!("{:016x}", fastrand::u64(..));
    let lock_until = now + app.config.idempotency_lock.as_secs() as i64;
    let expires_at = now + app.config.idempotency_ttl.as_secs() as i64;
    let claim = app
        .store
        .claim_idempotency(
            owner,
            &key,
            &fingerprint,
            &nonce,
            now,
            lock_until,
            expires_at,
        )
        .await?;
    if let Claim::Taken(existing) = claim {
        if existing.fingerprint != fingerprint {
            return Err(ApiError::IdempotencyMismatch);
        }
        return match existing.response {
            Some(saved) => Ok(replay(saved)),
            None => Err(ApiError::IdempotencyInFlight),
        };
    }
    let response = http::finish(&http::path(req), run(Some(key.clone())).await);
    if response.status().is_server_error() {
        // Nothing was done that a retry could repeat: free the key for it.
        if let Err(e) = app.store.release_idempotency(owner, &key, &nonce).await {
            tracing::warn!(error = %e, "idempotency key not released; it frees itself at its lock's end");
        }
    } else if let Err(e) = app
        .store
        .complete_idempotency(owner, &key, &nonce, &save(&response))
        .await
    {
        tracing::warn!(error = %e, "answer not kept for replays of its idempotency key");
    }
    Ok(response)
}

/// The key, if the request has one: 1 to 255 visible ASCII characters.
fn key(req: &Request) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get(HEADER) else {
        return Ok(None);
    };
    let bad = || ApiError::InvalidHeader {
        header: "Idempotency-Key",
        reason: format!("must be 1 to {MAX_KEY_LEN} visible ASCII characters"),
    };
    let key = value.to_str().map_err(|_| bad())?;
    if key.is_empty() || key.len() > MAX_KEY_LEN || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad());
    }
    Ok(Some(key.to_owned()))
}

/// What makes two requests the same request: method, path (and the account it names) and
/// body.
pub fn fingerprint(req: &Request) -> String {
    let mut hash = Sha256::new();
    hash.update(req.method().as_str());
    hash.update(b" ");
    hash.update(http::path(req));
    hash.update(b" ");
    hash.update(req.path_parameters().first("id").unwrap_or_default());
    hash.update(b"\n");
    hash.update(req.body().as_ref());
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

fn save(response: &Response<Body>) -> SavedResponse {
    SavedResponse {
        status: response.status().as_u16(),
        headers: KEPT_HEADERS
            .iter()
            .filter_map(|name| {
                let value = response.headers().get(name)?.to_str().ok()?;
                Some((name.as_str().to_owned(), value.to_owned()))
            })
            .collect(),
        body: response.body().as_ref().to_vec(),
    }
}

fn replay(saved: SavedResponse) -> Response<Body> {
    let body = match String::from_utf8(saved.body) {
        Ok(text) => Body::Text(text),
        Err(e) => Body::Binary(e.into_bytes()),
    };
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::from_u16(saved.status).unwrap_or(StatusCode::OK);
    for (name, value) in saved.headers {
        if let (Ok(name), Ok(value)) = (
            header::HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}
