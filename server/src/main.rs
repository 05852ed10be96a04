//! The `lockstep` binary. Subcommands: `serve` (the default), `migrate`, and `sync` (run a
//! package file once); the job worker joins them with the runs work.
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use server::sync_command;
use server::{config::Settings, database, startup::Application, telemetry};

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
    /// Run the web server (default).
    Serve,
    /// Create the metadata database if needed, apply migrations, and exit.
    Migrate,
    /// Run a package file once and print a JSON summary (exit 0 ok, 1 failed run, 2 invalid).
    Sync(server::sync_command::SyncArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::from_env()?;
    telemetry::init(&settings.log_format);
    tracing::info!(settings = ?settings, "starting");
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let pool = database::prepare(&settings.database_url).await?;
            let app = Application::build(settings, pool).await?;
            tracing::info!(url = %app.url(), "Lockstep is listening");
            app.run_until_stopped().await?;
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
