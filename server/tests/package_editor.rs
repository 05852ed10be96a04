//! The package page and task editor over HTTP: packages built from saved connections, tasks
//! checked by the engine against the live tables, role and workspace checks, and the
//! confirmation a connection change needs once a package has run.

mod support;

use reqwest::StatusCode;
use serde_json::Value;
use support::packages::{connection, fresh_database, post, task_form};
use support::{Browser, TestApp, failure};
use uuid::Uuid;

const TABLES: &str =
    "CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, email text);
                      INSERT INTO customers (name, email) VALUES ('Ann', 'ann@example.com');
                      CREATE TABLE legacy (code int PRIMARY KEY, label text);";

/// (full pass due, tracking installed, LastSyncTime empty) of the package's first task.
async fn task_state(browser: &Browser, package: &str) -> (bool, bool, bool) {
    let page = browser.call_ok("load_package", &[("id", package)]).await;
    let task = &page["package"]["tasks"][0];
    (
        task["full_pass_due"].as_bool().unwrap(),
        task["tracking_installed"].as_bool().unwrap(),
        task["last_sync"].is_null(),
    )
}

#[tokio::test]
async fn a_package_is_built_from_connections_and_checked_tasks() {
    let app = TestApp::spawn().await;
    let ann = app.browser();
    ann.sign_up("ann@example.com").await;
    let ws = ann.current_workspace_id().await;
    let crm = connection(&ann, &ws, "CRM", &fresh_database(TABLES).await).await;
    let shop = connection(&ann, &ws, "Shop", &fresh_database(TABLES).await).await;

    // Settings are validated field by field.
    let (status, body) = failure(
        ann.call(
            "save_package",
            &[
                ("workspace_id", &ws),
                ("name", "Customers"),
                ("source_connection", &crm),
                ("locale", "invariant"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["Validation"]["field"], "target_connection", "{body}");
    let (_, body) = failure(
        ann.call(
            "save_package",
            &[
                ("workspace_id", &ws),
                ("name", "Customers"),
                ("source_connection", &crm),
                ("target_connection", &shop),
                ("locale", "xx_YY"),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(body["Validation"]["field"], "locale", "{body}");
    let package = ann
        .call_ok(
            "save_package",
            &[
                ("workspace_id", &ws),
                ("name", "Customers"),
                ("source_connection", &crm),
                ("target_connection", &shop),
                ("locale", "fr_FR"),
            ],
        )
        .await;
    let package = package.as_str().unwrap().to_owned();

    // The editor lists both sides' tables and explains why a table cannot be synced.
    let editor = ann.call_ok("load_task", &[("package_id", &package)]).await;
    assert_eq!(
        editor["source_tables"],
        serde_json::json!(["customers", "legacy"])
    );
    let legacy = ann
        .call_ok(
            "load_task",
            &[
                ("package_id", &package),
                ("source_table", "legacy"),
                ("target_table", "customers"),
            ],
        )
        .await;
    assert!(
        legacy["problem"]
            .as_str()
            .unwrap()
            .contains("assigned by the application"),
        "{legacy}"
    );
    let grid = ann
        .call_ok(
            "load_task",
            &[
                ("package_id", &package),
                ("source_table", "customers"),
                ("target_table", "customers"),
            ],
        )
        .await;
    let rows = grid["source_to_target"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{grid}");
    assert_eq!(rows[0]["column"], "name");
    assert_eq!(rows[0]["required"], true);
    assert_eq!(
        rows[0]["kind"], "column",
        "same-named columns are mapped already"
    );

    // The engine checks the mappings: a required column left out is named.
    let missing = task_form(
        &ws,
        &package,
        "customers",
        "customers",
        &[("email", "column", "email")],
    );
    let (status, body) = failure(post(&ann, "save_task", &missing).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // Every problem at once, each for its grid: both directions leave `name` out.
    let problems = body["Invalid"]["problems"]
        .as_array()
        .expect("a list of problems");
    let fields: Vec<&str> = problems
        .iter()
        .filter_map(|p| p["field"].as_str())
        .collect();
    assert_eq!(fields, ["source_to_target", "target_to_source"], "{body}");
    assert!(
        problems
            .iter()
            .all(|p| p["message"].as_str().unwrap().starts_with("name: ")),
        "{body}"
    );
    let bad_expression = task_form(
        &ws,
        &package,
        "customers",
        "customers",
        &[
            ("name", "expression", "upper(nme)"),
            ("email", "column", "email"),
        ],
    );
    let (_, body) = failure(post(&ann, "save_task", &bad_expression).await).await;
    assert!(body.to_string().contains("nme"), "{body}");
    let good = task_form(
        &ws,
        &package,
        "customers",
        "customers",
        &[
            ("name", "expression", "upper(name)"),
            ("email", "constant", "none"),
        ],
    );
    // Preview: the mappings applied to the first rows, nothing saved.
    let mut preview = good.clone();
    preview.push(("intent".to_owned(), "preview".to_owned()));
    let response = post(&ann, "save_task", &preview).await;
    assert!(response.status().is_success());
    let shown: Value = response.json().await.unwrap();
    assert_eq!(
        shown["source_to_target"][0]["values"],
        serde_json::json!([["email", "none"], ["name", "ANN"]]),
        "{shown}"
    );
    assert_eq!(
        ann.call_ok("load_package", &[("id", &package)]).await["package"]["tasks"],
        serde_json::json!([])
    );
    let response = post(&ann, "save_task", &good).await;
    assert!(
        response.status().is_success(),
        "{}",
        response.text().await.unwrap()
    );
    let saved = ann.call_ok("load_package", &[("id", &package)]).await;
    let task = &saved["package"]["tasks"][0];
    assert_eq!(task["source_table"], "customers");
    assert_eq!(task["source_to_target"], 2);
    let task_id = task["id"].as_str().unwrap().to_owned();
    let reopened = ann
        .call_ok(
            "load_task",
            &[("package_id", &package), ("task_id", &task_id)],
        )
        .await;
    assert_eq!(reopened["source_to_target"][1]["kind"], "constant");
    assert_eq!(reopened["source_to_target"][1]["value"], "none");
    let (status, _) = failure(post(&ann, "save_task", &good).await).await;
    assert_eq!(status, StatusCode::CONFLICT, "one task per pair of tables");

    // Other workspaces and Viewers cannot touch it.
    let bob = app.browser();
    bob.sign_up("bob@example.com").await;
    let (status, _) = failure(bob.call("load_package", &[("id", &package)]).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = failure(
        bob.call(
            "delete_task",
            &[
                ("workspace_id", &ws),
                ("package_id", &package),
                ("task_id", &task_id),
            ],
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let vic = support::join(&app, &ann, &ws, "vic@example.com", "viewer").await;
    // A Viewer reads the package (the page shows it read-only) but cannot start a new one
    // or change a task.
    let read = vic.call_ok("load_package", &[("id", &package)]).await;
    assert_eq!(read["package"]["name"], "Customers", "{read}");
    assert_eq!(read["workspace"]["role"], "viewer", "{read}");
    let (status, _) = failure(vic.call("load_package", &[]).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = failure(post(&vic, "save_task", &good).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        vic.call_ok("load_packages", &[]).await["packages"][0]["name"],
        "Customers"
    );

    // Once it has run, changing a connection needs a confirmation.
    sqlx::query("INSERT INTO runs (id, workspace_id, package_id, state, started_by) VALUES (gen_random_uuid(), $1::uuid, $2::uuid, 'succeeded', 'test')")
        .bind(&ws)
        .bind(&package)
        .execute(&app.pool)
        .await
        .unwrap();
    let other = connection(&ann, &ws, "Other", &fresh_database(TABLES).await).await;
    let change = [
        ("workspace_id", ws.as_str()),
        ("id", package.as_str()),
        ("name", "Customers"),
        ("source_connection", other.as_str()),
        ("target_connection", shop.as_str()),
        ("locale", "fr_FR"),
    ];
    let (status, body) = failure(ann.call("save_package", &change).await).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(body.to_string().contains("ID map"), "{body}");
    let mut confirmed = change.to_vec();
    confirmed.push(("confirm_connection_change", "yes"));
    ann.call_ok("save_package", &confirmed).await;

    // Parameters: as if the task had synced; the resets ask the next run for a full pass.
    sqlx::query("UPDATE package_tasks SET full_pass_direction = NULL, last_sync_at = now(), tracking_installed = true")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(task_state(&ann, &package).await, (false, true, false));
    let reset = |parameter: &str| {
        vec![
            ("workspace_id".to_owned(), ws.clone()),
            ("package_id".to_owned(), package.clone()),
            ("parameter".to_owned(), parameter.to_owned()),
            ("task_id".to_owned(), task_id.clone()),
        ]
    };
    let (status, _) = failure(post(&vic, "reset_parameter", &reset("last_sync_time")).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = failure(post(&ann, "reset_parameter", &reset("everything")).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        post(&ann, "reset_parameter", &reset("last_sync_time"))
            .await
            .status()
            .is_success()
    );
    assert_eq!(
        task_state(&ann, &package).await,
        (true, true, true),
        "resync: full pass due, tracking kept"
    );
    assert!(
        post(&ann, "reset_parameter", &reset("tracking"))
            .await
            .status()
            .is_success()
    );
    assert_eq!(
        task_state(&ann, &package).await,
        (true, false, true),
        "tracking re-created by the next run"
    );
    let mut elsewhere = reset("tracking");
    elsewhere[0].1 = bob.current_workspace_id().await;
    let (status, _) = failure(post(&bob, "reset_parameter", &elsewhere).await).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    ann.call_ok(
        "delete_task",
        &[
            ("workspace_id", &ws),
            ("package_id", &package),
            ("task_id", &task_id),
        ],
    )
    .await;
    let after: Value = ann.call_ok("load_package", &[("id", &package)]).await;
    assert_eq!(after["package"]["tasks"], serde_json::json!([]));
}

/// Installs the change tracking of a task the way its first run does.
async fn install_tracking(database: &str, task: &str, side: engine::sync::Side) {
    use engine::connectors::Connector;
    let url = format!("{}/{database}", support::admin_url());
    let pg = engine::connectors::postgres::PostgresConnector::connect(&url)
        .await
        .unwrap();
    let mut schema = pg
        .describe(&engine::package::TableRef::parse("customers").unwrap())
        .await
        .unwrap();
    schema.log_name = engine::sync::log_name(Uuid::parse_str(task).unwrap(), side);
    pg.install_tracking(&schema).await.unwrap();
}

async fn log_tables(database: &str) -> i64 {
    let pool = sqlx::PgPool::connect(&format!("{}/{database}", support::admin_url()))
        .await
        .unwrap();
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_tables WHERE schemaname = 'lockstep' AND tablename LIKE 'log\\_%'",
    )
    .fetch_one(&pool)
    .await
    .unwrap()
}

/// Everything Lockstep creates in a synced PostgreSQL database: its schema, the tables and
/// functions in it, and triggers.
async fn lockstep_objects(database: &str) -> Vec<String> {
    let pool = sqlx::PgPool::connect(&format!("{}/{database}", support::admin_url()))
        .await
        .unwrap();
    sqlx::query_scalar(
        "SELECT 'schema ' || nspname FROM pg_namespace WHERE nspname = 'lockstep'
         UNION ALL SELECT 'relation ' || relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = 'lockstep'
         UNION ALL SELECT 'function ' || proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                    WHERE n.nspname = 'lockstep'
         UNION ALL SELECT 'trigger ' || tgname FROM pg_trigger WHERE NOT tgisinternal",
    )
    .fetch_all(&pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn packages_are_cloned_and_deleted_without_leaving_triggers_behind() {
    let app = TestApp::spawn().await;
    let ann = app.browser();
    ann.sign_up("ann@example.com").await;
    let ws = ann.current_workspace_id().await;
    let (crm_db, shop_db) = (fresh_database(TABLES).await, fresh_database(TABLES).await);
    let crm = connection(&ann, &ws, "CRM", &crm_db).await;
    let shop = connection(&ann, &ws, "Shop", &shop_db).await;
    let package = ann
        .call_ok(
            "save_package",
            &[
                ("workspace_id", &ws),
                ("name", "Customers"),
                ("source_connection", &crm),
                ("target_connection", &shop),
                ("locale", "invariant"),
            ],
        )
        .await
        .as_str()
        .unwrap()
        .to_owned();
    let task = task_form(
        &ws,
        &package,
        "customers",
        "customers",
        &[("name", "column", "name"), ("email", "column", "email")],
    );
    assert!(post(&ann, "save_task", &task).await.status().is_success());

    // Clone: a second package with the same task, its own first run.
    ann.call_ok("clone_package", &[("workspace_id", &ws), ("id", &package)])
        .await;
    let list = ann.call_ok("load_packages", &[]).await;
    let names: Vec<&str> = list["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Copy of Customers", "Customers"]);
    assert_eq!(list["packages"][0]["tasks"], 1);

    // As after a first run: tracking installed on both sides.
    let task_id =
        ann.call_ok("load_package", &[("id", &package)]).await["package"]["tasks"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
    install_tracking(&crm_db, &task_id, engine::sync::Side::Source).await;
    install_tracking(&shop_db, &task_id, engine::sync::Side::Target).await;
    sqlx::query("UPDATE package_tasks SET tracking_installed = true WHERE id = $1::uuid")
        .bind(&task_id)
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(
        (log_tables(&crm_db).await, log_tables(&shop_db).await),
        (1, 1)
    );

    let bob = app.browser();
    bob.sign_up("bob@example.com").await;
    let (status, _) = failure(
        bob.call("delete_package", &[("workspace_id", &ws), ("id", &package)])
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    ann.call_ok("delete_package", &[("workspace_id", &ws), ("id", &package)])
        .await;
    assert_eq!(
        (log_tables(&crm_db).await, log_tables(&shop_db).await),
        (0, 0),
        "the triggers and logs went with the package"
    );
    for database in [&crm_db, &shop_db] {
        assert_eq!(
            lockstep_objects(database).await,
            Vec::<String>::new(),
            "nothing of Lockstep's is left in {database}"
        );
    }
    let list = ann.call_ok("load_packages", &[]).await;
    assert_eq!(list["packages"].as_array().unwrap().len(), 1);
}

/// The task editor with related tables: auto-map proposes a relation for a foreign key whose
/// table a task of the package syncs, and match keys are previewed (nothing written), saved
/// and shown again.
#[tokio::test]
async fn the_editor_proposes_relations_and_previews_first_run_matching() {
    let app = TestApp::spawn().await;
    let ann = app.browser();
    ann.sign_up("ann@example.com").await;
    let ws = ann.current_workspace_id().await;
    let schema = "CREATE TABLE accounts (id serial PRIMARY KEY, name text NOT NULL);
                  CREATE TABLE contacts (id serial PRIMARY KEY, name text NOT NULL, email text,
                                         account_id int REFERENCES accounts (id));";
    let crm = connection(
        &ann,
        &ws,
        "CRM",
        &fresh_database(&format!(
            "{schema} INSERT INTO contacts (name, email) VALUES
                ('Ann', 'ann@example.com'), ('Bob', ' BOB@example.com'), ('Cyd', 'cyd@example.com'), ('Dan', 'dan@example.com');"
        ))
        .await,
    )
    .await;
    let shop = connection(
        &ann,
        &ws,
        "Shop",
        &fresh_database(&format!(
            "{schema} INSERT INTO contacts (name, email) VALUES
                ('Ann', 'ann@example.com'), ('Bob', 'bob@example.com'), ('Cyd 1', 'cyd@example.com'),
                ('Cyd 2', 'CYD@example.com'), ('Eve', 'eve@example.com');"
        ))
        .await,
    )
    .await;
    let package = ann
        .call_ok(
            "save_package",
            &[
                ("workspace_id", &ws),
                ("name", "CRM"),
                ("source_connection", &crm),
                ("target_connection", &shop),
                ("locale", "invariant"),
            ],
        )
        .await;
    let package = package.as_str().unwrap().to_owned();
    let accounts = task_form(
        &ws,
        &package,
        "accounts",
        "accounts",
        &[("name", "column", "name")],
    );
    let response = post(&ann, "save_task", &accounts).await;
    assert!(response.status().is_success());

    let grid = ann
        .call_ok(
            "load_task",
            &[
                ("package_id", &package),
                ("source_table", "contacts"),
                ("target_table", "contacts"),
            ],
        )
        .await;
    let account = grid["source_to_target"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["column"] == "account_id")
        .unwrap();
    assert_eq!(account["kind"], "relation", "{grid}");
    assert_eq!(account["value"], "account_id → accounts", "{grid}");

    // Validate checks relations against the package's tasks.
    let mut wrong = task_form(
        &ws,
        &package,
        "contacts",
        "contacts",
        &[
            ("name", "column", "name"),
            ("account_id", "relation", "account_id → invoices"),
        ],
    );
    wrong.push(("intent".into(), "validate".into()));
    let (status, body) = failure(post(&ann, "save_task", &wrong).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["Validation"]["field"], "source_to_target", "{body}");
    assert!(
        body.to_string().contains("account_id") && body.to_string().contains("invoices"),
        "{body}"
    );

    let mut contacts = task_form(
        &ws,
        &package,
        "contacts",
        "contacts",
        &[
            ("name", "column", "name"),
            ("email", "column", "email"),
            ("account_id", "relation", "account_id → accounts"),
        ],
    );
    contacts.push(("match_source[0]".into(), "email".into()));
    contacts.push(("match_target[0]".into(), "email".into()));
    contacts.push(("match_fold".into(), "on".into()));
    let mut preview = contacts.clone();
    preview.push(("intent".into(), "match_preview".into()));
    let shown = json_of(post(&ann, "save_task", &preview).await).await;
    let matching = &shown["matching"];
    assert_eq!(matching["paired"], 2, "{shown}");
    assert_eq!(matching["ambiguous"], 1, "{shown}");
    assert_eq!(matching["new_on_source"], 1, "Dan: {shown}");
    assert_eq!(matching["new_on_target"], 1, "Eve: {shown}");
    assert!(
        matching["ambiguous_examples"][0]
            .as_str()
            .unwrap()
            .contains("cyd@example.com"),
        "{shown}"
    );
    assert_eq!(
        ann.call_ok("load_package", &[("id", &package)]).await["package"]["tasks"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "a preview saves nothing"
    );

    // A key with one side only is named.
    let mut half = contacts.clone();
    half.push(("match_source[1]".into(), "name".into()));
    let (status, body) = failure(post(&ann, "save_task", &half).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["Validation"]["field"], "matching", "{body}");

    let response = post(&ann, "save_task", &contacts).await;
    assert!(response.status().is_success());
    let saved = ann.call_ok("load_package", &[("id", &package)]).await;
    let task = saved["package"]["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["source_table"] == "contacts")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let reopened = ann
        .call_ok("load_task", &[("package_id", &package), ("task_id", &task)])
        .await;
    assert_eq!(
        reopened["match_keys"],
        serde_json::json!([["email", "email"]])
    );
    assert_eq!(reopened["match_fold"], true);
}

async fn json_of(response: reqwest::Response) -> Value {
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.unwrap()
}
