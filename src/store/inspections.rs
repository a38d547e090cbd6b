//! Inspections on the phone: saving (queued for the server by the same write), reading and listing.

use std::collections::HashSet;
use std::convert::Infallible;

use fieldcheck_core::local::{LocalState, OpenedOn};
use fieldcheck_core::{Inspection, InspectionId, Status, VenueId};
use futures::future::join;
use indexed_db_futures::KeyRange;
use indexed_db_futures::cursor::CursorDirection;
use indexed_db_futures::prelude::*;
use wasm_bindgen::JsValue;

use crate::store::codec::{from_js, key_text};
use crate::store::error::IdbContext;
use crate::store::meta::{send_last_order, send_order};
use crate::store::records::{
    DECODE_CHUNK, get_all_in_index, get_all_in_store, listed_value, send_delete, send_get,
    send_put_record, state_of,
};
use crate::store::schema::{
    FORMS, INSPECTIONS, INSPECTIONS_BY_FOLLOWS, INSPECTIONS_BY_HAZARD_COUNT,
    INSPECTIONS_BY_STARTED, INSPECTIONS_BY_VENUE, META,
};
use crate::store::{InspectionRow, Listed, LocalInspection, Store, StoreError, StoredRecord};
use crate::timing::Span;

/// The performance mark a committed save leaves.
const SAVED_MARK: &str = "fieldcheck:inspection-saved";

impl Store {
    /// Saves a record as the inspector made it: its state moves by the core's `save` (a new record is
    /// queued; a queued one is rewritten in place; one in flight queues the edit behind it), and the
    /// autosaved form of the record goes, all in ONE strict transaction over `[inspections, forms,
    /// meta]`: when this returns, the record is on disk and queued for the server.
    pub async fn save_inspection(
        &self,
        record: &Inspection,
    ) -> Result<LocalInspection, StoreError> {
        self.save_inspection_from(record, None).await
    }

    /// Saves a record from a form opened on `opened` (see [`Store::save_inspection`]). If a newer
    /// copy, not the phone's own edit, was pulled while the form was open, the save waits as a
    /// conflict beside it instead of silently undoing it (core `save_from`).
    pub async fn save_inspection_from(
        &self,
        record: &Inspection,
        opened: Option<&OpenedOn>,
    ) -> Result<LocalInspection, StoreError> {
        let prepared = || Ok::<_, Infallible>(record.clone());
        match self.save_prepared(&record.id, opened, prepared).await? {
            Ok(saved) => Ok(saved),
            Err(never) => match never {},
        }
    }

