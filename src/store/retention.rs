//! Keeping a phone light: dropping old copies of colleagues' inspections that the server holds (the
//! rule is the core's [`fieldcheck_core::retention::to_drop`]), and the officer's choice of how many
//! months to keep.

use chrono::{DateTime, FixedOffset};
use fieldcheck_core::Inspection;
use fieldcheck_core::retention::{Copy, DEFAULT_KEEP_MONTHS, cutoff, to_drop};
use indexed_db_futures::prelude::*;
use std::collections::HashSet;
use wasm_bindgen::JsValue;

use crate::store::codec::{from_js, key_text};
use crate::store::error::IdbContext;
use crate::store::meta::meta_keys;
use crate::store::records::get_all_in_store;
use crate::store::schema::{FORMS, INSPECTIONS, META};
use crate::store::{Store, StoreError, StoredRecord};

impl Store {
    /// Months of others' inspections this phone keeps (0: all).
    pub async fn keep_months(&self) -> Result<u32, StoreError> {
        Ok(self
            .meta_get(meta_keys::KEEP_MONTHS)
            .await?
            .unwrap_or(DEFAULT_KEEP_MONTHS))
    }

    pub async fn set_keep_months(&self, months: u32) -> Result<(), StoreError> {
        self.meta_set(meta_keys::KEEP_MONTHS, &months).await
    }

    /// [`Store::drop_old_copies`] at most once a day and again after the setting changes: a copy
    /// turns old by days, and a sweep reads every inspection on the phone, which after each sync of
    /// a supervisor's thousands of records would cost more than the sync itself. Returns how many
    /// went (0 when the sweep was not due).
    pub async fn sweep_old_copies(&self, now: DateTime<FixedOffset>) -> Result<usize, StoreError> {
        let sweep = format!("{}/{}", now.date_naive(), self.keep_months().await?);
        // A damaged mark costs only a sweep.
        let last: Option<String> = self.meta_get(meta_keys::SWEPT).await.unwrap_or(None);
        if last.as_deref() == Some(sweep.as_str()) {
            return Ok(0);
        }
        let dropped = self.drop_old_copies(now).await?;
        self.meta_set(meta_keys::SWEPT, &sweep).await?;
        Ok(dropped)
    }

    /// Drops the copies the core's [`to_drop`] picks for the user this store is bound to
    /// ([`Store::bound_to`]; an unbound store drops nothing), in one transaction that also checks
    /// the phone is still theirs and reads each record's state as it deletes: a save racing it waits
    /// for it, and another user who took the phone over in between fails it. A value that cannot be
    /// read is kept: it is evidence of a fault, shown elsewhere. Returns how many went.
    pub async fn drop_old_copies(&self, now: DateTime<FixedOffset>) -> Result<usize, StoreError> {
        let Some(me) = self.owner.clone() else {
            return Ok(0);
        };
        let Some(cutoff) = cutoff(now, self.keep_months().await?) else {
            return Ok(0);
        };
        let tx = self.write(&[INSPECTIONS, FORMS, META])?;
        self.check_owner(&tx).await?;
        let dropped = {
            let forms = tx.object_store(FORMS).idb(FORMS, "open")?;
            let with_form: HashSet<String> = get_all_in_store(&forms, FORMS, None)
                .await?
                .iter()
                .map(|(key, _)| key_text(key))
                .collect();
            let store = tx.object_store(INSPECTIONS).idb(INSPECTIONS, "open")?;
            let mut readable = Vec::new();
            for (key, value) in get_all_in_store(&store, INSPECTIONS, None).await? {
                let Ok(stored) = from_js::<StoredRecord>(&value, INSPECTIONS, &key) else {
                    continue;
                };
                let Some(Ok(record)) = stored
                    .local
                    .shown()
                    .map(|body| serde_json::from_value::<Inspection>(body.clone()))
                else {
                    continue;
                };
                let has_form = with_form.contains(&key_text(&key));
                readable.push((stored.local, record, has_form));
            }
            let copies: Vec<Copy<'_>> = readable
                .iter()
                .map(|(state, record, has_form)| Copy {
                    state,
                    record,
                    has_form: *has_form,
                })
                .collect();
            let dropping = to_drop(&copies, &me, cutoff);
            for id in &dropping {
                store
                    .delete(JsValue::from_str(id))
                    .primitive()
                    .idb(INSPECTIONS, "delete")?
                    .await
                    .idb(INSPECTIONS, "delete")?;
            }
            dropping.len()
        };
        tx.commit().await.idb(INSPECTIONS, "commit")?;
        Ok(dropped)
    }
}
