//! Tests of the core crate: templates, validation, status and edit rules, serde round trips, the local
//! record state machine, merging and the sync run.

mod complete;
mod import;
mod local_state;
mod merge;
mod printout;
mod retention;
mod rules;
mod stats;

use fieldcheck_core::sync::{
    Caller, Classification, Entity, ONLINE_SPREAD_MS, ServerCopy, backoff_ms, classify,
    online_delay_ms,
};
use fieldcheck_core::{
    Answer, Campaign, Hazard, HazardStatus, Inspection, InspectionKind, ItemResult, Location,
    Party, Rectify, ReviewDecision, Role, Status, Template, TransitionError, Venue, VenueKind,
};
use proptest::prelude::*;
use serde_json::json;
use std::collections::HashSet;

const INSPECTION_ID: &str = "0192f3a4-5b6c-7d8e-9f00-112233445566";
const VENUE_ID: &str = "0192f3a4-5b6c-7d8e-9f00-aabbccddeeff";
const HAZARD_ID: &str = "0192f3a4-5b6c-7d8e-9f00-000000000001";

fn sample_inspection() -> Inspection {
    serde_json::from_value(json!({
        "id": INSPECTION_ID, "venue_id": VENUE_ID, "kind": "routine", "campaign_id": null,
        "follows": null, "template": "internet_cafe@1",
        "started_at": "2026-11-26T10:00:00+08:00", "finished_at": "2026-11-26T10:40:00+08:00",
        "inspectors": ["u1", "u2"],
        "location": {"lat": 34.62, "lon": 112.45, "accuracy_m": 15.0},
        "answers": [{"item": "internet_cafe.no_minors", "result": "fail", "note": "", "photos": []}],
        "hazards": [{"id": HAZARD_ID, "description": "发现未成年人上网", "rectify": "on_site",
                     "deadline": null, "status": "rectified"}],
        "warning_issued": false,
        "party": {"name": "王某", "title": "负责人", "signature": null, "refused": false},
        "notes": "", "status": "submitted"
    }))
    .expect("the protocol's example parses")
}

fn sample_venue() -> Venue {
    serde_json::from_value(json!({
        "id": VENUE_ID, "kind": "internet_cafe", "name": "星际网咖", "licence_no": "豫网文〔2020〕001号",
        "address": "洛阳市老城区中州东路1号", "location": {"lat": 34.68, "lon": 112.47},
        "contact_name": "王某", "contact_phone": "13800000000", "unit_id": "unit-a", "active": true
    }))
    .expect("venue parses")
}

// ---------------------------------------------------------------------------------------------
// Templates

#[test]
fn every_kind_has_a_template_with_the_common_items_first() {
    for kind in VenueKind::ALL {
        let template = Template::current(kind);
        assert_eq!(template.id(), format!("{}@1", kind.code()));
        let codes: Vec<&str> = template.items.iter().map(|item| item.code).collect();
        assert_eq!(
            &codes[..5],
            &[
                "common.credentials_shown",
                "common.licence_displayed",
                "common.fire_exits",
                "common.fire_equipment",
                "common.electrical"
            ],
            "{kind:?}"
        );
        let own_prefix = format!("{}.", kind.code());
        assert!(codes[5..].iter().all(|code| code.starts_with(&own_prefix)));
        assert!(codes.len() >= 9, "{kind:?} has only {} items", codes.len());
        assert_eq!(Template::by_id(&template.id()), Some(template));
    }
}

#[test]
fn template_item_codes_are_unique_and_every_item_has_wording_and_basis() {
    let mut all_codes = HashSet::new();
    for kind in VenueKind::ALL {
        let template = Template::current(kind);
        assert!(!template.regulation.is_empty());
        for item in &template.items {
            assert!(!item.zh.trim().is_empty(), "{} lacks zh", item.code);
            assert!(!item.en.trim().is_empty(), "{} lacks en", item.code);
            assert!(!item.basis.trim().is_empty(), "{} lacks a basis", item.code);
            assert!(
                item.basis_zh
                    .chars()
                    .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{} cites its basis in Chinese: {}",
                item.code,
                item.basis_zh
            );
            assert!(
                !item.basis_zh.contains("Art.") && !item.basis.starts_with("same"),
                "{}: citations are resolved",
                item.code
            );
            // Chinese wording really is Chinese.
            assert!(
                item.zh
                    .chars()
                    .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
            );
            if !item.code.starts_with("common.") {
                assert!(all_codes.insert(item.code), "duplicate code {}", item.code);
            }
        }
    }
    // 5 common + 9+9+6+6+4+6+7+6+6+7 own items per venue kind.
    assert_eq!(all_codes.len(), 66);
}

