//! The upstream client and its manners: connect 1 s, answer 5 s, at most 8 MB; one retry
//! (200–400 ms) on a connect error, a timeout, 502, 503 or 504; a 429's `Retry-After`
//! (10 s without one) honoured by every instance; a circuit per upstream (5 failures open
//! it 30 s, then one probe); a token bucket per upstream. What every instance must agree
//! on (Retry-After, the circuit, the buckets) is in Redis; without Redis none of those
//! three applies, and only the timeouts, the size bound and the retry remain.

use bytes::Bytes;
use catalog_domain::{Collection, Source};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use redis::aio::ConnectionManager;
use std::collections::HashMap;
use std::time::Duration;

const CONNECT: Duration = Duration::from_secs(1);
const ANSWER: Duration = Duration::from_secs(5);
const MAX_BODY: usize = 8 * 1024 * 1024;
const DEFAULT_RETRY_AFTER: u64 = 10;
const CIRCUIT_FAILURES: i64 = 5;
const CIRCUIT_OPEN_MS: u64 = 30_000;
/// How long a caller waits for a token before it counts as rate-limited.
const TOKEN_WAIT_MS: i64 = 200;
const REDIS_TIMEOUT: Duration = Duration::from_millis(100);

/// Why an upstream gave nothing usable. Never carries its URL or body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamError {
    #[error("the upstream did not answer in time")]
    Timeout,
    #[error("the upstream could not be reached")]
    Connect,
    #[error("the upstream answered {0}")]
    Status(u16),
    #[error("the upstream's answer is larger than 8 MB")]
    TooLarge,
    #[error("the upstream asked to wait (429)")]
    RateLimited,
    #[error("the upstream's circuit is open after repeated failures")]
    CircuitOpen,
    #[error("no base URL is configured for the upstream")]
    NotConfigured,
}

impl UpstreamError {
    /// The short reason `STALE_DATA` errors and logs carry.
    pub fn reason(&self) -> String {
        match self {
            UpstreamError::Timeout => "timeout".into(),
            UpstreamError::Connect => "connect-error".into(),
            UpstreamError::Status(s) => format!("status-{s}"),
            UpstreamError::TooLarge => "too-large".into(),
            UpstreamError::RateLimited => "rate-limited".into(),
            UpstreamError::CircuitOpen => "circuit-open".into(),
            UpstreamError::NotConfigured => "not-configured".into(),
        }
    }

    fn retryable(&self) -> bool {
        matches!(
            self,
            UpstreamError::Timeout | UpstreamError::Connect | UpstreamError::Status(502..=504)
        )
    }

    /// What the circuit counts: the upstream failing, not it refusing us or our limits.
    fn is_failure(&self) -> bool {
        matches!(
            self,
            UpstreamError::Timeout | UpstreamError::Connect | UpstreamError::Status(500..=599)
        )
    }
}

/// An upstream's answer to a conditional GET.
#[derive(Debug)]
pub enum Fetched {
    NotModified,
    Body { body: Bytes, etag: Option<String> },
}

/// Per-upstream token bucket: steady rate per second and burst.
#[derive(Debug, Clone, Copy)]
pub struct Bucket {
    pub rate: f64,
    pub burst: f64,
}

fn bucket(source: Source) -> Bucket {
    match source {
        Source::FakeStore => Bucket {
            rate: 2.0,
            burst: 5.0,
        },
        Source::JsonPlaceholder => Bucket {
            rate: 5.0,
            burst: 10.0,
        },
        // DummyJSON allows 100 per 10 s per IP.
        Source::DummyJson => Bucket {
            rate: 5.0,
            burst: 20.0,
        },
    }
}

const TOKEN_BUCKET: &str = r#"
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
tokens = math.min(burst, tokens + (now - at) * rate / 1000)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) * 1000 / rate) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return wait
"#;

#[derive(Clone)]
pub struct Upstreams {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>,
    bases: HashMap<Source, String>,
    redis: Option<ConnectionManager>,
    buckets: HashMap<Source, Bucket>,
    /// The namespace of this deployment's Redis keys.
    namespace: String,
}

