//! The phone's IndexedDB: the only code that touches it. Records, the outbox, venues and meta.
//!
//! Invariants kept here:
//! - saving a record and queueing its outbox entry happen in one readwrite transaction;
//! - an outbox entry leaves only on a settling server answer, in the transaction that updates its record;
//! - a pulled change never overwrites unsent local work (core `pull_action` decides);
//! - a value that does not decode is reported as [`StoreError::Corrupt`] with its store and key and
//!   never stops the other values from being read.
//!
//! A transaction dropped without `commit().await` rolls back (indexed_db_futures' default), so every
//! early `?` inside a transaction undoes all of its writes.

mod codec;
mod error;
mod persistence;
mod schema;
mod types;

use std::collections::HashMap;

use fieldcheck_core::sync::{Change, Entity, OutboxEntry, PullAction, PushOutcome};
use fieldcheck_core::sync::{LocalCopy, pull_action};
use fieldcheck_core::{Campaign, DeviceId, Inspection, InspectionId, OpId, Status, Venue, VenueId};
use indexed_db_futures::KeyRange;
use indexed_db_futures::database::Database;
use indexed_db_futures::index::Index;
use indexed_db_futures::object_store::ObjectStore;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;

pub use error::StoreError;
pub use persistence::{StorageEstimate, is_persisted, request_persistence, storage_estimate};
pub use schema::{DB_VERSION, INSPECTIONS, META, OUTBOX, PHOTOS, VENUES};
pub use types::{
    Listed, LocalCampaign, LocalInspection, LocalVenue, OutboxItem, OutboxKey, PullApplied,
    ServerVersion, Session, SyncMark,
};

use codec::{from_js, key_text, to_js};
use error::IdbContext;
use schema::OUTBOX_BY_RECORD;

/// Meta keys.
pub mod meta_keys {
    pub const SESSION: &str = "session";
    pub const DEVICE_ID: &str = "device_id";
    pub const PULL_CURSOR: &str = "pull_cursor";
    pub const LAST_SYNCED_AT: &str = "last_synced_at";
    pub const LANG: &str = "lang";
    pub const STORAGE_PERSISTED: &str = "storage_persisted";
    /// Prefix of campaign entries: `campaign:<id>`.
    pub const CAMPAIGN_PREFIX: &str = "campaign:";
}

/// The store handed to screens through the context (IndexedDB handles are not `Send`).
#[derive(Clone, Copy)]
pub struct StoreContext(leptos::prelude::StoredValue<Store, leptos::prelude::LocalStorage>);

/// Provides the open store to the app.
pub fn provide_store(store: Store) {
    leptos::prelude::provide_context(StoreContext(leptos::prelude::StoredValue::new_local(store)));
}

/// The store provided by the app shell.
pub fn use_store() -> Store {
    use leptos::prelude::GetValue;
    leptos::prelude::expect_context::<StoreContext>()
        .0
        .get_value()
}

/// An open handle on the phone's database. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    db: Database,
}

impl Store {
    /// Opens (creating or upgrading) the database `name`. The app uses `fieldcheck`.
    pub async fn open(name: &str) -> Result<Store, StoreError> {
        let open_error = |message: String| StoreError::Open {
            name: name.to_owned(),
            message,
        };
        let db = Database::open(name)
            .with_version(DB_VERSION)
            .with_on_upgrade_needed(|event, db| schema::upgrade(&event, &db))
            .await
            .map_err(|error| open_error(error.to_string()))?;
        Ok(Store { db })
    }

    /// Closes the connection; the handle (and its clones) must not be used afterwards.
    pub fn close(self) {
        self.db.close();
    }

    /// The database name.
    pub fn name(&self) -> String {
        self.db.name()
    }

    // ----- meta -----

    /// Reads a meta value.
    pub async fn meta_get<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StoreError> {
        let tx = self.db.transaction(META).build().idb(META, "begin")?;
        let store = tx.object_store(META).idb(META, "open")?;
        let js_key = JsValue::from_str(key);
        let value: Option<JsValue> = store
            .get(js_key.clone())
            .primitive()
            .idb(META, "get")?
            .await
            .idb(META, "get")?;
        value
            .map(|value| from_js(&value, META, &js_key))
            .transpose()
    }