    /// Saves the record `prepare` makes (see [`Store::save_inspection_from`]), called once the save's
    /// reads of record `id` are on their way: a form checks and builds its record while the browser's
    /// database answers, instead of before it asks. When `prepare` declines (the form found problems),
    /// nothing is written and its answer comes back as `Ok(Err(..))`.
    pub async fn save_prepared<Declined>(
        &self,
        id: &InspectionId,
        opened: Option<&OpenedOn>,
        prepare: impl FnOnce() -> Result<Inspection, Declined>,
    ) -> Result<Result<LocalInspection, Declined>, StoreError> {
        let asked = Span::start("fieldcheck:save-ask");
        let tx = self.write_strict(&[INSPECTIONS, FORMS, META]);
        // The two reads go out together, before the record is made; the three writes go out with the
        // commit once they are answered, so the save waits twice, as a bare put does (its put, then
        // its commit). Each request is a round trip to the browser's database process.
        let sent = tx.as_ref().map_err(Clone::clone).and_then(|tx| {
            let inspections = tx.object_store(INSPECTIONS).idb(INSPECTIONS, "open")?;
            let meta = tx.object_store(META).idb(META, "open")?;
            Ok((
                send_get(&inspections, INSPECTIONS, id.as_str())?,
                send_last_order(&meta)?,
            ))
        });
        drop(asked);
        // Declined: the transaction ends unused (aborted on drop), having only read.
        let record = match prepare() {
            Ok(record) => record,
            Err(declined) => return Ok(Err(declined)),
        };
        if record.id != *id {
            return Err(StoreError::Encode {
                store: INSPECTIONS,
                reason: format!("the record made is {}, not {id}, the one read", record.id),
            });
        }
        let encode = Span::start("fieldcheck:save-encode");
        let body = serde_json::to_value(&record).map_err(|error| StoreError::Encode {
            store: INSPECTIONS,
            reason: error.to_string(),
        })?;
        drop(encode);
        let (tx, (current, last_order)) = (tx?, sent?);
        let id = id.as_str();
        let (saved, record_put, order_put, form_deleted) = {
            let inspections = tx.object_store(INSPECTIONS).idb(INSPECTIONS, "open")?;
            let forms = tx.object_store(FORMS).idb(FORMS, "open")?;
            let meta = tx.object_store(META).idb(META, "open")?;
            let reads = Span::start("fieldcheck:save-reads");
            let (current, last_order) = join(current, last_order).await;
            let key = JsValue::from_str(id);
            // Only the state is decoded: the shown copy beside it is the same body again.
            let current = current?
                .map(|value| state_of(&value, INSPECTIONS, &key))
                .transpose()?;
            let order = last_order? + 1;
            drop(reads);
            let decide = Span::start("fieldcheck:save-decide");
            // The status rules hold on the phone too: nobody types over an approved record.
            if let Some(previous) = current
                .as_ref()
                .and_then(LocalState::shown)
                .and_then(|shown| shown.get("status"))
                .and_then(|status| serde_json::from_value::<Status>(status.clone()).ok())
            {
                Status::check_push(Some(previous), record.status)?;
            }
            let local = match (current, opened) {
                (Some(current), Some(opened)) => current.save_from(body, order, opened)?,
                (Some(current), None) => current.save(body, order)?,
                (None, _) => LocalState::created(body, order),
            };
            drop(decide);
            let _writes = Span::start("fieldcheck:save-writes");
            // Sent, not awaited: the browser applies them in order, and one it refuses aborts the
            // whole transaction, whose commit then fails.
            let record_put = send_put_record(&inspections, INSPECTIONS, id, &local)?;
            let order_put = send_order(&meta, order)?;
            let form_deleted = send_delete(&forms, FORMS, id)?;
            let saved = LocalInspection { record, local };
            (saved, record_put, order_put, form_deleted)
        };
        let commit = Span::start("fieldcheck:save-commit");
        let committed = tx.commit().await;
        // Every answer is in once the transaction has ended: a refused write names itself before the
        // commit's own failure (the disk, a connection closed by an upgrade) is reported.
        record_put.await?;
        order_put.await?;
        form_deleted.await?;
        committed.idb(INSPECTIONS, "commit")?;
        drop(commit);
        // The moment a save is on disk, for the benchmark that times it (`tests/e2e/save.bench.ts`).
        if let Some(performance) = web_sys::window().and_then(|window| window.performance()) {
            let _ = performance.mark(SAVED_MARK);
        }
        Ok(Ok(saved))
    }

    /// One inspection with its state. An unreadable one is an error that says so (it is kept, set
    /// aside, and listed in 我的 for export).
    pub async fn inspection(
        &self,
        id: &InspectionId,
    ) -> Result<Option<LocalInspection>, StoreError> {
        let stored: Option<StoredRecord> = self.get_one(INSPECTIONS, id.as_str()).await?;
        stored
            .map(|stored| readable(stored, &JsValue::from_str(id.as_str())))
            .transpose()
    }

