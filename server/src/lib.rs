//! The server's pieces, as a library so integration tests can start the real application.
#![forbid(unsafe_code)]

pub mod api;
pub mod audit_csv;
pub mod auth_gate;
pub mod client_address;
pub mod config;
pub mod database;
pub mod health;
pub mod notifications;
pub mod package_export;
pub mod run_errors_csv;
pub mod security_headers;
pub mod signed_in;
pub mod startup;
pub mod static_assets;
pub mod sync_command;
pub mod telemetry;
pub mod workers;
