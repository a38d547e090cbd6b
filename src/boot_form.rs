//! The login form `index.html` shows while the app downloads, taken over by the app when it starts.
//!
//! On a village signal the app's code takes seconds to arrive; the page itself carries a plain login
//! form (same markup and styles as 登录) so that the officer can type meanwhile. A tap on its 登录 is
//! only noted (`data-pending`): nothing is sent before the app runs. When the app starts, 登录 takes
//! what was typed and the tap, and the page's form goes in the same task that draws the app's, so the
//! two are never on screen (or in the page) together.

use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlInputElement};

use crate::i18n::Lang;

/// The page's form and what was typed into it.
const FORM: &str = "boot-login";
const USERNAME: &str = "boot-username";
const PASSWORD: &str = "boot-password";
const SUBMIT_FORM: &str = "boot-login-form";

/// Which field of the page's form had the focus, to give it to the app's own (named by its id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focused {
    Username,
    Password,
}

impl Focused {
    fn app_field(self) -> &'static str {
        match self {
            Focused::Username => "login-username",
            Focused::Password => "login-password",
        }
    }
}

/// What the officer did on the page's form before the app started.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Typed {
    pub username: String,
    pub password: String,
    /// 登录 was tapped: the app logs in at once with what was typed.
    pub submitted: bool,
    pub focused: Option<Focused>,
}

/// Never the password: a `Typed` may end up in a log.
impl std::fmt::Debug for Typed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Typed")
            .field("username", &self.username)
            .field("password_typed", &!self.password.is_empty())
            .field("submitted", &self.submitted)
            .field("focused", &self.focused)
            .finish()
    }
}

/// The page's notes (in `localStorage`, nothing secret) of what `index.html` needs before the app
/// runs: who is logged in on this phone, by user id (the page shows its login form at `/` only to a
/// phone without one, so that an officer who is logged in never types into a form the app then
/// drops, nor logs in over a colleague's open session; and the copy of the venue list only to the
/// officer who drew it), and the language chosen in 我的 (the page's form speaks it).
const SESSION_NOTE: &str = "fieldcheck-session";
const LANG_NOTE: &str = "fieldcheck-lang";

/// Keeps the page's note in step with who is logged in on this phone; when that changes (a logout,
/// another officer's login), the copy of the last officer's venue list goes too.
pub fn note_session(user: Option<&str>) {
    if noted(SESSION_NOTE).as_deref() != user {
        crate::boot_snapshot::forget();
    }
    note(SESSION_NOTE, user);
}

/// Keeps the page's note of the app's language (its BCP 47 tag); the copy of the venue list, drawn
/// in the other language, goes when it changes.
pub fn note_lang(lang: Lang) {
    if noted(LANG_NOTE).is_some_and(|noted| noted != lang.tag()) {
        crate::boot_snapshot::forget();
    }
    note(LANG_NOTE, Some(lang.tag()));
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// One of the page's notes, if there is one.
fn noted(key: &str) -> Option<String> {
    storage()?.get_item(key).ok().flatten()
}

/// Writes (`Some`) or removes (`None`) one of the page's notes; a browser that keeps none only
/// shows the page's form in Chinese, or at `/` on a first visit, and no copy of the venue list.
pub(crate) fn note(key: &str, value: Option<&str>) {
    let Some(storage) = storage() else {
        return;
    };
    let noted = match value {
        Some(value) => storage.set_item(key, value),
        None => storage.remove_item(key),
    };
    if let Err(error) = noted {
        leptos::logging::warn!("cannot keep the page's note {key}: {error:?}");
    }
}

fn element(id: &str) -> Option<Element> {
    web_sys::window()?.document()?.get_element_by_id(id)
}

fn value(id: &str) -> String {
    element(id)
        .and_then(|element| element.dyn_into::<HtmlInputElement>().ok())
        .map(|input| input.value())
        .unwrap_or_default()
}

/// Takes the page's form away and returns what was typed into it (`None`: there was none, or it was
/// taken already).
pub fn take() -> Option<Typed> {
    let form = element(FORM)?;
    let focused = web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.active_element())
        .and_then(|active| match active.id().as_str() {
            USERNAME => Some(Focused::Username),
            PASSWORD => Some(Focused::Password),
            _ => None,
        });
    let typed = Typed {
        username: value(USERNAME),
        password: value(PASSWORD),
        submitted: element(SUBMIT_FORM).is_some_and(|form| form.has_attribute("data-pending")),
        focused,
    };
    form.remove();
    Some(typed)
}

/// Takes the page's form away unread: the phone has a session, the app opens on its screens.
pub fn discard() {
    if let Some(form) = element(FORM) {
        form.remove();
    }
}

/// Gives the focus to 登录's own field, the caret after what was typed, as it was on the page's
/// form; `false` if the field is not in the page yet.
pub fn focus(focused: Focused) -> bool {
    let Some(input) = element(focused.app_field())
        .and_then(|element| element.dyn_into::<HtmlInputElement>().ok())
    else {
        return false;
    };
    let _ = input.focus();
    // Past the end is the end (the length is counted in bytes, the browser's in UTF-16 units).
    let end = u32::try_from(input.value().len()).unwrap_or(u32::MAX);
    let _ = input.set_selection_range(end, end);
    true
}
