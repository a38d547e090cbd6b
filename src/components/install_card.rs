//! 安装: putting the app on the home screen, where browsers keep its data (Safari clears other sites' after 7 days).

use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

use crate::i18n::use_i18n;

/// The event `index.html` fires when the browser offers to install the app (or the offer goes away).
const INSTALL_EVENT: &str = "fieldcheck-installable";
/// Where `index.html` keeps the browser's install offer (`beforeinstallprompt`) until it is used.
const INSTALL_PROMPT: &str = "fieldcheckInstallPrompt";

/// How this browser can put the app on the home screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Install {
    /// Opened from the home screen already.
    Installed,
    /// The browser offered to install it: a button does it.
    Offered,
    /// An iPhone or iPad: only Safari's Share menu can.
    Ios,
    /// Another browser that made no offer (yet): its menu can.
    Menu,
}

impl Install {
    /// The state as the page names it (`data-install`), for the tests.
    fn name(self) -> &'static str {
        match self {
            Install::Installed => "installed",
            Install::Offered => "offered",
            Install::Ios => "ios",
            Install::Menu => "menu",
        }
    }
}

fn install_state() -> Install {
    let window = window();
    let standalone = window
        .match_media("(display-mode: standalone)")
        .ok()
        .flatten()
        .is_some_and(|query| query.matches())
        || js_sys::Reflect::get(&window.navigator(), &JsValue::from_str("standalone"))
            .is_ok_and(|flag| flag.is_truthy());
    if standalone {
        return Install::Installed;
    }
    if install_prompt().is_some() {
        return Install::Offered;
    }
    let agent = window.navigator().user_agent().unwrap_or_default();
    if agent.contains("iPhone") || agent.contains("iPad") {
        Install::Ios
    } else {
        Install::Menu
    }
}

fn install_prompt() -> Option<JsValue> {
    js_sys::Reflect::get(&window(), &JsValue::from_str(INSTALL_PROMPT))
        .ok()
        .filter(JsValue::is_truthy)
}

/// Shows the browser's own install dialog; the offer can be used once.
fn prompt_install() {
    let Some(offer) = install_prompt() else {
        return;
    };
    let shown = js_sys::Reflect::get(&offer, &JsValue::from_str("prompt"))
        .ok()
        .and_then(|prompt| prompt.dyn_into::<js_sys::Function>().ok())
        .map(|prompt| prompt.call0(&offer));
    if !matches!(shown, Some(Ok(_))) {
        leptos::logging::error!("the browser's install offer could not be shown");
    }
    let _ = js_sys::Reflect::set(
        &window(),
        &JsValue::from_str(INSTALL_PROMPT),
        &JsValue::NULL,
    );
}

/// A cell of 我的: a button when the browser offers to install, else how to do it by hand.
#[component]
pub fn InstallCell() -> impl IntoView {
    let i18n = use_i18n();
    let state = RwSignal::new(install_state());
    let listener =
        window_event_listener_untyped(INSTALL_EVENT, move |_| state.set(install_state()));
    on_cleanup(move || listener.remove());
    view! {
        <div class="cell" data-testid="install" data-install=move || state.get().name()>
            <span class="field-label">{move || i18n.t().app_install}</span>
            {move || {
                let t = i18n.t();
                match state.get() {
                    Install::Installed => view! { <span class="cell-main">{t.installed_app}</span> }.into_any(),
                    Install::Offered => view! {
                        <button
                            type="button"
                            class="button button-small button-primary"
                            data-testid="install-app"
                            on:click=move |_| {
                                prompt_install();
                                state.set(install_state());
                            }
                        >
                            {t.install_app}
                        </button>
                    }
                    .into_any(),
                    Install::Ios => view! { <span class="cell-main cell-sub">{t.install_hint_ios}</span> }.into_any(),
                    Install::Menu => view! { <span class="cell-main cell-sub">{t.install_hint_other}</span> }.into_any(),
                }
            }}
        </div>
    }
}
