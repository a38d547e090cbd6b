//! One checklist item: its wording and basis, the 合格 · 不合格 · 不适用 control, and the hazard fields on 不合格.

use fieldcheck_core::{HazardId, InspectionId, ItemResult, Problem, Rectify, TemplateItem};
use leptos::prelude::*;

use crate::components::PhotoStrip;
use crate::i18n::{Lang, use_i18n};

/// The editable state of one item's answer and hazard.
#[derive(Debug, Clone, Copy)]
pub struct ItemState {
    pub code: &'static str,
    pub result: RwSignal<Option<ItemResult>>,
    pub note: RwSignal<String>,
    pub hazard: RwSignal<String>,
    /// Not chosen until the officer chooses: nothing is preselected.
    pub rectify: RwSignal<Option<Rectify>>,
    /// `YYYY-MM-DD` from the date input, empty if not set.
    pub deadline: RwSignal<String>,
    /// The hazard's id when editing a record that already has one (kept stable across edits).
    pub hazard_id: RwSignal<Option<HazardId>>,
    /// Photos of the item (any answer).
    pub photos: RwSignal<Vec<String>>,
    /// Photos of the hazard (a failed item).
    pub hazard_photos: RwSignal<Vec<String>>,
}

impl ItemState {
    /// An unanswered item.
    pub fn new(code: &'static str) -> ItemState {
        ItemState {
            code,
            result: RwSignal::new(None),
            note: RwSignal::new(String::new()),
            hazard: RwSignal::new(String::new()),
            rectify: RwSignal::new(None),
            deadline: RwSignal::new(String::new()),
            hazard_id: RwSignal::new(None),
            photos: RwSignal::new(Vec::new()),
            hazard_photos: RwSignal::new(Vec::new()),
        }
    }
}

/// A checklist row (`data-item` = the item code). `problems` carry the field they belong to as
/// `description`, `deadline` or `item`.
#[component]
pub fn ChecklistItem(
    item: TemplateItem,
    state: ItemState,
    /// Problems for this item, keyed by the field suffix.
    #[prop(into)]
    problems: Signal<Vec<(String, Problem)>>,
    /// Whether the record can no longer be edited.
    #[prop(into)]
    locked: Signal<bool>,
    /// The record the photos belong to.
    record_id: InspectionId,
    /// The watermark of photos taken now.
    #[prop(into)]
    stamp: Signal<Vec<String>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let code = item.code;
    let messages_for = move |field: &'static str| {
        move || {
            let lang = i18n.lang();
            problems
                .get()
                .into_iter()
                .filter(|(suffix, _)| suffix == field)
                .map(|(_, problem)| {
                    view! {
                        <p class="field-error" role="alert">
                            {match lang {
                                Lang::Zh => problem.zh.clone(),
                                Lang::En => problem.en_sentence(),
                            }}
                        </p>
                    }
                })
                .collect_view()
        }
    };
    let choice = move |result: ItemResult, class: &'static str| {
        view! {
            <button
                type="button"
                class=format!("seg-btn {class}")
                aria-pressed=move || (state.result.get() == Some(result)).to_string()
                disabled=move || locked.get()
                on:click=move |_| state.result.set(Some(result))
            >
                {move || i18n.lang().result(result)}
            </button>
        }
    };
    let rectify_choice = move |rectify: Rectify| {
        view! {
            <button
                type="button"
                class="seg-btn seg-plain"
                aria-pressed=move || (state.rectify.get() == Some(rectify)).to_string()
                disabled=move || locked.get()
                on:click=move |_| state.rectify.set(Some(rectify))
            >
                {move || {
                    let t = i18n.t();
                    match rectify {
                        Rectify::OnSite => t.rectify_on_site,
                        Rectify::Deadline => t.rectify_deadline,
                    }
                }}
            </button>
        }
    };
    let field_id = move |field: &str| format!("{code}-{field}");
    let item_record = record_id.clone();
    let hazard_record = record_id;
    view! {
        <div
            class="cell check-item"
            class:check-unanswered=move || state.result.get().is_none()
            data-item=code
            id=format!("item-{code}")
        >
            <div class="check-text">
                <p class="check-wording">{move || i18n.lang().pick(item.zh, item.en)}</p>
                <p class="check-basis">
                    {move || i18n.t().basis}
                    {move || i18n.lang().pick(item.basis_zh, item.basis)}
                </p>
            </div>
            <div class="seg" role="group" aria-label=move || i18n.lang().pick(item.zh, item.en)>
                {choice(ItemResult::Pass, "seg-pass")}
                {choice(ItemResult::Fail, "seg-fail")}
                {choice(ItemResult::Na, "seg-na")}
            </div>
            {messages_for("item")}
            <Show when=move || {
                state.result.get().is_some_and(|result| result != ItemResult::Fail)
                    || !state.photos.get().is_empty()
            }>
                <details class="item-photos" open=move || !state.photos.get_untracked().is_empty()>
                    <summary>
                        {move || i18n.t().photos}
                        {move || {
                            let n = state.photos.get().len();
                            (n > 0).then(|| format!(" ({n})"))
                        }}
                    </summary>
                    <PhotoStrip
                        names=state.photos
                        record_id=item_record.clone()
                        stamp=stamp
                        locked=locked
                        testid=format!("item-photos-{code}")
                    />
                </details>
            </Show>
            <Show when=move || state.result.get() == Some(ItemResult::Fail)>
                <div class="hazard-fields">
                    <label class="field" for=field_id("hazard")>
                        <span class="field-label">{move || i18n.t().hazard_description}</span>
                        <textarea
                            id=field_id("hazard")
                            rows="2"
                            prop:value=move || state.hazard.get()
                            disabled=move || locked.get()
                            on:input=move |ev| state.hazard.set(event_target_value(&ev))
                        ></textarea>
                    </label>
                    {messages_for("description")}
                    <label class="field" for=field_id("note")>
                        <span class="field-label">{move || i18n.t().item_note}</span>
                        <textarea
                            id=field_id("note")
                            rows="2"
                            prop:value=move || state.note.get()
                            disabled=move || locked.get()
                            on:input=move |ev| state.note.set(event_target_value(&ev))
                        ></textarea>
                    </label>
                    <div class="field">
                        <span class="field-label" id=field_id("rectify")>
                            {move || i18n.t().rectify}
                        </span>
                        <div class="seg" role="group" aria-labelledby=field_id("rectify")>
                            {rectify_choice(Rectify::OnSite)}
                            {rectify_choice(Rectify::Deadline)}
                        </div>
                        {messages_for("rectify")}
                    </div>
                    <div class="field">
                        <span class="field-label">{move || i18n.t().photos}</span>
                        <PhotoStrip
                            names=state.hazard_photos
                            record_id=hazard_record.clone()
                            stamp=stamp
                            locked=locked
                            testid=format!("hazard-photos-{code}")
                        />
                    </div>
                    <Show when=move || state.rectify.get() == Some(Rectify::Deadline)>
                        <label class="field" for=field_id("deadline")>
                            <span class="field-label">{move || i18n.t().deadline}</span>
                            <input
                                id=field_id("deadline")
                                type="date"
                                min=move || crate::i18n::now_china().date_naive().to_string()
                                prop:value=move || state.deadline.get()
                                disabled=move || locked.get()
                                on:input=move |ev| state.deadline.set(event_target_value(&ev))
                            />
                        </label>
                        {messages_for("deadline")}
                    </Show>
                </div>
            </Show>
        </div>
    }
}
