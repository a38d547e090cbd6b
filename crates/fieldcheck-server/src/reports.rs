//! `GET /api/stats` and `GET /api/export.xlsx|csv`: a period's figures, records and hazards, for
//! supervisors (their unit) and admins (every unit, or one with `unit=`).

use std::collections::HashMap;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, NaiveDate, Utc};
use fieldcheck_core::stats::{self, Period, Stats};
use fieldcheck_core::sync::Entity;
use fieldcheck_core::{
    Campaign, HazardStatus, Inspection, InspectionKind, Rectify, Status, UnitId, User, Venue,
};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Authed;
use crate::db;
use crate::error::ApiError;

/// The longest period one request may cover: ten years of records is already a large export.
const MAX_PERIOD_DAYS: i64 = 3_660;

/// Query of the stats and export endpoints, read as text so that bad values get our own messages.
#[derive(Debug, Deserialize)]
pub struct ReportQuery {
    from: Option<String>,
    to: Option<String>,
    /// Admins only: one unit instead of all.
    unit: Option<String>,
    /// CSV only: `inspections` (the default), `hazards` or `stats`.
    sheet: Option<String>,
}

/// `GET /api/stats?from=DATE&to=DATE`: the figures of the period (`fieldcheck_core::stats`).
pub async fn stats(
    State(state): State<AppState>,
    authed: Authed,
    query: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Json<Stats>, ApiError> {
    let (period, query) = read_query(&authed, query)?;
    let stats = UnitData::work(&state, &authed, &query, move |data| data.stats(period)).await?;
    Ok(Json(stats))
}

/// `GET /api/export.xlsx?from=DATE&to=DATE`: the period's records, hazards and figures, one sheet each,
/// with Chinese headers.
pub async fn export_xlsx(
    State(state): State<AppState>,
    authed: Authed,
    query: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let (period, query) = read_query(&authed, query)?;
    let bytes = UnitData::work(&state, &authed, &query, move |data| {
        xlsx(&data.sheets(period))
    })
    .await?
    .map_err(|error| ApiError::Internal(format!("writing the workbook: {error}")))?;
    Ok(attachment(
        bytes,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &file_name(period, "xlsx"),
    ))
}

/// `GET /api/export.csv?from=DATE&to=DATE&sheet=inspections|hazards|stats`: one of the workbook's
/// sheets as CSV (UTF-8 with a byte-order mark, which Excel needs to read Chinese).
pub async fn export_csv(
    State(state): State<AppState>,
    authed: Authed,
    query: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let (period, query) = read_query(&authed, query)?;
    let index = match query.sheet.as_deref().unwrap_or("inspections") {
        "inspections" => 0,
        "hazards" => 1,
        "stats" => 2,
        other => {
            return Err(ApiError::Malformed(format!(
                "sheet \"{other}\" is not one of inspections, hazards, stats"
            )));
        }
    };
    let sheet = UnitData::work(&state, &authed, &query, move |data| {
        data.sheets(period).swap_remove(index)
    })
    .await?;
    Ok(attachment(
        csv(&sheet).into_bytes(),
        "text/csv; charset=utf-8",
        &file_name(period, &format!("{}.csv", sheet.file_part)),
    ))
}

fn read_query(
    authed: &Authed,
    query: Result<Query<ReportQuery>, QueryRejection>,
) -> Result<(Period, ReportQuery), ApiError> {
    if !authed.caller.role.reviews() {
        return Err(ApiError::Forbidden(
            "only supervisors and admins see the unit's figures and exports".to_owned(),
        ));
    }
    let Query(query) = query.map_err(|rejection| ApiError::Malformed(rejection.body_text()))?;
    let day = |name: &str, value: Option<&str>| -> Result<NaiveDate, ApiError> {
        let value = value.ok_or_else(|| {
            ApiError::Malformed(format!("{name} is required, as a date YYYY-MM-DD"))
        })?;
        NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| {
            ApiError::Malformed(format!("{name} \"{value}\" is not a date YYYY-MM-DD"))
        })
    };
    let period = Period {
        from: day("from", query.from.as_deref())?,
        to: day("to", query.to.as_deref())?,
    };
    if period.to < period.from {
        return Err(ApiError::Invalid(
            "the period ends before it starts (to < from)".to_owned(),
        ));
    }
    if (period.to - period.from).num_days() > MAX_PERIOD_DAYS {
        return Err(ApiError::Invalid(format!(
            "the period is longer than {MAX_PERIOD_DAYS} days"
        )));
    }
    if query.unit.is_some() && !authed.caller.sees_all_units() {
        return Err(ApiError::Forbidden(
            "only admins choose the unit; supervisors see their own".to_owned(),
        ));
    }
    Ok((period, query))
}

