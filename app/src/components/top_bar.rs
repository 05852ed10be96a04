//! The top bar, after Skyvia's: workspace switcher, + NEW menu, navigation, user menu.
//! Menus are `<details>` so they open without WASM too; the page script closes them on a
//! click outside or on one of their links (`crate::page_script`). A Viewer gets no + NEW
//! menu (creating needs Developer or Admin).

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::auth::SignOut;
use crate::components::layout::use_shell;
use crate::model::Shell;

#[component]
pub fn TopBar(shell: Shell) -> impl IntoView {
    let current = shell.current.clone();
    let can_edit = current.as_ref().is_some_and(|w| w.role.can_edit());
    let role = current.as_ref().map(|w| w.role.label()).unwrap_or("—");
    let is_admin = current.as_ref().is_some_and(|w| w.role.can_admin());
    let new_menu = can_edit.then(|| {
        view! {
            <details class="menu new-menu">
                <summary class="button button-primary" data-testid="new-menu">"+ NEW"</summary>
                <div class="menu-panel" role="menu">
                    <p class="menu-heading">"Integration"</p>
                    <a role="menuitem" href="/packages/new">"Synchronization package"</a>
                    <p class="menu-heading">"Other"</p>
                    <a role="menuitem" href="/connections/new">"Connection"</a>
                </div>
            </details>
        }
    });
    view! {
        <header class="top-bar">
            <a class="brand" href="/packages">"Lockstep"</a>
            <WorkspaceSwitcher shell=shell.clone() />
            {new_menu}
            <nav class="main-nav" aria-label="Main">
                <A href="/packages">"Packages"</A>
                <A href="/connections">"Connections"</A>
                <A href="/runs">"Runs"</A>
                <A href="/members">"Members"</A>
            </nav>
            <details class="menu user-menu">
                <summary data-testid="user-menu">
                    <span class="avatar" aria-hidden="true">{shell.email.chars().next().unwrap_or('?').to_ascii_uppercase().to_string()}</span>
                    <span class="user-email">{shell.email.clone()}</span>
                </summary>
                <div class="menu-panel menu-panel-right" role="menu">
                    <p class="menu-heading">"Signed in as"</p>
                    <p class="menu-text">{shell.email.clone()}</p>
                    <p class="menu-text" data-testid="current-role">"Role: " {role}</p>
                    <a role="menuitem" href="/settings">"Workspace settings"</a>
                    <a role="menuitem" href="/settings/tokens">"API tokens"</a>
                    {is_admin.then(|| view! { <a role="menuitem" href="/audit">"Audit log"</a> })}
                    <SignOutButton />
                </div>
            </details>
        </header>
    }
}

#[component]
fn WorkspaceSwitcher(shell: Shell) -> impl IntoView {
    let switch = use_shell().switch;
    let current_id = shell.current.as_ref().map(|w| w.id);
    let current_name = shell
        .current
        .as_ref()
        .map(|w| w.name.clone())
        .unwrap_or_else(|| "No workspace".to_owned());
    let items = shell
        .workspaces
        .into_iter()
        .map(|w| {
            let is_current = Some(w.id) == current_id;
            view! {
                <ActionForm action=switch attr:class="menu-form">
                    <input type="hidden" name="workspace_id" value=w.id.to_string() />
                    <button type="submit" role="menuitem" class:current=is_current aria-current=is_current.then_some("true")>
                        <span>{w.name}</span>
                        <span class="muted small" data-testid="workspace-owner">{match &w.owner {
                            Some(owner) => format!("{} · {owner}'s", w.role.label()),
                            None => w.role.label().to_owned(),
                        }}</span>
                    </button>
                </ActionForm>
            }
        })
        .collect_view();
    view! {
        <details class="menu workspace-menu">
            <summary data-testid="workspace-switcher">
                <span class="muted small">"Workspace"</span>
                <span class="workspace-name" data-testid="current-workspace">{current_name}</span>
            </summary>
            <div class="menu-panel" role="menu">
                {items}
                <a role="menuitem" href="/settings#new-workspace">"+ New workspace"</a>
            </div>
        </details>
    }
}

#[component]
pub fn SignOutButton() -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    view! {
        <ActionForm action=sign_out attr:class="menu-form">
            <button type="submit" role="menuitem" data-testid="sign-out">"Sign out"</button>
        </ActionForm>
    }
}
