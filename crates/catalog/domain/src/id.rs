//! Ids are `"<source>:<id>"`: the upstream's slug and its positive integer id.

use crate::Source;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an id of the form \"<source>:<id>\" (fakestore, jsonplaceholder or dummyjson, then a positive integer)")]
pub struct IdError(pub String);

/// `dummyjson:12` as its source and number. Leading zeros, signs and spaces are refused so
/// that one thing has one id.
pub fn parse_id(id: &str) -> Result<(Source, u64), IdError> {
    let bad = || IdError(id.chars().take(100).collect());
    let (source, number) = id.split_once(':').ok_or_else(bad)?;
    let source = Source::from_slug(source).ok_or_else(bad)?;
    if number.is_empty() || number.starts_with('0') || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let n = number.parse::<u64>().map_err(|_| bad())?;
    Ok((source, n))
}

pub fn format_id(source: Source, id: u64) -> String {
    format!("{}:{id}", source.slug())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_source_colon_positive_integer() {
        assert_eq!(parse_id("fakestore:1"), Ok((Source::FakeStore, 1)));
        assert_eq!(parse_id("dummyjson:194"), Ok((Source::DummyJson, 194)));
        for bad in [
            "",
            "1",
            "fakestore",
            "fakestore:",
            "fakestore:0",
            "fakestore:01",
            "fakestore:-1",
            "fakestore: 1",
            "FakeStore:1",
            "amazon:1",
            "fakestore:1:2",
            "fakestore:99999999999999999999",
        ] {
            assert!(parse_id(bad).is_err(), "{bad}");
        }
        assert_eq!(format_id(Source::JsonPlaceholder, 7), "jsonplaceholder:7");
    }
}
