//! Who may change an inspection, and how: the record rules the server enforces on every push and review.
//!
//! A record is evidence, so after it is created its identity (venue, checklist, start time, author,
//! unit) never changes, its finish time is set once, its officers are fixed once it is submitted, and
//! only the people named on it edit it. A supervisor reviews what others wrote, never their own record,
//! and only the rev they read.

use crate::ids::UserId;
use crate::inspection::{Inspection, ReviewDecision, Status, TransitionError};
use std::fmt;

/// Why an edit of an inspection is refused. Each has a stable code the phone shows and tests check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditRefusal {
    /// The editor is neither the author nor one of the officers named on the record.
    NotYours,
    /// A field fixed once the record exists (or, for `inspectors`, once it was submitted) was changed.
    ImmutableField(&'static str),
    /// The author must stay among the record's officers.
    AuthorNotNamed,
    /// An officer named on the record is not an active user of the record's unit.
    UnknownInspector(UserId),
    /// The status change is not allowed (locked, review only, back to draft).
    Status(TransitionError),
}

impl EditRefusal {
    /// The stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            EditRefusal::NotYours => "not_yours",
            EditRefusal::ImmutableField(_) => "immutable_field",
            EditRefusal::AuthorNotNamed => "author_not_named",
            EditRefusal::UnknownInspector(_) => "unknown_inspector",
            EditRefusal::Status(error) => Status::refusal_code(*error),
        }
    }
}

impl fmt::Display for EditRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EditRefusal::NotYours => f.write_str(
                "only the author and the officers named on a record may change it / 只有记录的填写人和记录上的执法人员可以修改",
            ),
            EditRefusal::ImmutableField(field) => write!(
                f,
                "{field} cannot be changed after the record was made / 记录形成后不能修改 {field}"
            ),
            EditRefusal::AuthorNotNamed => f.write_str(
                "the author must stay among the record's officers / 填写人必须列为执法人员",
            ),
            EditRefusal::UnknownInspector(user) => write!(
                f,
                "officer {user} is not an active user of the record's unit / 执法人员 {user} 不是本单位在职用户"
            ),
            EditRefusal::Status(error) => error.fmt(f),
        }
    }
}

/// Checks a push of `incoming` by `editor` against the server's copy (`None`: a new record).
///
/// `existing.created_by` is the author the server recorded; `active_in_unit` tells whether a user is
/// an active user of the record's unit (asked only of officers the edit adds). Server-owned fields (unit, author, receipt time, reviews) are
/// not checked here: the server ignores the phone's values for them.
pub fn check_inspection_edit(
    editor: &UserId,
    existing: Option<&Inspection>,
    incoming: &Inspection,
    active_in_unit: impl Fn(&UserId) -> bool,
) -> Result<(), EditRefusal> {
    Status::check_push(existing.map(|record| record.status), incoming.status)
        .map_err(EditRefusal::Status)?;
    let author = match existing {
        None => editor,
        Some(existing) => {
            let author = existing.created_by.as_ref();
            let named = existing.inspectors.contains(editor);
            if author != Some(editor) && !named {
                return Err(EditRefusal::NotYours);
            }
            check_fixed_fields(existing, incoming)?;
            author.unwrap_or(editor)
        }
    };
    if !incoming.inspectors.contains(author) {
        return Err(EditRefusal::AuthorNotNamed);
    }
    // Only officers the edit adds must be active now: one disabled since the record was made stays
    // named on it (it is what happened), and must not lock the record against its other officers.
    let named_before = existing
        .map(|record| record.inspectors.as_slice())
        .unwrap_or_default();
    if let Some(stranger) = incoming
        .inspectors
        .iter()
        .filter(|inspector| !named_before.contains(inspector))
        .find(|inspector| !active_in_unit(inspector))
    {
        return Err(EditRefusal::UnknownInspector(stranger.clone()));
    }
    Ok(())
}

/// A field an inspection keeps once the server has it. One list for the server's check
/// ([`check_inspection_edit`]) and for "keep mine" (`merge::keeping_mine`), which keeps the server's
/// value of each rather than send an edit the server would refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixedField {
    VenueId,
    Template,
    Amends,
    StartedAt,
    /// Set once: a record without a finish time may get one.
    FinishedAt,
    /// The people on the record, fixed once it is no draft.
    Inspectors,
}

