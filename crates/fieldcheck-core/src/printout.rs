//! The printed on-site inspection record (现场检查笔录) and rectification order (责令改正通知书), composed
//! from a record: every field a brigade files with it (time, place, venue, party, officers with their
//! certificate numbers, findings, rectification, signatures or refusal, photos), as Chinese text.
//!
//! Pure, so that what a brigade signs and files is decided and tested here; the phone only lays it out
//! on A4. Both documents are Chinese whatever the app's language: they are legal documents.

use crate::ids::UserId;
use crate::inspection::{Inspection, ItemResult, Rectify, Status};
use crate::local::{LocalState, ServerVersion, holds_edit};
use crate::template::Template;
use crate::validate::CREDENTIALS_ITEM;
use crate::venue::Venue;
use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Timelike};
use serde_json::Value;

/// An officer as printed: name and certificate number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrintedOfficer {
    pub id: UserId,
    pub name: String,
    pub cert_no: Option<String>,
}

/// One checklist line: number, wording, result and basis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemLine {
    pub number: usize,
    pub wording: &'static str,
    /// 合格 / 不合格 / 不适用 / 未检查.
    pub result: &'static str,
    pub basis: &'static str,
}

/// One problem found, in words, with how it is to be fixed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub number: usize,
    /// The checklist item's wording, if the hazard was found under one.
    pub item: Option<&'static str>,
    pub description: String,
    pub basis: Option<&'static str>,
    /// 当场整改 / 责令限期整改，于…前整改完毕 / 整改方式未定.
    pub rectify: String,
    pub deadline: Option<NaiveDate>,
}

/// A photo or signature in the appendix: its number, what it shows, and its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appendix {
    pub number: usize,
    pub caption: String,
    pub sha256: String,
}

/// Whose signature, and its name (or why there is none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureLine {
    pub label: String,
    /// The signature's photo name, if signed.
    pub signature: Option<String>,
    /// When not signed: what stands in its place (拒绝签字…, 未签名).
    pub instead: Option<String>,
}

/// A 补充记录 printed under the minutes it adds to: later facts of an approved, locked record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmendmentLine {
    /// 2026年12月1日10时05分.
    pub at: String,
    pub officer: String,
    pub notes: String,
    /// Said after it when the phone's copy is not the server's yet (see [`Unsettled::of`]).
    pub unsettled: Option<&'static str>,
}

/// A record that may amend the one printed, as the phone holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct AmendmentCopy {
    pub record: Inspection,
    pub unsettled: Option<Unsettled>,
}

/// The 现场检查笔录.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Minutes {
    /// Said above the title when the record is not final: a draft, returned and not resubmitted, or
    /// a copy the server refused or holds a newer version of.
    /// A printout of it is no record of the inspection yet.
    pub not_final: Option<&'static str>,
    pub unit: String,
    /// 检查时间：2026年11月26日10时00分至10时40分.
    pub time_span: String,
    pub place: String,
    pub venue: String,
    pub licence_no: String,
    pub kind: &'static str,
    /// 当事人 line: name, position, ID or phone.
    pub party: String,
    pub officers: Vec<String>,
    pub recorder: String,
    /// Said above the title when the phone lacks the unit's name or an officer's certificate number.
    pub incomplete: Option<&'static str>,
    /// 执法人员已出示执法证件并告知 … (or that it was not recorded).
    pub credentials: String,
    pub items: Vec<ItemLine>,
    pub findings: Vec<Finding>,
    /// 警告 / 立案 / complaint / re-inspection lines.
    pub outcome: Vec<String>,
    pub notes: String,
    pub party_signature: SignatureLine,
    pub officer_signatures: Vec<SignatureLine>,
    pub photos: Vec<Appendix>,
    pub location: Option<String>,
    /// The record's amendments, oldest first.
    pub amendments: Vec<AmendmentLine>,
}

/// The 责令改正通知书 for the deadline hazards of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RectificationOrder {
    pub unit: String,
    pub venue: String,
    pub found_on: String,
    pub findings: Vec<Finding>,
    /// The latest deadline, for the closing sentence.
    pub deadline: NaiveDate,
    /// The officers who serve it, each with their certificate number.
    pub officers: Vec<String>,
    /// Said above the title when the phone lacks what the notice must name (the unit, an officer or
    /// their certificate number): it is not to be served as it is.
    pub incomplete: Option<&'static str>,
}

/// The officer `id` as the phone knows them; their id in place of a name when it does not.
fn printed(context: &PrintContext<'_>, id: &UserId) -> PrintedOfficer {
    context
        .officers
        .iter()
        .find(|officer| &officer.id == id)
        .cloned()
        .unwrap_or_else(|| PrintedOfficer {
            id: id.clone(),
            name: id.to_string(),
            cert_no: None,
        })
}

