//! The snapshot's items and their batched reads.
//!
//! One partition per collection and generation (`fakestore/products#<generation>`):
//! `E#<id>` an entity, `P#<parent>` the children of one parent in id order (a user's
//! posts, a post's comments), `L#<n>` the whole collection in id order, in chunks under
//! DynamoDB's item size. META items share the partition `META`, so one Query reads all 15.

use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use futures::{stream, StreamExt, TryStreamExt};
use shared::dynamo::{unavailable, Item, Unavailable};
use std::collections::HashMap;

pub const META_PK: &str = "META";
/// A list chunk stays well under DynamoDB's 400 KB item limit.
pub const CHUNK_BYTES: usize = 300 * 1024;
/// BatchGetItem reads at most 100 keys a call.
const BATCH_GET: usize = 100;

pub fn partition(collection_key: &str, generation: u64) -> String {
    format!("{collection_key}#{generation}")
}

pub fn entity_sk(id: u64) -> String {
    format!("E#{id:010}")
}

pub fn parent_sk(parent: u64) -> String {
    format!("P#{parent:010}")
}

pub fn chunk_sk(n: u32) -> String {
    format!("L#{n:04}")
}

/// One key of a snapshot item.
pub type Key = (String, String);

/// The `v` (JSON) of every item of `keys` that exists: one BatchGetItem per 100 keys,
/// in parallel, unprocessed keys asked again.
pub async fn batch_get(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    keys: &[Key],
) -> Result<HashMap<Key, String>, Unavailable> {
    let mut unique: Vec<Key> = keys.to_vec();
    unique.sort();
    unique.dedup();
    let chunks: Vec<Vec<Key>> = unique.chunks(BATCH_GET).map(<[Key]>::to_vec).collect();
    let results: Vec<Vec<(Key, String)>> =
        stream::iter(chunks.into_iter().map(|chunk| async move {
            let mut pending: Vec<Item> = chunk
                .iter()
                .map(|(pk, sk)| shared::dynamo::key(pk.clone(), sk.clone()))
                .collect();
            let mut found = Vec::new();
            for attempt in 0..5 {
                if pending.is_empty() {
                    break;
                }
                if attempt > 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(20 << attempt)).await;
                }
                let ask = KeysAndAttributes::builder()
                    .set_keys(Some(std::mem::take(&mut pending)))
                    .build()
                    .expect("keys are set");
                let out = client
                    .batch_get_item()
                    .request_items(table, ask)
                    .send()
                    .await
                    .map_err(unavailable)?;
                for item in out
                    .responses
                    .unwrap_or_default()
                    .remove(table)
                    .unwrap_or_default()
                {
                    if let (
                        Some(AttributeValue::S(pk)),
                        Some(AttributeValue::S(sk)),
                        Some(AttributeValue::S(v)),
                    ) = (item.get("pk"), item.get("sk"), item.get("v"))
                    {
                        found.push(((pk.clone(), sk.clone()), v.clone()));
                    }
                }
                pending = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(table))
                    .map(|k| k.keys)
                    .unwrap_or_default();
            }
            if !pending.is_empty() {
                return Err(Unavailable("BatchGetItem left keys unprocessed".into()));
            }
            Ok::<_, Unavailable>(found)
        }))
        .buffer_unordered(8)
        .try_collect()
        .await?;
    Ok(results.into_iter().flatten().collect())
}
