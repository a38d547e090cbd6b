//! /records (记录): newest first — an officer's own and their partners' records, a supervisor's whole
//! unit — with returned records flagged on top, the review queue, filters and paging.

use std::collections::HashMap;

use fieldcheck_core::query::RecordQuery;
use fieldcheck_core::sync::Officer;
use fieldcheck_core::{InspectionKind, Status, UserId, Venue, VenueId, VenueKind};
use leptos::prelude::*;
use leptos::reactive::computed::ScopedFuture;

use crate::components::{Icon, IconName, LIST_PAGE, MoreButton, StatusChip, SyncChip};
use crate::frame::FreeLater;
use crate::i18n::{Lang, use_i18n};
use crate::router::{use_navigate, use_query_map};
use crate::store::{InspectionRow, Listed, StoreError, use_store};
use crate::sync::use_sync;
use crate::timing::Span;

/// Rows drawn at once, before the whole set is read: a phone's screen and a scroll beyond.
const FIRST_SCREEN: usize = 20;

#[derive(Debug, Clone)]
struct RecordsData {
    records: FreeLater<Vec<InspectionRow>>,
    venues: FreeLater<HashMap<String, Venue>>,
    officers: Vec<Officer>,
    /// What could not be read: the records, then the venues.
    corrupt: Vec<StoreError>,
}

/// The records list.
#[component]
pub fn RecordsPage() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let store = use_store();
    let query = use_query_map();
    // `?saved=1` says this visit follows a save; the flag leaves the address at once, so that a
    // reload does not announce the save again.
    let just_saved = query.with_untracked(|query| query.get("saved").is_some());
    let navigate = use_navigate();
    if just_saved {
        // In place of this history entry, and through the router, which then knows the address as
        // the browser shows it (a tap on 记录 adds no second entry).
        navigate.replace("/records");
    }
    let filter = RwSignal::new(RecordQuery::default());
    // `?status=submitted` opens the review queue. The screen stays when the address changes to
    // another of its own (a tap on 记录 from the queue): the status filter then follows the address,
    // or the supervisor would find every other record hidden behind a filter she never chose.
    // Set at once for the first read; the effect (which runs a moment later) only follows changes.
    let opened_on = query.with_untracked(|query| query.get("status"));
    if let Some(status) = &opened_on {
        filter.update(|filter| filter.status = status_from_code(status));
    }
    let shown = RwSignal::new(LIST_PAGE);
    Effect::new(move |before: Option<Option<String>>| {
        let status = query.with(|query| query.get("status"));
        if before.as_ref().unwrap_or(&opened_on) != &status {
            filter.update(|filter| filter.status = status.as_deref().and_then(status_from_code));
            shown.set(LIST_PAGE);
        }
        status
    });
    // The newest rows and the venues, read in a moment: drawn while the whole set is read.
    let quick_store = use_store();
    let quick = LocalResource::new(move || {
        let _ = sync.data_version();
        let store = quick_store.clone();
        async move {
            let _span = Span::start("fieldcheck:records-newest");
            let rows = store.recent_inspection_rows(FIRST_SCREEN).await?;
            // Only the venues these rows name: a district's register is thousands.
            let named: Vec<VenueId> = rows
                .items
                .iter()
                .map(|row| row.record.venue_id.clone())
                .collect();
            let venues: HashMap<String, Venue> = store
                .venues_named(&named)
                .await?
                .into_iter()
                .map(|venue| (venue.id.to_string(), venue))
                .collect();
            Ok::<_, StoreError>((rows.items, venues))
        }
    });
    let data = LocalResource::new(move || {
        // Refetch whenever a save or a sync run changed local data.
        let _ = sync.data_version();
        let store = store.clone();
        // Made here, while the screen surely stands; polling it is what would subscribe.
        let newest = quick.into_future();
        async move {
            // The whole set is read once the newest rows are drawn, so that they come first. Waited
            // for without subscribing to them: the newest rows arriving again after a sync must not
            // start a second read of the whole set (an awaited resource is a tracked one).
            let newest = ScopedFuture::new_untracked(newest).await;
            // Nor is it read for a screen left meanwhile: this task outlives the screen.
            if newest.is_err() || quick.is_disposed() {
                return Ok(None);
            }
            let _span = Span::start("fieldcheck:records-whole");
            let Listed {
                items: records,
                mut corrupt,
            } = store.list_inspection_rows().await?;
            let listed = store.list_venues("").await?;
            corrupt.extend(listed.corrupt);
            let venues: HashMap<String, Venue> = listed
                .items
                .into_iter()
                .map(|venue| (venue.id.to_string(), venue))
                .collect();
            let officers = store.officers().await?;
            Ok::<_, StoreError>(Some(RecordsData {
                records: FreeLater::new(records),
                corrupt,
                venues: FreeLater::new(venues),
                officers,
            }))
        }
    });
    let session = move || sync.session();
    let reviews = move || session().is_some_and(|session| session.user.role.reviews());
    view! {
        <section class="page records-page">
            <Show when=move || just_saved>
                <p class="banner banner-ok" role="status">
                    <Icon name=IconName::Check />
                    // Honest about where the record is: on the phone only, or already on the server.
                    {move || match sync.status().badge_state() {
                        "synced" => i18n.t().saved_synced,
                        "attention" => i18n.t().saved_attention,
                        _ => i18n.t().saved_locally,
                    }}
                </p>
            </Show>
            {move || match data.get() {
                None | Some(Ok(None)) => match quick.get() {
                    Some(Ok((rows, venues))) => {
                        let me = session().map(|session| session.user.id);
                        view! { <QuickList rows venues me whole_unit=reviews() /> }.into_any()
                    }
                    // The newest rows could not be read: say why (the whole list waits on them).
                    Some(Err(error)) => view! {
                        <p class="banner banner-error" role="alert">
                            {i18n.t().err_store} ": " {error.to_string()}
                        </p>
                    }
                    .into_any(),
                    None => view! { <p class="empty" role="status">{i18n.t().loading}</p> }.into_any(),
                },
                Some(Err(error)) => {
                    view! {
                        <p class="banner banner-error" role="alert">
                            {i18n.t().err_store} ": " {error.to_string()}
                        </p>
                    }
                        .into_any()
                }
                Some(Ok(Some(data))) => {
                    let me = session().map(|session| session.user.id);
                    let whole_unit = reviews();
                    view! { <RecordsList data me whole_unit filter shown /> }.into_any()
                }
            }}
        </section>
    }
}

