//! The venue list as the app last drew it, which `index.html` shows at the next open until the app has drawn its own.
//!
//! Opening the app on a cheap phone takes over a second before the app's own rows are up: the
//! browser compiles and starts the wasm, then the list's file. The page shows the copy kept here at
//! once, from `localStorage`, and hides the app behind it meanwhile. A tap on one of its links is
//! only noted (`window.fieldcheckSnapshotTap`); the app follows it once its own list is up. The copy
//! is the app's DOM as the browser serialises it, so what officers typed into the register stays
//! text when the page reads it back. It is forgotten whenever nobody is logged in on the phone
//! (`boot_form::note_session`), so that the next officer never sees another's list.

use wasm_bindgen::{JsCast, JsValue};
use web_sys::Element;

/// The page's note that holds the copy (read by `index.html`).
const NOTE: &str = "fieldcheck-snapshot";
/// The element `index.html` shows the copy in.
const SHOWN: &str = "boot-snapshot";
/// Where `index.html` notes the address of a link tapped on the copy.
const TAP: &str = "fieldcheckSnapshotTap";

/// Rows of the list kept: more than the tallest phone shows at once. Each row more is parsed and
/// laid out before the copy is painted.
const ROWS_KEPT: usize = 15;

/// Keeps a copy of the screen as it is drawn now (top bar, the list's first rows, tab bar) for the
/// next open.
pub fn keep() {
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
    crate::boot_form::note(NOTE, Some(&copy));
}

/// Forgets the copy: nobody is logged in.
pub fn forget() {
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
