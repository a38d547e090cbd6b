//! A review status chip: 草稿 grey, 已提交 blue, 已退回 orange, 已通过 green (always with its word).

use fieldcheck_core::Status;
use leptos::prelude::*;

use crate::i18n::use_i18n;

/// The status of a record as a chip.
#[component]
pub fn StatusChip(status: Status) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <span class=format!("chip chip-{}", status.code())>{move || i18n.lang().status(status)}</span>
    }
}
