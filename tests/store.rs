//! The IndexedDB store on real IndexedDB in headless Chromium: atomic saves, the outbox rules, sync outcomes, corrupt data.
#![cfg(target_arch = "wasm32")]

use fieldcheck::store::{INSPECTIONS, OUTBOX, Session, Store, StoreError, SyncMark, VENUES};
use fieldcheck_core::sync::{Change, Entity, ErrorBody, PushOutcome, next_batch};
use fieldcheck_core::{
    Inspection, InspectionId, InspectionKind, ItemResult, Role, Status, UnitId, User, UserId,
    Venue, VenueId, VenueKind,
};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};

wasm_bindgen_test_configure!(run_in_browser);

/// A fresh database per test, so tests never see each other's data.
async fn fresh_store() -> (Store, String) {
    let name = format!("fieldcheck-test-{}", uuid::Uuid::now_v7());
    let store = Store::open(&name).await.expect("open a fresh database");
    (store, name)
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn inspection(notes: &str) -> Inspection {
    let mut record = Inspection {
        id: InspectionId(new_id()),
        venue_id: VenueId(new_id()),
        kind: InspectionKind::Routine,
        campaign_id: None,
        follows: None,
        template: "internet_cafe@1".to_owned(),
        started_at: chrono::DateTime::parse_from_rfc3339("2026-11-26T10:00:00+08:00")
            .expect("a valid time"),
        finished_at: None,
        inspectors: vec![UserId(new_id())],
        location: None,
        answers: Vec::new(),
        hazards: Vec::new(),
        warning_issued: false,
        party: None,
        notes: notes.to_owned(),
        status: Status::Draft,
        review_comment: None,
        unit_id: None,
        created_by: None,
        received_at: None,
        reviews: Vec::new(),
    };
    record.set_answer("internet_cafe.no_minors", ItemResult::Pass);
    record
}

fn raw(json: &str) -> JsValue {
    js_sys::JSON::parse(json).expect("test JSON parses")
}

#[wasm_bindgen_test]
async fn save_writes_the_record_and_its_outbox_entry_together() {
    let (store, _) = fresh_store().await;
    let record = inspection("first visit");

    store.save_inspection(&record).await.expect("save");

    let local = store
        .inspection(&record.id)
        .await
        .expect("read back")
        .expect("the record is there");
    assert_eq!(local.record, record);
    assert_eq!(local.sync, SyncMark::Pending);
    assert_eq!(local.rev, 0);
    let outbox = store.outbox().await.expect("outbox");
    assert_eq!(outbox.items.len(), 1);
    let entry = &outbox.items[0].entry;
    assert_eq!(entry.entity, Entity::Inspection);
    assert_eq!(entry.id, record.id.as_str());
    assert_eq!(entry.attempts, 0);
    assert_eq!(
        entry.body,
        serde_json::to_value(&record).expect("record as JSON")
    );
    assert_eq!(store.pending_count().await.expect("count"), 1);
}

#[wasm_bindgen_test]
async fn a_save_that_fails_inside_its_transaction_leaves_neither_record_nor_entry() {
    let (store, _) = fresh_store().await;
    let record = inspection("never stored");
    // A damaged queued entry for the same record: the save writes the record first, then fails on
    // reading this entry, inside the same transaction.
    let damaged = format!(
        r#"{{"op_id": 42, "entity": "inspection", "id": "{}", "body": null}}"#,
        record.id
    );
    store
        .put_raw(OUTBOX, None, raw(&damaged))
        .await
        .expect("plant the damaged entry");

    let error = store
        .save_inspection(&record)
        .await
        .expect_err("the save must fail on the damaged entry");

    assert!(
        matches!(
            &error,
            StoreError::Corrupt {
                store: "outbox",
                ..
            }
        ),
        "unexpected error: {error:?}"
    );
    assert_eq!(
        store.inspection(&record.id).await.expect("read"),
        None,
        "the record write was rolled back with the transaction"
    );
    assert_eq!(
        store.pending_count().await.expect("count"),
        1,
        "no entry was added beside the damaged one"
    );
}

#[wasm_bindgen_test]
async fn data_is_still_there_after_closing_and_reopening() {
    let (store, name) = fresh_store().await;
    let record = inspection("kept across restarts");
    store.save_inspection(&record).await.expect("save");
    let device_id = store.device_id().await.expect("device id");
    store.close();

    let reopened = Store::open(&name).await.expect("reopen");

    let local = reopened
        .inspection(&record.id)
        .await
        .expect("read")
        .expect("still there");
    assert_eq!(local.record, record);
    assert_eq!(reopened.pending_count().await.expect("count"), 1);
    assert_eq!(reopened.device_id().await.expect("device id"), device_id);
}

#[wasm_bindgen_test]
async fn a_second_edit_before_sending_rewrites_the_unsent_entry_in_place() {
    let (store, _) = fresh_store().await;
    let mut record = inspection("first");
    store.save_inspection(&record).await.expect("first save");
    let first = store.outbox().await.expect("outbox").items;

    record.notes = "second".to_owned();
    store.save_inspection(&record).await.expect("second save");

    let outbox = store.outbox().await.expect("outbox").items;
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].key, first[0].key);
    assert_eq!(outbox[0].entry.op_id, first[0].entry.op_id);
    assert_eq!(outbox[0].entry.body["notes"], "second");
}

