//! Comparing two edits of one record field by field, and merging them when they touch different fields.
//!
//! Records are compared as JSON objects, top-level field by field. Lists of objects that carry their
//! own key — checklist answers (`item`), hazards (`id`) — are compared element by element, because two
//! officers typically answer different items of the same checklist and both answers must survive.

use crate::rules::FixedField;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// One place where two versions of a record differ.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDiff {
    /// The top-level field, e.g. `notes` or `answers`.
    pub field: String,
    /// For keyed lists, the element's key (an answer's item code, a hazard's id).
    pub key: Option<String>,
    /// The value on each side; `None` where that side does not have it.
    pub mine: Option<Value>,
    pub theirs: Option<Value>,
    /// This phone's edit left the value as it was (see [`diff_since`]): the difference is the other
    /// side's change alone, which "keep mine" keeps.
    pub mine_unchanged: bool,
}

/// The fields (and keyed list elements) in which `mine` and `theirs` differ, in field order.
pub fn diff(mine: &Value, theirs: &Value) -> Vec<FieldDiff> {
    let empty = Map::new();
    let mine_fields = mine.as_object().unwrap_or(&empty);
    let theirs_fields = theirs.as_object().unwrap_or(&empty);
    let mut diffs = Vec::new();
    for field in union_keys(mine_fields, theirs_fields) {
        let (mine_value, theirs_value) = (mine_fields.get(&field), theirs_fields.get(&field));
        if mine_value == theirs_value {
            continue;
        }
        match (keyed(mine_value), keyed(theirs_value)) {
            (Some(mine_list), Some(theirs_list)) => {
                for key in union_list_keys(&mine_list, &theirs_list) {
                    let (mine_element, theirs_element) =
                        (find(&mine_list, &key), find(&theirs_list, &key));
                    if mine_element != theirs_element {
                        diffs.push(FieldDiff {
                            field: field.clone(),
                            key: Some(key),
                            mine: mine_element.cloned(),
                            theirs: theirs_element.cloned(),
                            mine_unchanged: false,
                        });
                    }
                }
            }
            _ => diffs.push(FieldDiff {
                field: field.clone(),
                key: None,
                mine: mine_value.cloned(),
                theirs: theirs_value.cloned(),
                mine_unchanged: false,
            }),
        }
    }
    diffs
}

/// The merge of two edits made on `base`, if they changed different fields (or keyed list elements),
/// or changed them to the same value. `None` when both changed the same thing differently, or when
/// there is no common base.
pub fn three_way(base: Option<&Value>, mine: &Value, theirs: &Value) -> Option<Value> {
    merged(base, mine, theirs, Clash::Unresolved)
}

/// "Keep mine": this phone's edit on top of `theirs`. What this phone changed since `base` is its
/// own, a value both changed is this phone's, and what only the other side changed (a colleague's
/// answer to another item) is theirs: keeping an edit never undoes a change it did not make.
/// Without a common base, nothing tells whose a value is, and `mine` is kept whole.
pub fn keeping_mine(base: Option<&Value>, mine: &Value, theirs: &Value) -> Value {
    merged(base, mine, theirs, Clash::Mine).unwrap_or_else(|| mine.clone())
}

/// The rows of [`diff`], each marked when this phone's edit left its value as it was in `base`: a
/// difference only the other side made, which is no choice (keeping the edit keeps it too). Without
/// a base nothing is marked.
pub fn diff_since(base: Option<&Value>, mine: &Value, theirs: &Value) -> Vec<FieldDiff> {
    let mut rows = diff(mine, theirs);
    let Some(base) = base.and_then(Value::as_object) else {
        return rows;
    };
    for row in &mut rows {
        let was = base.get(&row.field);
        let was = match &row.key {
            Some(key) => keyed(was).and_then(|list| find(&list, key)),
            None => was,
        };
        row.mine_unchanged = was == row.mine.as_ref();
    }
    rows
}

/// What a merge does with a value both sides changed differently.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Clash {
    /// No merge.
    Unresolved,
    /// This phone's value.
    Mine,
}

fn merged(base: Option<&Value>, mine: &Value, theirs: &Value, clash: Clash) -> Option<Value> {
    if mine == theirs {
        return Some(mine.clone());
    }
    let base = base?.as_object()?;
    let mine = mine.as_object()?;
    let theirs = theirs.as_object()?;
    // The fields the server keeps once the record has them are kept as the server's copy has them
    // when both sides set them, so that keeping an edit is never refused for them.
    let theirs_final = theirs
        .get("status")
        .is_some_and(|status| status.as_str() != Some("draft"));
    let mut merged = Map::new();
    let mut fields: BTreeSet<&String> = base.keys().collect();
    fields.extend(mine.keys());
    fields.extend(theirs.keys());
    for field in fields {
        let (was, mine, theirs) = (base.get(field), mine.get(field), theirs.get(field));
        let fixed = FixedField::ALL
            .iter()
            .any(|fixed| fixed.name() == field && (!fixed.once_not_draft() || theirs_final));
        let picked = pick(was, mine, theirs)
            .or_else(|| merge_keyed(was, mine, theirs, clash).map(Some))
            .or_else(|| merge_names(field, was, mine, theirs).map(Some))
            .or_else(|| match clash {
                Clash::Mine if fixed && theirs.is_some_and(|theirs| !theirs.is_null()) => {
                    Some(theirs.cloned())
                }
                Clash::Mine => Some(mine.cloned()),
                Clash::Unresolved => None,
            })?;
        if let Some(value) = picked {
            merged.insert(field.clone(), value);
        }
    }
    Some(Value::Object(merged))
}

