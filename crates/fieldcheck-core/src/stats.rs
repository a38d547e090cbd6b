//! The figures a bureau reports for a period (家次, 人次, hazards, warnings, complaints) and the
//! paragraph that states them in the style of its half-year report.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::ids::InspectionId;
use crate::inspection::{HazardStatus, Inspection, InspectionKind, Status};
use crate::kinds::VenueKind;
use crate::template::Template;
use crate::venue::Campaign;

/// The days a report covers, both ends included, in the inspectors' own time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.from <= day && day <= self.to
    }
}

/// Visits of one venue kind by one inspection kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsRow {
    pub venue_kind: VenueKind,
    pub inspection_kind: InspectionKind,
    /// 家次: inspections.
    pub visits: u32,
    /// 人次: officers named on them, summed.
    pub inspector_visits: u32,
}

/// Visits in one calendar month of the period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthRow {
    /// `YYYY-MM`.
    pub month: String,
    pub visits: u32,
    pub inspector_visits: u32,
}

/// The period's figures: what `GET /api/stats` answers and the statistics screen shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// One row per venue kind and inspection kind with any visit, in screen order.
    pub rows: Vec<StatsRow>,
    pub visits: u32,
    pub inspector_visits: u32,
    /// Hazards recorded on the period's visits.
    pub hazards_found: u32,
    /// Of those, rectified by the end of the period: on the spot or after a deadline.
    pub hazards_rectified: u32,
    pub rectified_on_site: u32,
    pub rectified_by_deadline: u32,
    pub warnings_issued: u32,
    pub cases_opened: u32,
    /// Complaint follow-ups (投诉核查).
    pub complaints_handled: u32,
    pub months: Vec<MonthRow>,
    /// The figures as the bureau's report states them.
    pub summary_zh: String,
    /// Inspections the server holds for these figures but cannot read (a damaged stored copy), of the
    /// period or of no readable day: left out of every figure above, and counted here so that a
    /// report that may be short of them says so.
    #[serde(default)]
    pub unreadable: u32,
}

/// Whether a record counts as a visit: submitted or reviewed (a draft is unfinished work), and not an
/// amendment (later facts about a visit already counted).
pub fn counts(inspection: &Inspection) -> bool {
    inspection.status != Status::Draft && inspection.amends.is_none()
}

/// The venue kind a record was made for: its checklist is the kind's (fixed once created).
pub fn venue_kind_of(inspection: &Inspection) -> Option<VenueKind> {
    Template::by_id(&inspection.template).map(|template| template.kind)
}

/// The figures of `period` over `all` of a unit's records (any period: re-inspections after it do
/// not close its hazards, records outside it are not counted). `campaigns` name the special
/// campaigns in the paragraph.
pub fn compute(all: &[Inspection], campaigns: &[Campaign], period: Period) -> Stats {
    let counted: Vec<&Inspection> = all
        .iter()
        .filter(|inspection| counts(inspection) && period.contains(inspection.visit_day()))
        .collect();
    // Re-inspections by the record they follow, up to the end of the period.
    let mut follow_ups: HashMap<&InspectionId, Vec<&Inspection>> = HashMap::new();
    for inspection in all.iter().filter(|inspection| {
        counts(inspection)
            && inspection.kind == InspectionKind::Reinspection
            && inspection.visit_day() <= period.to
    }) {
        if let Some(follows) = &inspection.follows {
            follow_ups.entry(follows).or_default().push(inspection);
        }
    }
    let mut rows: BTreeMap<(usize, VenueKind), StatsRow> = BTreeMap::new();
    let mut months: BTreeMap<(i32, u32), (u32, u32)> = BTreeMap::new();
    let mut stats = Stats {
        from: period.from,
        to: period.to,
        rows: Vec::new(),
        visits: 0,
        inspector_visits: 0,
        hazards_found: 0,
        hazards_rectified: 0,
        rectified_on_site: 0,
        rectified_by_deadline: 0,
        warnings_issued: 0,
        cases_opened: 0,
        complaints_handled: 0,
        months: Vec::new(),
        summary_zh: String::new(),
        unreadable: 0,
    };
    for inspection in &counted {
        let Some(venue_kind) = venue_kind_of(inspection) else {
            continue;
        };
        let officers = u32::try_from(inspection.inspectors.len()).unwrap_or(u32::MAX);
        let kind_order = InspectionKind::ALL
            .iter()
            .position(|kind| *kind == inspection.kind)
            .unwrap_or(0);
        let row = rows
            .entry((kind_order, venue_kind))
            .or_insert_with(|| StatsRow {
                venue_kind,
                inspection_kind: inspection.kind,
                visits: 0,
                inspector_visits: 0,
            });
        row.visits += 1;
        row.inspector_visits += officers;
        let day = inspection.visit_day();
        let month = months.entry((day.year(), day.month())).or_default();
        month.0 += 1;
        month.1 += officers;
        stats.visits += 1;
        stats.inspector_visits += officers;
        stats.warnings_issued += u32::from(inspection.warning_issued);
        stats.cases_opened += u32::from(inspection.case_opened);
        stats.complaints_handled += u32::from(inspection.kind == InspectionKind::Complaint);
        let follow_ups = follow_ups
            .get(&inspection.id)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for hazard in &inspection.hazards {
            stats.hazards_found += 1;
            if hazard.status == HazardStatus::Rectified {
                stats.rectified_on_site += 1;
            } else if inspection
                .closed_by(hazard, follow_ups.iter().copied())
                .is_some()
            {
                stats.rectified_by_deadline += 1;
            }
        }
    }
    stats.hazards_rectified = stats.rectified_on_site + stats.rectified_by_deadline;
    stats.rows = rows.into_values().collect();
    stats.months = months
        .into_iter()
        .map(|((year, month), (visits, inspector_visits))| MonthRow {
            month: format!("{year:04}-{month:02}"),
            visits,
            inspector_visits,
        })
        .collect();
    let campaign_names: Vec<&str> = campaigns
        .iter()
        .filter(|campaign| {
            counted.iter().any(|inspection| {
                inspection.kind == InspectionKind::Special
                    && inspection.campaign_id.as_ref() == Some(&campaign.id)
            })
        })
        .map(|campaign| campaign.name.as_str())
        .collect();
    stats.summary_zh = summary_zh(&stats, &campaign_names);
    stats
}

