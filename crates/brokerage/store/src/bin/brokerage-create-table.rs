//! Creates the brokerage's table (`BROKERAGE_TABLE`, default `brokerage`) at `DYNAMODB_ENDPOINT`
//! if it is missing: local development only; in AWS the SAM template owns the table.

use shared::State;

#[tokio::main]
async fn main() -> Result<(), shared::BoxError> {
    let app = shared::App::from_env(brokerage_store::Brokerage::SERVICE).await?;
    let store = brokerage_store::Store::new(app.dynamodb.clone(), app.config.table_name.clone());
    store.create_table().await?;
    println!("table {} ready", store.table());
    Ok(())
}
