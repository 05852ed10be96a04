//! HubSpot through the CRM API v3 with a private app's access token: discovery with the
//! properties API, reads with the search API (keyset paging by `hs_object_id`, 200 per
//! page), changes by `hs_lastmodifieddate` (search) and archived records (deletions), writes
//! with the batch endpoints (100 per call; create carries `objectWriteTraceId` so each
//! record gets its own result). HubSpot does not say who made a change through the API, so
//! the dedicated-account option does not apply; the engine's own writes are recognised by
//! the values they wrote and the exact `updatedAt` HubSpot answers with.

mod describe;

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::{Method, Response, StatusCode};
use serde::Deserialize;
use serde_json::{Map, Value as Json, json};

use super::cloud::changes::{Echo, Observed};
use super::cloud::connector::{CloudApi, Journal};
use super::cloud::http::{Api, RetryPolicy, failure};
use super::cloud::ops::group;
use super::cloud::values::{parse_instant, row_of, to_text};
use super::cloud::{CloudContext, Polled, digest, written};
use super::{ConnectorError, Key, Result, Row, TableSchema, WriteOp, WriteOutcome};
use crate::package::TableRef;
use describe::{KEY, MODIFIED, OBJECT_TYPES};

/// Inputs per batch call (the API's limit).
pub const WRITE_BATCH: usize = 100;
const SEARCH_PAGE: usize = 200;
/// The search API pages through at most 10,000 results per query.
const SEARCH_WINDOW: usize = 10_000;

pub struct HubSpotConnector {
    api: Api,
    base_url: String,
    token: String,
    cloud: CloudContext,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Object {
    id: String,
    #[serde(default)]
    properties: Map<String, Json>,
    #[serde(default)]
    updated_at: Option<String>,
    #[serde(default)]
    archived_at: Option<String>,
    #[serde(default)]
    object_write_trace_id: Option<String>,
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    results: Vec<Object>,
    #[serde(default)]
    paging: Option<Paging>,
    #[serde(default)]
    errors: Vec<BatchError>,
}

#[derive(Deserialize)]
struct Paging {
    next: Option<Next>,
}

#[derive(Deserialize)]
struct Next {
    after: String,
}

#[derive(Deserialize)]
struct BatchError {
    #[serde(default)]
    category: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    context: Map<String, Json>,
}

impl BatchError {
    /// What the error's context names under `name` (a list, or one string).
    fn context(&self, name: &str) -> Vec<String> {
        match self.context.get(name) {
            Some(Json::Array(items)) => items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect(),
            Some(Json::String(s)) => vec![s.clone()],
            _ => Vec::new(),
        }
    }

    fn text(&self) -> String {
        format!("{}: {}", self.category, self.message)
    }
}

impl Object {
    /// The newest stamp HubSpot reports for the object.
    fn stamp(&self) -> Option<DateTime<Utc>> {
        let property = self
            .properties
            .get(MODIFIED)
            .and_then(Json::as_str)
            .and_then(parse_instant);
        let updated = self.updated_at.as_deref().and_then(parse_instant);
        property.max(updated)
    }
}

/// A created record's id and stamp, or why HubSpot refused it.
type Created = std::result::Result<(Key, Option<DateTime<Utc>>), String>;
/// An updated record's stamp, or (the record is missing, why HubSpot refused it).
type Updated = std::result::Result<Option<DateTime<Utc>>, (bool, String)>;

impl HubSpotConnector {
    pub fn connect(base_url: &str, token: &str, cloud: CloudContext) -> Result<Self> {
        if token.trim().is_empty() {
            return Err(failure(
                "HubSpot: the connection has no access token; create a private app in HubSpot (Settings → Integrations → Private apps) and paste its token".into(),
                false,
            ));
        }
        Ok(HubSpotConnector {
            api: Api::new("HubSpot", RetryPolicy::default())?,
            base_url: base_url.trim_end_matches('/').to_owned(),
            token: token.trim().to_owned(),
            cloud,
        })
    }

