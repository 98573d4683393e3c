//! Integration tests against the DynamoDB Local, redis-server and local API that `make test`
//! starts. One binary, so the SDK is linked once.

mod cache;
mod concurrency;
mod faults;
mod garbage;
mod handlers;
mod http_api;
mod idempotency;
mod limits;
mod observability;
mod openapi;
mod soak;
mod store;
mod template;
mod tenancy;