fn status_from_code(code: &str) -> Option<Status> {
    [
        Status::Draft,
        Status::Submitted,
        Status::Returned,
        Status::Approved,
    ]
    .into_iter()
    .find(|status| status.code() == code)
}

#[component]
fn RecordsList(
    data: RecordsData,
    me: Option<UserId>,
    /// Supervisors and admins see the unit's records, officers their own and their partners'.
    whole_unit: bool,
    filter: RwSignal<RecordQuery>,
    shown: RwSignal<usize>,
) -> impl IntoView {
    let i18n = use_i18n();
    let navigate = use_navigate();
    let lang = i18n.lang();
    let t = lang.t();
    let RecordsData {
        records,
        venues,
        officers,
        corrupt,
    } = data;
    let n_corrupt = corrupt.len();
    let details: Vec<String> = corrupt.iter().map(ToString::to_string).collect();
    let scope = RecordQuery {
        mine: (!whole_unit).then(|| me.clone()).flatten(),
        ..RecordQuery::default()
    };
    // Positions in `records`, not copies: a supervisor's scope is every one of 10 000 records, and
    // each copy would be one more to build now and to free on leaving.
    let in_scope: Vec<usize> = records
        .iter()
        .enumerate()
        .filter(|(_, local)| {
            scope.matches(&local.record, venues.get(local.record.venue_id.as_str()))
        })
        .map(|(idx, _)| idx)
        .collect();
    let scoped = || in_scope.iter().map(|idx| &records[*idx]);
    // Returned to me: fix and resubmit, with the supervisor's comment right there.
    let returned: Vec<InspectionRow> = scoped()
        .filter(|local| {
            local.record.status == Status::Returned
                && me.as_ref().is_some_and(|me| {
                    local.record.inspectors.contains(me)
                        || local.record.created_by.as_ref() == Some(me)
                })
        })
        .cloned()
        .collect();
    let n_to_review = scoped()
        .filter(|local| {
            local.record.status == Status::Submitted
                && me
                    .as_ref()
                    .is_some_and(|me| !local.record.inspectors.contains(me))
        })
        .count();
    let venues = StoredValue::new_local(venues);
    let records = StoredValue::new_local(records);
    let in_scope = StoredValue::new_local(in_scope);
    let venue_name =
        move |id: &str| venues.with_value(|venues| venues.get(id).map(|venue| venue.name.clone()));
    // Positions in `records`, not copies: only the rows drawn are cloned.
    let filtered = Memo::new(move |_| {
        let query = filter.get();
        records.with_value(|records| {
            in_scope.with_value(|in_scope| {
                venues.with_value(|venues| {
                    // The search is looked up once per venue, not once per record.
                    let found = query.venues_found(venues.values());
                    in_scope
                        .iter()
                        .copied()
                        .filter(|idx| {
                            let record = &records[*idx].record;
                            query.matches_record(record)
                                && found
                                    .as_ref()
                                    .is_none_or(|found| found.contains(record.venue_id.as_str()))
                        })
                        .collect::<Vec<usize>>()
                })
            })
        })
    });
    let set = move |change: fn(&mut RecordQuery, String)| {
        move |event: leptos::ev::Event| {
            let value = event_target_value(&event);
            filter.update(|filter| change(filter, value));
            shown.set(LIST_PAGE);
        }
    };
    // A supervisor reading the unit's records sees who made each.
    let officer_names: HashMap<UserId, String> = officers
        .iter()
        .map(|officer| (officer.user.id.clone(), officer.user.name.clone()))
        .collect();
    let officer_names = StoredValue::new(officer_names);
    let row = move |local: InspectionRow| {
        let mut name = venue_name(local.record.venue_id.as_str())
            .unwrap_or_else(|| t.unknown_venue.to_owned());
        if whole_unit {
            let who: Vec<String> = officer_names.with_value(|names| {
                local
                    .record
                    .inspectors
                    .iter()
                    .filter_map(|id| names.get(id).cloned())
                    .collect()
            });
            if !who.is_empty() {
                name = format!("{name} · {}", who.join(lang.pick("、", ", ")));
            }
        }
        record_row(lang, local, name)
    };
    view! {
        {(n_corrupt > 0).then(|| view! {
            <div class="banner banner-warn" role="alert">
                <p>{lang.n_unreadable(n_corrupt)}</p>
                <ul class="small">
                    {details.into_iter().map(|detail| view! { <li>{detail}</li> }).collect_view()}
                </ul>
            </div>
        })}
        {(!returned.is_empty()).then(|| view! {
            <div class="banner banner-warn" role="alert" data-testid="returned-records">
                <p class="banner-title">{lang.pick("退回待修改", "Returned to you: fix and resubmit")}</p>
                <ul class="group list">{returned.into_iter().map(row).collect_view()}</ul>
            </div>
        })}
        {(whole_unit && n_to_review > 0).then(|| view! {
            // Through the address, like the queue's link on 我的: a tap on 记录 then leaves it.
            <button type="button" class="button button-primary button-block" data-testid="review-queue"
                on:click=move |_| {
                    filter.update(|filter| {
                        *filter = RecordQuery { status: Some(Status::Submitted), ..RecordQuery::default() };
                    });
                    navigate.to("/records?status=submitted");
                }>
                {match lang {
                    crate::i18n::Lang::Zh => format!("待审核 {n_to_review} 条"),
                    crate::i18n::Lang::En => format!("{n_to_review} to review"),
                }}
            </button>
        })}
        // Folded by default, so that the list (the review queue too) comes first on a phone.
        <details class="group filters">
            <summary class="cell">
                {lang.pick("筛选", "Filter")}
                {move || {
                    let n = filter.with(|filter| {
                        usize::from(!filter.search.trim().is_empty())
                            + usize::from(filter.status.is_some())
                            + usize::from(filter.kind.is_some())
                            + usize::from(filter.venue_kind.is_some())
                            + usize::from(filter.officer.is_some())
                            + usize::from(filter.from.is_some() || filter.to.is_some())
                    });
                    (n > 0).then(|| match lang {
                        Lang::Zh => format!("（已选 {n} 项）"),
                        Lang::En => format!(" ({n} set)"),
                    })
                }}
            </summary>
            <div class="filters-grid">
                <input class="input" type="search" data-testid="records-search"
                    placeholder=lang.pick("场所名称/拼音首字母", "Venue name or initials")
                    prop:value=move || filter.with(|filter| filter.search.clone())
                    on:input=set(|filter, value| filter.search = value) />
                <select class="input" data-testid="filter-status"
                    on:change=set(|filter, value| filter.status = status_from_code(&value))>
                    <option value="" selected=move || filter.with(|filter| filter.status.is_none())>{lang.pick("全部状态", "Any status")}</option>
                    {[Status::Draft, Status::Submitted, Status::Returned, Status::Approved].into_iter().map(|status| view! {
                        <option value=status.code() selected=move || filter.with(|filter| filter.status == Some(status))>{lang.status(status)}</option>
                    }).collect_view()}
                </select>
                <select class="input" data-testid="filter-kind"
                    on:change=set(|filter, value| filter.kind = InspectionKind::ALL.into_iter().find(|kind| kind_code(*kind) == value))>
                    <option value="">{lang.pick("全部检查类型", "Any inspection kind")}</option>
                    {InspectionKind::ALL.into_iter().map(|kind| view! {
                        <option value=kind_code(kind)>{lang.inspection_kind(kind)}</option>
                    }).collect_view()}
                </select>
                <select class="input" data-testid="filter-venue-kind"
                    on:change=set(|filter, value| filter.venue_kind = VenueKind::from_code(&value))>
                    <option value="">{lang.pick("全部场所类型", "Any venue kind")}</option>
                    {VenueKind::ALL.into_iter().map(|kind| view! {
                        <option value=kind.code()>{lang.venue_kind(kind)}</option>
                    }).collect_view()}
                </select>
                {whole_unit.then(|| view! {
                    <select class="input" data-testid="filter-officer"
                        on:change=set(|filter, value| filter.officer = (!value.is_empty()).then_some(UserId(value)))>
                        <option value="">{lang.pick("全部执法人员", "Any officer")}</option>
                        {officers.iter().map(|officer| view! {
                            <option value=officer.user.id.to_string()>{officer.user.name.clone()}</option>
                        }).collect_view()}
                    </select>
                })}
                <label class="field">
                    <span class="field-label">{lang.pick("起", "From")}</span>
                    <input class="input" type="date" data-testid="filter-from"
                        on:change=set(|filter, value| filter.from = value.parse().ok()) />
                </label>
                <label class="field">
                    <span class="field-label">{lang.pick("止", "To")}</span>
                    <input class="input" type="date" data-testid="filter-to"
                        on:change=set(|filter, value| filter.to = value.parse().ok()) />
                </label>
            </div>
        </details>
        <p class="small records-count" data-testid="records-count">
            {move || {
                let n = filtered.with(Vec::len);
                match lang {
                    crate::i18n::Lang::Zh => format!("共 {n} 条"),
                    crate::i18n::Lang::En if n == 1 => "1 record".to_owned(),
                    crate::i18n::Lang::En => format!("{n} records"),
                }
            }}
        </p>
        {move || filtered.with(Vec::is_empty).then(|| {
            // Say why the list is empty: nothing at all, nothing to review, or nothing matching.
            let text = filter.with(|filter| {
                if *filter == RecordQuery::default() {
                    t.no_records
                } else if filter.status == Some(Status::Submitted) {
                    t.no_reviews
                } else {
                    t.no_matching_records
                }
            });
            view! { <p class="empty" data-testid="records-empty">{text}</p> }
        })}
        <ul class="group list">
            {move || filtered.with(|positions| {
                records.with_value(|records| {
                    positions
                        .iter()
                        .take(shown.get())
                        .filter_map(|idx| records.get(*idx).cloned())
                        .map(row)
                        .collect_view()
                })
            })}
        </ul>
        <MoreButton left=Signal::derive(move || filtered.with(Vec::len).saturating_sub(shown.get()))
            shown testid="records-more" />
    }
}

