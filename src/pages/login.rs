//! /login: username and password; after one login the app works offline.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::NavigateOptions;
use leptos_router::hooks::use_navigate;

use crate::i18n::{Strings, use_i18n};
use crate::store::use_store;
use crate::sync::{SyncError, use_sync};

/// What to tell the inspector for a failed login.
fn login_error_text(error: &SyncError, t: &'static Strings) -> String {
    match error {
        SyncError::BadCredentials => t.err_bad_credentials.to_owned(),
        SyncError::Offline(_) => t.err_login_offline.to_owned(),
        SyncError::Throttled => t.err_throttled.to_owned(),
        SyncError::Server { status, .. } => format!("{} ({status})", t.err_server),
        SyncError::Store(store_error) => format!("{}: {store_error}", t.err_store),
        SyncError::Unauthorized
        | SyncError::NoSession
        | SyncError::Protocol(_)
        | SyncError::Bug(_) => format!("{} ({error})", t.err_bug),
    }
}

/// The login screen.
#[component]
pub fn LoginPage() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let store = use_store();
    let navigate = use_navigate();
    let previous_username = sync
        .session()
        .map(|session| session.user.username)
        .unwrap_or_default();
    let username = RwSignal::new(previous_username);
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<SyncError>);
    let missing = RwSignal::new(false);
    let busy = RwSignal::new(false);

    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        let name = username.get_untracked().trim().to_owned();
        let secret = password.get_untracked();
        if name.is_empty() || secret.is_empty() {
            missing.set(true);
            error.set(None);
            return;
        }
        missing.set(false);
        error.set(None);
        busy.set(true);
        let store = store.clone();
        let navigate = navigate.clone();
        spawn_local(async move {
            match crate::sync::login(&store, &name, &secret).await {
                Ok(session) => {
                    password.set(String::new());
                    busy.set(false);
                    sync.logged_in(session);
                    navigate(
                        "/",
                        NavigateOptions {
                            replace: true,
                            ..NavigateOptions::default()
                        },
                    );
                }
                Err(login_error) => {
                    busy.set(false);
                    error.set(Some(login_error));
                }
            }
        });
    };

    view! {
        <section class="page login">
            <p class="login-brand">{move || i18n.t().app_name}</p>
            <form class="group" on:submit=on_submit novalidate>
                <label class="cell field" for="login-username">
                    <span class="field-label">{move || i18n.t().username}</span>
                    <input
                        id="login-username"
                        name="username"
                        type="text"
                        autocomplete="username"
                        autocapitalize="off"
                        spellcheck="false"
                        required
                        prop:value=move || username.get()
                        on:input=move |ev| username.set(event_target_value(&ev))
                    />
                </label>
                <label class="cell field" for="login-password">
                    <span class="field-label">{move || i18n.t().password}</span>
                    <input
                        id="login-password"
                        name="password"
                        type="password"
                        autocomplete="current-password"
                        required
                        prop:value=move || password.get()
                        on:input=move |ev| password.set(event_target_value(&ev))
                    />
                </label>
                <Show when=move || missing.get()>
                    <p class="field-error" role="alert">{move || i18n.t().err_need_credentials}</p>
                </Show>
                {move || {
                    error
                        .get()
                        .map(|login_error| {
                            view! {
                                <p class="field-error" role="alert">
                                    {login_error_text(&login_error, i18n.t())}
                                </p>
                            }
                        })
                }}
                <div class="actions">
                    <button type="submit" class="button button-primary" disabled=move || busy.get()>
                        {move || if busy.get() { i18n.t().logging_in } else { i18n.t().login }}
                    </button>
                </div>
            </form>
            <p class="hint">{move || i18n.t().login_hint}</p>
        </section>
    }
}
