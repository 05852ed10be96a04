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

mod auth;
mod batch;
mod client;
mod describe;
mod reads;
mod wire;
mod writes;

use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::RwLock;

pub use auth::{DynamicsAuth, is_tenant_id};

use super::cloud::connector::CloudApi;
use super::cloud::http::Api;
use super::cloud::writes::{Applied, Batch, Batching};
use super::cloud::{CloudContext, Polled};
use super::{ConnectorError, Key, Result, Row, TableSchema};
use crate::package::TableRef;

const API: &str = "/api/data/v9.2";
/// Requests per `$batch` call (the API allows 1,000).
pub const WRITE_BATCH: usize = 1000;

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
    /// (entity, `_x_value` column) → how a write binds it: the navigation property and the
    /// target's entity set (single-target lookups, learnt by `describe`).
    bindings: Mutex<HashMap<(String, String), describe::Binding>>,
    cloud: CloudContext,
}

/// An OData literal for a GUID (unquoted) or a date and time.
fn guid(id: &str) -> Result<&str> {
    if id.len() == 36 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        Ok(id)
    } else {
        Err(ConnectorError::other(format!(
            "“{id}” is not a Dataverse id (a GUID)"
        )))
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
        self.list_entities().await
    }

    async fn describe(&self, table: &TableRef) -> Result<TableSchema> {
        self.describe_entity(table).await
    }

    async fn scan(
        &self,
        table: &TableSchema,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<(Key, Row)>> {
        self.scan_rows(table, after, limit).await
    }

    async fn scan_keys(
        &self,
        table: &TableSchema,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<Key>> {
        self.scan_ids(table, after, limit).await
    }

    async fn fetch(&self, table: &TableSchema, keys: &[Key]) -> Result<Vec<(Key, Row)>> {
        self.fetch_rows(table, keys).await
    }

    async fn existing(&self, table: &TableSchema, keys: &[Key]) -> Result<Vec<Key>> {
        self.existing_ids(table, keys).await
    }

    const BATCHING: Batching = Batching::InOrder(WRITE_BATCH);

    async fn write_batch(&self, table: &TableSchema, batch: Batch<'_>) -> Result<Vec<Applied>> {
        match batch {
            Batch::InOrder(ops) => self.write_in_order(table, ops).await,
            Batch::Inserts(_) | Batch::Updates(_) | Batch::Deletes(_) => {
                unreachable!("Dynamics 365's batches keep the engine's order")
            }
        }
    }

    /// Created records join the ids known at the last poll, whose absence later is a
    /// deletion.
    async fn created(&self, table: &TableSchema, ids: &[&str]) -> Result<()> {
        self.cloud.store.add_known(&table.log_name, ids).await
    }
}