/// A unit's records as the reports need them (all units for an admin without `unit=`).
struct UnitData {
    inspections: Vec<Inspection>,
    campaigns: Vec<Campaign>,
    venues: HashMap<String, Venue>,
    users: HashMap<String, User>,
    /// The visit days of the stored inspections that do not read (`None` where not even that reads),
    /// left out of everything above. A venue or campaign that does not read drops no visit (only a
    /// name from the export or the paragraph) and is only logged.
    unreadable: Vec<Option<NaiveDate>>,
}

impl UnitData {
    /// Reads the records the caller's query covers, then parses them and does `work` with them off
    /// the async threads: over a unit's 10 000 records that is a tenth of a second of processor time
    /// (a workbook more), which would otherwise hold up every request behind it on its thread.
    async fn work<T: Send + 'static>(
        state: &AppState,
        authed: &Authed,
        query: &ReportQuery,
        work: impl FnOnce(UnitData) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let unit = match (&query.unit, authed.caller.sees_all_units()) {
            (Some(unit), _) => Some(UnitId(unit.clone())),
            (None, true) => None,
            (None, false) => Some(authed.caller.unit_id.clone()),
        };
        let unit = unit.as_ref();
        let pool = &state.pool;
        let inspections = db::bodies_of(pool, Entity::Inspection, unit).await?;
        let campaigns = db::bodies_of(pool, Entity::Campaign, unit).await?;
        let venues = db::bodies_of(pool, Entity::Venue, unit).await?;
        let users = db::users_of(pool, None).await?;
        tokio::task::spawn_blocking(move || {
            let mut unreadable = Vec::new();
            let inspections = parsed(inspections, |body| unreadable.push(visit_day_of(body)));
            let campaigns = parsed(campaigns, |_| {});
            let venues = parsed::<Venue>(venues, |_| {});
            work(UnitData {
                inspections,
                campaigns,
                venues: venues
                    .into_iter()
                    .map(|venue| (venue.id.to_string(), venue))
                    .collect(),
                users: users
                    .into_iter()
                    .map(|(user, _)| (user.id.to_string(), user))
                    .collect(),
                unreadable,
            })
        })
        .await
        .map_err(|error| ApiError::Internal(format!("the report's work stopped: {error}")))
    }

    /// The three sheets of an export: records, hazards, figures.
    fn sheets(&self, period: Period) -> Vec<Sheet> {
        let mut counted: Vec<&Inspection> = self
            .inspections
            .iter()
            .filter(|inspection| {
                stats::counts(inspection) && period.contains(inspection.visit_day())
            })
            .collect();
        counted.sort_by_key(|inspection| inspection.started_at);
        vec![
            self.inspection_sheet(&counted),
            self.hazard_sheet(&counted),
            figures_sheet(&self.stats(period)),
        ]
    }

    /// The period's figures, with the inspections they may be short of because they do not read:
    /// those of the period and those whose day cannot be told.
    fn stats(&self, period: Period) -> Stats {
        let unreadable = self
            .unreadable
            .iter()
            .filter(|day| day.is_none_or(|day| period.contains(day)))
            .count();
        Stats {
            unreadable: u32::try_from(unreadable).unwrap_or(u32::MAX),
            ..stats::compute(&self.inspections, &self.campaigns, period)
        }
    }

    fn venue(&self, inspection: &Inspection) -> (String, String) {
        self.venues
            .get(inspection.venue_id.as_str())
            .map(|venue| (venue.name.clone(), venue.licence_no.clone()))
            .unwrap_or_default()
    }

    fn inspection_sheet(&self, counted: &[&Inspection]) -> Sheet {
        let campaign_names: HashMap<&str, &str> = self
            .campaigns
            .iter()
            .map(|campaign| (campaign.id.as_str(), campaign.name.as_str()))
            .collect();
        let rows = counted
            .iter()
            .map(|inspection| {
                let (venue_name, licence) = self.venue(inspection);
                let officers: Vec<&User> = inspection
                    .inspectors
                    .iter()
                    .filter_map(|id| self.users.get(id.as_str()))
                    .collect();
                let (pass, fail, na) = inspection.tally();
                let count = |n: usize| Cell::Number(n as f64);
                vec![
                    Cell::text(inspection.id.as_str()),
                    Cell::text(inspection.visit_day().to_string()),
                    Cell::text(inspection.started_at.format("%Y-%m-%d %H:%M").to_string()),
                    Cell::text(
                        inspection
                            .finished_at
                            .map(|at| at.format("%Y-%m-%d %H:%M").to_string())
                            .unwrap_or_default(),
                    ),
                    Cell::text(venue_name),
                    Cell::text(kind_name(inspection)),
                    Cell::text(licence),
                    Cell::text(inspection.kind.name_zh()),
                    Cell::text(
                        inspection
                            .campaign_id
                            .as_ref()
                            .and_then(|id| campaign_names.get(id.as_str()))
                            .copied()
                            .unwrap_or_default(),
                    ),
                    Cell::text(
                        officers
                            .iter()
                            .map(|user| user.name.as_str())
                            .collect::<Vec<_>>()
                            .join("、"),
                    ),
                    Cell::text(
                        officers
                            .iter()
                            .map(|user| user.cert_no.as_deref().unwrap_or("—"))
                            .collect::<Vec<_>>()
                            .join("、"),
                    ),
                    Cell::Number(inspection.inspectors.len() as f64),
                    Cell::text(status_zh(inspection.status)),
                    count(pass),
                    count(fail),
                    count(na),
                    count(inspection.hazards.len()),
                    Cell::text(yes_no(inspection.warning_issued)),
                    Cell::text(yes_no(inspection.case_opened)),
                    Cell::text(
                        inspection
                            .party
                            .as_ref()
                            .map(|party| party.name.clone())
                            .unwrap_or_default(),
                    ),
                    Cell::text(inspection.notes.clone()),
                ]
            })
            .collect();
        Sheet {
            name: "检查记录",
            file_part: "inspections",
            headers: vec![
                "记录编号",
                "检查日期",
                "开始时间",
                "结束时间",
                "场所名称",
                "场所类型",
                "许可证号",
                "检查类型",
                "专项行动",
                "执法人员",
                "执法证号",
                "人次",
                "审核状态",
                "合格项",
                "不合格项",
                "不适用项",
                "隐患数",
                "警告",
                "立案",
                "当事人",
                "备注",
            ],
            rows,
        }
    }

    fn hazard_sheet(&self, counted: &[&Inspection]) -> Sheet {
        let reinspections: Vec<&Inspection> = self
            .inspections
            .iter()
            .filter(|inspection| {
                inspection.kind == InspectionKind::Reinspection && stats::counts(inspection)
            })
            .collect();
        let mut rows = Vec::new();
        for inspection in counted {
            let (venue_name, _) = self.venue(inspection);
            let today = Utc::now()
                .with_timezone(inspection.started_at.offset())
                .date_naive();
            for hazard in &inspection.hazards {
                let closed = inspection.closed_by(hazard, reinspections.iter().copied());
                let state = match (hazard.status, closed) {
                    (HazardStatus::Rectified, _) => "已当场整改".to_owned(),
                    (_, Some(by)) => format!("已整改（{}复查）", by.visit_day()),
                    _ if hazard.deadline.is_some_and(|deadline| deadline < today) => {
                        "逾期未整改".to_owned()
                    }
                    _ => "未整改".to_owned(),
                };
                rows.push(vec![
                    Cell::text(inspection.id.as_str()),
                    Cell::text(inspection.visit_day().to_string()),
                    Cell::text(venue_name.clone()),
                    Cell::text(kind_name(inspection)),
                    Cell::text(
                        hazard
                            .item
                            .as_deref()
                            .and_then(|code| item_wording(inspection, code))
                            .unwrap_or_default(),
                    ),
                    Cell::text(hazard.description.clone()),
                    Cell::text(match hazard.rectify {
                        Some(Rectify::OnSite) => "当场整改",
                        Some(Rectify::Deadline) => "限期整改",
                        None => "",
                    }),
                    Cell::text(
                        hazard
                            .deadline
                            .map(|deadline| deadline.to_string())
                            .unwrap_or_default(),
                    ),
                    Cell::text(state),
                ]);
            }
        }
        Sheet {
            name: "隐患",
            file_part: "hazards",
            headers: vec![
                "记录编号",
                "检查日期",
                "场所名称",
                "场所类型",
                "检查项",
                "隐患描述",
                "整改方式",
                "整改期限",
                "整改情况",
            ],
            rows,
        }
    }
}

