//! The printed 现场检查笔录 and 责令改正通知书 carry every field a brigade files.

use chrono::DateTime;
use fieldcheck_core::local::{LocalState, ServerVersion};
use fieldcheck_core::printout::{AmendmentCopy, PrintContext, PrintedOfficer, Unsettled};
use fieldcheck_core::sync::ErrorBody;
use fieldcheck_core::{InspectionId, OpId, Rectify, Status, photo_name};

fn officers() -> Vec<PrintedOfficer> {
    vec![
        PrintedOfficer {
            id: "u1".into(),
            name: "张伟".into(),
            cert_no: Some("豫C-0101023".into()),
        },
        PrintedOfficer {
            id: "u2".into(),
            name: "陈静".into(),
            cert_no: Some("豫C-0101088".into()),
        },
    ]
}

#[test]
fn the_minutes_name_time_place_people_findings_and_signatures() {
    let mut record = super::complete::complete();
    record.warning_issued = true;
    record.photos = vec![photo_name(b"scene")];
    let venue = super::sample_venue();
    let officers = officers();
    let context = PrintContext {
        venue: &venue,
        officers: &officers,
        unit: "洛阳市老城区文化市场综合执法大队",
        amendments: &[],
        unsettled: None,
    };
    let minutes = record.minutes(&context);
    assert_eq!(minutes.time_span, "2026年11月26日10时00分至10时40分");
    assert_eq!(minutes.venue, "星际网咖");
    assert_eq!(minutes.licence_no, "豫网文〔2020〕001号");
    assert_eq!(
        minutes.officers,
        vec![
            "张伟（执法证号：豫C-0101023）",
            "陈静（执法证号：豫C-0101088）"
        ]
    );
    assert_eq!(minutes.recorder, "张伟");
    assert!(
        minutes
            .credentials
            .starts_with("执法人员已向当事人出示执法证件")
    );
    assert!(minutes.party.starts_with("王某，职务：负责人"));
    let template_len =
        fieldcheck_core::Template::by_id("internet_cafe@1").map_or(0, |t| t.items.len());
    assert_eq!(minutes.items.len(), template_len);
    assert_eq!(minutes.findings.len(), 1);
    assert_eq!(
        minutes.findings[0].rectify,
        "责令限期整改，于2026年12月3日前整改完毕"
    );
    assert_eq!(
        minutes.findings[0].item,
        Some("安全出口、疏散通道畅通，未封堵锁闭")
    );
    assert_eq!(minutes.outcome, vec!["当场给予警告。"]);
    // Without a hazard the outcome says so once, first, before what else the visit did.
    let mut clean = record.clone();
    clean.hazards.clear();
    assert_eq!(
        clean.minutes(&context).outcome,
        vec!["未发现违法违规问题。", "当场给予警告。"]
    );
    assert!(minutes.party_signature.signature.is_some());
    assert_eq!(minutes.officer_signatures.len(), 2);
    assert!(
        minutes
            .officer_signatures
            .iter()
            .all(|line| line.signature.is_some())
    );
    // Hazard photo first, then the scene photo; each numbered with its hash.
    let numbers: Vec<usize> = minutes.photos.iter().map(|photo| photo.number).collect();
    assert_eq!(numbers, vec![1, 2]);
    assert_eq!(minutes.photos[1].sha256, photo_name(b"scene"));
    assert!(minutes.photos[0].caption.starts_with("隐患："));
}

#[test]
fn a_refusal_prints_in_place_of_the_signature_with_its_witness() {
    let mut record = super::complete::complete();
    if let Some(party) = &mut record.party {
        party.refused = true;
        party.refusal_reason = "称需请示老板".into();
        party.witness = "网管 李某".into();
    }
    let venue = super::sample_venue();
    let context = PrintContext {
        venue: &venue,
        officers: &[],
        unit: "",
        amendments: &[],
        unsettled: None,
    };
    let line = record.minutes(&context).party_signature;
    assert_eq!(line.signature, None);
    assert_eq!(
        line.instead.as_deref(),
        Some("当事人拒绝签字，原因：称需请示老板；见证人：网管 李某")
    );
}

