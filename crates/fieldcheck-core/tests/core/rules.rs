//! Who may change an inspection and how, and who may review it.

use fieldcheck_core::rules::{
    EditRefusal, FixedField, ReviewRefusal, check_inspection_edit, check_review, may_edit,
};
use fieldcheck_core::{Inspection, InspectionId, ReviewDecision, Status, TransitionError, UserId};

fn user(name: &str) -> UserId {
    UserId(name.to_owned())
}

/// The server's copy: made by u1 with u2, submitted.
fn stored() -> Inspection {
    let mut record = super::sample_inspection();
    record.inspectors = vec![user("u1"), user("u2")];
    record.created_by = Some(user("u1"));
    record.status = Status::Submitted;
    record
}

fn unit_members(user: &UserId) -> bool {
    ["u1", "u2", "u3", "boss"].contains(&user.as_str())
}

#[track_caller]
fn check(
    editor: &str,
    existing: Option<&Inspection>,
    edit: impl FnOnce(&mut Inspection),
    expected: Result<(), &str>,
) {
    let mut incoming = existing.cloned().unwrap_or_else(stored);
    if existing.is_none() {
        incoming.created_by = None;
        incoming.status = Status::Draft;
    }
    edit(&mut incoming);
    let result = check_inspection_edit(&user(editor), existing, &incoming, unit_members);
    assert_eq!(
        result.as_ref().map(|_| ()).map_err(EditRefusal::code),
        expected,
        "{result:?}"
    );
    if let Err(refusal) = result {
        assert!(!refusal.to_string().is_empty());
    }
}

#[test]
fn edit_rules() {
    let existing = stored();
    let on = Some(&existing);
    // The author and the officers named edit; others do not.
    check("u1", on, |r| r.notes = "x".into(), Ok(()));
    check("u2", on, |r| r.notes = "x".into(), Ok(()));
    check("u3", on, |r| r.notes = "x".into(), Err("not_yours"));
    check("boss", on, |r| r.notes = "x".into(), Err("not_yours"));
    // Identity fields are fixed once made.
    check(
        "u1",
        on,
        |r| r.venue_id = "other".into(),
        Err("immutable_field"),
    );
    check(
        "u1",
        on,
        |r| r.template = "hotel@1".into(),
        Err("immutable_field"),
    );
    check(
        "u1",
        on,
        |r| r.started_at += chrono::Duration::minutes(1),
        Err("immutable_field"),
    );
    check(
        "u1",
        on,
        |r| r.amends = Some(InspectionId("another".into())),
        Err("immutable_field"),
    );
    // finished_at is set once; inspectors are fixed once submitted.
    check(
        "u1",
        on,
        |r| r.finished_at = r.finished_at.map(|at| at + chrono::Duration::hours(1)),
        Err("immutable_field"),
    );
    check(
        "u1",
        on,
        |r| r.inspectors = vec![user("u1"), user("u3")],
        Err("immutable_field"),
    );
    check("u1", on, |r| r.inspectors.reverse(), Ok(()));
    // Submitted never goes back to draft; review outcomes are not pushed.
    check(
        "u1",
        on,
        |r| r.status = Status::Draft,
        Err("status_regression"),
    );
    check(
        "u1",
        on,
        |r| r.status = Status::Approved,
        Err("review_only"),
    );
    let mut approved = stored();
    approved.status = Status::Approved;
    check(
        "u1",
        Some(&approved),
        |r| r.status = Status::Submitted,
        Err("locked"),
    );
    // A draft may still change its officers, within the unit, keeping the author.
    let mut draft = stored();
    draft.status = Status::Draft;
    draft.finished_at = None;
    check(
        "u1",
        Some(&draft),
        |r| r.inspectors = vec![user("u1"), user("u3")],
        Ok(()),
    );
    check(
        "u2",
        Some(&draft),
        |r| r.inspectors = vec![user("u2")],
        Err("author_not_named"),
    );
    check(
        "u1",
        Some(&draft),
        |r| r.inspectors.push(user("stranger")),
        Err("unknown_inspector"),
    );
    check(
        "u1",
        Some(&draft),
        |r| r.finished_at = Some(r.started_at),
        Ok(()),
    );
    // An officer disabled after the record was made stays on it without locking it.
    let with_departed = {
        let mut record = stored();
        record.inspectors = vec![user("u1"), user("departed")];
        record
    };
    check(
        "u1",
        Some(&with_departed),
        |r| r.notes = "补充".into(),
        Ok(()),
    );
    // A new record names its author.
    check("u1", None, |_| {}, Ok(()));
    check("u3", None, |_| {}, Err("author_not_named"));
    check(
        "u1",
        None,
        |r| r.status = Status::Returned,
        Err("review_only"),
    );
}

#[test]
fn review_rules() {
    let record = stored();
    let approve = ReviewDecision::Approve;
    assert_eq!(
        check_review(&user("boss"), &record, 3, 3, approve),
        Ok(Status::Approved)
    );
    assert_eq!(
        check_review(&user("boss"), &record, 3, 3, ReviewDecision::Return),
        Ok(Status::Returned)
    );
    assert_eq!(
        check_review(&user("boss"), &record, 4, 3, approve),
        Err(ReviewRefusal::Stale {
            seen: 3,
            current: 4
        })
    );
    assert_eq!(
        check_review(&user("u2"), &record, 3, 3, approve),
        Err(ReviewRefusal::OwnRecord)
    );
    let mut author_only = stored();
    author_only.inspectors = vec![user("u2")];
    assert_eq!(
        check_review(&user("u1"), &author_only, 3, 3, approve),
        Err(ReviewRefusal::OwnRecord)
    );
    let mut draft = stored();
    draft.status = Status::Draft;
    assert_eq!(
        check_review(&user("boss"), &draft, 3, 3, approve).map_err(|r| r.code()),
        Err("not_submitted")
    );
    assert_eq!(
        ReviewRefusal::Status(TransitionError::Locked).code(),
        "locked"
    );
}

#[test]
fn the_phone_offers_edits_only_where_the_server_allows_them() {
    let record = stored();
    assert!(may_edit(&user("u1"), &record));
    assert!(may_edit(&user("u2"), &record));
    assert!(!may_edit(&user("u3"), &record));
    let mut approved = stored();
    approved.status = Status::Approved;
    assert!(!may_edit(&user("u1"), &approved));
}

/// The one list of fixed fields names each field as the record's JSON does: keep mine and the
/// server's check read it, so a field dropped from it would be editable with both still agreeing.
#[test]
fn the_fixed_fields_are_the_records_identity_its_finish_and_its_people() {
    let names: Vec<&str> = FixedField::ALL.iter().map(|field| field.name()).collect();
    assert_eq!(
        names,
        [
            "venue_id",
            "template",
            "amends",
            "started_at",
            "finished_at",
            "inspectors"
        ]
    );
    let mut record = stored();
    record.amends = Some(InspectionId("earlier".into()));
    let record = serde_json::to_value(record).expect("a record encodes");
    for name in names {
        assert!(record.get(name).is_some(), "the record has no field {name}");
    }
    let only_once_not_draft: Vec<FixedField> = FixedField::ALL
        .into_iter()
        .filter(|field| field.once_not_draft())
        .collect();
    assert_eq!(only_once_not_draft, [FixedField::Inspectors]);
}
