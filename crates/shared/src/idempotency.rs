//! `Idempotency-Key` on POSTs: the first request with a key runs and its answer is kept for
//! a day; a retry with the same key and the same request gets that answer byte for byte and
//! changes nothing; the same key with another request is 422; while the first still runs,
//! 409. Keys belong to their owner: two tenants may use the same key.
//!
//! A key's record is an item of the service's own table. A route whose work is one
//! DynamoDB transaction reads the record with its state and writes it in that transaction
//! ([`get`], [`Record::verdict`], [`keep`]): a key then costs no call of its own. Any other
//! route runs through [`once`], which claims the key first and keeps the answer after.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{Get, Put, ReturnValuesOnConditionCheckFailure};
use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::future::Future;

use crate::dynamo::{self, from_item, n, s, to_item, unavailable, Item, Malformed, Unavailable};
use crate::http::{self, ApiError};
use crate::tenant::Owner;
use crate::App;

pub const HEADER: &str = "idempotency-key";
const MAX_KEY_LEN: usize = 255;
/// The headers of an answer that a replay repeats (with its status and body).
const KEPT_HEADERS: [header::HeaderName; 4] = [
    header::CONTENT_TYPE,
    header::LOCATION,
    header::RETRY_AFTER,
    header::ETAG,
];
/// A key is free when it has no record, its record expired, or the request that claimed it
/// died (its lock passed).
const FREE: &str = "attribute_not_exists(pk) OR expires_at < :now \
                    OR (#state = :pending AND lock_until < :now)";

/// A request that carries a key: the key and what makes two requests the same request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyed {
    pub key: String,
    pub fingerprint: String,
}

/// The request's key, if it has one: 1 to 255 visible ASCII characters (400 otherwise).
pub fn keyed(req: &Request) -> Result<Option<Keyed>, ApiError> {
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
    Ok(Some(Keyed {
        key: key.to_owned(),
        fingerprint: fingerprint(req),
    }))
}

/// What makes two requests the same request: method, path (and the id it names) and body.
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

/// An answer kept for replays of a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum RecordState {
    /// Claimed by a request still running (through [`once`]).
    Pending,
    Done,
}

/// A key's record as stored: the owner's length first in its key, so no owner and key pair
/// can spell another's. `expires_at` is the table's TTL attribute.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pk: String,
    sk: String,
    fingerprint: String,
    state: RecordState,
    nonce: String,
    lock_until: i64,
    expires_at: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    headers: Option<BTreeMap<String, String>>,
    /// A Binary attribute: the exact bytes of the answer.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "serde_bytes")]
    body: Option<Vec<u8>>,
}

const RECORD_SK: &str = "IDEMPOTENCY";

fn record_pk(owner: &Owner, key: &str) -> String {
    format!("IDEMPOTENCY#{}#{}#{key}", owner.0.len(), owner.0)
}

/// The key of the record of `owner`'s `key`.
pub fn record_key(owner: &Owner, key: &str) -> Item {
    dynamo::key(record_pk(owner, key), RECORD_SK)
}

/// What an earlier request with the same key decided for this one.
#[derive(Debug)]
pub enum Verdict {
    /// No live record: the request runs.
    Free,
    /// The first answer, to send again.
    Replay(Response<Body>),
    /// The key was used with another request: 422.
    Mismatch,
    /// The first request still runs: 409.
    InFlight,
}

impl Verdict {
    /// The answer a request that is not free gets.
    pub fn into_answer(self) -> Option<Result<Response<Body>, ApiError>> {
        match self {
            Verdict::Free => None,
            Verdict::Replay(r) => Some(Ok(r)),
            Verdict::Mismatch => Some(Err(ApiError::IdempotencyMismatch)),
            Verdict::InFlight => Some(Err(ApiError::IdempotencyInFlight)),
        }
    }
}

impl Record {
    pub fn decode(item: &Item) -> Result<Record, Malformed> {
        from_item(item)
    }

    /// What this record means for a request with `fingerprint` at `now`, by the same rule
    /// as [`FREE`].
    pub fn verdict(self, fingerprint: &str, now: i64) -> Verdict {
        let pending = self.state == RecordState::Pending;
        if self.expires_at < now || (pending && self.lock_until < now) {
            return Verdict::Free;
        }
        if self.fingerprint != fingerprint {
            return Verdict::Mismatch;
        }
        match (self.status, self.headers, self.body) {
            (Some(status), Some(headers), Some(body)) if !pending => {
                Verdict::Replay(replay(SavedResponse {
                    status,
                    headers: headers.into_iter().collect(),
                    body,
                }))
            }
            _ => Verdict::InFlight,
        }
    }
}

