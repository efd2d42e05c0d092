//! Roles of the permission model: admin ⊃ manager ⊃ engineer ⊃ readonly.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a principal may do. Ordered: a higher role can do everything a lower one can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Read everything, change nothing.
    Readonly,
    /// Handle alerts: acknowledge, resolve, add knowledge.
    Engineer,
    /// Own rosters, escalation policies and the service catalogue.
    Manager,
    /// Users, API keys and tenant configuration.
    Admin,
}

impl Role {
    /// Every role, lowest first.
    pub const ALL: [Role; 4] = [Role::Readonly, Role::Engineer, Role::Manager, Role::Admin];

    /// The name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Readonly => "readonly",
            Role::Engineer => "engineer",
            Role::Manager => "manager",
            Role::Admin => "admin",
        }
    }

    /// Parses the name used in the API and the database.
    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered_from_readonly_to_admin() {
        assert!(Role::Readonly < Role::Engineer);
        assert!(Role::Engineer < Role::Manager);
        assert!(Role::Manager < Role::Admin);
    }

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
