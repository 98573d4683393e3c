//! The platform every function stands on: configuration from the environment, the clock,
//! the DynamoDB store, the Redis read-through cache, API Gateway's request limits where it
//! is absent, HTTP glue and tracing.
//!
//! Clients are built once per cold start in [`App::from_env`] and shared by every request.

pub mod app;
pub mod cache;
pub mod clock;
pub mod config;
pub mod http;
pub mod idempotency;
pub mod items;
pub mod limits;
pub mod metrics;
pub mod store;
pub mod telemetry;

pub use app::{run, serve, App};
pub use cache::Cache;
pub use clock::{Clock, FixedClock, SystemClock};
pub use config::{Config, KeySource, Limits};
pub use metrics::Metrics;
pub use store::{OrderOutcome, OrdersPage, Store, StoreError};
