//! Venues on the phone: the register pulled from the server (and venues an inspector adds).

use fieldcheck_core::local::{LocalState, OpenedOn, ServerVersion};
use fieldcheck_core::{Venue, VenueId};
use indexed_db_futures::internals::SystemRepr;
use indexed_db_futures::object_store::ObjectStore;
use indexed_db_futures::prelude::*;
use wasm_bindgen::{JsCast, JsValue};

use crate::store::codec::{field, js_text};
use crate::store::error::IdbContext;
use crate::store::meta::{meta_keys, next_order, send_meta};
use crate::store::records::{
    DECODE_CHUNK, first_in_index, get_all_in_store, listed_value, put_record, read_record, send_get,
};
use crate::store::schema::{META, VENUES, VENUES_BY_PINYIN};
use crate::store::{Listed, Store, StoreError, StoredRecord, SyncMark};
use crate::timing::Span;

/// How long a check of the register's digest stands ([`Store::check_digest_now_and_then`]): a whole
/// read in the background at most this often, while an older build could be writing beside this one.
const DIGEST_CHECKED_FOR_MS: f64 = 10.0 * 60.0 * 1000.0;

/// The register's digest as it is read back (see [`mark_register_changed`]).
#[derive(serde::Deserialize)]
struct Digest {
    /// The register's stamp when the venues were read (`None`: none written yet).
    stamp: Option<String>,
    /// Every venue's shown body, in the store's order (as many as the store held).
    records: Vec<Venue>,
}

/// Marks, inside the transaction of a write to the venues store, that the register changed: a new
/// stamp in `meta`, so that no digest made before the write is taken for the register again.
///
/// Every write to the venues store calls it (`put_record`, the deletes and the clear): that is what
/// lets [`Store::list_venues`] answer from the digest, one value, instead of reading thousands. The
/// transaction must hold `meta`; one that does not fails here rather than write a venue unmarked.
/// A transaction writing many venues marks once.
pub(crate) fn mark_register_changed(
    store: &ObjectStore<'_>,
    name: &'static str,
) -> Result<(), StoreError> {
    thread_local! {
        /// The transaction marked last: its further writes need no new stamp.
        static MARKED: std::cell::RefCell<Option<web_sys::IdbTransaction>> = const { std::cell::RefCell::new(None) };
    }
    if name != VENUES {
        return Ok(());
    }
    let tx = store.as_sys().transaction();
    if MARKED.with_borrow(|marked| marked.as_ref() == Some(&tx)) {
        return Ok(());
    }
    let stamp = new_stamp();
    // The browser's own put, sent at once; its failure fails the transaction, whose commit says so.
    tx.object_store(META)
        .and_then(|meta| meta.put_with_key(&stamp, &JsValue::from_str(meta_keys::REGISTER_STAMP)))
        .map_err(|error| StoreError::Idb {
            store: META,
            op: "mark the register changed",
            message: js_text(&error),
        })?;
    MARKED.set(Some(tx));
    Ok(())
}

/// A value no other write will have made: the browser's random UUID (in a secure context, where the
/// app runs), else the time with a random fraction, as text. Made by the browser, so that the main module
/// carries no UUID or number formatting code for it.
fn new_stamp() -> JsValue {
    let global = js_sys::global();
    let random_uuid = js_sys::Reflect::get(&global, &JsValue::from_str("crypto"))
        .ok()
        .and_then(|crypto| {
            let make = js_sys::Reflect::get(&crypto, &JsValue::from_str("randomUUID")).ok()?;
            make.dyn_into::<js_sys::Function>()
                .ok()?
                .call0(&crypto)
                .ok()
        });
    random_uuid.filter(JsValue::is_string).unwrap_or_else(|| {
        let moment = js_sys::Number::from(js_sys::Date::now() + js_sys::Math::random());
        // As a number, should the text fail: a digest never reads a number as its stamp, so
        // the register is then read whole each time, never taken from an older digest.
        moment
            .to_string_with_radix(36)
            .map_or_else(|_| moment.into(), JsValue::from)
    })
}

/// A digest the browser could not make into JSON text.
fn encode_error(error: &JsValue) -> StoreError {
    StoreError::Encode {
        store: META,
        reason: js_text(error),
    }
}

