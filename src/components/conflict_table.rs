//! Two versions of a record side by side: one row per field (or checklist item) that differs.

use fieldcheck_core::merge::FieldDiff;
use fieldcheck_core::sync::Entity;
use fieldcheck_core::{
    Hazard, HazardStatus, ItemResult, Location, Rectify, Status, Template, VenueKind,
};
use leptos::prelude::*;
use serde_json::Value;

use crate::i18n::{Lang, use_i18n};

/// The differing fields of this phone's copy and the server's, highlighted row by row.
#[component]
pub fn ConflictTable(
    /// An inspection's or a venue's fields: they name and read their fields differently.
    #[prop(default = Entity::Inspection)]
    entity: Entity,
    /// The checklist an inspection was made with, to name its items.
    #[prop(optional)]
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
            let (label, mine, theirs) = match entity {
                Entity::Venue => (
                    venue_label(lang, &row.field).to_owned(),
                    venue_value(lang, &row.field, row.mine.as_ref()),
                    venue_value(lang, &row.field, row.theirs.as_ref()),
                ),
                _ => (
                    row_label(lang, template.as_ref(), &row),
                    value_text(lang, &row.field, row.mine.as_ref()),
                    value_text(lang, &row.field, row.theirs.as_ref()),
                ),
            };
            // A value only the other side changed: said so, since keeping this phone's edit keeps it.
            let mine = if row.mine_unchanged {
                format!("{mine}{}", lang.pick("（未改动）", " (unchanged)"))
            } else {
                mine
            };
            view! {
                <tr class="diff-row" data-field=row.field.clone() data-unchanged=row.mine_unchanged.to_string()>
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

/// A venue's field as its form names it.
fn venue_label(lang: Lang, field: &str) -> &'static str {
    let t = lang.t();
    match field {
        "name" => t.venue_name,
        "kind" => t.venue_kind,
        "licence_no" => t.licence_no,
        "address" => t.venue_address,
        "contact_name" => t.venue_contact,
        "contact_phone" => t.venue_phone,
        "active" => lang.pick("在营", "Open"),
        "field_registered" => t.field_registered,
        "location" => t.field_location,
        _ => t.field_other,
    }
}

/// One side of a venue's field, as its form shows it.
fn venue_value(lang: Lang, field: &str, value: Option<&Value>) -> String {
    match (field, value) {
        ("kind", Some(value)) => serde_json::from_value::<VenueKind>(value.clone())
            .map(|kind| lang.venue_kind(kind).to_owned())
            .unwrap_or_else(|_| value.to_string()),
        ("active", Some(Value::Bool(open))) => {
            if *open {
                lang.pick("在营", "Open").to_owned()
            } else {
                lang.pick("停业", "Closed").to_owned()
            }
        }
        _ => value_text(lang, field, value),
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
        // The decisions, as the record page lists them.
        "reviews" => value
            .as_array()
            .map(|reviews| {
                reviews
                    .iter()
                    .map(
                        |review| match review.get("decision").and_then(Value::as_str) {
                            Some("approve") => lang.status(Status::Approved),
                            Some("return") => lang.status(Status::Returned),
                            _ => "?",
                        },
                    )
                    .collect::<Vec<_>>()
                    .join(lang.pick("、", ", "))
            })
            .filter(|decisions| !decisions.is_empty())
            .unwrap_or_else(|| t.absent.to_owned()),
        // A hazard reads as the officer wrote it: what, how it is fixed, and where it stands.
        "hazards" => match serde_json::from_value::<Hazard>(value.clone()) {
            Ok(hazard) => {
                let how = match hazard.rectify {
                    None => t.rectify_unchosen.to_owned(),
                    Some(Rectify::OnSite) => t.rectify_on_site.to_owned(),
                    Some(Rectify::Deadline) => match hazard.deadline {
                        Some(date) => format!("{} {}", t.rectify_deadline, lang.date(&date)),
                        None => t.rectify_deadline.to_owned(),
                    },
                };
                let state = match hazard.status {
                    HazardStatus::Open => t.hazard_open,
                    HazardStatus::Rectified => t.hazard_rectified,
                };
                format!("{} · {how} · {state}", hazard.description)
            }
            Err(_) => value.to_string(),
        },
        "location" => match serde_json::from_value::<Location>(value.clone()) {
            Ok(at) => format!("{:.5}, {:.5}", at.lat, at.lon),
            Err(_) => value.to_string(),
        },
        _ => match value {
            // Photos and other lists of names: how many, not the names.
            Value::Array(list) if list.iter().all(Value::is_string) => lang
                .pick("共{}项", "{} in all")
                .replace("{}", &list.len().to_string()),
            Value::String(text) if text.is_empty() => t.empty_value.to_owned(),
            Value::String(text) => text.clone(),
            Value::Bool(true) => "✓".to_owned(),
            Value::Bool(false) => "✗".to_owned(),
            other => other.to_string(),
        },
    }
}
