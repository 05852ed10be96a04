//! Runs as the pages show them: lists, the package's current run, one run's details.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::WorkspaceView;

pub use wire::{Counts, RunState};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskCountsView {
    pub task: String,
    pub source_to_target: Counts,
    pub target_to_source: Counts,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunView {
    pub id: Uuid,
    pub package_id: Uuid,
    pub package_name: String,
    pub state: RunState,
    /// The person's email, "schedule" or "command line".
    pub started_by: String,
    pub queued_at: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// "2 min 5 s"; so far while running.
    pub duration: Option<String>,
    /// Seconds since it started (so far while running).
    pub elapsed_secs: Option<u64>,
    /// Records the run expects to read, all tasks and directions (an estimate), once known.
    pub expected: Option<u64>,
    pub totals: Counts,
    pub error: Option<String>,
    pub tasks: Vec<TaskCountsView>,
}

impl RunView {
    pub fn is_active(&self) -> bool {
        self.state.is_active()
    }
}

/// The package page's runs panel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageRunsData {
    pub workspace_id: Uuid,
    pub can_run: bool,
    /// Queued, running or canceling.
    pub active: Option<RunView>,
    /// The last finished runs, newest first.
    pub recent: Vec<RunView>,
    /// Records written and failed over the last runs, oldest first (for the chart).
    pub history: Vec<(u64, u64)>,
}

/// The Runs page (and a package's Log).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunsData {
    pub workspace: WorkspaceView,
    pub runs: Vec<RunView>,
    /// How many runs match, counted up to a limit (`total_exact` false: more than that).
    pub total: i64,
    pub total_exact: bool,
    /// The `page` parameter of the newer / older page, when there is one.
    pub newer: Option<String>,
    pub older: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunErrorView {
    pub task: String,
    pub direction: String,
    pub side: String,
    pub record_key: String,
    pub operation: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunDetailView {
    pub workspace: WorkspaceView,
    pub run: RunView,
    pub worker: Option<String>,
    pub attempts: i32,
    pub retried_after: Vec<String>,
    pub scheduled_for: Option<String>,
    pub error_count: i64,
    /// The first failed records; the CSV has all.
    pub errors: Vec<RunErrorView>,
    /// API calls made to cloud sides: (source, target).
    pub api_calls: Option<(u64, u64)>,
}

/// The schedule editor's fields, as typed (strings, so a refused form comes back intact).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ScheduleFields {
    /// "recurring" or "one_time".
    pub kind: String,
    /// One-time: local date and time.
    pub at_date: String,
    pub at_time: String,
    /// Recurring: "day", "week" or "month".
    pub every: String,
    /// Every N days.
    pub interval: String,
    /// Week days chosen: "Mon" … "Sun".
    pub days: Vec<String>,
    /// Month: "day" (a day number) or "nth" (the Nth weekday).
    pub month_mode: String,
    pub month_day: String,
    /// first, second, third, fourth, last.
    pub nth: String,
    pub nth_weekday: String,
    /// "once" (at a time) or "every" (every N minutes/hours).
    pub time_mode: String,
    pub once_at: String,
    pub every_n: String,
    /// "minutes" or "hours".
    pub every_unit: String,
    /// Optional window of the day for "every".
    pub window_from: String,
    pub window_to: String,
    pub start_date: String,
    pub start_time: String,
    pub time_zone: String,
    pub enabled: bool,
}

/// The schedule panel of a package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleData {
    pub workspace_id: Uuid,
    pub can_edit: bool,
    /// A schedule is saved.
    pub saved: bool,
    pub fields: ScheduleFields,
    /// "Every day at 02:30 (Europe/Berlin)", when saved.
    pub summary: Option<String>,
    /// The next occurrences, in the schedule's time zone.
    pub next: Vec<String>,
    /// Every IANA time zone name, for the editor's searchable list (editors only, and only
    /// when the schedule is loaded).
    #[serde(default)]
    pub time_zones: Vec<String>,
}

/// Days of the week as the editor names them.
pub const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
