//! The three upstreams as the catalog sees them, from the project's fixtures, on one
//! loopback port: `/<source>/<collection>[/<id>]` (`source` is `fakestore`,
//! `jsonplaceholder` or `dummyjson`), each the real API's shape: bare arrays, DummyJSON's
//! envelope and paging (`limit` 30 by default, `limit=0` for all, `skip`), 404 bodies, and
//! an ETag with 304 for a matching `If-None-Match`.
//!
//! Switches, for tests and for trying failures by hand:
//! - `POST /__fault` `{"source": "dummyjson", "collection": "products", "kind": ...,
//!   "times": n}` (collection and times optional: every collection, until cleared), kind
//!   one of `status` (with `status`, default 503), `429` (with `retry_after` seconds, or
//!   none), `hang` (with `delay_ms`, default 60 s), `bad-json`, `drift` (the records under
//!   another envelope), `short-page` (DummyJSON's first page only, whatever `limit` says),
//!   `edit` (with `value`: the first record's title or name becomes it, until cleared).
//!   `DELETE /__fault` clears every switch.
//! - `GET /__hits`: requests per `source/collection` (and `total`); `DELETE` resets them.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const SOURCES: [(&str, &str); 3] = [
    ("fakestore", "FAKESTORE"),
    ("jsonplaceholder", "JSONPLACEHOLDER"),
    ("dummyjson", "DUMMYJSON"),
];

#[derive(Debug, Clone, Deserialize)]
pub struct Fault {
    pub source: String,
    #[serde(default)]
    pub collection: Option<String>,
    pub kind: String,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub retry_after: Option<u64>,
    #[serde(default)]
    pub delay_ms: Option<u64>,
    #[serde(default)]
    pub value: Option<String>,
    /// How many requests it applies to; unset: until cleared.
    #[serde(default)]
    pub times: Option<u32>,
}

#[derive(Default)]
struct State {
    /// `source/collection` → its records.
    data: HashMap<String, Vec<Value>>,
    faults: Vec<Fault>,
    hits: BTreeMap<String, u64>,
}

/// The running fakes; they stop when this is dropped.
pub struct Fakes {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Fakes {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Fakes {
    /// Loads `fixtures/<source>/<collection>.json` and listens on 127.0.0.1:`port` (0: any).
    pub async fn start(fixtures: &Path, port: u16) -> std::io::Result<Fakes> {
        Fakes::start_on(fixtures, "127.0.0.1", port).await
    }

    /// [`Fakes::start`] on `host`: Docker's bridge, for `sam local`'s containers.
    pub async fn start_on(fixtures: &Path, host: &str, port: u16) -> std::io::Result<Fakes> {
        let mut state = State::default();
        for (source, _) in SOURCES {
            let dir = fixtures.join(source);
            for entry in std::fs::read_dir(&dir)? {
                let path = entry?.path();
                let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
                    continue;
                };
                let value: Value = serde_json::from_slice(&std::fs::read(&path)?)
                    .map_err(|e| std::io::Error::other(format!("{}: {e}", path.display())))?;
                let records = match value {
                    Value::Array(items) => items,
                    // DummyJSON's fixtures are its whole answer; the records are under the name.
                    Value::Object(mut o) => match o.remove(name) {
                        Some(Value::Array(items)) => items,
                        _ => {
                            return Err(std::io::Error::other(format!(
                                "{}: no {name} array",
                                path.display()
                            )))
                        }
                    },
                    _ => {
                        return Err(std::io::Error::other(format!(
                            "{}: not an array",
                            path.display()
                        )))
                    }
                };
                state.data.insert(format!("{source}/{name}"), records);
            }
        }
        let listener = tokio::net::TcpListener::bind((host, port)).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(Mutex::new(state));
        let shared = state.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let state = shared.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let state = state.clone();
                        async move { Ok::<_, std::convert::Infallible>(handle(&state, req).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Fakes { addr, state, task })
    }

    /// The base URL of `source` (`fakestore`, ...).
    pub fn url(&self, source: &str) -> String {
        format!("http://{}/{source}", self.addr)
    }

