//! Sprockets: four fields parsed exactly, whole (POST, PUT, imports) or as a JSON Merge
//! Patch (PATCH); `id` and `version` in a body are ignored, as the server owns them.

use rust_decimal::Decimal;
use serde::Serialize;
use shared::input::serialize_decimal;
use shared::{Field, Fields};

use crate::{Invalid, Pointer};

pub const FIELDS: [&str; 4] = ["teeth", "pitch_diameter", "outside_diameter", "pitch"];
/// Members a body may carry that the server ignores.
const IGNORED: [&str; 2] = ["id", "version"];
pub const MAX_TEETH: i64 = 1000;
const MAX_SCALE: u32 = 4;

/// What a client sets of a sprocket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SprocketSpec {
    pub teeth: u32,
    #[serde(serialize_with = "serialize_decimal")]
    pub pitch_diameter: Decimal,
    #[serde(serialize_with = "serialize_decimal")]
    pub outside_diameter: Decimal,
    #[serde(serialize_with = "serialize_decimal")]
    pub pitch: Decimal,
}

/// A stored sprocket as it is answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sprocket {
    pub id: u64,
    #[serde(flatten)]
    pub spec: SprocketSpec,
    pub version: u64,
}

/// A merge patch: the fields it sets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SprocketPatch {
    pub teeth: Option<u32>,
    pub pitch_diameter: Option<Decimal>,
    pub outside_diameter: Option<Decimal>,
    pub pitch: Option<Decimal>,
}

impl SprocketPatch {
    pub fn apply(&self, spec: &SprocketSpec) -> SprocketSpec {
        SprocketSpec {
            teeth: self.teeth.unwrap_or(spec.teeth),
            pitch_diameter: self.pitch_diameter.unwrap_or(spec.pitch_diameter),
            outside_diameter: self.outside_diameter.unwrap_or(spec.outside_diameter),
            pitch: self.pitch.unwrap_or(spec.pitch),
        }
    }
}

/// `teeth`: an integral number 1..1000 (`17.0` is 17).
pub fn teeth(field: &Field) -> Result<u32, String> {
    let reason = || format!("must be an integer from 1 to {MAX_TEETH}");
    match field {
        Field::Number(_) => field
            .as_integer()
            .filter(|n| (1..=MAX_TEETH).contains(n))
            .map(|n| n as u32)
            .ok_or_else(reason),
        _ => Err(reason()),
    }
}

/// A size: an exact decimal above 0 and below 10^6 with at most 4 decimals (written
/// trailing zeros do not count).
pub fn size(field: &Field) -> Result<Decimal, String> {
    let reason = || "must be a number above 0 and below 1000000 with at most 4 decimals".to_owned();
    let d = field.as_decimal().ok_or_else(reason)?;
    let limit = Decimal::from(1_000_000);
    if d <= Decimal::ZERO || d >= limit || d.scale() > MAX_SCALE {
        return Err(reason());
    }
    Ok(d)
}

fn unknown(fields: &Fields, at: &Pointer, also: &[&str]) -> Result<(), Invalid> {
    let mut names: Vec<&str> = fields
        .names()
        .filter(|n| !FIELDS.contains(n) && !IGNORED.contains(n) && !also.contains(n))
        .collect();
    names.sort_unstable();
    match names.first() {
        Some(name) => Err(at.join(name).invalid(format!(
            "is not a field of a sprocket (its fields: {})",
            FIELDS.join(", ")
        ))),
        None => Ok(()),
    }
}

impl SprocketSpec {
    /// All four fields of the object at `at`; `also` names members the caller reads itself
    /// (an import's `key`).
    pub fn parse_at(fields: &Fields, at: &Pointer, also: &[&str]) -> Result<SprocketSpec, Invalid> {
        unknown(fields, at, also)?;
        let get = |name: &str| {
            let field = fields.get(name);
            if field == Field::Missing {
                return Err(at.join(name).invalid("is required"));
            }
            Ok(field)
        };
        let teeth_field = get("teeth")?;
        let teeth = teeth(&teeth_field).map_err(|r| at.join("teeth").invalid(r))?;
        let size_of = |name: &str| size(&get(name)?).map_err(|r| at.join(name).invalid(r));
        Ok(SprocketSpec {
            teeth,
            pitch_diameter: size_of("pitch_diameter")?,
            outside_diameter: size_of("outside_diameter")?,
            pitch: size_of("pitch")?,
        })
    }

    /// A whole sprocket body (POST, PUT).
    pub fn parse(fields: &Fields) -> Result<SprocketSpec, Invalid> {
        SprocketSpec::parse_at(fields, &Pointer::root(), &[])
    }
}

