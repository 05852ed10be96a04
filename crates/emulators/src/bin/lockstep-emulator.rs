//! Runs a CRM emulator by hand, to try a CRM ↔ database package without a vendor account:
//!
//! `cargo run -p server --bin lockstep-emulator -- salesforce --addr 127.0.0.1:8081 --seed 25`
//!
//! prints the connection settings to paste into Lockstep (or into a `lockstep sync` file).
//! The emulators keep their data in memory; stopping one forgets everything.

use std::net::SocketAddr;

use clap::{Parser, ValueEnum};
use emulators::dynamics::Dynamics;
use emulators::hubspot::HubSpot;
use emulators::salesforce::Salesforce;
use serde_json::{Map, json};

#[derive(Clone, Copy, ValueEnum)]
enum Vendor {
    Salesforce,
    Hubspot,
    Dynamics,
}

#[derive(Parser)]
#[command(
    about = "Runs a Salesforce, HubSpot or Dynamics 365 API emulator for trying Lockstep locally"
)]
struct Args {
    vendor: Vendor,
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:8081")]
    addr: SocketAddr,
    /// Sample records to create first.
    #[arg(long, default_value_t = 10)]
    seed: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let running;
    match args.vendor {
        Vendor::Salesforce => {
            let org = Salesforce::new();
            for i in 1..=args.seed {
                let mut fields = Map::new();
                fields.insert("Name".into(), json!(format!("Sample account {i}")));
                fields.insert("NumberOfEmployees".into(), json!(i * 10));
                org.user_insert("Account", fields);
            }
            running = org.start_on(args.addr).await?;
            let spec = json!({
                "kind": "salesforce",
                "login_url": running.base_url(),
                "client_id": Salesforce::CLIENT_ID,
                "client_secret": Salesforce::CLIENT_SECRET,
            });
            println!(
                "Salesforce emulator on {} (objects Account, Contact)",
                running.base_url()
            );
            println!(
                "connection for a package file:\n{}",
                serde_json::to_string_pretty(&spec)?
            );
        }
        Vendor::Dynamics => {
            let org = Dynamics::new();
            for i in 1..=args.seed {
                let mut fields = Map::new();
                fields.insert("name".into(), json!(format!("Sample account {i}")));
                fields.insert("numberofemployees".into(), json!(i * 10));
                org.user_insert("account", fields);
            }
            running = org.start_on(args.addr).await?;
            let spec = json!({
                "kind": "dynamics",
                "url": running.base_url(),
                "tenant_id": Dynamics::TENANT,
                "client_id": Dynamics::CLIENT_ID,
                "client_secret": Dynamics::CLIENT_SECRET,
                "authority": running.base_url(),
            });
            println!(
                "Dynamics 365 emulator on {} (entities account, contact)",
                running.base_url()
            );
            println!(
                "connection for a package file:\n{}",
                serde_json::to_string_pretty(&spec)?
            );
        }
        Vendor::Hubspot => {
            let portal = HubSpot::new();
            for i in 1..=args.seed {
                let mut properties = Map::new();
                properties.insert("name".into(), json!(format!("Sample company {i}")));
                properties.insert("numberofemployees".into(), json!((i * 10).to_string()));
                portal.user_insert("companies", properties);
            }
            running = portal.start_on(args.addr).await?;
            let spec = json!({
                "kind": "hubspot",
                "base_url": running.base_url(),
                "token": HubSpot::TOKEN,
            });
            println!(
                "HubSpot emulator on {} (objects contacts, companies)",
                running.base_url()
            );
            println!(
                "connection for a package file:\n{}",
                serde_json::to_string_pretty(&spec)?
            );
        }
    }
    tokio::signal::ctrl_c().await?;
    drop(running);
    Ok(())
}