#[wasm_bindgen_test]
async fn an_edit_after_a_push_attempt_appends_a_new_entry() {
    let (store, _) = fresh_store().await;
    let mut record = inspection("first");
    store.save_inspection(&record).await.expect("first save");
    let first = store.outbox().await.expect("outbox").items;
    store
        .mark_attempted(&[first[0].key])
        .await
        .expect("mark attempted");

    record.notes = "second".to_owned();
    store.save_inspection(&record).await.expect("second save");

    let outbox = store.outbox().await.expect("outbox").items;
    assert_eq!(outbox.len(), 2);
    assert_eq!(outbox[0].entry.attempts, 1);
    assert_eq!(outbox[0].entry.body["notes"], "first");
    assert_eq!(outbox[1].entry.attempts, 0);
    assert_eq!(outbox[1].entry.body["notes"], "second");
    assert_ne!(outbox[0].entry.op_id, outbox[1].entry.op_id);
    // The later edit waits for the rev the first one produces.
    let entries: Vec<_> = outbox.iter().map(|item| item.entry.clone()).collect();
    let batch = next_batch(&entries, |_, _| 0, 10);
    assert_eq!(batch.len(), 1);
    assert_eq!(batch[0].op_id, outbox[0].entry.op_id);
}

#[wasm_bindgen_test]
async fn a_synced_outcome_removes_the_entry_and_sets_the_rev() {
    let (store, _) = fresh_store().await;
    let record = inspection("to the server");
    store.save_inspection(&record).await.expect("save");
    let item = store.outbox().await.expect("outbox").items.remove(0);

    store
        .apply_push_outcome(&item, &PushOutcome::Synced { rev: 1 })
        .await
        .expect("apply");

    assert_eq!(store.pending_count().await.expect("count"), 0);
    let local = store
        .inspection(&record.id)
        .await
        .expect("read")
        .expect("there");
    assert_eq!(local.rev, 1);
    assert_eq!(local.sync, SyncMark::Synced);
    let revs = store
        .known_revs(&[(Entity::Inspection, record.id.to_string())])
        .await
        .expect("revs");
    assert_eq!(revs[&(Entity::Inspection, record.id.to_string())], 1);
}

#[wasm_bindgen_test]
async fn a_synced_outcome_keeps_the_record_pending_while_a_later_edit_waits() {
    let (store, _) = fresh_store().await;
    let mut record = inspection("first");
    store.save_inspection(&record).await.expect("first save");
    let first = store.outbox().await.expect("outbox").items.remove(0);
    store.mark_attempted(&[first.key]).await.expect("mark");
    record.notes = "second".to_owned();
    store.save_inspection(&record).await.expect("second save");

    store
        .apply_push_outcome(&first, &PushOutcome::Synced { rev: 1 })
        .await
        .expect("apply");

    let outbox = store.outbox().await.expect("outbox").items;
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].entry.body["notes"], "second");
    let local = store
        .inspection(&record.id)
        .await
        .expect("read")
        .expect("there");
    assert_eq!(local.rev, 1);
    assert_eq!(local.sync, SyncMark::Pending);
}

