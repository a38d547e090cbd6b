//! The screen for an unknown path.

use leptos::prelude::*;

use crate::i18n::use_i18n;

/// Shown for any path the router does not know.
#[component]
pub fn NotFoundPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="page">
            <p class="empty">{move || i18n.t().not_found}</p>
            <a class="button button-secondary" href="/">{move || i18n.t().back_home}</a>
        </section>
    }
}
