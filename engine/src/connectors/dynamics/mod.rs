//! Dynamics 365 through the Dataverse Web API (OData v4, `/api/data/v9.2/`): OAuth 2.0 client
//! credentials against the Microsoft identity platform, discovery with `EntityDefinitions`,
//! reads with `$filter`/`$orderby` keyset paging (`@odata.nextLink` followed, 5,000 per
//! page), changes by `modifiedon` (who made them: `_modifiedby_value`, for the dedicated
//! account), writes with `$batch` (independent requests, `odata.continue-on-error`, each
//! answered on its own, `return=representation` so the new `modifiedon` is known).
//!
//! Deletions are found by comparing the entity's ids with those of the last poll (one call
//! per 5,000 records), not by change tracking: it works for every entity, whether or not an
//! administrator enabled change tracking on it. Its cost grows with the table, which change
//! tracking's would not; that is the trade.

mod batch;
mod describe;

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use reqwest::{Method, Response, StatusCode};
use serde::Deserialize;
use serde_json::{Map, Value as Json};
use tokio::sync::RwLock;

use super::cloud::changes::{Echo, Observed};
use super::cloud::connector::{CloudApi, Journal};
use super::cloud::http::{Api, RetryPolicy, clip, failure, pin_link, summary, unexpected};
use super::cloud::values::{parse_instant, row_of, to_json};
use super::cloud::{CloudContext, Polled, digest, written};
use super::{ConnectorError, Key, Result, Row, TableSchema, WriteOp, WriteOutcome};
use crate::package::TableRef;
use describe::{MODIFIED, MODIFIED_BY};

const API: &str = "/api/data/v9.2";
/// Requests per `$batch` call (the API allows 1,000).
pub const WRITE_BATCH: usize = 1000;
const PAGE: usize = 5000;
/// Ids per `In(…)` query, keeping the URL short.
const IDS_PER_QUERY: usize = 100;

/// How the connection signs in.
#[derive(Clone)]
pub struct DynamicsAuth {
    /// `https://login.microsoftonline.com`, or an emulator's address.
    pub authority: String,
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
}

impl std::fmt::Debug for DynamicsAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamicsAuth")
            .field("authority", &self.authority)
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .finish()
    }
}

/// A directory (tenant) id as it may go into the token endpoint's path: a GUID, or a domain
/// name such as `contoso.onmicrosoft.com`.
pub fn is_tenant_id(text: &str) -> bool {
    let guid = text.len() == 36
        && text.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    let domain = text.len() <= 253
        && text.contains('.')
        && text.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    guid || domain
}

pub struct DynamicsConnector {
    api: Api,
    /// `https://org.crm.dynamics.com`
    org: String,
    auth: DynamicsAuth,
    token: RwLock<String>,
    /// The application user (WhoAmI), who every change made through this connection is by.
    user_id: String,
    /// Logical name → entity set name, learnt by `describe`.
    sets: Mutex<HashMap<String, String>>,
    cloud: CloudContext,
}

#[derive(Deserialize)]
struct Token {
    access_token: String,
}