    /// Writes a meta value.
    pub async fn meta_set<T: Serialize>(&self, key: &str, value: &T) -> Result<(), StoreError> {
        let tx = self
            .db
            .transaction(META)
            .with_mode(TransactionMode::Readwrite)
            .build()
            .idb(META, "begin")?;
        {
            let store = tx.object_store(META).idb(META, "open")?;
            store
                .put(to_js(value, META)?)
                .with_key(JsValue::from_str(key))
                .primitive()
                .idb(META, "put")?
                .await
                .idb(META, "put")?;
        }
        tx.commit().await.idb(META, "commit")
    }

    /// Removes a meta value.
    pub async fn meta_delete(&self, key: &str) -> Result<(), StoreError> {
        let tx = self
            .db
            .transaction(META)
            .with_mode(TransactionMode::Readwrite)
            .build()
            .idb(META, "begin")?;
        {
            let store = tx.object_store(META).idb(META, "open")?;
            store
                .delete(JsValue::from_str(key))
                .primitive()
                .idb(META, "delete")?
                .await
                .idb(META, "delete")?;
        }
        tx.commit().await.idb(META, "commit")
    }

    /// This installation's device id: a UUIDv7 made the first time it is asked for, then kept.
    pub async fn device_id(&self) -> Result<DeviceId, StoreError> {
        if let Some(device_id) = self.meta_get::<DeviceId>(meta_keys::DEVICE_ID).await? {
            return Ok(device_id);
        }
        let device_id = DeviceId(uuid::Uuid::now_v7().to_string());
        self.meta_set(meta_keys::DEVICE_ID, &device_id).await?;
        Ok(device_id)
    }

    /// The stored session, if someone logged in on this phone.
    pub async fn session(&self) -> Result<Option<Session>, StoreError> {
        self.meta_get(meta_keys::SESSION).await
    }

    pub async fn set_session(&self, session: &Session) -> Result<(), StoreError> {
        self.meta_set(meta_keys::SESSION, session).await
    }

    /// Forgets the session (log out). Records and the outbox stay.
    pub async fn clear_session(&self) -> Result<(), StoreError> {
        self.meta_delete(meta_keys::SESSION).await
    }

    /// Marks the session expired (the server answered 401) and returns it; nothing else changes.
    pub async fn expire_session(&self) -> Result<Option<Session>, StoreError> {
        let Some(mut session) = self.session().await? else {
            return Ok(None);
        };
        session.expired = true;
        self.set_session(&session).await?;
        Ok(Some(session))
    }

    /// The cursor to pull from (`None`: from the start).
    pub async fn pull_cursor(&self) -> Result<Option<String>, StoreError> {
        self.meta_get(meta_keys::PULL_CURSOR).await
    }

    // ----- venues -----

    /// Stores venues as the server has them at `rev` (used by tests and the demo seed; sync uses
    /// [`Store::apply_pulled`]).
    pub async fn put_venues(&self, venues: &[LocalVenue]) -> Result<(), StoreError> {
        let tx = self
            .db
            .transaction(VENUES)
            .with_mode(TransactionMode::Readwrite)
            .build()
            .idb(VENUES, "begin")?;
        {
            let store = tx.object_store(VENUES).idb(VENUES, "open")?;
            for venue in venues {
                put_value(&store, VENUES, venue).await?;
            }
        }
        tx.commit().await.idb(VENUES, "commit")
    }

    /// Venues of every kind whose name contains `search` (case-insensitive), ordered by name.
    ///
    /// Reads the store, not the `name` index, so that a damaged value without a name is reported.
    pub async fn list_venues(&self, search: &str) -> Result<Listed<Venue>, StoreError> {
        let tx = self.db.transaction(VENUES).build().idb(VENUES, "begin")?;
        let store = tx.object_store(VENUES).idb(VENUES, "open")?;
        let raw = get_all_in_store(&store, VENUES, None).await?;
        let needle = search.trim().to_lowercase();
        let mut listed = decode_listed(raw, VENUES, |venue: LocalVenue| {
            (needle.is_empty() || venue.record.name.to_lowercase().contains(&needle))
                .then_some(venue.record)
        });
        listed
            .items
            .sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        Ok(listed)
    }

    /// One venue.
    pub async fn venue(&self, id: &VenueId) -> Result<Option<Venue>, StoreError> {
        let local: Option<LocalVenue> = self.get_one(VENUES, id.as_str()).await?;
        Ok(local.map(|local| local.record))
    }

