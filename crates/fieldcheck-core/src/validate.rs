//! Validation of records with messages a person understands, run on the phone and again on the server.

use crate::inspection::{Inspection, InspectionKind, ItemResult, Rectify, Status};
use crate::photo::is_photo_name;
use crate::template::Template;
use crate::venue::{Campaign, Venue};
use chrono::NaiveDate;
use std::collections::HashSet;
use std::fmt;

/// One thing wrong with a record: which field, a stable code, and what to do, in English and Chinese.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The field path, e.g. `hazards[0].deadline`.
    pub field: String,
    /// A stable snake_case code for programs.
    pub code: &'static str,
    pub en: String,
    pub zh: String,
}

impl Problem {
    /// The English problem, written as a clause ("a hazard needs a description"), as a sentence of
    /// its own: its first letter a capital.
    pub fn en_sentence(&self) -> String {
        let mut chars = self.en.chars();
        chars
            .next()
            .map(|first| first.to_uppercase().chain(chars).collect())
            .unwrap_or_default()
    }
}

/// Every problem found in one record; empty means valid.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Problems(pub Vec<Problem>);

impl Problems {
    fn add(&mut self, field: impl Into<String>, code: &'static str, en: String, zh: String) {
        self.0.push(Problem {
            field: field.into(),
            code,
            en,
            zh,
        });
    }

    fn into_result(self) -> Result<(), Problems> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }

    /// The codes, in order: handy for tests and logs.
    pub fn codes(&self) -> Vec<&'static str> {
        self.0.iter().map(|problem| problem.code).collect()
    }

    /// All messages in Chinese, one sentence each.
    pub fn message_zh(&self) -> String {
        self.0
            .iter()
            .map(|problem| problem.zh.as_str())
            .collect::<Vec<_>>()
            .join("；")
    }
}

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let messages: Vec<String> = self
            .0
            .iter()
            .map(|problem| format!("{}: {}", problem.field, problem.en))
            .collect();
        f.write_str(&messages.join("; "))
    }
}

impl std::error::Error for Problems {}

