//! Server functions, one module per area. Each starts by resolving the signed-in person and
//! checking their role in the workspace it acts on; nothing trusts an id from the browser.

pub mod api_tokens;
#[cfg(feature = "ssr")]
pub mod asker;
pub mod audit;
pub mod auth;
pub mod connections;
pub mod members;
pub mod notifications;
pub mod package_editor;
pub mod package_transfer;
pub mod packages;
pub mod runs;
#[cfg(feature = "ssr")]
mod schedule_form;
pub mod schedules;
pub mod workspaces;

#[cfg(feature = "ssr")]
pub mod ssr;
