//! The audit log (Admins): who changed what, and who started or canceled runs.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::AuditData;

/// Filters as the page's GET form and the CSV link send them, checked.
#[cfg(feature = "ssr")]
pub mod ssr_only {
    use catalog::audit::AuditFilter;

    use crate::error::AppError;

    pub fn filter(
        kind: Option<String>,
        who: Option<String>,
        from: Option<String>,
        until: Option<String>,
    ) -> Result<AuditFilter, AppError> {
        let filled = |v: Option<String>| v.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let date = crate::api::ssr::day_filter;
        Ok(AuditFilter {
            object_kind: filled(kind),
            who: filled(who),
            from: date("from", from, false)?,
            until: date("until", until, true)?,
        })
    }
}

/// A page of the current workspace's audit log, newest first (Admins).
#[server(endpoint = "load_audit")]
pub async fn load_audit(
    kind: Option<String>,
    who: Option<String>,
    from: Option<String>,
    until: Option<String>,
    page: Option<String>,
) -> Result<AuditData, AppError> {
    use super::ssr::*;
    use crate::model::AuditEntryView;
    use catalog::audit::{self, AuditPosition};
    respond(async move {
        let user = require_user().await?;
        let pool = pool()?;
        let workspace = current_workspace(&pool, user.id).await?;
        let filter = ssr_only::filter(kind, who, from, until)?;
        let after = match page.as_deref().filter(|p| !p.is_empty()) {
            Some(text) => Some(AuditPosition::parse(text).ok_or_else(|| {
                AppError::Validation {
                    field: "page".into(),
                    message:
                        "this page link is not valid; open the newest entries and page from there"
                            .into(),
                }
            })?),
            None => None,
        };
        const PER_PAGE: u32 = 50;
        let found = audit::list(&pool, user.id, workspace.id, &filter, after, PER_PAGE).await?;
        Ok(AuditData {
            workspace: workspace.into(),
            entries: found
                .entries
                .into_iter()
                .map(|e| AuditEntryView {
                    at: format_time(e.at),
                    actor: e.actor.label(),
                    action: e.action,
                    object_kind: e.object_kind,
                    object_name: e.object_name.unwrap_or_default(),
                    summary: e.summary,
                })
                .collect(),
            older: found.older.map(AuditPosition::to_param),
            kinds: audit::OBJECT_KINDS
                .iter()
                .map(|k| (*k).to_owned())
                .collect(),
        })
    })
    .await
}
