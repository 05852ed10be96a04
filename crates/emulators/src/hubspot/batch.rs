//! Batch endpoints: read, create, update, archive; at most 100 inputs each.
//!
//! Batch create and update report refused inputs one by one (207 Multi-Status) when every
//! input carries an `objectWriteTraceId`; otherwise one refused input fails the whole batch
//! (400, or 409 for a duplicate email) and nothing of it is written. Unknown or archived ids
//! in an update are reported with 207 (`OBJECT_NOT_FOUND`), the other inputs applied.
//! A create input's `associations` to a record that is not live refuse that input the same
//! way (a `VALIDATION_ERROR`).

use std::collections::BTreeSet;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::HubSpot;
use super::associations::{AssociationInput, links_of};
use super::errors::ApiError;
use super::objects::{
    parse_body, record_error, render, render_written, shown_properties, write_error,
};
use super::portal::{ObjectKind, WriteError, now};
use super::properties::wire_datetime;

const MAX_INPUTS: usize = 100;

pub(super) fn check_size(count: usize) -> Result<(), ApiError> {
    if count > MAX_INPUTS {
        return Err(ApiError::validation(format!(
            "Batch input of {count} inputs is too large: at most {MAX_INPUTS} inputs are allowed."
        )));
    }
    Ok(())
}

