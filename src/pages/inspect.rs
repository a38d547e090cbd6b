//! /inspect/:venue_id (?record=<id> to continue one): the checklist, hazards, notes and saving.

use crate::store::OpenedOn;
use fieldcheck_core::sync::Officer;
use fieldcheck_core::{
    Answer, Campaign, CampaignId, Complaint, Hazard, HazardCheck, HazardId, HazardStatus,
    Inspection, InspectionId, InspectionKind, ItemResult, Location, OfficerSignature, Party,
    Problem, Rectify, Status, Template, UserId, Venue, VenueId,
};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::components::{
    ChecklistItem, FormNotKept, ItemState, PhotoStrip, ProblemList, SignaturePad, use_draft_keeper,
};
use crate::i18n::{Lang, Strings, use_i18n};
use crate::pages::not_found::NothingHere;
use crate::router::{use_navigate, use_params_map, use_query_map};
use crate::store::{Form, LocalInspection, Store, StoreError, use_store};
use crate::sync::use_sync;
use crate::timing::Span;

/// Everything the form needs, read from the store before it shows.
#[derive(Debug, Clone)]
struct FormData {
    venue: Venue,
    existing: Option<LocalInspection>,
    /// What the inspector typed last time and did not save: resumed.
    form: Option<Form>,
    campaigns: Vec<Campaign>,
    earlier: Vec<LocalInspection>,
    /// The unit's officers as last synced, to pick a partner from.
    officers: Vec<Officer>,
}

async fn load(
    store: Store,
    venue_id: String,
    record_id: Option<String>,
) -> Result<Option<FormData>, StoreError> {
    let Some(venue) = store.venue(&VenueId(venue_id)).await? else {
        return Ok(None);
    };
    let existing = match &record_id {
        Some(record_id) => store.inspection(&InspectionId(record_id.clone())).await?,
        None => None,
    };
    // An unreadable autosaved form must not keep the inspector from the record: start from the record.
    let form = match &record_id {
        Some(record_id) => store.form(&InspectionId(record_id.clone())).await,
        None => store.new_form_for_venue(&venue.id).await,
    }
    .unwrap_or_else(|error| {
        leptos::logging::error!("{error}; starting without the autosaved form");
        None
    });
    let today = crate::i18n::now_china().date_naive();
    let campaigns = store
        .campaigns()
        .await?
        .items
        .into_iter()
        .filter(|campaign| {
            campaign.venue_kinds.contains(&venue.kind)
                && campaign.starts_on <= today
                && today <= campaign.ends_on
        })
        .collect();
    let earlier = store
        .inspections_for_venue(&venue.id)
        .await?
        .items
        .into_iter()
        .filter(|local| Some(&local.record.id) != existing.as_ref().map(|e| &e.record.id))
        .collect();
    let officers = store.officers().await.unwrap_or_else(|error| {
        leptos::logging::error!("{error}; no officers to pick from");
        Vec::new()
    });
    Ok(Some(FormData {
        venue,
        existing,
        form,
        campaigns,
        earlier,
        officers,
    }))
}

/// The inspection screen.
#[component]
pub fn InspectPage() -> impl IntoView {
    let i18n = use_i18n();
    let store = use_store();
    let params = use_params_map();
    let query = use_query_map();
    let data = LocalResource::new(move || {
        let store = store.clone();
        let venue_id = params.with(|params| params.get("venue_id").unwrap_or_default());
        let record_id = query.with(|query| query.get("record"));
        async move { load(store, venue_id, record_id).await }
    });
    move || match data.get() {
        None => view! { <p class="empty" role="status">{i18n.t().loading}</p> }.into_any(),
        Some(Ok(Some(data))) => view! { <InspectForm data /> }.into_any(),
        Some(Ok(None)) => {
            view! { <NothingHere message=|lang| lang.t().venue_missing /> }.into_any()
        }
        Some(Err(error)) => view! {
            <p class="banner banner-error" role="alert">
                {i18n.t().err_store} ": " {error.to_string()}
            </p>
        }
        .into_any(),
    }
}

/// How long the form waits after a change before it keeps it (typing goes on in between).
const AUTOSAVE_DELAY_MS: u32 = 600;

/// What the phone refused to write, under the form: `what` failed, and why in the officer's words.
fn store_failed(
    what: &'static str,
    error: &StoreError,
    test_id: &'static str,
) -> impl IntoView + use<> {
    let reason = use_i18n().lang().store_failure(error);
    view! {
        <p class="banner banner-error" role="alert" data-testid=test_id>
            {what}
            "（"
            {reason}
            "）"
        </p>
    }
}

/// The shell's notice to `officer` of their form of `venue`, left and not kept as it was, in both
/// languages.
fn not_kept(
    officer: Option<&fieldcheck_core::User>,
    venue: &str,
    error: &StoreError,
    draft_kept: bool,
) -> FormNotKept {
    let text = |lang: Lang| lang.form_not_kept(venue, lang.store_failure(error), draft_kept);
    FormNotKept {
        officer: officer.map(|officer| officer.id.clone()),
        zh: text(Lang::Zh),
        en: text(Lang::En),
    }
}

/// Which checklist item each problem belongs to, and under which field.
fn problems_by_item(
    problems: &[Problem],
    hazard_items: &[Option<String>],
    answers: &[Answer],
) -> (Vec<(String, String, Problem)>, Vec<Problem>) {
    let mut by_item = Vec::new();
    let mut general = Vec::new();
    for problem in problems {
        let located = problem
            .field
            .strip_prefix("hazards[")
            .and_then(|rest| rest.split_once("]."))
            .and_then(|(index, field)| {
                let index: usize = index.parse().ok()?;
                let item = hazard_items.get(index)?.clone()?;
                Some((item, field.to_owned()))
            })
            .or_else(|| {
                let (index, _) = problem.field.strip_prefix("answers[")?.split_once(']')?;
                let index: usize = index.parse().ok()?;
                Some((answers.get(index)?.item.clone(), "item".to_owned()))
            })
            .or_else(|| {
                let (code, _) = problem.field.strip_prefix("items[")?.split_once(']')?;
                Some((code.to_owned(), "item".to_owned()))
            });
        match located {
            Some((item, field)) => by_item.push((item, field, problem.clone())),
            None => general.push(problem.clone()),
        }
    }
    (by_item, general)
}

/// One line of text on the form (`kind` "text" or "date"), labelled, bound to `value`, read-only
/// once the record is locked; `no_autofill` keeps the browser's suggestions (other people's names and
/// numbers) off it.
#[component]
fn TextCell(
    id: &'static str,
    label: fn(&'static Strings) -> &'static str,
    value: RwSignal<String>,
    locked: bool,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] inputmode: Option<&'static str>,
    #[prop(optional)] no_autofill: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <label class="cell field" for=id>
            <span class="field-label">{move || label(i18n.t())}</span>
            <input
                id=id
                type=kind
                inputmode=inputmode
                autocomplete=no_autofill.then_some("off")
                disabled=locked
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
        </label>
    }
}

