//! / (检查): pick the venue to inspect — search by name, address, licence number or pinyin initials,
//! filter by kind, nearest first when the phone knows where it is; or register a venue found in the
//! field.

use fieldcheck_core::{Venue, VenueKind};
use leptos::prelude::*;
use leptos::reactive::computed::ScopedFuture;

use crate::components::{Icon, IconName, LIST_PAGE, MoreButton};
use crate::frame::after_paint;
use crate::geo::Position;
use crate::i18n::{Lang, use_i18n};
use crate::router::use_navigate;
use crate::store::{Listed, use_store};
use crate::sync::use_sync;

/// The venues that match the search, how many there are in all, and how many could not be read.
type Shown = Result<(Vec<Venue>, usize, usize), String>;

/// Venue rows a tall phone shows at once (about nine fit at 360 × 740 under the search): as many
/// as the page's copy of the list keeps for the next open, which is this screenful as drawn.
const FIRST_ROWS: usize = crate::boot_snapshot::ROWS_KEPT;

/// A venue as its row shows it, with how far it is when the phone knows both positions.
type Row = (Venue, Option<f64>);

/// The venue picker.
#[component]
pub fn VenuesPage() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let store = use_store();
    let search = RwSignal::new(String::new());
    let kind_filter = RwSignal::new(None::<VenueKind>);
    // Rows drawn: a page, and a page more per tap on 加载更多. A district's register is thousands
    // of venues, and drawing them all would hold up the screen (and every keystroke of a search).
    let drawn = RwSignal::new(LIST_PAGE);
    // Nearest first once the phone knows where it is; asked once when the list opens.
    let position = Position::new(None);
    position.locate();
    // The first screenful by the pinyin index, drawn at once; then the whole register, read once
    // per sync change, which the search filters in memory so typing stays instant, and which fills
    // the page below the screenful. A screenful, not a page: the app's start draws as much for a
    // district's register as for a handful of venues.
    let first_store = store.clone();
    let first_page = LocalResource::new(move || {
        let store = first_store.clone();
        async move { store.first_venues(FIRST_ROWS).await }
    });
    let venues = LocalResource::new(move || {
        let _ = sync.data_version();
        let store = store.clone();
        // Made here, while the screen surely stands; polling it is what would subscribe.
        let first = first_page.into_future();
        async move {
            // Decoding a district's register takes a while: the first page is painted before it.
            // Waited for without subscribing to it: its arrival must not read the register again.
            let _ = ScopedFuture::new_untracked(first).await;
            after_paint().await;
            // Nor is it read for a screen left meanwhile: this task outlives the screen.
            if first_page.is_disposed() {
                return Ok(Listed::default());
            }
            store.list_venues("").await
        }
    });
    // Filtered and ordered once per change of the register, the search, the kind or the position;
    // a tap on 加载更多 only draws more of it.
    let shown = Memo::new(move |_| -> Option<Shown> {
        if venues.with(Option::is_none) {
            // Until the register is read, the first page stands for it, as long as nothing narrows
            // or reorders the list (and it is not empty: an older phone's venues may lack the index).
            let narrowed = !search.with(String::is_empty)
                || kind_filter.with(Option::is_some)
                || position.location.with(Option::is_some);
            let open: Vec<Venue> = match first_page.get()? {
                Ok(page) if !narrowed => page.into_iter().filter(|venue| venue.active).collect(),
                _ => return None,
            };
            let total = open.len();
            return (total > 0).then_some(Ok((open, total, 0)));
        }
        let query = search.get();
        let kind = kind_filter.get();
        let here = position.location.get();
        // Borrowed, not cloned: only the venues that match are copied.
        venues.with(|listed| {
            Some(match listed.as_ref()? {
                Ok(listed) => {
                    let total = listed.items.len();
                    let mut matching: Vec<Venue> = listed
                        .items
                        .iter()
                        // A closed venue (停业) is no longer inspected; it stays in the register.
                        .filter(|venue| {
                            venue.active
                                && venue.matches(&query)
                                && kind.is_none_or(|kind| venue.kind == kind)
                        })
                        .cloned()
                        .collect();
                    if let Some(here) = here {
                        // Venues without a position keep their name order after the located ones.
                        matching.sort_by(|a, b| {
                            let distance = |venue: &Venue| {
                                venue
                                    .location
                                    .map_or(f64::INFINITY, |at| here.distance_m(&at))
                            };
                            distance(a).total_cmp(&distance(b))
                        });
                    }
                    Ok((matching, total, listed.corrupt.len()))
                }
                Err(error) => Err(error.to_string()),
            })
        })
    });
    // What the list says above its rows (loading, an error, nothing found, unreadable venues), and
    // the rows drawn: each a memo, so that the register arriving behind an identical first
    // screenful, or a sync that changes nothing shown, redraws nothing (a tap on a row is never lost
    // to a redraw). The screenful and the rest of the page are memos of their own: the register
    // arriving appends the rest below the screenful, which stays as drawn.
    let status = Memo::new(move |_| {
        shown.with(|shown| {
            shown.as_ref().map(|shown| match shown {
                Ok((matching, total, n_corrupt)) => Ok((matching.is_empty(), *total, *n_corrupt)),
                Err(message) => Err(message.clone()),
            })
        })
    });
    let rows_between = move |from: usize, to: Option<usize>| {
        Memo::new(move |_| {
            let limit = to.map_or_else(|| drawn.get(), |to| to.min(drawn.get()));
            let here = position.location.get();
            shown.with(|shown| match shown {
                Some(Ok((matching, _, _))) => Some(
                    matching
                        .iter()
                        .take(limit)
                        .skip(from)
                        .map(|venue| {
                            let metres = here
                                .zip(venue.location)
                                .map(|(here, at)| here.distance_m(&at));
                            (venue.clone(), metres)
                        })
                        .collect::<Vec<_>>(),
                ),
                _ => None,
            })
        })
    };
    let screenful = rows_between(0, Some(FIRST_ROWS));
    let below = rows_between(FIRST_ROWS, None);
    let any_rows = Memo::new(move |_| {
        screenful.with(|rows| rows.as_ref().is_some_and(|rows| !rows.is_empty()))
    });
    let left = Signal::derive(move || {
        shown.with(|shown| match shown {
            Some(Ok((matching, _, _))) => matching.len().saturating_sub(drawn.get()),
            _ => 0,
        })
    });
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
    // The page's copy of this list (index.html, src/boot_snapshot.rs) goes once the list's own state
    // and the banner of unsaved forms above it are drawn (nothing moves under a finger after the
    // swap), and a link tapped on the copy meanwhile is followed now.
    let navigate = use_navigate();
    Effect::new(move |taken: Option<bool>| {
        if taken == Some(true) || status.with(Option::is_none) || unsaved.with(Option::is_none) {
            return taken.unwrap_or(false);
        }
        if let Some(tapped) = crate::boot_snapshot::take() {
            navigate.to(&tapped);
        }
        true
    });
    // A copy of the list as drawn, for the next open to show at once: the first page as the app
    // draws it at an open (by name, before the phone knows where it is), never a search or a filter,
    // with the unsaved-forms banner as it stands (kept again when it changes).
    Effect::new(move |_| {
        if screenful.with(Option::is_none) || unsaved.with(Option::is_none) {
            return;
        }
        leptos::task::spawn_local(async move {
            after_paint().await;
            let plain = search.try_with_untracked(String::is_empty) == Some(true)
                && kind_filter.try_with_untracked(Option::is_none) == Some(true)
                && position.location.try_with_untracked(Option::is_none) == Some(true)
                && drawn.try_get_untracked() == Some(LIST_PAGE);
            let here = window().location().pathname().is_ok_and(|path| path == "/");
            let user = sync.session_untracked().map(|session| session.user.id);
            if let (true, true, Some(user)) = (plain, here, user) {
                crate::boot_snapshot::keep(user.as_str());
            }
        });
    });
    view! {
        <section class="page">
            {unsaved_banner}
            <div class="search">
                <div class="search-row">
                    <select
                        aria-label=move || i18n.t().filter_kind
                        data-testid="kind-filter"
                        on:change=move |ev| {
                            kind_filter.set(VenueKind::from_code(&event_target_value(&ev)));
                            drawn.set(LIST_PAGE);
                        }
                    >
                        <option value="">{move || i18n.t().all_kinds}</option>
                        {VenueKind::ALL
                            .into_iter()
                            .map(|kind| {
                                view! {
                                    <option value=kind.code()>
                                        {move || i18n.lang().venue_kind(kind)}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                    <a class="button button-secondary button-small" href="/venues/new" data-testid="register-venue">
                        {move || i18n.t().register_venue}
                    </a>
                </div>
                <input
                    type="search"
                    name="q"
                    inputmode="search"
                    enterkeyhint="search"
                    autocomplete="off"
                    placeholder=move || i18n.t().search_venue
                    aria-label=move || i18n.t().search_venue
                    prop:value=move || search.get()
                    on:input=move |ev| {
                        search.set(event_target_value(&ev));
                        drawn.set(LIST_PAGE);
                    }
                />
            </div>
            {move || match status.get() {
                None => view! { <p class="empty" role="status">{i18n.t().loading}</p> }.into_any(),
                Some(Err(message)) => {
                    view! {
                        <p class="banner banner-error" role="alert">
                            {i18n.t().err_store} ": " {message}
                        </p>
                    }
                        .into_any()
                }
                Some(Ok((none_match, total, n_corrupt))) => {
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
                        } else if none_match {
                            Some(view! { <p class="empty">{t.no_match}</p> })
                        } else {
                            None
                        }}
                    }
                        .into_any()
                }
            }}
            {move || {
                let drawn_rows = move |rows: Memo<Option<Vec<Row>>>| {
                    move || {
                        let lang = i18n.lang();
                        rows.get()
                            .unwrap_or_default()
                            .into_iter()
                            .map(|(venue, metres)| venue_row(venue, metres, lang))
                            .collect_view()
                    }
                };
                any_rows
                    .get()
                    .then(|| {
                        view! {
                            <ul class="group list">{drawn_rows(screenful)}{drawn_rows(below)}</ul>
                        }
                    })
            }}
            <MoreButton left shown=drawn testid="venues-more" />
        </section>
    }
}

