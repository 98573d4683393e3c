//! Request limits where API Gateway is absent (the local API): the usage plan's rate, burst
//! and daily quota per key, and the stage's rate and burst for all keys together. The state
//! lives in Redis, so every function process shares it, as API Gateway's is shared by every
//! route. Like the cache, the limiter never fails a request: if Redis cannot answer within
//! the cache timeout, the request is let through with a warning.

use redis::aio::ConnectionManager;
use std::time::Duration;

use crate::cache::bounded;
use crate::config::Limits;

/// GCRA (generic cell rate algorithm) on two buckets, then the day's count, in one atomic
/// step on Redis's clock. A bucket holds its theoretical arrival time (TAT) in ms; a request
/// is admitted when its TAT, one interval later, is at most `burst` intervals ahead of now.
/// Returns {0, 0} admitted, {1, ms to wait} throttled, {2, s until the day ends} quota spent.
const ADMIT: &str = r#"
local t = redis.call('TIME')
local secs = tonumber(t[1])
local now = secs * 1000 + math.floor(tonumber(t[2]) / 1000)
local day = math.floor(secs / 86400)
local quota_key = KEYS[3] .. ':' .. day
if tonumber(redis.call('GET', quota_key) or '0') >= tonumber(ARGV[5]) then
  return {2, (day + 1) * 86400 - secs}
end
local function next_tat(key, rate, burst)
  local interval = 1000 / rate
  local tat = math.max(tonumber(redis.call('GET', key) or '0'), now)
  local new = tat + interval
  return new, new - burst * interval - now
end
local key_tat, key_wait = next_tat(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
local stage_tat, stage_wait = next_tat(KEYS[2], tonumber(ARGV[3]), tonumber(ARGV[4]))
local wait = math.max(key_wait, stage_wait)
if wait > 0 then
  return {1, math.ceil(wait)}
end
redis.call('SET', KEYS[1], string.format('%.3f', key_tat), 'PX', math.ceil(key_tat - now) + 1)
redis.call('SET', KEYS[2], string.format('%.3f', stage_tat), 'PX', math.ceil(stage_tat - now) + 1)
redis.call('INCR', quota_key)
redis.call('EXPIRE', quota_key, 172800)
return {0, 0}
"#;

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The key's or the stage's rate and burst are spent; retry after this long.
    Throttled(Duration),
    /// The key's requests for the day are spent, until the day ends (UTC).
    QuotaExceeded(Duration),
}

#[derive(Clone)]
pub struct Limiter {
    conn: ConnectionManager,
    /// The API whose limits these are: every service behind it shares them.
    namespace: String,
    limits: Limits,
    script: redis::Script,
    timeout: Duration,
}

impl Limiter {
    pub fn new(
        conn: ConnectionManager,
        namespace: &str,
        limits: Limits,
        timeout: Duration,
    ) -> Limiter {
        Limiter {
            conn,
            namespace: namespace.to_owned(),
            limits,
            script: redis::Script::new(ADMIT),
            timeout,
        }
    }

    /// Counts one request of `key`, or says why it must be refused.
    pub async fn admit(&self, key: &str) -> Result<(), Refusal> {
        let ns = &self.namespace;
        let l = &self.limits;
        let mut invocation = self.script.key(format!("{ns}:limit:key:{key}"));
        invocation
            .key(format!("{ns}:limit:stage"))
            .key(format!("{ns}:limit:quota:{key}"))
            .arg(l.key_rate)
            .arg(l.key_burst)
            .arg(l.stage_rate)
            .arg(l.stage_burst)
            .arg(l.daily_quota);
        let mut conn = self.conn.clone();
        let answer: Option<(u8, u64)> = bounded(
            self.timeout,
            "limits",
            "admit",
            "request let through",
            invocation.invoke_async(&mut conn),
        )
        .await;
        match answer {
            Some((1, ms)) => Err(Refusal::Throttled(Duration::from_millis(ms))),
            Some((2, secs)) => Err(Refusal::QuotaExceeded(Duration::from_secs(secs))),
            _ => Ok(()),
        }
    }
}
