//! The one [`Connector`] every cloud application gets. A vendor module says how to talk to
//! its API ([`CloudApi`]: discovery, reads, a poll for changes, one batch write call); change
//! tracking, the change log, echoes and the insert journal are the same for all and live
//! here, in our metadata database, as does the loop around the vendor's write calls
//! ([`super::writes`]).

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::super::{
    Connector, Key, Result, Row, TableSchema, TrackedChange, WriteOp, WriteOutcome,
};
use super::changes::Rules;
use super::writes::{self, Applied, Batch, Batching};
use super::{CloudContext, CloudStore, OVERLAP, Polled, http::Api, record_poll};
use crate::package::TableRef;

/// What a vendor module implements.
#[async_trait]
pub trait CloudApi: Send + Sync {
    /// `salesforce`, `hubspot`, `dynamics`.
    fn kind(&self) -> &'static str;
    fn api(&self) -> &Api;
    fn context(&self) -> &CloudContext;
    /// The user the connection acts as, when the vendor says who made each change.
    fn own_user(&self) -> Option<&str>;

    async fn list_tables(&self) -> Result<Vec<TableRef>>;
    async fn describe(&self, table: &TableRef) -> Result<TableSchema>;
    /// The records modified since `modified_since` and deleted since `deleted_since`
    /// (both already moved back by the overlap window).
    async fn poll(
        &self,
        table: &TableSchema,
        modified_since: DateTime<Utc>,
        deleted_since: DateTime<Utc>,
    ) -> Result<Polled>;
    async fn scan(
        &self,
        table: &TableSchema,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<(Key, Row)>>;
    async fn scan_keys(
        &self,
        table: &TableSchema,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<Key>>;
    async fn fetch(&self, table: &TableSchema, keys: &[Key]) -> Result<Vec<(Key, Row)>>;
    async fn existing(&self, table: &TableSchema, keys: &[Key]) -> Result<Vec<Key>>;
    /// How [`CloudApi::write_batch`] takes the engine's writes.
    const BATCHING: Batching;
    /// One vendor call for `batch`: per operation, in order, what became of it (and, for a
    /// record written, its echo). The write loop ([`writes::write`]) records them right after.
    async fn write_batch(&self, table: &TableSchema, batch: Batch<'_>) -> Result<Vec<Applied>>;
    /// Called after each batch is recorded with the ids it created (even none), for vendors
    /// that keep more about them.
    async fn created(&self, _table: &TableSchema, _ids: &[&str]) -> Result<()> {
        Ok(())
    }
}

/// A cloud application as a [`Connector`].
pub struct CloudConnector<A>(pub A);

impl<A: CloudApi> CloudConnector<A> {
    fn store(&self) -> &CloudStore {
        &self.0.context().store
    }

    /// Asks the vendor what changed since the checkpoints (minus the overlap) and logs it.
    async fn poll(&self, table: &TableSchema) -> Result<()> {
        let log = &table.log_name;
        let Some(before) = self.store().checkpoints(log).await? else {
            return Ok(());
        };
        let polled = self
            .0
            .poll(
                table,
                before.modified_after - OVERLAP,
                before.deleted_after - OVERLAP,
            )
            .await?;
        // The first poll follows the installation within the same run, whose full pass reads
        // every older record: those are remembered as seen, not logged (logging them would
        // re-apply them after the pass; not remembering them would make the next run take
        // them for changes).
        let log_from = (!before.polled).then_some(before.modified_after);
        let rules = Rules {
            own_user: self.0.own_user(),
            dedicated_account: self.0.context().dedicated_account,
        };
        record_poll(self.store(), table, log, before, polled, rules, log_from).await
    }
}

#[async_trait]
impl<A: CloudApi> Connector for CloudConnector<A> {
    fn kind(&self) -> &'static str {
        self.0.kind()
    }

    fn api_calls(&self) -> u64 {
        self.0.api().calls()
    }

    async fn list_tables(&self) -> Result<Vec<TableRef>> {
        self.0.list_tables().await
    }

    async fn describe(&self, table: &TableRef) -> Result<TableSchema> {
        self.0.describe(table).await
    }

    async fn tracking_installed(&self, table: &TableSchema) -> Result<bool> {
        Ok(self.store().checkpoints(&table.log_name).await?.is_some())
    }

    /// Starts at the vendor's clock (the `describe` just before read it).
    async fn install_tracking(&self, table: &TableSchema) -> Result<()> {
        let from = self.0.api().server_time();
        self.store()
            .install(&table.log_name, &table.table.name, from)
            .await
    }

    async fn remove_tracking(&self, table: &TableSchema) -> Result<()> {
        self.store().remove(&table.log_name).await
    }

    /// The first page of a run's snapshot polls the vendor first.
    async fn read_changes(
        &self,
        table: &TableSchema,
        after: i64,
        limit: usize,
    ) -> Result<Vec<TrackedChange>> {
        if after == 0 {
            self.poll(table).await?;
        }
        self.store()
            .read_changes(&table.log_name, after, limit)
            .await
    }

    async fn consume_changes(&self, table: &TableSchema, seqs: &[i64]) -> Result<()> {
        self.store().consume(&table.log_name, seqs).await
    }

    async fn requeue(&self, table: &TableSchema, keys: &[Key]) -> Result<()> {
        self.store().requeue(&table.log_name, keys).await
    }

    async fn scan(
        &self,
        table: &TableSchema,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<(Key, Row)>> {
        self.0.scan(table, after, limit).await
    }

    async fn scan_keys(
        &self,
        table: &TableSchema,
        after: Option<&Key>,
        limit: usize,
    ) -> Result<Vec<Key>> {
        self.0.scan_keys(table, after, limit).await
    }

    async fn fetch(&self, table: &TableSchema, keys: &[Key]) -> Result<Vec<(Key, Row)>> {
        self.0.fetch(table, keys).await
    }

    async fn existing(&self, table: &TableSchema, keys: &[Key]) -> Result<Vec<Key>> {
        self.0.existing(table, keys).await
    }

    async fn write(
        &self,
        table: &TableSchema,
        journal: &str,
        ops: Vec<WriteOp>,
    ) -> Result<Vec<WriteOutcome>> {
        writes::write(&self.0, table, journal, ops).await
    }

    async fn read_journal(&self, journal: &str) -> Result<Vec<(Key, Key)>> {
        self.store().read_journal(journal).await
    }

    async fn clear_journal(&self, journal: &str) -> Result<()> {
        self.store().clear_journal(journal).await
    }
}
