//! Replication resources: `sobjects/{name}/deleted/` and `sobjects/{name}/updated/`,
//! both over `start` and `end` (ISO 8601 with a zone). As documented, the seconds of both are
//! ignored (12:30:15 is taken as 12:30:00), and `latestDateCovered` is the minute-aligned end.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, DurationRound, Utc};
use serde_json::{Value, json};

use super::Salesforce;
use super::errors::ApiError;
use super::time;

/// How far back the replication resources reach (Salesforce: 30 days).
const REACH_DAYS: i64 = 30;

fn replication_date(
    params: &HashMap<String, String>,
    name: &str,
) -> Result<DateTime<Utc>, ApiError> {
    params
        .get(name)
        .and_then(|v| time::parse_datetime(v))
        .map(|at| at.duration_trunc(Duration::minutes(1)).unwrap_or(at))
        .ok_or_else(|| {
            ApiError::bad_request(
                "INVALID_REPLICATION_DATE",
                format!("{name} is missing or not an ISO 8601 dateTime with a time zone"),
            )
        })
}

/// `start` and `end` to the minute, checked: end not before start, start within the last
/// 30 days.
fn window(params: &HashMap<String, String>) -> Result<(DateTime<Utc>, DateTime<Utc>), ApiError> {
    let start = replication_date(params, "start")?;
    let end = replication_date(params, "end")?;
    if end < start {
        return Err(ApiError::bad_request(
            "INVALID_REPLICATION_DATE",
            "end date cannot be before start date",
        ));
    }
    if start < Utc::now() - Duration::days(REACH_DAYS) {
        return Err(ApiError::bad_request(
            "INVALID_REPLICATION_DATE",
            format!("start date cannot be more than {REACH_DAYS} days ago"),
        ));
    }
    Ok((start, end))
}

/// `GET /services/data/vXX.X/sobjects/{name}/deleted/?start=…&end=…`
pub async fn deleted(
    State(sf): State<Salesforce>,
    Path((_version, name)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let org = sf.org();
    let schema = org.schema();
    let object = schema.object(&name).ok_or_else(ApiError::not_found)?;
    let (start, end) = window(&params)?;
    let records: Vec<Value> = org
        .binned(object.name)
        .filter(|b| start <= b.deleted_at && b.deleted_at <= end)
        .map(|b| json!({ "id": b.record["Id"], "deletedDate": time::render(b.deleted_at) }))
        .collect();
    let earliest = org
        .created_at
        .duration_trunc(Duration::minutes(1))
        .unwrap_or(org.created_at);
    Ok(Json(json!({
        "deletedRecords": records,
        "earliestDateAvailable": time::render(earliest),
        "latestDateCovered": time::render(end),
    }))
    .into_response())
}

/// `GET /services/data/vXX.X/sobjects/{name}/updated/?start=…&end=…`: ids of live records
/// whose SystemModstamp (CreatedDate where there is none) falls in the window.
pub async fn updated(
    State(sf): State<Salesforce>,
    Path((_version, name)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let org = sf.org();
    let schema = org.schema();
    let object = schema.object(&name).ok_or_else(ApiError::not_found)?;
    let (start, end) = window(&params)?;
    let stamp = if object.has_field("SystemModstamp") {
        "SystemModstamp"
    } else {
        "CreatedDate"
    };
    let ids: Vec<Value> = org
        .live_records(object.name)
        .filter(|r| {
            r.get(stamp)
                .and_then(Value::as_str)
                .and_then(time::parse_datetime)
                .is_some_and(|at| start <= at && at <= end)
        })
        .map(|r| r["Id"].clone())
        .collect();
    Ok(Json(json!({ "ids": ids, "latestDateCovered": time::render(end) })).into_response())
}
