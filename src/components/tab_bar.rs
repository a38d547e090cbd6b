//! The bottom tab bar: 检查 · 记录 · 我的, as links so the URL tells where you are.

use leptos::prelude::*;

use crate::components::{Icon, IconName};
use crate::i18n::use_i18n;
use crate::router::use_location;

/// The bottom tab bar.
#[component]
pub fn TabBar() -> impl IntoView {
    let i18n = use_i18n();
    let location = use_location();
    let current = move |href: &'static str| {
        let path = location.pathname.get();
        let active = match href {
            "/" => path == "/" || path.starts_with("/inspect"),
            other => path == other || path.starts_with(&format!("{other}/")),
        };
        active.then_some("page")
    };
    let tab = move |href: &'static str,
                    icon: IconName,
                    label: fn(&crate::i18n::Strings) -> &'static str| {
        view! {
            <a class="tab" href=href aria-current=move || current(href)>
                <Icon name=icon />
                <span>{move || label(i18n.t())}</span>
            </a>
        }
    };
    view! {
        <nav class="tabbar" aria-label=move || i18n.t().app_name>
            {tab("/", IconName::Inspect, |t| t.tab_inspect)}
            {tab("/records", IconName::Records, |t| t.tab_records)}
            {tab("/me", IconName::Me, |t| t.tab_me)}
        </nav>
    }
}
