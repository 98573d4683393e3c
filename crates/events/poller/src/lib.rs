//! What Lambda's event source mapping does for `aggregate-events`, for DynamoDB Local:
//! every shard of the events table's stream read from its start (parents before their
//! children), records batched (up to `batch_size`, or what arrived within `window`),
//! each batch delivered as the Lambda event a tumbling window gives (`shardId` included),
//! in order per shard; a failed batch is retried, split in halves after repeated failures
//! (bisect), and the shard waits until it succeeds.

use aws_sdk_dynamodbstreams::types::{AttributeValue, Record, ShardIteratorType};
use aws_sdk_dynamodbstreams::Client;
use base64::Engine;
use futures::future::BoxFuture;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

/// Delivers one batch (the Lambda event as JSON): `Err` makes the poller retry it.
pub type Deliver = Arc<dyn Fn(Value) -> BoxFuture<'static, Result<(), String>> + Send + Sync>;

pub struct Poller {
    client: Client,
    arn: String,
    deliver: Deliver,
    pub batch_size: usize,
    pub window: Duration,
    /// Failures of one batch before it is split in halves.
    pub bisect_after: u32,
}

struct Shard {
    id: String,
    iterator: Option<String>,
    last: Option<String>,
    batch: Vec<Record>,
    first_at: Option<tokio::time::Instant>,
    closed: bool,
}

impl Poller {
    pub fn new(client: Client, stream_arn: String, deliver: Deliver) -> Poller {
        Poller {
            client,
            arn: stream_arn,
            deliver,
            batch_size: 1000,
            window: Duration::from_millis(250),
            bisect_after: 3,
        }
    }

