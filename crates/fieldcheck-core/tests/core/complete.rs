//! What a submitted record must hold to stand as the on-site record, and that a draft need not.

use chrono::NaiveDate;
use fieldcheck_core::{
    Answer, Complaint, Hazard, HazardStatus, Inspection, InspectionKind, ItemResult,
    OfficerSignature, Party, Rectify, Template, photo_name,
};

const SIGNED: &str = "ab";

fn day(text: &str) -> NaiveDate {
    text.parse().expect("a date")
}

/// A complete internet-café record: every item passed but one fire exit, two officers who signed,
/// the party signed, the hazard ordered fixed by a deadline after the visit.
pub(crate) fn complete() -> Inspection {
    let mut record = super::sample_inspection();
    let template = Template::by_id(&record.template).expect("the template exists");
    record.answers = template
        .items
        .iter()
        .map(|item| Answer {
            item: item.code.to_owned(),
            result: if item.code == "common.fire_exits" {
                ItemResult::Fail
            } else {
                ItemResult::Pass
            },
            note: String::new(),
            photos: vec![],
        })
        .collect();
    record.hazards = vec![Hazard {
        id: "0192f3a4-5b6c-7d8e-9f00-000000000009".into(),
        item: Some("common.fire_exits".into()),
        description: "后门堆放杂物".into(),
        rectify: Some(Rectify::Deadline),
        deadline: Some(day("2026-12-03")),
        status: HazardStatus::Open,
        photos: vec![photo_name(b"hazard photo")],
    }];
    record.officer_signatures = ["u1", "u2"]
        .into_iter()
        .map(|officer| OfficerSignature {
            officer: officer.into(),
            signature: photo_name(officer.as_bytes()),
        })
        .collect();
    record.party = Some(Party {
        name: "王某".into(),
        title: "负责人".into(),
        id_or_phone: "13800000000".into(),
        signature: Some(photo_name(SIGNED.as_bytes())),
        ..Party::default()
    });
    record
}

/// The codes `check_complete` finds after `edit`, on the day of the visit (2026-11-26).
fn codes_after(edit: impl FnOnce(&mut Inspection)) -> Vec<&'static str> {
    let mut record = complete();
    edit(&mut record);
    assert_eq!(record.validate(), Ok(()), "the edit keeps the record valid");
    match record.check_complete(record.visit_day()) {
        Ok(()) => vec![],
        Err(problems) => problems.codes(),
    }
}

#[test]
fn a_whole_record_is_complete() {
    assert_eq!(codes_after(|_| {}), Vec::<&str>::new());
    assert_eq!(complete().visit_day(), day("2026-11-26"));
}

#[test]
fn each_missing_piece_is_named() {
    type Edit = Box<dyn FnOnce(&mut Inspection)>;
    let table: Vec<(&str, Edit, Vec<&str>)> = vec![
        (
            "an item left unanswered",
            Box::new(|r| {
                r.answers.retain(|a| a.item != "internet_cafe.no_minors");
            }),
            vec!["unanswered"],
        ),
        (
            "nothing answered at all",
            Box::new(|r| {
                r.answers.clear();
                r.hazards.clear();
            }),
            vec!["unanswered"; Template::by_id("internet_cafe@1").map_or(0, |t| t.items.len())],
        ),
        (
            "a failed item without its hazard",
            Box::new(|r| r.hazards.clear()),
            vec!["hazard_missing"],
        ),
        (
            "credentials not shown",
            Box::new(|r| r.set_answer("common.credentials_shown", ItemResult::Na)),
            vec!["credentials_not_shown"],
        ),
        (
            "one officer alone",
            Box::new(|r| {
                r.inspectors.truncate(1);
                r.officer_signatures.truncate(1);
            }),
            vec!["second_officer_missing"],
        ),
        (
            "an officer who has not signed",
            Box::new(|r| {
                r.officer_signatures.pop();
            }),
            vec!["officer_signature_missing"],
        ),
        (
            "no party",
            Box::new(|r| r.party = None),
            vec!["party_name_missing", "party_signature_missing"],
        ),
        (
            "the party neither signed nor refused",
            Box::new(|r| {
                if let Some(party) = &mut r.party {
                    party.signature = None;
                }
            }),
            vec!["party_signature_missing"],
        ),
        (
            "a refusal without its reason",
            Box::new(|r| {
                if let Some(party) = &mut r.party {
                    party.signature = None;
                    party.refused = true;
                }
            }),
            vec!["refusal_reason_missing"],
        ),
        (
            "no rectification chosen",
            Box::new(|r| {
                r.hazards[0].rectify = None;
                r.hazards[0].deadline = None;
            }),
            vec!["rectify_missing"],
        ),
        (
            "a deadline on the day of the visit",
            Box::new(|r| r.hazards[0].deadline = Some(day("2026-11-26"))),
            vec!["deadline_not_after_today"],
        ),
        (
            "a deadline in the past",
            Box::new(|r| r.hazards[0].deadline = Some(day("2025-01-01"))),
            vec!["deadline_not_after_today"],
        ),
        (
            "a complaint follow-up without the complaint",
            Box::new(|r| {
                r.kind = InspectionKind::Complaint;
                r.complaint = Some(Complaint::default());
            }),
            vec!["complaint_missing"],
        ),
    ];
    for (case, edit, expected) in table {
        assert_eq!(codes_after(edit), expected, "{case}");
    }
}