fn figures_sheet(stats: &Stats) -> Sheet {
    let number = |n: u32| Cell::Number(f64::from(n));
    let mut rows: Vec<Vec<Cell>> = stats
        .rows
        .iter()
        .map(|row| {
            vec![
                Cell::text(row.venue_kind.name_zh()),
                Cell::text(row.inspection_kind.name_zh()),
                number(row.visits),
                number(row.inspector_visits),
            ]
        })
        .collect();
    rows.push(vec![
        Cell::text("合计"),
        Cell::text(""),
        number(stats.visits),
        number(stats.inspector_visits),
    ]);
    rows.push(Vec::new());
    for (label, value) in [
        ("发现隐患（处）", stats.hazards_found),
        ("已整改（处）", stats.hazards_rectified),
        ("其中当场整改（处）", stats.rectified_on_site),
        ("其中限期整改（处）", stats.rectified_by_deadline),
        ("警告（起）", stats.warnings_issued),
        ("立案（起）", stats.cases_opened),
        ("投诉核查（起）", stats.complaints_handled),
    ] {
        rows.push(vec![Cell::text(label), Cell::text(""), number(value)]);
    }
    if stats.unreadable > 0 {
        rows.push(vec![
            Cell::text("本期或日期不明、服务器无法读取而未计入的检查记录（条）"),
            Cell::text(""),
            number(stats.unreadable),
        ]);
    }
    rows.push(Vec::new());
    rows.push(vec![
        Cell::text("情况说明"),
        Cell::text(stats.summary_zh.clone()),
    ]);
    Sheet {
        name: "统计",
        file_part: "stats",
        headers: vec!["场所类型", "检查类型", "家次", "人次"],
        rows,
    }
}

