//! Cursors: opaque to clients, a position the server can check.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

fn decode(raw: &str, tag: &str) -> Option<Vec<i64>> {
    let bytes = URL_SAFE_NO_PAD.decode(raw).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let rest = text.strip_prefix(tag)?.strip_prefix(':')?;
    rest.split(':')
        .map(|n| {
            // Only the form `encode` writes: no sign, no leading zeros.
            let canonical = !n.is_empty() && (n == "0" || !n.starts_with('0'));
            n.bytes()
                .all(|b| b.is_ascii_digit())
                .then_some(())
                .filter(|_| canonical)?;
            n.parse().ok()
        })
        .collect()
}

/// A list page's cursor: the last id it answered.
pub fn encode_list(last_id: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("l:{last_id}"))
}

pub fn decode_list(raw: &str) -> Option<u64> {
    match decode(raw, "l")?.as_slice() {
        [id] if *id > 0 => Some(*id as u64),
        _ => None,
    }
}

/// A chart page's cursor: where the next page starts and the bucket (0: none) it was for.
pub fn encode_chart(start: i64, bucket: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("c:{start}:{bucket}"))
}

pub fn decode_chart(raw: &str) -> Option<(i64, i64)> {
    match decode(raw, "c")?.as_slice() {
        [start, bucket] => Some((*start, *bucket)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_anything_else() {
        assert_eq!(decode_list(&encode_list(42)), Some(42));
        assert_eq!(
            decode_chart(&encode_chart(1_611_194_818, 60)),
            Some((1_611_194_818, 60))
        );
        assert_eq!(decode_list(&encode_chart(1, 0)), None);
        assert_eq!(decode_list("not a cursor"), None);
        assert_eq!(decode_list(&URL_SAFE_NO_PAD.encode("l:007")), None);
        assert_eq!(decode_list(&URL_SAFE_NO_PAD.encode("l:-1")), None);
        assert_eq!(decode_list(&URL_SAFE_NO_PAD.encode("l:0")), None);
    }
}