    /// The stream of `table`, from DynamoDB (`describe_table`).
    pub async fn stream_arn(
        dynamodb: &aws_sdk_dynamodb::Client,
        table: &str,
    ) -> Result<String, String> {
        let out = dynamodb
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| format!("describe_table {table}: {e}"))?;
        out.table()
            .and_then(|t| t.latest_stream_arn())
            .map(str::to_owned)
            .ok_or_else(|| format!("table {table} has no stream"))
    }

    /// Polls until the task is dropped.
    pub async fn run(self) -> Result<(), String> {
        let mut shards: BTreeMap<String, Shard> = BTreeMap::new();
        let mut finished: HashSet<String> = HashSet::new();
        let mut described = None::<tokio::time::Instant>;
        loop {
            if described.is_none_or(|t| t.elapsed() > Duration::from_secs(2)) {
                self.describe(&mut shards, &finished).await?;
                described = Some(tokio::time::Instant::now());
            }
            let mut idle = true;
            let ids: Vec<String> = shards.keys().cloned().collect();
            for id in ids {
                if self.poll(shards.get_mut(&id).expect("listed")).await? {
                    idle = false;
                }
                let shard = shards.get_mut(&id).expect("listed");
                if shard.closed && shard.batch.is_empty() {
                    finished.insert(id.clone());
                    shards.remove(&id);
                }
            }
            if idle {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }

    /// Adds the shards not yet read whose parent is done (or gone from the stream).
    async fn describe(
        &self,
        shards: &mut BTreeMap<String, Shard>,
        finished: &HashSet<String>,
    ) -> Result<(), String> {
        let mut all = Vec::new();
        let mut start: Option<String> = None;
        loop {
            let out = self
                .client
                .describe_stream()
                .stream_arn(&self.arn)
                .set_exclusive_start_shard_id(start.clone())
                .send()
                .await
                .map_err(|e| format!("describe_stream: {e}"))?;
            let Some(d) = out.stream_description() else {
                break;
            };
            all.extend(d.shards().iter().cloned());
            start = d.last_evaluated_shard_id().map(str::to_owned);
            if start.is_none() {
                break;
            }
        }
        let known: HashSet<String> = all
            .iter()
            .filter_map(|s| s.shard_id().map(str::to_owned))
            .collect();
        for s in &all {
            let Some(id) = s.shard_id() else { continue };
            if shards.contains_key(id) || finished.contains(id) {
                continue;
            }
            let parent = s.parent_shard_id().map(str::to_owned);
            let waiting = parent
                .as_ref()
                .is_some_and(|p| known.contains(p) && !finished.contains(p));
            if waiting {
                continue;
            }
            shards.insert(
                id.to_owned(),
                Shard {
                    id: id.to_owned(),
                    iterator: None,
                    last: None,
                    batch: Vec::new(),
                    first_at: None,
                    closed: false,
                },
            );
        }
        Ok(())
    }

    /// Reads what the shard has and delivers a batch when it is full or its window passed:
    /// `true` if anything was read or delivered.
    async fn poll(&self, shard: &mut Shard) -> Result<bool, String> {
        let mut busy = false;
        if !shard.closed && shard.batch.len() < self.batch_size {
            if shard.iterator.is_none() {
                shard.iterator = Some(self.iterator(shard).await?);
            }
            let out = self
                .client
                .get_records()
                .set_shard_iterator(shard.iterator.clone())
                .limit((self.batch_size - shard.batch.len()).min(1000) as i32)
                .send()
                .await;
            match out {
                Ok(out) => {
                    if !out.records().is_empty() {
                        busy = true;
                        shard.first_at.get_or_insert_with(tokio::time::Instant::now);
                        for r in out.records() {
                            shard.last = r
                                .dynamodb()
                                .and_then(|d| d.sequence_number())
                                .map(str::to_owned);
                            shard.batch.push(r.clone());
                        }
                    }
                    shard.iterator = out.next_shard_iterator().map(str::to_owned);
                    shard.closed = shard.iterator.is_none();
                }
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_expired_iterator_exception()) =>
                {
                    shard.iterator = None;
                }
                // Retried from the last record read, as the event source mapping does.
                Err(e) => {
                    tracing::warn!(shard = shard.id, error = %aws_sdk_dynamodbstreams::error::DisplayErrorContext(&e), "get_records failed; retrying");
                    shard.iterator = None;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
        let due = shard.batch.len() >= self.batch_size
            || shard.first_at.is_some_and(|t| t.elapsed() >= self.window)
            || (shard.closed && !shard.batch.is_empty());
        if due && !shard.batch.is_empty() {
            let batch = std::mem::take(&mut shard.batch);
            shard.first_at = None;
            self.deliver_whole(&shard.id, &batch).await;
            busy = true;
        }
        Ok(busy)
    }

    async fn iterator(&self, shard: &Shard) -> Result<String, String> {
        let mut get = self
            .client
            .get_shard_iterator()
            .stream_arn(&self.arn)
            .shard_id(&shard.id);
        get = match &shard.last {
            Some(seq) => get
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .sequence_number(seq),
            None => get.shard_iterator_type(ShardIteratorType::TrimHorizon),
        };
        let out = get
            .send()
            .await
            .map_err(|e| format!("get_shard_iterator: {e}"))?;
        out.shard_iterator()
            .map(str::to_owned)
            .ok_or_else(|| "no shard iterator".into())
    }

    /// Delivers `records` until it succeeds, split in halves after repeated failures; the
    /// shard waits meanwhile, so its order holds.
    fn deliver_whole<'a>(&'a self, shard: &'a str, records: &'a [Record]) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let mut failures = 0u32;
            loop {
                match (self.deliver)(batch_event(&self.arn, shard, records)).await {
                    Ok(()) => return,
                    Err(e) => {
                        failures += 1;
                        tracing::warn!(shard, records = records.len(), failures, error = %e, "batch failed; retrying");
                        if failures >= self.bisect_after && records.len() > 1 {
                            let (a, b) = records.split_at(records.len() / 2);
                            self.deliver_whole(shard, a).await;
                            self.deliver_whole(shard, b).await;
                            return;
                        }
                        let wait = Duration::from_millis(100 * u64::from(failures.min(20)));
                        tokio::time::sleep(wait).await;
                    }
                }
            }
        })
    }
}

/// The Lambda event of a batch on a tumbling window: the records and the shard's id.
pub fn batch_event(arn: &str, shard: &str, records: &[Record]) -> Value {
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    json!({
        "Records": records.iter().map(|r| record_json(arn, r)).collect::<Vec<_>>(),
        "window": {"start": now, "end": now},
        "state": {},
        "shardId": shard,
        "eventSourceARN": arn,
        "isFinalInvokeForWindow": false,
        "isWindowTerminatedEarly": false,
    })
}

