//! The catalog's rules, with no I/O: which collections exist and where they come from
//! ([`source`]), what an upstream record must be to be cached and what of it is kept
//! ([`record`], [`validate`]), the unified categories ([`category`]), exact cart totals
//! ([`cart`]), ids and cursors ([`id`], [`page`]), and how deep and costly a query may be
//! ([`cost`]).

pub mod cart;
pub mod category;
pub mod cost;
pub mod id;
pub mod page;
pub mod record;
pub mod source;
pub mod validate;

pub use id::{parse_id, IdError};
pub use record::{Album, Cart, CartLine, Comment, Photo, Post, Product, Record, Todo, User};
pub use source::{Collection, Source, COLLECTIONS};
pub use validate::{validate, Refusal, Snapshot};
