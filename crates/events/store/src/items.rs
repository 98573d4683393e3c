//! The events service's two tables. Every key is built here; every item is a typed struct
//! through `serde_dynamo` (sums and values as exact Numbers, through `shared::dynamo::number`).
//!
//! - The events table (its stream feeds the aggregator): one item per event, and the
//!   idempotency records of `POST /event`.
//! - The aggregates table: one item per cell (a combination of values of one subset of the
//!   dimensions), and one head per tenant naming the generation reports read.

use events_domain::aggregate::Cell;
use events_domain::event::{format_timestamp, parse_timestamp};
use events_domain::{DeviceType, Dims, Event, EventId};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use shared::dynamo::{self, Item, Malformed};
use shared::tenant::Owner;
use std::collections::BTreeMap;

pub const EVENT_SK: &str = "EVENT";
const HEAD_SK: &str = "HEAD";

/// The owner's length first, so that no owner and id pair can spell another's.
fn tenant(owner: &Owner) -> String {
    format!("{}#{}", owner.0.len(), owner.0)
}

pub fn event_key(owner: &Owner, id: &EventId) -> Item {
    dynamo::key(format!("EVENT#{}#{}", tenant(owner), id.as_str()), EVENT_SK)
}

/// The partition of one subset's cells: a report reads one partition (a date range of it).
pub fn cell_pk(owner: &Owner, dims: Dims) -> String {
    format!("CELL#{}#{}", tenant(owner), dims.code())
}

pub fn cell_key(owner: &Owner, cell: &Cell) -> Item {
    dynamo::key(cell_pk(owner, cell.dims), cell.key())
}

pub fn head_key(owner: &Owner) -> Item {
    dynamo::key(format!("HEAD#{}", tenant(owner)), HEAD_SK)
}

/// An event as stored; `created_us` tells one incarnation of an id from a later one (the
/// cache's version).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EventItem {
    pk: String,
    sk: String,
    pub tenant: String,
    id: String,
    device_type: Option<String>,
    category: Option<i32>,
    client: i32,
    client_group: i32,
    timestamp: String,
    valid: bool,
    #[serde(with = "shared::dynamo::number")]
    value: Decimal,
    pub created_us: u64,
}

impl EventItem {
    pub fn new(owner: &Owner, event: &Event, created_us: u64) -> EventItem {
        let key = event_key(owner, &event.id);
        let text = |k: &str| key[k].as_s().expect("keys are strings").clone();
        EventItem {
            pk: text(dynamo::PK),
            sk: text(dynamo::SK),
            tenant: owner.0.clone(),
            id: event.id.as_str().to_owned(),
            device_type: event.device_type.map(|d| d.as_str().to_owned()),
            category: event.category,
            client: event.client,
            client_group: event.client_group,
            timestamp: format_timestamp(&event.timestamp),
            valid: event.valid,
            value: event.value,
            created_us,
        }
    }

    pub fn to_item(&self) -> Result<Item, Malformed> {
        dynamo::to_item(self)
    }

    pub fn from_item(item: &Item) -> Result<EventItem, Malformed> {
        dynamo::from_item(item)
    }

    pub fn event(&self) -> Result<Event, Malformed> {
        let bad = |what: &str| Malformed(format!("event {}: bad {what}", self.pk));
        Ok(Event {
            id: EventId::parse(&self.id).ok_or_else(|| bad("id"))?,
            device_type: match &self.device_type {
                None => None,
                Some(d) => Some(DeviceType::parse(d).ok_or_else(|| bad("device_type"))?),
            },
            category: self.category,
            client: self.client,
            client_group: self.client_group,
            timestamp: parse_timestamp(&self.timestamp).ok_or_else(|| bad("timestamp"))?,
            valid: self.valid,
            value: self.value,
        })
    }
}

/// One cell's counters at its generation `g`, and at the generation before (`pg`), so that
/// a report reading generation G takes the value at or before G. `m` is the stream sequence
/// number of the newest change applied at `g`: a retried batch of that generation skips
/// the changes at or before it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CellItem {
    pub pk: String,
    pub sk: String,
    pub c: i64,
    #[serde(with = "shared::dynamo::number")]
    pub s: Decimal,
    pub g: u64,
    pub pc: i64,
    #[serde(with = "shared::dynamo::number")]
    pub ps: Decimal,
    pub pg: u64,
    pub m: String,
}

impl CellItem {
    /// The counters as of generation `at`, if this item still holds them.
    pub fn at(&self, at: u64) -> Option<(i64, Decimal)> {
        if self.g <= at {
            Some((self.c, self.s))
        } else if self.pg <= at {
            Some((self.pc, self.ps))
        } else {
            None
        }
    }
}

/// A generation being applied: held by one stream shard until every change up to `high`
/// is in its cells.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub g: u64,
    pub shard: String,
    pub high: String,
}

/// How far a shard's changes to this tenant are applied, and when (old shards are dropped).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub seq: String,
    pub at: i64,
}

/// A tenant's aggregates: the generation reports read (`g`), up to when it counts every
/// write (`as_of`, Unix seconds), the generation being applied, and each shard's checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HeadItem {
    pub pk: String,
    pub sk: String,
    pub g: u64,
    pub as_of: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<Pending>,
    #[serde(default)]
    pub cp: BTreeMap<String, Checkpoint>,
}

impl HeadItem {
    pub fn empty(owner: &Owner) -> HeadItem {
        let key = head_key(owner);
        let text = |k: &str| key[k].as_s().expect("keys are strings").clone();
        HeadItem {
            pk: text(dynamo::PK),
            sk: text(dynamo::SK),
            g: 0,
            as_of: 0,
            pending: None,
            cp: BTreeMap::new(),
        }
    }
}

/// Stream sequence numbers are decimal strings of up to 40 digits: compared as numbers.
pub fn seq_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}
