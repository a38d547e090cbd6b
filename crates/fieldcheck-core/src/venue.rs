//! Venues (场所) in the register and special campaigns (专项行动), as they stand on the wire.

use crate::ids::{CampaignId, UnitId, VenueId};
use crate::inspection::Location;
use crate::kinds::VenueKind;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A venue on the wire: `{id, kind, name, licence_no, address, location, contact_name, contact_phone,
/// unit_id, active}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Venue {
    pub id: VenueId,
    pub kind: VenueKind,
    pub name: String,
    #[serde(default)]
    pub licence_no: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub location: Option<Location>,
    #[serde(default)]
    pub contact_name: String,
    #[serde(default)]
    pub contact_phone: String,
    pub unit_id: UnitId,
    #[serde(default = "default_true")]
    pub active: bool,
}

/// A special campaign on the wire: `{id, name, venue_kinds, starts_on, ends_on, unit_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Campaign {
    pub id: CampaignId,
    pub name: String,
    pub venue_kinds: Vec<VenueKind>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub unit_id: UnitId,
}

fn default_true() -> bool {
    true
}
