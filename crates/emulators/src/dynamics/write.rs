//! Writing rows: `POST {entityset}` (create), `PATCH {entityset}({id})` (update, or upsert when
//! the row doesn't exist; `If-Match: *` prevents the create, `If-None-Match: *` the update,
//! `If-Match: W/"N"` applies optimistic concurrency), `DELETE {entityset}({id})`.
//! `Prefer: return=representation` returns the row (201 for a create, 200 for an update).

use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::errors::ApiError;
use super::options::{Options, Prefer};
use super::org::Org;
use super::query;
use super::reply::Reply;
use super::schema::Entity;
use super::time;
use super::values::{self, Mode};
use super::webapi::Call;

fn body(entity: &Entity, call: &Call) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(call.body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::payload(
            entity.set_name,
            "A resource (JSON object) was expected in the payload.",
        )),
        Err(e) => Err(ApiError::payload(
            entity.set_name,
            &format!("Invalid JSON. {e}"),
        )),
    }
}

fn entity_url(call: &Call, entity: &Entity, id: &str) -> String {
    format!("{}/{}({id})", call.root_url(), entity.set_name)
}

/// 204 with `OData-EntityId`, or the row with `Prefer: return=representation`.
fn written(
    org: &Org,
    entity: &'static Entity,
    id: &str,
    call: &Call,
    options: &Options,
    created: bool,
) -> Result<Reply, ApiError> {
    let url = entity_url(call, entity, id);
    if !Prefer::of(call.headers).representation {
        return Ok(Reply::empty(StatusCode::NO_CONTENT).with("odata-entityid", url));
    }
    let select = query::select(entity, options)?;
    let row = org
        .get(entity, id)
        .ok_or_else(|| ApiError::record_missing(entity.name, id))?;
    let mut value = query::render(entity, row, select.as_deref());
    value["@odata.context"] = Value::String(format!(
        "{}/$entity",
        query::context(call, entity, select.as_deref())
    ));
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut reply = Reply::json(status, value).with("preference-applied", "return=representation");
    if created {
        reply = reply.with("odata-entityid", url);
    }
    Ok(reply)
}

/// A lookup may only name a record that exists (Dataverse answers 404 otherwise).
fn check_references(org: &Org, checked: &super::org::Values) -> Result<(), ApiError> {
    for (attribute, value) in checked {
        if attribute.kind != super::schema::AttrType::Lookup {
            continue;
        }
        let Some(id) = value.as_str() else { continue };
        let exists = attribute
            .targets
            .iter()
            .any(|t| super::schema::by_name(t).is_some_and(|target| org.get(target, id).is_some()));
        if !exists {
            let target = attribute.targets.first().copied().unwrap_or("record");
            return Err(ApiError::record_missing(target, id));
        }
    }
    Ok(())
}

/// `POST {entityset}`.
pub fn create(
    org: &mut Org,
    entity: &'static Entity,
    call: &Call,
    options: &Options,
) -> Result<Reply, ApiError> {
    let payload = body(entity, call)?;
    let checked = values::check(entity, &payload, Mode::Create)?;
    check_references(org, &checked)?;
    let id = org.insert(entity, checked, call.who, time::now())?;
    written(org, entity, &id, call, options, true)
}

/// `PATCH {entityset}({id})`.
pub fn update(
    org: &mut Org,
    entity: &'static Entity,
    id: &str,
    call: &Call,
    options: &Options,
) -> Result<Reply, ApiError> {
    let existing = org.get(entity, id).map(|row| row.etag());
    match (call.header("if-match").as_deref(), &existing) {
        (Some(_), None) => return Err(ApiError::record_missing(entity.name, id)),
        (Some(tag), Some(etag)) if tag != "*" && tag != etag => {
            return Err(ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "0x80060882",
                "The version of the existing record doesn't match the RowVersion property \
                 provided.",
            ));
        }
        _ => {}
    }
    if call.header("if-none-match").as_deref() == Some("*") && existing.is_some() {
        return Err(ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "0x80040237",
            "A record with matching key values already exists.",
        ));
    }
    let mut payload = body(entity, call)?;
    if let Some(given) = payload.get(entity.primary_id).and_then(Value::as_str)
        && !given.eq_ignore_ascii_case(id)
    {
        return Err(ApiError::bad_request(
            super::errors::INVALID_ARGUMENT,
            format!(
                "The value of '{}' in the payload doesn't match the id in the URL.",
                entity.primary_id
            ),
        ));
    }
    if existing.is_none() {
        // Upsert: the row is created with the id of the URL.
        payload.insert(entity.primary_id.into(), Value::String(id.to_string()));
        let checked = values::check(entity, &payload, Mode::Create)?;
        check_references(org, &checked)?;
        org.insert(entity, checked, call.who, time::now())?;
        return written(org, entity, id, call, options, true);
    }
    let checked = values::check(entity, &payload, Mode::Update)?;
    check_references(org, &checked)?;
    org.update(entity, id, checked, call.who, time::now());
    written(org, entity, id, call, options, false)
}

/// `DELETE {entityset}({id})`.
pub fn delete(org: &mut Org, entity: &'static Entity, id: &str) -> Result<Reply, ApiError> {
    if org.delete(entity, id) {
        Ok(Reply::empty(StatusCode::NO_CONTENT))
    } else {
        Err(ApiError::record_missing(entity.name, id))
    }
}
