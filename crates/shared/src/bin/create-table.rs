//! Creates the table named by `TABLE_NAME` at `DYNAMODB_ENDPOINT` if it is missing:
//! local development only; in AWS the SAM template owns the table.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let app = shared::App::from_env().await?;
    app.store.create_table().await?;
    println!("table {} ready", app.store.table());
    Ok(())
}
