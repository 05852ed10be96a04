//! Dataverse writes with `$batch`: one call per batch of operations of any kind, in the
//! engine's order, each part answered on its own (`return=representation`, so the new
//! `modifiedon` is known). The loop around these calls is the cloud connectors'
//! (`cloud::writes`).

use reqwest::Method;
use serde_json::{Map, Value as Json};

use super::super::cloud::changes::Echo;
use super::super::cloud::http::{failure, unexpected};
use super::super::cloud::values::{parse_instant, to_json};
use super::super::cloud::writes::Applied;
use super::super::cloud::written;
use super::super::{Key, Result, Row, TableSchema, WriteOp, WriteOutcome};
use super::describe::MODIFIED;
use super::{API, DynamicsConnector, batch, guid};

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
    /// The JSON a write sends: columns as themselves, a lookup's `_x_value` through its
    /// navigation property (`x@odata.bind: "/accounts(id)"`, or null).
    fn record_body(&self, schema: &TableSchema, row: &Row) -> Result<Json> {
        let bindings = self.bindings.lock().unwrap_or_else(|e| e.into_inner());
        let mut body = Map::new();
        for (name, value) in row.iter().filter(|(name, _)| *name != &schema.key) {
            match bindings.get(&(schema.table.name.clone(), name.clone())) {
                Some(binding) => {
                    let reference = match value {
                        crate::value::Value::Null => Json::Null,
                        other => {
                            let id = other.to_invariant_text();
                            Json::String(format!("/{}({})", binding.set, guid(&id)?))
                        }
                    };
                    body.insert(format!("{}@odata.bind", binding.navigation), reference);
                }
                None => {
                    body.insert(name.clone(), to_json(value));
                }
            }
        }
        Ok(Json::Object(body))
    }

    /// A sent body as it reads back (`x@odata.bind: "/accounts(id)"` as `_x_value: "id"`),
    /// for telling the engine's own writes from later edits.
    fn as_read_back(body: &Map<String, Json>) -> Map<String, Json> {
        body.iter()
            .map(|(name, value)| match name.strip_suffix("@odata.bind") {
                Some(navigation) => {
                    let id = value.as_str().map(|reference| {
                        reference
                            .rsplit_once('(')
                            .map_or(reference, |(_, id)| id.trim_end_matches(')'))
                            .to_owned()
                    });
                    (
                        format!("_{navigation}_value"),
                        id.map_or(Json::Null, Json::String),
                    )
                }
                None => (name.clone(), value.clone()),
            })
            .collect()
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

    /// One `$batch` for `ops`: per operation, in order, what became of it.
    pub(super) async fn write_in_order(
        &self,
        table: &TableSchema,
        ops: &[WriteOp],
    ) -> Result<Vec<Applied>> {
        let set = self.set(table)?;
        let parts = ops
            .iter()
            .map(|op| {
                Ok(match op {
                    WriteOp::Insert { row, .. } => batch::Part {
                        method: "POST",
                        path: format!("{API}/{set}"),
                        headers: vec![("Prefer", "return=representation".into())],
                        body: Some(self.record_body(table, row)?),
                    },
                    WriteOp::Update { key, row } => batch::Part {
                        method: "PATCH",
                        path: format!("{API}/{set}({})", guid(&key.0)?),
                        // Without If-Match a PATCH creates the record when it is gone.
                        headers: vec![
                            ("If-Match", "*".into()),
                            ("Prefer", "return=representation".into()),
                        ],
                        body: Some(self.record_body(table, row)?),
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
        let mut applied = Vec::with_capacity(ops.len());
        for ((op, answer), part) in ops.iter().zip(answers).zip(&parts) {
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
                let read_back = Self::as_read_back(body.unwrap_or(&Map::new()));
                Some(written(table, from, &read_back))
            };
            applied.push(match (op, ok, answer.status) {
                (WriteOp::Insert { .. }, true, _) => {
                    let id = answer
                        .body
                        .as_ref()
                        .and_then(|b| b.get(&table.key))
                        .and_then(Json::as_str)
                        .map(str::to_lowercase);
                    match id {
                        Some(id) => Applied {
                            echo: Some(Echo {
                                key: Key(id.clone()),
                                until: stamp,
                                by_user_only: true,
                                written: sent(),
                            }),
                            outcome: WriteOutcome::Inserted(Key(id)),
                        },
                        None => WriteOutcome::Failed(
                            "Dynamics 365 created the record but did not say its id".into(),
                        )
                        .into(),
                    }
                }
                (WriteOp::Update { key, .. }, true, _) => Applied {
                    outcome: WriteOutcome::Updated,
                    echo: Some(Echo {
                        key: key.clone(),
                        until: stamp,
                        by_user_only: true,
                        written: sent(),
                    }),
                },
                (WriteOp::Delete { .. }, true, _) => WriteOutcome::Deleted.into(),
                (WriteOp::Update { .. } | WriteOp::Delete { .. }, false, 404) => {
                    WriteOutcome::Missing.into()
                }
                (_, false, status) => {
                    WriteOutcome::Failed(error_message(&answer.body, status)).into()
                }
            });
        }
        Ok(applied)
    }
}
