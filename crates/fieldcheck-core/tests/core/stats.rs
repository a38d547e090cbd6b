//! The period's figures: what counts as a visit, where a day falls, how hazards close, and the
//! paragraph's sections.

use chrono::NaiveDate;
use fieldcheck_core::stats::{Period, compute};
use fieldcheck_core::{
    Campaign, Hazard, HazardCheck, HazardStatus, Inspection, InspectionKind, Rectify, Status,
    VenueKind,
};
use serde_json::json;

fn day(text: &str) -> NaiveDate {
    text.parse().expect("a date")
}

fn period(from: &str, to: &str) -> Period {
    Period {
        from: day(from),
        to: day(to),
    }
}

/// A submitted record of `kind` at a venue of `venue_kind`, finished at `at` (RFC 3339).
fn visit(id: u32, venue_kind: VenueKind, kind: InspectionKind, at: &str) -> Inspection {
    serde_json::from_value(json!({
        "id": format!("0192f3a4-5b6c-7d8e-9f00-{id:012}"),
        "venue_id": "0192f3a4-5b6c-7d8e-9f00-aabbccddeeff",
        "kind": kind,
        "campaign_id": (kind == InspectionKind::Special).then_some("campaign-gas"),
        "template": format!("{}@1", venue_kind.code()),
        "started_at": at, "finished_at": at,
        "inspectors": ["u1", "u2"],
        "status": "submitted"
    }))
    .expect("a record")
}

fn hazard(id: &str, rectify: Rectify, status: HazardStatus) -> Hazard {
    Hazard {
        id: id.into(),
        item: None,
        description: "灭火器过期".into(),
        rectify: Some(rectify),
        deadline: (rectify == Rectify::Deadline).then(|| day("2023-03-10")),
        status,
        photos: vec![],
    }
}

#[test]
fn a_visit_counts_on_its_own_day_in_its_own_time_zone() {
    let records = vec![
        // 23:30 in Luoyang on the last day is inside, though it is the same day in UTC too.
        visit(
            1,
            VenueKind::Hotel,
            InspectionKind::Routine,
            "2023-06-30T23:30:00+08:00",
        ),
        // 00:10 on 1 July in Luoyang is outside, though it is still 30 June in UTC.
        visit(
            2,
            VenueKind::Hotel,
            InspectionKind::Routine,
            "2023-07-01T00:10:00+08:00",
        ),
        visit(
            3,
            VenueKind::Hotel,
            InspectionKind::Routine,
            "2022-12-31T18:00:00+08:00",
        ),
        visit(
            4,
            VenueKind::Hotel,
            InspectionKind::Routine,
            "2023-01-01T08:00:00+08:00",
        ),
    ];
    let stats = compute(&records, &[], period("2023-01-01", "2023-06-30"));
    assert_eq!(stats.visits, 2);
    assert_eq!(stats.inspector_visits, 4);
    assert_eq!(
        stats
            .months
            .iter()
            .map(|month| (month.month.as_str(), month.visits))
            .collect::<Vec<_>>(),
        [("2023-01", 1), ("2023-06", 1)]
    );
}

#[test]
fn drafts_and_amendments_are_not_visits_returned_and_approved_are() {
    let at = "2023-02-01T10:00:00+08:00";
    let mut draft = visit(1, VenueKind::Arcade, InspectionKind::Routine, at);
    draft.status = Status::Draft;
    let mut amendment = visit(2, VenueKind::Arcade, InspectionKind::Routine, at);
    amendment.amends = Some("0192f3a4-5b6c-7d8e-9f00-000000000003".into());
    let mut returned = visit(3, VenueKind::Arcade, InspectionKind::Routine, at);
    returned.status = Status::Returned;
    let mut approved = visit(4, VenueKind::Arcade, InspectionKind::Routine, at);
    approved.status = Status::Approved;
    approved.inspectors.push("u3".into());
    let stats = compute(
        &[draft, amendment, returned, approved],
        &[],
        period("2023-01-01", "2023-06-30"),
    );
    assert_eq!(stats.visits, 2);
    assert_eq!(stats.inspector_visits, 5);
    assert_eq!(stats.rows.len(), 1);
    assert_eq!(stats.rows[0].venue_kind, VenueKind::Arcade);
}

