//! Connections: list, editor, Test connection, delete. Passwords go in, never out.

use leptos::prelude::*;
use uuid::Uuid;

use crate::error::AppError;
use crate::model::{ConnectionEditData, ConnectionTest, ConnectionsData};

#[cfg(feature = "ssr")]
fn view_of(c: catalog::connections::Connection) -> crate::model::ConnectionView {
    crate::model::ConnectionView {
        id: c.id,
        name: c.name,
        kind: c.kind,
        host: c.host,
        port: c.port,
        database: c.database,
        username: c.username,
        ssl_mode: c.ssl_mode,
        has_password: c.has_password,
        created_by: c.created_by,
        created: super::ssr::format_time(c.created_at),
        used_by: c.used_by,
    }
}

/// The current workspace's connections.
#[server(endpoint = "load_connections")]
pub async fn load_connections() -> Result<ConnectionsData, AppError> {
    use super::ssr::*;
    respond(async move {
        let user = require_user().await?;
        let pool = pool()?;
        let workspace = current_workspace(&pool, user.id).await?;
        let list = catalog::connections::list(&pool, user.id, workspace.id).await?;
        Ok(ConnectionsData {
            workspace: workspace.into(),
            connections: list.into_iter().map(view_of).collect(),
        })
    })
    .await
}

/// The editor's data: the workspace and the connection. Developers and Admins only (the
/// list shows Viewers everything they may see).
#[server(endpoint = "load_connection")]
pub async fn load_connection(id: Option<Uuid>) -> Result<ConnectionEditData, AppError> {
    use super::ssr::*;
    respond(async move {
        let user = require_user().await?;
        let pool = pool()?;
        let workspace = current_workspace(&pool, user.id).await?;
        require_editor(&pool, user.id, workspace.id).await?;
        let connection = match id {
            Some(id) => Some(view_of(
                catalog::connections::get(&pool, user.id, workspace.id, id).await?,
            )),
            None => None,
        };
        Ok(ConnectionEditData {
            workspace: workspace.into(),
            connection,
        })
    })
    .await
}

/// Saves the form (`intent` = `save`; after a failed test only with `save_anyway`), or only
/// tries it (`intent` = `test`): a test of an
/// edited connection whose password field is empty uses the stored password, as long as the
/// form still points at the same server and account. Neither reaches our metadata database
/// or a refused address (`engine::connectors::destination`).
#[allow(clippy::too_many_arguments)]
#[server(endpoint = "save_connection")]
pub async fn save_connection(
    workspace_id: Uuid,
    id: Option<Uuid>,
    intent: String,
    name: String,
    kind: String,
    host: String,
    port: String,
    database: String,
    username: String,
    #[server(default)] password: String,
    #[server(default)] extra_secret: String,
    ssl_mode: String,
    #[server(default)] clear_password: Option<String>,
    #[server(default)] last_test_failed: Option<String>,
    #[server(default)] save_anyway: Option<String>,
) -> Result<Option<ConnectionTest>, AppError> {
    use super::ssr::*;
    use catalog::connections::{self, ConnectionForm};
    // Contexts are read before the first await (see `load_task`).
    let state = state();
    respond(async move {
        let secrets = state?.secrets;
        let user = require_user().await?;
        let pool = pool()?;
        let form = ConnectionForm {
            name,
            kind,
            host,
            port,
            database,
            username,
            password,
            extra_secret,
            ssl_mode,
            clear_password: clear_password.is_some_and(|v| !v.is_empty()),
        };
        if intent == "test" {
            require_editor(&pool, user.id, workspace_id).await?;
            let mut valid = form.validate()?;
            if let Some(id) = id
                && (valid.password.is_none() || valid.extra_secret.is_none())
            {
                // Only while the form points where the saved connection points.
                let (password, extra) =
                    connections::stored_secrets(&pool, &secrets, user.id, workspace_id, id, &valid)
                        .await?;
                valid.password = valid.password.or(password);
                valid.extra_secret = valid.extra_secret.or(extra);
            }
            let spec = valid.spec(valid.password.as_ref(), valid.extra_secret.as_ref());
            let outcome = engine::connectors::probe::probe(
                &spec,
                &catalog::cloud_tracking::connect_options(&pool, false),
            )
            .await;
            return Ok(Some(match outcome {
                Ok(version) => ConnectionTest {
                    ok: true,
                    title: "Connected".into(),
                    message: version,
                },
                Err(e) => ConnectionTest {
                    ok: false,
                    title: e.failure.label().into(),
                    message: e.message,
                },
            }));
        }
        let checked = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.is_empty());
        if checked(&last_test_failed) && !checked(&save_anyway) {
            return Err(AppError::Conflict {
                field: "save_anyway".into(),
                message: "the last test of this connection failed. Fix it and test again, or tick “Save even though the test failed”".into(),
            });
        }
        connections::save(&pool, &secrets, user.id, workspace_id, id, &form).await?;
        leptos_axum::redirect("/connections");
        Ok(None)
    })
    .await
}

/// Deletes a connection no package uses.
#[server(endpoint = "delete_connection")]
pub async fn delete_connection(workspace_id: Uuid, id: Uuid) -> Result<(), AppError> {
    use super::ssr::*;
    respond(async move {
        let user = require_user().await?;
        catalog::connections::delete(&pool()?, user.id, workspace_id, id).await?;
        Ok(())
    })
    .await
}
