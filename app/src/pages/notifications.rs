//! Workspace settings → Notifications (Admins): what to notify about (a workspace default and
//! package rules), who gets the emails, webhooks with Send test, and the delivery log.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::notifications::{
    AddWebhook, DeleteWebhook, RemoveNotificationRule, SaveNotificationRule,
    SetNotificationRecipient, TestWebhook, load_notifications,
};
use crate::components::feedback::{
    FieldError, FormError, PageError, last_error, loading, saved, successes,
};
use crate::model::{DeliveryView, NotificationsData, RuleView, WebhookCreated};

#[component]
pub fn NotificationsPage() -> impl IntoView {
    let save_rule = ServerAction::<SaveNotificationRule>::new();
    let remove_rule = ServerAction::<RemoveNotificationRule>::new();
    let recipient = ServerAction::<SetNotificationRecipient>::new();
    let add = ServerAction::<AddWebhook>::new();
    let delete = ServerAction::<DeleteWebhook>::new();
    let test = ServerAction::<TestWebhook>::new();
    let changes = (
        successes(save_rule.value()),
        successes(remove_rule.value()),
        successes(recipient.value()),
        successes(add.value()),
        successes(delete.value()),
        successes(test.value()),
    );
    let data = Resource::new(
        move || {
            (
                changes.0.get(),
                changes.1.get(),
                changes.2.get(),
                changes.3.get(),
                changes.4.get(),
                changes.5.get(),
            )
        },
        |_| load_notifications(),
    );
    let actions = Actions {
        save_rule,
        remove_rule,
        recipient,
        add,
        delete,
        test,
    };
    view! {
        <Title text="Notifications" />
        <div class="page-head">
            <h1>"Notifications"</h1>
            <a class="button" href="/settings">"Workspace settings"</a>
        </div>
        <p class="muted">
            "Lockstep tells you when a run fails, when a package recovers, and, if you like, when a run leaves too many failed records: "
            "by email to the members you choose and to your webhooks. At most one failure notice per package an hour; the next says how many were held back. "
            "Notices carry counts, names, the error and a link, never a record's values."
        </p>
        <FormError error=last_error(remove_rule.value()) />
        <FormError error=last_error(recipient.value()) />
        <FormError error=last_error(delete.value()) />
        <FormError error=last_error(test.value()) />
        {move || add.value().get().and_then(|r| r.ok()).map(|created| view! { <SecretBanner created /> })}
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(page) => view! { <Settings page actions /> }.into_any(),
                    Err(error) => view! { <PageError error /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[derive(Clone, Copy)]
struct Actions {
    save_rule: ServerAction<SaveNotificationRule>,
    remove_rule: ServerAction<RemoveNotificationRule>,
    recipient: ServerAction<SetNotificationRecipient>,
    add: ServerAction<AddWebhook>,
    delete: ServerAction<DeleteWebhook>,
    test: ServerAction<TestWebhook>,
}

#[component]
fn SecretBanner(created: WebhookCreated) -> impl IntoView {
    view! {
        <section class="banner banner-ok" data-testid="webhook-created">
            <p>
                "Webhook " <strong>{created.name.clone()}</strong> " added. Its signing secret, shown once: "
                "check each request's " <code>"Lockstep-Signature"</code> " header with it."
            </p>
            <input class="link-box" readonly value=created.secret.clone() data-testid="webhook-secret" aria-label="The webhook's signing secret" />
        </section>
    }
}

#[component]
fn Settings(page: NotificationsData, actions: Actions) -> impl IntoView {
    let ws = page.workspace.id.to_string();
    let rule_error = last_error(actions.save_rule.value());
    let add_error = last_error(actions.add.value());
    view! {
        {page.created.clone().map(|created| view! { <SecretBanner created /> })}
        <section class="card" data-testid="default-rule">
            <h2>"Every package"</h2>
            <RuleForm ws=ws.clone() package=None rule=page.default action=actions.save_rule error=rule_error />
        </section>
        <PackageRules page=page.clone() ws=ws.clone() actions />
        <section class="card table-card">
            <h2>"Email to"</h2>
            <table class="table stack">
                <thead><tr><th>"Member"</th><th>"Gets emails"</th><th></th></tr></thead>
                <tbody>
                    {page.recipients.into_iter().map(|r| {
                        let ws = ws.clone();
                        view! {
                            <tr data-testid="recipient-row">
                                <td>{r.email.clone()}</td>
                                <td>{if r.receives { "yes" } else { "no" }}</td>
                                <td>
                                    <ActionForm action=actions.recipient attr:class="inline-form">
                                        <input type="hidden" name="workspace_id" value=ws />
                                        <input type="hidden" name="member" value=r.user_id.to_string() />
                                        {(!r.receives).then(|| view! { <input type="hidden" name="receive" value="yes" /> })}
                                        <button type="submit" class="button small">{if r.receives { "Stop emails" } else { "Send emails" }}</button>
                                    </ActionForm>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
            <p class="hint">"Email needs a mail server: LOCKSTEP_SMTP_URL and LOCKSTEP_SMTP_FROM (see the README)."</p>
        </section>
        <section class="card">
            <h2>"Webhooks"</h2>
            <p class="muted">"Each notice is POSTed as JSON, signed with the webhook's secret (HMAC-SHA256 over the timestamp and the body)."</p>
            {(!page.webhooks.is_empty()).then(|| view! {
                <table class="table stack">
                    <thead><tr><th>"Name"</th><th>"Address"</th><th>"Added"</th><th></th></tr></thead>
                    <tbody>
                        {page.webhooks.clone().into_iter().map(|w| {
                            let (ws_test, ws_delete) = (ws.clone(), ws.clone());
                            let (id_test, id_delete) = (w.id.to_string(), w.id.to_string());
                            let question = format!("Delete the webhook “{}” and its delivery log?", w.name);
                            view! {
                                <tr data-testid="webhook-row">
                                    <td>{w.name.clone()}</td>
                                    <td><code class="wrap">{w.url.clone()}</code></td>
                                    <td class="muted">{w.created.clone()}</td>
                                    <td class="actions">
                                        <ActionForm action=actions.test attr:class="inline-form">
                                            <input type="hidden" name="workspace_id" value=ws_test />
                                            <input type="hidden" name="id" value=id_test />
                                            <button type="submit" class="button small" data-testid="send-test">"Send test"</button>
                                        </ActionForm>
                                        <details class="confirm">
                                            <summary class="button small danger">"Delete"</summary>
                                            <ActionForm action=actions.delete attr:class="inline-form">
                                                <input type="hidden" name="workspace_id" value=ws_delete />
                                                <input type="hidden" name="id" value=id_delete />
                                                <span>{question}</span>
                                                <button type="submit" class="button small danger">"Yes, delete"</button>
                                            </ActionForm>
                                        </details>
                                    </td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            })}
            <ActionForm action=actions.add attr:class="grid-form">
                <input type="hidden" name="workspace_id" value=ws.clone() />
                <FormError error=add_error fields=&["name", "url"] />
                <div>
                    <label for="webhook-name">"Name"</label>
                    <input id="webhook-name" name="name" required maxlength="80" placeholder="e.g. On-call alerts" />
                    <FieldError error=add_error field="name" />
                </div>
                <div>
                    <label for="webhook-url">"Address"</label>
                    <input id="webhook-url" name="url" type="url" required placeholder="https://hooks.example.com/lockstep" />
                    <FieldError error=add_error field="url" />
                </div>
                <div><button type="submit" class="button button-primary">"Add webhook"</button></div>
            </ActionForm>
        </section>
        <DeliveryLog deliveries=page.deliveries />
    }
}

#[component]
fn PackageRules(page: NotificationsData, ws: String, actions: Actions) -> impl IntoView {
    let error = last_error(actions.save_rule.value());
    let rows = page
        .overrides
        .into_iter()
        .map(|o| {
            let ws_remove = ws.clone();
            view! {
                <details class="card" data-testid="package-rule">
                    <summary><strong>{o.package_name.clone()}</strong> " — " {summary(o.rule)}</summary>
                    <RuleForm ws=ws.clone() package=Some(o.package_id.to_string()) rule=o.rule action=actions.save_rule error />
                    <ActionForm action=actions.remove_rule attr:class="inline-form">
                        <input type="hidden" name="workspace_id" value=ws_remove />
                        <input type="hidden" name="package" value=o.package_id.to_string() />
                        <button type="submit" class="button small">"Follow the workspace default"</button>
                    </ActionForm>
                </details>
            }
        })
        .collect_view();
    let choices = page
        .packages
        .into_iter()
        .map(|(id, name)| view! { <option value=id.to_string()>{name}</option> })
        .collect_view();
    view! {
        <section class="card">
            <h2>"Package rules"</h2>
            <p class="muted">"A package with its own rule follows it instead of the default above."</p>
            {rows}
            <details>
                <summary class="button small">"+ Rule for a package"</summary>
                <ActionForm action=actions.save_rule attr:class="grid-form">
                    <input type="hidden" name="workspace_id" value=ws.clone() />
                    <div>
                        <label for="rule-package">"Package"</label>
                        <select id="rule-package" name="package" required><option value="">"Choose…"</option>{choices}</select>
                        <FieldError error field="package" />
                    </div>
                    <RuleFields rule=page.default prefix="new" />
                    <div><button type="submit" class="button button-primary">"Save package rule"</button></div>
                </ActionForm>
            </details>
        </section>
    }
}

fn summary(rule: RuleView) -> String {
    let mut what = Vec::new();
    if rule.on_failure {
        what.push("failures".to_owned());
    }
    if rule.on_recovery {
        what.push("recoveries".to_owned());
    }
    if let Some(n) = rule.failed_records_over {
        what.push(format!("more than {n} failed records"));
    }
    let mut how = Vec::new();
    if rule.by_email {
        how.push("email");
    }
    if rule.by_webhook {
        how.push("webhooks");
    }
    if what.is_empty() || how.is_empty() {
        return "nothing".into();
    }
    format!("{} by {}", what.join(", "), how.join(" and "))
}

#[component]
fn RuleForm(
    ws: String,
    package: Option<String>,
    rule: RuleView,
    action: ServerAction<SaveNotificationRule>,
    error: Signal<Option<crate::error::AppError>>,
) -> impl IntoView {
    let prefix = package.clone().unwrap_or_else(|| "default".into());
    view! {
        <ActionForm action attr:class="grid-form">
            <input type="hidden" name="workspace_id" value=ws />
            {package.map(|p| view! { <input type="hidden" name="package" value=p /> })}
            <FormError error fields=&["failed_records_over", "package"] />
            <RuleFields rule prefix=prefix />
            <div><button type="submit" class="button button-primary">"Save"</button> {saved(action.value())}</div>
        </ActionForm>
    }
}

#[component]
fn RuleFields(rule: RuleView, #[prop(into)] prefix: String) -> impl IntoView {
    let id = move |name: &str| format!("{prefix}-{name}");
    let (over_id, over_for) = (id("over"), id("over"));
    view! {
        <fieldset class="checks">
            <legend>"Notify when"</legend>
            <label class="checkbox"><input type="checkbox" name="on_failure" value="yes" checked=rule.on_failure />" a run fails"</label>
            <label class="checkbox"><input type="checkbox" name="on_recovery" value="yes" checked=rule.on_recovery />" a package recovers (first success after a failure)"</label>
            <label for=over_for>"a run leaves more failed records than"</label>
            <input id=over_id name="failed_records_over" type="number" min="0" value=rule.failed_records_over.map(|n| n.to_string()).unwrap_or_default() placeholder="never" />
        </fieldset>
        <fieldset class="checks">
            <legend>"By"</legend>
            <label class="checkbox"><input type="checkbox" name="by_email" value="yes" checked=rule.by_email />" email"</label>
            <label class="checkbox"><input type="checkbox" name="by_webhook" value="yes" checked=rule.by_webhook />" webhooks"</label>
        </fieldset>
    }
}

#[component]
fn DeliveryLog(deliveries: Vec<DeliveryView>) -> impl IntoView {
    if deliveries.is_empty() {
        return view! { <section class="card"><h2>"Delivery log"</h2><p class="muted" data-testid="no-deliveries">"Nothing sent yet."</p></section> }.into_any();
    }
    let rows = deliveries
        .into_iter()
        .map(|d| {
            view! {
                <tr data-testid="delivery-row">
                    <td data-label="When" class="muted">{d.created}</td>
                    <td data-label="What">{d.event}{d.package.map(|p| format!(" · {p}"))}</td>
                    <td data-label="To">{d.channel} " " <code class="wrap">{d.recipient}</code></td>
                    <td data-label="State" data-testid="delivery-state">{d.state}</td>
                    <td data-label="Attempts" class="num">{d.attempts}</td>
                    <td data-label="Detail" class="muted">{d.detail}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="card table-card">
            <h2>"Delivery log"</h2>
            <table class="table stack" data-testid="delivery-log">
                <thead><tr><th>"When"</th><th>"What"</th><th>"To"</th><th>"State"</th><th class="num">"Attempts"</th><th>"Detail"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </section>
    }
    .into_any()
}
