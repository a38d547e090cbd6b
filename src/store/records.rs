//! Records with their sync state in `inspections` and `venues`: reading and writing them, the sync
//! engine's port (take a batch, settle the answers, apply a pulled page), and what the server lacks.

use fieldcheck_core::User;
use fieldcheck_core::engine::{LocalStore, PageApplied};
use fieldcheck_core::local::{LocalState, ServerVersion, Settled};
use fieldcheck_core::merge;
use fieldcheck_core::sync::{Change, Entity, Mutation, MutationResult, PullResponse};
use fieldcheck_core::{Inspection, OpId};
use indexed_db_futures::KeyRange;
use indexed_db_futures::index::Index;
use indexed_db_futures::object_store::ObjectStore;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::Transaction;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use std::borrow::Cow;
use std::collections::HashMap;
use std::collections::HashSet;
use wasm_bindgen::JsValue;

use crate::store::codec::{as_stored, base64, field, from_js, js_text, key_text, to_js};
use crate::store::error::IdbContext;
use crate::store::meta::{campaign_range, delete_meta, meta_keys, put_meta};
use crate::store::schema::{
    BY_QUEUE, BY_STATE, FORMS, INSPECTIONS, META, OUTBOX, PHOTO_QUEUE, PHOTOS, VENUES,
};
use crate::store::types::StoredRecordRef;
use crate::store::venues::mark_register_changed;
use crate::store::{
    Awaiting, Export, Listed, LocalCampaign, Sides, Store, StoreError, StoredRecord, SyncMark,
    Unsynced,
};
use crate::timing::Span;

/// The store that keeps records of an entity (campaigns live in `meta`).
pub(crate) fn store_of(entity: Entity) -> Option<&'static str> {
    match entity {
        Entity::Inspection => Some(INSPECTIONS),
        Entity::Venue => Some(VENUES),
        Entity::Campaign => None,
    }
}

/// The states that wait for a person, as the `state` index holds them.
const AWAITING_STATES: [&str; 3] = ["conflict", "rejected", "quarantined"];
/// Every state a readable record holds (`LocalState::code`): a record with any other is damaged.
const STATES: [&str; 6] = [
    "synced",
    "queued",
    "in_flight",
    "conflict",
    "rejected",
    "quarantined",
];

/// How another user takes the phone over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TakeOver {
    /// Only when nothing of the previous user is left unsynced.
    OnlyIfSynced,
    /// The previous user's unsynced work was exported (this is the export's fingerprint) and the
    /// person chose to drop it: allowed only while the phone holds exactly what was exported.
    DiscardingExported { fingerprint: String },
}

impl Store {
    /// What the phone holds that the server does not, damaged records included.
    pub async fn unsynced(&self) -> Result<Unsynced, StoreError> {
        let tx = self.read(&[INSPECTIONS, VENUES, FORMS, OUTBOX, PHOTO_QUEUE])?;
        count_unsynced(&tx, Damaged::Counted).await
    }

    /// The counts the sync badge shows after every save and run: without the damaged records, whose
    /// count walks every record's key in both stores (it matters only when a phone changes hands).
    pub async fn badge_counts(&self) -> Result<Unsynced, StoreError> {
        let tx = self.read(&[INSPECTIONS, VENUES, FORMS, OUTBOX, PHOTO_QUEUE])?;
        count_unsynced(&tx, Damaged::NotCounted).await
    }

    /// The records that wait for a person, with the reason, oldest state first per store.
    pub async fn awaiting_person(&self) -> Result<Vec<Awaiting>, StoreError> {
        let tx = self.read(&[INSPECTIONS, VENUES])?;
        let venues = tx.object_store(VENUES).idb(VENUES, "open")?;
        let mut names = HashMap::new();
        let mut awaiting = Vec::new();
        for (entity, name) in [(Entity::Inspection, INSPECTIONS), (Entity::Venue, VENUES)] {
            let store = tx.object_store(name).idb(name, "open")?;
            let index = store.index(BY_STATE).idb(name, "open index state")?;
            for state in AWAITING_STATES {
                let only = KeyRange::Only(JsValue::from_str(state));
                for (key, value) in get_all_in_index(&index, name, Some(only)).await? {
                    let id = key_text(&key);
                    let stored = from_js::<StoredRecord>(&value, name, &key);
                    let shown = stored.as_ref().ok().map(|stored| &stored.record);
                    let text = |field: &str| {
                        shown
                            .and_then(|body| body.get(field))
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_owned()
                    };
                    // An inspection is known by its venue's name, a venue by its own.
                    let title = match entity {
                        Entity::Venue => text("name"),
                        _ => venue_name(&venues, &text("venue_id"), &mut names).await,
                    };
                    let started_at = chrono::DateTime::parse_from_rfc3339(&text("started_at")).ok();
                    let item = Awaiting {
                        entity,
                        id,
                        mark: SyncMark::Quarantined,
                        reason: String::new(),
                        code: String::new(),
                        server_copy: false,
                        mergeable: false,
                        sides: None,
                        title,
                        started_at,
                    };
                    awaiting.push(match stored {
                        Ok(stored) => awaiting_item(item, &stored.local),
                        Err(error) => Awaiting {
                            reason: error.to_string(),
                            ..item
                        },
                    });
                }
            }
        }
        Ok(awaiting)
    }

    /// Everything the server does not have yet — records with work, records waiting for a person (even
    /// unreadable ones, byte for byte) and unsaved forms — as one JSON document: the last resort when
    /// a phone cannot reach the server, or before another user takes it over.
    pub async fn export_unsynced(&self) -> Result<Export, StoreError> {
        let owner = self.owner().await?;
        let device_id = self.device_id().await?;
        let tx = self.read(&[INSPECTIONS, VENUES, FORMS, OUTBOX, PHOTO_QUEUE])?;
        let read = UnsyncedRaw::read(&tx).await?;
        let (unsynced, fingerprint) = (read.to_json(), read.fingerprint());
        let mut document = json!({
            "app": "fieldcheck",
            "kind": "unsynced-export",
            "exported_at": crate::i18n::now_china(),
            "device_id": device_id,
            "owner": owner,
        });
        if let (Some(document), Value::Object(parts)) = (document.as_object_mut(), unsynced) {
            document.extend(parts);
        }
        // The bytes of every photo and signature not on the server yet, and of every one an unsynced
        // record or form names (an uploaded photo whose record never got through is collected by the
        // server after its grace period): without them the records would name pictures that exist
        // nowhere once the phone is handed over.
        let queued: std::collections::BTreeSet<String> =
            self.queued_photo_names().await?.into_iter().collect();
        let mut names = queued.clone();
        names.extend(photos_named_in(&document));
        let mut photos = Vec::new();
        for name in names {
            // A photo only named (the server had it once) is added when readable; one still
            // waiting for upload must be in the file, or the export fails and says why.
            let photo = match self.photo(&name).await {
                Ok(photo) => photo,
                Err(error) if queued.contains(&name) => return Err(error),
                Err(_) => None,
            };
            if let Some(photo) = photo {
                let bytes = blob_bytes(&photo.blob).await?;
                photos.push(json!({
                    "sha256": name,
                    "content_type": photo.meta.content_type,
                    "taken_at": photo.meta.taken_at,
                    "base64": base64(&bytes),
                }));
            }
        }
        if let Some(document) = document.as_object_mut() {
            document.insert("photos".to_owned(), Value::Array(photos));
        }
        let text = serde_json::to_string_pretty(&document).map_err(|error| StoreError::Encode {
            store: META,
            reason: error.to_string(),
        })?;
        Ok(Export { text, fingerprint })
    }

