//! The inspection record (检查记录) on the wire, and the status rules it moves by.

use crate::ids::{CampaignId, HazardId, InspectionId, UnitId, UserId, VenueId};
use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};

/// What kind of visit this was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InspectionKind {
    /// 日常检查.
    Routine,
    /// 专项检查, part of a campaign (`campaign_id`).
    Special,
    /// 复查 of an earlier inspection's hazards (`follows`).
    Reinspection,
    /// 投诉核查.
    Complaint,
}

impl InspectionKind {
    pub const ALL: [InspectionKind; 4] = [
        InspectionKind::Routine,
        InspectionKind::Special,
        InspectionKind::Reinspection,
        InspectionKind::Complaint,
    ];

    pub fn name_zh(self) -> &'static str {
        match self {
            InspectionKind::Routine => "日常检查",
            InspectionKind::Special => "专项检查",
            InspectionKind::Reinspection => "复查",
            InspectionKind::Complaint => "投诉核查",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            InspectionKind::Routine => "Routine",
            InspectionKind::Special => "Special campaign",
            InspectionKind::Reinspection => "Re-inspection",
            InspectionKind::Complaint => "Complaint follow-up",
        }
    }
}

/// Where a record is in review: `draft` → `submitted` → (`approved` | `returned`); `returned` →
/// `submitted` again after edits. `approved` is locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Draft,
    Submitted,
    Approved,
    Returned,
}

/// A supervisor's review decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewDecision {
    Approve,
    Return,
}

/// Why a status change is not allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The record is approved: later facts go into an amendment, never an edit.
    #[error("the inspection is approved and locked; record later facts as an amendment")]
    Locked,
    /// Only a supervisor's review sets `approved` or `returned`.
    #[error("only a supervisor's review can set the status to {0:?}")]
    ReviewOnly(Status),
    /// Only a submitted record can be reviewed.
    #[error("only a submitted inspection can be reviewed; this one is {0:?}")]
    NotSubmitted(Status),
    /// A record once submitted never becomes a draft again.
    #[error("a {} record cannot go back to {}", .from.code(), .to.code())]
    Regression { from: Status, to: Status },
}

impl Status {
    pub fn code(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Submitted => "submitted",
            Status::Approved => "approved",
            Status::Returned => "returned",
        }
    }

    /// Whether an inspector's push may move a record from `from` (None: new) to `to`.
    ///
    /// Inspectors write drafts and submissions and may edit a submission until it is reviewed; a
    /// submitted (or returned) record never goes back to draft; they never set a review outcome, and
    /// nothing edits an approved record.
    pub fn check_push(from: Option<Status>, to: Status) -> Result<(), TransitionError> {
        match (from, to) {
            (Some(Status::Approved), _) => Err(TransitionError::Locked),
            (Some(from @ (Status::Submitted | Status::Returned)), Status::Draft) => {
                Err(TransitionError::Regression { from, to })
            }
            (_, Status::Draft | Status::Submitted) => Ok(()),
            // A returned record may be edited and kept returned (a saved draft of the fix).
            (Some(Status::Returned), Status::Returned) => Ok(()),
            (_, review_only) => Err(TransitionError::ReviewOnly(review_only)),
        }
    }

    /// The stable code of a refused transition, as the server answers it.
    pub fn refusal_code(error: TransitionError) -> &'static str {
        match error {
            TransitionError::Locked => "locked",
            TransitionError::ReviewOnly(_) => "review_only",
            TransitionError::NotSubmitted(_) => "not_submitted",
            TransitionError::Regression { .. } => "status_regression",
        }
    }

    /// The status a review decision leads to, if the record can be reviewed.
    pub fn review(self, decision: ReviewDecision) -> Result<Status, TransitionError> {
        match self {
            Status::Submitted => Ok(match decision {
                ReviewDecision::Approve => Status::Approved,
                ReviewDecision::Return => Status::Returned,
            }),
            Status::Approved => Err(TransitionError::Locked),
            other => Err(TransitionError::NotSubmitted(other)),
        }
    }
}

/// The answer to one checklist item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemResult {
    /// 合格.
    Pass,
    /// 不合格: normally creates a hazard.
    Fail,
    /// 不适用.
    Na,
}

/// How a hazard is to be fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rectify {
    /// 当场整改.
    OnSite,
    /// 责令限期整改, with a `deadline`.
    Deadline,
}

/// Whether a hazard has been fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HazardStatus {
    Open,
    Rectified,
}

/// A GPS fix taken at the venue; missing GPS never blocks saving.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub lat: f64,
    pub lon: f64,
    #[serde(default)]
    pub accuracy_m: Option<f64>,
}

