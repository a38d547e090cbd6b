//! /login: username and password; after one login the app works offline.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::i18n::{Strings, use_i18n};
use crate::router::use_navigate;
use crate::store::{TakeOver, use_store};
use crate::sync::{SyncError, use_sync};

/// What to tell the inspector for a failed login.
fn login_error_text(error: &SyncError, t: &'static Strings) -> String {
    match error {
        SyncError::BadCredentials => t.err_bad_credentials.to_owned(),
        SyncError::Offline(_) => t.err_login_offline.to_owned(),
        // The login's code is in the sync run's file (a split build), which did not arrive: another
        // tap asks again (joining a download still under way), a reload starts afresh with the
        // newest build and its files.
        SyncError::CodeMissing(_) => t.login_code_missing.to_owned(),
        SyncError::Throttled => t.err_throttled.to_owned(),
        SyncError::Server { code, .. } if code == "account_disabled" => {
            t.err_account_disabled.to_owned()
        }
        SyncError::Server { status, .. } => format!("{} ({status})", t.err_server),
        SyncError::Store(crate::store::StoreError::ExportOutdated) => t.export_outdated.to_owned(),
        SyncError::Store(store_error) => format!("{}: {store_error}", t.err_store),
        // Shown by its own panel, with the ways out.
        SyncError::OtherUsersWork { .. } => String::new(),
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
    // What was typed into the page's own form while the app downloaded (index.html) is kept.
    let typed = crate::boot_form::take().unwrap_or_default();
    // A 登录 tapped before the app started goes at once, with the name typed (never the previous
    // user's, filled in here, which the officer did not see on the page's form).
    let send_now = typed.submitted && !typed.username.trim().is_empty();
    let username = RwSignal::new(if typed.username.is_empty() {
        previous_username
    } else {
        typed.username
    });
    let password = RwSignal::new(typed.password);
    let error = RwSignal::new(None::<SyncError>);
    let missing = RwSignal::new(false);
    let busy = RwSignal::new(false);

    let log_in = move |how: TakeOver| {
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
        spawn_local(async move {
            match crate::sync::login(&store, &name, &secret, how).await {
                Ok(session) => {
                    password.set(String::new());
                    busy.set(false);
                    sync.logged_in(session);
                    navigate.replace("/");
                }
                Err(login_error) => {
                    busy.set(false);
                    error.set(Some(login_error));
                }
            }
        });
    };
    if send_now {
        log_in.clone()(TakeOver::OnlyIfSynced);
    }
    // Otherwise the field being typed in keeps the focus: moved before the browser handles its next
    // key (a microtask, once this screen's fields are in the page), so that no keystroke lands between
    // the two forms.
    if !send_now && let Some(focused) = typed.focused {
        queue_microtask(move || {
            if !crate::boot_form::focus(focused) {
                request_animation_frame(move || {
                    crate::boot_form::focus(focused);
                });
            }
        });
    }
    // The login's code comes in the sync run's file (`crate::sync::login`): asked for once the
    // officer is at the form (its first focus), so that 登录 seldom waits for it. Not before: a
    // phone that only shows 登录 downloads nothing more than the app.
    let code_asked = StoredValue::new(false);
    let ask_for_code = move |_| {
        if !code_asked.get_value() {
            code_asked.set_value(true);
            spawn_local(crate::sync::preload_code());
        }
    };
    let submit = log_in.clone();
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        submit(TakeOver::OnlyIfSynced);
    };
    // Another user's unsynced work: log in as them, or export it and — once the person confirms the
    // file is kept — drop it from the phone. The drop is refused if the work changed since the export.
    let export_store = use_store();
    let export_error = RwSignal::new(None::<String>);
    let exported = RwSignal::new(None::<String>);
    let export = move |_| {
        let store = export_store.clone();
        spawn_local(async move {
            match crate::download::save_unsynced(store).await {
                Ok(fingerprint) => {
                    export_error.set(None);
                    exported.set(Some(fingerprint));
                }
                Err(failed) => export_error.set(Some(i18n.lang().save_failed(failed))),
            }
        });
    };
    let discard_and_continue = move |_| {
        if let Some(fingerprint) = exported.get_untracked() {
            log_in(TakeOver::DiscardingExported { fingerprint });
        }
    };
    let other_users_work = move || match error.get() {
        Some(SyncError::OtherUsersWork { owner, n }) => Some((owner, n)),
        _ => None,
    };

    view! {
        <section class="page login">
            <p class="login-brand">{move || i18n.t().app_name}</p>
            <form class="group" on:submit=on_submit on:focusin=ask_for_code novalidate>
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
                        .filter(|login_error| !matches!(login_error, SyncError::OtherUsersWork { .. }))
                        .map(|login_error| {
                            // The login's code did not arrive: an installed app has no reload of
                            // its own, and a download stalled on a weak link ends only with one.
                            let reload = matches!(login_error, SyncError::CodeMissing(_)).then(|| view! {
                                <button type="button" class="button button-small" data-testid="login-reload"
                                    on:click=|_| crate::app::reload()>
                                    {i18n.t().reload}
                                </button>
                            });
                            view! {
                                <p class="field-error" role="alert">
                                    {login_error_text(&login_error, i18n.t())}
                                </p>
                                {reload}
                            }
                        })
                }}
                <div class="actions">
                    <button type="submit" class="button button-primary" disabled=move || busy.get()>
                        {move || if busy.get() { i18n.t().logging_in } else { i18n.t().login }}
                    </button>
                </div>
            </form>
            {move || other_users_work().map(|(owner, n)| {
                let lang = i18n.lang();
                let t = lang.t();
                let shown_owner = owner.clone().unwrap_or_else(|| t.other_owner_unknown.to_owned());
                let export = export.clone();
                let discard_and_continue = discard_and_continue.clone();
                view! {
                    <div class="banner banner-warn" role="alert" data-testid="other-users-work">
                        <p>{lang.other_users_work(&shown_owner, n)}</p>
                        <p class="small">{t.export_first_hint}</p>
                        <div class="actions actions-wrap">
                            {owner.map(|owner| view! {
                                <button type="button" class="button button-primary" data-testid="login-as-owner"
                                    on:click=move |_| {
                                        username.set(owner.clone());
                                        password.set(String::new());
                                        error.set(None);
                                    }>
                                    {t.login_as_owner}
                                </button>
                            })}
                            <button type="button" class="button button-secondary" data-testid="export-unsynced"
                                on:click=export>
                                {t.export_unsynced}
                            </button>
                        </div>
                        {move || exported.get().is_some().then(|| {
                            let discard = discard_and_continue.clone();
                            view! {
                                <p class="small">{i18n.t().export_done}</p>
                                <button type="button" class="button button-danger" data-testid="discard-and-continue"
                                    on:click=discard>
                                    {i18n.t().export_and_continue}
                                </button>
                            }
                        })}
                        {move || export_error.get().map(|message| view! { <p class="field-error">{message}</p> })}
                    </div>
                }
            })}
            <p class="hint">{move || i18n.t().login_hint}</p>
        </section>
    }
}