    /// `(FAKESTORE, http://127.0.0.1:port/fakestore)`, for each source.
    pub fn urls(&self) -> Vec<(&'static str, String)> {
        SOURCES.iter().map(|(s, env)| (*env, self.url(s))).collect()
    }

    pub fn fault(&self, fault: Fault) {
        self.state.lock().expect("not poisoned").faults.push(fault);
    }

    pub fn clear(&self) {
        self.state.lock().expect("not poisoned").faults.clear();
    }

    /// Requests for `source/collection` so far.
    pub fn hits(&self, key: &str) -> u64 {
        self.state
            .lock()
            .expect("not poisoned")
            .hits
            .get(key)
            .copied()
            .unwrap_or(0)
    }

    pub fn total_hits(&self) -> u64 {
        self.state.lock().expect("not poisoned").hits.values().sum()
    }

    pub fn reset_hits(&self) {
        self.state.lock().expect("not poisoned").hits.clear();
    }
}

fn respond(
    status: StatusCode,
    body: impl Into<Bytes>,
    headers: &[(&str, String)],
) -> Response<Full<Bytes>> {
    let mut r = Response::builder()
        .status(status)
        .header("content-type", "application/json; charset=utf-8");
    for (k, v) in headers {
        r = r.header(*k, v);
    }
    r.body(Full::new(body.into())).expect("valid response")
}

async fn handle(state: &Mutex<State>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_owned();
    let query: HashMap<String, String> = req
        .uri()
        .query()
        .unwrap_or("")
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let method = req.method().clone();
    let if_none_match = req
        .headers()
        .get("if-none-match")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    match (method, path.as_str()) {
        (Method::POST, "/__fault") => {
            let body = req
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            match serde_json::from_slice::<Fault>(&body) {
                Ok(f) => {
                    state.lock().expect("not poisoned").faults.push(f);
                    respond(StatusCode::NO_CONTENT, "", &[])
                }
                Err(e) => respond(
                    StatusCode::BAD_REQUEST,
                    json!({"message": e.to_string()}).to_string(),
                    &[],
                ),
            }
        }
        (Method::DELETE, "/__fault") => {
            state.lock().expect("not poisoned").faults.clear();
            respond(StatusCode::NO_CONTENT, "", &[])
        }
        (Method::GET, "/__hits") => {
            let s = state.lock().expect("not poisoned");
            let mut hits: serde_json::Map<String, Value> =
                s.hits.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
            hits.insert("total".into(), json!(s.hits.values().sum::<u64>()));
            respond(StatusCode::OK, Value::Object(hits).to_string(), &[])
        }
        (Method::DELETE, "/__hits") => {
            state.lock().expect("not poisoned").hits.clear();
            respond(StatusCode::NO_CONTENT, "", &[])
        }
        (Method::GET, _) => serve(state, &path, &query, if_none_match.as_deref()).await,
        _ => respond(
            StatusCode::NOT_FOUND,
            json!({"message": "Not Found"}).to_string(),
            &[],
        ),
    }
}

/// What the matching switch does to this request, taking one of its `times`.
fn take_fault(s: &mut State, source: &str, collection: &str) -> Option<Fault> {
    let i = s.faults.iter().position(|f| {
        f.source == source
            && f.collection.as_deref().is_none_or(|c| c == collection)
            && f.kind != "edit"
    })?;
    let fault = s.faults[i].clone();
    if let Some(times) = &mut s.faults[i].times {
        *times -= 1;
        if *times == 0 {
            s.faults.remove(i);
        }
    }
    Some(fault)
}

async fn serve(
    state: &Mutex<State>,
    path: &str,
    query: &HashMap<String, String>,
    if_none_match: Option<&str>,
) -> Response<Full<Bytes>> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let (source, collection, id) = match parts.as_slice() {
        [s, c] => (*s, *c, None),
        [s, c, id] => (*s, *c, Some(*id)),
        _ => {
            return respond(
                StatusCode::NOT_FOUND,
                json!({"message": "Not Found"}).to_string(),
                &[],
            )
        }
    };
    let key = format!("{source}/{collection}");
    let (records, fault) = {
        let mut s = state.lock().expect("not poisoned");
        let Some(mut records) = s.data.get(&key).cloned() else {
            return respond(
                StatusCode::NOT_FOUND,
                json!({"message": "Not Found"}).to_string(),
                &[],
            );
        };
        *s.hits.entry(key.clone()).or_default() += 1;
        if let Some(edit) = s.faults.iter().find(|f| {
            f.kind == "edit"
                && f.source == source
                && f.collection.as_deref().is_none_or(|c| c == collection)
        }) {
            let value = edit.value.clone().unwrap_or_else(|| "edited".into());
            if let Some(Value::Object(first)) = records.first_mut() {
                for field in ["title", "name", "body", "todo"] {
                    if first.contains_key(field) {
                        first.insert(field.into(), json!(value));
                    }
                }
            }
        }
        (records, take_fault(&mut s, source, collection))
    };
    if let Some(f) = &fault {
        match f.kind.as_str() {
            "status" => {
                let status = StatusCode::from_u16(f.status.unwrap_or(503))
                    .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
                return respond(
                    status,
                    "<html>upstream error at http://internal.example/secret</html>",
                    &[],
                );
            }
            "429" => {
                let headers: Vec<(&str, String)> = f
                    .retry_after
                    .map(|s| ("retry-after", s.to_string()))
                    .into_iter()
                    .collect();
                return respond(
                    StatusCode::TOO_MANY_REQUESTS,
                    json!({"message": "Too many requests"}).to_string(),
                    &headers,
                );
            }
            "hang" => tokio::time::sleep(Duration::from_millis(f.delay_ms.unwrap_or(60_000))).await,
            "bad-json" => return respond(StatusCode::OK, "{\"products\": [", &[]),
            _ => {}
        }
    }
    let dummy = source == "dummyjson";
    if let Some(id) = id {
        let found = records.iter().find(|r| {
            r.get("id")
                .and_then(Value::as_u64)
                .map(|n| n.to_string())
                .as_deref()
                == Some(id)
        });
        return match (found, dummy) {
            (Some(r), _) => respond(StatusCode::OK, r.to_string(), &[]),
            (None, true) => {
                let singular = collection.trim_end_matches('s');
                let name = format!("{}{}", singular[..1].to_uppercase(), &singular[1..]);
                respond(
                    StatusCode::NOT_FOUND,
                    json!({"message": format!("{name} with id '{id}' not found")}).to_string(),
                    &[],
                )
            }
            // JSONPlaceholder answers an unknown id 404 `{}`; Fake Store 200 with nothing.
            (None, false) if source == "jsonplaceholder" => {
                respond(StatusCode::NOT_FOUND, "{}", &[])
            }
            (None, false) => respond(StatusCode::OK, "", &[]),
        };
    }
    let kind = fault.as_ref().map(|f| f.kind.as_str());
    let body = if dummy {
        let total = records.len();
        let skip: usize = query.get("skip").and_then(|s| s.parse().ok()).unwrap_or(0);
        let mut limit: usize = query
            .get("limit")
            .and_then(|s| s.parse().ok())
            .unwrap_or(30);
        if kind == Some("short-page") {
            limit = 30;
        }
        let page: Vec<Value> = records
            .into_iter()
            .skip(skip)
            .take(if limit == 0 { usize::MAX } else { limit })
            .collect();
        let shown = page.len();
        let mut envelope = serde_json::Map::new();
        envelope.insert(
            if kind == Some("drift") {
                "items".into()
            } else {
                collection.into()
            },
            Value::Array(page),
        );
        envelope.insert("total".into(), json!(total));
        envelope.insert("skip".into(), json!(skip));
        envelope.insert("limit".into(), json!(shown));
        Value::Object(envelope)
    } else if kind == Some("drift") {
        json!({ "data": records })
    } else {
        Value::Array(records)
    };
    let text = body.to_string();
    let etag = format!("W/\"{:x}\"", Sha256::digest(text.as_bytes()));
    if if_none_match == Some(etag.as_str()) {
        return respond(StatusCode::NOT_MODIFIED, "", &[("etag", etag)]);
    }
    respond(StatusCode::OK, text, &[("etag", etag)])
}
