//! Lockstep's web UI: the HTML shell, the router, pages and the server functions behind them.
//! Compiled twice: with `ssr` into the server, with `hydrate` into the browser's WASM.
#![forbid(unsafe_code)]
#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod error;
pub mod model;
pub mod page_script;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod state;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::SsrMode;
use leptos_router::components::{ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::path;

use components::layout::Layout;
use pages::{
    api_tokens::ApiTokensPage,
    audit::AuditPage,
    auth::{SignInPage, SignUpPage},
    connection_editor::{ConnectorCataloguePage, EditConnectionPage, NewConnectionPage},
    connections::ConnectionsPage,
    invite::InvitePage,
    members::MembersPage,
    not_found::NotFound,
    notifications::NotificationsPage,
    package_import::PackageImportPage,
    package_page::PackagePage,
    packages::PackagesPage,
    run_details::RunDetailsPage,
    runs::RunsPage,
    settings::SettingsPage,
    task_editor::TaskPage,
};

// Every route renders with `SsrMode::Async`: the server waits for the page's data and sends
// complete HTML, so pages read and forms post without WASM, and redirects and status codes
// are set before the first byte. Our pages are small; streaming would buy little.

/// The HTML document the server renders around the app. The assets' name is the options'
/// output name: content-hashed (`lockstep-<hash>`) once `build-frontend.sh` built them.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let stylesheet = format!("/{}/{}.css", options.site_pkg_dir, options.output_name);
    let nonce = leptos::nonce::use_nonce();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <link rel="stylesheet" href=stylesheet />
                <script nonce=nonce inner_html=page_script::PAGE_SCRIPT></script>
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser, after hydration: end-to-end tests wait for this mark.
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Title formatter=|page: String| if page.is_empty() { "Lockstep".to_owned() } else { format!("{page} · Lockstep") } />
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/signin") view=SignInPage ssr=SsrMode::Async />
                <Route path=path!("/signup") view=SignUpPage ssr=SsrMode::Async />
                <Route path=path!("/invite/:token") view=InvitePage ssr=SsrMode::Async />
                <ParentRoute path=path!("") view=Layout ssr=SsrMode::Async>
                    <Route path=path!("") view=|| view! { <Redirect path="/packages" /> } />
                    <Route path=path!("packages") view=PackagesPage ssr=SsrMode::Async />
                    <Route path=path!("packages/new") view=PackagePage ssr=SsrMode::Async />
                    <Route path=path!("packages/import") view=PackageImportPage ssr=SsrMode::Async />
                    <Route path=path!("packages/:id") view=PackagePage ssr=SsrMode::Async />
                    <Route path=path!("packages/:id/tasks/new") view=TaskPage ssr=SsrMode::Async />
                    <Route path=path!("packages/:id/tasks/:task_id") view=TaskPage ssr=SsrMode::Async />
                    <Route path=path!("connections") view=ConnectionsPage ssr=SsrMode::Async />
                    <Route path=path!("connections/new") view=ConnectorCataloguePage ssr=SsrMode::Async />
                    <Route path=path!("connections/new/:kind") view=NewConnectionPage ssr=SsrMode::Async />
                    <Route path=path!("connections/:id/edit") view=EditConnectionPage ssr=SsrMode::Async />
                    <Route path=path!("runs") view=RunsPage ssr=SsrMode::Async />
                    <Route path=path!("runs/:id") view=RunDetailsPage ssr=SsrMode::Async />
                    <Route path=path!("members") view=MembersPage ssr=SsrMode::Async />
                    <Route path=path!("settings") view=SettingsPage ssr=SsrMode::Async />
                    <Route path=path!("settings/tokens") view=ApiTokensPage ssr=SsrMode::Async />
                    <Route path=path!("audit") view=AuditPage ssr=SsrMode::Async />
                    <Route path=path!("settings/notifications") view=NotificationsPage ssr=SsrMode::Async />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