impl FixedField {
    pub const ALL: [FixedField; 6] = [
        FixedField::VenueId,
        FixedField::Template,
        FixedField::Amends,
        FixedField::StartedAt,
        FixedField::FinishedAt,
        FixedField::Inspectors,
    ];

    /// The field's name in the record's JSON.
    pub fn name(self) -> &'static str {
        match self {
            FixedField::VenueId => "venue_id",
            FixedField::Template => "template",
            FixedField::Amends => "amends",
            FixedField::StartedAt => "started_at",
            FixedField::FinishedAt => "finished_at",
            FixedField::Inspectors => "inspectors",
        }
    }

    /// Whether the field is fixed only once the record is no draft (the people on it).
    pub fn once_not_draft(self) -> bool {
        self == FixedField::Inspectors
    }

    /// Whether `incoming` keeps the field as `existing` has it (or may set it, where it is set once).
    fn kept(self, existing: &Inspection, incoming: &Inspection) -> bool {
        match self {
            FixedField::VenueId => existing.venue_id == incoming.venue_id,
            FixedField::Template => existing.template == incoming.template,
            FixedField::Amends => existing.amends == incoming.amends,
            FixedField::StartedAt => existing.started_at == incoming.started_at,
            FixedField::FinishedAt => {
                existing.finished_at.is_none() || existing.finished_at == incoming.finished_at
            }
            FixedField::Inspectors => same_people(&existing.inspectors, &incoming.inspectors),
        }
    }
}

fn check_fixed_fields(existing: &Inspection, incoming: &Inspection) -> Result<(), EditRefusal> {
    match FixedField::ALL
        .into_iter()
        .filter(|field| !field.once_not_draft() || existing.status != Status::Draft)
        .find(|field| !field.kept(existing, incoming))
    {
        Some(field) => Err(EditRefusal::ImmutableField(field.name())),
        None => Ok(()),
    }
}

fn same_people(first: &[UserId], second: &[UserId]) -> bool {
    let mut first = first.to_vec();
    let mut second = second.to_vec();
    first.sort();
    second.sort();
    first == second
}

/// Why a review is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewRefusal {
    /// The record changed since the supervisor read it.
    Stale { seen: u64, current: u64 },
    /// The reviewer is named on the record: nobody reviews their own work.
    OwnRecord,
    /// Not a submitted record (or an approved, locked one).
    Status(TransitionError),
}

impl ReviewRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            ReviewRefusal::Stale { .. } => "stale",
            ReviewRefusal::OwnRecord => "own_record",
            ReviewRefusal::Status(error) => Status::refusal_code(*error),
        }
    }
}

impl fmt::Display for ReviewRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReviewRefusal::Stale { seen, current } => write!(
                f,
                "the record changed since you read it (rev {seen}, now {current}); read it again / 记录已更新，请重新查看后再审核"
            ),
            ReviewRefusal::OwnRecord => f.write_str(
                "you are named on this record and cannot review it / 不能审核本人参与的检查记录",
            ),
            ReviewRefusal::Status(error) => error.fmt(f),
        }
    }
}

/// Checks a review by `reviewer` of `record` (at `current_rev`) who saw `seen_rev`, and gives the
/// status it leads to. The caller has checked the role and the unit.
pub fn check_review(
    reviewer: &UserId,
    record: &Inspection,
    current_rev: u64,
    seen_rev: u64,
    decision: ReviewDecision,
) -> Result<Status, ReviewRefusal> {
    if record.inspectors.contains(reviewer) || record.created_by.as_ref() == Some(reviewer) {
        return Err(ReviewRefusal::OwnRecord);
    }
    if seen_rev != current_rev {
        return Err(ReviewRefusal::Stale {
            seen: seen_rev,
            current: current_rev,
        });
    }
    record
        .status
        .review(decision)
        .map_err(ReviewRefusal::Status)
}

/// Whether the phone should offer `user` to edit `record`: the same rule the server enforces (named on
/// it, or its author; not approved, not an amendment), so that nobody types an edit the server will
/// refuse.
pub fn may_edit(user: &UserId, record: &Inspection) -> bool {
    record.status != Status::Approved
        && record.amends.is_none()
        && (record.inspectors.contains(user)
            || record
                .created_by
                .as_ref()
                .is_none_or(|author| author == user))
}
