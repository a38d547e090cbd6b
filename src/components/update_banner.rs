//! "新版本可用 — 重新载入": a new build waits in the service worker; the open form is kept before it takes over.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

use crate::i18n::use_i18n;

/// The event `index.html` fires on the window when a new version of the app has installed and waits.
const UPDATE_EVENT: &str = "fieldcheck-update";
/// The flag `index.html` sets for a new version found before the app listened.
const UPDATE_FLAG: &str = "fieldcheckUpdateReady";
/// The function `index.html` offers to let the waiting version take over and reload.
const APPLY_UPDATE: &str = "fieldcheckApplyUpdate";

type SaveDraft = Rc<dyn Fn() -> Pin<Box<dyn Future<Output = ()>>>>;

/// Who can save the form that is open right now, so that a reload the app starts itself (a new
/// version) never loses what was typed since the last autosave.
#[derive(Clone, Copy)]
pub struct DraftKeeper {
    save: StoredValue<Option<(u64, SaveDraft)>, LocalStorage>,
    next: StoredValue<u64>,
}

impl DraftKeeper {
    fn new() -> DraftKeeper {
        DraftKeeper {
            save: StoredValue::new_local(None),
            next: StoredValue::new(0),
        }
    }

    /// The open form says how to save it; the answer releases it when the form closes.
    pub fn keep(&self, save: impl Fn() -> Pin<Box<dyn Future<Output = ()>>> + 'static) -> u64 {
        self.next.update_value(|next| *next += 1);
        let token = self.next.get_value();
        self.save.set_value(Some((token, Rc::new(save))));
        token
    }

    /// The form that registered as `token` has closed (another one may have opened since).
    pub fn release(&self, token: u64) {
        self.save.update_value(|save| {
            if save.as_ref().is_some_and(|(kept, _)| *kept == token) {
                *save = None;
            }
        });
    }

    /// Saves the open form, if one is open, and returns once it is on the phone.
    pub async fn save_open_form(&self) {
        let save = self
            .save
            .with_value(|save| save.as_ref().map(|(_, save)| save.clone()));
        if let Some(save) = save {
            save().await;
        }
    }
}

pub fn provide_draft_keeper() -> DraftKeeper {
    let keeper = DraftKeeper::new();
    provide_context(keeper);
    keeper
}

pub fn use_draft_keeper() -> DraftKeeper {
    expect_context::<DraftKeeper>()
}

/// The banner over every screen once a new version waits. Reloading saves the open form first; a
/// browser with no service worker never shows it.
#[component]
pub fn UpdateBanner() -> impl IntoView {
    let i18n = use_i18n();
    let keeper = use_draft_keeper();
    let waiting = RwSignal::new(update_flagged());
    let listener = window_event_listener_untyped(UPDATE_EVENT, move |_| waiting.set(true));
    on_cleanup(move || listener.remove());
    let applying = RwSignal::new(false);
    let apply = move |_| {
        applying.set(true);
        leptos::task::spawn_local(async move {
            keeper.save_open_form().await;
            apply_update();
        });
    };
    view! {
        <Show when=move || waiting.get()>
            <div class="banner banner-info banner-top" role="status" data-testid="update-ready">
                <span>{move || i18n.t().update_ready}</span>
                " "
                <button
                    type="button"
                    class="button button-small button-primary"
                    data-testid="update-reload"
                    disabled=move || applying.get()
                    on:click=apply
                >
                    {move || i18n.t().reload}
                </button>
            </div>
        </Show>
    }
}

fn update_flagged() -> bool {
    js_sys::Reflect::get(&window(), &JsValue::from_str(UPDATE_FLAG))
        .is_ok_and(|flag| flag.is_truthy())
}

/// Lets the waiting version take over; the page reloads when it has, or at once when no version
/// waits. Save the open form first ([`DraftKeeper::save_open_form`]).
pub fn apply_update() {
    let apply = js_sys::Reflect::get(&window(), &JsValue::from_str(APPLY_UPDATE))
        .ok()
        .and_then(|apply| apply.dyn_into::<js_sys::Function>().ok());
    let applied = apply.map(|apply| apply.call0(&window()));
    if !matches!(applied, Some(Ok(_))) {
        // No service worker to hand over to: a plain reload still brings the new version.
        if let Err(error) = window().location().reload() {
            leptos::logging::error!("cannot reload: {error:?}");
        }
    }
}