/// One element of a keyed list (an answer, a hazard) changed on both sides: merged field by field,
/// so that a note written here and a photo added there both stay.
fn merge_element(
    base: Option<&Value>,
    mine: Option<&Value>,
    theirs: Option<&Value>,
    clash: Clash,
) -> Option<Option<Value>> {
    if let Some(picked) = pick(base, mine, theirs) {
        return Some(picked);
    }
    let empty = Map::new();
    let (Some(Value::Object(mine_fields)), Some(Value::Object(theirs_fields))) = (mine, theirs)
    else {
        // Deleted on one side, changed on the other.
        return (clash == Clash::Mine).then(|| mine.cloned());
    };
    let base_fields = match base {
        Some(Value::Object(fields)) => fields,
        _ => &empty,
    };
    let mut keys: BTreeSet<&String> = base_fields.keys().collect();
    keys.extend(mine_fields.keys());
    keys.extend(theirs_fields.keys());
    let mut merged = Map::new();
    for key in keys {
        let (was, mine, theirs) = (
            base_fields.get(key),
            mine_fields.get(key),
            theirs_fields.get(key),
        );
        let picked = pick(was, mine, theirs)
            .or_else(|| merge_names(key, was, mine, theirs).map(Some))
            .or_else(|| (clash == Clash::Mine).then(|| mine.cloned()))?;
        if let Some(value) = picked {
            merged.insert(key.clone(), value);
        }
    }
    Some(Some(Value::Object(merged)))
}

/// Photo names changed on both sides, merged as sets: the server's in their order without those
/// this phone took out, then those this phone added. A photo is evidence: one side adding a photo
/// never removes the other's.
fn merge_names(
    field: &str,
    base: Option<&Value>,
    mine: Option<&Value>,
    theirs: Option<&Value>,
) -> Option<Value> {
    if field != "photos" {
        return None;
    }
    let (base, mine, theirs) = (names(base)?, names(mine)?, names(theirs)?);
    let mut merged: Vec<&str> = theirs
        .iter()
        .copied()
        // Not one this phone took out.
        .filter(|name| !base.contains(name) || mine.contains(name))
        .collect();
    for name in mine {
        if !base.contains(&name) && !merged.contains(&name) {
            merged.push(name);
        }
    }
    Some(Value::Array(merged.into_iter().map(Value::from).collect()))
}

/// A list of names (absent or null: none); `None` for anything else.
fn names(value: Option<&Value>) -> Option<Vec<&str>> {
    match value {
        None | Some(Value::Null) => Some(Vec::new()),
        Some(Value::Array(list)) => list.iter().map(Value::as_str).collect(),
        Some(_) => None,
    }
}

/// The three-way choice for one value: `Some(choice)` when at most one side changed it (or both alike),
/// where `choice` is `None` for "absent"; `None` when both changed it differently.
fn pick(
    base: Option<&Value>,
    mine: Option<&Value>,
    theirs: Option<&Value>,
) -> Option<Option<Value>> {
    if mine == theirs || theirs == base {
        Some(mine.cloned())
    } else if mine == base {
        Some(theirs.cloned())
    } else {
        None
    }
}

/// Merges keyed lists element by element: theirs' order, then elements only mine added.
fn merge_keyed(
    base: Option<&Value>,
    mine: Option<&Value>,
    theirs: Option<&Value>,
    clash: Clash,
) -> Option<Value> {
    let base_list = match base {
        None => Vec::new(),
        some => keyed(some)?,
    };
    let mine_list = keyed(mine)?;
    let theirs_list = keyed(theirs)?;
    let mut keys = union_list_keys(&theirs_list, &mine_list);
    // Elements deleted on one side keep their position out of the result; base-only keys need a look too.
    for (key, _) in &base_list {
        if !keys.contains(key) {
            keys.push(key.clone());
        }
    }
    let mut merged = Vec::new();
    for key in keys {
        let picked = merge_element(
            find(&base_list, &key),
            find(&mine_list, &key),
            find(&theirs_list, &key),
            clash,
        )?;
        if let Some(element) = picked {
            merged.push(element);
        }
    }
    Some(Value::Array(merged))
}

/// A list whose elements are all objects with a string `item`, `id`, `hazard` or `officer`, as (key, element) pairs.
fn keyed(value: Option<&Value>) -> Option<Vec<(String, &Value)>> {
    let list = value?.as_array()?;
    let key_field = ["item", "id", "hazard", "officer"]
        .into_iter()
        .find(|key_field| {
            list.first()
                .and_then(|first| first.get(key_field))
                .is_some_and(Value::is_string)
        });
    if list.is_empty() {
        return Some(Vec::new());
    }
    let key_field = key_field?;
    list.iter()
        .map(|element| {
            element
                .get(key_field)
                .and_then(Value::as_str)
                .map(|key| (key.to_owned(), element))
        })
        .collect()
}

fn find<'a>(list: &[(String, &'a Value)], key: &str) -> Option<&'a Value> {
    list.iter()
        .find(|(element_key, _)| element_key == key)
        .map(|(_, element)| *element)
}

fn union_keys(first: &Map<String, Value>, second: &Map<String, Value>) -> Vec<String> {
    let mut keys: Vec<String> = first.keys().cloned().collect();
    keys.extend(
        second
            .keys()
            .filter(|key| !first.contains_key(*key))
            .cloned(),
    );
    keys
}

fn union_list_keys(first: &[(String, &Value)], second: &[(String, &Value)]) -> Vec<String> {
    let mut keys: Vec<String> = first.iter().map(|(key, _)| key.clone()).collect();
    for (key, _) in second {
        if !keys.contains(key) {
            keys.push(key.clone());
        }
    }
    keys
}
