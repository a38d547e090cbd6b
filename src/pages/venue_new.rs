//! /venues/new: an officer registers a venue found in the field (an unlicensed internet café), then
//! inspects it at once. Synced like a record, flagged `field_registered` for the supervisor.

use fieldcheck_core::{Problem, Venue, VenueId, VenueKind};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::use_navigate;

use crate::components::ProblemList;
use crate::geo::Position;
use crate::i18n::use_i18n;
use crate::store::use_store;
use crate::sync::use_sync;

/// The registration form.
#[component]
pub fn VenueNewPage() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let store = use_store();
    let navigate = use_navigate();
    let name = RwSignal::new(String::new());
    let kind = RwSignal::new(VenueKind::InternetCafe);
    let address = RwSignal::new(String::new());
    let licence = RwSignal::new(String::new());
    let contact = RwSignal::new(String::new());
    let phone = RwSignal::new(String::new());
    let position = Position::new(None);
    position.locate();
    let problems = RwSignal::new(Vec::<Problem>::new());
    let save_error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);

    let save = move |_| {
        let Some(session) = sync.session_untracked() else {
            return;
        };
        let venue = Venue {
            id: VenueId(uuid::Uuid::now_v7().to_string()),
            kind: kind.get_untracked(),
            name: name.get_untracked().trim().to_owned(),
            licence_no: licence.get_untracked().trim().to_owned(),
            address: address.get_untracked().trim().to_owned(),
            location: position.location.get_untracked(),
            contact_name: contact.get_untracked().trim().to_owned(),
            contact_phone: phone.get_untracked().trim().to_owned(),
            unit_id: session.user.unit_id.clone(),
            active: true,
            field_registered: true,
            initials: String::new(),
        };
        if let Err(found) = venue.validate() {
            problems.set(found.0);
            return;
        }
        problems.set(Vec::new());
        saving.set(true);
        let store = store.clone();
        let navigate = navigate.clone();
        spawn_local(async move {
            match store.save_venue(&venue).await {
                Ok(()) => {
                    sync.saved_locally();
                    navigate(&format!("/inspect/{}", venue.id), Default::default());
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
            <h2 class="section-title">{move || i18n.t().venue_new_title}</h2>
            <p class="hint page-hint">{move || i18n.t().venue_new_hint}</p>
            <div class="group">
                {text_field("venue-name", |t| t.venue_name, name, "text")}
                <label class="cell field" for="venue-kind">
                    <span class="field-label">{move || i18n.t().venue_kind}</span>
                    <select
                        id="venue-kind"
                        on:change=move |ev| {
                            if let Some(chosen) = VenueKind::from_code(&event_target_value(&ev)) {
                                kind.set(chosen);
                            }
                        }
                    >
                        {VenueKind::ALL
                            .into_iter()
                            .map(|option| {
                                view! {
                                    <option value=option.code() selected=move || kind.get() == option>
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
                    {move || i18n.t().save_and_inspect}
                </button>
            </div>
        </section>
    }
}
