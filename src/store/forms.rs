//! The inspection form as typed (autosave): kept as the inspector goes, resumed when they come back.

use fieldcheck_core::local::OpenedOn;
use fieldcheck_core::{Inspection, InspectionId, VenueId};
use indexed_db_futures::KeyRange;
use indexed_db_futures::prelude::*;
use wasm_bindgen::JsValue;

use crate::store::error::IdbContext;
use crate::store::records::{decode_listed, get_all_in_index, get_all_in_store, put_value};
use crate::store::schema::{FORMS, FORMS_BY_VENUE};
use crate::store::{Form, Listed, Store, StoreError};

impl Store {
    /// Keeps the form as it stands, opened on `opened`. Written often while typing, so with the
    /// browser's default durability; the saved record itself is written strictly.
    pub async fn save_form(
        &self,
        record: &Inspection,
        opened: &OpenedOn,
    ) -> Result<(), StoreError> {
        let form = Form {
            record: record.clone(),
            saved_at: crate::i18n::now_china(),
            edited_rev: opened.rev(),
            edited: opened.base.as_ref().map(|base| base.body.clone()),
            opened: opened.shown.clone(),
        };
        let tx = self.write(&[FORMS])?;
        {
            let forms = tx.object_store(FORMS).idb(FORMS, "open")?;
            put_value(&forms, FORMS, &form).await?;
        }
        tx.commit().await.idb(FORMS, "commit")
    }

    /// The form kept for a record, if the inspector left it unsaved.
    pub async fn form(&self, id: &InspectionId) -> Result<Option<Form>, StoreError> {
        self.get_one(FORMS, id.as_str()).await
    }

    /// The newest unsaved form for a venue that has no record yet (a new inspection begun there).
    pub async fn new_form_for_venue(&self, venue_id: &VenueId) -> Result<Option<Form>, StoreError> {
        let tx = self.read(&[FORMS])?;
        let forms = tx.object_store(FORMS).idb(FORMS, "open")?;
        let index = forms
            .index(FORMS_BY_VENUE)
            .idb(FORMS, "open index venue_id")?;
        let query = KeyRange::Only(JsValue::from_str(venue_id.as_str()));
        let raw = get_all_in_index(&index, FORMS, Some(query)).await?;
        let listed = decode_listed(raw, FORMS, Some::<Form>);
        let mut newest: Option<Form> = None;
        for form in listed.items {
            if self
                .get_one::<serde_json::Value>(crate::store::INSPECTIONS, form.record.id.as_str())
                .await?
                .is_some()
            {
                continue;
            }
            if newest
                .as_ref()
                .is_none_or(|newest| newest.saved_at < form.saved_at)
            {
                newest = Some(form);
            }
        }
        Ok(newest)
    }

    /// Every unsaved form, newest first.
    pub async fn forms(&self) -> Result<Listed<Form>, StoreError> {
        let tx = self.read(&[FORMS])?;
        let forms = tx.object_store(FORMS).idb(FORMS, "open")?;
        let raw = get_all_in_store(&forms, FORMS, None).await?;
        let mut listed = decode_listed(raw, FORMS, Some::<Form>);
        listed
            .items
            .sort_by_key(|form| std::cmp::Reverse(form.saved_at));
        Ok(listed)
    }

    /// Drops an unsaved form (the inspector chose to discard it).
    pub async fn discard_form(&self, id: &InspectionId) -> Result<(), StoreError> {
        let tx = self.write_strict(&[FORMS])?;
        {
            let forms = tx.object_store(FORMS).idb(FORMS, "open")?;
            forms
                .delete(JsValue::from_str(id.as_str()))
                .primitive()
                .idb(FORMS, "delete")?
                .await
                .idb(FORMS, "delete")?;
        }
        tx.commit().await.idb(FORMS, "commit")
    }
}
