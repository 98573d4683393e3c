//! The events service against DynamoDB Local and redis-server: its aggregation exactly once,
//! its reports against a reference, its routes' rules, calls, faults and documented shapes.

mod aggregation;
mod common;
mod openapi;
mod property;
mod routes;
