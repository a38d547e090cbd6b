//! The fixed top bar: the screen title and the sync badge, always visible.

use leptos::prelude::*;

use crate::chrome::use_chrome;

/// The top bar of every screen.
#[component]
pub fn TopBar(
    /// The current screen's title.
    #[prop(into)]
    title: Signal<String>,
) -> impl IntoView {
    // The badge is one of the shell's parts 登录 does without (`crate::chrome`): it shows once
    // their file is here.
    let chrome = use_chrome();
    view! {
        <header class="topbar">
            <h1 class="topbar-title">{move || title.get()}</h1>
            {move || chrome.get().map(|parts| (parts.badge)())}
        </header>
    }
}
