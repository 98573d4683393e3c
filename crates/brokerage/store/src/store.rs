//! Every DynamoDB access pattern of the brokerage as a named function. Rules that depend on
//! state are enforced by the conditions of the one write that applies an order (the account
//! item's `UpdateItem`, or a `TransactWriteItems` when it writes more), never by
//! read-then-write alone.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    CancellationReason, ConditionCheck, Get, Put, ReturnValue, ReturnValuesOnConditionCheckFailure,
    TransactGetItem, TransactWriteItem, Update,
};
use aws_sdk_dynamodb::Client;
use brokerage_domain::{
    evaluate, Account, AccountId, BusinessError, Cash, Decision, DedupKey, LedgerEntry, Operation,
    Order, Owner, DEDUP_WINDOW_SECS,
};
use shared::dynamo::{self, n, unavailable, Item, Malformed, Unavailable};
use shared::idempotency::{self, Keyed, PutError, Record, SavedResponse, Verdict};
use shared::MarketHours;
use std::time::Duration;

use crate::items::{self, Books, Pending};

/// Attempts at committing one order before answering 503: each failed attempt means
/// another order on the same account committed first. Optimistic commits on one account
/// fail about half the time with three writers, so the budget covers a long losing streak.
pub const MAX_COMMIT_ATTEMPTS: u32 = 32;

/// Accepted orders kept in the account item before they are written out as a ledger page, in
/// the transaction of the order that reaches this many.
pub const FLUSH_AT: usize = 16;

/// Duplicate guards the account item keeps when its entries are written out: those of the
/// last window before its newest order, at most this many.
pub const GUARDS_KEPT: usize = 32;

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
    /// The account item's books as this order left them (what the cache keeps beside it).
    pub books: Books,
}

/// The account item as the store holds it: the account and its books.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub account: Account,
    pub books: Books,
}

impl Held {
    pub fn decode(item: &Item) -> Result<Held, Malformed> {
        let (account, books) = items::decode_held(item)?;
        Ok(Held { account, books })
    }
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

/// What an order is judged against: the account item and the duplicate guard items of the
/// window buckets around its timestamp (previous, own, next); and its key's record, if it
/// has one.
struct Snapshot {
    held: Option<Held>,
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
        Ok(self.load(owner, id).await?.map(|h| h.account))
    }

