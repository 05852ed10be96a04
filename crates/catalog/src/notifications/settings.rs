//! The notification rules, recipients and webhooks of a workspace. Admins only: a webhook's
//! address can itself be a secret (chat services put their key in it).

use chrono::{DateTime, Utc};
use rand::RngCore;
use sqlx::PgPool;
use uuid::Uuid;

use crate::secrets::SecretBox;
use crate::workspaces::require_role;
use crate::{CatalogError, Role};

/// What to notify about and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub on_failure: bool,
    pub on_recovery: bool,
    /// Also when a run has more failed records than this.
    pub failed_records_over: Option<i32>,
    pub by_email: bool,
    pub by_webhook: bool,
}

impl Default for Rule {
    /// Failures and recoveries, by every channel (nothing is sent until the workspace has
    /// recipients or webhooks).
    fn default() -> Self {
        Rule {
            on_failure: true,
            on_recovery: true,
            failed_records_over: None,
            by_email: true,
            by_webhook: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageRule {
    pub package_id: Uuid,
    pub package_name: String,
    pub rule: Rule,
}

/// A webhook as its list shows it (never its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub id: Uuid,
    pub name: String,
    pub url: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationSettings {
    pub default: Rule,
    pub overrides: Vec<PackageRule>,
    /// Members who get the emails.
    pub recipients: Vec<Uuid>,
    pub webhooks: Vec<Webhook>,
    /// Every package of the workspace by name (for choosing one to give its own rule).
    pub packages: Vec<(Uuid, String)>,
}

type RuleRow = (
    Option<Uuid>,
    Option<String>,
    bool,
    bool,
    Option<i32>,
    bool,
    bool,
);

/// The workspace's notification settings. Admins.
pub async fn settings(
    pool: &PgPool,
    user: Uuid,
    workspace: Uuid,
) -> Result<NotificationSettings, CatalogError> {
    let mut conn = pool.acquire().await?;
    require_role(&mut conn, workspace, user, Role::Admin).await?;
    let rules: Vec<RuleRow> = sqlx::query_as(
        "SELECT r.package_id, p.name, r.on_failure, r.on_recovery, r.failed_records_over, r.by_email, r.by_webhook
           FROM notification_rules r LEFT JOIN packages p ON p.id = r.package_id
          WHERE r.workspace_id = $1 ORDER BY lower(p.name) NULLS FIRST",
    )
    .bind(workspace)
    .fetch_all(&mut *conn)
    .await?;
    let mut settings = NotificationSettings {
        default: Rule::default(),
        overrides: Vec::new(),
        recipients: sqlx::query_scalar(
            "SELECT user_id FROM notification_recipients WHERE workspace_id = $1",
        )
        .bind(workspace)
        .fetch_all(&mut *conn)
        .await?,
        webhooks: sqlx::query_as::<_, (Uuid, String, String, DateTime<Utc>)>(
            "SELECT id, name, url, created_at FROM webhooks WHERE workspace_id = $1 ORDER BY created_at",
        )
        .bind(workspace)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|(id, name, url, created_at)| Webhook {
            id,
            name,
            url,
            created_at,
        })
        .collect(),
        packages: sqlx::query_as(
            "SELECT id, name FROM packages WHERE workspace_id = $1 ORDER BY lower(name), id LIMIT 5000",
        )
        .bind(workspace)
        .fetch_all(&mut *conn)
        .await?,
    };
    for (package, name, on_failure, on_recovery, failed_records_over, by_email, by_webhook) in rules
    {
        let rule = Rule {
            on_failure,
            on_recovery,
            failed_records_over,
            by_email,
            by_webhook,
        };
        match (package, name) {
            (Some(package_id), Some(package_name)) => settings.overrides.push(PackageRule {
                package_id,
                package_name,
                rule,
            }),
            _ => settings.default = rule,
        }
    }
    Ok(settings)
}

/// Sets the workspace default (`package` None) or a package's own rule. Admins.
pub async fn save_rule(
    pool: &PgPool,
    user: Uuid,
    workspace: Uuid,
    package: Option<Uuid>,
    rule: Rule,
) -> Result<(), CatalogError> {
    if rule.failed_records_over.is_some_and(|n| n < 0) {
        return Err(CatalogError::validation(
            "failed_records_over",
            "enter a number of failed records of 0 or more, or leave it empty",
        ));
    }
    let mut tx = pool.begin().await?;
    require_role(&mut tx, workspace, user, Role::Admin).await?;
    if let Some(package) = package {
        let exists: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM packages WHERE workspace_id = $1 AND id = $2)",
        )
        .bind(workspace)
        .bind(package)
        .fetch_one(&mut *tx)
        .await?;
        if !exists {
            return Err(CatalogError::validation(
                "package",
                "choose a package of this workspace",
            ));
        }
    }
    let changed = sqlx::query(
        "UPDATE notification_rules SET on_failure = $3, on_recovery = $4, failed_records_over = $5,
                by_email = $6, by_webhook = $7, updated_at = now()
          WHERE workspace_id = $1 AND package_id IS NOT DISTINCT FROM $2",
    )
    .bind(workspace)
    .bind(package)
    .bind(rule.on_failure)
    .bind(rule.on_recovery)
    .bind(rule.failed_records_over)
    .bind(rule.by_email)
    .bind(rule.by_webhook)
    .execute(&mut *tx)
    .await?;
    if changed.rows_affected() == 0 {
        sqlx::query(
            "INSERT INTO notification_rules (id, workspace_id, package_id, on_failure, on_recovery,
                                             failed_records_over, by_email, by_webhook)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(Uuid::new_v4())
        .bind(workspace)
        .bind(package)
        .bind(rule.on_failure)
        .bind(rule.on_recovery)
        .bind(rule.failed_records_over)
        .bind(rule.by_email)
        .bind(rule.by_webhook)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Makes a package follow the workspace default again. Admins.
pub async fn remove_override(
    pool: &PgPool,
    user: Uuid,
    workspace: Uuid,
    package: Uuid,
) -> Result<(), CatalogError> {
    let mut tx = pool.begin().await?;
    require_role(&mut tx, workspace, user, Role::Admin).await?;
    sqlx::query("DELETE FROM notification_rules WHERE workspace_id = $1 AND package_id = $2")
        .bind(workspace)
        .bind(package)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Adds a member to (`receive`) or removes them from the emails' recipients. Admins.
pub async fn set_recipient(
    pool: &PgPool,
    user: Uuid,
    workspace: Uuid,
    member: Uuid,
    receive: bool,
) -> Result<(), CatalogError> {
    let mut tx = pool.begin().await?;
    require_role(&mut tx, workspace, user, Role::Admin).await?;
    if receive {
        let added = sqlx::query(
            "INSERT INTO notification_recipients (workspace_id, user_id)
             SELECT workspace_id, user_id FROM memberships WHERE workspace_id = $1 AND user_id = $2
             ON CONFLICT DO NOTHING",
        )
        .bind(workspace)
        .bind(member)
        .execute(&mut *tx)
        .await?;
        let member_exists: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM memberships WHERE workspace_id = $1 AND user_id = $2)",
        )
        .bind(workspace)
        .bind(member)
        .fetch_one(&mut *tx)
        .await?;
        if added.rows_affected() == 0 && !member_exists {
            return Err(CatalogError::validation(
                "member",
                "choose a member of this workspace",
            ));
        }
    } else {
        sqlx::query("DELETE FROM notification_recipients WHERE workspace_id = $1 AND user_id = $2")
            .bind(workspace)
            .bind(member)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Checks a webhook URL typed by a person: http(s), a host, no credentials, not too long.
fn check_url(url: &str) -> Result<String, CatalogError> {
    let url = url.trim();
    let refuse = |why: &str| {
        Err(CatalogError::validation(
            "url",
            format!(
                "{why}: enter an http:// or https:// address such as https://hooks.example.com/lockstep"
            ),
        ))
    };
    if url.len() > 2000 {
        return refuse("this address is too long");
    }
    let Ok(parsed) = url::Url::parse(url) else {
        return refuse("this is not a web address");
    };
    if !matches!(parsed.scheme(), "http" | "https") {
        return refuse(&format!("“{}:” addresses are not allowed", parsed.scheme()));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return refuse("the address has no host");
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return refuse(
            "put no user name or password in the address (the signature proves the sender)",
        );
    }
    Ok(parsed.to_string())
}

/// The context a webhook's secret is sealed with (a sealed secret cannot be moved to
/// another webhook).
pub(crate) fn secret_context(webhook: Uuid) -> Vec<u8> {
    [b"webhook:".as_slice(), webhook.as_bytes()].concat()
}

/// Adds a webhook and returns it with its signing secret, shown once. Admins.
pub async fn add_webhook(
    pool: &PgPool,
    secrets: &SecretBox,
    user: Uuid,
    workspace: Uuid,
    name: &str,
    url: &str,
) -> Result<(Webhook, String), CatalogError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        return Err(CatalogError::validation(
            "name",
            "give the webhook a name of 1 to 80 characters",
        ));
    }
    let url = check_url(url)?;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = format!("whsec_{}", hex::encode(bytes));
    let id = Uuid::new_v4();
    let mut tx = pool.begin().await?;
    require_role(&mut tx, workspace, user, Role::Admin).await?;
    let created_at: DateTime<Utc> = sqlx::query_scalar(
        "INSERT INTO webhooks (id, workspace_id, name, url, secret) VALUES ($1, $2, $3, $4, $5)
         RETURNING created_at",
    )
    .bind(id)
    .bind(workspace)
    .bind(name)
    .bind(&url)
    .bind(secrets.seal(&secret, &secret_context(id)))
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok((
        Webhook {
            id,
            name: name.to_owned(),
            url,
            created_at,
        },
        secret,
    ))
}

/// Removes a webhook and its delivery log. Admins.
pub async fn delete_webhook(
    pool: &PgPool,
    user: Uuid,
    workspace: Uuid,
    id: Uuid,
) -> Result<(), CatalogError> {
    let mut tx = pool.begin().await?;
    require_role(&mut tx, workspace, user, Role::Admin).await?;
    let done = sqlx::query("DELETE FROM webhooks WHERE workspace_id = $1 AND id = $2")
        .bind(workspace)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(CatalogError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

/// Queues a test notification to one webhook, due at once; returns the delivery's id.
/// Admins.
pub async fn test_delivery(
    pool: &PgPool,
    user: Uuid,
    workspace: Uuid,
    webhook: Uuid,
    public_url: &str,
) -> Result<Uuid, CatalogError> {
    let mut tx = pool.begin().await?;
    require_role(&mut tx, workspace, user, Role::Admin).await?;
    let found: Option<(String, String)> = sqlx::query_as(
        "SELECT w.url, s.name FROM webhooks w JOIN workspaces s ON s.id = w.workspace_id
          WHERE w.workspace_id = $1 AND w.id = $2",
    )
    .bind(workspace)
    .bind(webhook)
    .fetch_optional(&mut *tx)
    .await?;
    let (url, workspace_name) = found.ok_or(CatalogError::NotFound)?;
    let payload = serde_json::json!({
        "event": super::Event::Test.as_str(),
        "workspace": {"id": workspace, "name": workspace_name},
        "message": "A test notification from Lockstep: this webhook receives notices of failed runs and recoveries.",
        "link": format!("{}/settings/notifications", public_url.trim_end_matches('/')),
    });
    let id = Uuid::new_v4();
    sqlx::query(
        "INSERT INTO notification_deliveries (id, workspace_id, event, channel, webhook_id, recipient, payload)
         VALUES ($1, $2, 'test', 'webhook', $3, $4, $5)",
    )
    .bind(id)
    .bind(workspace)
    .bind(webhook)
    .bind(&url)
    .bind(payload)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::check_url;

    #[test]
    fn webhook_addresses_are_http_only_without_credentials() {
        assert!(check_url(" https://hooks.example.com/x ").is_ok());
        assert!(check_url("http://10.0.0.5:8080/hook").is_ok());
        for bad in [
            "ftp://example.com/",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "https://user:pw@example.com/",
            "not a url",
            "",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }
}
