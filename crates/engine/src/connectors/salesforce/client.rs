//! Salesforce's HTTP side: signing in, requests to the org with the session (renewed once
//! when it expires), and SOQL queries followed through their pages.

use reqwest::{Method, Response, StatusCode};
use serde_json::{Map, Value as Json};
use tokio::sync::RwLock;

use super::super::Result;
use super::super::cloud::CloudContext;
use super::super::cloud::http::{Api, RetryPolicy, failure, pin_link, unexpected};
use super::auth::sign_in;
use super::wire::QueryPage;
use super::{API_VERSION, SalesforceAuth, SalesforceConnector, soql};

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
    pub(super) async fn request(
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
    pub(super) async fn request_found(
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

    pub(super) async fn json<T: serde::de::DeserializeOwned>(
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
            .map_err(|e| {
                failure(format!("Salesforce: {what}: unexpected answer: {e}"), true).caused_by(e)
            })
    }

    /// `API_VERSION` as the path expects it (`v` and digits with one dot).
    pub(super) fn data_path(path: &str) -> String {
        debug_assert!(soql::is_api_version(API_VERSION));
        format!("/services/data/{API_VERSION}/{path}")
    }

    /// Runs a SOQL query, following `nextRecordsUrl` until done.
    pub(super) async fn query(&self, soql: &str) -> Result<Vec<Map<String, Json>>> {
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
            let pinned = pin_link("Salesforce", &instance, &next)?;
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
}
