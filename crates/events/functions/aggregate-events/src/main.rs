use aws_lambda_events::event::dynamodb::TimeWindowEvent;
use lambda_runtime::{service_fn, LambdaEvent};
use shared::State;

fn main() -> Result<(), lambda_runtime::Error> {
    // One invocation at a time per execution environment: no worker threads.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async {
            shared::telemetry::init();
            let app = shared::App::from_env(events_store::Events::SERVICE).await?;
            let events: &'static events_store::Events =
                Box::leak(Box::new(events_store::Events::new(app)?));
            lambda_runtime::run(service_fn(|e: LambdaEvent<TimeWindowEvent>| {
                aggregate_events::handle(events, e.payload)
            }))
            .await
        })
}
