//! FieldCheck's domain core: the record, the checklists, the rules and the sync protocol, with no I/O.
//!
//! Everything here compiles for both the phone (wasm32) and the server, and is the single source of
//! truth for what a valid inspection is and how the phone and server talk. The serializable types are
//! the wire format of `docs/protocol.md`: fields are added with `#[serde(default)]`, never
//! renamed silently.

pub mod engine;
pub mod ids;
pub mod import;
pub mod inspection;
pub mod kinds;
pub mod local;
pub mod memory;
pub mod merge;
pub mod photo;
pub mod printout;
pub mod query;
pub mod retention;
pub mod rules;
pub mod stats;
pub mod sync;
pub mod template;
pub mod user;
pub mod validate;
pub mod venue;

pub use ids::{CampaignId, DeviceId, HazardId, InspectionId, OpId, UnitId, UserId, VenueId};
pub use inspection::{
    Answer, Complaint, Hazard, HazardCheck, HazardStatus, Inspection, InspectionKind, ItemResult,
    Location, OfficerSignature, Party, Rectify, Review, ReviewDecision, Status, TransitionError,
};
pub use kinds::VenueKind;
pub use photo::{is_photo_name, photo_name};
pub use template::{Template, TemplateItem};
pub use user::{Role, User};
pub use validate::{Problem, Problems};
pub use venue::{Campaign, Venue};