/// Stored bodies that no longer parse (as their type, or as JSON at all) are left out of reports,
/// never fail them: each is logged and handed to `left_out`.
fn parsed<T: serde::de::DeserializeOwned>(
    records: Vec<db::StoredBody>,
    mut left_out: impl FnMut(&str),
) -> Vec<T> {
    records
        .into_iter()
        .filter_map(|record| match serde_json::from_str(&record.body) {
            Ok(value) => Some(value),
            Err(error) => {
                left_out(&record.body);
                tracing::error!(entity = record.entity.code(), id = %record.id, %error, "stored record does not parse; left out of the report");
                None
            }
        })
        .collect()
}

/// The visit day of a stored inspection body that does not read as one, as [`Inspection::visit_day`]
/// tells it, if its times still do.
fn visit_day_of(body: &str) -> Option<NaiveDate> {
    #[derive(Deserialize)]
    struct Times {
        started_at: Option<String>,
        finished_at: Option<String>,
    }
    let times: Times = serde_json::from_str(body).ok()?;
    let at = times.finished_at.or(times.started_at)?;
    Some(DateTime::parse_from_rfc3339(&at).ok()?.date_naive())
}

fn kind_name(inspection: &Inspection) -> &'static str {
    stats::venue_kind_of(inspection).map_or("", |kind| kind.name_zh())
}

