//! The phone's store on real IndexedDB in headless Chromium: one state per record, the sync port's
//! transactions, quarantine, user binding, upgrades (blocked, outdated, layout 1 data), autosave.
#![cfg(target_arch = "wasm32")]

use fieldcheck::store::{
    DB_VERSION, Export, INSPECTIONS, LocalState, META, OUTBOX, OpenedOn, Resolution, ServerVersion,
    Session, Store, StoreError, StoredRecord, SyncMark, TakeOver, VENUES, meta_keys,
};
use fieldcheck_core::engine::LocalStore;
use fieldcheck_core::sync::{
    Change, Entity, ErrorBody, MutationResult, MutationStatus, PullResponse,
};
use fieldcheck_core::{
    Inspection, InspectionId, InspectionKind, ItemResult, OpId, Role, Status, UnitId, User, UserId,
    Venue, VenueId, VenueKind,
};
use serde_json::{Value, json};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
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
        case_opened: false,
        photos: Vec::new(),
        hazard_checks: Vec::new(),
        complaint: None,
        party: None,
        officer_signatures: Vec::new(),
        notes: notes.to_owned(),
        status: Status::Draft,
        review_comment: None,
        amends: None,
        unit_id: None,
        created_by: None,
        received_at: None,
        reviews: Vec::new(),
    };
    record.set_answer("internet_cafe.no_minors", ItemResult::Pass);
    record
}

fn venue(name: &str) -> Venue {
    Venue {
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
        field_registered: false,
        initials: String::new(),
    }
}

fn user(username: &str) -> User {
    User {
        id: UserId(new_id()),
        username: username.to_owned(),
        name: username.to_owned(),
        role: Role::Inspector,
        unit_id: UnitId(new_id()),
        unit_name: "洛阳市老城区文化市场综合执法大队".to_owned(),
        cert_no: None,
    }
}

fn body(record: &Inspection) -> Value {
    serde_json::to_value(record).expect("a record as JSON")
}

fn page(changes: Vec<Change>, cursor: &str) -> PullResponse {
    PullResponse {
        changes,
        cursor: cursor.to_owned(),
        has_more: false,
    }
}

fn change(record: &Inspection, rev: u64) -> Change {
    Change {
        entity: Entity::Inspection,
        id: record.id.to_string(),
        rev,
        body: body(record),
        deleted: false,
    }
}

fn answer(op_id: &OpId, status: MutationStatus, rev: Option<u64>) -> MutationResult {
    MutationResult {
        op_id: op_id.clone(),
        status,
        rev,
        error: None,
        current: None,
        fields: None,
    }
}

fn raw(json: &str) -> JsValue {
    js_sys::JSON::parse(json).expect("test JSON parses")
}

/// Writes `json` under the meta key `key` as the app's code never would (an older build's value, a
/// damaged one).
async fn plant_meta(store: &Store, key: &str, json: &str) {
    store
        .put_raw(META, Some(JsValue::from_str(key)), raw(json))
        .await
        .expect("plant a meta value");
}

async fn state_of(store: &Store, record: &Inspection) -> LocalState {
    state_of_id(store, record.id.as_str()).await
}

/// Saves, takes the batch and has the server apply it at `rev`.
async fn synced_at(store: &Store, record: &Inspection, rev: u64) {
    store.save_inspection(record).await.expect("save");
    applied_at(store, record, rev).await;
}

/// Takes the batch and has the server apply `record`'s queued save at `rev`.
async fn applied_at(store: &Store, record: &Inspection, rev: u64) {
    let batch = store.take_batch(50).await.expect("take");
    let sent = batch
        .iter()
        .find(|m| m.id == record.id.as_str())
        .expect("sent")
        .clone();
    store
        .settle(
            &batch,
            &[answer(&sent.op_id, MutationStatus::Applied, Some(rev))],
        )
        .await
        .expect("settle");
}

// ---------------------------------------------------------------------------------------------
// Saving and the queue

#[wasm_bindgen_test]
async fn a_save_queues_the_record_in_the_same_write() {
    let (store, _) = fresh_store().await;
    let record = inspection("first visit");

    let saved = store.save_inspection(&record).await.expect("save");

    assert_eq!(saved.mark(), SyncMark::Pending);
    let local = store
        .inspection(&record.id)
        .await
        .expect("read")
        .expect("there");
    assert_eq!(local.record, record);
    assert!(
        matches!(&local.local, LocalState::Queued { base: None, mine, .. } if *mine == body(&record))
    );
    assert_eq!(store.unsynced().await.expect("count").queued, 1);
    let batch = store.take_batch(50).await.expect("take");
    assert_eq!(batch.len(), 1);
    assert_eq!((batch[0].base_rev, &batch[0].body), (0, &body(&record)));
}

/// A form checks its record while the save's reads travel (`save_prepared`): when the checks refuse
/// it, nothing is written — the stored record, the autosaved form and the queue counter stay as they
/// were — and a record made under another id than the one read is refused the same way.
#[wasm_bindgen_test]
async fn a_save_its_form_declines_writes_nothing() {
    let (store, _) = fresh_store().await;
    let mut record = inspection("first visit");
    let first = store.save_inspection(&record).await.expect("save");
    record.notes = "typed after the save".to_owned();
    store
        .save_form(&record, &OpenedOn::default())
        .await
        .expect("autosave");

    let mut asked = 0;
    let declined = store
        .save_prepared(&record.id, None, || {
            asked += 1;
            Err::<Inspection, _>("the checks found problems")
        })
        .await
        .expect("no database failure");
    assert!(matches!(declined, Err("the checks found problems")));
    assert_eq!(asked, 1, "the form is asked for its record once");
    assert_eq!(state_of(&store, &record).await, first.local);
    let form = store.form(&record.id).await.expect("read the form");
    assert!(form.is_some(), "the autosaved form stays");

    let other = inspection("another record");
    let refused = store
        .save_prepared(&record.id, None, || Ok::<_, ()>(other.clone()))
        .await;
    assert!(
        matches!(
            refused,
            Err(StoreError::Encode {
                store: INSPECTIONS,
                ..
            })
        ),
        "{refused:?}"
    );
    assert!(store.inspection(&other.id).await.expect("read").is_none());
    assert_eq!(state_of(&store, &record).await, first.local);

    // The next new record takes the next queue place: the refused saves handed out none.
    let order = |local: &LocalState| local.order().expect("queued");
    let next = store.save_inspection(&other).await.expect("save another");
    assert_eq!(order(&next.local), order(&first.local) + 1);
    let saved = store
        .save_prepared(&record.id, None, || Ok::<_, ()>(record.clone()))
        .await
        .expect("save")
        .expect("the form made its record");
    assert!(
        matches!(&saved.local, LocalState::Queued { mine, .. } if *mine == body(&record)),
        "the queued record is rewritten in place: {:?}",
        saved.local
    );
    assert_eq!(state_of(&store, &record).await, saved.local);
    let form = store.form(&record.id).await.expect("read the form");
    assert!(form.is_none(), "the saved record's form is gone");
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
    assert_eq!(reopened.unsynced().await.expect("count").queued, 1);
    assert_eq!(reopened.device_id().await.expect("device id"), device_id);
}

/// Scenario: an edit saved while its batch is out must go next, never be acknowledged by the answer
/// for the older body.
#[wasm_bindgen_test]
async fn an_edit_saved_after_the_batch_was_taken_goes_out_next() {
    let (store, _) = fresh_store().await;
    let mut record = inspection("sent");
    store.save_inspection(&record).await.expect("save");
    let batch = store.take_batch(50).await.expect("take");
    assert_eq!(batch[0].body["notes"], "sent");

    record.notes = "typed while sending".to_owned();
    store
        .save_inspection(&record)
        .await
        .expect("save during the push");
    store
        .settle(
            &batch,
            &[answer(&batch[0].op_id, MutationStatus::Applied, Some(1))],
        )
        .await
        .expect("settle");

    let local = store
        .inspection(&record.id)
        .await
        .expect("read")
        .expect("there");
    assert_eq!(
        local.mark(),
        SyncMark::Pending,
        "the later edit still waits"
    );
    assert_eq!(local.record.notes, "typed while sending");
    let next = store.take_batch(50).await.expect("take again");
    assert_eq!(next.len(), 1);
    assert_eq!(
        (next[0].base_rev, &next[0].body["notes"]),
        (1, &json!("typed while sending"))
    );
    assert_ne!(next[0].op_id, batch[0].op_id);
}

#[wasm_bindgen_test]
async fn an_op_in_flight_goes_again_unchanged_after_a_restart() {
    let (store, name) = fresh_store().await;
    let record = inspection("answer lost");
    store.save_inspection(&record).await.expect("save");
    let first = store.take_batch(50).await.expect("take");
    store.close();

    let reopened = Store::open(&name).await.expect("reopen");
    let again = reopened.take_batch(50).await.expect("take again");

    assert_eq!(
        again, first,
        "the same op id, rev and body: the server answers duplicate"
    );
    reopened
        .settle(
            &again,
            &[answer(&again[0].op_id, MutationStatus::Duplicate, Some(1))],
        )
        .await
        .expect("settle");
    assert_eq!(
        state_of(&reopened, &record).await,
        LocalState::Synced {
            server: ServerVersion {
                rev: 1,
                body: body(&record)
            }
        }
    );
    assert_eq!(reopened.take_batch(50).await.expect("take"), vec![]);
}

#[wasm_bindgen_test]
async fn a_new_venue_goes_before_the_inspection_that_names_it() {
    let (store, _) = fresh_store().await;
    let new_venue = venue("新开业网吧");
    store.save_venue(&new_venue).await.expect("save venue");
    let mut record = inspection("at the new venue");
    record.venue_id = new_venue.id.clone();
    store
        .save_inspection(&record)
        .await
        .expect("save inspection");
    let mut renamed = new_venue.clone();
    renamed.name = "新开业网吧（改名）".to_owned();
    store.save_venue(&renamed).await.expect("edit venue");

    let batch = store.take_batch(50).await.expect("take");
    let order: Vec<(Entity, String)> = batch.iter().map(|m| (m.entity, m.id.clone())).collect();
    assert_eq!(
        order,
        [
            (Entity::Venue, new_venue.id.to_string()),
            (Entity::Inspection, record.id.to_string())
        ]
    );
    assert_eq!(batch[0].body["name"], "新开业网吧（改名）");
}

// ---------------------------------------------------------------------------------------------
// Answers and pulls meet the one state

/// Scenario: a conflict answered by the push must survive the pull of the same run, and a record
/// refused as locked must survive the pull of its approval.
#[wasm_bindgen_test]
async fn a_conflict_or_a_refusal_survives_the_pull_that_follows() {
    let (store, _) = fresh_store().await;
    let mut record = inspection("base");
    synced_at(&store, &record, 1).await;
    record.notes = "mine, offline".to_owned();
    store.save_inspection(&record).await.expect("offline edit");
    let batch = store.take_batch(50).await.expect("take");
    let mut theirs = record.clone();
    theirs.notes = "theirs, online".to_owned();
    store
        .settle(
            &batch,
            &[MutationResult {
                current: Some(json!({"rev": 2, "body": body(&theirs)})),
                ..answer(&batch[0].op_id, MutationStatus::Conflict, None)
            }],
        )
        .await
        .expect("settle");
    theirs.notes = "theirs, again".to_owned();
    store
        .apply_page(&page(vec![change(&theirs, 3)], "c1"))
        .await
        .expect("pull");

    let local = store
        .inspection(&record.id)
        .await
        .expect("read")
        .expect("there");
    assert_eq!(local.mark(), SyncMark::Conflict);
    assert_eq!(
        local.record.notes, "mine, offline",
        "the edit is not erased"
    );
    assert!(matches!(&local.local, LocalState::Conflict { server, .. } if server.rev == 3));
    assert_eq!(store.unsynced().await.expect("count").awaiting, 1);

    // Refused as locked, then the approval arrives.
    let mut locked = inspection("approved meanwhile");
    synced_at(&store, &locked, 1).await;
    locked.notes = "late".to_owned();
    store.save_inspection(&locked).await.expect("edit");
    let batch = store.take_batch(50).await.expect("take");
    store
        .settle(
            &batch,
            &[MutationResult {
                error: Some(ErrorBody::new("locked", "approved")),
                ..answer(&batch[0].op_id, MutationStatus::Rejected, None)
            }],
        )
        .await
        .expect("settle");
    let mut approved = locked.clone();
    approved.status = Status::Approved;
    approved.notes = "base".to_owned();
    store
        .apply_page(&page(vec![change(&approved, 2)], "c2"))
        .await
        .expect("pull");
    let local = store
        .inspection(&locked.id)
        .await
        .expect("read")
        .expect("there");
    assert_eq!(
        (local.mark(), local.record.notes.as_str()),
        (SyncMark::Rejected, "late")
    );
}

