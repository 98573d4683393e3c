//! Every DynamoDB access pattern as a named function. Rules that depend on state are
//! enforced by the conditions of one `TransactWriteItems`, never by read-then-write alone.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, CancellationReason, ConditionCheck, Get,
    KeySchemaElement, KeyType, Put, ReturnValue, ReturnValuesOnConditionCheckFailure,
    ScalarAttributeType, TransactGetItem, TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;
use domain::{
    evaluate, Account, AccountId, BusinessError, Cash, Decision, DedupKey, LedgerEntry,
    MarketHours, Operation, Order, Owner,
};
use std::time::Duration;

use crate::items::{self, n, Item, Malformed, PK, SK};

/// Attempts at committing one order before answering 503: each failed attempt means
/// another order on the same account committed first. Optimistic commits on one account
/// fail about half the time with three writers, so the budget covers a long losing streak.
pub const MAX_COMMIT_ATTEMPTS: u32 = 32;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// DynamoDB could not be reached or refused the call (after the SDK's own retries).
    #[error("DynamoDB unavailable: {0}")]
    Unavailable(String),
    /// Too many concurrent orders on one account; the client may retry.
    #[error("too much contention on the account")]
    Contention,
    #[error(transparent)]
    Malformed(#[from] Malformed),
}

fn unavailable<E: std::error::Error + 'static, R: std::fmt::Debug>(
    e: SdkError<E, R>,
) -> StoreError {
    StoreError::Unavailable(aws_smithy_types::error::display::DisplayErrorContext(e).to_string())
}

/// The answer to an order: the account as this order left it, and why it was refused if it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderOutcome {
    pub account: Account,
    pub business_errors: Vec<BusinessError>,
}

impl OrderOutcome {
    pub fn accepted(&self) -> bool {
        self.business_errors.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrdersPage {
    pub orders: Vec<LedgerEntry>,
    /// The sequence number to continue below, if more orders exist.
    pub next: Option<u64>,
}

/// What an order is judged against: the account and the duplicate guards of the window
/// buckets around its timestamp (previous, own, next).
struct Snapshot {
    account: Option<Account>,
    guards: [Option<i64>; 3],
}

#[derive(Clone)]
pub struct Store {
    client: Client,
    table: String,
}

impl Store {
    pub fn new(client: Client, table: impl Into<String>) -> Store {
        Store {
            client,
            table: table.into(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Creates the table if it does not exist (local development and tests; SAM owns it in AWS).
    pub async fn create_table(&self) -> Result<(), StoreError> {
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("name and type are set")
        };
        let key = |name: &str, kind| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .expect("set")
        };
        let result = self
            .client
            .create_table()
            .table_name(&self.table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr(PK))
            .attribute_definitions(attr(SK))
            .key_schema(key(PK, KeyType::Hash))
            .key_schema(key(SK, KeyType::Range))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_in_use_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(unavailable(e)),
        }
    }

    /// Opens an account: an atomic counter hands out the id, and the account is written only
    /// if no item has that key, so no account is ever overwritten.
    pub async fn open_account(
        &self,
        owner: &Owner,
        cash: Cash,
        now: i64,
    ) -> Result<Account, StoreError> {
        let counter = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(items::counter_key()))
            .update_expression("ADD #v :one")
            .expression_attribute_names("#v", "value")
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(unavailable)?;
        let id = counter
            .attributes()
            .and_then(|a| a.get("value"))
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .map(AccountId)
            .ok_or_else(|| Malformed("account id counter".into()))?;
        let account = Account::open(id, owner.clone(), cash);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(items::account_item(&account, now)))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await
            .map_err(unavailable)?;
        Ok(account)
    }

