//! Creates the catalog table (`CATALOG_TABLE`, default `catalog`) at `DYNAMODB_ENDPOINT`
//! if missing: local development only; in AWS the SAM template owns it.

use shared::State;

#[tokio::main]
async fn main() -> Result<(), shared::BoxError> {
    let app = shared::App::from_env(catalog_store::Catalog::SERVICE).await?;
    let catalog = catalog_store::Catalog::new(app)?;
    shared::dynamo::create_table(&catalog.app.dynamodb, &catalog.app.config.table_name, false)
        .await?;
    println!("table {} ready", catalog.app.config.table_name);
    Ok(())
}
