//! Signing in to Dynamics 365: OAuth 2.0 client credentials against the Microsoft identity
//! platform (the tenant's token endpoint, scope `{org}/.default`).

use serde::Deserialize;

use super::super::Result;
use super::super::cloud::http::{Api, clip, failure, summary};

/// How the connection signs in.
#[derive(Clone)]
pub struct DynamicsAuth {
    /// `https://login.microsoftonline.com`, or an emulator's address.
    pub authority: String,
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
}

impl std::fmt::Debug for DynamicsAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamicsAuth")
            .field("authority", &self.authority)
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .finish()
    }
}

/// A directory (tenant) id as it may go into the token endpoint's path: a GUID, or a domain
/// name such as `contoso.onmicrosoft.com`.
pub fn is_tenant_id(text: &str) -> bool {
    let guid = text.len() == 36
        && text.char_indices().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    let domain = text.len() <= 253
        && text.contains('.')
        && text.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    guid || domain
}

#[derive(Deserialize)]
struct Token {
    access_token: String,
}

#[derive(Deserialize)]
struct TokenRefusal {
    error: String,
    #[serde(default)]
    error_description: String,
}

pub async fn sign_in(api: &Api, org: &str, auth: &DynamicsAuth) -> Result<String> {
    if !is_tenant_id(&auth.tenant_id) {
        return Err(failure(
            "Dynamics 365: the tenant id must be the directory's GUID (Microsoft Entra ID → Overview → Tenant ID) or its domain name such as contoso.onmicrosoft.com".into(),
            false,
        ));
    }
    let url = format!(
        "{}/{}/oauth2/v2.0/token",
        auth.authority.trim_end_matches('/'),
        auth.tenant_id
    );
    let scope = format!("{org}/.default");
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", auth.client_id.as_str()),
        ("client_secret", auth.client_secret.as_str()),
        ("scope", scope.as_str()),
    ];
    let response = api
        .send("sign in", || api.client().post(&url).form(&form))
        .await?;
    let status = response.status();
    if status.is_success() {
        let token: Token = response.json().await.map_err(|e| {
            failure(
                format!("Dynamics 365: the token endpoint answered something unexpected: {e}"),
                false,
            )
        })?;
        return Ok(token.access_token);
    }
    let body = response.text().await.unwrap_or_default();
    let message = match serde_json::from_str::<TokenRefusal>(&body) {
        Ok(r) => {
            let first_line = r
                .error_description
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned();
            format!(
                "Dynamics 365 refused to sign in: {}; check the tenant id, the application (client) id and its secret",
                clip(&format!("{first_line} ({})", r.error))
            )
        }
        Err(_) => format!(
            "Dynamics 365 refused to sign in: {}",
            summary(status, &body)
        ),
    };
    Err(failure(message, status.is_server_error()))
}
