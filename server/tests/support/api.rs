//! Calling the REST API the way a script does: a bearer token, JSON in and out.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::{Browser, TestApp};

/// One answer of the API.
pub struct Answer {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.text))
    }
}

pub async fn api(
    app: &TestApp,
    token: Option<&str>,
    method: Method,
    path: &str,
    body: Option<String>,
) -> Answer {
    let client = reqwest::Client::new();
    let mut request = client.request(method, format!("{}/api/v1{path}", app.url));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body);
    }
    let response = request.send().await.unwrap();
    Answer {
        status: response.status(),
        headers: response.headers().clone(),
        text: response.text().await.unwrap(),
    }
}

/// A token made in the app by `browser` in its current workspace.
pub async fn token(browser: &Browser, ws: &str, name: &str, role: &str) -> String {
    let made = browser
        .call_ok(
            "create_api_token",
            &[("workspace_id", ws), ("name", name), ("role", role)],
        )
        .await;
    made["secret"].as_str().unwrap().to_owned()
}

/// A script holding one token: what CI does with the API.
pub struct Script<'a> {
    app: &'a TestApp,
    token: String,
}

impl<'a> Script<'a> {
    pub fn new(app: &'a TestApp, token: &str) -> Self {
        Script {
            app,
            token: token.to_owned(),
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        api(self.app, Some(&self.token), Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Option<String>) -> Answer {
        api(self.app, Some(&self.token), Method::POST, path, body).await
    }

    pub async fn put(&self, path: &str, body: String) -> Answer {
        api(self.app, Some(&self.token), Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        api(self.app, Some(&self.token), Method::DELETE, path, None).await
    }
}
