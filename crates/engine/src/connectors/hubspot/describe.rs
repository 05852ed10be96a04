//! Object types and their properties (`/crm/v3/properties/{objectType}`) as table schemas.
//! Syncing needs `createdate` and `hs_lastmodifieddate`; an object type without both is
//! refused, naming what is missing.

use reqwest::{Method, StatusCode};
use serde::Deserialize;

use super::super::cloud::http::{failure, unexpected};
use super::super::{ColumnInfo, ConnectorError, ForeignKey, KeyGeneration, TableSchema};
use super::HubSpotConnector;
use crate::package::TableRef;
use crate::value::ColumnType;

/// The standard object types offered for tasks.
pub const OBJECT_TYPES: [&str; 4] = ["contacts", "companies", "deals", "tickets"];
pub const KEY: &str = "hs_object_id";
pub const CREATED: &str = "createdate";
pub const MODIFIED: &str = "hs_lastmodifieddate";
/// The contact property HubSpot keeps at the id of the contact's primary company. It is
/// read like any property and is a foreign key to `companies`; it is written through the
/// associations API (the primary label, contact → company type 1), never as a property:
/// HubSpot made the property read-only for writes in 2019.
pub const PRIMARY_COMPANY: &str = "associatedcompanyid";
/// The object type whose records hold `PRIMARY_COMPANY`, and the one it references.
pub const CONTACTS: &str = "contacts";
pub const COMPANIES: &str = "companies";

/// Whether `property` of `object_type` is the contact's primary company.
pub fn is_primary_company(object_type: &str, property: &str) -> bool {
    object_type == CONTACTS && property == PRIMARY_COMPANY
}

impl HubSpotConnector {
    pub(super) async fn list_object_types(&self) -> Result<Vec<TableRef>, ConnectorError> {
        let mut tables = Vec::new();
        for object_type in OBJECT_TYPES {
            let response = self
                .send(
                    "list properties",
                    Method::GET,
                    &format!("/crm/v3/properties/{object_type}"),
                    &[],
                    None,
                )
                .await?;
            if response.status().is_success() {
                tables.push(TableRef::new(None, object_type));
            }
        }
        Ok(tables)
    }

    pub(super) async fn describe_object_type(
        &self,
        table: &TableRef,
    ) -> Result<TableSchema, ConnectorError> {
        let name = &table.name;
        if table.schema.is_some()
            || name.is_empty()
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(ConnectorError::Requirement(format!(
                "“{table}” is not a HubSpot object type (contacts, companies, deals, tickets, or a custom object's id such as 2-123456)"
            )));
        }
        let response = self
            .send(
                "describe",
                Method::GET,
                &format!("/crm/v3/properties/{name}"),
                &[],
                None,
            )
            .await?;
        if matches!(
            response.status(),
            StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST
        ) {
            return Err(ConnectorError::Requirement(format!(
                "HubSpot has no object type {table} (or the private app has no scope for it)"
            )));
        }
        if !response.status().is_success() {
            return Err(unexpected("HubSpot", "describe", response).await);
        }
        let properties: Properties = response.json().await.map_err(|e| {
            failure(
                format!("HubSpot: describe {table}: unexpected answer: {e}"),
                true,
            )
            .caused_by(e)
        })?;
        schema(name, properties)
    }
}

#[derive(Deserialize)]
pub struct Properties {
    pub results: Vec<Property>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Property {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(default)]
    pub modification_metadata: Option<ModificationMetadata>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModificationMetadata {
    #[serde(default)]
    pub read_only_value: bool,
}

fn column_type(ty: &str) -> ColumnType {
    match ty {
        "number" => ColumnType::Decimal {
            precision: None,
            scale: None,
        },
        "bool" => ColumnType::Bool,
        "date" => ColumnType::Date,
        "datetime" => ColumnType::Timestamp,
        _ => ColumnType::Text { max_chars: None },
    }
}

pub fn schema(object_type: &str, properties: Properties) -> Result<TableSchema, ConnectorError> {
    let columns: Vec<ColumnInfo> = properties
        .results
        .into_iter()
        .map(|p| ColumnInfo {
            // The primary company is written through the associations API.
            writable: is_primary_company(object_type, &p.name)
                || !p
                    .modification_metadata
                    .as_ref()
                    .is_some_and(|m| m.read_only_value),
            // Ids are text (HubSpot's ids are numbers too large for some clients), and so
            // is a reference to one.
            ty: if p.name == KEY || is_primary_company(object_type, &p.name) {
                ColumnType::Text { max_chars: None }
            } else {
                column_type(&p.ty)
            },
            name: p.name,
            nullable: true,
            // HubSpot requires no property on create through the API.
            has_default: true,
            db_type: p.ty,
        })
        .collect();
    let missing: Vec<&str> = [CREATED, MODIFIED]
        .into_iter()
        .filter(|name| !columns.iter().any(|c| c.name == *name))
        .collect();
    if !missing.is_empty() {
        return Err(ConnectorError::Requirement(format!(
            "HubSpot object type {object_type} cannot be synchronized: it has no {} property. Lockstep finds new and changed records by their created and modified timestamps",
            missing.join(" and no ")
        )));
    }
    let mut columns = columns;
    if !columns.iter().any(|c| c.name == KEY) {
        columns.push(ColumnInfo {
            name: KEY.into(),
            ty: ColumnType::Text { max_chars: None },
            nullable: false,
            has_default: true,
            db_type: "number".into(),
            writable: false,
        });
    }
    let foreign_keys = columns
        .iter()
        .filter(|c| is_primary_company(object_type, &c.name))
        .map(|c| ForeignKey {
            column: c.name.clone(),
            references: TableRef::new(None, COMPANIES),
            referenced_column: None,
        })
        .collect();
    Ok(TableSchema {
        table: TableRef::new(None, object_type),
        columns,
        key: KEY.into(),
        key_generation: KeyGeneration::Vendor,
        log_name: String::new(),
        foreign_keys,
    })
}
