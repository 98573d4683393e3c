//! The brokerage's I/O: its DynamoDB items and access patterns ([`items`], [`store`]), its
//! cached account views ([`cache`]), and what its functions share ([`Brokerage`]): the
//! platform's [`shared::App`] with the store and the market hours, built once per cold start.

pub mod cache;
pub mod items;
pub mod store;

use brokerage_domain::AccountId;
use lambda_http::http::StatusCode;
use lambda_http::Request;
use shared::http::{ApiError, Problem};
use shared::{App, BoxError, MarketHours, Service, State};

pub use cache::AccountCache;
pub use items::Books;
pub use store::{Held, Keep, OrderOutcome, OrdersPage, Placed, Store, StoreError};

pub struct Brokerage {
    pub app: App,
    pub store: Store,
    pub accounts: AccountCache,
    /// When orders may be placed (`MARKET_*`).
    pub market: MarketHours,
}

impl State for Brokerage {
    const SERVICE: Service = Service {
        table_env: "BROKERAGE_TABLE",
        table: "brokerage",
        metrics_namespace: "Brokerage",
    };

    fn new(app: App) -> Result<Self, BoxError> {
        let market = MarketHours::from_lookup(|k| std::env::var(k).ok())?;
        Ok(Brokerage::with_market(app, market))
    }
}

impl Brokerage {
    pub fn with_market(app: App, market: MarketHours) -> Brokerage {
        Brokerage {
            store: Store::new(app.dynamodb.clone(), app.config.table_name.clone()),
            accounts: AccountCache::new(app.cache.clone()),
            market,
            app,
        }
    }
}

impl std::ops::Deref for Brokerage {
    type Target = App;
    fn deref(&self) -> &App {
        &self.app
    }
}

/// 404 for an account that does not exist or is another tenant's.
pub fn account_not_found() -> ApiError {
    ApiError::Service(Problem {
        status: StatusCode::NOT_FOUND,
        kind: "/problems/account-not-found",
        title: "Account not found",
        detail: "no such account",
        retry_after: None,
    })
}

fn contention() -> ApiError {
    ApiError::Service(Problem {
        status: StatusCode::SERVICE_UNAVAILABLE,
        kind: "/problems/contention",
        title: "Account busy",
        detail: "too many concurrent orders on this account; retry shortly",
        retry_after: Some(1),
    })
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(e) => e.into(),
            StoreError::Contention => {
                tracing::warn!("order gave up after repeated conflicts");
                contention()
            }
            StoreError::Malformed(m) => m.into(),
        }
    }
}

/// The `{id}` of `/accounts/{id}...`. Anything that is not a canonical positive integer
/// names no account.
pub fn account_id(req: &Request) -> Result<AccountId, ApiError> {
    shared::http::path_param(req, "id", "accounts")
        .and_then(|raw| AccountId::parse(&raw))
        .ok_or_else(account_not_found)
}
