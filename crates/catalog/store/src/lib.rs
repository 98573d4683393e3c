//! The catalog service's I/O: the upstream client ([`upstream`]), the snapshots and their
//! refresh ([`snapshot`]), batched reads ([`items`]), and what its functions share
//! ([`Catalog`]), built once per cold start.

pub mod items;
pub mod snapshot;
pub mod upstream;

use catalog_domain::Source;
use shared::{App, BoxError, Service, State};
use std::collections::HashMap;
use std::time::Duration;

pub use snapshot::{Meta, Served, Snapshots};
pub use upstream::{UpstreamError, Upstreams};

/// How old a snapshot may be, per source: served as is, served while refreshed in the
/// background, served only when the upstream fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Windows {
    pub fresh: Duration,
    pub swr: Duration,
    pub max_stale: Duration,
}

impl Windows {
    /// `FRESH_SECONDS` (600), `SWR_SECONDS` (86,400), `MAX_STALE_SECONDS` (604,800), each
    /// overridable per source (`FRESH_SECONDS_DUMMYJSON`).
    pub fn from_lookup(
        source: Source,
        get: &impl Fn(&str) -> Option<String>,
    ) -> Result<Windows, BoxError> {
        let secs = |name: &str, default: u64| -> Result<Duration, BoxError> {
            let specific = format!("{name}_{}", source.env());
            match get(&specific)
                .or_else(|| get(name))
                .filter(|v| !v.is_empty())
            {
                Some(v) => Ok(Duration::from_secs(v.parse().map_err(|_| {
                    format!("{specific} or {name} must be whole seconds, got {v:?}")
                })?)),
                None => Ok(Duration::from_secs(default)),
            }
        };
        Ok(Windows {
            fresh: secs("FRESH_SECONDS", 600)?,
            swr: secs("SWR_SECONDS", 86_400)?,
            max_stale: secs("MAX_STALE_SECONDS", 604_800)?,
        })
    }
}

pub struct Catalog {
    pub app: App,
    pub snapshots: Snapshots,
}

impl State for Catalog {
    const SERVICE: Service = Service {
        table_env: "CATALOG_TABLE",
        table: "catalog",
        metrics_namespace: "Catalog",
    };

    fn new(app: App) -> Result<Self, BoxError> {
        let get = |k: &str| std::env::var(k).ok();
        let upstreams = Upstreams::from_lookup(&get, app.cache.connection())?;
        let refresher = snapshot::Refresher::from_env();
        Catalog::with(app, upstreams, refresher, &get)
    }
}

impl Catalog {
    pub fn with(
        app: App,
        upstreams: Upstreams,
        refresher: snapshot::Refresher,
        get: &impl Fn(&str) -> Option<String>,
    ) -> Result<Catalog, BoxError> {
        let mut windows = HashMap::new();
        for s in catalog_domain::source::SOURCES {
            windows.insert(s, Windows::from_lookup(s, get)?);
        }
        let snapshots = Snapshots::new(&app, upstreams, refresher, windows);
        Ok(Catalog { app, snapshots })
    }
}
