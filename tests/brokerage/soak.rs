//! A small soak (the same run `make soak` does at scale) against the local API.

use api_tests::http_client::Api;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_random_operations_reconcile_with_no_violation() {
    let report = api_tests::soak::run(&Api::from_env(), 1_000, 8, 20).await;
    report.print();
    assert!(report.operations >= 1_000, "{}", report.operations);
    assert!(report.accepted > 100 && report.replays > 10, "{report:?}");
    assert!(
        report.rejected.contains_key("DUPLICATED_OPERATION"),
        "{report:?}"
    );
    assert_eq!(report.violations, Vec::<String>::new());
}