    // ----- campaigns -----

    /// The campaigns pulled from the server.
    pub async fn campaigns(&self) -> Result<Listed<Campaign>, StoreError> {
        let tx = self.db.transaction(META).build().idb(META, "begin")?;
        let store = tx.object_store(META).idb(META, "open")?;
        let prefix = meta_keys::CAMPAIGN_PREFIX;
        // Every key that starts with the prefix: [prefix, prefix + U+FFFF).
        let range = KeyRange::Bound(
            JsValue::from_str(prefix),
            false,
            JsValue::from_str(&format!("{prefix}\u{ffff}")),
            true,
        );
        let raw = get_all_in_store(&store, META, Some(range)).await?;
        Ok(decode_listed(raw, META, |campaign: LocalCampaign| {
            Some(campaign.record)
        }))
    }

    // ----- inspections -----

    /// Saves a record and queues it for the server, in ONE readwrite transaction over
    /// `[inspections, outbox]`: either both are written or neither.
    ///
    /// If the record already has an outbox entry that was never sent (`attempts == 0`), that entry's
    /// body is rewritten in place; otherwise a new entry is appended behind any sent one (which the
    /// server may already have applied), as the core `OutboxEntry` rules say.
    pub async fn save_inspection(
        &self,
        record: &Inspection,
    ) -> Result<LocalInspection, StoreError> {
        self.write_inspection(record, None).await
    }

    /// Writes a record and its outbox entry in one transaction; with `rebase_on`, the record is
    /// first based on that server rev (a conflict resolved in favour of the local copy).
    async fn write_inspection(
        &self,
        record: &Inspection,
        rebase_on: Option<u64>,
    ) -> Result<LocalInspection, StoreError> {
        let body = serde_json::to_value(record).map_err(|error| StoreError::Encode {
            store: OUTBOX,
            reason: error.to_string(),
        })?;
        let tx = self
            .db
            .transaction([INSPECTIONS, OUTBOX])
            .with_mode(TransactionMode::Readwrite)
            .build()
            .idb(INSPECTIONS, "begin")?;
        let saved = {
            let inspections = tx.object_store(INSPECTIONS).idb(INSPECTIONS, "open")?;
            let outbox = tx.object_store(OUTBOX).idb(OUTBOX, "open")?;
            let previous: Option<LocalInspection> =
                get_in(&inspections, INSPECTIONS, record.id.as_str()).await?;
            if let Some(previous) = &previous {
                Status::check_push(Some(previous.record.status), record.status)?;
            }
            let (rev, server_copy) = match rebase_on {
                Some(server_rev) => (server_rev, None),
                None => previous.map_or((0, None), |previous| (previous.rev, previous.server_copy)),
            };
            let saved = LocalInspection {
                record: record.clone(),
                rev,
                sync: SyncMark::Pending,
                error: None,
                server_copy,
                updated_at: crate::i18n::now_china(),
            };
            // The record is written before the outbox is read: anything that fails after this line
            // (a corrupt queued entry, a failing put) drops the transaction and undoes the record too.
            put_value(&inspections, INSPECTIONS, &saved).await?;
            let queued = entries_for(&outbox, Entity::Inspection, record.id.as_str()).await?;
            match queued
                .into_iter()
                .rev()
                .find(|item| item.entry.attempts == 0)
            {
                Some(mut unsent) => {
                    unsent.entry.body = body;
                    outbox
                        .put(to_js(&unsent.entry, OUTBOX)?)
                        .with_key(JsValue::from_f64(unsent.key.0))
                        .primitive()
                        .idb(OUTBOX, "put")?
                        .await
                        .idb(OUTBOX, "put")?;
                }
                None => {
                    let entry = OutboxEntry {
                        op_id: OpId(uuid::Uuid::now_v7().to_string()),
                        entity: Entity::Inspection,
                        id: record.id.as_str().to_owned(),
                        body,
                        attempts: 0,
                    };
                    outbox
                        .add(to_js(&entry, OUTBOX)?)
                        .primitive()
                        .idb(OUTBOX, "add")?
                        .await
                        .idb(OUTBOX, "add")?;
                }
            }
            saved
        };
        tx.commit().await.idb(INSPECTIONS, "commit")?;
        Ok(saved)
    }