    /// Every local inspection, newest first (by `started_at`).
    ///
    /// Reads the store itself, not the `started_at` index: a damaged value that lost its
    /// `record.started_at` is missing from that index, and must still be reported, not hidden.
    pub async fn list_inspections(&self) -> Result<Listed<LocalInspection>, StoreError> {
        let tx = self.read(&[INSPECTIONS])?;
        let store = tx.object_store(INSPECTIONS).idb(INSPECTIONS, "open")?;
        let raw = get_all_in_store(&store, INSPECTIONS, None).await?;
        Ok(newest_first(raw))
    }

    /// What lists of records show — each record as shown and its sync mark — newest first. Decoded
    /// straight from the stored shown body into the record type (one parse per record, not the whole
    /// state with its server copies), so that a supervisor's 10 000 records list quickly.
    pub async fn list_inspection_rows(&self) -> Result<Listed<InspectionRow>, StoreError> {
        let tx = self.read(&[INSPECTIONS])?;
        let store = tx.object_store(INSPECTIONS).idb(INSPECTIONS, "open")?;
        let raw = get_all_in_store(&store, INSPECTIONS, None).await?;
        drop(tx);
        Ok(rows_newest_first(raw).await)
    }

    /// The records the hazard board reads, as lists show them: those holding a hazard and those
    /// following another record (a re-inspection may close its hazards). Read through the two
    /// indexes that hold only those records, so the rest are never read at all.
    pub async fn hazard_inspection_rows(&self) -> Result<Listed<InspectionRow>, StoreError> {
        let tx = self.read(&[INSPECTIONS])?;
        let store = tx.object_store(INSPECTIONS).idb(INSPECTIONS, "open")?;
        let with_hazards = store
            .index(INSPECTIONS_BY_HAZARD_COUNT)
            .idb(INSPECTIONS, "open index hazard_count")?;
        let following = store
            .index(INSPECTIONS_BY_FOLLOWS)
            .idb(INSPECTIONS, "open index follows")?;
        // One hazard or more; any id after the empty text (an empty `follows` names no record).
        let at_least_one = KeyRange::LowerBound(JsValue::from_f64(1.0), false);
        let some_id = KeyRange::LowerBound(JsValue::from_str(""), true);
        let mut raw = get_all_in_index(&with_hazards, INSPECTIONS, Some(at_least_one)).await?;
        raw.extend(get_all_in_index(&following, INSPECTIONS, Some(some_id)).await?);
        drop(tx);
        // A re-inspection that finds hazards of its own is in both indexes: shown once.
        let mut seen = HashSet::new();
        raw.retain(|(key, _)| seen.insert(key_text(key)));
        Ok(rows_newest_first(raw).await)
    }

    /// The newest `limit` records as lists show them, through the `started_at` index: what a list
    /// draws at once, before the whole set is read for its filters and counts. A cursor from the
    /// index's end steps back to the `limit`-th newest start, and one read takes every record from
    /// there on: four round trips to the database instead of one per row.
    pub async fn recent_inspection_rows(
        &self,
        limit: usize,
    ) -> Result<Listed<InspectionRow>, StoreError> {
        let tx = self.read(&[INSPECTIONS])?;
        let store = tx.object_store(INSPECTIONS).idb(INSPECTIONS, "open")?;
        let index = store
            .index(INSPECTIONS_BY_STARTED)
            .idb(INSPECTIONS, "open index started_at")?;
        let total = index
            .count()
            .primitive()
            .idb(INSPECTIONS, "count")?
            .await
            .idb(INSPECTIONS, "count")?;
        let query = if usize::try_from(total).unwrap_or(usize::MAX) <= limit {
            None
        } else {
            let cursor = index
                .open_cursor()
                .with_direction(CursorDirection::Prev)
                .await
                .idb(INSPECTIONS, "open cursor")?;
            let Some(mut cursor) = cursor else {
                return Ok(Listed::default());
            };
            let back = u32::try_from(limit.saturating_sub(1)).unwrap_or(u32::MAX);
            cursor
                .advance_by(back)
                .await
                .idb(INSPECTIONS, "advance cursor")?;
            let from: Option<JsValue> = cursor.key().idb(INSPECTIONS, "cursor key")?;
            from.map(|from| KeyRange::LowerBound(from, false))
        };
        let mut listed = Listed::default();
        for (key, value) in get_all_in_index(&index, INSPECTIONS, query).await? {
            push_row(&mut listed, &value, &key);
        }
        listed
            .items
            .sort_by_key(|row| std::cmp::Reverse(row.record.started_at));
        // Records that share the `limit`-th start come along; the list shows `limit`.
        listed.items.truncate(limit);
        Ok(listed)
    }

