//! `make soak`: randomized operations against the API at `API_URL`, then reconciliation.
//! Usage: soak [OPERATIONS] [CLIENTS] [ACCOUNTS]   (defaults 10000 32 24)

use api_tests::http_client::Api;

#[tokio::main]
async fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| {
            a.parse()
                .expect("whole numbers: OPERATIONS CLIENTS ACCOUNTS")
        })
        .collect();
    let arg = |i: usize, default: u64| args.get(i).copied().unwrap_or(default);
    let report = api_tests::soak::run(
        &Api::from_env(),
        arg(0, 10_000),
        arg(1, 32) as usize,
        arg(2, 24) as usize,
    )
    .await;
    report.print();
    if !report.violations.is_empty() {
        std::process::exit(1);
    }
}