impl SprocketPatch {
    /// A JSON Merge Patch (RFC 7396) of a sprocket: any of the four fields; `null` would
    /// remove a required field, so it is refused.
    pub fn parse(fields: &Fields) -> Result<SprocketPatch, Invalid> {
        let at = Pointer::root();
        unknown(fields, &at, &[])?;
        let mut patch = SprocketPatch::default();
        for name in FIELDS {
            let field = fields.get(name);
            match field {
                Field::Missing => continue,
                Field::Null => {
                    return Err(at
                        .join(name)
                        .invalid("cannot be removed (null): every sprocket has it"))
                }
                _ => {}
            }
            let bad = |r: String| at.join(name).invalid(r);
            match name {
                "teeth" => patch.teeth = Some(teeth(&field).map_err(bad)?),
                "pitch_diameter" => patch.pitch_diameter = Some(size(&field).map_err(bad)?),
                "outside_diameter" => patch.outside_diameter = Some(size(&field).map_err(bad)?),
                _ => patch.pitch = Some(size(&field).map_err(bad)?),
            }
        }
        Ok(patch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(json: &str) -> Fields {
        Fields::parse(json.as_bytes()).unwrap()
    }

    fn d(s: &str) -> Decimal {
        Decimal::from_str_exact(s).unwrap()
    }

    #[test]
    fn a_whole_sprocket_is_parsed_exactly() {
        let spec = SprocketSpec::parse(&fields(
            r#"{"teeth": 17.0, "pitch_diameter": 2.50, "outside_diameter": 2.75, "pitch": 0.5, "id": 9, "version": 4}"#,
        ))
        .unwrap();
        assert_eq!(spec.teeth, 17);
        assert_eq!(spec.pitch_diameter, d("2.5"));
        assert_eq!(
            serde_json::to_string(&spec).unwrap(),
            r#"{"teeth":17,"pitch_diameter":2.5,"outside_diameter":2.75,"pitch":0.5}"#
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        let cases = [
            (
                r#"{"pitch_diameter": 1, "outside_diameter": 1, "pitch": 1}"#,
                "teeth",
            ),
            (
                r#"{"teeth": 0, "pitch_diameter": 1, "outside_diameter": 1, "pitch": 1}"#,
                "teeth",
            ),
            (
                r#"{"teeth": 1001, "pitch_diameter": 1, "outside_diameter": 1, "pitch": 1}"#,
                "teeth",
            ),
            (
                r#"{"teeth": 17.5, "pitch_diameter": 1, "outside_diameter": 1, "pitch": 1}"#,
                "teeth",
            ),
            (
                r#"{"teeth": "17", "pitch_diameter": 1, "outside_diameter": 1, "pitch": 1}"#,
                "teeth",
            ),
            (
                r#"{"teeth": 5, "pitch_diameter": 0, "outside_diameter": 1, "pitch": 1}"#,
                "pitch_diameter",
            ),
            (
                r#"{"teeth": 5, "pitch_diameter": 1, "outside_diameter": 1000000, "pitch": 1}"#,
                "outside_diameter",
            ),
            (
                r#"{"teeth": 5, "pitch_diameter": 1, "outside_diameter": 1, "pitch": 0.00001}"#,
                "pitch",
            ),
            (
                r#"{"teeth": 5, "pitch_diameter": 1, "outside_diameter": 1, "pitch": null}"#,
                "pitch",
            ),
            (
                r#"{"teeth": 5, "pitch_diameter": 1, "outside_diameter": 1, "pitch": true}"#,
                "pitch",
            ),
            (
                r#"{"teeth": 5, "pitch_diameter": 1, "outside_diameter": 1, "pitch": 1, "colour": 1}"#,
                "colour",
            ),
        ];
        for (body, field) in cases {
            let err = SprocketSpec::parse(&fields(body)).unwrap_err();
            assert_eq!(err.field, field, "{body}");
        }
        // Written zeros are not decimals.
        assert!(SprocketSpec::parse(&fields(
            r#"{"teeth": 5, "pitch_diameter": 1.250000, "outside_diameter": 1, "pitch": 1}"#
        ))
        .is_ok());
    }

    #[test]
    fn a_merge_patch_sets_what_it_names_and_refuses_null() {
        let patch = SprocketPatch::parse(&fields(r#"{"pitch": 0.75}"#)).unwrap();
        let spec = SprocketSpec {
            teeth: 5,
            pitch_diameter: d("5"),
            outside_diameter: d("6"),
            pitch: d("1"),
        };
        let patched = patch.apply(&spec);
        assert_eq!(patched.pitch, d("0.75"));
        assert_eq!(patched.teeth, 5);
        assert_eq!(
            SprocketPatch::parse(&fields(r#"{"teeth": null}"#))
                .unwrap_err()
                .field,
            "teeth"
        );
        assert_eq!(
            SprocketPatch::parse(&fields(r#"{"size": 1}"#))
                .unwrap_err()
                .field,
            "size"
        );
        assert_eq!(
            SprocketPatch::parse(&fields("{}")).unwrap(),
            SprocketPatch::default()
        );
    }
}
