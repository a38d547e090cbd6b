//! /stats (统计): the figures of any period from the server — 家次 and 人次 per venue kind and
//! inspection kind, hazards, warnings, complaints — as a table and simple bar charts, the report
//! paragraph copyable in one tap, and the period's export (XLSX, CSV).

use chrono::{Datelike, NaiveDate};
use fieldcheck_core::stats::Stats;
use fieldcheck_core::{InspectionKind, VenueKind};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::download::{copy_text, download_blob};
use crate::i18n::{Lang, now_china, use_i18n};
use crate::pages::record_actions::online_error;
use crate::sync::{ExportFormat, use_sync};

/// The period presets a report is written for.
fn presets(today: NaiveDate) -> Vec<(&'static str, &'static str, NaiveDate, NaiveDate)> {
    let year = today.year();
    let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or(today);
    let month_start = day(year, today.month(), 1);
    vec![
        ("本月", "This month", month_start, today),
        ("上半年", "First half", day(year, 1, 1), day(year, 6, 30)),
        ("下半年", "Second half", day(year, 7, 1), day(year, 12, 31)),
        ("本年", "This year", day(year, 1, 1), day(year, 12, 31)),
        (
            "去年",
            "Last year",
            day(year - 1, 1, 1),
            day(year - 1, 12, 31),
        ),
    ]
}

/// The statistics screen.
#[component]
pub fn StatsPage() -> impl IntoView {
    let i18n = use_i18n();
    let sync = use_sync();
    let today = now_china().date_naive();
    let (_, _, half_from, half_to) = if today.month() <= 6 {
        presets(today)[1]
    } else {
        presets(today)[2]
    };
    let from = RwSignal::new(half_from.to_string());
    let to = RwSignal::new(half_to.to_string());
    let stats = RwSignal::new(None::<Result<Stats, String>>);
    let loading = RwSignal::new(false);
    let note = RwSignal::new(None::<String>);
    // A period the form can tell is wrong is said so here, not sent for the server to refuse.
    let wrong_period = move || period_problem(i18n.lang(), &from.get(), &to.get());
    // Each load's turn: an answer for a period no longer asked for (a slow signal, dates typed one
    // after the other) is dropped, not shown over the one asked for since.
    let asked = StoredValue::new(0_u64);
    let load = move || {
        let (from, to) = (from.get_untracked(), to.get_untracked());
        let lang = i18n.lang();
        asked.update_value(|turn| *turn += 1);
        let turn = asked.get_value();
        if let Some(problem) = period_problem(lang, &from, &to) {
            loading.set(false);
            stats.set(Some(Err(problem)));
            return;
        }
        loading.set(true);
        spawn_local(async move {
            let result = sync.stats(&from, &to).await;
            if asked.get_value() != turn {
                return;
            }
            loading.set(false);
            stats.set(Some(result.map_err(|error| online_error(lang, &error))));
        });
    };
    load();
    let export = move |format: ExportFormat| {
        let (from, to) = (from.get_untracked(), to.get_untracked());
        let lang = i18n.lang();
        spawn_local(async move {
            let result = match sync.export(&from, &to, format).await {
                Ok((blob, name)) => download_blob(&name, &blob),
                Err(error) => Err(online_error(lang, &error)),
            };
            note.set(result.err());
        });
    };
    view! {
        <section class="page stats-page">
            <div class="chips period-presets">
                {presets(today).into_iter().map(|(zh, en, preset_from, preset_to)| view! {
                    <button type="button" class="chip chip-button"
                        aria-pressed=move || {
                            (from.get() == preset_from.to_string() && to.get() == preset_to.to_string())
                                .to_string()
                        }
                        on:click=move |_| {
                            from.set(preset_from.to_string());
                            to.set(preset_to.to_string());
                            load();
                        }>
                        {move || i18n.lang().pick(zh, en)}
                    </button>
                }).collect_view()}
            </div>
            <div class="period">
                <label class="field">
                    <span class="field-label">{move || i18n.lang().pick("起", "From")}</span>
                    <input class="input" type="date" data-testid="stats-from" prop:value=move || from.get()
                        on:change=move |event| { from.set(event_target_value(&event)); load(); } />
                </label>
                <label class="field">
                    <span class="field-label">{move || i18n.lang().pick("止", "To")}</span>
                    <input class="input" type="date" data-testid="stats-to" prop:value=move || to.get()
                        on:change=move |event| { to.set(event_target_value(&event)); load(); } />
                </label>
            </div>
            {move || loading.get().then(|| view! { <p class="empty" role="status">{i18n.t().loading}</p> })}
            {move || match stats.get() {
                None => ().into_any(),
                Some(Err(message)) => view! { <p class="banner banner-error" role="alert">{message}</p> }.into_any(),
                Some(Ok(stats)) => view! { <StatsView stats note /> }.into_any(),
            }}
            <h2 class="section-title">{move || i18n.lang().pick("导出", "Export")}</h2>
            <div class="actions actions-wrap">
                <button type="button" class="button button-primary" data-testid="export-xlsx"
                    disabled=move || wrong_period().is_some()
                    on:click=move |_| export(ExportFormat::Xlsx)>
                    {move || i18n.lang().pick("导出 Excel", "Export Excel")}
                </button>
                <button type="button" class="button button-secondary" data-testid="export-csv"
                    disabled=move || wrong_period().is_some()
                    on:click=move |_| export(ExportFormat::Csv("inspections"))>
                    {move || i18n.lang().pick("检查记录 CSV", "Records CSV")}
                </button>
                <button type="button" class="button button-secondary"
                    disabled=move || wrong_period().is_some()
                    on:click=move |_| export(ExportFormat::Csv("hazards"))>
                    {move || i18n.lang().pick("隐患 CSV", "Hazards CSV")}
                </button>
            </div>
            {move || note.get().map(|message| view! { <p class="banner banner-error" role="alert">{message}</p> })}
        </section>
    }
}

