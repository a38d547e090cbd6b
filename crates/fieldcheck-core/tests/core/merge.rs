//! Field-by-field differences and the three-way merge of two edits.

use fieldcheck_core::merge::{FieldDiff, diff, diff_since, keeping_mine, three_way};
use serde_json::{Value, json};

fn record(notes: &str, answers: Value) -> Value {
    json!({"id": "r1", "notes": notes, "status": "draft", "answers": answers})
}

fn answer(item: &str, result: &str) -> Value {
    json!({"item": item, "result": result, "note": ""})
}

#[test]
fn the_diff_names_top_level_fields_and_keyed_list_elements() {
    let mine = record("mine", json!([answer("a", "pass"), answer("b", "fail")]));
    let theirs = record(
        "theirs",
        json!([answer("a", "pass"), answer("b", "pass"), answer("c", "na")]),
    );
    let diffs = diff(&mine, &theirs);
    let places: Vec<(&str, Option<&str>)> = diffs
        .iter()
        .map(|d: &FieldDiff| (d.field.as_str(), d.key.as_deref()))
        .collect();
    assert_eq!(
        places,
        [
            ("answers", Some("b")),
            ("answers", Some("c")),
            ("notes", None)
        ]
    );
    let c = diffs.iter().find(|d| d.key.as_deref() == Some("c"));
    assert_eq!(
        c.map(|d| d.mine.is_none()),
        Some(true),
        "mine has no answer for c"
    );
    assert!(diff(&mine, &mine).is_empty());
}

#[test]
fn edits_of_different_fields_or_items_merge() {
    let base = record("a", json!([answer("a", "pass"), answer("b", "pass")]));
    // Mine changed the notes and item a; theirs answered item c and changed item b.
    let mine = record("mine", json!([answer("a", "fail"), answer("b", "pass")]));
    let theirs = record(
        "a",
        json!([answer("a", "pass"), answer("b", "na"), answer("c", "pass")]),
    );
    let merged = three_way(Some(&base), &mine, &theirs);
    assert_eq!(
        merged,
        Some(record(
            "mine",
            json!([answer("a", "fail"), answer("b", "na"), answer("c", "pass")])
        ))
    );
}

#[test]
fn edits_of_the_same_field_or_item_do_not_merge() {
    let base = record("a", json!([answer("a", "pass")]));
    let mine = record("b", json!([answer("a", "pass")]));
    let theirs = record("c", json!([answer("a", "pass")]));
    assert_eq!(three_way(Some(&base), &mine, &theirs), None);

    let mine = record("a", json!([answer("a", "fail")]));
    let theirs = record("a", json!([answer("a", "na")]));
    assert_eq!(three_way(Some(&base), &mine, &theirs), None);
    // Deleted on one side, changed on the other.
    let mine = record("a", json!([]));
    let theirs = record("a", json!([answer("a", "na")]));
    assert_eq!(three_way(Some(&base), &mine, &theirs), None);
}

