//! `WhoAmI` and the table definitions: `EntityDefinitions`, `EntityDefinitions(LogicalName='x')`
//! with `$expand=Attributes`, and `EntityDefinitions(…)/Attributes`.

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::errors::ApiError;
use super::filter::{self, Columns, Kind};
use super::options::Options;
use super::reply::Reply;
use super::schema::{AttrType, Attribute, Entity, attribute_metadata_id, entities};
use super::webapi::Call;

const BUSINESS_UNIT_ID: &str = "44444444-4444-4444-4444-444444444444";
const ORGANIZATION_ID: &str = "55555555-5555-5555-5555-555555555555";
const ENTITY_METADATA: &str = "Microsoft.Dynamics.CRM.EntityMetadata";

/// `GET WhoAmI`.
pub fn who_am_i(call: &Call) -> Reply {
    Reply::json(
        StatusCode::OK,
        json!({
            "@odata.context": format!(
                "{}#Microsoft.Dynamics.CRM.WhoAmIResponse",
                call.metadata_url()
            ),
            "BusinessUnitId": BUSINESS_UNIT_ID,
            "UserId": call.who,
            "OrganizationId": ORGANIZATION_ID,
        }),
    )
}

fn label(text: &str) -> Value {
    let label = json!({ "Label": text, "LanguageCode": 1033, "IsManaged": true });
    json!({ "LocalizedLabels": [label.clone()], "UserLocalizedLabel": label })
}

/// Every property of a table's definition (without `Attributes`).
fn entity_json(entity: &Entity) -> Map<String, Value> {
    let value = json!({
        "MetadataId": entity.metadata_id,
        "LogicalName": entity.name,
        "SchemaName": entity.schema_name,
        "EntitySetName": entity.set_name,
        "LogicalCollectionName": entity.set_name,
        "CollectionSchemaName": format!("{}s", entity.schema_name),
        "PrimaryIdAttribute": entity.primary_id,
        "PrimaryNameAttribute": entity.primary_name,
        "ObjectTypeCode": entity.object_type_code,
        "DisplayName": label(entity.display_name),
        "IsValidForAdvancedFind": true,
        "IsCustomEntity": false,
        "IsActivity": false,
        "IsIntersect": false,
        "IsLogicalEntity": false,
        "ChangeTrackingEnabled": false,
        "OwnershipType": "UserOwned",
    });
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// An attribute definition, as its derived metadata type (`StringAttributeMetadata`, …).
fn attribute_json(entity: &Entity, attribute: &Attribute) -> Value {
    let mut value = json!({
        "@odata.type": attribute.kind.odata_type(),
        "MetadataId": attribute_metadata_id(entity, attribute),
        "LogicalName": attribute.name,
        "SchemaName": attribute.schema_name,
        "EntityLogicalName": entity.name,
        "AttributeType": attribute.kind.name(),
        "AttributeTypeName": { "Value": attribute.kind.type_name() },
        "AttributeOf": null,
        "IsValidForCreate": attribute.create,
        "IsValidForUpdate": attribute.update,
        "IsValidForRead": true,
        "IsPrimaryId": attribute.primary_id,
        "IsPrimaryName": attribute.primary_name,
        "IsCustomAttribute": false,
        "IsLogical": false,
        "RequiredLevel": {
            "Value": attribute.required.name(),
            "CanBeChanged": !attribute.primary_id,
            "ManagedPropertyLogicalName": "canmodifyrequirementlevelsettings",
        },
        "DisplayName": label(attribute.schema_name),
    });
    let extra = match attribute.kind {
        AttrType::String | AttrType::Memo => json!({
            "MaxLength": attribute.max_length,
            "Format": attribute.format.map(|f| f.name()),
        }),
        AttrType::Integer => json!({
            "MinValue": attribute.min.map(|n| n as i64).unwrap_or(i64::from(i32::MIN)),
            "MaxValue": attribute.max.map(|n| n as i64).unwrap_or(i64::from(i32::MAX)),
            "Format": "None",
        }),
        AttrType::BigInt => json!({ "MinValue": i64::MIN, "MaxValue": i64::MAX }),
        AttrType::Money => json!({
            "Precision": attribute.precision,
            "PrecisionSource": 2,
            "MinValue": attribute.min,
            "MaxValue": attribute.max,
        }),
        AttrType::DateTime => {
            let behavior = if attribute.is_date_only() {
                "DateOnly"
            } else {
                "UserLocal"
            };
            json!({
                "Format": attribute.format.map(|f| f.name()),
                "DateTimeBehavior": { "Value": behavior },
            })
        }
        AttrType::Picklist | AttrType::State => json!({
            "DefaultFormValue": attribute.default.unwrap_or(-1),
        }),
        AttrType::Lookup => json!({ "Targets": attribute.targets }),
        AttrType::Uniqueidentifier => json!({}),
    };
    if let (Value::Object(map), Value::Object(extra)) = (&mut value, extra) {
        map.extend(extra);
    }
    value
}

/// The metadata properties a `$filter` on `EntityDefinitions` may name.
struct MetadataColumns(Map<String, Value>);

impl Columns for MetadataColumns {
    fn type_name(&self) -> String {
        ENTITY_METADATA.to_string()
    }

    fn kind(&self, property: &str) -> Option<Kind> {
        match (property, self.0.get(property)?) {
            ("MetadataId", _) => Some(Kind::Guid),
            (_, Value::String(_)) => Some(Kind::Text),
            (_, Value::Bool(_)) => Some(Kind::Boolean),
            (_, Value::Number(_)) => Some(Kind::Integer),
            _ => None,
        }
    }
}

/// `$select` over a definition: the selected properties and `MetadataId`.
fn selected(full: Map<String, Value>, options: &Options) -> Result<Map<String, Value>, ApiError> {
    let Some(names) = options.selected() else {
        return Ok(full);
    };
    let mut out = Map::new();
    for name in names {
        let value = full
            .get(&name)
            .ok_or_else(|| ApiError::no_property(ENTITY_METADATA, &name))?;
        out.insert(name, value.clone());
    }
    out.insert("MetadataId".into(), full["MetadataId"].clone());
    Ok(out)
}

fn context(call: &Call, options: &Options) -> String {
    match &options.select {
        Some(select) => format!("{}#EntityDefinitions({select})", call.metadata_url()),
        None => format!("{}#EntityDefinitions", call.metadata_url()),
    }
}

/// Whether `$expand` asks for the attributes (`Attributes` or `Attributes($select=…)`; the
/// nested options are accepted and every attribute property is returned).
fn expands_attributes(options: &Options) -> Result<bool, ApiError> {
    let Some(expand) = options.expand.as_deref().map(str::trim) else {
        return Ok(false);
    };
    let name = expand.split('(').next().unwrap_or_default().trim();
    let nested_ok = expand.len() == name.len() || expand.ends_with(')');
    if name == "Attributes" && nested_ok {
        Ok(true)
    } else {
        Err(ApiError::no_property(ENTITY_METADATA, name))
    }
}

/// `GET EntityDefinitions`.
pub fn definitions(call: &Call, options: &Options) -> Result<Reply, ApiError> {
    let with_attributes = expands_attributes(options)?;
    let filter = match &options.filter {
        Some(text) => {
            let columns = MetadataColumns(entity_json(&entities()[0]));
            Some(filter::parse(text, &columns)?)
        }
        None => None,
    };
    let mut value = Vec::new();
    for entity in entities() {
        let full = entity_json(entity);
        if filter.as_ref().is_some_and(|f| !f.matches(&full)) {
            continue;
        }
        let mut out = selected(full, options)?;
        if with_attributes {
            out.insert("Attributes".into(), attributes_json(entity));
        }
        value.push(Value::Object(out));
    }
    Ok(Reply::json(
        StatusCode::OK,
        json!({ "@odata.context": context(call, options), "value": value }),
    ))
}

fn attributes_json(entity: &Entity) -> Value {
    Value::Array(
        entity
            .attributes
            .iter()
            .map(|a| attribute_json(entity, a))
            .collect(),
    )
}

/// `LogicalName='account'` or a MetadataId.
fn find(key: &str) -> Result<&'static Entity, ApiError> {
    let key = key.trim();
    if let Some(name) = key
        .strip_prefix("LogicalName=")
        .map(|v| v.trim().trim_matches('\''))
    {
        return entities()
            .iter()
            .find(|e| e.name == name)
            .ok_or_else(|| ApiError::entity_missing(name));
    }
    let id = key.trim_start_matches('{').trim_end_matches('}');
    entities()
        .iter()
        .find(|e| e.metadata_id.eq_ignore_ascii_case(id))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "0x80040217",
                format!("Could not find an entity with id {id}."),
            )
        })
}

