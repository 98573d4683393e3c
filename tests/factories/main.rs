//! The factories service against DynamoDB Local and redis-server: its routes' rules and
//! shapes, the calls each read and write costs, concurrency, the cache's freshness, whole
//! chart writes, imports and the legacy paths.

mod common;
mod concurrency;
mod routes;
