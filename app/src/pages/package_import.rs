//! `/packages/import`: choose a package file (from Export, or one written for the `sync`
//! command) or paste it, and choose the connections it will use; every task is checked
//! against the live tables before anything is created. Reading the chosen file is the page
//! script's (`crate::page_script`): it works before the WASM loads.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::package_editor::load_package;
use crate::api::package_transfer::ImportPackage;
use crate::components::feedback::{FieldError, FormError, PageError, last_error, loading};
use crate::model::connector_label;

#[component]
pub fn PackageImportPage() -> impl IntoView {
    let import = ServerAction::<ImportPackage>::new();
    let error = last_error(import.value());
    // A new package's page data: the workspace and its connections.
    let data = Resource::new(|| (), |_| load_package(None));
    view! {
        <Title text="Import a package" />
        <div class="page-head"><h1>"Import a package"</h1></div>
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(page) => {
                        let options = move || {
                            page.connections
                                .iter()
                                .map(|c| {
                                    let label = format!("{} ({})", c.name, connector_label(&c.kind));
                                    view! { <option value=c.id.to_string()>{label}</option> }
                                })
                                .collect_view()
                        };
                        view! {
                            <section class="card">
                                <ActionForm action=import attr:class="grid-form" attr:data-testid="import-form">
                                    <input type="hidden" name="workspace_id" value=page.workspace.id.to_string() />
                                    <FormError error fields=&["text", "name", "source_connection", "target_connection"] />
                                    <div>
                                        <label for="import-file">"Package file"</label>
                                        <input id="import-file" type="file" accept=".json,application/json" data-fill-text="import-text" data-fill-name="import-name" data-testid="import-file" />
                                        <p class="hint">"A file from Export, or one written for the sync command. Or paste it below."</p>
                                    </div>
                                    <div>
                                        <label for="import-text">"File contents"</label>
                                        <textarea id="import-text" name="text" rows="14" required placeholder="Paste a package file: Export on the package list, or a file written for the sync command"></textarea>
                                        <FieldError error field="text" />
                                    </div>
                                    <div>
                                        <label for="import-name">"Name"</label>
                                        <input id="import-name" name="name" placeholder="The file's name for the package" maxlength="200" />
                                        <p class="hint">"Filled from the file; change it to import a file whose name is taken (empty: the name in the file)."</p>
                                        <FieldError error field="name" />
                                    </div>
                                    <div>
                                        <label for="import-source">"Source connection"</label>
                                        <select id="import-source" name="source_connection"><option value="">"Choose a connection…"</option>{options()}</select>
                                        <FieldError error field="source_connection" />
                                    </div>
                                    <div>
                                        <label for="import-target">"Target connection"</label>
                                        <select id="import-target" name="target_connection"><option value="">"Choose a connection…"</option>{options()}</select>
                                        <FieldError error field="target_connection" />
                                    </div>
                                    <p class="hint">"The file's connection URLs are not used (exports never hold passwords): the package runs on the connections chosen here. The imported package starts with a first run."</p>
                                    <div class="form-actions">
                                        <button type="submit" class="button button-primary">"Import"</button>
                                        <a class="button" href="/packages">"Cancel"</a>
                                    </div>
                                </ActionForm>
                            </section>
                        }.into_any()
                    }
                    Err(error) => view! { <PageError error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
