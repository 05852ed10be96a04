//! Where a mapped column's value comes from: a column of the read side, a constant, or an
//! expression over the read side's columns.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value as Json};

#[derive(Debug, Clone, PartialEq)]
pub enum FieldSource {
    Column(String),
    Constant(Json),
    Expression(String),
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
        }
    }
}

const SHAPES: &str = r#"a column name ("name"), {"constant": value} or {"expression": "…"}"#;

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
    fn the_three_kinds_round_trip() {
        for text in [
            r#""full_name""#,
            r#"{"constant":"web"}"#,
            r#"{"constant":42}"#,
            r#"{"expression":"a + b"}"#,
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
    }
}
