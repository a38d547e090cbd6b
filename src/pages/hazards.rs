//! /hazards (隐患跟踪): every open hazard of the unit on the phone, overdue first, with days left, and
//! one tap to start the re-inspection (复查) that closes it.

use std::collections::HashMap;

use fieldcheck_core::{Hazard, Inspection, InspectionId, Rectify, Status};
use leptos::prelude::*;

use crate::components::{LIST_PAGE, MoreButton};
use crate::i18n::{Lang, now_china, use_i18n};
use crate::store::{StoreError, use_store};
use crate::sync::use_sync;

/// One open hazard on the board.
#[derive(Debug, Clone)]
struct OpenHazard {
    record: Inspection,
    hazard: Hazard,
    venue_name: String,
    /// Days until the deadline (negative: overdue); `None` without a deadline.
    days_left: Option<i64>,
}

/// The hazard board.
#[component]
pub fn HazardsPage() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let store = use_store();
    // The most urgent first: a unit's thousand open hazards are drawn a page at a time.
    let shown = RwSignal::new(LIST_PAGE);
    let data = LocalResource::new(move || {
        let _ = sync.data_version();
        let store = store.clone();
        async move {
            let records: Vec<Inspection> = store
                .hazard_inspection_rows()
                .await?
                .items
                .into_iter()
                .map(|local| local.record)
                .collect();
            let venues: HashMap<String, String> = store
                .list_venues("")
                .await?
                .items
                .into_iter()
                .map(|venue| (venue.id.to_string(), venue.name))
                .collect();
            Ok::<_, StoreError>(open_hazards(&records, &venues))
        }
    });
    view! {
        <section class="page">
            {move || match data.get() {
                None => view! { <p class="empty" role="status">{i18n.t().loading}</p> }.into_any(),
                Some(Err(error)) => view! {
                    <p class="banner banner-error" role="alert">{i18n.t().err_store} ": " {error.to_string()}</p>
                }.into_any(),
                Some(Ok(hazards)) => {
                    let lang = i18n.lang();
                    let n_overdue = hazards.iter().filter(|open| open.days_left.is_some_and(|days| days < 0)).count();
                    let total = hazards.len();
                    let hazards = StoredValue::new(hazards);
                    view! {
                        <p class="small records-count" data-testid="hazard-summary">{match lang {
                            Lang::Zh => format!("未整改隐患 {} 处，其中逾期 {} 处", total, n_overdue),
                            Lang::En if total == 1 => format!("1 open hazard, {n_overdue} overdue"),
                            Lang::En => format!("{total} open hazards, {n_overdue} overdue"),
                        }}</p>
                        {(total == 0).then(|| view! {
                            <p class="empty">{lang.pick("没有未整改的隐患。", "No open hazards.")}</p>
                        })}
                        <ul class="group list">
                            {move || hazards.with_value(|hazards| {
                                hazards.iter().take(shown.get()).cloned().map(|open| hazard_row(lang, open)).collect_view()
                            })}
                        </ul>
                        <MoreButton left=Signal::derive(move || total.saturating_sub(shown.get())) shown testid="hazards-more" />
                    }.into_any()
                }
            }}
        </section>
    }
}

fn hazard_row(lang: Lang, open: OpenHazard) -> impl IntoView {
    let overdue = open.days_left.is_some_and(|days| days < 0);
    let when = match (open.days_left, lang) {
        (None, _) => lang.pick("未定期限", "No deadline").to_owned(),
        (Some(days), Lang::Zh) if days < 0 => format!("逾期 {} 天", -days),
        (Some(0), Lang::Zh) => "今天到期".to_owned(),
        (Some(days), Lang::Zh) => format!("剩 {days} 天"),
        (Some(-1), Lang::En) => "1 day overdue".to_owned(),
        (Some(days), Lang::En) if days < 0 => format!("{} days overdue", -days),
        (Some(0), Lang::En) => "Due today".to_owned(),
        (Some(1), Lang::En) => "1 day left".to_owned(),
        (Some(days), Lang::En) => format!("{days} days left"),
    };
    // Each date says what it is: the visit that found the hazard, the day it must be fixed by.
    let found = format!(
        "{}{}",
        lang.pick("发现于 ", "Found "),
        lang.date(&open.record.visit_day())
    );
    let deadline = open
        .hazard
        .deadline
        .map(|day| format!(" · {}{}", lang.pick("限期至 ", "due "), lang.date(&day)));
    view! {
        <li class=if overdue { "cell hazard-row overdue" } else { "cell hazard-row" }
            data-testid="open-hazard" data-overdue=overdue.to_string()>
            <span class="cell-main">
                <span class="cell-title">{open.venue_name}</span>
                <span class="cell-sub">{open.hazard.description.clone()}</span>
                <span class="cell-sub">
                    <a class="hazard-record" href=format!("/records/{}", open.record.id)>{found}</a>
                    {deadline}
                </span>
            </span>
            <span class="hazard-side">
                <span class=if overdue { "chip chip-danger" } else { "chip" }>{when}</span>
                <a class="button button-secondary button-small" data-testid="start-reinspection"
                    href=format!("/inspect/{}?follows={}", open.record.venue_id, open.record.id)>
                    {lang.pick("复查", "Re-inspect")}
                </a>
            </span>
        </li>
    }
}

/// The open hazards of the submitted and reviewed records, overdue first, then by deadline.
fn open_hazards(records: &[Inspection], venues: &HashMap<String, String>) -> Vec<OpenHazard> {
    let today = now_china().date_naive();
    // Re-inspections by the record they follow: each hazard is checked against its own follow-ups.
    let mut follow_ups: HashMap<&InspectionId, Vec<&Inspection>> = HashMap::new();
    for record in records {
        if let Some(follows) = &record.follows {
            follow_ups.entry(follows).or_default().push(record);
        }
    }
    let mut open: Vec<OpenHazard> = records
        .iter()
        .filter(|record| record.status != Status::Draft && record.amends.is_none())
        .flat_map(|record| {
            record
                .open_hazards(
                    follow_ups
                        .get(&record.id)
                        .map(Vec::as_slice)
                        .unwrap_or_default()
                        .iter()
                        .copied(),
                )
                .into_iter()
                .filter(|hazard| hazard.rectify != Some(Rectify::OnSite))
                .map(|hazard| OpenHazard {
                    record: record.clone(),
                    hazard: hazard.clone(),
                    venue_name: venues
                        .get(record.venue_id.as_str())
                        .cloned()
                        .unwrap_or_default(),
                    days_left: hazard
                        .deadline
                        .map(|deadline| (deadline - today).num_days()),
                })
                .collect::<Vec<_>>()
        })
        .collect();
    open.sort_by_key(|open| (open.days_left.unwrap_or(i64::MAX), open.record.started_at));
    open
}
