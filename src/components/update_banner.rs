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

/// How long a reload waits for the open form to be saved (with a photo being stored for it).
const SAVE_BEFORE_RELOAD_MS: u32 = 20_000;
/// When the page reloads whatever happens, from the tap: past the save's wait and the page's own
/// fallback (`fieldcheckApplyUpdate` in `index.html`, 4 s).
const WATCHDOG_MS: i32 = 30_000;

/// Saves the open form; the answer says whether it is on the phone.
type SaveDraft = Rc<dyn Fn() -> Pin<Box<dyn Future<Output = bool>>>>;

/// What became of an inspection form the officer had already left when its last write failed (see
/// [`DraftKeeper::form_not_kept`]), in both languages: written by the form (`Lang::form_not_kept`),
/// so that its wording stays in the form's file and out of the main module.
#[derive(Debug, Clone, PartialEq)]
pub struct FormNotKept {
    /// The officer whose form it was: told to them only.
    pub officer: Option<fieldcheck_core::UserId>,
    pub zh: String,
    pub en: String,
}

/// Who can save the form that is open right now, so that a reload the app starts itself (a new
/// version) never loses what was typed since the last autosave.
#[derive(Clone, Copy)]
pub struct DraftKeeper {
    save: StoredValue<Option<(u64, SaveDraft)>, LocalStorage>,
    next: StoredValue<u64>,
    /// A reload is under way ([`DraftKeeper::reload_keeping_form`]): the page takes no more input.
    reloading: RwSignal<bool>,
    /// Photos and signatures being made and stored for the open form ([`DraftKeeper::begin_work`]).
    working: StoredValue<u32>,
    /// Forms left by the officer that could not be kept as they were, told over every screen.
    not_kept: RwSignal<Vec<FormNotKept>>,
    /// The last reload was called off because the phone refused the open form's write: the next
    /// tap on 重新载入 tries to keep the form again, and reloads whatever the answer.
    refused: RwSignal<bool>,
}

impl DraftKeeper {
    fn new() -> DraftKeeper {
        DraftKeeper {
            save: StoredValue::new_local(None),
            next: StoredValue::new(0),
            reloading: RwSignal::new(false),
            working: StoredValue::new(0),
            not_kept: RwSignal::new(Vec::new()),
            refused: RwSignal::new(false),
        }
    }

    /// A form the officer has left could not be kept as it was: the shell says so over every screen
    /// until the officer has read it, since the form that would have shown the error is gone.
    pub fn form_not_kept(&self, notice: FormNotKept) {
        self.not_kept.update(|not_kept| not_kept.push(notice));
    }

    /// The officer logged out: the next one is not told of their forms.
    pub fn forget_not_kept(&self) {
        self.not_kept.set(Vec::new());
    }

    /// A photo or a signature for the open form is being made and stored: a reload waits for it to
    /// land in the form (and the form to be saved) before it goes. Pair with [`DraftKeeper::end_work`].
    pub fn begin_work(&self) {
        self.working.update_value(|working| *working += 1);
    }

    /// The work begun with [`DraftKeeper::begin_work`] has ended, kept or not.
    pub fn end_work(&self) {
        self.working
            .try_update_value(|working| *working = working.saturating_sub(1));
    }

    /// Reloads the page into the version waiting in the service worker (or just reloads), keeping
    /// the open form. From the tap on, the page takes no input: the focus leaves the form and a veil
    /// covers it, since the page may take a few seconds to go (see `fieldcheckApplyUpdate` in
    /// `index.html`) and what was typed meanwhile would be cut by the reload. Then the form is
    /// saved, and the new version takes over.
    ///
    /// When the phone refuses the form's write (or a form closed meanwhile is not kept), the reload
    /// is called off, the page given back, and the officer told; a second tap tries again and reloads
    /// whatever the answer, since a database the app lost may come back only with a reload.
    pub fn reload_keeping_form(&self) {
        let keeper = *self;
        let insist = keeper.refused.get_untracked();
        let notices_before = keeper.not_kept.with_untracked(Vec::len);
        keeper.reloading.set(true);
        hold_input();
        arm_watchdog();
        leptos::task::spawn_local(async move {
            let keep = Box::pin(async move {
                // A photo or signature still being stored lands in the form first; the form's
                // autosave is scheduled in the task after, which the save below then writes.
                keeper.work_done().await;
                gloo_timers::future::TimeoutFuture::new(0).await;
                let kept = keeper.save_open_form().await;
                // A form closed meanwhile (the phone's back button is not held by the veil) writes
                // itself as it closes: that write lands before the reload too.
                keeper.work_done().await;
                insist || (kept && keeper.not_kept.with_untracked(Vec::len) == notices_before)
            });
            // A database that never answers must not keep the veil up for good: after this long the
            // reload goes ahead (a write it cuts is rolled back whole; the last autosave stands).
            let deadline = gloo_timers::future::TimeoutFuture::new(SAVE_BEFORE_RELOAD_MS);
            match futures::future::select(keep, deadline).await {
                // The phone refused the form's write: reloading would drop what it could not keep.
                // The page is given back, the form (or the shell) says why, and the banner stays.
                futures::future::Either::Left((false, _)) => {
                    disarm_watchdog();
                    release_input();
                    keeper.refused.set(true);
                    keeper.reloading.set(false);
                }
                _ => apply_update(),
            }
        });
    }

