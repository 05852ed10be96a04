//! The engine's writes in a vendor's batches. Every cloud connector writes the same way: cut
//! the operations into the batches its endpoints take, make one vendor call per batch
//! ([`CloudApi::write_batch`]), and right after each call record what it created (the insert
//! journal) and what it wrote (echoes), before the next call. Only the call itself and the
//! reading of its answer are the vendor's.

use super::super::{Key, Result, Row, TableSchema, WriteOp, WriteOutcome};
use super::CloudStore;
use super::changes::Echo;
use super::connector::CloudApi;

/// How a vendor's batch endpoints take the engine's writes.
#[derive(Debug, Clone, Copy)]
pub enum Batching {
    /// One kind of operation per call (the inserts, then the updates, then the deletes), at
    /// most this many per call.
    ByKind(usize),
    /// Operations of any kind in one call, in the engine's order, at most this many per call.
    InOrder(usize),
}

/// One vendor call's worth of the engine's writes.
pub enum Batch<'a> {
    /// Rows to create ([`Batching::ByKind`]).
    Inserts(Vec<&'a Row>),
    /// Records to change ([`Batching::ByKind`]).
    Updates(Vec<(&'a Key, &'a Row)>),
    /// Records to delete ([`Batching::ByKind`]).
    Deletes(Vec<&'a Key>),
    /// Operations of any kind, in the engine's order ([`Batching::InOrder`]).
    InOrder(&'a [WriteOp]),
}

/// What became of one operation of a batch.
pub struct Applied {
    pub outcome: WriteOutcome,
    /// For a record written: what the write sent and the stamps it can have given, so that
    /// it does not come back as a change.
    pub echo: Option<Echo>,
}

impl From<WriteOutcome> for Applied {
    /// An operation that wrote nothing to remember (a deletion, a failure).
    fn from(outcome: WriteOutcome) -> Self {
        Applied {
            outcome,
            echo: None,
        }
    }
}

/// Where a write records, right after each vendor call, the records it created (origin →
/// new id) and what its writes sent and the stamps they gave (so they do not come back as
/// changes).
struct Journal<'a> {
    store: &'a CloudStore,
    name: &'a str,
    log: &'a str,
}

impl Journal<'_> {
    async fn record(&self, created: &[(&str, &str)], echoes: &[Echo]) -> Result<()> {
        self.store.journal(self.name, created).await?;
        self.store.record_echoes(self.log, echoes).await
    }
}

/// Applies `ops` in the vendor's batches, recording after each call what it created and
/// wrote (under `journal`), and answers one outcome per op, in order.
pub async fn write<A: CloudApi>(
    api: &A,
    table: &TableSchema,
    journal: &str,
    ops: Vec<WriteOp>,
) -> Result<Vec<WriteOutcome>> {
    let journal = Journal {
        store: &api.context().store,
        name: journal,
        log: &table.log_name,
    };
    let mut outcomes: Vec<Option<WriteOutcome>> = vec![None; ops.len()];
    for (positions, batch) in batches(&ops, A::BATCHING) {
        let applied = api.write_batch(table, batch).await?;
        let mut pairs = Vec::new();
        let mut echoes = Vec::new();
        for (i, applied) in positions.into_iter().zip(applied) {
            if let (WriteOp::Insert { origin, .. }, WriteOutcome::Inserted(key)) =
                (&ops[i], &applied.outcome)
            {
                pairs.push((origin.0.as_str(), key.0.clone()));
            }
            echoes.extend(applied.echo);
            outcomes[i] = Some(applied.outcome);
        }
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(o, k)| (*o, k.as_str())).collect();
        journal.record(&pairs, &echoes).await?;
        let created: Vec<&str> = pairs.iter().map(|(_, id)| *id).collect();
        api.created(table, &created).await?;
    }
    Ok(outcomes
        .into_iter()
        .map(|o| o.expect("every operation was sent"))
        .collect())
}

/// The batches `ops` go in, each with the positions of its operations in `ops`.
fn batches(ops: &[WriteOp], batching: Batching) -> Vec<(Vec<usize>, Batch<'_>)> {
    match batching {
        Batching::InOrder(size) => ops
            .chunks(size)
            .enumerate()
            .map(|(n, chunk)| {
                let first = n * size;
                (
                    (first..first + chunk.len()).collect(),
                    Batch::InOrder(chunk),
                )
            })
            .collect(),
        Batching::ByKind(size) => {
            let mut inserts = Vec::new();
            let mut updates = Vec::new();
            let mut deletes = Vec::new();
            for (i, op) in ops.iter().enumerate() {
                match op {
                    WriteOp::Insert { row, .. } => inserts.push((i, row)),
                    WriteOp::Update { key, row } => updates.push((i, (key, row))),
                    WriteOp::Delete { key } => deletes.push((i, key)),
                }
            }
            let mut batches = Vec::new();
            for chunk in inserts.chunks(size) {
                let (positions, rows) = chunk.iter().copied().unzip();
                batches.push((positions, Batch::Inserts(rows)));
            }
            for chunk in updates.chunks(size) {
                let (positions, items) = chunk.iter().copied().unzip();
                batches.push((positions, Batch::Updates(items)));
            }
            for chunk in deletes.chunks(size) {
                let (positions, keys) = chunk.iter().copied().unzip();
                batches.push((positions, Batch::Deletes(keys)));
            }
            batches
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ops() -> Vec<WriteOp> {
        let key = |k: &str| Key(k.into());
        vec![
            WriteOp::Delete { key: key("d1") },
            WriteOp::Insert {
                origin: key("o1"),
                row: Row::new(),
            },
            WriteOp::Update {
                key: key("u1"),
                row: Row::new(),
            },
            WriteOp::Insert {
                origin: key("o2"),
                row: Row::new(),
            },
            WriteOp::Insert {
                origin: key("o3"),
                row: Row::new(),
            },
        ]
    }

    fn shape(batches: &[(Vec<usize>, Batch<'_>)]) -> Vec<(&'static str, Vec<usize>)> {
        batches
            .iter()
            .map(|(positions, batch)| {
                let kind = match batch {
                    Batch::Inserts(rows) => {
                        assert_eq!(rows.len(), positions.len());
                        "inserts"
                    }
                    Batch::Updates(items) => {
                        assert_eq!(items.len(), positions.len());
                        "updates"
                    }
                    Batch::Deletes(keys) => {
                        assert_eq!(keys.len(), positions.len());
                        "deletes"
                    }
                    Batch::InOrder(ops) => {
                        assert_eq!(ops.len(), positions.len());
                        "in order"
                    }
                };
                (kind, positions.clone())
            })
            .collect()
    }

    #[test]
    fn by_kind_sends_inserts_then_updates_then_deletes_in_chunks() {
        let ops = ops();
        assert_eq!(
            shape(&batches(&ops, Batching::ByKind(2))),
            vec![
                ("inserts", vec![1, 3]),
                ("inserts", vec![4]),
                ("updates", vec![2]),
                ("deletes", vec![0]),
            ]
        );
    }

    #[test]
    fn in_order_keeps_the_engines_order_in_chunks() {
        let ops = ops();
        assert_eq!(
            shape(&batches(&ops, Batching::InOrder(2))),
            vec![
                ("in order", vec![0, 1]),
                ("in order", vec![2, 3]),
                ("in order", vec![4]),
            ]
        );
        assert!(batches(&[], Batching::InOrder(2)).is_empty());
        assert!(batches(&[], Batching::ByKind(2)).is_empty());
    }
}