    /// Makes `user` the owner of the phone's data. The same user simply keeps everything. Another user
    /// starts from an empty phone (records, forms, campaigns and the cursor of the previous user are
    /// cleared, in one transaction), and only when nothing of the previous user is left unsynced —
    /// unless the person exported it and chose to drop it.
    pub async fn take_over(&self, user: &User, how: TakeOver) -> Result<(), StoreError> {
        let tx = self.write_strict(&[
            INSPECTIONS,
            VENUES,
            FORMS,
            OUTBOX,
            PHOTOS,
            PHOTO_QUEUE,
            META,
        ])?;
        {
            let meta = tx.object_store(META).idb(META, "open")?;
            // An unknown or unreadable owner counts as another user: data is not handed over on a guess.
            let owner: Result<Option<User>, StoreError> =
                get_in(&meta, META, meta_keys::OWNER).await;
            let someone_else = !matches!(&owner, Ok(Some(owner)) if owner.id == user.id);
            if someone_else {
                match &how {
                    TakeOver::OnlyIfSynced => {
                        let n_unsynced = count_unsynced(&tx, Damaged::Counted).await?.total();
                        if n_unsynced > 0 {
                            return Err(StoreError::UnsyncedWork(n_unsynced));
                        }
                    }
                    TakeOver::DiscardingExported { fingerprint } => {
                        let now = UnsyncedRaw::read(&tx).await?.fingerprint();
                        if now != *fingerprint {
                            return Err(StoreError::ExportOutdated);
                        }
                    }
                }
                for name in [INSPECTIONS, VENUES, FORMS, OUTBOX, PHOTOS, PHOTO_QUEUE] {
                    let store = tx.object_store(name).idb(name, "open")?;
                    mark_register_changed(&store, name)?;
                    store.clear().idb(name, "clear")?.await.idb(name, "clear")?;
                }
                meta.delete::<JsValue, _>(campaign_range())
                    .primitive()
                    .idb(META, "delete")?
                    .await
                    .idb(META, "delete")?;
                delete_meta(&meta, meta_keys::PULL_CURSOR).await?;
                // The previous officer's register goes with it, digest and all.
                delete_meta(&meta, meta_keys::REGISTER_DIGEST).await?;
                // The pull from the start brings old copies back: sweep after it, not tomorrow.
                delete_meta(&meta, meta_keys::SWEPT).await?;
                delete_meta(&meta, meta_keys::LAST_SYNCED_AT).await?;
                delete_meta(&meta, meta_keys::OFFICERS).await?;
                // What the previous officer's pulls could not read is theirs too.
                delete_meta(&meta, meta_keys::UNREAD_CHANGES).await?;
            }
            put_meta(&meta, meta_keys::OWNER, user).await?;
        }
        tx.commit().await.idb(META, "commit")
    }
}

impl LocalStore for Store {
    type Error = StoreError;

    async fn take_batch(&self, limit: usize) -> Result<Vec<Mutation>, StoreError> {
        let _span = Span::start("fieldcheck:take");
        // Strict: a mark "in flight" lost to a crash after the push would resend the edit under a
        // new op id, and the server would answer it with a conflict against itself.
        let tx = self.write_strict(&[INSPECTIONS, VENUES, META, PHOTO_QUEUE])?;
        let mut batch = Vec::new();
        {
            self.check_owner(&tx).await?;
            let photo_queue = tx.object_store(PHOTO_QUEUE).idb(PHOTO_QUEUE, "open")?;
            let queued_photos: HashSet<String> = get_all_in_store(&photo_queue, PHOTO_QUEUE, None)
                .await?
                .into_iter()
                .map(|(key, _)| key_text(&key))
                .collect();
            let mut writes = Vec::new();
            for (_, entity, id, local) in ready_in_queue(&tx, limit, &queued_photos).await? {
                let Some(name) = store_of(entity) else {
                    continue;
                };
                let store = tx.object_store(name).idb(name, "open")?;
                let op_id = OpId(uuid::Uuid::now_v7().to_string());
                let (next, mutation) = local.take(entity, &id, op_id);
                writes.push(send_put_record(&store, name, &id, &next)?);
                batch.extend(mutation);
            }
            answered(writes).await?;
        }
        tx.commit().await.idb(INSPECTIONS, "commit")?;
        Ok(batch)
    }