impl PrintedOfficer {
    /// `张伟（执法证号：豫C-0101023）`, as the documents name an officer.
    fn line(&self) -> String {
        match &self.cert_no {
            Some(cert) => format!("{}（执法证号：{cert}）", self.name),
            None => format!("{}（执法证号：未登记）", self.name),
        }
    }
}

/// Everything the printout needs besides the record.
pub struct PrintContext<'a> {
    pub venue: &'a Venue,
    /// The officers named on the record, as far as the phone knows them.
    pub officers: &'a [PrintedOfficer],
    /// The enforcement unit's name.
    pub unit: &'a str,
    /// Records the phone holds that may amend this one (those whose `amends` names it are printed).
    pub amendments: &'a [AmendmentCopy],
    /// The phone's copy is not the server's record: refused, or waiting beside a newer copy.
    pub unsettled: Option<Unsettled>,
}

/// Why the phone's copy of a submitted record is not the record of the inspection yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unsettled {
    /// The server refused the phone's last change of it.
    Refused,
    /// The server holds a newer copy and the officer has not chosen between them.
    Conflict,
    /// A change of a record the server holds, not yet accepted by it.
    Unsent,
    /// The phone cannot read its own copy.
    Unreadable,
}

impl Unsettled {
    /// How the phone's copy stands against the server's record. A first submission not yet sent (and
    /// not edited since it was sent) is settled: the server holds nothing else, and it is printed on
    /// site before there is signal.
    pub fn of(local: &LocalState) -> Option<Unsettled> {
        match local {
            LocalState::Synced { .. } => None,
            LocalState::Queued {
                base, mine, newer, ..
            } => Unsettled::pending(base.as_ref(), mine, newer.as_ref(), false),
            LocalState::InFlight {
                base,
                mine,
                newer,
                next,
                ..
            } => Unsettled::pending(base.as_ref(), mine, newer.as_ref(), next.is_some()),
            LocalState::Conflict { .. } => Some(Unsettled::Conflict),
            LocalState::Rejected { .. } => Some(Unsettled::Refused),
            LocalState::Quarantined { .. } => Some(Unsettled::Unreadable),
        }
    }

    /// A copy waiting to be sent (`mine`), or sent and edited again since (`edited`).
    fn pending(
        base: Option<&ServerVersion>,
        mine: &Value,
        newer: Option<&ServerVersion>,
        edited: bool,
    ) -> Option<Unsettled> {
        match newer {
            // A colleague's change the officer has not seen beside it yet.
            Some(newer) if !holds_edit(&newer.body, mine) => Some(Unsettled::Conflict),
            // The phone's own change, pulled back before its answer came (an answer lost on a weak
            // signal): the server holds what is shown, unless it was edited since.
            Some(_) => edited.then_some(Unsettled::Unsent),
            None => (base.is_some() || edited).then_some(Unsettled::Unsent),
        }
    }

    /// The line above the printout's title.
    fn said(self) -> &'static str {
        match self {
            Unsettled::Refused => "本机版本未被服务器接受：不作为现场检查笔录使用",
            Unsettled::Conflict => "本机版本与服务器上的版本冲突，尚未处理：不作为现场检查笔录使用",
            Unsettled::Unsent => "本机修改尚未被服务器接受：不作为现场检查笔录使用",
            Unsettled::Unreadable => "本机副本无法读取：不作为现场检查笔录使用",
        }
    }
}

/// `2026年3月5日`, as documents write a date. Written out rather than through chrono's `format`,
/// whose pattern interpreter weighs several KiB in the phone's shell.
pub fn date_zh(date: &impl Datelike) -> String {
    format!("{:04}年{}月{}日", date.year(), date.month(), date.day())
}

/// `09时05分`.
fn clock_zh(at: &impl Timelike) -> String {
    format!("{:02}时{:02}分", at.hour(), at.minute())
}

fn minute(at: &DateTime<FixedOffset>) -> String {
    format!("{}{}", date_zh(at), clock_zh(at))
}

fn result_zh(result: Option<ItemResult>) -> &'static str {
    match result {
        Some(ItemResult::Pass) => "合格",
        Some(ItemResult::Fail) => "不合格",
        Some(ItemResult::Na) => "不适用",
        None => "未检查",
    }
}