impl Inspection {
    /// Checks the record on its own (without the venue register): ids, inspectors, template and
    /// answers, hazards, times and the kind's references.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::default();
        if !self.id.is_well_formed() {
            problems.add(
                "id",
                "bad_id",
                format!("id \"{}\" is not a UUID", self.id),
                format!("记录编号“{}”格式不正确", self.id),
            );
        }
        if !self.venue_id.is_well_formed() {
            problems.add(
                "venue_id",
                "bad_id",
                format!("venue_id \"{}\" is not a UUID", self.venue_id),
                format!("场所编号“{}”格式不正确", self.venue_id),
            );
        }
        // The records it names are looked up by id, so a malformed one is refused here, by name.
        for (field, named) in [("follows", &self.follows), ("amends", &self.amends)] {
            if let Some(named) = named
                && !named.is_well_formed()
            {
                problems.add(
                    field,
                    "bad_id",
                    format!("{field} \"{named}\" is not a UUID"),
                    format!("关联记录编号“{named}”格式不正确"),
                );
            }
        }
        if self.inspectors.is_empty() {
            problems.add(
                "inspectors",
                "no_inspector",
                "at least one inspector must be named".into(),
                "至少需要一名执法人员".into(),
            );
        }
        let mut seen_inspectors = HashSet::new();
        for inspector in &self.inspectors {
            if !seen_inspectors.insert(inspector) {
                problems.add(
                    "inspectors",
                    "duplicate_inspector",
                    format!("inspector {inspector} is named twice"),
                    "同一执法人员重复填写".into(),
                );
            }
        }
        match Template::by_id(&self.template) {
            None => problems.add(
                "template",
                "unknown_template",
                format!("unknown checklist template \"{}\"", self.template),
                format!("未知的检查表版本“{}”", self.template),
            ),
            Some(template) => {
                let mut seen_items = HashSet::new();
                for (answer_idx, answer) in self.answers.iter().enumerate() {
                    if template.item(&answer.item).is_none() {
                        problems.add(
                            format!("answers[{answer_idx}].item"),
                            "unknown_item",
                            format!(
                                "item \"{}\" is not in checklist {}",
                                answer.item, self.template
                            ),
                            format!("检查项“{}”不属于检查表 {}", answer.item, self.template),
                        );
                    } else if !seen_items.insert(answer.item.as_str()) {
                        problems.add(
                            format!("answers[{answer_idx}].item"),
                            "duplicate_item",
                            format!("item \"{}\" is answered twice", answer.item),
                            format!("检查项“{}”重复作答", answer.item),
                        );
                    }
                }
            }
        }
        for (hazard_idx, hazard) in self.hazards.iter().enumerate() {
            if hazard.description.trim().is_empty() {
                problems.add(
                    format!("hazards[{hazard_idx}].description"),
                    "empty_hazard",
                    "a hazard needs a description".into(),
                    "请填写隐患描述".into(),
                );
            }
            if hazard.rectify == Some(Rectify::Deadline) && hazard.deadline.is_none() {
                problems.add(
                    format!("hazards[{hazard_idx}].deadline"),
                    "deadline_missing",
                    "a rectification order with a deadline needs the deadline date".into(),
                    "限期整改须填写整改期限".into(),
                );
            }
        }
        if let Some(finished_at) = self.finished_at
            && finished_at < self.started_at
        {
            problems.add(
                "finished_at",
                "finished_before_started",
                "the inspection cannot finish before it started".into(),
                "检查结束时间不能早于开始时间".into(),
            );
        }
        if self.kind == InspectionKind::Special && self.campaign_id.is_none() {
            problems.add(
                "campaign_id",
                "campaign_missing",
                "a special-campaign inspection must name its campaign".into(),
                "专项检查须选择专项行动".into(),
            );
        }
        if self.amends.is_some() && self.notes.trim().is_empty() {
            problems.add(
                "notes",
                "amendment_empty",
                "an amendment must state the later facts in its notes".into(),
                "补充记录须填写补充说明".into(),
            );
        }
        // An amendment states later facts and nothing else: it carries no visit of its own, so it
        // can neither close a hazard nor stand in for a signed record.
        if self.amends.is_some()
            && (!self.answers.is_empty()
                || !self.hazards.is_empty()
                || !self.hazard_checks.is_empty()
                || self.party.is_some()
                || !self.officer_signatures.is_empty()
                || self.complaint.is_some()
                || self.warning_issued
                || self.case_opened)
        {
            problems.add(
                "amends",
                "amendment_not_notes",
                "an amendment holds only its notes and photos, not answers, hazards, signatures or outcomes".into(),
                "补充记录只能填写补充说明和照片".into(),
            );
        }
        if self.kind == InspectionKind::Reinspection && self.follows.is_none() {
            problems.add(
                "follows",
                "follows_missing",
                "a re-inspection must name the inspection it follows up".into(),
                "复查须关联原检查记录".into(),
            );
        }
        if let Some(location) = self.location
            && !location_in_range(location.lat, location.lon)
        {
            problems.add(
                "location",
                "bad_location",
                "the GPS position is outside the valid range".into(),
                "定位坐标超出有效范围".into(),
            );
        }
        for name in self.photo_names() {
            if !is_photo_name(name) {
                problems.add(
                    "photos",
                    "bad_photo_name",
                    format!("\"{name}\" is not a photo name (64 lowercase hex digits of SHA-256)"),
                    "照片或签名的编号格式不正确".into(),
                );
            }
        }
        problems.into_result()
    }

    /// Checks what a submitted record must have beyond [`Inspection::validate`]: it stands as the
    /// on-site record (现场检查笔录), so every item is answered, two officers are named and have
    /// signed, the certificates were shown, the party signed or refused with a reason, every failed
    /// item has a hazard with its rectification chosen, and every deadline is after `today` (the day
    /// of the visit). A draft may be partial; this runs only on submission, on the phone and again
    /// on the server.
    ///
    /// Fields name the place to fix: `items[<code>]` for a checklist item, `hazards[i].<field>`,
    /// `inspectors`, `party.<field>`, `officer_signatures`, `complaint.text`.
    pub fn check_complete(&self, today: NaiveDate) -> Result<(), Problems> {
        // An amendment adds facts to a complete record: its notes are what it must hold, and
        // `validate` asks for them.
        if self.amends.is_some() {
            return Ok(());
        }
        let mut problems = Problems::default();
        if let Some(template) = Template::by_id(&self.template) {
            for (number, item) in template.items.iter().enumerate() {
                let number = number + 1;
                let field = format!("items[{}]", item.code);
                match self.answer(item.code).map(|answer| answer.result) {
                    None => problems.add(
                        field,
                        "unanswered",
                        format!("item {number} ({}) is not answered", item.en),
                        format!("第{number}项“{}”未作答", item.zh),
                    ),
                    Some(ItemResult::Fail)
                        if !self
                            .hazards
                            .iter()
                            .any(|hazard| hazard.item.as_deref() == Some(item.code)) =>
                    {
                        problems.add(
                            field,
                            "hazard_missing",
                            format!("item {number} ({}) failed: describe the hazard", item.en),
                            format!("第{number}项“{}”不合格，须填写隐患", item.zh),
                        );
                    }
                    Some(result) if item.code == CREDENTIALS_ITEM && result != ItemResult::Pass => {
                        problems.add(
                            field,
                            "credentials_not_shown",
                            "officers must show their certificates: item 1 must be Pass".into(),
                            "执法人员须出示执法证件（第1项须为合格）".into(),
                        );
                    }
                    Some(_) => {}
                }
            }
        }
        for (hazard_idx, hazard) in self.hazards.iter().enumerate() {
            match (hazard.rectify, hazard.deadline) {
                (None, _) => problems.add(
                    format!("hazards[{hazard_idx}].rectify"),
                    "rectify_missing",
                    "choose how the hazard is to be rectified".into(),
                    "请选择整改方式".into(),
                ),
                (Some(Rectify::Deadline), Some(deadline)) if deadline <= today => problems.add(
                    format!("hazards[{hazard_idx}].deadline"),
                    "deadline_not_after_today",
                    format!("the deadline {deadline} must be after the day of the visit ({today})"),
                    format!("整改期限{deadline}须晚于检查当日（{today}）"),
                ),
                _ => {}
            }
        }
        if self.inspectors.len() < 2 {
            problems.add(
                "inspectors",
                "second_officer_missing",
                "an on-site inspection needs two officers: pick your partner".into(),
                "现场检查须两名执法人员：请选择同行执法人员".into(),
            );
        }
        for (number, inspector) in self.inspectors.iter().enumerate() {
            if !self
                .officer_signatures
                .iter()
                .any(|signed| &signed.officer == inspector)
            {
                let (en, zh) = match number {
                    0 => ("the lead officer has not signed", "主办执法人员尚未签名"),
                    1 => ("the partner officer has not signed", "同行执法人员尚未签名"),
                    _ => (
                        "an officer named on the record has not signed",
                        "有执法人员尚未签名",
                    ),
                };
                problems.add(
                    format!("officer_signatures[{number}]"),
                    "officer_signature_missing",
                    en.into(),
                    zh.into(),
                );
            }
        }
        let party = self.party.clone().unwrap_or_default();
        if party.name.trim().is_empty() {
            problems.add(
                "party.name",
                "party_name_missing",
                "name the party present (the person in charge at the venue)".into(),
                "请填写当事人姓名".into(),
            );
        }
        if party.refused {
            if party.refusal_reason.trim().is_empty() {
                problems.add(
                    "party.refusal_reason",
                    "refusal_reason_missing",
                    "the party refused to sign: record why".into(),
                    "当事人拒绝签名，须注明原因".into(),
                );
            }
        } else if party.signature.is_none() {
            problems.add(
                "party.signature",
                "party_signature_missing",
                "the party signs, or their refusal is recorded".into(),
                "须由当事人签名，或记录其拒绝签名".into(),
            );
        }
        if self.kind == InspectionKind::Complaint
            && self
                .complaint
                .as_ref()
                .is_none_or(|complaint| complaint.text.trim().is_empty())
        {
            problems.add(
                "complaint.text",
                "complaint_missing",
                "a complaint follow-up states the complaint".into(),
                "投诉核查须填写投诉内容".into(),
            );
        }
        problems.into_result()
    }

    /// Whether this record, as it stands, must pass [`Inspection::check_submission`].
    pub fn must_be_complete(&self) -> bool {
        self.status == Status::Submitted
    }

    /// What a submission must hold, given the copy it replaces (`before`, the server's). A first
    /// submission (new, or from a draft) must be complete. A record already submitted or returned
    /// may keep what it lacked before (a record submitted before these rules, whose officers can no
    /// longer change), but an edit may not take away anything it had.
    pub fn check_submission(&self, before: Option<&Inspection>) -> Result<(), Problems> {
        let found = match self.check_complete(self.visit_day()) {
            Ok(()) => return Ok(()),
            Err(found) => found,
        };
        let already = match before {
            Some(before) if matches!(before.status, Status::Submitted | Status::Returned) => before
                .check_complete(before.visit_day())
                .err()
                .unwrap_or_default(),
            _ => Problems::default(),
        };
        let new: Vec<Problem> = found
            .0
            .into_iter()
            .filter(|problem| {
                !already
                    .0
                    .iter()
                    .any(|old| old.code == problem.code && old.field == problem.field)
            })
            .collect();
        Problems(new).into_result()
    }

    /// The day of the visit, the `today` of [`Inspection::check_complete`] for a stored record: the
    /// date it finished (or started) in the inspector's own time zone.
    pub fn visit_day(&self) -> NaiveDate {
        self.finished_at.unwrap_or(self.started_at).date_naive()
    }

    /// Checks that the record fits its venue: the checklist is the venue kind's.
    pub fn validate_for_venue(&self, venue: &Venue) -> Result<(), Problems> {
        let mut problems = Problems::default();
        if self.venue_id != venue.id {
            problems.add(
                "venue_id",
                "venue_mismatch",
                "the record names another venue".into(),
                "记录与场所不一致".into(),
            );
        }
        let kind_code = venue.kind.code();
        if self.template.split_once('@').map(|(kind, _)| kind) != Some(kind_code) {
            problems.add(
                "template",
                "template_kind_mismatch",
                format!(
                    "checklist {} does not fit a venue of kind {kind_code}",
                    self.template
                ),
                format!(
                    "检查表 {} 与场所类型“{}”不符",
                    self.template,
                    venue.kind.name_zh()
                ),
            );
        }
        problems.into_result()
    }
}