    async fn settle(
        &self,
        sent: &[Mutation],
        results: &[MutationResult],
    ) -> Result<Vec<Settled>, StoreError> {
        let _span = Span::start("fieldcheck:settle");
        let tx = self.write(&[INSPECTIONS, VENUES, META])?;
        let mut settled = Vec::with_capacity(results.len());
        {
            self.check_owner(&tx).await?;
            let stores = RecordStores::open(&tx)?;
            // Every answered record is asked for before the first is awaited. A second answer to
            // one op settles nothing: the first already moved the record on.
            let mut answered_ops: Vec<&OpId> = Vec::with_capacity(results.len());
            let mut reads = Vec::with_capacity(results.len());
            for result in results {
                let target = sent
                    .iter()
                    .find(|mutation| mutation.op_id == result.op_id)
                    .filter(|_| {
                        let first = !answered_ops.contains(&&result.op_id);
                        answered_ops.push(&result.op_id);
                        first
                    })
                    .and_then(|mutation| Some((mutation, store_of(mutation.entity)?)));
                reads.push(match target {
                    Some((mutation, name)) => {
                        let read = send_get(stores.of(name), name, &mutation.id)?;
                        Some((mutation, name, result, read))
                    }
                    None => None,
                });
            }
            let mut writes = Vec::new();
            for read in reads {
                let Some((mutation, name, result, read)) = read else {
                    settled.push(Settled::Unsettled);
                    continue;
                };
                let key = JsValue::from_str(&mutation.id);
                let stored = read
                    .await?
                    .map(|value| state_of(&value, name, &key))
                    .transpose();
                match stored {
                    Ok(Some(local)) => {
                        let (next, outcome) = local.settle(&as_stored_answer(result));
                        writes.push(send_put_record(stores.of(name), name, &mutation.id, &next)?);
                        settled.push(outcome);
                    }
                    // Gone or unreadable since it was taken: the next batch sets an unreadable one aside.
                    Ok(None) | Err(StoreError::Corrupt { .. }) => settled.push(Settled::Unsettled),
                    Err(other) => return Err(other),
                }
            }
            answered(writes).await?;
        }
        tx.commit().await.idb(INSPECTIONS, "commit")?;
        Ok(settled)
    }

    async fn pull_cursor(&self) -> Result<Option<String>, StoreError> {
        match Store::pull_cursor(self).await {
            // A damaged cursor only costs a pull from the start; the records are unaffected.
            Err(StoreError::Corrupt { .. }) => Ok(None),
            other => other,
        }
    }

    async fn apply_page(&self, page: &PullResponse) -> Result<PageApplied, StoreError> {
        let _span = Span::start("fieldcheck:apply");
        let tx = self.write(&[INSPECTIONS, VENUES, META])?;
        let mut applied = PageApplied::default();
        {
            self.check_owner(&tx).await?;
            let meta = tx.object_store(META).idb(META, "open")?;
            let stores = RecordStores::open(&tx)?;
            // Changes earlier pages brought that the build then running could not read (a record of
            // a newer server: a venue kind or a status added since) are kept, and tried again
            // before every page: the cursor moved past them, and the build that reads them applies
            // them then. Those that still do not read stay kept.
            let mut unread = Unread::read(&meta).await?;
            let retried = unread.take_readable();
            let changes: Cow<'_, [Change]> = if retried.is_empty() {
                Cow::Borrowed(&page.changes)
            } else {
                Cow::Owned(
                    retried
                        .into_iter()
                        .chain(page.changes.iter().cloned())
                        .collect(),
                )
            };
            let changes = &*changes;
            // For each change, the first change of the page naming the same record (a page holds a
            // few hundred: comparing them costs nothing beside a round trip).
            let first: Vec<usize> = changes
                .iter()
                .enumerate()
                .map(|(idx, change)| {
                    changes[..idx]
                        .iter()
                        .position(|earlier| {
                            store_of(earlier.entity) == store_of(change.entity)
                                && earlier.id == change.id
                        })
                        .unwrap_or(idx)
                })
                .collect();
            // Every record the page names is asked for before the first answer is awaited.
            let mut reads = Vec::with_capacity(changes.len());
            for (idx, change) in changes.iter().enumerate() {
                reads.push(match store_of(change.entity) {
                    Some(name) if first[idx] == idx => {
                        Some(send_get(stores.of(name), name, &change.id)?)
                    }
                    _ => None,
                });
            }
            // What this page has already made of each record, at its first change's place; and the
            // stored value read for it, until a change needs it decoded.
            let mut made: Vec<Option<Option<LocalState>>> = changes.iter().map(|_| None).collect();
            let mut held: Vec<Option<Option<JsValue>>> = changes.iter().map(|_| None).collect();
            let mut writes = Vec::new();
            for (idx, change) in changes.iter().enumerate() {
                let slot = first[idx];
                if made[slot].is_none()
                    && held[slot].is_none()
                    && let Some(read) = reads[slot].take()
                {
                    held[slot] = Some(read.await?);
                }
                // Most of a page after a push is the phone's own records coming back: told from
                // the stored value without decoding it.
                if made[slot].is_none()
                    && let Some(Some(raw)) = &held[slot]
                    && holds_already(raw, change)
                {
                    unread.forget_up_to(change);
                    continue;
                }
                if !change.deleted && !change.entity.reads(&change.body) {
                    applied.malformed += 1;
                    unread.keep(change);
                    continue;
                }
                unread.forget_up_to(change);
                let Some(name) = store_of(change.entity) else {
                    if apply_campaign(&meta, change).await? {
                        applied.changed += 1;
                    }
                    continue;
                };
                let current = match made[slot].take() {
                    Some(local) => Current::Known(local),
                    None => Current::read(held[slot].take().flatten(), name, &change.id),
                };
                let (next, changed) = current.pulled(&as_stored_change(change));
                if changed {
                    applied.changed += 1;
                    match &next {
                        Some(local) => {
                            writes.push(send_put_record(stores.of(name), name, &change.id, local)?);
                        }
                        None => delete_record(stores.of(name), name, &change.id).await?,
                    }
                }
                made[slot] = Some(next);
            }
            answered(writes).await?;
            if unread.lost {
                delete_meta(&meta, meta_keys::PULL_CURSOR).await?;
                // The pull from the start brings old copies back: sweep after it.
                delete_meta(&meta, meta_keys::SWEPT).await?;
            } else {
                put_meta(&meta, meta_keys::PULL_CURSOR, &page.cursor).await?;
            }
            unread.write(&meta).await?;
        }
        tx.commit().await.idb(META, "commit")?;
        Ok(applied)
    }
}

/// Pulled changes this build could not read, kept in `meta` (see [`LocalStore::apply_page`]): the
/// newest of each record, until a build reads it or a later change of the record supersedes it.
struct Unread {
    changes: Vec<Change>,
    touched: bool,
    /// The kept list itself did not read: what it held is pulled again from the start.
    lost: bool,
}

impl Unread {
    async fn read(meta: &ObjectStore<'_>) -> Result<Unread, StoreError> {
        let changes = match get_in::<Vec<Change>>(meta, META, meta_keys::UNREAD_CHANGES).await {
            Ok(changes) => changes.unwrap_or_default(),
            // A damaged list costs only what it held: a pull from the start brings those back.
            // What it held comes back with a pull from the start, which this page's write asks for.
            Err(StoreError::Corrupt { .. }) => {
                leptos::logging::warn!("the kept unreadable changes do not read; pulling again");
                return Ok(Unread {
                    changes: Vec::new(),
                    touched: true,
                    lost: true,
                });
            }
            Err(error) => return Err(error),
        };
        Ok(Unread {
            changes,
            touched: false,
            lost: false,
        })
    }

