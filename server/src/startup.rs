//! Builds the whole application (routes, sessions, state) and serves it. Tests build the
//! same `Application` on port 0.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use app::api::auth::SignUpPolicy;
use app::state::AppState;
use app::{App, shell};
use axum::Router;
use axum::routing::get;
use leptos::config::LeptosOptions;
use leptos::nonce::Nonce;
use leptos::prelude::{provide_context, use_context};
use leptos_axum::{LeptosRoutes, generate_route_list};
use sqlx::PgPool;
use tower_http::trace::TraceLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::cookie::time::Duration as CookieDuration;
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::PostgresStore;

use crate::config::Settings;
use crate::security_headers::{self, BrowserPolicy};
use crate::{
    audit_csv, auth_gate, client_address, health, package_export, run_errors_csv, static_assets,
};

/// Signed-in sessions end after this long without a request.
const SESSION_IDLE_DAYS: i64 = 14;

pub struct Application {
    listener: tokio::net::TcpListener,
    router: Router,
    addr: SocketAddr,
}

impl Application {
    pub async fn build(
        settings: Settings,
        pool: PgPool,
        secrets: std::sync::Arc<catalog::secrets::SecretBox>,
    ) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(settings.addr).await?;
        let addr = listener.local_addr()?;
        let public_url = settings.public_url_or(addr);
        let browser_policy = Arc::new(BrowserPolicy::new(&public_url));
        let trusted_proxies = Arc::new(settings.trusted_proxies.clone());
        let sign_up = SignUpPolicy {
            open_to_all: settings.open_signup,
        };
        let hashed_name = static_assets::hashed_asset_name(&settings.site_root);
        let hashed_assets: Option<Arc<str>> = hashed_name
            .as_deref()
            .map(|name| Arc::from(format!("/pkg/{name}")));
        let leptos_options = LeptosOptions::builder()
            .output_name(
                hashed_name
                    .as_deref()
                    .unwrap_or(static_assets::PLAIN_ASSET_NAME),
            )
            .site_root(settings.site_root.as_str())
            .site_pkg_dir("pkg")
            .site_addr(addr)
            .build();
        let state = AppState {
            leptos_options: leptos_options.clone(),
            pool: pool.clone(),
            public_url,
            secrets,
        };

        let api = crate::api::service(crate::api::ApiState {
            app: state.clone(),
            limiter: Arc::new(crate::api::RateLimiter::new(
                settings.api_requests_per_minute,
            )),
        });

        let store = PostgresStore::new(pool);
        spawn_session_cleanup(store.clone());
        let sessions = SessionManagerLayer::new(store)
            .with_name("lockstep_session")
            .with_http_only(true)
            .with_same_site(SameSite::Lax)
            .with_secure(settings.cookies_secure())
            .with_expiry(Expiry::OnInactivity(CookieDuration::days(
                SESSION_IDLE_DAYS,
            )));

        let routes = generate_route_list(App);
        let router = Router::new()
            .route("/healthz", get(health::healthz))
            .route("/readyz", get(health::readyz))
            .route("/favicon.ico", get(static_assets::favicon))
            .route("/favicon.svg", get(static_assets::favicon))
            .nest_service("/pkg", static_assets::pkg(&settings.site_root))
            .nest_service("/api/v1", api)
            .route("/runs/{id}/errors.csv", get(run_errors_csv::download))
            .route("/audit.csv", get(audit_csv::download))
            .route("/packages/{id}/export.json", get(package_export::download))
            .leptos_routes_with_context(&state, routes, leptos_context(sign_up), {
                let options = leptos_options.clone();
                move || shell(options.clone())
            })
            .fallback(leptos_axum::file_and_error_handler_with_context::<
                AppState,
                _,
            >(leptos_context(sign_up), shell))
            .layer(axum::middleware::from_fn(auth_gate::require_sign_in))
            .layer(sessions)
            .layer(axum::middleware::from_fn_with_state(
                trusted_proxies,
                client_address::resolve,
            ))
            .layer(axum::middleware::from_fn_with_state(
                browser_policy.clone(),
                security_headers::refuse_cross_site_writes,
            ))
            .layer(axum::middleware::from_fn_with_state(
                browser_policy,
                security_headers::set_headers,
            ))
            .layer(axum::middleware::from_fn_with_state(
                hashed_assets,
                static_assets::asset_caching,
            ))
            // Pages and server function answers, gzipped when the browser accepts it (assets
            // are precompressed with brotli at build time, `static_assets`). Not brotli on the
            // fly: its encoder zeroes megabytes of tables per answer and its default quality
            // (11) costs more CPU than rendering the page (`cargo bench -p server --bench
            // web`). Gzip level 4 keeps most of the size win for little CPU.
            .layer(
                tower_http::compression::CompressionLayer::new()
                    .no_br()
                    .quality(tower_http::CompressionLevel::Precise(4)),
            )
            .layer(TraceLayer::new_for_http())
            .with_state(state);
        Ok(Application {
            listener,
            router,
            addr,
        })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Serves until Ctrl-C or SIGTERM, finishing requests in flight.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await
    }
}

/// What every page render and server function finds in its context besides the state: who
/// may sign up, this response's CSP nonce (made by `security_headers`, so the scripts
/// Leptos writes carry the nonce the header allows), and for a GET request a place to keep
/// who is asking once it is looked up (`app::api::asker`).
fn leptos_context(sign_up: SignUpPolicy) -> impl Fn() + Clone + Send + Sync + 'static {
    move || {
        provide_context(sign_up);
        let parts = use_context::<http::request::Parts>();
        let nonce = parts
            .as_ref()
            .and_then(|parts| parts.extensions.get::<Nonce>().cloned());
        if let Some(nonce) = nonce {
            provide_context(nonce);
        }
        if parts.is_some_and(|parts| parts.method == http::Method::GET) {
            provide_context(app::api::asker::Asker::default());
        }
    }
}

fn spawn_session_cleanup(store: PostgresStore) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(3600));
        loop {
            every.tick().await;
            if let Err(e) = store.delete_expired().await {
                tracing::warn!(error = %e, "deleting expired sessions failed");
            }
        }
    });
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
    tracing::info!("shutting down");
}
