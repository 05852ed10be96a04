//! What a run did: counts per task and direction, and every record that failed.

use serde::{Deserialize, Serialize};

use crate::package::Direction;

pub use wire::Counts;

/// One record that could not be written. It is retried on the next run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordError {
    pub task: String,
    pub direction: Direction,
    /// The side that refused the write.
    pub side: &'static str,
    /// The record's key on the side it was read from.
    pub key: String,
    pub operation: &'static str,
    pub message: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskSummary {
    pub task: String,
    pub source_to_target: Counts,
    pub target_to_source: Counts,
    /// The records this task expects to read in both directions (an estimate, for
    /// progress), once it knows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<u64>,
    #[serde(skip)]
    pub errors: Vec<RecordError>,
}

impl TaskSummary {
    pub fn counts_mut(&mut self, direction: Direction) -> &mut Counts {
        match direction {
            Direction::SourceToTarget => &mut self.source_to_target,
            Direction::TargetToSource => &mut self.target_to_source,
        }
    }
}
