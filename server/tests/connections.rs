//! Connections over HTTP: create, Test connection with readable failures, edit keeping the
//! stored password, delete refused while a package uses it, and role/workspace checks. The
//! password never comes back and is stored encrypted.

mod support;

use reqwest::StatusCode;
use serde_json::Value;
use support::{Browser, TestApp, failure};

/// A MariaDB user with a password, so authentication can really fail (PostgreSQL here
/// trusts local connections).
async fn mysql_probe_user() -> (String, u16) {
    let server = std::env::var("TEST_MYSQL_SERVER")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".to_owned());
    let url = url::Url::parse(&server).unwrap();
    let pool = sqlx::MySqlPool::connect(&server).await.unwrap();
    for statement in [
        "CREATE USER IF NOT EXISTS 'lockstep_probe'@'%' IDENTIFIED BY 'probe-pw-1'",
        "CREATE DATABASE IF NOT EXISTS lockstep_probe",
        "GRANT ALL ON lockstep_probe.* TO 'lockstep_probe'@'%'",
    ] {
        sqlx::raw_sql(statement).execute(&pool).await.unwrap();
    }
    (
        url.host_str().unwrap().to_owned(),
        url.port().unwrap_or(3306),
    )
}

fn pg_parts() -> (String, u16) {
    let url = url::Url::parse(&support::admin_url()).unwrap();
    (
        url.host_str().unwrap().to_owned(),
        url.port().unwrap_or(5432),
    )
}

/// The connection form as the browser posts it.
fn form<'a>(ws: &'a str, fields: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut all = vec![("workspace_id", ws)];
    all.extend_from_slice(fields);
    all
}

/// The answer of a save_connection call: the test result, or null after a save.
async fn test_result(browser: &Browser, fields: &[(&str, &str)]) -> Value {
    let response = browser.call("save_connection", fields).await;
    let status = response.status();
    let body = response.text().await.unwrap();
    assert!(status.is_success(), "{status}: {body} for {fields:?}");
    serde_json::from_str(&body).unwrap_or(Value::Null)
}

