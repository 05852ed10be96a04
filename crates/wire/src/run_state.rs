//! Where a run stands: queued → running → succeeded | succeeded with errors | failed, or
//! canceling → canceled; a scheduled occurrence that found its package busy is skipped.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Stored as snake_case text (`runs.state`, checked by the database), sent the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "sqlx", derive(sqlx::Type))]
#[cfg_attr(feature = "sqlx", sqlx(type_name = "text", rename_all = "snake_case"))]
#[serde(rename_all = "snake_case")]
pub enum RunState {
    Queued,
    Running,
    /// Cancel asked while running: stops at the next batch boundary.
    Canceling,
    Succeeded,
    /// Every task ran; some records could not be written (the next run retries them).
    SucceededWithErrors,
    Failed,
    Canceled,
    /// A scheduled occurrence that found a run of its package still active.
    Skipped,
}

impl RunState {
    pub const ALL: [RunState; 8] = [
        RunState::Queued,
        RunState::Running,
        RunState::Canceling,
        RunState::Succeeded,
        RunState::SucceededWithErrors,
        RunState::Failed,
        RunState::Canceled,
        RunState::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Queued => "queued",
            RunState::Running => "running",
            RunState::Canceling => "canceling",
            RunState::Succeeded => "succeeded",
            RunState::SucceededWithErrors => "succeeded_with_errors",
            RunState::Failed => "failed",
            RunState::Canceled => "canceled",
            RunState::Skipped => "skipped",
        }
    }

    /// As people read it: "succeeded with errors".
    pub fn label(self) -> &'static str {
        match self {
            RunState::SucceededWithErrors => "succeeded with errors",
            other => other.as_str(),
        }
    }

    /// Queued, running or canceling: the package's one active run.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            RunState::Queued | RunState::Running | RunState::Canceling
        )
    }
}

impl fmt::Display for RunState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for RunState {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RunState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| format!("“{s}” is not a run state"))
    }
}

#[cfg(test)]
mod tests {
    use super::RunState;

    #[test]
    fn states_read_back_what_they_write() {
        for state in RunState::ALL {
            assert_eq!(state.as_str().parse::<RunState>(), Ok(state));
            let json = serde_json::to_string(&state).unwrap();
            assert_eq!(json, format!("\"{}\"", state.as_str()));
            assert_eq!(serde_json::from_str::<RunState>(&json).unwrap(), state);
        }
        assert!("done".parse::<RunState>().is_err());
    }
}