    /// The account as it stands (strongly consistent read), if `owner` owns it.
    pub async fn load_account(
        &self,
        owner: &Owner,
        id: AccountId,
    ) -> Result<Option<Account>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(items::account_key(id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let account = out.item().map(items::decode_account).transpose()?;
        Ok(account.filter(|a| &a.owner == owner))
    }

    /// Judges and, if accepted, applies one order. One read and one conditional transaction
    /// when uncontended; a rejected order costs the read only. `None`: no such account of
    /// `owner`. `request` names the request (its idempotency key) for the transaction's
    /// client request token, so a transaction the SDK resends is applied once.
    pub async fn place_order(
        &self,
        owner: &Owner,
        id: AccountId,
        order: &Order,
        market: &MarketHours,
        now: i64,
        request: Option<&str>,
    ) -> Result<Option<OrderOutcome>, StoreError> {
        let key = order.dedup_key();
        let request = match request {
            Some(r) => format!("{owner}/{r}"),
            None => format!("{:032x}", fastrand::u128(..)),
        };
        let mut snap = self.order_snapshot(id, &key, order.timestamp).await?;
        for attempt in 0..MAX_COMMIT_ATTEMPTS {
            let Some(account) = snap.account.take().filter(|a| &a.owner == owner) else {
                return Ok(None);
            };
            let nearby: Vec<i64> = snap.guards.iter().flatten().copied().collect();
            let next = match evaluate(order, &account, &nearby, market) {
                Decision::Accept(next) => next,
                Decision::Reject(business_errors) => {
                    return Ok(Some(OrderOutcome {
                        account,
                        business_errors,
                    }));
                }
            };
            // Each attempt is a different transaction (judged against other state): its own token.
            let token = client_token(&request, attempt);
            match self.commit(&account, &next, order, &key, now, &token).await {
                Ok(()) => {
                    return Ok(Some(OrderOutcome {
                        account: next,
                        business_errors: vec![],
                    }))
                }
                Err(Conflict::Seen(fresh)) => {
                    // The failed conditions returned the items as they now stand: judge again
                    // without another read, at once: a loser that also waited would keep losing.
                    snap = Snapshot {
                        account: fresh.account.or(Some(account)),
                        guards: merge(snap.guards, fresh.guards),
                    };
                }
                Err(Conflict::Unseen) if attempt + 1 == MAX_COMMIT_ATTEMPTS => break,
                Err(Conflict::Unseen) => {
                    backoff(attempt).await;
                    snap = self.order_snapshot(id, &key, order.timestamp).await?;
                }
                Err(Conflict::Failed(e)) => return Err(e),
            }
        }
        Err(StoreError::Contention)
    }

    /// The account and its three duplicate guards in one serializable read.
    async fn order_snapshot(
        &self,
        id: AccountId,
        key: &DedupKey,
        ts: i64,
    ) -> Result<Snapshot, StoreError> {
        let get = |k: Item| {
            TransactGetItem::builder()
                .get(
                    Get::builder()
                        .table_name(&self.table)
                        .set_key(Some(k))
                        .build()
                        .expect("key and table"),
                )
                .build()
        };
        let b = DedupKey::bucket(ts);
        let out = self
            .client
            .transact_get_items()
            .transact_items(get(items::account_key(id)))
            .transact_items(get(items::guard_key(id, key, b - 1)))
            .transact_items(get(items::guard_key(id, key, b)))
            .transact_items(get(items::guard_key(id, key, b + 1)))
            .send()
            .await
            .map_err(unavailable)?;
        let responses = out.responses();
        let item = |i: usize| responses.get(i).and_then(|r| r.item());
        let account = item(0).map(items::decode_account).transpose()?;
        let mut guards = [None; 3];
        for (slot, g) in guards.iter_mut().enumerate() {
            *g = item(slot + 1).map(items::decode_guard).transpose()?;
        }
        Ok(Snapshot { account, guards })
    }

    /// Writes the new account state, the ledger entry and the duplicate guard, on condition
    /// that the account is exactly the state the order was judged against and still covers
    /// it, and that no accepted order with the same key lies within the window.
    async fn commit(
        &self,
        before: &Account,
        after: &Account,
        order: &Order,
        key: &DedupKey,
        now: i64,
        token: &str,
    ) -> Result<(), Conflict> {
        let id = before.id;
        let all_old = ReturnValuesOnConditionCheckFailure::AllOld;
        let covers = match order.operation {
            Operation::Buy => "cash >= :amount",
            Operation::Sell => "holdings.#issuer.shares >= :shares",
        };
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(items::account_key(id)))
            .update_expression("SET cash = :cash, holdings = :holdings, version = :next")
            .condition_expression(format!(
                "version = :version AND #owner = :owner AND {covers}"
            ))
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":owner", items::s(&before.owner.0))
            .expression_attribute_values(":cash", items::dec(after.cash.value()))
            .expression_attribute_values(":holdings", items::holdings_value(&after.holdings))
            .expression_attribute_values(":next", n(after.version))
            .expression_attribute_values(":version", n(before.version))
            .return_values_on_condition_check_failure(all_old.clone());
        update = match order.operation {
            Operation::Buy => {
                update.expression_attribute_values(":amount", items::dec(order.amount().value()))
            }
            Operation::Sell => update
                .expression_attribute_names("#issuer", order.issuer.as_str())
                .expression_attribute_values(":shares", n(order.shares.get())),
        };
        let put = |item: Item| {
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(pk)")
                .return_values_on_condition_check_failure(all_old.clone())
                .build()
                .expect("table and item")
        };
        let check = |bucket: i64, condition: &str, bound: i64| {
            ConditionCheck::builder()
                .table_name(&self.table)
                .set_key(Some(items::guard_key(id, key, bucket)))
                .condition_expression(condition)
                .expression_attribute_values(":bound", n(bound))
                .return_values_on_condition_check_failure(all_old.clone())
                .build()
                .expect("table, key and condition")
        };
        let b = DedupKey::bucket(order.timestamp);
        let window = domain::DEDUP_WINDOW_SECS;
        let result = self
            .client
            .transact_write_items()
            .client_request_token(token)
            .transact_items(
                TransactWriteItem::builder()
                    .update(update.build().expect("key and expression"))
                    .build(),
            )
            .transact_items(
                TransactWriteItem::builder()
                    .put(put(items::order_item(before, after.version, order, now)))
                    .build(),
            )
            .transact_items(
                TransactWriteItem::builder()
                    .put(put(items::guard_item(id, key, order)))
                    .build(),
            )
            .transact_items(
                TransactWriteItem::builder()
                    .condition_check(check(
                        b - 1,
                        "attribute_not_exists(pk) OR ts <= :bound",
                        order.timestamp - window,
                    ))
                    .build(),
            )
            .transact_items(
                TransactWriteItem::builder()
                    .condition_check(check(
                        b + 1,
                        "attribute_not_exists(pk) OR ts >= :bound",
                        order.timestamp + window,
                    ))
                    .build(),
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) => match e.err() {
                TransactWriteItemsError::TransactionCanceledException(c) => {
                    Err(Conflict::from_reasons(c.cancellation_reasons()))
                }
                _ => Err(Conflict::Failed(unavailable(SdkError::ServiceError(e)))),
            },
            Err(e) => Err(Conflict::Failed(unavailable(e))),
        }
    }

    /// Takes an idempotency key for a request: unless it exists, or it expired, or the
    /// request that held it died (its lock passed). One conditional write either way: a
    /// refused claim returns the record that refused it.
    #[allow(clippy::too_many_arguments)]
    pub async fn claim_idempotency(
        &self,
        owner: &Owner,
        key: &str,
        fingerprint: &str,
        nonce: &str,
        now: i64,
        lock_until: i64,
        expires_at: i64,
    ) -> Result<Claim, StoreError> {
        let mut item = items::idempotency_key(owner, key);
        item.extend([
            ("fingerprint".to_owned(), items::s(fingerprint)),
            ("state".to_owned(), items::s("pending")),
            ("nonce".to_owned(), items::s(nonce)),
            ("lock_until".to_owned(), n(lock_until)),
            ("expires_at".to_owned(), n(expires_at)),
        ]);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(
                "attribute_not_exists(pk) OR expires_at < :now \
                 OR (#state = :pending AND lock_until < :now)",
            )
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":pending", items::s("pending"))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Claim::Acquired),
            Err(SdkError::ServiceError(e)) => match e.err() {
                PutItemError::ConditionalCheckFailedException(c) => {
                    let item = c
                        .item()
                        .ok_or_else(|| Malformed("refused claim without its record".into()))?;
                    Ok(Claim::Taken(items::decode_idempotency(item)?))
                }
                _ => Err(unavailable(SdkError::ServiceError(e))),
            },
            Err(e) => Err(unavailable(e)),
        }
    }

    /// Keeps the answer of the request that holds the key (`nonce`) for its replays.
    pub async fn complete_idempotency(
        &self,
        owner: &Owner,
        key: &str,
        nonce: &str,
        response: &SavedResponse,
    ) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(items::idempotency_key(owner, key)))
            .update_expression(
                "SET #state = :done, #status = :status, headers = :headers, body = :body",
            )
            .condition_expression("nonce = :nonce")
            .expression_attribute_names("#state", "state")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":done", items::s("done"))
            .expression_attribute_values(":nonce", items::s(nonce))
            .expression_attribute_values(":status", n(response.status))
            .expression_attribute_values(":headers", items::headers_value(&response.headers))
            .expression_attribute_values(
                ":body",
                AttributeValue::B(Blob::new(response.body.clone())),
            )
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// Frees a key its request could not complete, so a retry may run.
    pub async fn release_idempotency(
        &self,
        owner: &Owner,
        key: &str,
        nonce: &str,
    ) -> Result<(), StoreError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(items::idempotency_key(owner, key)))
            .condition_expression("nonce = :nonce")
            .expression_attribute_values(":nonce", items::s(nonce))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// One page of the ledger, newest first, starting below `before` (a sequence number).
    /// `None`: no such account.
    pub async fn orders_page(
        &self,
        owner: &Owner,
        id: AccountId,
        limit: u32,
        before: Option<u64>,
    ) -> Result<Option<OrdersPage>, StoreError> {
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", items::s(items::account_pk(id)))
            .expression_attribute_values(":prefix", items::s(items::order_prefix()))
            .scan_index_forward(false)
            .consistent_read(true)
            // One more than asked tells whether another page exists.
            .limit(limit as i32 + 1);
        if let Some(seq) = before {
            query = query.set_exclusive_start_key(Some(items::order_key(id, seq)));
        }
        let out = query.send().await.map_err(unavailable)?;
        let found = out.items();
        if found.is_empty() && self.load_account(owner, id).await?.is_none() {
            return Ok(None);
        }
        for item in found {
            if &items::decode_owner(item)? != owner {
                return Ok(None);
            }
        }
        let page = &found[..found.len().min(limit as usize)];
        let next = if found.len() > page.len() {
            page.last().map(items::decode_seq).transpose()?
        } else {
            None
        };
        let orders = page
            .iter()
            .map(|item| items::decode_order(id, item))
            .collect::<Result<_, _>>()?;
        Ok(Some(OrdersPage { orders, next }))
    }
}

