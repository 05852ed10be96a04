//! Building packages over HTTP the way the editor does: databases, connections, tasks.

use super::Browser;

/// A new database holding `tables`; returns its name.
pub async fn fresh_database(tables: &str) -> String {
    let (url, pool) = super::fresh_database("pe").await;
    sqlx::raw_sql(tables).execute(&pool).await.unwrap();
    url.rsplit('/').next().unwrap().to_owned()
}

/// Saves a PostgreSQL connection to `database` and returns its id.
pub async fn connection(browser: &Browser, ws: &str, name: &str, database: &str) -> String {
    save_connection(browser, ws, None, name, database, &[]).await;
    let list = browser.call_ok("load_connections", &[]).await;
    list["connections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Creates (`id` None) or updates a PostgreSQL connection to `database` on the test server;
/// `overrides` replace form fields (`port`, `host`, `password`, …).
pub async fn save_connection(
    browser: &Browser,
    ws: &str,
    id: Option<&str>,
    name: &str,
    database: &str,
    overrides: &[(&str, &str)],
) {
    let url = url::Url::parse(&super::admin_url()).unwrap();
    let port = url.port().unwrap_or(5432).to_string();
    let mut form = vec![
        ("workspace_id", ws),
        ("intent", "save"),
        ("name", name),
        ("kind", "postgres"),
        ("host", url.host_str().unwrap()),
        ("port", port.as_str()),
        ("database", database),
        ("username", url.username()),
        ("ssl_mode", "disable"),
    ];
    if let Some(id) = id {
        form.push(("id", id));
    }
    for (field, value) in overrides {
        form.retain(|(f, _)| f != field);
        form.push((field, value));
    }
    browser.call_ok("save_connection", &form).await;
}

/// Creates a package on two saved connections; returns its id.
pub async fn package(
    browser: &Browser,
    ws: &str,
    name: &str,
    (source, target): (&str, &str),
    locale: &str,
) -> String {
    browser
        .call_ok(
            "save_package",
            &[
                ("workspace_id", ws),
                ("name", name),
                ("source_connection", source),
                ("target_connection", target),
                ("locale", locale),
            ],
        )
        .await
        .as_str()
        .unwrap()
        .to_owned()
}

pub fn task_form<'a>(
    ws: &'a str,
    package: &'a str,
    source: &'a str,
    target: &'a str,
    rows: &[(&'a str, &'a str, &'a str)],
) -> Vec<(String, String)> {
    let mut form = vec![
        ("workspace_id".to_owned(), ws.to_owned()),
        ("package_id".to_owned(), package.to_owned()),
        ("source_table".to_owned(), source.to_owned()),
        ("target_table".to_owned(), target.to_owned()),
    ];
    for (i, (column, kind, value)) in rows.iter().enumerate() {
        form.push((format!("s2t_column[{i}]"), (*column).to_owned()));
        form.push((format!("s2t_kind[{i}]"), (*kind).to_owned()));
        form.push((format!("s2t_value[{i}]"), (*value).to_owned()));
        form.push((format!("t2s_column[{i}]"), (*column).to_owned()));
        form.push((format!("t2s_kind[{i}]"), "column".to_owned()));
        form.push((format!("t2s_value[{i}]"), (*column).to_owned()));
    }
    form
}

pub async fn post(
    browser: &Browser,
    endpoint: &str,
    form: &[(String, String)],
) -> reqwest::Response {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    browser.call(endpoint, &pairs).await
}
