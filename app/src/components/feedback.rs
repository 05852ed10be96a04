//! How errors and outcomes are shown: a banner for the form, a line under the field at fault.

use leptos::prelude::*;

use crate::error::AppError;

/// The error of an action's last result, if it failed.
pub fn last_error<T: Clone + Send + Sync + 'static>(
    value: impl Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
) -> Signal<Option<AppError>> {
    Signal::derive(move || value.get().and_then(|r| r.err()))
}

/// Counts the action's answers that went through: a resource keyed on it is read again after
/// a change was saved, never after a refused form (whose fields keep what was typed).
pub fn successes<T: Clone + Send + Sync + 'static>(
    value: impl Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
) -> RwSignal<u32> {
    let count = RwSignal::new(0u32);
    Effect::new(move |_| {
        if matches!(value.get(), Some(Ok(_))) {
            count.update(|n| *n += 1);
        }
    });
    count
}

/// "Saved" after the action's last answer went through.
pub fn saved<T: Clone + Send + Sync + 'static>(
    value: impl Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
) -> impl IntoView {
    move || {
        matches!(value.get(), Some(Ok(_))).then(|| {
            view! { <p class="saved" role="status" data-testid="saved">"✓ Saved"</p> }
        })
    }
}

/// For a `<details>` whose `open` follows `open`: keeps the signal in step when the person
/// opens or closes it, so it stays as they left it when its section is drawn again.
pub fn follow_toggle(open: RwSignal<bool>) -> impl Fn(leptos::ev::Event) + Clone + 'static {
    move |ev| open.set(event_target::<leptos::web_sys::HtmlDetailsElement>(&ev).open())
}

/// Opens `open` when `error` holds an error: at once (so the server renders a section with
/// an error open, for a form posted without WASM), and whenever a new one comes. The person
/// can still close it.
pub fn open_on_error(open: RwSignal<bool>, error: Signal<Option<AppError>>) {
    if error.get_untracked().is_some() {
        open.set(true);
    }
    Effect::new(move |_| {
        if error.get().is_some() {
            open.set(true);
        }
    });
}

/// A form-level error. Field errors listed in `fields` are left to `FieldError`.
#[component]
pub fn FormError(
    error: Signal<Option<AppError>>,
    #[prop(optional)] fields: &'static [&'static str],
) -> impl IntoView {
    move || {
        error.get().filter(|e| !fields.iter().any(|f| e.for_field(f).is_some())).map(|e| {
            view! { <p class="banner banner-error" role="alert" data-testid="form-error">{e.to_string()}</p> }
        })
    }
}

/// The messages for one field, shown under its input, one per line.
#[component]
pub fn FieldError(error: Signal<Option<AppError>>, field: &'static str) -> impl IntoView {
    move || {
        error.get().and_then(|e| e.for_field(field)).map(|messages| {
            messages
                .lines()
                .map(|message| view! { <p class="field-error" role="alert" data-field=field>{message.to_owned()}</p> })
                .collect_view()
        })
    }
}

/// A whole-page error (not found, forbidden, …).
#[component]
pub fn PageError(error: AppError) -> impl IntoView {
    let title = match &error {
        AppError::NotFound => "Not found",
        AppError::Forbidden(_) => "You don't have access",
        AppError::Unauthorized => "Please sign in",
        _ => "Something went wrong",
    };
    view! {
        <section class="card page-error" data-testid="page-error">
            <h2>{title}</h2>
            <p>{error.to_string()}</p>
            <a class="button" href="/packages">"Back to packages"</a>
        </section>
    }
}

pub fn loading() -> impl IntoView {
    view! { <p class="muted">"Loading…"</p> }
}
