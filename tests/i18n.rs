//! Words the app writes, in both languages: dates and times in China Standard Time, the sync badge.
#![cfg(target_arch = "wasm32")]

use chrono::{DateTime, NaiveDate};
use fieldcheck::components::sync_badge::badge_text;
use fieldcheck::i18n::{Lang, stamp_time};
use fieldcheck::sync::{Phase, SyncStatus};
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn dates_and_times_read_as_inspectors_write_them() {
    // 01:05 UTC is 09:05 in Beijing: single-digit month and day, zero-padded clock.
    let at = DateTime::parse_from_rfc3339("2026-03-05T01:05:07Z").expect("a time");
    assert_eq!(Lang::Zh.datetime(&at), "2026年3月5日 09:05");
    assert_eq!(Lang::En.datetime(&at), "5 Mar 2026 09:05");
    assert_eq!(Lang::Zh.synced_at(&at), "已同步 09:05");
    assert_eq!(Lang::En.synced_at(&at), "Synced 09:05");
    assert_eq!(stamp_time(&at), "2026-03-05 01:05:07");

    let date = NaiveDate::from_ymd_opt(2026, 12, 31).expect("a date");
    assert_eq!(Lang::Zh.date(&date), "2026年12月31日");
    assert_eq!(Lang::En.date(&date), "31 Dec 2026");
    // A year typed short into a date input shows as typed, not as a plausible modern date.
    let typo = NaiveDate::from_ymd_opt(26, 3, 5).expect("a date");
    assert_eq!(Lang::Zh.date(&typo), "0026年3月5日");
    assert_eq!(Lang::En.date(&typo), "5 Mar 0026");
}

#[wasm_bindgen_test]
fn the_badge_claims_synced_only_after_counting_what_waits() {
    let at = DateTime::parse_from_rfc3339("2026-03-05T01:05:07Z").expect("a time");
    // The app has just started: the last sync time is known, the queue not yet counted.
    let mut status = SyncStatus {
        phase: Phase::Idle,
        pending: 0,
        waiting: 0,
        photos: 0,
        counted: false,
        last_synced: Some(at),
    };
    assert_eq!(status.badge_state(), "idle");
    // Its first run comes at once: the badge says so, not 未同步 for the moment before it.
    assert_eq!(badge_text(&status, Lang::Zh), "同步中");
    // The first run, before it has counted: under way, not "not synced".
    status.phase = Phase::Syncing;
    assert_eq!(status.badge_state(), "idle");
    assert_eq!(badge_text(&status, Lang::Zh), "同步中");
    assert_eq!(badge_text(&status, Lang::En), "Syncing");
    // Offline is known from the browser, counted or not.
    status.phase = Phase::Offline;
    assert_eq!(status.badge_state(), "offline");

    status.phase = Phase::Syncing;
    status.counted = true;
    status.pending = 2;
    assert_eq!(status.badge_state(), "pending");
    assert_eq!(badge_text(&status, Lang::Zh), "2条待同步");
    status.pending = 0;
    assert_eq!(status.badge_state(), "synced");
    assert_eq!(badge_text(&status, Lang::Zh), "已同步 09:05");
    assert_eq!(badge_text(&status, Lang::En), "Synced 09:05");
    // A save after that run: what it saved waits to be counted, and the badge says so.
    status.phase = Phase::Synced;
    status.counted = false;
    assert_eq!(status.badge_state(), "idle");
    assert_eq!(badge_text(&status, Lang::Zh), "未同步");
    assert_eq!(badge_text(&status, Lang::En), "Not synced");
}