/// One answered checklist item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    /// A template item code, e.g. `internet_cafe.no_minors`.
    pub item: String,
    pub result: ItemResult,
    #[serde(default)]
    pub note: String,
    /// SHA-256 hex names of photos.
    #[serde(default)]
    pub photos: Vec<String>,
}

/// A hazard (隐患) found on the visit and how it is to be fixed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hazard {
    pub id: HazardId,
    /// The checklist item it was found under, if any.
    #[serde(default)]
    pub item: Option<String>,
    pub description: String,
    /// How it is to be fixed; `None` until the officer chooses (a draft may leave it open, a
    /// submission may not).
    #[serde(default)]
    pub rectify: Option<Rectify>,
    #[serde(default)]
    pub deadline: Option<NaiveDate>,
    pub status: HazardStatus,
    /// SHA-256 hex names of photos of the hazard.
    #[serde(default)]
    pub photos: Vec<String>,
}

/// On a re-inspection (复查): what became of one open hazard of the record it follows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HazardCheck {
    /// The hazard of the followed record.
    pub hazard: HazardId,
    /// Whether it is rectified now; `false` keeps it open.
    pub rectified: bool,
    #[serde(default)]
    pub note: String,
}

/// A complaint (投诉) that a complaint follow-up (投诉核查) checks.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Complaint {
    /// What the complaint says.
    #[serde(default)]
    pub text: String,
    /// Where it came from, e.g. 12345 热线.
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub received_on: Option<NaiveDate>,
}

/// An officer's signature on the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfficerSignature {
    pub officer: UserId,
    /// SHA-256 hex of the signature PNG.
    pub signature: String,
}

/// The party (当事人) present, and their signature or refusal.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Party {
    #[serde(default)]
    pub name: String,
    /// Their position at the venue, e.g. 负责人.
    #[serde(default)]
    pub title: String,
    /// Their ID card number or phone number.
    #[serde(default)]
    pub id_or_phone: String,
    /// SHA-256 hex of the signature PNG.
    #[serde(default)]
    pub signature: Option<String>,
    /// The party refused to sign (拒绝签名): the reason and a witness take the signature's place.
    #[serde(default)]
    pub refused: bool,
    #[serde(default)]
    pub refusal_reason: String,
    #[serde(default)]
    pub witness: String,
}

/// One review of a record by a supervisor: kept by the server, in order, on the record itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub by: UserId,
    /// Server time of the decision.
    pub at: DateTime<FixedOffset>,
    pub decision: ReviewDecision,
    #[serde(default)]
    pub comment: Option<String>,
    /// The rev the supervisor saw and decided on.
    pub rev: u64,
}

/// An inspection record on the wire (`docs/protocol.md`).
///
/// `unit_id`, `created_by` and `received_at` are set by the server when it first accepts the record;
/// `started_at`/`finished_at` are the device times the inspector saw. Both are kept, because device
/// clocks lie and legal records must not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inspection {
    pub id: InspectionId,
    pub venue_id: VenueId,
    pub kind: InspectionKind,
    #[serde(default)]
    pub campaign_id: Option<CampaignId>,
    #[serde(default)]
    pub follows: Option<InspectionId>,
    /// An amendment (补充记录): later facts about this approved record, which stays locked. Only
    /// present on amendments, so other records keep the shape they always had.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amends: Option<InspectionId>,
    /// The template id the record was made with, e.g. `internet_cafe@1`.
    pub template: String,
    pub started_at: DateTime<FixedOffset>,
    #[serde(default)]
    pub finished_at: Option<DateTime<FixedOffset>>,
    pub inspectors: Vec<UserId>,
    #[serde(default)]
    pub location: Option<Location>,
    #[serde(default)]
    pub answers: Vec<Answer>,
    #[serde(default)]
    pub hazards: Vec<Hazard>,
    /// 警告: a warning was issued on the spot.
    #[serde(default)]
    pub warning_issued: bool,
    /// 立案: a case was opened.
    #[serde(default)]
    pub case_opened: bool,
    /// Photos of the visit as a whole (not of one item or hazard).
    #[serde(default)]
    pub photos: Vec<String>,
    /// On a re-inspection: what became of each open hazard of the followed record.
    #[serde(default)]
    pub hazard_checks: Vec<HazardCheck>,
    /// On a complaint follow-up: the complaint.
    #[serde(default)]
    pub complaint: Option<Complaint>,
    #[serde(default)]
    pub party: Option<Party>,
    /// The officers' own signatures.
    #[serde(default)]
    pub officer_signatures: Vec<OfficerSignature>,
    #[serde(default)]
    pub notes: String,
    pub status: Status,
    /// The supervisor's comment on the last review, if any.
    #[serde(default)]
    pub review_comment: Option<String>,
    /// Set by the server: the unit the record belongs to (the venue's unit).
    #[serde(default)]
    pub unit_id: Option<UnitId>,
    /// Set by the server: who first pushed the record.
    #[serde(default)]
    pub created_by: Option<UserId>,
    /// Set by the server: when it first received the record.
    #[serde(default)]
    pub received_at: Option<DateTime<FixedOffset>>,
    /// Set by the server: every review, oldest first.
    #[serde(default)]
    pub reviews: Vec<Review>,
}