#[test]
fn template_ids_that_do_not_exist_are_refused() {
    for bad in [
        "internet_cafe@2",
        "internet_cafe",
        "casino@1",
        "hotel@x",
        "",
        "@1",
    ] {
        assert_eq!(Template::by_id(bad), None, "{bad}");
    }
}

#[test]
fn venue_kind_codes_round_trip() {
    for kind in VenueKind::ALL {
        assert_eq!(VenueKind::from_code(kind.code()), Some(kind));
        assert_eq!(
            serde_json::to_value(kind).unwrap_or_default(),
            json!(kind.code())
        );
        assert!(!kind.name_zh().is_empty() && !kind.name_en().is_empty());
    }
    assert_eq!(VenueKind::from_code("bar"), None);
}

// ---------------------------------------------------------------------------------------------
// Validation

#[track_caller]
fn check(edit: impl FnOnce(&mut Inspection), expected_codes: &[&str]) {
    let mut inspection = sample_inspection();
    edit(&mut inspection);
    let codes = match inspection.validate() {
        Ok(()) => Vec::new(),
        Err(problems) => {
            for problem in &problems.0 {
                assert!(!problem.en.is_empty() && !problem.zh.is_empty());
            }
            problems.codes()
        }
    };
    assert_eq!(codes, expected_codes);
}

#[test]
fn validation_table() {
    check(|_| {}, &[]);
    check(|i| i.inspectors.clear(), &["no_inspector"]);
    check(
        |i| i.inspectors = vec!["u1".into(), "u1".into()],
        &["duplicate_inspector"],
    );
    check(|i| i.id = "not-a-uuid".into(), &["bad_id"]);
    check(|i| i.follows = Some("not-a-uuid".into()), &["bad_id"]);
    check(
        |i| i.amends = Some("\u{0}".into()),
        &["bad_id", "amendment_empty", "amendment_not_notes"],
    );
    check(
        |i| i.template = "internet_cafe@9".into(),
        &["unknown_template"],
    );
    check(
        |i| i.answers[0].item = "hotel.gas_alarm".into(),
        &["unknown_item"],
    );
    check(
        |i| {
            let again = i.answers[0].clone();
            i.answers.push(again);
        },
        &["duplicate_item"],
    );
    check(
        |i| {
            i.hazards[0].rectify = Some(Rectify::Deadline);
            i.hazards[0].deadline = None;
        },
        &["deadline_missing"],
    );
    check(
        |i| {
            i.hazards[0].rectify = Some(Rectify::Deadline);
            i.hazards[0].deadline = chrono::NaiveDate::from_ymd_opt(2026, 12, 10);
        },
        &[],
    );
    check(
        |i| i.hazards[0].description = "  ".into(),
        &["empty_hazard"],
    );
    check(
        |i| i.finished_at = "2026-11-26T09:59:00+08:00".parse().ok(),
        &["finished_before_started"],
    );
    // The same instant in another offset is not "before".
    check(
        |i| i.finished_at = "2026-11-26T02:00:00+00:00".parse().ok(),
        &[],
    );
    check(|i| i.kind = InspectionKind::Special, &["campaign_missing"]);
    check(
        |i| i.kind = InspectionKind::Reinspection,
        &["follows_missing"],
    );
    check(
        |i| {
            i.location = Some(Location {
                lat: 134.0,
                lon: 0.0,
                accuracy_m: None,
            });
        },
        &["bad_location"],
    );
    // Several problems are all reported, in order.
    check(
        |i| {
            i.inspectors.clear();
            i.template = "nope@1".into();
        },
        &["no_inspector", "unknown_template"],
    );
}

#[test]
fn validation_messages_name_the_field_and_read_in_both_languages() {
    let mut inspection = sample_inspection();
    inspection.hazards[0].rectify = Some(Rectify::Deadline);
    let problems = inspection.validate().err().unwrap_or_default();
    assert_eq!(problems.0[0].field, "hazards[0].deadline");
    assert!(problems.to_string().contains("deadline"));
    assert!(problems.message_zh().contains("整改期限"));
}

#[test]
fn unknown_enum_values_are_refused_with_a_message_naming_them() {
    let mut value = serde_json::to_value(sample_inspection()).unwrap_or_default();
    value["answers"][0]["result"] = json!("maybe");
    let error = serde_json::from_value::<Inspection>(value)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(error.contains("maybe"), "{error}");
    assert!(error.contains("pass"), "{error}");

    let mut value = serde_json::to_value(sample_venue()).unwrap_or_default();
    value["kind"] = json!("casino");
    assert!(serde_json::from_value::<Venue>(value).is_err());
}

