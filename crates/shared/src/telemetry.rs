//! JSON logs for CloudWatch, one line per event. The level comes from `RUST_LOG`, else from
//! the function's `ApplicationLogLevel` (Lambda's `AWS_LAMBDA_LOG_LEVEL`), else `info`.

use tracing_subscriber::EnvFilter;

pub fn init() {
    let lambda_level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .map(|l| l.to_lowercase())
        .unwrap_or_else(|_| "info".into());
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&lambda_level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    // A second call (tests start many apps in one process) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_target(false)
        .with_current_span(true)
        .with_span_list(false)
        .flatten_event(true)
        .try_init();
}

/// The request's outcome and the id it concerns, said by the request's closing line
/// ("request done") instead of a line of its own: a hot route writes one line, not two.
pub fn outcome(outcome: &'static str, id: &str) {
    let span = tracing::Span::current();
    span.record("outcome", outcome);
    span.record("id", id);
}

/// What else the closing line should say of the outcome (a rejection's reasons).
pub fn detail(detail: &str) {
    tracing::Span::current().record("detail", detail);
}
