//! `lockstep sync --file package.json`: runs a package once and prints one JSON summary on
//! stdout. Exit codes: 0 succeeded, 1 the run failed (every record failed counts), 2 the file
//! or package is invalid (message on stderr naming the problem; nothing was written), 3 the
//! run succeeded with errors (some records could not be written; the summary lists them and
//! the next run retries them).

use std::path::PathBuf;

use catalog::parameters::Reset;
use catalog::runner::{ResetRequest, RunRequest, RunnerError, run_package};
use catalog::workspaces;
use engine::package::Package;
use engine::sync::{CancelToken, SyncOptions};
use wire::RunState;

use crate::config::Settings;
use crate::database;

#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    /// The package file (the same JSON the app imports and exports).
    #[arg(long)]
    pub file: PathBuf,
    /// The workspace to keep the package in; needed when there are several.
    #[arg(long)]
    pub workspace: Option<String>,
    /// Accept that the source or target now points to another database: its ID map is
    /// cleared and the next run copies everything between the two.
    #[arg(long)]
    pub allow_connection_change: bool,
    /// Reset a package parameter before running: `last-sync-time` (the next run compares
    /// everything: mapped pairs are re-synced, the source wins, and rows without a copy are
    /// copied) or `tracking` (re-creates the change-tracking triggers, then the same full
    /// pass). Neither deletes nor duplicates anything.
    #[arg(long, value_name = "PARAMETER", value_parser = parse_reset)]
    pub reset: Option<Reset>,
    /// Re-apply the mapping of the task reading this source table (as written in the file)
    /// to every record it has synced. May be repeated.
    #[arg(long, value_name = "SOURCE_TABLE", conflicts_with = "reset")]
    pub resync_task: Vec<String>,
    /// Records per write batch.
    #[arg(long, default_value_t = 1000)]
    pub batch_size: usize,
}

fn parse_reset(text: &str) -> Result<Reset, String> {
    Reset::parse(text)
        .ok_or_else(|| format!("unknown parameter “{text}”: use last-sync-time or tracking"))
}

pub const EXIT_FAILED: i32 = 1;
pub const EXIT_INVALID: i32 = 2;
pub const EXIT_WITH_ERRORS: i32 = 3;

fn invalid(message: impl std::fmt::Display) -> i32 {
    eprintln!("error: {message}");
    EXIT_INVALID
}

pub async fn run(settings: &Settings, args: SyncArgs) -> anyhow::Result<i32> {
    let text = match std::fs::read_to_string(&args.file) {
        Ok(text) => text,
        Err(e) => return Ok(invalid(format!("cannot read {}: {e}", args.file.display()))),
    };
    let package = match Package::from_json(&text) {
        Ok(package) => package,
        Err(e) => return Ok(invalid(format!("{}: {e}", args.file.display()))),
    };
    let pool = database::prepare(&settings.database_url).await?;
    let workspace = match workspaces::resolve_for_command(&pool, args.workspace.as_deref()).await {
        Ok(w) => w,
        Err(e) => return Ok(invalid(e)),
    };
    let cancel = CancelToken::default();
    let on_ctrl_c = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("canceling at the next batch boundary…");
            on_ctrl_c.cancel();
        }
    });
    let options = SyncOptions {
        batch_size: args.batch_size.max(1),
        ..Default::default()
    };
    let reset = match (args.reset, args.resync_task.is_empty()) {
        (Some(what), _) => Some(ResetRequest {
            what,
            tasks: Vec::new(),
        }),
        (None, false) => Some(ResetRequest {
            what: Reset::LastSyncTime,
            tasks: args.resync_task.clone(),
        }),
        (None, true) => None,
    };
    match run_package(
        &pool,
        workspace.id,
        &package,
        RunRequest {
            allow_connection_change: args.allow_connection_change,
            reset: reset.as_ref(),
            started_by: "cli",
        },
        &options,
        &cancel,
    )
    .await
    {
        Ok(report) => {
            println!("{}", serde_json::to_string(&report)?);
            Ok(match report.state {
                RunState::Succeeded => 0,
                RunState::SucceededWithErrors => EXIT_WITH_ERRORS,
                _ => EXIT_FAILED,
            })
        }
        Err(RunnerError::Invalid(message)) => Ok(invalid(message)),
        Err(RunnerError::Catalog(e)) => Err(e.into()),
    }
}
