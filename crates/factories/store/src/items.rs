//! The factories table. Every key is built here; every item is a typed struct through
//! `serde_dynamo` (sizes as exact Numbers, through `shared::dynamo::number`).
//!
//! - `SEQ`: one counter per kind; ids are unique across tenants.
//! - `SPROCKETS#<tenant>`: a tenant's sprockets, sorted by id (a list page is one Query).
//! - `FACTORIES#<tenant>`: a tenant's factory summaries, likewise; a summary carries the
//!   factory's version and, while a chart write is being applied, that write's nonce.
//! - `CHART#<id>`: a factory's points, one item per time, sorted by time, each with the
//!   version that wrote it; and the write intent being applied, if any.
//! - `IMPORTS#<tenant>`: import keys, each naming the id it created.

use factories_domain::{Point, SprocketSpec};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use shared::dynamo::{self, Item, Malformed};
use shared::tenant::Owner;

pub const INTENT_SK: &str = "INTENT";

/// The owner's length first, so that no owner and id pair can spell another's.
fn tenant(owner: &Owner) -> String {
    format!("{}#{}", owner.0.len(), owner.0)
}

/// Zero-padded, so that the sort key's order is the id's.
fn id_sk(id: u64) -> String {
    format!("{id:020}")
}

pub fn counter_key(kind: &str) -> Item {
    dynamo::key("SEQ", kind)
}

pub fn sprockets_pk(owner: &Owner) -> String {
    format!("SPROCKETS#{}", tenant(owner))
}

pub fn sprocket_key(owner: &Owner, id: u64) -> Item {
    dynamo::key(sprockets_pk(owner), id_sk(id))
}

pub fn factories_pk(owner: &Owner) -> String {
    format!("FACTORIES#{}", tenant(owner))
}

pub fn factory_key(owner: &Owner, id: u64) -> Item {
    dynamo::key(factories_pk(owner), id_sk(id))
}

pub fn chart_pk(id: u64) -> String {
    format!("CHART#{id}")
}

/// Twelve digits hold every time up to 9999-12-31.
pub fn point_sk(time: i64) -> String {
    format!("P{time:012}")
}

pub fn point_key(factory: u64, time: i64) -> Item {
    dynamo::key(chart_pk(factory), point_sk(time))
}

pub fn intent_key(factory: u64) -> Item {
    dynamo::key(chart_pk(factory), INTENT_SK)
}

pub fn imports_pk(owner: &Owner) -> String {
    format!("IMPORTS#{}", tenant(owner))
}

pub fn import_sk(kind: &str, key: &str) -> String {
    format!("{kind}#{key}")
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SprocketItem {
    pk: String,
    sk: String,
    pub id: u64,
    pub teeth: u32,
    #[serde(with = "shared::dynamo::number")]
    pub pitch_diameter: Decimal,
    #[serde(with = "shared::dynamo::number")]
    pub outside_diameter: Decimal,
    #[serde(with = "shared::dynamo::number")]
    pub pitch: Decimal,
    pub version: u64,
}

impl SprocketItem {
    pub fn new(owner: &Owner, id: u64, spec: &SprocketSpec, version: u64) -> SprocketItem {
        SprocketItem {
            pk: sprockets_pk(owner),
            sk: id_sk(id),
            id,
            teeth: spec.teeth,
            pitch_diameter: spec.pitch_diameter,
            outside_diameter: spec.outside_diameter,
            pitch: spec.pitch,
            version,
        }
    }

    pub fn spec(&self) -> SprocketSpec {
        SprocketSpec {
            teeth: self.teeth,
            pitch_diameter: self.pitch_diameter.normalize(),
            outside_diameter: self.outside_diameter.normalize(),
            pitch: self.pitch.normalize(),
        }
    }

    pub fn sprocket(&self) -> factories_domain::Sprocket {
        factories_domain::Sprocket {
            id: self.id,
            spec: self.spec(),
            version: self.version,
        }
    }

    pub fn to_item(&self) -> Result<Item, Malformed> {
        dynamo::to_item(self)
    }

    pub fn from_item(item: &Item) -> Result<SprocketItem, Malformed> {
        dynamo::from_item(item)
    }
}

/// A factory's summary; `pending` names the chart write being applied (its intent's nonce).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FactoryItem {
    pk: String,
    sk: String,
    pub id: u64,
    pub version: u64,
    pub point_count: u64,
    pub first_time: Option<i64>,
    pub last_time: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<String>,
    /// Until when the writer that committed `pending` alone applies it (Unix seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_until: Option<i64>,
}

