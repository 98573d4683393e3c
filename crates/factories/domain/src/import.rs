//! `POST /imports`: the seed files' shape, validated whole before anything is written, the
//! first bad value named by its JSON pointer.

use serde_json::value::RawValue;
use shared::{Field, Fields};
use std::collections::BTreeSet;

use crate::chart::Chart;
use crate::sprocket::SprocketSpec;
use crate::{Invalid, Pointer};

pub const MAX_FACTORIES: usize = 100;
pub const MAX_SPROCKETS: usize = 1_000;
pub const MAX_KEY_LEN: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactoryEntry {
    pub key: String,
    pub chart: Chart,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SprocketEntry {
    pub key: String,
    pub spec: SprocketSpec,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Import {
    pub factories: Vec<FactoryEntry>,
    pub sprockets: Vec<SprocketEntry>,
}

fn array<'a>(raw: &'a RawValue, at: &Pointer, max: usize) -> Result<Vec<&'a RawValue>, Invalid> {
    if !raw.get().starts_with('[') {
        return Err(at.invalid("must be an array"));
    }
    let items: Vec<&RawValue> =
        serde_json::from_str(raw.get()).map_err(|_| at.invalid("must be an array"))?;
    if items.len() > max {
        return Err(at.invalid(format!("has more than {max} entries")));
    }
    Ok(items)
}

fn object(raw: &RawValue, at: &Pointer) -> Result<Fields, Invalid> {
    if !raw.get().starts_with('{') {
        return Err(at.invalid("must be an object"));
    }
    Fields::parse(raw.get().as_bytes()).map_err(|_| at.invalid("must be an object"))
}

fn only(fields: &Fields, at: &Pointer, known: &[&str]) -> Result<(), Invalid> {
    let mut names: Vec<&str> = fields.names().filter(|n| !known.contains(n)).collect();
    names.sort_unstable();
    match names.first() {
        Some(n) => Err(at
            .join(n)
            .invalid(format!("is not known here (known: {})", known.join(", ")))),
        None => Ok(()),
    }
}

/// An entry's key: given (1..64 of `A-Za-z0-9._-`) or `<kind>-<n>` from its position.
fn key(fields: &Fields, at: &Pointer, kind: &str, index: usize) -> Result<String, Invalid> {
    match fields.get("key") {
        Field::Missing => Ok(format!("{kind}-{}", index + 1)),
        Field::Text(k)
            if (1..=MAX_KEY_LEN).contains(&k.len())
                && k.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')) =>
        {
            Ok(k)
        }
        _ => Err(at.join("key").invalid(format!(
            "must be 1 to {MAX_KEY_LEN} of the characters A-Z a-z 0-9 . _ -"
        ))),
    }
}

fn unique(keys: &mut BTreeSet<String>, key: &str, at: &Pointer) -> Result<(), Invalid> {
    if keys.insert(key.to_owned()) {
        Ok(())
    } else {
        Err(at
            .join("key")
            .invalid(format!("repeats the key {key:?} of an earlier entry")))
    }
}

impl Import {
    pub fn parse(fields: &Fields) -> Result<Import, Invalid> {
        let root = Pointer::root();
        only(fields, &root, &["factories", "sprockets"])?;
        let mut import = Import::default();
        if let Some(raw) = fields.raw("factories") {
            let at = root.join("factories");
            let mut keys = BTreeSet::new();
            for (i, item) in array(raw, &at, MAX_FACTORIES)?.into_iter().enumerate() {
                let at = at.join(i);
                let entry = object(item, &at)?;
                only(&entry, &at, &["key", "factory"])?;
                let key = key(&entry, &at, "factory", i)?;
                unique(&mut keys, &key, &at)?;
                let factory_at = at.join("factory");
                let chart = match entry.raw("factory") {
                    None => return Err(factory_at.invalid("is required")),
                    Some(raw) => {
                        let factory = object(raw, &factory_at)?;
                        only(&factory, &factory_at, &["chart_data"])?;
                        match factory.raw("chart_data") {
                            None => Chart::default(),
                            Some(chart) => {
                                Chart::parse_at(chart, &factory_at.join("chart_data"), 0)?
                            }
                        }
                    }
                };
                import.factories.push(FactoryEntry { key, chart });
            }
        }
        if let Some(raw) = fields.raw("sprockets") {
            let at = root.join("sprockets");
            let mut keys = BTreeSet::new();
            for (i, item) in array(raw, &at, MAX_SPROCKETS)?.into_iter().enumerate() {
                let at = at.join(i);
                let entry = object(item, &at)?;
                let key = key(&entry, &at, "sprocket", i)?;
                unique(&mut keys, &key, &at)?;
                let spec = SprocketSpec::parse_at(&entry, &at, &["key"])?;
                import.sprockets.push(SprocketEntry { key, spec });
            }
        }
        Ok(import)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Import, Invalid> {
        Import::parse(&Fields::parse(json.as_bytes()).unwrap())
    }

    #[test]
    fn the_originals_files_are_valid_bodies_with_keys_from_positions() {
        let import = parse(
            r#"{"factories": [{"factory": {"chart_data": {"sprocket_production_actual": [32, 29], "sprocket_production_goal": [31, 30], "time": [1611194818, 1611194878]}}}],
                "sprockets": [{"teeth": 5, "pitch_diameter": 5, "outside_diameter": 6, "pitch": 1}, {"key": "s2", "teeth": 5, "pitch_diameter": 5, "outside_diameter": 6, "pitch": 1}]}"#,
        )
        .unwrap();
        assert_eq!(import.factories[0].key, "factory-1");
        assert_eq!(import.factories[0].chart.0.len(), 2);
        assert_eq!(import.sprockets[0].key, "sprocket-1");
        assert_eq!(import.sprockets[1].key, "s2");
    }

    #[test]
    fn the_first_bad_value_is_named_by_its_pointer() {
        let cases = [
            (
                r#"{"factories": [{"factory": {}}, {"factory": {"chart_data": {"sprocket_production_actual": [1,1,1,1,1], "sprocket_production_goal": [1,1,1,1,1], "time": [1,2,3,4,4]}}}]}"#,
                "/factories/1/factory/chart_data/time/4",
            ),
            (
                r#"{"sprockets": [{"teeth": 5, "pitch_diameter": 5, "outside_diameter": 6, "pitch": 0}]}"#,
                "/sprockets/0/pitch",
            ),
            (
                r#"{"sprockets": [{"key": "a b", "teeth": 5, "pitch_diameter": 5, "outside_diameter": 6, "pitch": 1}]}"#,
                "/sprockets/0/key",
            ),
            (
                r#"{"sprockets": [{"key": "sprocket-2", "teeth": 5, "pitch_diameter": 5, "outside_diameter": 6, "pitch": 1}, {"teeth": 5, "pitch_diameter": 5, "outside_diameter": 6, "pitch": 1}]}"#,
                "/sprockets/1/key",
            ),
            (r#"{"factories": [{"key": "x"}]}"#, "/factories/0/factory"),
            (r#"{"factories": {}}"#, "factories"),
            (r#"{"machines": []}"#, "machines"),
        ];
        for (body, pointer) in cases {
            assert_eq!(parse(body).unwrap_err().field, pointer, "{body}");
        }
        let many = format!(
            "{{\"factories\": [{}]}}",
            vec![r#"{"factory": {}}"#; 101].join(",")
        );
        assert_eq!(parse(&many).unwrap_err().field, "factories");
    }
}
