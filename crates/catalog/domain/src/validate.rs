//! An upstream's answer checked before anything of it is cached: the envelope whole, then
//! each record. A bad record is dropped and counted by reason; a bad envelope, an empty
//! collection, a DummyJSON `total` that is not the number of items, or more than 10% of
//! records rejected refuses the snapshot whole (the old one is kept).

use crate::category::unify;
use crate::record::*;
use crate::source::{Collection, Kind, Source};
use rust_decimal::Decimal;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use shared::Field;
use std::collections::{BTreeMap, HashMap, HashSet};

const MAX_TEXT: usize = 10_000;
/// Prices are below 10^9 with at most 2 decimals.
const MAX_PRICE: i64 = 1_000_000_000;

/// What a collection's answer gives the cache.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// By id.
    pub records: Vec<Record>,
    /// Dropped records by reason.
    pub rejected: BTreeMap<&'static str, u32>,
    /// sha256 of what is kept: the same data gives the same hash, whatever the upstream's
    /// formatting or the secrets it changed.
    pub hash: String,
}

impl Snapshot {
    pub fn rejected_count(&self) -> u32 {
        self.rejected.values().sum()
    }
}

/// Why a whole answer was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the answer is not JSON")]
    NotJson,
    #[error("the answer's envelope is not the collection's: {0}")]
    Envelope(&'static str),
    #[error("the collection is empty")]
    Empty,
    #[error("the answer says {total} records and holds {items}")]
    TotalMismatch { total: u64, items: usize },
    #[error("{rejected} of {total} records failed validation (more than 10%)")]
    TooManyRejected { rejected: u32, total: usize },
}

impl Refusal {
    /// The short reason errors and metrics carry.
    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::NotJson => "invalid-json",
            Refusal::Envelope(_) => "invalid-envelope",
            Refusal::Empty => "empty",
            Refusal::TotalMismatch { .. } => "total-mismatch",
            Refusal::TooManyRejected { .. } => "too-many-rejected",
        }
    }
}