#[derive(Deserialize)]
struct TokenRefusal {
    error: String,
    #[serde(default)]
    error_description: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WhoAmI {
    user_id: String,
}

#[derive(Deserialize)]
struct Page {
    value: Vec<Map<String, Json>>,
    #[serde(rename = "@odata.nextLink", default)]
    next_link: Option<String>,
}

async fn sign_in(api: &Api, org: &str, auth: &DynamicsAuth) -> Result<String> {
    if !is_tenant_id(&auth.tenant_id) {
        return Err(failure(
            "Dynamics 365: the tenant id must be the directory's GUID (Microsoft Entra ID → Overview → Tenant ID) or its domain name such as contoso.onmicrosoft.com".into(),
            false,
        ));
    }
    let url = format!(
        "{}/{}/oauth2/v2.0/token",
        auth.authority.trim_end_matches('/'),
        auth.tenant_id
    );
    let scope = format!("{org}/.default");
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", auth.client_id.as_str()),
        ("client_secret", auth.client_secret.as_str()),
        ("scope", scope.as_str()),
    ];
    let response = api
        .send("sign in", || api.client().post(&url).form(&form))
        .await?;
    let status = response.status();
    if status.is_success() {
        let token: Token = response.json().await.map_err(|e| {
            failure(
                format!("Dynamics 365: the token endpoint answered something unexpected: {e}"),
                false,
            )
        })?;
        return Ok(token.access_token);
    }
    let body = response.text().await.unwrap_or_default();
    let message = match serde_json::from_str::<TokenRefusal>(&body) {
        Ok(r) => {
            let first_line = r
                .error_description
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned();
            format!(
                "Dynamics 365 refused to sign in: {}; check the tenant id, the application (client) id and its secret",
                clip(&format!("{first_line} ({})", r.error))
            )
        }
        Err(_) => format!(
            "Dynamics 365 refused to sign in: {}",
            summary(status, &body)
        ),
    };
    Err(failure(message, status.is_server_error()))
}

/// An OData literal for a GUID (unquoted) or a date and time.
fn guid(id: &str) -> Result<&str> {
    if id.len() == 36 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        Ok(id)
    } else {
        Err(ConnectorError::Other(format!(
            "“{id}” is not a Dataverse id (a GUID)"
        )))
    }
}

fn error_message(body: &Option<Json>, status: u16) -> String {
    body.as_ref()
        .and_then(|b| b.get("error"))
        .map(|e| {
            format!(
                "{}: {}",
                e.get("code").and_then(Json::as_str).unwrap_or_default(),
                e.get("message").and_then(Json::as_str).unwrap_or_default()
            )
        })
        .unwrap_or_else(|| format!("Dynamics 365 answered {status}"))
}

impl DynamicsConnector {
    pub async fn connect(org: &str, auth: DynamicsAuth, cloud: CloudContext) -> Result<Self> {
        let api = Api::new("Dynamics 365", RetryPolicy::default())?;
        let org = org.trim_end_matches('/').to_owned();
        let token = sign_in(&api, &org, &auth).await?;
        let mut connector = DynamicsConnector {
            api,
            org,
            auth,
            token: RwLock::new(token),
            user_id: String::new(),
            sets: Mutex::new(HashMap::new()),
            cloud,
        };
        let me: WhoAmI = connector
            .json("who am I", Method::GET, &format!("{API}/WhoAmI"), &[])
            .await?;
        connector.user_id = me.user_id.to_lowercase();
        Ok(connector)
    }

    /// Sends a request to the org (path relative to it, or an absolute `nextLink`), signing
    /// in again once if the token expired. 404 is handed back as `Err(response)`.
    async fn send(
        &self,
        what: &str,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        headers: &[(&str, String)],
        body: Option<(String, String)>,
    ) -> Result<std::result::Result<Response, Response>> {
        let url = if path.starts_with("http") {
            // An absolute link (`@odata.nextLink`) only on the environment itself.
            pin_link("Dynamics 365", &self.org, path)?.to_string()
        } else {
            format!("{}{path}", self.org)
        };
        for renewed in [false, true] {
            let token = self.token.read().await.clone();
            let response = self
                .api
                .send(what, || {
                    let mut request = self
                        .api
                        .client()
                        .request(method.clone(), &url)
                        .bearer_auth(&token)
                        .header("OData-MaxVersion", "4.0")
                        .header("OData-Version", "4.0")
                        .header("Accept", "application/json")
                        .query(query);
                    for (name, value) in headers {
                        request = request.header(*name, value);
                    }
                    if let Some((content_type, body)) = &body {
                        request = request
                            .header("Content-Type", content_type)
                            .body(body.clone());
                    }
                    request
                })
                .await?;
            match response.status() {
                StatusCode::UNAUTHORIZED if !renewed => {
                    tracing::info!("Dynamics 365 token expired; signing in again");
                    *self.token.write().await = sign_in(&self.api, &self.org, &self.auth).await?;
                }
                StatusCode::NOT_FOUND => return Ok(Err(response)),
                s if s.is_success() => return Ok(Ok(response)),
                _ => return Err(unexpected("Dynamics 365", what, response).await),
            }
        }
        unreachable!("the loop returns on its second pass")
    }

