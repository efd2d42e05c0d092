//! Roles of the permission model: admin ⊃ manager ⊃ engineer ⊃ readonly.

use crate::text::string_enum;

string_enum! {
    /// What a principal may do. Ordered: a higher role can do everything a lower one can.
    #[derive(PartialOrd, Ord)]
    pub enum Role("role") {
        /// Read everything, change nothing.
        Readonly = "readonly",
        /// Handle alerts: acknowledge, resolve, add knowledge.
        Engineer = "engineer",
        /// Own rosters, escalation policies and the service catalogue.
        Manager = "manager",
        /// Users, API keys and tenant configuration.
        Admin = "admin",
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
