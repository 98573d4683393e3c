use shared::State;

fn main() -> Result<(), lambda_runtime::Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async {
            shared::telemetry::init();
            let app = shared::App::from_env(catalog_store::Catalog::SERVICE).await?;
            let catalog: &'static catalog_store::Catalog = Box::leak(Box::new(catalog_store::Catalog::new(app)?));
            lambda_runtime::run(lambda_runtime::service_fn(|event: lambda_runtime::LambdaEvent<catalog_store::snapshot::RefreshRequest>| async move {
                refresh_upstream::handle(catalog, event.payload).await
            }))
            .await
        })
}
