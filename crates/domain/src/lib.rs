//! The brokerage's rules as pure functions: no clock, no network, no storage.
//!
//! Values from the wire become the types below at the edge (`Order::parse`, `Cash::parse`);
//! inside, an invalid amount, ticker or share count cannot exist.

pub mod account;
pub mod input;
pub mod market;
pub mod money;
pub mod order;
pub mod rules;

pub use account::{Account, AccountId, Balance, Holding, Owner};
pub use input::{BodyError, Field, Fields};
pub use market::{MarketConfigError, MarketHours};
pub use money::{Amount, Cash, IssuerName, Price, Shares};
pub use order::{DedupKey, LedgerEntry, Operation, Order, DEDUP_WINDOW_SECS};
pub use rules::{evaluate, BusinessError, Decision};
