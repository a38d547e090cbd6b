//! /records/:id/print: the 现场检查笔录 and, for deadline hazards, the 责令改正通知书, laid out for A4 and
//! the browser's print to PDF. Works offline: everything comes from the phone's store.
//!
//! The documents themselves are Chinese whatever the app's language (they are legal documents, composed
//! in core `printout`); only the toolbar around them follows the app's language.

use fieldcheck_core::InspectionId;
use fieldcheck_core::printout::{
    AmendmentCopy, Appendix, Finding, Minutes, PrintContext, PrintedOfficer, RectificationOrder,
    SignatureLine, Unsettled,
};
use leptos::prelude::*;

use crate::components::Thumb;
use crate::i18n::use_i18n;
use crate::pages::not_found::NothingHere;
use crate::router::use_params_map;
use crate::store::{StoreError, SyncMark, use_store};
use crate::sync::use_sync;

/// What the phone lacks for a printout.
#[derive(Clone, Copy)]
enum Missing {
    Record,
    Venue,
}

/// The printable record.
#[component]
pub fn PrintPage() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let store = use_store();
    let params = use_params_map();
    let data = LocalResource::new(move || {
        let store = store.clone();
        let id = params.with(|params| params.get("id").unwrap_or_default());
        let session = sync.session_untracked();
        async move {
            let Some(local) = store.inspection(&InspectionId(id)).await? else {
                return Ok::<_, StoreError>(Err(Missing::Record));
            };
            // The record is here but not the venue it names (not synced to this phone yet): the
            // printout cannot name the party, and says what is missing.
            let Some(venue) = store.venue(&local.record.venue_id).await? else {
                return Ok(Err(Missing::Venue));
            };
            let known = store.officers().await?;
            // The unit the record belongs to (the server's stamp; before the server has it, the unit
            // of its venue, which the server files it in), as its officers' accounts name it: an
            // administrator printing another unit's record must not put their own unit's name (and
            // seal) on it, nor a venue's later unit on an older record. Unknown here, the notice
            // says it is incomplete.
            let unit_id = local.record.unit_id.as_ref().unwrap_or(&venue.unit_id);
            let unit = known
                .iter()
                .map(|officer| &officer.user)
                .chain(session.as_ref().map(|session| &session.user))
                .find(|user| &user.unit_id == unit_id)
                .map(|user| user.unit_name.clone())
                .unwrap_or_default();
            let mut officers: Vec<PrintedOfficer> = known
                .into_iter()
                .map(|officer| PrintedOfficer {
                    id: officer.user.id,
                    name: officer.user.name,
                    cert_no: officer.user.cert_no,
                })
                .collect();
            if let Some(me) = session.map(|session| session.user)
                && !officers.iter().any(|officer| officer.id == me.id)
            {
                officers.push(PrintedOfficer {
                    id: me.id,
                    name: me.name,
                    cert_no: me.cert_no,
                });
            }
            // The venue's records: the amendments of this one among them print under it.
            let amendments: Vec<AmendmentCopy> = store
                .inspections_for_venue(&venue.id)
                .await?
                .items
                .into_iter()
                // One the server refused (or that waits on a conflict) is no amendment of record.
                .filter(|other| matches!(other.mark(), SyncMark::Synced | SyncMark::Pending))
                .filter(|other| other.record.amends.as_ref() == Some(&local.record.id))
                .map(|other| AmendmentCopy {
                    unsettled: Unsettled::of(&other.local),
                    record: other.record,
                })
                .collect();
            let context = PrintContext {
                venue: &venue,
                officers: &officers,
                unit: &unit,
                amendments: &amendments,
                unsettled: Unsettled::of(&local.local),
            };
            let minutes = local.record.minutes(&context);
            let order = local.record.rectification_order(&context);
            Ok(Ok((local.record.id, minutes, order)))
        }
    });
    move || {
        match data.get() {
        None => view! { <p class="empty" role="status">{i18n.t().loading}</p> }.into_any(),
        Some(Err(error)) => view! {
            <p class="banner banner-error" role="alert">{i18n.t().err_store} ": " {error.to_string()}</p>
        }
        .into_any(),
        Some(Ok(Err(Missing::Record))) => {
            view! { <NothingHere message=|lang| lang.t().record_missing /> }.into_any()
        }
        Some(Ok(Err(Missing::Venue))) => {
            view! {
                <NothingHere message=|lang| {
                    lang.pick(
                        "本机还没有这条记录所检查场所的信息。请同步后再打印；仍不行请联系管理员。",
                        "This phone does not have the venue of this record. Sync, then print; if that does not help, tell the administrator.",
                    )
                } />
            }
            .into_any()
        }
        Some(Ok(Ok((id, minutes, order)))) => view! {
            <section class="page print-page">
                <div class="print-toolbar no-print">
                    <a class="button button-secondary button-small" href=format!("/records/{id}")>
                        {move || i18n.t().back}
                    </a>
                    <button
                        type="button"
                        class="button button-primary button-small"
                        data-testid="print-now"
                        on:click=|_| {
                            if let Some(window) = web_sys::window() {
                                let _ = window.print();
                            }
                        }
                    >
                        {move || i18n.t().print}
                    </button>
                </div>
                {
                    let not_final = minutes.not_final;
                    view! {
                        <MinutesSheet minutes />
                        {order.map(|order| view! { <OrderSheet order not_final /> })}
                    }
                }
            </section>
        }
        .into_any(),
    }
    }
}

