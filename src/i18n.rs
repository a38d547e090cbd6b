//! The user-facing words in Simplified Chinese (default) and English, the language context and date formats.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Timelike};
use fieldcheck_core::{InspectionKind, ItemResult, Role, Status, VenueKind};
use leptos::prelude::*;

use crate::store::SyncMark;

/// A language the app speaks. Chinese is the default; the choice is kept in the store's meta.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Lang {
    #[default]
    #[serde(rename = "zh-CN")]
    Zh,
    #[serde(rename = "en")]
    En,
}

impl Lang {
    /// The BCP 47 tag for `<html lang>`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// The fixed strings of this language.
    pub fn t(self) -> &'static Strings {
        match self {
            Lang::Zh => &ZH,
            Lang::En => &EN,
        }
    }

    /// Picks the Chinese or English of a pair that comes from the core (template items, problems).
    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    /// The badge text for queued changes: `3条待同步` / `3 waiting`.
    pub fn n_waiting(self, n_pending: u32) -> String {
        match self {
            Lang::Zh => format!("{n_pending}条待同步"),
            Lang::En => format!("{n_pending} waiting"),
        }
    }

    /// The badge text after a sync: `已同步 10:05` / `Synced 10:05`.
    pub fn synced_at(self, at: &DateTime<FixedOffset>) -> String {
        let time = clock(&at.with_timezone(&china_time()));
        match self {
            Lang::Zh => format!("已同步 {time}"),
            Lang::En => format!("Synced {time}"),
        }
    }

    /// Checklist progress: `已查 12/15` / `Checked 12/15`.
    pub fn progress(self, n_answered: usize, n_items: usize) -> String {
        match self {
            Lang::Zh => format!("已查 {n_answered}/{n_items}"),
            Lang::En => format!("Checked {n_answered}/{n_items}"),
        }
    }

    /// How many photos and signatures are not on the server yet: `2个附件待上传` /
    /// `2 attachments waiting` (a signature is uploaded as a picture, like a photo).
    pub fn photos_waiting(self, n_photos: u32) -> String {
        match self {
            Lang::Zh => format!("{n_photos}个附件待上传"),
            Lang::En if n_photos == 1 => "1 attachment waiting".to_owned(),
            Lang::En => format!("{n_photos} attachments waiting"),
        }
    }

    /// The badge text when records wait for the inspector: `2条待处理` / `2 need you`.
    pub fn n_attention(self, n_waiting: u32) -> String {
        match self {
            Lang::Zh => format!("{n_waiting}条待处理"),
            Lang::En if n_waiting == 1 => "1 needs you".to_owned(),
            Lang::En => format!("{n_waiting} need you"),
        }
    }

    /// Why another user cannot log in yet.
    pub fn other_users_work(self, owner: &str, n_records: u32) -> String {
        match self {
            Lang::Zh => format!(
                "本机有{owner}的{n_records}条记录尚未同步到服务器。请以{owner}的身份登录完成同步，或先导出这些记录。"
            ),
            Lang::En => format!(
                "This phone holds records of {owner} that are not on the server yet ({n_records}). Log in as {owner} to sync them, or export them first."
            ),
        }
    }

    /// The label of a record field in a side-by-side comparison.
    pub fn field_label(self, field: &str) -> &'static str {
        let t = self.t();
        match field {
            "notes" => t.field_notes,
            "status" => t.field_status,
            "answers" => t.field_answers,
            "hazards" => t.field_hazards,
            "inspectors" => t.field_inspectors,
            "kind" => t.field_kind,
            "location" => t.field_location,
            "finished_at" => t.field_finished_at,
            "review_comment" | "reviews" => t.field_review,
            "party" => t.field_party,
            "warning_issued" => t.field_warning,
            "campaign_id" => t.field_campaign,
            "follows" => t.field_follows,
            _ => t.field_other,
        }
    }

    /// How many local records could not be read.
    pub fn n_unreadable(self, n_corrupt: usize) -> String {
        match self {
            Lang::Zh => format!("{n_corrupt}条本机数据已损坏，无法读取（其余数据不受影响）"),
            Lang::En => format!(
                "{n_corrupt} local item(s) are damaged and cannot be read (the rest is unaffected)"
            ),
        }
    }

    /// What a refusal of the server means for the officer and what to do, by its code; `None` for a
    /// code this build does not know, when the server's own message is all there is.
    pub fn refusal(self, code: &str) -> Option<&'static str> {
        let (zh, en) = match code {
            "locked" => (
                "此记录已审核通过并锁定，本次修改未被接受。请点“以服务器为准”，新的情况在原记录中以补充记录补记。",
                "The record is approved and locked, so this change was not accepted. Take the server's copy, then add what is new as an amendment to the record.",
            ),
            "not_yours" => (
                "您不是这条记录的执法人员，修改未被接受。",
                "You are not one of this record's officers, so the change was not accepted.",
            ),
            "forbidden" => (
                "您没有权限做此修改。",
                "You are not allowed to make this change.",
            ),
            "photo_missing" => (
                "记录中的照片或签名还没有上传。联网后会自动补传并重新提交。",
                "Photos or signatures of the record are not uploaded yet. They go up, and the record with them, once online.",
            ),
            "incomplete" => (
                "记录还不完整，不能提交。请补全后重新提交。",
                "The record is not complete enough to submit. Complete it and send it again.",
            ),
            "invalid" => (
                "记录中有服务器不接受的内容（见下方说明）。请修改后重新提交。",
                "The record holds something the server does not accept (see below). Correct it and send it again.",
            ),
            "unknown_venue" => (
                "服务器上没有这个场所。请先同步场所登记，再重新提交。",
                "The server does not know this venue. Sync its registration, then send the record again.",
            ),
            "amends_not_approved" | "amends_unknown" => (
                "补充记录只能添加在服务器上已审核通过的记录中。",
                "An amendment can only be added to a record the server holds as approved.",
            ),
            "not_found" => (
                "服务器上没有这条记录。",
                "The server does not have this record.",
            ),
            _ => return None,
        };
        Some(self.pick(zh, en))
    }

    /// Why the phone refused a write, in the officer's words (the store's own text, in English and
    /// about IndexedDB, goes to the console): the record's status (an approved record is locked), no
    /// room left, a database connection the app had to let go (another tab upgraded it; reloading
    /// brings it back), or the phone's storage failing.
    pub fn store_failure(self, error: &crate::store::StoreError) -> &'static str {
        let text = error.to_string();
        let (zh, en) = if matches!(error, crate::store::StoreError::NotAllowed(_)) {
            (
                "这条记录的状态不允许这样修改",
                "the record's status does not allow this change",
            )
        } else if text.contains("QuotaExceeded") {
            ("手机存储空间不足", "the phone's storage is full")
        } else if text.contains("closing") || text.contains("InvalidStateError") {
            (
                "本机数据库已关闭，请重新载入",
                "the local database was closed: reload the page",
            )
        } else {
            ("本机存储出错", "the phone's storage failed")
        };
        self.pick(zh, en)
    }

    /// What the shell tells the officer of a form they left that could not be kept as it was: for
    /// the form of `venue`, `reason` why ([`Lang::store_failure`]); `draft_kept` when 保存/提交 failed and what
    /// was typed was kept as the form's draft instead, otherwise the form's own last write failed
    /// and its changes since the previous autosave are not on the phone.
    pub fn form_not_kept(self, venue: &str, reason: &str, draft_kept: bool) -> String {
        match (self, draft_kept) {
            (Lang::Zh, true) => format!(
                "刚才离开的「{venue}」检查没有保存成功（{reason}）。已填写的内容存为草稿，请重新打开该场所的检查再保存。"
            ),
            (Lang::Zh, false) => format!(
                "刚才离开的「{venue}」检查表，最后的修改未能存到手机（{reason}）。请重新打开该场所的检查核对。"
            ),
            (Lang::En, true) => format!(
                "The inspection of {venue} you left was not saved ({reason}). What you typed is kept as a draft: open that venue's inspection again and save it."
            ),
            (Lang::En, false) => format!(
                "The last changes to the inspection of {venue} you left could not be kept on the phone ({reason}). Open that venue's inspection again and check it."
            ),
        }
    }

    /// Why the unsynced work was not saved to a file.
    pub fn save_failed(self, failed: crate::download::SaveFailed) -> String {
        match failed {
            crate::download::SaveFailed::NotOnPhone => self
                .pick(
                    "导出功能还没有下载到手机上，请在有信号时重试。记录仍在手机上。",
                    "The export is not on the phone yet: try again with a signal. The records are still on the phone.",
                )
                .to_owned(),
            crate::download::SaveFailed::Failed(message) => {
                format!("{}: {message}", self.t().err_store)
            }
        }
    }

    pub fn storage_used(self, used_mb: f64, quota_mb: f64) -> String {
        let quota = if quota_mb >= 1024.0 {
            format!("{:.1} GB", quota_mb / 1024.0)
        } else {
            format!("{quota_mb:.0} MB")
        };
        match self {
            Lang::Zh => format!("已用 {used_mb:.1} MB / 可用 {quota}"),
            Lang::En => format!("{used_mb:.1} MB used of {quota}"),
        }
    }

    /// A date and time as inspectors read it, in China Standard Time.
    pub fn datetime(self, at: &DateTime<FixedOffset>) -> String {
        let local = at.with_timezone(&china_time());
        format!("{} {}", self.date(&local.date_naive()), clock(&local))
    }

    /// A date without time.
    pub fn date(self, date: &NaiveDate) -> String {
        match self {
            Lang::Zh => fieldcheck_core::printout::date_zh(date),
            Lang::En => format!(
                "{} {} {:04}",
                date.day(),
                MONTHS_EN[date.month0() as usize],
                date.year()
            ),
        }
    }

    pub fn venue_kind(self, kind: VenueKind) -> &'static str {
        self.pick(kind.name_zh(), kind.name_en())
    }

    pub fn inspection_kind(self, kind: InspectionKind) -> &'static str {
        self.pick(kind.name_zh(), kind.name_en())
    }

    pub fn status(self, status: Status) -> &'static str {
        let t = self.t();
        match status {
            Status::Draft => t.status_draft,
            Status::Submitted => t.status_submitted,
            Status::Returned => t.status_returned,
            Status::Approved => t.status_approved,
        }
    }

    pub fn sync_mark(self, mark: SyncMark) -> &'static str {
        let t = self.t();
        match mark {
            SyncMark::Pending => t.sync_pending,
            SyncMark::Synced => t.sync_synced,
            SyncMark::Conflict => t.sync_conflict,
            SyncMark::Rejected => t.sync_rejected,
            SyncMark::Quarantined => t.sync_quarantined,
        }
    }

    pub fn result(self, result: ItemResult) -> &'static str {
        let t = self.t();
        match result {
            ItemResult::Pass => t.pass,
            ItemResult::Fail => t.fail,
            ItemResult::Na => t.na,
        }
    }

    pub fn role(self, role: Role) -> &'static str {
        let t = self.t();
        match role {
            Role::Inspector => t.role_inspector,
            Role::Supervisor => t.role_supervisor,
            Role::Admin => t.role_admin,
        }
    }
}

