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
    /// What is wrong; empty for a good row.
    pub problems: Vec<RowProblem>,
    /// The venue to store (for a good row).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venue: Option<Venue>,
}

/// One thing wrong with a row, said in Chinese and in English: the screen shows the officer's
/// language, a program reading the API either.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowProblem {
    pub zh: String,
    pub en: String,
}

impl RowProblem {
    fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        RowProblem {
            zh: zh.into(),
            en: en.into(),
        }
    }
}

/// Why a file is not read as a register at all. Each has its code on the wire
/// (`{"error": {"code", "message"}}`, the message in English), by which the screen says it in the
/// officer's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileProblem {
    /// Neither `.xlsx` nor `.csv`.
    NotASheet,
    /// A CSV not saved as UTF-8 (Excel's plain "CSV" is GBK on a Chinese Windows).
    CsvNotUtf8,
    /// Not an XLSX workbook that can be read.
    NotAWorkbook,
    /// A workbook with no sheet, or whose first sheet does not read.
    NoSheet,
    /// No rows at all.
    Empty,
    /// The first row does not name 场所名称 and 场所类型.
    NoHeader,
    /// More rows than [`MAX_ROWS`].
    TooManyRows,
}

/// The largest register accepted, in rows below the header (checked by the server before it reads
/// the unit's register).
pub const MAX_ROWS: usize = 20_000;

impl FileProblem {
    /// Every problem a file can have.
    pub const ALL: [FileProblem; 7] = [
        FileProblem::NotASheet,
        FileProblem::CsvNotUtf8,
        FileProblem::NotAWorkbook,
        FileProblem::NoSheet,
        FileProblem::Empty,
        FileProblem::NoHeader,
        FileProblem::TooManyRows,
    ];

    /// The error code on the wire.
    pub fn code(self) -> &'static str {
        match self {
            FileProblem::NotASheet => "not_a_sheet",
            FileProblem::CsvNotUtf8 => "csv_not_utf8",
            FileProblem::NotAWorkbook => "not_a_workbook",
            FileProblem::NoSheet => "no_sheet",
            FileProblem::Empty => "empty_sheet",
            FileProblem::NoHeader => "no_header",
            FileProblem::TooManyRows => "too_many_rows",
        }
    }

    /// The problem a wire code names, if it is one of these.
    pub fn from_code(code: &str) -> Option<FileProblem> {
        FileProblem::ALL
            .into_iter()
            .find(|problem| problem.code() == code)
    }

    /// What to tell the officer, in Chinese.
    pub fn zh(self) -> String {
        match self {
            FileProblem::NotASheet => "请选择 Excel（.xlsx）或 CSV 文件。".to_owned(),
            FileProblem::CsvNotUtf8 => {
                "CSV 文件不是 UTF-8 编码：请在 Excel 中“另存为”“CSV UTF-8（逗号分隔）”后再导入。"
                    .to_owned()
            }
            FileProblem::NotAWorkbook => {
                "无法读取此 Excel 文件：请用 Excel 另存为 .xlsx 后再导入。".to_owned()
            }
            FileProblem::NoSheet => "此 Excel 文件的第一个工作表无法读取。".to_owned(),
            FileProblem::Empty => "表格为空。".to_owned(),
            FileProblem::NoHeader => {
                "第1行须为表头，至少包含“场所名称”和“场所类型”两列。".to_owned()
            }
            FileProblem::TooManyRows => format!("表格超过{MAX_ROWS}行，请分成几个文件导入。"),
        }
    }

    /// What to tell the officer, in English (also the message on the wire).
    pub fn en(self) -> String {
        match self {
            FileProblem::NotASheet => "Choose an Excel (.xlsx) or CSV file.".to_owned(),
            FileProblem::CsvNotUtf8 => {
                "The CSV is not UTF-8: save it from Excel as \"CSV UTF-8 (comma delimited)\" and import it again.".to_owned()
            }
            FileProblem::NotAWorkbook => {
                "This Excel file cannot be read: save it from Excel as .xlsx and import it again.".to_owned()
            }
            FileProblem::NoSheet => "The first sheet of this Excel file cannot be read.".to_owned(),
            FileProblem::Empty => "The sheet is empty.".to_owned(),
            FileProblem::NoHeader => {
                "Row 1 must name the columns, with at least 场所名称 (name) and 场所类型 (kind).".to_owned()
            }
            FileProblem::TooManyRows => {
                format!("The sheet has more than {MAX_ROWS} rows: import it in several files.")
            }
        }
    }
}

impl std::fmt::Display for FileProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.en())
    }
}

/// The ten kinds as a cell may name them, for a message: `(Chinese, English)`.
fn kinds_named() -> (String, String) {
    let zh: Vec<&str> = VenueKind::ALL.iter().map(|kind| kind.name_zh()).collect();
    let en: Vec<&str> = VenueKind::ALL.iter().map(|kind| kind.name_en()).collect();
    (zh.join("、"), en.join(", "))
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
) -> Result<Vec<ImportRow>, FileProblem> {
    let Some((header, rows)) = sheet.split_first() else {
        return Err(FileProblem::Empty);
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
        return Err(FileProblem::NoHeader);
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
            problems.push(RowProblem::new("场所名称为空", "The name is empty"));
        }
        let kind = kind_from_cell(&kind_text);
        if kind.is_none() {
            let (zh, en) = kinds_named();
            problems.push(if kind_text.is_empty() {
                RowProblem::new(
                    format!("场所类型为空，应为：{zh}"),
                    format!("The kind is empty; it must be one of: {en}"),
                )
            } else {
                RowProblem::new(
                    format!("场所类型“{kind_text}”无法识别，应为：{zh}"),
                    format!("The kind \"{kind_text}\" is not one of: {en}"),
                )
            });
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
                    problems.push(RowProblem::new(
                        format!("经纬度“{lat}, {lon}”无效"),
                        format!(
                            "The position \"{lat}, {lon}\" is not a valid latitude and longitude"
                        ),
                    ));
                    None
                }
            },
        };
        let active = match cell(row, "active").as_str() {
            "" | "正常" | "营业" | "在营" | "active" | "true" | "1" => true,
            "停业" | "注销" | "inactive" | "false" | "0" => false,
            other => {
                problems.push(RowProblem::new(
                    format!("状态“{other}”无法识别，应为“正常”或“停业”"),
                    format!("The state \"{other}\" is neither 正常 (open) nor 停业 (closed)"),
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
                RowProblem::new(
                    "名称和地址与前面的行重复",
                    "The name and address repeat an earlier row",
                )
            } else {
                RowProblem::new(
                    format!("许可证号“{licence_no}”与前面的行重复"),
                    format!("The licence number \"{licence_no}\" repeats an earlier row"),
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
                        .map(|problem| RowProblem::new(problem.zh.clone(), problem.en_sentence()))
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
                problems: vec![RowProblem::new(
                    format!(
                        "台账中该场所为“{}”，与表格的“{kind_text}”不一致；场所类型建档后不能通过导入修改",
                        known.kind.name_zh()
                    ),
                    format!(
                        "The register has this venue as {}, not \"{kind_text}\"; an import does not change a venue's kind",
                        known.kind.name_en()
                    ),
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
    problems: Vec<RowProblem>,
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
