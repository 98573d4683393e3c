//! Every DynamoDB access pattern of the brokerage as a named function. Rules that depend on
//! state are enforced by the conditions of one `TransactWriteItems`, never by read-then-write
//! alone.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    CancellationReason, ConditionCheck, Get, Put, ReturnValue, ReturnValuesOnConditionCheckFailure,
    TransactGetItem, TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;
use brokerage_domain::{
    evaluate, Account, AccountId, BusinessError, Cash, Decision, DedupKey, LedgerEntry, Operation,
    Order, Owner,
};
use shared::dynamo::{self, n, unavailable, Item, Malformed, Unavailable};
use shared::idempotency::{self, Keyed, PutError, Record, SavedResponse, Verdict};
use shared::MarketHours;
use std::time::Duration;

use crate::items;

/// Attempts at committing one order before answering 503: each failed attempt means
/// another order on the same account committed first. Optimistic commits on one account
/// fail about half the time with three writers, so the budget covers a long losing streak.
pub const MAX_COMMIT_ATTEMPTS: u32 = 32;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
    /// Too many concurrent orders on one account; the client may retry.
    #[error("too much contention on the account")]
    Contention,
    #[error(transparent)]
    Malformed(#[from] Malformed),
}

impl From<PutError> for StoreError {
    fn from(e: PutError) -> Self {
        match e {
            PutError::Unavailable(e) => e.into(),
            PutError::Malformed(e) => e.into(),
        }
    }
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
/// buckets around its timestamp (previous, own, next); and its key's record, if it has one.
struct Snapshot {
    account: Option<Account>,
    guards: [Option<i64>; 3],
    record: Option<Record>,
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
        Ok(dynamo::create_table(&self.client, &self.table, false).await?)
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
        let id = items::decode_counter(
            counter
                .attributes()
                .ok_or_else(|| Malformed("account id counter".into()))?,
        )?;
        let account = Account::open(id, owner.clone(), cash);
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(items::account_item(&account, now)?))
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

    /// Judges and, if accepted, applies one order (`None`: one that is not well-formed, which
    /// is `INVALID_OPERATION`).
    ///
    /// With `cached`, the account as the cache holds it, an accepted order is one conditional
    /// transaction and nothing else: its conditions carry the cached version and the
    /// duplicate guards, and if either moved, the cancellation returns the items as they
    /// stand and the order is judged again on them. A rejection is never decided on the cache
    /// alone: a rule broken by the cached state is confirmed by one read. Without `cached`,
    /// one read and one transaction; a rejected order costs the read only.
    ///
    /// With `keep` (an `Idempotency-Key`), a read also fetches the key's record and the
    /// outcome's answer is written with the transaction (whose condition on the record
    /// refuses a key already used), or alone for a rejection: the key adds no call to an
    /// accepted order.
    #[allow(clippy::too_many_arguments)]
    pub async fn place_order(
        &self,
        owner: &Owner,
        id: AccountId,
        order: Option<&Order>,
        market: &MarketHours,
        now: i64,
        keep: Option<&Keep<'_>>,
        cached: Option<Account>,
    ) -> Result<Placed, StoreError> {
        let key = order.map(Order::dedup_key);
        let target = order.zip(key.as_ref());
        let cached = cached.filter(|a| &a.owner == owner && a.id == id && target.is_some());
        // Whether the state judged is DynamoDB's (read, or returned by a cancelled commit).
        let mut confirmed = cached.is_none();
        let mut snap = match cached {
            Some(account) => Snapshot {
                account: Some(account),
                guards: [None; 3],
                record: None,
            },
            None => self.order_snapshot(owner, id, target, keep).await?,
        };
        for attempt in 0..MAX_COMMIT_ATTEMPTS {
            if let (Some(record), Some(keep)) = (snap.record.take(), keep) {
                match record.verdict(&keep.keyed.fingerprint, now) {
                    Verdict::Free => {}
                    earlier => return Ok(Placed::Earlier(earlier)),
                }
            }
            let Some(account) = snap.account.take().filter(|a| &a.owner == owner) else {
                return self.rejected(owner, None, now, keep).await;
            };
            let Some((order, key)) = target else {
                let outcome = OrderOutcome {
                    account,
                    business_errors: vec![BusinessError::InvalidOperation],
                };
                return self.rejected(owner, Some(outcome), now, keep).await;
            };
            let nearby: Vec<i64> = snap.guards.iter().flatten().copied().collect();
            let next = match evaluate(order, &account, &nearby, market) {
                Decision::Accept(next) => next,
                Decision::Reject(_) if !confirmed => {
                    snap = self.order_snapshot(owner, id, target, keep).await?;
                    confirmed = true;
                    continue;
                }
                Decision::Reject(business_errors) => {
                    let outcome = OrderOutcome {
                        account,
                        business_errors,
                    };
                    return self.rejected(owner, Some(outcome), now, keep).await;
                }
            };
            let accepted = OrderOutcome {
                account: next,
                business_errors: vec![],
            };
            let kept = match keep {
                Some(k) => Some(k.put(&self.table, owner, Some(&accepted), now)?),
                None => None,
            };
            match self
                .commit(&account, &accepted.account, order, key, now, kept)
                .await
            {
                Ok(()) => return Ok(Placed::Judged(Some(accepted))),
                Err(Conflict::Kept(record)) => {
                    // Another request with this key committed first: its answer is this one's.
                    let fingerprint = keep.map(|k| k.keyed.fingerprint.as_str()).unwrap_or("");
                    match record.verdict(fingerprint, now) {
                        Verdict::Free => {
                            snap = self.order_snapshot(owner, id, target, None).await?;
                            confirmed = true;
                        }
                        earlier => return Ok(Placed::Earlier(earlier)),
                    }
                }
                Err(Conflict::Seen(fresh)) => {
                    // The failed conditions returned the items as they now stand: judge again
                    // without another read, at once: a loser that also waited would keep losing.
                    // The conditions that passed confirm the rest of the state judged.
                    snap = Snapshot {
                        account: fresh.account.or(Some(account)),
                        guards: merge(snap.guards, fresh.guards),
                        record: None,
                    };
                    confirmed = true;
                }
                Err(Conflict::Unseen) if attempt + 1 == MAX_COMMIT_ATTEMPTS => break,
                Err(Conflict::Unseen) => {
                    backoff(attempt).await;
                    snap = self.order_snapshot(owner, id, target, None).await?;
                    confirmed = true;
                }
                Err(Conflict::Failed(e)) => return Err(e),
            }
        }
        Err(StoreError::Contention)
    }

