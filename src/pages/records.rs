//! /records (记录): my inspections newest first, with venue, date, review status and sync state.

use std::collections::HashMap;

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::{Icon, IconName, StatusChip, SyncChip};
use crate::i18n::use_i18n;
use crate::store::{Listed, LocalInspection, StoreError, use_store};
use crate::sync::use_sync;

#[derive(Debug, Clone)]
struct RecordsData {
    records: Listed<LocalInspection>,
    venue_names: HashMap<String, String>,
    n_corrupt_venues: usize,
}

/// The records list.
#[component]
pub fn RecordsPage() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let store = use_store();
    let query = use_query_map();
    let just_saved = move || query.with(|query| query.get("saved").is_some());
    let data = LocalResource::new(move || {
        // Refetch whenever a save or a sync run changed local data.
        let _ = sync.data_version();
        let store = store.clone();
        let user_id = sync.session().map(|session| session.user.id);
        async move {
            let mut records = store.list_inspections().await?;
            // 记录 is "my inspections": pulled records of colleagues stay for re-inspections only.
            if let Some(user_id) = user_id {
                records.items.retain(|local| {
                    local.record.inspectors.contains(&user_id)
                        || local.record.created_by.as_ref() == Some(&user_id)
                });
            }
            let venues = store.list_venues("").await?;
            let venue_names = venues
                .items
                .into_iter()
                .map(|venue| (venue.id.to_string(), venue.name))
                .collect();
            Ok::<_, StoreError>(RecordsData {
                records,
                venue_names,
                n_corrupt_venues: venues.corrupt.len(),
            })
        }
    });
    view! {
        <section class="page">
            <Show when=just_saved>
                <p class="banner banner-ok" role="status">
                    <Icon name=IconName::Check />
                    // Honest about where the record is: on the phone only, or already on the server.
                    {move || {
                        if sync.status().pending > 0 {
                            i18n.t().saved_locally
                        } else {
                            i18n.t().saved_synced
                        }
                    }}
                </p>
            </Show>
            {move || match data.get() {
                None => view! { <p class="empty" role="status">{i18n.t().loading}</p> }.into_any(),
                Some(Err(error)) => {
                    view! {
                        <p class="banner banner-error" role="alert">
                            {i18n.t().err_store} ": " {error.to_string()}
                        </p>
                    }
                        .into_any()
                }
                Some(Ok(data)) => {
                    let lang = i18n.lang();
                    let t = lang.t();
                    let n_corrupt = data.records.corrupt.len() + data.n_corrupt_venues;
                    let details: Vec<String> = data
                        .records
                        .corrupt
                        .iter()
                        .map(|error| error.to_string())
                        .collect();
                    view! {
                        {(n_corrupt > 0)
                            .then(|| {
                                view! {
                                    <div class="banner banner-warn" role="alert">
                                        <p>{lang.n_unreadable(n_corrupt)}</p>
                                        <ul class="small">
                                            {details
                                                .into_iter()
                                                .map(|detail| view! { <li>{detail}</li> })
                                                .collect_view()}
                                        </ul>
                                    </div>
                                }
                            })}
                        {data
                            .records
                            .items
                            .is_empty()
                            .then(|| view! { <p class="empty">{t.no_records}</p> })}
                        <ul class="group list">
                            {data
                                .records
                                .items
                                .into_iter()
                                .map(|local| {
                                    let mark = local.mark();
                                    let record = local.record;
                                    let venue_name = data
                                        .venue_names
                                        .get(record.venue_id.as_str())
                                        .cloned()
                                        .unwrap_or_else(|| t.unknown_venue.to_owned());
                                    view! {
                                        <li>
                                            <a
                                                class="cell cell-link record-row"
                                                data-testid="record-row"
                                                data-sync=mark.code()
                                                data-status=record.status.code()
                                                href=format!("/records/{}", record.id)
                                            >
                                                <span class="cell-main">
                                                    <span class="cell-title">{venue_name}</span>
                                                    <span class="cell-sub">
                                                        {lang.datetime(&record.started_at)} " · "
                                                        {lang.inspection_kind(record.kind)}
                                                    </span>
                                                    <span class="chips">
                                                        <StatusChip status=record.status />
                                                        <SyncChip mark />
                                                    </span>
                                                </span>
                                                <Icon name=IconName::Chevron />
                                            </a>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                        .into_any()
                }
            }}
        </section>
    }
}
