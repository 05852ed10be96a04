//! Lockstep's sync core, free of any UI code and of our metadata database: the package model
//! (`package`), values and conversions (`value`), mappings and expressions (`mapping`), the
//! connectors (databases and cloud APIs behind one trait, `connectors`), the algorithm
//! (`sync`) and schedule computation (`schedule`). What the core must remember between runs
//! it asks for through interfaces (`sync::StateStore`, `connectors::cloud::CloudTracking`);
//! the `catalog` crate implements them in our metadata database, and the in-memory ones
//! (`sync::MemoryState`, `connectors::memory`) serve the algorithm's tests.
#![forbid(unsafe_code)]

pub mod connectors;
pub mod mapping;
pub mod package;
pub mod schedule;
pub mod sync;
pub mod value;
