//! Reading a venue register from spreadsheet rows: headers in any order, kinds by their Chinese names,
//! every bad row named, and a second import of the same sheet changing nothing.

use fieldcheck_core::import::{FileProblem, RowAction, RowProblem, kind_from_cell, read_venues};
use fieldcheck_core::{UnitId, Venue, VenueId, VenueKind};

fn sheet(rows: &[&[&str]]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|row| row.iter().map(|cell| (*cell).to_owned()).collect())
        .collect()
}

fn ids() -> impl FnMut() -> VenueId {
    let mut n = 0;
    move || {
        n += 1;
        VenueId(format!("0192f3a4-5b6c-7d8e-9f00-{n:012}"))
    }
}

#[test]
fn kinds_are_read_by_code_short_and_full_names() {
    assert_eq!(kind_from_cell("网吧"), Some(VenueKind::InternetCafe));
    assert_eq!(
        kind_from_cell("互联网上网服务营业场所"),
        Some(VenueKind::InternetCafe)
    );
    assert_eq!(kind_from_cell(" 星级酒店 "), Some(VenueKind::Hotel));
    assert_eq!(kind_from_cell("ktv"), Some(VenueKind::SongDance));
    assert_eq!(kind_from_cell("剧本杀"), Some(VenueKind::ScriptGame));
    assert_eq!(
        kind_from_cell("heritage_site"),
        Some(VenueKind::HeritageSite)
    );
    assert_eq!(kind_from_cell("舞厅"), None);
}

#[test]
fn rows_are_created_updated_kept_or_skipped_with_their_reason() {
    let unit = UnitId("unit-a".into());
    let rows = sheet(&[
        &[
            "联系电话",
            "场所类型",
            "场所名称",
            "许可证号",
            "地址",
            "状态",
        ],
        &["13800000001", "网吧", "星际网咖", "L-1", "中州东路1号", ""],
        &["", "网吧", "老城网吧", "", "西大街2号", "停业"],
        &["", "网吧", "老城网吧", "", "西大街2号", ""],
        &["", "景区", "", "L-3", "", ""],
        &["", "网吧", "未知状态", "L-4", "", "歇业中"],
        &["", "", "", "", "", ""],
    ]);
    let first = read_venues(&rows, &unit, &[], ids()).expect("a register");
    let summary: Vec<(usize, RowAction, usize)> = first
        .iter()
        .map(|row| (row.row, row.action, row.problems.len()))
        .collect();
    // The blank row 7 is not a row at all.
    assert_eq!(
        summary,
        [
            (2, RowAction::Create, 0),
            (3, RowAction::Create, 0),
            (4, RowAction::Skip, 1),
            (5, RowAction::Skip, 1),
            (6, RowAction::Skip, 1),
        ]
    );
    // Each problem said in both languages, neither holding the other.
    let said = |row: usize| -> &RowProblem { &first[row].problems[0] };
    assert!(said(2).zh.contains("重复") && said(2).en.contains("repeat"));
    assert!(said(3).zh.contains("场所名称为空") && said(3).en.starts_with("The name is empty"));
    assert!(said(4).zh.contains("歇业中") && said(4).en.contains("歇业中"));
    assert!(!said(4).en.contains("无法识别"));
    let closed = first[1].venue.as_ref().expect("stored");
    assert!(!closed.active);

    // The register now holds the two; the same sheet again changes nothing.
    let stored: Vec<Venue> = first.iter().filter_map(|row| row.venue.clone()).collect();
    let second = read_venues(&rows, &unit, &stored, ids()).expect("a register");
    assert_eq!(second[0].action, RowAction::Unchanged);
    assert_eq!(second[1].action, RowAction::Unchanged);

    // A row with fewer columns updates only what it states, and never the kind.
    let partial = sheet(&[
        &["场所名称", "场所类型", "许可证号", "联系电话"],
        &["星际网咖", "网吧", "L-1", "13800000009"],
    ]);
    let third = read_venues(&partial, &unit, &stored, ids()).expect("a register");
    let updated = third[0].venue.as_ref().expect("updated");
    assert_eq!(third[0].action, RowAction::Update);
    assert_eq!(updated.id, stored[0].id);
    assert_eq!(
        (updated.address.as_str(), updated.contact_phone.as_str()),
        ("中州东路1号", "13800000009")
    );
    let other_kind = sheet(&[
        &["场所名称", "场所类型", "许可证号"],
        &["星际网咖", "电竞酒店", "L-1"],
    ]);
    let fourth = read_venues(&other_kind, &unit, &stored, ids()).expect("a register");
    assert_eq!(fourth[0].action, RowAction::Skip);
    assert!(
        fourth[0].problems[0].zh.contains("场所类型"),
        "{:?}",
        fourth[0].problems
    );
}

#[test]
fn a_sheet_without_the_needed_headers_is_refused_whole() {
    let unit = UnitId("unit-a".into());
    let error =
        read_venues(&sheet(&[&["地址"], &["x"]]), &unit, &[], ids()).expect_err("no name column");
    assert_eq!(error, FileProblem::NoHeader);
    assert!(error.zh().contains("场所名称") && error.en().contains("场所名称"));
    assert_eq!(
        read_venues(&[], &unit, &[], ids()).expect_err("no rows"),
        FileProblem::Empty
    );
}

#[test]
fn a_kind_not_read_is_answered_with_the_ten_kinds_in_the_officers_language() {
    let unit = UnitId("unit-a".into());
    let rows = sheet(&[
        &["场所名称", "场所类型"],
        &["金色年华", "舞厅"],
        &["无类型", ""],
    ]);
    let read = read_venues(&rows, &unit, &[], ids()).expect("a register");
    for row in &read {
        let problem = &row.problems[0];
        for kind in VenueKind::ALL {
            assert!(problem.zh.contains(kind.name_zh()), "{problem:?}");
            assert!(problem.en.contains(kind.name_en()), "{problem:?}");
        }
        assert!(!problem.en.contains("无法识别"), "{problem:?}");
    }
    assert!(read[0].problems[0].zh.contains("“舞厅”无法识别"));
    assert!(read[1].problems[0].en.starts_with("The kind is empty"));
}

#[test]
fn every_file_problem_is_found_by_its_wire_code() {
    for problem in FileProblem::ALL {
        assert_eq!(FileProblem::from_code(problem.code()), Some(problem));
        assert!(problem.en().starts_with(|c: char| c.is_ascii_uppercase()));
        assert!(!problem.zh().is_ascii());
    }
    assert_eq!(FileProblem::from_code("invalid"), None);
}
