//! The venue list as the app last drew it, which `index.html` shows at the next open until the app has drawn its own.
//!
//! Opening the app on a cheap phone takes over a second before the app's own rows are up: the
//! browser compiles and starts the wasm, then the list's file. The page shows the copy kept here at
//! once, from `localStorage`, and hides the app behind it meanwhile. A tap on one of its links is
//! only noted (`window.fieldcheckSnapshotTap`); the app follows it once its own list is up. The copy
//! is the app's DOM as the browser serialises it, so what officers typed into the register stays
//! text when the page reads it back. It is kept with the id of the officer who drew it, shown only
//! while the page's note says that officer is logged in, and forgotten whenever nobody is
//! (`boot_form::note_session`), another officer logs in, or the language changes.

use wasm_bindgen::{JsCast, JsValue};
use web_sys::Element;

/// The page's notes that hold the copy and whose it is (read by `index.html`).
const NOTE: &str = "fieldcheck-snapshot";
const USER_NOTE: &str = "fieldcheck-snapshot-user";
/// The element `index.html` shows the copy in.
const SHOWN: &str = "boot-snapshot";
/// Where `index.html` notes the address of a link tapped on the copy.
const TAP: &str = "fieldcheckSnapshotTap";

/// Rows of the list kept: more than the tallest phone shows at once. Each row more is parsed and
/// laid out before the copy is painted.
const ROWS_KEPT: usize = 15;

/// Keeps a copy of the screen as it is drawn now (top bar, the list's first rows, tab bar) for the
/// next open, as `user`'s.
pub fn keep(user: &str) {
    let Some(document) = web_sys::window().and_then(|window| window.document()) else {
        return;
    };
    let mut copy = String::new();
    for part in ["body > header.topbar", "body > main", "body > nav.tabbar"] {
        let Some(element) = document
            .query_selector(part)
            .ok()
            .flatten()
            .and_then(|element| element.clone_node_with_deep(true).ok())
            .and_then(|node| node.dyn_into::<Element>().ok())
        else {
            return;
        };
        let beyond = format!(".list > li:nth-child({})", ROWS_KEPT + 1);
        while let Ok(Some(row)) = element.query_selector(&beyond) {
            row.remove();
        }
        copy.push_str(&element.outer_html());
    }
    // Whose it is first: a copy never stands under another officer's name, even if a write fails.
    crate::boot_form::note(USER_NOTE, None);
    crate::boot_form::note(NOTE, Some(&copy));
    crate::boot_form::note(USER_NOTE, Some(user));
}

/// Forgets the copy: nobody is logged in.
pub fn forget() {
    crate::boot_form::note(USER_NOTE, None);
    crate::boot_form::note(NOTE, None);
}

/// Takes the page's copy off the screen (the app shows its own now) and returns the address of a
/// link tapped on it, for the app to follow; `None` when there was no copy or no tap.
pub fn take() -> Option<String> {
    let window = web_sys::window()?;
    let shown = window.document()?.get_element_by_id(SHOWN)?;
    shown.remove();
    js_sys::Reflect::get(&window, &JsValue::from_str(TAP))
        .ok()?
        .as_string()
}
