//! Entities and attributes through `EntityDefinitions`, as table schemas. Syncing needs
//! `createdon` and `modifiedon`; an entity without both is refused, naming what is missing.

use serde::Deserialize;

use super::super::{ColumnInfo, ConnectorError, KeyGeneration, TableSchema};
use crate::package::TableRef;
use crate::value::ColumnType;

#[derive(Deserialize)]
pub struct EntityList {
    pub value: Vec<Entity>,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct Entity {
    pub logical_name: String,
    #[serde(default)]
    pub entity_set_name: Option<String>,
    #[serde(default)]
    pub primary_id_attribute: Option<String>,
    #[serde(default)]
    pub attributes: Vec<Attribute>,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct Attribute {
    pub logical_name: String,
    #[serde(default)]
    pub attribute_type: String,
    #[serde(default)]
    pub is_valid_for_create: Option<bool>,
    #[serde(default)]
    pub is_valid_for_update: Option<bool>,
    #[serde(default)]
    pub is_valid_for_read: Option<bool>,
    #[serde(default)]
    pub required_level: Option<RequiredLevel>,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "PascalCase")]
pub struct RequiredLevel {
    pub value: String,
}

pub const CREATED: &str = "createdon";
pub const MODIFIED: &str = "modifiedon";
pub const MODIFIED_BY: &str = "_modifiedby_value";

/// A name Dataverse could have made (letters, digits, underscores).
pub fn is_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The engine's schema for an entity, and its entity set (for URLs).
pub fn schema(entity: Entity) -> Result<(TableSchema, String), ConnectorError> {
    let name = entity.logical_name.clone();
    let (Some(set), Some(key)) = (entity.entity_set_name, entity.primary_id_attribute) else {
        return Err(ConnectorError::Requirement(format!(
            "Dynamics 365 entity {name} has no entity set or primary id, so it cannot be synchronized"
        )));
    };
    let mut columns = Vec::new();
    for a in entity.attributes {
        if a.is_valid_for_read == Some(false) || !is_name(&a.logical_name) {
            continue;
        }
        let lookup = matches!(a.attribute_type.as_str(), "Lookup" | "Owner" | "Customer");
        let ty = match a.attribute_type.as_str() {
            "String" | "Memo" => ColumnType::Text { max_chars: None },
            "Integer" | "Picklist" | "State" | "Status" => ColumnType::Int {
                bits: 32,
                unsigned: false,
            },
            "BigInt" => ColumnType::Int {
                bits: 64,
                unsigned: false,
            },
            "Decimal" | "Double" | "Money" => ColumnType::Decimal {
                precision: None,
                scale: None,
            },
            "Boolean" => ColumnType::Bool,
            "DateTime" => ColumnType::Timestamp,
            "Uniqueidentifier" | "Lookup" | "Owner" | "Customer" => ColumnType::Text {
                max_chars: Some(36),
            },
            _ => continue,
        };
        // Lookups read as `_name_value`; writing them takes `name@odata.bind`, not offered.
        let column = if lookup {
            format!("_{}_value", a.logical_name)
        } else {
            a.logical_name.clone()
        };
        let creatable = a.is_valid_for_create.unwrap_or(false) && !lookup;
        let required = a
            .required_level
            .as_ref()
            .is_some_and(|r| r.value == "ApplicationRequired" || r.value == "SystemRequired");
        columns.push(ColumnInfo {
            name: column,
            ty,
            nullable: !required,
            has_default: !(required && creatable),
            db_type: a.attribute_type.clone(),
            writable: !lookup
                && a.logical_name != key
                && (creatable || a.is_valid_for_update.unwrap_or(false)),
        });
    }
    let has = |n: &str| columns.iter().any(|c| c.name == n);
    let missing: Vec<&str> = [CREATED, MODIFIED]
        .into_iter()
        .filter(|n| !has(n))
        .collect();
    if !missing.is_empty() {
        return Err(ConnectorError::Requirement(format!(
            "Dynamics 365 entity {name} cannot be synchronized: it has no {} attribute. Lockstep finds new and changed records by their created and modified timestamps",
            missing.join(" and no ")
        )));
    }
    if !has(&key) {
        columns.push(ColumnInfo {
            name: key.clone(),
            ty: ColumnType::Text {
                max_chars: Some(36),
            },
            nullable: false,
            has_default: true,
            db_type: "Uniqueidentifier".into(),
            writable: false,
        });
    }
    Ok((
        TableSchema {
            table: TableRef::new(None, &name),
            columns,
            key,
            key_generation: KeyGeneration::Vendor,
            log_name: String::new(),
        },
        set,
    ))
}