#[component]
fn MinutesSheet(minutes: Minutes) -> impl IntoView {
    let Minutes {
        not_final,
        incomplete,
        unit,
        time_span,
        place,
        venue,
        licence_no,
        kind,
        party,
        officers,
        recorder,
        credentials,
        items,
        findings,
        outcome,
        notes,
        party_signature,
        officer_signatures,
        photos,
        location,
        amendments,
    } = minutes;
    view! {
        <article class="sheet" data-testid="print-minutes" lang="zh-CN">
            {not_final.map(|said| view! { <p class="sheet-not-final" data-testid="print-not-final">{said}</p> })}
            {incomplete.map(|said| view! { <p class="sheet-not-final" data-testid="print-incomplete">{said}</p> })}
            <p class="sheet-unit">{unit}</p>
            <h1 class="sheet-title">"现场检查笔录"</h1>
            <dl class="sheet-fields">
                <dt>"检查时间"</dt><dd>{time_span}</dd>
                <dt>"检查地点"</dt><dd>{place}{location.map(|at| format!("（{at}）"))}</dd>
                <dt>"被检查单位"</dt><dd>{venue}</dd>
                <dt>"许可证号"</dt><dd>{if licence_no.is_empty() { "（无）".to_owned() } else { licence_no }}</dd>
                <dt>"检查类别"</dt><dd>{kind}</dd>
                <dt>"当事人"</dt><dd>{party}</dd>
                <dt>"执法人员"</dt><dd data-testid="print-officers">{officers.join("；")}</dd>
                <dt>"记录人"</dt><dd>{recorder}</dd>
            </dl>
            <p class="sheet-para">{credentials}</p>
            <h2 class="sheet-heading">"检查情况"</h2>
            <table class="sheet-table">
                <thead><tr><th>"序号"</th><th>"检查内容"</th><th>"结果"</th><th>"依据"</th></tr></thead>
                <tbody>
                    {items
                        .into_iter()
                        .map(|line| view! {
                            <tr class:sheet-fail=line.result == "不合格">
                                <td>{line.number}</td>
                                <td>{line.wording}</td>
                                <td>{line.result}</td>
                                <td>{line.basis}</td>
                            </tr>
                        })
                        .collect_view()}
                </tbody>
            </table>
            <h2 class="sheet-heading">"发现的问题及处理"</h2>
            <FindingList findings />
            {outcome.into_iter().map(|line| view! { <p class="sheet-para">{line}</p> }).collect_view()}
            {(!notes.is_empty()).then(|| view! { <p class="sheet-para">"备注：" {notes}</p> })}
            <h2 class="sheet-heading">"签名"</h2>
            <div class="sheet-signatures">
                <SignatureBox line=party_signature />
                {officer_signatures
                    .into_iter()
                    .map(|line| view! { <SignatureBox line /> })
                    .collect_view()}
            </div>
            {(!amendments.is_empty()).then(|| view! {
                <h2 class="sheet-heading">"补充记录"</h2>
                <ol class="sheet-findings" data-testid="print-amendments">
                    {amendments
                        .into_iter()
                        .map(|line| view! { <li>{line.at} "，" {line.officer} "：" {line.notes} {line.unsettled}</li> })
                        .collect_view()}
                </ol>
            })}
            {(!photos.is_empty()).then(|| view! { <PhotoAppendix photos /> })}
        </article>
    }
}