/// Scenario: taking the server's version must drop the queued edit too, or it would be pushed later
/// and reverse the choice.
#[wasm_bindgen_test]
async fn a_person_resolves_a_conflict_and_nothing_queued_reverses_it() {
    let (store, _) = fresh_store().await;
    let mut record = inspection("base");
    synced_at(&store, &record, 1).await;
    record.notes = "mine".to_owned();
    store.save_inspection(&record).await.expect("edit");
    let batch = store.take_batch(50).await.expect("take");
    let mut theirs = record.clone();
    theirs.notes = "base".to_owned();
    theirs.status = Status::Submitted;
    theirs.finished_at = Some(theirs.started_at);
    store
        .settle(
            &batch,
            &[MutationResult {
                current: Some(json!({"rev": 2, "body": body(&theirs)})),
                ..answer(&batch[0].op_id, MutationStatus::Conflict, None)
            }],
        )
        .await
        .expect("settle");
    // Another save while in conflict replaces mine; still waiting.
    record.notes = "mine, corrected".to_owned();
    store
        .save_inspection(&record)
        .await
        .expect("edit in conflict");
    assert_eq!(
        store.take_batch(50).await.expect("take"),
        vec![],
        "nothing goes before the choice"
    );

    store
        .resolve(
            Entity::Inspection,
            record.id.as_str(),
            Resolution::TakeTheirs,
        )
        .await
        .expect("take theirs");
    assert_eq!(
        state_of(&store, &record).await,
        LocalState::Synced {
            server: ServerVersion {
                rev: 2,
                body: body(&theirs)
            }
        }
    );
    assert_eq!(
        store.take_batch(50).await.expect("take"),
        vec![],
        "no queued edit left"
    );
    assert_eq!(store.unsynced().await.expect("count").total(), 0);
}

#[wasm_bindgen_test]
async fn keep_mine_and_the_merge_go_out_on_the_servers_rev() {
    let (store, _) = fresh_store().await;
    let mut record = inspection("base");
    synced_at(&store, &record, 4).await;
    record.notes = "mine".to_owned();
    store.save_inspection(&record).await.expect("edit");
    let batch = store.take_batch(50).await.expect("take");
    let mut theirs = record.clone();
    theirs.notes = "base".to_owned();
    theirs.warning_issued = true;
    store
        .settle(
            &batch,
            &[MutationResult {
                current: Some(json!({"rev": 5, "body": body(&theirs)})),
                ..answer(&batch[0].op_id, MutationStatus::Conflict, None)
            }],
        )
        .await
        .expect("settle");

    store
        .resolve(
            Entity::Inspection,
            record.id.as_str(),
            Resolution::KeepMerged,
        )
        .await
        .expect("merge: the edits touch different fields");
    let batch = store.take_batch(50).await.expect("take");
    assert_eq!(batch[0].base_rev, 5);
    assert_eq!(
        (&batch[0].body["notes"], &batch[0].body["warning_issued"]),
        (&json!("mine"), &json!(true))
    );

    // A refusal sent again goes as it is; a resolution that does not apply says so.
    let error = store
        .resolve(Entity::Inspection, record.id.as_str(), Resolution::KeepMine)
        .await
        .expect_err("nothing to resolve while in flight");
    assert!(matches!(error, StoreError::NotNow(_)), "{error:?}");
}

#[wasm_bindgen_test]
async fn a_refusal_is_sent_again_or_discarded_by_the_persons_choice() {
    let (store, _) = fresh_store().await;
    let record = inspection("refused");
    // Its venue came from the server: the list names the record by it.
    let mut place = venue("星光网络会所");
    place.id = record.venue_id.clone();
    store
        .apply_page(&page(
            vec![Change {
                entity: Entity::Venue,
                id: place.id.to_string(),
                rev: 1,
                body: serde_json::to_value(&place).expect("a venue body"),
                deleted: false,
            }],
            "c0",
        ))
        .await
        .expect("the venue from the server");
    store.save_inspection(&record).await.expect("save");
    let batch = store.take_batch(50).await.expect("take");
    store
        .settle(
            &batch,
            &[MutationResult {
                error: Some(ErrorBody::new("unknown_venue", "push the venue first")),
                ..answer(&batch[0].op_id, MutationStatus::Rejected, None)
            }],
        )
        .await
        .expect("settle");
    let awaiting = store.awaiting_person().await.expect("awaiting");
    assert_eq!(awaiting.len(), 1);
    assert!(awaiting[0].reason.contains("unknown_venue"));
    assert_eq!(
        (awaiting[0].title.as_str(), awaiting[0].started_at),
        ("星光网络会所", Some(record.started_at))
    );

    store
        .resolve(
            Entity::Inspection,
            record.id.as_str(),
            Resolution::SendAgain,
        )
        .await
        .expect("send again");
    let again = store.take_batch(50).await.expect("take");
    assert_eq!((again[0].base_rev, &again[0].body), (0, &body(&record)));
    store
        .settle(
            &again,
            &[MutationResult {
                error: Some(ErrorBody::new("not_yours", "no")),
                ..answer(&again[0].op_id, MutationStatus::Rejected, None)
            }],
        )
        .await
        .expect("settle");
    store
        .resolve(Entity::Inspection, record.id.as_str(), Resolution::Discard)
        .await
        .expect("discard a record the server never had");
    assert_eq!(store.inspection(&record.id).await.expect("read"), None);
}

/// The push's answer carries the fields the server set, so the pull that brings the same rev back
/// finds the phone's copy already equal and writes nothing, even where the server writes a
/// whole-number float (`15.0`) that the phone's store holds as `15`.
#[wasm_bindgen_test]
async fn a_pushed_record_settled_with_the_servers_fields_is_not_written_again_by_the_pull() {
    let (store, _) = fresh_store().await;
    let mut record = inspection("pushed");
    record.location = Some(fieldcheck_core::Location {
        lat: 31.5,
        lon: 120.25,
        accuracy_m: Some(15.0),
    });
    store.save_inspection(&record).await.expect("save");
    let batch = store.take_batch(200).await.expect("take");
    let fields = json!({"created_by": "u-author", "received_at": "2026-12-03T10:00:00+00:00"});
    let Value::Object(fields) = fields else {
        panic!("an object")
    };
    store
        .settle(
            &batch,
            &[MutationResult {
                fields: Some(fields.clone()),
                ..answer(&batch[0].op_id, MutationStatus::Applied, Some(1))
            }],
        )
        .await
        .expect("settle");
    let on_server = fieldcheck_core::sync::with_fields(body(&record), &fields);
    assert!(
        on_server.to_string().contains("15.0"),
        "the server's copy keeps the float: {on_server}"
    );
    let pulled = Change {
        body: on_server.clone(),
        ..change(&record, 1)
    };
    let applied = store
        .apply_page(&page(vec![pulled], "c1"))
        .await
        .expect("apply");
    assert_eq!(applied.changed, 0, "the pull rewrote the record");
    let held = state_of(&store, &record).await;
    let LocalState::Synced { server } = held else {
        panic!("synced: {held:?}")
    };
    assert_eq!(server.rev, 1);
    assert_eq!(server.body["created_by"], json!("u-author"));
    assert_eq!(server.body["location"]["accuracy_m"].as_f64(), Some(15.0));
}

/// A page bringing back copies the phone holds (a push's records returning) beside other changes to
/// the same records: the held copies change nothing, and whatever follows them in the page still
/// meets the record as stored.
#[wasm_bindgen_test]
async fn copies_the_phone_holds_change_nothing_and_later_changes_in_the_same_page_still_apply() {
    let (store, _) = fresh_store().await;
    let kept = inspection("kept");
    let revised = inspection("revised");
    let dropped = inspection("dropped");
    let odd = inspection("odd");
    for record in [&kept, &revised, &dropped, &odd] {
        synced_at(&store, record, 1).await;
    }
    let mut newer = revised.clone();
    newer.notes = "复查后补充".to_owned();
    let malformed = Change {
        body: json!({"id": odd.id.to_string(), "nope": 1}),
        ..change(&odd, 2)
    };
    let tombstone = Change {
        body: Value::Null,
        deleted: true,
        ..change(&dropped, 2)
    };
    let changes = vec![
        change(&kept, 1),
        change(&revised, 1),
        change(&dropped, 1),
        change(&odd, 1),
        change(&newer, 2),
        tombstone,
        malformed,
    ];
    let applied = store.apply_page(&page(changes, "c1")).await.expect("apply");
    assert_eq!((applied.changed, applied.malformed), (2, 1));
    for (record, expected) in [
        (&kept, Some(kept.clone())),
        (&revised, Some(newer)),
        (&dropped, None),
        (&odd, Some(odd.clone())),
    ] {
        let held = store.inspection(&record.id).await.expect("read");
        assert_eq!(held.map(|held| held.record), expected, "{}", record.notes);
    }
    assert!(matches!(
        state_of(&store, &revised).await,
        LocalState::Synced { server } if server.rev == 2
    ));
}

/// A change this build cannot read (a venue kind a newer server added) is kept, not lost with the
/// cursor that moves past it: the build that reads it applies it with the next page, and a later
/// change of the record (a tombstone here) supersedes it. A takeover drops what is kept.
#[wasm_bindgen_test]
async fn a_pulled_change_this_build_cannot_read_is_kept_for_a_build_that_can() {
    let (store, _) = fresh_store().await;
    let unread = || async {
        store
            .meta_get::<Vec<Change>>(meta_keys::UNREAD_CHANGES)
            .await
            .expect("read")
            .unwrap_or_default()
    };
    let hall = venue("新型沉浸式剧场");
    let mut newer_kind = serde_json::to_value(&hall).expect("JSON");
    newer_kind["kind"] = json!("immersive_theatre");
    let as_pulled = |body: Value, rev: u64| Change {
        entity: Entity::Venue,
        id: hall.id.to_string(),
        rev,
        body,
        deleted: false,
    };
    let applied = store
        .apply_page(&page(vec![as_pulled(newer_kind.clone(), 1)], "c1"))
        .await
        .expect("apply");
    assert_eq!((applied.changed, applied.malformed), (0, 1));
    assert_eq!(store.venue(&hall.id).await.expect("read"), None);
    assert_eq!(unread().await, vec![as_pulled(newer_kind.clone(), 1)]);
    assert_eq!(
        store.pull_cursor().await.expect("cursor").as_deref(),
        Some("c1")
    );

    // Still unreadable: kept, and not counted again.
    let applied = store.apply_page(&page(vec![], "c2")).await.expect("apply");
    assert_eq!((applied.changed, applied.malformed), (0, 0));
    assert_eq!(unread().await.len(), 1);

    // A build that reads it (as if updated: the kept change is one this build reads) applies it
    // with the next page, and keeps it no longer.
    let readable = as_pulled(serde_json::to_value(&hall).expect("JSON"), 1);
    plant_meta(
        &store,
        meta_keys::UNREAD_CHANGES,
        &serde_json::to_string(&vec![readable]).expect("JSON"),
    )
    .await;
    let applied = store.apply_page(&page(vec![], "c3")).await.expect("apply");
    assert_eq!(applied.changed, 1);
    assert_eq!(
        store.venue(&hall.id).await.expect("read"),
        Some(hall.clone())
    );
    assert_eq!(unread().await, vec![]);

    // A later change of the record supersedes what was kept of it: the record is not brought back.
    store
        .apply_page(&page(vec![as_pulled(newer_kind.clone(), 2)], "c4"))
        .await
        .expect("apply");
    assert_eq!(unread().await.len(), 1);
    let gone = Change {
        body: Value::Null,
        deleted: true,
        ..as_pulled(Value::Null, 3)
    };
    store
        .apply_page(&page(vec![gone], "c5"))
        .await
        .expect("apply");
    assert_eq!(unread().await, vec![]);
    assert_eq!(store.venue(&hall.id).await.expect("read"), None);

    // A kept list that does not read any more is pulled again from the start, not dropped.
    plant_meta(&store, meta_keys::UNREAD_CHANGES, "\"not a list\"").await;
    store.apply_page(&page(vec![], "c5b")).await.expect("apply");
    assert_eq!(store.pull_cursor().await.expect("cursor"), None);
    assert_eq!(unread().await, vec![]);

    // What one officer's pulls kept goes with the phone to nobody else.
    store
        .apply_page(&page(vec![as_pulled(newer_kind, 4)], "c6"))
        .await
        .expect("apply");
    store
        .take_over(&user("zhaolei"), TakeOver::OnlyIfSynced)
        .await
        .expect("another officer takes over");
    assert_eq!(unread().await, vec![]);
}

