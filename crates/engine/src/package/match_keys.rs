//! First-run matching: the keys that say two records, one on each side, are the same record
//! (`"match": {"keys": [{"source": "email", "target": "Email"}], "ignore_case_and_spaces": true}`).
//! On a full pass, unpaired records with equal keys are paired instead of copied twice.

use serde::{Deserialize, Serialize};

use super::FieldSource;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchSpec {
    /// All must be equal (AND).
    pub keys: Vec<MatchKey>,
    /// Compare text with surrounding spaces removed and case ignored.
    #[serde(default)]
    pub ignore_case_and_spaces: bool,
}

/// One key: a column or an expression of each side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchKey {
    pub source: FieldSource,
    pub target: FieldSource,
}

impl MatchSpec {
    /// Pure checks; columns and types are checked against the tables when the task is.
    pub fn validate(&self) -> Result<(), String> {
        if self.keys.is_empty() {
            return Err("name at least one match key (a source and a target column)".into());
        }
        for (i, key) in self.keys.iter().enumerate() {
            for (side, source) in [("source", &key.source), ("target", &key.target)] {
                match source {
                    FieldSource::Column(_) | FieldSource::Expression(_) => source
                        .validate()
                        .map_err(|m| format!("keys[{i}].{side}: {m}"))?,
                    _ => {
                        return Err(format!(
                            "keys[{i}].{side}: a match key is a column name or {{\"expression\": \"…\"}}"
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}
