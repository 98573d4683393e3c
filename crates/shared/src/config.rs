//! Configuration from the environment, read once per cold start.

use std::time::Duration;

/// What a service's functions share: their table and their metrics' namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Service {
    /// The variable that names the service's table (e.g. `BROKERAGE_TABLE`): one per
    /// service, so that one environment (`make run`) can serve every service.
    pub table_env: &'static str,
    /// The table's name where the variable is unset.
    pub table: &'static str,
    /// The default of `METRICS_NAMESPACE`.
    pub metrics_namespace: &'static str,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// The service's own table.
    pub table_name: String,
    /// Overrides the DynamoDB endpoint (DynamoDB Local); unset in AWS.
    pub dynamodb_endpoint: Option<String>,
    /// `redis://` or `rediss://`; unset disables the cache.
    pub redis_url: Option<String>,
    pub cache_ttl: Duration,
    /// Upper bound on any one cache operation before it is abandoned for DynamoDB.
    pub cache_timeout: Duration,
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
    /// Names the API whose limits these are, so that every service's functions count
    /// against the same usage plan in Redis (`API_NAME`).
    pub api_name: String,
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
    #[error("{0} must be a whole number, got {1:?}")]
    Number(&'static str, String),
    #[error("{0} must be at least 1")]
    Zero(&'static str),
    #[error("API_KEY_SOURCE must be `api-gateway` or `local`, got {0:?}")]
    KeySource(String),
}

impl Config {
    pub fn from_env(service: Service) -> Result<Config, ConfigError> {
        Config::from_lookup(service, |k| std::env::var(k).ok())
    }

    pub fn from_lookup(
        service: Service,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
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
            table_name: or(service.table_env, service.table),
            dynamodb_endpoint: get("DYNAMODB_ENDPOINT").filter(|v| !v.is_empty()),
            redis_url: get("REDIS_URL").filter(|v| !v.is_empty()),
            cache_ttl: Duration::from_secs(number("CACHE_TTL_SECONDS", 300)?),
            cache_timeout: Duration::from_millis(number("CACHE_TIMEOUT_MS", 50)?),
            metrics_namespace: or("METRICS_NAMESPACE", service.metrics_namespace),
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
            api_name: or("API_NAME", "api"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVICE: Service = Service {
        table_env: "THINGS_TABLE",
        table: "things",
        metrics_namespace: "Things",
    };

    #[test]
    fn defaults_apply_when_nothing_is_set() {
        let c = Config::from_lookup(SERVICE, |_| None).unwrap();
        assert_eq!(c.table_name, "things");
        assert_eq!(c.metrics_namespace, "Things");
        assert_eq!(c.api_name, "api");
        assert_eq!(c.cache_timeout, Duration::from_millis(50));
        assert!(c.redis_url.is_none());
        assert_eq!(
            c.keys,
            KeySource::Local(vec!["local-dev-key".into(), "local-other-key".into()])
        );
    }

    #[test]
    fn bad_values_are_refused_at_start_up() {
        let bad_ttl = Config::from_lookup(SERVICE, |k| {
            (k == "CACHE_TTL_SECONDS").then(|| "soon".into())
        });
        assert!(matches!(
            bad_ttl,
            Err(ConfigError::Number("CACHE_TTL_SECONDS", _))
        ));
        // A limit of 0 would refuse every request.
        let no_rate =
            Config::from_lookup(SERVICE, |k| (k == "STAGE_RATE_LIMIT").then(|| "0".into()));
        assert!(matches!(
            no_rate,
            Err(ConfigError::Zero("STAGE_RATE_LIMIT"))
        ));
    }
}
