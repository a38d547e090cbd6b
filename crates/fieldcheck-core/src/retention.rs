//! How long a phone keeps others' records: at province scale a phone pulls its whole unit, and years
//! of colleagues' inspections would fill a cheap phone. Which copies may go is decided here.

use crate::UserId;
use crate::inspection::{HazardStatus, Inspection};
use crate::local::LocalState;
use chrono::{DateTime, FixedOffset, Months};

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

/// Whether the phone may drop its copy of an inspection, which it can pull again from the server
/// whenever it changes. Only when all of these hold:
/// - the copy is exactly the server's (`Synced`): no unsent edit, nothing waiting for a person;
/// - no unsaved form of it is open on the phone (`has_form`);
/// - `me` is not one of its officers: an officer keeps their own work;
/// - it started before `cutoff`;
/// - none of its hazards is still open: a hazard to follow up keeps its record.
pub fn may_drop(
    state: &LocalState,
    record: &Inspection,
    me: &UserId,
    cutoff: DateTime<FixedOffset>,
    has_form: bool,
) -> bool {
    matches!(state, LocalState::Synced { .. })
        && !has_form
        && !record.inspectors.contains(me)
        && record.started_at < cutoff
        && record
            .hazards
            .iter()
            .all(|hazard| hazard.status == HazardStatus::Rectified)
}