/// English month names as dates show them: `5 Mar 2026`.
const MONTHS_EN: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `09:05`. Written out rather than through chrono's `format`, whose pattern interpreter weighs
/// several KiB in the shell for the few patterns the app shows.
pub fn clock(at: &impl Timelike) -> String {
    format!("{:02}:{:02}", at.hour(), at.minute())
}

/// `09:05:07`.
pub fn clock_seconds(at: &impl Timelike) -> String {
    format!("{}:{:02}", clock(at), at.second())
}

/// `2026-03-05 09:05:07`: the time a photo's watermark carries.
pub fn stamp_time(at: &DateTime<FixedOffset>) -> String {
    format!(
        "{:04}-{:02}-{:02} {}",
        at.year(),
        at.month(),
        at.day(),
        clock_seconds(at)
    )
}

/// China Standard Time (UTC+8), in which every time is shown.
pub fn china_time() -> FixedOffset {
    // 8 h is always a valid offset; the fallback only exists to avoid a panic path.
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| chrono::Offset::fix(&chrono::Utc))
}

/// Now, in China Standard Time.
pub fn now_china() -> DateTime<FixedOffset> {
    chrono::Utc::now().with_timezone(&china_time())
}

/// Every fixed string of one language. A missing translation is a compile error.
pub struct Strings {
    pub app_name: &'static str,
    pub loading: &'static str,
    pub boot_failed: &'static str,
    pub tab_inspect: &'static str,
    pub tab_records: &'static str,
    pub tab_me: &'static str,
    pub title_venues: &'static str,
    pub title_inspect: &'static str,
    pub title_records: &'static str,
    pub title_record: &'static str,
    pub title_me: &'static str,
    pub title_login: &'static str,
    pub title_not_found: &'static str,
    pub title_hazards: &'static str,
    pub title_stats: &'static str,
    pub title_campaigns: &'static str,
    pub title_admin: &'static str,
    pub title_venue_edit: &'static str,
    pub not_found: &'static str,
    pub back_home: &'static str,
    // Sync badge.
    pub badge_offline: &'static str,
    pub badge_syncing: &'static str,
    pub badge_error: &'static str,
    pub badge_relogin: &'static str,
    pub badge_code_missing: &'static str,
    pub sync_code_missing: &'static str,
    pub badge_idle: &'static str,
    pub badge_label: &'static str,
    pub session_expired: &'static str,
    pub relogin: &'static str,
    // Login.
    pub username: &'static str,
    pub password: &'static str,
    pub login: &'static str,
    pub logging_in: &'static str,
    pub login_hint: &'static str,
    pub err_need_credentials: &'static str,
    pub err_bad_credentials: &'static str,
    pub err_login_offline: &'static str,
    pub login_code_missing: &'static str,
    pub err_throttled: &'static str,
    pub err_server: &'static str,
    pub err_bug: &'static str,
    pub err_store: &'static str,
    // Venue picker.
    pub search_venue: &'static str,
    pub no_venues: &'static str,
    pub no_match: &'static str,
    // Inspection form.
    pub venue_missing: &'static str,
    pub inspection_kind: &'static str,
    pub campaign: &'static str,
    pub pick_campaign: &'static str,
    pub follows: &'static str,
    pub pick_follows: &'static str,
    pub checklist: &'static str,
    pub jump_unanswered: &'static str,
    pub basis: &'static str,
    pub pass: &'static str,
    pub fail: &'static str,
    pub na: &'static str,
    pub item_note: &'static str,
    pub hazard_description: &'static str,
    pub rectify: &'static str,
    pub rectify_on_site: &'static str,
    pub rectify_deadline: &'static str,
    pub deadline: &'static str,
    pub notes: &'static str,
    pub inspectors: &'static str,
    pub second_inspector: &'static str,
    pub second_inspector_prefix: &'static str,
    pub location: &'static str,
    pub location_pending: &'static str,
    pub location_none: &'static str,
    pub submit: &'static str,
    pub save_draft: &'static str,
    pub saving: &'static str,
    pub fix_problems: &'static str,
    pub approved_locked: &'static str,
    // Records.
    pub no_records: &'static str,
    /// After a supervisor's decision: the server has it (the decision follows).
    pub review_recorded: &'static str,
    /// The way back to the review queue.
    pub back_to_queue: &'static str,
    /// The review queue is empty.
    pub no_reviews: &'static str,
    /// Records exist, but none matches the filters.
    pub no_matching_records: &'static str,
    pub saved_locally: &'static str,
    pub unknown_venue: &'static str,
    pub status_draft: &'static str,
    pub status_submitted: &'static str,
    pub status_returned: &'static str,
    pub status_approved: &'static str,
    pub sync_pending: &'static str,
    pub sync_synced: &'static str,
    pub sync_conflict: &'static str,
    pub sync_rejected: &'static str,
    // Record view.
    pub record_missing: &'static str,
    pub venue: &'static str,
    pub started_at: &'static str,
    pub finished_at: &'static str,
    pub status: &'static str,
    pub sync_state: &'static str,
    pub server_error: &'static str,
    pub review_comment: &'static str,
    pub hazards: &'static str,
    pub no_hazards: &'static str,
    pub unanswered: &'static str,
    pub edit: &'static str,
    pub keep_mine: &'static str,
    pub take_server: &'static str,
    pub hazard_open: &'static str,
    pub hazard_rectified: &'static str,
    // Me.
    pub name: &'static str,
    pub role: &'static str,
    pub unit: &'static str,
    pub cert_no: &'static str,
    pub language: &'static str,
    pub storage: &'static str,
    pub storage_persisted: &'static str,
    pub storage_not_persisted: &'static str,
    pub storage_unknown: &'static str,
    pub logout: &'static str,
    pub logout_pending_warning: &'static str,
    pub logout_unknown_warning: &'static str,
    pub logout_checking: &'static str,
    pub logout_confirm: &'static str,
    pub cancel: &'static str,
    pub sync_now: &'static str,
    pub role_inspector: &'static str,
    pub role_supervisor: &'static str,
    pub role_admin: &'static str,
    pub sync_quarantined: &'static str,
    pub err_account_disabled: &'static str,
    pub other_owner_unknown: &'static str,
    pub login_as_owner: &'static str,
    pub export_and_continue: &'static str,
    pub export_first_hint: &'static str,
    pub db_blocked: &'static str,
    pub db_outdated: &'static str,
    pub update_ready: &'static str,
    pub reload: &'static str,
    /// Dismisses a notice the officer has read.
    pub got_it: &'static str,
    /// A reload called off because the open form could not be kept.
    pub reload_refused: &'static str,
    /// 保存/提交 did not make the record (the reason follows).
    pub save_not_made: &'static str,
    /// The form's own autosave failed: what was typed since is not on the phone.
    pub autosave_failed: &'static str,
    /// Over the page between a tap on 重新载入 and the reload.
    pub reloading: &'static str,
    pub conflict_title: &'static str,
    pub col_field: &'static str,
    pub col_mine: &'static str,
    pub col_theirs: &'static str,
    pub keep_merged: &'static str,
    pub merge_hint: &'static str,
    pub rejected_title: &'static str,
    pub send_again: &'static str,
    pub discard_mine: &'static str,
    pub quarantined_title: &'static str,
    pub quarantined_hint: &'static str,
    pub absent: &'static str,
    pub awaiting_title: &'static str,
    pub awaiting_none: &'static str,
    pub export_unsynced: &'static str,
    pub export_hint: &'static str,
    pub import_unsynced: &'static str,
    pub import_hint: &'static str,
    pub import_unreadable: &'static str,
    pub app_install: &'static str,
    pub install_app: &'static str,
    pub installed_app: &'static str,
    pub install_hint_ios: &'static str,
    pub install_hint_other: &'static str,
    pub autosaved: &'static str,
    pub resumed: &'static str,
    pub unsaved_forms: &'static str,
    pub continue_form: &'static str,
    pub field_notes: &'static str,
    pub field_status: &'static str,
    pub field_answers: &'static str,
    pub field_hazards: &'static str,
    pub field_inspectors: &'static str,
    pub field_kind: &'static str,
    pub field_location: &'static str,
    pub field_finished_at: &'static str,
    pub field_review: &'static str,
    pub field_party: &'static str,
    pub field_warning: &'static str,
    pub field_campaign: &'static str,
    pub field_follows: &'static str,
    pub field_other: &'static str,
    pub export_done: &'static str,
    pub export_outdated: &'static str,
    pub discard_confirm: &'static str,
    pub saved_synced: &'static str,
    pub saved_attention: &'static str,
    pub fix_items: &'static str,
    pub empty_value: &'static str,
    pub photo_take: &'static str,
    pub photo_pick: &'static str,
    pub photo_processing: &'static str,
    pub photo_failed: &'static str,
    pub photo_remove: &'static str,
    pub photo_elsewhere: &'static str,
    pub photos: &'static str,
    /// Photos and signatures together, as files uploaded beside a record.
    pub attachments: &'static str,
    pub record_photos: &'static str,
    pub sign_clear: &'static str,
    pub sign_confirm: &'static str,
    pub sign_again: &'static str,
    pub sign_here: &'static str,
    pub party: &'static str,
    pub party_name: &'static str,
    pub party_title: &'static str,
    pub party_id: &'static str,
    pub party_signature: &'static str,
    pub party_refused: &'static str,
    pub refusal_reason: &'static str,
    pub witness: &'static str,
    pub partner: &'static str,
    pub pick_partner: &'static str,
    pub no_officers: &'static str,
    pub cert_missing: &'static str,
    pub officer_signatures: &'static str,
    pub outcome: &'static str,
    pub warning_issued: &'static str,
    pub case_opened: &'static str,
    pub no_campaign: &'static str,
    pub use_routine: &'static str,
    pub complaint_text: &'static str,
    pub complaint_source: &'static str,
    pub complaint_received: &'static str,
    pub open_hazards: &'static str,
    pub hazard_still_open: &'static str,
    pub no_open_hazards: &'static str,
    pub relocate: &'static str,
    pub location_denied: &'static str,
    pub fix_before_submit: &'static str,
    pub rectify_unchosen: &'static str,
    pub back: &'static str,
    pub print: &'static str,
    pub print_record: &'static str,
    pub filter_kind: &'static str,
    pub all_kinds: &'static str,
    pub register_venue: &'static str,
    pub licence_no: &'static str,
    pub field_registered: &'static str,
    pub venue_new_title: &'static str,
    pub venue_new_hint: &'static str,
    pub venue_name: &'static str,
    pub venue_kind: &'static str,
    pub venue_address: &'static str,
    pub venue_contact: &'static str,
    pub venue_phone: &'static str,
    pub save_and_inspect: &'static str,
    pub hazard_closed_by_reinspection: &'static str,
    pub photo_remove_confirm: &'static str,
}

