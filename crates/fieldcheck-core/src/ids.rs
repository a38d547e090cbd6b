//! Typed identifiers: UUID strings made on the device (UUIDv7 for records) or on the server (users, units).

use serde::{Deserialize, Serialize};
use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// The id as it stands on the wire.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Whether the id is a well-formed UUID (any version), as every id on the wire must be.
            pub fn is_well_formed(&self) -> bool {
                uuid::Uuid::try_parse(&self.0).is_ok()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self(value.to_owned())
            }
        }
    };
}

id_type!(
    /// A venue (场所) in the register.
    VenueId
);
id_type!(
    /// An inspection record (检查记录).
    InspectionId
);
id_type!(
    /// A special campaign (专项行动).
    CampaignId
);
id_type!(
    /// One hazard (隐患) inside an inspection.
    HazardId
);
id_type!(
    /// A person who logs in: inspector, supervisor or admin.
    UserId
);
id_type!(
    /// An organisational unit (a brigade or section); visibility is per unit.
    UnitId
);
id_type!(
    /// One phone installation, made once per IndexedDB database.
    DeviceId
);
id_type!(
    /// One queued change on a phone; the server answers a replay of it as `duplicate`.
    OpId
);
