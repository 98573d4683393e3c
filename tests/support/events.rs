//! The events service's test data: events shaped like the original's generator.

use events_domain::{DeviceType, Event, EventId};

/// 2026-03-01T00:00:00Z: generated events span 30 days from here.
pub const GENERATED_FROM: i64 = 1_772_323_200;

/// An event like the original's generator makes: 128 clients in 11 groups, 32 categories
/// and null, 3 device types and null, 80 % valid, over 30 days; named `id`.
pub fn generated(rng: &mut fastrand::Rng, id: EventId) -> Event {
    let devices = [
        None,
        Some(DeviceType::Desktop),
        Some(DeviceType::Mobile),
        Some(DeviceType::Tablet),
    ];
    let client = rng.i32(0..128);
    Event {
        id,
        device_type: devices[rng.usize(..4)],
        category: Some(rng.i32(-1..32)).filter(|c| *c >= 0),
        client,
        client_group: client % 11,
        timestamp: chrono::DateTime::from_timestamp(GENERATED_FROM + rng.i64(0..30 * 86_400), 0)
            .unwrap(),
        valid: rng.u8(0..10) < 8,
        value: rust_decimal::Decimal::new(rng.i64(0..100_000_000), 6),
    }
}