/// Both changed the notes; only the colleague answered item b N/A. Keeping this phone's edit keeps
/// its notes and item a, and the colleague's item b: it never undoes a change it did not make. The
/// table marks what this phone left unchanged.
#[test]
fn keeping_mine_keeps_what_this_phone_changed_and_the_rest_of_theirs() {
    let base = record("a", json!([answer("a", "pass"), answer("b", "pass")]));
    let mine = record("mine", json!([answer("a", "fail"), answer("b", "pass")]));
    let theirs = record(
        "theirs",
        json!([answer("a", "na"), answer("b", "na"), answer("c", "pass")]),
    );
    assert_eq!(three_way(Some(&base), &mine, &theirs), None);
    assert_eq!(
        keeping_mine(Some(&base), &mine, &theirs),
        record(
            "mine",
            json!([answer("a", "fail"), answer("b", "na"), answer("c", "pass")])
        )
    );
    let shown: Vec<(String, Option<String>, bool)> = diff_since(Some(&base), &mine, &theirs)
        .into_iter()
        .map(|row| (row.field, row.key, row.mine_unchanged))
        .collect();
    assert_eq!(
        shown,
        [
            ("answers".to_owned(), Some("a".to_owned()), false),
            ("answers".to_owned(), Some("b".to_owned()), true),
            ("answers".to_owned(), Some("c".to_owned()), true),
            ("notes".to_owned(), None, false)
        ]
    );
    // Deleted here, changed there: the deletion is this phone's.
    let deleted = record("a", json!([answer("b", "pass")]));
    assert_eq!(
        keeping_mine(Some(&base), &deleted, &theirs),
        record("theirs", json!([answer("b", "na"), answer("c", "pass")]))
    );
    // Without a base nothing tells whose a value is: this phone's copy whole, every row shown.
    assert_eq!(keeping_mine(None, &mine, &theirs), mine);
    assert!(
        diff_since(None, &mine, &theirs)
            .iter()
            .all(|row| !row.mine_unchanged)
    );
}

#[test]
fn the_same_change_on_both_sides_and_deletions_merge() {
    let base = record("a", json!([answer("a", "pass"), answer("b", "pass")]));
    let mine = record("same", json!([answer("b", "pass")]));
    let theirs = record("same", json!([answer("a", "pass"), answer("b", "pass")]));
    assert_eq!(
        three_way(Some(&base), &mine, &theirs),
        Some(record("same", json!([answer("b", "pass")])))
    );
    // No common base (a record both sides created): only identical copies "merge".
    assert_eq!(three_way(None, &mine, &theirs), None);
    assert_eq!(three_way(None, &mine, &mine), Some(mine.clone()));
}

/// Photos are evidence: two officers adding photos to the same record (or the same answer) keep
/// both, merged or kept; a note here and a photo there on one answer both stay; a time the server
/// keeps once set is the server's when both set it, so that keeping an edit is not refused.
#[test]
fn photos_from_both_sides_stay_and_fixed_fields_are_the_servers() {
    let base = json!({"id": "r1", "notes": "a", "status": "draft", "photos": ["p0"],
        "answers": [{"item": "a", "result": "fail", "note": "", "photos": []}]});
    let mine = json!({"id": "r1", "notes": "mine", "status": "submitted", "photos": ["p0", "p1"],
        "finished_at": "2026-11-26T10:40:00+08:00",
        "answers": [{"item": "a", "result": "fail", "note": "门锁", "photos": ["m"]}]});
    let theirs = json!({"id": "r1", "notes": "theirs", "status": "submitted", "photos": ["p2"],
        "finished_at": "2026-11-26T10:45:00+08:00",
        "answers": [{"item": "a", "result": "fail", "note": "", "photos": ["t"]}]});
    let kept = keeping_mine(Some(&base), &mine, &theirs);
    assert_eq!(
        kept,
        json!({"id": "r1", "notes": "mine", "status": "submitted", "photos": ["p2", "p1"],
            "finished_at": "2026-11-26T10:45:00+08:00",
            "answers": [{"item": "a", "result": "fail", "note": "门锁", "photos": ["t", "m"]}]})
    );
    // Without the notes and the time, the two edits merge outright.
    let mine = json!({"id": "r1", "notes": "a", "status": "draft", "photos": ["p0", "p1"],
        "answers": [{"item": "a", "result": "fail", "note": "门锁", "photos": []}]});
    let theirs = json!({"id": "r1", "notes": "a", "status": "draft", "photos": ["p0", "p2"],
        "answers": [{"item": "a", "result": "fail", "note": "", "photos": ["t"]}]});
    assert_eq!(
        three_way(Some(&base), &mine, &theirs),
        Some(
            json!({"id": "r1", "notes": "a", "status": "draft", "photos": ["p0", "p2", "p1"],
            "answers": [{"item": "a", "result": "fail", "note": "门锁", "photos": ["t"]}]})
        )
    );
}