/// What is wrong with a period the form can see for itself: a date left empty, or an end before
/// the start (the dates are `YYYY-MM-DD`, which order as text).
fn period_problem(lang: Lang, from: &str, to: &str) -> Option<String> {
    let problem = if from.is_empty() || to.is_empty() {
        lang.pick("请选择起止日期。", "Choose both dates.")
    } else if to < from {
        lang.pick(
            "结束日期早于开始日期，请重新选择。",
            "The end date is before the start date: choose again.",
        )
    } else {
        return None;
    };
    Some(problem.to_owned())
}

#[component]
fn StatsView(stats: Stats, note: RwSignal<Option<String>>) -> impl IntoView {
    let i18n = use_i18n();
    let lang = i18n.lang();
    let copied = RwSignal::new(false);
    let summary = stats.summary_zh.clone();
    let copy = move |_| {
        let summary = summary.clone();
        spawn_local(async move {
            match copy_text(&summary).await {
                Ok(()) => copied.set(true),
                Err(error) => note.set(Some(format!(
                    "{}{error}",
                    lang.pick(
                        "复制失败，请长按文字手动复制：",
                        "Could not copy; select the text instead: "
                    )
                ))),
            }
        });
    };
    let figures = [
        (lang.pick("检查家次", "Visits"), stats.visits),
        (
            lang.pick("出动人次", "Officers sent"),
            stats.inspector_visits,
        ),
        (lang.pick("发现隐患", "Hazards found"), stats.hazards_found),
        (lang.pick("已整改", "Rectified"), stats.hazards_rectified),
        (lang.pick("警告", "Warnings"), stats.warnings_issued),
        (lang.pick("立案", "Cases opened"), stats.cases_opened),
        (
            lang.pick("投诉核查", "Complaints"),
            stats.complaints_handled,
        ),
    ];
    let per_kind: Vec<(String, u32)> = VenueKind::ALL
        .into_iter()
        .map(|kind| {
            let visits = stats
                .rows
                .iter()
                .filter(|row| row.venue_kind == kind)
                .map(|row| row.visits)
                .sum();
            (lang.venue_kind(kind).to_owned(), visits)
        })
        .filter(|(_, visits)| *visits > 0)
        .collect();
    let per_month: Vec<(String, u32)> = stats
        .months
        .iter()
        .map(|month| (month.month.clone(), month.visits))
        .collect();
    // Damaged copies on the server are left out of the figures: the period's report would be short
    // of them, and the supervisor must know before copying it.
    let unreadable = (stats.unreadable > 0).then(|| {
        let n = stats.unreadable;
        view! {
            <p class="banner banner-error" role="alert" data-testid="stats-unreadable">
                {match (lang, n) {
                    (Lang::Zh, _) => format!("服务器上有{n}条本期或日期不明的检查记录已损坏、无法读取，未计入以下数字。请联系系统管理员。"),
                    (Lang::En, 1) => "One inspection record of this period (or of no readable date) is damaged on the server and cannot be read; it is not in the figures below. Tell the administrator.".to_owned(),
                    (Lang::En, _) => format!("{n} inspection records of this period (or of no readable date) are damaged on the server and cannot be read; they are not in the figures below. Tell the administrator."),
                }}
            </p>
        }
    });
    view! {
        {unreadable}
        <div class="group figures" data-testid="stats-figures">
            {figures.into_iter().map(|(label, value)| view! {
                <div class="figure">
                    <span class="figure-value">{value}</span>
                    <span class="figure-label">{label}</span>
                </div>
            }).collect_view()}
        </div>
        <h2 class="section-title">{lang.pick("情况说明", "Report paragraph")}</h2>
        <div class="group">
            <p class="summary" data-testid="stats-summary" lang="zh-CN">{stats.summary_zh.clone()}</p>
            <div class="actions">
                <button type="button" class="button button-primary" data-testid="copy-summary" on:click=copy>
                    {move || if copied.get() { lang.pick("已复制", "Copied") } else { lang.pick("复制", "Copy") }}
                </button>
            </div>
        </div>
        <h2 class="section-title">{lang.pick("按场所类型（家次）", "By venue kind (visits)")}</h2>
        <BarChart bars=per_kind />
        <h2 class="section-title">{lang.pick("按月（家次）", "By month (visits)")}</h2>
        <BarChart bars=per_month />
        <h2 class="section-title">{lang.pick("明细", "Detail")}</h2>
        <table class="table" data-testid="stats-table">
            <thead>
                <tr>
                    <th>{lang.pick("场所类型", "Venue kind")}</th>
                    <th>{lang.pick("检查类型", "Inspection")}</th>
                    <th class="number">{lang.pick("家次", "Visits")}</th>
                    <th class="number">{lang.pick("人次", "Officers")}</th>
                </tr>
            </thead>
            <tbody>
                {stats.rows.iter().map(|row| view! {
                    <tr>
                        <td>{lang.venue_kind(row.venue_kind)}</td>
                        <td>{kind_name(lang, row.inspection_kind)}</td>
                        <td class="number">{row.visits}</td>
                        <td class="number">{row.inspector_visits}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

fn kind_name(lang: Lang, kind: InspectionKind) -> &'static str {
    lang.inspection_kind(kind)
}

/// Horizontal bars, one per label, scaled to the largest; plain SVG that prints and reads in
/// sunlight.
#[component]
fn BarChart(bars: Vec<(String, u32)>) -> impl IntoView {
    const ROW: u32 = 28;
    const LABEL: u32 = 120;
    const WIDTH: u32 = 340;
    let max = bars
        .iter()
        .map(|(_, value)| *value)
        .max()
        .unwrap_or(0)
        .max(1);
    let height = ROW * u32::try_from(bars.len()).unwrap_or(0).max(1);
    let scale = f64::from(WIDTH - LABEL - 44) / f64::from(max);
    view! {
        <svg class="chart" role="img" viewBox=format!("0 0 {WIDTH} {height}") width="100%">
            {bars.into_iter().zip(0u32..).map(|((label, value), idx)| {
                let y = idx * ROW;
                let bar = (f64::from(value) * scale).round().max(1.0);
                view! {
                    <g>
                        <text x="0" y=y + 18 class="chart-label">{label}</text>
                        <rect x=LABEL y=y + 5 width=bar height="18" rx="3" class="chart-bar"></rect>
                        <text x=f64::from(LABEL) + bar + 6.0 y=y + 19 class="chart-value">{value}</text>
                    </g>
                }
            }).collect_view()}
        </svg>
    }
}
