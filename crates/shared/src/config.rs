//! Configuration from the environment, read once per cold start.

use domain::{MarketConfigError, MarketHours};
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Config {
    pub table_name: String,
    /// Overrides the DynamoDB endpoint (DynamoDB Local); unset in AWS.
    pub dynamodb_endpoint: Option<String>,
    /// `redis://` or `rediss://`; unset disables the cache.
    pub redis_url: Option<String>,
    pub cache_ttl: Duration,
    /// Upper bound on any one cache operation before it is abandoned for DynamoDB.
    pub cache_timeout: Duration,
    pub market: MarketHours,
    /// CloudWatch namespace of the EMF metrics.
    pub metrics_namespace: String,
    pub keys: KeySource,
    /// How long an idempotency record answers replays.
    pub idempotency_ttl: Duration,
    /// How long a request holds its idempotency key before another may take it over (longer
    /// than the function's timeout, so only a crashed request's key is ever taken over).
    pub idempotency_lock: Duration,
    /// The usage plan's and the stage's request limits, applied by the functions only where
    /// API Gateway is not in front of them (`KeySource::Local`).
    pub limits: Limits,
}

/// Request limits as API Gateway applies them: per API key (the usage plan's rate, burst
/// and daily quota) and for all keys together (the stage's method throttling).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Steady requests per second for each key.
    pub key_rate: u64,
    pub key_burst: u64,
    /// Requests per UTC day for each key.
    pub daily_quota: u64,
    /// Steady requests per second, all keys together.
    pub stage_rate: u64,
    pub stage_burst: u64,
}

/// Where the caller's identity comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// Behind API Gateway, which has checked the key: its id, `requestContext.identity.apiKeyId`.
    ApiGateway,
    /// Locally: the `x-api-key` header, which must be one of these keys.
    Local(Vec<String>),
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Market(#[from] MarketConfigError),
    #[error("{0} must be a whole number, got {1:?}")]
    Number(&'static str, String),
    #[error("{0} must be at least 1")]
    Zero(&'static str),
    #[error("API_KEY_SOURCE must be `api-gateway` or `local`, got {0:?}")]
    KeySource(String),
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|k| std::env::var(k).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let or = |k: &str, d: &str| {
            get(k)
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| d.to_owned())
        };
        let number = |k: &'static str, d: u64| -> Result<u64, ConfigError> {
            let v = or(k, &d.to_string());
            v.parse().map_err(|_| ConfigError::Number(k, v))
        };
        let positive = |k: &'static str, d: u64| match number(k, d)? {
            0 => Err(ConfigError::Zero(k)),
            n => Ok(n),
        };
        Ok(Config {
            table_name: or("TABLE_NAME", "brokerage"),
            dynamodb_endpoint: get("DYNAMODB_ENDPOINT").filter(|v| !v.is_empty()),
            redis_url: get("REDIS_URL").filter(|v| !v.is_empty()),
            cache_ttl: Duration::from_secs(number("CACHE_TTL_SECONDS", 300)?),
            cache_timeout: Duration::from_millis(number("CACHE_TIMEOUT_MS", 50)?),
            market: MarketHours::parse(
                &or("MARKET_TIMEZONE", "America/Mexico_City"),
                &or("MARKET_OPEN", "06:00"),
                &or("MARKET_CLOSE", "15:00"),
                &or("MARKET_DAYS", ""),
            )?,
            metrics_namespace: or("METRICS_NAMESPACE", "Brokerage"),
            keys: match or("API_KEY_SOURCE", "local").as_str() {
                "api-gateway" => KeySource::ApiGateway,
                "local" => KeySource::Local(
                    or("LOCAL_API_KEYS", "local-dev-key,local-other-key")
                        .split(',')
                        .map(|k| k.trim().to_owned())
                        .filter(|k| !k.is_empty())
                        .collect(),
                ),
                other => return Err(ConfigError::KeySource(other.to_owned())),
            },
            idempotency_ttl: Duration::from_secs(number("IDEMPOTENCY_TTL_SECONDS", 86_400)?),
            idempotency_lock: Duration::from_secs(number("IDEMPOTENCY_LOCK_SECONDS", 60)?),
            // The defaults are template.yaml's, so that the local API refuses what the
            // deployed one would.
            limits: Limits {
                key_rate: positive("USAGE_PLAN_RATE_LIMIT", 50)?,
                key_burst: positive("USAGE_PLAN_BURST_LIMIT", 100)?,
                daily_quota: positive("USAGE_PLAN_DAILY_QUOTA", 50_000)?,
                stage_rate: positive("STAGE_RATE_LIMIT", 500)?,
                stage_burst: positive("STAGE_BURST_LIMIT", 1000)?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let c = Config::from_lookup(|_| None).unwrap();
        assert_eq!(c.table_name, "brokerage");
        assert_eq!(c.cache_timeout, Duration::from_millis(50));
        assert_eq!(c.market, MarketHours::default());
        assert!(c.redis_url.is_none());
        assert_eq!(
            c.keys,
            KeySource::Local(vec!["local-dev-key".into(), "local-other-key".into()])
        );
    }

    #[test]
    fn bad_values_are_refused_at_start_up() {
        let bad_ttl = Config::from_lookup(|k| (k == "CACHE_TTL_SECONDS").then(|| "soon".into()));
        assert!(matches!(
            bad_ttl,
            Err(ConfigError::Number("CACHE_TTL_SECONDS", _))
        ));
        let bad_tz = Config::from_lookup(|k| (k == "MARKET_TIMEZONE").then(|| "Nowhere".into()));
        assert!(matches!(bad_tz, Err(ConfigError::Market(_))));
        // A limit of 0 would refuse every request.
        let no_rate = Config::from_lookup(|k| (k == "STAGE_RATE_LIMIT").then(|| "0".into()));
        assert!(matches!(
            no_rate,
            Err(ConfigError::Zero("STAGE_RATE_LIMIT"))
        ));
    }
}
