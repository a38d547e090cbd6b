//! What a record's page offers beyond reading it: the supervisor's review (approve, or return with a
//! comment), amendments to an approved record, and the people on it with their signatures.

use fieldcheck_core::sync::Officer;
use fieldcheck_core::{Inspection, InspectionId, ReviewDecision, Status};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::components::Thumb;
use crate::i18n::{now_china, use_i18n};
use crate::store::use_store;
use crate::sync::{SyncError, use_sync};

/// Why a server call from a screen did not work, in the officer's words.
pub fn online_error(lang: crate::i18n::Lang, error: &SyncError) -> String {
    match error {
        SyncError::Offline(_) => lang
            .pick(
                "需要网络连接：请连上网络后再试。",
                "This needs a connection: try again once online.",
            )
            .to_owned(),
        SyncError::Unauthorized | SyncError::NoSession => lang
            .pick(
                "登录已过期，请重新登录。",
                "The login has expired: log in again.",
            )
            .to_owned(),
        SyncError::Server { status: 500.., .. } => lang
            .pick(
                "服务器出错，未能完成。请稍后再试。",
                "The server failed and did not finish: try again later.",
            )
            .to_owned(),
        SyncError::Server { code, .. } if code == "stale" => lang
            .pick(
                "这条记录刚被他人更新，请查看最新内容后再审核。",
                "Someone changed this record just now: read the latest copy, then review it.",
            )
            .to_owned(),
        SyncError::Server { code, .. } if code == "own_record" => lang
            .pick(
                "不能审核本人参与的检查记录。",
                "You are named on this record, so you cannot review it.",
            )
            .to_owned(),
        SyncError::Server { status: 403, .. } => lang
            .pick("您没有权限做此操作。", "You are not allowed to do this.")
            .to_owned(),
        SyncError::Server { code, .. } if code == "username_taken" => lang
            .pick(
                "这个登录名已有人使用，请换一个。",
                "This username is taken: choose another.",
            )
            .to_owned(),
        // The server's own words name what is wrong; the officer is told it was the server.
        SyncError::Server { message, .. } if !message.is_empty() => {
            format!(
                "{}{message}",
                lang.pick("服务器未接受：", "The server refused: ")
            )
        }
        // The phone's own storage: said as such (a full phone is the officer's to fix).
        SyncError::Store(store_error) => lang.store_failure(store_error).to_owned(),
        // An answer the app does not understand, or a code missing after a deploy: the officer is
        // told it did not finish; the details go to the console for whoever helps them.
        other => {
            leptos::logging::warn!("not done: {other}");
            lang.pick(
                "未能完成，请稍后再试；如一直如此，请重新载入应用。",
                "It did not finish: try again later, or reload the app if it keeps happening.",
            )
            .to_owned()
        }
    }
}

/// Approve or return a submitted record; `rev` is the server copy the supervisor is reading. The
/// decision, once the server has it, goes to `reviewed` (the record's page says so: this panel
/// goes away with the record's new status).
#[component]
pub fn ReviewPanel(
    id: InspectionId,
    rev: u64,
    reviewed: RwSignal<Option<(InspectionId, Status)>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let comment = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let id = StoredValue::new(id);
    // Decided: the buttons rest until the pull redraws the record without this panel.
    let decided = move || {
        reviewed.with(|reviewed| {
            reviewed
                .as_ref()
                .is_some_and(|(done, _)| id.with_value(|id| done == id))
        })
    };
    let decide = move |decision: ReviewDecision| {
        let lang = i18n.lang();
        let text = comment.get_untracked().trim().to_owned();
        if decision == ReviewDecision::Return && text.is_empty() {
            error.set(Some(
                lang.pick(
                    "退回时请写明需要修改的地方。",
                    "Say what needs fixing when returning a record.",
                )
                .to_owned(),
            ));
            return;
        }
        let id = id.get_value();
        busy.set(true);
        spawn_local(async move {
            let result = sync
                .review(
                    id.as_str(),
                    rev,
                    decision,
                    (!text.is_empty()).then_some(text),
                )
                .await;
            busy.set(false);
            match result {
                Ok(record) => {
                    error.set(None);
                    reviewed.set(Some((id, record.status)));
                }
                Err(failure) => error.set(Some(online_error(lang, &failure))),
            }
        });
    };
    view! {
        <div class="group review-panel" data-testid="review-panel">
            <h2 class="section-title">{move || i18n.lang().pick("审核", "Review")}</h2>
            <label class="field">
                <span class="field-label">{move || i18n.t().review_comment}</span>
                <textarea
                    class="input"
                    rows="3"
                    data-testid="review-comment-input"
                    prop:value=move || comment.get()
                    on:input=move |event| comment.set(event_target_value(&event))
                    placeholder=move || i18n.lang().pick("退回时必填：写明需要修改的地方", "Required when returning: what needs fixing")
                ></textarea>
            </label>
            {move || error.get().map(|message| view! {
                <p class="banner banner-error" role="alert">{message}</p>
            })}
            <div class="actions">
                <button type="button" class="button button-secondary" data-testid="review-return"
                    disabled=move || busy.get() || decided()
                    on:click=move |_| decide(ReviewDecision::Return)>
                    {move || i18n.lang().pick("退回修改", "Return")}
                </button>
                <button type="button" class="button button-primary" data-testid="review-approve"
                    disabled=move || busy.get() || decided()
                    on:click=move |_| decide(ReviewDecision::Approve)>
                    {move || i18n.lang().pick("审核通过", "Approve")}
                </button>
            </div>
        </div>
    }
}

