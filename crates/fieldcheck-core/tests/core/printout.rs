//! The printed 现场检查笔录 and 责令改正通知书 carry every field a brigade files.

use fieldcheck_core::printout::{PrintContext, PrintedOfficer};
use fieldcheck_core::{Rectify, photo_name};

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
    };
    let line = record.minutes(&context).party_signature;
    assert_eq!(line.signature, None);
    assert_eq!(
        line.instead.as_deref(),
        Some("当事人拒绝签字，原因：称需请示老板；见证人：网管 李某")
    );
}

#[test]
fn the_rectification_order_lists_only_deadline_hazards() {
    let mut record = super::complete::complete();
    let venue = super::sample_venue();
    let context = PrintContext {
        venue: &venue,
        officers: &[],
        unit: "执法大队",
    };
    let order = record
        .rectification_order(&context)
        .expect("a deadline hazard");
    assert_eq!(order.findings.len(), 1);
    assert_eq!(order.deadline.to_string(), "2026-12-03");
    assert_eq!(
        order.findings[0].basis,
        Some("《消防法》；《娱乐场所管理条例》第21条")
    );
    record.hazards[0].rectify = Some(Rectify::OnSite);
    record.hazards[0].deadline = None;
    assert_eq!(record.rectification_order(&context), None);
}
