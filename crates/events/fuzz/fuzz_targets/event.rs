//! Every byte string as a `POST /event` body, and as a path segment for an event id.
//! Parsing never panics, and what it accepts answers as it was given: the stored event
//! parsed again is the same event.
#![no_main]

use events_domain::{Event, EventId};
use libfuzzer_sys::fuzz_target;
use shared::Fields;

fn server_id() -> EventId {
    EventId::parse("00000000-0000-4000-8000-000000000000").expect("a UUID")
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(id) = EventId::parse(text) {
            assert_eq!(id.as_str(), text.to_ascii_lowercase());
        }
    }
    let Ok(fields) = Fields::parse(data) else {
        return;
    };
    let Ok(event) = Event::parse(&fields, server_id) else {
        return;
    };
    assert!(event.value.scale() <= 6, "{}", event.value);
    let answered = serde_json::to_vec(&event).expect("an event serializes");
    let again = Fields::parse(&answered).expect("the answer is JSON");
    assert_eq!(Event::parse(&again, server_id).as_ref(), Ok(&event));
});