/// `GET EntityDefinitions(LogicalName='account')`.
pub fn definition(call: &Call, options: &Options, key: &str) -> Result<Reply, ApiError> {
    let entity = find(key)?;
    let with_attributes = expands_attributes(options)?;
    let mut out = selected(entity_json(entity), options)?;
    if with_attributes {
        out.insert("Attributes".into(), attributes_json(entity));
    }
    out.insert(
        "@odata.context".into(),
        Value::String(format!("{}/$entity", context(call, options))),
    );
    Ok(Reply::json(StatusCode::OK, Value::Object(out)))
}

/// `GET EntityDefinitions(LogicalName='account')/Attributes`.
/// `EntityDefinitions(…)/Attributes/Microsoft.Dynamics.CRM.LookupAttributeMetadata`: the
/// lookup columns only, with the derived type's properties (`Targets`).
pub fn lookup_attributes(call: &Call, key: &str) -> Result<Reply, ApiError> {
    let entity = find(key)?;
    let lookups: Vec<Value> = entity
        .attributes
        .iter()
        .filter(|a| a.kind == AttrType::Lookup)
        .map(|a| attribute_json(entity, a))
        .collect();
    Ok(Reply::json(
        StatusCode::OK,
        json!({
            "@odata.context": format!(
                "{}#EntityDefinitions('{}')/Attributes/Microsoft.Dynamics.CRM.LookupAttributeMetadata",
                call.metadata_url(),
                entity.metadata_id
            ),
            "value": lookups,
        }),
    ))
}

pub fn attributes(call: &Call, key: &str) -> Result<Reply, ApiError> {
    let entity = find(key)?;
    Ok(Reply::json(
        StatusCode::OK,
        json!({
            "@odata.context": format!(
                "{}#EntityDefinitions('{}')/Attributes",
                call.metadata_url(),
                entity.metadata_id
            ),
            "value": attributes_json(entity),
        }),
    ))
}
