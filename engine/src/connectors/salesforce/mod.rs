//! Salesforce through its REST API (`/services/data/v60.0/`): OAuth 2.0 sign-in, discovery
//! with `sobjects` and `describe`, reads with SOQL (keyset paging by `Id`, `nextRecordsUrl`
//! followed), changes by `SystemModstamp` (or `LastModifiedDate`) and the `deleted`
//! endpoint, writes with the sObject Collections API (200 records per call, one result per
//! record). Change tracking, echo suppression and the insert journal live in our metadata
//! database (see `connectors::cloud`).

mod auth;
mod describe;
mod soql;

use async_trait::async_trait;
use chrono::{DateTime, DurationRound, Utc};
use reqwest::{Method, Response, StatusCode};
use serde::Deserialize;
use serde_json::{Map, Value as Json, json};
use tokio::sync::RwLock;

pub use auth::SalesforceAuth;

use super::cloud::changes::{Echo, Observed, Written};
use super::cloud::connector::{CloudApi, Journal};
use super::cloud::http::{Api, RetryPolicy, failure, unexpected};
use super::cloud::ops::group;
use super::cloud::values::{parse_instant, row_of, to_json};
use super::cloud::{CloudContext, Polled, digest, ids, written};
use super::{ConnectorError, Key, Result, Row, TableSchema, WriteOp, WriteOutcome};
use crate::package::TableRef;
use auth::{Session, sign_in};
use describe::modified_field;

pub const API_VERSION: &str = "v60.0";
/// Records per sObject Collections call (the API's limit).
pub const WRITE_BATCH: usize = 200;
/// Ids per `Id IN (…)` query, keeping the request line well under the 16 KB URI limit.
const IDS_PER_QUERY: usize = 200;