    async fn send(
        &self,
        what: &str,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Json>,
    ) -> Result<Response> {
        let url = format!("{}{path}", self.base_url);
        let response = self
            .api
            .call(what, &method, &url, &self.token, query, body)
            .await?;
        match response.status() {
            StatusCode::UNAUTHORIZED => Err(failure(
                "HubSpot refused the access token (401); check the private app's token and that the app is not deleted".into(),
                false,
            )),
            StatusCode::FORBIDDEN => Err(failure(
                format!("HubSpot: {what}: the private app lacks a scope (403); give it the crm.objects read and write scopes of this object"),
                false,
            )),
            _ => Ok(response),
        }
    }

    /// A successful answer's JSON; any other status is an error for the whole call.
    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Json>,
    ) -> Result<T> {
        let response = self.send(what, method, path, query, body).await?;
        if !response.status().is_success() {
            return Err(super::cloud::http::unexpected("HubSpot", what, response).await);
        }
        response
            .json()
            .await
            .map_err(|e| failure(format!("HubSpot: {what}: unexpected answer: {e}"), true))
    }

    fn objects_path(schema: &TableSchema, tail: &str) -> String {
        format!("/crm/v3/objects/{}{tail}", schema.table.name)
    }

    fn property_names(schema: &TableSchema) -> Vec<&str> {
        schema.columns.iter().map(|c| c.name.as_str()).collect()
    }

    fn row(schema: &TableSchema, object: &Object) -> Result<(Key, Row)> {
        let mut row = row_of("HubSpot", schema, &object.id, &object.properties)?;
        row.insert(KEY.into(), crate::value::Value::Text(object.id.clone()));
        Ok((Key(object.id.clone()), row))
    }

    async fn search(&self, schema: &TableSchema, body: &Json) -> Result<Page> {
        self.json(
            "search",
            Method::POST,
            &Self::objects_path(schema, "/search"),
            &[],
            Some(body),
        )
        .await
    }

    /// Objects in id order after `after`: keyset paging, so no 10,000-result window applies.
    async fn scan_objects(
        &self,
        schema: &TableSchema,
        after: Option<&Key>,
        limit: usize,
        properties: &[&str],
    ) -> Result<Vec<Object>> {
        let mut objects = Vec::new();
        let mut after = after.map(|k| k.0.clone());
        while objects.len() < limit {
            let filters = after.as_ref().map_or_else(Vec::new, |a| {
                vec![json!({ "filters": [{ "propertyName": KEY, "operator": "GT", "value": a }] })]
            });
            let page = self
                .search(
                    schema,
                    &json!({
                        "filterGroups": filters,
                        "sorts": [{ "propertyName": KEY, "direction": "ASCENDING" }],
                        "properties": properties,
                        "limit": SEARCH_PAGE.min(limit - objects.len()),
                    }),
                )
                .await?;
            let full = page.results.len() == SEARCH_PAGE.min(limit - objects.len());
            after = page.results.last().map(|o| o.id.clone());
            objects.extend(page.results);
            if !full {
                break;
            }
        }
        Ok(objects)
    }

    /// Batch read of these ids (those that no longer exist are left out).
    async fn read_ids(
        &self,
        schema: &TableSchema,
        keys: &[Key],
        properties: &[&str],
    ) -> Result<Vec<Object>> {
        let mut objects = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(WRITE_BATCH) {
            let inputs: Vec<Json> = chunk.iter().map(|k| json!({ "id": k.0 })).collect();
            let page: Page = self
                .json(
                    "read records",
                    Method::POST,
                    &Self::objects_path(schema, "/batch/read"),
                    &[],
                    Some(&json!({ "properties": properties, "inputs": inputs })),
                )
                .await?;
            objects.extend(page.results);
        }
        Ok(objects)
    }

