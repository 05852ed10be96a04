//! The Dataverse Web API's HTTP side: requests to the environment with the OAuth token
//! (renewed once when it expires), the entity sets `describe` learnt, and queries followed
//! through their pages (`@odata.nextLink`, only on the environment itself).

use std::collections::HashMap;
use std::sync::Mutex;

use reqwest::{Method, Response, StatusCode};
use serde_json::{Map, Value as Json};
use tokio::sync::RwLock;

use super::super::cloud::CloudContext;
use super::super::cloud::http::{Api, RetryPolicy, failure, pin_link, unexpected};
use super::super::{ConnectorError, Result, TableSchema};
use super::auth::sign_in;
use super::wire::{Page, WhoAmI};
use super::{API, DynamicsAuth, DynamicsConnector};

/// Records per page (the API's most).
const PAGE: usize = 5000;

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
            bindings: Mutex::new(HashMap::new()),
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
    pub(super) async fn send(
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

    pub(super) async fn json<T: serde::de::DeserializeOwned>(
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
            .caused_by(e)
        })
    }

    pub(super) fn set(&self, schema: &TableSchema) -> Result<String> {
        self.sets
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&schema.table.name)
            .cloned()
            .ok_or_else(|| {
                ConnectorError::other(format!(
                    "Dynamics 365 entity {} was not described first",
                    schema.table.name
                ))
            })
    }

    /// Every record the query selects, following `@odata.nextLink` (at most `limit`).
    pub(super) async fn query(
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
                failure(format!("Dynamics 365: query: unexpected answer: {e}"), true).caused_by(e)
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
}
