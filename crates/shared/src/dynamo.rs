//! DynamoDB helpers every service's store uses: typed items through `serde_dynamo` with
//! exact decimal Numbers, errors, expression values and tables with the workspace's
//! `pk` / `sk` key schema.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType,
    ScalarAttributeType, StreamSpecification, StreamViewType,
};
use aws_sdk_dynamodb::Client;
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;

pub type Item = HashMap<String, AttributeValue>;

/// Every service table's partition and sort key: strings named `pk` and `sk`.
pub const PK: &str = "pk";
pub const SK: &str = "sk";

/// A stored item that does not have the shape its service writes.
#[derive(Debug, thiserror::Error)]
#[error("malformed item: {0}")]
pub struct Malformed(pub String);

/// DynamoDB could not be reached or refused a call (after the SDK's own retries).
#[derive(Debug, thiserror::Error)]
#[error("DynamoDB unavailable: {0}")]
pub struct Unavailable(pub String);

/// An SDK failure as [`Unavailable`], with the whole error chain for the logs.
pub fn unavailable<E: std::error::Error + 'static, R: std::fmt::Debug>(
    e: SdkError<E, R>,
) -> Unavailable {
    Unavailable(aws_smithy_types::error::display::DisplayErrorContext(e).to_string())
}

/// The key of an item.
pub fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    HashMap::from([(PK.into(), s(pk)), (SK.into(), s(sk))])
}

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// An exact decimal as a Number, without trailing zeros.
pub fn dec(v: Decimal) -> AttributeValue {
    AttributeValue::N(v.normalize().to_string())
}

/// A value as a DynamoDB attribute (a map, for an item struct); [`number`] fields become
/// Numbers with their exact decimal text.
pub fn to_value<T: Serialize>(value: &T) -> Result<AttributeValue, Malformed> {
    let v: AttributeValue =
        serde_dynamo::to_attribute_value(value).map_err(|e| Malformed(e.to_string()))?;
    numbers_out(v)
}

/// An item struct as an item.
pub fn to_item<T: Serialize>(value: &T) -> Result<Item, Malformed> {
    match to_value(value)? {
        AttributeValue::M(m) => Ok(m),
        other => Err(Malformed(format!("not an item: {other:?}"))),
    }
}

/// An item as its item struct.
pub fn from_item<T: DeserializeOwned>(item: &Item) -> Result<T, Malformed> {
    let map = item
        .iter()
        .map(|(k, v)| (k.clone(), numbers_in(v.clone())))
        .collect::<Item>();
    serde_dynamo::from_item(map).map_err(|e| Malformed(e.to_string()))
}

/// How a [`number`] field travels through `serde_dynamo`, which maps a Number to `i64`,
/// `u64` or `f64` only: as a map of this one key to the decimal's text. [`to_item`] turns
/// such a map into a Number, and [`from_item`] turns every Number that is not an integer
/// into one, so no decimal ever passes through a binary float. So item structs hold no
/// `f64` and no untyped values; a map key with a NUL in it is refused, so no data can pass
/// for a number.
const EXACT: &str = "\u{0}exact-number\u{0}";

fn numbers_out(v: AttributeValue) -> Result<AttributeValue, Malformed> {
    Ok(match v {
        AttributeValue::M(mut m) => {
            if m.len() == 1 {
                if let Some(AttributeValue::S(text)) = m.get(EXACT) {
                    return Ok(AttributeValue::N(text.clone()));
                }
            }
            if m.keys().any(|k| k.contains('\u{0}')) {
                return Err(Malformed("a map key holds a NUL character".into()));
            }
            for value in m.values_mut() {
                *value = numbers_out(std::mem::replace(value, AttributeValue::Null(true)))?;
            }
            AttributeValue::M(m)
        }
        AttributeValue::L(l) => {
            AttributeValue::L(l.into_iter().map(numbers_out).collect::<Result<_, _>>()?)
        }
        other => other,
    })
}

fn numbers_in(v: AttributeValue) -> AttributeValue {
    match v {
        AttributeValue::N(text) if text.parse::<i64>().is_err() && text.parse::<u64>().is_err() => {
            AttributeValue::M(HashMap::from([(EXACT.to_owned(), AttributeValue::S(text))]))
        }
        AttributeValue::M(m) => {
            AttributeValue::M(m.into_iter().map(|(k, v)| (k, numbers_in(v))).collect())
        }
        AttributeValue::L(l) => AttributeValue::L(l.into_iter().map(numbers_in).collect()),
        other => other,
    }
}

