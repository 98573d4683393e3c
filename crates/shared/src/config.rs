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
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Market(#[from] MarketConfigError),
    #[error("{0} must be a whole number, got {1:?}")]
    Number(&'static str, String),
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
    }
}
