//! The org's state: rows of each table, the row version counter behind `@odata.etag`, and the
//! issued access tokens.

use std::collections::{BTreeMap, HashMap};

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::errors::ApiError;
use super::schema::{AttrType, Attribute, Entity, entities};
use super::time;

/// A row: every attribute of its table by Web API property name, values as the API renders them.
pub type Record = Map<String, Value>;

#[derive(Debug, Clone)]
pub struct Row {
    pub values: Record,
    /// The row version (`versionnumber`), rendered as the weak ETag `W/"N"`.
    pub version: u64,
}

impl Row {
    pub fn etag(&self) -> String {
        format!("W/\"{}\"", self.version)
    }
}

/// Checked values for a write: the attribute and its value in API form.
pub type Values = Vec<(&'static Attribute, Value)>;

#[derive(Debug, Clone)]
pub struct Org {
    /// Rows of each table by logical name, keyed (and ordered) by the lowercase id.
    tables: HashMap<&'static str, BTreeMap<String, Row>>,
    last_version: u64,
    /// Access token → expiry.
    pub tokens: HashMap<String, DateTime<Utc>>,
}

impl Org {
    pub fn new() -> Org {
        Org {
            tables: entities()
                .iter()
                .map(|e| (e.name, BTreeMap::new()))
                .collect(),
            last_version: 1_000_000,
            tokens: HashMap::new(),
        }
    }

    /// Rows ordered by id.
    pub fn rows(&self, entity: &Entity) -> impl Iterator<Item = &Row> {
        self.tables
            .get(entity.name)
            .into_iter()
            .flat_map(|rows| rows.values())
    }

    pub fn get(&self, entity: &Entity, id: &str) -> Option<&Row> {
        self.tables.get(entity.name)?.get(id)
    }

    fn next_version(&mut self) -> u64 {
        self.last_version += 1;
        self.last_version
    }

    /// Creates a row from checked values (the primary id among them, or a new one); sets
    /// defaults and the audit stamps. 412 when the id is taken.
    pub fn insert(
        &mut self,
        entity: &'static Entity,
        values: Values,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<String, ApiError> {
        let given = values
            .iter()
            .find(|(a, _)| a.primary_id)
            .and_then(|(_, v)| v.as_str())
            .map(str::to_owned);
        let id = given.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        if self.get(entity, &id).is_some() {
            return Err(ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "0x80040237",
                "A record with matching key values already exists.",
            ));
        }
        let mut record = Record::new();
        for attribute in &entity.attributes {
            let initial = attribute.default.map_or(Value::Null, Value::from);
            record.insert(attribute.property.to_string(), initial);
        }
        record.insert(entity.primary_id.to_string(), Value::String(id.clone()));
        for (attribute, value) in values {
            record.insert(attribute.property.to_string(), value);
        }
        let stamp = Value::String(time::render(at));
        for (name, value) in [
            ("createdon", stamp.clone()),
            ("createdby", Value::String(by.to_string())),
        ] {
            if let Some(attribute) = entity.attribute(name) {
                record.insert(attribute.property.to_string(), value);
            }
        }
        let version = self.next_version();
        let mut row = Row {
            values: record,
            version,
        };
        touch(entity, &mut row, by, at);
        self.tables
            .entry(entity.name)
            .or_default()
            .insert(id.clone(), row);
        Ok(id)
    }

    /// Applies checked values to a row; false when there is none.
    pub fn update(
        &mut self,
        entity: &Entity,
        id: &str,
        values: Values,
        by: &str,
        at: DateTime<Utc>,
    ) -> bool {
        let version = self.next_version();
        let Some(row) = self.tables.get_mut(entity.name).and_then(|t| t.get_mut(id)) else {
            return false;
        };
        for (attribute, value) in values {
            if !attribute.primary_id {
                row.values.insert(attribute.property.to_string(), value);
            }
        }
        row.version = version;
        touch(entity, row, by, at);
        true
    }

    /// Removes a row; false when there is none.
    pub fn delete(&mut self, entity: &Entity, id: &str) -> bool {
        self.tables
            .get_mut(entity.name)
            .is_some_and(|t| t.remove(id).is_some())
    }
}

/// After a write: modifiedon/modifiedby (where the table has them), versionnumber, and
/// computed columns (a contact's fullname).
fn touch(entity: &Entity, row: &mut Row, by: &str, at: DateTime<Utc>) {
    let values = &mut row.values;
    for attribute in &entity.attributes {
        let value = match (attribute.name, attribute.kind) {
            ("modifiedon", _) => Value::String(time::render(at)),
            ("modifiedby", AttrType::Lookup) => Value::String(by.to_string()),
            ("versionnumber", _) => Value::from(row.version),
            ("fullname", _) => {
                let part = |name: &str| {
                    values
                        .get(name)
                        .and_then(Value::as_str)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                };
                let parts: Vec<String> = [part("firstname"), part("lastname")]
                    .into_iter()
                    .flatten()
                    .collect();
                if parts.is_empty() {
                    Value::Null
                } else {
                    Value::String(parts.join(" "))
                }
            }
            _ => continue,
        };
        values.insert(attribute.property.to_string(), value);
    }
}
