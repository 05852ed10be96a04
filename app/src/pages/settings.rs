//! Workspace settings: rename (Admins) and create another workspace (anyone).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::feedback::{FieldError, FormError, PageError, last_error, loading};
use crate::components::layout::use_shell;
use crate::error::AppError;

#[component]
pub fn SettingsPage() -> impl IntoView {
    let ctx = use_shell();
    let rename_error = last_error(ctx.rename.value());
    let create_error = last_error(ctx.create.value());
    view! {
        <Title text="Workspace settings" />
        <div class="page-head"><h1>"Workspace settings"</h1></div>
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match ctx.shell.await {
                    Ok(Some(shell)) => match shell.current {
                        Some(current) => {
                            let is_admin = current.role.can_admin();
                            view! {
                                <section class="card">
                                    <h2>"Name"</h2>
                                    <ActionForm action=ctx.rename attr:class="grid-form">
                                        <input type="hidden" name="workspace_id" value=current.id.to_string() />
                                        <FormError error=rename_error fields=&["name"] />
                                        <div>
                                            <label for="workspace-name">"Workspace name"</label>
                                            <input id="workspace-name" name="name" value=current.name.clone() required maxlength="80" disabled=!is_admin />
                                            <FieldError error=rename_error field="name" />
                                            {(!is_admin).then(|| view! { <p class="hint">"Only Admins can rename the workspace."</p> })}
                                        </div>
                                        <div><button type="submit" class="button button-primary" disabled=!is_admin>"Rename"</button></div>
                                    </ActionForm>
                                </section>
                            }.into_any()
                        }
                        None => view! { <p class="muted">"You are not a member of any workspace yet. Create one below."</p> }.into_any(),
                    },
                    Ok(None) => view! { <PageError error=AppError::Unauthorized /> }.into_any(),
                    Err(error) => view! { <PageError error /> }.into_any(),
                }
            })}
        </Suspense>
        <section class="card" id="api-tokens">
            <h2>"API tokens"</h2>
            <p class="muted">"Tokens let scripts and CI drive this workspace through the REST API: run packages, read runs, replace package files."</p>
            <p><a class="button" href="/settings/tokens">"Manage API tokens"</a></p>
        </section>
        <section class="card" id="notifications">
            <h2>"Notifications"</h2>
            <p class="muted">"Email and webhooks when a run fails or a package recovers. Admins only."</p>
            <p><a class="button" href="/settings/notifications">"Notification settings"</a></p>
        </section>
        <section class="card" id="audit">
            <h2>"Audit log"</h2>
            <p class="muted">"Who changed which connection, package, task, schedule, member, invitation or token, and who started or canceled each run. Admins only."</p>
            <p><a class="button" href="/audit">"Open the audit log"</a></p>
        </section>
        <section class="card" id="new-workspace">
            <h2>"New workspace"</h2>
            <p class="muted">"A workspace holds its own connections, packages and members. You will be its Admin."</p>
            <ActionForm action=ctx.create attr:class="grid-form">
                <FormError error=create_error fields=&["name"] />
                <div>
                    <label for="new-workspace-name">"Name"</label>
                    <input id="new-workspace-name" name="name" required maxlength="80" placeholder="e.g. Sales operations" />
                    <FieldError error=create_error field="name" />
                </div>
                <div><button type="submit" class="button button-primary">"Create workspace"</button></div>
            </ActionForm>
        </section>
    }
}
