//! The OpenAPI document read as JSON, and real answers checked against it: each service's
//! test that every documented status is one its routes really answer, in the documented shape.

use lambda_http::{Body, Response};
use serde_json::Value;

pub fn yaml(file: &str) -> serde_norway::Value {
    let path = format!("{}/../{file}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn openapi() -> Value {
    serde_json::to_value(yaml("openapi.yaml")).expect("openapi.yaml is plain JSON-shaped YAML")
}

/// Follows a `$ref` within the document.
pub fn resolve<'a>(doc: &'a Value, v: &'a Value) -> &'a Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => doc
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("dangling $ref {r}")),
        None => v,
    }
}

/// Checks one real answer against the document: its status is documented for the
/// operation, its content type is the documented one, and the schema accepts its body.
pub fn check(doc: &Value, method: &str, path: &str, resp: &Response<Body>) -> u16 {
    let status = resp.status().as_u16();
    let op = &doc["paths"][path][method];
    assert!(op.is_object(), "{method} {path} is not documented");
    let documented = op["responses"]
        .get(status.to_string())
        .unwrap_or_else(|| panic!("{method} {path} answered {status}, which is not documented"));
    let documented = resolve(doc, documented);
    let Some(media) = documented["content"].as_object() else {
        assert!(
            resp.body().is_empty(),
            "{method} {path} {status} documents no body"
        );
        return status;
    };
    let (content_type, media) = media.iter().next().expect("one media type");
    assert_eq!(
        super::content_type(resp),
        content_type,
        "{method} {path} {status}"
    );
    for (name, _) in documented["headers"].as_object().into_iter().flatten() {
        assert!(
            resp.headers().contains_key(name.as_str()),
            "{method} {path} {status} lacks header {name}"
        );
    }
    // The schema with the document's components beside it, so its `$ref`s resolve.
    let mut schema = media["schema"].clone();
    schema["components"] = doc["components"].clone();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let body = super::json_of(resp);
    let errors: Vec<String> = validator
        .iter_errors(&body)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} {status}: {body} breaks the schema: {errors:?}"
    );
    status
}
