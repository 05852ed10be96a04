//! The pages as lazy routes: each page's WASM is split out of the main file by
//! `build-frontend.sh` (wasm-split-cli) and loaded when the page is first shown, so the first
//! load of any page downloads the shared code and that page only. The server renders them as
//! any route. Sign-in, sign-up and invitation pages stay in the main file (they are small
//! and come first).

use leptos::prelude::*;
use leptos_router::{LazyRoute, lazy_route};

macro_rules! lazy_page {
    ($name:ident, $page:path) => {
        pub struct $name;

        #[lazy_route]
        impl LazyRoute for $name {
            fn data() -> Self {
                $name
            }

            fn view(this: Self) -> AnyView {
                let _ = this;
                $page().into_any()
            }
        }
    };
}

lazy_page!(
    LazyPackageImportPage,
    crate::pages::package_import::PackageImportPage
);
lazy_page!(
    LazyConnectionsPage,
    crate::pages::connections::ConnectionsPage
);
lazy_page!(
    LazyConnectorCataloguePage,
    crate::pages::connection_editor::ConnectorCataloguePage
);
lazy_page!(
    LazyNewConnectionPage,
    crate::pages::connection_editor::NewConnectionPage
);
lazy_page!(
    LazyEditConnectionPage,
    crate::pages::connection_editor::EditConnectionPage
);
lazy_page!(LazyRunsPage, crate::pages::runs::RunsPage);
lazy_page!(
    LazyRunDetailsPage,
    crate::pages::run_details::RunDetailsPage
);
lazy_page!(LazyMembersPage, crate::pages::members::MembersPage);
lazy_page!(LazySettingsPage, crate::pages::settings::SettingsPage);
lazy_page!(LazyTaskPage, crate::pages::task_editor::TaskPage);
lazy_page!(
    LazyNotificationsPage,
    crate::pages::notifications::NotificationsPage
);
lazy_page!(LazyAuditPage, crate::pages::audit::AuditPage);
lazy_page!(LazyApiTokensPage, crate::pages::api_tokens::ApiTokensPage);