#[wasm_bindgen_test]
async fn pulls_store_new_records_take_equal_revs_and_tombstones_drop_synced_ones() {
    let (store, _) = fresh_store().await;
    let cafe = venue("星空网咖");
    let ktv = venue("金嗓子KTV");
    let changes = [&cafe, &ktv]
        .iter()
        .map(|venue| Change {
            entity: Entity::Venue,
            id: venue.id.to_string(),
            rev: 1,
            body: serde_json::to_value(venue).expect("JSON"),
            deleted: false,
        })
        .collect();
    let applied = store.apply_page(&page(changes, "c1")).await.expect("apply");
    assert_eq!(applied.changed, 2);
    assert_eq!(
        store.list_venues("网咖").await.expect("search").items,
        vec![cafe.clone()]
    );
    assert_eq!(
        store.pull_cursor().await.expect("cursor").as_deref(),
        Some("c1")
    );

    let gone = Change {
        entity: Entity::Venue,
        id: ktv.id.to_string(),
        rev: 2,
        body: Value::Null,
        deleted: true,
    };
    let malformed = Change {
        entity: Entity::Venue,
        id: new_id(),
        rev: 1,
        body: json!({"nope": 1}),
        deleted: false,
    };
    let applied = store
        .apply_page(&page(vec![gone, malformed], "c2"))
        .await
        .expect("apply");
    assert_eq!((applied.changed, applied.malformed), (1, 1));
    assert_eq!(store.venue(&ktv.id).await.expect("read"), None);

    // A record pushed and then pulled at the same rev takes the server's own fields.
    let record = inspection("mine");
    synced_at(&store, &record, 1).await;
    let mut canonical = record.clone();
    canonical.created_by = Some(UserId(new_id()));
    store
        .apply_page(&page(vec![change(&canonical, 1)], "c3"))
        .await
        .expect("pull");
    assert_eq!(
        store
            .inspection(&record.id)
            .await
            .expect("read")
            .expect("there")
            .record,
        canonical
    );
}

// ---------------------------------------------------------------------------------------------
// Damaged values: named in lists, set aside by the sync engine, never stopping the rest