pub struct SalesforceConnector {
    api: Api,
    login_url: String,
    auth: SalesforceAuth,
    session: RwLock<Session>,
    /// The connection's user (`005…`), who the changes Lockstep makes are by.
    user_id: Option<String>,
    cloud: CloudContext,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct QueryPage {
    #[serde(default)]
    next_records_url: Option<String>,
    records: Vec<Map<String, Json>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Deleted {
    deleted_records: Vec<DeletedRecord>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DeletedRecord {
    id: String,
    deleted_date: String,
}

#[derive(Deserialize)]
struct SaveResult {
    #[serde(default)]
    id: Option<String>,
    success: bool,
    #[serde(default)]
    errors: Vec<SaveError>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SaveError {
    status_code: String,
    message: String,
    #[serde(default)]
    fields: Vec<String>,
}

impl SaveResult {
    /// The record is not there (deleted, or never existed).
    fn missing(&self) -> bool {
        self.errors.iter().any(|e| {
            matches!(
                e.status_code.as_str(),
                "ENTITY_IS_DELETED" | "INVALID_CROSS_REFERENCE_KEY" | "NOT_FOUND"
            )
        })
    }

    fn message(&self) -> String {
        let parts: Vec<String> = self
            .errors
            .iter()
            .map(|e| {
                if e.fields.is_empty() {
                    format!("{}: {}", e.status_code, e.message)
                } else {
                    format!("{}: {} ({})", e.status_code, e.message, e.fields.join(", "))
                }
            })
            .collect();
        if parts.is_empty() {
            "Salesforce did not save the record and gave no reason".into()
        } else {
            parts.join("; ")
        }
    }
}

impl SalesforceConnector {
    pub async fn connect(
        login_url: &str,
        auth: SalesforceAuth,
        cloud: CloudContext,
    ) -> Result<Self> {
        let api = Api::new("Salesforce", RetryPolicy::default())?;
        let session = sign_in(&api, login_url, &auth).await?;
        Ok(SalesforceConnector {
            api,
            login_url: login_url.to_owned(),
            auth,
            user_id: session.user_id.clone(),
            session: RwLock::new(session),
            cloud,
        })
    }

    /// Sends a request to the org, signing in again once if the session expired. Any answer
    /// but a success is an error for the whole call.
    async fn request(
        &self,
        what: &str,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Json>,
    ) -> Result<Response> {
        match self.request_found(what, method, path, query, body).await? {
            Ok(response) => Ok(response),
            Err(response) => Err(unexpected("Salesforce", what, response).await),
        }
    }

    /// As `request`, but a 404 answer is handed back (`Err`) for the caller to explain.
    async fn request_found(
        &self,
        what: &str,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Json>,
    ) -> Result<std::result::Result<Response, Response>> {
        for renewed in [false, true] {
            let session = self.session.read().await.clone();
            let url = format!("{}{path}", session.instance_url);
            let response = self
                .api
                .call(what, &method, &url, &session.token, query, body)
                .await?;
            if response.status() == StatusCode::UNAUTHORIZED && !renewed {
                tracing::info!("Salesforce session expired; signing in again");
                *self.session.write().await =
                    sign_in(&self.api, &self.login_url, &self.auth).await?;
                continue;
            }
            if response.status() == StatusCode::NOT_FOUND {
                return Ok(Err(response));
            }
            if !response.status().is_success() {
                return Err(unexpected("Salesforce", what, response).await);
            }
            return Ok(Ok(response));
        }
        unreachable!("the loop returns on its second pass")
    }

    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Json>,
    ) -> Result<T> {
        self.request(what, method, path, query, body)
            .await?
            .json()
            .await
            .map_err(|e| failure(format!("Salesforce: {what}: unexpected answer: {e}"), true))
    }

    /// `API_VERSION` as the path expects it (`v` and digits with one dot).
    fn data_path(path: &str) -> String {
        debug_assert!(soql::is_api_version(API_VERSION));
        format!("/services/data/{API_VERSION}/{path}")
    }

    /// Runs a SOQL query, following `nextRecordsUrl` until done.
    async fn query(&self, soql: &str) -> Result<Vec<Map<String, Json>>> {
        let mut page: QueryPage = self
            .json(
                "query",
                Method::GET,
                &Self::data_path("query"),
                &[("q", soql.to_owned())],
                None,
            )
            .await?;
        let mut records = std::mem::take(&mut page.records);
        while let Some(next) = page.next_records_url.take() {
            // The link is only followed on the session's own instance.
            let instance = self.session.read().await.instance_url.clone();
            let pinned = super::cloud::http::pin_link("Salesforce", &instance, &next)?;
            let path = match pinned.query() {
                Some(q) => format!("{}?{q}", pinned.path()),
                None => pinned.path().to_owned(),
            };
            page = self
                .json("query (next page)", Method::GET, &path, &[], None)
                .await?;
            records.append(&mut page.records);
        }
        Ok(records)
    }

    fn select_list(schema: &TableSchema) -> String {
        let names: Vec<&str> = schema.columns.iter().map(|c| c.name.as_str()).collect();
        names.join(", ")
    }

    fn object(schema: &TableSchema) -> &str {
        &schema.table.name
    }

    fn row(schema: &TableSchema, record: &Map<String, Json>) -> Result<(Key, Row)> {
        let id = record
            .get("Id")
            .and_then(Json::as_str)
            .ok_or_else(|| failure("Salesforce: a record came without its Id".into(), false))?;
        Ok((
            Key(id.to_owned()),
            row_of("Salesforce", schema, id, record)?,
        ))
    }

    async fn select(
        &self,
        schema: &TableSchema,
        fields: &str,
        filter: &str,
        tail: &str,
    ) -> Result<Vec<Map<String, Json>>> {
        let soql = format!(
            "SELECT {fields} FROM {}{}{filter} {tail}",
            Self::object(schema),
            if filter.is_empty() { "" } else { " WHERE " }
        );
        self.query(soql.trim_end()).await
    }

    /// Records modified (by `SystemModstamp`) and deleted since the given moments.
    async fn changes(
        &self,
        schema: &TableSchema,
        modified_since: DateTime<Utc>,
        deleted_since: DateTime<Utc>,
    ) -> Result<Polled> {
        let stamp = modified_field(schema);
        // Every field: the values' digest tells apart two edits within one (whole-second)
        // stamp.
        let fields = Self::select_list(schema);
        let filter = format!("{stamp} >= {}", soql::instant(modified_since));
        let records = self
            .select(schema, &fields, &filter, &format!("ORDER BY {stamp}, Id"))
            .await?;
        let started_at = self.api.server_time();
        let mut observed = Vec::with_capacity(records.len());
        for record in &records {
            let (Some(id), Some(at)) = (
                record.get("Id").and_then(Json::as_str),
                record
                    .get(stamp)
                    .and_then(Json::as_str)
                    .and_then(parse_instant),
            ) else {
                continue;
            };
            observed.push(Observed {
                key: Key(id.to_owned()),
                stamp: at,
                modified_by: record
                    .get("LastModifiedById")
                    .and_then(Json::as_str)
                    .map(str::to_owned),
                deleted: false,
                digest: Some(digest(record)),
                values: Some(record.clone()),
            });
        }
        let deleted_until = self.api.server_time();
        observed.extend(
            self.deleted_since(schema, deleted_since, deleted_until)
                .await?,
        );
        Ok(Polled {
            observed,
            started_at,
            deleted_until,
        })
    }

    /// The `deleted` endpoint (it ignores seconds, and keeps 15 days of deletions).
    async fn deleted_since(
        &self,
        schema: &TableSchema,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<Observed>> {
        let minute = chrono::Duration::minutes(1);
        let earliest = until - chrono::Duration::days(15) + minute;
        let start = since.max(earliest).duration_trunc(minute).unwrap_or(since);
        let end = (until + minute).duration_trunc(minute).unwrap_or(until);
        let answer: Deleted = self
            .json(
                "deleted records",
                Method::GET,
                &Self::data_path(&format!("sobjects/{}/deleted/", Self::object(schema))),
                &[("start", soql::instant(start)), ("end", soql::instant(end))],
                None,
            )
            .await?;
        Ok(answer
            .deleted_records
            .into_iter()
            .filter_map(|d| {
                Some(Observed {
                    key: Key(d.id),
                    stamp: parse_instant(&d.deleted_date)?,
                    modified_by: None,
                    deleted: true,
                    digest: None,
                    values: None,
                })
            })
            .collect())
    }

    fn record_body(schema: &TableSchema, row: &Row, id: Option<&str>) -> Json {
        let mut fields = Map::new();
        fields.insert("attributes".into(), json!({ "type": Self::object(schema) }));
        if let Some(id) = id {
            fields.insert("Id".into(), Json::from(id));
        }
        for (name, value) in row {
            if name != &schema.key {
                fields.insert(name.clone(), to_json(value));
            }
        }
        Json::Object(fields)
    }

    async fn save(
        &self,
        what: &str,
        method: Method,
        records: Vec<Json>,
    ) -> Result<Vec<SaveResult>> {
        let count = records.len();
        let body = json!({ "allOrNone": false, "records": records });
        let results: Vec<SaveResult> = self
            .json(
                what,
                method,
                &Self::data_path("composite/sobjects"),
                &[],
                Some(&body),
            )
            .await?;
        if results.len() != count {
            return Err(failure(
                format!(
                    "Salesforce: {what}: {} results for {count} records",
                    results.len()
                ),
                false,
            ));
        }
        Ok(results)
    }

    /// The newest stamp the writes just made can carry: the vendor's clock after the call
    /// (whole seconds), plus the second it may be rounded into.
    fn written_until(&self) -> DateTime<Utc> {
        self.api.server_time() + chrono::Duration::seconds(1)
    }

    /// The oldest stamp the writes about to be made can carry: the vendor's clock before the
    /// call, less a second for clocks that round differently.
    fn written_from(&self) -> DateTime<Utc> {
        self.api.server_time() - chrono::Duration::seconds(1)
    }

    /// What each record body sends, for the echo rule.
    fn sent(schema: &TableSchema, from: DateTime<Utc>, records: &[Json]) -> Vec<Written> {
        let empty = Map::new();
        records
            .iter()
            .map(|r| written(schema, from, r.as_object().unwrap_or(&empty)))
            .collect()
    }
}

#[async_trait]
impl CloudApi for SalesforceConnector {
    fn kind(&self) -> &'static str {
        "salesforce"
    }

    fn api(&self) -> &Api {
        &self.api
    }

    fn context(&self) -> &CloudContext {
        &self.cloud
    }

    fn own_user(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    async fn list_tables(&self) -> Result<Vec<TableRef>> {
        let list: describe::ObjectList = self
            .json(
                "list objects",
                Method::GET,
                &Self::data_path("sobjects"),
                &[],
                None,
            )
            .await?;
        Ok(list
            .sobjects
            .into_iter()
            .filter(|o| o.queryable && soql::is_api_name(&o.name))
            .map(|o| TableRef::new(None, &o.name))
            .collect())
    }

    async fn describe(&self, table: &TableRef) -> Result<TableSchema> {
        if table.schema.is_some() || !soql::is_api_name(&table.name) {
            return Err(ConnectorError::Requirement(format!(
                "“{table}” is not a Salesforce object name (API names such as Account or Region__c)"
            )));
        }
        let path = Self::data_path(&format!("sobjects/{}/describe", table.name));
        let Ok(response) = self
            .request_found("describe", Method::GET, &path, &[], None)
            .await?
        else {
            return Err(ConnectorError::Requirement(format!(
                "Salesforce has no object {table} (or the connection's user cannot see it)"
            )));
        };
        let description: describe::Description = response.json().await.map_err(|e| {
            failure(
                format!("Salesforce: describe {table}: unexpected answer: {e}"),
                true,
            )
        })?;
        let schema = describe::schema(description)?;
        // The name the org answers with goes into URL paths and SOQL.
        if !soql::is_api_name(&schema.table.name) {
            return Err(failure(
                format!(
                    "Salesforce: describe {table}: the object's name in the answer is not an API name"
                ),
                false,
            ));
        }
        Ok(schema)
    }

    async fn scan(
        &self,
        table: &TableSchema,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<(Key, Row)>> {
        let filter = after.map_or_else(String::new, |k| format!("Id > {}", soql::quote(&k.0)));
        let records = self
            .select(
                table,
                &Self::select_list(table),
                &filter,
                &format!("ORDER BY Id LIMIT {limit}"),
            )
            .await?;
        records.iter().map(|r| Self::row(table, r)).collect()
    }

    async fn scan_keys(
        &self,
        table: &TableSchema,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<Key>> {
        let filter = after.map_or_else(String::new, |k| format!("Id > {}", soql::quote(&k.0)));
        let records = self
            .select(table, "Id", &filter, &format!("ORDER BY Id LIMIT {limit}"))
            .await?;
        Ok(records
            .iter()
            .filter_map(|r| r.get("Id").and_then(Json::as_str))
            .map(|id| Key(id.to_owned()))
            .collect())
    }

    async fn fetch(&self, table: &TableSchema, keys: &[Key]) -> Result<Vec<(Key, Row)>> {
        let mut rows = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(IDS_PER_QUERY) {
            let records = self
                .select(
                    table,
                    &Self::select_list(table),
                    &soql::id_in(&ids(chunk)),
                    "",
                )
                .await?;
            for record in &records {
                rows.push(Self::row(table, record)?);
            }
        }
        Ok(rows)
    }

    async fn existing(&self, table: &TableSchema, keys: &[Key]) -> Result<Vec<Key>> {
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(IDS_PER_QUERY) {
            let records = self
                .select(table, "Id", &soql::id_in(&ids(chunk)), "")
                .await?;
            found.extend(
                records
                    .iter()
                    .filter_map(|r| r.get("Id").and_then(Json::as_str))
                    .map(|id| Key(id.to_owned())),
            );
        }
        Ok(found)
    }

    async fn poll(
        &self,
        table: &TableSchema,
        modified_since: DateTime<Utc>,
        deleted_since: DateTime<Utc>,
    ) -> Result<Polled> {
        self.changes(table, modified_since, deleted_since).await
    }

    async fn write(
        &self,
        table: &TableSchema,
        journal: &Journal<'_>,
        ops: Vec<WriteOp>,
    ) -> Result<Vec<WriteOutcome>> {
        let mut outcomes: Vec<Option<WriteOutcome>> = vec![None; ops.len()];
        let grouped = group(&ops);
        for chunk in grouped.inserts.chunks(WRITE_BATCH) {
            let records: Vec<Json> = chunk
                .iter()
                .map(|(_, _, row)| Self::record_body(table, row, None))
                .collect();
            let sent = Self::sent(table, self.written_from(), &records);
            let results = self.save("create records", Method::POST, records).await?;
            let until = self.written_until();
            let mut pairs = Vec::new();
            let mut echoes = Vec::new();
            for (((i, origin, _), result), sent) in chunk.iter().zip(results).zip(sent) {
                outcomes[*i] = Some(match (&result.id, result.success) {
                    (Some(id), true) => {
                        pairs.push((origin.0.as_str(), id.clone()));
                        echoes.push(Echo {
                            key: Key(id.clone()),
                            until,
                            by_user_only: true,
                            written: Some(sent),
                        });
                        WriteOutcome::Inserted(Key(id.clone()))
                    }
                    _ => WriteOutcome::Failed(result.message()),
                });
            }
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(o, k)| (*o, k.as_str())).collect();
            journal.record(&pairs, &echoes).await?;
        }

        for chunk in grouped.updates.chunks(WRITE_BATCH) {
            let records: Vec<Json> = chunk
                .iter()
                .map(|(_, key, row)| Self::record_body(table, row, Some(&key.0)))
                .collect();
            let sent = Self::sent(table, self.written_from(), &records);
            let results = self.save("update records", Method::PATCH, records).await?;
            let until = self.written_until();
            let mut echoes = Vec::new();
            for (((i, key, _), result), sent) in chunk.iter().zip(results).zip(sent) {
                outcomes[*i] = Some(if result.success {
                    echoes.push(Echo {
                        key: (*key).clone(),
                        until,
                        by_user_only: true,
                        written: Some(sent),
                    });
                    WriteOutcome::Updated
                } else if result.missing() {
                    WriteOutcome::Missing
                } else {
                    WriteOutcome::Failed(result.message())
                });
            }
            journal.record(&[], &echoes).await?;
        }

        for chunk in grouped.deletes.chunks(WRITE_BATCH) {
            let list: Vec<&str> = chunk.iter().map(|(_, k)| k.0.as_str()).collect();
            let results: Vec<SaveResult> = self
                .json(
                    "delete records",
                    Method::DELETE,
                    &Self::data_path("composite/sobjects"),
                    &[("ids", list.join(",")), ("allOrNone", "false".into())],
                    None,
                )
                .await?;
            if results.len() != chunk.len() {
                return Err(failure(
                    format!(
                        "Salesforce: delete records: {} results for {} records",
                        results.len(),
                        chunk.len()
                    ),
                    false,
                ));
            }
            for ((i, _), result) in chunk.iter().zip(results) {
                outcomes[*i] = Some(if result.success {
                    WriteOutcome::Deleted
                } else if result.missing() {
                    WriteOutcome::Missing
                } else {
                    WriteOutcome::Failed(result.message())
                });
            }
        }
        Ok(outcomes
            .into_iter()
            .map(|o| o.expect("every operation was sent"))
            .collect())
    }
}