#[test]
fn the_inspection_must_fit_its_venue() {
    let venue = sample_venue();
    let inspection = sample_inspection();
    assert_eq!(inspection.validate_for_venue(&venue), Ok(()));

    let mut hotel = venue.clone();
    hotel.kind = VenueKind::Hotel;
    let codes = inspection
        .validate_for_venue(&hotel)
        .err()
        .map(|p| p.codes())
        .unwrap_or_default();
    assert_eq!(codes, ["template_kind_mismatch"]);

    let mut other = venue;
    other.id = "0192f3a4-5b6c-7d8e-9f00-ffffffffffff".into();
    let codes = inspection
        .validate_for_venue(&other)
        .err()
        .map(|p| p.codes())
        .unwrap_or_default();
    assert_eq!(codes, ["venue_mismatch"]);
}

#[test]
fn venue_and_campaign_validation() {
    assert_eq!(sample_venue().validate(), Ok(()));
    let mut venue = sample_venue();
    venue.name = " ".into();
    venue.id = "x".into();
    let codes = venue
        .validate()
        .err()
        .map(|p| p.codes())
        .unwrap_or_default();
    assert_eq!(codes, ["bad_id", "empty_name"]);

    let campaign: Campaign = serde_json::from_value(json!({
        "id": INSPECTION_ID, "name": "燃气安全隐患大排查", "venue_kinds": ["hotel", "song_dance"],
        "starts_on": "2026-05-01", "ends_on": "2026-06-30", "unit_id": "unit-a"
    }))
    .expect("campaign parses");
    assert_eq!(campaign.validate(), Ok(()));
    let mut bad = campaign;
    bad.venue_kinds.clear();
    bad.ends_on = chrono::NaiveDate::from_ymd_opt(2026, 4, 1).unwrap_or_default();
    let codes = bad.validate().err().map(|p| p.codes()).unwrap_or_default();
    assert_eq!(codes, ["no_venue_kind", "ends_before_starts"]);
}

// ---------------------------------------------------------------------------------------------
// Status rules

#[test]
fn push_transitions() {
    use Status::*;
    let table: &[(Option<Status>, Status, Result<(), TransitionError>)] = &[
        (None, Draft, Ok(())),
        (None, Submitted, Ok(())),
        (None, Approved, Err(TransitionError::ReviewOnly(Approved))),
        (None, Returned, Err(TransitionError::ReviewOnly(Returned))),
        (Some(Draft), Draft, Ok(())),
        (Some(Draft), Submitted, Ok(())),
        (
            Some(Draft),
            Approved,
            Err(TransitionError::ReviewOnly(Approved)),
        ),
        (Some(Submitted), Submitted, Ok(())),
        (
            Some(Submitted),
            Draft,
            Err(TransitionError::Regression {
                from: Submitted,
                to: Draft,
            }),
        ),
        (
            Some(Returned),
            Draft,
            Err(TransitionError::Regression {
                from: Returned,
                to: Draft,
            }),
        ),
        (
            Some(Submitted),
            Approved,
            Err(TransitionError::ReviewOnly(Approved)),
        ),
        (Some(Returned), Returned, Ok(())),
        (Some(Returned), Submitted, Ok(())),
        (Some(Approved), Approved, Err(TransitionError::Locked)),
        (Some(Approved), Submitted, Err(TransitionError::Locked)),
        (Some(Approved), Draft, Err(TransitionError::Locked)),
    ];
    for (from, to, expected) in table {
        assert_eq!(
            Status::check_push(*from, *to),
            *expected,
            "{from:?} -> {to:?}"
        );
    }
}

#[test]
fn review_transitions() {
    use ReviewDecision::*;
    use Status::*;
    assert_eq!(Submitted.review(Approve), Ok(Approved));
    assert_eq!(Submitted.review(Return), Ok(Returned));
    assert_eq!(Approved.review(Return), Err(TransitionError::Locked));
    assert_eq!(
        Draft.review(Approve),
        Err(TransitionError::NotSubmitted(Draft))
    );
    assert_eq!(
        Returned.review(Approve),
        Err(TransitionError::NotSubmitted(Returned))
    );
}

// ---------------------------------------------------------------------------------------------
// Serde: the wire format