    /// One inspection with its sync state.
    pub async fn inspection(
        &self,
        id: &InspectionId,
    ) -> Result<Option<LocalInspection>, StoreError> {
        self.get_one(INSPECTIONS, id.as_str()).await
    }

    /// Every local inspection, newest first (by `started_at`).
    ///
    /// Reads the store itself, not the `started_at` index: a damaged value that lost its
    /// `record.started_at` is missing from that index, and must still be reported, not hidden.
    pub async fn list_inspections(&self) -> Result<Listed<LocalInspection>, StoreError> {
        let tx = self
            .db
            .transaction(INSPECTIONS)
            .build()
            .idb(INSPECTIONS, "begin")?;
        let store = tx.object_store(INSPECTIONS).idb(INSPECTIONS, "open")?;
        let raw = get_all_in_store(&store, INSPECTIONS, None).await?;
        Ok(inspections_newest_first(raw))
    }

    /// The inspections of one venue (through the `venue_id` index), newest first.
    pub async fn inspections_for_venue(
        &self,
        venue_id: &VenueId,
    ) -> Result<Listed<LocalInspection>, StoreError> {
        let tx = self
            .db
            .transaction(INSPECTIONS)
            .build()
            .idb(INSPECTIONS, "begin")?;
        let store = tx.object_store(INSPECTIONS).idb(INSPECTIONS, "open")?;
        let index = store
            .index("venue_id")
            .idb(INSPECTIONS, "open index venue_id")?;
        let query = KeyRange::Only(JsValue::from_str(venue_id.as_str()));
        let raw = get_all_in_index(&index, INSPECTIONS, Some(query)).await?;
        Ok(inspections_newest_first(raw))
    }

    /// Resolves a conflict by keeping the local copy: it is re-queued on top of the server's rev.
    pub async fn keep_local_version(
        &self,
        id: &InspectionId,
    ) -> Result<Option<LocalInspection>, StoreError> {
        let Some(local) = self.inspection(id).await? else {
            return Ok(None);
        };
        let Some(server) = local.server_copy.clone() else {
            return Ok(Some(local));
        };
        // Based on the server's rev, so the re-queued edit is an update of the server copy; one
        // transaction, so a killed browser never leaves a rebased record without its queued edit.
        self.write_inspection(&local.record, Some(server.rev))
            .await
            .map(Some)
    }

    /// Resolves a conflict by taking the server copy; the local edits are dropped on purpose.
    pub async fn take_server_version(
        &self,
        id: &InspectionId,
    ) -> Result<Option<LocalInspection>, StoreError> {
        let Some(local) = self.inspection(id).await? else {
            return Ok(None);
        };
        let Some(server) = local.server_copy.clone() else {
            return Ok(Some(local));
        };
        let record: Inspection =
            serde_json::from_value(server.body).map_err(|error| StoreError::Corrupt {
                store: INSPECTIONS,
                key: id.to_string(),
                reason: format!("server copy: {error}"),
            })?;
        let taken = LocalInspection {
            record,
            rev: server.rev,
            sync: SyncMark::Synced,
            error: None,
            server_copy: None,
            updated_at: crate::i18n::now_china(),
        };
        let tx = self
            .db
            .transaction(INSPECTIONS)
            .with_mode(TransactionMode::Readwrite)
            .build()
            .idb(INSPECTIONS, "begin")?;
        {
            let store = tx.object_store(INSPECTIONS).idb(INSPECTIONS, "open")?;
            put_value(&store, INSPECTIONS, &taken).await?;
        }
        tx.commit().await.idb(INSPECTIONS, "commit")?;
        Ok(Some(taken))
    }

    // ----- outbox -----

    /// The outbox in order. Entries that do not decode are listed in `corrupt` and stay in place.
    pub async fn outbox(&self) -> Result<Listed<OutboxItem>, StoreError> {
        let tx = self.db.transaction(OUTBOX).build().idb(OUTBOX, "begin")?;
        let store = tx.object_store(OUTBOX).idb(OUTBOX, "open")?;
        let raw = get_all_in_store(&store, OUTBOX, None).await?;
        let mut listed = Listed::default();
        for (key, value) in raw {
            match (key.as_f64(), from_js::<OutboxEntry>(&value, OUTBOX, &key)) {
                (Some(number), Ok(entry)) => listed.items.push(OutboxItem {
                    key: OutboxKey(number),
                    entry,
                }),
                (None, _) => listed.corrupt.push(StoreError::Corrupt {
                    store: OUTBOX,
                    key: key_text(&key),
                    reason: "the key is not a generated number".to_owned(),
                }),
                (_, Err(error)) => listed.corrupt.push(error),
            }
        }
        Ok(listed)
    }