    async fn json<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        method: Method,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<T> {
        let response = match self.send(what, method, path, query, &[], None).await? {
            Ok(r) => r,
            Err(r) => return Err(unexpected("Dynamics 365", what, r).await),
        };
        response.json().await.map_err(|e| {
            failure(
                format!("Dynamics 365: {what}: unexpected answer: {e}"),
                true,
            )
        })
    }

    fn set(&self, schema: &TableSchema) -> Result<String> {
        self.sets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&schema.table.name)
            .cloned()
            .ok_or_else(|| {
                ConnectorError::Other(format!(
                    "Dynamics 365 entity {} was not described first",
                    schema.table.name
                ))
            })
    }

    /// Every record the query selects, following `@odata.nextLink` (at most `limit`).
    async fn query(
        &self,
        schema: &TableSchema,
        select: &str,
        filter: Option<String>,
        orderby: Option<String>,
        limit: Option<usize>,
    ) -> Result<Vec<Map<String, Json>>> {
        let mut query = vec![("$select", select.to_owned())];
        if let Some(filter) = filter {
            query.push(("$filter", filter));
        }
        if let Some(orderby) = orderby {
            query.push(("$orderby", orderby));
        }
        if let Some(limit) = limit {
            query.push(("$top", limit.to_string()));
        }
        let page_size = limit.unwrap_or(PAGE).clamp(1, PAGE);
        let prefer = [("Prefer", format!("odata.maxpagesize={page_size}"))];
        let mut records = Vec::new();
        let mut path = format!("{API}/{}", self.set(schema)?);
        let mut query: &[(&str, String)] = &query;
        loop {
            let response = match self
                .send("query", Method::GET, &path, query, &prefer, None)
                .await?
            {
                Ok(r) => r,
                Err(r) => return Err(unexpected("Dynamics 365", "query", r).await),
            };
            let page: Page = response.json().await.map_err(|e| {
                failure(format!("Dynamics 365: query: unexpected answer: {e}"), true)
            })?;
            records.extend(page.value);
            match page.next_link {
                Some(next) if limit.is_none_or(|l| records.len() < l) => {
                    path = pin_link("Dynamics 365", &self.org, &next)?.to_string();
                    query = &[];
                }
                _ => return Ok(records),
            }
        }
    }

    fn select_list(schema: &TableSchema) -> String {
        let names: Vec<&str> = schema.columns.iter().map(|c| c.name.as_str()).collect();
        names.join(",")
    }

    fn row(schema: &TableSchema, record: &Map<String, Json>) -> Result<(Key, Row)> {
        let id = record
            .get(&schema.key)
            .and_then(Json::as_str)
            .ok_or_else(|| failure("Dynamics 365: a record came without its id".into(), false))?;
        Ok((
            Key(id.to_lowercase()),
            row_of("Dynamics 365", schema, id, record)?,
        ))
    }

    fn in_filter(schema: &TableSchema, keys: &[Key]) -> Result<String> {
        let ids: Vec<String> = keys
            .iter()
            .map(|k| guid(&k.0).map(|g| format!("'{g}'")))
            .collect::<Result<_>>()?;
        Ok(format!(
            "Microsoft.Dynamics.CRM.In(PropertyName='{}',PropertyValues=[{}])",
            schema.key,
            ids.join(",")
        ))
    }

    /// Records modified since `modified_since`; deletions by comparing the ids with those
    /// of the last poll.
    async fn changes(&self, schema: &TableSchema, modified_since: DateTime<Utc>) -> Result<Polled> {
        let log = &schema.log_name;
        let since = modified_since.format("%Y-%m-%dT%H:%M:%SZ");
        let records = self
            .query(
                schema,
                &Self::select_list(schema),
                Some(format!("{MODIFIED} ge {since}")),
                Some(format!("{MODIFIED} asc,{} asc", schema.key)),
                None,
            )
            .await?;
        let started_at = self.api.server_time();
        let mut observed = Vec::with_capacity(records.len());
        for record in &records {
            let (Some(id), Some(at)) = (
                record.get(&schema.key).and_then(Json::as_str),
                record
                    .get(MODIFIED)
                    .and_then(Json::as_str)
                    .and_then(parse_instant),
            ) else {
                continue;
            };
            let values: Map<String, Json> = record
                .iter()
                .filter(|(k, _)| !k.starts_with('@'))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            observed.push(Observed {
                key: Key(id.to_lowercase()),
                stamp: at,
                modified_by: record
                    .get(MODIFIED_BY)
                    .and_then(Json::as_str)
                    .map(str::to_lowercase),
                deleted: false,
                digest: Some(digest(&values)),
                values: Some(values),
            });
        }
        // Deletions: the ids that were there at the last poll and are gone now.
        let ids = self.query(schema, &schema.key, None, None, None).await?;
        let current: Vec<String> = ids
            .iter()
            .filter_map(|r| r.get(&schema.key).and_then(Json::as_str))
            .map(str::to_lowercase)
            .collect();
        let current: Vec<&str> = current.iter().map(String::as_str).collect();
        let deleted_until = self.api.server_time();
        for key in self.cloud.store.known_ids_gone(log, &current).await? {
            observed.push(Observed {
                key,
                stamp: deleted_until,
                modified_by: None,
                deleted: true,
                digest: None,
                values: None,
            });
        }
        Ok(Polled {
            observed,
            started_at,
            deleted_until,
        })
    }

    fn record_body(schema: &TableSchema, row: &Row) -> Json {
        Json::Object(
            row.iter()
                .filter(|(name, _)| *name != &schema.key)
                .map(|(name, value)| (name.clone(), to_json(value)))
                .collect(),
        )
    }

    /// Sends the parts as one `$batch` and returns their answers in order.
    async fn batch(&self, parts: &[batch::Part]) -> Result<Vec<batch::Answer>> {
        let boundary = format!("batch_{}", uuid::Uuid::new_v4().simple());
        let body = batch::body(&boundary, parts);
        let response = match self
            .send(
                "$batch",
                Method::POST,
                &format!("{API}/$batch"),
                &[],
                &[("Prefer", "odata.continue-on-error".into())],
                Some((format!("multipart/mixed; boundary={boundary}"), body)),
            )
            .await?
        {
            Ok(r) => r,
            Err(r) => return Err(unexpected("Dynamics 365", "$batch", r).await),
        };
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = response
            .text()
            .await
            .map_err(|e| failure(format!("Dynamics 365: $batch: {e}"), true))?;
        let boundary = batch::boundary_of(&content_type).ok_or_else(|| {
            failure(
                format!("Dynamics 365: $batch answered {content_type}"),
                false,
            )
        })?;
        let answers = batch::answers(&boundary, &text)
            .map_err(|m| failure(format!("Dynamics 365: $batch: {m}"), false))?;
        if answers.len() != parts.len() {
            return Err(failure(
                format!(
                    "Dynamics 365: $batch: {} answers for {} requests",
                    answers.len(),
                    parts.len()
                ),
                false,
            ));
        }
        Ok(answers)
    }
}

