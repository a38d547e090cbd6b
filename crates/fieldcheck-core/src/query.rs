//! Which records a list shows: whose (mine and my partners', or the unit's), and the filters a
//! supervisor narrows them by (status, kind, venue kind, officer, period, venue search).

use std::collections::HashSet;

use chrono::NaiveDate;

use crate::ids::UserId;
use crate::inspection::{Inspection, InspectionKind, Status};
use crate::kinds::VenueKind;
use crate::stats::venue_kind_of;
use crate::venue::Venue;

/// The filters of the records list; `None` or empty means "any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordQuery {
    /// Only records this officer wrote or is named on (an inspector's own list); `None` for the unit.
    pub mine: Option<UserId>,
    pub status: Option<Status>,
    pub kind: Option<InspectionKind>,
    pub venue_kind: Option<VenueKind>,
    /// Records this officer is named on.
    pub officer: Option<UserId>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Matched against the venue (name, address, licence, contact, pinyin initials).
    pub search: String,
}

impl RecordQuery {
    /// Whether `record` (at `venue`, if the phone knows it) is in the list. Amendments are not: they
    /// show on the record they add to.
    pub fn matches(&self, record: &Inspection, venue: Option<&Venue>) -> bool {
        self.matches_record(record)
            && (self.search.trim().is_empty()
                || venue.is_some_and(|venue| venue.matches(&self.search)))
    }

    /// Whether `record` passes every filter but the venue search. A list of thousands looks the
    /// search up once per venue ([`RecordQuery::venues_found`]), not once per record.
    pub fn matches_record(&self, record: &Inspection) -> bool {
        let named = |user: &UserId| {
            record.inspectors.contains(user) || record.created_by.as_ref() == Some(user)
        };
        record.amends.is_none()
            && self.mine.as_ref().is_none_or(named)
            && self.status.is_none_or(|status| record.status == status)
            && self.kind.is_none_or(|kind| record.kind == kind)
            && self
                .venue_kind
                .is_none_or(|kind| venue_kind_of(record) == Some(kind))
            && self
                .officer
                .as_ref()
                .is_none_or(|officer| record.inspectors.contains(officer))
            && self.from.is_none_or(|from| record.visit_day() >= from)
            && self.to.is_none_or(|to| record.visit_day() <= to)
    }

    /// The venues the search finds among `venues`; `None` when there is no search (every venue,
    /// known to the phone or not). A record is in the list when it [`matches_record`] and its venue
    /// is found: the same answer as [`RecordQuery::matches`].
    ///
    /// [`matches_record`]: RecordQuery::matches_record
    pub fn venues_found<'v>(
        &self,
        venues: impl IntoIterator<Item = &'v Venue>,
    ) -> Option<HashSet<&'v str>> {
        if self.search.trim().is_empty() {
            return None;
        }
        Some(
            venues
                .into_iter()
                .filter(|venue| venue.matches(&self.search))
                .map(|venue| venue.id.as_str())
                .collect(),
        )
    }
}