    /// How many changes wait for the server.
    pub async fn pending_count(&self) -> Result<u32, StoreError> {
        let tx = self.db.transaction(OUTBOX).build().idb(OUTBOX, "begin")?;
        let store = tx.object_store(OUTBOX).idb(OUTBOX, "open")?;
        store
            .count()
            .primitive()
            .idb(OUTBOX, "count")?
            .await
            .idb(OUTBOX, "count")
    }

    /// Counts one more push attempt on each entry, before it is sent: from then on the server may have
    /// applied it, so a later edit queues a new entry instead of rewriting this one.
    pub async fn mark_attempted(&self, keys: &[OutboxKey]) -> Result<(), StoreError> {
        let tx = self
            .db
            .transaction(OUTBOX)
            .with_mode(TransactionMode::Readwrite)
            .build()
            .idb(OUTBOX, "begin")?;
        {
            let store = tx.object_store(OUTBOX).idb(OUTBOX, "open")?;
            for key in keys {
                let js_key = JsValue::from_f64(key.0);
                let value: Option<JsValue> = store
                    .get(js_key.clone())
                    .primitive()
                    .idb(OUTBOX, "get")?
                    .await
                    .idb(OUTBOX, "get")?;
                let Some(value) = value else { continue };
                let mut entry: OutboxEntry = from_js(&value, OUTBOX, &js_key)?;
                entry.attempts = entry.attempts.saturating_add(1);
                store
                    .put(to_js(&entry, OUTBOX)?)
                    .with_key(js_key)
                    .primitive()
                    .idb(OUTBOX, "put")?
                    .await
                    .idb(OUTBOX, "put")?;
            }
        }
        tx.commit().await.idb(OUTBOX, "commit")
    }

    /// The server rev the phone holds for each record (0: none yet), for `next_batch`'s `base_rev`.
    pub async fn known_revs(
        &self,
        records: &[(Entity, String)],
    ) -> Result<HashMap<(Entity, String), u64>, StoreError> {
        let tx = self
            .db
            .transaction([VENUES, INSPECTIONS])
            .build()
            .idb(INSPECTIONS, "begin")?;
        let venues = tx.object_store(VENUES).idb(VENUES, "open")?;
        let inspections = tx.object_store(INSPECTIONS).idb(INSPECTIONS, "open")?;
        let mut revs = HashMap::new();
        for (entity, id) in records {
            let rev = match entity {
                Entity::Inspection => get_in::<LocalInspection>(&inspections, INSPECTIONS, id)
                    .await?
                    .map_or(0, |local| local.rev),
                Entity::Venue => get_in::<LocalVenue>(&venues, VENUES, id)
                    .await?
                    .map_or(0, |local| local.rev),
                // The phone never queues campaigns.
                Entity::Campaign => 0,
            };
            revs.insert((*entity, id.clone()), rev);
        }
        Ok(revs)
    }

