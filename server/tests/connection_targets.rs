//! Where connections may point (issue 11, items 2 and 3): never the installation's own
//! metadata database, never a link-local or cloud metadata address; a stored password or
//! secret is never sent to a destination it was not typed for; cloud clients follow no
//! redirect and show no raw error body; secret-bearing types print redacted.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use emulators::salesforce::Salesforce;
use reqwest::StatusCode;
use serde_json::Value;
use support::{Browser, TestApp, failure};

/// A form post of `save_connection`.
async fn post(browser: &Browser, fields: &[(&str, String)]) -> reqwest::Response {
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    browser.call("save_connection", &pairs).await
}

fn set(fields: &mut Vec<(&'static str, String)>, name: &'static str, value: &str) {
    fields.retain(|(k, _)| *k != name);
    fields.push((name, value.to_owned()));
}

fn pg_server() -> (String, u16) {
    let url = url::Url::parse(&support::admin_url()).unwrap();
    (
        url.host_str().unwrap().to_owned(),
        url.port().unwrap_or(5432),
    )
}

fn mysql_server() -> (String, u16) {
    let server = std::env::var("TEST_MYSQL_SERVER")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".to_owned());
    let url = url::Url::parse(&server).unwrap();
    (
        url.host_str().unwrap().to_owned(),
        url.port().unwrap_or(3306),
    )
}

/// A TCP listener on 127.0.0.1 that counts the connections it is offered (and closes them).
async fn counting_listener() -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    (port, count)
}

