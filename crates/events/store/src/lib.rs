//! The events service's I/O: its items and access patterns ([`items`], [`store`]), the
//! aggregator that keeps reports' cells from the stream ([`aggregate`]), its cache
//! ([`cache`]), and what its functions share ([`Events`]), built once per cold start.

pub mod aggregate;
pub mod cache;
pub mod items;
pub mod store;

use chrono_tz::Tz;
use events_domain::{EventError, EventId, ParamError};
use lambda_http::http::StatusCode;
use lambda_http::Request;
use shared::http::{ApiError, Problem};
use shared::{App, BoxError, Service, State};

pub use aggregate::{Aggregator, Applied, StreamChange};
pub use cache::EventsCache;
pub use store::{Store, StoreError};

pub struct Events {
    pub app: App,
    pub store: Store,
    pub cache: EventsCache,
    pub aggregator: Aggregator,
    /// The calendar of the `date` group (`REPORT_TIMEZONE`, default UTC).
    pub tz: Tz,
}

/// The aggregates table: `EVENTS_AGGREGATES_TABLE`, else the events table's name with
/// `-aggregates`.
pub fn aggregates_table(events_table: &str, get: impl Fn(&str) -> Option<String>) -> String {
    get("EVENTS_AGGREGATES_TABLE")
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| format!("{events_table}-aggregates"))
}

/// `REPORT_TIMEZONE`: an IANA name from the bundled tz database.
pub fn report_timezone(get: impl Fn(&str) -> Option<String>) -> Result<Tz, BoxError> {
    let name = get("REPORT_TIMEZONE")
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "UTC".into());
    name.parse::<Tz>()
        .map_err(|_| format!("REPORT_TIMEZONE {name:?} is not an IANA time zone").into())
}

impl State for Events {
    const SERVICE: Service = Service {
        table_env: "EVENTS_TABLE",
        table: "events",
        metrics_namespace: "Events",
    };

    fn new(app: App) -> Result<Self, BoxError> {
        let get = |k: &str| std::env::var(k).ok();
        let aggregates = aggregates_table(&app.config.table_name, get);
        Ok(Events::with(app, aggregates, report_timezone(get)?))
    }
}

impl Events {
    pub fn with(app: App, aggregates: String, tz: Tz) -> Events {
        let store = Store::new(
            app.dynamodb.clone(),
            app.config.table_name.clone(),
            aggregates,
        );
        Events {
            aggregator: Aggregator::new(store.clone(), tz),
            cache: EventsCache::new(app.cache.clone()),
            store,
            tz,
            app,
        }
    }
}

impl std::ops::Deref for Events {
    type Target = App;
    fn deref(&self) -> &App {
        &self.app
    }
}

pub fn event_not_found() -> ApiError {
    ApiError::Service(Problem {
        status: StatusCode::NOT_FOUND,
        kind: "/problems/event-not-found",
        title: "Event not found",
        detail: "no such event",
        retry_after: None,
    })
}

pub fn event_exists() -> ApiError {
    ApiError::Service(Problem {
        status: StatusCode::CONFLICT,
        kind: "/problems/event-exists",
        title: "Event exists",
        detail: "an event with this id exists; it is unchanged",
        retry_after: None,
    })
}

pub fn report_too_large() -> ApiError {
    ApiError::Service(Problem {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        kind: "/problems/report-too-large",
        title: "Report too large",
        detail:
            "the report spans more than 100000 combinations; group by fewer columns or filter more",
        retry_after: None,
    })
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(e) => e.into(),
            StoreError::Malformed(m) => m.into(),
            StoreError::TooLarge => report_too_large(),
            StoreError::Busy => {
                tracing::warn!("aggregates moved during every read");
                ApiError::Unavailable
            }
        }
    }
}

pub fn invalid_event(e: EventError) -> ApiError {
    ApiError::InvalidField {
        field: e.field.into(),
        reason: e.reason.into(),
    }
}

pub fn invalid_parameter(e: ParamError) -> ApiError {
    ApiError::InvalidQuery {
        param: e.parameter.into(),
        reason: e.reason,
    }
}

/// The `{event_id}` of `/event/{event_id}`, in any case: 400 if it is not a UUID.
pub fn event_id(req: &Request) -> Result<EventId, ApiError> {
    let raw = shared::http::path_param(req, "event_id", "event").unwrap_or_default();
    EventId::parse(&raw).ok_or(ApiError::InvalidField {
        field: "event_id".into(),
        reason: "must be a UUID".into(),
    })
}

/// A random (version 4) UUID for an event created without an id.
pub fn new_event_id() -> EventId {
    let bits =
        (fastrand::u128(..) & !(0xf000 << 64) | (0x4000 << 64)) & !(0xc000 << 48) | (0x8000 << 48);
    let hex = format!("{bits:032x}");
    let text = format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    );
    EventId::parse(&text).expect("a formatted UUID")
}

/// Microseconds since the epoch: tells incarnations of one id apart (the cache's version).
pub fn now_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// An event's JSON answer.
pub fn event_json(event: &events_domain::Event) -> String {
    serde_json::to_string(event).expect("an event serializes")
}