    /// Applies the server's answer to one pushed entry, in one transaction: the record's rev and sync
    /// state change and the entry leaves the outbox together, or not at all. `Retry` changes nothing.
    pub async fn apply_push_outcome(
        &self,
        item: &OutboxItem,
        outcome: &PushOutcome,
    ) -> Result<(), StoreError> {
        if *outcome == PushOutcome::Retry {
            return Ok(());
        }
        let tx = self
            .db
            .transaction([VENUES, INSPECTIONS, OUTBOX])
            .with_mode(TransactionMode::Readwrite)
            .build()
            .idb(OUTBOX, "begin")?;
        {
            let outbox = tx.object_store(OUTBOX).idb(OUTBOX, "open")?;
            outbox
                .delete(JsValue::from_f64(item.key.0))
                .primitive()
                .idb(OUTBOX, "delete")?
                .await
                .idb(OUTBOX, "delete")?;
            let (entity, id) = item.record();
            // Later edits of the same record may still wait behind this one.
            let still_queued = !entries_for(&outbox, entity, id).await?.is_empty();
            match entity {
                Entity::Inspection => {
                    let inspections = tx.object_store(INSPECTIONS).idb(INSPECTIONS, "open")?;
                    if let Some(mut local) =
                        get_in::<LocalInspection>(&inspections, INSPECTIONS, id).await?
                    {
                        apply_outcome_to_inspection(&mut local, outcome, still_queued);
                        put_value(&inspections, INSPECTIONS, &local).await?;
                    }
                }
                Entity::Venue => {
                    let venues = tx.object_store(VENUES).idb(VENUES, "open")?;
                    if let (Some(mut local), PushOutcome::Synced { rev }) =
                        (get_in::<LocalVenue>(&venues, VENUES, id).await?, outcome)
                    {
                        local.rev = *rev;
                        put_value(&venues, VENUES, &local).await?;
                    }
                }
                Entity::Campaign => {}
            }
        }
        tx.commit().await.idb(OUTBOX, "commit")
    }

    /// Applies one page of pulled changes and the cursor after them, in one transaction, using core
    /// `pull_action`: local records with unsent edits are kept as they are.
    pub async fn apply_pulled(
        &self,
        changes: &[Change],
        cursor: &str,
    ) -> Result<PullApplied, StoreError> {
        let tx = self
            .db
            .transaction([VENUES, INSPECTIONS, OUTBOX, META])
            .with_mode(TransactionMode::Readwrite)
            .build()
            .idb(META, "begin")?;
        let mut applied = PullApplied::default();
        {
            let venues = tx.object_store(VENUES).idb(VENUES, "open")?;
            let inspections = tx.object_store(INSPECTIONS).idb(INSPECTIONS, "open")?;
            let outbox = tx.object_store(OUTBOX).idb(OUTBOX, "open")?;
            let meta = tx.object_store(META).idb(META, "open")?;
            for change in changes {
                if change.deleted {
                    applied.ignored += 1;
                    continue;
                }
                let pending = !entries_for(&outbox, change.entity, &change.id)
                    .await?
                    .is_empty();
                // A local value that no longer decodes counts as rev 0: the server copy may repair it,
                // unless unsent edits are queued for it.
                let local_rev = match change.entity {
                    Entity::Inspection => {
                        local_rev::<LocalInspection>(&inspections, INSPECTIONS, &change.id, |l| {
                            l.rev
                        })
                        .await?
                    }
                    Entity::Venue => {
                        local_rev::<LocalVenue>(&venues, VENUES, &change.id, |l| l.rev).await?
                    }
                    Entity::Campaign => {
                        let key = format!("{}{}", meta_keys::CAMPAIGN_PREFIX, change.id);
                        local_rev::<LocalCampaign>(&meta, META, &key, |l| l.rev).await?
                    }
                };
                let local = local_rev.map(|rev| LocalCopy { rev, pending });
                match pull_action(local, change.rev) {
                    PullAction::Ignore => applied.ignored += 1,
                    PullAction::KeepLocal => applied.kept_local += 1,
                    PullAction::Store => {
                        let stored = match change.entity {
                            Entity::Inspection => {
                                match serde_json::from_value::<Inspection>(change.body.clone()) {
                                    Ok(record) => {
                                        let local = LocalInspection {
                                            record,
                                            rev: change.rev,
                                            sync: SyncMark::Synced,
                                            error: None,
                                            server_copy: None,
                                            updated_at: crate::i18n::now_china(),
                                        };
                                        put_value(&inspections, INSPECTIONS, &local).await?;
                                        true
                                    }
                                    Err(_) => false,
                                }
                            }
                            Entity::Venue => {
                                match serde_json::from_value::<Venue>(change.body.clone()) {
                                    Ok(record) => {
                                        let local = LocalVenue {
                                            record,
                                            rev: change.rev,
                                        };
                                        put_value(&venues, VENUES, &local).await?;
                                        true
                                    }
                                    Err(_) => false,
                                }
                            }
                            Entity::Campaign => {
                                match serde_json::from_value::<Campaign>(change.body.clone()) {
                                    Ok(record) => {
                                        let key =
                                            format!("{}{}", meta_keys::CAMPAIGN_PREFIX, change.id);
                                        let local = LocalCampaign {
                                            record,
                                            rev: change.rev,
                                        };
                                        meta.put(to_js(&local, META)?)
                                            .with_key(JsValue::from_str(&key))
                                            .primitive()
                                            .idb(META, "put")?
                                            .await
                                            .idb(META, "put")?;
                                        true
                                    }
                                    Err(_) => false,
                                }
                            }
                        };
                        if stored {
                            applied.stored += 1;
                        } else {
                            applied.malformed += 1;
                        }
                    }
                }
            }
            meta.put(to_js(&cursor, META)?)
                .with_key(JsValue::from_str(meta_keys::PULL_CURSOR))
                .primitive()
                .idb(META, "put")?
                .await
                .idb(META, "put")?;
        }
        tx.commit().await.idb(META, "commit")?;
        Ok(applied)
    }