/// Simplified Chinese: the wording inspectors use.
pub static ZH: Strings = Strings {
    app_name: "FieldCheck 现场检查",
    loading: "正在打开本机数据…",
    boot_failed: "无法打开本机数据库。请确认浏览器未处于无痕模式并有存储空间，然后刷新页面。",
    tab_inspect: "检查",
    tab_records: "记录",
    tab_me: "我的",
    title_venues: "选择场所",
    title_inspect: "现场检查",
    title_records: "检查记录",
    title_record: "记录详情",
    title_me: "我的",
    title_login: "登录",
    title_not_found: "页面不存在",
    title_hazards: "隐患跟踪",
    title_stats: "统计与导出",
    title_campaigns: "专项行动",
    title_admin: "人员与场所管理",
    title_venue_edit: "场所信息",
    not_found: "没有这个页面。",
    back_home: "返回首页",
    badge_offline: "离线",
    badge_syncing: "同步中",
    badge_error: "同步失败",
    badge_relogin: "需重新登录",
    badge_code_missing: "同步未就绪",
    sync_code_missing: "同步功能未能下载到手机上（网络不稳定，或应用已更新）。请重新载入；本机记录不会丢失，重新载入后自动同步。",
    badge_idle: "未同步",
    badge_label: "同步状态",
    session_expired: "登录已过期，请重新登录。本机记录不会丢失，登录后自动同步。",
    relogin: "重新登录",
    username: "用户名",
    password: "密码",
    login: "登录",
    logging_in: "正在登录…",
    login_hint: "首次使用须联网登录一次，之后无信号也可检查。",
    err_need_credentials: "请填写用户名和密码",
    err_bad_credentials: "用户名或密码错误",
    err_login_offline: "网络不可用，请联网后登录",
    login_code_missing: "登录所需的程序未能下载到手机上（网络不稳定，或应用已更新）。请再点一次登录；仍不行时请重新载入。",
    err_throttled: "尝试次数过多，请稍后再试",
    err_server: "服务器暂时出错，请稍后再试",
    err_bug: "程序出错，请截图联系管理员",
    err_store: "本机存储出错",
    search_venue: "名称、地址、许可证号或拼音首字母",
    no_venues: "本机暂无场所。联网同步后显示辖区场所。",
    no_match: "没有匹配的场所",
    venue_missing: "本机没有这个场所，请返回重新选择。",
    inspection_kind: "检查类型",
    campaign: "专项行动",
    pick_campaign: "请选择专项行动",
    follows: "原检查记录",
    pick_follows: "请选择要复查的记录",
    checklist: "检查项",
    jump_unanswered: "跳到未查项",
    basis: "依据：",
    pass: "合格",
    fail: "不合格",
    na: "不适用",
    item_note: "问题说明",
    hazard_description: "隐患描述",
    rectify: "整改方式",
    rectify_on_site: "当场整改",
    rectify_deadline: "限期整改",
    deadline: "整改期限",
    notes: "备注",
    inspectors: "执法人员",
    second_inspector: "第二执法人员（姓名）",
    second_inspector_prefix: "同行执法人员：",
    location: "定位",
    location_pending: "正在定位…（不影响保存）",
    location_none: "未获取定位（不影响保存）",
    submit: "提交",
    save_draft: "存草稿",
    saving: "正在保存…",
    fix_problems: "请先修正以下问题：",
    approved_locked: "该记录已审核通过，不能再修改。",
    no_records: "暂无检查记录",
    review_recorded: "审核已提交：",
    back_to_queue: "返回待审核",
    no_reviews: "暂无待审核记录",
    no_matching_records: "没有符合条件的记录",
    saved_locally: "已保存在本机。联网后自动同步。",
    unknown_venue: "未知场所",
    status_draft: "草稿",
    status_submitted: "已提交",
    status_returned: "已退回",
    status_approved: "已通过",
    sync_pending: "待同步",
    sync_synced: "已同步",
    sync_conflict: "冲突",
    sync_rejected: "被拒绝",
    record_missing: "本机没有这条记录。",
    venue: "场所",
    started_at: "开始时间",
    finished_at: "结束时间",
    status: "状态",
    sync_state: "同步状态",
    server_error: "服务器意见",
    review_comment: "审核意见",
    hazards: "隐患",
    no_hazards: "未发现隐患",
    unanswered: "未查",
    edit: "继续编辑",
    keep_mine: "以本机为准",
    take_server: "以服务器为准",
    hazard_open: "待整改",
    hazard_rectified: "已整改",
    name: "姓名",
    role: "角色",
    unit: "单位",
    cert_no: "执法证号",
    language: "语言",
    storage: "本机存储",
    storage_persisted: "已设为持久存储，浏览器不会自动清理",
    storage_not_persisted: "未获持久存储：浏览器可能清理本机数据，建议“添加到主屏幕”",
    storage_unknown: "本浏览器不支持查询存储状态",
    logout: "退出登录",
    logout_pending_warning: "还有未同步的记录。退出后记录仍保存在本机，您本人重新登录后自动同步；在此之前其他人无法在本机登录。",
    logout_unknown_warning: "同步程序尚未就绪，暂时无法确认是否还有未同步的记录。退出后记录仍保存在本机，您本人重新登录后自动同步；如有未同步的记录，在此之前其他人无法在本机登录。",
    logout_checking: "正在检查未同步的记录…",
    logout_confirm: "确认退出",
    cancel: "取消",
    sync_now: "立即同步",
    role_inspector: "执法队员",
    role_supervisor: "队长",
    role_admin: "管理员",
    sync_quarantined: "数据损坏",
    err_account_disabled: "账号已停用，请联系管理员",
    other_owner_unknown: "另一位用户",
    login_as_owner: "以该用户登录",
    export_and_continue: "已保存文件，清除这些记录并登录",
    export_first_hint: "导出的文件请交给该用户或管理员，以便补录到系统。",
    db_blocked: "应用的旧版本在另一个标签页中打开着。请关闭其他标签页，然后重新载入。",
    db_outdated: "应用已在另一个标签页中更新。请重新载入以继续，本机记录不会丢失。",
    update_ready: "新版本可用 — 重新载入后使用，正在填写的记录会保留。",
    reload: "重新载入",
    got_it: "知道了",
    reload_refused: "本页的修改未能存到手机，没有重新载入。再点一次“重新载入”会直接重新载入，未存下的修改会丢失。",
    save_not_made: "未能保存",
    autosave_failed: "草稿未能存到手机",
    reloading: "正在重新载入，请稍候…",
    conflict_title: "与服务器上的版本冲突",
    col_field: "内容",
    col_mine: "本机版本",
    col_theirs: "服务器版本",
    keep_merged: "合并两处修改",
    merge_hint: "两处修改涉及不同内容，可以合并为一份。",
    rejected_title: "服务器未接受本次修改",
    send_again: "重新提交",
    discard_mine: "放弃本机修改",
    quarantined_title: "本机数据已损坏，已单独保存",
    quarantined_hint: "请在“我的”中导出未同步记录，交给管理员处理。",
    absent: "（无）",
    awaiting_title: "待处理的记录",
    awaiting_none: "没有需要处理的记录",
    export_unsynced: "导出未同步记录",
    export_hint: "无法连接服务器时，可将未同步的记录导出为文件，作为最后的备份。",
    import_unsynced: "导入备份文件",
    import_unreadable: "无法读取所选文件",
    import_hint: "换了手机或清除了数据时，导入之前导出的文件，其中的记录和照片会重新等待同步。",
    app_install: "安装",
    install_app: "安装到手机桌面",
    installed_app: "已安装，可从手机桌面打开",
    install_hint_ios: "在 Safari 中点“分享”→“添加到主屏幕”。未添加到主屏幕的网站 7 天不用，Safari 会删除它在本机的数据。",
    install_hint_other: "在浏览器菜单中选择“添加到主屏幕”或“安装应用”，数据更不易被清理。",
    autosaved: "已自动保存",
    resumed: "已恢复上次未保存的内容",
    unsaved_forms: "未保存的检查",
    continue_form: "继续",
    field_notes: "备注",
    field_status: "状态",
    field_answers: "检查项",
    field_hazards: "隐患",
    field_inspectors: "执法人员",
    field_kind: "检查类型",
    field_location: "定位",
    field_finished_at: "结束时间",
    field_review: "审核",
    field_party: "当事人",
    field_warning: "警告",
    field_campaign: "专项行动",
    field_follows: "原检查记录",
    field_other: "其他",
    export_done: "文件已导出。请确认文件已保存，再清除这些记录并登录。",
    export_outdated: "导出后本机记录又有变化，请重新导出。",
    discard_confirm: "再点一次确认放弃",
    saved_synced: "已保存，并已同步到服务器。",
    saved_attention: "已保存，但有记录未被服务器接受：请查看标为冲突或未被接受的记录。",
    fix_items: "请先修正上方标红的检查项。",
    empty_value: "（空）",
    photo_take: "拍照",
    photo_pick: "相册",
    photo_processing: "正在处理照片…",
    photo_failed: "照片未能保存",
    photo_remove: "删除照片",
    photo_elsewhere: "联网后可查看",
    photos: "照片",
    attachments: "照片和签名",
    record_photos: "现场照片",
    sign_clear: "清除",
    sign_confirm: "确认签名",
    sign_again: "重新签名",
    sign_here: "请在框内签名",
    party: "当事人",
    party_name: "姓名",
    party_title: "职务",
    party_id: "身份证号或电话",
    party_signature: "当事人签名",
    party_refused: "当事人拒绝签名",
    refusal_reason: "拒签原因",
    witness: "见证人（可选）",
    partner: "同行执法人员",
    pick_partner: "请选择同行执法人员",
    no_officers: "本机名单上没有本单位其他执法人员：请联网同步一次；仍没有时请联系管理员添加",
    cert_missing: "未登记执法证号",
    officer_signatures: "执法人员签名",
    outcome: "处理结果",
    warning_issued: "当场警告",
    case_opened: "立案查处",
    no_campaign: "当前没有进行中的适用于本类场所的专项行动。",
    use_routine: "改为日常检查",
    complaint_text: "投诉内容",
    complaint_source: "投诉来源",
    complaint_received: "受理日期",
    open_hazards: "原检查发现的隐患",
    hazard_still_open: "未整改",
    no_open_hazards: "原记录没有未整改的隐患。",
    relocate: "重新定位",
    location_denied: "无法定位：请在浏览器设置中允许定位（不影响保存）",
    fix_before_submit: "提交前请完成以下内容：",
    rectify_unchosen: "未选择整改方式",
    back: "返回",
    print: "打印",
    print_record: "打印笔录",
    filter_kind: "场所类型",
    all_kinds: "全部类型",
    register_venue: "登记新场所",
    licence_no: "许可证号",
    field_registered: "现场登记",
    venue_new_title: "登记现场发现的场所",
    venue_new_hint: "无证经营等未在册场所：登记后可立即检查，同步后由队长核实。",
    venue_name: "场所名称",
    venue_kind: "场所类型",
    venue_address: "地址",
    venue_contact: "联系人",
    venue_phone: "联系电话",
    save_and_inspect: "保存并开始检查",
    hazard_closed_by_reinspection: "复查已整改",
    photo_remove_confirm: "确认删除",
};

