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
    /// The venue with this licence number (or, without one, this name and address) in the unit,
    /// updated with the row's non-empty cells.
    Update,
    /// The venue is in the register already exactly as the row has it (an import run twice).
    Unchanged,
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
    /// Rows the register already holds as they are.
    #[serde(default)]
    pub unchanged: usize,
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
/// a row whose licence number is already there (or, for a row without one, whose name and address
/// are) updates that venue — keeping its id and kind, and every field the row leaves empty — and
/// others create venues with ids from `new_id`. So an import run twice changes nothing the second
/// time. A row repeating an earlier licence number, or naming another kind than the stored venue
/// (its records' checklists are that kind's), is skipped with the reason.
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
    let mut seen_keys: Vec<String> = Vec::new();
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
        // What identifies the venue: its licence number, or without one its name and address.
        let key = if licence_no.is_empty() {
            format!("{name}\u{1f}{}", cell(row, "address"))
        } else {
            licence_no.clone()
        };
        if seen_keys.contains(&key) {
            problems.push(if licence_no.is_empty() {
                "名称和地址与前面的行重复 / the name and address repeat an earlier row".to_owned()
            } else {
                format!(
                    "许可证号“{licence_no}”与前面的行重复 / the licence number \"{licence_no}\" repeats an earlier row"
                )
            });
        }
        seen_keys.push(key);
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
        let address = cell(row, "address");
        let known = existing.iter().find(|venue| {
            if licence_no.is_empty() {
                venue.licence_no.is_empty() && venue.name == name && venue.address == address
            } else {
                venue.licence_no == licence_no
            }
        });
        let Some(known) = known else {
            let venue = Venue {
                id: new_id(),
                kind,
                name: name.clone(),
                licence_no,
                address,
                location,
                contact_name: cell(row, "contact_name"),
                contact_phone: cell(row, "contact_phone"),
                unit_id: unit_id.clone(),
                active,
                field_registered: false,
                initials: String::new(),
            };
            let problems = venue
                .validate()
                .err()
                .map(|found| {
                    found
                        .0
                        .into_iter()
                        .map(|problem| format!("{} / {}", problem.zh, problem.en))
                        .collect()
                })
                .unwrap_or_default();
            verdicts.push(verdict(number, name, problems, venue, RowAction::Create));
            continue;
        };
        if known.kind != kind {
            verdicts.push(ImportRow {
                row: number,
                name,
                action: RowAction::Skip,
                problems: vec![format!(
                    "台账中该场所为“{}”，与表格的“{kind_text}”不一致；场所类型建档后不能通过导入修改 / the register has this venue as {}, not \"{kind_text}\"; an import does not change a venue's kind",
                    known.kind.name_zh(),
                    known.kind.name_en()
                )],
                venue: None,
            });
            continue;
        }
        // Only what the row states changes; an empty cell or a missing column keeps the register's.
        let mut venue = known.clone();
        let keep_or = |value: String, kept: &mut String| {
            if !value.is_empty() {
                *kept = value;
            }
        };
        keep_or(name.clone(), &mut venue.name);
        keep_or(address, &mut venue.address);
        keep_or(cell(row, "contact_name"), &mut venue.contact_name);
        keep_or(cell(row, "contact_phone"), &mut venue.contact_phone);
        if location.is_some() {
            venue.location = location;
        }
        if !cell(row, "active").is_empty() {
            venue.active = active;
        }
        let action = if venue == *known {
            RowAction::Unchanged
        } else {
            RowAction::Update
        };
        verdicts.push(verdict(number, name, Vec::new(), venue, action));
    }
    Ok(verdicts)
}

fn verdict(
    row: usize,
    name: String,
    problems: Vec<String>,
    venue: Venue,
    action: RowAction,
) -> ImportRow {
    if problems.is_empty() {
        ImportRow {
            row,
            name,
            action,
            problems,
            venue: Some(venue),
        }
    } else {
        ImportRow {
            row,
            name,
            action: RowAction::Skip,
            problems,
            venue: None,
        }
    }
}
