//! Dates and times as the app writes them, in both languages and in China Standard Time.
#![cfg(target_arch = "wasm32")]

use chrono::{DateTime, NaiveDate};
use fieldcheck::i18n::{Lang, stamp_time};
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