/// `#[serde(with = "shared::dynamo::number")]` on a `Decimal` field: stored as a DynamoDB
/// Number with its exact text, read back exactly (through [`to_item`] / [`from_item`]).
pub mod number {
    use rust_decimal::Decimal;
    use serde::de::{self, MapAccess, Visitor};
    use serde::ser::SerializeMap;
    use serde::{Deserializer, Serializer};
    use std::fmt;

    pub fn serialize<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry(super::EXACT, &value.normalize().to_string())?;
        map.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
        deserializer.deserialize_any(Exact)
    }

    struct Exact;

    impl<'de> Visitor<'de> for Exact {
        type Value = Decimal;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a DynamoDB Number that is a decimal")
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
            Ok(Decimal::from(v))
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Decimal, A::Error> {
            let (key, text): (String, String) = map
                .next_entry()?
                .ok_or_else(|| de::Error::custom("an empty map is not a number"))?;
            if key != super::EXACT || map.next_key::<String>()?.is_some() {
                return Err(de::Error::custom("a map is not a number"));
            }
            Decimal::from_str_exact(&text)
                .or_else(|_| Decimal::from_scientific(&text))
                .map_err(|_| de::Error::custom(format!("{text:?} is not a decimal")))
        }
    }
}

/// Creates a table with the workspace's key schema if it does not exist, with a stream of
/// new and old images if `stream` (local development and tests; SAM owns tables in AWS).
pub async fn create_table(client: &Client, table: &str, stream: bool) -> Result<(), Unavailable> {
    let attr = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .expect("name and type are set")
    };
    let key = |name: &str, kind| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(kind)
            .build()
            .expect("name and type are set")
    };
    let mut create = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attr(PK))
        .attribute_definitions(attr(SK))
        .key_schema(key(PK, KeyType::Hash))
        .key_schema(key(SK, KeyType::Range));
    if stream {
        create = create.stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewAndOldImages)
                .build()
                .expect("enabled is set"),
        );
    }
    match create.send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception()) =>
        {
            Ok(())
        }
        Err(e) => Err(unavailable(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Priced {
        pk: String,
        count: u64,
        #[serde(with = "number")]
        price: Decimal,
        nested: BTreeMap<String, Inner>,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Inner {
        #[serde(with = "number")]
        amount: Decimal,
    }

    fn decimal(text: &str) -> Decimal {
        Decimal::from_str_exact(text).unwrap()
    }

    #[test]
    fn decimals_are_numbers_with_their_exact_text_both_ways() {
        for text in ["0.1", "1000.5", "999999999999.99", "1000", "0", "-7.25"] {
            let value = Priced {
                pk: "p".into(),
                count: 3,
                price: decimal(text),
                nested: BTreeMap::from([(
                    "a".into(),
                    Inner {
                        amount: decimal(text),
                    },
                )]),
            };
            let item = to_item(&value).unwrap();
            assert_eq!(item["price"], AttributeValue::N(text.into()));
            assert_eq!(item["count"], AttributeValue::N("3".into()));
            let AttributeValue::M(nested) = &item["nested"] else {
                panic!("nested is a map: {item:?}")
            };
            let AttributeValue::M(inner) = &nested["a"] else {
                panic!("inner is a map")
            };
            assert_eq!(inner["amount"], AttributeValue::N(text.into()));
            assert_eq!(from_item::<Priced>(&item).unwrap(), value);
        }
    }

    #[test]
    fn numbers_no_float_could_hold_are_read_exactly() {
        // 0.1 + 0.2 in binary floating point is 0.30000000000000004.
        let mut item = to_item(&Inner {
            amount: decimal("0.3"),
        })
        .unwrap();
        assert_eq!(from_item::<Inner>(&item).unwrap().amount, decimal("0.3"));
        item.insert("amount".into(), n("12345678901234567890.123456"));
        assert_eq!(
            from_item::<Inner>(&item).unwrap().amount,
            decimal("12345678901234567890.123456")
        );
        item.insert("amount".into(), s("12"));
        assert!(from_item::<Inner>(&item).is_err());
    }
}