impl Upstreams {
    /// Base URLs from `UPSTREAM_{FAKESTORE,JSONPLACEHOLDER,DUMMYJSON}_URL` only.
    pub fn from_lookup(
        get: &impl Fn(&str) -> Option<String>,
        redis: Option<ConnectionManager>,
    ) -> Result<Upstreams, shared::BoxError> {
        let mut bases = HashMap::new();
        for s in catalog_domain::source::SOURCES {
            if let Some(url) = get(&format!("UPSTREAM_{}_URL", s.env())).filter(|u| !u.is_empty()) {
                bases.insert(s, url.trim_end_matches('/').to_owned());
            }
        }
        let mut http = HttpConnector::new();
        http.set_connect_timeout(Some(CONNECT));
        http.enforce_http(false);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::aws_lc_rs::default_provider())?
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new()).build(https);
        let buckets = catalog_domain::source::SOURCES
            .iter()
            .map(|s| (*s, bucket(*s)))
            .collect();
        Ok(Upstreams {
            client,
            bases,
            redis,
            buckets,
            namespace: get("CATALOG_TABLE").unwrap_or_else(|| "catalog".into()),
        })
    }

    /// Another token bucket for `source` (tests use small ones).
    pub fn with_bucket(mut self, source: Source, bucket: Bucket) -> Upstreams {
        self.buckets.insert(source, bucket);
        self
    }

    pub fn with_namespace(mut self, namespace: &str) -> Upstreams {
        self.namespace = namespace.to_owned();
        self
    }

    fn key(&self, source: Source, what: &str) -> String {
        format!("{}:upstream:{}:{what}", self.namespace, source.slug())
    }

    /// GETs `collection` whole, conditionally on `etag`, with every rule of the module.
    pub async fn fetch(
        &self,
        collection: Collection,
        etag: Option<&str>,
    ) -> Result<Fetched, UpstreamError> {
        let source = collection.source;
        let base = self
            .bases
            .get(&source)
            .ok_or(UpstreamError::NotConfigured)?;
        let url = format!("{base}{}", collection.path());
        self.admit(source).await?;
        let mut result = self.get(&url, etag).await;
        if result.as_ref().is_err_and(UpstreamError::retryable) {
            tokio::time::sleep(Duration::from_millis(fastrand::u64(200..=400))).await;
            self.take_token(source).await?;
            result = self.get(&url, etag).await;
        }
        match &result {
            Ok(_) => self.succeeded(source).await,
            Err(UpstreamError::RateLimited) => {}
            Err(e) if e.is_failure() => self.failed(source).await,
            Err(_) => {}
        }
        if let Err(e) = &result {
            tracing::warn!(collection = %collection.key(), reason = %e.reason(), "upstream fetch failed");
        }
        result
    }

    async fn get(&self, url: &str, etag: Option<&str>) -> Result<Fetched, UpstreamError> {
        let mut req = hyper::Request::get(url).header("accept", "application/json");
        if let Some(etag) = etag {
            req = req.header("if-none-match", etag);
        }
        let req = req.body(Empty::new()).map_err(|_| UpstreamError::Connect)?;
        let answer = async {
            let resp = self.client.request(req).await.map_err(|e| {
                if e.is_connect() {
                    UpstreamError::Connect
                } else {
                    UpstreamError::Timeout
                }
            })?;
            let status = resp.status().as_u16();
            let retry_after = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let etag = resp
                .headers()
                .get("etag")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            match status {
                304 => return Ok(Ok(Fetched::NotModified)),
                429 => return Ok(Err(retry_after.unwrap_or(DEFAULT_RETRY_AFTER))),
                200 => {}
                other => return Err(UpstreamError::Status(other)),
            }
            let body = Limited::new(resp.into_body(), MAX_BODY)
                .collect()
                .await
                .map_err(|e| {
                    if e.is::<http_body_util::LengthLimitError>() {
                        UpstreamError::TooLarge
                    } else {
                        UpstreamError::Timeout
                    }
                })?
                .to_bytes();
            Ok(Ok(Fetched::Body { body, etag }))
        };
        match tokio::time::timeout(ANSWER, answer).await {
            Err(_) => Err(UpstreamError::Timeout),
            Ok(Err(e)) => Err(e),
            Ok(Ok(Ok(fetched))) => Ok(fetched),
            Ok(Ok(Err(wait_secs))) => {
                let source = self.source_of(url);
                if let Some(source) = source {
                    self.hold_off(source, wait_secs).await;
                }
                Err(UpstreamError::RateLimited)
            }
        }
    }

    fn source_of(&self, url: &str) -> Option<Source> {
        self.bases
            .iter()
            .find(|(_, b)| url.starts_with(b.as_str()))
            .map(|(s, _)| *s)
    }

    async fn redis<T: redis::FromRedisValue>(&self, cmd: redis::Cmd) -> Option<T> {
        let mut conn = self.redis.clone()?;
        shared::cache::bounded(
            REDIS_TIMEOUT,
            "upstream limits",
            "cmd",
            "each instance alone",
            async move { cmd.query_async(&mut conn).await },
        )
        .await
    }

    /// Every instance waits out a 429.
    async fn hold_off(&self, source: Source, secs: u64) {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(source, "retry-after"))
            .arg(1)
            .arg("PX")
            .arg(secs.max(1) * 1000);
        let _: Option<()> = self.redis(cmd).await;
    }

    /// Before a call: no pending `Retry-After`, a closed circuit (or this instance's probe),
    /// a token.
    async fn admit(&self, source: Source) -> Result<(), UpstreamError> {
        let mut exists = redis::cmd("EXISTS");
        exists.arg(self.key(source, "retry-after"));
        if self.redis::<i64>(exists).await.unwrap_or(0) > 0 {
            return Err(UpstreamError::RateLimited);
        }
        let mut open = redis::cmd("EXISTS");
        open.arg(self.key(source, "open"));
        if self.redis::<i64>(open).await.unwrap_or(0) > 0 {
            return Err(UpstreamError::CircuitOpen);
        }
        let mut half = redis::cmd("EXISTS");
        half.arg(self.key(source, "half-open"));
        if self.redis::<i64>(half).await.unwrap_or(0) > 0 {
            // Half open: one probe at a time, for every instance.
            let mut probe = redis::cmd("SET");
            probe
                .arg(self.key(source, "probe"))
                .arg(1)
                .arg("NX")
                .arg("PX")
                .arg(ANSWER.as_millis() as u64 * 2 + 1000);
            let won: Option<Option<String>> = self.redis(probe).await;
            if matches!(won, Some(None)) {
                return Err(UpstreamError::CircuitOpen);
            }
        }
        self.take_token(source).await
    }

    async fn take_token(&self, source: Source) -> Result<(), UpstreamError> {
        let Some(conn) = self.redis.clone() else {
            return Ok(());
        };
        let b = self.buckets[&source];
        for attempt in 0..2 {
            let mut conn = conn.clone();
            let script = redis::Script::new(TOKEN_BUCKET);
            let mut invocation = script.key(self.key(source, "tokens"));
            invocation.arg(b.rate).arg(b.burst);
            let wait: Option<i64> = shared::cache::bounded(
                REDIS_TIMEOUT,
                "upstream limits",
                "tokens",
                "each instance alone",
                async move { invocation.invoke_async(&mut conn).await },
            )
            .await;
            match wait {
                None | Some(0) => return Ok(()),
                Some(ms) if attempt == 0 && ms <= TOKEN_WAIT_MS => {
                    tokio::time::sleep(Duration::from_millis(ms as u64)).await
                }
                Some(_) => break,
            }
        }
        Err(UpstreamError::RateLimited)
    }

    async fn succeeded(&self, source: Source) {
        let mut del = redis::cmd("DEL");
        del.arg(self.key(source, "failures"))
            .arg(self.key(source, "half-open"))
            .arg(self.key(source, "probe"));
        let _: Option<i64> = self.redis(del).await;
    }

    async fn failed(&self, source: Source) {
        let mut half = redis::cmd("EXISTS");
        half.arg(self.key(source, "half-open"));
        let half_open = self.redis::<i64>(half).await.unwrap_or(0) > 0;
        let failures = if half_open {
            CIRCUIT_FAILURES
        } else {
            let mut incr = redis::cmd("INCR");
            incr.arg(self.key(source, "failures"));
            let n: i64 = self.redis(incr).await.unwrap_or(0);
            let mut expire = redis::cmd("PEXPIRE");
            expire
                .arg(self.key(source, "failures"))
                .arg(CIRCUIT_OPEN_MS * 2);
            let _: Option<i64> = self.redis(expire).await;
            n
        };
        if failures >= CIRCUIT_FAILURES {
            tracing::warn!(source = source.slug(), "circuit opened for 30 s");
            let mut open = redis::cmd("SET");
            open.arg(self.key(source, "open"))
                .arg(1)
                .arg("PX")
                .arg(CIRCUIT_OPEN_MS);
            let _: Option<()> = self.redis(open).await;
            let mut mark = redis::cmd("SET");
            mark.arg(self.key(source, "half-open"))
                .arg(1)
                .arg("EX")
                .arg(86_400);
            let _: Option<()> = self.redis(mark).await;
            let mut del = redis::cmd("DEL");
            del.arg(self.key(source, "failures"))
                .arg(self.key(source, "probe"));
            let _: Option<i64> = self.redis(del).await;
        }
    }
}