#[test]
fn the_design_example_round_trips_and_keeps_its_field_names() {
    let inspection = sample_inspection();
    let value = serde_json::to_value(&inspection).unwrap_or_default();
    for field in [
        "id",
        "venue_id",
        "kind",
        "campaign_id",
        "follows",
        "template",
        "started_at",
        "finished_at",
        "inspectors",
        "location",
        "answers",
        "hazards",
        "warning_issued",
        "party",
        "notes",
        "status",
    ] {
        assert!(value.get(field).is_some(), "missing {field}");
    }
    assert_eq!(value["hazards"][0]["rectify"], json!("on_site"));
    assert_eq!(value["started_at"], json!("2026-11-26T10:00:00+08:00"));
    let back: Inspection = serde_json::from_value(value).unwrap_or_else(|_| sample_inspection());
    assert_eq!(back, inspection);
}

#[test]
fn optional_fields_default_and_unknown_fields_are_ignored() {
    let inspection: Result<Inspection, _> = serde_json::from_value(json!({
        "id": INSPECTION_ID, "venue_id": VENUE_ID, "kind": "complaint", "template": "hotel@1",
        "started_at": "2026-11-26T10:00:00+08:00", "inspectors": ["u1"], "status": "draft",
        "a_field_from_a_newer_phone": 1
    }));
    let inspection = inspection.map_err(|e| e.to_string());
    assert!(inspection.is_ok(), "{inspection:?}");
    if let Ok(inspection) = inspection {
        assert!(inspection.answers.is_empty() && inspection.party.is_none());
        assert_eq!(inspection.validate(), Ok(()));
    }
}

fn arb_result() -> impl Strategy<Value = ItemResult> {
    prop_oneof![
        Just(ItemResult::Pass),
        Just(ItemResult::Fail),
        Just(ItemResult::Na)
    ]
}

fn arb_status() -> impl Strategy<Value = Status> {
    prop_oneof![
        Just(Status::Draft),
        Just(Status::Submitted),
        Just(Status::Approved),
        Just(Status::Returned)
    ]
}

prop_compose! {
    fn arb_inspection()(
        kind_idx in 0usize..10,
        inspection_kind_idx in 0usize..4,
        results in proptest::collection::vec(arb_result(), 0..20),
        notes in "\\PC{0,40}",
        hazard_texts in proptest::collection::vec("\\PC{1,30}", 0..4),
        deadline_days in proptest::option::of(0i64..400),
        minutes in 0i64..600,
        offset_hours in -12i32..14,
        status in arb_status(),
        lat in -90.0f64..90.0, lon in -180.0f64..180.0,
        warning in any::<bool>(),
        refused in any::<bool>(),
    ) -> Inspection {
        let kind = VenueKind::ALL[kind_idx];
        let template = Template::current(kind);
        let offset = chrono::FixedOffset::east_opt(offset_hours * 3600).unwrap_or(chrono::FixedOffset::east_opt(0).unwrap_or_else(|| unreachable!()));
        let started_at = chrono::DateTime::from_timestamp(1_780_000_000, 0).unwrap_or_default().with_timezone(&offset);
        let answers = template.items.iter().zip(&results).map(|(item, result)| Answer {
            item: item.code.to_owned(), result: *result, note: notes.clone(), photos: vec![],
        }).collect();
        let hazards = hazard_texts.iter().enumerate().map(|(idx, text)| Hazard {
            id: format!("0192f3a4-5b6c-7d8e-9f00-{idx:012}").into(),
            item: None,
            description: text.clone(),
            rectify: Some(if deadline_days.is_some() { Rectify::Deadline } else { Rectify::OnSite }),
            deadline: deadline_days.map(|days| started_at.date_naive() + chrono::Days::new(days.unsigned_abs())),
            status: HazardStatus::Open,
            photos: vec![],
        }).collect();
        Inspection {
            id: INSPECTION_ID.into(),
            venue_id: VENUE_ID.into(),
            kind: InspectionKind::ALL[inspection_kind_idx],
            campaign_id: Some("c1".into()),
            follows: Some("0192f3a4-5b6c-7d8e-9f00-0000000000f1".into()),
            template: template.id(),
            started_at,
            finished_at: Some(started_at + chrono::Duration::minutes(minutes)),
            inspectors: vec!["u1".into(), "u2".into()],
            location: Some(Location { lat, lon, accuracy_m: Some(12.5) }),
            answers,
            hazards,
            warning_issued: warning,
            case_opened: refused,
            photos: vec![],
            hazard_checks: vec![],
            complaint: None,
            party: Some(Party { name: notes.clone(), refused, ..Party::default() }),
            officer_signatures: vec![],
            notes,
            status,
            review_comment: None,
            amends: None,
            unit_id: None,
            created_by: None,
            received_at: None,
            reviews: vec![],
        }
    }
}

