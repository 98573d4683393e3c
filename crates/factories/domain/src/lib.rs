//! The factories service's rules as pure functions: no clock, no network, no storage.
//!
//! Sprockets are parsed whole or as a JSON Merge Patch ([`sprocket`]); charts are validated
//! whole, merged by time, bucketed and paged ([`chart`]); an import body is validated whole
//! with a JSON pointer for its first bad value ([`import`]); versions become ETags and
//! preconditions are judged on them ([`etag`]); list and chart positions become opaque
//! cursors ([`cursor`]).

pub mod chart;
pub mod cursor;
pub mod etag;
pub mod import;
pub mod sprocket;

pub use chart::{Chart, ChartQuery, Entry, Page, Point, Upsert};
pub use etag::{Kind, Precondition};
pub use import::{FactoryEntry, Import, SprocketEntry};
pub use sprocket::{Sprocket, SprocketPatch, SprocketSpec};

/// A bad value in a request: the field (or JSON pointer) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{field}` {reason}")]
pub struct Invalid {
    pub field: String,
    pub reason: String,
}

impl Invalid {
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Invalid {
        Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

/// A bad query parameter: its name and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{parameter}` {reason}")]
pub struct ParamError {
    pub parameter: &'static str,
    pub reason: String,
}

/// An id from a path: a positive integer (anything else names nothing, so it is a 404).
pub fn parse_id(raw: &str) -> Option<u64> {
    // The one spelling of each id: no sign, no leading zeros.
    if raw.is_empty()
        || raw.len() > 19
        || raw.starts_with('0')
        || !raw.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    raw.parse().ok().filter(|&id| id > 0)
}

/// Where a value sits in a body, as a JSON pointer (RFC 6901).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pointer(String);

impl Pointer {
    pub fn root() -> Pointer {
        Pointer(String::new())
    }

    pub fn join(&self, token: impl std::fmt::Display) -> Pointer {
        let token = token.to_string().replace('~', "~0").replace('/', "~1");
        Pointer(format!("{}/{token}", self.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The error at this pointer. A top-level body's fields are named plainly (`teeth`);
    /// deeper values by their whole pointer (`/factories/1/factory/chart_data/time/4`).
    pub fn invalid(&self, reason: impl Into<String>) -> Invalid {
        let field = match self.0.strip_prefix('/') {
            Some(rest) if !rest.contains('/') => rest.replace("~1", "/").replace("~0", "~"),
            _ => self.0.clone(),
        };
        Invalid::new(field, reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_positive_integers_only() {
        assert_eq!(parse_id("7"), Some(7));
        for bad in [
            "0",
            "007",
            "-1",
            "1.0",
            "abc",
            "",
            "+3",
            "99999999999999999999",
            " 1",
        ] {
            assert_eq!(parse_id(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn pointers_name_top_level_fields_plainly_and_deeper_values_whole() {
        assert_eq!(Pointer::root().join("teeth").invalid("x").field, "teeth");
        let deep = Pointer::root().join("factories").join(1).join("factory");
        assert_eq!(deep.invalid("x").field, "/factories/1/factory");
        assert_eq!(Pointer::root().join("a/b").as_str(), "/a~1b");
    }
}
