//! Redis primitives: a read-through cache of versioned values and the bounded call every
//! Redis use goes through. Every operation is bounded by a timeout and any failure is
//! logged and treated as a miss: the cache can slow nothing down for long and never fails
//! a request.

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::future::Future;
use std::time::Duration;

/// Writes a value only if it is newer than the one cached, so neither a late read-through
/// fill nor a slower concurrent write can put an older state back.
const PUT_IF_NEWER: &str = r#"
local cur = redis.call('GET', KEYS[1])
if cur then
  local v = tonumber(string.match(cur, '^(%d+):'))
  if v and v >= tonumber(ARGV[1]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. ARGV[2], 'EX', ARGV[3])
return 1
"#;

/// What a read or write does when the cache cannot answer.
const DYNAMODB: &str = "using DynamoDB";

#[derive(Clone)]
pub struct Cache {
    inner: Option<Inner>,
}

#[derive(Clone)]
struct Inner {
    conn: ConnectionManager,
    /// Keeps tables that share one Redis apart: the table name.
    namespace: String,
    put_if_newer: redis::Script,
    ttl: Duration,
    timeout: Duration,
}

impl Cache {
    /// A cache that always misses.
    pub fn disabled() -> Cache {
        Cache { inner: None }
    }

    /// Prepares the connection without opening it: Redis being down at a cold start must
    /// not stop the function. The multiplexed connection reconnects by itself.
    pub fn connect(
        url: &str,
        namespace: &str,
        ttl: Duration,
        timeout: Duration,
    ) -> Result<Cache, redis::RedisError> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_max_delay(timeout);
        let conn = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(Cache {
            inner: Some(Inner {
                conn,
                namespace: namespace.to_owned(),
                put_if_newer: redis::Script::new(PUT_IF_NEWER),
                ttl,
                timeout,
            }),
        })
    }

    pub fn is_enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// The connection, for others that keep state in the same Redis.
    pub fn connection(&self) -> Option<ConnectionManager> {
        self.inner.as_ref().map(|i| i.conn.clone())
    }

    /// The key of `name` in this cache's namespace (its service's table), so services
    /// and tables that share one Redis never read each other's entries.
    pub fn key(&self, name: &str) -> Option<String> {
        let inner = self.inner.as_ref()?;
        Some(format!("{}:{name}", inner.namespace))
    }

    /// The value cached under `key` (from [`Cache::key`]), if present.
    pub async fn get(&self, key: String) -> Option<String> {
        self.get_versioned(key).await.map(|(_, value)| value)
    }

    /// The value cached under `key` and the version it was cached as.
    pub async fn get_versioned(&self, key: String) -> Option<(u64, String)> {
        let inner = self.inner.as_ref()?;
        let mut conn = inner.conn.clone();
        let cached: Option<String> = bounded(inner.timeout, "cache", "get", DYNAMODB, async move {
            redis::cmd("GET").arg(key).query_async(&mut conn).await
        })
        .await?;
        let cached = cached?;
        let (version, value) = cached.split_once(':')?;
        Some((version.parse().ok()?, value.to_owned()))
    }

    /// Caches `value` as `version` of what `key` names, unless a version as new or newer
    /// is there already.
    /// `false` when Redis did not answer (the entry may hold an older value).
    pub async fn put_if_newer(&self, key: String, version: u64, value: String) -> bool {
        let Some(ttl) = self.inner.as_ref().map(|i| i.ttl) else {
            return true;
        };
        self.put_if_newer_for(key, version, value, ttl).await
    }

    /// [`Cache::put_if_newer`] with its own time to live.
    pub async fn put_if_newer_for(
        &self,
        key: String,
        version: u64,
        value: String,
        ttl: Duration,
    ) -> bool {
        let Some(inner) = self.inner.as_ref() else {
            return true;
        };
        let mut conn = inner.conn.clone();
        let mut invocation = inner.put_if_newer.key(key);
        invocation.arg(version).arg(value).arg(ttl.as_secs().max(1));
        let done: Option<i64> = bounded(inner.timeout, "cache", "put", DYNAMODB, async move {
            invocation.invoke_async(&mut conn).await
        })
        .await;
        done.is_some()
    }

    /// Removes `key`'s entry: what a write does when it could not update it, so that no
    /// older value outlives the write. `false` when Redis did not answer either.
    pub async fn forget(&self, key: String) -> bool {
        let Some(inner) = self.inner.as_ref() else {
            return true;
        };
        let mut conn = inner.conn.clone();
        let done: Option<i64> = bounded(inner.timeout, "cache", "del", DYNAMODB, async move {
            redis::cmd("DEL").arg(key).query_async(&mut conn).await
        })
        .await;
        done.is_some()
    }
}

/// One Redis call of `what` (the cache, the limits) within `limit`. A failure or a timeout
/// is a warning saying what the request does instead (`fallback`), and `None`.
pub async fn bounded<T>(
    limit: Duration,
    what: &str,
    op: &str,
    fallback: &str,
    f: impl Future<Output = redis::RedisResult<T>>,
) -> Option<T> {
    match tokio::time::timeout(limit, f).await {
        Ok(Ok(v)) => Some(v),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, op, "{what} unavailable; {fallback}");
            None
        }
        Err(_) => {
            tracing::warn!(
                timeout_ms = limit.as_millis() as u64,
                op,
                "{what} timed out; {fallback}"
            );
            None
        }
    }
}