/// The read of a key's record, for a `TransactGetItems` beside the route's own items.
pub fn get(table: &str, owner: &Owner, key: &str) -> Get {
    Get::builder()
        .table_name(table)
        .set_key(Some(record_key(owner, key)))
        .build()
        .expect("key and table are set")
}

/// The write that keeps `response` as the answer to `owner`'s keyed request, on condition
/// that the key is free: for the route's own `TransactWriteItems`, or alone. A refusal
/// returns the record that refused it.
pub fn keep(
    table: &str,
    owner: &Owner,
    keyed: &Keyed,
    now: i64,
    expires_at: i64,
    response: &SavedResponse,
) -> Result<Put, Malformed> {
    let record = Record {
        pk: record_pk(owner, &keyed.key),
        sk: RECORD_SK.into(),
        fingerprint: keyed.fingerprint.clone(),
        state: RecordState::Done,
        nonce: String::new(),
        lock_until: now,
        expires_at,
        status: Some(response.status),
        headers: Some(response.headers.iter().cloned().collect()),
        body: Some(response.body.clone()),
    };
    Ok(free_put(table, to_item(&record)?, now))
}

fn free_put(table: &str, item: Item, now: i64) -> Put {
    Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression(FREE)
        .expression_attribute_names("#state", "state")
        .expression_attribute_values(":now", n(now))
        .expression_attribute_values(":pending", s("pending"))
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .build()
        .expect("table, item and condition are set")
}

/// [`keep`] sent alone: `Free` when the answer was kept, else the verdict of the record that
/// was there first.
pub async fn keep_alone(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    owner: &Owner,
    keyed: &Keyed,
    now: i64,
    expires_at: i64,
    response: &SavedResponse,
) -> Result<Verdict, PutError> {
    let put = keep(table, owner, keyed, now, expires_at, response)?;
    put_alone(client, put, &keyed.fingerprint, now).await
}