    /// The account item as it stands (strongly consistent read), if `owner` owns it.
    pub async fn load(&self, owner: &Owner, id: AccountId) -> Result<Option<Held>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(items::account_key(id)))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        let held = out.item().map(Held::decode).transpose()?;
        Ok(held.filter(|h| &h.account.owner == owner))
    }

    /// Judges and, if accepted, applies one order (`None`: one that is not well-formed, which
    /// is `INVALID_OPERATION`).
    ///
    /// With `cached`, the account item as the cache holds it, an accepted order is one write
    /// and nothing else: the account item alone, conditioned on the cached version, when the
    /// order's duplicate guards are all in it (see [`items::Books`]); otherwise one
    /// transaction that also checks the guard items. If the version moved, the failed
    /// condition returns the items as they stand and the order is judged again on them. A
    /// rejection is never decided on the cache alone: a rule broken by the cached state is
    /// confirmed by one read. Without `cached`, one read and one write; a rejected order
    /// costs the read only.
    ///
    /// With `keep` (an `Idempotency-Key`), a read also fetches the key's record and the
    /// outcome's answer is written in the order's transaction (whose condition on the record
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
        cached: Option<Held>,
    ) -> Result<Placed, StoreError> {
        let key = order.map(Order::dedup_key);
        let target = order.zip(key.as_ref());
        let cached =
            cached.filter(|h| &h.account.owner == owner && h.account.id == id && target.is_some());
        // Whether the state judged is DynamoDB's (read, or returned by a cancelled commit).
        let mut confirmed = cached.is_none();
        let mut snap = match cached {
            Some(held) => Snapshot {
                held: Some(held),
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
            let Some(held) = snap.held.take().filter(|h| &h.account.owner == owner) else {
                return self.rejected(owner, None, now, keep).await;
            };
            let Some((order, key)) = target else {
                let outcome = OrderOutcome {
                    account: held.account,
                    business_errors: vec![BusinessError::InvalidOperation],
                    books: held.books,
                };
                return self.rejected(owner, Some(outcome), now, keep).await;
            };
            let name = items::guard_name(key);
            let mut nearby: Vec<i64> = snap.guards.iter().flatten().copied().collect();
            nearby.extend(held.books.guards.get(&name).into_iter().flatten());
            let next = match evaluate(order, &held.account, &nearby, market) {
                Decision::Accept(next) => next,
                Decision::Reject(_) if !confirmed => {
                    snap = self.order_snapshot(owner, id, target, keep).await?;
                    confirmed = true;
                    continue;
                }
                Decision::Reject(business_errors) => {
                    let outcome = OrderOutcome {
                        account: held.account,
                        business_errors,
                        books: held.books,
                    };
                    return self.rejected(owner, Some(outcome), now, keep).await;
                }
            };
            let plan = Plan::new(&held.books, next.version, order, name, now);
            let accepted = OrderOutcome {
                account: next,
                business_errors: vec![],
                books: plan.books.clone(),
            };
            let kept = match keep {
                Some(k) => Some(k.put(&self.table, owner, Some(&accepted), now)?),
                None => None,
            };
            match self
                .commit(&held.account, &accepted.account, order, key, &plan, kept)
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
                    if let Some(now_held) = &fresh.held {
                        if self.applied(id, now_held, &plan).await? {
                            return Ok(Placed::Judged(Some(accepted)));
                        }
                    }
                    // The failed conditions returned the items as they now stand: judge again
                    // without another read, at once: a loser that also waited would keep losing.
                    // The conditions that passed confirm the rest of the state judged.
                    snap = Snapshot {
                        held: fresh.held.or(Some(held)),
                        guards: merge(snap.guards, fresh.guards),
                        record: None,
                    };
                    confirmed = true;
                }
                Err(Conflict::Unseen) if attempt + 1 == MAX_COMMIT_ATTEMPTS => break,
                Err(Conflict::Unseen) => {
                    backoff(attempt).await;
                    snap = self.order_snapshot(owner, id, target, None).await?;
                    if let Some(now_held) = &snap.held {
                        if self.applied(id, now_held, &plan).await? {
                            return Ok(Placed::Judged(Some(accepted)));
                        }
                    }
                    confirmed = true;
                }
                Err(Conflict::Failed(e)) => return Err(e),
            }
        }
        Err(StoreError::Contention)
    }

    /// Whether this order's own commit is the one that moved the account on: a write whose
    /// answer was lost and that the SDK sent again finds its own entry, in the books or, once
    /// written out, in the ledger page that holds its sequence number.
    async fn applied(&self, id: AccountId, now: &Held, plan: &Plan) -> Result<bool, StoreError> {
        let seq = plan.seq;
        if now.account.version < seq {
            return Ok(false);
        }
        if let Some(p) = now.books.recent.iter().find(|p| p.seq == seq) {
            return Ok(p.nonce == plan.nonce);
        }
        if now.books.recent.first().is_some_and(|p| p.seq < seq) {
            // The books still hold entries older than this one: no commit took its number.
            return Ok(false);
        }
        // The ledger page that would hold it: the last one starting at or below it.
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk BETWEEN :first AND :seq")
            .expression_attribute_values(":pk", dynamo::s(items::account_pk(id)))
            .expression_attribute_values(":first", dynamo::s(items::order_sk(0)))
            .expression_attribute_values(":seq", dynamo::s(items::order_sk(seq)))
            .scan_index_forward(false)
            .limit(1)
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        match out.items().first() {
            Some(item) => Ok(items::decode_page(item)?
                .iter()
                .any(|p| p.seq == seq && p.nonce == plan.nonce)),
            None => Ok(false),
        }
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

    /// The account item, the duplicate guard items of an order (previous, own and next window
    /// bucket) and a key's record, in one serializable read.
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
        let held = responses.next().flatten().map(Held::decode).transpose()?;
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
            held,
            guards,
            record,
        })
    }

    /// Writes the new account state and books, on condition that the account item is
    /// exactly the state the order was judged against and still covers it. When the plan
    /// needs more (guard items to check or write, entries to write out as a ledger page, the
    /// answer `kept` for an `Idempotency-Key`), all of it goes in one transaction whose
    /// conditions also refuse an accepted order with the same key within the window among
    /// the guard items, and a key already used; otherwise the account item's update alone.
    async fn commit(
        &self,
        before: &Account,
        after: &Account,
        order: &Order,
        key: &DedupKey,
        plan: &Plan,
        kept: Option<Put>,
    ) -> Result<(), Conflict> {
        let id = before.id;
        let failed = |e: Malformed| Conflict::Failed(e.into());
        let holdings = items::holdings_value(&after.holdings).map_err(failed)?;
        let books = items::books_value(&plan.books).map_err(failed)?;
        let all_old = ReturnValuesOnConditionCheckFailure::AllOld;
        let covers = match order.operation {
            Operation::Buy => "cash >= :amount",
            Operation::Sell => "holdings.#issuer.shares >= :shares",
        };
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(items::account_key(id)))
            .update_expression(
                "SET cash = :cash, holdings = :holdings, version = :next, books = :books",
            )
            .condition_expression(format!(
                "version = :version AND #owner = :owner AND {covers}"
            ))
            .expression_attribute_names("#owner", "owner")
            .expression_attribute_values(":owner", dynamo::s(&before.owner.0))
            .expression_attribute_values(":cash", dynamo::dec(after.cash.value()))
            .expression_attribute_values(":holdings", holdings)
            .expression_attribute_values(":next", n(after.version))
            .expression_attribute_values(":version", n(before.version))
            .expression_attribute_values(":books", books)
            .return_values_on_condition_check_failure(all_old.clone());
        update = match order.operation {
            Operation::Buy => {
                update.expression_attribute_values(":amount", dynamo::dec(order.amount().value()))
            }
            Operation::Sell => update
                .expression_attribute_names("#issuer", order.issuer.as_str())
                .expression_attribute_values(":shares", n(order.shares.get())),
        };
        let update = update.build().expect("key and expression");
        let mut slots = vec![Slot::Account];
        let mut writes = vec![TransactWriteItem::builder().update(update).build()];
        let put = |item: Item, condition: Option<&str>| {
            Put::builder()
                .table_name(&self.table)
                .set_item(Some(item))
                .set_condition_expression(condition.map(str::to_owned))
                .return_values_on_condition_check_failure(all_old.clone())
                .build()
                .expect("table and item")
        };
        let b = DedupKey::bucket(order.timestamp);
        let window = brokerage_domain::DEDUP_WINDOW_SECS;
        for (i, check) in plan.checks.iter().enumerate() {
            let Some(check) = check else { continue };
            let bucket = b - 1 + i as i64;
            let write = match check {
                Check::Put => {
                    let item =
                        items::guard_item(id, &plan.name, order.timestamp).map_err(failed)?;
                    TransactWriteItem::builder()
                        .put(put(item, Some("attribute_not_exists(pk)")))
                        .build()
                }
                Check::Absent | Check::Before | Check::After => {
                    let (condition, bound) = match check {
                        Check::Before => (
                            "attribute_not_exists(pk) OR ts <= :bound",
                            Some(order.timestamp - window),
                        ),
                        Check::After => (
                            "attribute_not_exists(pk) OR ts >= :bound",
                            Some(order.timestamp + window),
                        ),
                        _ => ("attribute_not_exists(pk)", None),
                    };
                    let check = ConditionCheck::builder()
                        .table_name(&self.table)
                        .set_key(Some(items::guard_key(id, key, bucket)))
                        .condition_expression(condition)
                        .set_expression_attribute_values(bound.map(|b| {
                            std::collections::HashMap::from([(":bound".to_owned(), n(b))])
                        }))
                        .return_values_on_condition_check_failure(all_old.clone())
                        .build()
                        .expect("table, key and condition");
                    TransactWriteItem::builder().condition_check(check).build()
                }
            };
            slots.push(Slot::Guard(i));
            writes.push(write);
        }
        if !plan.ledger.is_empty() {
            let item = items::page_item(id, &before.owner, &plan.ledger).map_err(failed)?;
            // Its key is its first entry's sequence number, above every version an earlier
            // commit claimed: no other commit writes it.
            writes.push(TransactWriteItem::builder().put(put(item, None)).build());
            slots.push(Slot::Other);
        }
        for (name, ts) in &plan.moved {
            let item = items::guard_item(id, name, *ts).map_err(failed)?;
            writes.push(TransactWriteItem::builder().put(put(item, None)).build());
            slots.push(Slot::Other);
        }
        if let Some(kept) = kept {
            writes.push(TransactWriteItem::builder().put(kept).build());
            slots.push(Slot::Kept);
        }
        if writes.len() == 1 {
            return self.update_alone(writes.pop().expect("one write")).await;
        }
        // One token per transaction: a resend by the SDK's retries is applied once. Another
        // request's same order is refused by the conditions (and the key's record), not here.
        let token = format!("{:032x}", fastrand::u128(..));
        let write = self
            .client
            .transact_write_items()
            .client_request_token(token)
            .set_transact_items(Some(writes));
        match write.send().await {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) => match e.err() {
                TransactWriteItemsError::TransactionCanceledException(c) => {
                    Err(Conflict::from_reasons(c.cancellation_reasons(), &slots))
                }
                _ => Err(Conflict::Failed(
                    unavailable(SdkError::ServiceError(e)).into(),
                )),
            },
            Err(e) => Err(Conflict::Failed(unavailable(e).into())),
        }
    }

    /// The account item's update on its own: one `UpdateItem` with the same condition.
    async fn update_alone(&self, write: TransactWriteItem) -> Result<(), Conflict> {
        let u = write.update.expect("an update");
        let sent = self
            .client
            .update_item()
            .table_name(u.table_name)
            .set_key(Some(u.key))
            .update_expression(u.update_expression)
            .set_condition_expression(u.condition_expression)
            .set_expression_attribute_names(u.expression_attribute_names)
            .set_expression_attribute_values(u.expression_attribute_values)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) => match e.err() {
                UpdateItemError::ConditionalCheckFailedException(c) => match c.item() {
                    Some(item) => match Held::decode(item) {
                        Ok(held) => Err(Conflict::Seen(Fresh {
                            held: Some(held),
                            guards: [None; 3],
                        })),
                        Err(e) => Err(Conflict::Failed(e.into())),
                    },
                    None => Err(Conflict::Unseen),
                },
                UpdateItemError::TransactionConflictException(_) => Err(Conflict::Unseen),
                _ => Err(Conflict::Failed(
                    unavailable(SdkError::ServiceError(e)).into(),
                )),
            },
            Err(e) => Err(Conflict::Failed(unavailable(e).into())),
        }
    }

    /// One page of the ledger, newest first, starting below `before` (a sequence number):
    /// the entries still in the account item's books, then the ledger pages below them.
    /// `None`: no such account.
    pub async fn orders_page(
        &self,
        owner: &Owner,
        id: AccountId,
        limit: u32,
        before: Option<u64>,
    ) -> Result<Option<OrdersPage>, StoreError> {
        let Some(held) = self.load(owner, id).await? else {
            return Ok(None);
        };
        let wanted = limit as usize + 1;
        let below = |seq: u64| before.is_none_or(|b| seq < b);
        let mut found: Vec<(u64, LedgerEntry)> = Vec::with_capacity(wanted);
        for p in held.books.recent.iter().rev().filter(|p| below(p.seq)) {
            if found.len() == wanted {
                break;
            }
            found.push((p.seq, items::decode_pending(id, p)?));
        }
        if found.len() < wanted {
            // Ledger pages are below the books' entries; any written out since the read
            // above hold entries already listed. A page that starts below `start` may end
            // above it (a cursor inside it).
            let start = held
                .books
                .recent
                .first()
                .map(|p| p.seq)
                .into_iter()
                .chain(before)
                .min()
                .unwrap_or(held.account.version.saturating_add(1));
            let mut from = Some(items::order_key(id, start));
            while let Some(exclusive) = from.take() {
                let pages = (wanted - found.len()).div_ceil(FLUSH_AT) + 1;
                let out = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                    .expression_attribute_values(":pk", dynamo::s(items::account_pk(id)))
                    .expression_attribute_values(":prefix", dynamo::s(items::order_prefix()))
                    .set_exclusive_start_key(Some(exclusive))
                    .scan_index_forward(false)
                    .consistent_read(true)
                    .limit(pages as i32)
                    .send()
                    .await
                    .map_err(unavailable)?;
                for item in out.items() {
                    if &items::decode_owner(item)? != owner {
                        return Ok(None);
                    }
                    let entries = items::decode_page(item)?;
                    for p in entries.iter().rev().filter(|p| p.seq < start) {
                        if found.len() == wanted {
                            break;
                        }
                        found.push((p.seq, items::decode_pending(id, p)?));
                    }
                }
                if found.len() < wanted {
                    from = out.last_evaluated_key().cloned();
                }
            }
        }
        let next = if found.len() > limit as usize {
            found.truncate(limit as usize);
            found.last().map(|(seq, _)| *seq)
        } else {
            None
        };
        let orders = found.into_iter().map(|(_, entry)| entry).collect();
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
    held: Option<Held>,
    guards: [Option<i64>; 3],
}

