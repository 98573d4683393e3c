//! ETags: a strong validator of a resource's version, and the preconditions judged on it.

/// What an ETag belongs to, so one resource's tag never validates another's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sprocket,
    Factory,
}

impl Kind {
    fn letter(self) -> char {
        match self {
            Kind::Sprocket => 's',
            Kind::Factory => 'f',
        }
    }
}

/// The ETag of `version` of resource `id`: opaque to clients.
pub fn etag(kind: Kind, id: u64, version: u64) -> String {
    format!("\"{}{id}.{version}\"", kind.letter())
}

/// The versions of resource `id` that a list of entity tags names; `None` for `*`.
fn versions(header: &str, kind: Kind, id: u64) -> Option<Vec<u64>> {
    if header.trim() == "*" {
        return None;
    }
    let prefix = format!("\"{}{id}.", kind.letter());
    Some(
        header
            .split(',')
            .map(str::trim)
            .filter_map(|tag| tag.strip_prefix(&prefix)?.strip_suffix('"')?.parse().ok())
            .collect(),
    )
}

/// `If-Match` of a write, judged by DynamoDB in the write's condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// No `If-Match`: last write wins.
    None,
    /// `If-Match: *`: the resource must exist.
    Exists,
    /// The resource's version must be one of these (empty: nothing can match).
    Version(Vec<u64>),
}

impl Precondition {
    pub fn if_match(header: Option<&str>, kind: Kind, id: u64) -> Precondition {
        match header {
            None => Precondition::None,
            Some(h) => match versions(h, kind, id) {
                None => Precondition::Exists,
                Some(v) => Precondition::Version(v),
            },
        }
    }

    pub fn holds(&self, version: u64) -> bool {
        match self {
            Precondition::None | Precondition::Exists => true,
            Precondition::Version(v) => v.contains(&version),
        }
    }
}

/// Whether `If-None-Match` names the current version (weak comparison, as RFC 9110 has
/// it for GET): then the answer is 304.
pub fn not_modified(header: Option<&str>, kind: Kind, id: u64, version: u64) -> bool {
    let Some(header) = header else {
        return false;
    };
    let strong = header
        .split(',')
        .map(|t| t.trim().trim_start_matches("W/"))
        .collect::<Vec<_>>()
        .join(",");
    match versions(&strong, kind, id) {
        None => true,
        Some(v) => v.contains(&version),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preconditions_compare_versions_of_the_same_resource() {
        let tag = etag(Kind::Sprocket, 7, 3);
        let p = Precondition::if_match(Some(&tag), Kind::Sprocket, 7);
        assert_eq!(p, Precondition::Version(vec![3]));
        assert!(p.holds(3) && !p.holds(4));
        let other = Precondition::if_match(Some(&tag), Kind::Sprocket, 8);
        assert!(!other.holds(3));
        assert_eq!(
            Precondition::if_match(Some("*"), Kind::Factory, 1),
            Precondition::Exists
        );
        let list = format!("\"x\", {}", etag(Kind::Factory, 2, 5));
        assert!(Precondition::if_match(Some(&list), Kind::Factory, 2).holds(5));
        assert!(not_modified(
            Some(&format!("W/{tag}")),
            Kind::Sprocket,
            7,
            3
        ));
        assert!(!not_modified(Some(&tag), Kind::Sprocket, 7, 4));
        assert!(not_modified(Some("*"), Kind::Sprocket, 7, 4));
        assert!(!not_modified(None, Kind::Sprocket, 7, 4));
    }
}
