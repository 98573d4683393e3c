//! Every byte string as a chart write's body and, split on `&`, as a chart query: parsing
//! never panics; an accepted chart is sorted with unique times in range; an accepted query
//! pages any accepted chart without panicking, never past its limit.
#![no_main]

use factories_domain::chart::{MAX_COUNT, MAX_TIME};
use factories_domain::{Chart, ChartQuery, Pointer};
use libfuzzer_sys::fuzz_target;
use shared::Fields;

fuzz_target!(|data: &[u8]| {
    let chart = Fields::parse(data)
        .ok()
        .and_then(|f| Chart::parse_fields(&f, &Pointer::root(), 1).ok());
    if let Some(c) = &chart {
        assert!(!c.0.is_empty());
        for w in c.0.windows(2) {
            assert!(w[0].time < w[1].time);
        }
        for p in &c.0 {
            assert!((0..=MAX_TIME).contains(&p.time));
            assert!(p.actual as i64 <= MAX_COUNT && p.goal as i64 <= MAX_COUNT);
        }
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let pairs: Vec<(&str, &str)> = text
        .split('&')
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    let Ok(q) = ChartQuery::parse(|k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string()))
    else {
        return;
    };
    assert!(q.from < q.to && q.start() >= q.from && q.start() < q.to);
    let points = chart.map(|c| c.0).unwrap_or_default();
    let inside: Vec<_> = points
        .into_iter()
        .filter(|p| p.time >= q.start() && p.time < q.to)
        .collect();
    let page = q.page(&inside, q.to);
    assert!(page.time.len() <= q.limit);
    assert_eq!(page.time.len(), page.sprocket_production_actual.len());
});
