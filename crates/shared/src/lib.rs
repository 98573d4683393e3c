//! The platform every service stands on; it names no service.
//!
//! Without features it is pure, for a service's domain crate: exact JSON input
//! ([`input`]), market hours ([`market`]), the clock ([`clock`]) and the tenant ([`tenant`]). With `runtime`, what a
//! Lambda function needs: configuration ([`config`]), the app built once per cold start
//! ([`app`]), HTTP glue and problem+json ([`http`]), the caller's tenant from the API key,
//! `Idempotency-Key` records ([`idempotency`]), Redis primitives ([`cache`]), API Gateway's
//! limits where it is absent ([`limits`]), DynamoDB helpers ([`dynamo`]), JSON logs
//! ([`telemetry`]) and EMF metrics ([`metrics`]).

pub mod clock;
pub mod input;
pub mod market;
pub mod tenant;

#[cfg(feature = "runtime")]
pub mod app;
#[cfg(feature = "runtime")]
pub mod cache;
#[cfg(feature = "runtime")]
pub mod config;
#[cfg(feature = "runtime")]
pub mod dynamo;
#[cfg(feature = "runtime")]
pub mod http;
#[cfg(feature = "runtime")]
pub mod idempotency;
#[cfg(feature = "runtime")]
pub mod limits;
#[cfg(feature = "runtime")]
pub mod metrics;
#[cfg(feature = "runtime")]
pub mod telemetry;

pub use clock::{Clock, FixedClock, SystemClock};
pub use input::{BodyError, Field, Fields};
pub use market::{MarketConfigError, MarketHours};
pub use tenant::Owner;

#[cfg(feature = "runtime")]
pub use app::{run, serve, App, BoxError, State};
#[cfg(feature = "runtime")]
pub use cache::Cache;
#[cfg(feature = "runtime")]
pub use config::{Config, KeySource, Limits, Service};
#[cfg(feature = "runtime")]
pub use metrics::Metrics;
