//! The fixed top bar: the screen title and the sync badge, always visible.

use leptos::prelude::*;

use crate::components::SyncBadge;

/// The top bar of every screen.
#[component]
pub fn TopBar(
    /// The current screen's title.
    #[prop(into)]
    title: Signal<String>,
) -> impl IntoView {
    view! {
        <header class="topbar">
            <h1 class="topbar-title">{move || title.get()}</h1>
            <SyncBadge />
        </header>
    }
}
