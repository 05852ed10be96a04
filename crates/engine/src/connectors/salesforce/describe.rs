//! Objects and fields through `sobjects` and `describe`, as the engine's table schemas.
//! Syncing needs a created and a modified timestamp: an object without `CreatedDate` and
//! `SystemModstamp`/`LastModifiedDate` is refused, naming what is missing.

use reqwest::Method;
use serde::Deserialize;

use super::super::cloud::http::failure;
use super::super::{ColumnInfo, ConnectorError, ForeignKey, KeyGeneration, TableSchema};
use super::SalesforceConnector;
use super::soql::{self, is_api_name};
use crate::package::TableRef;
use crate::value::ColumnType;

impl SalesforceConnector {
    pub(super) async fn list_objects(&self) -> Result<Vec<TableRef>, ConnectorError> {
        let list: ObjectList = self
            .json(
                "list objects",
                Method::GET,
                &Self::data_path("sobjects"),
                &[],
                None,
            )
            .await?;
        Ok(list
            .sobjects
            .into_iter()
            .filter(|o| o.queryable && soql::is_api_name(&o.name))
            .map(|o| TableRef::new(None, &o.name))
            .collect())
    }

    pub(super) async fn describe_object(
        &self,
        table: &TableRef,
    ) -> Result<TableSchema, ConnectorError> {
        if table.schema.is_some() || !soql::is_api_name(&table.name) {
            return Err(ConnectorError::Requirement(format!(
                "“{table}” is not a Salesforce object name (API names such as Account or Region__c)"
            )));
        }
        let path = Self::data_path(&format!("sobjects/{}/describe", table.name));
        let Ok(response) = self
            .request_found("describe", Method::GET, &path, &[], None)
            .await?
        else {
            return Err(ConnectorError::Requirement(format!(
                "Salesforce has no object {table} (or the connection's user cannot see it)"
            )));
        };
        let description: Description = response.json().await.map_err(|e| {
            failure(
                format!("Salesforce: describe {table}: unexpected answer: {e}"),
                true,
            )
            .caused_by(e)
        })?;
        let schema = schema(description)?;
        // The name the org answers with goes into URL paths and SOQL.
        if !soql::is_api_name(&schema.table.name) {
            return Err(failure(
                format!(
                    "Salesforce: describe {table}: the object's name in the answer is not an API name"
                ),
                false,
            ));
        }
        Ok(schema)
    }
}

#[derive(Deserialize)]
pub struct ObjectList {
    pub sobjects: Vec<ObjectSummary>,
}

#[derive(Deserialize)]
pub struct ObjectSummary {
    pub name: String,
    #[serde(default)]
    pub queryable: bool,
}

#[derive(Deserialize)]
pub struct Description {
    pub name: String,
    #[serde(default)]
    pub queryable: bool,
    pub fields: Vec<Field>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Field {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(default)]
    pub length: u32,
    #[serde(default)]
    pub precision: u32,
    #[serde(default)]
    pub scale: u32,
    #[serde(default)]
    pub nillable: bool,
    #[serde(default)]
    pub createable: bool,
    #[serde(default)]
    pub defaulted_on_create: bool,
    #[serde(default)]
    pub updateable: bool,
    /// The objects a reference field may point at (more than one: polymorphic).
    #[serde(default)]
    pub reference_to: Vec<String>,
}

/// The stamp that says a record changed: `SystemModstamp` (indexed, also moved by system
/// updates) when there, else `LastModifiedDate`.
pub fn modified_field(schema: &TableSchema) -> &'static str {
    if schema.column("SystemModstamp").is_some() {
        "SystemModstamp"
    } else {
        "LastModifiedDate"
    }
}

fn column_type(field: &Field) -> Option<ColumnType> {
    let text = |n: u32| ColumnType::Text {
        max_chars: (n > 0).then_some(n),
    };
    Some(match field.ty.as_str() {
        "id" | "reference" => text(18),
        "string" | "textarea" | "email" | "phone" | "url" | "picklist" | "multipicklist"
        | "combobox" | "encryptedstring" => text(field.length),
        "boolean" => ColumnType::Bool,
        "int" => ColumnType::Int {
            bits: 32,
            unsigned: false,
        },
        "double" | "currency" | "percent" => ColumnType::Decimal {
            precision: (field.precision > 0).then_some(field.precision),
            scale: (field.precision > 0).then_some(field.scale),
        },
        "date" => ColumnType::Date,
        "datetime" => ColumnType::Timestamp,
        "time" => ColumnType::Time,
        // Compound fields (address, location) repeat their parts; binaries are not synced.
        "address" | "location" | "base64" | "anyType" | "complexvalue" => return None,
        other => ColumnType::Other(other.to_owned()),
    })
}

/// The engine's schema for a described object, or why it cannot be synced.
pub fn schema(description: Description) -> Result<TableSchema, ConnectorError> {
    let object = description.name;
    if !description.queryable {
        return Err(ConnectorError::Requirement(format!(
            "Salesforce object {object} cannot be queried through the API, so it cannot be synchronized"
        )));
    }
    let columns: Vec<ColumnInfo> = description
        .fields
        .iter()
        .filter(|f| is_api_name(&f.name))
        .filter_map(|f| {
            Some(ColumnInfo {
                name: f.name.clone(),
                ty: column_type(f)?,
                nullable: f.nillable,
                // Not required on insert: Salesforce fills it, or it cannot be written.
                has_default: f.defaulted_on_create || !f.createable,
                db_type: f.ty.clone(),
                writable: f.createable || f.updateable,
            })
        })
        .collect();
    let has = |name: &str| columns.iter().any(|c| c.name == name);
    let mut missing = Vec::new();
    if !has("CreatedDate") {
        missing.push("CreatedDate");
    }
    if !has("SystemModstamp") && !has("LastModifiedDate") {
        missing.push("LastModifiedDate (or SystemModstamp)");
    }
    if !has("Id") {
        missing.push("Id");
    }
    if !missing.is_empty() {
        return Err(ConnectorError::Requirement(format!(
            "Salesforce object {object} cannot be synchronized: it has no {} field. Lockstep finds new and changed records by their created and modified timestamps; choose an object that has both",
            missing.join(" and no ")
        )));
    }
    // A reference to one object is a foreign key (a relation when a task syncs that object);
    // a polymorphic one (WhoId, OwnerId to User or Group) is not: its values name records of
    // several objects, which no single task's ID map translates.
    let foreign_keys = description
        .fields
        .iter()
        .filter(|f| f.ty == "reference" && columns.iter().any(|c| c.name == f.name))
        .filter_map(|f| match f.reference_to.as_slice() {
            [object] => Some(ForeignKey {
                column: f.name.clone(),
                references: TableRef::new(None, object),
                referenced_column: None,
            }),
            _ => None,
        })
        .collect();
    Ok(TableSchema {
        table: TableRef::new(None, &object),
        columns,
        key: "Id".into(),
        key_generation: KeyGeneration::Vendor,
        log_name: String::new(),
        foreign_keys,
    })
}