fn record_json(arn: &str, r: &Record) -> Value {
    let mut change = Map::new();
    if let Some(d) = r.dynamodb() {
        if let Some(t) = d.approximate_creation_date_time() {
            change.insert("ApproximateCreationDateTime".into(), json!(t.secs()));
        }
        for (name, image) in [
            ("Keys", d.keys()),
            ("NewImage", d.new_image()),
            ("OldImage", d.old_image()),
        ] {
            if let Some(image) = image {
                change.insert(
                    name.into(),
                    Value::Object(
                        image
                            .iter()
                            .map(|(k, v)| (k.clone(), attribute(v)))
                            .collect(),
                    ),
                );
            }
        }
        if let Some(seq) = d.sequence_number() {
            change.insert("SequenceNumber".into(), json!(seq));
        }
        change.insert("SizeBytes".into(), json!(d.size_bytes().unwrap_or(0)));
        change.insert("StreamViewType".into(), json!("NEW_AND_OLD_IMAGES"));
    }
    json!({
        "eventID": r.event_id(),
        "eventName": r.event_name().map(|n| n.as_str()),
        "eventVersion": r.event_version(),
        "eventSource": "aws:dynamodb",
        "awsRegion": r.aws_region().unwrap_or("us-east-1"),
        "eventSourceARN": arn,
        "dynamodb": change,
    })
}

/// An attribute value in DynamoDB's JSON, as a Lambda event carries it.
fn attribute(v: &AttributeValue) -> Value {
    let b64 = |b: &aws_sdk_dynamodbstreams::primitives::Blob| {
        base64::engine::general_purpose::STANDARD.encode(b.as_ref())
    };
    match v {
        AttributeValue::S(s) => json!({"S": s}),
        AttributeValue::N(n) => json!({"N": n}),
        AttributeValue::B(b) => json!({"B": b64(b)}),
        AttributeValue::Bool(b) => json!({"BOOL": b}),
        AttributeValue::Null(_) => json!({"NULL": true}),
        AttributeValue::M(m) => {
            json!({"M": m.iter().map(|(k, v)| (k.clone(), attribute(v))).collect::<Map<_, _>>()})
        }
        AttributeValue::L(l) => json!({"L": l.iter().map(attribute).collect::<Vec<_>>()}),
        AttributeValue::Ss(s) => json!({"SS": s}),
        AttributeValue::Ns(n) => json!({"NS": n}),
        AttributeValue::Bs(b) => json!({"BS": b.iter().map(b64).collect::<Vec<_>>()}),
        _ => Value::Null,
    }
}

/// Calls `aggregate-events`' handler in this process, through the same JSON a Lambda
/// invocation carries.
pub fn in_process(events: &'static events_store::Events) -> Deliver {
    Arc::new(move |payload: Value| {
        Box::pin(async move {
            let batch = serde_json::from_value(payload).map_err(|e| e.to_string())?;
            aggregate_events::handle(events, batch)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    })
}

/// Invokes the function through the Lambda Invoke API at `url` (for example
/// `http://127.0.0.1:9000/2015-03-31/functions/aggregate-events/invocations`); a function
/// error (`X-Amz-Function-Error`) or any status but 200 is a failure.
pub fn invoke(url: String) -> Deliver {
    use http_body_util::{BodyExt, Full};
    use hyper_util::client::legacy::Client as Http;
    use hyper_util::rt::TokioExecutor;
    let http: Http<_, Full<hyper::body::Bytes>> = Http::builder(TokioExecutor::new()).build_http();
    Arc::new(move |payload: Value| {
        let http = http.clone();
        let url = url.clone();
        Box::pin(async move {
            let request = hyper::Request::post(&url)
                .header("content-type", "application/json")
                .body(Full::from(payload.to_string()))
                .map_err(|e| e.to_string())?;
            let response = http.request(request).await.map_err(|e| e.to_string())?;
            let failed = response.headers().contains_key("x-amz-function-error");
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| e.to_string())?
                .to_bytes();
            if status != 200 || failed {
                return Err(format!("{status}: {}", String::from_utf8_lossy(&body)));
            }
            Ok(())
        })
    })
}
