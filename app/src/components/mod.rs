//! Pieces shared by several pages.

pub mod empty_state;
pub mod feedback;
pub mod layout;
pub mod top_bar;
