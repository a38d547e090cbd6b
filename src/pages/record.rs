//! /records/:id: one record to read — answers, hazards, status, sync state — and, when it waits for the
//! inspector, the server's word: a conflict side by side, or a refusal with its reason.

use fieldcheck_core::local::LocalState;
use fieldcheck_core::merge::{FieldDiff, diff, diff_since, three_way};
use fieldcheck_core::rules::may_edit;
use fieldcheck_core::sync::Entity;
use fieldcheck_core::{HazardStatus, InspectionId, ItemResult, Rectify, Status, Template, VenueId};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::components::{ConflictTable, Icon, IconName, StatusChip, SyncChip, Thumbs};
use crate::i18n::{Lang, use_i18n};
use crate::pages::not_found::NothingHere;
use crate::pages::record_actions::{AmendmentForm, Amendments, PeopleOnRecord, ReviewPanel};
use crate::router::use_params_map;
use crate::store::{LocalInspection, Resolution, StoreError, use_store};
use crate::sync::use_sync;

/// The record view.
#[component]
pub fn RecordPage() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let store = use_store();
    let params = use_params_map();
    let action_error = RwSignal::new(None::<String>);
    // The supervisor's decision on this page: kept here, above the view that the sync run after
    // the decision redraws (without the review panel, the record being decided).
    let reviewed = RwSignal::new(None::<(InspectionId, Status)>);
    let data = LocalResource::new(move || {
        let _ = sync.data_version();
        let store = store.clone();
        let id = params.with(|params| params.get("id").unwrap_or_default());
        async move {
            let Some(local) = store.inspection(&InspectionId(id)).await? else {
                return Ok::<_, StoreError>(None);
            };
            let venue = store.venue(&local.record.venue_id).await?;
            let queued = store.queued_photo_names().await?;
            // The venue's other records: a re-inspection among them may have closed a hazard.
            let others: Vec<fieldcheck_core::Inspection> = store
                .inspections_for_venue(&local.record.venue_id)
                .await?
                .items
                .into_iter()
                .filter(|other| other.record.id != local.record.id)
                .map(|other| other.record)
                .collect();
            let officers = store.officers().await?;
            let photos_waiting = local
                .record
                .photo_names()
                .iter()
                .filter(|name| queued.iter().any(|queued| queued == *name))
                .count();
            Ok(Some((
                local,
                venue.map(|venue| venue.name),
                photos_waiting,
                others,
                officers,
            )))
        }
    });
    let resolve_store = use_store();
    let resolve = Callback::new(move |(id, resolution): (InspectionId, Resolution)| {
        let store = resolve_store.clone();
        spawn_local(async move {
            match store
                .resolve(Entity::Inspection, id.as_str(), resolution)
                .await
            {
                Ok(()) => {
                    action_error.set(None);
                    sync.resolved();
                }
                Err(error) => action_error.set(Some(error.to_string())),
            }
        });
    });
    move || {
        match data.get() {
        None => view! { <p class="empty" role="status">{i18n.t().loading}</p> }.into_any(),
        Some(Err(error)) => view! {
            <section class="page">
                <div class="banner banner-error" role="alert" data-testid="record-damaged">
                    <p>{i18n.t().quarantined_title}</p>
                    <p class="small">{error.to_string()}</p>
                    <p>{i18n.t().quarantined_hint}</p>
                </div>
                <a class="button button-secondary" href="/me">{i18n.t().tab_me}</a>
            </section>
        }
        .into_any(),
        Some(Ok(None)) => view! { <NothingHere message=|lang| lang.t().record_missing /> }.into_any(),
        Some(Ok(Some((local, venue_name, photos_waiting, others, officers)))) => view! {
            <RecordView local venue_name photos_waiting others officers resolve action_error reviewed />
        }
        .into_any(),
    }
    }
}

