//! The engine's writes by kind, for vendors whose batch endpoints take one kind per call.

use super::super::{Key, Row, WriteOp};

/// Each operation with its position in the engine's list (answers go back in that order).
pub struct Grouped<'a> {
    pub inserts: Vec<(usize, &'a Key, &'a Row)>,
    pub updates: Vec<(usize, &'a Key, &'a Row)>,
    pub deletes: Vec<(usize, &'a Key)>,
}

pub fn group(ops: &[WriteOp]) -> Grouped<'_> {
    let mut grouped = Grouped {
        inserts: Vec::new(),
        updates: Vec::new(),
        deletes: Vec::new(),
    };
    for (i, op) in ops.iter().enumerate() {
        match op {
            WriteOp::Insert { origin, row } => grouped.inserts.push((i, origin, row)),
            WriteOp::Update { key, row } => grouped.updates.push((i, key, row)),
            WriteOp::Delete { key } => grouped.deletes.push((i, key)),
        }
    }
    grouped
}