/// What a commit's transaction item is, to read its cancellation reason.
enum Slot {
    Account,
    /// The guard item of the window bucket at this index (previous, own, next).
    Guard(usize),
    /// The key's record.
    Kept,
    /// A ledger page or a guard item written out, which no condition guards.
    Other,
}

impl Conflict {
    /// Reads the cancellation reasons, in the order of the transaction's `slots`. The record
    /// decides first: if another request with the key committed, its answer is this
    /// request's, whatever else moved.
    fn from_reasons(reasons: &[CancellationReason], slots: &[Slot]) -> Conflict {
        let failed = |r: &CancellationReason| r.code() == Some("ConditionalCheckFailed");
        for (r, slot) in reasons.iter().zip(slots) {
            if matches!(slot, Slot::Kept) && failed(r) {
                return match r.item().map(Record::decode) {
                    Some(Ok(record)) => Conflict::Kept(record),
                    Some(Err(e)) => Conflict::Failed(e.into()),
                    None => Conflict::Unseen,
                };
            }
        }
        let mut fresh = Fresh::default();
        for (r, slot) in reasons.iter().zip(slots) {
            match r.code() {
                None | Some("None") => {}
                Some("ConditionalCheckFailed") => {
                    let Some(item) = r.item() else {
                        return Conflict::Unseen;
                    };
                    let decoded = match slot {
                        Slot::Account => Held::decode(item).map(|h| fresh.held = Some(h)),
                        Slot::Guard(i) => {
                            items::decode_guard(item).map(|t| fresh.guards[*i] = Some(t))
                        }
                        Slot::Kept | Slot::Other => Ok(()),
                    };
                    if let Err(e) = decoded {
                        return Conflict::Failed(e.into());
                    }
                }
                Some(_) => return Conflict::Unseen,
            }
        }
        if fresh.held.is_none() && fresh.guards.iter().all(Option::is_none) {
            return Conflict::Unseen;
        }
        Conflict::Seen(fresh)
    }
}

