//! The signed-in frame: top bar over the page. Owns the shell data (who, which workspace)
//! and the actions that change it, so every page sees the same, fresh values.

use leptos::prelude::*;
use leptos_router::components::{Outlet, Redirect};

use crate::api::auth::get_shell;
use crate::api::workspaces::{CreateWorkspace, RenameWorkspace, SwitchWorkspace};
use crate::components::feedback::{PageError, loading, successes};
use crate::components::top_bar::TopBar;
use crate::error::AppError;
use crate::model::Shell;

/// Shared with pages through context.
#[derive(Clone, Copy)]
pub struct ShellContext {
    pub shell: Resource<Result<Option<Shell>, AppError>>,
    pub switch: ServerAction<SwitchWorkspace>,
    pub create: ServerAction<CreateWorkspace>,
    pub rename: ServerAction<RenameWorkspace>,
}

pub fn use_shell() -> ShellContext {
    expect_context::<ShellContext>()
}

#[component]
pub fn Layout() -> impl IntoView {
    let switch = ServerAction::<SwitchWorkspace>::new();
    let create = ServerAction::<CreateWorkspace>::new();
    let rename = ServerAction::<RenameWorkspace>::new();
    // Read again after a switch, and after a create or rename that went through (a refused
    // one keeps what was typed).
    let (created, renamed) = (successes(create.value()), successes(rename.value()));
    let shell = Resource::new(
        move || (switch.version().get(), created.get(), renamed.get()),
        |_| get_shell(),
    );
    provide_context(ShellContext {
        shell,
        switch,
        create,
        rename,
    });

    // The page is outside the top bar's Suspense: a page rendered inside a Suspend would be
    // rendered again when the shell resolves, creating its resources twice on the server
    // (abandoned server functions, and resource ids the hydrating client does not match).
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match shell.await {
                    Ok(Some(shell)) => view! { <TopBar shell /> }.into_any(),
                    Ok(None) => view! { <Redirect path="/signin" /> }.into_any(),
                    Err(error) => view! { <PageError error /> }.into_any(),
                }
            })}
        </Suspense>
        <main class="page">
            <Outlet />
        </main>
    }
}

/// Its children only for who may use them: Developers and Admins of the current workspace
/// (a Viewer sees no control they cannot use).
#[component]
pub fn EditorsOnly(children: ChildrenFn) -> impl IntoView {
    let shell = use_shell().shell;
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    let can_edit = matches!(
                        shell.await,
                        Ok(Some(Shell { current: Some(w), .. })) if w.role.can_edit()
                    );
                    can_edit.then(|| children())
                })
            }}
        </Suspense>
    }
}