    /// Answers an order that changes nothing (`None`: no such account). With a key, its
    /// answer is kept by one conditional write, unless another request's already is.
    async fn rejected(
        &self,
        owner: &Owner,
        outcome: Option<OrderOutcome>,
        now: i64,
        keep: Option<&Keep<'_>>,
    ) -> Result<Placed, StoreError> {
        let Some(keep) = keep else {
            return Ok(Placed::Judged(outcome));
        };
        let answer = (keep.answer)(outcome.as_ref());
        // An answer that could not be kept is not given (503): a retry of the key must get
        // this answer or run again, never a second one after the first was sent.
        let kept = idempotency::keep_alone(
            &self.client,
            &self.table,
            owner,
            keep.keyed,
            now,
            keep.expires_at,
            &answer,
        );
        match kept.await? {
            Verdict::Free => Ok(Placed::Judged(outcome)),
            earlier => Ok(Placed::Earlier(earlier)),
        }
    }

    /// The account, the duplicate guards of an order (previous, own and next window bucket)
    /// and a key's record, in one serializable read.
    async fn order_snapshot(
        &self,
        owner: &Owner,
        id: AccountId,
        order: Option<(&Order, &DedupKey)>,
        keep: Option<&Keep<'_>>,
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
        let mut read = self
            .client
            .transact_get_items()
            .transact_items(get(items::account_key(id)));
        if let Some((order, key)) = order {
            let b = DedupKey::bucket(order.timestamp);
            for bucket in [b - 1, b, b + 1] {
                read = read.transact_items(get(items::guard_key(id, key, bucket)));
            }
        }
        if let Some(keep) = keep {
            let record = idempotency::get(&self.table, owner, &keep.keyed.key);
            read = read.transact_items(TransactGetItem::builder().get(record).build());
        }
        let out = read.send().await.map_err(unavailable)?;
        let mut responses = out.responses().iter().map(|r| r.item());
        let account = responses
            .next()
            .flatten()
            .map(items::decode_account)
            .transpose()?;
        let mut guards = [None; 3];
        if order.is_some() {
            for g in guards.iter_mut() {
                *g = responses
                    .next()
                    .flatten()
                    .map(items::decode_guard)
                    .transpose()?;
            }
        }
        let record = match keep {
            Some(_) => responses.next().flatten().map(Record::decode).transpose()?,
            None => None,
        };
        Ok(Snapshot {
            account,
            guards,
            record,
        })
    }