fn kind_code(kind: InspectionKind) -> &'static str {
    match kind {
        InspectionKind::Routine => "routine",
        InspectionKind::Special => "special",
        InspectionKind::Reinspection => "reinspection",
        InspectionKind::Complaint => "complaint",
    }
}

/// One record in a list: venue, time and kind, the return comment, status and sync state.
fn record_row(lang: Lang, local: InspectionRow, venue_name: String) -> impl IntoView {
    let mark = local.mark;
    let record = local.record;
    let comment = record
        .review_comment
        .clone()
        .filter(|_| record.status == Status::Returned);
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
                    {comment.map(|comment| view! {
                        <span class="cell-sub review-note" data-testid="returned-comment">{comment}</span>
                    })}
                    <span class="chips">
                        <StatusChip status=record.status />
                        <SyncChip mark />
                    </span>
                </span>
                <Icon name=IconName::Chevron />
            </a>
        </li>
    }
}

/// The newest records, drawn at once while the whole set is read for filters and counts.
#[component]
fn QuickList(
    rows: Vec<InspectionRow>,
    venues: HashMap<String, Venue>,
    me: Option<UserId>,
    whole_unit: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    let lang = i18n.lang();
    let scope = RecordQuery {
        mine: (!whole_unit).then_some(me).flatten(),
        ..RecordQuery::default()
    };
    view! {
        <p class="small records-count" role="status" data-testid="records-reading">
            {lang.pick("正在读取全部记录……", "Reading all records…")}
        </p>
        <ul class="group list">
            {rows
                .into_iter()
                .filter(|row| scope.matches(&row.record, None))
                .map(|row| {
                    let name = venues
                        .get(row.record.venue_id.as_str())
                        .map_or_else(|| lang.t().unknown_venue.to_owned(), |venue| venue.name.clone());
                    record_row(lang, row, name)
                })
                .collect_view()}
        </ul>
    }
}
