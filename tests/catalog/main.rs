//! The catalog service against DynamoDB Local, redis-server and the fake upstreams (in
//! process, from the project's fixtures): no test reaches the internet.

mod cache;
mod common;
mod queries;
mod upstream;
