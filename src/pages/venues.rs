//! / (检查): pick the venue to inspect — search by name, every kind, name + kind + address per row.

use fieldcheck_core::Venue;
use leptos::prelude::*;

use crate::components::{Icon, IconName};
use crate::i18n::use_i18n;
use crate::store::{Listed, use_store};
use crate::sync::use_sync;

/// The venues that match the search, how many there are in all, and how many could not be read.
type Shown = Result<(Vec<Venue>, usize, usize), String>;

/// The venue picker.
#[component]
pub fn VenuesPage() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let store = use_store();
    let search = RwSignal::new(String::new());
    // All venues once per sync change; the search filters in memory so typing stays instant.
    let venues = LocalResource::new(move || {
        let _ = sync.data_version();
        let store = store.clone();
        async move { store.list_venues("").await }
    });
    let shown = move || -> Option<Shown> {
        let listed: Result<Listed<Venue>, _> = venues.get()?;
        Some(match listed {
            Ok(listed) => {
                let needle = search.get().trim().to_lowercase();
                let total = listed.items.len();
                let matching: Vec<Venue> = listed
                    .items
                    .into_iter()
                    .filter(|venue| {
                        needle.is_empty() || venue.name.to_lowercase().contains(&needle)
                    })
                    .collect();
                Ok((matching, total, listed.corrupt.len()))
            }
            Err(error) => Err(error.to_string()),
        })
    };
    // Inspections begun and not saved: one tap takes the inspector back to where they were.
    let forms_store = use_store();
    let unsaved = LocalResource::new(move || {
        let _ = sync.data_version();
        let store = forms_store.clone();
        async move {
            let forms = store.forms().await?;
            let mut shown = Vec::new();
            for form in forms.items {
                let venue = store.venue(&form.record.venue_id).await?;
                shown.push((form, venue.map(|venue| venue.name)));
            }
            Ok::<_, crate::store::StoreError>(shown)
        }
    });
    let unsaved_banner = move || {
        let lang = i18n.lang();
        let t = lang.t();
        match unsaved.get() {
            Some(Ok(forms)) if !forms.is_empty() => Some(view! {
                <div class="banner banner-warn" role="status" data-testid="unsaved-forms">
                    <p class="banner-title">{t.unsaved_forms}</p>
                    <ul class="plain">
                        {forms
                            .into_iter()
                            .map(|(form, venue_name)| {
                                let href = format!("/inspect/{}?record={}", form.record.venue_id, form.record.id);
                                view! {
                                    <li>
                                        <a href=href data-testid="continue-form">
                                            {venue_name.unwrap_or_else(|| t.unknown_venue.to_owned())}
                                            " · " {lang.datetime(&form.saved_at)} " · " {t.continue_form}
                                        </a>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                </div>
            }),
            Some(Err(error)) => {
                leptos::logging::error!("cannot list unsaved forms: {error}");
                None
            }
            _ => None,
        }
    };
    view! {
        <section class="page">
            {unsaved_banner}
            <div class="search">
                <input
                    type="search"
                    name="q"
                    inputmode="search"
                    enterkeyhint="search"
                    autocomplete="off"
                    placeholder=move || i18n.t().search_venue
                    aria-label=move || i18n.t().search_venue
                    prop:value=move || search.get()
                    on:input=move |ev| search.set(event_target_value(&ev))
                />
            </div>
            {move || match shown() {
                None => view! { <p class="empty" role="status">{i18n.t().loading}</p> }.into_any(),
                Some(Err(message)) => {
                    view! {
                        <p class="banner banner-error" role="alert">
                            {i18n.t().err_store} ": " {message}
                        </p>
                    }
                        .into_any()
                }
                Some(Ok((matching, total, n_corrupt))) => {
                    let lang = i18n.lang();
                    let t = lang.t();
                    view! {
                        {(n_corrupt > 0)
                            .then(|| {
                                view! {
                                    <p class="banner banner-warn" role="alert">
                                        {lang.n_unreadable(n_corrupt)}
                                    </p>
                                }
                            })}
                        {if total == 0 {
                            Some(view! { <p class="empty">{t.no_venues}</p> })
                        } else if matching.is_empty() {
                            Some(view! { <p class="empty">{t.no_match}</p> })
                        } else {
                            None
                        }}
                        <ul class="group list">
                            {matching
                                .into_iter()
                                .map(|venue| {
                                    view! {
                                        <li>
                                            <a
                                                class="cell cell-link venue-row"
                                                data-testid="venue-row"
                                                href=format!("/inspect/{}", venue.id)
                                            >
                                                <span class="cell-main">
                                                    <span class="cell-title">{venue.name.clone()}</span>
                                                    <span class="cell-sub">
                                                        <span class="tag">{lang.venue_kind(venue.kind)}</span>
                                                        " "
                                                        {venue.address.clone()}
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
