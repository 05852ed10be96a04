//! Starts the real application on port 0 against a fresh, uniquely named metadata database,
//! and talks to it over HTTP like a browser would (cookies kept, redirects not followed).
#![allow(dead_code)]

use std::sync::Once;

use reqwest::{Client, Response, StatusCode, redirect};
use secrecy::SecretString;
use server::config::Settings;
use server::startup::Application;
use uuid::Uuid;

pub mod api;
pub mod mail_and_hooks;
pub mod packages;

/// The PostgreSQL server tests create their databases on.
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_SERVER")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

fn init_logs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            server::telemetry::init("pretty");
        }
    });
}

pub struct TestApp {
    pub url: String,
    pub database_url: String,
    pub pool: sqlx::PgPool,
    /// The key connection passwords are sealed with (workers need it too).
    pub secrets: std::sync::Arc<catalog::secrets::SecretBox>,
    pub secret_hex: String,
}

impl TestApp {
    /// The app with sign-up open to anyone (most tests sign up several people).
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// The app with its settings adjusted first (`open_signup` starts `true`).
    pub async fn spawn_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
        init_logs();
        let database_url = format!("{}/lockstep_test_{}", admin_url(), Uuid::new_v4().simple());
        let secret_hex = catalog::secrets::SecretBox::generate_hex();
        let mut settings = Settings {
            database_url: SecretString::from(database_url.clone()),
            addr: "127.0.0.1:0".parse().unwrap(),
            public_url: None,
            site_root: "target/site".into(),
            secure_cookies: None,
            open_signup: true,
            trusted_proxies: Default::default(),
            log_format: "pretty".into(),
            secret_key: server::config::SecretKey::Hex(SecretString::from(secret_hex.clone())),
            workers: server::workers::WorkerConfig::new(1),
            api_requests_per_minute: 600,
        };
        adjust(&mut settings);
        let pool = server::database::prepare(&settings.database_url)
            .await
            .expect("prepare test database");
        let secrets = std::sync::Arc::new(settings.secret_key.load().expect("test key"));
        let app = Application::build(settings, pool.clone(), secrets.clone())
            .await
            .expect("build app");
        let url = app.url();
        tokio::spawn(app.run_until_stopped());
        TestApp {
            url,
            database_url,
            pool,
            secrets,
            secret_hex,
        }
    }

    /// A new browser: its own cookie jar.
    pub fn browser(&self) -> Browser {
        let client = Client::builder()
            .cookie_store(true)
            .timeout(std::time::Duration::from_secs(60))
            .redirect(redirect::Policy::none())
            .build()
            .unwrap();
        Browser {
            client,
            base: self.url.clone(),
        }
    }
}

pub struct Browser {
    pub client: Client,
    pub base: String,
}

impl Browser {
    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    /// Calls a server function the way the hydrated app does (JSON answers, real statuses).
    pub async fn call(&self, endpoint: &str, form: &[(&str, &str)]) -> Response {
        self.client
            .post(format!("{}/api/{endpoint}", self.base))
            .header("Accept", "application/json")
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Calls a server function and returns its JSON answer, asserting success.
    pub async fn call_ok(&self, endpoint: &str, form: &[(&str, &str)]) -> serde_json::Value {
        let response = self.call(endpoint, form).await;
        let status = response.status();
        let body = response.text().await.unwrap();
        assert!(
            status.is_success() || status.is_redirection(),
            "{endpoint} answered {status}: {body}"
        );
        serde_json::from_str(&body).unwrap_or(serde_json::Value::Null)
    }

    pub async fn sign_up(&self, email: &str) {
        self.call_ok("sign_up", &[("email", email), ("password", PASSWORD)])
            .await;
    }

    pub async fn sign_in(&self, email: &str) -> Response {
        self.call("sign_in", &[("email", email), ("password", PASSWORD)])
            .await
    }

    /// The shell: who is signed in and their workspaces (`null` when signed out).
    pub async fn shell(&self) -> serde_json::Value {
        self.call_ok("shell", &[]).await
    }

    pub async fn current_workspace_id(&self) -> String {
        self.shell().await["current"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

pub const PASSWORD: &str = "correct horse battery";

/// `admin` invites `email` into `workspace` with `role`; a new browser signs up with that
/// email and accepts. Returns the new member's browser.
pub async fn join(
    app: &TestApp,
    admin: &Browser,
    workspace: &str,
    email: &str,
    role: &str,
) -> Browser {
    let invite = admin
        .call_ok(
            "invite_member",
            &[
                ("workspace_id", workspace),
                ("email", email),
                ("role", role),
            ],
        )
        .await;
    let token = invite["link"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let member = app.browser();
    member.sign_up(email).await;
    member
        .call_ok("accept_invitation", &[("token", &token)])
        .await;
    member
}

/// A new, empty PostgreSQL database on the test server: its URL and a pool.
pub async fn fresh_database(label: &str) -> (String, sqlx::PgPool) {
    use sqlx::{Connection, Executor};
    let name = format!("lockstep_test_{label}_{}", Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&format!("{}/postgres", admin_url()))
        .await
        .unwrap();
    admin
        .execute(format!("CREATE DATABASE \"{name}\"").as_str())
        .await
        .unwrap();
    let url = format!("{}/{name}", admin_url());
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    (url, pool)
}

/// Status and body of a failed call, for assertions.
pub async fn failure(response: Response) -> (StatusCode, serde_json::Value) {
    let status = response.status();
    let body = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body)),
    )
}
