//! Pieces shared by several pages.

pub mod empty_state;
pub mod feedback;
pub mod layout;
pub mod package_delete;
pub mod run_bits;
pub mod top_bar;
