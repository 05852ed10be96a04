//! Editor pages whose features land in later issues. They already enforce the rule every
//! editor will: only Developers and Admins may open them (checked on the server).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::workspaces::edit_access;
use crate::components::feedback::{PageError, loading};

#[component]
fn EditorGate(title: &'static str, text: &'static str) -> impl IntoView {
    let access = Resource::new(|| (), |_| edit_access());
    view! {
        <Title text=title />
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match access.await {
                    Ok(workspace) => view! {
                        <div class="page-head"><h1>{title}</h1></div>
                        <section class="card" data-testid="editor">
                            <p><strong>"Coming soon."</strong> " " {text}</p>
                            <p class="muted">"Workspace: " {workspace.name}</p>
                        </section>
                    }.into_any(),
                    Err(error) => view! { <PageError error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn NewPackagePage() -> impl IntoView {
    view! { <EditorGate title="New synchronization package" text="The package editor (connections, tasks, mappings, schedule) is being built." /> }
}
