//! Creates the factories table (`FACTORIES_TABLE`, default `factories`) at
//! `DYNAMODB_ENDPOINT` if missing: local development only; in AWS the SAM template owns it.

use shared::State;

#[tokio::main]
async fn main() -> Result<(), shared::BoxError> {
    let app = shared::App::from_env(factories_store::Factories::SERVICE).await?;
    let factories = factories_store::Factories::new(app)?;
    factories.store.create_table().await?;
    println!("table {} ready", factories.store.table());
    Ok(())
}