/// An approved record prints with its amendments under it, oldest first (another record's are not
/// its own); a draft or a returned record says on the printout that it is not a record yet.
#[test]
fn the_minutes_carry_their_amendments_and_say_when_they_are_not_final() {
    let mut record = super::complete::complete();
    record.status = Status::Approved;
    let venue = super::sample_venue();
    let officers = officers();
    let at = |text: &str| DateTime::parse_from_rfc3339(text).expect("a time");
    let later = record.amendment(
        InspectionId("a2".into()),
        at("2026-11-28T09:30:00+08:00"),
        record.inspectors[0].clone(),
        "业主已补办从业人员健康证".into(),
    );
    let first = record.amendment(
        InspectionId("a1".into()),
        at("2026-11-27T15:05:00+08:00"),
        record.inspectors[0].clone(),
        "消防通道杂物已清理".into(),
    );
    let mut elsewhere = first.clone();
    elsewhere.amends = Some(InspectionId("another-record".into()));
    elsewhere.notes = "另一条记录的补充".into();
    // The earlier one was edited on this phone since the server accepted it.
    let amendments = [
        (later, None),
        (elsewhere, None),
        (first, Some(Unsettled::Unsent)),
    ]
    .map(|(record, unsettled)| AmendmentCopy { record, unsettled });
    let context = PrintContext {
        venue: &venue,
        officers: &officers,
        unit: "执法大队",
        amendments: &amendments,
        unsettled: None,
    };
    let minutes = record.minutes(&context);
    assert_eq!(minutes.not_final, None);
    let lines: Vec<(&str, &str, &str, bool)> = minutes
        .amendments
        .iter()
        .map(|line| {
            (
                line.at.as_str(),
                line.officer.as_str(),
                line.notes.as_str(),
                line.unsettled.is_some(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            ("2026年11月27日15时05分", "张伟", "消防通道杂物已清理", true),
            (
                "2026年11月28日09时30分",
                "张伟",
                "业主已补办从业人员健康证",
                false
            ),
        ]
    );
    for (status, said) in [(Status::Draft, "草稿"), (Status::Returned, "已退回")] {
        record.status = status;
        let not_final = record.minutes(&context).not_final.expect("not final");
        assert!(not_final.starts_with(said), "{not_final}");
    }
    record.status = Status::Submitted;
    assert_eq!(record.minutes(&context).not_final, None);
    // A submission the server refused, one beside a newer server copy, or a change not yet accepted
    // is not the record either, submitted or approved.
    for status in [Status::Submitted, Status::Approved] {
        record.status = status;
        for (unsettled, said) in [
            (Unsettled::Refused, "本机版本未被服务器接受"),
            (Unsettled::Conflict, "本机版本与服务器上的版本冲突"),
            (Unsettled::Unsent, "本机修改尚未被服务器接受"),
            (Unsettled::Unreadable, "本机副本无法读取"),
        ] {
            let context = PrintContext {
                unsettled: Some(unsettled),
                ..context
            };
            let not_final = record.minutes(&context).not_final.expect("not final");
            assert!(not_final.starts_with(said), "{not_final}");
        }
    }
}

/// How the phone's copy stands decides the line: only the server's own copy, or a first submission
/// the server has never had (printed on site before there is signal), prints as the record.
#[test]
fn a_copy_the_server_has_not_accepted_as_it_stands_is_unsettled() {
    let body = serde_json::to_value(super::complete::complete()).expect("a record encodes");
    let server = || ServerVersion {
        rev: 2,
        body: body.clone(),
    };
    let first = LocalState::created(body.clone(), 1);
    assert_eq!(Unsettled::of(&first), None);
    assert_eq!(
        Unsettled::of(&LocalState::Synced { server: server() }),
        None
    );
    let edited = LocalState::Queued {
        order: 2,
        base: Some(server()),
        mine: body.clone(),
        newer: None,
    };
    assert_eq!(Unsettled::of(&edited), Some(Unsettled::Unsent));
    // A first submission in flight whose answer was lost, its own copy pulled back: the server holds
    // what is shown, unless it was edited again since it was sent.
    let own_pulled_back = LocalState::InFlight {
        order: 2,
        base: None,
        mine: body.clone(),
        op_id: OpId("op".into()),
        next: None,
        newer: Some(server()),
    };
    assert_eq!(Unsettled::of(&own_pulled_back), None);
    let mut edited = body.clone();
    edited["notes"] = "又补充了一句".into();
    let edited_since = LocalState::InFlight {
        order: 2,
        base: None,
        mine: body.clone(),
        op_id: OpId("op".into()),
        next: Some(edited.clone()),
        newer: None,
    };
    assert_eq!(Unsettled::of(&edited_since), Some(Unsettled::Unsent));
    // A colleague's newer copy beside this phone's edit.
    let beside_newer = LocalState::Queued {
        order: 2,
        base: None,
        mine: edited,
        newer: Some(server()),
    };
    assert_eq!(Unsettled::of(&beside_newer), Some(Unsettled::Conflict));
    let conflict = LocalState::Conflict {
        base: None,
        mine: body.clone(),
        server: server(),
    };
    assert_eq!(Unsettled::of(&conflict), Some(Unsettled::Conflict));
    let refused = LocalState::Rejected {
        base: Some(server()),
        mine: body,
        reason: ErrorBody::new("locked", "locked"),
        newer: None,
    };
    assert_eq!(Unsettled::of(&refused), Some(Unsettled::Refused));
    let unreadable = LocalState::Quarantined {
        raw: "{".into(),
        reason: "not JSON".into(),
        server: None,
    };
    assert_eq!(Unsettled::of(&unreadable), Some(Unsettled::Unreadable));
}

#[test]
fn the_rectification_order_lists_only_deadline_hazards() {
    let mut record = super::complete::complete();
    let venue = super::sample_venue();
    let officers = officers();
    let context = PrintContext {
        venue: &venue,
        officers: &officers,
        unit: "执法大队",
        amendments: &[],
        unsettled: None,
    };
    let order = record
        .rectification_order(&context)
        .expect("a deadline hazard");
    assert_eq!(order.findings.len(), 1);
    // Served by the record's officers, named with their certificates as on the minutes.
    assert_eq!(order.officers, record.minutes(&context).officers);
    assert_eq!(order.officers[0], "张伟（执法证号：豫C-0101023）");
    assert_eq!(order.deadline.to_string(), "2026-12-03");
    assert_eq!(
        order.findings[0].basis,
        Some("《消防法》；《娱乐场所管理条例》第21条")
    );
    assert_eq!(order.incomplete, None);
    assert_eq!(record.minutes(&context).incomplete, None);
    // Without the unit's name, or an officer the phone does not know or whose certificate it lacks,
    // the notice says it is not to be served, and the minutes that they lack it.
    let unnamed = PrintContext {
        unit: "",
        ..context
    };
    let order = record.rectification_order(&unnamed).expect("an order");
    assert!(
        order
            .incomplete
            .is_some_and(|said| said.contains("不作为正式文书送达"))
    );
    assert!(
        record
            .minutes(&unnamed)
            .incomplete
            .is_some_and(|said| said.contains("请同步后重新打印"))
    );
    let mut uncertified = officers.clone();
    uncertified[1].cert_no = None;
    for known in [&officers[..1], &uncertified[..]] {
        let partial = PrintContext {
            officers: known,
            ..context
        };
        let order = record.rectification_order(&partial).expect("an order");
        assert!(order.incomplete.is_some(), "{:?}", order.officers);
        assert!(record.minutes(&partial).incomplete.is_some());
    }
    record.hazards[0].rectify = Some(Rectify::OnSite);
    record.hazards[0].deadline = None;
    assert_eq!(record.rectification_order(&context), None);
}