/// An id given as a string or a number.
pub(super) fn id_text(id: &Value) -> String {
    match id {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn not_found_error(kind: &ObjectKind, ids: Vec<String>, traces: Vec<String>) -> Value {
    let mut context = Map::new();
    context.insert("ids".into(), json!(ids));
    if !traces.is_empty() {
        context.insert("objectWriteTraceId".into(), json!(traces));
    }
    record_error(kind, &WriteError::NotFound, context)
}

/// `{"status":"COMPLETE","results",…,"startedAt","completedAt"}`; with errors 207 and
/// `numErrors`/`errors`.
pub(super) fn answer(
    results: Vec<Value>,
    errors: Vec<Value>,
    started: DateTime<Utc>,
    ok: StatusCode,
) -> Response {
    let mut body = json!({
        "status": "COMPLETE",
        "results": results,
        "startedAt": wire_datetime(started),
        "completedAt": wire_datetime(now()),
    });
    let status = if errors.is_empty() {
        ok
    } else {
        body["numErrors"] = json!(errors.len());
        body["errors"] = Value::Array(errors);
        StatusCode::MULTI_STATUS
    };
    (status, axum::Json(body)).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReadBody {
    #[serde(default)]
    properties: Vec<String>,
    #[serde(default)]
    id_property: Option<String>,
    inputs: Vec<IdInput>,
}

#[derive(Deserialize)]
struct IdInput {
    id: Value,
}

/// `POST /crm/v3/objects/{objectType}/batch/read?archived`
pub(super) async fn read(
    State(hubspot): State<HubSpot>,
    Path(object_type): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let started = now();
    let body: ReadBody = parse_body(&body)?;
    let archived = params
        .iter()
        .any(|(k, v)| k == "archived" && v.eq_ignore_ascii_case("true"));
    let portal = hubspot.portal();
    let store = portal.store(&object_type)?;
    check_size(body.inputs.len())?;
    let shown = shown_properties(&store.kind, &body.properties);
    let mut seen = BTreeSet::new();
    let mut results = Vec::new();
    let mut missing = Vec::new();
    for input in &body.inputs {
        let text = id_text(&input.id);
        match store.resolve(&text, body.id_property.as_deref(), archived)? {
            Some(id) => {
                if seen.insert(id) {
                    results.push(render(&store.records[&id], &shown));
                }
            }
            None => missing.push(text),
        }
    }
    let errors = if missing.is_empty() {
        Vec::new()
    } else {
        vec![not_found_error(&store.kind, missing, Vec::new())]
    };
    Ok(answer(results, errors, started, StatusCode::OK))
}

#[derive(Deserialize)]
struct CreateBody {
    inputs: Vec<CreateInput>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateInput {
    #[serde(default)]
    properties: Map<String, Value>,
    #[serde(default)]
    object_write_trace_id: Option<String>,
    /// Associations made with the record, at its creation stamp.
    #[serde(default)]
    associations: Vec<AssociationInput>,
}

fn with_trace(mut object: Value, trace: Option<&String>) -> Value {
    if let Some(trace) = trace {
        object["objectWriteTraceId"] = json!(trace);
    }
    object
}

/// `POST /crm/v3/objects/{objectType}/batch/create` → 201
pub(super) async fn create(
    State(hubspot): State<HubSpot>,
    Path(object_type): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let started = now();
    let body: CreateBody = parse_body(&body)?;
    let mut portal = hubspot.portal();
    let index = portal.index(&object_type)?;
    check_size(body.inputs.len())?;
    let links = body
        .inputs
        .iter()
        .map(|i| links_of(index, &i.associations))
        .collect::<Result<Vec<_>, _>>()?;
    let multi_status = body
        .inputs
        .iter()
        .all(|i| i.object_write_trace_id.is_some());
    let savepoint = portal.savepoint();
    let mut created = Vec::new();
    let mut errors = Vec::new();
    for (input, links) in body.inputs.iter().zip(&links) {
        match portal.create_linked(&object_type, &input.properties, links, started)? {
            Ok(id) => created.push((id, input.object_write_trace_id.as_ref())),
            Err(e) if multi_status => {
                let mut context = Map::new();
                context.insert(
                    "objectWriteTraceId".into(),
                    json!([input.object_write_trace_id]),
                );
                errors.push(record_error(&portal.store(&object_type)?.kind, &e, context));
            }
            Err(e) => {
                portal.rollback(savepoint);
                return Err(write_error(&portal.store(&object_type)?.kind, e));
            }
        }
    }
    let store = portal.store(&object_type)?;
    let results = created
        .into_iter()
        .map(|(id, trace)| with_trace(render_written(&store.records[&id]), trace))
        .collect();
    Ok(answer(results, errors, started, StatusCode::CREATED))
}

#[derive(Deserialize)]
struct UpdateBody {
    inputs: Vec<UpdateInput>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateInput {
    id: Value,
    #[serde(default)]
    properties: Map<String, Value>,
    #[serde(default)]
    id_property: Option<String>,
    #[serde(default)]
    object_write_trace_id: Option<String>,
}

/// `POST /crm/v3/objects/{objectType}/batch/update` → 200
pub(super) async fn update(
    State(hubspot): State<HubSpot>,
    Path(object_type): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let started = now();
    let body: UpdateBody = parse_body(&body)?;
    let mut portal = hubspot.portal();
    portal.store(&object_type)?;
    check_size(body.inputs.len())?;
    let mut seen = BTreeSet::new();
    let duplicates: Vec<String> = body
        .inputs
        .iter()
        .map(|i| id_text(&i.id))
        .filter(|id| !seen.insert(id.clone()))
        .collect();
    if !duplicates.is_empty() {
        return Err(ApiError::validation(format!(
            "Duplicate IDs found in batch input: {duplicates:?}. IDs must be unique"
        )));
    }
    let multi_status = body
        .inputs
        .iter()
        .all(|i| i.object_write_trace_id.is_some());
    let savepoint = portal.savepoint();
    let mut updated = Vec::new();
    let mut errors = Vec::new();
    let (mut missing, mut missing_traces) = (Vec::new(), Vec::new());
    for input in &body.inputs {
        let text = id_text(&input.id);
        let store = portal.store(&object_type)?;
        let Some(id) = store.resolve(&text, input.id_property.as_deref(), false)? else {
            missing.push(text);
            missing_traces.extend(input.object_write_trace_id.clone());
            continue;
        };
        match portal.update(&object_type, id, &input.properties, started)? {
            Ok(()) => updated.push((id, input.object_write_trace_id.as_ref())),
            Err(WriteError::NotFound) => {
                missing.push(text);
                missing_traces.extend(input.object_write_trace_id.clone());
            }
            Err(e) if multi_status => {
                let mut context = Map::new();
                context.insert(
                    "objectWriteTraceId".into(),
                    json!([input.object_write_trace_id]),
                );
                context.insert("ids".into(), json!([text]));
                errors.push(record_error(&portal.store(&object_type)?.kind, &e, context));
            }
            Err(e) => {
                portal.rollback(savepoint);
                return Err(write_error(&portal.store(&object_type)?.kind, e));
            }
        }
    }
    let store = portal.store(&object_type)?;
    if !missing.is_empty() {
        errors.push(not_found_error(&store.kind, missing, missing_traces));
    }
    let results = updated
        .into_iter()
        .map(|(id, trace)| with_trace(render_written(&store.records[&id]), trace))
        .collect();
    Ok(answer(results, errors, started, StatusCode::OK))
}

#[derive(Deserialize)]
struct ArchiveBody {
    inputs: Vec<IdInput>,
}

/// `POST /crm/v3/objects/{objectType}/batch/archive` → 204; unknown and already archived
/// ids are ignored.
pub(super) async fn archive(
    State(hubspot): State<HubSpot>,
    Path(object_type): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: ArchiveBody = parse_body(&body)?;
    let mut portal = hubspot.portal();
    portal.store(&object_type)?;
    check_size(body.inputs.len())?;
    let at = now();
    for input in &body.inputs {
        if let Ok(id) = id_text(&input.id).trim().parse::<u64>() {
            portal.archive(&object_type, id, at)?;
        }
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