#[test]
fn a_refusal_with_its_reason_stands_in_for_the_signature() {
    let codes = codes_after(|r| {
        if let Some(party) = &mut r.party {
            party.signature = None;
            party.refused = true;
            party.refusal_reason = "称需请示老板".into();
            party.witness = "网管 李某".into();
        }
    });
    assert_eq!(codes, Vec::<&str>::new());
}

#[test]
fn a_complaint_with_its_text_is_complete() {
    let codes = codes_after(|r| {
        r.kind = InspectionKind::Complaint;
        r.complaint = Some(Complaint {
            text: "夜间接纳未成年人".into(),
            source: "12345热线".into(),
            received_on: Some(day("2026-11-20")),
        });
    });
    assert_eq!(codes, Vec::<&str>::new());
}

#[test]
fn problems_name_the_item_by_number_and_wording_in_both_languages() {
    let mut record = complete();
    record.answers.retain(|a| a.item != "common.fire_equipment");
    let problems = record
        .check_complete(record.visit_day())
        .expect_err("an item is missing");
    let problem = &problems.0[0];
    assert_eq!(problem.field, "items[common.fire_equipment]");
    assert!(problem.zh.starts_with("第4项"), "{}", problem.zh);
    assert!(problem.zh.contains("消防器材"), "{}", problem.zh);
    assert!(problem.en.starts_with("item 4 "), "{}", problem.en);
}

#[test]
fn a_deadline_is_judged_against_the_day_given() {
    let record = complete();
    assert!(record.check_complete(day("2026-12-02")).is_ok());
    assert!(record.check_complete(day("2026-12-03")).is_err());
}

#[test]
fn a_partial_draft_is_valid_and_only_a_submission_must_be_complete() {
    let mut record = complete();
    record.answers.truncate(1);
    record.hazards[0].rectify = None;
    record.party = None;
    record.status = fieldcheck_core::Status::Draft;
    assert_eq!(record.validate(), Ok(()));
    assert!(!record.must_be_complete());
    record.status = fieldcheck_core::Status::Submitted;
    assert!(record.must_be_complete());
}

#[test]
fn photo_names_are_collected_once_each_and_checked() {
    let mut record = complete();
    let shared = photo_name(b"shared");
    record.answers[0].photos = vec![shared.clone()];
    record.photos = vec![shared.clone(), photo_name(b"scene")];
    let names = record.photo_names();
    assert_eq!(names.iter().filter(|name| **name == shared).count(), 1);
    // hazard, answer, record ×2 (one shared), party, two officers.
    assert_eq!(names.len(), 6, "{names:?}");
    record.photos.push("../../etc/passwd".into());
    let problems = record.validate().expect_err("a path is not a photo name");
    assert_eq!(problems.codes(), vec!["bad_photo_name"]);
}

#[test]
fn photo_names_are_sha256_in_lowercase_hex() {
    // The SHA-256 of "abc" (FIPS 180-2, appendix B.1).
    assert_eq!(
        photo_name(b"abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert!(fieldcheck_core::is_photo_name(&photo_name(b"")));
    assert!(!fieldcheck_core::is_photo_name(
        "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"
    ));
    assert!(!fieldcheck_core::is_photo_name("ba78"));
}

#[test]
fn a_resubmission_may_keep_what_it_lacked_but_not_lose_what_it_had() {
    // Submitted before these rules: one officer, no signatures. It was returned for a fix.
    let mut legacy = complete();
    legacy.inspectors.truncate(1);
    legacy.officer_signatures.clear();
    legacy.status = fieldcheck_core::Status::Returned;
    let mut fixed = legacy.clone();
    fixed.status = fieldcheck_core::Status::Submitted;
    fixed.notes = "已补充说明".into();
    assert_eq!(fixed.check_submission(Some(&legacy)), Ok(()));
    // Taking the party's signature away is new: refused.
    if let Some(party) = &mut fixed.party {
        party.signature = None;
    }
    let problems = fixed
        .check_submission(Some(&legacy))
        .expect_err("a lost signature");
    assert_eq!(problems.codes(), vec!["party_signature_missing"]);
    // A first submission (from a draft, or new) must be whole.
    let mut draft = legacy.clone();
    draft.status = fieldcheck_core::Status::Draft;
    let mut first = legacy.clone();
    first.status = fieldcheck_core::Status::Submitted;
    assert!(first.check_submission(Some(&draft)).is_err());
    assert!(first.check_submission(None).is_err());
}

#[test]
fn a_submitted_reinspection_closes_the_hazards_it_found_rectified() {
    use fieldcheck_core::{HazardCheck, InspectionKind, Status};
    let earlier = complete();
    let hazard = earlier.hazards[0].clone();
    assert_eq!(earlier.open_hazards([]).len(), 1);
    let mut follow_up = complete();
    follow_up.id = "0192f3a4-5b6c-7d8e-9f00-0000000000ff".into();
    follow_up.kind = InspectionKind::Reinspection;
    follow_up.follows = Some(earlier.id.clone());
    follow_up.hazard_checks = vec![HazardCheck {
        hazard: hazard.id.clone(),
        rectified: true,
        note: String::new(),
    }];
    follow_up.status = Status::Draft;
    assert_eq!(
        earlier.open_hazards([&follow_up]).len(),
        1,
        "a draft closes nothing"
    );
    follow_up.status = Status::Submitted;
    assert!(earlier.open_hazards([&follow_up]).is_empty());
    assert_eq!(
        earlier.closed_by(&hazard, [&follow_up]).map(|r| &r.id),
        Some(&follow_up.id)
    );
    follow_up.hazard_checks[0].rectified = false;
    assert_eq!(earlier.open_hazards([&follow_up]).len(), 1, "still open");
}