/// Scenario: one poisoned record used to fail every run before the pull.
#[wasm_bindgen_test]
async fn an_unreadable_queued_record_is_set_aside_and_the_rest_still_go() {
    let (store, _) = fresh_store().await;
    let good = inspection("fine");
    store.save_inspection(&good).await.expect("save");
    store
        .put_raw(INSPECTIONS, None, raw(r#"{"record": {"id": "poisoned"}, "local": {"state": "queued", "order": 0}, "queue": 0}"#))
        .await
        .expect("plant");

    let batch = store
        .take_batch(50)
        .await
        .expect("the batch is taken despite the damage");

    assert_eq!(
        batch.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(),
        [good.id.as_str()]
    );
    let awaiting = store.awaiting_person().await.expect("awaiting");
    assert_eq!(awaiting.len(), 1);
    assert_eq!(
        (awaiting[0].id.as_str(), awaiting[0].mark),
        ("poisoned", SyncMark::Quarantined)
    );
    // Nothing to name it by: the list falls back to its number.
    assert_eq!(
        (awaiting[0].title.as_str(), awaiting[0].started_at),
        ("", None)
    );
    let error = store
        .inspection(&InspectionId("poisoned".to_owned()))
        .await
        .expect_err("a set-aside record reads as damaged");
    assert!(error.is_corrupt());
    // Kept byte for byte, and in the export.
    let kept = store
        .get_raw(INSPECTIONS, JsValue::from_str("poisoned"))
        .await
        .expect("read")
        .expect("kept");
    let kept: StoredRecord = serde_json::from_str(
        &js_sys::JSON::stringify(&kept)
            .expect("JSON")
            .as_string()
            .expect("text"),
    )
    .expect("stored");
    assert!(
        matches!(&kept.local, LocalState::Quarantined { raw, .. } if raw.contains("\"order\":0"))
    );
    let export: Value =
        serde_json::from_str(&store.export_unsynced().await.expect("export").text).expect("JSON");
    let ids: Vec<&str> = export["records"]
        .as_array()
        .expect("records")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert!(
        ids.contains(&"poisoned") && ids.contains(&good.id.as_str()),
        "{ids:?}"
    );

    // A pulled change for an unreadable local copy keeps the copy beside the server's.
    store
        .put_raw(
            INSPECTIONS,
            None,
            raw(r#"{"record": {"id": "damaged-2"}, "local": 5}"#),
        )
        .await
        .expect("plant");
    let mut server = inspection("server's");
    server.id = InspectionId("damaged-2".to_owned());
    store
        .apply_page(&page(vec![change(&server, 3)], "c"))
        .await
        .expect("pull applies");
    let kept = store
        .get_raw(INSPECTIONS, JsValue::from_str("damaged-2"))
        .await
        .expect("read")
        .expect("kept");
    let kept: StoredRecord = serde_json::from_str(
        &js_sys::JSON::stringify(&kept)
            .expect("JSON")
            .as_string()
            .expect("text"),
    )
    .expect("stored");
    assert!(
        matches!(&kept.local, LocalState::Quarantined { server: Some(server), .. } if server.rev == 3)
    );
    store
        .resolve(Entity::Inspection, "damaged-2", Resolution::TakeTheirs)
        .await
        .expect("repair from the server's copy");
    assert_eq!(
        store
            .inspection(&server.id)
            .await
            .expect("read")
            .expect("there")
            .record,
        server
    );

    // A damaged cursor costs a pull from the start, nothing else.
    store
        .put_raw(
            META,
            Some(JsValue::from_str(meta_keys::PULL_CURSOR)),
            JsValue::from_f64(7.0),
        )
        .await
        .expect("plant");
    assert_eq!(LocalStore::pull_cursor(&store).await.expect("cursor"), None);
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
            raw(r#"{"record": {"id": "broken-1", "status": 7}, "local": {"state": "synced"}}"#),
        )
        .await
        .expect("plant");
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
    assert!(matches!(
        &listed.corrupt[..],
        [StoreError::Corrupt { store: "inspections", key, .. }] if key == "broken-1"
    ));
    let venues = store.list_venues("").await.expect("list venues");
    assert!(matches!(
        &venues.corrupt[..],
        [StoreError::Corrupt { store: "venues", key, .. }] if key == "broken-venue"
    ));
}

#[wasm_bindgen_test]
async fn list_rows_show_each_record_as_shown_with_its_mark_and_name_the_damaged_ones() {
    let (store, _) = fresh_store().await;
    let older = inspection("older");
    let mut newer = inspection("newer");
    newer.started_at = older.started_at + chrono::Duration::hours(1);
    store.save_inspection(&older).await.expect("save");
    synced_at(&store, &older, 1).await;
    store.save_inspection(&newer).await.expect("save");
    // Edited after the sync: the list shows the edit, waiting to be sent.
    let mut edited = older.clone();
    edited.notes = "edited".to_owned();
    store.save_inspection(&edited).await.expect("save");
    for (id, json) in [
        (
            "quarantined-1",
            r#"{"record": {"id": "quarantined-1"}, "local": {"state": "quarantined", "raw": "{", "reason": "x"}}"#,
        ),
        ("stateless-1", r#"{"record": {"id": "stateless-1"}}"#),
        (
            "broken-2",
            r#"{"record": {"id": "broken-2", "status": 7}, "local": {"state": "synced"}}"#,
        ),
    ] {
        store.put_raw(INSPECTIONS, None, raw(json)).await.expect(id);
    }

    let rows = store.list_inspection_rows().await.expect("rows");

    let shown: Vec<(&str, SyncMark)> = rows
        .items
        .iter()
        .map(|row| (row.record.notes.as_str(), row.mark))
        .collect();
    assert_eq!(
        shown,
        [("newer", SyncMark::Pending), ("edited", SyncMark::Pending)]
    );
    let mut damaged: Vec<String> = rows
        .corrupt
        .iter()
        .map(|error| match error {
            StoreError::Corrupt { key, .. } => key.clone(),
            other => other.to_string(),
        })
        .collect();
    damaged.sort();
    assert_eq!(damaged, ["broken-2", "quarantined-1", "stateless-1"]);
}

#[wasm_bindgen_test]
async fn the_newest_rows_come_first_through_the_start_time_index() {
    let (store, _) = fresh_store().await;
    let first = inspection("first");
    let mut records = vec![first.clone()];
    for (idx, notes) in ["second", "third", "fourth"].into_iter().enumerate() {
        let mut record = inspection(notes);
        record.started_at =
            first.started_at + chrono::Duration::hours(i64::try_from(idx).unwrap_or(0) + 1);
        records.push(record);
    }
    // Saved out of time order: the index, not the saving order, decides.
    for record in [&records[2], &records[0], &records[3], &records[1]] {
        store.save_inspection(record).await.expect("save");
    }

    let newest = store.recent_inspection_rows(2).await.expect("rows");
    let notes: Vec<&str> = newest
        .items
        .iter()
        .map(|row| row.record.notes.as_str())
        .collect();
    assert_eq!(notes, ["fourth", "third"]);
    let all = store.recent_inspection_rows(50).await.expect("rows");
    assert_eq!(all.items.len(), 4);
    assert!(
        store
            .recent_inspection_rows(0)
            .await
            .expect("rows")
            .items
            .is_empty()
    );
    // A record started at the same moment as the second newest: the list still shows two.
    let mut twin = inspection("third's twin");
    twin.started_at = records[2].started_at;
    store.save_inspection(&twin).await.expect("save");
    let newest = store.recent_inspection_rows(2).await.expect("rows");
    assert_eq!(newest.items.len(), 2);
    assert_eq!(newest.items[0].record.notes, "fourth");
}

#[wasm_bindgen_test]
async fn the_venues_a_screenful_names_are_read_alone_once_each() {
    let (store, _) = fresh_store().await;
    let (named, other, edited) = (
        venue("欢乐谷电玩城"),
        venue("超神电竞酒店"),
        venue("星际网咖"),
    );
    store
        .put_venues(&[(named.clone(), 1), (other, 1), (edited.clone(), 1)])
        .await
        .expect("venues");
    // An edit on the phone not yet sent: the list shows the venue as edited.
    let mut renamed = edited.clone();
    renamed.name = "星际网咖（新址）".to_owned();
    store.save_venue(&renamed).await.expect("edit");
    let nowhere = VenueId(new_id());
    let ids = [
        named.id.clone(),
        nowhere,
        renamed.id.clone(),
        named.id.clone(),
    ];
    let mut found = store.venues_named(&ids).await.expect("venues");
    found.sort_by(|a, b| a.name.cmp(&b.name));
    let names: Vec<&str> = found.iter().map(|venue| venue.name.as_str()).collect();
    assert_eq!(names, ["星际网咖（新址）", "欢乐谷电玩城"]);
}

/// A phone of schema version 4 (before the venue list's pinyin index): the upgrade indexes the
/// venues it holds, and the first page read by the index is the whole list's beginning, in its order.
#[wasm_bindgen_test]
async fn the_first_venues_by_the_pinyin_index_begin_the_whole_list_after_the_upgrade_to_version_5()
{
    let name = format!("fieldcheck-test-{}", uuid::Uuid::now_v7());
    let old = Store::open_at(&name, 4, || {}).await.expect("version 4");
    old.put_raw(META, Some(JsValue::from_str(meta_keys::LAYOUT)), raw("2"))
        .await
        .expect("plant the layout");
    let named = |name: &str, initials: &str| Venue {
        initials: initials.to_owned(),
        ..venue(name)
    };
    // Same initials: the name decides; same name and initials: the id.
    let (twin_a, twin_b) = (named("星际网咖", "xjwk"), named("星际网咖", "xjwk"));
    let pulled = [
        named("欢乐谷电玩城", "hlgdwc"),
        named("超神电竞酒店", "csdjjd"),
        named("新华书店", "xhsd"),
        named("星空KTV", "xkktv"),
        twin_a,
        twin_b,
    ];
    old.put_venues(
        &pulled
            .iter()
            .map(|venue| (venue.clone(), 1))
            .collect::<Vec<_>>(),
    )
    .await
    .expect("pull on version 4");
    old.close();

    let store = Store::open(&name).await.expect("upgrade to version 5");
    // Registered in the field, not yet synced: no initials yet, so first, as the list sorts it.
    store
        .save_venue(&venue("无证网吧"))
        .await
        .expect("register on the phone");
    // An edit on the phone moves the venue in the index too.
    let mut renamed = pulled[0].clone();
    renamed.name = "阿里巴巴电玩城".to_owned();
    renamed.initials = "albbdwc".to_owned();
    store.save_venue(&renamed).await.expect("edit");
    let whole = store.list_venues("").await.expect("the whole list");
    let ids = |venues: &[Venue]| {
        venues
            .iter()
            .map(|venue| venue.id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(whole.items.len(), 7);
    assert_eq!(whole.items[0].name, "无证网吧");
    assert_eq!(whole.items[1].name, "阿里巴巴电玩城");
    let first = store.first_venues(4).await.expect("the first page");
    assert_eq!(ids(&first), ids(&whole.items[..4]));
    let all_by_index = store
        .first_venues(100)
        .await
        .expect("every venue by the index");
    assert_eq!(
        ids(&all_by_index),
        ids(&whole.items),
        "the index holds every venue, in the list's order"
    );

    // A value the index cannot hold (here damaged; or pulled by an older app, without initials):
    // the first page would not be the list's, so there is none, and the list waits for the register.
    store
        .put_raw(VENUES, None, raw(r#"{"record": {"id": "broken-venue"}}"#))
        .await
        .expect("plant a damaged value");
    assert_eq!(store.first_venues(4).await.expect("no first page"), vec![]);
    let whole = store.list_venues("").await.expect("the whole list");
    assert_eq!(whole.items.len(), 7);
    assert_eq!(
        whole.corrupt.len(),
        1,
        "the damaged value is named by the whole list"
    );
}

/// An older app opened offline (from the service worker's cache) after a newer one upgraded the
/// database: it uses the database as it is where the newer app marked it readable from the older
/// one's version, and says what happened where it did not.
#[wasm_bindgen_test]
async fn an_older_app_opens_a_newer_database_only_where_the_newer_app_marked_it_readable() {
    let name = format!("fieldcheck-test-{}", uuid::Uuid::now_v7());
    // Opened as far as the upgrade only: the mark comes with the upgrade's own transaction.
    let newest = Store::open_at(&name, DB_VERSION, || {})
        .await
        .expect("this build");
    assert_eq!(
        newest
            .meta_get::<u32>(meta_keys::READABLE_FROM)
            .await
            .expect("read the mark"),
        Some(DB_VERSION - 1),
        "the upgrade marks the database readable by the build before (version 5 only added an index)"
    );
    let pulled = venue("星际网咖");
    newest
        .put_venues(&[(pulled.clone(), 1)])
        .await
        .expect("pull");
    newest.close();

    // The build before this one, reading the mark: the database as it is, the venue in it.
    let older = Store::open_at(&name, DB_VERSION - 1, || {})
        .await
        .expect("the older build opens the newer database");
    assert_eq!(
        older.list_venues("").await.expect("list").items,
        vec![pulled]
    );
    older.close();
    // This build opens it again as before.
    let newest = Store::open(&name).await.expect("this build again");
    newest.close();

    // A later build whose step changed what values mean marks the database readable from its own
    // version only: this build does not open it, and says why.
    let later = Store::open_at(&name, DB_VERSION + 1, || {})
        .await
        .expect("a later build");
    plant_meta(
        &later,
        meta_keys::READABLE_FROM,
        &(DB_VERSION + 1).to_string(),
    )
    .await;
    later.close();
    let Err(refused) = Store::open(&name).await else {
        panic!("this build cannot use the later database");
    };
    assert!(
        matches!(refused, StoreError::NewerDatabase { version } if version == DB_VERSION + 1),
        "{refused}"
    );

    // A newer database with no mark at all is not guessed at either.
    let unmarked = format!("fieldcheck-test-{}", uuid::Uuid::now_v7());
    Store::open_at(&unmarked, DB_VERSION + 1, || {})
        .await
        .expect("a later build's database, unmarked")
        .close();
    let Err(refused) = Store::open(&unmarked).await else {
        panic!("this build cannot tell whether it may use an unmarked later database");
    };
    assert!(
        matches!(refused, StoreError::NewerDatabase { .. }),
        "{refused}"
    );
}

#[wasm_bindgen_test]
async fn an_approved_record_cannot_be_saved_over() {
    let (store, _) = fresh_store().await;
    let mut record = inspection("approved");
    record.status = Status::Submitted;
    synced_at(&store, &record, 1).await;
    let mut approved = record.clone();
    approved.status = Status::Approved;
    store
        .apply_page(&page(vec![change(&approved, 2)], "c"))
        .await
        .expect("pull");

    record.notes = "late edit".to_owned();
    let error = store
        .save_inspection(&record)
        .await
        .expect_err("approved is locked");

    assert!(matches!(error, StoreError::NotAllowed(_)), "{error:?}");
    assert_eq!(store.unsynced().await.expect("count").queued, 0);
}

// ---------------------------------------------------------------------------------------------
// The phone's data belongs to one user

/// A fresh phone that `username` logged in to: its data is theirs.
async fn owned_by(username: &str) -> (Store, User) {
    let (store, _) = fresh_store().await;
    let owner = user(username);
    store
        .take_over(&owner, TakeOver::OnlyIfSynced)
        .await
        .expect("the first officer logs in");
    (store, owner)
}

/// `user` takes the phone over, dropping the previous user's work that `export` saved.
async fn discarding(store: &Store, user: &User, export: &Export) -> Result<(), StoreError> {
    store
        .take_over(
            user,
            TakeOver::DiscardingExported {
                fingerprint: export.fingerprint.clone(),
            },
        )
        .await
}

/// A record too damaged to hold a sync state may be work the server never got: another user's
/// take-over neither clears it unseen nor leaves it out of the export.
#[wasm_bindgen_test]
async fn a_damaged_record_blocks_a_take_over_until_exported() {
    let (store, _) = owned_by("zhangwei").await;
    let b = user("liqiang");
    // One with no state the index can hold, one with a state it holds that no build writes.
    for planted in [
        r#"{"record": {"id": "damaged-3", "notes": "A的记录"}, "local": 5}"#,
        r#"{"record": {"id": "damaged-4"}, "local": {"state": 7}}"#,
    ] {
        store
            .put_raw(INSPECTIONS, None, raw(planted))
            .await
            .expect("plant");
    }
    assert_eq!(store.unsynced().await.expect("count").unreadable, 2);
    assert_eq!(store.badge_counts().await.expect("count").unreadable, 0);
    assert_eq!(
        store
            .take_over(&b, TakeOver::OnlyIfSynced)
            .await
            .expect_err("B is refused"),
        StoreError::UnsyncedWork(2)
    );
    let export = store.export_unsynced().await.expect("export");
    let document: Value = serde_json::from_str(&export.text).expect("JSON");
    let records = document["records"].as_array().expect("records");
    assert_eq!(records.len(), 2, "{records:?}");
    let damaged = records
        .iter()
        .find(|record| record["id"] == "damaged-3")
        .expect("damaged-3 exported");
    assert_eq!(damaged["stored"]["local"], 5);
    assert_eq!(damaged["stored"]["record"]["notes"], "A的记录");
    assert!(records.iter().any(|record| record["id"] == "damaged-4"));
    discarding(&store, &b, &export)
        .await
        .expect("B once it is exported");
    assert_eq!(store.unsynced().await.expect("count").total(), 0);
}

/// Two officers log out offline one after the other: both tokens wait to be revoked, each until the
/// server has taken it; a single token an older build kept is read as one of them.
#[wasm_bindgen_test]
async fn every_logout_made_offline_waits_to_be_sent() {
    let (store, _) = fresh_store().await;
    for (token, username) in [("token-a", "zhangwei"), ("token-b", "liqiang")] {
        store
            .set_session(&Session {
                token: token.to_owned(),
                user: user(username),
                expires_at: None,
                expired: false,
            })
            .await
            .expect("session");
        store.log_out().await.expect("log out");
    }
    let pending = || async { store.pending_logouts().await.expect("read") };
    assert_eq!(pending().await, ["token-a", "token-b"]);

    store.logout_sent("token-a").await.expect("sent");
    assert_eq!(pending().await, ["token-b"]);
    store.logout_sent("token-b").await.expect("sent");
    assert!(pending().await.is_empty());
    let left: Option<Value> = store
        .meta_get(meta_keys::PENDING_LOGOUT)
        .await
        .expect("read");
    assert_eq!(left, None, "nothing left to send, nothing kept");

    plant_meta(&store, meta_keys::PENDING_LOGOUT, r#""token-old""#).await;
    assert_eq!(pending().await, ["token-old"]);
    store.logout_sent("token-old").await.expect("sent");
    assert!(pending().await.is_empty());

    // A damaged value cannot be sent, and never stops a logout: the session goes, its token waits.
    plant_meta(&store, meta_keys::PENDING_LOGOUT, "42").await;
    assert!(pending().await.is_empty());
    store
        .set_session(&Session {
            token: "token-c".to_owned(),
            user: user("chenjing"),
            expires_at: None,
            expired: false,
        })
        .await
        .expect("session");
    store.log_out().await.expect("log out over a damaged value");
    assert_eq!(store.session().await.expect("read"), None);
    assert_eq!(pending().await, ["token-c"]);
}

/// Scenario: A saves offline and logs out; B must not push A's work under B's name.
#[wasm_bindgen_test]
async fn another_user_cannot_take_over_unsynced_work() {
    let (store, a) = owned_by("zhangwei").await;
    let b = user("liqiang");
    store
        .set_session(&Session {
            token: "token-a".to_owned(),
            user: a.clone(),
            expires_at: None,
            expired: false,
        })
        .await
        .expect("session");
    let record = inspection("A's offline work");
    store.save_inspection(&record).await.expect("save");
    store.log_out().await.expect("log out");
    assert_eq!(store.session().await.expect("read"), None);
    assert_eq!(
        store.pending_logouts().await.expect("read"),
        vec!["token-a".to_owned()]
    );

    let error = store
        .take_over(&b, TakeOver::OnlyIfSynced)
        .await
        .expect_err("B is refused");
    assert_eq!(error, StoreError::UnsyncedWork(1));
    assert_eq!(store.owner().await.expect("owner"), Some(a.clone()));
    assert!(
        store.inspection(&record.id).await.expect("read").is_some(),
        "A's work is untouched"
    );
    // A comes back: everything is still theirs.
    store
        .take_over(&a, TakeOver::OnlyIfSynced)
        .await
        .expect("A again");
    assert_eq!(store.unsynced().await.expect("count").queued, 1);

    // After exporting it, B may drop it and start afresh — but only what was exported.
    let export = store.export_unsynced().await.expect("export");
    let document: Value = serde_json::from_str(&export.text).expect("JSON");
    assert_eq!(document["owner"]["username"], "zhangwei");
    assert_eq!(document["records"][0]["id"], record.id.as_str());
    let mut later = record.clone();
    later.notes = "saved in another tab after the export".to_owned();
    store.save_inspection(&later).await.expect("a later save");
    assert_eq!(
        discarding(&store, &b, &export).await,
        Err(StoreError::ExportOutdated),
        "the export no longer covers what the phone holds"
    );
    // Nor does it cover a form begun after it (a form is never sent: dropping it loses it).
    let export = store.export_unsynced().await.expect("export again");
    let begun = inspection("a form begun after the export");
    store
        .save_form(&begun, &OpenedOn::default())
        .await
        .expect("autosave");
    assert_eq!(
        discarding(&store, &b, &export).await,
        Err(StoreError::ExportOutdated),
        "the form is not in the export"
    );
    let export = store.export_unsynced().await.expect("export a third time");
    let document: Value = serde_json::from_str(&export.text).expect("JSON");
    assert_eq!(document["forms"][0]["record"]["id"], begun.id.as_str());
    discarding(&store, &b, &export)
        .await
        .expect("B after export");
    assert_eq!(store.owner().await.expect("owner"), Some(b));
    assert_eq!(store.list_inspections().await.expect("list").items, vec![]);
    assert_eq!(store.pull_cursor().await.expect("cursor"), None);
}

#[wasm_bindgen_test]
async fn a_clean_takeover_clears_the_previous_users_synced_data() {
    let (store, _) = owned_by("zhangwei").await;
    let b = user("zhaolei");
    store
        .put_venues(&[(venue("A单位的场所"), 1)])
        .await
        .expect("venues");
    store
        .apply_page(&page(vec![], "cursor-of-a"))
        .await
        .expect("cursor");
    store
        .take_over(&b, TakeOver::OnlyIfSynced)
        .await
        .expect("B: nothing unsynced");
    assert_eq!(store.list_venues("").await.expect("list").items, vec![]);
    assert_eq!(
        store.pull_cursor().await.expect("cursor"),
        None,
        "B pulls from the start"
    );
}

/// The time of the last sync run, read at every start for the badge: as this build writes it, as
/// earlier builds wrote it (chrono's serde text), and a damaged value named, not taken for a time.
#[wasm_bindgen_test]
async fn the_last_sync_time_reads_back_as_written_by_this_build_and_earlier_ones() {
    let (store, _) = fresh_store().await;
    assert_eq!(store.last_synced().await.expect("none yet"), None);
    let at = chrono::DateTime::parse_from_rfc3339("2026-12-05T09:30:15.250+08:00").expect("time");
    store.set_last_synced(&at).await.expect("write");
    assert_eq!(store.last_synced().await.expect("read"), Some(at));
    let earlier =
        chrono::DateTime::parse_from_rfc3339("2026-06-30T23:59:59.123456789+08:00").expect("time");
    store
        .meta_set(meta_keys::LAST_SYNCED_AT, &earlier)
        .await
        .expect("written as earlier builds did");
    assert_eq!(store.last_synced().await.expect("read"), Some(earlier));
    store
        .meta_set(meta_keys::LAST_SYNCED_AT, &"yesterday")
        .await
        .expect("damaged");
    match store.last_synced().await {
        Err(StoreError::Corrupt { store, key, .. }) => {
            assert_eq!((store, key.as_str()), (META, meta_keys::LAST_SYNCED_AT));
        }
        other => panic!("a damaged time must be named, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Autosave

/// Scenario: leaving the inspection screen lost the form.
#[wasm_bindgen_test]
async fn the_form_is_kept_as_typed_and_leaves_with_the_save() {
    let (store, name) = fresh_store().await;
    let mut record = inspection("half typed");
    store
        .save_form(&record, &OpenedOn::default())
        .await
        .expect("autosave");
    store.close();

    let reopened = Store::open(&name).await.expect("the browser was killed");
    let resumed = reopened
        .new_form_for_venue(&record.venue_id)
        .await
        .expect("read")
        .expect("resumed");
    assert_eq!(resumed.record, record);
    assert_eq!(reopened.unsynced().await.expect("count").forms, 1);
    assert_eq!(reopened.forms().await.expect("forms").items.len(), 1);

    record.notes = "finished".to_owned();
    reopened.save_inspection(&record).await.expect("save");
    assert_eq!(
        reopened.form(&record.id).await.expect("read"),
        None,
        "saved: the form is gone"
    );
    assert_eq!(
        reopened
            .new_form_for_venue(&record.venue_id)
            .await
            .expect("read"),
        None
    );
}

// ---------------------------------------------------------------------------------------------
// Upgrades

/// A promise and the function that resolves it, to wait for a callback.
fn signal() -> (js_sys::Promise, js_sys::Function) {
    let mut resolve = None;
    let promise = js_sys::Promise::new(&mut |resolve_fn, _| resolve = Some(resolve_fn));
    (promise, resolve.expect("the executor runs at once"))
}

/// Scenario: an older open tab blocked the upgrade and the app waited on "loading" forever.
#[wasm_bindgen_test]
async fn an_older_open_tab_blocks_the_upgrade_and_the_app_is_told() {
    let name = format!("fieldcheck-test-{}", uuid::Uuid::now_v7());
    let old_tab = Store::open_at(&name, 1, || {})
        .await
        .expect("an old version open");
    let (blocked, on_blocked) = signal();
    let (opened, on_opened) = signal();
    wasm_bindgen_futures::spawn_local({
        let name = name.clone();
        async move {
            let opened = Store::open_watched(
                &name,
                move || {
                    let _ = on_blocked.call0(&JsValue::NULL);
                },
                || {},
            )
            .await;
            let usable = match opened {
                Ok(store) => store.unsynced().await.is_ok(),
                Err(_) => false,
            };
            let _ = on_opened.call1(&JsValue::NULL, &JsValue::from_bool(usable));
        }
    });
    JsFuture::from(blocked)
        .await
        .expect("the app hears it is blocked");
    old_tab.close();
    let usable = JsFuture::from(opened).await.expect("the open finishes");
    assert_eq!(
        usable.as_bool(),
        Some(true),
        "opens and works once the old tab closes"
    );
}

#[wasm_bindgen_test]
async fn a_newer_version_in_another_tab_closes_this_connection_and_says_so() {
    let name = format!("fieldcheck-test-{}", uuid::Uuid::now_v7());
    let (outdated, on_outdated) = signal();
    let store = Store::open_watched(
        &name,
        || {},
        move || {
            let _ = on_outdated.call0(&JsValue::NULL);
        },
    )
    .await
    .expect("open");
    let newer = Store::open_at(&name, fieldcheck::store::DB_VERSION + 1, || {})
        .await
        .expect("the newer version is not blocked by this tab");
    JsFuture::from(outdated)
        .await
        .expect("this tab is told to reload");
    newer.close();
    drop(store);
}

/// A database this build makes holds nothing of an older layout, and says so from the start: the
/// release build then never fetches the conversion's code on a new phone.
#[wasm_bindgen_test]
async fn a_new_database_is_marked_with_the_current_layout_as_it_is_made() {
    let (store, name) = fresh_store().await;
    assert_eq!(
        store
            .meta_get::<u32>(meta_keys::LAYOUT)
            .await
            .expect("read"),
        Some(2)
    );
    store.close();
    // A database made by an older version is not marked by the upgrade: its values may be older.
    let old_name = format!("{name}-old");
    Store::open_at(&old_name, 1, || {})
        .await
        .expect("version 1")
        .close();
    let old = Store::open_at(&old_name, DB_VERSION, || {})
        .await
        .expect("upgrade");
    assert_eq!(
        old.meta_get::<u32>(meta_keys::LAYOUT).await.expect("read"),
        None
    );
}

/// The phone of an earlier version: every record, every queued change and the session must survive.
#[wasm_bindgen_test]
async fn a_phone_from_the_first_layout_keeps_every_record_and_its_queue() {
    let name = format!("fieldcheck-test-{}", uuid::Uuid::now_v7());
    let old = Store::open_at(&name, 1, || {}).await.expect("layout 1");
    let synced = inspection("synced");
    let in_flight = inspection("edited after sending");
    let conflict = inspection("mine in conflict");
    let rejected = inspection("refused");
    let new_venue = venue("离线新增场所");
    let owner = user("zhangwei");
    let plant = |value: Value| raw(&value.to_string());
    old.put_raw(INSPECTIONS, None, plant(json!({"record": synced, "rev": 2, "sync": "synced", "updated_at": "2026-11-26T10:00:00+08:00"}))).await.expect("plant");
    old.put_raw(INSPECTIONS, None, plant(json!({"record": in_flight, "rev": 1, "sync": "pending", "updated_at": "2026-11-26T10:00:00+08:00"}))).await.expect("plant");
    old.put_raw(INSPECTIONS, None, plant(json!({"record": conflict, "rev": 1, "sync": "conflict", "server_copy": {"rev": 3, "body": {"theirs": true}}, "updated_at": "2026-11-26T10:00:00+08:00"}))).await.expect("plant");
    old.put_raw(INSPECTIONS, None, plant(json!({"record": rejected, "rev": 0, "sync": "rejected", "error": {"code": "invalid", "message": "bad"}, "updated_at": "2026-11-26T10:00:00+08:00"}))).await.expect("plant");
    old.put_raw(
        INSPECTIONS,
        None,
        raw(r#"{"record": {"id": "unreadable-v1"}, "sync": 42}"#),
    )
    .await
    .expect("plant");
    old.put_raw(VENUES, None, plant(json!({"record": new_venue, "rev": 0})))
        .await
        .expect("plant");
    // The outbox: the venue first, then the sent entry of `in_flight` with its older body.
    let mut sent_body = in_flight.clone();
    sent_body.notes = "as sent".to_owned();
    old.put_raw(OUTBOX, None, plant(json!({"op_id": "op-venue", "entity": "venue", "id": new_venue.id, "body": new_venue, "attempts": 0}))).await.expect("plant");
    old.put_raw(OUTBOX, None, plant(json!({"op_id": "op-sent", "entity": "inspection", "id": in_flight.id, "body": sent_body, "attempts": 1}))).await.expect("plant");
    old.put_raw(OUTBOX, None, plant(json!({"op_id": "op-later", "entity": "inspection", "id": in_flight.id, "body": in_flight, "attempts": 0}))).await.expect("plant");
    old.put_raw(
        META,
        Some(JsValue::from_str(meta_keys::SESSION)),
        plant(json!({"token": "t", "user": owner})),
    )
    .await
    .expect("plant");
    old.close();

    let store = Store::open(&name).await.expect("upgrade and convert");

    assert_eq!(
        state_of(&store, &synced).await,
        LocalState::Synced {
            server: ServerVersion {
                rev: 2,
                body: body(&synced)
            }
        }
    );
    match state_of(&store, &in_flight).await {
        LocalState::InFlight {
            op_id,
            mine,
            next,
            base,
            ..
        } => {
            assert_eq!(
                op_id.as_str(),
                "op-sent",
                "the same op id: a replay is still a duplicate"
            );
            assert_eq!(mine, body(&sent_body));
            assert_eq!(next, Some(body(&in_flight)));
            assert_eq!(base.map(|base| base.rev), Some(1));
        }
        other => panic!("expected in flight, got {other:?}"),
    }
    assert!(
        matches!(state_of(&store, &conflict).await, LocalState::Conflict { server, .. } if server.rev == 3)
    );
    assert!(
        matches!(state_of(&store, &rejected).await, LocalState::Rejected { reason, .. } if reason.code == "invalid")
    );
    let awaiting = store.awaiting_person().await.expect("awaiting");
    assert!(
        awaiting
            .iter()
            .any(|a| a.id == "unreadable-v1" && a.mark == SyncMark::Quarantined)
    );
    assert_eq!(store.owner().await.expect("owner"), Some(owner));
    let batch = store.take_batch(50).await.expect("take");
    let order: Vec<&str> = batch.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(
        &order[..2],
        [new_venue.id.as_str(), in_flight.id.as_str()],
        "the old queue order holds"
    );
    // The entry never sent gets its op id when it is taken; the one sent keeps its own.
    assert_eq!(batch[1].op_id.as_str(), "op-sent");
    assert_eq!(batch[1].base_rev, 1);
    assert_eq!(
        store
            .get_raw(OUTBOX, JsValue::from_f64(1.0))
            .await
            .expect("read"),
        None,
        "the outbox was folded into the records"
    );
    // Converting again changes nothing: the layout is recorded.
    store.close();
    let again = Store::open(&name).await.expect("reopen");
    assert_eq!(again.take_batch(50).await.expect("take"), batch);
}

// ---------------------------------------------------------------------------------------------
// What the review of the change asked for

/// A run for A must not write into the phone once B took it over (logout and login mid-run).
#[wasm_bindgen_test]
async fn a_run_for_one_user_stops_once_another_takes_the_phone_over() {
    let (store, a) = owned_by("zhangwei").await;
    let b = user("zhaolei");
    let run_for_a = store.bound_to(a.id.clone());
    run_for_a
        .apply_page(&page(vec![], "a-1"))
        .await
        .expect("A's run works for A");
    store
        .take_over(&b, TakeOver::OnlyIfSynced)
        .await
        .expect("B takes over");
    let cafe = venue("A单位的场所");
    let a_page = page(
        vec![Change {
            entity: Entity::Venue,
            id: cafe.id.to_string(),
            rev: 1,
            body: serde_json::to_value(&cafe).expect("JSON"),
            deleted: false,
        }],
        "a-2",
    );
    assert_eq!(
        run_for_a.apply_page(&a_page).await,
        Err(StoreError::OwnerChanged)
    );
    assert_eq!(
        run_for_a.take_batch(50).await,
        Err(StoreError::OwnerChanged)
    );
    let a_officer = fieldcheck_core::sync::Officer {
        user: a.clone(),
        active: true,
    };
    assert_eq!(
        run_for_a.set_officers(&[a_officer]).await,
        Err(StoreError::OwnerChanged)
    );
    assert_eq!(
        store.list_venues("").await.expect("list").items,
        vec![],
        "nothing of A's unit for B"
    );
    assert_eq!(store.officers().await.expect("officers"), vec![]);
    assert_eq!(
        store.pull_cursor().await.expect("cursor"),
        None,
        "B's pull starts from the start"
    );
}

/// A form opened on one copy and saved after a newer one was pulled waits as a conflict.
#[wasm_bindgen_test]
async fn a_save_from_a_form_opened_on_an_older_copy_does_not_undo_the_newer_one() {
    let (store, _) = fresh_store().await;
    let mut record = inspection("base");
    synced_at(&store, &record, 1).await;
    let mut theirs = record.clone();
    theirs.notes = "co-officer added a hazard".to_owned();
    store
        .apply_page(&page(vec![change(&theirs, 2)], "c"))
        .await
        .expect("pull while the form is open");

    record.notes = "typed on rev 1".to_owned();
    let saved = store
        .save_inspection_from(
            &record,
            Some(&OpenedOn {
                base: Some(ServerVersion {
                    rev: 1,
                    body: Value::Null,
                }),
                shown: None,
            }),
        )
        .await
        .expect("save");

    assert_eq!(saved.mark(), SyncMark::Conflict);
    assert_eq!(
        store.take_batch(50).await.expect("take"),
        vec![],
        "nothing goes before the choice"
    );
    assert!(
        matches!(state_of(&store, &record).await, LocalState::Conflict { server, .. } if server.rev == 2)
    );
}

/// A form opened on the officer's own draft, still queued, and saved after the run pushed that
/// draft and the pull brought it back with the server's fields: the newer copy is the officer's own
/// work, so the save goes out on top of it, not as a conflict against themselves. The form kept by
/// the autosave says what it was opened on, so a form resumed later tells the two apart too.
#[wasm_bindgen_test]
async fn a_form_opened_on_its_own_queued_draft_saves_after_that_draft_synced() {
    let (store, _) = fresh_store().await;
    let draft = inspection("draft typed offline");
    store.save_inspection(&draft).await.expect("draft");
    let mut record = draft.clone();
    let opened = OpenedOn::now(Some(&state_of(&store, &record).await));
    assert_eq!(opened.rev(), 0, "the server has never had it");
    record.notes = "typed on the reopened form".to_owned();
    store.save_form(&record, &opened).await.expect("autosave");

    // The run sends the draft; the server applies it at rev 1 and the pull brings it back.
    applied_at(&store, &draft, 1).await;
    let mut on_server = body(&draft);
    on_server["created_by"] = json!("u-author");
    store
        .apply_page(&page(
            vec![Change {
                body: on_server,
                ..change(&record, 1)
            }],
            "c1",
        ))
        .await
        .expect("pull");

    let resumed = store
        .form(&record.id)
        .await
        .expect("read the form")
        .expect("the form is kept");
    assert_eq!(resumed.opened_on(), opened);
    record.status = Status::Submitted;
    let saved = store
        .save_inspection_from(&record, Some(&resumed.opened_on()))
        .await
        .expect("save");
    assert_eq!(saved.mark(), SyncMark::Pending);
    let sent = store.take_batch(50).await.expect("take");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].base_rev, 1, "on top of the draft the server holds");
    assert_eq!(sent[0].body["notes"], json!("typed on the reopened form"));
}

/// The kept form says what it was opened on, the server's copy under it body and all: a form resumed
/// tomorrow merges with a colleague's edit exactly as one saved today would.
#[wasm_bindgen_test]
async fn a_kept_form_keeps_the_copy_it_was_opened_on() {
    let (store, _) = fresh_store().await;
    let record = inspection("on the server");
    synced_at(&store, &record, 1).await;
    let opened = OpenedOn::now(Some(&state_of(&store, &record).await));
    assert_eq!(opened.base.as_ref().map(|base| base.rev), Some(1));
    assert_eq!(
        opened.base.as_ref().map(|base| &base.body),
        Some(&body(&record))
    );
    store.save_form(&record, &opened).await.expect("autosave");
    let kept = store.form(&record.id).await.expect("read").expect("kept");
    assert_eq!(kept.opened_on(), opened);
}

/// A venue held at rev 1, its correction form opened on it, and rev 2 with a new `address` (from
/// another phone, or the register's import) pulled while the form is open: the venue at rev 1, the
/// venue as the form shows it, and what the form was opened on.
async fn venue_changed_under_its_form(store: &Store, address: &str) -> (Venue, Venue, OpenedOn) {
    let cafe = venue("星空网吧");
    store
        .put_venues(&[(cafe.clone(), 1)])
        .await
        .expect("register");
    let (shown, opened) = store
        .venue_to_edit(&cafe.id)
        .await
        .expect("read")
        .expect("the venue is there");
    assert_eq!(opened.rev(), 1);
    let mut newer = cafe.clone();
    newer.address = address.to_owned();
    let pulled = Change {
        entity: Entity::Venue,
        id: cafe.id.to_string(),
        rev: 2,
        body: serde_json::to_value(&newer).expect("JSON"),
        deleted: false,
    };
    store
        .apply_page(&page(vec![pulled], "c1"))
        .await
        .expect("pull while the form is open");
    (cafe, shown, opened)
}

/// A supervisor's correction of a venue, made on rev 1 and saved after a pull brought rev 2 (the
/// register's import changed the address): it waits as a conflict instead of undoing rev 2, and
/// keeping it sends it on top of rev 2.
#[wasm_bindgen_test]
async fn a_venue_corrected_on_an_older_copy_waits_beside_the_newer_one() {
    let (store, _) = fresh_store().await;
    let (cafe, shown, opened) = venue_changed_under_its_form(&store, "新华路 8 号").await;

    let mut corrected = shown;
    corrected.contact_phone = "13800000000".to_owned();
    let mark = store
        .save_venue_from(&corrected, &opened)
        .await
        .expect("save");
    assert_eq!(mark, SyncMark::Conflict);
    assert_eq!(
        store.take_batch(50).await.expect("take"),
        vec![],
        "nothing goes before the choice"
    );
    // 我的 offers the merge: the correction and the import touched different fields.
    let waiting = store.awaiting_person().await.expect("awaiting");
    assert_eq!(waiting.len(), 1);
    assert!(waiting[0].mergeable);
    let sides = waiting[0].sides.as_ref().expect("both copies, to compare");
    assert_eq!(sides.mine["contact_phone"], json!("13800000000"));
    assert_eq!(sides.theirs["address"], json!("新华路 8 号"));
    store
        .resolve(Entity::Venue, cafe.id.as_str(), Resolution::KeepMerged)
        .await
        .expect("merge");
    let sent = store.take_batch(50).await.expect("take");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].base_rev, 2, "on top of the newer copy");
    assert_eq!(sent[0].body["contact_phone"], json!("13800000000"));
    assert_eq!(
        sent[0].body["address"],
        json!("新华路 8 号"),
        "the import's address stays"
    );
}

/// Two corrections of one field cannot merge: 我的 is given both copies to compare, and keeping this
/// phone's sends it on top of the newer copy, which it then replaces knowingly.
#[wasm_bindgen_test]
async fn a_venue_correction_that_cannot_merge_is_compared_and_kept_on_top_of_the_newer_copy() {
    let (store, _) = fresh_store().await;
    let (cafe, shown, opened) = venue_changed_under_its_form(&store, "新华路 8 号").await;
    let mut mine = shown;
    mine.address = "新华路 18 号".to_owned();
    let mark = store.save_venue_from(&mine, &opened).await.expect("save");
    assert_eq!(mark, SyncMark::Conflict);

    let waiting = store.awaiting_person().await.expect("awaiting");
    assert_eq!(waiting.len(), 1);
    assert!(!waiting[0].mergeable, "both changed the address");
    let sides = waiting[0].sides.as_ref().expect("both copies, to compare");
    assert_eq!(
        (&sides.mine["address"], &sides.theirs["address"]),
        (&json!("新华路 18 号"), &json!("新华路 8 号"))
    );
    assert!(
        store
            .resolve(Entity::Venue, cafe.id.as_str(), Resolution::KeepMerged)
            .await
            .is_err(),
        "nothing to merge"
    );
    store
        .resolve(Entity::Venue, cafe.id.as_str(), Resolution::KeepMine)
        .await
        .expect("keep mine");
    let sent = store.take_batch(50).await.expect("take");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].base_rev, 2, "on top of the newer copy");
    assert_eq!(sent[0].body["address"], json!("新华路 18 号"));
    assert_eq!(store.awaiting_person().await.expect("awaiting"), vec![]);
}

/// Layout-1 leftovers: an entry whose body is not a record still converts (the key path never
/// fails), and an unreadable entry counts as unsynced and goes into the export.
#[wasm_bindgen_test]
async fn odd_layout_1_queue_entries_neither_block_the_update_nor_get_lost() {
    let name = format!("fieldcheck-test-{}", uuid::Uuid::now_v7());
    let old = Store::open_at(&name, 1, || {}).await.expect("layout 1");
    let id = new_id();
    let odd = json!({"op_id": "op-odd", "entity": "inspection", "id": id, "body": "not an object", "attempts": 0});
    old.put_raw(OUTBOX, None, raw(&odd.to_string()))
        .await
        .expect("plant");
    old.put_raw(OUTBOX, None, raw(r#"{"op_id": 5}"#))
        .await
        .expect("plant");
    old.close();

    let store = Store::open(&name).await.expect("the update goes through");

    assert!(
        matches!(state_of_id(&store, &id).await, LocalState::Queued { mine, .. } if mine == json!("not an object"))
    );
    let unsynced = store.unsynced().await.expect("count");
    assert_eq!((unsynced.queued, unsynced.leftovers), (1, 1));
    let export: Value =
        serde_json::from_str(&store.export_unsynced().await.expect("export").text).expect("JSON");
    assert_eq!(export["unreadable_queue"][0]["op_id"], 5);
}

async fn state_of_id(store: &Store, id: &str) -> LocalState {
    let value = store
        .get_raw(INSPECTIONS, JsValue::from_str(id))
        .await
        .expect("read")
        .expect("there");
    let text = js_sys::JSON::stringify(&value)
        .expect("JSON")
        .as_string()
        .expect("text");
    serde_json::from_str::<StoredRecord>(&text)
        .expect("stored")
        .local
}

/// Discarding a record the server has but the phone knows only by its rev pulls everything again.
#[wasm_bindgen_test]
async fn discarding_a_record_known_only_by_its_rev_pulls_everything_again() {
    let (store, _) = fresh_store().await;
    let record = inspection("refused, layout 1");
    let refused = LocalState::Rejected {
        base: Some(ServerVersion {
            rev: 3,
            body: Value::Null,
        }),
        mine: body(&record),
        reason: ErrorBody::new("invalid", "bad"),
        newer: None,
    };
    let stored = StoredRecord::new(record.id.as_str(), refused);
    store
        .put_raw(
            INSPECTIONS,
            None,
            raw(&serde_json::to_string(&stored).expect("JSON")),
        )
        .await
        .expect("plant");
    store
        .apply_page(&page(vec![], "far-along"))
        .await
        .expect("cursor");

    store
        .resolve(Entity::Inspection, record.id.as_str(), Resolution::Discard)
        .await
        .expect("discard");

    assert_eq!(store.inspection(&record.id).await.expect("read"), None);
    assert_eq!(
        store.pull_cursor().await.expect("cursor"),
        None,
        "the record comes back with the next pull"
    );
}

// ---------------------------------------------------------------------------------------------
// Keeping the phone light

/// An approved record started 21 months before the sweeps below.
/// An open hazard (消防通道堵塞), to be fixed as `rectify` says.
fn open_hazard_fixed_by(rectify: Option<fieldcheck_core::Rectify>) -> fieldcheck_core::Hazard {
    fieldcheck_core::Hazard {
        id: fieldcheck_core::HazardId(new_id()),
        item: None,
        description: "消防通道堵塞".to_owned(),
        rectify,
        deadline: None,
        status: fieldcheck_core::HazardStatus::Open,
        photos: Vec::new(),
    }
}

fn old_approved(notes: &str) -> Inspection {
    let mut record = inspection(notes);
    record.status = Status::Approved;
    record.started_at =
        chrono::DateTime::parse_from_rfc3339("2025-03-01T10:00:00+08:00").expect("a time");
    record
}

#[wasm_bindgen_test]
async fn only_colleagues_old_settled_records_are_dropped_and_nothing_unsent() {
    let (store, _) = fresh_store().await;
    let officer = user("me");
    let me = officer.id.clone();
    store
        .take_over(&officer, TakeOver::OnlyIfSynced)
        .await
        .expect("the phone is mine");
    // Pulled from the server, a colleague's, 21 months old: goes.
    let colleague_old = old_approved("colleague, old");
    // The same, but a form of it is open on the phone: stays.
    let with_form = old_approved("colleague, old, form open");
    // Mine, as old: stays.
    let mut mine_old = old_approved("mine, old");
    mine_old.inspectors.push(me.clone());
    // A colleague's old record with a hazard still open: stays.
    let mut open_hazard = old_approved("colleague, old, hazard open");
    open_hazard.hazards.push(open_hazard_fixed_by(None));
    // A colleague's recent record: stays.
    let mut recent = inspection("colleague, recent");
    recent.status = Status::Approved;
    // A colleague's old record still submitted: stays until it is approved.
    let mut submitted = old_approved("colleague, old, submitted");
    submitted.status = Status::Submitted;
    // A colleague's old re-inspection of the record with the open hazard: stays with it.
    let mut follow_up = old_approved("colleague, old, follows the open hazard");
    follow_up.follows = Some(open_hazard.id.clone());
    let pulled = [
        &colleague_old,
        &with_form,
        &mine_old,
        &open_hazard,
        &recent,
        &submitted,
        &follow_up,
    ];
    store
        .apply_page(&page(
            pulled.iter().map(|record| change(record, 1)).collect(),
            "c1",
        ))
        .await
        .expect("pull");
    store
        .save_form(
            &with_form,
            &OpenedOn {
                base: Some(ServerVersion {
                    rev: 1,
                    body: Value::Null,
                }),
                shown: None,
            },
        )
        .await
        .expect("form");
    // An old record with an edit not yet sent (this phone edits a colleague's draft): stays.
    let mut unsent = old_approved("colleague, old, edited here");
    unsent.status = Status::Draft;
    store.save_inspection(&unsent).await.expect("save");

    let now = chrono::DateTime::parse_from_rfc3339("2026-12-02T09:00:00+08:00").expect("a time");
    store.set_keep_months(12).await.expect("keep a year");
    assert_eq!(store.keep_months().await.expect("read"), 12);
    // Only a store bound to the phone's owner drops anything, and only while the phone is theirs.
    assert_eq!(store.drop_old_copies(now).await.expect("unbound"), 0);
    let someone_else = store.bound_to(UserId(new_id()));
    assert!(someone_else.drop_old_copies(now).await.is_err());
    let bound = store.bound_to(me.clone());
    store.set_keep_months(0).await.expect("keep all");
    assert_eq!(bound.drop_old_copies(now).await.expect("drop"), 0);
    store.set_keep_months(12).await.expect("keep a year");
    assert_eq!(bound.drop_old_copies(now).await.expect("drop"), 1);

    let left: Vec<String> = store
        .list_inspections()
        .await
        .expect("list")
        .items
        .into_iter()
        .map(|local| local.record.notes)
        .collect();
    assert!(!left.contains(&"colleague, old".to_owned()), "{left:?}");
    for kept in [
        &with_form,
        &mine_old,
        &open_hazard,
        &recent,
        &unsent,
        &submitted,
        &follow_up,
    ] {
        assert!(
            left.contains(&kept.notes),
            "{} dropped: {left:?}",
            kept.notes
        );
    }
}

#[wasm_bindgen_test]
async fn old_copies_are_swept_once_a_day_and_again_when_the_setting_changes() {
    let (store, _) = fresh_store().await;
    let officer = user("me");
    store
        .take_over(&officer, TakeOver::OnlyIfSynced)
        .await
        .expect("the phone is mine");
    let bound = store.bound_to(officer.id.clone());
    let pull = |record: &Inspection, cursor: &'static str| {
        let change = change(record, 1);
        let store = store.clone();
        async move {
            store
                .apply_page(&page(vec![change], cursor))
                .await
                .expect("pull");
        }
    };
    let count = || async { store.list_inspections().await.expect("list").items.len() };
    let today = chrono::DateTime::parse_from_rfc3339("2026-12-02T09:00:00+08:00").expect("a time");
    let tomorrow =
        chrono::DateTime::parse_from_rfc3339("2026-12-03T09:00:00+08:00").expect("a time");

    pull(&old_approved("colleague, old"), "c1").await;
    store.set_keep_months(0).await.expect("keep all");
    assert_eq!(bound.sweep_old_copies(today).await.expect("sweep"), 0);
    // The setting changed: the sweep is due again the same day.
    store.set_keep_months(12).await.expect("keep a year");
    assert_eq!(bound.sweep_old_copies(today).await.expect("sweep"), 1);
    assert_eq!(count().await, 0);
    // Swept today with this setting: another old copy waits for tomorrow's sweep.
    pull(&old_approved("another colleague, old"), "c2").await;
    assert_eq!(bound.sweep_old_copies(today).await.expect("sweep"), 0);
    assert_eq!(count().await, 1);
    assert_eq!(bound.sweep_old_copies(tomorrow).await.expect("sweep"), 1);
    assert_eq!(count().await, 0);
    // Another officer takes the phone over: their first pull, from the start, is swept the same day.
    let next = user("next");
    store
        .take_over(&next, TakeOver::OnlyIfSynced)
        .await
        .expect("a clean phone");
    let store = store.bound_to(next.id.clone());
    store
        .apply_page(&page(vec![change(&old_approved("pulled again"), 1)], "c3"))
        .await
        .expect("pull");
    assert_eq!(store.sweep_old_copies(tomorrow).await.expect("sweep"), 1);
}

#[wasm_bindgen_test]
async fn a_page_naming_a_record_twice_applies_both_changes_in_order() {
    let (store, _) = fresh_store().await;
    let first = inspection("first");
    store
        .apply_page(&page(vec![change(&first, 1)], "c1"))
        .await
        .expect("pull");
    // The page's reads all go out before the first is answered: the second change of a record
    // must still meet what the first made of it, not what was stored before the page.
    let mut second = first.clone();
    second.notes = "second".to_owned();
    let other = inspection("made and removed within the page");
    let removed = Change {
        deleted: true,
        body: Value::Null,
        ..change(&other, 2)
    };
    let applied = store
        .apply_page(&page(
            vec![
                change(&first, 1),
                change(&second, 2),
                change(&other, 1),
                removed,
                change(&first, 1),
            ],
            "c2",
        ))
        .await
        .expect("pull");
    assert_eq!(applied.changed, 3, "rev 1 again changes nothing");
    match state_of(&store, &first).await {
        LocalState::Synced { server } => {
            assert_eq!(server.rev, 2, "an older rev after a newer one is ignored");
            assert_eq!(server.body["notes"], "second");
        }
        other => panic!("expected synced, got {other:?}"),
    }
    assert_eq!(store.inspection(&other.id).await.expect("read"), None);
}

fn with_hazard(notes: &str, rectify: Option<fieldcheck_core::Rectify>) -> Inspection {
    let mut record = inspection(notes);
    record.hazards.push(open_hazard_fixed_by(rectify));
    record
}

#[wasm_bindgen_test]
async fn the_hazard_board_reads_the_records_with_hazards_and_their_follow_ups() {
    let (store, _) = fresh_store().await;
    let plain = inspection("no hazard");
    let hazard = with_hazard(
        "a hazard to fix by a deadline",
        Some(fieldcheck_core::Rectify::Deadline),
    );
    let undecided = with_hazard("a hazard, how to fix it not chosen", None);
    let on_site = with_hazard(
        "a hazard fixed on the spot",
        Some(fieldcheck_core::Rectify::OnSite),
    );
    let mut follow_up = inspection("a re-inspection");
    follow_up.follows = Some(hazard.id.clone());
    let mut follow_up_with_hazard = with_hazard("a re-inspection finding a new hazard", None);
    follow_up_with_hazard.follows = Some(hazard.id.clone());
    let mut fixed_later = with_hazard("a hazard taken off the record later", None);
    // Pulled copies and one saved on this phone (queued): both kinds are read.
    store
        .apply_page(&page(
            [
                &plain,
                &hazard,
                &undecided,
                &follow_up,
                &follow_up_with_hazard,
                &fixed_later,
            ]
            .iter()
            .map(|record| change(record, 1))
            .collect(),
            "c1",
        ))
        .await
        .expect("pull");
    store.save_inspection(&on_site).await.expect("save");
    // The indexes follow every write: a record whose hazard is gone leaves the board.
    fixed_later.hazards.clear();
    store
        .apply_page(&page(vec![change(&fixed_later, 2)], "c2"))
        .await
        .expect("pull the edit");

    assert_eq!(
        hazard_board(&store).await,
        [
            "a hazard fixed on the spot",
            "a hazard to fix by a deadline",
            "a hazard, how to fix it not chosen",
            "a re-inspection",
            "a re-inspection finding a new hazard",
        ],
        "every record holding a hazard (the board leaves out those fixed on the spot itself) and \
         every record following another, each once; never the rest"
    );
    assert_eq!(
        store.list_inspection_rows().await.expect("all").items.len(),
        7
    );
}

/// The notes of the records the hazard board reads, sorted.
async fn hazard_board(store: &Store) -> Vec<String> {
    let mut read: Vec<String> = store
        .hazard_inspection_rows()
        .await
        .expect("read the hazard board")
        .items
        .into_iter()
        .map(|row| row.record.notes)
        .collect();
    read.sort();
    read
}

/// A phone of schema version 3 (before the hazard board's indexes): the upgrade indexes the records
/// it already holds, without rewriting or losing any.
#[wasm_bindgen_test]
async fn the_upgrade_to_version_4_indexes_the_records_already_stored() {
    let name = format!("fieldcheck-test-{}", uuid::Uuid::now_v7());
    let old = Store::open_at(&name, 3, || {}).await.expect("version 3");
    // What the app of version 3 left: values of layout 2, written by the same code as today's.
    old.put_raw(META, Some(JsValue::from_str(meta_keys::LAYOUT)), raw("2"))
        .await
        .expect("plant the layout");
    let plain = inspection("no hazard");
    let hazard = with_hazard("a hazard", Some(fieldcheck_core::Rectify::Deadline));
    let mut follow_up = inspection("a re-inspection");
    follow_up.follows = Some(hazard.id.clone());
    old.apply_page(&page(
        [&plain, &hazard, &follow_up]
            .iter()
            .map(|record| change(record, 1))
            .collect(),
        "c1",
    ))
    .await
    .expect("pull on version 3");
    let queued = with_hazard("saved offline, not sent", None);
    old.save_inspection(&queued)
        .await
        .expect("save on version 3");
    old.close();

    let store = Store::open(&name).await.expect("upgrade to version 4");

    assert_eq!(
        hazard_board(&store).await,
        ["a hazard", "a re-inspection", "saved offline, not sent"]
    );
    assert_eq!(
        store.list_inspection_rows().await.expect("all").items.len(),
        4
    );
    // The queued record is still queued, untouched by the upgrade.
    assert_eq!(store.unsynced().await.expect("count").queued, 1);
}

// ---------------------------------------------------------------------------------------------
// The register's digest

/// The names the list shows, in its order.
async fn listed_names(store: &Store) -> Vec<String> {
    let listed = store.list_venues("").await.expect("list the register");
    assert!(listed.corrupt.is_empty(), "{:?}", listed.corrupt);
    let mut names: Vec<String> = listed.items.into_iter().map(|venue| venue.name).collect();
    names.sort();
    names
}

/// `names` as [`listed_names`] gives them.
fn sorted(names: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = names.iter().map(|name| (*name).to_owned()).collect();
    names.sort();
    names
}

/// Puts a false name into the register's digest (as the digest of an older register would hold),
/// leaving its stamp: a list that shows it was answered from the digest.
async fn doctor_digest(store: &Store) {
    let kept = store
        .get_raw(META, JsValue::from_str(meta_keys::REGISTER_DIGEST))
        .await
        .expect("read the digest")
        .and_then(|value| value.as_string())
        .expect("a digest is kept");
    let mut digest: Value = serde_json::from_str(&kept).expect("the digest is JSON");
    digest["records"][0]["name"] = json!("旧名网吧");
    store
        .put_raw(
            META,
            Some(JsValue::from_str(meta_keys::REGISTER_DIGEST)),
            JsValue::from_str(&digest.to_string()),
        )
        .await
        .expect("put the doctored digest");
}

/// Waits (up to 5 s) until the kept digest no longer holds the false name.
async fn digest_made_again(store: &Store) {
    for _ in 0..100 {
        let kept = store
            .get_raw(META, JsValue::from_str(meta_keys::REGISTER_DIGEST))
            .await
            .expect("read the digest")
            .and_then(|value| value.as_string())
            .unwrap_or_default();
        if !kept.is_empty() && !kept.contains("旧名网吧") {
            return;
        }
        gloo_timers::future::TimeoutFuture::new(50).await;
    }
    panic!("the digest was not made again from the register");
}

/// 场所 and the other lists take the register from its digest, one value, while no venue has been
/// written since it was made; every kind of write to the venues store makes the next list read the
/// register itself. A digest that is not the register's (an older build writes venues without a
/// stamp) is checked once per page behind the first answer, and made again.
#[wasm_bindgen_test]
async fn the_registers_digest_answers_only_while_no_venue_was_written_since() {
    let (store, _) = owned_by("zhangwei").await;
    let (a, b, c) = (venue("阿里网吧"), venue("百乐电玩"), venue("晨星网咖"));
    store
        .put_venues(&[(a.clone(), 1), (b.clone(), 1), (c.clone(), 1)])
        .await
        .expect("pull the register");
    let truth = sorted(&["阿里网吧", "百乐电玩", "晨星网咖"]);
    assert_eq!(listed_names(&store).await, truth, "read whole, digest kept");

    // The first answer from a digest that is not the register's, then the check behind it.
    doctor_digest(&store).await;
    assert!(
        listed_names(&store).await.contains(&"旧名网吧".to_owned()),
        "the list is answered from the digest"
    );
    digest_made_again(&store).await;
    assert_eq!(listed_names(&store).await, truth, "the digest made again");

    // Each write to the venues store: the digest stands until it, and not after it.
    let mut edited = b.clone();
    edited.name = "百乐电玩城".to_owned();
    let moved = Change {
        entity: Entity::Venue,
        id: c.id.as_str().to_owned(),
        rev: 2,
        body: Value::Null,
        deleted: true,
    };
    let steps: Vec<(&str, Vec<&str>)> = vec![
        (
            "a venue registered on the phone",
            vec!["阿里网吧", "百乐电玩", "大观园KTV", "晨星网咖"],
        ),
        (
            "a venue edited on the phone",
            vec!["阿里网吧", "百乐电玩城", "大观园KTV", "晨星网咖"],
        ),
        (
            "a venue pulled",
            vec![
                "阿里网吧",
                "百乐电玩城",
                "大观园KTV",
                "晨星网咖",
                "东方网吧",
            ],
        ),
        (
            "a venue gone from sight",
            vec!["阿里网吧", "百乐电玩城", "大观园KTV", "东方网吧"],
        ),
        (
            "a value planted",
            vec!["阿里网吧", "百乐电玩城", "大观园KTV", "东方网吧"],
        ),
        ("another officer takes the phone over", vec![]),
    ];
    for (step, expected) in steps {
        doctor_digest(&store).await;
        assert!(
            listed_names(&store).await.contains(&"旧名网吧".to_owned()),
            "before {step}: the list is answered from the digest"
        );
        match step {
            "a venue registered on the phone" => {
                let mut new = venue("大观园KTV");
                new.initials = "dgy".to_owned();
                store.save_venue(&new).await.expect("register");
            }
            "a venue edited on the phone" => {
                store.save_venue(&edited).await.expect("edit");
            }
            "a venue pulled" => store
                .put_venues(&[(venue("东方网吧"), 3)])
                .await
                .expect("pull"),
            "a venue gone from sight" => {
                store
                    .apply_page(&page(vec![moved.clone()], "c9"))
                    .await
                    .expect("pull a tombstone");
            }
            "a value planted" => {
                let kept = store
                    .get_raw(VENUES, JsValue::from_str(a.id.as_str()))
                    .await
                    .expect("read a venue")
                    .expect("the venue is there");
                store
                    .put_raw(VENUES, None, kept)
                    .await
                    .expect("write it again as it was");
            }
            _ => {
                let export = store.export_unsynced().await.expect("export");
                discarding(&store, &user("chenjing"), &export)
                    .await
                    .expect("take the phone over");
                assert_eq!(
                    store
                        .get_raw(META, JsValue::from_str(meta_keys::REGISTER_DIGEST))
                        .await
                        .expect("read meta"),
                    None,
                    "the previous officer's digest goes with their register"
                );
            }
        }
        assert_eq!(
            listed_names(&store).await,
            sorted(&expected),
            "after {step}"
        );
    }
}

/// Two tabs of the app on one phone write the register in random order — venues registered and
/// edited on the phone, pulled, gone from sight — while either lists it, sometimes in the same
/// moment as the other's write: after every step both tabs list exactly the register a model of it
/// holds. The digest is kept from a read that a write in the other tab overtook only if no venue was
/// written since; a digest kept regardless shows a venue's old name here.
#[wasm_bindgen_test]
async fn two_tabs_writing_and_listing_the_register_in_random_order_always_list_the_register() {
    let (first, name) = fresh_store().await;
    first
        .take_over(&user("zhangwei"), TakeOver::OnlyIfSynced)
        .await
        .expect("the officer logs in");
    let second = Store::open(&name).await.expect("a second tab");
    let tabs = [&first, &second];
    // The register as it should be: id → (venue, pulled and not changed on the phone since).
    let mut model: std::collections::BTreeMap<String, (Venue, bool)> = Default::default();
    let mut seed: u64 = 0x5eed_f1e1_dc4e_c2b7;
    let mut draw = |below: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        usize::try_from(seed % u64::try_from(below).expect("small")).expect("small")
    };
    let mut rev = 1;
    for step in 0..200 {
        let (tab, other) = if draw(2) == 0 {
            (tabs[0], tabs[1])
        } else {
            (tabs[1], tabs[0])
        };
        let ids: Vec<String> = model.keys().cloned().collect();
        let pick = |at: usize| ids.get(at).cloned();
        match draw(5) {
            0 => {
                let new = venue(&format!("新场所{step}"));
                tab.save_venue(&new).await.expect("register");
                model.insert(new.id.as_str().to_owned(), (new, false));
            }
            1 | 4 if !ids.is_empty() => {
                let id = pick(draw(ids.len())).expect("an id");
                let mut edited = model[&id].0.clone();
                edited.name = format!("{}·改{step}", edited.name);
                tab.save_venue(&edited).await.expect("edit");
                if draw(2) == 0 {
                    // With the digest out of date, the other tab lists (reading the register whole)
                    // while this one edits again, the edit begun a moment into the list.
                    edited.name = format!("{}·再", edited.name);
                    let moment = u32::try_from(draw(4)).expect("small");
                    let (listed, saved) = futures::future::join(other.list_venues(""), async {
                        gloo_timers::future::TimeoutFuture::new(moment).await;
                        tab.save_venue(&edited).await
                    })
                    .await;
                    listed.expect("list beside the edit");
                    saved.expect("edit again");
                }
                model.insert(id, (edited, false));
            }
            2 => {
                rev += 1;
                let mut pulled = match pick(draw(ids.len() + 1)) {
                    // A colleague's edit of a venue this phone has not changed.
                    Some(id) if model[&id].1 => {
                        let mut edited = model[&id].0.clone();
                        edited.name = format!("{}·拉{step}", edited.name);
                        edited
                    }
                    _ => venue(&format!("拉取场所{step}")),
                };
                tab.put_venues(&[(pulled.clone(), rev)])
                    .await
                    .expect("pull");
                if draw(2) == 0 {
                    // The same, with a second pull of the venue.
                    rev += 1;
                    pulled.name = format!("{}·再", pulled.name);
                    let moment = u32::try_from(draw(4)).expect("small");
                    let (listed, put) = futures::future::join(other.list_venues(""), async {
                        gloo_timers::future::TimeoutFuture::new(moment).await;
                        tab.put_venues(&[(pulled.clone(), rev)]).await
                    })
                    .await;
                    listed.expect("list beside the pull");
                    put.expect("pull again");
                }
                model.insert(pulled.id.as_str().to_owned(), (pulled, true));
            }
            _ => {
                // A venue moved out of the unit: gone, if the phone holds nothing of its own for it.
                if let Some(id) = ids.iter().find(|id| model[*id].1).cloned() {
                    rev += 1;
                    let gone = Change {
                        entity: Entity::Venue,
                        id: id.clone(),
                        rev,
                        body: Value::Null,
                        deleted: true,
                    };
                    tab.apply_page(&page(vec![gone], &format!("c{step}")))
                        .await
                        .expect("pull a tombstone");
                    model.remove(&id);
                }
            }
        }
        let mut expected: Vec<String> = model
            .values()
            .map(|(venue, _)| venue.name.clone())
            .collect();
        expected.sort();
        for (idx, tab) in tabs.iter().enumerate() {
            assert_eq!(
                listed_names(tab).await,
                expected,
                "step {step}: tab {idx} lists the register"
            );
        }
    }
}