#[component]
fn InspectForm(data: FormData) -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let store = use_store();
    let navigate = use_navigate();
    let FormData {
        venue,
        existing,
        form,
        campaigns,
        earlier,
        officers,
    } = data;

    let resumed = form.is_some();
    // The copy the edit is made on: the one the resumed form was opened on, else the one the phone
    // holds now (rev 0 for a record the server has never had).
    let opened = std::rc::Rc::new(form.as_ref().map_or_else(
        || OpenedOn::now(existing.as_ref().map(|local| &local.local)),
        Form::opened_on,
    ));
    // What the form starts from: the unsaved form if there is one, else the record being edited.
    let base: Option<Inspection> = form
        .map(|form| form.record)
        .or_else(|| existing.as_ref().map(|local| local.record.clone()));
    let template = base
        .as_ref()
        .and_then(|record| Template::by_id(&record.template))
        .unwrap_or_else(|| Template::current(venue.kind));
    let items: Vec<ItemState> = template
        .items
        .iter()
        .map(|item| ItemState::new(item.code))
        .collect();
    let locked = existing
        .as_ref()
        .is_some_and(|local| local.record.status == Status::Approved);
    // A returned record is edited to meet the supervisor's comment: it stays in sight while editing.
    let returned_with = existing
        .as_ref()
        .filter(|local| local.record.status == Status::Returned)
        .and_then(|local| local.record.review_comment.clone())
        .filter(|comment| !comment.trim().is_empty());

    let kind = RwSignal::new(InspectionKind::Routine);
    let campaign = RwSignal::new(None::<CampaignId>);
    let follows = RwSignal::new(None::<InspectionId>);
    let notes = RwSignal::new(String::new());
    let location = RwSignal::new(None::<Location>);
    let locating = RwSignal::new(true);
    let location_failed = RwSignal::new(false);
    let me = sync.session_untracked().map(|session| session.user);
    // The lead officer is the record's first inspector (its author); the partner is picked.
    let lead: Option<UserId> = base
        .as_ref()
        .and_then(|record| record.inspectors.first().cloned())
        .or_else(|| me.as_ref().map(|user| user.id.clone()));
    let partner = RwSignal::new(None::<UserId>);
    let lead_signature = RwSignal::new(None::<String>);
    let partner_signature = RwSignal::new(None::<String>);
    let warning = RwSignal::new(false);
    let case_opened = RwSignal::new(false);
    let record_photos = RwSignal::new(Vec::<String>::new());
    let party_name = RwSignal::new(String::new());
    let party_title = RwSignal::new(String::new());
    let party_id = RwSignal::new(String::new());
    let party_signature = RwSignal::new(None::<String>);
    let party_refused = RwSignal::new(false);
    let refusal_reason = RwSignal::new(String::new());
    let witness = RwSignal::new(String::new());
    let complaint_text = RwSignal::new(String::new());
    let complaint_source = RwSignal::new(String::new());
    let complaint_received = RwSignal::new(String::new());
    let hazard_checks = RwSignal::new(Vec::<HazardCheck>::new());
    // `?follows=<id>` (from the hazard board): a re-inspection of that record's hazards.
    if base.is_none()
        && let Some(followed) = use_query_map().with_untracked(|query| query.get("follows"))
    {
        kind.set(InspectionKind::Reinspection);
        follows.set(Some(InspectionId(followed)));
    }
    if let Some(record) = &base {
        kind.set(record.kind);
        campaign.set(record.campaign_id.clone());
        follows.set(record.follows.clone());
        notes.set(record.notes.clone());
        location.set(record.location);
        partner.set(record.inspectors.get(1).cloned());
        let signature_of = |officer: Option<&UserId>| {
            record
                .officer_signatures
                .iter()
                .find(|signed| Some(&signed.officer) == officer)
                .map(|signed| signed.signature.clone())
        };
        lead_signature.set(signature_of(record.inspectors.first()));
        partner_signature.set(signature_of(record.inspectors.get(1)));
        warning.set(record.warning_issued);
        case_opened.set(record.case_opened);
        record_photos.set(record.photos.clone());
        if let Some(party) = &record.party {
            party_name.set(party.name.clone());
            party_title.set(party.title.clone());
            party_id.set(party.id_or_phone.clone());
            party_signature.set(party.signature.clone());
            party_refused.set(party.refused);
            refusal_reason.set(party.refusal_reason.clone());
            witness.set(party.witness.clone());
        }
        if let Some(complaint) = &record.complaint {
            complaint_text.set(complaint.text.clone());
            complaint_source.set(complaint.source.clone());
            complaint_received.set(
                complaint
                    .received_on
                    .map(|date| date.to_string())
                    .unwrap_or_default(),
            );
        }
        hazard_checks.set(record.hazard_checks.clone());
        for state in &items {
            if let Some(answer) = record.answer(state.code) {
                state.result.set(Some(answer.result));
                state.note.set(answer.note.clone());
                state.photos.set(answer.photos.clone());
            }
            if let Some(hazard) = record
                .hazards
                .iter()
                .find(|hazard| hazard.item.as_deref() == Some(state.code))
            {
                state.hazard.set(hazard.description.clone());
                state.rectify.set(hazard.rectify);
                state.deadline.set(
                    hazard
                        .deadline
                        .map(|date| date.to_string())
                        .unwrap_or_default(),
                );
                state.hazard_id.set(Some(hazard.id.clone()));
                state.hazard_photos.set(hazard.photos.clone());
            }
        }
    }
    // A new partner has not signed yet: the signature belongs to whoever signed it.
    let partner_at_start = partner.get_untracked();
    Effect::new(move |_| {
        if partner.get() != partner_at_start {
            partner_signature.set(None);
        }
    });
    if location.get_untracked().is_none() {
        crate::geo::locate(location, locating, location_failed);
    } else {
        locating.set(false);
    }

    let problems = RwSignal::new(Vec::<Problem>::new());
    let item_problems = RwSignal::new(Vec::<(String, String, Problem)>::new());
    let saving = RwSignal::new(false);
    // The timer that shows a save under way (see `save`); dropped with the screen.
    let saving_shown_later = StoredValue::new_local(None::<gloo_timers::callback::Timeout>);
    let save_error = RwSignal::new(None::<StoreError>);
    let started_at = base
        .as_ref()
        .map_or_else(crate::i18n::now_china, |record| record.started_at);
    let record_id = base.as_ref().map_or_else(
        || InspectionId(uuid::Uuid::now_v7().to_string()),
        |record| record.id.clone(),
    );
    let record_id_for_view = record_id.clone();
    let record_id_for_save = record_id.clone();

    let n_items = items.len();
    let items_for_progress = items.clone();
    let answered = move || {
        items_for_progress
            .iter()
            .filter(|state| state.result.get().is_some())
            .count()
    };
    let all_answered = {
        let answered = answered.clone();
        move || answered() >= n_items
    };
    let items_for_jump = items.clone();
    let jump_to_unanswered = move |_: leptos::ev::MouseEvent| {
        if let Some(state) = items_for_jump
            .iter()
            .find(|state| state.result.get_untracked().is_none())
        {
            scroll_to(&format!("item-{}", state.code));
        }
    };

    let venue_for_save = venue.clone();
    let template_id = template.id();
    let items_for_save = items.clone();
    // The record as the form stands, with `status`; `None` before anyone is logged in.
    let current = move |status: Status| -> Option<Inspection> {
        let session = sync.session_untracked()?;
        // A record once submitted never goes back to draft: "save" keeps it submitted (or returned).
        let status = match (status, base.as_ref().map(|record| record.status)) {
            (Status::Draft, Some(kept @ (Status::Submitted | Status::Returned))) => kept,
            (chosen, _) => chosen,
        };
        Some(build_record(
            base.clone(),
            &record_id,
            &venue_for_save,
            &template_id,
            started_at,
            &items_for_save,
            Fields {
                kind: kind.get_untracked(),
                campaign: campaign.get_untracked(),
                follows: follows.get_untracked(),
                notes: notes.get_untracked(),
                location: location.get_untracked(),
                inspector: session.user.id.clone(),
                partner: partner.get_untracked(),
                lead_signature: lead_signature.get_untracked(),
                partner_signature: partner_signature.get_untracked(),
                warning_issued: warning.get_untracked(),
                case_opened: case_opened.get_untracked(),
                photos: record_photos.get_untracked(),
                party: Party {
                    name: party_name.get_untracked().trim().to_owned(),
                    title: party_title.get_untracked().trim().to_owned(),
                    id_or_phone: party_id.get_untracked().trim().to_owned(),
                    signature: party_signature.get_untracked(),
                    refused: party_refused.get_untracked(),
                    refusal_reason: refusal_reason.get_untracked().trim().to_owned(),
                    witness: witness.get_untracked().trim().to_owned(),
                },
                complaint: Complaint {
                    text: complaint_text.get_untracked().trim().to_owned(),
                    source: complaint_source.get_untracked().trim().to_owned(),
                    // A date input's value is `YYYY-MM-DD`, what `NaiveDate` parses.
                    received_on: complaint_received.get_untracked().parse().ok(),
                },
                hazard_checks: hazard_checks.get_untracked(),
                status,
            },
        ))
    };

    // Autosave: every change of the form is kept on the phone shortly after it is made, and at once
    // when the page is hidden (another app, a call) or left.
    let autosaved = RwSignal::new(None::<chrono::DateTime<chrono::FixedOffset>>);
    // Why the last autosave failed, shown under the form until one succeeds.
    let autosave_error = RwSignal::new(None::<StoreError>);
    // A new version of the app reloads the page only after this form is kept (see `keep` below); a
    // form already left tells the shell what it could not keep.
    let keeper = use_draft_keeper();
    // Tells the officer, over every screen, of this form left and not kept as it was.
    // Shared, not copied: each save and autosave takes one, and a copy would clone the checklist.
    let current = std::rc::Rc::new(current);
    let tell_not_kept = {
        let venue = venue.name.clone();
        let officer = me.clone();
        move |error: &StoreError, draft_kept: bool| {
            keeper.form_not_kept(not_kept(officer.as_ref(), &venue, error, draft_kept));
        }
    };
    // Counts the inspector's changes, for what follows them (autosave, the problem list).
    let edits = RwSignal::new(0_u32);
    let pending_autosave = StoredValue::new_local(None::<gloo_timers::callback::Timeout>);
    // Autosaves being written: a reload waits for them (its pending timer is gone by then).
    let autosaves_writing = StoredValue::new(0_u32);
    let autosave_store = store.clone();
    // Numbers the form's writes, outliving the form: only the last write's failure is told once the
    // form is left (an earlier one failing after a later one landed lost nothing).
    let writes_begun = std::rc::Rc::new(std::cell::Cell::new(0_u64));
    // The form as it stands, kept on the phone; the future ends once it is, with whether it is (a
    // form with nothing to write is kept).
    let save_form_now = {
        let current = current.clone();
        let tell_not_kept = tell_not_kept.clone();
        let opened = opened.clone();
        move || {
            pending_autosave.set_value(None);
            // A form already gone (its signals disposed) has nothing left to write.
            let record = if saving.try_get_untracked().unwrap_or(true) || locked {
                None
            } else {
                current(Status::Draft)
            };
            if record.is_some() {
                autosaves_writing.update_value(|writing| *writing += 1);
                writes_begun.set(writes_begun.get() + 1);
            }
            let store = autosave_store.clone();
            let tell_not_kept = tell_not_kept.clone();
            let writes_begun = writes_begun.clone();
            let this_write = writes_begun.get();
            let opened = opened.clone();
            async move {
                let Some(record) = record else {
                    return true;
                };
                let result = store.save_form(&record, &opened).await;
                autosaves_writing.try_update_value(|writing| *writing -= 1);
                match result {
                    Ok(()) => {
                        let _ = autosaved.try_set(Some(crate::i18n::now_china()));
                        let _ = autosave_error.try_set(None);
                        true
                    }
                    Err(error) => {
                        leptos::logging::error!("autosave failed: {error}");
                        // The form says so while it is open; once left, the shell does.
                        if let Some(Some(error)) = autosave_error.try_set(Some(error))
                            && writes_begun.get() == this_write
                        {
                            tell_not_kept(&error, false);
                        }
                        false
                    }
                }
            }
        }
    };
    // What was typed is not all on the phone: a change waits for its autosave, or the last autosave
    // failed (a failed write is tried again, not forgotten, when the form closes or a reload comes).
    let unkept = move || {
        pending_autosave
            .try_with_value(Option::is_some)
            .unwrap_or(false)
            || autosave_error
                .try_with_untracked(Option::is_some)
                .unwrap_or(false)
    };
    let write_form = {
        let save_form_now = save_form_now.clone();
        move || {
            let write = save_form_now();
            spawn_local(async move {
                write.await;
            });
        }
    };
    // A new version of the app reloads the page only after this form is kept: a save under way (保存,
    // 提交) or an autosave being written is waited for, since a reload could cut its transaction; then
    // what was typed since the last autosave is written. A form nobody changed is not written at all.
    // A write that fails keeps the page: the form says why, and 重新载入 can be tapped again.
    let keep_form_after_error = save_form_now.clone();
    let write_on_leave = save_form_now.clone();
    let kept_as = keeper.keep(move || {
        let save_form_now = save_form_now.clone();
        Box::pin(async move {
            // A save always ends: the page leaves (the signal is gone) or `saving` is set back; so
            // does an autosave being written.
            while saving.try_get_untracked().unwrap_or(false)
                || autosaves_writing
                    .try_get_value()
                    .is_some_and(|writing| writing > 0)
            {
                gloo_timers::future::TimeoutFuture::new(50).await;
            }
            if unkept() {
                save_form_now().await
            } else {
                true
            }
        })
    });
    let items_for_autosave = items.clone();
    let schedule_autosave = write_form.clone();
    Effect::new(move |first_run: Option<()>| {
        // Read every field, so that any change runs this again.
        for state in &items_for_autosave {
            state.result.track();
            state.note.track();
            state.hazard.track();
            state.rectify.track();
            state.deadline.track();
            state.photos.track();
            state.hazard_photos.track();
        }
        kind.track();
        campaign.track();
        follows.track();
        notes.track();
        partner.track();
        lead_signature.track();
        partner_signature.track();
        warning.track();
        case_opened.track();
        record_photos.track();
        party_name.track();
        party_title.track();
        party_id.track();
        party_signature.track();
        party_refused.track();
        refusal_reason.track();
        witness.track();
        complaint_text.track();
        complaint_source.track();
        complaint_received.track();
        hazard_checks.track();
        // A GPS fix arriving is not the inspector's change: it goes with the next one they make.
        if first_run.is_some() {
            edits.update(|count| *count = count.wrapping_add(1));
            let write = schedule_autosave.clone();
            pending_autosave.set_value(Some(gloo_timers::callback::Timeout::new(
                AUTOSAVE_DELAY_MS,
                write,
            )));
        }
    });
    let flush_on_hide = write_form.clone();
    let visibility = window_event_listener_untyped("visibilitychange", move |_| {
        let hidden = document().visibility_state() == web_sys::VisibilityState::Hidden;
        if hidden && unkept() {
            flush_on_hide();
        }
    });
    // Cleanup runs where the form lives (the page's thread); the wrapper only satisfies the signature.
    let flush_on_leave = send_wrapper::SendWrapper::new(write_on_leave);
    on_cleanup(move || {
        visibility.remove();
        keeper.release(kept_as);
        if unkept() {
            // The form as it is now, written after it has closed: a reload waits for the write.
            let write = (flush_on_leave.take())();
            keeper.begin_work();
            spawn_local(async move {
                write.await;
                keeper.end_work();
            });
        }
    });

    let venue_for_check = venue.clone();
    // The server's copy as the phone knows it: what a resubmission is judged against.
    let server_copy: Option<Inspection> = existing
        .as_ref()
        .and_then(|local| local.local.server())
        .and_then(|server| serde_json::from_value(server.body.clone()).ok());
    // Everything wrong with the record as it would be saved, shown at the item it belongs to or in
    // the list above the save bar; returns the first item with a problem.
    let show_problems = move |record: &Inspection| -> Result<(), Option<String>> {
        let mut found = Vec::new();
        if let Err(record_problems) = record.validate() {
            found.extend(record_problems.0);
        }
        if let Err(venue_problems) = record.validate_for_venue(&venue_for_check) {
            found.extend(venue_problems.0);
        }
        // A draft may be partial; what is submitted stands as the on-site record.
        if record.must_be_complete()
            && let Err(missing) = record.check_submission(server_copy.as_ref())
        {
            found.extend(missing.0);
        }
        let hazard_items: Vec<Option<String>> = record
            .hazards
            .iter()
            .map(|hazard| hazard.item.clone())
            .collect();
        let (by_item, general) = problems_by_item(&found, &hazard_items, &record.answers);
        let first_item = by_item.first().map(|(item, _, _)| item.clone());
        set_if_changed(item_problems, by_item);
        set_if_changed(problems, general);
        if found.is_empty() {
            Ok(())
        } else {
            Err(first_item)
        }
    };
    let show_problems = std::rc::Rc::new(show_problems);
    // Once a submission was refused, the list follows every change: a fixed problem goes at once.
    let tried = RwSignal::new(None::<Status>);
    let recheck = show_problems.clone();
    let current_for_recheck = current.clone();
    Effect::new(move |_| {
        edits.track();
        if let Some(status) = tried.get_untracked()
            && let Some(record) = current_for_recheck(status)
        {
            let _ = recheck(&record);
        }
    });
    let save = move |status: Status| {
        if saving.get_untracked() || locked {
            return;
        }
        // From the tap on a second tap waits, even before the checks (they run a moment later).
        saving.update_untracked(|saving| *saving = true);
        let store = store.clone();
        let record_id = record_id_for_save.clone();
        let opened = opened.clone();
        let current = current.clone();
        let show_problems = show_problems.clone();
        let keep_form_after_error = keep_form_after_error.clone();
        let tell_not_kept = tell_not_kept.clone();
        // A reload for a new version waits for the save, even once the form has closed.
        keeper.begin_work();
        spawn_local(async move {
            // Should the save fail after the officer has left the form, this is what the form would
            // have kept as its draft (its signals are gone by then).
            let mut draft = None;
            // The record is checked and made while the save's reads are on their way to the phone's
            // database (`Store::save_prepared`), not before it asks.
            let prepare = || {
                let check = Span::start("fieldcheck:save-check");
                let Some(record) = current(status) else {
                    saving.update_untracked(|saving| *saving = false);
                    return Err(());
                };
                let checked = show_problems(&record);
                drop(check);
                if let Err(first_item) = checked {
                    // Refused: the pending autosave still keeps what was typed.
                    saving.update_untracked(|saving| *saving = false);
                    tried.set(Some(status));
                    match first_item {
                        Some(item) => scroll_to(&format!("item-{item}")),
                        None => scroll_to("form-problems"),
                    }
                    return Err(());
                }
                // No autosave may run after the save: it would bring back the form the save removes.
                let shown = Span::start("fieldcheck:save-shown");
                pending_autosave.set_value(None);
                set_if_changed(problems, Vec::new());
                set_if_changed(item_problems, Vec::new());
                set_if_changed(save_error, None);
                // The buttons say 正在保存… only if the save is still going after a moment: it is
                // usually on disk within a few milliseconds, and redrawing them at once would put a
                // frame of the browser's between its reads and its writes.
                saving_shown_later.set_value(Some(gloo_timers::callback::Timeout::new(
                    SAVING_SHOWN_AFTER_MS,
                    move || {
                        if saving.try_get_untracked() == Some(true) {
                            saving.notify();
                        }
                    },
                )));
                draft = current(Status::Draft);
                drop(shown);
                Ok(record)
            };
            let result = match store
                .save_prepared(&record_id, Some(&opened), prepare)
                .await
            {
                Ok(Ok(saved)) => Ok(saved),
                // The checks refused it: nothing was written, and the form shows why.
                Ok(Err(())) => {
                    keeper.end_work();
                    return;
                }
                Err(error) => Err(error),
            };
            // The officer may have left the form (back, a tab) while it was being saved.
            let form_open = saving.try_get_untracked().is_some();
            match result {
                Ok(_) => {
                    sync.saved_locally();
                    // 记录 opens with the save announced even so: an officer who left during the
                    // save must see that it was made, or they may record the visit a second time.
                    navigate.to("/records?saved=1");
                }
                Err(error) if form_open => {
                    saving.set(false);
                    leptos::logging::error!("save failed: {error}");
                    save_error.set(Some(error));
                    // The record was not saved: the form as typed is kept instead.
                    let _ = keep_form_after_error().await;
                }
                Err(error) => {
                    // Nobody sees the form's error now, and the form cannot write itself any more:
                    // what was typed is kept as its draft here, for the form to open with next time,
                    // and the shell tells the officer, who left thinking it saved.
                    leptos::logging::error!("save after the form closed failed: {error}");
                    let kept = match draft {
                        Some(draft) => Some(store.save_form(&draft, &opened).await),
                        None => None,
                    };
                    let draft_kept = matches!(kept, Some(Ok(())));
                    tell_not_kept(&error, draft_kept);
                    if let Some(Err(error)) = kept {
                        leptos::logging::error!("keeping the form after a failed save: {error}");
                    }
                }
            }
            keeper.end_work();
        });
    };
    let save_submit = save.clone();

    // The watermark of a photo taken now: time, venue, officers, position.
    let stamp_venue = venue.name.clone();
    let stamp_officers = {
        let officers = officers.clone();
        let me = me.clone();
        let lead = lead.clone();
        move || {
            let name_of = |id: &UserId| {
                officers
                    .iter()
                    .find(|officer| &officer.user.id == id)
                    .map(|officer| officer.user.name.clone())
                    .or_else(|| {
                        me.as_ref()
                            .filter(|me| &me.id == id)
                            .map(|me| me.name.clone())
                    })
                    .unwrap_or_else(|| id.to_string())
            };
            let mut names: Vec<String> = lead.iter().map(name_of).collect();
            if let Some(partner) = partner.get_untracked() {
                names.push(name_of(&partner));
            }
            names.join("、")
        }
    };
    let stamp = Signal::derive(move || {
        let mut lines = vec![
            crate::i18n::stamp_time(&crate::i18n::now_china()),
            stamp_venue.clone(),
            stamp_officers(),
        ];
        if let Some(at) = location.get_untracked() {
            lines.push(format!("{:.5}, {:.5}", at.lat, at.lon));
        }
        lines
    });

    let lang_items = items.clone();
    let record_id_for_items = record_id_for_view.clone();
    let checklist = template
        .items
        .iter()
        .zip(lang_items)
        .map(|(item, state)| {
            let code = item.code;
            let mine = Signal::derive(move || {
                item_problems
                    .get()
                    .into_iter()
                    .filter(|(item, _, _)| item == code)
                    .map(|(_, field, problem)| (field, problem))
                    .collect::<Vec<_>>()
            });
            view! {
                <ChecklistItem
                    item=*item
                    state
                    problems=mine
                    locked=locked
                    record_id=record_id_for_items.clone()
                    stamp=stamp
                />
            }
        })
        .collect_view();

    // "Name · 执法证号 …" of an officer, from the unit's list or the session.
    let officer_line = {
        let officers = officers.clone();
        let me = me.clone();
        move |id: &UserId, lang: Lang| {
            let t = lang.t();
            let found = officers
                .iter()
                .find(|officer| &officer.user.id == id)
                .map(|officer| officer.user.clone())
                .or_else(|| me.clone().filter(|me| &me.id == id));
            match found {
                Some(user) => match user.cert_no.filter(|cert| !cert.trim().is_empty()) {
                    Some(cert) => format!("{} · {} {cert}", user.name, t.cert_no),
                    None => format!("{} · {}", user.name, t.cert_missing),
                },
                None => id.to_string(),
            }
        }
    };
    let lead_line = {
        let officer_line = officer_line.clone();
        let lead = lead.clone();
        move || {
            lead.as_ref()
                .map(|lead| officer_line(lead, i18n.lang()))
                .unwrap_or_default()
        }
    };
    // Partners to pick: the unit's active officers other than the lead.
    let partner_choices: Vec<Officer> = officers
        .iter()
        .filter(|officer| {
            // Administrators run the system; they are not enforcement officers on a visit.
            officer.active
                && officer.user.role != fieldcheck_core::Role::Admin
                && Some(&officer.user.id) != lead.as_ref()
        })
        .cloned()
        .collect();
    let no_partners = partner_choices.is_empty();
    let partner_line = {
        let officer_line = officer_line.clone();
        move || {
            partner
                .get()
                .map(|partner| officer_line(&partner, i18n.lang()))
        }
    };
    let no_campaigns = campaigns.is_empty();
    // The open hazards of the record a re-inspection follows, to mark rectified or still open.
    let followed_hazards = {
        let earlier = earlier.clone();
        move || -> Vec<Hazard> {
            let Some(followed) = follows.get() else {
                return Vec::new();
            };
            // Open on the followed record and not closed by another re-inspection since.
            let others: Vec<&Inspection> = earlier.iter().map(|local| &local.record).collect();
            earlier
                .iter()
                .find(|local| local.record.id == followed)
                .map(|local| {
                    local
                        .record
                        .open_hazards(others.iter().copied())
                        .into_iter()
                        .cloned()
                        .collect()
                })
                .unwrap_or_default()
        }
    };
    let check_of = move |hazard: &HazardId| {
        hazard_checks.with(|checks| {
            checks
                .iter()
                .find(|check| &check.hazard == hazard)
                .map(|check| check.rectified)
        })
    };
    let set_check = move |hazard: HazardId, rectified: bool| {
        hazard_checks.update(|checks| {
            match checks.iter_mut().find(|check| check.hazard == hazard) {
                Some(check) => check.rectified = rectified,
                None => checks.push(HazardCheck {
                    hazard,
                    rectified,
                    note: String::new(),
                }),
            }
        });
    };
    let kind_options = move || {
        let lang = i18n.lang();
        InspectionKind::ALL
            .into_iter()
            .map(|option| {
                view! {
                    <option value=kind_code(option) selected=move || kind.get() == option>
                        {lang.inspection_kind(option)}
                    </option>
                }
            })
            .collect_view()
    };
    let campaign_options = campaigns.clone();
    let earlier_options = earlier.clone();
    let venue_kind = venue.kind;

    view! {
        <section class="page inspect">
            <div class="venue-head">
                <p class="venue-name">{venue.name.clone()}</p>
                <p class="cell-sub">
                    <span class="tag">{move || i18n.lang().venue_kind(venue_kind)}</span>
                    " "
                    {venue.address.clone()}
                </p>
            </div>
            {locked.then(|| view! { <p class="banner banner-warn" role="alert">{move || i18n.t().approved_locked}</p> })}
            {resumed.then(|| view! { <p class="banner banner-ok" role="status" data-testid="form-resumed">{move || i18n.t().resumed}</p> })}
            {returned_with.map(|comment| view! {
                <p class="banner banner-warn" data-testid="form-review-comment">
                    {move || i18n.t().review_comment} {move || i18n.lang().pick("：", ": ")} {comment}
                </p>
            })}

            <div class="group">
                <label class="cell field" for="inspection-kind">
                    <span class="field-label">{move || i18n.t().inspection_kind}</span>
                    <select
                        id="inspection-kind"
                        disabled=locked
                        on:change=move |ev| {
                            if let Some(chosen) = kind_from_code(&event_target_value(&ev)) {
                                kind.set(chosen);
                            }
                        }
                    >
                        {kind_options}
                    </select>
                </label>
                <Show when=move || kind.get() == InspectionKind::Special && no_campaigns>
                    <div class="cell" role="alert" data-testid="no-campaign">
                        <p class="hint">{move || i18n.t().no_campaign}</p>
                        <button
                            type="button"
                            class="button button-secondary button-small"
                            disabled=locked
                            on:click=move |_| kind.set(InspectionKind::Routine)
                        >
                            {move || i18n.t().use_routine}
                        </button>
                    </div>
                </Show>
                <Show when=move || kind.get() == InspectionKind::Special && !no_campaigns>
                    <label class="cell field" for="inspection-campaign">
                        <span class="field-label">{move || i18n.t().campaign}</span>
                        <select
                            id="inspection-campaign"
                            disabled=locked
                            on:change=move |ev| {
                                let value = event_target_value(&ev);
                                campaign.set((!value.is_empty()).then_some(CampaignId(value)));
                            }
                        >
                            <option value="">{move || i18n.t().pick_campaign}</option>
                            {campaign_options
                                .iter()
                                .map(|option| {
                                    let id = option.id.clone();
                                    let selected_id = id.clone();
                                    view! {
                                        <option
                                            value=id.to_string()
                                            selected=move || campaign.get().as_ref() == Some(&selected_id)
                                        >
                                            {option.name.clone()}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                    </label>
                </Show>
                <Show when=move || kind.get() == InspectionKind::Reinspection>
                    <label class="cell field" for="inspection-follows">
                        <span class="field-label">{move || i18n.t().follows}</span>
                        <select
                            id="inspection-follows"
                            disabled=locked
                            on:change=move |ev| {
                                let value = event_target_value(&ev);
                                follows.set((!value.is_empty()).then_some(InspectionId(value)));
                            }
                        >
                            <option value="">{move || i18n.t().pick_follows}</option>
                            {earlier_options
                                .iter()
                                .map(|option| {
                                    let id = option.record.id.clone();
                                    let selected_id = id.clone();
                                    let started = option.record.started_at;
                                    view! {
                                        <option
                                            value=id.to_string()
                                            selected=move || follows.get().as_ref() == Some(&selected_id)
                                        >
                                            {move || i18n.lang().datetime(&started)}
                                        </option>
                                    }
                                })
                                .collect_view()}
                        </select>
                    </label>
                    <div class="cell followed-hazards" data-testid="followed-hazards">
                        <span class="field-label">{move || i18n.t().open_hazards}</span>
                        {
                            let followed_hazards = followed_hazards.clone();
                            move || {
                                let hazards = followed_hazards();
                                if follows.get().is_some() && hazards.is_empty() {
                                    return view! { <p class="hint">{i18n.t().no_open_hazards}</p> }
                                        .into_any();
                                }
                                hazards
                                    .into_iter()
                                    .map(|hazard| {
                                        let id = hazard.id.clone();
                                        let id_fixed = id.clone();
                                        let id_open = id.clone();
                                        let id_a = id.clone();
                                        let id_b = id.clone();
                                        view! {
                                            <div class="followed-hazard">
                                                <p>{hazard.description.clone()}</p>
                                                <div class="seg" role="group">
                                                    <button
                                                        type="button"
                                                        class="seg-btn seg-pass"
                                                        disabled=locked
                                                        aria-pressed=move || (check_of(&id_a) == Some(true)).to_string()
                                                        on:click=move |_| set_check(id_fixed.clone(), true)
                                                    >
                                                        {move || i18n.t().hazard_rectified}
                                                    </button>
                                                    <button
                                                        type="button"
                                                        class="seg-btn seg-fail"
                                                        disabled=locked
                                                        aria-pressed=move || (check_of(&id_b) == Some(false)).to_string()
                                                        on:click=move |_| set_check(id_open.clone(), false)
                                                    >
                                                        {move || i18n.t().hazard_still_open}
                                                    </button>
                                                </div>
                                            </div>
                                        }
                                    })
                                    .collect_view()
                                    .into_any()
                            }
                        }
                    </div>
                </Show>
                <Show when=move || kind.get() == InspectionKind::Complaint>
                    <label class="cell field" for="complaint-text">
                        <span class="field-label">{move || i18n.t().complaint_text}</span>
                        <textarea
                            id="complaint-text"
                            rows="2"
                            disabled=locked
                            prop:value=move || complaint_text.get()
                            on:input=move |ev| complaint_text.set(event_target_value(&ev))
                        ></textarea>
                    </label>
                    <TextCell
                        id="complaint-source"
                        label=|t| t.complaint_source
                        value=complaint_source
                        locked=locked
                    />
                    <TextCell
                        id="complaint-received"
                        label=|t| t.complaint_received
                        value=complaint_received
                        locked=locked
                        kind="date"
                    />
                </Show>
            </div>

            <div class="section-head">
                <h2>{move || i18n.t().checklist}</h2>
                <span class="progress" aria-live="polite">
                    {move || i18n.lang().progress(answered(), n_items)}
                </span>
                // Only while something is left to answer: at 14/14 there is nowhere to jump.
                <button
                    type="button"
                    class="link-button"
                    prop:hidden=all_answered
                    on:click=jump_to_unanswered
                >
                    {move || i18n.t().jump_unanswered}
                </button>
            </div>
            <div class="group checklist">{checklist}</div>

            <div class="group">
                <div class="cell field">
                    <span class="field-label">{move || i18n.t().outcome}</span>
                    <label class="check-line">
                        <input
                            type="checkbox"
                            data-testid="warning-issued"
                            disabled=locked
                            prop:checked=move || warning.get()
                            on:change=move |ev| warning.set(event_target_checked(&ev))
                        />
                        {move || i18n.t().warning_issued}
                    </label>
                    <label class="check-line">
                        <input
                            type="checkbox"
                            data-testid="case-opened"
                            disabled=locked
                            prop:checked=move || case_opened.get()
                            on:change=move |ev| case_opened.set(event_target_checked(&ev))
                        />
                        {move || i18n.t().case_opened}
                    </label>
                </div>
                <div class="cell field">
                    <span class="field-label">{move || i18n.t().record_photos}</span>
                    <PhotoStrip
                        names=record_photos
                        record_id=record_id_for_view.clone()
                        stamp=stamp
                        locked=locked
                        testid="record-photos".to_owned()
                    />
                </div>
                <label class="cell field" for="inspection-notes">
                    <span class="field-label">{move || i18n.t().notes}</span>
                    <textarea
                        id="inspection-notes"
                        rows="3"
                        disabled=locked
                        prop:value=move || notes.get()
                        on:input=move |ev| notes.set(event_target_value(&ev))
                    ></textarea>
                </label>
                <div class="cell">
                    <span class="field-label">{move || i18n.t().location}</span>
                    <span class="cell-value" data-testid="location">
                        {move || {
                            location_text(
                                location.get(),
                                locating.get(),
                                location_failed.get(),
                                i18n.lang(),
                            )
                        }}
                    </span>
                    <button
                        type="button"
                        class="link-button"
                        disabled=move || locating.get()
                        on:click=move |_| crate::geo::locate(location, locating, location_failed)
                    >
                        {move || i18n.t().relocate}
                    </button>
                </div>
            </div>

            <div class="section-head" id="officers">
                <h2>{move || i18n.t().inspectors}</h2>
            </div>
            <div class="group">
                <div class="cell">
                    <span class="cell-value" data-testid="lead-officer">{lead_line.clone()}</span>
                </div>
                <label class="cell field" for="inspection-partner">
                    <span class="field-label">{move || i18n.t().partner}</span>
                    <select
                        id="inspection-partner"
                        data-testid="partner"
                        disabled=move || locked || no_partners
                        on:change=move |ev| {
                            let value = event_target_value(&ev);
                            partner.set((!value.is_empty()).then_some(UserId(value)));
                        }
                    >
                        <option value="">{move || i18n.t().pick_partner}</option>
                        {partner_choices
                            .iter()
                            .map(|officer| {
                                let id = officer.user.id.clone();
                                let selected_id = id.clone();
                                let label = match officer.user.cert_no.as_deref() {
                                    Some(cert) if !cert.trim().is_empty() => {
                                        format!("{}（{cert}）", officer.user.name)
                                    }
                                    _ => officer.user.name.clone(),
                                };
                                view! {
                                    <option
                                        value=id.to_string()
                                        selected=move || partner.get().as_ref() == Some(&selected_id)
                                    >
                                        {label}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                    {no_partners.then(|| view! { <span class="hint">{move || i18n.t().no_officers}</span> })}
                    {
                        let partner_line = partner_line.clone();
                        move || partner_line().map(|line| view! { <span class="hint" data-testid="partner-line">{line}</span> })
                    }
                </label>
                <div class="cell field" id="officer-signatures">
                    <span class="field-label">{move || i18n.t().officer_signatures}</span>
                    <span class="hint">{lead_line.clone()}</span>
                    <SignaturePad
                        signature=lead_signature
                        locked=locked
                        testid="signature-lead".to_owned()
                    />
                    <Show when=move || partner.get().is_some()>
                        <span class="hint">{partner_line.clone()}</span>
                        <SignaturePad
                            signature=partner_signature
                            locked=locked
                            testid="signature-partner".to_owned()
                        />
                    </Show>
                </div>
            </div>

            <div class="section-head" id="party">
                <h2>{move || i18n.t().party}</h2>
            </div>
            <div class="group">
                <TextCell
                    id="party-name"
                    label=|t| t.party_name
                    value=party_name
                    locked=locked
                    no_autofill=true
                />
                <TextCell
                    id="party-title"
                    label=|t| t.party_title
                    value=party_title
                    locked=locked
                    no_autofill=true
                />
                <TextCell
                    id="party-id"
                    label=|t| t.party_id
                    value=party_id
                    locked=locked
                    inputmode="tel"
                    no_autofill=true
                />
                <div class="cell field">
                    <label class="check-line">
                        <input
                            type="checkbox"
                            data-testid="party-refused"
                            disabled=locked
                            prop:checked=move || party_refused.get()
                            on:change=move |ev| party_refused.set(event_target_checked(&ev))
                        />
                        {move || i18n.t().party_refused}
                    </label>
                </div>
                <Show
                    when=move || party_refused.get()
                    fallback=move || {
                        view! {
                            <div class="cell field">
                                <span class="field-label">{move || i18n.t().party_signature}</span>
                                <SignaturePad
                                    signature=party_signature
                                    locked=locked
                                    testid="signature-party".to_owned()
                                />
                            </div>
                        }
                    }
                >
                    <TextCell
                        id="refusal-reason"
                        label=|t| t.refusal_reason
                        value=refusal_reason
                        locked=locked
                    />
                    <TextCell
                        id="refusal-witness"
                        label=|t| t.witness
                        value=witness
                        locked=locked
                    />
                </Show>
            </div>

            <div id="form-problems">
                <ProblemList problems=problems heading=|t| t.fix_problems />
                {move || {
                    (!item_problems.get().is_empty())
                        .then(|| {
                            view! {
                                <p class="problems-heading" role="alert">
                                    {i18n.t().fix_items}
                                </p>
                            }
                        })
                }}
                {move || {
                    save_error
                        .get()
                        .map(|error| store_failed(i18n.t().save_not_made, &error, "save-failed"))
                }}
            </div>

            {move || {
                autosave_error
                    .get()
                    .map(|error| store_failed(i18n.t().autosave_failed, &error, "autosave-failed"))
            }}
            <p class="hint autosave-hint" role="status" aria-live="polite" data-testid="autosaved">
                {move || autosaved.get().map(|at| format!("{} {}", i18n.t().autosaved, crate::i18n::clock_seconds(&at)))}
            </p>
            <div class="actions actions-sticky">
                <button
                    type="button"
                    class="button button-secondary"
                    data-testid="save-draft"
                    disabled=move || saving.get() || locked
                    on:click=move |_| save(Status::Draft)
                >
                    {move || i18n.t().save_draft}
                </button>
                <button
                    type="button"
                    class="button button-primary"
                    data-testid="submit-inspection"
                    disabled=move || saving.get() || locked
                    on:click=move |_| save_submit(Status::Submitted)
                >
                    {move || if saving.get() { i18n.t().saving } else { i18n.t().submit }}
                </button>
            </div>
        </section>
    }
}

/// The form fields that are not per item.
struct Fields {
    kind: InspectionKind,
    campaign: Option<CampaignId>,
    follows: Option<InspectionId>,
    notes: String,
    location: Option<Location>,
    /// Who is saving: named on the record if not already.
    inspector: UserId,
    partner: Option<UserId>,
    lead_signature: Option<String>,
    partner_signature: Option<String>,
    warning_issued: bool,
    case_opened: bool,
    photos: Vec<String>,
    party: Party,
    complaint: Complaint,
    hazard_checks: Vec<HazardCheck>,
    status: Status,
}

/// Assembles the record from the form, keeping what the server set on an existing one.
fn build_record(
    base: Option<Inspection>,
    record_id: &InspectionId,
    venue: &Venue,
    template_id: &str,
    started_at: chrono::DateTime<chrono::FixedOffset>,
    items: &[ItemState],
    fields: Fields,
) -> Inspection {
    let mut answers = Vec::new();
    let mut hazards = Vec::new();
    for state in items {
        let Some(result) = state.result.get_untracked() else {
            continue;
        };
        let note = if result == ItemResult::Fail {
            state.note.get_untracked()
        } else {
            String::new()
        };
        answers.push(Answer {
            item: state.code.to_owned(),
            result,
            note,
            photos: state.photos.get_untracked(),
        });
        if result == ItemResult::Fail {
            let rectify = state.rectify.get_untracked();
            let deadline = match rectify {
                Some(Rectify::Deadline) => state.deadline.get_untracked().parse().ok(),
                Some(Rectify::OnSite) | None => None,
            };
            hazards.push(Hazard {
                id: state
                    .hazard_id
                    .get_untracked()
                    .unwrap_or_else(|| HazardId(uuid::Uuid::now_v7().to_string())),
                item: Some(state.code.to_owned()),
                description: state.hazard.get_untracked().trim().to_owned(),
                rectify,
                deadline,
                status: match rectify {
                    Some(Rectify::OnSite) => HazardStatus::Rectified,
                    Some(Rectify::Deadline) | None => HazardStatus::Open,
                },
                photos: state.hazard_photos.get_untracked(),
            });
        }
    }
    // The lead (author) first, then the partner; whoever saves is always named.
    let mut inspectors: Vec<UserId> = base
        .as_ref()
        .and_then(|record| record.inspectors.first().cloned())
        .into_iter()
        .collect();
    if inspectors.is_empty() {
        inspectors.push(fields.inspector.clone());
    }
    if let Some(partner) = fields
        .partner
        .filter(|partner| !inspectors.contains(partner))
    {
        inspectors.push(partner);
    }
    if !inspectors.contains(&fields.inspector) {
        inspectors.push(fields.inspector);
    }
    let officer_signatures: Vec<OfficerSignature> = inspectors
        .iter()
        .zip([fields.lead_signature, fields.partner_signature])
        .filter_map(|(officer, signature)| {
            signature.map(|signature| OfficerSignature {
                officer: officer.clone(),
                signature,
            })
        })
        .collect();
    let finished_at = (fields.status == Status::Submitted).then(crate::i18n::now_china);
    let campaign_id = (fields.kind == InspectionKind::Special)
        .then_some(fields.campaign)
        .flatten();
    let follows = (fields.kind == InspectionKind::Reinspection)
        .then_some(fields.follows)
        .flatten();
    let hazard_checks = if follows.is_some() {
        fields.hazard_checks
    } else {
        Vec::new()
    };
    let complaint = (fields.kind == InspectionKind::Complaint).then_some(fields.complaint);
    let party = (fields.party != Party::default()).then_some(fields.party);
    let mut record = base.unwrap_or_else(|| Inspection {
        id: record_id.clone(),
        venue_id: venue.id.clone(),
        kind: fields.kind,
        campaign_id: None,
        follows: None,
        template: template_id.to_owned(),
        started_at,
        finished_at: None,
        inspectors: Vec::new(),
        location: None,
        answers: Vec::new(),
        hazards: Vec::new(),
        warning_issued: false,
        case_opened: false,
        photos: Vec::new(),
        hazard_checks: Vec::new(),
        complaint: None,
        party: None,
        officer_signatures: Vec::new(),
        notes: String::new(),
        status: fields.status,
        review_comment: None,
        amends: None,
        unit_id: None,
        created_by: None,
        received_at: None,
        reviews: Vec::new(),
    });
    record.kind = fields.kind;
    record.campaign_id = campaign_id;
    record.follows = follows;
    // Set once: resubmitting a returned record keeps the time the visit ended.
    record.finished_at = record.finished_at.or(finished_at);
    record.inspectors = inspectors;
    record.location = fields.location.or(record.location);
    record.answers = answers;
    record.hazards = hazards;
    record.warning_issued = fields.warning_issued;
    record.case_opened = fields.case_opened;
    record.photos = fields.photos;
    record.hazard_checks = hazard_checks;
    record.complaint = complaint;
    record.party = party;
    record.officer_signatures = officer_signatures;
    record.notes = fields.notes;
    record.status = fields.status;
    record
}

fn kind_code(kind: InspectionKind) -> &'static str {
    match kind {
        InspectionKind::Routine => "routine",
        InspectionKind::Special => "special",
        InspectionKind::Reinspection => "reinspection",
        InspectionKind::Complaint => "complaint",
    }
}

fn kind_from_code(code: &str) -> Option<InspectionKind> {
    InspectionKind::ALL
        .into_iter()
        .find(|kind| kind_code(*kind) == code)
}

fn location_text(location: Option<Location>, locating: bool, failed: bool, lang: Lang) -> String {
    match location {
        Some(location) => {
            let accuracy = location
                .accuracy_m
                .map(|metres| match lang {
                    Lang::Zh => format!("（±{metres:.0} 米）"),
                    Lang::En => format!(" (±{metres:.0} m)"),
                })
                .unwrap_or_default();
            format!("{:.5}, {:.5}{accuracy}", location.lat, location.lon)
        }
        None if locating => lang.t().location_pending.to_owned(),
        None if failed => lang.t().location_denied.to_owned(),
        None => lang.t().location_none.to_owned(),
    }
}

fn scroll_to(element_id: &str) {
    if let Some(element) = document().get_element_by_id(element_id) {
        element.scroll_into_view();
    }
}

/// How long a save runs before its buttons say so (see `save`).
const SAVING_SHOWN_AFTER_MS: u32 = 150;

/// Sets `signal` only when `value` differs: every item of the checklist follows the problem lists, and
/// setting an empty list over an empty one would redraw each of them in the middle of a save.
fn set_if_changed<T: PartialEq + Send + Sync + 'static>(signal: RwSignal<T>, value: T) {
    signal.maybe_update(|current| {
        let changed = *current != value;
        if changed {
            *current = value;
        }
        changed
    });
}
