//! sObject Collections: create (`POST`), update (`PATCH`) and delete (`DELETE ?ids=`) of up to
//! 200 records in one call; `200 OK` with one result per record, in order. With `allOrNone`
//! every record is checked first and none is written if any fails.

use std::collections::{HashMap, HashSet};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};

use super::Salesforce;
use super::errors::{ApiError, RecordError};
use super::org::Org;
use super::time;
use super::write::{self, Planned, Writer};

pub const MAX_RECORDS: usize = 200;

fn too_many(n: usize) -> ApiError {
    ApiError::bad_request(
        "EXCEEDED_ID_LIMIT",
        format!("Maximum number of records per request is {MAX_RECORDS}; got {n}"),
    )
}

/// The request body: `allOrNone` and the records.
fn parse_body(body: &[u8]) -> Result<(bool, Vec<Value>), ApiError> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request("JSON_PARSER_ERROR", format!("Invalid JSON: {e}")))?;
    let all_or_none = match value.get("allOrNone") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(other) => {
            return Err(ApiError::bad_request(
                "JSON_PARSER_ERROR",
                format!("Cannot deserialize instance of boolean from {other}"),
            ));
        }
    };
    let Some(Value::Array(records)) = value.get("records") else {
        return Err(ApiError::bad_request(
            "JSON_PARSER_ERROR",
            "the request body needs a records array",
        ));
    };
    if records.len() > MAX_RECORDS {
        return Err(too_many(records.len()));
    }
    Ok((all_or_none, records.clone()))
}

/// The record's fields and its `attributes.type`, or why it has none.
fn record_and_type(record: &Value) -> Result<(&Map<String, Value>, &str), RecordError> {
    let fields = record
        .as_object()
        .ok_or_else(|| RecordError::new("JSON_PARSER_ERROR", "a record must be a JSON object"))?;
    let object = fields
        .get("attributes")
        .and_then(|a| a.get("type"))
        .and_then(Value::as_str)
        .ok_or_else(|| RecordError::new("INVALID_TYPE", "Must send a concrete entity type."))?;
    Ok((fields, object))
}

fn unknown_type(object: &str) -> RecordError {
    RecordError::new(
        "INVALID_TYPE",
        format!("sObject type '{object}' is not supported."),
    )
}

/// Plans each record in order and applies it, or (allOrNone) plans all and applies all or none.
fn execute(
    org: &mut Org,
    count: usize,
    all_or_none: bool,
    at: DateTime<Utc>,
    mut plan: impl FnMut(&Org, usize) -> Result<Planned, RecordError>,
) -> Vec<Result<String, RecordError>> {
    let by = Writer::Api.user_id().to_string();
    if !all_or_none {
        return (0..count)
            .map(|i| plan(org, i).map(|p| p.apply(org, &by, at)))
            .collect();
    }
    let plans: Vec<_> = (0..count).map(|i| plan(org, i)).collect();
    if plans.iter().any(Result::is_err) {
        return plans
            .into_iter()
            .map(|p| Err(p.err().unwrap_or_else(RecordError::rolled_back)))
            .collect();
    }
    plans
        .into_iter()
        .flatten()
        .map(|p| Ok(p.apply(org, &by, at)))
        .collect()
}

/// SaveResults: the id on success, null on failure.
fn save_results(results: Vec<Result<String, RecordError>>) -> Response {
    let body: Vec<Value> = results
        .into_iter()
        .map(|r| match r {
            Ok(id) => json!({ "id": id, "success": true, "errors": [] }),
            Err(e) => json!({ "id": null, "success": false, "errors": [e.to_json()] }),
        })
        .collect();
    Json(body).into_response()
}

/// Later occurrences of an id already in the list.
fn duplicates<'a>(ids: impl Iterator<Item = Option<&'a str>>) -> Vec<bool> {
    let mut seen = HashSet::new();
    ids.map(|id| id.is_some_and(|id| !seen.insert(id.to_string())))
        .collect()
}

fn duplicate_error(id: &str) -> RecordError {
    RecordError::new("DUPLICATE_VALUE", format!("Duplicate id specified: {id}")).on("Id")
}

/// `POST /services/data/vXX.X/composite/sobjects`
pub async fn create(State(sf): State<Salesforce>, body: Bytes) -> Result<Response, ApiError> {
    let (all_or_none, records) = parse_body(&body)?;
    let mut org = sf.org();
    let schema = org.schema();
    let results = execute(
        &mut org,
        records.len(),
        all_or_none,
        time::now(),
        |org, i| {
            let (fields, object) = record_and_type(&records[i])?;
            let object = schema.object(object).ok_or_else(|| unknown_type(object))?;
            write::plan_insert(org, object, fields, Writer::Api)
        },
    );
    Ok(save_results(results))
}

/// `PATCH /services/data/vXX.X/composite/sobjects`: every record names its `Id`.
pub async fn update(State(sf): State<Salesforce>, body: Bytes) -> Result<Response, ApiError> {
    let (all_or_none, records) = parse_body(&body)?;
    let record_id = |r: &Value| -> Option<String> {
        let fields = r.as_object()?;
        let (_, id) = fields.iter().find(|(k, _)| k.eq_ignore_ascii_case("Id"))?;
        id.as_str().map(str::to_string)
    };
    let ids: Vec<Option<String>> = records.iter().map(record_id).collect();
    let repeated = duplicates(ids.iter().map(|id| id.as_deref()));
    let mut org = sf.org();
    let schema = org.schema();
    let results = execute(
        &mut org,
        records.len(),
        all_or_none,
        time::now(),
        |org, i| {
            let (fields, object) = record_and_type(&records[i])?;
            let object = schema.object(object).ok_or_else(|| unknown_type(object))?;
            let Some(id) = &ids[i] else {
                return Err(RecordError::new(
                    "MISSING_ARGUMENT",
                    "Id not specified in an update call",
                ));
            };
            if repeated[i] {
                return Err(duplicate_error(id));
            }
            write::plan_update(org, object, id, fields, Writer::Api)
        },
    );
    Ok(save_results(results))
}

/// `DELETE /services/data/vXX.X/composite/sobjects?ids=…&allOrNone=…`
pub async fn delete(
    State(sf): State<Salesforce>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let ids: Vec<String> = params
        .get("ids")
        .map(|ids| {
            ids.split(',')
                .map(|id| id.trim().to_string())
                .filter(|id| !id.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if ids.is_empty() {
        return Err(ApiError::bad_request(
            "MISSING_ARGUMENT",
            "ids parameter is required",
        ));
    }
    if ids.len() > MAX_RECORDS {
        return Err(too_many(ids.len()));
    }
    let all_or_none = params
        .get("allOrNone")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let repeated = duplicates(ids.iter().map(|id| Some(id.as_str())));
    let mut org = sf.org();
    let results = execute(&mut org, ids.len(), all_or_none, time::now(), |org, i| {
        if repeated[i] {
            return Err(duplicate_error(&ids[i]));
        }
        write::plan_delete(org, &ids[i], Writer::Api)
    });
    // DeleteResults name the id asked for, failed or not.
    let body: Vec<Value> = results
        .into_iter()
        .zip(&ids)
        .map(|(r, asked)| match r {
            Ok(id) => json!({ "id": id, "success": true, "errors": [] }),
            Err(e) => json!({ "id": asked, "success": false, "errors": [e.to_json()] }),
        })
        .collect();
    Ok(Json(body).into_response())
}
