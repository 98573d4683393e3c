//! `make run`'s event source mapping: reads the events table's stream on DynamoDB Local and
//! delivers each batch to `aggregate-events`, at `AGGREGATOR_URL` (the Lambda Invoke API of
//! `cargo lambda watch` or `sam local start-lambda`) or, without it, by calling the
//! function's handler in this process.

use events_poller::{Deliver, Poller};
use shared::State;

#[tokio::main]
async fn main() -> Result<(), shared::BoxError> {
    shared::telemetry::init();
    let app = shared::App::from_env(events_store::Events::SERVICE).await?;
    let sdk = shared::app::sdk_config(&app.config).await;
    let mut streams = aws_sdk_dynamodbstreams::config::Builder::from(&sdk);
    if let Some(endpoint) = &app.config.dynamodb_endpoint {
        streams = streams.endpoint_url(endpoint);
    }
    let streams = aws_sdk_dynamodbstreams::Client::from_conf(streams.build());
    let table = app.config.table_name.clone();
    let arn = Poller::stream_arn(&app.dynamodb, &table).await?;
    let deliver: Deliver = match std::env::var("AGGREGATOR_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        Some(url) => events_poller::invoke(url),
        None => {
            let events: &'static events_store::Events =
                Box::leak(Box::new(events_store::Events::new(app)?));
            events_poller::in_process(events)
        }
    };
    tracing::info!(table, stream = arn, "polling");
    Poller::new(streams, arn, deliver).run().await?;
    Ok(())
}
