//! How deep and how costly a query is, counted on its parsed document before it runs.
//!
//! A field costs 1 plus its selection; the selection counts `first` times under a field
//! with a `first` argument (its value, else the field's default), 10 times under any other
//! list field, once otherwise (a connection's `nodes` once: `first` counted it already).

use async_graphql_parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, Selection, SelectionSet,
};
use async_graphql_parser::Positioned;
use async_graphql_value::Value;
use std::collections::HashSet;

pub const MAX_DEPTH: usize = 10;
pub const MAX_COST: u64 = 1000;
/// What a list without `first` counts as.
const LIST: u64 = 10;

/// The fields that take `first`, with its default.
fn first_default(field: &str) -> Option<u64> {
    match field {
        "similar" => Some(5),
        "products" | "posts" | "users" | "comments" | "photos" => Some(20),
        _ => None,
    }
}

/// The list fields without `first`.
fn is_list(field: &str) -> bool {
    matches!(field, "albums" | "todos" | "carts" | "lines" | "sources")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TooMuch {
    #[error("the query is {0} levels deep; at most {MAX_DEPTH} are allowed")]
    Deep(usize),
    #[error("the query costs {0}; at most {MAX_COST} is allowed")]
    Costly(u64),
}

/// Depth and cost of the operation that would run. A document whose operation cannot be
/// chosen is left to validation, which says why.
pub fn check(
    doc: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &serde_json::Map<String, serde_json::Value>,
) -> Result<(u64, usize), TooMuch> {
    let op = match (&doc.operations, operation_name) {
        (DocumentOperations::Single(op), _) => op,
        (DocumentOperations::Multiple(ops), Some(name)) => match ops.get(name) {
            Some(op) => op,
            None => return Ok((0, 0)),
        },
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => {
            ops.values().next().expect("one")
        }
        _ => return Ok((0, 0)),
    };
    let counter = Counter {
        doc,
        op: &op.node,
        variables,
    };
    let (cost, depth) = counter.selection(&op.node.selection_set, 0, &mut HashSet::new())?;
    if cost > MAX_COST {
        return Err(TooMuch::Costly(cost));
    }
    Ok((cost, depth))
}

struct Counter<'a> {
    doc: &'a ExecutableDocument,
    op: &'a OperationDefinition,
    variables: &'a serde_json::Map<String, serde_json::Value>,
}

impl Counter<'_> {
    /// Cost and depth of a selection set whose fields are at `depth + 1`.
    fn selection(
        &self,
        set: &Positioned<SelectionSet>,
        depth: usize,
        fragments: &mut HashSet<String>,
    ) -> Result<(u64, usize), TooMuch> {
        let mut cost = 0u64;
        let mut deepest = depth;
        for item in &set.node.items {
            let (c, d) = match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    let depth = depth + 1;
                    if depth > MAX_DEPTH {
                        return Err(TooMuch::Deep(depth));
                    }
                    let (inner, d) = self.selection(&field.selection_set, depth, fragments)?;
                    let name = field.name.node.as_str();
                    let times = match first_default(name) {
                        Some(default) => field
                            .get_argument("first")
                            .and_then(|v| self.number(&v.node))
                            .unwrap_or(default)
                            .min(crate::page::MAX_FIRST as u64),
                        None if is_list(name) => LIST,
                        None => 1,
                    };
                    (1u64.saturating_add(times.saturating_mul(inner)), d)
                }
                Selection::InlineFragment(f) => {
                    self.selection(&f.node.selection_set, depth, fragments)?
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.to_string();
                    // A cycle is validation's to report.
                    let Some(fragment) = self
                        .doc
                        .fragments
                        .get(spread.node.fragment_name.node.as_str())
                    else {
                        continue;
                    };
                    if !fragments.insert(name.clone()) {
                        continue;
                    }
                    let r = self.selection(&fragment.node.selection_set, depth, fragments);
                    fragments.remove(&name);
                    r?
                }
            };
            cost = cost.saturating_add(c);
            deepest = deepest.max(d);
        }
        Ok((cost, deepest))
    }

    fn number(&self, value: &Value) -> Option<u64> {
        match value {
            Value::Number(n) => n.as_u64(),
            Value::Variable(name) => match self.variables.get(name.as_str()) {
                Some(v) => v.as_u64(),
                None => self
                    .op
                    .variable_definitions
                    .iter()
                    .find(|d| d.node.name.node == *name)
                    .and_then(|d| d.node.default_value.as_ref())
                    .and_then(|v| match &v.node {
                        async_graphql_value::ConstValue::Number(n) => n.as_u64(),
                        _ => None,
                    }),
            },
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cost(q: &str) -> Result<(u64, usize), TooMuch> {
        let doc = async_graphql_parser::parse_query(q).unwrap();
        check(&doc, None, &serde_json::Map::new())
    }

    #[test]
    fn the_spec_example_is_well_within_limits() {
        let (c, d) = cost("{ user(id:1){ posts(first:10){ nodes{ comments(first:5){ nodes{ body } } } } carts{ lines{ product{ title } } } } }").unwrap();
        // user 1 + posts (1 + 10 × (nodes 1 + comments (1 + 5 × (nodes 1 + body 1))))
        // + carts (1 + 10 × (lines 1 + 10 × (product 1 + title 1)))
        assert_eq!(
            c,
            1 + (1 + 10 * (1 + (1 + 5 * 2))) + (1 + 10 * (1 + 10 * 2))
        );
        assert_eq!(d, 6);
    }

    #[test]
    fn first_multiplies_and_defaults_apply() {
        assert_eq!(cost("{ products { nodes { id } } }").unwrap().0, 1 + 20 * 2);
        assert_eq!(
            cost("{ products(first: 3) { totalCount } }").unwrap().0,
            1 + 3
        );
        let doc = async_graphql_parser::parse_query(
            "query($n: Int = 7) { products(first: $n) { totalCount } }",
        )
        .unwrap();
        assert_eq!(check(&doc, None, &serde_json::Map::new()).unwrap().0, 8);
        let vars = serde_json::json!({"n": 2}).as_object().unwrap().clone();
        assert_eq!(check(&doc, None, &vars).unwrap().0, 3);
        assert_eq!(cost("{ sources { count } }").unwrap().0, 11);
    }

    #[test]
    fn too_deep_and_too_costly_are_refused() {
        let deep = "{ product(id:\"fakestore:1\") { similar { similar { similar { similar { similar { similar { similar { similar { similar { id } } } } } } } } } } }";
        assert!(matches!(cost(deep), Err(TooMuch::Deep(_))));
        let costly = "{ products(first: 100) { nodes { similar(first: 100) { title } } } }";
        assert!(matches!(cost(costly), Err(TooMuch::Costly(_))));
        // Fragments count where they are spread, and a cycle does not loop.
        let frag = "query { products(first:100) { ...A } } fragment A on ProductConnection { nodes { similar(first:100) { id } } }";
        assert!(matches!(cost(frag), Err(TooMuch::Costly(_))));
        let cycle = "query { products { ...A } } fragment A on ProductConnection { ...B } fragment B on ProductConnection { ...A totalCount }";
        assert!(cost(cycle).is_ok());
    }
}
