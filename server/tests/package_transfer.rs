//! Export a package as the `sync` command's file (URLs without passwords), import it into
//! another workspace on that workspace's connections, every task checked first.

mod support;

use reqwest::StatusCode;
use support::packages::{connection, fresh_database, package, post, save_connection, task_form};
use support::{TestApp, failure};

const TABLES: &str =
    "CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, email text);";

#[tokio::test]
async fn a_package_travels_as_a_file_without_its_secrets() {
    let app = TestApp::spawn().await;
    let ann = app.browser();
    ann.sign_up("ann@example.com").await;
    let ws = ann.current_workspace_id().await;
    let (src, dst) = (fresh_database(TABLES).await, fresh_database(TABLES).await);
    let crm = connection(&ann, &ws, "CRM", &src).await;
    // A password on the connection (the test server trusts local connections anyway).
    save_connection(
        &ann,
        &ws,
        Some(&crm),
        "CRM",
        &src,
        &[("password", "s3cret-pw")],
    )
    .await;
    let shop = connection(&ann, &ws, "Shop", &dst).await;
    let package = package(&ann, &ws, "Customers", (&crm, &shop), "fr_FR").await;
    let mut task = task_form(
        &ws,
        &package,
        "customers",
        "customers",
        &[
            ("name", "expression", "upper(name)"),
            ("email", "column", "email"),
        ],
    );
    task.push(("intent".into(), "save".into()));
    assert!(post(&ann, "save_task", &task).await.status().is_success());

    let response = ann.get(&format!("/packages/{package}/export.json")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("Customers.lockstep.json")
    );
    let file = response.text().await.unwrap();
    assert!(file.contains("\"upper(name)\""), "{file}");
    assert!(
        file.contains(&format!("/{src}?")),
        "the source URL names its database: {file}"
    );
    assert!(
        !file.contains("s3cret-pw"),
        "the file leaks the password: {file}"
    );
    // It is the sync command's format.
    let parsed = engine::package::Package::from_json(&file).unwrap();
    assert_eq!(parsed.tasks[0].source.to_string(), "customers");
    // Another workspace cannot export it.
    let eve = app.browser();
    eve.sign_up("eve@example.com").await;
    let eve_ws = eve.current_workspace_id().await;
    assert_eq!(
        eve.get(&format!("/packages/{package}/export.json"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // Eve imports it on her own connections.
    let (eve_src, eve_dst) = (
        fresh_database(TABLES).await,
        fresh_database("CREATE TABLE other (id serial PRIMARY KEY);").await,
    );
    let her_crm = connection(&eve, &eve_ws, "Her CRM", &eve_src).await;
    let her_bad = connection(&eve, &eve_ws, "No customers", &eve_dst).await;
    let her_shop = connection(&eve, &eve_ws, "Her shop", &fresh_database(TABLES).await).await;
    let import = |text: &str, target: &str| {
        vec![
            ("workspace_id", eve_ws.clone()),
            ("text", text.to_owned()),
            ("source_connection", her_crm.clone()),
            ("target_connection", target.to_owned()),
        ]
    };
    let call = |form: Vec<(&'static str, String)>| {
        let eve = &eve;
        async move {
            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            eve.call("import_package", &pairs).await
        }
    };
    // Not a package file: where and what.
    let (status, body) = failure(call(import("{\"name\": ", &her_shop)).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["Validation"]["field"], "text", "{body}");
    assert!(body.to_string().contains("line 1"), "{body}");
    // A task whose table the chosen target lacks: named, and nothing is created.
    let (_, body) = failure(call(import(&file, &her_bad)).await).await;
    assert!(
        body.to_string()
            .contains("tasks[0] (customers → customers)"),
        "{body}"
    );
    let none = eve.call_ok("load_packages", &[]).await;
    assert_eq!(none["packages"].as_array().unwrap().len(), 0);

    let id = eve
        .call_ok(
            "import_package",
            &import(&file, &her_shop)
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect::<Vec<_>>(),
        )
        .await;
    let id = id.as_str().unwrap().to_owned();
    let imported = eve.call_ok("load_package", &[("id", &id)]).await;
    assert_eq!(imported["package"]["name"], "Customers");
    assert_eq!(imported["package"]["locale"], "fr_FR");
    assert_eq!(imported["package"]["source_connection"], her_crm.as_str());
    assert_eq!(imported["package"]["tasks"][0]["source_table"], "customers");
    // The same file again: the name is taken, said so.
    let (status, body) = failure(call(import(&file, &her_shop)).await).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.to_string().contains("name"), "{body}");
    // Under another name it imports.
    let mut renamed = import(&file, &her_shop);
    renamed.push(("name", "Customers again".into()));
    let response = call(renamed).await;
    assert!(response.status().is_success(), "{}", response.status());
    let names: Vec<String> = eve.call_ok("load_packages", &[]).await["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(names.contains(&"Customers again".to_owned()), "{names:?}");

    // First-run match keys travel with the file: imported, kept, exported again; keys that
    // do not fit the tables are refused, naming them.
    let mut matched = parsed.clone();
    matched.name = "Customers matched".into();
    // The schedule travels with the file too.
    matched.schedule = Some(
        serde_json::from_value(serde_json::json!({
            "when": {"kind": "recurring", "start": "2026-01-01T00:00:00",
                     "repeat": {"every": "week", "days": ["Mon", "Fri"]},
                     "time": {"kind": "every", "minutes": 15, "window": {"from": "08:00:00", "to": "18:00:00"}}},
            "time_zone": "Europe/Berlin",
            "enabled": true
        }))
        .unwrap(),
    );
    matched.tasks[0].matching = Some(engine::package::MatchSpec {
        keys: vec![engine::package::MatchKey {
            source: engine::package::FieldSource::Column("email".into()),
            target: engine::package::FieldSource::Column("email".into()),
        }],
        ignore_case_and_spaces: true,
    });
    let mut wrong = matched.clone();
    wrong.tasks[0].matching.as_mut().unwrap().keys[0].target =
        engine::package::FieldSource::Column("e_mail".into());
    let (_, body) = failure(call(import(&wrong.to_json(), &her_shop)).await).await;
    assert!(body.to_string().contains("match.keys[0].target"), "{body}");
    let id = eve
        .call_ok(
            "import_package",
            &import(&matched.to_json(), &her_shop)
                .iter()
                .map(|(k, v)| (*k, v.as_str()))
                .collect::<Vec<_>>(),
        )
        .await;
    let exported = eve
        .get(&format!("/packages/{}/export.json", id.as_str().unwrap()))
        .await
        .text()
        .await
        .unwrap();
    let again = engine::package::Package::from_json(&exported).unwrap();
    assert_eq!(
        again.tasks[0].matching, matched.tasks[0].matching,
        "{exported}"
    );
    assert_eq!(again.schedule, matched.schedule, "{exported}");
    let schedule = eve
        .call_ok("load_schedule", &[("package_id", id.as_str().unwrap())])
        .await;
    assert!(
        schedule["summary"]
            .as_str()
            .unwrap_or_default()
            .contains("Every 15 minutes on Mon, Fri from 08:00 to 18:00"),
        "{schedule}"
    );
}
