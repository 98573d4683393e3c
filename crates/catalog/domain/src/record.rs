//! What the catalog keeps of an upstream record: the fields the schema serves and nothing
//! else, so a secret an upstream sends (a password, an SSN, coordinates) has no field to be
//! stored in.

use crate::Source;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    pub source: Source,
    pub id: u64,
    pub title: String,
    pub description: String,
    pub price: Decimal,
    /// Unified over both stores (see [`crate::category`]).
    pub category: String,
    pub image: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub source: Source,
    pub id: u64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    pub product_id: u64,
    pub quantity: u32,
    /// A DummyJSON line's own price; a Fake Store line's is its product's.
    pub price: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cart {
    pub source: Source,
    pub id: u64,
    pub user_id: u64,
    pub lines: Vec<CartLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Post {
    pub source: Source,
    pub id: u64,
    pub user_id: u64,
    pub title: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    pub source: Source,
    pub id: u64,
    pub post_id: u64,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Album {
    pub id: u64,
    pub user_id: u64,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Photo {
    pub id: u64,
    pub album_id: u64,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Todo {
    pub source: Source,
    pub id: u64,
    pub user_id: u64,
    pub title: String,
    pub completed: bool,
}

/// One cached record of any collection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k")]
pub enum Record {
    Product(Product),
    User(User),
    Cart(Cart),
    Post(Post),
    Comment(Comment),
    Album(Album),
    Photo(Photo),
    Todo(Todo),
}

impl Record {
    pub fn id(&self) -> u64 {
        match self {
            Record::Product(r) => r.id,
            Record::User(r) => r.id,
            Record::Cart(r) => r.id,
            Record::Post(r) => r.id,
            Record::Comment(r) => r.id,
            Record::Album(r) => r.id,
            Record::Photo(r) => r.id,
            Record::Todo(r) => r.id,
        }
    }

    /// The id it is grouped under (see [`crate::Collection::parent`]).
    pub fn parent(&self) -> Option<u64> {
        match self {
            Record::Product(_) | Record::User(_) => None,
            Record::Cart(r) => Some(r.user_id),
            Record::Post(r) => Some(r.user_id),
            Record::Comment(r) => Some(r.post_id),
            Record::Album(r) => Some(r.user_id),
            Record::Photo(r) => Some(r.album_id),
            Record::Todo(r) => Some(r.user_id),
        }
    }
}
