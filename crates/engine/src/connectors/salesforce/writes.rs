//! Salesforce writes with the sObject Collections API: one call per batch of one kind
//! (`allOrNone: false`, so each record is saved or refused on its own), one result per
//! record. The loop around these calls is the cloud connectors' (`cloud::writes`).

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::{Map, Value as Json, json};

use super::super::cloud::changes::{Echo, Written};
use super::super::cloud::http::failure;
use super::super::cloud::values::to_json;
use super::super::cloud::writes::Applied;
use super::super::cloud::written;
use super::super::{Key, Result, Row, TableSchema, WriteOutcome};
use super::wire::SaveResult;
use super::{SalesforceConnector, object};

impl SalesforceConnector {
    fn record_body(schema: &TableSchema, row: &Row, id: Option<&str>) -> Json {
        let mut fields = Map::new();
        fields.insert("attributes".into(), json!({ "type": object(schema) }));
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

    pub(super) async fn create(&self, table: &TableSchema, rows: &[&Row]) -> Result<Vec<Applied>> {
        let records: Vec<Json> = rows
            .iter()
            .map(|row| Self::record_body(table, row, None))
            .collect();
        let sent = Self::sent(table, self.written_from(), &records);
        let results = self.save("create records", Method::POST, records).await?;
        let until = self.written_until();
        Ok(results
            .into_iter()
            .zip(sent)
            .map(|(result, sent)| match (&result.id, result.success) {
                (Some(id), true) => Applied {
                    outcome: WriteOutcome::Inserted(Key(id.clone())),
                    echo: Some(Echo {
                        key: Key(id.clone()),
                        until,
                        by_user_only: true,
                        written: Some(sent),
                    }),
                },
                _ => WriteOutcome::Failed(result.message()).into(),
            })
            .collect())
    }

    pub(super) async fn update(
        &self,
        table: &TableSchema,
        items: &[(&Key, &Row)],
    ) -> Result<Vec<Applied>> {
        let records: Vec<Json> = items
            .iter()
            .map(|(key, row)| Self::record_body(table, row, Some(&key.0)))
            .collect();
        let sent = Self::sent(table, self.written_from(), &records);
        let results = self.save("update records", Method::PATCH, records).await?;
        let until = self.written_until();
        Ok(items
            .iter()
            .zip(results)
            .zip(sent)
            .map(|(((key, _), result), sent)| {
                if result.success {
                    Applied {
                        outcome: WriteOutcome::Updated,
                        echo: Some(Echo {
                            key: (*key).clone(),
                            until,
                            by_user_only: true,
                            written: Some(sent),
                        }),
                    }
                } else if result.missing() {
                    WriteOutcome::Missing.into()
                } else {
                    WriteOutcome::Failed(result.message()).into()
                }
            })
            .collect())
    }

    pub(super) async fn delete(&self, keys: &[&Key]) -> Result<Vec<Applied>> {
        let list: Vec<&str> = keys.iter().map(|k| k.0.as_str()).collect();
        let results: Vec<SaveResult> = self
            .json(
                "delete records",
                Method::DELETE,
                &Self::data_path("composite/sobjects"),
                &[("ids", list.join(",")), ("allOrNone", "false".into())],
                None,
            )
            .await?;
        if results.len() != keys.len() {
            return Err(failure(
                format!(
                    "Salesforce: delete records: {} results for {} records",
                    results.len(),
                    keys.len()
                ),
                false,
            ));
        }
        Ok(results
            .into_iter()
            .map(|result| {
                if result.success {
                    WriteOutcome::Deleted
                } else if result.missing() {
                    WriteOutcome::Missing
                } else {
                    WriteOutcome::Failed(result.message())
                }
                .into()
            })
            .collect())
    }
}
