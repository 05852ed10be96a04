//! The audit log as its page shows it.

use serde::{Deserialize, Serialize};

use super::WorkspaceView;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntryView {
    pub at: String,
    /// "ann@example.com", "token “CI” of ann@example.com", "schedule", "command line".
    pub actor: String,
    pub action: String,
    pub object_kind: String,
    pub object_name: String,
    pub summary: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditData {
    pub workspace: WorkspaceView,
    pub entries: Vec<AuditEntryView>,
    /// The next (older) page's `page`, when there is one.
    pub older: Option<String>,
    /// The kinds of things one may filter by.
    pub kinds: Vec<String>,
}