#[component]
fn RecordView(
    local: LocalInspection,
    venue_name: Option<String>,
    /// Photos and signatures of the record not on the server yet: the record waits for them.
    photos_waiting: usize,
    /// The venue's other records on the phone (re-inspections close hazards).
    others: Vec<fieldcheck_core::Inspection>,
    /// The unit's officers known on the phone (names and certificate numbers).
    officers: Vec<fieldcheck_core::sync::Officer>,
    resolve: Callback<(InspectionId, Resolution)>,
    action_error: RwSignal<Option<String>>,
    /// The decision a supervisor just took on a record (this one, or one seen before on this page).
    reviewed: RwSignal<Option<(InspectionId, Status)>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let lang = i18n.lang();
    let t = lang.t();
    let record = local.record.clone();
    let template = Template::by_id(&record.template);
    let venue_id: VenueId = record.venue_id.clone();
    let session = sync.session();
    // A change the server refused as locked cannot be edited into one it accepts.
    let locked_out =
        matches!(&local.local, LocalState::Rejected { reason, .. } if reason.code == "locked");
    let editable = !locked_out
        && session
            .as_ref()
            .is_some_and(|session| may_edit(&session.user.id, &record));
    // A supervisor reviews the server's copy as it stands on the phone (nothing of theirs waiting),
    // and never a record they are named on.
    let review_rev = session.as_ref().and_then(|session| {
        let named = record.inspectors.contains(&session.user.id)
            || record.created_by.as_ref() == Some(&session.user.id);
        match &local.local {
            LocalState::Synced { server }
                if session.user.role.reviews() && !named && record.status == Status::Submitted =>
            {
                Some(server.rev)
            }
            _ => None,
        }
    });
    let amendable = record.status == Status::Approved
        && record.amends.is_none()
        && session.as_ref().is_some_and(|session| {
            record.inspectors.contains(&session.user.id)
                || record.created_by.as_ref() == Some(&session.user.id)
        });
    let mut amendments: Vec<fieldcheck_core::Inspection> = others
        .iter()
        .filter(|other| other.amends.as_ref() == Some(&record.id))
        .cloned()
        .collect();
    amendments.sort_by_key(|amendment| amendment.started_at);
    let amended = record.amends.clone();
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
                    let photos = answer
                        .map(|answer| answer.photos.clone())
                        .unwrap_or_default();
                    view! {
                        <li class="cell answer" data-item=item.code>
                            <span class="cell-main">
                                <span class="check-wording">{lang.pick(item.zh, item.en)}</span>
                                {note.map(|note| view! { <span class="cell-sub">{note}</span> })}
                                <Thumbs names=photos />
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
                None => t.rectify_unchosen.to_owned(),
                Some(Rectify::OnSite) => t.rectify_on_site.to_owned(),
                Some(Rectify::Deadline) => format!(
                    "{} · {}",
                    t.rectify_deadline,
                    hazard
                        .deadline
                        .map(|date| lang.date(&date))
                        .unwrap_or_default()
                ),
            };
            let state = match hazard.status {
                HazardStatus::Open if record.closed_by(hazard, &others).is_some() => {
                    t.hazard_closed_by_reinspection
                }
                HazardStatus::Open => t.hazard_open,
                HazardStatus::Rectified => t.hazard_rectified,
            };
            let photos = hazard.photos.clone();
            view! {
                <li class="cell" data-testid="record-hazard">
                    <span class="cell-main">
                        <span class="cell-title">{hazard.description.clone()}</span>
                        <span class="cell-sub">{how}</span>
                        <Thumbs names=photos />
                    </span>
                    <span class="cell-value">{state}</span>
                </li>
            }
        })
        .collect_view();
    let mark = local.mark();
    let waiting = match &local.local {
        LocalState::Conflict { base, mine, server } => {
            let base = base.as_ref().map(|base| &base.body);
            let merged = three_way(base, mine, &server.body);
            // Every difference, those this phone did not make marked: keeping its edit keeps them.
            let rows = diff_since(base, mine, &server.body);
            view! {
                <ConflictView
                    id=record.id.clone()
                    template=record.template.clone()
                    rows
                    mergeable=merged.is_some()
                    resolve
                />
            }
            .into_any()
        }
        LocalState::Rejected {
            reason,
            newer,
            base,
            mine,
        } => {
            let server_body = newer.as_ref().or(base.as_ref()).map(|server| &server.body);
            let has_server_copy = server_body.is_some_and(|body| !body.is_null());
            // A locked record keeps the server's copy: what this phone changed (against the copy the
            // edit began from, not the review since) is shown first, so that the officer can carry
            // it into an amendment instead of losing it unseen.
            let dropped = base
                .as_ref()
                .filter(|_| locked_out && has_server_copy)
                .map(|base| diff(mine, &base.body))
                .filter(|rows| !rows.is_empty());
            let template_dropped = record.template.clone();
            let id_again = record.id.clone();
            let id_take = record.id.clone();
            let id_discard = record.id.clone();
            view! {
                <div class="banner banner-error" role="alert" data-testid="rejected">
                    <p class="banner-title">{t.rejected_title}</p>
                    <p>{lang.refusal(&reason.code).unwrap_or(&reason.message).to_owned()}</p>
                    // The server's own words, for whoever helps the officer: the half of a two-language
                    // message in the officer's language, an English-only one only in English, and the
                    // code always.
                    <p class="small">{
                        let words = match reason.message.rsplit_once(" / ") {
                            Some((en, zh)) => Some(lang.pick(zh, en)),
                            None => (lang == Lang::En).then_some(reason.message.as_str()),
                        };
                        match words {
                            Some(words) => format!("{words} ({})", reason.code),
                            None => format!("({})", reason.code),
                        }
                    }</p>
                    {dropped.map(|rows| view! {
                        <p class="small">{lang.pick(
                            "以服务器为准将放弃本机的以下修改，需要时请以补充记录补记：",
                            "Taking the server's copy drops these changes of this phone; add what matters as an amendment:",
                        )}</p>
                        <ConflictTable template=template_dropped rows />
                    })}
                    <div class="actions">
                        {if has_server_copy {
                            view! {
                                <TapTwice id=id_take.clone() choice=Resolution::TakeTheirs label=t.take_server testid="take-theirs" resolve />
                            }.into_any()
                        } else {
                            // Drops what only this phone holds.
                            view! {
                                <TapTwice id=id_discard.clone() choice=Resolution::Discard label=t.discard_mine testid="discard-mine" resolve />
                            }.into_any()
                        }}
                        // A locked record refuses every change: sending it again can only fail again.
                        {(!locked_out).then(|| view! {
                            <button type="button" class="button button-primary" data-testid="send-again"
                                on:click=move |_| resolve.run((id_again.clone(), Resolution::SendAgain))>
                                {t.send_again}
                            </button>
                        })}
                    </div>
                </div>
            }
            .into_any()
        }
        _ => ().into_any(),
    };
    let reviews = record
        .reviews
        .iter()
        .rev()
        .map(|review| {
            let decision = match review.decision {
                fieldcheck_core::ReviewDecision::Approve => lang.status(Status::Approved),
                fieldcheck_core::ReviewDecision::Return => lang.status(Status::Returned),
            };
            let reviewer = officers
                .iter()
                .find(|officer| officer.user.id == review.by)
                .map_or_else(|| review.by.to_string(), |officer| officer.user.name.clone());
            view! {
                <li class="cell" data-testid="record-review">
                    <span class="cell-main">
                        <span class="cell-title">{decision} " · " {reviewer}</span>
                        {review.comment.clone().map(|comment| view! { <span class="cell-sub">{comment}</span> })}
                    </span>
                    <span class="cell-value">{lang.datetime(&review.at)}</span>
                </li>
            }
        })
        .collect_view();
    let has_reviews = !record.reviews.is_empty();
    let this_record = record.id.clone();
    let review_done = move || {
        reviewed
            .get()
            .filter(|(id, _)| *id == this_record)
            .map(|(_, status)| {
                view! {
                    <div class="banner banner-ok" role="status" data-testid="review-done">
                        <Icon name=IconName::Check />
                        <span>{i18n.t().review_recorded} {i18n.lang().status(status)}</span>
                        <a class="banner-link" href="/records?status=submitted" data-testid="back-to-queue">
                            {i18n.t().back_to_queue}
                        </a>
                    </div>
                }
            })
    };
    view! {
        <section class="page">
            {waiting}
            {move || action_error.get().map(|message| view! {
                <p class="banner banner-error" role="alert">{i18n.t().err_store} ": " {message}</p>
            })}
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
                <div class="cell" data-testid="record-sync" data-sync=mark.code()>
                    <span class="field-label">{t.sync_state}</span>
                    <SyncChip mark />
                </div>
                {(photos_waiting > 0).then(|| view! {
                    <div class="cell" data-testid="photos-waiting">
                        <span class="field-label">{t.attachments}</span>
                        <span class="cell-value">
                            {lang.photos_waiting(u32::try_from(photos_waiting).unwrap_or(u32::MAX))}
                        </span>
                    </div>
                })}
                {record.review_comment.clone().map(|comment| view! {
                    <div class="cell" data-testid="review-comment">
                        <span class="field-label">{t.review_comment}</span>
                        <span class="cell-value">{comment}</span>
                    </div>
                })}
            </div>
            {amended.map(|amended| view! {
                <a class="banner banner-warn" data-testid="amends-link" href=format!("/records/{amended}")>
                    {lang.pick("这是一条补充记录，查看原记录 ›", "This is an amendment: open the record it adds to ›")}
                </a>
            })}
            <PeopleOnRecord record=record.clone() officers=officers.clone() />
            <h2 class="section-title">{t.checklist}</h2>
            <ul class="group list">{answers}</ul>
            <h2 class="section-title">{t.hazards}</h2>
            {record.hazards.is_empty().then(|| view! { <p class="empty">{t.no_hazards}</p> })}
            <ul class="group list">{hazards}</ul>
            {(!record.photos.is_empty()).then(|| view! {
                <h2 class="section-title">{t.record_photos}</h2>
                <div class="group photos-shown" data-testid="record-photos-shown"><Thumbs names=record.photos.clone() /></div>
            })}
            {(!record.notes.is_empty()).then(|| view! {
                <h2 class="section-title">{t.notes}</h2>
                <p class="group notes">{record.notes.clone()}</p>
            })}
            {has_reviews.then(|| view! {
                <h2 class="section-title">{t.field_review}</h2>
                <ul class="group list">{reviews}</ul>
            })}
            <Amendments amendments />
            {review_rev.map(|rev| view! { <ReviewPanel id=record.id.clone() rev reviewed /> })}
            // Where the panel was, under the supervisor's finger: the decision, once the panel goes.
            {review_done}
            {amendable.then(|| view! { <AmendmentForm record=record.clone() /> })}
            <div class="actions">
                <a class="button button-secondary" data-testid="print-record"
                    href=format!("/records/{}/print", record.id)>{t.print_record}</a>
                {editable.then(|| view! {
                    <a class="button button-secondary" data-testid="edit-record"
                        href=format!("/inspect/{}?record={}", venue_id, record.id)>{t.edit}</a>
                })}
            </div>
        </section>
    }
}

