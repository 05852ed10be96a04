//! OAuth 2.0 against Salesforce's token endpoint: the client credentials flow (a connected
//! app with a "run as" user, the recommended integration setup) or the username-password
//! flow (the password with the security token appended). A session that expires (401
//! `INVALID_SESSION_ID`) is renewed once per call.

use std::fmt;

use serde::Deserialize;

use super::super::ConnectorError;
use super::super::cloud::http::{Api, clip, failure, summary};

/// How the connection signs in.
#[derive(Clone)]
pub enum SalesforceAuth {
    ClientCredentials {
        client_id: String,
        client_secret: String,
    },
    Password {
        client_id: String,
        client_secret: String,
        username: String,
        password: String,
    },
}

impl fmt::Debug for SalesforceAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SalesforceAuth::ClientCredentials { client_id, .. } => f
                .debug_struct("ClientCredentials")
                .field("client_id", client_id)
                .field("client_secret", &"***")
                .finish(),
            SalesforceAuth::Password {
                client_id,
                username,
                ..
            } => f
                .debug_struct("Password")
                .field("client_id", client_id)
                .field("client_secret", &"***")
                .field("username", username)
                .field("password", &"***")
                .finish(),
        }
    }
}

/// A signed-in session.
#[derive(Clone)]
pub struct Session {
    pub token: String,
    /// The org's API host (`https://mydomain.my.salesforce.com`).
    pub instance_url: String,
    /// The connection's user (`005…`), from the identity URL the token endpoint returns.
    pub user_id: Option<String>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("token", &"***")
            .field("instance_url", &self.instance_url)
            .field("user_id", &self.user_id)
            .finish()
    }
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    instance_url: String,
    #[serde(default)]
    id: Option<String>,
}

#[derive(Deserialize)]
struct TokenRefusal {
    error: String,
    #[serde(default)]
    error_description: String,
}

pub async fn sign_in(
    api: &Api,
    login_url: &str,
    auth: &SalesforceAuth,
) -> Result<Session, ConnectorError> {
    let url = format!("{}/services/oauth2/token", login_url.trim_end_matches('/'));
    let form: Vec<(&str, &str)> = match auth {
        SalesforceAuth::ClientCredentials {
            client_id,
            client_secret,
        } => vec![
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", client_secret),
        ],
        SalesforceAuth::Password {
            client_id,
            client_secret,
            username,
            password,
        } => vec![
            ("grant_type", "password"),
            ("client_id", client_id),
            ("client_secret", client_secret),
            ("username", username),
            ("password", password),
        ],
    };
    let response = api
        .send("sign in", || api.client().post(&url).form(&form))
        .await?;
    let status = response.status();
    if status.is_success() {
        let answer: TokenAnswer = response.json().await.map_err(|e| {
            failure(
                format!("Salesforce: the token endpoint answered something unexpected: {e}"),
                false,
            )
        })?;
        let user_id = answer
            .id
            .as_deref()
            .and_then(|id| id.rsplit('/').next())
            .filter(|u| !u.is_empty())
            .map(str::to_owned);
        let instance = url::Url::parse(&answer.instance_url).ok().filter(|u| {
            matches!(u.scheme(), "https" | "http")
                && u.host_str().is_some()
                && u.username().is_empty()
                && u.password().is_none()
        });
        if instance.is_none() {
            return Err(failure(
                "Salesforce: the token endpoint answered an instance URL that is not an http(s) address".into(),
                false,
            ));
        }
        return Ok(Session {
            token: answer.access_token,
            instance_url: answer.instance_url.trim_end_matches('/').to_owned(),
            user_id,
        });
    }
    let body = response.text().await.unwrap_or_default();
    let refusal: Option<TokenRefusal> = serde_json::from_str(&body).ok();
    let message = match refusal {
        Some(r) => {
            let hint = match r.error.as_str() {
                "invalid_client_id" | "invalid_client" => {
                    "check the connected app's consumer key and secret"
                }
                "invalid_grant" => {
                    "check the username and the password (with the security token appended), or that the connected app allows this flow for the user"
                }
                "unsupported_grant_type" => "enable this OAuth flow in the connected app",
                _ => "check the connection's settings",
            };
            format!(
                "Salesforce refused to sign in: {}; {hint}",
                clip(&format!("{} ({})", r.error_description, r.error))
            )
        }
        None => format!("Salesforce refused to sign in: {}", summary(status, &body)),
    };
    Err(failure(message, status.is_server_error()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_and_credentials_print_redacted() {
        let session = Session {
            token: "00Dxx!token-value".into(),
            instance_url: "https://org.my.salesforce.com".into(),
            user_id: None,
        };
        let auth = SalesforceAuth::Password {
            client_id: "key".into(),
            client_secret: "consumer-secret".into(),
            username: "u@example.com".into(),
            password: "pw-and-token".into(),
        };
        let printed = format!("{session:?} {auth:?}");
        for secret in ["token-value", "consumer-secret", "pw-and-token"] {
            assert!(!printed.contains(secret), "{printed}");
        }
        assert!(printed.contains("org.my.salesforce.com"), "{printed}");
    }
}
