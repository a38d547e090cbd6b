//! A record's sync state as icon + text: 待同步 / 已同步 / 冲突 / 被拒绝 / 数据损坏.

use leptos::prelude::*;

use crate::components::{Icon, IconName};
use crate::i18n::use_i18n;
use crate::store::SyncMark;

/// The sync state of one record.
#[component]
pub fn SyncChip(mark: SyncMark) -> impl IntoView {
    let i18n = use_i18n();
    let icon = match mark {
        SyncMark::Pending => IconName::Upload,
        SyncMark::Synced => IconName::Check,
        SyncMark::Conflict | SyncMark::Rejected | SyncMark::Quarantined => IconName::Alert,
    };
    view! {
        <span class=format!("sync-chip sync-{}", mark.code())>
            <Icon name=icon />
            {move || i18n.lang().sync_mark(mark)}
        </span>
    }
}