    /// Writes a raw JS value into a store, bypassing every type: for tests and repair tools that need
    /// to plant exactly what a damaged or foreign writer could have left behind.
    #[doc(hidden)]
    pub async fn put_raw(
        &self,
        store_name: &'static str,
        key: Option<JsValue>,
        value: JsValue,
    ) -> Result<(), StoreError> {
        let tx = self
            .db
            .transaction(store_name)
            .with_mode(TransactionMode::Readwrite)
            .build()
            .idb(store_name, "begin")?;
        {
            let store = tx.object_store(store_name).idb(store_name, "open")?;
            match key {
                Some(key) => {
                    store
                        .put(value)
                        .with_key(key)
                        .primitive()
                        .idb(store_name, "put")?
                        .await
                        .idb(store_name, "put")?;
                }
                None => {
                    store
                        .put(value)
                        .primitive()
                        .idb(store_name, "put")?
                        .await
                        .idb(store_name, "put")?;
                }
            }
        }
        tx.commit().await.idb(store_name, "commit")
    }

    async fn get_one<T: DeserializeOwned>(
        &self,
        store_name: &'static str,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        let tx = self
            .db
            .transaction(store_name)
            .build()
            .idb(store_name, "begin")?;
        let store = tx.object_store(store_name).idb(store_name, "open")?;
        get_in(&store, store_name, key).await
    }
}

fn apply_outcome_to_inspection(
    local: &mut LocalInspection,
    outcome: &PushOutcome,
    still_queued: bool,
) {
    match outcome {
        PushOutcome::Synced { rev } => {
            local.rev = *rev;
            local.sync = if still_queued {
                SyncMark::Pending
            } else {
                SyncMark::Synced
            };
            local.error = None;
        }
        PushOutcome::Conflict {
            server_rev,
            server_body,
        } => {
            local.sync = SyncMark::Conflict;
            local.server_copy = Some(ServerVersion {
                rev: *server_rev,
                body: server_body.clone(),
            });
        }
        PushOutcome::Rejected { error } => {
            local.sync = SyncMark::Rejected;
            local.error = Some(error.clone());
        }
        PushOutcome::Retry => {}
    }
    local.updated_at = crate::i18n::now_china();
}

/// Reads and decodes one value by string key inside an open transaction.
async fn get_in<T: DeserializeOwned>(
    store: &ObjectStore<'_>,
    store_name: &'static str,
    key: &str,
) -> Result<Option<T>, StoreError> {
    let js_key = JsValue::from_str(key);
    let value: Option<JsValue> = store
        .get(js_key.clone())
        .primitive()
        .idb(store_name, "get")?
        .await
        .idb(store_name, "get")?;
    value
        .map(|value| from_js(&value, store_name, &js_key))
        .transpose()
}

/// The rev of a local value; `Some(0)` if it exists but no longer decodes.
async fn local_rev<T: DeserializeOwned>(
    store: &ObjectStore<'_>,
    store_name: &'static str,
    key: &str,
    rev_of: impl Fn(&T) -> u64,
) -> Result<Option<u64>, StoreError> {
    match get_in::<T>(store, store_name, key).await {
        Ok(local) => Ok(local.map(|local| rev_of(&local))),
        Err(StoreError::Corrupt { .. }) => Ok(Some(0)),
        Err(other) => Err(other),
    }
}

/// Encodes and puts one value into a store with an in-line key.
async fn put_value<T: Serialize>(
    store: &ObjectStore<'_>,
    store_name: &'static str,
    value: &T,
) -> Result<(), StoreError> {
    store
        .put(to_js(value, store_name)?)
        .primitive()
        .idb(store_name, "put")?
        .await
        .idb(store_name, "put")
}