    /// Takes out the kept changes this build reads, oldest first, to be applied before the page.
    fn take_readable(&mut self) -> Vec<Change> {
        let (readable, unreadable): (Vec<Change>, Vec<Change>) = std::mem::take(&mut self.changes)
            .into_iter()
            .partition(|change| change.entity.reads(&change.body));
        self.touched |= !readable.is_empty();
        self.changes = unreadable;
        readable
    }

    /// Keeps `change`, which does not read, in place of any older one of its record.
    fn keep(&mut self, change: &Change) {
        self.forget_up_to(change);
        self.changes.push(change.clone());
        self.touched = true;
    }

    /// Drops the kept changes of `change`'s record that it supersedes.
    fn forget_up_to(&mut self, change: &Change) {
        let before = self.changes.len();
        self.changes.retain(|kept| {
            !(kept.entity == change.entity && kept.id == change.id && kept.rev <= change.rev)
        });
        self.touched |= self.changes.len() != before;
    }

    async fn write(self, meta: &ObjectStore<'_>) -> Result<(), StoreError> {
        match (self.touched, self.changes.is_empty()) {
            (false, _) => Ok(()),
            (true, true) => delete_meta(meta, meta_keys::UNREAD_CHANGES).await,
            (true, false) => put_meta(meta, meta_keys::UNREAD_CHANGES, &self.changes).await,
        }
    }
}

/// The first `limit` records of the outbox that may go now, in queue order, read a window at a time
/// inside `take_batch`'s transaction: a week's backlog is not read and decoded again for every batch
/// of it. A record naming a photo still queued waits (it goes after the photo's upload), and the
/// window widens past it; an unreadable record is set aside with its reason, so the rest still goes.
async fn ready_in_queue(
    tx: &Transaction<'_>,
    limit: usize,
    queued_photos: &HashSet<String>,
) -> Result<Vec<(u64, Entity, String, LocalState)>, StoreError> {
    let mut window = u32::try_from(limit).unwrap_or(u32::MAX).max(1);
    loop {
        let mut queued: Vec<(u64, Entity, String, LocalState)> = Vec::new();
        // Every queued record up to this place has been read, from both stores.
        let mut read_to = u64::MAX;
        for (entity, name) in [(Entity::Venue, VENUES), (Entity::Inspection, INSPECTIONS)] {
            let store = tx.object_store(name).idb(name, "open")?;
            let index = store.index(BY_QUEUE).idb(name, "open index queue")?;
            let raw = first_in_index(&index, name, None, window).await?;
            let cut_short = raw.len() >= usize::try_from(window).unwrap_or(usize::MAX);
            let mut last = 0;
            for (key, value) in raw {
                let id = key_text(&key);
                match state_of(&value, name, &key) {
                    Ok(local) => {
                        let order = local.order().unwrap_or(u64::MAX);
                        last = last.max(order);
                        queued.push((order, entity, id, local));
                    }
                    Err(error) => {
                        let local = quarantine(&value, &error, None);
                        put_record(&store, name, &id, local).await?;
                    }
                }
            }
            if cut_short {
                read_to = read_to.min(last);
            }
        }
        queued.sort_by_key(|(order, ..)| *order);
        let ready: Vec<_> = queued
            .into_iter()
            .filter(|(order, entity, _, local)| {
                *order <= read_to
                    && (*entity != Entity::Inspection
                        || queued_photos.is_empty()
                        || !names_queued_photo(local, queued_photos))
            })
            .take(limit)
            .collect();
        if ready.len() >= limit || read_to == u64::MAX {
            return Ok(ready);
        }
        window = window.saturating_mul(4);
    }
}

/// The two stores that keep records, opened once for a batch.
struct RecordStores<'tx> {
    venues: ObjectStore<'tx>,
    inspections: ObjectStore<'tx>,
}

impl<'tx> RecordStores<'tx> {
    fn open(tx: &'tx Transaction<'_>) -> Result<RecordStores<'tx>, StoreError> {
        Ok(RecordStores {
            venues: tx.object_store(VENUES).idb(VENUES, "open")?,
            inspections: tx.object_store(INSPECTIONS).idb(INSPECTIONS, "open")?,
        })
    }

    /// The store named `name` ([`store_of`]).
    fn of(&self, name: &str) -> &ObjectStore<'tx> {
        if name == VENUES {
            &self.venues
        } else {
            &self.inspections
        }
    }
}

/// A record as a pulled change meets it on the phone.
enum Current {
    /// Its state (`None`: the phone has no such record).
    Known(Option<LocalState>),
    /// A stored value the phone cannot read, raw, with why.
    Unreadable(JsValue, StoreError),
}

impl Current {
    fn read(raw: Option<JsValue>, name: &'static str, id: &str) -> Current {
        match raw {
            None => Current::Known(None),
            Some(raw) => match state_of(&raw, name, &JsValue::from_str(id)) {
                Ok(local) => Current::Known(Some(local)),
                Err(error) => Current::Unreadable(raw, error),
            },
        }
    }

    /// Meets the change through the core's rules: the record's state after it (`None`: the phone
    /// keeps no such record) and whether that is a change.
    fn pulled(self, change: &Change) -> (Option<LocalState>, bool) {
        match self {
            Current::Known(None) => (LocalState::pulled_new(change), true),
            Current::Known(Some(before)) => match before.clone().pulled(change) {
                after if after.as_ref() == Some(&before) => (after, false),
                after => (after, true),
            },
            // The local value is unreadable: keep it byte for byte beside the server's copy.
            Current::Unreadable(raw, error) => {
                let server = (!change.deleted).then(|| ServerVersion {
                    rev: change.rev,
                    body: change.body.clone(),
                });
                (Some(quarantine(&raw, &error, server)), true)
            }
        }
    }
}

impl Store {
    /// For a store bound to a user ([`Store::bound_to`]): fails the transaction if the phone's data
    /// now belongs to someone else.
    pub(super) async fn check_owner(&self, tx: &Transaction<'_>) -> Result<(), StoreError> {
        let Some(expected) = &self.owner else {
            return Ok(());
        };
        let meta = tx.object_store(META).idb(META, "open")?;
        let owner: Option<User> = get_in(&meta, META, meta_keys::OWNER).await.unwrap_or(None);
        if owner.is_some_and(|owner| owner.id == *expected) {
            Ok(())
        } else {
            Err(StoreError::OwnerChanged)
        }
    }
}

