//! Which copies a phone may drop to stay light: only others' old, approved, settled records with
//! nothing open, and never one linked to a record that stays.

use super::*;
use chrono::{DateTime, FixedOffset};
use fieldcheck_core::UserId;
use fieldcheck_core::local::{LocalState, ServerVersion};
use fieldcheck_core::retention::{Copy, DEFAULT_KEEP_MONTHS, cutoff, may_drop, to_drop};

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

/// A colleague's approved record (u1 and u2), started 2026-11-26, its hazard rectified.
fn approved() -> Inspection {
    let mut record = sample_inspection();
    record.status = Status::Approved;
    record
}

fn copy<'a>(state: &'a LocalState, record: &'a Inspection) -> Copy<'a> {
    Copy {
        state,
        record,
        has_form: false,
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
fn only_others_settled_old_approved_records_without_open_hazards_may_go() {
    let old = approved();
    let me = UserId("u9".into());
    let cut = at("2026-12-01T00:00:00+08:00");
    let state = synced(&old);
    assert!(may_drop(&copy(&state, &old), &me, cut));

    // Mine, as an officer or as its creator: kept, however old.
    assert!(!may_drop(&copy(&state, &old), &UserId("u2".into()), cut));
    let mut created = old.clone();
    created.created_by = Some(me.clone());
    assert!(!may_drop(&copy(&synced(&created), &created), &me, cut));
    // Inside the window, by start or by when the server received it (a phone clock set back).
    assert!(!may_drop(
        &copy(&state, &old),
        &me,
        at("2026-11-01T00:00:00+08:00")
    ));
    let mut late = old.clone();
    late.received_at = Some(at("2026-12-01T08:00:00+08:00"));
    assert!(!may_drop(&copy(&synced(&late), &late), &me, cut));
    // Not approved yet: a supervisor may still be reviewing it.
    for status in [Status::Submitted, Status::Returned, Status::Draft] {
        let mut pending = old.clone();
        pending.status = status;
        assert!(
            !may_drop(&copy(&synced(&pending), &pending), &me, cut),
            "{status:?}"
        );
    }
    // An unsaved form of it on the phone.
    let with_form = Copy {
        has_form: true,
        ..copy(&state, &old)
    };
    assert!(!may_drop(&with_form, &me, cut));
    // A hazard still open: kept for the follow-up.
    let mut open = old.clone();
    open.hazards[0].status = HazardStatus::Open;
    assert!(!may_drop(&copy(&synced(&open), &open), &me, cut));
    // Work waiting to be sent or for a person.
    let body = serde_json::to_value(&old).expect("serializes");
    let queued = LocalState::Queued {
        order: 1,
        base: None,
        mine: body.clone(),
        newer: None,
    };
    assert!(!may_drop(&copy(&queued, &old), &me, cut));
    let conflict = LocalState::Conflict {
        base: None,
        mine: body.clone(),
        server: ServerVersion { rev: 3, body },
    };
    assert!(!may_drop(&copy(&conflict, &old), &me, cut));
}

#[test]
fn a_record_linked_to_one_that_stays_stays_through_the_whole_chain() {
    let me = UserId("u9".into());
    let cut = at("2026-12-01T00:00:00+08:00");
    let record = |id: &str| {
        let mut record = approved();
        record.id = id.into();
        record
    };
    // first ← recheck (follows first) ← amendment (amends recheck); `open` keeps a hazard open and
    // is followed by `closing`; `alone` links to nothing; `orphan` follows a record not on the phone.
    let first = record("first");
    let mut recheck = record("recheck");
    recheck.follows = Some(first.id.clone());
    let mut amendment = record("amendment");
    amendment.amends = Some(recheck.id.clone());
    let mut open = record("open");
    open.hazards[0].status = HazardStatus::Open;
    let mut closing = record("closing");
    closing.follows = Some(open.id.clone());
    let alone = record("alone");
    let mut orphan = record("orphan");
    orphan.follows = Some("gone-long-ago".into());
    let records = [
        &first, &recheck, &amendment, &open, &closing, &alone, &orphan,
    ];
    let states: Vec<LocalState> = records.iter().map(|record| synced(record)).collect();
    let copies: Vec<Copy<'_>> = records
        .iter()
        .zip(&states)
        .map(|(record, state)| copy(state, record))
        .collect();
    let dropped = to_drop(&copies, &me, cut);
    let mut dropped: Vec<&str> = dropped.iter().map(String::as_str).collect();
    dropped.sort_unstable();
    assert_eq!(
        dropped,
        ["alone", "amendment", "first", "orphan", "recheck"]
    );

    // The amendment is mine: the whole chain it hangs from stays.
    let mut mine = amendment.clone();
    mine.inspectors.push(me.clone());
    let mine_state = synced(&mine);
    let mut copies = copies;
    copies[2] = copy(&mine_state, &mine);
    let dropped = to_drop(&copies, &me, cut);
    let mut dropped: Vec<&str> = dropped.iter().map(String::as_str).collect();
    dropped.sort_unstable();
    assert_eq!(dropped, ["alone", "orphan"]);
}
