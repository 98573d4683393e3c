//! Every byte string as `POST /imports`' body: parsing never panics, and an accepted body
//! holds the contract's bounds (at most 100 factories and 1,000 sprockets, keys unique per
//! list and of the allowed characters).
#![no_main]

use factories_domain::import::{MAX_FACTORIES, MAX_KEY_LEN, MAX_SPROCKETS};
use factories_domain::Import;
use libfuzzer_sys::fuzz_target;
use shared::Fields;
use std::collections::BTreeSet;

fuzz_target!(|data: &[u8]| {
    let Ok(fields) = Fields::parse(data) else {
        return;
    };
    let Ok(import) = Import::parse(&fields) else {
        return;
    };
    assert!(import.factories.len() <= MAX_FACTORIES && import.sprockets.len() <= MAX_SPROCKETS);
    let keys: BTreeSet<&str> = import.factories.iter().map(|f| f.key.as_str()).collect();
    assert_eq!(keys.len(), import.factories.len());
    let keys: BTreeSet<&str> = import.sprockets.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(keys.len(), import.sprockets.len());
    for key in import.factories.iter().map(|f| &f.key).chain(import.sprockets.iter().map(|s| &s.key)) {
        assert!((1..=MAX_KEY_LEN).contains(&key.len()));
    }
    for s in &import.sprockets {
        assert!((1..=1000).contains(&s.spec.teeth));
    }
});
