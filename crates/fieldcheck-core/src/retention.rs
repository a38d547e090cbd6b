//! How long a phone keeps others' records: at province scale a phone pulls its whole unit, and years
//! of colleagues' inspections would fill a cheap phone. Which copies may go is decided here.

use crate::UserId;
use crate::inspection::{HazardStatus, Inspection, Status};
use crate::local::LocalState;
use chrono::{DateTime, FixedOffset, Months};
use std::collections::HashSet;

/// Months of others' inspections a phone keeps unless the officer chooses otherwise.
pub const DEFAULT_KEEP_MONTHS: u32 = 12;
/// What 我的 offers; 0 keeps everything.
pub const KEEP_MONTHS_CHOICES: [u32; 5] = [3, 6, 12, 24, 0];

/// The start of what a phone keeps (`None`: keep everything).
pub fn cutoff(now: DateTime<FixedOffset>, keep_months: u32) -> Option<DateTime<FixedOffset>> {
    if keep_months == 0 {
        return None;
    }
    now.checked_sub_months(Months::new(keep_months))
}

/// One inspection on the phone, as the rule sees it.
#[derive(Debug, Clone, Copy)]
pub struct Copy<'a> {
    pub state: &'a LocalState,
    /// The record as shown (for a synced copy, the server's).
    pub record: &'a Inspection,
    /// An unsaved form of it is open on the phone.
    pub has_form: bool,
}

/// Whether one copy, on its own, may go. Only when all of these hold:
/// - it is exactly the server's (`Synced`): no unsent edit, nothing waiting for a person;
/// - no unsaved form of it is open;
/// - `me` is neither one of its officers nor its creator: an officer keeps their own work;
/// - it is approved: a submitted or returned record is still being worked on;
/// - none of its hazards is still open: a hazard to follow up keeps its record;
/// - it is older than `cutoff` by the later of when it started and when the server received it (a
///   phone with a wrong clock cannot make a new record look old).
pub fn may_drop(copy: &Copy<'_>, me: &UserId, cutoff: DateTime<FixedOffset>) -> bool {
    let record = copy.record;
    let age_from = record.received_at.map_or(record.started_at, |received| {
        received.max(record.started_at)
    });
    matches!(copy.state, LocalState::Synced { .. })
        && !copy.has_form
        && !record.inspectors.contains(me)
        && record.created_by.as_ref() != Some(me)
        && record.status == Status::Approved
        && age_from < cutoff
        && record
            .hazards
            .iter()
            .all(|hazard| hazard.status == HazardStatus::Rectified)
}

/// The ids of the copies that may go: those [`may_drop`] allows, minus any linked to a record that
/// stays — the record a kept one follows up or amends, and the re-inspections and amendments of a kept
/// one (whose hazard board and record page read them together), through whole chains.
pub fn to_drop(copies: &[Copy<'_>], me: &UserId, cutoff: DateTime<FixedOffset>) -> HashSet<String> {
    let mut dropping: HashSet<String> = copies
        .iter()
        .filter(|copy| may_drop(copy, me, cutoff))
        .map(|copy| copy.record.id.as_str().to_owned())
        .collect();
    let present: HashSet<&str> = copies.iter().map(|copy| copy.record.id.as_str()).collect();
    // Each pass keeps the neighbours of what stays; a chain of n links settles in n passes. A link
    // to a record no longer on the phone keeps nothing.
    loop {
        let mut linked_to_kept = Vec::new();
        for copy in copies {
            let id = copy.record.id.as_str();
            let links = [&copy.record.follows, &copy.record.amends]
                .into_iter()
                .flatten()
                .map(|other| other.as_str())
                .filter(|other| present.contains(other));
            for other in links {
                match (dropping.contains(id), dropping.contains(other)) {
                    (true, false) => linked_to_kept.push(id.to_owned()),
                    (false, true) => linked_to_kept.push(other.to_owned()),
                    _ => {}
                }
            }
        }
        if linked_to_kept.is_empty() {
            return dropping;
        }
        for id in linked_to_kept {
            dropping.remove(&id);
        }
    }
}