/// A factory as it is answered.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Summary {
    pub id: u64,
    pub version: u64,
    pub point_count: u64,
    pub first_time: Option<i64>,
    pub last_time: Option<i64>,
}

impl FactoryItem {
    pub fn new(owner: &Owner, id: u64) -> FactoryItem {
        FactoryItem {
            pk: factories_pk(owner),
            sk: id_sk(id),
            id,
            version: 1,
            point_count: 0,
            first_time: None,
            last_time: None,
            pending: None,
            lease_until: None,
        }
    }

    /// A summary from the cache, which holds only settled versions.
    pub fn from_summary(owner: &Owner, s: &Summary) -> FactoryItem {
        FactoryItem {
            version: s.version,
            point_count: s.point_count,
            first_time: s.first_time,
            last_time: s.last_time,
            ..FactoryItem::new(owner, s.id)
        }
    }

    pub fn summary(&self) -> Summary {
        Summary {
            id: self.id,
            version: self.version,
            point_count: self.point_count,
            first_time: self.first_time,
            last_time: self.last_time,
        }
    }

    pub fn to_item(&self) -> Result<Item, Malformed> {
        dynamo::to_item(self)
    }

    pub fn from_item(item: &Item) -> Result<FactoryItem, Malformed> {
        dynamo::from_item(item)
    }
}

/// One point of a chart, with the factory version that wrote it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PointItem {
    pk: String,
    sk: String,
    pub a: u32,
    pub g: u32,
    pub v: u64,
}

impl PointItem {
    pub fn new(factory: u64, p: &Point, version: u64) -> PointItem {
        PointItem {
            pk: chart_pk(factory),
            sk: point_sk(p.time),
            a: p.actual,
            g: p.goal,
            v: version,
        }
    }

    pub fn point(&self) -> Result<Point, Malformed> {
        let time = self
            .sk
            .strip_prefix('P')
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| Malformed(format!("point key {:?}", self.sk)))?;
        Ok(Point {
            time,
            actual: self.a,
            goal: self.g,
        })
    }

    pub fn to_item(&self) -> Result<Item, Malformed> {
        dynamo::to_item(self)
    }

    pub fn from_item(item: &Item) -> Result<PointItem, Malformed> {
        dynamo::from_item(item)
    }
}

/// A committed chart write still being applied: every point it writes, so that a reader
/// sees the write whole and anyone can finish applying it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IntentItem {
    pk: String,
    sk: String,
    pub nonce: String,
    /// The version the write commits.
    pub version: u64,
    /// 16 bytes per point: time (i64), actual, goal (u32), big-endian; 10,000 points fit
    /// an item.
    #[serde(with = "serde_bytes")]
    points: Vec<u8>,
}

impl IntentItem {
    pub fn new(factory: u64, nonce: &str, version: u64, points: &[Point]) -> IntentItem {
        let mut bytes = Vec::with_capacity(points.len() * 16);
        for p in points {
            bytes.extend_from_slice(&p.time.to_be_bytes());
            bytes.extend_from_slice(&p.actual.to_be_bytes());
            bytes.extend_from_slice(&p.goal.to_be_bytes());
        }
        IntentItem {
            pk: chart_pk(factory),
            sk: INTENT_SK.into(),
            nonce: nonce.into(),
            version,
            points: bytes,
        }
    }

    pub fn points(&self) -> Result<Vec<Point>, Malformed> {
        if !self.points.len().is_multiple_of(16) {
            return Err(Malformed("intent points".into()));
        }
        Ok(self
            .points
            .chunks_exact(16)
            .map(|c| Point {
                time: i64::from_be_bytes(c[0..8].try_into().expect("8 bytes")),
                actual: u32::from_be_bytes(c[8..12].try_into().expect("4 bytes")),
                goal: u32::from_be_bytes(c[12..16].try_into().expect("4 bytes")),
            })
            .collect())
    }

    pub fn to_item(&self) -> Result<Item, Malformed> {
        dynamo::to_item(self)
    }

    pub fn from_item(item: &Item) -> Result<IntentItem, Malformed> {
        dynamo::from_item(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intents_keep_their_points_exactly() {
        let points = vec![
            Point {
                time: 0,
                actual: 0,
                goal: 1_000_000_000,
            },
            Point {
                time: 253_402_300_799,
                actual: 7,
                goal: 8,
            },
        ];
        let intent = IntentItem::new(3, "n", 2, &points);
        let back = IntentItem::from_item(&intent.to_item().unwrap()).unwrap();
        assert_eq!(back.points().unwrap(), points);
    }
}