    /// Writes the new account state, the ledger entry, the duplicate guard and the answer
    /// `kept` for its `Idempotency-Key`, on condition that the account is exactly the state
    /// the order was judged against and still covers it, that no accepted order with the same
    /// key lies within the window, and that the key is free.
    async fn commit(
        &self,
        before: &Account,
        after: &Account,
        order: &Order,
        key: &DedupKey,
        now: i64,
        kept: Option<Put>,
    ) -> Result<(), Conflict> {
        let id = before.id;
        let failed = |e: Malformed| Conflict::Failed(e.into());
        let order_item = items::order_item(before, after.version, order, now).map_err(failed)?;
        let guard_item = items::guard_item(id, key, order).map_err(failed)?;
        let holdings = items::holdings_value(&after.holdings).map_err(failed)?;
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
            .expression_attribute_values(":owner", dynamo::s(&before.owner.0))
            .expression_attribute_values(":cash", dynamo::dec(after.cash.value()))
            .expression_attribute_values(":holdings", holdings)
            .expression_attribute_values(":next", n(after.version))
            .expression_attribute_values(":version", n(before.version))
            .return_values_on_condition_check_failure(all_old.clone());
        update = match order.operation {
            Operation::Buy => {
                update.expression_attribute_values(":amount", dynamo::dec(order.amount().value()))
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
        let window = brokerage_domain::DEDUP_WINDOW_SECS;
        // One token per transaction: a resend by the SDK's retries is applied once. Another
        // request's same order is refused by the conditions (and the key's record), not here.
        let token = format!("{:032x}", fastrand::u128(..));
        let mut write = self
            .client
            .transact_write_items()
            .client_request_token(token)
            .transact_items(
                TransactWriteItem::builder()
                    .update(update.build().expect("key and expression"))
                    .build(),
            )
            .transact_items(TransactWriteItem::builder().put(put(order_item)).build())
            .transact_items(TransactWriteItem::builder().put(put(guard_item)).build())
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
            );
        if let Some(kept) = kept {
            write = write.transact_items(TransactWriteItem::builder().put(kept).build());
        }
        match write.send().await {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) => match e.err() {
                TransactWriteItemsError::TransactionCanceledException(c) => {
                    Err(Conflict::from_reasons(c.cancellation_reasons()))
                }
                _ => Err(Conflict::Failed(
                    unavailable(SdkError::ServiceError(e)).into(),
                )),
            },
            Err(e) => Err(Conflict::Failed(unavailable(e).into())),
        }
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
            .expression_attribute_values(":pk", dynamo::s(items::account_pk(id)))
            .expression_attribute_values(":prefix", dynamo::s(items::order_prefix()))
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

/// An order's `Idempotency-Key`: its record is read with the order's state and its answer
/// written with the order's outcome.
pub struct Keep<'a> {
    pub keyed: &'a Keyed,
    /// When the record stops answering replays (the table's TTL attribute).
    pub expires_at: i64,
    /// The answer the handler gives an outcome (`None`: no such account).
    pub answer: &'a (dyn Fn(Option<&OrderOutcome>) -> SavedResponse + Send + Sync),
}

impl Keep<'_> {
    fn put(
        &self,
        table: &str,
        owner: &Owner,
        outcome: Option<&OrderOutcome>,
        now: i64,
    ) -> Result<Put, Malformed> {
        let answer = (self.answer)(outcome);
        idempotency::keep(table, owner, self.keyed, now, self.expires_at, &answer)
    }
}

/// What became of an order.
#[derive(Debug)]
pub enum Placed {
    /// Judged now: the outcome, or `None` when `owner` has no such account.
    Judged(Option<OrderOutcome>),
    /// An earlier request with the same `Idempotency-Key` decides the answer.
    Earlier(Verdict),
}

impl Placed {
    /// The outcome of an order judged now, if it was.
    pub fn judged(self) -> Option<Option<OrderOutcome>> {
        match self {
            Placed::Judged(outcome) => Some(outcome),
            Placed::Earlier(_) => None,
        }
    }
}

enum Conflict {
    /// Conditions failed and DynamoDB returned the items that failed them.
    Seen(Fresh),
    /// A conflict without the items (a concurrent transaction on the same items).
    Unseen,
    /// The order's `Idempotency-Key` has a record now: another request's.
    Kept(Record),
    Failed(StoreError),
}

#[derive(Default)]
struct Fresh {
    account: Option<Account>,
    guards: [Option<i64>; 3],
}

/// Where the key's record stands among a commit's items.
const KEPT: usize = 5;

impl Conflict {
    /// Reads the cancellation reasons, in the order the transaction listed its items:
    /// account update, ledger put, own guard put, previous and next guard checks, then the
    /// key's record if the order has a key. The record decides first: if another request with
    /// the key committed, its answer is this request's, whatever else moved.
    fn from_reasons(reasons: &[CancellationReason]) -> Conflict {
        if let Some(r) = reasons.get(KEPT) {
            if r.code() == Some("ConditionalCheckFailed") {
                return match r.item().map(Record::decode) {
                    Some(Ok(record)) => Conflict::Kept(record),
                    Some(Err(e)) => Conflict::Failed(e.into()),
                    None => Conflict::Unseen,
                };
            }
        }
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
                        _ => Ok(()),
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

/// Full-jitter exponential backoff: 2 ms doubling, capped at 64 ms.
async fn backoff(attempt: u32) {
    let cap = 2u64 << attempt.min(5);
    tokio::time::sleep(Duration::from_millis(fastrand::u64(0..=cap))).await;
}
