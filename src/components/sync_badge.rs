//! The sync badge: 离线 / N条待同步 / 已同步 HH:MM, icon and text, with stable test hooks.

use leptos::prelude::*;

use crate::components::{Icon, IconName};
use crate::i18n::{Lang, use_i18n};
use crate::sync::{Phase, SyncStatus, use_sync};

/// The words on the badge for a state, in a language.
pub fn badge_text(status: &SyncStatus, lang: Lang) -> String {
    let t = lang.t();
    let waiting = |text: &str| {
        if status.pending > 0 {
            format!("{text} · {}", lang.n_waiting(status.pending))
        } else if status.photos > 0 {
            format!("{text} · {}", lang.photos_waiting(status.photos))
        } else {
            text.to_owned()
        }
    };
    match status.badge_state() {
        "offline" => waiting(t.badge_offline),
        "error" if status.phase == Phase::Unauthorized => waiting(t.badge_relogin),
        "error" if status.phase == Phase::CodeMissing => waiting(t.badge_code_missing),
        "error" => waiting(t.badge_error),
        "pending" if status.pending == 0 => lang.photos_waiting(status.photos),
        "pending" => lang.n_waiting(status.pending),
        "attention" => lang.n_attention(status.waiting),
        "synced" => match &status.last_synced {
            Some(at) => lang.synced_at(at),
            None => t.sync_synced.to_owned(),
        },
        // A run under way says so rather than 未同步, until it has counted what waits; so does the
        // app's start and a login, whose first run comes at once (a save's recount says 未同步:
        // what it saved waits).
        _ if status.phase == Phase::Syncing || (status.phase == Phase::Idle && !status.counted) => {
            t.badge_syncing.to_owned()
        }
        _ => t.badge_idle.to_owned(),
    }
}

/// The badge in the top bar. `data-state` is `offline|pending|attention|synced|error|idle`,
/// `data-pending` the number of queued changes, `data-waiting` the records that wait for a person,
/// `data-photos` the photos and signatures not uploaded yet.
#[component]
pub fn SyncBadge() -> impl IntoView {
    let sync = use_sync();
    let i18n = use_i18n();
    let status = Memo::new(move |_| sync.status());
    let state = move || status.with(|status| status.badge_state());
    // Before a login there is nothing to sync, unless a logged-out owner's work waits on the phone.
    let hidden = move || {
        sync.session().is_none()
            && status.with(|status| status.pending + status.photos + status.waiting == 0)
    };
    let icon = move || {
        let name = match state() {
            "offline" => IconName::Offline,
            "error" => IconName::Alert,
            "pending" => IconName::Upload,
            "attention" => IconName::Alert,
            "synced" => IconName::Check,
            _ => IconName::Upload,
        };
        view! { <Icon name /> }
    };
    view! {
        <span
            class=move || format!("badge badge-{}", state())
            class:badge-busy=move || status.with(|status| status.phase == Phase::Syncing)
            data-testid="sync-badge"
            hidden=hidden
            data-state=state
            data-pending=move || status.with(|status| status.pending.to_string())
            data-waiting=move || status.with(|status| status.waiting.to_string())
            data-photos=move || status.with(|status| status.photos.to_string())
            role="status"
            aria-live="polite"
            title=move || i18n.t().badge_label
        >
            {icon}
            <span class="badge-text">{move || status.with(|status| badge_text(status, i18n.lang()))}</span>
        </span>
    }
}