impl Inspection {
    /// The answer given for an item code, if any.
    pub fn answer(&self, item_code: &str) -> Option<&Answer> {
        self.answers.iter().find(|answer| answer.item == item_code)
    }

    /// Sets (or replaces) the answer for an item, keeping the template's order of first answers.
    pub fn set_answer(&mut self, item_code: &str, result: ItemResult) {
        match self
            .answers
            .iter_mut()
            .find(|answer| answer.item == item_code)
        {
            Some(answer) => answer.result = result,
            None => self.answers.push(Answer {
                item: item_code.to_owned(),
                result,
                note: String::new(),
                photos: Vec::new(),
            }),
        }
    }

    /// Every photo and signature the record names (SHA-256 hex), each once, in record order.
    pub fn photo_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        let all = self
            .answers
            .iter()
            .flat_map(|answer| &answer.photos)
            .chain(self.hazards.iter().flat_map(|hazard| &hazard.photos))
            .chain(&self.photos)
            .chain(
                self.party
                    .iter()
                    .filter_map(|party| party.signature.as_ref()),
            )
            .chain(
                self.officer_signatures
                    .iter()
                    .map(|signed| &signed.signature),
            );
        for name in all {
            if !names.contains(&name.as_str()) {
                names.push(name);
            }
        }
        names
    }

    /// The hazards of this record still open once the re-inspections in `others` are counted: a
    /// submitted (or reviewed) re-inspection that follows this record and marks a hazard rectified
    /// closes it. Drafts close nothing.
    pub fn open_hazards<'a>(
        &'a self,
        others: impl IntoIterator<Item = &'a Inspection> + Clone,
    ) -> Vec<&'a Hazard> {
        self.hazards
            .iter()
            .filter(|hazard| {
                hazard.status == HazardStatus::Open
                    && self.closed_by(hazard, others.clone()).is_none()
            })
            .collect()
    }

    /// The re-inspection among `others` that found `hazard` of this record rectified, if any.
    pub fn closed_by<'a>(
        &self,
        hazard: &Hazard,
        others: impl IntoIterator<Item = &'a Inspection>,
    ) -> Option<&'a Inspection> {
        others.into_iter().find(|other| {
            other.kind == InspectionKind::Reinspection
                && other.amends.is_none()
                && other.follows.as_ref() == Some(&self.id)
                && other.status != Status::Draft
                && other
                    .hazard_checks
                    .iter()
                    .any(|check| check.hazard == hazard.id && check.rectified)
        })
    }

    /// An amendment (补充记录) to this record by `officer` at `at`: `notes` state the later facts.
    /// It keeps the record's venue, checklist and kind, carries nothing of a visit, and is submitted
    /// as made (it is final once the server has it).
    pub fn amendment(
        &self,
        id: InspectionId,
        at: DateTime<FixedOffset>,
        officer: UserId,
        notes: String,
    ) -> Inspection {
        Inspection {
            id,
            venue_id: self.venue_id.clone(),
            kind: self.kind,
            campaign_id: self.campaign_id.clone(),
            follows: self.follows.clone(),
            amends: Some(self.id.clone()),
            template: self.template.clone(),
            started_at: at,
            finished_at: Some(at),
            inspectors: vec![officer],
            location: None,
            answers: Vec::new(),
            hazards: Vec::new(),
            warning_issued: false,
            case_opened: false,
            photos: Vec::new(),
            hazard_checks: Vec::new(),
            complaint: None,
            party: None,
            officer_signatures: Vec::new(),
            notes,
            status: Status::Submitted,
            review_comment: None,
            unit_id: None,
            created_by: None,
            received_at: None,
            reviews: Vec::new(),
        }
    }

    /// Counts of answered items by result: (pass, fail, n.a.).
    pub fn tally(&self) -> (usize, usize, usize) {
        let count = |wanted: ItemResult| {
            self.answers
                .iter()
                .filter(|answer| answer.result == wanted)
                .count()
        };
        (
            count(ItemResult::Pass),
            count(ItemResult::Fail),
            count(ItemResult::Na),
        )
    }
}
