//! Delete a package, after a confirmation that says what goes with it (the package list and
//! the package page share it).

use leptos::prelude::*;
use uuid::Uuid;

use crate::api::packages::DeletePackage;

#[component]
pub fn DeletePackageConfirm(
    workspace_id: Uuid,
    id: Uuid,
    name: String,
    delete: ServerAction<DeletePackage>,
    /// The list's small buttons, or the page's.
    #[prop(optional)]
    small: bool,
) -> impl IntoView {
    let size = if small { " small" } else { "" };
    let question = format!(
        "Delete the package {name}, its tasks, ID map and run history? The change tracking it installed is removed from both databases."
    );
    view! {
        <details class="confirm">
            <summary class=format!("button danger{size}")>"Delete"</summary>
            <ActionForm action=delete attr:class="inline-form">
                <input type="hidden" name="workspace_id" value=workspace_id.to_string() />
                <input type="hidden" name="id" value=id.to_string() />
                <span>{question}</span>
                <label class="checkbox small"><input type="checkbox" name="leave_tracking" value="yes" />" Delete even if a database cannot be reached (its triggers stay)"</label>
                <button type="submit" class=format!("button danger{size}")>"Yes, delete"</button>
            </ActionForm>
        </details>
    }
}
