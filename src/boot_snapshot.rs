//! The venue list as the app last drew it, which `index.html` shows at the next open until the app has drawn its own.
//!
//! Opening the app on a cheap phone takes over a second before the app's own rows are up: the
//! browser compiles and starts the wasm, then the list's file. The page shows the copy kept here at
//! once, from `localStorage`, and hides the app behind it meanwhile. A tap on one of its links is
//! only noted (`window.fieldcheckSnapshotTap`); the app follows it once its own list is up. The copy
//! is the app's DOM as the browser serialises it, so what officers typed into the register stays
//! text when the page reads it back. It is kept with the id of the officer who drew it and the
//! build that drew it, shown only while the page's note says that officer is logged in, by that build, and forgotten whenever nobody is
//! (`boot_form::note_session`), another officer logs in, or the language changes.

use wasm_bindgen::{JsCast, JsValue};
use web_sys::Element;

/// The page's notes that hold the copy, and whose it is and of which build: the officer's id and
/// the main module's name (read by `index.html`).
const NOTE: &str = "fieldcheck-snapshot";
const OWNER_NOTE: &str = "fieldcheck-snapshot-user";
/// The element `index.html` shows the copy in.
const SHOWN: &str = "boot-snapshot";
/// Where `index.html` notes the address of a link tapped on the copy.
const TAP: &str = "fieldcheckSnapshotTap";

/// Rows of the list kept: more than the tallest phone shows at once. Each row more is parsed and
/// laid out before the copy is painted.
pub(crate) const ROWS_KEPT: usize = 15;

/// The parts of the screen kept, in the page's order: the top bar, a banner under it (the session
/// expired), the list and the tab bar. (The banners at the very top say what the app finds at
/// start, and it shows them again.)
const PARTS: &str =
    "body > header.topbar, body > .banner:not(.banner-top), body > main, body > nav.tabbar";

/// Keeps a copy of the screen as it is drawn now (top bar, the list's first rows, tab bar) for the
/// next open, as `user`'s and this build's: a new build's page may not look like the old one's.
pub fn keep(user: &str) {
    let Some(document) = web_sys::window().and_then(|window| window.document()) else {
        return;
    };
    let Ok(parts) = document.query_selector_all(PARTS) else {
        return forget();
    };
    let beyond = format!(".list > li:nth-child(n+{})", ROWS_KEPT + 1);
    let mut copy = String::new();
    for idx in 0..parts.length() {
        let Some(part) = parts
            .get(idx)
            .and_then(|node| node.clone_node_with_deep(true).ok())
            .and_then(|node| node.dyn_into::<Element>().ok())
        else {
            continue;
        };
        if let Ok(rows) = part.query_selector_all(&beyond) {
            for row in 0..rows.length() {
                if let Some(row) = rows.get(row).and_then(|row| row.dyn_into::<Element>().ok()) {
                    row.remove();
                }
            }
        }
        copy.push_str(&part.outer_html());
    }
    if copy.is_empty() {
        return forget();
    }
    // The build, by the main module's hashed name in the page (index.html compares it).
    let build = document
        .query_selector("meta[name='fieldcheck-main']")
        .ok()
        .flatten()
        .and_then(|meta| meta.get_attribute("content"))
        .unwrap_or_default();
    // Whose it is first: a copy never stands under another officer's name, even if a write fails.
    crate::boot_form::note(OWNER_NOTE, None);
    crate::boot_form::note(NOTE, Some(&copy));
    crate::boot_form::note(OWNER_NOTE, Some(&format!("{user} {build}")));
}

/// Forgets the copy: nobody is logged in.
pub fn forget() {
    crate::boot_form::note(OWNER_NOTE, None);
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