/// English: a full alternative.
pub static EN: Strings = Strings {
    app_name: "FieldCheck",
    loading: "Opening data on this phone…",
    boot_failed: "Cannot open the database on this phone. Make sure the browser is not in private mode and has free storage, then reload.",
    tab_inspect: "Inspect",
    tab_records: "Records",
    tab_me: "Me",
    title_venues: "Pick a venue",
    title_inspect: "Inspection",
    title_records: "Records",
    title_record: "Record",
    title_me: "Me",
    title_login: "Log in",
    title_not_found: "Not found",
    title_hazards: "Hazard board",
    title_stats: "Statistics and export",
    title_campaigns: "Campaigns",
    title_admin: "Officers and venues",
    title_venue_edit: "Venue",
    not_found: "There is no such page.",
    back_home: "Back to start",
    badge_offline: "Offline",
    badge_syncing: "Syncing",
    badge_error: "Sync failed",
    badge_relogin: "Log in again",
    badge_code_missing: "Sync not ready",
    sync_code_missing: "The sync code could not be downloaded to this phone (a poor connection, or the app was updated). Reload; nothing on this phone is lost, and it syncs after the reload.",
    badge_idle: "Not synced",
    badge_label: "Sync state",
    session_expired: "Your login has expired: log in again. Nothing on this phone is lost; it syncs after you log in.",
    relogin: "Log in again",
    username: "Username",
    password: "Password",
    login: "Log in",
    logging_in: "Logging in…",
    login_hint: "Log in once with a connection; after that you can inspect with no signal.",
    err_need_credentials: "Enter your username and password",
    err_bad_credentials: "Wrong username or password",
    err_login_offline: "No network: connect to log in",
    login_code_missing: "The code the login needs could not be downloaded to this phone (a poor connection, or the app was updated). Tap Log in again; if it still fails, reload.",
    err_throttled: "Too many attempts, try again later",
    err_server: "The server had a problem, try again later",
    err_bug: "Something went wrong in the app: take a screenshot for the administrator",
    err_store: "Local storage failed",
    search_venue: "Name, address, licence no., pinyin",
    no_venues: "No venues on this phone yet. They appear after syncing online.",
    no_match: "No matching venue",
    venue_missing: "This venue is not on this phone; go back and pick again.",
    inspection_kind: "Kind of inspection",
    campaign: "Campaign",
    pick_campaign: "Pick the campaign",
    follows: "Earlier inspection",
    pick_follows: "Pick the inspection to follow up",
    checklist: "Checklist",
    jump_unanswered: "Jump to unchecked",
    basis: "Basis: ",
    pass: "Pass",
    fail: "Fail",
    na: "N/A",
    item_note: "Note",
    hazard_description: "Hazard",
    rectify: "Rectification",
    rectify_on_site: "Fixed on site",
    rectify_deadline: "By a deadline",
    deadline: "Deadline",
    notes: "Notes",
    inspectors: "Inspectors",
    second_inspector: "Second inspector (name)",
    second_inspector_prefix: "Second inspector: ",
    location: "Location",
    location_pending: "Locating… (saving does not wait)",
    location_none: "No location (saving does not need it)",
    submit: "Submit",
    save_draft: "Save draft",
    saving: "Saving…",
    fix_problems: "Please fix these first:",
    approved_locked: "This record is approved and can no longer be changed.",
    no_records: "No records yet",
    review_recorded: "Review recorded: ",
    back_to_queue: "Back to the queue",
    no_reviews: "Nothing waiting for review",
    no_matching_records: "No records match the filters",
    saved_locally: "Saved on this phone. It syncs when online.",
    unknown_venue: "Unknown venue",
    status_draft: "Draft",
    status_submitted: "Submitted",
    status_returned: "Returned",
    status_approved: "Approved",
    sync_pending: "Waiting",
    sync_synced: "Synced",
    sync_conflict: "Conflict",
    sync_rejected: "Rejected",
    record_missing: "This record is not on this phone.",
    venue: "Venue",
    started_at: "Started",
    finished_at: "Finished",
    status: "Status",
    sync_state: "Sync",
    server_error: "Server says",
    review_comment: "Review comment",
    hazards: "Hazards",
    no_hazards: "No hazards found",
    unanswered: "Unchecked",
    edit: "Continue editing",
    keep_mine: "Keep mine",
    take_server: "Take the server's",
    hazard_open: "Open",
    hazard_rectified: "Rectified",
    name: "Name",
    role: "Role",
    unit: "Unit",
    cert_no: "Certificate no.",
    language: "Language",
    storage: "Storage on this phone",
    storage_persisted: "Persistent: the browser will not clear it on its own",
    storage_not_persisted: "Not persistent: the browser may clear local data; add the app to your home screen",
    storage_unknown: "This browser cannot report storage state",
    logout: "Log out",
    logout_pending_warning: "Some records are not synced yet. They stay on this phone and sync when you log in again; until then nobody else can log in on this phone.",
    logout_unknown_warning: "The sync is not ready, so whether any records wait to be synced cannot be told yet. Records stay on this phone and sync when you log in again; if any wait, nobody else can log in on this phone until then.",
    logout_checking: "Checking for unsynced records…",
    logout_confirm: "Log out anyway",
    cancel: "Cancel",
    sync_now: "Sync now",
    role_inspector: "Inspector",
    role_supervisor: "Team leader",
    role_admin: "Administrator",
    sync_quarantined: "Damaged",
    err_account_disabled: "This account is disabled; ask your administrator",
    other_owner_unknown: "another user",
    login_as_owner: "Log in as that user",
    export_and_continue: "File kept: clear these records and log in",
    export_first_hint: "Give the exported file to that user or an administrator so the records can be entered.",
    db_blocked: "An older version of the app is open in another tab. Close the other tabs, then reload.",
    db_outdated: "The app was updated in another tab. Reload to continue; nothing on this phone is lost.",
    update_ready: "A new version is ready. Reload to use it; the form you are filling in is kept.",
    reload: "Reload",
    got_it: "OK",
    reload_refused: "This page's changes could not be kept on the phone, so it was not reloaded. Tap Reload again to reload anyway; the changes not kept are lost.",
    save_not_made: "Not saved",
    autosave_failed: "The draft could not be kept on the phone",
    reloading: "Reloading…",
    conflict_title: "In conflict with the server's version",
    col_field: "Field",
    col_mine: "This phone",
    col_theirs: "Server",
    keep_merged: "Merge both",
    merge_hint: "The two edits changed different things and can be merged.",
    rejected_title: "The server did not accept this change",
    send_again: "Send again",
    discard_mine: "Discard my change",
    quarantined_title: "This phone's copy is damaged and was set aside",
    quarantined_hint: "Export the unsynced records in Me and give the file to an administrator.",
    absent: "(none)",
    awaiting_title: "Records waiting for you",
    awaiting_none: "Nothing is waiting for you",
    export_unsynced: "Export unsynced records",
    export_hint: "When the server cannot be reached, export the unsynced records to a file as a last resort.",
    import_unsynced: "Import a backup file",
    import_unreadable: "The chosen file cannot be read",
    import_hint: "On a new or wiped phone, import a file exported before: its records and photos wait to sync again.",
    app_install: "Install",
    install_app: "Install on the home screen",
    installed_app: "Installed: open it from the home screen",
    install_hint_ios: "In Safari tap Share → Add to Home Screen. Safari deletes the data of sites not on the home screen after 7 days without use.",
    install_hint_other: "Choose “Add to Home screen” or “Install app” in the browser menu: the data is then less likely to be cleared.",
    autosaved: "Saved as you type",
    resumed: "Restored what you typed last time",
    unsaved_forms: "Unsaved inspections",
    continue_form: "Continue",
    field_notes: "Notes",
    field_status: "Status",
    field_answers: "Checklist item",
    field_hazards: "Hazard",
    field_inspectors: "Officers",
    field_kind: "Kind",
    field_location: "Location",
    field_finished_at: "Finished",
    field_review: "Review",
    field_party: "Party",
    field_warning: "Warning",
    field_campaign: "Campaign",
    field_follows: "Follows",
    field_other: "Other",
    export_done: "The file was exported. Make sure it is kept, then clear these records and log in.",
    export_outdated: "The records changed after the export; export them again.",
    discard_confirm: "Tap again to discard",
    saved_synced: "Saved and synced to the server.",
    saved_attention: "Saved, but the server did not accept a record: open the ones marked conflict or refused.",
    fix_items: "Fix the items marked above first.",
    empty_value: "(empty)",
    photo_take: "Camera",
    photo_pick: "Gallery",
    photo_processing: "Processing the photo…",
    photo_failed: "The photo was not kept",
    photo_remove: "Remove photo",
    photo_elsewhere: "Shown when online",
    photos: "Photos",
    attachments: "Photos and signatures",
    record_photos: "Scene photos",
    sign_clear: "Clear",
    sign_confirm: "Confirm signature",
    sign_again: "Sign again",
    sign_here: "Sign inside the box",
    party: "Party present",
    party_name: "Name",
    party_title: "Position",
    party_id: "ID card or phone number",
    party_signature: "Party's signature",
    party_refused: "The party refused to sign",
    refusal_reason: "Reason given",
    witness: "Witness (optional)",
    partner: "Partner officer",
    pick_partner: "Choose your partner",
    no_officers: "No other officer of your unit on this phone: sync once online; if there is still none, ask an administrator to add one",
    cert_missing: "no certificate number on file",
    officer_signatures: "Officers' signatures",
    outcome: "Outcome",
    warning_issued: "Warning issued",
    case_opened: "Case opened",
    no_campaign: "No special campaign for this kind of venue is running.",
    use_routine: "Make it a routine inspection",
    complaint_text: "What the complaint says",
    complaint_source: "Source",
    complaint_received: "Received on",
    open_hazards: "Hazards found by that inspection",
    hazard_still_open: "Still open",
    no_open_hazards: "That record has no open hazards.",
    relocate: "Locate again",
    location_denied: "No position: allow location in the browser's settings (saving does not need it)",
    fix_before_submit: "Before submitting, complete:",
    rectify_unchosen: "Rectification not chosen",
    back: "Back",
    print: "Print",
    print_record: "Print record",
    filter_kind: "Venue kind",
    all_kinds: "All kinds",
    register_venue: "Register a venue",
    licence_no: "Licence no.",
    field_registered: "Registered in the field",
    venue_new_title: "Register a venue found in the field",
    venue_new_hint: "For a venue not on the register (say, unlicensed): inspect it right away; your supervisor checks it after it syncs.",
    venue_name: "Venue name",
    venue_kind: "Kind of venue",
    venue_address: "Address",
    venue_contact: "Contact",
    venue_phone: "Phone",
    save_and_inspect: "Save and start the inspection",
    hazard_closed_by_reinspection: "Rectified (re-inspection)",
    photo_remove_confirm: "Remove?",
};

