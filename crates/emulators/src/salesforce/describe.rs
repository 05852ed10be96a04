//! Describe Global (`/sobjects`), sObject Basic Information (`/sobjects/{name}`) and
//! sObject Describe (`/sobjects/{name}/describe`).

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Salesforce;
use super::errors::ApiError;
use super::schema::{Field, SObject};

fn urls(version: &str, object: &SObject) -> Value {
    let base = format!("/services/data/{version}/sobjects/{}", object.name);
    json!({
        "sobject": base,
        "describe": format!("{base}/describe"),
        "rowTemplate": format!("{base}/{{ID}}"),
    })
}

fn object_summary(version: &str, object: &SObject) -> Value {
    json!({
        "name": object.name,
        "label": object.label,
        "labelPlural": object.label_plural,
        "keyPrefix": object.key_prefix,
        "custom": false,
        "customSetting": false,
        "queryable": true,
        "retrieveable": true,
        "searchable": object.createable,
        "createable": object.createable,
        "updateable": object.updateable,
        "deletable": object.deletable,
        "undeletable": object.deletable,
        "replicateable": true,
        "layoutable": object.createable,
        "urls": urls(version, object),
    })
}

fn describe_field(field: &Field) -> Value {
    let picklist: Vec<Value> = field
        .picklist
        .iter()
        .map(|v| json!({ "value": v, "label": v, "active": true, "defaultValue": false, "validFor": null }))
        .collect();
    let filterable = field.filterable();
    json!({
        "name": field.name,
        "label": field.label,
        "type": field.ftype.name(),
        "soapType": field.ftype.soap_type(),
        "length": field.length,
        "byteLength": field.length * 3,
        "precision": field.precision,
        "scale": field.scale,
        "digits": if field.ftype == super::schema::FieldType::Int { 9 } else { 0 },
        "nillable": field.nillable,
        "createable": field.createable,
        "updateable": field.updateable,
        "defaultedOnCreate": field.defaulted_on_create,
        "defaultValue": null,
        "calculated": false,
        "autoNumber": false,
        "unique": false,
        "externalId": false,
        "idLookup": field.id_lookup,
        "custom": false,
        "filterable": filterable,
        "sortable": filterable,
        "groupable": filterable && !field.ftype.is_number(),
        "restrictedPicklist": field.restricted_picklist,
        "dependentPicklist": false,
        "picklistValues": picklist,
        "referenceTo": field.reference_to,
        "relationshipName": field.relationship_name,
    })
}

/// `GET /services/data/vXX.X/sobjects`
pub async fn global(State(sf): State<Salesforce>, Path(version): Path<String>) -> Response {
    let schema = sf.org().schema();
    let sobjects: Vec<Value> = schema
        .objects
        .iter()
        .map(|o| object_summary(&version, o))
        .collect();
    Json(json!({ "encoding": "UTF-8", "maxBatchSize": 200, "sobjects": sobjects })).into_response()
}

/// `GET /services/data/vXX.X/sobjects/{name}/describe`
pub async fn object(
    State(sf): State<Salesforce>,
    Path((version, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let schema = sf.org().schema();
    let object = schema.object(&name).ok_or_else(ApiError::not_found)?;
    let mut body = object_summary(&version, object);
    body["fields"] = object.fields.iter().map(describe_field).collect();
    body["childRelationships"] = json!([]);
    Ok(Json(body).into_response())
}

/// `GET /services/data/vXX.X/sobjects/{name}`: the object's summary (no recent items here).
pub async fn basic(
    State(sf): State<Salesforce>,
    Path((version, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let schema = sf.org().schema();
    let object = schema.object(&name).ok_or_else(ApiError::not_found)?;
    Ok(
        Json(json!({ "objectDescribe": object_summary(&version, object), "recentItems": [] }))
            .into_response(),
    )
}