    /// Objects modified (by `hs_lastmodifieddate`) and archived since the given moments.
    async fn changes(
        &self,
        schema: &TableSchema,
        modified_since: DateTime<Utc>,
        deleted_since: DateTime<Utc>,
    ) -> Result<Polled> {
        let mut observed = Vec::new();
        let mut since = modified_since;
        let mut started_at = None;
        'windows: loop {
            let mut offset = 0usize;
            let mut newest = None;
            loop {
                let mut body = json!({
                    "filterGroups": [{ "filters": [{
                        "propertyName": MODIFIED,
                        "operator": "GTE",
                        "value": since.timestamp_millis().to_string(),
                    }] }],
                    "sorts": [{ "propertyName": MODIFIED, "direction": "ASCENDING" }],
                    "properties": Self::property_names(schema),
                    "limit": SEARCH_PAGE,
                });
                if offset > 0 {
                    body["after"] = Json::from(offset.to_string());
                }
                let page = self.search(schema, &body).await?;
                started_at.get_or_insert_with(|| self.api.server_time());
                for object in &page.results {
                    if let Some(stamp) = object.stamp() {
                        newest = Some(stamp);
                        observed.push(Observed {
                            key: Key(object.id.clone()),
                            stamp,
                            modified_by: None,
                            deleted: false,
                            digest: Some(digest(&object.properties)),
                            values: Some(object.properties.clone()),
                        });
                    }
                }
                offset += page.results.len();
                if page.paging.and_then(|p| p.next).is_none() || page.results.is_empty() {
                    break 'windows;
                }
                if offset + SEARCH_PAGE > SEARCH_WINDOW {
                    // The search API's window is used up: start again from the newest stamp
                    // read (records at that stamp are read twice, and logged once).
                    match newest {
                        Some(stamp) if stamp > since => {
                            since = stamp;
                            continue 'windows;
                        }
                        _ => {
                            return Err(ConnectorError::Other(format!(
                                "HubSpot: more than {SEARCH_WINDOW} {} share the modification time {since}; the search API cannot page past them",
                                schema.table.name
                            )));
                        }
                    }
                }
            }
        }
        let deleted_until = self.api.server_time();
        observed.extend(self.archived_since(schema, deleted_since).await?);
        Ok(Polled {
            observed,
            started_at: started_at.unwrap_or_else(|| self.api.server_time()),
            deleted_until,
        })
    }

    /// Archived (deleted) objects since `since`. HubSpot's list of archived objects has no
    /// time filter, so it is read whole (100 per page) and filtered here.
    async fn archived_since(
        &self,
        schema: &TableSchema,
        since: DateTime<Utc>,
    ) -> Result<Vec<Observed>> {
        let mut found = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut query = vec![
                ("archived", "true".to_owned()),
                ("limit", "100".to_owned()),
                ("properties", KEY.to_owned()),
            ];
            if let Some(a) = &after {
                query.push(("after", a.clone()));
            }
            let page: Page = self
                .json(
                    "archived records",
                    Method::GET,
                    &Self::objects_path(schema, ""),
                    &query,
                    None,
                )
                .await?;
            for object in &page.results {
                let at = object.archived_at.as_deref().and_then(parse_instant);
                if let Some(at) = at.filter(|at| *at >= since) {
                    found.push(Observed {
                        key: Key(object.id.clone()),
                        stamp: at,
                        modified_by: None,
                        deleted: true,
                        digest: None,
                        values: None,
                    });
                }
            }
            match page.paging.and_then(|p| p.next) {
                Some(next) if !page.results.is_empty() => after = Some(next.after),
                _ => return Ok(found),
            }
        }
    }

    fn properties_body(schema: &TableSchema, row: &Row) -> Map<String, Json> {
        row.iter()
            .filter(|(name, _)| *name != &schema.key)
            .map(|(name, value)| (name.clone(), Json::String(to_text(value))))
            .collect()
    }

    /// One batch call whose per-record results are matched to `inputs` by position (the
    /// caller's trace ids / ids). Records the batch could not attribute errors to are sent
    /// again one at a time, so one bad record never fails the others.
    async fn batch(
        &self,
        what: &str,
        schema: &TableSchema,
        action: &str,
        inputs: Vec<Json>,
    ) -> Result<(Page, StatusCode)> {
        let response = self
            .send(
                what,
                Method::POST,
                &Self::objects_path(schema, &format!("/batch/{action}")),
                &[],
                Some(&json!({ "inputs": inputs })),
            )
            .await?;
        let status = response.status();
        if status == StatusCode::NO_CONTENT {
            return Ok((
                Page {
                    results: Vec::new(),
                    paging: None,
                    errors: Vec::new(),
                },
                status,
            ));
        }
        if status.is_server_error() || status == StatusCode::NOT_FOUND {
            return Err(super::cloud::http::unexpected("HubSpot", what, response).await);
        }
        let text = response.text().await.unwrap_or_default();
        let page = if status.is_success() {
            serde_json::from_str(&text)
                .map_err(|e| failure(format!("HubSpot: {what}: unexpected answer: {e}"), true))?
        } else {
            // A whole-batch refusal (400): one error for all inputs.
            let error: BatchError = serde_json::from_str(&text).unwrap_or(BatchError {
                category: status.to_string(),
                message: "the answer is not HubSpot's error JSON".into(),
                context: Map::new(),
            });
            Page {
                results: Vec::new(),
                paging: None,
                errors: vec![error],
            }
        };
        Ok((page, status))
    }

    async fn create(&self, schema: &TableSchema, rows: &[&Row]) -> Result<Vec<Created>> {
        let inputs: Vec<Json> = rows
            .iter()
            .enumerate()
            .map(|(i, row)| json!({ "properties": Self::properties_body(schema, row), "objectWriteTraceId": i.to_string() }))
            .collect();
        let (page, status) = self
            .batch("create records", schema, "create", inputs)
            .await?;
        let mut outcomes: Vec<Option<Created>> = vec![None; rows.len()];
        let traced = |trace: Option<&str>| {
            trace
                .and_then(|t| t.parse::<usize>().ok())
                .filter(|i| *i < rows.len())
        };
        let all_untraced = page
            .results
            .iter()
            .all(|o| o.object_write_trace_id.is_none());
        for (position, object) in page.results.iter().enumerate() {
            let index = traced(object.object_write_trace_id.as_deref())
                .or_else(|| (all_untraced && page.results.len() == rows.len()).then_some(position));
            if let Some(i) = index {
                outcomes[i] = Some(Ok((Key(object.id.clone()), object.stamp())));
            }
        }
        for error in &page.errors {
            for trace in error.context("objectWriteTraceId") {
                if let Some(i) = traced(Some(&trace)) {
                    outcomes[i] = Some(Err(error.text()));
                }
            }
        }
        let mut done = Vec::with_capacity(rows.len());
        for (i, outcome) in outcomes.into_iter().enumerate() {
            done.push(match outcome {
                Some(o) => o,
                // Not attributed: alone, its answer is its own.
                None if rows.len() > 1 => {
                    Box::pin(self.create(schema, &[rows[i]])).await?.remove(0)
                }
                None => Err(page.errors.first().map_or_else(
                    || format!("HubSpot did not create the record ({status})"),
                    BatchError::text,
                )),
            });
        }
        Ok(done)
    }

    async fn update(&self, schema: &TableSchema, items: &[(&Key, &Row)]) -> Result<Vec<Updated>> {
        let inputs: Vec<Json> = items
            .iter()
            .map(|(key, row)| json!({ "id": key.0, "properties": Self::properties_body(schema, row) }))
            .collect();
        let (page, status) = self
            .batch("update records", schema, "update", inputs)
            .await?;
        let position: HashMap<&str, usize> = items
            .iter()
            .enumerate()
            .map(|(i, (k, _))| (k.0.as_str(), i))
            .collect();
        let mut outcomes: Vec<Option<Updated>> = vec![None; items.len()];
        for object in &page.results {
            if let Some(i) = position.get(object.id.as_str()) {
                outcomes[*i] = Some(Ok(object.stamp()));
            }
        }
        for error in &page.errors {
            let missing = error.category == "OBJECT_NOT_FOUND";
            for id in error.context("ids").into_iter().chain(error.context("id")) {
                if let Some(i) = position.get(id.as_str()) {
                    outcomes[*i] = Some(Err((missing, error.text())));
                }
            }
        }
        let mut done = Vec::with_capacity(items.len());
        for (i, outcome) in outcomes.into_iter().enumerate() {
            done.push(match outcome {
                Some(o) => o,
                None if items.len() > 1 => {
                    Box::pin(self.update(schema, &[items[i]])).await?.remove(0)
                }
                None => Err((
                    false,
                    page.errors.first().map_or_else(
                        || format!("HubSpot did not update the record ({status})"),
                        BatchError::text,
                    ),
                )),
            });
        }
        Ok(done)
    }
}