#[tokio::test]
async fn a_connection_is_tested_saved_and_edited_without_its_password_ever_coming_back() {
    let app = TestApp::spawn().await;
    let ann = app.browser();
    ann.sign_up("ann@example.com").await;
    let ws = ann.current_workspace_id().await;
    let (pg_host, pg_port) = pg_parts();
    let pg_port = pg_port.to_string();
    let pg = |intent: &'static str, database: &'static str, port: &str| {
        vec![
            ("intent", intent),
            ("name", "Local PG"),
            ("kind", "postgres"),
            ("host", pg_host.as_str()),
            ("port", port),
            ("database", database),
            ("username", "postgres"),
            ("ssl_mode", "disable"),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.to_owned()))
        .collect::<Vec<(&str, String)>>()
    };
    let call = |fields: Vec<(&'static str, String)>| {
        let ws = ws.clone();
        let ann = &ann;
        async move {
            let mut all: Vec<(&str, &str)> = vec![("workspace_id", ws.as_str())];
            all.extend(fields.iter().map(|(k, v)| (*k, v.as_str())));
            test_result(ann, &all).await
        }
    };

    let ok = call(pg("test", "postgres", &pg_port)).await;
    assert_eq!(ok["ok"], true, "{ok}");
    assert_eq!(ok["title"], "Connected");
    let missing = call(pg("test", "no_such_database", &pg_port)).await;
    assert_eq!(missing["title"], "Database not found", "{missing}");
    let refused = call(pg("test", "postgres", "1")).await;
    assert_eq!(refused["title"], "Connection refused", "{refused}");
    let mut nowhere = pg("test", "postgres", &pg_port);
    nowhere[3].1 = "no-such-host.invalid".into();
    let dns = call(nowhere).await;
    assert_eq!(dns["title"], "Host not found", "{dns}");

    // MariaDB with a real password: a wrong one fails, the right one is stored sealed.
    let (my_host, my_port) = mysql_probe_user().await;
    let my_port = my_port.to_string();
    let mysql = |intent: &'static str, password: &'static str| {
        vec![
            ("intent", intent),
            ("name", "Shop DB"),
            ("kind", "mysql"),
            ("host", my_host.as_str()),
            ("port", my_port.as_str()),
            ("database", "lockstep_probe"),
            ("username", "lockstep_probe"),
            ("password", password),
            ("ssl_mode", "prefer"),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.to_string()))
        .collect::<Vec<(&str, String)>>()
    };
    let wrong = call(mysql("test", "wrong-pw")).await;
    assert_eq!(wrong["ok"], false);
    assert_eq!(wrong["title"], "Authentication failed", "{wrong}");
    let saved = call(mysql("save", "probe-pw-1")).await;
    assert_eq!(
        saved,
        Value::Null,
        "saving answers with a redirect, no test"
    );

    let list = ann.call_ok("load_connections", &[]).await;
    let connections = list["connections"].as_array().unwrap();
    assert_eq!(connections.len(), 1);
    assert_eq!(connections[0]["name"], "Shop DB");
    assert_eq!(connections[0]["has_password"], true);
    assert!(!list.to_string().contains("probe-pw-1"), "{list}");
    let id = connections[0]["id"].as_str().unwrap().to_owned();
    let stored: Vec<u8> = sqlx::query_scalar("SELECT password FROM connections")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert!(
        !stored.windows(10).any(|w| w == b"probe-pw-1"),
        "stored in clear"
    );
    let editor = ann.call_ok("load_connection", &[("id", &id)]).await;
    assert!(!editor.to_string().contains("probe-pw-1"));

    // Editing with the password left empty keeps it: the test uses the stored one.
    let mut edit = mysql("test", "");
    edit.push(("id", id.clone()));
    let kept = call(edit.clone()).await;
    assert_eq!(kept["ok"], true, "{kept}");
    edit[0].1 = "save".into();
    edit[1].1 = "Shop".into();
    call(edit).await;
    let list = ann.call_ok("load_connections", &[]).await;
    assert_eq!(list["connections"][0]["name"], "Shop");
    assert_eq!(list["connections"][0]["has_password"], true);

    // After a failed test, saving asks for a confirmation; the password can be removed on
    // purpose (not together with a new one).
    let mut after_failure = mysql("save", "");
    after_failure[1].1 = "Shop".into();
    after_failure.push(("id", id.clone()));
    after_failure.push(("last_test_failed", "yes".into()));
    let fields = |f: &Vec<(&'static str, String)>| {
        let mut all: Vec<(&str, String)> = vec![("workspace_id", ws.clone())];
        all.extend(f.iter().cloned());
        all
    };
    let all = fields(&after_failure);
    let pairs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, body) = failure(ann.call("save_connection", &pairs).await).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["Conflict"]["field"], "save_anyway", "{body}");
    let mut both = after_failure.clone();
    both.push(("save_anyway", "yes".into()));
    both.push(("clear_password", "yes".into()));
    both[7].1 = "new-pw".into();
    let all = fields(&both);
    let pairs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, body) = failure(ann.call("save_connection", &pairs).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["Validation"]["field"], "password", "{body}");
    both[7].1 = String::new();
    call(both).await;
    let list = ann.call_ok("load_connections", &[]).await;
    assert_eq!(list["connections"][0]["has_password"], false, "{list}");

    // Field-level validation, and names are unique per workspace.
    let refused = |overrides: &'static [(&'static str, &'static str)]| {
        let (ann, ws) = (&ann, ws.clone());
        async move {
            let mut fields = vec![
                ("intent", "save"),
                ("name", "New one"),
                ("kind", "postgres"),
                ("host", "h"),
                ("port", ""),
                ("database", "d"),
                ("username", "u"),
                ("ssl_mode", "prefer"),
            ];
            for (name, value) in overrides {
                fields.iter_mut().find(|(n, _)| n == name).unwrap().1 = value;
            }
            failure(ann.call("save_connection", &form(&ws, &fields)).await).await
        }
    };
    let (status, body) = refused(&[("name", "")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["Validation"]["field"], "name", "{body}");
    let (status, body) = refused(&[("port", "99999")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["Validation"]["field"], "port", "{body}");
    let (status, body) = refused(&[("host", "user@db:5432")]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["Validation"]["field"], "host", "{body}");
    let (status, body) = refused(&[("name", "shop")]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["Conflict"]["field"], "name", "{body}");
}

#[tokio::test]
async fn connections_are_guarded_by_role_workspace_and_use() {
    let app = TestApp::spawn().await;
    let ann = app.browser();
    ann.sign_up("ann@example.com").await;
    let ws = ann.current_workspace_id().await;
    let fields = [
        ("intent", "save"),
        ("name", "CRM"),
        ("kind", "postgres"),
        ("host", "db.internal"),
        ("port", ""),
        ("database", "crm"),
        ("username", "sync"),
        ("password", "s3cret"),
        ("ssl_mode", "require"),
    ];
    ann.call_ok("save_connection", &form(&ws, &fields)).await;
    let id = ann.call_ok("load_connections", &[]).await["connections"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Someone from another workspace: the connection does not exist for them.
    let bob = app.browser();
    bob.sign_up("bob@example.com").await;
    let (status, _) = failure(
        bob.call("delete_connection", &[("workspace_id", &ws), ("id", &id)])
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = failure(bob.call("load_connection", &[("id", &id)]).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let bob_ws = bob.current_workspace_id().await;
    let mut overwrite = form(&bob_ws, &fields);
    overwrite.push(("id", &id));
    let (status, _) = failure(bob.call("save_connection", &overwrite).await).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another workspace's id is never overwritten"
    );

    // A Viewer sees the list but cannot change it.
    let vic = support::join(&app, &ann, &ws, "vic@example.com", "viewer").await;
    assert_eq!(
        vic.call_ok("load_connections", &[]).await["connections"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let (status, _) = failure(
        vic.call("delete_connection", &[("workspace_id", &ws), ("id", &id)])
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let mut test = form(&ws, &fields);
    test[1] = ("intent", "test");
    let (status, _) = failure(vic.call("save_connection", &test).await).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "Viewers cannot make the server connect anywhere"
    );

    // In use by a package: deleting is refused and names the package.
    let package: uuid::Uuid = sqlx::query_scalar(
        "INSERT INTO packages (id, workspace_id, name, source_kind, target_kind, source_fingerprint, target_fingerprint, locale, source_connection_id)
         VALUES (gen_random_uuid(), $1::uuid, 'Customers', 'postgres', 'postgres', '', '', 'invariant', $2::uuid) RETURNING id",
    )
    .bind(&ws)
    .bind(&id)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let (status, body) = failure(
        ann.call("delete_connection", &[("workspace_id", &ws), ("id", &id)])
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.to_string().contains("Customers"), "{body}");
    assert_eq!(
        ann.call_ok("load_connections", &[]).await["connections"][0]["used_by"][0],
        "Customers"
    );
    sqlx::query("DELETE FROM packages WHERE id = $1")
        .bind(package)
        .execute(&app.pool)
        .await
        .unwrap();
    ann.call_ok("delete_connection", &[("workspace_id", &ws), ("id", &id)])
        .await;
    assert_eq!(
        ann.call_ok("load_connections", &[]).await["connections"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
}
