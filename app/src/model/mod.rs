//! What server functions send to the browser. Deliberately separate from the engine's
//! types: only what a page shows crosses the wire, never hashes, tokens or secrets.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use wire::Role;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkspaceView {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    /// Who created it (their email), to tell apart workspaces of one name.
    pub owner: Option<String>,
}

#[cfg(feature = "ssr")]
impl From<catalog::workspaces::WorkspaceSummary> for WorkspaceView {
    fn from(w: catalog::workspaces::WorkspaceSummary) -> Self {
        WorkspaceView {
            id: w.id,
            name: w.name,
            role: w.role,
            owner: w.owner,
        }
    }
}

/// Who is signed in and where: what the top bar needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shell {
    pub user_id: Uuid,
    pub email: String,
    pub workspaces: Vec<WorkspaceView>,
    /// `None` when the person belongs to no workspace (every membership removed).
    pub current: Option<WorkspaceView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberView {
    pub user_id: Uuid,
    pub email: String,
    pub role: Role,
    pub joined: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvitationView {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    pub invited_by: Option<String>,
    pub expires: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MembersData {
    pub workspace: WorkspaceView,
    pub me: Uuid,
    pub members: Vec<MemberView>,
    /// Empty for non-Admins: only Admins see pending invitations.
    pub invitations: Vec<InvitationView>,
}

/// Shown once to the Admin who invited: the link to hand over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvitationCreated {
    pub email: String,
    pub role: Role,
    pub link: String,
    pub expires: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InvitationState {
    Pending,
    Expired,
    Revoked,
    Accepted,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvitationPreview {
    pub workspace_name: String,
    pub email: String,
    pub role: Role,
    pub invited_by: Option<String>,
    pub expires: String,
    pub state: InvitationState,
    /// The email of whoever opened the link, when signed in.
    pub signed_in_as: Option<String>,
}

/// The sign-up form's hint; the server enforces the engine's rule (a test keeps them equal).
pub const MIN_PASSWORD_LEN: usize = 10;

#[cfg(all(test, feature = "ssr"))]
mod tests {
    #[test]
    fn the_form_hint_matches_the_enforced_password_rule() {
        assert_eq!(super::MIN_PASSWORD_LEN, catalog::MIN_PASSWORD_LEN);
    }

    #[test]
    fn the_closed_sign_up_page_says_what_the_server_answers() {
        assert_eq!(
            crate::pages::auth::SIGN_UP_CLOSED,
            catalog::users::SIGN_UP_CLOSED
        );
    }
}

/// A connection as the pages show it: never its password, only whether one is set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionView {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub host: String,
    pub port: u16,
    pub database: String,
    pub username: String,
    pub ssl_mode: String,
    pub has_password: bool,
    pub created_by: Option<String>,
    pub created: String,
    /// Names of the packages using it.
    pub used_by: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionsData {
    pub workspace: WorkspaceView,
    pub connections: Vec<ConnectionView>,
}

/// The connection editor: the workspace, and the connection when editing one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionEditData {
    pub workspace: WorkspaceView,
    pub connection: Option<ConnectionView>,
}

/// The answer of "Test connection".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionTest {
    pub ok: bool,
    /// "Connected", "Authentication failed", "Host not found", …
    pub title: String,
    pub message: String,
}

/// A connector of the catalogue and whether it can be used yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connector {
    pub kind: &'static str,
    pub label: &'static str,
    pub group: &'static str,
    /// `None`: available. Otherwise why it cannot be chosen.
    pub unavailable: Option<&'static str>,
}

pub const CONNECTORS: [Connector; 10] = [
    Connector {
        kind: "postgres",
        label: "PostgreSQL",
        group: "Databases",
        unavailable: None,
    },
    Connector {
        kind: "mysql",
        label: "MySQL / MariaDB",
        group: "Databases",
        unavailable: None,
    },
    Connector {
        kind: "salesforce",
        label: "Salesforce",
        group: "Cloud apps",
        unavailable: None,
    },
    Connector {
        kind: "hubspot",
        label: "HubSpot",
        group: "Cloud apps",
        unavailable: None,
    },
    Connector {
        kind: "dynamics",
        label: "Dynamics 365",
        group: "Cloud apps",
        unavailable: None,
    },
    Connector {
        kind: "podio",
        label: "Podio",
        group: "Cloud apps",
        unavailable: Some(
            "Cannot be synchronized: Podio items have no modified timestamp Lockstep could find changes by.",
        ),
    },
    Connector {
        kind: "sendpulse",
        label: "SendPulse",
        group: "Cloud apps",
        unavailable: Some(
            "Cannot be synchronized: SendPulse objects have no created and modified timestamps to find changes by.",
        ),
    },
    Connector {
        kind: "redshift",
        label: "Amazon Redshift",
        group: "Data warehouses",
        unavailable: Some(
            "Not supported for synchronization: a warehouse has no row-level triggers to track changes, and no generated primary keys to map records by.",
        ),
    },
    Connector {
        kind: "bigquery",
        label: "Google BigQuery",
        group: "Data warehouses",
        unavailable: Some(
            "Not supported for synchronization: a warehouse has no row-level triggers to track changes, and no generated primary keys to map records by.",
        ),
    },
    Connector {
        kind: "synapse",
        label: "Azure Synapse",
        group: "Data warehouses",
        unavailable: Some(
            "Not supported for synchronization: a warehouse has no row-level triggers to track changes, and no generated primary keys to map records by.",
        ),
    },
];

