//! Which copies a phone may drop to stay light: only others' old, settled records with nothing open.

use super::*;
use chrono::{DateTime, FixedOffset};
use fieldcheck_core::UserId;
use fieldcheck_core::local::{LocalState, ServerVersion};
use fieldcheck_core::retention::{DEFAULT_KEEP_MONTHS, cutoff, may_drop};

fn at(text: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(text).expect("a time")
}

fn synced(record: &Inspection) -> LocalState {
    LocalState::Synced {
        server: ServerVersion {
            rev: 2,
            body: serde_json::to_value(record).expect("serializes"),
        },
    }
}

#[test]
fn the_window_counts_back_whole_months_and_zero_keeps_everything() {
    let now = at("2026-12-02T09:00:00+08:00");
    assert_eq!(
        cutoff(now, DEFAULT_KEEP_MONTHS),
        Some(at("2025-12-02T09:00:00+08:00"))
    );
    assert_eq!(cutoff(now, 3), Some(at("2026-09-02T09:00:00+08:00")));
    assert_eq!(cutoff(now, 0), None);
}

#[test]
fn only_others_settled_old_records_without_open_hazards_may_go() {
    let colleague_old = sample_inspection(); // u1 and u2, started 2026-11-26, hazard rectified
    let me = UserId("u9".into());
    let cut = at("2026-12-01T00:00:00+08:00");
    assert!(may_drop(
        &synced(&colleague_old),
        &colleague_old,
        &me,
        cut,
        false
    ));

    // Mine: kept, however old.
    assert!(!may_drop(
        &synced(&colleague_old),
        &colleague_old,
        &UserId("u2".into()),
        cut,
        false
    ));
    // Inside the window: kept.
    assert!(!may_drop(
        &synced(&colleague_old),
        &colleague_old,
        &me,
        at("2026-11-01T00:00:00+08:00"),
        false
    ));
    // An unsaved form of it on the phone: kept.
    assert!(!may_drop(
        &synced(&colleague_old),
        &colleague_old,
        &me,
        cut,
        true
    ));
    // A hazard still open: kept for the follow-up.
    let mut open = colleague_old.clone();
    open.hazards[0].status = HazardStatus::Open;
    assert!(!may_drop(&synced(&open), &open, &me, cut, false));
    // Work waiting to be sent or for a person: kept.
    let body = serde_json::to_value(&colleague_old).expect("serializes");
    let queued = LocalState::Queued {
        order: 1,
        base: None,
        mine: body.clone(),
        newer: None,
    };
    assert!(!may_drop(&queued, &colleague_old, &me, cut, false));
    let conflict = LocalState::Conflict {
        base: None,
        mine: body.clone(),
        server: ServerVersion { rev: 3, body },
    };
    assert!(!may_drop(&conflict, &colleague_old, &me, cut, false));
}
