//! Where a mapped column's value comes from: a column of the read side, a constant, an
//! expression over the read side's columns, or a relation (a column holding keys of the
//! records another task syncs, written as their counterparts on the other side).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value as Json};

use super::TableRef;

#[derive(Debug, Clone, PartialEq)]
pub enum FieldSource {
    Column(String),
    Constant(Json),
    Expression(String),
    Relation(Relation),
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
            FieldSource::Constant(Json::Array(_) | Json::Object(_)) => Err(
                "a constant is a string, number, boolean or null; write JSON values as a string"
                    .into(),
            ),
            _ => Ok(()),
        }
    }
}

impl Serialize for FieldSource {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            FieldSource::Column(c) => serializer.serialize_str(c),
            FieldSource::Constant(v) => {
                let mut m = Map::new();
                m.insert("constant".into(), v.clone());
                Json::Object(m).serialize(serializer)
            }
            FieldSource::Expression(e) => {
                let mut m = Map::new();
                m.insert("expression".into(), Json::String(e.clone()));
                Json::Object(m).serialize(serializer)
            }
            FieldSource::Relation(r) => {
                let mut m = Map::new();
                m.insert(
                    "relation".into(),
                    serde_json::to_value(r).expect("a relation serializes"),
                );
                Json::Object(m).serialize(serializer)
            }
        }
    }
}

const SHAPES: &str = r#"a column name ("name"), {"constant": value}, {"expression": "…"} or {"relation": {"column": "…", "task": "<source table of the referenced task>"}}"#;

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
        ] {
            let parsed: FieldSource = serde_json::from_str(text).unwrap();
            assert_eq!(serde_json::to_string(&parsed).unwrap(), text);
        }
    }

    #[test]
    fn unknown_shapes_are_refused_with_the_allowed_ones() {
        let err = serde_json::from_str::<FieldSource>(r#"{"lookup":"x"}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("unknown mapping kind “lookup”") && err.contains("expression"),
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