/// Everything the server lacks, read raw inside an open transaction over the record stores, `forms`,
/// `outbox` and `photo_queue`: records with work or waiting for a person (unreadable ones too),
/// unsaved forms, layout-1 changes that could not be read, and the names of photos not uploaded.
struct UnsyncedRaw {
    records: Vec<(Entity, String, JsValue)>,
    forms: Vec<JsValue>,
    leftovers: Vec<JsValue>,
    photos_queued: Vec<JsValue>,
}

impl UnsyncedRaw {
    async fn read(tx: &Transaction<'_>) -> Result<UnsyncedRaw, StoreError> {
        let mut records = Vec::new();
        for (entity, name) in [(Entity::Inspection, INSPECTIONS), (Entity::Venue, VENUES)] {
            let store = tx.object_store(name).idb(name, "open")?;
            let mut seen = HashSet::new();
            let queue = store.index(BY_QUEUE).idb(name, "open index queue")?;
            let mut raw = get_all_in_index(&queue, name, None).await?;
            let states = store.index(BY_STATE).idb(name, "open index state")?;
            for state in AWAITING_STATES {
                let only = KeyRange::Only(JsValue::from_str(state));
                raw.extend(get_all_in_index(&states, name, Some(only)).await?);
            }
            // Records too damaged to hold a known state: found by going through the store, only
            // when the counts say some exist (a take-over is rare).
            if count_damaged(&store, name).await? > 0 {
                raw.extend(
                    get_all_in_store(&store, name, None)
                        .await?
                        .into_iter()
                        .filter(|(_, value)| !has_known_state(value)),
                );
            }
            for (key, value) in raw {
                let id = key_text(&key);
                if seen.insert(id.clone()) {
                    records.push((entity, id, value));
                }
            }
        }
        let values = |raw: Vec<(JsValue, JsValue)>| -> Vec<JsValue> {
            raw.into_iter().map(|(_, value)| value).collect()
        };
        let forms = tx.object_store(FORMS).idb(FORMS, "open")?;
        let forms = values(get_all_in_store(&forms, FORMS, None).await?);
        let outbox = tx.object_store(OUTBOX).idb(OUTBOX, "open")?;
        let leftovers = values(get_all_in_store(&outbox, OUTBOX, None).await?);
        // The names of photos not yet uploaded: the export does not carry their bytes yet, but a
        // photo taken after the export changes the fingerprint, so it is never discarded unseen.
        let photo_queue = tx.object_store(PHOTO_QUEUE).idb(PHOTO_QUEUE, "open")?;
        let photos_queued = values(get_all_in_store(&photo_queue, PHOTO_QUEUE, None).await?);
        Ok(UnsyncedRaw {
            records,
            forms,
            leftovers,
            photos_queued,
        })
    }

    /// What was read, as the browser's JSON text of each value in the order read: equal exactly when
    /// the phone holds the same unsynced work. Made without decoding a value, so that 登录's check
    /// before dropping exported work needs none of the export's code.
    fn fingerprint(&self) -> String {
        let mut text = String::new();
        let mut add = |value: &JsValue| {
            text.push_str(&raw_text(value));
            text.push('\u{1e}');
        };
        // Each part led by its length, so that no value can pass for the end of a part.
        add(&JsValue::from(self.records.len()));
        for (entity, id, value) in &self.records {
            add(&JsValue::from_str(entity.code()));
            add(&JsValue::from_str(id));
            add(value);
        }
        for part in [&self.forms, &self.leftovers, &self.photos_queued] {
            add(&JsValue::from(part.len()));
            part.iter().for_each(&mut add);
        }
        text
    }

    /// What was read as the export's JSON: each value byte for byte as the browser keeps it.
    fn to_json(&self) -> Value {
        let raw_values =
            |values: &[JsValue]| -> Vec<Value> { values.iter().map(raw_json).collect() };
        let records: Vec<Value> = self
            .records
            .iter()
            .map(|(entity, id, value)| {
                json!({"entity": entity.code(), "id": id, "stored": raw_json(value)})
            })
            .collect();
        json!({"records": records, "forms": raw_values(&self.forms),
              "unreadable_queue": raw_values(&self.leftovers),
              "photos_not_uploaded": raw_values(&self.photos_queued)})
    }
}

