//! Small inline SVG icons (no icon font to download); always beside text, never the only signal.

use leptos::prelude::*;

/// The icons the app draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IconName {
    Inspect,
    Records,
    Me,
    Offline,
    Upload,
    Check,
    Alert,
    Chevron,
    Pin,
}

impl IconName {
    /// Stroke paths on a 24×24 grid.
    fn path(self) -> &'static str {
        match self {
            IconName::Inspect => "M9 4h6v3H9zM7 5H5v16h14V5h-2M8.5 13.5l2.5 2.5 5-5",
            IconName::Records => "M8 6h12M8 12h12M8 18h12M4 6h.01M4 12h.01M4 18h.01",
            IconName::Me => "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM4 21c0-4 4-6 8-6s8 2 8 6",
            IconName::Offline => {
                "M3 3l18 18M7 18h10a4 4 0 0 0 1.5-7.7A6 6 0 0 0 8.2 7.2M4.6 10.4A4 4 0 0 0 7 18"
            }
            IconName::Upload => "M12 16V5M7 10l5-5 5 5M5 19h14",
            IconName::Check => "M5 12.5l4.5 4.5L19 7.5",
            IconName::Alert => "M12 3l10 18H2zM12 10v5M12 18h.01",
            IconName::Chevron => "M9 6l6 6-6 6",
            IconName::Pin => {
                "M12 21s-7-6.2-7-11a7 7 0 0 1 14 0c0 4.8-7 11-7 11zM12 12.5a2.5 2.5 0 1 0 0-5 2.5 2.5 0 0 0 0 5z"
            }
        }
    }
}

/// An icon, hidden from screen readers (the text beside it carries the meaning).
#[component]
pub fn Icon(name: IconName) -> impl IntoView {
    view! {
        <svg
            class="icon"
            viewBox="0 0 24 24"
            width="20"
            height="20"
            fill="none"
            stroke="currentColor"
            stroke-width="2"
            stroke-linecap="round"
            stroke-linejoin="round"
            aria-hidden="true"
            focusable="false"
        >
            <path d=name.path()></path>
        </svg>
    }
}