    /// The inspections of one venue (through the `venue_id` index), newest first.
    pub async fn inspections_for_venue(
        &self,
        venue_id: &VenueId,
    ) -> Result<Listed<LocalInspection>, StoreError> {
        let tx = self.read(&[INSPECTIONS])?;
        let store = tx.object_store(INSPECTIONS).idb(INSPECTIONS, "open")?;
        let index = store
            .index(INSPECTIONS_BY_VENUE)
            .idb(INSPECTIONS, "open index venue_id")?;
        let query = KeyRange::Only(JsValue::from_str(venue_id.as_str()));
        let raw = get_all_in_index(&index, INSPECTIONS, Some(query)).await?;
        Ok(newest_first(raw))
    }
}

/// The typed view of a stored record; an unreadable body, or a record set aside, is an error naming it.
fn readable(stored: StoredRecord, key: &JsValue) -> Result<LocalInspection, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt {
        store: INSPECTIONS,
        key: key_text(key),
        reason,
    };
    match &stored.local {
        LocalState::Quarantined { reason, .. } => Err(corrupt(format!("set aside: {reason}"))),
        local => {
            let shown = local
                .shown()
                .cloned()
                .ok_or_else(|| corrupt("no body".to_owned()))?;
            let record =
                serde_json::from_value(shown).map_err(|error| corrupt(error.to_string()))?;
            Ok(LocalInspection {
                record,
                local: stored.local,
            })
        }
    }
}

/// Decodes raw inspections and orders them newest first, on the real instants rather than the
/// RFC 3339 strings (a change of device offset would break string order).
fn newest_first(raw: Vec<(JsValue, JsValue)>) -> Listed<LocalInspection> {
    let mut listed = Listed::default();
    for (key, value) in raw {
        match from_js::<StoredRecord>(&value, INSPECTIONS, &key)
            .and_then(|stored| readable(stored, &key))
        {
            Ok(local) => listed.items.push(local),
            Err(error) => listed.corrupt.push(error),
        }
    }
    listed
        .items
        .sort_by_key(|local| std::cmp::Reverse(local.record.started_at));
    listed
}

/// Stored records as lists show them, newest first.
async fn rows_newest_first(raw: Vec<(JsValue, JsValue)>) -> Listed<InspectionRow> {
    let mut listed = Listed::default();
    for (idx, (key, value)) in raw.into_iter().enumerate() {
        // Decoding thousands of records takes a while: the screen stays responsive between chunks.
        if idx > 0 && idx % DECODE_CHUNK == 0 {
            gloo_timers::future::TimeoutFuture::new(0).await;
        }
        push_row(&mut listed, &value, &key);
    }
    listed
        .items
        .sort_by_key(|row| std::cmp::Reverse(row.record.started_at));
    listed
}

/// Adds one stored record to a list: its row, or the error naming it.
fn push_row(listed: &mut Listed<InspectionRow>, value: &JsValue, key: &JsValue) {
    match row(value, key) {
        Ok(row) => listed.items.push(row),
        Err(error) => listed.corrupt.push(error),
    }
}

/// One stored record as the 记录 list shows it.
fn row(value: &JsValue, key: &JsValue) -> Result<InspectionRow, StoreError> {
    let (record, mark) = listed_value(value, INSPECTIONS, key)?;
    Ok(InspectionRow { record, mark })
}
