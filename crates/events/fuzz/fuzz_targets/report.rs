//! Every byte string as `GET /report`'s decoded query (`name=value` pairs split on `&`):
//! parsing never panics, what it accepts holds the contract's bounds, and a report over no
//! cells is computed without panicking.
#![no_main]

use events_domain::query::{Column, MAX_LIMIT, MAX_OFFSET};
use events_domain::{compute, ReportQuery};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let pairs: Vec<(String, String)> = text
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (p.to_owned(), String::new()),
        })
        .collect();
    let Ok(q) = ReportQuery::parse(&pairs) else {
        return;
    };
    assert!((1..=MAX_LIMIT).contains(&q.limit) && q.offset <= MAX_OFFSET);
    for o in &q.order_by {
        if let Column::Dim(d) = o.column {
            assert!(q.group_by.contains(&d), "{d:?} ordered but not grouped");
        }
    }
    if let (Some(s), Some(e)) = (q.start_date, q.end_date) {
        assert!(s < e);
    }
    let report = compute(&q, std::iter::empty());
    assert!(report.rows.is_empty() && report.total_count == 0);
});