#[wasm_bindgen_test]
async fn conflict_and_rejection_settle_the_entry_and_keep_the_local_copy() {
    let (store, _) = fresh_store().await;
    let conflicting = inspection("mine");
    let refused = inspection("refused");
    store.save_inspection(&conflicting).await.expect("save");
    store.save_inspection(&refused).await.expect("save");
    let items = store.outbox().await.expect("outbox").items;
    let server_body = serde_json::json!({"notes": "theirs"});

    store
        .apply_push_outcome(
            &items[0],
            &PushOutcome::Conflict {
                server_rev: 4,
                server_body: server_body.clone(),
            },
        )
        .await
        .expect("apply conflict");
    store
        .apply_push_outcome(
            &items[1],
            &PushOutcome::Rejected {
                error: ErrorBody::new("invalid", "bad record"),
            },
        )
        .await
        .expect("apply rejection");

    assert_eq!(store.pending_count().await.expect("count"), 0);
    let local = store
        .inspection(&conflicting.id)
        .await
        .expect("read")
        .expect("there");
    assert_eq!(local.sync, SyncMark::Conflict);
    assert_eq!(local.record.notes, "mine");
    let server_copy = local.server_copy.expect("the server copy is kept");
    assert_eq!(server_copy.rev, 4);
    assert_eq!(server_copy.body, server_body);
    let local = store
        .inspection(&refused.id)
        .await
        .expect("read")
        .expect("there");
    assert_eq!(local.sync, SyncMark::Rejected);
    assert_eq!(local.record.notes, "refused");
    assert_eq!(local.error.expect("the reason is kept").code, "invalid");
}

#[wasm_bindgen_test]
async fn a_conflict_resolves_either_way_without_losing_the_chosen_copy() {
    let (store, _) = fresh_store().await;
    let keep = inspection("mine, kept");
    let take = inspection("mine, dropped");
    store.save_inspection(&keep).await.expect("save");
    store.save_inspection(&take).await.expect("save");
    let items = store.outbox().await.expect("outbox").items;
    let mut theirs = take.clone();
    theirs.notes = "theirs".to_owned();
    for (item, server_body) in items.iter().zip([
        serde_json::to_value(&keep).expect("encode"),
        serde_json::to_value(&theirs).expect("encode"),
    ]) {
        store
            .apply_push_outcome(
                item,
                &PushOutcome::Conflict {
                    server_rev: 3,
                    server_body,
                },
            )
            .await
            .expect("apply conflict");
    }
    assert_eq!(store.pending_count().await.expect("count"), 0);

    // Keeping the local copy queues it again as an edit of the server's rev 3.
    let kept = store
        .keep_local_version(&keep.id)
        .await
        .expect("keep")
        .expect("there");
    assert_eq!(
        (kept.rev, kept.sync, kept.server_copy.is_none()),
        (3, SyncMark::Pending, true)
    );
    assert_eq!(kept.record.notes, "mine, kept");
    let outbox = store.outbox().await.expect("outbox").items;
    assert_eq!(outbox.len(), 1);
    let entries: Vec<_> = outbox.iter().map(|item| item.entry.clone()).collect();
    let batch = next_batch(&entries, |_, _| 3, 10);
    assert_eq!(batch[0].id, keep.id.as_str());
    assert_eq!(batch[0].body["notes"], "mine, kept");

    // Taking the server copy replaces the local one and queues nothing.
    let taken = store
        .take_server_version(&take.id)
        .await
        .expect("take")
        .expect("there");
    assert_eq!((taken.rev, taken.sync), (3, SyncMark::Synced));
    let stored = store
        .inspection(&take.id)
        .await
        .expect("read")
        .expect("there");
    assert_eq!(stored.record.notes, "theirs");
    assert!(stored.server_copy.is_none());
    assert_eq!(store.pending_count().await.expect("count"), 1);
}

