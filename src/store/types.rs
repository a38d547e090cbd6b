//! The local wrappers the phone stores around the core wire types, and the session.

use chrono::{DateTime, FixedOffset};
use fieldcheck_core::sync::{Entity, ErrorBody, OutboxEntry};
use fieldcheck_core::{Campaign, Inspection, User, Venue};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where a local inspection stands with the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncMark {
    /// Local edits are queued in the outbox.
    Pending,
    /// The server holds exactly this copy at `rev`.
    Synced,
    /// The server holds a newer copy (`server_copy`); the inspector chooses.
    Conflict,
    /// The server refused the last change for good (`error` says why).
    Rejected,
}

impl SyncMark {
    pub fn code(self) -> &'static str {
        match self {
            SyncMark::Pending => "pending",
            SyncMark::Synced => "synced",
            SyncMark::Conflict => "conflict",
            SyncMark::Rejected => "rejected",
        }
    }
}

/// The server's copy of a record, kept beside a conflicting local one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerVersion {
    pub rev: u64,
    pub body: Value,
}

/// An inspection as the phone stores it (store `inspections`, key path `record.id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocalInspection {
    /// The record on the wire.
    pub record: Inspection,
    /// The server rev the local copy is based on; 0 until the server first accepts it.
    #[serde(default)]
    pub rev: u64,
    pub sync: SyncMark,
    /// Why the server rejected the last change.
    #[serde(default)]
    pub error: Option<ErrorBody>,
    /// The server copy when in conflict.
    #[serde(default)]
    pub server_copy: Option<ServerVersion>,
    /// When the phone last wrote this entry.
    pub updated_at: DateTime<FixedOffset>,
}

/// A venue as the phone stores it (store `venues`, key path `record.id`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LocalVenue {
    pub record: Venue,
    #[serde(default)]
    pub rev: u64,
}

/// A campaign as kept in `meta` under `campaign:<id>` (few of them; a store of their own can come later).
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

/// The key IndexedDB gave an outbox entry (auto-increment: the outbox order).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutboxKey(pub f64);

/// An outbox entry with its key.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxItem {
    pub key: OutboxKey,
    pub entry: OutboxEntry,
}

impl OutboxItem {
    /// The record the entry changes.
    pub fn record(&self) -> (Entity, &str) {
        (self.entry.entity, self.entry.id.as_str())
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

/// What applying one page of pulled changes did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PullApplied {
    pub stored: usize,
    pub kept_local: usize,
    pub ignored: usize,
    /// Changes whose body did not read as the entity (a server bug); skipped, the rest applied.
    pub malformed: usize,
}
