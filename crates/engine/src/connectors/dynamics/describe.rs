//! Entities and attributes through `EntityDefinitions`, as table schemas. Syncing needs
//! `createdon` and `modifiedon`; an entity without both is refused, naming what is missing.
//!
//! Lookups read as `_x_value` (the referenced record's id). A lookup with one target entity
//! (`parentaccountid` → account) is a foreign key and is written through its single-valued
//! navigation property, `x@odata.bind: "/accounts(id)"` (null disassociates); the navigation
//! property of such a lookup is taken to be its logical name, as for the system lookups. A
//! polymorphic lookup (Customer, Owner, or several targets) stays read-only.

use std::collections::HashMap;

use reqwest::Method;
use serde::Deserialize;

use super::super::cloud::http::failure;
use super::super::{ColumnInfo, ConnectorError, ForeignKey, KeyGeneration, TableSchema};
use super::{API, DynamicsConnector};
use crate::package::TableRef;
use crate::value::ColumnType;

impl DynamicsConnector {
    pub(super) async fn list_entities(&self) -> Result<Vec<TableRef>, ConnectorError> {
        let list: EntityList = self
            .json(
                "list entities",
                Method::GET,
                &format!("{API}/EntityDefinitions"),
                &[(
                    "$select",
                    "LogicalName,EntitySetName,PrimaryIdAttribute".into(),
                )],
            )
            .await?;
        Ok(list
            .value
            .into_iter()
            .filter(|e| e.entity_set_name.is_some() && is_name(&e.logical_name))
            .map(|e| TableRef::new(None, &e.logical_name))
            .collect())
    }

    pub(super) async fn describe_entity(
        &self,
        table: &TableRef,
    ) -> Result<TableSchema, ConnectorError> {
        if table.schema.is_some() || !is_name(&table.name) {
            return Err(ConnectorError::Requirement(format!(
                "“{table}” is not a Dynamics 365 entity's logical name (such as account or contact)"
            )));
        }
        let path = format!("{API}/EntityDefinitions(LogicalName='{}')", table.name);
        let query = [
            ("$select", "LogicalName,EntitySetName,PrimaryIdAttribute".to_owned()),
            (
                "$expand",
                "Attributes($select=LogicalName,AttributeType,IsValidForCreate,IsValidForUpdate,IsValidForRead,RequiredLevel)".to_owned(),
            ),
        ];
        let Ok(response) = self
            .send("describe", Method::GET, &path, &query, &[], None)
            .await?
        else {
            return Err(ConnectorError::Requirement(format!(
                "Dynamics 365 has no entity {table} (or the application user cannot read it)"
            )));
        };
        let entity: Entity = response.json().await.map_err(|e| {
            failure(
                format!("Dynamics 365: describe {table}: unexpected answer: {e}"),
                true,
            )
            .caused_by(e)
        })?;
        let lookups = self.lookup_bindings(table, &entity).await?;
        let (schema, set) = schema(entity, &lookups)?;
        // The names the environment answers with go into URL paths and filters.
        if !is_name(&set) || !is_name(&schema.key) {
            return Err(failure(
                format!(
                    "Dynamics 365: describe {table}: the entity set or key name in the answer is not a plain name"
                ),
                false,
            ));
        }
        self.sets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(table.name.clone(), set);
        let mut bindings = self.bindings.lock().unwrap_or_else(|e| e.into_inner());
        for (logical, binding) in lookups {
            bindings.insert((table.name.clone(), format!("_{logical}_value")), binding);
        }
        Ok(schema)
    }

    /// The single-target lookups of an entity, with the entity set their records live in.
    async fn lookup_bindings(
        &self,
        table: &TableRef,
        entity: &Entity,
    ) -> Result<HashMap<String, Binding>, ConnectorError> {
        // Only lookups a write may set (not createdby, modifiedby, …) are bound.
        let writable: Vec<&str> = entity
            .attributes
            .iter()
            .filter(|a| {
                a.attribute_type == "Lookup"
                    && (a.is_valid_for_create == Some(true) || a.is_valid_for_update == Some(true))
            })
            .map(|a| a.logical_name.as_str())
            .collect();
        if writable.is_empty() {
            return Ok(HashMap::new());
        }
        let path = format!(
            "{API}/EntityDefinitions(LogicalName='{}')/Attributes/Microsoft.Dynamics.CRM.LookupAttributeMetadata",
            table.name
        );
        let list: LookupList = self
            .json(
                "describe lookups",
                Method::GET,
                &path,
                &[("$select", "LogicalName,Targets".into())],
            )
            .await?;
        let mut bindings = HashMap::new();
        for lookup in list.value {
            let [target] = lookup.targets.as_slice() else {
                continue;
            };
            if !writable.contains(&lookup.logical_name.as_str()) {
                continue;
            }
            if !is_name(target) || !is_name(&lookup.logical_name) {
                continue;
            }
            let known = if *target == entity.logical_name {
                entity.entity_set_name.clone()
            } else {
                self.sets
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(target)
                    .cloned()
            };
            let set = match known {
                Some(set) => set,
                None => {
                    let found: Entity = self
                        .json(
                            "describe a lookup's target",
                            Method::GET,
                            &format!("{API}/EntityDefinitions(LogicalName='{target}')"),
                            &[("$select", "LogicalName,EntitySetName".into())],
                        )
                        .await?;
                    match found.entity_set_name.filter(|s| is_name(s)) {
                        Some(set) => set,
                        None => continue,
                    }
                }
            };
            bindings.insert(
                lookup.logical_name.clone(),
                Binding {
                    navigation: lookup.logical_name,
                    target: target.clone(),
                    set,
                },
            );
        }
        Ok(bindings)
    }
}

/// How a single-target lookup is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The single-valued navigation property (`parentaccountid`).
    pub navigation: String,
    /// The target entity's logical name and entity set.
    pub target: String,
    pub set: String,
}

#[derive(Deserialize)]
struct LookupList {
    value: Vec<LookupAttribute>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LookupAttribute {
    logical_name: String,
    #[serde(default)]
    targets: Vec<String>,
}

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
pub fn schema(
    entity: Entity,
    lookups: &HashMap<String, Binding>,
) -> Result<(TableSchema, String), ConnectorError> {
    let name = entity.logical_name.clone();
    let (Some(set), Some(key)) = (entity.entity_set_name, entity.primary_id_attribute) else {
        return Err(ConnectorError::Requirement(format!(
            "Dynamics 365 entity {name} has no entity set or primary id, so it cannot be synchronized"
        )));
    };
    let mut columns = Vec::new();
    let mut foreign_keys = Vec::new();
    for a in entity.attributes {
        if a.is_valid_for_read == Some(false) || !is_name(&a.logical_name) {
            continue;
        }
        let lookup = matches!(a.attribute_type.as_str(), "Lookup" | "Owner" | "Customer");
        // A lookup with one target is written through its navigation property.
        let binding = lookups
            .get(&a.logical_name)
            .filter(|_| a.attribute_type == "Lookup");
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
        // Lookups read as `_name_value`; a single-target one is written as `name@odata.bind`.
        let column = if lookup {
            format!("_{}_value", a.logical_name)
        } else {
            a.logical_name.clone()
        };
        let bound = binding.is_some();
        let creatable = a.is_valid_for_create.unwrap_or(false) && (!lookup || bound);
        if let Some(binding) = binding {
            foreign_keys.push(ForeignKey {
                column: column.clone(),
                references: TableRef::new(None, &binding.target),
                referenced_column: None,
            });
        }
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
            writable: (!lookup || bound)
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
            foreign_keys,
        },
        set,
    ))
}
