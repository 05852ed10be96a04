//! Reading Salesforce records with SOQL: keyset scans by `Id`, records by id (`Id IN (…)`),
//! and the poll for changes (by `SystemModstamp` or `LastModifiedDate`, and the `deleted`
//! endpoint).

use chrono::{DateTime, DurationRound, Utc};
use reqwest::Method;
use serde_json::{Map, Value as Json};

use super::super::cloud::changes::Observed;
use super::super::cloud::http::failure;
use super::super::cloud::values::{parse_instant, row_of};
use super::super::cloud::{Polled, digest, ids};
use super::super::{Key, Result, Row, TableSchema};
use super::describe::modified_field;
use super::wire::Deleted;
use super::{SalesforceConnector, object, soql};

/// Ids per `Id IN (…)` query, keeping the request line well under the 16 KB URI limit.
const IDS_PER_QUERY: usize = 200;

impl SalesforceConnector {
    fn select_list(schema: &TableSchema) -> String {
        let names: Vec<&str> = schema.columns.iter().map(|c| c.name.as_str()).collect();
        names.join(", ")
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
            object(schema),
            if filter.is_empty() { "" } else { " WHERE " }
        );
        self.query(soql.trim_end()).await
    }

    pub(super) async fn scan_rows(
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

    pub(super) async fn scan_ids(
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

    pub(super) async fn fetch_rows(
        &self,
        table: &TableSchema,
        keys: &[Key],
    ) -> Result<Vec<(Key, Row)>> {
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

    pub(super) async fn existing_ids(&self, table: &TableSchema, keys: &[Key]) -> Result<Vec<Key>> {
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

    /// Records modified (by `SystemModstamp`) and deleted since the given moments.
    pub(super) async fn changes(
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
                &Self::data_path(&format!("sobjects/{}/deleted/", object(schema))),
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
}
