//! HubSpot's JSON: objects as search, batch read and batch write answer them, their pages,
//! and batch errors (discovery's are in `describe`).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value as Json};

use super::super::cloud::values::parse_instant;
use super::describe::MODIFIED;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Object {
    pub id: String,
    #[serde(default)]
    pub properties: Map<String, Json>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub archived_at: Option<String>,
    #[serde(default)]
    pub object_write_trace_id: Option<String>,
}

#[derive(Deserialize)]
pub struct Page {
    #[serde(default)]
    pub results: Vec<Object>,
    #[serde(default)]
    pub paging: Option<Paging>,
    #[serde(default)]
    pub errors: Vec<BatchError>,
}

#[derive(Deserialize)]
pub struct Paging {
    pub next: Option<Next>,
}

#[derive(Deserialize)]
pub struct Next {
    pub after: String,
}

#[derive(Deserialize)]
pub struct BatchError {
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub context: Map<String, Json>,
}

impl BatchError {
    /// What the error's context names under `name` (a list, or one string).
    pub fn context(&self, name: &str) -> Vec<String> {
        match self.context.get(name) {
            Some(Json::Array(items)) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect(),
            Some(Json::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        }
    }

    pub fn text(&self) -> String {
        format!("{}: {}", self.category, self.message)
    }
}

impl Object {
    /// The newest stamp HubSpot reports for the object.
    pub fn stamp(&self) -> Option<DateTime<Utc>> {
        let property = self
            .properties
            .get(MODIFIED)
            .and_then(Json::as_str)
            .and_then(parse_instant);
        let updated = self.updated_at.as_deref().and_then(parse_instant);
        property.max(updated)
    }
}