/// The queued outbox entries of one record, in order. A corrupt one is an error: the caller cannot
/// decide what to do with the record's queue without reading all of it.
async fn entries_for(
    outbox: &ObjectStore<'_>,
    entity: Entity,
    id: &str,
) -> Result<Vec<OutboxItem>, StoreError> {
    let index = outbox
        .index(OUTBOX_BY_RECORD)
        .idb(OUTBOX, "open index record")?;
    let query: JsValue =
        js_sys::Array::of2(&JsValue::from_str(entity.code()), &JsValue::from_str(id)).into();
    let raw = get_all_in_index(&index, OUTBOX, Some(KeyRange::Only(query))).await?;
    let mut items = Vec::with_capacity(raw.len());
    for (key, value) in raw {
        let entry: OutboxEntry = from_js(&value, OUTBOX, &key)?;
        let number = key.as_f64().ok_or_else(|| StoreError::Corrupt {
            store: OUTBOX,
            key: key_text(&key),
            reason: "the key is not a generated number".to_owned(),
        })?;
        items.push(OutboxItem {
            key: OutboxKey(number),
            entry,
        });
    }
    Ok(items)
}

/// Decodes raw inspections and orders them newest first, on the real instants rather than the
/// RFC 3339 strings (a change of device offset would break string order).
fn inspections_newest_first(raw: Vec<(JsValue, JsValue)>) -> Listed<LocalInspection> {
    let mut listed = decode_listed(raw, INSPECTIONS, Some::<LocalInspection>);
    listed
        .items
        .sort_by_key(|local| std::cmp::Reverse(local.record.started_at));
    listed
}

/// Decodes the (key, value) pairs read from `store`: each value that decodes goes through `keep`
/// (which may leave it out), and each that does not is reported as corrupt beside the others.
fn decode_listed<Raw: DeserializeOwned, T>(
    raw: Vec<(JsValue, JsValue)>,
    store: &'static str,
    mut keep: impl FnMut(Raw) -> Option<T>,
) -> Listed<T> {
    let mut listed = Listed::default();
    for (key, value) in raw {
        match from_js::<Raw>(&value, store, &key) {
            Ok(decoded) => listed.items.extend(keep(decoded)),
            Err(error) => listed.corrupt.push(error),
        }
    }
    listed
}

/// Defines a function reading every (primary key, raw value) of a store or an index, in its order,
/// optionally within a key range. A macro because the library's query traits are sealed: a generic
/// function cannot name their bounds.
macro_rules! get_all_with_keys_fn {
    ($name:ident, $source:ty) => {
        async fn $name(
            source: &$source,
            store_name: &'static str,
            query: Option<KeyRange<JsValue>>,
        ) -> Result<Vec<(JsValue, JsValue)>, StoreError> {
            // Both requests go out before either is awaited, in the same transaction: one snapshot.
            let (values, keys) = match query {
                None => {
                    let values = source
                        .get_all::<JsValue>()
                        .primitive()
                        .idb(store_name, "get all")?;
                    let keys = source
                        .get_all_keys::<JsValue>()
                        .primitive()
                        .idb(store_name, "get all keys")?;
                    (values.await, keys.await)
                }
                Some(query) => {
                    let values = source
                        .get_all::<JsValue>()
                        .with_query::<JsValue, _>(query.clone())
                        .primitive()
                        .idb(store_name, "get all")?;
                    let keys = source
                        .get_all_keys::<JsValue>()
                        .with_query::<JsValue, _>(query)
                        .primitive()
                        .idb(store_name, "get all keys")?;
                    (values.await, keys.await)
                }
            };
            let values = values
                .idb(store_name, "get all")?
                .collect::<Result<Vec<JsValue>, _>>()
                .idb(store_name, "get all")?;
            let keys = keys
                .idb(store_name, "get all keys")?
                .collect::<Result<Vec<JsValue>, _>>()
                .idb(store_name, "get all keys")?;
            Ok(keys.into_iter().zip(values).collect())
        }
    };
}

get_all_with_keys_fn!(get_all_in_store, ObjectStore<'_>);
get_all_with_keys_fn!(get_all_in_index, Index<'_>);