impl Store {
    /// Stores venues as the server has them at the given revs (tests and tools; sync pulls them).
    pub async fn put_venues(&self, venues: &[(Venue, u64)]) -> Result<(), StoreError> {
        let tx = self.write(&[VENUES, META])?;
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
    pub async fn save_venue(&self, venue: &Venue) -> Result<SyncMark, StoreError> {
        self.save_venue_on(venue, None).await
    }

    /// Saves a correction made on the venue as `opened` showed it ([`Store::venue_to_edit`]). If a
    /// newer copy was pulled while the form was open (a colleague's correction, the register's
    /// import), the save waits as a conflict beside it instead of silently undoing it (core
    /// `save_from`); the mark says which.
    pub async fn save_venue_from(
        &self,
        venue: &Venue,
        opened: &OpenedOn,
    ) -> Result<SyncMark, StoreError> {
        self.save_venue_on(venue, Some(opened)).await
    }

    async fn save_venue_on(
        &self,
        venue: &Venue,
        opened: Option<&OpenedOn>,
    ) -> Result<SyncMark, StoreError> {
        let body = serde_json::to_value(venue).map_err(|error| StoreError::Encode {
            store: VENUES,
            reason: error.to_string(),
        })?;
        let id = venue.id.as_str();
        let tx = self.write_strict(&[VENUES, META])?;
        let mark = {
            let venues = tx.object_store(VENUES).idb(VENUES, "open")?;
            let meta = tx.object_store(META).idb(META, "open")?;
            let current = read_record(&venues, VENUES, id).await?;
            let order = next_order(&meta).await?;
            let local = match (current, opened) {
                (Some(current), Some(opened)) => current.local.save_from(body, order, opened)?,
                (Some(current), None) => current.local.save(body, order)?,
                (None, _) => LocalState::created(body, order),
            };
            let mark = SyncMark::of(&local);
            put_record(&venues, VENUES, id, local).await?;
            mark
        };
        tx.commit().await.idb(VENUES, "commit")?;
        Ok(mark)
    }

    /// A venue to correct, with the copy its form opens on.
    pub async fn venue_to_edit(
        &self,
        id: &VenueId,
    ) -> Result<Option<(Venue, OpenedOn)>, StoreError> {
        let stored: Option<StoredRecord> = self.get_one(VENUES, id.as_str()).await?;
        Ok(stored.and_then(|stored| {
            let venue = serde_json::from_value(stored.local.shown()?.clone()).ok()?;
            Some((venue, OpenedOn::now(Some(&stored.local))))
        }))
    }

    /// Venues of every kind that match `search` ([`Venue::matches`]: name, address, licence number,
    /// contact or pinyin initials), in pinyin order.
    ///
    /// Taken from the register's digest when it is of the register as it stands; otherwise read from
    /// the store itself (not the `pinyin` index, so that a damaged value without a name is reported),
    /// and the digest made again from what was read.
    pub async fn list_venues(&self, search: &str) -> Result<Listed<Venue>, StoreError> {
        // The benchmarks and tests count and time the register's reads by this span.
        let _span = Span::start("fieldcheck:venues-register");
        let mut listed = match self.register_digest().await {
            Some(items) => {
                self.check_digest_now_and_then();
                Listed {
                    items,
                    corrupt: Vec::new(),
                }
            }
            None => self.read_register().await?,
        };
        listed.items.retain(|venue| venue.matches(search));
        // In pinyin order (by the initials the server sets), as a Chinese list is read; then by name.
        listed
            .items
            .sort_by(|a, b| (&a.initials, &a.name, &a.id).cmp(&(&b.initials, &b.name, &b.id)));
        Ok(listed)
    }

    /// Every venue in the store, each decoded on its own (one that does not decode is named in
    /// `corrupt`); a register read whole with nothing unreadable is kept as its digest.
    async fn read_register(&self) -> Result<Listed<Venue>, StoreError> {
        let _span = Span::start("fieldcheck:venues-register-whole");
        // The stamp is read in the same transaction as the venues: the digest is of that register.
        let (stamp, raw) = {
            let tx = self.read(&[VENUES, META])?;
            let store = tx.object_store(VENUES).idb(VENUES, "open")?;
            let meta = tx.object_store(META).idb(META, "open")?;
            let stamp = send_get(&meta, META, meta_keys::REGISTER_STAMP)?;
            let raw = get_all_in_store(&store, VENUES, None).await?;
            (stamp.await?, raw)
        };
        let mut listed = Listed::default();
        for (idx, (key, value)) in raw.iter().enumerate() {
            // A district's register is thousands of venues: typing stays live between chunks.
            if idx > 0 && idx % DECODE_CHUNK == 0 {
                gloo_timers::future::TimeoutFuture::new(0).await;
            }
            match listed_value::<Venue>(value, VENUES, key) {
                Ok((venue, _)) => listed.items.push(venue),
                Err(error) => listed.corrupt.push(error),
            }
        }
        if listed.corrupt.is_empty() {
            // Only a help for the next read: the register stands without it.
            if let Err(error) = self.keep_digest(stamp, &raw).await {
                leptos::logging::warn!("the register's digest was not kept: {error}");
            }
        }
        Ok(listed)
    }

    /// Reads the register whole behind an answer from its digest, once per page and database and
    /// again when the last such read is [`DIGEST_CHECKED_FOR_MS`] old, and makes the digest again if
    /// it differs: an older build of the app (a tab left open, or one the phone fell back to
    /// offline) writes venues without a new stamp. What it changed is then shown from the next read
    /// of the list on.
    fn check_digest_now_and_then(&self) {
        thread_local! {
            /// When this page last checked each database's digest.
            static CHECKED: std::cell::RefCell<std::collections::HashMap<String, f64>> = std::cell::RefCell::default();
        }
        let now = js_sys::Date::now();
        let due = CHECKED.with_borrow_mut(|checked| {
            let last = checked.entry(self.name()).or_insert(f64::NEG_INFINITY);
            let due = now - *last >= DIGEST_CHECKED_FOR_MS;
            if due {
                *last = now;
            }
            due
        });
        if !due {
            return;
        }
        let store = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            if let Err(error) = store.read_register().await {
                leptos::logging::warn!("the register's digest was not checked: {error}");
            }
        });
    }

    /// The register from its digest, if the digest was made from the register as it stands: made
    /// under the stamp the store holds now (no venue written since) and of as many venues as the
    /// store holds. `None` sends the caller to the store itself (no digest, an older one, or one
    /// that does not read).
    async fn register_digest(&self) -> Option<Vec<Venue>> {
        let tx = self.read(&[VENUES, META]).ok()?;
        let store = tx.object_store(VENUES).ok()?;
        let meta = tx.object_store(META).ok()?;
        // All three go out before any is awaited: one snapshot, one wait.
        let stamp = send_get(&meta, META, meta_keys::REGISTER_STAMP).ok()?;
        let digest = send_get(&meta, META, meta_keys::REGISTER_DIGEST).ok()?;
        let count = store.count().primitive().ok()?;
        let (stamp, digest, count) = (stamp.await.ok()?, digest.await.ok()??, count.await.ok()?);
        let digest: Digest = serde_json::from_str(&digest.as_string()?).ok()?;
        let current = digest.stamp == stamp.and_then(|stamp| stamp.as_string())
            && digest.records.len() == usize::try_from(count).ok()?;
        current.then_some(digest.records)
    }

    /// Keeps the venues' shown bodies as one JSON text in `meta`, with the stamp they were read
    /// under: written only if no venue was written since (the stamp unchanged), in a transaction
    /// the register's writes wait for, since each of them holds `meta` too.
    async fn keep_digest(
        &self,
        read_under: Option<JsValue>,
        raw: &[(JsValue, JsValue)],
    ) -> Result<(), StoreError> {
        let records = raw
            .iter()
            .map(|(_, value)| field(value, "record").unwrap_or(JsValue::NULL))
            .collect::<js_sys::Array>();
        let digest = js_sys::Object::new();
        let stamp = read_under.clone().unwrap_or(JsValue::NULL);
        for (name, value) in [("stamp", stamp), ("records", records.into())] {
            js_sys::Reflect::set(&digest, &JsValue::from_str(name), &value)
                .map_err(|error| encode_error(&error))?;
        }
        let text = js_sys::JSON::stringify(&digest).map_err(|error| encode_error(&error))?;
        let tx = self.write(&[META])?;
        {
            let meta = tx.object_store(META).idb(META, "open")?;
            let now = send_get(&meta, META, meta_keys::REGISTER_STAMP)?;
            let kept = send_get(&meta, META, meta_keys::REGISTER_DIGEST)?;
            let (now, kept) = (now.await?, kept.await?);
            // A venue written since: this digest is already out of date. The same digest kept: the
            // check behind a digest's answer rewrites nothing.
            if now != read_under || kept.is_some_and(|kept| JsValue::from(&text) == kept) {
                return Ok(());
            }
            send_meta(&meta, meta_keys::REGISTER_DIGEST, JsValue::from(text))?.await?;
        }
        tx.commit().await.idb(META, "commit")
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
        Ok(self.venue_to_edit(id).await?.map(|(venue, _)| venue))
    }
}
