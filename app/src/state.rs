//! What every request handler and server function can reach on the server.

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use sqlx::PgPool;

#[derive(Clone, Debug)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    /// Our metadata database.
    pub pool: PgPool,
    /// The address people reach this server at, for links we hand out (invitations).
    pub public_url: String,
    /// Seals and opens connection passwords.
    pub secrets: std::sync::Arc<catalog::secrets::SecretBox>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl FromRef<AppState> for PgPool {
    fn from_ref(state: &AppState) -> Self {
        state.pool.clone()
    }
}