#[async_trait]
impl CloudApi for DynamicsConnector {
    fn kind(&self) -> &'static str {
        "dynamics"
    }

    fn api(&self) -> &Api {
        &self.api
    }

    fn context(&self) -> &CloudContext {
        &self.cloud
    }

    fn own_user(&self) -> Option<&str> {
        Some(&self.user_id)
    }

    async fn poll(
        &self,
        table: &TableSchema,
        modified_since: DateTime<Utc>,
        _deleted_since: DateTime<Utc>,
    ) -> Result<Polled> {
        self.changes(table, modified_since).await
    }

    async fn list_tables(&self) -> Result<Vec<TableRef>> {
        let list: describe::EntityList = self
            .json(
                "list entities",
                Method::GET,
                &format!("{API}/EntityDefinitions"),
                &[(
                    "$select",
                    "LogicalName,EntitySetName,PrimaryIdAttribute".into(),
                )],
            )
            .await?;
        Ok(list
            .value
            .into_iter()
            .filter(|e| e.entity_set_name.is_some() && describe::is_name(&e.logical_name))
            .map(|e| TableRef::new(None, &e.logical_name))
            .collect())
    }

    async fn describe(&self, table: &TableRef) -> Result<TableSchema> {
        if table.schema.is_some() || !describe::is_name(&table.name) {
            return Err(ConnectorError::Requirement(format!(
                "“{table}” is not a Dynamics 365 entity's logical name (such as account or contact)"
            )));
        }
        let path = format!("{API}/EntityDefinitions(LogicalName='{}')", table.name);
        let query = [
            ("$select", "LogicalName,EntitySetName,PrimaryIdAttribute".to_owned()),
            (
                "$expand",
                "Attributes($select=LogicalName,AttributeType,IsValidForCreate,IsValidForUpdate,IsValidForRead,RequiredLevel)".to_owned(),
            ),
        ];
        let Ok(response) = self
            .send("describe", Method::GET, &path, &query, &[], None)
            .await?
        else {
            return Err(ConnectorError::Requirement(format!(
                "Dynamics 365 has no entity {table} (or the application user cannot read it)"
            )));
        };
        let entity: describe::Entity = response.json().await.map_err(|e| {
            failure(
                format!("Dynamics 365: describe {table}: unexpected answer: {e}"),
                true,
            )
        })?;
        let (schema, set) = describe::schema(entity)?;
        // The names the environment answers with go into URL paths and filters.
        if !describe::is_name(&set) || !describe::is_name(&schema.key) {
            return Err(failure(
                format!(
                    "Dynamics 365: describe {table}: the entity set or key name in the answer is not a plain name"
                ),
                false,
            ));
        }
        self.sets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(table.name.clone(), set);
        Ok(schema)
    }

    async fn scan(
        &self,
        table: &TableSchema,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<(Key, Row)>> {
        let filter = after
            .map(|k| guid(&k.0).map(|g| format!("{} gt {g}", table.key)))
            .transpose()?;
        let records = self
            .query(
                table,
                &Self::select_list(table),
                filter,
                Some(format!("{} asc", table.key)),
                Some(limit),
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
        let filter = after
            .map(|k| guid(&k.0).map(|g| format!("{} gt {g}", table.key)))
            .transpose()?;
        let records = self
            .query(
                table,
                &table.key,
                filter,
                Some(format!("{} asc", table.key)),
                Some(limit),
            )
            .await?;
        Ok(records
            .iter()
            .filter_map(|r| r.get(&table.key).and_then(Json::as_str))
            .map(|id| Key(id.to_lowercase()))
            .collect())
    }

    async fn fetch(&self, table: &TableSchema, keys: &[Key]) -> Result<Vec<(Key, Row)>> {
        let mut rows = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(IDS_PER_QUERY) {
            let records = self
                .query(
                    table,
                    &Self::select_list(table),
                    Some(Self::in_filter(table, chunk)?),
                    None,
                    None,
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
                .query(
                    table,
                    &table.key,
                    Some(Self::in_filter(table, chunk)?),
                    None,
                    None,
                )
                .await?;
            found.extend(
                records
                    .iter()
                    .filter_map(|r| r.get(&table.key).and_then(Json::as_str))
                    .map(|id| Key(id.to_lowercase())),
            );
        }
        Ok(found)
    }

    async fn write(
        &self,
        table: &TableSchema,
        journal: &Journal<'_>,
        ops: Vec<WriteOp>,
    ) -> Result<Vec<WriteOutcome>> {
        let set = self.set(table)?;
        let mut outcomes = Vec::with_capacity(ops.len());
        for chunk in ops.chunks(WRITE_BATCH) {
            let parts = chunk
                .iter()
                .map(|op| {
                    Ok(match op {
                        WriteOp::Insert { row, .. } => batch::Part {
                            method: "POST",
                            path: format!("{API}/{set}"),
                            headers: vec![("Prefer", "return=representation".into())],
                            body: Some(Self::record_body(table, row)),
                        },
                        WriteOp::Update { key, row } => batch::Part {
                            method: "PATCH",
                            path: format!("{API}/{set}({})", guid(&key.0)?),
                            // Without If-Match a PATCH creates the record when it is gone.
                            headers: vec![
                                ("If-Match", "*".into()),
                                ("Prefer", "return=representation".into()),
                            ],
                            body: Some(Self::record_body(table, row)),
                        },
                        WriteOp::Delete { key } => batch::Part {
                            method: "DELETE",
                            path: format!("{API}/{set}({})", guid(&key.0)?),
                            headers: Vec::new(),
                            body: None,
                        },
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let before = self.api.server_time();
            let answers = self.batch(&parts).await?;
            let mut pairs = Vec::new();
            let mut echoes = Vec::new();
            for ((op, answer), part) in chunk.iter().zip(answers).zip(&parts) {
                let ok = (200..300).contains(&answer.status);
                // The exact new stamp, else the vendor's clock after the call.
                let exact = answer
                    .body
                    .as_ref()
                    .and_then(|b| b.get(MODIFIED))
                    .and_then(Json::as_str)
                    .and_then(parse_instant);
                let stamp =
                    exact.unwrap_or_else(|| self.api.server_time() + chrono::Duration::seconds(1));
                // What the part sent, for the echo rule (from the exact stamp, else the
                // clock before the call, less a second of tolerance).
                let sent = || {
                    let from = exact.unwrap_or(before) - chrono::Duration::seconds(1);
                    let body = part.body.as_ref().and_then(Json::as_object);
                    Some(written(table, from, body.unwrap_or(&Map::new())))
                };
                outcomes.push(match (op, ok, answer.status) {
                    (WriteOp::Insert { origin, .. }, true, _) => {
                        let id = answer
                            .body
                            .as_ref()
                            .and_then(|b| b.get(&table.key))
                            .and_then(Json::as_str)
                            .map(str::to_lowercase);
                        match id {
                            Some(id) => {
                                pairs.push((origin.0.clone(), id.clone()));
                                echoes.push(Echo {
                                    key: Key(id.clone()),
                                    until: stamp,
                                    by_user_only: true,
                                    written: sent(),
                                });
                                WriteOutcome::Inserted(Key(id))
                            }
                            None => WriteOutcome::Failed(
                                "Dynamics 365 created the record but did not say its id".into(),
                            ),
                        }
                    }
                    (WriteOp::Update { key, .. }, true, _) => {
                        echoes.push(Echo {
                            key: key.clone(),
                            until: stamp,
                            by_user_only: true,
                            written: sent(),
                        });
                        WriteOutcome::Updated
                    }
                    (WriteOp::Delete { .. }, true, _) => WriteOutcome::Deleted,
                    (WriteOp::Update { .. } | WriteOp::Delete { .. }, false, 404) => {
                        WriteOutcome::Missing
                    }
                    (_, false, status) => WriteOutcome::Failed(error_message(&answer.body, status)),
                });
            }
            let pairs: Vec<(&str, &str)> = pairs
                .iter()
                .map(|(o, k)| (o.as_str(), k.as_str()))
                .collect();
            journal.record(&pairs, &echoes).await?;
            let created: Vec<&str> = pairs.iter().map(|(_, id)| *id).collect();
            self.cloud
                .store
                .add_known(&table.log_name, &created)
                .await?;
        }
        Ok(outcomes)
    }
}