impl Inspection {
    /// The 现场检查笔录 of this record.
    pub fn minutes(&self, context: &PrintContext<'_>) -> Minutes {
        let template = Template::by_id(&self.template);
        let officer = |id: &UserId| printed(context, id);
        let officers: Vec<PrintedOfficer> = self.inspectors.iter().map(officer).collect();
        let time_span = match self.finished_at {
            Some(finished) if finished.date_naive() == self.started_at.date_naive() => {
                format!("{}至{}", minute(&self.started_at), clock_zh(&finished))
            }
            Some(finished) => format!("{}至{}", minute(&self.started_at), minute(&finished)),
            None => format!("{}起（未结束）", minute(&self.started_at)),
        };
        let party = self.party.clone().unwrap_or_default();
        let mut party_line = if party.name.is_empty() {
            "（未填写）".to_owned()
        } else {
            party.name.clone()
        };
        if !party.title.is_empty() {
            party_line.push_str(&format!("，职务：{}", party.title));
        }
        if !party.id_or_phone.is_empty() {
            party_line.push_str(&format!("，身份证号/电话：{}", party.id_or_phone));
        }
        let credentials = match self.answer(CREDENTIALS_ITEM).map(|answer| answer.result) {
            Some(ItemResult::Pass) => {
                "执法人员已向当事人出示执法证件，告知检查事由及当事人的权利和义务。".to_owned()
            }
            _ => "未记录执法人员出示执法证件。".to_owned(),
        };
        let items: Vec<ItemLine> = template
            .as_ref()
            .map(|template| {
                template
                    .items
                    .iter()
                    .enumerate()
                    .map(|(idx, item)| ItemLine {
                        number: idx + 1,
                        wording: item.zh,
                        result: result_zh(self.answer(item.code).map(|answer| answer.result)),
                        basis: item.basis_zh,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let findings = self.findings(template.as_ref(), |_| true);
        let mut outcome = Vec::new();
        if self.warning_issued {
            outcome.push("当场给予警告。".to_owned());
        }
        if self.case_opened {
            outcome.push("已立案查处。".to_owned());
        }
        if let Some(complaint) = &self.complaint {
            let mut line = format!("投诉核查：{}", complaint.text);
            if !complaint.source.is_empty() {
                line.push_str(&format!("（来源：{}", complaint.source));
                if let Some(received) = complaint.received_on {
                    line.push_str(&format!("，受理日期：{}", date_zh(&received)));
                }
                line.push('）');
            }
            outcome.push(line);
        }
        for check in &self.hazard_checks {
            outcome.push(format!(
                "复查原隐患（{}）：{}{}",
                check.hazard,
                if check.rectified {
                    "已整改"
                } else {
                    "未整改"
                },
                if check.note.is_empty() {
                    String::new()
                } else {
                    format!("，{}", check.note)
                }
            ));
        }
        // Said once, first, whatever else the visit did (a warning, a complaint checked): the
        // sheet never leaves its findings section silent, nor says it twice.
        if findings.is_empty() {
            outcome.insert(0, "未发现违法违规问题。".to_owned());
        }
        let party_signature = SignatureLine {
            label: "当事人签名".to_owned(),
            signature: party.signature.clone().filter(|_| !party.refused),
            instead: if party.refused {
                let mut text = format!("当事人拒绝签字，原因：{}", party.refusal_reason);
                if !party.witness.is_empty() {
                    text.push_str(&format!("；见证人：{}", party.witness));
                }
                Some(text)
            } else if party.signature.is_none() {
                Some("未签名".to_owned())
            } else {
                None
            },
        };
        let officer_signatures = officers
            .iter()
            .map(|printed| {
                let signature = self
                    .officer_signatures
                    .iter()
                    .find(|signed| signed.officer == printed.id)
                    .map(|signed| signed.signature.clone());
                SignatureLine {
                    label: format!("执法人员签名（{}）", printed.name),
                    instead: signature.is_none().then(|| "未签名".to_owned()),
                    signature,
                }
            })
            .collect();
        let mut amendments: Vec<&AmendmentCopy> = context
            .amendments
            .iter()
            .filter(|other| other.record.amends.as_ref() == Some(&self.id))
            .collect();
        amendments.sort_by_key(|amendment| amendment.record.started_at);
        Minutes {
            not_final: match self.status {
                Status::Draft => Some("草稿：尚未提交，不作为现场检查笔录使用"),
                Status::Returned => Some("已退回修改：尚未重新提交，不作为现场检查笔录使用"),
                Status::Submitted | Status::Approved => context.unsettled.map(Unsettled::said),
            },
            amendments: amendments
                .into_iter()
                .map(|AmendmentCopy { record, unsettled }| AmendmentLine {
                    at: minute(&record.started_at),
                    officer: record
                        .inspectors
                        .first()
                        .map(|id| officer(id).name)
                        .unwrap_or_default(),
                    notes: record.notes.clone(),
                    unsettled: unsettled.map(|_| "（本机版本，尚未被服务器接受）"),
                })
                .collect(),
            incomplete: self
                .lacks_unit_or_certificate(context)
                .then_some("执法单位或执法人员证号不全：请同步后重新打印"),
            unit: context.unit.to_owned(),
            time_span,
            place: context.venue.address.clone(),
            venue: context.venue.name.clone(),
            licence_no: context.venue.licence_no.clone(),
            kind: self.kind.name_zh(),
            party: party_line,
            officers: officers.iter().map(PrintedOfficer::line).collect(),
            recorder: officers
                .first()
                .map(|printed| printed.name.clone())
                .unwrap_or_default(),
            credentials,
            items,
            findings,
            outcome,
            notes: self.notes.clone(),
            party_signature,
            officer_signatures,
            photos: self.appendix(template.as_ref()),
            location: self.location.map(|at| {
                let accuracy = at
                    .accuracy_m
                    .map(|metres| format!("，精度约{metres:.0}米"))
                    .unwrap_or_default();
                format!("北纬{:.5}°，东经{:.5}°{accuracy}", at.lat, at.lon)
            }),
        }
    }

    /// The 责令改正通知书, if the record orders any hazard fixed by a deadline.
    pub fn rectification_order(&self, context: &PrintContext<'_>) -> Option<RectificationOrder> {
        let template = Template::by_id(&self.template);
        let findings = self.findings(template.as_ref(), |rectify| {
            rectify == Some(Rectify::Deadline)
        });
        let deadline = findings
            .iter()
            .filter_map(|finding| finding.deadline)
            .max()?;
        Some(RectificationOrder {
            unit: context.unit.to_owned(),
            venue: context.venue.name.clone(),
            found_on: date_zh(&self.visit_day()),
            findings,
            deadline,
            officers: self
                .inspectors
                .iter()
                .map(|id| printed(context, id).line())
                .collect(),
            incomplete: self
                .lacks_unit_or_certificate(context)
                .then_some("执法单位或执法人员证号不全，请同步后重新打印：不作为正式文书送达"),
        })
    }

    /// The phone lacks what a document must name: the unit's name, or an officer's certificate.
    fn lacks_unit_or_certificate(&self, context: &PrintContext<'_>) -> bool {
        context.unit.is_empty()
            || self.inspectors.iter().any(|id| {
                !context
                    .officers
                    .iter()
                    .any(|officer| &officer.id == id && officer.cert_no.is_some())
            })
    }

    fn findings(
        &self,
        template: Option<&Template>,
        keep: impl Fn(Option<Rectify>) -> bool,
    ) -> Vec<Finding> {
        self.hazards
            .iter()
            .filter(|hazard| keep(hazard.rectify))
            .enumerate()
            .map(|(idx, hazard)| {
                let item = hazard
                    .item
                    .as_deref()
                    .and_then(|code| template.and_then(|template| template.item(code)));
                Finding {
                    number: idx + 1,
                    item: item.map(|item| item.zh),
                    description: hazard.description.clone(),
                    basis: item.map(|item| item.basis_zh),
                    rectify: match (hazard.rectify, hazard.deadline) {
                        (Some(Rectify::OnSite), _) => "当场整改".to_owned(),
                        (Some(Rectify::Deadline), Some(deadline)) => {
                            format!("责令限期整改，于{}前整改完毕", date_zh(&deadline))
                        }
                        (Some(Rectify::Deadline), None) => "责令限期整改（期限未填）".to_owned(),
                        (None, _) => "整改方式未定".to_owned(),
                    },
                    deadline: hazard.deadline,
                }
            })
            .collect()
    }

    /// Photos as a numbered appendix: items in template order, then hazards, then the visit's own.
    fn appendix(&self, template: Option<&Template>) -> Vec<Appendix> {
        let wording = |code: &str| {
            template
                .and_then(|template| template.item(code))
                .map_or_else(|| code.to_owned(), |item| item.zh.to_owned())
        };
        let mut captioned: Vec<(String, &String)> = Vec::new();
        for answer in &self.answers {
            for photo in &answer.photos {
                captioned.push((format!("检查项：{}", wording(&answer.item)), photo));
            }
        }
        for hazard in &self.hazards {
            for photo in &hazard.photos {
                captioned.push((format!("隐患：{}", hazard.description), photo));
            }
        }
        for photo in &self.photos {
            captioned.push(("现场照片".to_owned(), photo));
        }
        let mut appendix: Vec<Appendix> = Vec::new();
        for (caption, sha256) in captioned {
            if appendix.iter().any(|entry| &entry.sha256 == sha256) {
                continue;
            }
            appendix.push(Appendix {
                number: appendix.len() + 1,
                caption,
                sha256: sha256.clone(),
            });
        }
        appendix
    }
}
