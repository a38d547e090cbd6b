//! /venues/new: an officer registers a venue found in the field (an unlicensed internet café), then
//! inspects it at once. Synced like a record, flagged `field_registered` for the supervisor.
//! /venues/:id/edit: a supervisor corrects a venue of the register, closes it (停业) or confirms a
//! field registration.

use fieldcheck_core::{Problem, Venue, VenueId, VenueKind};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::components::ProblemList;
use crate::geo::Position;
use crate::i18n::use_i18n;
use crate::pages::not_found::NothingHere;
use crate::router::{use_navigate, use_params_map};
use crate::store::{OpenedOn, SyncMark, use_store};
use crate::sync::use_sync;

/// The registration form.
#[component]
pub fn VenueNewPage() -> impl IntoView {
    view! { <VenueForm existing=None opened=None /> }
}

/// A venue of the register, to correct or close.
#[component]
pub fn VenueEditPage() -> impl IntoView {
    let i18n = use_i18n();
    let store = use_store();
    let params = use_params_map();
    let venue = LocalResource::new(move || {
        let store = store.clone();
        let id = params.with(|params| params.get("id").unwrap_or_default());
        async move { store.venue_to_edit(&VenueId(id)).await }
    });
    move || {
        match venue.get() {
        None => view! { <p class="empty" role="status">{i18n.t().loading}</p> }.into_any(),
        Some(Ok(Some((venue, opened)))) => view! { <VenueForm existing=Some(venue) opened=Some(opened) /> }.into_any(),
        Some(Ok(None)) => view! { <NothingHere message=|lang| lang.t().venue_missing /> }.into_any(),
        Some(Err(error)) => view! {
            <p class="banner banner-error" role="alert">{i18n.t().err_store} ": " {error.to_string()}</p>
        }
        .into_any(),
    }
    }
}

