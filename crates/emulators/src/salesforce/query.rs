//! `query` and `queryAll`: SOQL results in pages (2,000 records by default, or the
//! `Sforce-Query-Options: batchSize=N` asked for, 200 to 2,000), the rest behind
//! `nextRecordsUrl` query locators kept in the org.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query as QueryParams, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::Salesforce;
use super::errors::ApiError;
use super::eval;
use super::org::Record;
use super::soql;

pub const PAGE_SIZE: usize = 2000;
/// Open cursors kept; the oldest is dropped past this (Salesforce also limits open cursors).
const MAX_CURSORS: usize = 100;

/// A query's rendered result, served page by page.
struct Cursor {
    rows: Arc<Vec<Value>>,
    page_size: usize,
}

#[derive(Default)]
pub struct Cursors {
    next: u64,
    open: BTreeMap<u64, Cursor>,
}

impl Cursors {
    fn open(&mut self, rows: Arc<Vec<Value>>, page_size: usize) -> u64 {
        self.next += 1;
        self.open.insert(self.next, Cursor { rows, page_size });
        while self.open.len() > MAX_CURSORS {
            self.open.pop_first();
        }
        self.next
    }
}

fn locator_name(cursor: u64) -> String {
    format!("01g{cursor:012}AAA")
}

/// `01g000000000001AAA-2000` → (1, 2000)
fn parse_locator(locator: &str) -> Option<(u64, usize)> {
    let (name, offset) = locator.rsplit_once('-')?;
    let cursor = name
        .strip_prefix("01g")?
        .strip_suffix("AAA")?
        .parse()
        .ok()?;
    Some((cursor, offset.parse().ok()?))
}

fn page_size(headers: &HeaderMap) -> usize {
    headers
        .get("sforce-query-options")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| {
            h.split(',')
                .filter_map(|part| part.trim().split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("batchSize"))
                .and_then(|(_, v)| v.trim().parse::<usize>().ok())
        })
        .map_or(PAGE_SIZE, |n| n.clamp(200, PAGE_SIZE))
}

/// The record as a query row: `attributes`, then the selected fields.
fn row(version: &str, object: &str, record: &Record, fields: &[&str]) -> Value {
    let id = record.get("Id").and_then(Value::as_str).unwrap_or_default();
    let mut out = Map::new();
    out.insert(
        "attributes".into(),
        json!({ "type": object, "url": format!("/services/data/{version}/sobjects/{object}/{id}") }),
    );
    for f in fields {
        out.insert(
            f.to_string(),
            record.get(*f).cloned().unwrap_or(Value::Null),
        );
    }
    Value::Object(out)
}

fn page(
    resource: &str,
    version: &str,
    cursor: u64,
    rows: &[Value],
    offset: usize,
    size: usize,
) -> Value {
    let end = (offset + size).min(rows.len());
    let mut body = json!({
        "totalSize": rows.len(),
        "done": end >= rows.len(),
        "records": rows[offset.min(end)..end],
    });
    if end < rows.len() {
        body["nextRecordsUrl"] = json!(format!(
            "/services/data/{version}/{resource}/{}-{end}",
            locator_name(cursor)
        ));
    }
    body
}

/// `GET /services/data/vXX.X/query?q=…`
pub async fn query(
    State(sf): State<Salesforce>,
    Path(version): Path<String>,
    headers: HeaderMap,
    QueryParams(params): QueryParams<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    run(sf, version, headers, params, false)
}

/// `GET /services/data/vXX.X/queryAll?q=…`: deleted records too, with IsDeleted true.
pub async fn query_all(
    State(sf): State<Salesforce>,
    Path(version): Path<String>,
    headers: HeaderMap,
    QueryParams(params): QueryParams<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    run(sf, version, headers, params, true)
}

fn run(
    sf: Salesforce,
    version: String,
    headers: HeaderMap,
    params: HashMap<String, String>,
    all: bool,
) -> Result<Response, ApiError> {
    let text = params
        .get("q")
        .ok_or_else(|| ApiError::bad_request("MALFORMED_QUERY", "missing query parameter 'q'"))?;
    let parsed = soql::parse(text).map_err(|m| ApiError::bad_request("MALFORMED_QUERY", m))?;
    let mut org = sf.org();
    let schema = org.schema();
    let object = schema
        .object(&parsed.object)
        .ok_or_else(|| ApiError::invalid_type(&parsed.object))?;
    let plan = eval::plan(parsed, object)?;

    let mut source: Vec<&Record> = org.live_records(object.name).collect();
    if all {
        source.extend(org.binned(object.name).map(|b| &b.record));
        source.sort_by(|a, b| {
            a.get("Id")
                .and_then(Value::as_str)
                .cmp(&b.get("Id").and_then(Value::as_str))
        });
    }
    let matched = plan.run(source.into_iter());
    let Some(fields) = &plan.fields else {
        return Ok(
            Json(json!({ "totalSize": matched.len(), "done": true, "records": [] }))
                .into_response(),
        );
    };
    let rows: Vec<Value> = matched
        .iter()
        .map(|r| row(&version, object.name, r, fields))
        .collect();
    let rows = Arc::new(rows);
    let size = page_size(&headers);
    let cursor = org.cursors.open(rows.clone(), size);
    let resource = if all { "queryAll" } else { "query" };
    Ok(Json(page(resource, &version, cursor, &rows, 0, size)).into_response())
}

/// `GET /services/data/vXX.X/query/{locator}` (and `queryAll/{locator}`): the next page.
pub async fn more(
    State(sf): State<Salesforce>,
    Path((version, locator)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    more_of(sf, version, locator, "query")
}

pub async fn more_all(
    State(sf): State<Salesforce>,
    Path((version, locator)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    more_of(sf, version, locator, "queryAll")
}

fn more_of(
    sf: Salesforce,
    version: String,
    locator: String,
    resource: &str,
) -> Result<Response, ApiError> {
    let invalid = || ApiError::bad_request("INVALID_QUERY_LOCATOR", "invalid query locator");
    let (cursor, offset) = parse_locator(&locator).ok_or_else(invalid)?;
    let org = sf.org();
    let open = org.cursors.open.get(&cursor).ok_or_else(invalid)?;
    if offset > open.rows.len() {
        return Err(invalid());
    }
    Ok(Json(page(
        resource,
        &version,
        cursor,
        &open.rows,
        offset,
        open.page_size,
    ))
    .into_response())
}

#[cfg(test)]
mod tests {
    #[test]
    fn locators_round_trip() {
        let name = super::locator_name(7);
        assert_eq!(
            super::parse_locator(&format!("{name}-2000")),
            Some((7, 2000))
        );
        assert_eq!(super::parse_locator("garbage"), None);
    }
}
