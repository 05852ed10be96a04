//! One module per page or group of pages.

pub mod api_tokens;
pub mod audit;
pub mod auth;
pub mod connection_editor;
pub mod connections;
pub mod invite;
pub mod members;
pub mod not_found;
pub mod notifications;
pub mod package_import;
pub mod package_page;
pub mod package_runs;
pub mod package_schedule;
pub mod packages;
pub mod run_details;
pub mod runs;
pub mod settings;
pub mod task_editor;
