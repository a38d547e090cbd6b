//! Reading a venue register kept in a spreadsheet (场所台账): header names, kinds by their Chinese
//! names, and a verdict per row that names what is wrong, before anything is stored.

use serde::{Deserialize, Serialize};

use crate::ids::{UnitId, VenueId};
use crate::inspection::Location;
use crate::kinds::VenueKind;
use crate::venue::Venue;

/// The columns, by the headers a bureau's register uses (any order; unknown columns are ignored).
/// `(field, accepted headers)`.
pub const COLUMNS: [(&str, &[&str]); 9] = [
    ("name", &["场所名称", "名称", "name"]),
    ("kind", &["场所类型", "类型", "kind"]),
    (
        "licence_no",
        &["许可证号", "许可证编号", "licence_no", "license_no"],
    ),
    ("address", &["地址", "经营地址", "address"]),
    ("contact_name", &["联系人", "负责人", "contact_name"]),
    ("contact_phone", &["联系电话", "电话", "contact_phone"]),
    ("lat", &["纬度", "lat"]),
    ("lon", &["经度", "lon"]),
    ("active", &["状态", "active"]),
];

/// What importing a row does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowAction {
    /// A venue not in the register yet.
    Create,
    /// The venue with this licence number in the unit, updated.
    Update,
    /// Nothing: the row is bad (see its problems) or repeats an earlier row.
    Skip,
}

/// The verdict on one row of the sheet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportRow {
    /// The row's number as the spreadsheet shows it (the header is row 1).
    pub row: usize,
    pub name: String,
    pub action: RowAction,
    /// What is wrong, in Chinese and English; empty for a good row.
    pub problems: Vec<String>,
    /// The venue to store (for a good row).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venue: Option<Venue>,
}

/// The answer of `POST /api/venues/import`: every row's verdict, and whether it was stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportReport {
    pub rows: Vec<ImportRow>,
    pub created: usize,
    pub updated: usize,
    pub bad: usize,
    /// `false` for a preview.
    pub committed: bool,
}

/// The kind named in a cell: a wire code, the short name or the report's full name.
pub fn kind_from_cell(cell: &str) -> Option<VenueKind> {
    let cell = cell.trim();
    VenueKind::ALL.into_iter().find(|kind| {
        cell == kind.code()
            || cell == kind.name_zh()
            || cell == crate::stats::report_name_zh(*kind)
            || cell.eq_ignore_ascii_case(kind.name_en())
            || (*kind == VenueKind::Hotel && cell == "星级酒店")
            || (*kind == VenueKind::SongDance && cell.eq_ignore_ascii_case("KTV"))
            || (*kind == VenueKind::ScriptGame && cell == "剧本杀")
    })
}

/// Reads the sheet's rows (the first is the header) into verdicts. `existing` is the unit's register:
/// a row whose licence number is already there updates that venue (keeping its id), others create
/// venues with ids from `new_id`. A row repeating an earlier licence number is skipped.
pub fn read_venues(
    sheet: &[Vec<String>],
    unit_id: &UnitId,
    existing: &[Venue],
    mut new_id: impl FnMut() -> VenueId,
) -> Result<Vec<ImportRow>, String> {
    let Some((header, rows)) = sheet.split_first() else {
        return Err("the sheet is empty / 表格为空".to_owned());
    };
    let column = |field: &str| -> Option<usize> {
        let accepted = COLUMNS
            .iter()
            .find(|(name, _)| *name == field)
            .map(|(_, accepted)| *accepted)
            .unwrap_or_default();
        header.iter().position(|cell| {
            accepted
                .iter()
                .any(|name| cell.trim().eq_ignore_ascii_case(name))
        })
    };
    let (Some(name_col), Some(kind_col)) = (column("name"), column("kind")) else {
        return Err(
            "the first row must name the columns, with at least 场所名称 and 场所类型 / 第1行须为表头，至少包含“场所名称”和“场所类型”"
                .to_owned(),
        );
    };
    let cell = |row: &[String], field: &str| -> String {
        column(field)
            .and_then(|idx| row.get(idx))
            .map(|value| value.trim().to_owned())
            .unwrap_or_default()
    };
    let mut seen_licences: Vec<String> = Vec::new();
    let mut verdicts = Vec::new();
    for (idx, row) in rows.iter().enumerate() {
        if row.iter().all(|value| value.trim().is_empty()) {
            continue;
        }
        let number = idx + 2;
        let name = row
            .get(name_col)
            .map(|v| v.trim().to_owned())
            .unwrap_or_default();
        let kind_text = row
            .get(kind_col)
            .map(|v| v.trim().to_owned())
            .unwrap_or_default();
        let mut problems = Vec::new();
        if name.is_empty() {
            problems.push("场所名称为空 / the name is empty".to_owned());
        }
        let kind = kind_from_cell(&kind_text);
        if kind.is_none() {
            problems.push(format!(
                "场所类型“{kind_text}”无法识别 / the kind \"{kind_text}\" is not one of the ten"
            ));
        }
        let (lat, lon) = (cell(row, "lat"), cell(row, "lon"));
        let location = match (lat.is_empty(), lon.is_empty()) {
            (true, true) => None,
            _ => match (lat.parse::<f64>(), lon.parse::<f64>()) {
                (Ok(lat), Ok(lon))
                    if (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon) =>
                {
                    Some(Location {
                        lat,
                        lon,
                        accuracy_m: None,
                    })
                }
                _ => {
                    problems.push(format!(
                        "经纬度“{lat}, {lon}”无效 / the position \"{lat}, {lon}\" is not a valid latitude and longitude"
                    ));
                    None
                }
            },
        };
        let active = match cell(row, "active").as_str() {
            "" | "正常" | "营业" | "在营" | "active" | "true" | "1" => true,
            "停业" | "注销" | "inactive" | "false" | "0" => false,
            other => {
                problems.push(format!(
                    "状态“{other}”无法识别（正常/停业） / the state \"{other}\" is neither active nor inactive"
                ));
                true
            }
        };
        let licence_no = cell(row, "licence_no");
        if !licence_no.is_empty() {
            if seen_licences.contains(&licence_no) {
                problems.push(format!(
                    "许可证号“{licence_no}”与前面的行重复 / the licence number \"{licence_no}\" repeats an earlier row"
                ));
            }
            seen_licences.push(licence_no.clone());
        }
        let (Some(kind), true) = (kind, problems.is_empty()) else {
            verdicts.push(ImportRow {
                row: number,
                name,
                action: RowAction::Skip,
                problems,
                venue: None,
            });
            continue;
        };
        let known = existing
            .iter()
            .find(|venue| !licence_no.is_empty() && venue.licence_no == licence_no);
        let venue = Venue {
            id: known.map_or_else(&mut new_id, |venue| venue.id.clone()),
            kind,
            name: name.clone(),
            licence_no,
            address: cell(row, "address"),
            location,
            contact_name: cell(row, "contact_name"),
            contact_phone: cell(row, "contact_phone"),
            unit_id: unit_id.clone(),
            active,
            field_registered: false,
            initials: known
                .map(|venue| venue.initials.clone())
                .unwrap_or_default(),
        };
        verdicts.push(ImportRow {
            row: number,
            name,
            action: if known.is_some() {
                RowAction::Update
            } else {
                RowAction::Create
            },
            problems,
            venue: Some(venue),
        });
    }
    Ok(verdicts)
}