/// What a guard item of the order's window must be for the commit to go through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// The order's own guard, written as an item: none there yet.
    Put,
    /// None in the order's own bucket.
    Absent,
    /// In the previous bucket: none, or a window or more before the order.
    Before,
    /// In the next bucket: none, or a window or more after the order.
    After,
}

/// How an accepted order changes the account item's books, and what else its commit
/// writes and checks.
struct Plan {
    /// The ledger sequence number: the account's version after the order.
    seq: u64,
    nonce: u64,
    /// The order's duplicate key.
    name: String,
    books: Books,
    /// Per window bucket (previous, own, next), what the commit asks of the guard item.
    checks: [Option<Check>; 3],
    /// Entries written out as a ledger page.
    ledger: Vec<Pending>,
    /// Guards written out as guard items.
    moved: Vec<(String, i64)>,
}

impl Plan {
    fn new(before: &Books, seq: u64, order: &Order, name: String, now: i64) -> Plan {
        let ts = order.timestamp;
        let w = DEDUP_WINDOW_SECS;
        let b = DedupKey::bucket(ts);
        let fence = before.fence;
        let nonce = fastrand::u64(..);
        let mut books = before.clone();
        books.recent.push(Pending::of(order, seq, now, nonce));
        // Guard items are of orders stamped at or before the fence: a bucket that starts
        // after it has none.
        let has_items = |bucket: i64| bucket.saturating_mul(w) <= fence;
        let mut checks = [None; 3];
        if ts <= fence {
            checks[1] = Some(Check::Put);
        } else {
            books.guards.entry(name.clone()).or_default().push(ts);
            if has_items(b) {
                checks[1] = Some(Check::Absent);
            }
        }
        // An item in the previous bucket matters only if it can lie within the window.
        if fence > ts.saturating_sub(w) && has_items(b - 1) {
            checks[0] = Some(Check::Before);
        }
        if has_items(b + 1) {
            checks[2] = Some(Check::After);
        }
        let mut plan = Plan {
            seq,
            nonce,
            name,
            books,
            checks,
            ledger: Vec::new(),
            moved: Vec::new(),
        };
        if plan.books.recent.len() >= FLUSH_AT {
            plan.write_out(b);
        }
        plan
    }