/// An answer kept for replays of an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// An idempotency record another request holds.
#[derive(Debug, Clone)]
pub struct IdempotencyRecord {
    pub fingerprint: String,
    /// `None` while the first request still runs.
    pub response: Option<SavedResponse>,
}

pub enum Claim {
    /// The key is this request's now.
    Acquired,
    Taken(IdempotencyRecord),
}

enum Conflict {
    /// Conditions failed and DynamoDB returned the items that failed them.
    Seen(Fresh),
    /// A conflict without the items (a concurrent transaction on the same items).
    Unseen,
    Failed(StoreError),
}

#[derive(Default)]
struct Fresh {
    account: Option<Account>,
    guards: [Option<i64>; 3],
}

impl Conflict {
    /// Reads the cancellation reasons, in the order the transaction listed its items:
    /// account update, ledger put, own guard put, previous and next guard checks.
    fn from_reasons(reasons: &[CancellationReason]) -> Conflict {
        let mut fresh = Fresh::default();
        let mut ledger_taken = false;
        for (i, r) in reasons.iter().enumerate() {
            match r.code() {
                None | Some("None") => {}
                Some("ConditionalCheckFailed") => {
                    let Some(item) = r.item() else {
                        return Conflict::Unseen;
                    };
                    let decoded = match i {
                        0 => items::decode_account(item).map(|a| fresh.account = Some(a)),
                        2 => items::decode_guard(item).map(|t| fresh.guards[1] = Some(t)),
                        3 => items::decode_guard(item).map(|t| fresh.guards[0] = Some(t)),
                        4 => items::decode_guard(item).map(|t| fresh.guards[2] = Some(t)),
                        // The ledger slot is taken because the account moved on: the
                        // account's own reason carries its new state.
                        1 => {
                            ledger_taken = true;
                            Ok(())
                        }
                        _ => return Conflict::Unseen,
                    };
                    if let Err(e) = decoded {
                        return Conflict::Failed(e.into());
                    }
                }
                Some(_) => return Conflict::Unseen,
            }
        }
        if fresh.account.is_none() && (ledger_taken || fresh.guards.iter().all(Option::is_none)) {
            return Conflict::Unseen;
        }
        Conflict::Seen(fresh)
    }
}

fn merge(old: [Option<i64>; 3], fresh: [Option<i64>; 3]) -> [Option<i64>; 3] {
    [
        fresh[0].or(old[0]),
        fresh[1].or(old[1]),
        fresh[2].or(old[2]),
    ]
}

/// A `ClientRequestToken` (at most 36 characters) for one attempt of one request.
fn client_token(request: &str, attempt: u32) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{request}#{attempt}"));
    digest[..18].iter().map(|b| format!("{b:02x}")).collect()
}

/// Full-jitter exponential backoff: 2 ms doubling, capped at 64 ms.
async fn backoff(attempt: u32) {
    let cap = 2u64 << attempt.min(5);
    tokio::time::sleep(Duration::from_millis(fastrand::u64(0..=cap))).await;
}