/// An HTTP server that records every request it gets (headers and body), and answers the way
/// `answer` says.
async fn recording_server(
    answer: fn(&str) -> axum::response::Response,
) -> (String, Arc<std::sync::Mutex<Vec<String>>>) {
    use axum::extract::Request;
    let seen: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let log = seen.clone();
    let app = axum::Router::new().fallback(move |request: Request| {
        let log = log.clone();
        async move {
            let (parts, body) = request.into_parts();
            let body = axum::body::to_bytes(body, 1 << 20)
                .await
                .unwrap_or_default();
            let mut text = format!("{} {}\n", parts.method, parts.uri);
            for (name, value) in &parts.headers {
                text.push_str(&format!("{name}: {}\n", value.to_str().unwrap_or("")));
            }
            text.push_str(&String::from_utf8_lossy(&body));
            log.lock().unwrap().push(text);
            answer(parts.uri.path())
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

#[tokio::test]
async fn the_metadata_database_is_never_a_connection_however_it_is_reached() {
    let app = TestApp::spawn().await;
    let ann = app.browser();
    ann.sign_up("ann@example.com").await;
    let ws = ann.current_workspace_id().await;
    let (host, port) = pg_server();
    let metadata_db = app.database_url.rsplit('/').next().unwrap().to_owned();
    let form = |intent: &str, host: &str, database: &str| {
        vec![
            ("workspace_id", ws.clone()),
            ("intent", intent.to_owned()),
            ("name", "Ours".to_owned()),
            ("kind", "postgres".to_owned()),
            ("host", host.to_owned()),
            ("port", port.to_string()),
            ("database", database.to_owned()),
            ("username", "postgres".to_owned()),
            ("ssl_mode", "disable".to_owned()),
        ]
    };

    // Test connection: refused by address and by name for the machine, before connecting.
    for reach in [host.as_str(), "localhost", "127.0.0.2"] {
        let (status, body) = failure(post(&ann, &form("test", reach, &metadata_db)).await).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["ok"], false, "{reach}: {body}");
        assert_eq!(body["title"], "Not allowed", "{reach}: {body}");
        assert!(
            body["message"]
                .as_str()
                .unwrap()
                .contains("metadata database"),
            "{body}"
        );
    }
    // Save: a field error on the database.
    let (status, body) = failure(post(&ann, &form("save", &host, &metadata_db)).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["Validation"]["field"], "database", "{body}");
    assert!(body.to_string().contains("metadata database"), "{body}");
    // Another database of the same server is fine.
    let (_, body) = failure(post(&ann, &form("test", &host, "postgres")).await).await;
    assert_eq!(body["ok"], true, "{body}");

    // A connection stored before this check (or written by hand) is refused where every
    // run, preview and `lockstep sync` connects.
    let spec = engine::package::ConnectionSpec::Postgres {
        url: format!("postgres://postgres@localhost:{port}/{metadata_db}"),
    };
    let refused = engine::connectors::connect(
        &spec,
        &catalog::cloud_tracking::connect_options(&app.pool, false),
    )
    .await
    .err()
    .expect("refused");
    assert!(!refused.is_retryable());
    assert!(
        refused.to_string().contains("metadata database"),
        "{refused}"
    );
}

#[tokio::test]
async fn link_local_and_cloud_metadata_addresses_are_refused_without_being_contacted() {
    let app = TestApp::spawn().await;
    let ann = app.browser();
    ann.sign_up("ann@example.com").await;
    let ws = ann.current_workspace_id().await;
    for (kind, host) in [
        ("postgres", "169.254.169.254"),
        ("mysql", "[::ffff:169.254.169.254]"),
        ("postgres", "[fd00:ec2::254]"),
        ("postgres", "100.100.100.200"),
        // This machine's listeners, spelled so that no loopback range matches.
        ("postgres", "0.0.0.0"),
        ("mysql", "[::]"),
    ] {
        let mut fields = vec![
            ("workspace_id", ws.clone()),
            ("intent", "test".to_owned()),
            ("name", "Metadata".to_owned()),
            ("kind", kind.to_owned()),
            ("host", host.to_owned()),
            ("port", "80".to_owned()),
            ("database", "latest".to_owned()),
            ("username", "u".to_owned()),
            ("ssl_mode", "disable".to_owned()),
        ];
        let started = std::time::Instant::now();
        let (_, body) = failure(post(&ann, &fields).await).await;
        assert_eq!(body["title"], "Not allowed", "{host}: {body}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "refused before any connection attempt"
        );
        set(&mut fields, "intent", "save");
        let (status, body) = failure(post(&ann, &fields).await).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(body["Validation"]["field"], "host", "{body}");
    }
    // A Unix socket (here a percent-encoded path the driver would decode) is refused on the
    // form, before anything could reach a local server as Lockstep's own system user.
    for host in [
        "%2Fvar%2Frun%2Fpostgresql",
        "/var/run/mysqld",
        "localhost%2F",
    ] {
        let fields = vec![
            ("workspace_id", ws.clone()),
            ("intent", "test".to_owned()),
            ("name", "Socket".to_owned()),
            ("kind", "postgres".to_owned()),
            ("host", host.to_owned()),
            ("port", "5432".to_owned()),
            ("database", "postgres".to_owned()),
            ("username", "postgres".to_owned()),
            ("ssl_mode", "disable".to_owned()),
        ];
        let (status, body) = failure(post(&ann, &fields).await).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{host}: {body}");
        assert_eq!(body["Validation"]["field"], "host", "{host}: {body}");
    }
    // A cloud connection's login URL goes through the same check.
    let fields = vec![
        ("workspace_id", ws.clone()),
        ("intent", "test".to_owned()),
        ("name", "Sales".to_owned()),
        ("kind", "salesforce".to_owned()),
        ("host", "http://169.254.169.254".to_owned()),
        ("port", "443".to_owned()),
        ("database", "key".to_owned()),
        ("username", String::new()),
        ("password", "secret".to_owned()),
        ("ssl_mode", "require".to_owned()),
    ];
    let (_, body) = failure(post(&ann, &fields).await).await;
    assert_eq!(body["title"], "Not allowed", "{body}");
    // A Dynamics 365 tenant id is a GUID or a domain, nothing that changes the token URL.
    let fields = vec![
        ("workspace_id", ws.clone()),
        ("intent", "save".to_owned()),
        ("name", "Dyn".to_owned()),
        ("kind", "dynamics".to_owned()),
        ("host", "https://org.crm.dynamics.com".to_owned()),
        ("port", "443".to_owned()),
        ("database", "../../evil?x=".to_owned()),
        (
            "username",
            "11111111-1111-1111-1111-111111111111".to_owned(),
        ),
        ("password", "secret".to_owned()),
        ("ssl_mode", "require".to_owned()),
    ];
    let (status, body) = failure(post(&ann, &fields).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["Validation"]["field"], "database", "{body}");
}

#[tokio::test]
async fn a_stored_password_never_follows_a_changed_destination() {
    let app = TestApp::spawn().await;
    let ann = app.browser();
    ann.sign_up("ann@example.com").await;
    let ws = ann.current_workspace_id().await;
    let (host, port) = mysql_server();
    let mut fields = vec![
        ("workspace_id", ws.clone()),
        ("intent", "save".to_owned()),
        ("name", "Shop".to_owned()),
        ("kind", "mysql".to_owned()),
        ("host", host.clone()),
        ("port", port.to_string()),
        ("database", "shop".to_owned()),
        ("username", "root".to_owned()),
        ("password", "stored-pw-77".to_owned()),
        ("ssl_mode", "disable".to_owned()),
    ];
    ann.call_ok(
        "save_connection",
        &fields
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .collect::<Vec<_>>(),
    )
    .await;
    let id = ann.call_ok("load_connections", &[]).await["connections"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    fields.push(("id", id));
    set(&mut fields, "password", "");

    // The "attacker's" server: any connection it is offered is counted.
    let (trap, offered) = counting_listener().await;
    for (field, value) in [
        ("port", trap.to_string()),
        ("database", "other".to_owned()),
        ("username", "someone".to_owned()),
        ("kind", "postgres".to_owned()),
        // Same server, another SSL mode: the password would travel otherwise protected.
        ("ssl_mode", "require".to_owned()),
    ] {
        let mut edited = fields.clone();
        set(&mut edited, field, &value);
        if field != "port" {
            set(&mut edited, "port", &trap.to_string());
        }
        for intent in ["test", "save"] {
            set(&mut edited, "intent", intent);
            let (status, body) = failure(post(&ann, &edited).await).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{field}: {body}");
            assert_eq!(body["Validation"]["field"], "password", "{body}");
            assert!(
                body.to_string().contains(
                    "Enter the password again: the connection now points at another server"
                ),
                "{body}"
            );
        }
    }
    assert_eq!(
        offered.load(Ordering::SeqCst),
        0,
        "nothing reached the new server"
    );
    let kept: (i32, Option<Vec<u8>>) = sqlx::query_as("SELECT port, password FROM connections")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(kept.0, i32::from(port), "the refused edit was not saved");
    assert!(kept.1.is_some());

    // Typed again, the password goes where the person says (the trap is reached).
    let mut retyped = fields.clone();
    set(&mut retyped, "port", &trap.to_string());
    set(&mut retyped, "password", "typed-for-this-server");
    set(&mut retyped, "intent", "test");
    let (_, body) = failure(post(&ann, &retyped).await).await;
    assert_eq!(body["ok"], false, "{body}");
    assert!(offered.load(Ordering::SeqCst) >= 1);
    // Changing only the name keeps the stored password.
    let mut renamed = fields.clone();
    set(&mut renamed, "name", "Shop DB");
    let (status, body) = failure(post(&ann, &renamed).await).await;
    assert!(status.is_success() || status.is_redirection(), "{body}");
    let has_password: bool = sqlx::query_scalar("SELECT password IS NOT NULL FROM connections")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(has_password);
}

#[tokio::test]
async fn a_stored_client_secret_never_follows_a_changed_login_url() {
    let org = Salesforce::new();
    let running = org.start().await.unwrap();
    let app = TestApp::spawn().await;
    let ann = app.browser();
    ann.sign_up("ann@example.com").await;
    let ws = ann.current_workspace_id().await;
    let mut fields = vec![
        ("workspace_id", ws.clone()),
        ("intent", "save".to_owned()),
        ("name", "Sales".to_owned()),
        ("kind", "salesforce".to_owned()),
        ("host", running.base_url()),
        ("port", "443".to_owned()),
        ("database", Salesforce::CLIENT_ID.to_owned()),
        ("username", String::new()),
        ("password", Salesforce::CLIENT_SECRET.to_owned()),
        ("ssl_mode", "require".to_owned()),
    ];
    let (status, body) = failure(post(&ann, &fields).await).await;
    assert!(status.is_success() || status.is_redirection(), "{body}");
    let id = ann.call_ok("load_connections", &[]).await["connections"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    fields.push(("id", id));
    set(&mut fields, "password", "");
    // Unchanged: the stored secret is used.
    set(&mut fields, "intent", "test");
    let (_, body) = failure(post(&ann, &fields).await).await;
    assert_eq!(body["ok"], true, "{body}");

    let (recorder, seen) =
        recording_server(|_| axum::response::IntoResponse::into_response(StatusCode::NOT_FOUND))
            .await;
    for (field, value) in [
        ("host", recorder.clone()),
        ("database", "another-consumer-key".to_owned()),
    ] {
        let mut edited = fields.clone();
        set(&mut edited, field, &value);
        for intent in ["test", "save"] {
            set(&mut edited, "intent", intent);
            let (status, body) = failure(post(&ann, &edited).await).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
            assert_eq!(body["Validation"]["field"], "password", "{body}");
        }
    }
    let requests = seen.lock().unwrap().clone();
    assert!(requests.is_empty(), "the recorder got: {requests:?}");
}

#[tokio::test]
async fn cloud_clients_follow_no_redirect_and_show_no_raw_error_body() {
    let org = Salesforce::new();
    let running = org.start().await.unwrap();
    let app = TestApp::spawn().await;
    let ann = app.browser();
    ann.sign_up("ann@example.com").await;
    let ws = ann.current_workspace_id().await;

    // The place a redirect would lead to: it must never hear from us.
    let (elsewhere, elsewhere_seen) =
        recording_server(|_| axum::response::IntoResponse::into_response(StatusCode::OK)).await;
    static TARGET: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TARGET.set(elsewhere.clone()).unwrap();
    let (redirector, _) = recording_server(|path| {
        use axum::response::IntoResponse;
        if path.ends_with("/token") {
            (
                StatusCode::TEMPORARY_REDIRECT,
                [(
                    "location",
                    format!("{}/services/oauth2/token", TARGET.get().unwrap()),
                )],
            )
                .into_response()
        } else {
            StatusCode::NOT_FOUND.into_response()
        }
    })
    .await;
    let form = |host: &str| {
        vec![
            ("workspace_id", ws.clone()),
            ("intent", "test".to_owned()),
            ("name", "Sales".to_owned()),
            ("kind", "salesforce".to_owned()),
            ("host", host.to_owned()),
            ("port", "443".to_owned()),
            ("database", Salesforce::CLIENT_ID.to_owned()),
            ("username", String::new()),
            ("password", Salesforce::CLIENT_SECRET.to_owned()),
            ("ssl_mode", "require".to_owned()),
        ]
    };
    let (_, body) = failure(post(&ann, &form(&redirector)).await).await;
    assert_eq!(body["ok"], false, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("redirects are not followed"),
        "{body}"
    );
    assert!(
        elsewhere_seen.lock().unwrap().is_empty(),
        "the redirect was not followed"
    );

    // An error page's text stays out of the message: only its status is shown.
    let (chatty, _) = recording_server(|_| {
        use axum::response::IntoResponse;
        (
            StatusCode::BAD_REQUEST,
            "<html>internal-only: db password hunter2, sessions table dump</html>",
        )
            .into_response()
    })
    .await;
    let (_, body) = failure(post(&ann, &form(&chatty)).await).await;
    assert_eq!(body["ok"], false, "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(
        !message.contains("hunter2") && !message.contains("internal-only"),
        "{message}"
    );
    assert!(message.contains("400 Bad Request"), "{message}");
    // The emulator itself still works (127.0.0.1 stays allowed).
    let (_, body) = failure(post(&ann, &form(&running.base_url())).await).await;
    assert_eq!(body["ok"], true, "{body}");
}

#[test]
fn secrets_print_redacted() {
    use catalog::connections::ConnectionForm;
    use engine::connectors::dynamics::DynamicsAuth;
    use engine::connectors::salesforce::SalesforceAuth;
    use engine::package::{ConnectionSpec, Package};
    const SECRET: &str = "s3cr3t-value";
    let specs = [
        ConnectionSpec::Postgres {
            url: format!("postgres://sync:{SECRET}@db:5432/crm"),
        },
        ConnectionSpec::Mysql {
            url: format!("mysql://sync@db:3306/shop?password={SECRET}"),
        },
        ConnectionSpec::Salesforce {
            login_url: "https://login.salesforce.com".into(),
            client_id: "key".into(),
            client_secret: SECRET.into(),
            username: "u@example.com".into(),
            password: SECRET.into(),
        },
        ConnectionSpec::Dynamics {
            url: "https://org.crm.dynamics.com".into(),
            tenant_id: "contoso.onmicrosoft.com".into(),
            client_id: "id".into(),
            client_secret: SECRET.into(),
            authority: None,
        },
        ConnectionSpec::Hubspot {
            base_url: "https://api.hubapi.com".into(),
            token: SECRET.into(),
        },
    ];
    let mut printed: Vec<String> = specs.iter().map(|s| format!("{s:?}")).collect();
    printed.push(format!(
        "{:?}",
        Package {
            name: "p".into(),
            source: specs[0].clone(),
            target: specs[4].clone(),
            locale: "invariant".into(),
            dedicated_account: false,
            tasks: Vec::new(),
            schedule: None,
        }
    ));
    let form = ConnectionForm {
        name: "n".into(),
        kind: "salesforce".into(),
        host: "https://login.salesforce.com".into(),
        port: "443".into(),
        database: "key".into(),
        username: "u@example.com".into(),
        password: SECRET.into(),
        extra_secret: SECRET.into(),
        ssl_mode: "require".into(),
        clear_password: false,
    };
    printed.push(format!("{form:?}"));
    printed.push(format!("{:?}", form.validate().unwrap()));
    printed.push(format!(
        "{:?}",
        SalesforceAuth::Password {
            client_id: "key".into(),
            client_secret: SECRET.into(),
            username: "u".into(),
            password: SECRET.into(),
        }
    ));
    printed.push(format!(
        "{:?}",
        SalesforceAuth::ClientCredentials {
            client_id: "key".into(),
            client_secret: SECRET.into(),
        }
    ));
    printed.push(format!(
        "{:?}",
        DynamicsAuth {
            authority: "https://login.microsoftonline.com".into(),
            tenant_id: "t.onmicrosoft.com".into(),
            client_id: "id".into(),
            client_secret: SECRET.into(),
        }
    ));
    for text in &printed {
        assert!(!text.contains(SECRET), "{text}");
    }
    assert!(
        printed[0].contains("postgres://sync:***@db:5432/crm"),
        "{}",
        printed[0]
    );
    let value: Value = serde_json::to_value(&specs[2]).unwrap();
    assert_eq!(
        value["client_secret"], SECRET,
        "serialising (the sync file) is unchanged"
    );
}