fn item_wording(inspection: &Inspection, code: &str) -> Option<String> {
    fieldcheck_core::Template::by_id(&inspection.template)
        .and_then(|template| template.item(code).map(|item| item.zh.to_owned()))
}

fn status_zh(status: Status) -> &'static str {
    match status {
        Status::Draft => "草稿",
        Status::Submitted => "待审核",
        Status::Approved => "已通过",
        Status::Returned => "已退回",
    }
}

fn yes_no(value: bool) -> &'static str {
    if value { "是" } else { "否" }
}

/// One sheet of an export.
struct Sheet {
    name: &'static str,
    file_part: &'static str,
    headers: Vec<&'static str>,
    rows: Vec<Vec<Cell>>,
}

enum Cell {
    Text(String),
    Number(f64),
}

impl Cell {
    fn text(value: impl Into<String>) -> Cell {
        Cell::Text(value.into())
    }
}

fn xlsx(sheets: &[Sheet]) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for sheet in sheets {
        let worksheet = workbook.add_worksheet();
        worksheet.set_name(sheet.name)?;
        for (col, header) in (0u16..).zip(&sheet.headers) {
            worksheet.write_string_with_format(0, col, *header, &bold)?;
        }
        for (row, cells) in (1u32..).zip(&sheet.rows) {
            for (col, cell) in (0u16..).zip(cells) {
                match cell {
                    // Written as strings, never formulas: user text such as "=HYPERLINK(..)" stays text.
                    Cell::Text(text) => {
                        worksheet.write_string(row, col, fit_in_cell(text).as_ref())?
                    }
                    Cell::Number(number) => worksheet.write_number(row, col, *number)?,
                };
            }
        }
        worksheet.set_freeze_panes(1, 0)?;
        worksheet.set_autofit_max_width(320);
        worksheet.autofit();
    }
    workbook.save_to_buffer()
}

/// Excel holds at most 32 767 characters in a cell: a longer text (a very long note) is cut with a
/// marker rather than failing the whole workbook. The CSV keeps it whole.
fn fit_in_cell(text: &str) -> std::borrow::Cow<'_, str> {
    const MAX_CHARS: usize = 32_000;
    match text.char_indices().nth(MAX_CHARS) {
        None => std::borrow::Cow::Borrowed(text),
        Some((cut, _)) => {
            std::borrow::Cow::Owned(format!("{}……（过长，已截断，全文见CSV）", &text[..cut]))
        }
    }
}

/// RFC 4180 CSV with a byte-order mark. A text cell that a spreadsheet would run as a formula gets a
/// leading apostrophe, so a venue named "=cmd|..." cannot execute anything on the supervisor's PC.
fn csv(sheet: &Sheet) -> String {
    fn field(out: &mut String, text: &str) {
        let guarded = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            format!("'{text}")
        } else {
            text.to_owned()
        };
        if guarded.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&guarded.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&guarded);
        }
    }
    let mut out = String::from('\u{feff}');
    out.push_str(&sheet.headers.join(","));
    out.push_str("\r\n");
    for row in &sheet.rows {
        for (idx, cell) in row.iter().enumerate() {
            if idx > 0 {
                out.push(',');
            }
            match cell {
                Cell::Text(text) => field(&mut out, text),
                Cell::Number(number) => out.push_str(&number.to_string()),
            }
        }
        out.push_str("\r\n");
    }
    out
}

fn file_name(period: Period, extension: &str) -> String {
    format!("fieldcheck-{}-{}.{extension}", period.from, period.to)
}

fn attachment(bytes: Vec<u8>, content_type: &'static str, file_name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let sheet = Sheet {
            name: "t",
            file_part: "t",
            headers: vec!["a", "b"],
            rows: vec![vec![
                Cell::text("=HYPERLINK(\"x\")"),
                Cell::text("逗号,与\"引号\""),
            ]],
        };
        assert_eq!(
            csv(&sheet),
            "\u{feff}a,b\r\n\"'=HYPERLINK(\"\"x\"\")\",\"逗号,与\"\"引号\"\"\"\r\n"
        );
    }
}