/// A conditional write of a record sent alone: `Free` when it was written, else the verdict
/// of the record that was there first.
async fn put_alone(
    client: &aws_sdk_dynamodb::Client,
    put: Put,
    fingerprint: &str,
    now: i64,
) -> Result<Verdict, PutError> {
    let result = client
        .put_item()
        .table_name(put.table_name())
        .set_item(Some(put.item().clone()))
        .set_condition_expression(put.condition_expression().map(str::to_owned))
        .set_expression_attribute_names(put.expression_attribute_names().cloned())
        .set_expression_attribute_values(put.expression_attribute_values().cloned())
        .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
        .send()
        .await;
    match result {
        Ok(_) => Ok(Verdict::Free),
        Err(SdkError::ServiceError(e)) => match e.err() {
            PutItemError::ConditionalCheckFailedException(c) => {
                let item = c
                    .item()
                    .ok_or_else(|| Malformed("refused key without its record".into()))?;
                Ok(Record::decode(item)?.verdict(fingerprint, now))
            }
            _ => Err(unavailable(SdkError::ServiceError(e)).into()),
        },
        Err(e) => Err(unavailable(e).into()),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PutError {
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
    #[error(transparent)]
    Malformed(#[from] Malformed),
}

impl From<PutError> for ApiError {
    fn from(e: PutError) -> Self {
        match e {
            PutError::Unavailable(e) => e.into(),
            PutError::Malformed(e) => e.into(),
        }
    }
}

/// Runs `run` at most once per owner and `Idempotency-Key`: claims the key (one
/// conditional write), runs, then keeps the answer (one more). Without the header it
/// simply runs.
pub async fn once<F, Fut>(
    app: &App,
    req: &Request,
    owner: &Owner,
    run: F,
) -> Result<Response<Body>, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Response<Body>, ApiError>>,
{
    let Some(keyed) = keyed(req)? else {
        return run().await;
    };
    let now = app.clock.now();
    let nonce = format!("{:016x}", fastrand::u64(..));
    let lock_until = now + app.config.idempotency_lock.as_secs() as i64;
    let expires_at = now + app.config.idempotency_ttl.as_secs() as i64;
    let verdict = claim(app, owner, &keyed, &nonce, now, lock_until, expires_at).await?;
    if let Some(answer) = verdict.into_answer() {
        return answer;
    }
    let response = http::finish(&http::path(req), run().await);
    if response.status().is_server_error() {
        // Nothing was done that a retry could repeat: free the key for it.
        if let Err(e) = release(app, owner, &keyed.key, &nonce).await {
            tracing::warn!(error = %e, "idempotency key not released; it frees itself at its lock's end");
        }
    } else if let Err(e) = complete(app, owner, &keyed.key, &nonce, &save(&response)).await {
        tracing::warn!(error = %e, "answer not kept for replays of its idempotency key");
    }
    Ok(response)
}

/// Takes a key for a request that is still to run (`nonce` names it): one conditional write;
/// `Free` when taken, else what the record there says.
pub async fn claim(
    app: &App,
    owner: &Owner,
    keyed: &Keyed,
    nonce: &str,
    now: i64,
    lock_until: i64,
    expires_at: i64,
) -> Result<Verdict, PutError> {
    let record = Record {
        pk: record_pk(owner, &keyed.key),
        sk: RECORD_SK.into(),
        fingerprint: keyed.fingerprint.clone(),
        state: RecordState::Pending,
        nonce: nonce.into(),
        lock_until,
        expires_at,
        status: None,
        headers: None,
        body: None,
    };
    let put = free_put(&app.config.table_name, to_item(&record)?, now);
    put_alone(&app.dynamodb, put, &keyed.fingerprint, now).await
}

/// Keeps the answer of the request that holds the key (`nonce`) for its replays.
async fn complete(
    app: &App,
    owner: &Owner,
    key: &str,
    nonce: &str,
    response: &SavedResponse,
) -> Result<(), Unavailable> {
    let headers: BTreeMap<_, _> = response.headers.iter().cloned().collect();
    let headers = serde_dynamo::to_attribute_value(&headers)
        .map_err(|e| Unavailable(format!("headers: {e}")))?;
    app.dynamodb
        .update_item()
        .table_name(&app.config.table_name)
        .set_key(Some(record_key(owner, key)))
        .update_expression(
            "SET #state = :done, #status = :status, headers = :headers, body = :body",
        )
        .condition_expression("nonce = :nonce")
        .expression_attribute_names("#state", "state")
        .expression_attribute_names("#status", "status")
        .expression_attribute_values(":done", s("done"))
        .expression_attribute_values(":nonce", s(nonce))
        .expression_attribute_values(":status", n(response.status))
        .expression_attribute_values(":headers", headers)
        .expression_attribute_values(
            ":body",
            aws_sdk_dynamodb::types::AttributeValue::B(response.body.clone().into()),
        )
        .send()
        .await
        .map_err(unavailable)?;
    Ok(())
}

/// Frees a key its request could not complete, so a retry may run.
pub async fn release(app: &App, owner: &Owner, key: &str, nonce: &str) -> Result<(), Unavailable> {
    app.dynamodb
        .delete_item()
        .table_name(&app.config.table_name)
        .set_key(Some(record_key(owner, key)))
        .condition_expression("nonce = :nonce")
        .expression_attribute_values(":nonce", s(nonce))
        .send()
        .await
        .map_err(unavailable)?;
    Ok(())
}

/// The parts of an answer a replay repeats.
pub fn save(response: &Response<Body>) -> SavedResponse {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn done(fingerprint: &str, expires_at: i64) -> Record {
        Record {
            pk: "p".into(),
            sk: RECORD_SK.into(),
            fingerprint: fingerprint.into(),
            state: RecordState::Done,
            nonce: String::new(),
            lock_until: 0,
            expires_at,
            status: Some(201),
            headers: Some(BTreeMap::from([(
                "content-type".into(),
                "application/json".into(),
            )])),
            body: Some(b"{\"id\":1}".to_vec()),
        }
    }

    #[test]
    fn records_round_trip_with_their_exact_bytes() {
        let record = done("f", 100);
        let item = to_item(&record).unwrap();
        assert!(item["body"].is_b(), "{item:?}");
        assert_eq!(item["state"], s("done"));
        let back = Record::decode(&item).unwrap();
        assert_eq!(back.body, record.body);
        assert_eq!(back.headers, record.headers);
    }

    #[test]
    fn a_record_replays_for_its_request_until_it_expires() {
        let Verdict::Replay(r) = done("f", 100).verdict("f", 100) else {
            panic!("replay expected")
        };
        assert_eq!(r.status(), 201);
        assert_eq!(r.body().as_ref(), b"{\"id\":1}");
        assert!(matches!(
            done("f", 100).verdict("g", 100),
            Verdict::Mismatch
        ));
        assert!(matches!(done("f", 100).verdict("f", 101), Verdict::Free));
        let mut pending = done("f", 100);
        pending.state = RecordState::Pending;
        pending.lock_until = 50;
        assert!(matches!(
            pending.clone().verdict("f", 50),
            Verdict::InFlight
        ));
        assert!(matches!(pending.verdict("f", 51), Verdict::Free));
    }
}