/// Checks one collection's answer `body` and keeps what the schema serves of each record.
pub fn validate(collection: Collection, body: &[u8]) -> Result<Snapshot, Refusal> {
    let items = envelope(collection, body)?;
    if items.is_empty() {
        return Err(Refusal::Empty);
    }
    let mut rejected: BTreeMap<&'static str, u32> = BTreeMap::new();
    let mut seen = HashSet::new();
    let mut records = Vec::with_capacity(items.len());
    for raw in &items {
        let record = serde_json::from_str::<HashMap<String, Box<RawValue>>>(raw.get())
            .map_err(|_| "not-an-object")
            .and_then(|o| record(collection, &Obj(o)));
        match record {
            Ok(r) if seen.insert(r.id()) => records.push(r),
            Ok(_) => *rejected.entry("duplicate-id").or_default() += 1,
            Err(reason) => *rejected.entry(reason).or_default() += 1,
        }
    }
    let count: u32 = rejected.values().sum();
    if count as usize * 10 > items.len() {
        return Err(Refusal::TooManyRejected {
            rejected: count,
            total: items.len(),
        });
    }
    records.sort_by_key(Record::id);
    let hash = hex(&Sha256::digest(
        serde_json::to_vec(&records).expect("records serialize"),
    ));
    Ok(Snapshot {
        records,
        rejected,
        hash,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The records of the answer: a bare array, or DummyJSON's `{"<name>": [...], "total": n}`.
fn envelope(collection: Collection, body: &[u8]) -> Result<Vec<Box<RawValue>>, Refusal> {
    if collection.source != Source::DummyJson {
        return serde_json::from_slice::<Vec<Box<RawValue>>>(body).map_err(|_| {
            match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
                Ok(_) => Refusal::Envelope("expected an array of records"),
                Err(_) => Refusal::NotJson,
            }
        });
    }
    let object = serde_json::from_slice::<HashMap<String, Box<RawValue>>>(body).map_err(|_| {
        match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
            Ok(_) => Refusal::Envelope("expected an object"),
            Err(_) => Refusal::NotJson,
        }
    })?;
    let items = object
        .get(collection.name())
        .and_then(|raw| serde_json::from_str::<Vec<Box<RawValue>>>(raw.get()).ok())
        .ok_or(Refusal::Envelope("no array under the collection's name"))?;
    let total = object
        .get("total")
        .and_then(|raw| Field::of(raw).as_integer())
        .and_then(|t| u64::try_from(t).ok())
        .ok_or(Refusal::Envelope("no `total`"))?;
    if total != items.len() as u64 {
        return Err(Refusal::TotalMismatch {
            total,
            items: items.len(),
        });
    }
    Ok(items)
}

/// A JSON object whose values keep their source text (prices stay exact).
struct Obj(HashMap<String, Box<RawValue>>);

type Check<T> = Result<T, &'static str>;

impl Obj {
    fn field(&self, name: &str) -> Field {
        self.0
            .get(name)
            .map_or(Field::Missing, |raw| Field::of(raw))
    }

    /// A positive integer id.
    fn id(&self, name: &str) -> Check<u64> {
        self.field(name)
            .as_integer()
            .filter(|n| *n > 0)
            .map(|n| n as u64)
            .ok_or("invalid-id")
    }

    fn text(&self, name: &str) -> Check<String> {
        match self.field(name) {
            Field::Text(t) if !t.trim().is_empty() && t.chars().count() <= MAX_TEXT => Ok(t),
            _ => Err("invalid-string"),
        }
    }

    fn url(&self, name: &str) -> Check<String> {
        let url = self.text(name).map_err(|_| "invalid-url")?;
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .ok_or("invalid-url")?;
        if rest.is_empty() || rest.starts_with('/') || rest.contains(char::is_whitespace) {
            return Err("invalid-url");
        }
        Ok(url)
    }

    fn price(&self, name: &str) -> Check<Decimal> {
        self.field(name)
            .as_decimal()
            .filter(|p| {
                !p.is_sign_negative() && *p < Decimal::from(MAX_PRICE) && p.normalize().scale() <= 2
            })
            .map(|p| p.normalize())
            .ok_or("invalid-price")
    }

    fn quantity(&self, name: &str) -> Check<u32> {
        self.field(name)
            .as_integer()
            .filter(|q| *q >= 1)
            .and_then(|q| u32::try_from(q).ok())
            .ok_or("invalid-quantity")
    }

    fn boolean(&self, name: &str) -> Check<bool> {
        match self.field(name) {
            Field::Bool(b) => Ok(b),
            _ => Err("invalid-boolean"),
        }
    }

    fn object(&self, name: &str) -> Check<Obj> {
        self.0
            .get(name)
            .and_then(|raw| serde_json::from_str(raw.get()).ok())
            .map(Obj)
            .ok_or("invalid-object")
    }

    fn array(&self, name: &str) -> Check<Vec<Obj>> {
        self.0
            .get(name)
            .and_then(|raw| {
                serde_json::from_str::<Vec<HashMap<String, Box<RawValue>>>>(raw.get()).ok()
            })
            .map(|v| v.into_iter().map(Obj).collect())
            .ok_or("invalid-lines")
    }
}

fn record(collection: Collection, o: &Obj) -> Check<Record> {
    let source = collection.source;
    let id = o.id("id")?;
    Ok(match collection.kind {
        Kind::Product => {
            let (image, category) = if source == Source::DummyJson {
                if let Field::Number(_) = o.field("stock") {
                    o.field("stock")
                        .as_integer()
                        .filter(|s| *s >= 0)
                        .ok_or("invalid-stock")?;
                } else if !matches!(o.field("stock"), Field::Missing) {
                    return Err("invalid-stock");
                }
                (o.url("thumbnail")?, o.text("category")?)
            } else {
                (o.url("image")?, o.text("category")?)
            };
            Record::Product(Product {
                source,
                id,
                title: o.text("title")?,
                description: o.text("description")?,
                price: o.price("price")?,
                category: unify(&category),
                image,
            })
        }
        Kind::User => {
            let name = match source {
                Source::FakeStore => {
                    let n = o.object("name").map_err(|_| "invalid-string")?;
                    format!("{} {}", n.text("firstname")?, n.text("lastname")?)
                }
                Source::JsonPlaceholder => o.text("name")?,
                Source::DummyJson => format!("{} {}", o.text("firstName")?, o.text("lastName")?),
            };
            Record::User(User { source, id, name })
        }
        Kind::Cart => {
            let mut lines = Vec::new();
            for line in o.array("products")? {
                lines.push(if source == Source::DummyJson {
                    let price = line.price("price")?;
                    let quantity = line.quantity("quantity")?;
                    let total = line
                        .field("total")
                        .as_decimal()
                        .ok_or("invalid-line-total")?;
                    if crate::cart::line_total(Some(price), quantity) != Some(total) {
                        return Err("invalid-line-total");
                    }
                    CartLine {
                        product_id: line.id("id")?,
                        quantity,
                        price: Some(price),
                    }
                } else {
                    CartLine {
                        product_id: line.id("productId")?,
                        quantity: line.quantity("quantity")?,
                        price: None,
                    }
                });
            }
            Record::Cart(Cart {
                source,
                id,
                user_id: o.id("userId")?,
                lines,
            })
        }
        Kind::Post => Record::Post(Post {
            source,
            id,
            user_id: o.id("userId")?,
            title: o.text("title")?,
            body: o.text("body")?,
        }),
        Kind::Comment => Record::Comment(Comment {
            source,
            id,
            post_id: o.id("postId")?,
            body: o.text("body")?,
        }),
        Kind::Album => Record::Album(Album {
            id,
            user_id: o.id("userId")?,
            title: o.text("title")?,
        }),
        Kind::Photo => Record::Photo(Photo {
            id,
            album_id: o.id("albumId")?,
            url: o.url("url")?,
        }),
        Kind::Todo => Record::Todo(Todo {
            source,
            id,
            user_id: o.id("userId")?,
            title: o.text(if source == Source::DummyJson {
                "todo"
            } else {
                "title"
            })?,
            completed: o.boolean("completed")?,
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::COLLECTIONS;

    fn coll(source: Source, kind: Kind) -> Collection {
        Collection::find(source, kind).unwrap()
    }

    #[test]
    fn prices_stay_exact_and_secrets_have_nowhere_to_go() {
        let body = br#"[{"id":1,"title":"Bag","price":109.95,"description":"d","category":"men's clothing","image":"https://x.test/1.jpg","rating":{"rate":3.9,"count":120}},
                        {"id":2,"title":"Ring","price":0.1,"description":"d","category":"jewelery","image":"https://x.test/2.jpg"}]"#;
        let s = validate(coll(Source::FakeStore, Kind::Product), body).unwrap();
        let Record::Product(p) = &s.records[0] else {
            panic!()
        };
        assert_eq!(p.price.to_string(), "109.95");
        assert_eq!(p.category, "mens-clothing");
        let users = br#"[{"id":1,"email":"a@b","username":"u","password":"SECRETPW1","name":{"firstname":"john","lastname":"doe"},"address":{"geolocation":{"lat":"-37.424242","long":"81.424242"}}}]"#;
        let s = validate(coll(Source::FakeStore, Kind::User), users).unwrap();
        let kept = serde_json::to_string(&s.records).unwrap();
        assert_eq!(
            kept,
            r#"[{"k":"User","source":"FakeStore","id":1,"name":"john doe"}]"#
        );
    }

    #[test]
    fn bad_records_are_dropped_and_counted_by_reason() {
        let mut items: Vec<String> = (1..=20)
            .map(|i| format!(r#"{{"userId":1,"id":{i},"title":"t{i}","completed":false}}"#))
            .collect();
        items[3] = r#"{"userId":1,"id":4,"title":"","completed":false}"#.into();
        items[4] = r#"{"userId":1,"id":4,"title":"again","completed":false}"#.into();
        let body = format!("[{}]", items.join(","));
        let s = validate(coll(Source::JsonPlaceholder, Kind::Todo), body.as_bytes()).unwrap();
        assert_eq!(s.records.len(), 19);
        assert_eq!(s.rejected.get("invalid-string"), Some(&1));
        assert_eq!(s.rejected_count(), 1);
        // The empty title was dropped first, so the second id 4 is the one kept.
        assert_eq!(s.records[3].id(), 4);
    }

    #[test]
    fn every_rule_drops_its_record() {
        let c = coll(Source::DummyJson, Kind::Product);
        let good = r#"{"id":ID,"title":"t","description":"d","category":"beauty","price":9.99,"stock":5,"thumbnail":"https://x.test/t.png"}"#;
        for (bad, reason) in [
            (good.replace("9.99", "-5"), "invalid-price"),
            (good.replace("9.99", "1.005"), "invalid-price"),
            (good.replace("9.99", "1000000000"), "invalid-price"),
            (good.replace("\"stock\":5", "\"stock\":-1"), "invalid-stock"),
            (
                good.replace("https://x.test/t.png", "ftp://x.test/t.png"),
                "invalid-url",
            ),
            (good.replace("\"t\"", "\"\""), "invalid-string"),
            (good.replace("ID", "0"), "invalid-id"),
        ] {
            let mut items: Vec<String> = (1..=10)
                .map(|i| good.replace("ID", &i.to_string()))
                .collect();
            items.push(bad.replace("ID", "11"));
            let body = format!(
                r#"{{"products":[{}],"total":11,"skip":0,"limit":11}}"#,
                items.join(",")
            );
            let s = validate(c, body.as_bytes()).unwrap();
            assert_eq!(s.records.len(), 10, "{bad}");
            assert_eq!(s.rejected.get(reason), Some(&1), "{bad}");
        }
    }

    #[test]
    fn a_wrong_answer_is_refused_whole() {
        let c = coll(Source::DummyJson, Kind::Todo);
        let todo = |i: u32| format!(r#"{{"id":{i},"todo":"t","completed":true,"userId":1}}"#);
        let ok = format!(
            r#"{{"todos":[{},{}],"total":2,"skip":0,"limit":2}}"#,
            todo(1),
            todo(2)
        );
        assert_eq!(validate(c, ok.as_bytes()).unwrap().records.len(), 2);
        let short = format!(r#"{{"todos":[{}],"total":2,"skip":0,"limit":1}}"#, todo(1));
        assert_eq!(
            validate(c, short.as_bytes()),
            Err(Refusal::TotalMismatch { total: 2, items: 1 })
        );
        assert_eq!(
            validate(c, b"{\"todos\":[],\"total\":0}"),
            Err(Refusal::Empty)
        );
        assert_eq!(
            validate(c, b"[1,2]").unwrap_err().reason(),
            "invalid-envelope"
        );
        assert_eq!(
            validate(c, b"{\"items\":[]}").unwrap_err().reason(),
            "invalid-envelope"
        );
        assert_eq!(validate(c, b"<html>").unwrap_err(), Refusal::NotJson);
        let bad = format!(r#"{{"todos":[{},{{"id":2}}],"total":2}}"#, todo(1));
        assert!(matches!(
            validate(c, bad.as_bytes()),
            Err(Refusal::TooManyRejected { .. })
        ));
        assert_eq!(
            validate(coll(Source::FakeStore, Kind::Cart), b"{\"carts\":[]}")
                .unwrap_err()
                .reason(),
            "invalid-envelope"
        );
    }

    #[test]
    fn a_dummyjson_line_total_must_be_its_price_times_quantity() {
        let c = coll(Source::DummyJson, Kind::Cart);
        let cart = |total: &str| {
            format!(
                r#"{{"carts":[{{"id":1,"userId":1,"products":[{{"id":5,"price":0.1,"quantity":3,"total":{total}}}]}}],"total":1}}"#
            )
        };
        let s = validate(c, cart("0.3").as_bytes()).unwrap();
        let Record::Cart(cart0) = &s.records[0] else {
            panic!()
        };
        assert_eq!(cart0.lines[0].price.unwrap().to_string(), "0.1");
        assert!(matches!(
            validate(c, cart("0.30000000000000004").as_bytes()),
            Err(Refusal::TooManyRejected { .. })
        ));
    }

    #[test]
    fn the_hash_ignores_formatting_and_dropped_fields() {
        let c = COLLECTIONS[3];
        let a = validate(
            c,
            br#"[{"id":1,"name":"Ann","address":{"geo":{"lat":"1"}}}]"#,
        )
        .unwrap();
        let b = validate(
            c,
            br#"[ {"name":"Ann", "id":1, "address":{"geo":{"lat":"2"}}} ]"#,
        )
        .unwrap();
        assert_eq!(a.hash, b.hash);
        let d = validate(c, br#"[{"id":1,"name":"Anne"}]"#).unwrap();
        assert_ne!(a.hash, d.hash);
    }
}
