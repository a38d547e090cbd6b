//! Venues on the phone: the register pulled from the server (and venues an inspector adds).

use fieldcheck_core::local::{LocalState, ServerVersion};
use fieldcheck_core::{Venue, VenueId};
use indexed_db_futures::prelude::*;
use wasm_bindgen::JsValue;

use crate::store::error::IdbContext;
use crate::store::meta::next_order;
use crate::store::records::{
    DECODE_CHUNK, first_in_index, get_all_in_store, listed_value, put_record, read_record, send_get,
};
use crate::store::schema::{META, VENUES, VENUES_BY_PINYIN};
use crate::store::{Listed, Store, StoreError, StoredRecord};
use crate::timing::Span;

impl Store {
    /// Stores venues as the server has them at the given revs (tests and tools; sync pulls them).
    pub async fn put_venues(&self, venues: &[(Venue, u64)]) -> Result<(), StoreError> {
        let tx = self.write(&[VENUES])?;
        {
            let store = tx.object_store(VENUES).idb(VENUES, "open")?;
            for (venue, rev) in venues {
                let body = serde_json::to_value(venue).map_err(|error| StoreError::Encode {
                    store: VENUES,
                    reason: error.to_string(),
                })?;
                let local = LocalState::Synced {
                    server: ServerVersion { rev: *rev, body },
                };
                put_record(&store, VENUES, venue.id.as_str(), local).await?;
            }
        }
        tx.commit().await.idb(VENUES, "commit")
    }

    /// Saves a venue an inspector added or corrected in the field, queued for the server by the same
    /// strict write (it goes before any inspection saved after it).
    pub async fn save_venue(&self, venue: &Venue) -> Result<(), StoreError> {
        let body = serde_json::to_value(venue).map_err(|error| StoreError::Encode {
            store: VENUES,
            reason: error.to_string(),
        })?;
        let id = venue.id.as_str();
        let tx = self.write_strict(&[VENUES, META])?;
        {
            let venues = tx.object_store(VENUES).idb(VENUES, "open")?;
            let meta = tx.object_store(META).idb(META, "open")?;
            let current = read_record(&venues, VENUES, id).await?;
            let order = next_order(&meta).await?;
            let local = match current {
                Some(current) => current.local.save(body, order)?,
                None => LocalState::created(body, order),
            };
            put_record(&venues, VENUES, id, local).await?;
        }
        tx.commit().await.idb(VENUES, "commit")
    }

    /// Venues of every kind that match `search` ([`Venue::matches`]: name, address, licence number,
    /// contact or pinyin initials), in pinyin order.
    ///
    /// Reads the store, not the `pinyin` index, so that a damaged value without a name is reported.
    pub async fn list_venues(&self, search: &str) -> Result<Listed<Venue>, StoreError> {
        // The benchmarks and tests count and time the register's reads by this span.
        let _span = Span::start("fieldcheck:venues-register");
        let raw = {
            let tx = self.read(&[VENUES])?;
            let store = tx.object_store(VENUES).idb(VENUES, "open")?;
            get_all_in_store(&store, VENUES, None).await?
        };
        let mut listed = Listed::default();
        for (idx, (key, value)) in raw.into_iter().enumerate() {
            // A district's register is thousands of venues: typing stays live between chunks.
            if idx > 0 && idx % DECODE_CHUNK == 0 {
                gloo_timers::future::TimeoutFuture::new(0).await;
            }
            match listed_value::<Venue>(&value, VENUES, &key) {
                Ok((venue, _)) => listed.items.extend(venue.matches(search).then_some(venue)),
                Err(error) => listed.corrupt.push(error),
            }
        }
        // In pinyin order (by the initials the server sets), as a Chinese list is read; then by name.
        listed
            .items
            .sort_by(|a, b| (&a.initials, &a.name, &a.id).cmp(&(&b.initials, &b.name, &b.id)));
        Ok(listed)
    }

    /// The first `limit` venues of [`Store::list_venues`]'s order, read by the `pinyin` index: the
    /// venue list's first rows, drawn before the whole register is read. A value that is not a
    /// readable venue is left out here; the whole list names it.
    ///
    /// Empty when the index does not hold every value of the store: a venue pulled by an older app,
    /// before the server set initials, has no `initials` and is not in the index, yet the list sorts
    /// it first. Its first page would then not be the list's.
    pub async fn first_venues(&self, limit: usize) -> Result<Vec<Venue>, StoreError> {
        let tx = self.read(&[VENUES])?;
        let store = tx.object_store(VENUES).idb(VENUES, "open")?;
        let index = store.index(VENUES_BY_PINYIN).idb(VENUES, "open index")?;
        let in_store = store.count().primitive().idb(VENUES, "count")?;
        let in_index = index.count().primitive().idb(VENUES, "count the index")?;
        let limit = u32::try_from(limit).unwrap_or(u32::MAX);
        let raw = first_in_index(&index, VENUES, None, limit).await?;
        if in_store.await.idb(VENUES, "count")? != in_index.await.idb(VENUES, "count the index")? {
            return Ok(Vec::new());
        }
        Ok(raw
            .iter()
            .filter_map(|(key, value)| listed_value::<Venue>(value, VENUES, key).ok())
            .map(|(venue, _)| venue)
            .collect())
    }

    /// The venues of `ids` as shown, in one transaction with every read out at once: what a screenful
    /// of records names, without decoding a district's whole register. An id not on the phone, or
    /// whose venue is unreadable, is left out (the row then shows no venue name).
    pub async fn venues_named(&self, ids: &[VenueId]) -> Result<Vec<Venue>, StoreError> {
        let tx = self.read(&[VENUES])?;
        let store = tx.object_store(VENUES).idb(VENUES, "open")?;
        let mut unique: Vec<&VenueId> = ids.iter().collect();
        unique.sort();
        unique.dedup();
        let reads = unique
            .iter()
            .map(|id| send_get(&store, VENUES, id.as_str()))
            .collect::<Result<Vec<_>, _>>()?;
        let mut venues = Vec::with_capacity(reads.len());
        for (id, read) in unique.into_iter().zip(reads) {
            let Some(value) = read.await? else {
                continue;
            };
            let key = JsValue::from_str(id.as_str());
            let venue = listed_value::<Venue>(&value, VENUES, &key).ok();
            venues.extend(venue.map(|(venue, _)| venue));
        }
        Ok(venues)
    }

    /// One venue, as shown.
    pub async fn venue(&self, id: &VenueId) -> Result<Option<Venue>, StoreError> {
        let stored: Option<StoredRecord> = self.get_one(VENUES, id.as_str()).await?;
        Ok(stored
            .and_then(|stored| stored.local.shown().cloned())
            .and_then(|body| serde_json::from_value(body).ok()))
    }
}