#[component]
fn FindingList(findings: Vec<Finding>) -> impl IntoView {
    // None found: the minutes' outcome says so (core `minutes`).
    if findings.is_empty() {
        return ().into_any();
    }
    view! {
        <ol class="sheet-findings" data-testid="print-findings">
            {findings
                .into_iter()
                .map(|finding| view! {
                    <li>
                        {finding.item.map(|item| format!("【{item}】"))}
                        {finding.description}
                        {finding.basis.map(|basis| format!("（依据：{basis}）"))}
                        "。处理：" {finding.rectify} "。"
                    </li>
                })
                .collect_view()}
        </ol>
    }
    .into_any()
}

#[component]
fn SignatureBox(line: SignatureLine) -> impl IntoView {
    view! {
        <div class="sheet-signature">
            <span class="sheet-signature-label">{line.label}</span>
            {match (line.signature, line.instead) {
                (Some(name), _) => view! { <span class="sheet-signature-image"><Thumb name /></span> }.into_any(),
                (None, instead) => view! { <span class="sheet-signature-instead">{instead.unwrap_or_default()}</span> }.into_any(),
            }}
        </div>
    }
}

#[component]
fn PhotoAppendix(photos: Vec<Appendix>) -> impl IntoView {
    view! {
        <section class="sheet-appendix" data-testid="print-photos">
            <h2 class="sheet-heading">"附件：现场照片"</h2>
            {photos
                .into_iter()
                .map(|photo| view! {
                    <figure class="sheet-photo">
                        <Thumb name=photo.sha256.clone() />
                        <figcaption>
                            {format!("照片{}　{}", photo.number, photo.caption)}
                            <br />
                            <span class="sheet-hash">"SHA-256：" {photo.sha256}</span>
                        </figcaption>
                    </figure>
                })
                .collect_view()}
        </section>
    }
}

#[component]
fn OrderSheet(order: RectificationOrder, not_final: Option<&'static str>) -> impl IntoView {
    let RectificationOrder {
        unit,
        venue,
        found_on,
        findings,
        deadline,
        officers,
        incomplete,
    } = order;
    view! {
        <article class="sheet sheet-order" data-testid="print-order" lang="zh-CN">
            {not_final.map(|said| view! { <p class="sheet-not-final" data-testid="print-order-not-final">{said}</p> })}
            {incomplete.map(|said| view! { <p class="sheet-not-final" data-testid="print-order-incomplete">{said}</p> })}
            <p class="sheet-unit">{unit.clone()}</p>
            <h1 class="sheet-title">"责令改正通知书"</h1>
            <p class="sheet-para">{venue} "："</p>
            <p class="sheet-para">"经" {found_on.clone()} "现场检查，你单位存在下列问题："</p>
            <FindingList findings />
            <p class="sheet-para">
                "现责令你单位于" {fieldcheck_core::printout::date_zh(&deadline)}
                "前改正上述问题。逾期不改正的，将依法予以处理。"
            </p>
            <p class="sheet-para">"执法人员：" {officers.join("、")}</p>
            <p class="sheet-para sheet-right">{unit} "（印章）"</p>
            // Issued on the spot, on the day of the visit.
            <p class="sheet-para sheet-right">{found_on}</p>
            <p class="sheet-para" data-testid="print-order-receipt">
                "当事人签收：＿＿＿＿＿＿　　　年　　月　　日"
            </p>
        </article>
    }
}