#[wasm_bindgen_test]
async fn a_retry_outcome_changes_nothing() {
    let (store, _) = fresh_store().await;
    let record = inspection("retry");
    store.save_inspection(&record).await.expect("save");
    let item = store.outbox().await.expect("outbox").items.remove(0);

    store
        .apply_push_outcome(&item, &PushOutcome::Retry)
        .await
        .expect("apply");

    assert_eq!(store.pending_count().await.expect("count"), 1);
}

#[wasm_bindgen_test]
async fn a_pull_keeps_unsent_local_edits_and_stores_when_nothing_waits() {
    let (store, _) = fresh_store().await;
    let record = inspection("local edit");
    store.save_inspection(&record).await.expect("save");
    let mut server_version = record.clone();
    server_version.notes = "server edit".to_owned();
    let change = |rev: u64| Change {
        entity: Entity::Inspection,
        id: record.id.to_string(),
        rev,
        body: serde_json::to_value(&server_version).expect("JSON"),
        deleted: false,
    };

    let applied = store
        .apply_pulled(&[change(5)], "cursor-1")
        .await
        .expect("apply pull");

    assert_eq!(applied.kept_local, 1);
    assert_eq!(applied.stored, 0);
    let local = store
        .inspection(&record.id)
        .await
        .expect("read")
        .expect("there");
    assert_eq!(local.record.notes, "local edit");
    assert_eq!(local.sync, SyncMark::Pending);
    assert_eq!(
        store.pull_cursor().await.expect("cursor").as_deref(),
        Some("cursor-1")
    );

    // Once the edit is acknowledged nothing waits, and a newer server rev is stored.
    let item = store.outbox().await.expect("outbox").items.remove(0);
    store
        .apply_push_outcome(&item, &PushOutcome::Synced { rev: 5 })
        .await
        .expect("apply");
    let applied = store
        .apply_pulled(&[change(5), change(6)], "cursor-2")
        .await
        .expect("apply pull");
    assert_eq!(applied.ignored, 1);
    assert_eq!(applied.stored, 1);
    let local = store
        .inspection(&record.id)
        .await
        .expect("read")
        .expect("there");
    assert_eq!(local.record.notes, "server edit");
    assert_eq!(local.rev, 6);
    assert_eq!(local.sync, SyncMark::Synced);
}

#[wasm_bindgen_test]
async fn pulled_venues_are_listed_and_searched_by_name() {
    let (store, _) = fresh_store().await;
    let venue = |name: &str| Venue {
        id: VenueId(new_id()),
        kind: VenueKind::InternetCafe,
        name: name.to_owned(),
        licence_no: String::new(),
        address: "洛阳市".to_owned(),
        location: None,
        contact_name: String::new(),
        contact_phone: String::new(),
        unit_id: UnitId(new_id()),
        active: true,
    };
    let cafe = venue("星空网咖");
    let ktv = venue("金嗓子KTV");
    let changes: Vec<Change> = [&cafe, &ktv]
        .iter()
        .map(|venue| Change {
            entity: Entity::Venue,
            id: venue.id.to_string(),
            rev: 1,
            body: serde_json::to_value(venue).expect("JSON"),
            deleted: false,
        })
        .collect();

    store.apply_pulled(&changes, "c").await.expect("apply");

    let all = store.list_venues("").await.expect("list");
    assert_eq!(all.items.len(), 2);
    let found = store.list_venues("网咖").await.expect("search");
    assert_eq!(found.items, vec![cafe.clone()]);
    assert_eq!(store.venue(&ktv.id).await.expect("get"), Some(ktv.clone()));
}

