//! Creates the events service's tables (`EVENTS_TABLE`, default `events`, with its stream,
//! and the aggregates table) at `DYNAMODB_ENDPOINT` if missing: local development only; in
//! AWS the SAM template owns them.

use shared::State;

#[tokio::main]
async fn main() -> Result<(), shared::BoxError> {
    let app = shared::App::from_env(events_store::Events::SERVICE).await?;
    let events = events_store::Events::new(app)?;
    events.store.create_tables().await?;
    println!(
        "tables {} and {} ready",
        events.store.events_table(),
        events.store.aggregates_table()
    );
    Ok(())
}