/// A way out that drops this phone's edit (以服务器为准, 放弃本机修改): a first tap only asks for a second.
#[component]
fn TapTwice(
    id: InspectionId,
    choice: Resolution,
    label: &'static str,
    testid: &'static str,
    resolve: Callback<(InspectionId, Resolution)>,
) -> impl IntoView {
    let t = use_i18n().t();
    let armed = RwSignal::new(false);
    view! {
        <button type="button" class="button button-secondary" data-testid=testid
            on:click=move |_| {
                if armed.get_untracked() {
                    resolve.run((id.clone(), choice));
                } else {
                    armed.set(true);
                }
            }>
            {move || if armed.get() { t.discard_confirm } else { label }}
        </button>
    }
}

/// A conflict: what differs, side by side, and the three ways out.
#[component]
fn ConflictView(
    id: InspectionId,
    template: String,
    rows: Vec<FieldDiff>,
    mergeable: bool,
    resolve: Callback<(InspectionId, Resolution)>,
) -> impl IntoView {
    let i18n = use_i18n();
    let t = i18n.t();
    let id_mine = id.clone();
    let id_theirs = id.clone();
    let id_merged = id;
    view! {
        <div class="banner banner-warn conflict" role="alert" data-testid="conflict">
            <p class="banner-title">{t.conflict_title}</p>
            <p>{i18n.lang().pick(
                "你修改这条记录期间，服务器上的版本也有了新的修改（可能来自同事或你的其他设备）。请对照下表：“以本机为准”保留你的修改，本机标为“未改动”的项目采用服务器上的；“以服务器为准”放弃你的修改。",
                "While you edited this record, the server's copy changed too (a colleague, or another device of yours). Compare them below: \"Keep mine\" keeps your changes, and the server's where this phone says \"unchanged\"; \"Take the server's\" drops yours.",
            )}</p>
            <ConflictTable template rows />
            {mergeable.then(|| view! { <p class="small">{t.merge_hint}</p> })}
            <div class="actions actions-wrap">
                <TapTwice id=id_theirs choice=Resolution::TakeTheirs label=t.take_server testid="take-theirs" resolve />
                {mergeable.then(|| view! {
                    <button type="button" class="button button-secondary" data-testid="keep-merged"
                        on:click=move |_| resolve.run((id_merged.clone(), Resolution::KeepMerged))>{t.keep_merged}</button>
                })}
                <button type="button" class="button button-primary" data-testid="keep-mine"
                    on:click=move |_| resolve.run((id_mine.clone(), Resolution::KeepMine))>{t.keep_mine}</button>
            </div>
        </div>
    }
}
