//! Lockstep's web UI: the HTML shell, the router, pages and the server functions behind them.
//! Compiled twice: with `ssr` into the server, with `hydrate` into the browser's WASM.
#![forbid(unsafe_code)]
#![recursion_limit = "256"]

pub mod api;
pub mod components;
pub mod error;
mod lazy_pages;
pub mod model;
pub mod page_script;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod state;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::Lazy;
use leptos_router::SsrMode;
use leptos_router::components::{ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::path;

use components::layout::Layout;
use pages::{
    auth::{SignInPage, SignUpPage},
    invite::InvitePage,
    not_found::NotFound,
    package_page::PackagePage,
    packages::PackagesPage,
};

// Every route renders with `SsrMode::Async`: the server waits for the page's data and sends
// complete HTML, so pages read and forms post without WASM, and redirects and status codes
// are set before the first byte. Our pages are small; streaming would buy little.

/// The HTML document the server renders around the app. The assets' name is the options'
/// output name: content-hashed (`lockstep-<hash>`) once `build-frontend.sh` built them.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let stylesheet = format!("/{}/{}.css", options.site_pkg_dir, options.output_name);
    // The lazy pages' loader, which the front end's JS imports: fetched beside it, not after.
    let split_loader = format!("/{}/{}-split.js", options.site_pkg_dir, options.output_name);
    let nonce = leptos::nonce::use_nonce();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <link rel="stylesheet" href=stylesheet />
                <link rel="modulepreload" href=split_loader />
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
                    <Route path=path!("packages/import") view={Lazy::<lazy_pages::LazyPackageImportPage>::new()} ssr=SsrMode::Async />
                    <Route path=path!("packages/:id") view=PackagePage ssr=SsrMode::Async />
                    <Route path=path!("packages/:id/tasks/new") view={Lazy::<lazy_pages::LazyTaskPage>::new()} ssr=SsrMode::Async />
                    <Route path=path!("packages/:id/tasks/:task_id") view={Lazy::<lazy_pages::LazyTaskPage>::new()} ssr=SsrMode::Async />
                    <Route path=path!("connections") view={Lazy::<lazy_pages::LazyConnectionsPage>::new()} ssr=SsrMode::Async />
                    <Route path=path!("connections/new") view={Lazy::<lazy_pages::LazyConnectorCataloguePage>::new()} ssr=SsrMode::Async />
                    <Route path=path!("connections/new/:kind") view={Lazy::<lazy_pages::LazyNewConnectionPage>::new()} ssr=SsrMode::Async />
                    <Route path=path!("connections/:id/edit") view={Lazy::<lazy_pages::LazyEditConnectionPage>::new()} ssr=SsrMode::Async />
                    <Route path=path!("runs") view={Lazy::<lazy_pages::LazyRunsPage>::new()} ssr=SsrMode::Async />
                    <Route path=path!("runs/:id") view={Lazy::<lazy_pages::LazyRunDetailsPage>::new()} ssr=SsrMode::Async />
                    <Route path=path!("members") view={Lazy::<lazy_pages::LazyMembersPage>::new()} ssr=SsrMode::Async />
                    <Route path=path!("settings") view={Lazy::<lazy_pages::LazySettingsPage>::new()} ssr=SsrMode::Async />
                    <Route path=path!("settings/tokens") view={Lazy::<lazy_pages::LazyApiTokensPage>::new()} ssr=SsrMode::Async />
                    <Route path=path!("audit") view={Lazy::<lazy_pages::LazyAuditPage>::new()} ssr=SsrMode::Async />
                    <Route path=path!("settings/notifications") view={Lazy::<lazy_pages::LazyNotificationsPage>::new()} ssr=SsrMode::Async />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
