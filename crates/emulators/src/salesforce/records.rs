//! Single-record resources: `POST sobjects/{name}`, and `GET`/`PATCH`/`DELETE`
//! `sobjects/{name}/{id}`. Errors answer 400 (or 404) with the per-record error as the body.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::Salesforce;
use super::errors::{ApiError, RecordError};
use super::ids;
use super::org::Found;
use super::time;
use super::write::{self, Writer};

fn record_error(e: RecordError) -> Response {
    let status = match e.status_code {
        "ENTITY_IS_DELETED" | "INVALID_CROSS_REFERENCE_KEY" if e.fields.is_empty() => {
            StatusCode::NOT_FOUND
        }
        _ => StatusCode::BAD_REQUEST,
    };
    let body = if status == StatusCode::NOT_FOUND && e.status_code != "ENTITY_IS_DELETED" {
        ApiError::body("NOT_FOUND", "The requested resource does not exist")
    } else {
        json!([e.to_api_json()])
    };
    (status, Json(body)).into_response()
}

fn json_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(fields)) => Ok(fields),
        Ok(_) => Err(ApiError::bad_request(
            "JSON_PARSER_ERROR",
            "the request body must be a JSON object",
        )),
        Err(e) => Err(ApiError::bad_request(
            "JSON_PARSER_ERROR",
            format!("Invalid JSON: {e}"),
        )),
    }
}

/// `POST /services/data/vXX.X/sobjects/{name}` → 201 `{"id","success","errors"}`
pub async fn create(
    State(sf): State<Salesforce>,
    Path((_version, name)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let fields = json_object(&body)?;
    let mut org = sf.org();
    let schema = org.schema();
    let object = schema.object(&name).ok_or_else(ApiError::not_found)?;
    let planned = match write::plan_insert(&org, object, &fields, Writer::Api) {
        Ok(planned) => planned,
        Err(e) => return Ok(record_error(e)),
    };
    let id = planned.apply(&mut org, Writer::Api.user_id(), time::now());
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "success": true, "errors": [] })),
    )
        .into_response())
}

/// `GET /services/data/vXX.X/sobjects/{name}/{id}[?fields=a,b]`
pub async fn get(
    State(sf): State<Salesforce>,
    Path((version, name, id)): Path<(String, String, String)>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let org = sf.org();
    let schema = org.schema();
    let object = schema.object(&name).ok_or_else(ApiError::not_found)?;
    let full = ids::normalize(&id)
        .filter(|full| full.starts_with(object.key_prefix))
        .ok_or_else(ApiError::not_found)?;
    let record = match org.find(&full) {
        Found::Live(record) => record,
        Found::Deleted => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "ENTITY_IS_DELETED",
                "entity is deleted",
            ));
        }
        Found::Missing => return Err(ApiError::not_found()),
    };
    let names: Vec<&str> = match params.get("fields") {
        Some(list) => {
            let mut names = Vec::new();
            for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                let field = object.field(name).ok_or_else(|| {
                    ApiError::bad_request(
                        "INVALID_FIELD",
                        format!("No such column '{name}' on entity '{}'", object.name),
                    )
                })?;
                names.push(field.name);
            }
            names
        }
        None => object.fields.iter().map(|f| f.name).collect(),
    };
    let mut out = Map::new();
    out.insert(
        "attributes".into(),
        json!({ "type": object.name, "url": format!("/services/data/{version}/sobjects/{}/{full}", object.name) }),
    );
    for name in names {
        out.insert(
            name.into(),
            record.get(name).cloned().unwrap_or(Value::Null),
        );
    }
    Ok(Json(Value::Object(out)).into_response())
}

/// `PATCH /services/data/vXX.X/sobjects/{name}/{id}` → 204
pub async fn update(
    State(sf): State<Salesforce>,
    Path((_version, name, id)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let fields = json_object(&body)?;
    let mut org = sf.org();
    let schema = org.schema();
    let object = schema.object(&name).ok_or_else(ApiError::not_found)?;
    match write::plan_update(&org, object, &id, &fields, Writer::Api) {
        Ok(planned) => {
            planned.apply(&mut org, Writer::Api.user_id(), time::now());
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        Err(e) if e.status_code == "MALFORMED_ID" => Err(ApiError::not_found()),
        Err(e) => Ok(record_error(e)),
    }
}

/// `DELETE /services/data/vXX.X/sobjects/{name}/{id}` → 204
pub async fn delete(
    State(sf): State<Salesforce>,
    Path((_version, name, id)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let mut org = sf.org();
    let schema = org.schema();
    let object = schema.object(&name).ok_or_else(ApiError::not_found)?;
    if !ids::normalize(&id).is_some_and(|full| full.starts_with(object.key_prefix)) {
        return Err(ApiError::not_found());
    }
    match write::plan_delete(&org, &id, Writer::Api) {
        Ok(planned) => {
            planned.apply(&mut org, Writer::Api.user_id(), time::now());
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        Err(e) => Ok(record_error(e)),
    }
}
