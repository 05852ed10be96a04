//! Records one task direction wrote or could not write.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub inserted: u64,
    pub updated: u64,
    pub deleted: u64,
    pub failed: u64,
    /// Records not written because a record they reference has no copy on the written side
    /// yet (they wait in their change log and are written as soon as it has).
    #[serde(default)]
    pub waiting: u64,
    /// References set in a second pass of the same run: the record was written first without
    /// a reference to a record not yet written (a table referencing itself, or a cycle).
    #[serde(default)]
    pub second_pass: u64,
    /// Records a full pass paired with a record the other side already held (equal match
    /// keys) instead of copying them.
    #[serde(default)]
    pub paired: u64,
    /// Records held back because their match key matched several records (neither paired
    /// nor copied until the data is fixed).
    #[serde(default)]
    pub held: u64,
}

impl Counts {
    pub fn add(&mut self, other: Counts) {
        self.inserted += other.inserted;
        self.updated += other.updated;
        self.deleted += other.deleted;
        self.failed += other.failed;
        self.waiting += other.waiting;
        self.second_pass += other.second_pass;
        self.paired += other.paired;
        self.held += other.held;
    }

    /// Records written (inserted, updated or deleted).
    pub fn written(&self) -> u64 {
        self.inserted + self.updated + self.deleted
    }
}
