//! The values the phone keeps: records with their one sync state, the session, the autosaved form.

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset};
use fieldcheck_core::local::{LocalState, OpenedOn, ServerVersion};
use fieldcheck_core::sync::Entity;
use fieldcheck_core::{Campaign, Inspection, User, Venue};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// How a record is kept in `inspections` and `venues`.
///
/// `local` is the truth: the core's one state per record. `record` is the body screens show, written
/// in step with `local` on every put and never read back as truth — it is there so that the indexes
/// (`record.venue_id`, `record.started_at`, …) can find it; a quarantined record keeps only its id
/// there. `queue` is the record's place in the queue while it has work to send: the `queue` index is
/// the phone's outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredRecord {
    pub record: Value,
    pub local: LocalState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<u64>,
}

impl StoredRecord {
    /// The stored form of a state: the shown body and the queue place derived from it.
    pub fn new(id: &str, local: LocalState) -> StoredRecord {
        let record = StoredRecordRef::new(id, &local).record.into_owned();
        StoredRecord {
            record,
            queue: local.order(),
            local,
        }
    }
}

/// [`StoredRecord`] as it is written, borrowing the state: a save encodes its record without first
/// copying the body twice (into the state it keeps, and into the shown copy).
#[derive(Serialize)]
pub(crate) struct StoredRecordRef<'a> {
    record: Cow<'a, Value>,
    local: &'a LocalState,
    #[serde(skip_serializing_if = "Option::is_none")]
    queue: Option<u64>,
}

impl<'a> StoredRecordRef<'a> {
    pub(crate) fn new(id: &str, local: &'a LocalState) -> StoredRecordRef<'a> {
        // The store's key path is `record.id`: a body that does not carry this id (damaged, or not an
        // object) is kept only in `local`, and `record` holds just the id.
        let record = local
            .shown()
            .filter(|shown| shown.get("id").and_then(Value::as_str) == Some(id))
            .map_or_else(|| Cow::Owned(json!({ "id": id })), Cow::Borrowed);
        StoredRecordRef {
            record,
            local,
            queue: local.order(),
        }
    }
}

/// Where a record stands with the server, as screens show it (icon and text, never colour alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncMark {
    /// Edits wait to be sent (queued or in flight).
    Pending,
    /// The server holds exactly this copy.
    Synced,
    /// The server moved on; the inspector chooses.
    Conflict,
    /// The server refused the last change; the reason is shown.
    Rejected,
    /// The phone cannot read its own copy; it is kept for export.
    Quarantined,
}

impl SyncMark {
    pub fn of(local: &LocalState) -> SyncMark {
        match local {
            LocalState::Synced { .. } => SyncMark::Synced,
            LocalState::Queued { .. } | LocalState::InFlight { .. } => SyncMark::Pending,
            LocalState::Conflict { .. } => SyncMark::Conflict,
            LocalState::Rejected { .. } => SyncMark::Rejected,
            LocalState::Quarantined { .. } => SyncMark::Quarantined,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            SyncMark::Pending => "pending",
            SyncMark::Synced => "synced",
            SyncMark::Conflict => "conflict",
            SyncMark::Rejected => "rejected",
            SyncMark::Quarantined => "quarantined",
        }
    }
}

/// An inspection as screens read it: the record shown and its state.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalInspection {
    pub record: Inspection,
    pub local: LocalState,
}

impl LocalInspection {
    pub fn mark(&self) -> SyncMark {
        SyncMark::of(&self.local)
    }
}

/// A record as lists show it: the record and where it stands with the server.
#[derive(Debug, Clone, PartialEq)]
pub struct InspectionRow {
    pub record: Inspection,
    pub mark: SyncMark,
}

/// A venue as screens read it.
#[derive(Debug, Clone, PartialEq)]
pub struct LocalVenue {
    pub record: Venue,
    pub local: LocalState,
}

/// A campaign as kept in `meta` under `campaign:<id>` (few of them, pulled only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocalCampaign {
    pub record: Campaign,
    #[serde(default)]
    pub rev: u64,
}