/// The kinds' names as a bureau's report writes them.
pub fn report_name_zh(kind: VenueKind) -> &'static str {
    match kind {
        VenueKind::InternetCafe => "互联网上网服务营业场所",
        other => other.name_zh(),
    }
}

/// The paragraph, section by section as the report has it: routine checks per kind with the
/// officers sent, special campaigns, re-inspections, art-training institutions with their
/// complaints (the report states them apart, under 双减), other complaints, then hazards, warnings
/// and cases.
fn summary_zh(stats: &Stats, campaign_names: &[&str]) -> String {
    let mut text = format!("{}至{}，", date_zh(stats.from), date_zh(stats.to));
    if stats.visits == 0 {
        text.push_str("无检查记录。");
        return text;
    }
    text.push_str(&format!(
        "共检查各类场所{}家次，出动检查人员{}人次。",
        stats.visits, stats.inspector_visits
    ));
    let market_rows = |kind: InspectionKind| -> Vec<&StatsRow> {
        stats
            .rows
            .iter()
            .filter(|row| row.inspection_kind == kind && row.venue_kind != VenueKind::ArtTraining)
            .collect()
    };
    let officers = |rows: &[&StatsRow]| rows.iter().map(|row| row.inspector_visits).sum::<u32>();
    let routine = market_rows(InspectionKind::Routine);
    if !routine.is_empty() {
        let parts: Vec<String> = routine
            .iter()
            .map(|row| {
                format!(
                    "{}日常检查{}家次",
                    report_name_zh(row.venue_kind),
                    row.visits
                )
            })
            .collect();
        text.push_str(&format!(
            "开展{}，共出动检查人员{}人次。",
            parts.join("，"),
            officers(&routine)
        ));
    }
    let special = market_rows(InspectionKind::Special);
    if !special.is_empty() {
        let parts: Vec<String> = special
            .iter()
            .map(|row| format!("{}{}家次", report_name_zh(row.venue_kind), row.visits))
            .collect();
        let named = if campaign_names.is_empty() {
            String::new()
        } else {
            format!("（{}）", campaign_names.join("、"))
        };
        text.push_str(&format!(
            "开展专项检查{named}，检查{}，共出动检查人员{}人次。",
            parts.join("、"),
            officers(&special)
        ));
    }
    let reinspections = market_rows(InspectionKind::Reinspection);
    if !reinspections.is_empty() {
        text.push_str(&format!(
            "开展复查{}家次，出动检查人员{}人次。",
            reinspections.iter().map(|row| row.visits).sum::<u32>(),
            officers(&reinspections)
        ));
    }
    let training: Vec<&StatsRow> = stats
        .rows
        .iter()
        .filter(|row| row.venue_kind == VenueKind::ArtTraining)
        .collect();
    let training_complaints = training
        .iter()
        .filter(|row| row.inspection_kind == InspectionKind::Complaint)
        .map(|row| row.visits)
        .sum::<u32>();
    if !training.is_empty() {
        text.push_str(&format!(
            "检查{}{}家次",
            report_name_zh(VenueKind::ArtTraining),
            training.iter().map(|row| row.visits).sum::<u32>()
        ));
        if training_complaints > 0 {
            text.push_str(&format!("，受理投诉{training_complaints}起"));
        }
        text.push('。');
    }
    let other_complaints = stats.complaints_handled - training_complaints;
    if other_complaints > 0 {
        let what = if training.is_empty() {
            "受理投诉"
        } else {
            "受理其他场所投诉"
        };
        text.push_str(&format!("{what}{other_complaints}起。"));
    }
    let mut outcomes = Vec::new();
    if stats.hazards_found > 0 {
        outcomes.push(format!(
            "发现隐患{}处，已整改{}处（当场整改{}处，限期整改{}处）",
            stats.hazards_found,
            stats.hazards_rectified,
            stats.rectified_on_site,
            stats.rectified_by_deadline
        ));
    }
    if stats.warnings_issued > 0 {
        outcomes.push(format!("办理警告案件{}起", stats.warnings_issued));
    }
    if stats.cases_opened > 0 {
        outcomes.push(format!("立案{}起", stats.cases_opened));
    }
    if !outcomes.is_empty() {
        text.push_str(&format!("共{}。", outcomes.join("，")));
    }
    text
}

/// `2023年1月1日`.
fn date_zh(day: NaiveDate) -> String {
    format!("{}年{}月{}日", day.year(), day.month(), day.day())
}
