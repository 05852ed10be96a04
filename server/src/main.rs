//! The `lockstep` binary. Subcommands: `serve` (the default: web app, job workers and
//! scheduler), `worker` (workers and scheduler only), `migrate`, and `sync` (run a package
//! file once).
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use server::sync_command;
use std::sync::Arc;

use server::{config::Settings, database, startup, startup::Application, telemetry, workers};

/// Rendering a page allocates many small, short-lived values (every element of the view is
/// one); mimalloc serves those at about half the cost of glibc's allocator under load
/// (`cargo bench -p server --bench web`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "lockstep",
    version,
    about = "Two-way sync between cloud apps and databases"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server with job workers and the scheduler (default).
    Serve {
        /// Web only: leave runs and schedules to `lockstep worker` processes.
        #[arg(long)]
        no_workers: bool,
    },
    /// Run job workers and the scheduler only (no web server); start as many as you need.
    Worker,
    /// Create the metadata database if needed, apply migrations, and exit.
    Migrate,
    /// Run a package file once and print a JSON summary (exit 0 ok, 1 failed run, 2 invalid).
    Sync(server::sync_command::SyncArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::from_env()?;
    engine::connectors::destination::configure(server::config::connection_ranges()?);
    telemetry::init(&settings.log_format);
    tracing::info!(settings = ?settings, "starting");
    match cli.command.unwrap_or(Command::Serve { no_workers: false }) {
        Command::Serve { no_workers } => {
            let pool = database::prepare(&settings.database_url).await?;
            let secrets = Arc::new(settings.secret_key.load()?);
            let workers = (!no_workers).then(|| {
                tokio::spawn(workers::run(
                    pool.clone(),
                    secrets.clone(),
                    settings.workers.clone(),
                    startup::shutdown_signal(),
                ))
            });
            let app = Application::build(settings, pool, secrets).await?;
            tracing::info!(url = %app.url(), workers = workers.is_some(), "Lockstep is listening");
            app.run_until_stopped().await?;
            if let Some(workers) = workers {
                workers.await??;
            }
        }
        Command::Worker => {
            let pool = database::prepare(&settings.database_url).await?;
            let secrets = Arc::new(settings.secret_key.load()?);
            workers::run(
                pool,
                secrets,
                settings.workers.clone(),
                startup::shutdown_signal(),
            )
            .await?;
        }
        Command::Migrate => {
            database::prepare(&settings.database_url).await?;
            tracing::info!("migrations applied");
        }
        Command::Sync(args) => {
            let code = sync_command::run(&settings, args).await?;
            std::process::exit(code);
        }
    }
    Ok(())
}