    /// Moves the books' entries to a ledger page, and their guards but those of the last
    /// window before the newest (at most [`GUARDS_KEPT`]) to guard items, raising the fence.
    fn write_out(&mut self, b: i64) {
        (self.ledger, self.moved) = self.books.write_out();
        // A transaction writes an item once: a guard written out in the order's window
        // takes the place of that bucket's check. Its own guard is written on the same
        // condition; another's proves that no item is there (one key's accepted orders
        // are a window apart, so a bucket holds one of them at most).
        let ts = self.ledger.last().map(|p| p.timestamp);
        let name = self.name.clone();
        let mut i = 0;
        while i < self.moved.len() {
            let (n, t) = &self.moved[i];
            let slot = DedupKey::bucket(*t) - (b - 1);
            if n == &name && (0..3).contains(&slot) {
                if slot == 1 && Some(*t) == ts {
                    self.checks[1] = Some(Check::Put);
                    self.moved.swap_remove(i);
                    continue;
                }
                self.checks[slot as usize] = None;
            }
            i += 1;
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use brokerage_domain::{IssuerName, Price, Shares};
    use rust_decimal::Decimal;
    use std::collections::BTreeMap;

    fn buy(ts: i64, shares: u64) -> Order {
        Order {
            timestamp: ts,
            operation: Operation::Buy,
            issuer: IssuerName::new("X").unwrap(),
            shares: Shares::new(shares).unwrap(),
            price: Price::from_stored(Decimal::ONE),
        }
    }

    /// Whether a commit on `plan` is refused by the guard items `items` ((key, bucket) → ts).
    fn refused(plan: &Plan, ts: i64, items: &BTreeMap<(String, i64), i64>) -> bool {
        let b = DedupKey::bucket(ts);
        plan.checks.iter().enumerate().any(|(i, check)| {
            let found = items.get(&(plan.name.clone(), b - 1 + i as i64));
            match (check, found) {
                (None, _) | (Some(_), None) => false,
                (Some(Check::Put | Check::Absent), Some(_)) => true,
                (Some(Check::Before), Some(&t)) => t > ts - DEDUP_WINDOW_SECS,
                (Some(Check::After), Some(&t)) => t < ts + DEDUP_WINDOW_SECS,
            }
        })
    }

    /// Random orders through the books against a model of the table: every duplicate is
    /// caught by the books or by the commit's checks, every guard is in exactly one place, no
    /// commit names an item twice or exceeds DynamoDB's 100 items, and the books stay small.
    #[test]
    fn the_books_keep_the_duplicate_rule_exact_and_every_guard_in_one_place() {
        fastrand::seed(14);
        for round in 0..100 {
            let mut books = Books::new();
            let mut items: BTreeMap<(String, i64), i64> = BTreeMap::new();
            let mut accepted: Vec<(String, i64)> = Vec::new();
            let mut ledger = 0;
            // Some rounds stamp orders close together, some spread them out, some go back.
            let spread = [600, 3000, 30_000][round % 3];
            for _ in 0..400 {
                let ts = 1_571_325_625 + fastrand::i64(0..spread);
                let shares = fastrand::u64(1..30);
                let name = format!("BUY#X#{shares}");
                let order = buy(ts, shares);
                let seq = accepted.len() as u64 + 1;
                let plan = Plan::new(&books, seq, &order, name.clone(), 0);
                let in_books = books
                    .guards
                    .get(&name)
                    .into_iter()
                    .flatten()
                    .any(|&t| DedupKey::within_window(t, ts));
                let duplicate = accepted
                    .iter()
                    .any(|(n, t)| n == &name && DedupKey::within_window(*t, ts));
                assert_eq!(
                    duplicate,
                    in_books || refused(&plan, ts, &items),
                    "{name} at {ts}"
                );
                if duplicate {
                    continue;
                }
                // The commit's items, each named once.
                let b = DedupKey::bucket(ts);
                let mut named = std::collections::BTreeSet::new();
                for (i, c) in plan.checks.iter().enumerate() {
                    if c.is_some() {
                        assert!(named.insert((name.clone(), b - 1 + i as i64)));
                    }
                }
                for (n, t) in &plan.moved {
                    assert!(named.insert((n.clone(), DedupKey::bucket(*t))), "{n} {t}");
                }
                // The account item, the guard items, the ledger page and a key's record.
                assert!(named.len() + 3 <= 100);
                // Applied.
                if plan.checks[1] == Some(Check::Put) {
                    items.insert((name.clone(), b), ts);
                }
                for (n, t) in &plan.moved {
                    assert!(items
                        .insert((n.clone(), DedupKey::bucket(*t)), *t)
                        .is_none());
                }
                ledger += plan.ledger.len();
                books = plan.books;
                accepted.push((name, ts));
                assert!(books.recent.len() < FLUSH_AT);
                assert_eq!(ledger + books.recent.len(), accepted.len());
                let kept: usize = books.guards.values().map(Vec::len).sum();
                assert!(kept <= GUARDS_KEPT + FLUSH_AT, "{kept}");
                for (n, t) in &accepted {
                    let there = books.guards.get(n).is_some_and(|l| l.contains(t));
                    let item = items.get(&(n.clone(), DedupKey::bucket(*t))) == Some(t);
                    assert!(
                        there != item,
                        "{n} at {t}: in the books {there}, an item {item}"
                    );
                    assert_eq!(there, *t > books.fence);
                }
            }
        }
    }
}