pub fn connector_label(kind: &str) -> &'static str {
    CONNECTORS
        .iter()
        .find(|c| c.kind == kind)
        .map_or("Unknown", |c| c.label)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackageView {
    pub id: Uuid,
    pub name: String,
    /// "CRM production (PostgreSQL)" or just "PostgreSQL".
    pub source: String,
    pub target: String,
    pub tasks: i64,
    /// "succeeded", "failed", … and when; `None` before the first run.
    pub last_run_state: Option<wire::RunState>,
    pub last_run_at: Option<String>,
    pub last_run_by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackagesData {
    pub workspace: WorkspaceView,
    pub packages: Vec<PackageView>,
    /// How many packages the workspace has.
    pub total: i64,
    /// Where the next page starts (`?after=`), when more follow.
    pub next: Option<Uuid>,
    pub first_page: bool,
}

/// Connectors whose connection user can be dedicated to Lockstep: the vendor says who made
/// each change (HubSpot does not; SugarCRM and Zoho CRM are not built yet).
pub fn has_dedicated_account(kind: &str) -> bool {
    matches!(kind, "salesforce" | "dynamics")
}

/// Locales offered in the package editor (any glibc locale name also works in the file).
pub const LOCALES: [(&str, &str); 10] = [
    ("invariant", "Invariant (ISO dates, “.” decimals)"),
    ("en_US", "English (United States)"),
    ("en_GB", "English (United Kingdom)"),
    ("de_DE", "German (Germany)"),
    ("fr_FR", "French (France)"),
    ("es_ES", "Spanish (Spain)"),
    ("it_IT", "Italian (Italy)"),
    ("nl_NL", "Dutch (Netherlands)"),
    ("pt_BR", "Portuguese (Brazil)"),
    ("ja_JP", "Japanese (Japan)"),
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionOption {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskView {
    pub id: Uuid,
    pub source_table: String,
    pub target_table: String,
    pub source_to_target: usize,
    pub target_to_source: usize,
    /// LastSyncTime.
    pub last_sync: Option<String>,
    /// InitTrackingObjects done.
    pub tracking_installed: bool,
    /// The next run compares everything (first run, after a reset or a resync).
    pub full_pass_due: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackageDetailView {
    pub id: Uuid,
    pub name: String,
    pub locale: String,
    /// "Dedicated account for synchronization" (a Salesforce side).
    pub dedicated_account: bool,
    pub source_connection: Option<Uuid>,
    pub target_connection: Option<Uuid>,
    /// "CRM production (PostgreSQL)"; "set in its file" for a package of the `sync` command.
    pub source_label: String,
    pub target_label: String,
    pub tasks: Vec<TaskView>,
    pub has_run: bool,
}

/// The package page: the workspace's connections to choose from, and the package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackageEditData {
    pub workspace: WorkspaceView,
    pub connections: Vec<ConnectionOption>,
    pub package: Option<PackageDetailView>,
}

/// One written column of a mapping grid.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MappingRow {
    pub column: String,
    pub db_type: String,
    /// NOT NULL without a default: must be mapped.
    pub required: bool,
    /// "" (not written), "column", "constant", "expression", "relation" or "lookup" (its
    /// value: the package file's lookup object as JSON).
    pub kind: String,
    pub value: String,
    /// The table this column's foreign key references, if it has one: a column copy between
    /// two foreign keys whose tables the package syncs is a relation.
    pub references: Option<String>,
}

/// The task editor: tables to choose from and, once both are chosen, the grids.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskEditData {
    pub workspace_id: Uuid,
    /// Developers and Admins; a Viewer reads the task.
    pub can_edit: bool,
    pub package_id: Uuid,
    pub package_name: String,
    pub task_id: Option<Uuid>,
    pub source_name: String,
    pub target_name: String,
    pub source_tables: Vec<String>,
    pub target_tables: Vec<String>,
    pub source_table: String,
    pub target_table: String,
    /// Why these tables cannot be synced (the engine's requirement message), if so.
    pub problem: Option<String>,
    /// The columns of each table, to pick from: (name, database type).
    pub source_columns: Vec<(String, String)>,
    pub target_columns: Vec<(String, String)>,
    /// The expression functions: (signature, what it does).
    pub functions: Vec<(String, String)>,
    pub source_to_target: Vec<MappingRow>,
    pub target_to_source: Vec<MappingRow>,
    /// First-run match keys as the editor shows them: (source, target), each a column name
    /// or an expression.
    pub match_keys: Vec<(String, String)>,
    /// Compare the keys' text trimmed and case-insensitively.
    pub match_fold: bool,
}

/// "Preview matching": what first-run matching would do now, nothing written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchPreview {
    /// Records that would be paired (one on each side with equal keys).
    pub paired: u64,
    /// Unpaired records whose key the other side lacks: copied.
    pub new_on_source: u64,
    pub new_on_target: u64,
    /// A few of the pairs: (source key, target key).
    pub pair_examples: Vec<(String, String)>,
    /// Keys held by more than one record on a side: how many, and a few described.
    pub ambiguous: u64,
    pub ambiguous_examples: Vec<String>,
}

/// One read row run through a mapping: what would be written, or why it cannot be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreviewRow {
    pub key: String,
    pub values: Vec<(String, String)>,
    pub error: Option<String>,
}

/// "Preview": both mappings applied to the first rows of their tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskPreview {
    /// Validate: the mappings were checked, no rows read.
    pub only_checked: bool,
    pub source_to_target: Vec<PreviewRow>,
    pub target_to_source: Vec<PreviewRow>,
    /// "Preview matching": what first-run matching would do.
    pub matching: Option<MatchPreview>,
}

mod runs;
pub use runs::*;
mod api_tokens;
pub use api_tokens::*;
mod audit;
pub use audit::*;
mod notifications;
pub use notifications::*;
