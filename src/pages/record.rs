//! /records/:id: one record to read — answers, hazards, status, sync state and the server's word.

use fieldcheck_core::{HazardStatus, InspectionId, ItemResult, Rectify, Status, Template, VenueId};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_params_map;

use crate::components::{StatusChip, SyncChip};
use crate::i18n::use_i18n;
use crate::store::{LocalInspection, StoreError, SyncMark, use_store};
use crate::sync::use_sync;

/// The record view.
#[component]
pub fn RecordPage() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let store = use_store();
    let params = use_params_map();
    let action_error = RwSignal::new(None::<String>);
    let data = LocalResource::new(move || {
        let _ = sync.data_version();
        let store = store.clone();
        let id = params.with(|params| params.get("id").unwrap_or_default());
        async move {
            let Some(local) = store.inspection(&InspectionId(id)).await? else {
                return Ok::<_, StoreError>(None);
            };
            let venue = store.venue(&local.record.venue_id).await?;
            Ok(Some((local, venue.map(|venue| venue.name))))
        }
    });
    let resolve_store = use_store();
    let resolve = move |keep_mine: bool, id: InspectionId| {
        let store = resolve_store.clone();
        spawn_local(async move {
            let result = if keep_mine {
                store.keep_local_version(&id).await
            } else {
                store.take_server_version(&id).await
            };
            match result {
                Ok(_) => {
                    action_error.set(None);
                    sync.saved_locally();
                }
                Err(error) => action_error.set(Some(error.to_string())),
            }
        });
    };
    move || {
        match data.get() {
        None => view! { <p class="empty" role="status">{i18n.t().loading}</p> }.into_any(),
        Some(Err(error)) => view! {
            <p class="banner banner-error" role="alert">{i18n.t().err_store} ": " {error.to_string()}</p>
        }
        .into_any(),
        Some(Ok(None)) => view! { <p class="empty" role="alert">{i18n.t().record_missing}</p> }.into_any(),
        Some(Ok(Some((local, venue_name)))) => {
            let resolve = resolve.clone();
            view! { <RecordView local venue_name resolve action_error /> }.into_any()
        }
    }
    }
}

#[component]
fn RecordView(
    local: LocalInspection,
    venue_name: Option<String>,
    resolve: impl Fn(bool, InspectionId) + Clone + 'static,
    action_error: RwSignal<Option<String>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let lang = i18n.lang();
    let t = lang.t();
    let record = local.record.clone();
    let template = Template::by_id(&record.template);
    let venue_id: VenueId = record.venue_id.clone();
    let editable = record.status != Status::Approved;
    let answers = template
        .map(|template| {
            template
                .items
                .iter()
                .map(|item| {
                    let answer = record.answer(item.code);
                    let result_text =
                        answer.map_or(t.unanswered, |answer| lang.result(answer.result));
                    let result_class = match answer.map(|answer| answer.result) {
                        None => "result result-none",
                        Some(ItemResult::Pass) => "result result-pass",
                        Some(ItemResult::Fail) => "result result-fail",
                        Some(ItemResult::Na) => "result result-na",
                    };
                    let note = answer
                        .map(|answer| answer.note.clone())
                        .filter(|note| !note.is_empty());
                    view! {
                        <li class="cell answer" data-item=item.code>
                            <span class="cell-main">
                                <span class="check-wording">{lang.pick(item.zh, item.en)}</span>
                                {note.map(|note| view! { <span class="cell-sub">{note}</span> })}
                            </span>
                            <span class=result_class>{result_text}</span>
                        </li>
                    }
                })
                .collect_view()
                .into_any()
        })
        .unwrap_or_else(|| view! { <li class="cell">{record.template.clone()}</li> }.into_any());
    let hazards = record
        .hazards
        .iter()
        .map(|hazard| {
            let how = match hazard.rectify {
                Rectify::OnSite => t.rectify_on_site.to_owned(),
                Rectify::Deadline => format!(
                    "{} · {}",
                    t.rectify_deadline,
                    hazard
                        .deadline
                        .map(|date| lang.date(&date))
                        .unwrap_or_default()
                ),
            };
            let state = match hazard.status {
                HazardStatus::Open => t.hazard_open,
                HazardStatus::Rectified => t.hazard_rectified,
            };
            view! {
                <li class="cell">
                    <span class="cell-main">
                        <span class="cell-title">{hazard.description.clone()}</span>
                        <span class="cell-sub">{how}</span>
                    </span>
                    <span class="cell-value">{state}</span>
                </li>
            }
        })
        .collect_view();
    let id_keep = record.id.clone();
    let id_take = record.id.clone();
    let resolve_take = resolve.clone();
    view! {
        <section class="page">
            <div class="group">
                <div class="cell">
                    <span class="field-label">{t.venue}</span>
                    <span class="cell-value">{venue_name.unwrap_or_else(|| t.unknown_venue.to_owned())}</span>
                </div>
                <div class="cell">
                    <span class="field-label">{t.inspection_kind}</span>
                    <span class="cell-value">{lang.inspection_kind(record.kind)}</span>
                </div>
                <div class="cell">
                    <span class="field-label">{t.started_at}</span>
                    <span class="cell-value">{lang.datetime(&record.started_at)}</span>
                </div>
                {record.finished_at.map(|finished| view! {
                    <div class="cell">
                        <span class="field-label">{t.finished_at}</span>
                        <span class="cell-value">{lang.datetime(&finished)}</span>
                    </div>
                })}
                <div class="cell">
                    <span class="field-label">{t.status}</span>
                    <StatusChip status=record.status />
                </div>
                <div class="cell" data-testid="record-sync" data-sync=local.sync.code()>
                    <span class="field-label">{t.sync_state}</span>
                    <SyncChip mark=local.sync />
                </div>
                {record.review_comment.clone().map(|comment| view! {
                    <div class="cell">
                        <span class="field-label">{t.review_comment}</span>
                        <span class="cell-value">{comment}</span>
                    </div>
                })}
            </div>
            {local.error.clone().map(|error| view! {
                <div class="banner banner-error" role="alert">
                    <p>{t.server_error} ": " {error.message}</p>
                    <p class="small">{error.code}</p>
                </div>
            })}
            {(local.sync == SyncMark::Conflict).then(|| view! {
                <div class="banner banner-warn" role="alert">
                    <p>{t.conflict_hint}</p>
                    <div class="actions">
                        <button type="button" class="button button-secondary"
                            on:click=move |_| resolve_take(false, id_take.clone())>{t.take_server}</button>
                        <button type="button" class="button button-primary"
                            on:click=move |_| resolve(true, id_keep.clone())>{t.keep_mine}</button>
                    </div>
                </div>
            })}
            {move || action_error.get().map(|message| view! {
                <p class="banner banner-error" role="alert">{i18n.t().err_store} ": " {message}</p>
            })}
            <h2 class="section-title">{t.checklist}</h2>
            <ul class="group list">{answers}</ul>
            <h2 class="section-title">{t.hazards}</h2>
            {record.hazards.is_empty().then(|| view! { <p class="empty">{t.no_hazards}</p> })}
            <ul class="group list">{hazards}</ul>
            {(!record.notes.is_empty()).then(|| view! {
                <h2 class="section-title">{t.notes}</h2>
                <p class="group notes">{record.notes.clone()}</p>
            })}
            {editable.then(|| view! {
                <div class="actions">
                    <a class="button button-secondary"
                        href=format!("/inspect/{}?record={}", venue_id, record.id)>{t.edit}</a>
                </div>
            })}
        </section>
    }
}
