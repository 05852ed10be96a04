//! Cloud connections through the app: a Salesforce connection is tested against the
//! emulator (a wrong secret named, the stored one reused), its secret never comes back to the
//! browser nor goes into an exported file, and the dedicated-account flag sticks only where a
//! side can have one.

mod support;

use emulators::salesforce::Salesforce;
use support::TestApp;
use support::packages::{connection, fresh_database, package, save_connection};

const TABLES: &str = "CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL);";

#[tokio::test]
async fn a_salesforce_connection_is_tested_saved_and_exported_without_its_secret() {
    let org = Salesforce::new();
    let running = org.start().await.unwrap();
    let app = TestApp::spawn().await;
    let ann = app.browser();
    ann.sign_up("ann@example.com").await;
    let ws = ann.current_workspace_id().await;
    let base = running.base_url();
    let form = |intent: &'static str, secret: &'static str| {
        vec![
            ("workspace_id", ws.clone()),
            ("intent", intent.to_owned()),
            ("name", "Sales org".to_owned()),
            ("kind", "salesforce".to_owned()),
            ("host", base.clone()),
            ("port", "443".to_owned()),
            ("database", Salesforce::CLIENT_ID.to_owned()),
            ("username", String::new()),
            ("password", secret.to_owned()),
            ("ssl_mode", "require".to_owned()),
        ]
    };
    let call = |fields: Vec<(&'static str, String)>| {
        let ann = &ann;
        async move {
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            ann.call_ok("save_connection", &pairs).await
        }
    };

    let wrong = call(form("test", "not-the-secret")).await;
    assert_eq!(wrong["ok"], false, "{wrong}");
    assert_eq!(wrong["title"], "Authentication failed");
    let right = call(form("test", Salesforce::CLIENT_SECRET)).await;
    assert_eq!(right["ok"], true, "{right}");
    call(form("save", Salesforce::CLIENT_SECRET)).await;

    let list = ann.call_ok("load_connections", &[]).await;
    let text = list.to_string();
    assert!(
        !text.contains(Salesforce::CLIENT_SECRET),
        "the secret stays on the server"
    );
    let sf = list["connections"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(list["connections"][0]["has_password"], true);

    // Testing the saved connection with the secret field left empty uses the stored one.
    let mut stored = form("test", "");
    stored.push(("id", sf.clone()));
    assert_eq!(call(stored).await["ok"], true);

    // A bad login URL is named.
    let mut bad = form("save", Salesforce::CLIENT_SECRET);
    bad.retain(|(k, _)| *k != "host");
    bad.push(("host", "login.salesforce.com".to_owned()));
    let pairs: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, body) = support::failure(ann.call("save_connection", &pairs).await).await;
    assert_eq!(status, reqwest::StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["Validation"]["field"], "host", "{body}");
    assert!(body.to_string().contains("https://"), "{body}");

    // The dedicated-account flag is kept with a Salesforce side, and the export carries no
    // secret.
    let db = fresh_database(TABLES).await;
    let shop = connection(&ann, &ws, "Shop", &db).await;
    let id = ann
        .call_ok(
            "save_package",
            &[
                ("workspace_id", ws.as_str()),
                ("name", "Accounts"),
                ("source_connection", sf.as_str()),
                ("target_connection", shop.as_str()),
                ("locale", "invariant"),
                ("dedicated_account", "yes"),
            ],
        )
        .await;
    let id = id.as_str().unwrap();
    let file = ann
        .get(&format!("/packages/{id}/export.json"))
        .await
        .text()
        .await
        .unwrap();
    let exported: serde_json::Value = serde_json::from_str(&file).unwrap();
    assert_eq!(exported["dedicated_account"], true, "{file}");
    assert_eq!(exported["source"]["kind"], "salesforce");
    assert_eq!(exported["source"]["client_id"], Salesforce::CLIENT_ID);
    assert!(!file.contains(Salesforce::CLIENT_SECRET), "{file}");

    // Between two databases the flag means nothing and is not kept.
    let other = fresh_database(TABLES).await;
    save_connection(&ann, &ws, None, "Other", &other, &[]).await;
    let list = ann.call_ok("load_connections", &[]).await;
    let other_id = list["connections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "Other")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let plain = package(&ann, &ws, "Plain", (&shop, &other_id), "invariant").await;
    let resaved = ann
        .call_ok(
            "save_package",
            &[
                ("workspace_id", ws.as_str()),
                ("id", plain.as_str()),
                ("name", "Plain"),
                ("source_connection", shop.as_str()),
                ("target_connection", other_id.as_str()),
                ("locale", "invariant"),
                ("dedicated_account", "yes"),
            ],
        )
        .await;
    let file = ann
        .get(&format!(
            "/packages/{}/export.json",
            resaved.as_str().unwrap()
        ))
        .await
        .text()
        .await
        .unwrap();
    assert!(!file.contains("dedicated_account"), "{file}");
}