/// The photos the unsynced inspections and forms of an export name (what the phone shows of each).
fn photos_named_in(export: &Value) -> Vec<String> {
    let listed = |key: &str| {
        export
            .get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let names_of = |body: &Value| -> Vec<String> {
        serde_json::from_value::<Inspection>(body.clone())
            .map(|record| {
                record
                    .photo_names()
                    .into_iter()
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    // A record's photos less those its server copy names: the server keeps those.
    let records = listed("records").into_iter().flat_map(|record| {
        let Some(stored) = record
            .get("stored")
            .and_then(|stored| serde_json::from_value::<StoredRecord>(stored.clone()).ok())
        else {
            return Vec::new();
        };
        let on_server = stored
            .local
            .server()
            .map(|server| names_of(&server.body))
            .unwrap_or_default();
        let shown = stored.local.shown().map(names_of).unwrap_or_default();
        shown
            .into_iter()
            .filter(|name| !on_server.contains(name))
            .collect()
    });
    let forms = listed("forms")
        .into_iter()
        .flat_map(|form| form.get("record").map(names_of).unwrap_or_default());
    records.chain(forms).collect()
}

/// Whether [`count_unsynced`] counts the damaged records.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Damaged {
    Counted,
    NotCounted,
}

/// Counts, inside an open transaction over the record stores and `forms`, what the server lacks.
async fn count_unsynced(tx: &Transaction<'_>, damaged: Damaged) -> Result<Unsynced, StoreError> {
    let mut unsynced = Unsynced::default();
    for name in [INSPECTIONS, VENUES] {
        let store = tx.object_store(name).idb(name, "open")?;
        unsynced.queued += count_in_index(&store, name, BY_QUEUE, None).await?;
        for state in AWAITING_STATES {
            let only = KeyRange::Only(JsValue::from_str(state));
            unsynced.awaiting += count_in_index(&store, name, BY_STATE, Some(only)).await?;
        }
        if damaged == Damaged::Counted {
            unsynced.unreadable += count_damaged(&store, name).await?;
        }
    }
    let forms = tx.object_store(FORMS).idb(FORMS, "open")?;
    unsynced.forms = forms
        .count()
        .primitive()
        .idb(FORMS, "count")?
        .await
        .idb(FORMS, "count")?;
    let outbox = tx.object_store(OUTBOX).idb(OUTBOX, "open")?;
    unsynced.leftovers = outbox
        .count()
        .primitive()
        .idb(OUTBOX, "count")?
        .await
        .idb(OUTBOX, "count")?;
    let photo_queue = tx.object_store(PHOTO_QUEUE).idb(PHOTO_QUEUE, "open")?;
    unsynced.photos = photo_queue
        .count()
        .primitive()
        .idb(PHOTO_QUEUE, "count")?
        .await
        .idb(PHOTO_QUEUE, "count")?;
    Ok(unsynced)
}

/// Whether the edit a record would send names a photo that is not uploaded yet.
fn names_queued_photo(local: &LocalState, queued_photos: &HashSet<String>) -> bool {
    local
        .shown()
        .and_then(|body| serde_json::from_value::<fieldcheck_core::Inspection>(body.clone()).ok())
        .is_some_and(|record| {
            record
                .photo_names()
                .iter()
                .any(|name| queued_photos.contains(*name))
        })
}

/// Campaigns are only pulled: the newest rev is kept, a tombstone removes it.
async fn apply_campaign(meta: &ObjectStore<'_>, change: &Change) -> Result<bool, StoreError> {
    let key = format!("{}{}", meta_keys::CAMPAIGN_PREFIX, change.id);
    if change.deleted {
        delete_meta(meta, &key).await?;
        return Ok(true);
    }
    let known: Option<LocalCampaign> = get_in(meta, META, &key).await.unwrap_or(None);
    if known.is_some_and(|known| known.rev > change.rev) {
        return Ok(false);
    }
    let Ok(record) = serde_json::from_value(change.body.clone()) else {
        return Ok(false);
    };
    put_meta(
        meta,
        &key,
        &LocalCampaign {
            record,
            rev: change.rev,
        },
    )
    .await?;
    Ok(true)
}

/// A value the phone cannot read, set aside: its JSON text kept exactly, with why and the server copy.
fn quarantine(raw: &JsValue, error: &StoreError, server: Option<ServerVersion>) -> LocalState {
    LocalState::Quarantined {
        raw: js_sys::JSON::stringify(raw)
            .ok()
            .and_then(|text| text.as_string())
            .unwrap_or_else(|| format!("{raw:?}")),
        reason: error.to_string(),
        server,
    }
}

/// What 我的 shows of a record waiting for a person in `local`: its mark and reason and, for a
/// conflict, both copies and whether they merge.
fn awaiting_item(item: Awaiting, local: &LocalState) -> Awaiting {
    let (mergeable, sides) = match local {
        LocalState::Conflict { base, mine, server } => (
            merge::three_way(base.as_ref().map(|base| &base.body), mine, &server.body).is_some(),
            Some(Sides {
                base: base.as_ref().map(|base| base.body.clone()),
                mine: mine.clone(),
                theirs: server.body.clone(),
            }),
        ),
        _ => (false, None),
    };
    Awaiting {
        mark: SyncMark::of(local),
        reason: reason_of(local),
        code: match local {
            LocalState::Rejected { reason, .. } => reason.code.clone(),
            _ => String::new(),
        },
        server_copy: local.server().is_some_and(|server| !server.body.is_null()),
        mergeable,
        sides,
        ..item
    }
}

/// The reason a waiting record shows.
fn reason_of(local: &LocalState) -> String {
    match local {
        LocalState::Rejected { reason, .. } => format!("{} ({})", reason.message, reason.code),
        LocalState::Quarantined { reason, .. } => reason.clone(),
        _ => String::new(),
    }
}

/// The bytes of a stored Blob.
async fn blob_bytes(blob: &web_sys::Blob) -> Result<Vec<u8>, StoreError> {
    let buffer = wasm_bindgen_futures::JsFuture::from(blob.array_buffer())
        .await
        .map_err(|error| StoreError::Corrupt {
            store: PHOTOS,
            key: String::new(),
            reason: js_text(&error),
        })?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// A stored JS value as JSON, as it is (for export); text if it is not JSON.
fn raw_json(value: &JsValue) -> Value {
    let text = raw_text(value);
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

/// How many records of a record store hold no known state: every record less those the `state`
/// index holds under each known state's name (a state the index keys but no build wrote, a number
/// say, is damaged too).
async fn count_damaged(store: &ObjectStore<'_>, name: &'static str) -> Result<u32, StoreError> {
    let all = store
        .count()
        .primitive()
        .idb(name, "count")?
        .await
        .idb(name, "count")?;
    let mut known = 0;
    for state in STATES {
        let only = KeyRange::Only(JsValue::from_str(state));
        known += count_in_index(store, name, BY_STATE, Some(only)).await?;
    }
    Ok(all.saturating_sub(known))
}

/// Whether a stored record holds one of the known states (`local.state`), as [`count_damaged`]
/// counts them.
fn has_known_state(value: &JsValue) -> bool {
    js_sys::Reflect::get(value, &JsValue::from_str("local"))
        .and_then(|local| js_sys::Reflect::get(&local, &JsValue::from_str("state")))
        .ok()
        .and_then(|state| state.as_string())
        .is_some_and(|state| STATES.contains(&state.as_str()))
}

/// A stored value as the browser's JSON text (its description where it has none).
fn raw_text(value: &JsValue) -> String {
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|text| text.as_string())
        .unwrap_or_else(|| js_text(value))
}

/// The server's answer with its fields as the phone will hold them ([`as_stored`]).
fn as_stored_answer(result: &MutationResult) -> MutationResult {
    let mut result = result.clone();
    if let Some(fields) = &mut result.fields {
        fields.values_mut().for_each(as_stored);
    }
    result
}

/// Whether the phone already holds exactly the copy a pulled change brings, told from the stored value
/// without decoding it: a synced record at the change's rev whose body is the same JSON text. That is
/// the case where the core's `LocalState::pulled` leaves the state as it is. Equal text means equal
/// values; a copy that differs only in form (keys in another order, a number written otherwise) goes
/// the full way and at worst is written again.
fn holds_already(raw: &JsValue, change: &Change) -> bool {
    if change.deleted {
        return false;
    }
    let Some(local) = field(raw, "local") else {
        return false;
    };
    let Some(server) = field(&local, "server") else {
        return false;
    };
    #[expect(
        clippy::cast_precision_loss,
        reason = "revs stay far below 2^53, where a JS number is exact"
    )]
    let rev = change.rev as f64;
    let synced = field(&local, "state")
        .and_then(|state| state.as_string())
        .as_deref()
        == Some("synced");
    if !synced || field(&server, "rev").and_then(|held| held.as_f64()) != Some(rev) {
        return false;
    }
    let Some(held) = field(&server, "body")
        .and_then(|body| js_sys::JSON::stringify(&body).ok())
        .and_then(|text| text.as_string())
    else {
        return false;
    };
    let mut pulled = change.body.clone();
    as_stored(&mut pulled);
    serde_json::to_string(&pulled).is_ok_and(|pulled| pulled == held)
}

/// A pulled change with its body as the phone will hold it ([`as_stored`]).
fn as_stored_change(change: &Change) -> Change {
    let mut change = change.clone();
    as_stored(&mut change.body);
    change
}

/// Decodes only a stored record's state (`local`, the truth). The sync's paths need nothing else, and
/// the shown copy beside it (for the indexes) is half the value: it is not turned into text and
/// parsed again for every record a batch reads.
pub(crate) fn state_of(
    value: &JsValue,
    name: &'static str,
    key: &JsValue,
) -> Result<LocalState, StoreError> {
    let local = field(value, "local")
        .filter(|local| !local.is_undefined())
        .ok_or_else(|| StoreError::Corrupt {
            store: name,
            key: key_text(key),
            reason: "the stored value has no sync state (`local`)".to_owned(),
        })?;
    from_js(&local, name, key)
}

/// Reads one stored record inside an open transaction.
pub(crate) async fn read_record(
    store: &ObjectStore<'_>,
    name: &'static str,
    id: &str,
) -> Result<Option<StoredRecord>, StoreError> {
    get_in(store, name, id).await
}

/// Writes a record's state (with its shown body and queue place) inside an open transaction.
pub(crate) async fn put_record(
    store: &ObjectStore<'_>,
    name: &'static str,
    id: &str,
    local: LocalState,
) -> Result<(), StoreError> {
    mark_register_changed(store, name)?;
    put_value(store, name, &StoredRecordRef::new(id, &local)).await
}

/// Deletes a record inside an open transaction.
pub(crate) async fn delete_record(
    store: &ObjectStore<'_>,
    name: &'static str,
    id: &str,
) -> Result<(), StoreError> {
    mark_register_changed(store, name)?;
    send_delete(store, name, id)?.await
}

/// Deletes a value by string key and returns its answer to await later (see [`send_get`]).
pub(crate) fn send_delete(
    store: &ObjectStore<'_>,
    store_name: &'static str,
    key: &str,
) -> Result<impl Future<Output = Result<(), StoreError>> + use<>, StoreError> {
    let request = store
        .delete(JsValue::from_str(key))
        .primitive()
        .idb(store_name, "delete")?;
    Ok(async move { request.await.idb(store_name, "delete") })
}

/// Reads and decodes one value by string key inside an open transaction.
/// A venue's name by its id, each read once per list (`names`); empty when the phone does not hold
/// the venue or cannot read it: a title is a help, never a reason to fail the list.
async fn venue_name(
    venues: &ObjectStore<'_>,
    id: &str,
    names: &mut HashMap<String, String>,
) -> String {
    if id.is_empty() {
        return String::new();
    }
    if let Some(name) = names.get(id) {
        return name.clone();
    }
    let name = get_in::<StoredRecord>(venues, VENUES, id)
        .await
        .ok()
        .flatten()
        .and_then(|venue| Some(venue.record.get("name")?.as_str()?.to_owned()))
        .unwrap_or_default();
    names.insert(id.to_owned(), name.clone());
    name
}

pub(crate) async fn get_in<T: DeserializeOwned>(
    store: &ObjectStore<'_>,
    store_name: &'static str,
    key: &str,
) -> Result<Option<T>, StoreError> {
    send_get(store, store_name, key)?
        .await?
        .map(|value| from_js(&value, store_name, &JsValue::from_str(key)))
        .transpose()
}

/// Asks for one raw value by string key and returns its answer to await later. A batch asks for
/// every record before awaiting the first answer, so it waits for the browser's database once, not
/// once per record (each request is a round trip to another process).
pub(crate) fn send_get(
    store: &ObjectStore<'_>,
    store_name: &'static str,
    key: &str,
) -> Result<impl Future<Output = Result<Option<JsValue>, StoreError>> + use<>, StoreError> {
    let request = store
        .get(JsValue::from_str(key))
        .primitive()
        .idb(store_name, "get")?;
    Ok(async move { request.await.idb(store_name, "get") })
}

/// Encodes and puts one value into a store with an in-line key.
pub(crate) async fn put_value<T: Serialize>(
    store: &ObjectStore<'_>,
    store_name: &'static str,
    value: &T,
) -> Result<(), StoreError> {
    put_js(store, store_name, to_js(value, store_name)?).await
}

/// Puts a JS value as it is into a store with an in-line key (a value holding a Blob, say).
pub(crate) async fn put_js(
    store: &ObjectStore<'_>,
    store_name: &'static str,
    value: JsValue,
) -> Result<(), StoreError> {
    send_put(store, store_name, value)?.await
}

/// Puts a JS value and returns its answer to await later (see [`send_get`]): IndexedDB applies a
/// transaction's requests in the order they were made, so the writes land as if awaited one by one.
pub(crate) fn send_put(
    store: &ObjectStore<'_>,
    store_name: &'static str,
    value: JsValue,
) -> Result<impl Future<Output = Result<(), StoreError>> + use<>, StoreError> {
    let request = store.put(value).primitive().idb(store_name, "put")?;
    Ok(async move { request.await.idb(store_name, "put") })
}

/// Puts a record's state (see [`put_record`]) and returns its answer to await later.
pub(crate) fn send_put_record(
    store: &ObjectStore<'_>,
    name: &'static str,
    id: &str,
    local: &LocalState,
) -> Result<impl Future<Output = Result<(), StoreError>> + use<>, StoreError> {
    mark_register_changed(store, name)?;
    send_put(store, name, to_js(&StoredRecordRef::new(id, local), name)?)
}

/// Waits for the answers of requests sent in a batch, in order; the first failure is the answer.
async fn answered(
    requests: Vec<impl Future<Output = Result<(), StoreError>>>,
) -> Result<(), StoreError> {
    for request in requests {
        request.await?;
    }
    Ok(())
}

/// How many values an index holds, optionally within a range.
async fn count_in_index(
    store: &ObjectStore<'_>,
    store_name: &'static str,
    index_name: &'static str,
    query: Option<KeyRange<JsValue>>,
) -> Result<u32, StoreError> {
    let index = store.index(index_name).idb(store_name, "open index")?;
    match query {
        None => index
            .count()
            .primitive()
            .idb(store_name, "count")?
            .await
            .idb(store_name, "count"),
        Some(query) => index
            .count()
            .with_query::<JsValue, _>(query)
            .primitive()
            .idb(store_name, "count")?
            .await
            .idb(store_name, "count"),
    }
}

/// Decodes the (key, value) pairs read from `store`: each value that decodes goes through `keep`
/// (which may leave it out), and each that does not is reported as corrupt beside the others.
pub(crate) fn decode_listed<Raw: DeserializeOwned, T>(
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

/// Records decoded between two yields to the browser when a whole list is read.
pub(crate) const DECODE_CHUNK: usize = 500;

/// One stored record as lists show it: its `record` (the shown body the store keeps beside the state
/// for the indexes) and the mark of its state's tag. Only that body is decoded, never the copies the
/// state holds, which are most of a value's bytes. A record set aside, or a value with no state or
/// no body, is an error naming it.
pub(crate) fn listed_value<T: DeserializeOwned>(
    value: &JsValue,
    store: &'static str,
    key: &JsValue,
) -> Result<(T, SyncMark), StoreError> {
    let corrupt = |reason: &str| StoreError::Corrupt {
        store,
        key: key_text(key),
        reason: reason.to_owned(),
    };
    let state = field(value, "local")
        .and_then(|local| field(&local, "state"))
        .and_then(|state| state.as_string());
    let mark = match state.as_deref() {
        Some("synced") => SyncMark::Synced,
        Some("queued" | "in_flight") => SyncMark::Pending,
        Some("conflict") => SyncMark::Conflict,
        Some("rejected") => SyncMark::Rejected,
        Some("quarantined") => return Err(corrupt("set aside: the phone cannot read it")),
        _ => return Err(corrupt("no record state")),
    };
    let body = field(value, "record").ok_or_else(|| corrupt("no record"))?;
    Ok((from_js(&body, store, key)?, mark))
}

/// Defines two functions reading (primary key, raw value) pairs of a store or an index, in its order,
/// optionally within a key range: `$name` every one, `$first` at most the first `limit`. A macro
/// because the library's query traits are sealed: a generic function cannot name their bounds.
macro_rules! get_all_with_keys_fn {
    ($name:ident, $first:ident, $source:ty) => {
        pub(crate) fn $name<'a>(
            source: &'a $source,
            store_name: &'static str,
            query: Option<KeyRange<JsValue>>,
        ) -> impl Future<Output = Result<Vec<(JsValue, JsValue)>, StoreError>> + 'a {
            // The largest count IndexedDB takes, which is no limit at all.
            $first(source, store_name, query, u32::MAX)
        }

        pub(crate) async fn $first(
            source: &$source,
            store_name: &'static str,
            query: Option<KeyRange<JsValue>>,
            limit: u32,
        ) -> Result<Vec<(JsValue, JsValue)>, StoreError> {
            // Both requests go out before either is awaited, in the same transaction: one snapshot.
            let (values, keys) = match query {
                None => {
                    let values = source
                        .get_all::<JsValue>()
                        .with_limit(limit)
                        .primitive()
                        .idb(store_name, "get all")?;
                    let keys = source
                        .get_all_keys::<JsValue>()
                        .with_limit(limit)
                        .primitive()
                        .idb(store_name, "get all keys")?;
                    (values.await, keys.await)
                }
                Some(query) => {
                    let values = source
                        .get_all::<JsValue>()
                        .with_query::<JsValue, _>(query.clone())
                        .with_limit(limit)
                        .primitive()
                        .idb(store_name, "get all")?;
                    let keys = source
                        .get_all_keys::<JsValue>()
                        .with_query::<JsValue, _>(query)
                        .with_limit(limit)
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

get_all_with_keys_fn!(get_all_in_store, first_in_store, ObjectStore<'_>);
get_all_with_keys_fn!(get_all_in_index, first_in_index, Index<'_>);

/// A person's choice for a record that waits for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// Conflict: send my copy as an edit of the server's current one.
    KeepMine,
    /// Conflict: send the merge of both edits (offered when they touch different fields).
    KeepMerged,
    /// Conflict or refusal: take the server's copy; my edit is dropped.
    TakeTheirs,
    /// Refusal: send my copy again as it is.
    SendAgain,
    /// Refusal of a record the server never had, or an unreadable copy: remove it from the phone
    /// (after exporting it); where the server has a copy, that copy is taken instead.
    Discard,
}

impl Store {
    /// Applies a person's resolution to one record, in one strict transaction: the core transition and
    /// its write, or nothing.
    pub async fn resolve(
        &self,
        entity: Entity,
        id: &str,
        resolution: Resolution,
    ) -> Result<(), StoreError> {
        let Some(name) = store_of(entity) else {
            return Err(StoreError::Missing {
                entity: entity.code(),
                id: id.to_owned(),
            });
        };
        let tx = self.write_strict(&[name, META])?;
        {
            let store = tx.object_store(name).idb(name, "open")?;
            let meta = tx.object_store(META).idb(META, "open")?;
            let stored =
                read_record(&store, name, id)
                    .await?
                    .ok_or_else(|| StoreError::Missing {
                        entity: entity.code(),
                        id: id.to_owned(),
                    })?;
            let order = crate::store::meta::next_order(&meta).await?;
            let local = stored.local;
            // A record the server knows but whose copy the phone lacks (known only by its rev) comes
            // back with a pull from the start once it is discarded here.
            let server_known = local.server().is_some();
            let next = match resolution {
                Resolution::KeepMine => Some(local.keep_mine(order)?),
                Resolution::KeepMerged => Some(local.keep_merged(order)?),
                Resolution::TakeTheirs => Some(local.take_theirs()?),
                Resolution::SendAgain => Some(local.send_again(order)?),
                Resolution::Discard if local.awaits_person() => local.take_theirs().ok(),
                Resolution::Discard => {
                    return Err(fieldcheck_core::local::NotNow::NothingToResolve.into());
                }
            };
            match next {
                Some(next) => put_record(&store, name, id, next).await?,
                None => {
                    delete_record(&store, name, id).await?;
                    if server_known {
                        delete_meta(&meta, meta_keys::PULL_CURSOR).await?;
                        delete_meta(&meta, meta_keys::SWEPT).await?;
                    }
                }
            }
        }
        tx.commit().await.idb(name, "commit")
    }
}
