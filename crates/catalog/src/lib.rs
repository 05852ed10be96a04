//! Our metadata database: every table Lockstep itself stores, the rules that guard it, and
//! the storage the sync core's interfaces need (the ID map and task state, `sync_state`; the
//! cloud connectors' tracking, `cloud_tracking`). `runner` runs one package with them;
//! `secrets` seals what must not be stored in clear. The sync core (`engine`) knows nothing
//! of this database.
//!
//! Functions that act for a person take their identity and the workspace explicitly and check
//! membership and role in the same query or transaction that reads or writes, so a caller
//! cannot forget the check. Headless ones (packages, runs, the sync state) take a workspace
//! resolved by the command or job that calls them.

#![forbid(unsafe_code)]

pub mod api_tokens;
pub mod audit;
pub mod cloud_tracking;
pub mod connections;
mod email;
mod error;
mod id_map_ranges;
pub mod invitations;
pub mod members;
pub mod notifications;
pub mod package_editor;
pub mod package_removal;
pub mod packages;
pub mod parameters;
mod password;
pub mod runner;
pub mod runs;
pub mod schedules;
pub mod secrets;
pub mod sign_in_limits;
pub mod sync_state;
pub mod table_statistics;
pub mod users;
pub mod workspaces;

pub use email::normalize_email;
pub use error::CatalogError;
pub use password::{MIN_PASSWORD_LEN, hash_password, verify_password};
pub use wire::Role;

/// Every migration of our metadata database, from the top-level `migrations/` folder.
///
/// apalis keeps its own migrations in the same `_sqlx_migrations` table, so ours must
/// tolerate rows it did not write (`ignore_missing`).
pub fn migrator() -> sqlx::migrate::Migrator {
    let mut migrator = sqlx::migrate!("../../migrations");
    migrator.set_ignore_missing(true);
    migrator
}

/// Applies our migrations.
pub async fn migrate(pool: &sqlx::PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    migrator().run(pool).await
}
