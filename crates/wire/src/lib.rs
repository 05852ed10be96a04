//! Types the app's pages (compiled to WASM) and the server share, defined once: who may do
//! what in a workspace ([`Role`]), where a run stands ([`RunState`]), and what a run did to
//! the records of one task direction ([`Counts`]). Nothing here does I/O; the `sqlx` feature
//! (server only) lets run states be read and written as text columns.

mod counts;
mod role;
mod run_state;

pub use counts::Counts;
pub use role::Role;
pub use run_state::RunState;
