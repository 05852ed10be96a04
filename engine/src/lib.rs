//! Lockstep's server-side core, free of any UI code.
//!
//! `catalog` owns our own metadata database (accounts, workspaces, and later connections,
//! packages and runs). The sync engine (connectors, the sync algorithm, mappings) lands
//! beside it.
#![forbid(unsafe_code)]

pub mod catalog;
pub mod connectors;
pub mod mapping;
pub mod package;
pub mod runner;
pub mod sync;
pub mod value;