/// Adds later facts to an approved record as an amendment (补充记录): a new record that refers to
/// it, saved on the phone and synced like any other.
#[component]
pub fn AmendmentForm(record: Inspection) -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let store = use_store();
    let open = RwSignal::new(false);
    let notes = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let save = move |_| {
        let lang = i18n.lang();
        let Some(session) = sync.session_untracked() else {
            return;
        };
        if saving.get_untracked() {
            return;
        }
        let now = now_china();
        let amendment = record.amendment(
            InspectionId(uuid::Uuid::now_v7().to_string()),
            now,
            session.user.id.clone(),
            notes.get_untracked().trim().to_owned(),
        );
        if let Err(problems) = amendment.validate() {
            error.set(Some(
                problems
                    .0
                    .iter()
                    .map(|problem| lang.pick(&problem.zh, &problem.en).to_owned())
                    .collect::<Vec<_>>()
                    .join("；"),
            ));
            return;
        }
        let store = store.clone();
        saving.set(true);
        spawn_local(async move {
            let saved = store.save_inspection(&amendment).await;
            saving.set(false);
            match saved {
                Ok(_) => {
                    error.set(None);
                    notes.set(String::new());
                    open.set(false);
                    sync.saved_locally();
                }
                Err(store_error) => error.set(Some(store_error.to_string())),
            }
        });
    };
    view! {
        <Show
            when=move || open.get()
            fallback=move || view! {
                // In a row of its own, in line with the record's other buttons.
                <div class="actions">
                    <button type="button" class="button button-secondary" data-testid="amend"
                        on:click=move |_| open.set(true)>
                        {move || i18n.lang().pick("补充说明", "Add an amendment")}
                    </button>
                </div>
            }
        >
            <div class="group form" data-testid="amend-form">
                <p class="small">{move || i18n.lang().pick(
                    "已审核通过的记录不能修改；后来的情况作为补充记录附在原记录上。",
                    "An approved record cannot change; later facts are attached to it as an amendment.",
                )}</p>
                <label class="field">
                    <span class="field-label">{move || i18n.lang().pick("补充内容", "What is added")}</span>
                    <textarea class="input" rows="4" data-testid="amend-notes"
                        prop:value=move || notes.get()
                        on:input=move |event| notes.set(event_target_value(&event))></textarea>
                </label>
                {move || error.get().map(|message| view! { <p class="banner banner-error" role="alert">{message}</p> })}
                <div class="actions">
                    <button type="button" class="button button-secondary" on:click=move |_| open.set(false)>
                        {move || i18n.t().cancel}
                    </button>
                    <button type="button" class="button button-primary" data-testid="amend-save"
                        disabled=move || saving.get() on:click=save.clone()>
                        {move || i18n.lang().pick("保存补充记录", "Save amendment")}
                    </button>
                </div>
            </div>
        </Show>
    }
}

/// The amendments made to a record, oldest first.
#[component]
pub fn Amendments(amendments: Vec<Inspection>) -> impl IntoView {
    let i18n = use_i18n();
    (!amendments.is_empty()).then(|| {
        let lang = i18n.lang();
        view! {
            <h2 class="section-title">{lang.pick("补充记录", "Amendments")}</h2>
            <ul class="group list" data-testid="amendments">
                {amendments.into_iter().map(|amendment| view! {
                    <li class="cell">
                        <span class="cell-main">
                            <span class="cell-title">{amendment.notes.clone()}</span>
                            <span class="cell-sub">{lang.datetime(&amendment.started_at)}</span>
                        </span>
                    </li>
                }).collect_view()}
            </ul>
        }
    })
}

/// The people on the record: the officers with their certificate numbers and signatures, the party
/// and theirs (or their refusal).
#[component]
pub fn PeopleOnRecord(record: Inspection, officers: Vec<Officer>) -> impl IntoView {
    let i18n = use_i18n();
    let lang = i18n.lang();
    let officer_rows = record
        .inspectors
        .iter()
        .map(|id| {
            let officer = officers.iter().find(|officer| &officer.user.id == id);
            let name = officer.map_or_else(|| id.to_string(), |officer| officer.user.name.clone());
            let cert = officer
                .and_then(|officer| officer.user.cert_no.clone())
                .unwrap_or_default();
            let signature = record
                .officer_signatures
                .iter()
                .find(|signature| &signature.officer == id)
                .map(|signature| signature.signature.clone());
            view! {
                <li class="cell" data-testid="record-officer">
                    <span class="cell-main">
                        <span class="cell-title">{name}</span>
                        <span class="cell-sub">{cert}</span>
                    </span>
                    {signature.map(|name| view! { <span class="signature-thumb"><Thumb name /></span> })}
                </li>
            }
        })
        .collect_view();
    let party = record.party.clone().map(|party| {
        let signed = party.signature.clone();
        let refused = party.refused.then(|| {
            format!(
                "{}{}",
                lang.pick("拒绝签字：", "Refused to sign: "),
                party.refusal_reason
            )
        });
        view! {
            <li class="cell" data-testid="record-party">
                <span class="cell-main">
                    <span class="cell-title">{party.name.clone()} " " {party.title.clone()}</span>
                    {refused.map(|text| view! { <span class="cell-sub">{text}</span> })}
                </span>
                {signed.map(|name| view! { <span class="signature-thumb"><Thumb name /></span> })}
            </li>
        }
    });
    view! {
        <h2 class="section-title">{lang.pick("执法人员与当事人", "Officers and party")}</h2>
        <ul class="group list">{officer_rows}{party}</ul>
    }
}
