//! Pages over a list ordered by source (enum order), then id. A cursor names the last
//! item of a page, so the next page starts right after it whatever was added or removed
//! meanwhile: pages never repeat or skip an item that stays.

use crate::Source;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

pub const MAX_FIRST: i32 = 100;

/// Where a list is ordered: its source, then its id.
pub type Position = (Source, u64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    #[error("`first` must be between 1 and {MAX_FIRST}, got {0}")]
    First(i64),
    #[error("`after` must be an endCursor this API returned")]
    After,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageArgs {
    pub first: usize,
    pub after: Option<Position>,
}

impl PageArgs {
    pub fn new(first: i64, after: Option<&str>) -> Result<PageArgs, PageError> {
        if !(1..=i64::from(MAX_FIRST)).contains(&first) {
            return Err(PageError::First(first));
        }
        let after = after.map(decode).transpose()?;
        Ok(PageArgs {
            first: first as usize,
            after,
        })
    }
}

pub fn encode((source, id): Position) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1:{}:{id}", source.slug()))
}

pub fn decode(cursor: &str) -> Result<Position, PageError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(cursor)
        .map_err(|_| PageError::After)?;
    let text = std::str::from_utf8(&bytes).map_err(|_| PageError::After)?;
    let rest = text.strip_prefix("v1:").ok_or(PageError::After)?;
    let (source, id) = crate::parse_id(rest).map_err(|_| PageError::After)?;
    // One cursor per position: a re-encoding must give it back.
    if encode((source, id)) != cursor {
        return Err(PageError::After);
    }
    Ok((source, id))
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub nodes: Vec<T>,
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
    pub total_count: usize,
}

/// The page of `items` (ordered by `position`) that `args` asks for.
pub fn page<T: Clone>(items: &[T], position: impl Fn(&T) -> Position, args: PageArgs) -> Page<T> {
    let start = match args.after {
        Some(after) => items.partition_point(|i| position(i) <= after),
        None => 0,
    };
    let end = (start + args.first).min(items.len());
    let nodes = items[start..end].to_vec();
    Page {
        end_cursor: nodes.last().map(|n| encode(position(n))),
        has_next_page: end < items.len(),
        total_count: items.len(),
        nodes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cover_the_list_once_in_order() {
        let items: Vec<Position> = (1..=7)
            .map(|i| (Source::FakeStore, i))
            .chain((1..=5).map(|i| (Source::DummyJson, i)))
            .collect();
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let p = page(&items, |i| *i, PageArgs::new(5, after.as_deref()).unwrap());
            assert_eq!(p.total_count, 12);
            seen.extend(p.nodes.clone());
            if !p.has_next_page {
                break;
            }
            after = p.end_cursor;
        }
        assert_eq!(seen, items);
    }

    #[test]
    fn a_cursor_survives_its_item_going_away() {
        let items: Vec<Position> = (1..=6).map(|i| (Source::FakeStore, i)).collect();
        let first = page(&items, |i| *i, PageArgs::new(3, None).unwrap());
        let without_3: Vec<Position> = items.iter().copied().filter(|i| i.1 != 3).collect();
        let next = page(
            &without_3,
            |i| *i,
            PageArgs::new(3, first.end_cursor.as_deref()).unwrap(),
        );
        assert_eq!(
            next.nodes,
            vec![
                (Source::FakeStore, 4),
                (Source::FakeStore, 5),
                (Source::FakeStore, 6)
            ]
        );
    }

    #[test]
    fn only_issued_cursors_and_firsts_in_range_are_accepted() {
        assert_eq!(PageArgs::new(0, None), Err(PageError::First(0)));
        assert_eq!(PageArgs::new(101, None), Err(PageError::First(101)));
        for bad in [
            "",
            "abc",
            "djE6ZmFrZXN0b3JlOjA",
            "djE6ZmFrZXN0b3JlOjE=",
            "%%%",
        ] {
            assert_eq!(PageArgs::new(5, Some(bad)), Err(PageError::After), "{bad}");
        }
        let c = encode((Source::JsonPlaceholder, 42));
        assert_eq!(decode(&c), Ok((Source::JsonPlaceholder, 42)));
    }
}
