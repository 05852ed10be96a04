//! Lockstep's server-side core, free of any UI code.
//!
//! `catalog` owns our own metadata database (accounts, workspaces, connections, packages,
//! runs, the sync state); `secrets` encrypts what it must not store in clear. The sync engine
//! is `connectors` (databases behind one trait), `mapping`, `sync` (the algorithm) and
//! `runner` (one package run).
#![forbid(unsafe_code)]

pub mod catalog;
pub mod connectors;
pub mod mapping;
pub mod package;
pub mod runner;
pub mod schedule;
pub mod secrets;
pub mod sync;
pub mod value;
