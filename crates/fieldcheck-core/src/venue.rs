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
    /// Registered by an officer in the field (an unlicensed venue found on patrol), for the
    /// supervisor to check and complete.
    #[serde(default)]
    pub field_registered: bool,
    /// Set by the server: the pinyin initials of the name (星际网咖 → `xjwk`), for searching by them
    /// on the phone without carrying a pinyin dictionary.
    #[serde(default)]
    pub initials: String,
}

impl Venue {
    /// Whether the venue matches what was typed in the search: name, address, licence number,
    /// contact, or the pinyin initials of the name. Case and surrounding spaces do not matter.
    pub fn matches(&self, query: &str) -> bool {
        let needle = query.trim().to_lowercase();
        if needle.is_empty() {
            return true;
        }
        [
            &self.name,
            &self.address,
            &self.licence_no,
            &self.contact_name,
            &self.initials,
        ]
        .iter()
        .any(|field| field.to_lowercase().contains(&needle))
    }
}

impl Location {
    /// The distance to `other` in metres over the earth's surface (haversine; a few metres off at
    /// the distances a patrol covers).
    pub fn distance_m(&self, other: &Location) -> f64 {
        const EARTH_RADIUS_M: f64 = 6_371_000.0;
        let (lat1, lat2) = (self.lat.to_radians(), other.lat.to_radians());
        let d_lat = lat2 - lat1;
        let d_lon = (other.lon - self.lon).to_radians();
        let a = (d_lat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (d_lon / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_M * a.sqrt().asin()
    }
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
