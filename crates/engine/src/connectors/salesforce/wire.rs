//! Salesforce's JSON answers to queries, the `deleted` endpoint and sObject Collections
//! writes (discovery's are in `describe`).

use serde::Deserialize;
use serde_json::{Map, Value as Json};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryPage {
    #[serde(default)]
    pub next_records_url: Option<String>,
    pub records: Vec<Map<String, Json>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deleted {
    pub deleted_records: Vec<DeletedRecord>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletedRecord {
    pub id: String,
    pub deleted_date: String,
}

#[derive(Deserialize)]
pub struct SaveResult {
    #[serde(default)]
    pub id: Option<String>,
    pub success: bool,
    #[serde(default)]
    pub errors: Vec<SaveError>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SaveError {
    pub status_code: String,
    pub message: String,
    #[serde(default)]
    pub fields: Vec<String>,
}

impl SaveResult {
    /// The record is not there (deleted, or never existed).
    pub fn missing(&self) -> bool {
        self.errors.iter().any(|e| {
            matches!(
                e.status_code.as_str(),
                "ENTITY_IS_DELETED" | "INVALID_CROSS_REFERENCE_KEY" | "NOT_FOUND"
            )
        })
    }

    pub fn message(&self) -> String {
        let parts: Vec<String> = self
            .errors
            .iter()
            .map(|e| {
                if e.fields.is_empty() {
                    format!("{}: {}", e.status_code, e.message)
                } else {
                    format!("{}: {} ({})", e.status_code, e.message, e.fields.join(", "))
                }
            })
            .collect();
        if parts.is_empty() {
            "Salesforce did not save the record and gave no reason".into()
        } else {
            parts.join("; ")
        }
    }
}
