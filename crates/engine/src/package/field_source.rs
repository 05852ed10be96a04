//! Where a mapped column's value comes from: a column of the read side, a constant, an
//! expression over the read side's columns, a relation (a column holding keys of the
//! records another task syncs, written as their counterparts on the other side), or a lookup
//! (a value found in a table of the written side by key columns).

use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value as Json;

use super::TableRef;
use super::lookup::Lookup;

#[derive(Debug, Clone, PartialEq)]
pub enum FieldSource {
    Column(String),
    Constant(Json),
    Expression(String),
    Relation(Relation),
    Lookup(Box<Lookup>),
}

/// `{"relation": {"column": "account_id", "task": "accounts"}}`: the read side's
/// `column` holds keys of the records synced by the task whose source table is `task`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Relation {
    pub column: String,
    pub task: TableRef,
}

impl FieldSource {
    /// Pure checks; the expression's own syntax is checked when the mapping is compiled.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            FieldSource::Column(c) if c.is_empty() => {
                Err("name the read side's column to copy from".into())
            }
            FieldSource::Expression(e) if e.trim().is_empty() => {
                Err("the expression is empty".into())
            }
            FieldSource::Relation(r) if r.column.is_empty() => {
                Err("name the read side's column that holds the referenced keys".into())
            }
            FieldSource::Lookup(lookup) => lookup.validate(),
            FieldSource::Constant(Json::Array(_) | Json::Object(_)) => Err(
                "a constant is a string, number, boolean or null; write JSON values as a string"
                    .into(),
            ),
            _ => Ok(()),
        }
    }
}

impl Serialize for FieldSource {
    /// Entry by entry, so a relation's or lookup's fields keep their declared order in files.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            FieldSource::Column(c) => serializer.serialize_str(c),
            FieldSource::Constant(v) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("constant", v)?;
                map.end()
            }
            FieldSource::Expression(e) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("expression", e)?;
                map.end()
            }
            FieldSource::Relation(r) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("relation", r)?;
                map.end()
            }
            FieldSource::Lookup(l) => {
                let mut map = serializer.serialize_map(Some(1))?;
                map.serialize_entry("lookup", l)?;
                map.end()
            }
        }
    }
}

const SHAPES: &str = r#"a column name ("name"), {"constant": value}, {"expression": "…"}, {"relation": {"column": "…", "task": "<source table of the referenced task>"}} or {"lookup": {"table": "…", "column": "…", "keys": {"<key column>": <column, constant or expression>}}}"#;

impl<'de> Deserialize<'de> for FieldSource {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match Json::deserialize(deserializer)? {
            Json::String(column) => Ok(FieldSource::Column(column)),
            Json::Object(mut m) if m.len() == 1 => {
                if let Some(v) = m.remove("constant") {
                    Ok(FieldSource::Constant(v))
                } else if let Some(v) = m.remove("expression") {
                    match v {
                        Json::String(e) => Ok(FieldSource::Expression(e)),
                        _ => Err(D::Error::custom("an expression is a string")),
                    }
                } else if let Some(v) = m.remove("relation") {
                    serde_json::from_value(v).map(FieldSource::Relation).map_err(|e| {
                        D::Error::custom(format!(
                            r#"a relation is {{"relation": {{"column": "…", "task": "<source table of the referenced task>"}}}} ({e})"#
                        ))
                    })
                } else if let Some(v) = m.remove("lookup") {
                    serde_json::from_value(v)
                        .map(|l| FieldSource::Lookup(Box::new(l)))
                        .map_err(|e| {
                            D::Error::custom(format!(
                                r#"a lookup is {{"lookup": {{"table": "…", "column": "…", "keys": {{"<key column>": "<read column>"}}, "no_match": "error" or "null"}}}} ({e})"#
                            ))
                        })
                } else {
                    let key = m.keys().next().cloned().unwrap_or_default();
                    Err(D::Error::custom(format!(
                        "unknown mapping kind “{key}”; a mapping value is {SHAPES}"
                    )))
                }
            }
            other => Err(D::Error::custom(format!(
                "a mapping value is {SHAPES}, not {other}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_four_kinds_round_trip() {
        for text in [
            r#""full_name""#,
            r#"{"constant":"web"}"#,
            r#"{"constant":42}"#,
            r#"{"expression":"a + b"}"#,
            r#"{"relation":{"column":"account_id","task":"crm.accounts"}}"#,
            r#"{"lookup":{"table":"accounts","column":"id","keys":{"code":"account_code","region":{"constant":"EU"}}}}"#,
            r#"{"lookup":{"table":"accounts","column":"id","keys":{"code":{"expression":"upper(code)"}},"no_match":"null"}}"#,
        ] {
            let parsed: FieldSource = serde_json::from_str(text).unwrap();
            assert_eq!(serde_json::to_string(&parsed).unwrap(), text);
        }
    }

    #[test]
    fn a_lookup_needs_keys_of_plain_values() {
        let lookup: FieldSource =
            serde_json::from_str(r#"{"lookup":{"table":"accounts","column":"id","keys":{}}}"#)
                .unwrap();
        assert!(lookup.validate().unwrap_err().contains("at least one key"));
        let nested: FieldSource = serde_json::from_str(
            r#"{"lookup":{"table":"accounts","column":"id","keys":{"code":{"relation":{"column":"a","task":"b"}}}}}"#,
        )
        .unwrap();
        let err = nested.validate().unwrap_err();
        assert!(
            err.contains("keys.code") && err.contains("constant"),
            "{err}"
        );
    }

    #[test]
    fn unknown_shapes_are_refused_with_the_allowed_ones() {
        let err = serde_json::from_str::<FieldSource>(r#"{"lokup":"x"}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("unknown mapping kind “lokup”") && err.contains("lookup"),
            "{err}"
        );
        let err = serde_json::from_str::<FieldSource>(r#"{"lookup":{"table":"a","keys":{}}}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("a lookup is") && err.contains("column"),
            "{err}"
        );
        let err = serde_json::from_str::<FieldSource>("7")
            .unwrap_err()
            .to_string();
        assert!(err.contains("a column name"), "{err}");
        let err = serde_json::from_str::<FieldSource>(r#"{"relation":{"column":"a"}}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("a relation is") && err.contains("task"),
            "{err}"
        );
    }
}
