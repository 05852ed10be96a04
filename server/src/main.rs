//! The `lockstep` binary. Subcommands: `serve` (the default) and `migrate`; the job worker and
//! the headless `sync` command join them with the runs and engine issues.
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
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
    }
    Ok(())
}
