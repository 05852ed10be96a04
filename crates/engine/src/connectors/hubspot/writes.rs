//! HubSpot writes with the batch endpoints: `create` (each input traced by
//! `objectWriteTraceId`), `update` and `archive`, one kind per call. Results are matched to
//! the inputs by trace id or id; a record the batch could not attribute is sent again on its
//! own. The loop around these calls is the cloud connectors' (`cloud::writes`).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Map, Value as Json, json};

use super::super::cloud::changes::{Echo, Written};
use super::super::cloud::http::{failure, unexpected};
use super::super::cloud::values::to_text;
use super::super::cloud::writes::Applied;
use super::super::cloud::written;
use super::super::{Key, Result, Row, TableSchema, WriteOutcome};
use super::HubSpotConnector;
use super::wire::{BatchError, Page};

/// A created record's id and stamp, or why HubSpot refused it.
type Created = std::result::Result<(Key, Option<DateTime<Utc>>), String>;
/// An updated record's stamp, or (the record is missing, why HubSpot refused it).
type Updated = std::result::Result<Option<DateTime<Utc>>, (bool, String)>;

impl HubSpotConnector {
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
            return Err(unexpected("HubSpot", what, response).await);
        }
        let text = response.text().await.unwrap_or_default();
        let page = if status.is_success() {
            serde_json::from_str(&text).map_err(|e| {
                failure(format!("HubSpot: {what}: unexpected answer: {e}"), true).caused_by(e)
            })?
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

    /// What a row sends, for the echo rule: from the exact stamp HubSpot answers with (else
    /// its clock before the call), less a second of tolerance.
    fn sent(
        table: &TableSchema,
        row: &Row,
        before: DateTime<Utc>,
        stamp: Option<DateTime<Utc>>,
    ) -> Written {
        let from = stamp.unwrap_or(before) - chrono::Duration::seconds(1);
        written(table, from, &Self::properties_body(table, row))
    }

    pub(super) async fn apply_inserts(
        &self,
        table: &TableSchema,
        rows: &[&Row],
    ) -> Result<Vec<Applied>> {
        let now = || self.api.server_time();
        let before = now();
        let results = self.create(table, rows).await?;
        Ok(rows
            .iter()
            .zip(results)
            .map(|(row, result)| match result {
                Ok((key, stamp)) => Applied {
                    echo: Some(Echo {
                        key: key.clone(),
                        until: stamp.unwrap_or_else(now),
                        by_user_only: false,
                        written: Some(Self::sent(table, row, before, stamp)),
                    }),
                    outcome: WriteOutcome::Inserted(key),
                },
                Err(message) => WriteOutcome::Failed(message).into(),
            })
            .collect())
    }

    pub(super) async fn apply_updates(
        &self,
        table: &TableSchema,
        items: &[(&Key, &Row)],
    ) -> Result<Vec<Applied>> {
        let now = || self.api.server_time();
        let before = now();
        let results = self.update(table, items).await?;
        Ok(items
            .iter()
            .zip(results)
            .map(|((key, row), result)| match result {
                Ok(stamp) => Applied {
                    outcome: WriteOutcome::Updated,
                    echo: Some(Echo {
                        key: (*key).clone(),
                        until: stamp.unwrap_or_else(now),
                        by_user_only: false,
                        written: Some(Self::sent(table, row, before, stamp)),
                    }),
                },
                Err((true, _)) => WriteOutcome::Missing.into(),
                Err((false, message)) => WriteOutcome::Failed(message).into(),
            })
            .collect())
    }

    pub(super) async fn apply_deletes(
        &self,
        table: &TableSchema,
        keys: &[&Key],
    ) -> Result<Vec<Applied>> {
        let inputs: Vec<Json> = keys.iter().map(|k| json!({ "id": k.0 })).collect();
        let (page, status) = self
            .batch("archive records", table, "archive", inputs)
            .await?;
        if !status.is_success() {
            let message = page
                .errors
                .first()
                .map_or_else(|| status.to_string(), BatchError::text);
            return Ok(keys
                .iter()
                .map(|_| WriteOutcome::Failed(message.clone()).into())
                .collect());
        }
        // HubSpot answers 204 for the batch; archiving an archived record is no error.
        Ok(keys.iter().map(|_| WriteOutcome::Deleted.into()).collect())
    }
}