/// `opened`: the copy a correction is made on, so that a newer one pulled meanwhile is not undone.
#[component]
fn VenueForm(existing: Option<Venue>, opened: Option<OpenedOn>) -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let store = use_store();
    let navigate = use_navigate();
    let editing = existing.is_some();
    let field = |pick: fn(&Venue) -> &String| {
        RwSignal::new(existing.as_ref().map(pick).cloned().unwrap_or_default())
    };
    let name = field(|venue| &venue.name);
    // None until the officer chooses: a kind taken by default would give the venue's records
    // another kind's checklist.
    let kind = RwSignal::new(existing.as_ref().map(|venue| venue.kind));
    let address = field(|venue| &venue.address);
    let licence = field(|venue| &venue.licence_no);
    let contact = field(|venue| &venue.contact_name);
    let phone = field(|venue| &venue.contact_phone);
    let active = RwSignal::new(existing.as_ref().is_none_or(|venue| venue.active));
    let position = Position::new(existing.as_ref().and_then(|venue| venue.location));
    if !editing {
        position.locate();
    }
    let existing = StoredValue::new(existing);
    let opened = StoredValue::new(opened);
    let problems = RwSignal::new(Vec::<Problem>::new());
    let save_error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);

    let save = move |_| {
        let Some(session) = sync.session_untracked() else {
            return;
        };
        let Some(chosen_kind) = kind.get_untracked() else {
            problems.set(vec![Problem {
                field: "kind".to_owned(),
                code: "no_kind",
                en: "choose the venue's kind".to_owned(),
                zh: "请选择场所类型".to_owned(),
            }]);
            return;
        };
        let before = existing.get_value();
        // What the register held: a venue is not refused for a phone or a licence it already had.
        let (phone_before, licence_before) =
            before.as_ref().map_or_else(Default::default, |venue| {
                (venue.contact_phone.clone(), venue.licence_no.clone())
            });
        let venue = Venue {
            id: before.as_ref().map_or_else(
                || VenueId(uuid::Uuid::now_v7().to_string()),
                |venue| venue.id.clone(),
            ),
            kind: chosen_kind,
            name: name.get_untracked().trim().to_owned(),
            licence_no: licence.get_untracked().trim().to_owned(),
            address: address.get_untracked().trim().to_owned(),
            location: position.location.get_untracked(),
            contact_name: contact.get_untracked().trim().to_owned(),
            contact_phone: phone.get_untracked().trim().to_owned(),
            unit_id: before.as_ref().map_or_else(
                || session.user.unit_id.clone(),
                |venue| venue.unit_id.clone(),
            ),
            active: active.get_untracked(),
            // An officer's new venue awaits the supervisor's check; a supervisor's save (a new venue
            // or a correction) is that check.
            field_registered: before.is_none() && !session.user.role.reviews(),
            initials: before.map(|venue| venue.initials).unwrap_or_default(),
        };
        let mut found = venue
            .validate()
            .err()
            .map(|found| found.0)
            .unwrap_or_default();
        if venue.contact_phone != phone_before.trim() && !phone_like(&venue.contact_phone) {
            found.push(Problem {
                field: "contact_phone".to_owned(),
                code: "bad_phone",
                en: "the contact phone needs at least 7 digits and no letters".to_owned(),
                zh: "联系电话至少7位数字，且不能含字母".to_owned(),
            });
        }
        if !found.is_empty() {
            problems.set(found);
            return;
        }
        let licence_changed = venue.licence_no != licence_before.trim();
        problems.set(Vec::new());
        saving.set(true);
        let store = store.clone();
        spawn_local(async move {
            // A licence already in the register means the venue was not found, not that it is new:
            // a second copy would split its inspections in two.
            if licence_changed && let Some(problem) = licence_taken(&store, &venue).await {
                problems.set(vec![problem]);
                saving.set(false);
                return;
            }
            let saved = match opened.get_value() {
                Some(opened) => store.save_venue_from(&venue, &opened).await,
                None => store.save_venue(&venue).await,
            };
            match saved {
                Ok(mark) => {
                    sync.saved_locally();
                    // A correction that met a newer copy waits in 我的, beside it, for a choice.
                    let next = if mark == SyncMark::Conflict {
                        "/me".to_owned()
                    } else if editing {
                        "/admin".to_owned()
                    } else {
                        format!("/inspect/{}", venue.id)
                    };
                    navigate.to(&next);
                }
                Err(error) => {
                    saving.set(false);
                    save_error.set(Some(error.to_string()));
                }
            }
        });
    };

    let text_field = move |id: &'static str,
                           label: fn(&crate::i18n::Strings) -> &'static str,
                           value: RwSignal<String>,
                           input_mode: &'static str| {
        view! {
            <label class="cell field" for=id>
                <span class="field-label">{move || label(i18n.t())}</span>
                <input
                    id=id
                    type="text"
                    inputmode=input_mode
                    autocomplete="off"
                    prop:value=move || value.get()
                    on:input=move |ev| value.set(event_target_value(&ev))
                />
            </label>
        }
    };

    view! {
        <section class="page">
            {(!editing).then(|| view! {
                <h2 class="section-title">{move || i18n.t().venue_new_title}</h2>
                <p class="hint page-hint">{move || i18n.t().venue_new_hint}</p>
            })}
            <div class="group">
                {text_field("venue-name", |t| t.venue_name, name, "text")}
                <label class="cell field" for="venue-kind">
                    <span class="field-label">{move || i18n.t().venue_kind}</span>
                    // A venue's kind is fixed once it is in the register: its records' checklists are
                    // that kind's.
                    <select
                        id="venue-kind"
                        disabled=editing
                        on:change=move |ev| kind.set(VenueKind::from_code(&event_target_value(&ev)))
                    >
                        <option value="" selected=move || kind.get().is_none()>
                            {move || i18n.lang().pick("请选择", "Choose")}
                        </option>
                        {VenueKind::ALL
                            .into_iter()
                            .map(|option| {
                                view! {
                                    <option value=option.code() selected=move || kind.get() == Some(option)>
                                        {move || i18n.lang().venue_kind(option)}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
                {text_field("venue-address", |t| t.venue_address, address, "text")}
                {text_field("venue-licence", |t| t.licence_no, licence, "text")}
                {text_field("venue-contact", |t| t.venue_contact, contact, "text")}
                {text_field("venue-phone", |t| t.venue_phone, phone, "tel")}
                {editing.then(|| view! {
                    <label class="cell field" for="venue-active">
                        <span class="field-label">{move || i18n.lang().pick("在营", "Open")}</span>
                        <input id="venue-active" type="checkbox" data-testid="venue-active"
                            prop:checked=move || active.get()
                            on:change=move |_| active.update(|active| *active = !*active) />
                        <span class="small">{move || i18n.lang().pick("取消勾选即停业：不再出现在检查列表中", "Untick to close it: it leaves the list to inspect")}</span>
                    </label>
                })}
                <div class="cell">
                    <span class="field-label">{move || i18n.t().location}</span>
                    <span class="cell-value">
                        {move || {
                            position
                                .location
                                .get()
                                .map(|at| format!("{:.5}, {:.5}", at.lat, at.lon))
                                .unwrap_or_else(|| {
                                    if position.locating.get() {
                                        i18n.t().location_pending.to_owned()
                                    } else {
                                        i18n.t().location_none.to_owned()
                                    }
                                })
                        }}
                    </span>
                </div>
            </div>
            <ProblemList problems=problems heading=|t| t.fix_problems />
            {move || {
                save_error
                    .get()
                    .map(|message| {
                        view! {
                            <p class="banner banner-error" role="alert">
                                {i18n.t().err_store} ": " {message}
                            </p>
                        }
                    })
            }}
            <div class="actions">
                <button
                    type="button"
                    class="button button-primary"
                    data-testid="save-venue"
                    disabled=move || saving.get()
                    on:click=save
                >
                    {move || if editing { i18n.lang().pick("保存", "Save") } else { i18n.t().save_and_inspect }}
                </button>
            </div>
        </section>
    }
}

/// The register's other venue with the same licence number, as a problem naming it; `None` when the
/// number is empty or the phone cannot read its register (the server keeps the last word).
async fn licence_taken(store: &crate::store::Store, venue: &Venue) -> Option<Problem> {
    let licence = venue.licence_no.trim();
    if licence.is_empty() {
        return None;
    }
    let listed = store.list_venues("").await.ok()?;
    // Only an open venue of the same unit: that is the one the officer can find and inspect.
    let other = listed.items.into_iter().find(|other| {
        other.id != venue.id
            && other.active
            && other.unit_id == venue.unit_id
            && other.licence_no.trim().eq_ignore_ascii_case(licence)
    })?;
    Some(Problem {
        field: "licence_no".to_owned(),
        code: "licence_taken",
        en: format!(
            "licence {licence} is already registered as \u{201c}{}\u{201d}: search for it and inspect that venue",
            other.name
        ),
        zh: format!(
            "许可证号{licence}已登记为“{}”，请搜索该场所后直接检查",
            other.name
        ),
    })
}

/// A contact phone as registers write them: empty (unknown), or at least 7 digits and no Latin
/// letters. Dashes, spaces, `+`, brackets and an extension in words (`0379-6321 转 8`) all pass.
/// Checked in this form only: venues already registered or imported keep what they hold.
fn phone_like(phone: &str) -> bool {
    phone.is_empty()
        || (phone.chars().filter(char::is_ascii_digit).count() >= 7
            && !phone.chars().any(|c| c.is_ascii_alphabetic()))
}