impl Venue {
    /// Checks a venue: id, a name, and a position in range if given.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::default();
        if !self.id.is_well_formed() {
            problems.add(
                "id",
                "bad_id",
                format!("id \"{}\" is not a UUID", self.id),
                format!("场所编号“{}”格式不正确", self.id),
            );
        }
        if self.name.trim().is_empty() {
            problems.add(
                "name",
                "empty_name",
                "the venue needs a name".into(),
                "请填写场所名称".into(),
            );
        }
        if let Some(location) = self.location
            && !location_in_range(location.lat, location.lon)
        {
            problems.add(
                "location",
                "bad_location",
                "the GPS position is outside the valid range".into(),
                "定位坐标超出有效范围".into(),
            );
        }
        problems.into_result()
    }
}

impl Campaign {
    /// Checks a campaign: id, a name, at least one venue kind, and dates in order.
    pub fn validate(&self) -> Result<(), Problems> {
        let mut problems = Problems::default();
        if !self.id.is_well_formed() {
            problems.add(
                "id",
                "bad_id",
                format!("id \"{}\" is not a UUID", self.id),
                format!("专项行动编号“{}”格式不正确", self.id),
            );
        }
        if self.name.trim().is_empty() {
            problems.add(
                "name",
                "empty_name",
                "the campaign needs a name".into(),
                "请填写专项行动名称".into(),
            );
        }
        if self.venue_kinds.is_empty() {
            problems.add(
                "venue_kinds",
                "no_venue_kind",
                "the campaign must cover at least one venue kind".into(),
                "专项行动至少涵盖一种场所类型".into(),
            );
        }
        if self.ends_on < self.starts_on {
            problems.add(
                "ends_on",
                "ends_before_starts",
                "the campaign cannot end before it starts".into(),
                "专项行动结束日期不能早于开始日期".into(),
            );
        }
        problems.into_result()
    }
}

/// The common item that records the officers showing their certificates (行政处罚法 Art. 55).
pub const CREDENTIALS_ITEM: &str = "common.credentials_shown";

fn location_in_range(lat: f64, lon: f64) -> bool {
    (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)
}
