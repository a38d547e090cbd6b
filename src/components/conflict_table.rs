//! Two versions of a record side by side: one row per field (or checklist item) that differs.

use fieldcheck_core::merge::FieldDiff;
use fieldcheck_core::{ItemResult, Status, Template};
use leptos::prelude::*;
use serde_json::Value;

use crate::i18n::{Lang, use_i18n};

/// The differing fields of this phone's copy and the server's, highlighted row by row.
#[component]
pub fn ConflictTable(
    /// The checklist the record was made with, to name its items.
    template: String,
    rows: Vec<FieldDiff>,
) -> impl IntoView {
    let i18n = use_i18n();
    let lang = i18n.lang();
    let t = lang.t();
    let template = Template::by_id(&template);
    let rows = rows
        .into_iter()
        .map(|row| {
            let label = row_label(lang, template.as_ref(), &row);
            let mine = value_text(lang, &row.field, row.mine.as_ref());
            let theirs = value_text(lang, &row.field, row.theirs.as_ref());
            view! {
                <tr class="diff-row" data-field=row.field.clone()>
                    <th scope="row">{label}</th>
                    <td class="diff-mine">{mine}</td>
                    <td class="diff-theirs">{theirs}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="diff-wrap">
            <table class="diff" data-testid="conflict-table">
                <thead>
                    <tr>
                        <th scope="col">{t.col_field}</th>
                        <th scope="col">{t.col_mine}</th>
                        <th scope="col">{t.col_theirs}</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// "检查项：禁止未成年人进入" for an answer, "隐患：…" for a hazard, the field's name otherwise.
fn row_label(lang: Lang, template: Option<&Template>, row: &FieldDiff) -> String {
    let field = lang.field_label(&row.field);
    let Some(key) = &row.key else {
        return field.to_owned();
    };
    let wording = match row.field.as_str() {
        "answers" => template
            .and_then(|template| template.item(key))
            .map(|item| lang.pick(item.zh, item.en).to_owned()),
        "hazards" => row
            .mine
            .as_ref()
            .or(row.theirs.as_ref())
            .and_then(|hazard| hazard.get("description"))
            .and_then(Value::as_str)
            .map(str::to_owned),
        _ => None,
    };
    match (lang, wording) {
        (Lang::Zh, Some(wording)) => format!("{field}：{wording}"),
        (Lang::En, Some(wording)) => format!("{field}: {wording}"),
        (_, None) => format!("{field} {key}"),
    }
}

/// A short readable form of one side's value.
fn value_text(lang: Lang, field: &str, value: Option<&Value>) -> String {
    let t = lang.t();
    let Some(value) = value.filter(|value| !value.is_null()) else {
        return t.absent.to_owned();
    };
    match field {
        "status" => serde_json::from_value::<Status>(value.clone())
            .map(|status| lang.status(status).to_owned())
            .unwrap_or_else(|_| value.to_string()),
        "answers" => {
            let result = value
                .get("result")
                .and_then(|result| serde_json::from_value::<ItemResult>(result.clone()).ok())
                .map_or("", |result| lang.result(result));
            let note = value
                .get("note")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if note.is_empty() {
                result.to_owned()
            } else {
                format!("{result} · {note}")
            }
        }
        _ => match value {
            Value::String(text) if text.is_empty() => t.empty_value.to_owned(),
            Value::String(text) => text.clone(),
            Value::Bool(true) => "✓".to_owned(),
            Value::Bool(false) => "✗".to_owned(),
            other => other.to_string(),
        },
    }
}
