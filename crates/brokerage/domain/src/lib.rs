//! The brokerage's rules as pure functions: no clock, no network, no storage. Exact JSON
//! input, market hours and the tenant come from the platform (`shared`, without features).
//!
//! Values from the wire become the types below at the edge (`Order::parse`, `Cash::parse`);
//! inside, an invalid amount, ticker or share count cannot exist.

pub mod account;
pub mod money;
pub mod order;
pub mod rules;

pub use account::{Account, AccountId, Balance, Holding, Owner};
pub use money::{Amount, Cash, IssuerName, Price, Shares};
pub use order::{DedupKey, LedgerEntry, Operation, Order, DEDUP_WINDOW_SECS};
pub use rules::{evaluate, BusinessError, Decision};