#[test]
fn hazards_close_on_the_spot_or_by_a_reinspection_within_the_period() {
    let mut first = visit(
        1,
        VenueKind::SongDance,
        InspectionKind::Routine,
        "2023-03-01T10:00:00+08:00",
    );
    first.hazards = vec![
        hazard("h-on-site", Rectify::OnSite, HazardStatus::Rectified),
        hazard("h-fixed", Rectify::Deadline, HazardStatus::Open),
        hazard("h-late", Rectify::Deadline, HazardStatus::Open),
        hazard("h-open", Rectify::Deadline, HazardStatus::Open),
    ];
    first.warning_issued = true;
    let check = |hazard: &str, rectified| HazardCheck {
        hazard: hazard.into(),
        rectified,
        note: String::new(),
    };
    let mut follow_up = visit(
        2,
        VenueKind::SongDance,
        InspectionKind::Reinspection,
        "2023-03-11T10:00:00+08:00",
    );
    follow_up.follows = Some(first.id.clone());
    follow_up.hazard_checks = vec![check("h-fixed", true), check("h-open", false)];
    // Fixed only after the period ends: still open in this period's report.
    let mut late = visit(
        3,
        VenueKind::SongDance,
        InspectionKind::Reinspection,
        "2023-07-02T10:00:00+08:00",
    );
    late.follows = Some(first.id.clone());
    late.hazard_checks = vec![check("h-late", true)];
    // A draft re-inspection closes nothing.
    let mut draft = visit(
        4,
        VenueKind::SongDance,
        InspectionKind::Reinspection,
        "2023-03-12T10:00:00+08:00",
    );
    draft.follows = Some(first.id.clone());
    draft.status = Status::Draft;
    draft.hazard_checks = vec![check("h-open", true)];
    let stats = compute(
        &[first, follow_up, late, draft],
        &[],
        period("2023-01-01", "2023-06-30"),
    );
    assert_eq!(stats.hazards_found, 4);
    assert_eq!(stats.rectified_on_site, 1);
    assert_eq!(stats.rectified_by_deadline, 1);
    assert_eq!(stats.hazards_rectified, 2);
    assert_eq!(stats.warnings_issued, 1);
    assert!(
        stats
            .summary_zh
            .contains("开展复查1家次，出动检查人员2人次。"),
        "{}",
        stats.summary_zh
    );
    assert!(
        stats
            .summary_zh
            .contains("共发现隐患4处，已整改2处（当场整改1处，限期整改1处），办理警告案件1起。"),
        "{}",
        stats.summary_zh
    );
}

#[test]
fn the_paragraph_names_campaigns_and_states_training_complaints_apart() {
    let at = "2023-04-01T10:00:00+08:00";
    let campaign: Campaign = serde_json::from_value(json!({
        "id": "campaign-gas", "name": "燃气安全隐患大排查", "venue_kinds": ["hotel"],
        "starts_on": "2023-03-01", "ends_on": "2023-05-31", "unit_id": "unit-a"
    }))
    .expect("a campaign");
    let records = vec![
        visit(1, VenueKind::InternetCafe, InspectionKind::Routine, at),
        visit(2, VenueKind::Hotel, InspectionKind::Special, at),
        visit(3, VenueKind::ArtTraining, InspectionKind::Routine, at),
        visit(4, VenueKind::ArtTraining, InspectionKind::Complaint, at),
        visit(5, VenueKind::ScriptGame, InspectionKind::Complaint, at),
    ];
    let stats = compute(&records, &[campaign], period("2023-04-01", "2023-04-30"));
    assert_eq!(stats.complaints_handled, 2);
    assert_eq!(
        stats.summary_zh,
        "2023年4月1日至2023年4月30日，共检查各类场所5家次，出动检查人员10人次。\
         开展互联网上网服务营业场所日常检查1家次，共出动检查人员2人次。\
         开展专项检查（燃气安全隐患大排查），检查星级宾馆1家次，共出动检查人员2人次。\
         检查艺术类校外培训机构2家次，受理投诉1起。受理其他场所投诉1起。"
    );
}

#[test]
fn an_empty_period_says_so() {
    let stats = compute(&[], &[], period("2023-07-01", "2023-12-31"));
    assert_eq!(stats.visits, 0);
    assert!(stats.rows.is_empty());
    assert_eq!(
        stats.summary_zh,
        "2023年7月1日至2023年12月31日，无检查记录。"
    );
}

