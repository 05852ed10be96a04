//! HubSpot's HTTP side: requests with the private app's token, and what a refused token or
//! a missing scope means.

use reqwest::{Method, Response, StatusCode};
use serde_json::Value as Json;

use super::super::cloud::CloudContext;
use super::super::cloud::http::{Api, RetryPolicy, failure, unexpected};
use super::super::{Result, TableSchema};
use super::HubSpotConnector;

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

    pub(super) async fn send(
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
    pub(super) async fn json<T: serde::de::DeserializeOwned>(
        &self,
        what: &str,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Json>,
    ) -> Result<T> {
        let response = self.send(what, method, path, query, body).await?;
        if !response.status().is_success() {
            return Err(unexpected("HubSpot", what, response).await);
        }
        response.json().await.map_err(|e| {
            failure(format!("HubSpot: {what}: unexpected answer: {e}"), true).caused_by(e)
        })
    }

    pub(super) fn objects_path(schema: &TableSchema, tail: &str) -> String {
        format!("/crm/v3/objects/{}{tail}", schema.table.name)
    }
}
