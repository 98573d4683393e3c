//! Every byte string as a request: a body for either POST, and a path segment as an
//! account id. Parsing must never panic, and what it accepts must hold the contract's
//! bounds.
#![no_main]

use brokerage_domain::{AccountId, Cash, Order, Shares};
use shared::Fields;
use libfuzzer_sys::fuzz_target;

// Inside the window where a timestamp is neither in the future nor out of range.
const NOW: i64 = 1_800_000_000;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(id) = AccountId::parse(text) {
            assert!(id.0 > 0);
            assert_eq!(id.to_string(), text);
        }
    }
    let Ok(fields) = Fields::parse(data) else {
        return;
    };
    if let Ok(cash) = Cash::parse(&fields.get("cash")) {
        let v = cash.value();
        assert!(v >= 0.into() && v.scale() <= 2, "{v}");
    }
    if let Some(order) = Order::parse(|name| fields.get(name), NOW) {
        assert!(order.timestamp <= NOW + 300);
        assert!(order.shares.get() >= 1 && Shares::new(order.shares.get()).is_some());
        assert!(order.price.value() > 0.into() && order.price.value().scale() <= 6);
        // The amount is exact: no overflow panics on the way.
        let _ = order.amount();
    }
});