#[test]
fn the_records_list_filters_by_whose_status_kind_officer_period_and_venue() {
    use fieldcheck_core::query::RecordQuery;
    let venue: fieldcheck_core::Venue = serde_json::from_value(json!({
        "id": "0192f3a4-5b6c-7d8e-9f00-aabbccddeeff", "kind": "hotel", "name": "牡丹大酒店",
        "unit_id": "unit-a", "initials": "mddjd"
    }))
    .expect("a venue");
    let mut record = visit(
        1,
        VenueKind::Hotel,
        InspectionKind::Routine,
        "2023-03-01T10:00:00+08:00",
    );
    let any = RecordQuery::default();
    assert!(any.matches(&record, Some(&venue)));
    let cases: Vec<(RecordQuery, bool)> = vec![
        (
            RecordQuery {
                mine: Some("u1".into()),
                ..RecordQuery::default()
            },
            true,
        ),
        (
            RecordQuery {
                mine: Some("u9".into()),
                ..RecordQuery::default()
            },
            false,
        ),
        (
            RecordQuery {
                status: Some(Status::Submitted),
                ..RecordQuery::default()
            },
            true,
        ),
        (
            RecordQuery {
                status: Some(Status::Returned),
                ..RecordQuery::default()
            },
            false,
        ),
        (
            RecordQuery {
                kind: Some(InspectionKind::Special),
                ..RecordQuery::default()
            },
            false,
        ),
        (
            RecordQuery {
                venue_kind: Some(VenueKind::Hotel),
                ..RecordQuery::default()
            },
            true,
        ),
        (
            RecordQuery {
                venue_kind: Some(VenueKind::Arcade),
                ..RecordQuery::default()
            },
            false,
        ),
        (
            RecordQuery {
                officer: Some("u2".into()),
                ..RecordQuery::default()
            },
            true,
        ),
        (
            RecordQuery {
                from: Some(day("2023-03-01")),
                to: Some(day("2023-03-01")),
                ..RecordQuery::default()
            },
            true,
        ),
        (
            RecordQuery {
                from: Some(day("2023-03-02")),
                ..RecordQuery::default()
            },
            false,
        ),
        (
            RecordQuery {
                search: "mddj".into(),
                ..RecordQuery::default()
            },
            true,
        ),
        (
            RecordQuery {
                search: "牡丹".into(),
                ..RecordQuery::default()
            },
            true,
        ),
        (
            RecordQuery {
                search: "星际".into(),
                ..RecordQuery::default()
            },
            false,
        ),
    ];
    let elsewhere: fieldcheck_core::Venue = serde_json::from_value(json!({
        "id": "0192f3a4-5b6c-7d8e-9f00-0000000000ee", "kind": "internet_cafe", "name": "星际网咖",
        "unit_id": "unit-a", "initials": "xjwk"
    }))
    .expect("a venue");
    for (query, expected) in cases {
        assert_eq!(query.matches(&record, Some(&venue)), expected, "{query:?}");
        // The list's way — the search looked up once over the venues — gives the same answer.
        let found = query.venues_found([&elsewhere, &venue]);
        let listed = query.matches_record(&record)
            && found.is_none_or(|found| found.contains(record.venue_id.as_str()));
        assert_eq!(listed, expected, "{query:?} through venues_found");
    }
    // A search needs the venue; amendments never list.
    assert!(
        !RecordQuery {
            search: "牡丹".into(),
            ..RecordQuery::default()
        }
        .matches(&record, None)
    );
    record.amends = Some("0192f3a4-5b6c-7d8e-9f00-000000000009".into());
    assert!(!any.matches(&record, Some(&venue)));
}

#[test]
fn an_amendment_states_later_facts_only_and_needs_them() {
    let at: chrono::DateTime<chrono::FixedOffset> =
        "2023-03-05T09:00:00+08:00".parse().expect("a time");
    let mut approved = visit(
        1,
        VenueKind::Hotel,
        InspectionKind::Reinspection,
        "2023-03-01T10:00:00+08:00",
    );
    approved.follows = Some("0192f3a4-5b6c-7d8e-9f00-000000000099".into());
    approved.status = Status::Approved;
    let amendment = approved.amendment(
        "0192f3a4-5b6c-7d8e-9f00-000000000002".into(),
        at,
        "u1".into(),
        "经营者补交了整改报告".into(),
    );
    assert_eq!(amendment.amends.as_ref(), Some(&approved.id));
    assert_eq!(
        (amendment.venue_id.clone(), amendment.template.clone()),
        (approved.venue_id.clone(), approved.template.clone())
    );
    assert_eq!(amendment.validate(), Ok(()));
    assert_eq!(amendment.check_complete(at.date_naive()), Ok(()));
    let mut empty = amendment.clone();
    empty.notes = "  ".into();
    assert!(empty.validate().is_err_and(|problems| {
        problems
            .0
            .iter()
            .any(|problem| problem.code == "amendment_empty")
    }));
    let mut closing = amendment;
    closing.hazard_checks = vec![HazardCheck {
        hazard: "h".into(),
        rectified: true,
        note: String::new(),
    }];
    assert!(closing.validate().is_err_and(|problems| {
        problems
            .0
            .iter()
            .any(|problem| problem.code == "amendment_not_notes")
    }));
}