    /// Returns once no work begun with [`DraftKeeper::begin_work`] is under way.
    async fn work_done(&self) {
        while self
            .working
            .try_get_value()
            .is_some_and(|working| working > 0)
        {
            gloo_timers::future::TimeoutFuture::new(50).await;
        }
    }

    /// Whether a reload is under way.
    pub fn reloading(&self) -> bool {
        self.reloading.get()
    }

    /// The open form says how to save it; the answer releases it when the form closes.
    pub fn keep(&self, save: impl Fn() -> Pin<Box<dyn Future<Output = bool>>> + 'static) -> u64 {
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

    /// Saves the open form, if one is open, and returns once it is on the phone (`true`), or the
    /// phone refused it (`false`).
    pub async fn save_open_form(&self) -> bool {
        let save = self
            .save
            .with_value(|save| save.as_ref().map(|(_, save)| save.clone()));
        match save {
            Some(save) => save().await,
            None => true,
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
    let sync = crate::sync::use_sync();
    let waiting = RwSignal::new(update_flagged());
    let listener = window_event_listener_untyped(UPDATE_EVENT, move |_| waiting.set(true));
    on_cleanup(move || listener.remove());
    view! {
        <Show when=move || keeper.refused.get()>
            <div class="banner banner-warn banner-top" role="alert" data-testid="reload-refused">
                {move || i18n.t().reload_refused}
            </div>
        </Show>
        {move || {
            let officer = sync.session().map(|session| session.user.id);
            let notices: Vec<FormNotKept> = keeper
                .not_kept
                .get()
                .into_iter()
                .filter(|notice| notice.officer == officer)
                .collect();
            (!notices.is_empty())
                .then(|| {
                    view! {
                        <div
                            class="banner banner-error banner-top banner-lines"
                            role="alert"
                            data-testid="form-not-kept"
                        >
                            <span>
                                {move || {
                                    let lang = i18n.lang();
                                    let mut text = String::new();
                                    for notice in &notices {
                                        if !text.is_empty() {
                                            text.push('\n');
                                        }
                                        text.push_str(lang.pick(&notice.zh, &notice.en));
                                    }
                                    text
                                }}
                            </span>
                            " "
                            <button
                                type="button"
                                class="button button-small"
                                on:click=move |_| keeper.not_kept.set(Vec::new())
                            >
                                {move || i18n.t().got_it}
                            </button>
                        </div>
                    }
                })
        }}
        <Show when=move || keeper.reloading()>
            <div class="reload-veil" role="status" data-testid="reload-veil">
                {move || i18n.t().reloading}
            </div>
        </Show>
        <Show when=move || waiting.get()>
            <div class="banner banner-info banner-top" role="status" data-testid="update-ready">
                <span>{move || i18n.t().update_ready}</span>
                " "
                <button
                    type="button"
                    class="button button-small button-primary"
                    data-testid="update-reload"
                    disabled=move || keeper.reloading()
                    on:click=move |_| keeper.reload_keeping_form()
                >
                    {move || i18n.t().reload}
                </button>
            </div>
        </Show>
    }
}

/// Makes the page take no more input: the focused field lets go, and everything on the page but the
/// veil is made `inert` (no taps, no focus, no keys, hidden from screen readers). The page reloads
/// after, so nothing is undone.
fn hold_input() {
    let document = document();
    if let Some(focused) = document
        .active_element()
        .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = focused.blur();
    }
    if let Ok(parts) = document.query_selector_all("body > *:not(.reload-veil)") {
        for part in (0..parts.length()).filter_map(|idx| parts.item(idx)) {
            if let Ok(part) = part.dyn_into::<web_sys::Element>() {
                let _ = part.set_attribute("inert", "");
            }
        }
    }
}

thread_local! {
    /// The watchdog's timer, while it is armed.
    static WATCHDOG: std::cell::Cell<Option<i32>> = const { std::cell::Cell::new(None) };
}

/// Reloads the page after [`WATCHDOG_MS`] whatever becomes of the app meanwhile: the browser's own
/// `location.reload`, so that even a stopped app does not leave the veil up.
fn arm_watchdog() {
    let location = window().location();
    let reload = js_sys::Reflect::get(&location, &JsValue::from_str("reload"))
        .ok()
        .and_then(|reload| reload.dyn_into::<js_sys::Function>().ok())
        .map(|reload| reload.bind0(&location));
    if let Some(reload) = reload {
        let timer =
            window().set_timeout_with_callback_and_timeout_and_arguments_0(&reload, WATCHDOG_MS);
        WATCHDOG.set(timer.ok());
    }
}

/// The reload is called off: the watchdog with it.
fn disarm_watchdog() {
    if let Some(timer) = WATCHDOG.take() {
        window().clear_timeout_with_handle(timer);
    }
}

/// Gives the page back its input (undoes [`hold_input`]).
fn release_input() {
    if let Ok(parts) = document().query_selector_all("body > [inert]") {
        for part in (0..parts.length()).filter_map(|idx| parts.item(idx)) {
            if let Ok(part) = part.dyn_into::<web_sys::Element>() {
                let _ = part.remove_attribute("inert");
            }
        }
    }
}

fn update_flagged() -> bool {
    js_sys::Reflect::get(&window(), &JsValue::from_str(UPDATE_FLAG))
        .is_ok_and(|flag| flag.is_truthy())
}

/// Lets the waiting version take over; the page reloads when it has, at once when no version waits,
/// and after a few seconds when the waiting version does not take over. Called by
/// [`DraftKeeper::reload_keeping_form`] once the open form is saved.
fn apply_update() {
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
