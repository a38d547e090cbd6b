//! /campaigns (专项行动): the unit's campaigns, active ones first; supervisors start one (name, venue
//! kinds, dates) and close it (it ends today). Officers pick the active ones for a special inspection.

use fieldcheck_core::{Campaign, CampaignId, OpId, VenueKind};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::i18n::{Lang, now_china, use_i18n};
use crate::pages::record_actions::online_error;
use crate::store::{LocalCampaign, StoreError, use_store};
use crate::sync::use_sync;

/// The campaigns screen.
#[component]
pub fn CampaignsPage() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let store = use_store();
    let message = RwSignal::new(None::<Result<String, String>>);
    let data = LocalResource::new(move || {
        let _ = sync.data_version();
        let store = store.clone();
        async move {
            let mut campaigns = store.campaigns_at_rev().await?.items;
            campaigns.sort_by_key(|campaign| std::cmp::Reverse(campaign.record.starts_on));
            Ok::<_, StoreError>(campaigns)
        }
    });
    let manages = move || {
        sync.session()
            .is_some_and(|session| session.user.role.reviews())
    };
    let today = now_china().date_naive();
    // Ending a campaign cannot be undone here: the first tap on 结束 only asks for a second.
    let armed = RwSignal::new(None::<CampaignId>);
    let close = move |campaign: LocalCampaign| {
        if armed.get_untracked().as_ref() != Some(&campaign.record.id) {
            armed.set(Some(campaign.record.id.clone()));
            return;
        }
        armed.set(None);
        let lang = i18n.lang();
        let mut record = campaign.record;
        record.ends_on = today.max(record.starts_on);
        spawn_local(async move {
            let op_id = OpId(uuid::Uuid::now_v7().to_string());
            let result = sync.save_campaign(&record, campaign.rev, op_id).await;
            message.set(Some(
                result
                    .map(|()| {
                        lang.pick("专项行动已结束。", "The campaign is closed.")
                            .to_owned()
                    })
                    .map_err(|error| online_error(lang, &error)),
            ));
        });
    };
    view! {
        <section class="page">
            {move || message.get().map(|message| match message {
                Ok(text) => view! { <p class="banner banner-ok" role="status">{text}</p> }.into_any(),
                Err(text) => view! { <p class="banner banner-error" role="alert">{text}</p> }.into_any(),
            })}
            <Show when=manages>
                <NewCampaign message />
            </Show>
            {move || match data.get() {
                None => view! { <p class="empty" role="status">{i18n.t().loading}</p> }.into_any(),
                Some(Err(error)) => view! {
                    <p class="banner banner-error" role="alert">{i18n.t().err_store} ": " {error.to_string()}</p>
                }.into_any(),
                Some(Ok(campaigns)) => {
                    let lang = i18n.lang();
                    view! {
                        {campaigns.is_empty().then(|| view! {
                            <p class="empty">{lang.pick("还没有专项行动。", "No campaigns yet.")}</p>
                        })}
                        <ul class="group list">
                            {campaigns.into_iter().map(|campaign| {
                                let record = campaign.record.clone();
                                let active = record.starts_on <= today && today <= record.ends_on;
                                let kinds = record.venue_kinds.iter().map(|kind| lang.venue_kind(*kind)).collect::<Vec<_>>().join(lang.pick("、", ", "));
                                view! {
                                    <li class="cell" data-testid="campaign" data-active=active.to_string()>
                                        <span class="cell-main">
                                            <span class="cell-title">{record.name.clone()}</span>
                                            <span class="cell-sub">{lang.date(&record.starts_on)} " – " {lang.date(&record.ends_on)}</span>
                                            <span class="cell-sub">{kinds}</span>
                                        </span>
                                        <span class="hazard-side">
                                            <span class=if active { "chip chip-ok" } else { "chip" }>
                                                {if active { lang.pick("进行中", "Active") } else { lang.pick("已结束", "Closed") }}
                                            </span>
                                            {(active && manages()).then(|| {
                                                let id = record.id.clone();
                                                view! {
                                                    <button type="button" class="button button-secondary button-small" data-testid="close-campaign"
                                                        on:click=move |_| close(campaign.clone())>
                                                        {move || if armed.with(|armed| armed.as_ref() == Some(&id)) {
                                                            lang.pick("再点一次结束", "Tap again to end it")
                                                        } else {
                                                            lang.pick("结束", "End campaign")
                                                        }}
                                                    </button>
                                                }
                                            })}
                                        </span>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }
            }}
        </section>
    }
}

#[component]
fn NewCampaign(message: RwSignal<Option<Result<String, String>>>) -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let today = now_china().date_naive();
    let open = RwSignal::new(false);
    let name = RwSignal::new(String::new());
    let kinds = RwSignal::new(Vec::<VenueKind>::new());
    let starts = RwSignal::new(today.to_string());
    let ends = RwSignal::new((today + chrono::Days::new(30)).to_string());
    // The new campaign's id and the push's op id are fixed while the form is open: a second tap or a
    // retry after a lost answer sends the same mutation again (`duplicate`), never a second campaign.
    let fresh = || {
        (
            CampaignId(uuid::Uuid::now_v7().to_string()),
            OpId(uuid::Uuid::now_v7().to_string()),
        )
    };
    let ids = StoredValue::new(fresh());
    let sending = RwSignal::new(false);
    // What stops the form, said beside its buttons (the page's banner is a screen above them).
    let problem = RwSignal::new(None::<String>);
    let save = move |_| {
        if sending.get_untracked() {
            return;
        }
        let lang = i18n.lang();
        let Some(session) = sync.session_untracked() else {
            return;
        };
        let (Ok(starts_on), Ok(ends_on)) =
            (starts.get_untracked().parse(), ends.get_untracked().parse())
        else {
            problem.set(Some(
                lang.pick("请填写开始和结束日期。", "Give the start and end dates.")
                    .to_owned(),
            ));
            return;
        };
        let (id, op_id) = ids.get_value();
        let campaign = Campaign {
            id,
            name: name.get_untracked().trim().to_owned(),
            venue_kinds: kinds.get_untracked(),
            starts_on,
            ends_on,
            unit_id: session.user.unit_id.clone(),
        };
        if let Err(problems) = campaign.validate() {
            let said: Vec<String> = problems
                .0
                .iter()
                .map(|problem| match lang {
                    Lang::Zh => format!("{}。", problem.zh),
                    Lang::En => format!("{}.", problem.en_sentence()),
                })
                .collect();
            problem.set(Some(said.join(lang.pick("", " "))));
            return;
        }
        problem.set(None);
        sending.set(true);
        spawn_local(async move {
            let result = sync.save_campaign(&campaign, 0, op_id).await;
            sending.set(false);
            match result {
                Ok(()) => {
                    ids.set_value(fresh());
                    message.set(Some(Ok(lang
                        .pick("专项行动已创建。", "Campaign started.")
                        .to_owned())));
                    name.set(String::new());
                    kinds.set(Vec::new());
                    open.set(false);
                }
                Err(error) => problem.set(Some(online_error(lang, &error))),
            }
        });
    };
    view! {
        <Show when=move || open.get() fallback=move || view! {
            <button type="button" class="button button-primary button-block" data-testid="new-campaign"
                on:click=move |_| open.set(true)>
                {move || i18n.lang().pick("新建专项行动", "Start a campaign")}
            </button>
        }>
            <div class="group form" data-testid="campaign-form">
                <label class="field">
                    <span class="field-label">{move || i18n.lang().pick("名称", "Name")}</span>
                    <input class="input" data-testid="campaign-name" prop:value=move || name.get()
                        on:input=move |event| name.set(event_target_value(&event)) />
                </label>
                <fieldset class="field">
                    <legend class="field-label">{move || i18n.lang().pick("场所类型", "Venue kinds")}</legend>
                    <div class="checks">
                        {VenueKind::ALL.into_iter().map(|kind| view! {
                            <label class="check">
                                <input type="checkbox" data-kind=kind.code()
                                    prop:checked=move || kinds.with(|kinds| kinds.contains(&kind))
                                    on:change=move |_| kinds.update(|kinds| {
                                        if let Some(idx) = kinds.iter().position(|k| *k == kind) {
                                            kinds.remove(idx);
                                        } else {
                                            kinds.push(kind);
                                        }
                                    }) />
                                {move || i18n.lang().venue_kind(kind)}
                            </label>
                        }).collect_view()}
                    </div>
                </fieldset>
                <div class="period">
                    <label class="field">
                        <span class="field-label">{move || i18n.lang().pick("开始", "Starts")}</span>
                        <input class="input" type="date" prop:value=move || starts.get()
                            on:change=move |event| starts.set(event_target_value(&event)) />
                    </label>
                    <label class="field">
                        <span class="field-label">{move || i18n.lang().pick("结束", "Ends")}</span>
                        <input class="input" type="date" prop:value=move || ends.get()
                            on:change=move |event| ends.set(event_target_value(&event)) />
                    </label>
                </div>
                {move || problem.get().map(|problem| view! {
                    <p class="banner banner-error" role="alert" data-testid="campaign-problem">{problem}</p>
                })}
                <div class="actions">
                    <button type="button" class="button button-secondary" on:click=move |_| open.set(false)>
                        {move || i18n.t().cancel}
                    </button>
                    <button type="button" class="button button-primary" data-testid="save-campaign"
                        disabled=move || sending.get() on:click=save>
                        {move || i18n.lang().pick("创建", "Create")}
                    </button>
                </div>
            </div>
        </Show>
    }
}
