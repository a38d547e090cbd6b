//! The screen for an unknown path, and what any screen shows for an address the phone holds nothing at.

use leptos::prelude::*;

use crate::i18n::{Lang, use_i18n};

/// Shown for any path the router does not know.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! { <NothingHere message=|lang| lang.t().not_found /> }
}

/// What a screen shows when the phone holds nothing at its address (an unknown path, another
/// unit's record, a venue gone): the fact, and the way home rather than a dead end.
#[component]
pub fn NothingHere(message: fn(Lang) -> &'static str) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="page">
            <p class="empty" role="alert">{move || message(i18n.lang())}</p>
            <div class="actions">
                <a class="button button-secondary" href="/">{move || i18n.t().back_home}</a>
            </div>
        </section>
    }
}