proptest! {
    #[test]
    fn inspections_round_trip_through_json(inspection in arb_inspection()) {
        let text = serde_json::to_string(&inspection).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back: Inspection = serde_json::from_str(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(back, inspection);
    }

    #[test]
    fn generated_inspections_with_trimmed_text_are_valid(inspection in arb_inspection()) {
        let all_described = inspection.hazards.iter().all(|h| !h.description.trim().is_empty());
        let result = inspection.validate();
        prop_assert_eq!(result.is_ok(), all_described, "{:?}", result);
    }

    #[test]
    fn an_answer_outside_the_template_is_always_refused(mut inspection in arb_inspection(), suffix in "[a-z]{1,12}") {
        inspection.answers.push(Answer { item: format!("nowhere.{suffix}"), result: ItemResult::Pass, note: String::new(), photos: vec![] });
        let codes = inspection.validate().err().map(|p| p.codes()).unwrap_or_default();
        prop_assert!(codes.contains(&"unknown_item"));
    }

    #[test]
    fn backoff_grows_is_capped_and_jitter_stays_within_half(failures in 0u32..64, jitter in 0.0f64..1.0) {
        let delay = backoff_ms(failures, jitter);
        let bare = backoff_ms(failures, 0.0);
        prop_assert!(delay >= bare && delay <= bare + bare / 2);
        prop_assert!(bare <= 300_000);
        prop_assert!(backoff_ms(failures + 1, 0.0) >= bare);
    }

    #[test]
    fn the_wait_after_coming_online_spreads_phones_over_the_whole_window(jitter in -1.0f64..2.0, other in 0.0f64..1.0) {
        let delay = online_delay_ms(jitter);
        prop_assert!(delay <= ONLINE_SPREAD_MS);
        // A later draw never waits less: the draws' spread is the waits' spread.
        let (low, high) = (jitter.clamp(0.0, 1.0).min(other), jitter.clamp(0.0, 1.0).max(other));
        prop_assert!(online_delay_ms(low) <= online_delay_ms(high));
    }
}

// ---------------------------------------------------------------------------------------------
// Sync decisions

#[test]
fn the_wait_after_coming_online_runs_from_none_to_the_whole_spread() {
    assert_eq!(online_delay_ms(0.0), 0);
    assert_eq!(online_delay_ms(0.25), ONLINE_SPREAD_MS / 4);
    assert_eq!(online_delay_ms(1.0), ONLINE_SPREAD_MS);
    assert_eq!(online_delay_ms(f64::NAN), 0);
}

#[test]
fn classify_is_optimistic_concurrency() {
    let copy = |rev, locked| Some(ServerCopy { rev, locked });
    let table = [
        (None, 0, Classification::Create),
        (None, 1, Classification::NotFound),
        (copy(1, false), 0, Classification::Conflict),
        (copy(1, false), 1, Classification::Update { next_rev: 2 }),
        (copy(3, false), 2, Classification::Conflict),
        (copy(3, false), 4, Classification::Conflict),
        (copy(3, true), 3, Classification::Locked),
        (copy(3, true), 0, Classification::Locked),
    ];
    for (existing, base_rev, expected) in table {
        assert_eq!(
            classify(existing, base_rev),
            expected,
            "{existing:?} @ {base_rev}"
        );
    }
}

#[test]
fn callers_see_their_unit_and_admins_all() {
    let caller = |role| Caller {
        user_id: "u".into(),
        role,
        unit_id: "unit-a".into(),
    };
    let a = "unit-a".into();
    let b = "unit-b".into();
    assert!(caller(Role::Inspector).sees_unit(&a));
    assert!(!caller(Role::Inspector).sees_unit(&b));
    assert!(!caller(Role::Supervisor).sees_unit(&b));
    assert!(caller(Role::Admin).sees_unit(&b));
    assert!(!caller(Role::Inspector).may_push(Entity::Campaign));
    assert!(caller(Role::Supervisor).may_push(Entity::Campaign));
    assert!(caller(Role::Inspector).may_push(Entity::Inspection));
    // Inspectors register venues; the register's venues are the team leader's to change.
    assert!(caller(Role::Inspector).may_change_venue(false));
    assert!(!caller(Role::Inspector).may_change_venue(true));
    assert!(caller(Role::Supervisor).may_change_venue(true));
    assert!(caller(Role::Admin).may_change_venue(true));
}
