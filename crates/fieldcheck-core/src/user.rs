//! Users and roles as the server hands them to the phone.

use crate::ids::{UnitId, UserId};
use serde::{Deserialize, Serialize};

/// What a user may do. Inspectors record, supervisors also review, admins manage every unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Inspector,
    Supervisor,
    Admin,
}

impl Role {
    /// The wire code.
    pub fn code(self) -> &'static str {
        match self {
            Role::Inspector => "inspector",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }

    /// The role for a wire code.
    pub fn from_code(code: &str) -> Option<Role> {
        [Role::Inspector, Role::Supervisor, Role::Admin]
            .into_iter()
            .find(|role| role.code() == code)
    }

    /// Whether the role may review (approve or return) submitted inspections.
    pub fn reviews(self) -> bool {
        matches!(self, Role::Supervisor | Role::Admin)
    }
}

/// A user on the wire: `{id, username, name, role, unit_id, cert_no}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub name: String,
    pub role: Role,
    pub unit_id: UnitId,
    /// The unit's name, for screens and printed records.
    #[serde(default)]
    pub unit_name: String,
    /// Enforcement certificate number (执法证号), printed on records.
    #[serde(default)]
    pub cert_no: Option<String>,
}