/// The language context: the current language and how to change it.
#[derive(Debug, Clone, Copy)]
pub struct I18n {
    lang: RwSignal<Lang>,
}

impl I18n {
    /// The current language (reactive).
    pub fn lang(&self) -> Lang {
        self.lang.get()
    }

    /// The current strings (reactive).
    pub fn t(&self) -> &'static Strings {
        self.lang.get().t()
    }

    /// Switches the language and applies it to `<html lang>`; the caller persists the choice.
    pub fn set(&self, lang: Lang) {
        apply_html_lang(lang);
        self.lang.set(lang);
    }
}

/// Provides the language context, starting with `lang` (read from the store's meta).
pub fn provide_i18n(lang: Lang) -> I18n {
    apply_html_lang(lang);
    let i18n = I18n {
        lang: RwSignal::new(lang),
    };
    provide_context(i18n);
    i18n
}

/// The language context; falls back to Chinese outside the app shell (e.g. the boot screen).
pub fn use_i18n() -> I18n {
    use_context::<I18n>().unwrap_or_else(|| I18n {
        lang: RwSignal::new(Lang::Zh),
    })
}

fn apply_html_lang(lang: Lang) {
    // The page's own login form (index.html) speaks the language chosen, before the app runs.
    crate::boot_form::note_lang(lang);
    if let Some(root) = document().document_element() {
        // Setting an attribute on <html> cannot fail in practice; nothing to recover if it did.
        let _ = root.set_attribute("lang", lang.tag());
    }
}