/// One venue of the list: name, kind, address, licence number, and how far it is (`metres`) when
/// the phone knows both positions; a tap starts its inspection.
fn venue_row(venue: Venue, metres: Option<f64>, lang: Lang) -> impl IntoView {
    let t = lang.t();
    let distance = metres.map(|metres| distance_text(metres, lang));
    let licence =
        (!venue.licence_no.is_empty()).then(|| format!("{} {}", t.licence_no, venue.licence_no));
    let field_registered = venue.field_registered;
    view! {
        <li>
            <a class="cell cell-link venue-row" data-testid="venue-row" href=format!("/inspect/{}", venue.id)>
                <span class="cell-main">
                    <span class="cell-title">{venue.name}</span>
                    <span class="cell-sub">
                        <span class="tag">{lang.venue_kind(venue.kind)}</span>
                        {field_registered.then(|| view! { <span class="tag tag-warn">{t.field_registered}</span> })}
                        " "
                        {venue.address}
                    </span>
                    {licence.map(|licence| view! { <span class="cell-sub" data-testid="venue-licence">{licence}</span> })}
                </span>
                {distance.map(|distance| view! { <span class="cell-extra" data-testid="venue-distance">{distance}</span> })}
                <Icon name=IconName::Chevron />
            </a>
        </li>
    }
}

/// A distance as people say it: metres up to a kilometre, then kilometres.
fn distance_text(metres: f64, lang: Lang) -> String {
    match (metres < 1000.0, lang) {
        (true, Lang::Zh) => format!("{metres:.0} 米"),
        (true, Lang::En) => format!("{metres:.0} m"),
        (false, Lang::Zh) => format!("{:.1} 公里", metres / 1000.0),
        (false, Lang::En) => format!("{:.1} km", metres / 1000.0),
    }
}
