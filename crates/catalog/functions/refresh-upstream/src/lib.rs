//! `{"collection": "dummyjson/products"}` in, that collection refreshed: fetched (with
//! `If-None-Match`), validated, and adopted as a new generation, or its failure noted on
//! META. A refresh already in flight elsewhere is waited for, not repeated.

use catalog_domain::Collection;
use catalog_store::snapshot::RefreshRequest;
use catalog_store::Catalog;
use serde_json::{json, Value};

pub async fn handle(
    app: &Catalog,
    request: RefreshRequest,
) -> Result<Value, lambda_runtime::Error> {
    let Some(collection) = Collection::from_key(&request.collection) else {
        return Err(format!("unknown collection {:?}", request.collection).into());
    };
    // A failed refresh is an answer, not an error: retrying an asynchronous invoke would
    // only call the upstream again, against its circuit and limits.
    Ok(match app.snapshots.refresh(collection).await {
        Ok(meta) => {
            json!({"collection": request.collection, "generation": meta.generation, "count": meta.count})
        }
        Err(reason) => {
            tracing::warn!(collection = %request.collection, reason, "refresh failed");
            json!({"collection": request.collection, "failed": reason})
        }
    })
}