#[wasm_bindgen_test]
async fn a_corrupt_value_is_named_and_the_other_records_are_still_listed() {
    let (store, _) = fresh_store().await;
    let first = inspection("one");
    let second = inspection("two");
    store.save_inspection(&first).await.expect("save");
    store.save_inspection(&second).await.expect("save");
    store
        .put_raw(
            INSPECTIONS,
            None,
            raw(r#"{"record": {"id": "broken-1", "status": 7}, "sync": "pending"}"#),
        )
        .await
        .expect("plant");
    store
        .put_venues(&[])
        .await
        .expect("an empty venue write is fine");
    store
        .put_raw(VENUES, None, raw(r#"{"record": {"id": "broken-venue"}}"#))
        .await
        .expect("plant");

    let listed = store.list_inspections().await.expect("list");

    let mut ids: Vec<_> = listed
        .items
        .iter()
        .map(|local| local.record.id.clone())
        .collect();
    ids.sort();
    let mut expected = vec![first.id.clone(), second.id.clone()];
    expected.sort();
    assert_eq!(ids, expected);
    assert_eq!(listed.corrupt.len(), 1);
    assert!(
        matches!(
            &listed.corrupt[0],
            StoreError::Corrupt { store: "inspections", key, .. } if key == "broken-1"
        ),
        "unexpected: {:?}",
        listed.corrupt[0]
    );
    let error = store
        .inspection(&InspectionId("broken-1".to_owned()))
        .await
        .expect_err("reading the corrupt record is an error, not a panic");
    assert!(error.is_corrupt());
    assert!(error.to_string().contains("broken-1"));
    let venues = store.list_venues("").await.expect("list venues");
    assert!(venues.items.is_empty());
    assert!(matches!(
        &venues.corrupt[..],
        [StoreError::Corrupt { store: "venues", key, .. }] if key == "broken-venue"
    ));
}

#[wasm_bindgen_test]
async fn an_approved_record_cannot_be_saved_over() {
    let (store, _) = fresh_store().await;
    let mut record = inspection("approved");
    record.status = Status::Submitted;
    store.save_inspection(&record).await.expect("save");
    let item = store.outbox().await.expect("outbox").items.remove(0);
    store
        .apply_push_outcome(&item, &PushOutcome::Synced { rev: 1 })
        .await
        .expect("apply");
    let mut approved = record.clone();
    approved.status = Status::Approved;
    store
        .apply_pulled(
            &[Change {
                entity: Entity::Inspection,
                id: record.id.to_string(),
                rev: 2,
                body: serde_json::to_value(&approved).expect("JSON"),
                deleted: false,
            }],
            "c",
        )
        .await
        .expect("pull");

    record.notes = "late edit".to_owned();
    let error = store
        .save_inspection(&record)
        .await
        .expect_err("approved is locked");

    assert!(matches!(error, StoreError::NotAllowed(_)), "{error:?}");
    assert_eq!(store.pending_count().await.expect("count"), 0);
}

#[wasm_bindgen_test]
async fn meta_keeps_the_session_and_an_expiry_keeps_everything_else() {
    let (store, _) = fresh_store().await;
    assert_eq!(store.session().await.expect("read"), None);
    let session = Session {
        token: "t0ken".to_owned(),
        user: User {
            id: UserId(new_id()),
            username: "zhangsan".to_owned(),
            name: "张三".to_owned(),
            role: Role::Inspector,
            unit_id: UnitId(new_id()),
            unit_name: "洛阳市老城区文化市场综合执法大队".to_owned(),
            cert_no: Some("豫A-0001".to_owned()),
        },
        expires_at: None,
        expired: false,
    };
    store.set_session(&session).await.expect("write");
    let record = inspection("queued before expiry");
    store.save_inspection(&record).await.expect("save");

    let expired = store
        .expire_session()
        .await
        .expect("expire")
        .expect("there was a session");

    assert!(expired.expired);
    assert_eq!(expired.user, session.user);
    assert_eq!(store.session().await.expect("read"), Some(expired));
    assert_eq!(store.pending_count().await.expect("count"), 1);
    store.clear_session().await.expect("log out");
    assert_eq!(store.session().await.expect("read"), None);
    assert!(store.inspection(&record.id).await.expect("read").is_some());
}
