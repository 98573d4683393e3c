//! `POST /imports`: the seed files' shape. The body is validated whole first (400 with the
//! JSON pointer of its first bad value, nothing written); then each key is looked up:
//! unknown keys are created with their key in one transaction (so concurrent imports
//! create each once), known ones compared and written only if they differ. A re-run writes
//! nothing and says `unchanged` for every entry.

use factories_domain::{Import, Kind, Precondition, SprocketPatch};
use factories_store::{invalid, store_error, Factories};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use shared::http::{self, ApiError};
use shared::{idempotency, Owner};
use std::collections::HashMap;

pub async fn handle(app: &Factories, req: Request) -> Response<Body> {
    http::finish(&http::path(&req), route(app, &req).await)
}

async fn route(app: &Factories, req: &Request) -> Result<Response<Body>, ApiError> {
    let owner = http::caller(app, req).await?;
    if req.method() != Method::POST {
        return Err(ApiError::MethodNotAllowed("POST"));
    }
    idempotency::once(app, req, &owner, || async {
        http::json_content_type(req)?;
        let fields = http::object_body_within(req, factories_store::MAX_BULK_BYTES)?;
        let import = Import::parse(&fields).map_err(invalid)?;
        let answer = run(app, &owner, &import).await?;
        Ok(http::json(StatusCode::OK, &answer))
    })
    .await
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Outcome {
    pub key: String,
    pub id: u64,
    pub result: &'static str,
}

#[derive(Debug, Serialize, Default)]
pub struct Answer {
    pub factories: Vec<Outcome>,
    pub sprockets: Vec<Outcome>,
}

type Keys = HashMap<(String, String), u64>;

/// Imports a validated body for `owner`.
pub async fn run(app: &Factories, owner: &Owner, import: &Import) -> Result<Answer, ApiError> {
    let mut keys: Keys = app
        .store
        .import_keys(owner)
        .await
        .map_err(store_error(Kind::Factory))?;
    let mut answer = Answer::default();
    for entry in &import.factories {
        answer
            .factories
            .push(factory(app, owner, &mut keys, &entry.key, &entry.chart.0).await?);
    }
    let known: Vec<u64> = import
        .sprockets
        .iter()
        .filter_map(|e| keys.get(&("S".to_owned(), e.key.clone())).copied())
        .collect();
    let mut stored = app
        .store
        .sprockets_by_id(owner, &known)
        .await
        .map_err(store_error(Kind::Sprocket))?;
    for entry in &import.sprockets {
        answer
            .sprockets
            .push(sprocket(app, owner, &mut keys, &mut stored, entry).await?);
    }
    tracing::info!(
        factories = answer.factories.len(),
        sprockets = answer.sprockets.len(),
        outcome = "imported"
    );
    Ok(answer)
}

async fn refresh(app: &Factories, owner: &Owner, keys: &mut Keys) -> Result<(), ApiError> {
    *keys = app
        .store
        .import_keys(owner)
        .await
        .map_err(store_error(Kind::Factory))?;
    Ok(())
}

async fn factory(
    app: &Factories,
    owner: &Owner,
    keys: &mut Keys,
    key: &str,
    points: &[factories_domain::Point],
) -> Result<Outcome, ApiError> {
    let map_key = ("F".to_owned(), key.to_owned());
    // A key taken by a concurrent import is known after a refresh.
    for _ in 0..5 {
        if let Some(&id) = keys.get(&map_key) {
            if points.is_empty() {
                return Ok(Outcome {
                    key: key.into(),
                    id,
                    result: "unchanged",
                });
            }
            let written = app
                .store
                .write_chart(owner, id, points, &Precondition::None)
                .await
                .map_err(store_error(Kind::Factory))?;
            let changed = written.inserted + written.replaced > 0;
            if changed {
                app.cache
                    .put_factory(owner, &written.factory.summary(), true)
                    .await;
            }
            let result = if changed { "updated" } else { "unchanged" };
            return Ok(Outcome {
                key: key.into(),
                id,
                result,
            });
        }
        match app
            .store
            .create_factory(owner, points, Some(key))
            .await
            .map_err(store_error(Kind::Factory))?
        {
            Some(f) => {
                app.cache.put_factory(owner, &f.summary(), true).await;
                keys.insert(map_key, f.id);
                return Ok(Outcome {
                    key: key.into(),
                    id: f.id,
                    result: "created",
                });
            }
            // Another import took the key first: it is known now.
            None => refresh(app, owner, keys).await?,
        }
    }
    Err(ApiError::Unavailable)
}

async fn sprocket(
    app: &Factories,
    owner: &Owner,
    keys: &mut Keys,
    stored: &mut HashMap<u64, factories_store::SprocketItem>,
    entry: &factories_domain::SprocketEntry,
) -> Result<Outcome, ApiError> {
    let map_key = ("S".to_owned(), entry.key.clone());
    let key = entry.key.clone();
    for _ in 0..5 {
        let known = keys.get(&map_key).copied();
        if let Some(id) = known {
            if let std::collections::hash_map::Entry::Vacant(slot) = stored.entry(id) {
                if let Some(item) = app
                    .store
                    .get_sprocket(owner, id)
                    .await
                    .map_err(store_error(Kind::Sprocket))?
                {
                    slot.insert(item);
                }
            }
            if let Some(item) = stored.get(&id) {
                if item.spec() == entry.spec {
                    return Ok(Outcome {
                        key,
                        id,
                        result: "unchanged",
                    });
                }
                let patch = SprocketPatch {
                    teeth: Some(entry.spec.teeth),
                    pitch_diameter: Some(entry.spec.pitch_diameter),
                    outside_diameter: Some(entry.spec.outside_diameter),
                    pitch: Some(entry.spec.pitch),
                };
                match app
                    .store
                    .update_sprocket(owner, id, &patch, &Precondition::None)
                    .await
                {
                    Ok(item) => {
                        let body = factories_store::json(&item.sprocket());
                        app.cache
                            .put_sprocket(owner, id, item.version, body, true)
                            .await;
                        stored.insert(id, item);
                        return Ok(Outcome {
                            key,
                            id,
                            result: "updated",
                        });
                    }
                    // Deleted meanwhile: the key creates a new sprocket.
                    Err(factories_store::StoreError::NotFound) => {
                        stored.remove(&id);
                    }
                    Err(e) => return Err(store_error(Kind::Sprocket)(e)),
                }
            }
        }
        // A new key, or one whose sprocket was deleted: a new sprocket.
        match app
            .store
            .import_sprocket(owner, &entry.key, &entry.spec, known)
            .await
            .map_err(store_error(Kind::Sprocket))?
        {
            Some(item) => {
                let body = factories_store::json(&item.sprocket());
                app.cache
                    .put_sprocket(owner, item.id, item.version, body, true)
                    .await;
                keys.insert(map_key, item.id);
                let id = item.id;
                stored.insert(id, item);
                return Ok(Outcome {
                    key,
                    id,
                    result: "created",
                });
            }
            None => {
                refresh(app, owner, keys).await?;
                stored.clear();
            }
        }
    }
    Err(ApiError::Unavailable)
}