/// The logged-in user and their bearer token, kept in `meta` so the app works offline after one login.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub token: String,
    pub user: User,
    #[serde(default)]
    pub expires_at: Option<String>,
    /// Set when the server answered 401: the inspector must log in again; no data is dropped.
    #[serde(default)]
    pub expired: bool,
}

/// The inspection form as typed, kept as the inspector goes (store `forms`, key path `record.id`), so
/// that leaving the screen, a phone call or a killed browser loses nothing. Never sent: it becomes a
/// record only when the inspector saves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Form {
    pub record: Inspection,
    pub saved_at: DateTime<FixedOffset>,
    /// The server rev of the record when the form was opened (0: a new record), so that saving it
    /// later never silently undoes a newer copy pulled meanwhile.
    #[serde(default)]
    pub edited_rev: u64,
    /// The server's body at `edited_rev`: the common ancestor a conflict merges from (absent:
    /// kept by an older build, or none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited: Option<Value>,
    /// The record as the form showed it when opened, so that a newer copy that is only the phone's
    /// own edit, pushed since, is told apart from a colleague's (absent: kept by an older build).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opened: Option<Value>,
}

impl Form {
    /// The copy the form was opened on.
    pub fn opened_on(&self) -> OpenedOn {
        OpenedOn {
            base: (self.edited_rev > 0).then(|| ServerVersion {
                rev: self.edited_rev,
                body: self.edited.clone().unwrap_or(Value::Null),
            }),
            shown: self.opened.clone(),
        }
    }
}

/// A record that waits for a person, as 我的 lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Awaiting {
    pub entity: Entity,
    pub id: String,
    pub mark: SyncMark,
    /// The server's reason (rejected) or the phone's (quarantined); empty for a conflict.
    pub reason: String,
    /// The server's refusal code (`photo_missing`, `not_yours`, …); empty unless rejected.
    pub code: String,
    /// Whether the server's copy is known, so that "take the server's" can repair it.
    pub server_copy: bool,
    /// A conflict whose two edits touched different fields: they merge into one.
    pub mergeable: bool,
    /// A conflict's two copies, this phone's and the server's newer one, to be shown side by side.
    pub sides: Option<Sides>,
    /// What the officer knows the record by: the venue's name (an inspection's venue, or the venue
    /// itself); empty when the phone does not hold it or the record is unreadable.
    pub title: String,
    /// When an inspection began; none for a venue or an unreadable record.
    pub started_at: Option<DateTime<FixedOffset>>,
}

/// The two copies of a record in conflict.
#[derive(Debug, Clone, PartialEq)]
pub struct Sides {
    /// The server's copy the phone's edit was made on, when known: what the edit changed is told
    /// from what only the server's copy changed.
    pub base: Option<Value>,
    pub mine: Value,
    pub theirs: Value,
}

/// Unsynced work exported to a file, and what it covered: discarding it afterwards is allowed only
/// while the phone still holds exactly that.
#[derive(Debug, Clone, PartialEq)]
pub struct Export {
    pub text: String,
    pub fingerprint: String,
}

/// What the phone holds that the server does not: records with work or waiting for a person, and
/// unsaved forms. Another user may take the phone over only when all are zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Unsynced {
    pub queued: u32,
    pub awaiting: u32,
    pub forms: u32,
    /// Queued changes of layout 1 that could not be read when the phone was updated.
    pub leftovers: u32,
    /// Photos and signatures not uploaded yet.
    pub photos: u32,
    /// Stored records too damaged to hold a sync state: nobody can tell whether the server has them,
    /// so they are exported and kept like unsynced work, never cleared unseen.
    pub unreadable: u32,
}

impl Unsynced {
    pub fn total(&self) -> u32 {
        self.queued + self.awaiting + self.forms + self.leftovers + self.photos + self.unreadable
    }
}

/// A list read from a store: the values that decoded, and an error for each one that did not.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed<T> {
    pub items: Vec<T>,
    pub corrupt: Vec<crate::store::StoreError>,
}

impl<T> Default for Listed<T> {
    fn default() -> Self {
        Listed {
            items: Vec::new(),
            corrupt: Vec::new(),
        }
    }
}