#[async_trait]
impl CloudApi for HubSpotConnector {
    fn kind(&self) -> &'static str {
        "hubspot"
    }

    fn api(&self) -> &Api {
        &self.api
    }

    fn context(&self) -> &CloudContext {
        &self.cloud
    }

    /// HubSpot does not say which user made a change through the API.
    fn own_user(&self) -> Option<&str> {
        None
    }

    async fn poll(
        &self,
        table: &TableSchema,
        modified_since: DateTime<Utc>,
        deleted_since: DateTime<Utc>,
    ) -> Result<Polled> {
        self.changes(table, modified_since, deleted_since).await
    }

    async fn list_tables(&self) -> Result<Vec<TableRef>> {
        let mut tables = Vec::new();
        for object_type in OBJECT_TYPES {
            let response = self
                .send(
                    "list properties",
                    Method::GET,
                    &format!("/crm/v3/properties/{object_type}"),
                    &[],
                    None,
                )
                .await?;
            if response.status().is_success() {
                tables.push(TableRef::new(None, object_type));
            }
        }
        Ok(tables)
    }

    async fn describe(&self, table: &TableRef) -> Result<TableSchema> {
        let name = &table.name;
        if table.schema.is_some()
            || name.is_empty()
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(ConnectorError::Requirement(format!(
                "“{table}” is not a HubSpot object type (contacts, companies, deals, tickets, or a custom object's id such as 2-123456)"
            )));
        }
        let response = self
            .send(
                "describe",
                Method::GET,
                &format!("/crm/v3/properties/{name}"),
                &[],
                None,
            )
            .await?;
        if matches!(
            response.status(),
            StatusCode::NOT_FOUND | StatusCode::BAD_REQUEST
        ) {
            return Err(ConnectorError::Requirement(format!(
                "HubSpot has no object type {table} (or the private app has no scope for it)"
            )));
        }
        if !response.status().is_success() {
            return Err(super::cloud::http::unexpected("HubSpot", "describe", response).await);
        }
        let properties: describe::Properties = response.json().await.map_err(|e| {
            failure(
                format!("HubSpot: describe {table}: unexpected answer: {e}"),
                true,
            )
        })?;
        describe::schema(name, properties)
    }

    async fn scan(
        &self,
        table: &TableSchema,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<(Key, Row)>> {
        let objects = self
            .scan_objects(table, after, limit, &Self::property_names(table))
            .await?;
        objects.iter().map(|o| Self::row(table, o)).collect()
    }

    async fn scan_keys(
        &self,
        table: &TableSchema,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<Key>> {
        let objects = self.scan_objects(table, after, limit, &[KEY]).await?;
        Ok(objects.into_iter().map(|o| Key(o.id)).collect())
    }

    async fn fetch(&self, table: &TableSchema, keys: &[Key]) -> Result<Vec<(Key, Row)>> {
        let objects = self
            .read_ids(table, keys, &Self::property_names(table))
            .await?;
        objects.iter().map(|o| Self::row(table, o)).collect()
    }

    async fn existing(&self, table: &TableSchema, keys: &[Key]) -> Result<Vec<Key>> {
        let objects = self.read_ids(table, keys, &[KEY]).await?;
        Ok(objects.into_iter().map(|o| Key(o.id)).collect())
    }

    async fn write(
        &self,
        table: &TableSchema,
        journal: &Journal<'_>,
        ops: Vec<WriteOp>,
    ) -> Result<Vec<WriteOutcome>> {
        let mut outcomes: Vec<Option<WriteOutcome>> = vec![None; ops.len()];
        let now = || self.api.server_time();
        // What a row sends, for the echo rule: from the exact stamp HubSpot answers with
        // (else its clock before the call), less a second of tolerance.
        let sent = |row: &Row, before: DateTime<Utc>, stamp: Option<DateTime<Utc>>| {
            let from = stamp.unwrap_or(before) - chrono::Duration::seconds(1);
            written(table, from, &Self::properties_body(table, row))
        };

        let grouped = group(&ops);
        for chunk in grouped.inserts.chunks(WRITE_BATCH) {
            let rows: Vec<&Row> = chunk.iter().map(|(_, _, row)| *row).collect();
            let before = now();
            let results = self.create(table, &rows).await?;
            let mut pairs = Vec::new();
            let mut echoes = Vec::new();
            for ((i, origin, row), result) in chunk.iter().zip(results) {
                outcomes[*i] = Some(match result {
                    Ok((key, stamp)) => {
                        pairs.push((origin.0.clone(), key.0.clone()));
                        echoes.push(Echo {
                            key: key.clone(),
                            until: stamp.unwrap_or_else(now),
                            by_user_only: false,
                            written: Some(sent(row, before, stamp)),
                        });
                        WriteOutcome::Inserted(key)
                    }
                    Err(message) => WriteOutcome::Failed(message),
                });
            }
            let pairs: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(o, k)| (o.as_str(), k.as_str()))
                .collect();
            journal.record(&pairs, &echoes).await?;
        }

        for chunk in grouped.updates.chunks(WRITE_BATCH) {
            let items: Vec<(&Key, &Row)> = chunk.iter().map(|(_, k, r)| (*k, *r)).collect();
            let before = now();
            let results = self.update(table, &items).await?;
            let mut echoes = Vec::new();
            for ((i, key, row), result) in chunk.iter().zip(results) {
                outcomes[*i] = Some(match result {
                    Ok(stamp) => {
                        echoes.push(Echo {
                            key: (*key).clone(),
                            until: stamp.unwrap_or_else(now),
                            by_user_only: false,
                            written: Some(sent(row, before, stamp)),
                        });
                        WriteOutcome::Updated
                    }
                    Err((true, _)) => WriteOutcome::Missing,
                    Err((false, message)) => WriteOutcome::Failed(message),
                });
            }
            journal.record(&[], &echoes).await?;
        }

        for chunk in grouped.deletes.chunks(WRITE_BATCH) {
            let inputs: Vec<Json> = chunk.iter().map(|(_, k)| json!({ "id": k.0 })).collect();
            let (page, status) = self
                .batch("archive records", table, "archive", inputs)
                .await?;
            if !status.is_success() {
                let message = page
                    .errors
                    .first()
                    .map_or_else(|| status.to_string(), BatchError::text);
                for (i, _) in chunk {
                    outcomes[*i] = Some(WriteOutcome::Failed(message.clone()));
                }
                continue;
            }
            // HubSpot answers 204 for the batch; archiving an archived record is no error.
            for (i, _) in chunk {
                outcomes[*i] = Some(WriteOutcome::Deleted);
            }
        }
        Ok(outcomes
            .into_iter()
            .map(|o| o.expect("every operation was sent"))
            .collect())
    }
}
