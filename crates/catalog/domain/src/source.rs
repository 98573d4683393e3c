//! The three upstreams and their fifteen collections.

use serde::{Deserialize, Serialize};

/// An upstream, in the order lists present them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Source {
    FakeStore,
    JsonPlaceholder,
    DummyJson,
}

pub const SOURCES: [Source; 3] = [
    Source::FakeStore,
    Source::JsonPlaceholder,
    Source::DummyJson,
];

impl Source {
    /// The prefix of its ids (`fakestore:1`), its keys and its configuration.
    pub fn slug(self) -> &'static str {
        match self {
            Source::FakeStore => "fakestore",
            Source::JsonPlaceholder => "jsonplaceholder",
            Source::DummyJson => "dummyjson",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Source> {
        SOURCES.into_iter().find(|s| s.slug() == slug)
    }

    /// The suffix of its environment variables (`UPSTREAM_FAKESTORE_URL`).
    pub fn env(self) -> &'static str {
        match self {
            Source::FakeStore => "FAKESTORE",
            Source::JsonPlaceholder => "JSONPLACEHOLDER",
            Source::DummyJson => "DUMMYJSON",
        }
    }
}

/// What a collection holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Product,
    User,
    Cart,
    Post,
    Comment,
    Album,
    Photo,
    Todo,
}

/// One collection of one upstream, cached whole as one snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Collection {
    pub source: Source,
    pub kind: Kind,
}

const fn c(source: Source, kind: Kind) -> Collection {
    Collection { source, kind }
}

pub const COLLECTIONS: [Collection; 15] = [
    c(Source::FakeStore, Kind::Product),
    c(Source::FakeStore, Kind::User),
    c(Source::FakeStore, Kind::Cart),
    c(Source::JsonPlaceholder, Kind::User),
    c(Source::JsonPlaceholder, Kind::Post),
    c(Source::JsonPlaceholder, Kind::Comment),
    c(Source::JsonPlaceholder, Kind::Album),
    c(Source::JsonPlaceholder, Kind::Photo),
    c(Source::JsonPlaceholder, Kind::Todo),
    c(Source::DummyJson, Kind::Product),
    c(Source::DummyJson, Kind::User),
    c(Source::DummyJson, Kind::Cart),
    c(Source::DummyJson, Kind::Post),
    c(Source::DummyJson, Kind::Comment),
    c(Source::DummyJson, Kind::Todo),
];

impl Collection {
    /// Its name in the API and in keys: `products`, `users`, ...
    pub fn name(self) -> &'static str {
        match self.kind {
            Kind::Product => "products",
            Kind::User => "users",
            Kind::Cart => "carts",
            Kind::Post => "posts",
            Kind::Comment => "comments",
            Kind::Album => "albums",
            Kind::Photo => "photos",
            Kind::Todo => "todos",
        }
    }

    /// The upstream path that returns it whole. DummyJSON pages by 30 unless `limit=0`.
    pub fn path(self) -> String {
        match self.source {
            Source::DummyJson => format!("/{}?limit=0", self.name()),
            _ => format!("/{}", self.name()),
        }
    }

    /// `fakestore/products`: how logs, metrics and errors name it.
    pub fn key(self) -> String {
        format!("{}/{}", self.source.slug(), self.name())
    }

    pub fn find(source: Source, kind: Kind) -> Option<Collection> {
        COLLECTIONS
            .into_iter()
            .find(|c| c.source == source && c.kind == kind)
    }

    /// `fakestore/products` back to its collection.
    pub fn from_key(key: &str) -> Option<Collection> {
        COLLECTIONS.into_iter().find(|c| c.key() == key)
    }

    /// The field its records are grouped by for their parent (`userId` of a post), if any.
    pub fn parent(self) -> Option<&'static str> {
        match self.kind {
            Kind::Product | Kind::User => None,
            Kind::Cart | Kind::Post | Kind::Album | Kind::Todo => Some("userId"),
            Kind::Comment => Some("postId"),
            Kind::Photo => Some("albumId"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifteen_collections_each_with_its_path_and_key() {
        let keys: std::collections::HashSet<_> = COLLECTIONS.iter().map(|c| c.key()).collect();
        assert_eq!(keys.len(), 15);
        assert_eq!(COLLECTIONS[9].path(), "/products?limit=0");
        assert_eq!(COLLECTIONS[0].path(), "/products");
        assert_eq!(
            Collection::from_key("jsonplaceholder/photos")
                .unwrap()
                .parent(),
            Some("albumId")
        );
        assert_eq!(Source::from_slug("dummyjson"), Some(Source::DummyJson));
        assert_eq!(Source::from_slug("DummyJSON"), None);
    }
}
