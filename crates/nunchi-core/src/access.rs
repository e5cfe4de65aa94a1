//! Who may do what: roles, the permissions each grants, and API-token scopes. A request's
//! rights are the user's role permissions, narrowed by the token's scopes when it came in
//! through a token. Every route names the one permission it needs.

use crate::{CoreError, CoreResult};

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Agent,
    Manager,
    Admin,
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for Role {
    type Error = CoreError;
    fn try_from(s: String) -> CoreResult<Self> {
        Self::parse(&s)
    }
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Manager, Role::Agent, Role::Viewer];

    pub fn parse(s: &str) -> CoreResult<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "viewer" => Ok(Self::Viewer),
            "agent" => Ok(Self::Agent),
            "manager" => Ok(Self::Manager),
            "admin" => Ok(Self::Admin),
            _ => Err(CoreError::new(
                "role",
                format!("unknown role {s:?}; use admin, manager, agent or viewer"),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Agent => "agent",
            Self::Manager => "manager",
            Self::Admin => "admin",
        }
    }

    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Self::Viewer => &[CustomersRead],
            Self::Agent => &[
                CustomersRead,
                CustomersWrite,
                ViewPii,
                InboxRead,
                InboxWrite,
                PointsWrite,
            ],
            Self::Manager => &[
                CustomersRead,
                CustomersWrite,
                ViewPii,
                CustomersMerge,
                DataImport,
                DataExport,
                TeamsRead,
                JourneysEdit,
                LoopsManage,
                SurveysManage,
                InboxRead,
                InboxWrite,
                InboxManage,
                PointsWrite,
                LoyaltyManage,
                SegmentsManage,
                CampaignsManage,
            ],
            Self::Admin => &Permission::ALL,
        }
    }

    pub fn has(self, p: Permission) -> bool {
        self.permissions().contains(&p)
    }
}

/// One right that a route may require.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    CustomersRead,
    CustomersWrite,
    /// Unmasked names, e-mail addresses and phone numbers.
    ViewPii,
    CustomersMerge,
    CustomersErase,
    DataImport,
    DataExport,
    TeamsRead,
    UsersManage,
    AuditRead,
    /// Edit the journey map: stages, touchpoints, expected ratings.
    JourneysEdit,
    /// Set the closed-loop rules that open follow-ups for feedback, and track root causes.
    LoopsManage,
    /// Build, launch and send surveys.
    SurveysManage,
    /// Read the support desk's conversations.
    InboxRead,
    /// Take in messages (e-mail intake, calls), answer, assign and close conversations.
    InboxWrite,
    /// Set the support desk's SLA policies.
    InboxManage,
    /// Quote and redeem points (a shop's checkout, a point of sale).
    PointsWrite,
    /// The loyalty program's settings and rules, and adjusting a customer's points.
    LoyaltyManage,
    /// Save, change and delete segments and personas (anyone who reads customers may
    /// preview a rule).
    SegmentsManage,
    /// Build, launch and pause campaigns, and set the contact policy.
    CampaignsManage,
}

impl Permission {
    pub const ALL: [Permission; 20] = [
        Permission::CustomersRead,
        Permission::CustomersWrite,
        Permission::ViewPii,
        Permission::CustomersMerge,
        Permission::CustomersErase,
        Permission::DataImport,
        Permission::DataExport,
        Permission::TeamsRead,
        Permission::UsersManage,
        Permission::AuditRead,
        Permission::JourneysEdit,
        Permission::LoopsManage,
        Permission::SurveysManage,
        Permission::InboxRead,
        Permission::InboxWrite,
        Permission::InboxManage,
        Permission::PointsWrite,
        Permission::LoyaltyManage,
        Permission::SegmentsManage,
        Permission::CampaignsManage,
    ];

    /// The name the API documents it by (a bearer scope in the OpenAPI document).
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::CustomersRead => "customers_read",
            Permission::CustomersWrite => "customers_write",
            Permission::ViewPii => "view_pii",
            Permission::CustomersMerge => "customers_merge",
            Permission::CustomersErase => "customers_erase",
            Permission::DataImport => "data_import",
            Permission::DataExport => "data_export",
            Permission::TeamsRead => "teams_read",
            Permission::UsersManage => "users_manage",
            Permission::AuditRead => "audit_read",
            Permission::JourneysEdit => "journeys_edit",
            Permission::LoopsManage => "loops_manage",
            Permission::SurveysManage => "surveys_manage",
            Permission::InboxRead => "inbox_read",
            Permission::InboxWrite => "inbox_write",
            Permission::InboxManage => "inbox_manage",
            Permission::PointsWrite => "points_write",
            Permission::LoyaltyManage => "loyalty_manage",
            Permission::SegmentsManage => "segments_manage",
            Permission::CampaignsManage => "campaigns_manage",
        }
    }

    pub fn parse(s: &str) -> CoreResult<Self> {
        Permission::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| CoreError::new("permission", format!("unknown permission {s:?}")))
    }
}

/// A right an API token carries, narrower than a role: `customers:read`, `customers:write`,
/// `data:import`, `data:export`, `inbox:read`, `inbox:write`, `points:write`, `admin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    CustomersRead,
    CustomersWrite,
    DataImport,
    DataExport,
    InboxRead,
    InboxWrite,
    PointsWrite,
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 8] = [
        Scope::CustomersRead,
        Scope::CustomersWrite,
        Scope::DataImport,
        Scope::DataExport,
        Scope::InboxRead,
        Scope::InboxWrite,
        Scope::PointsWrite,
        Scope::Admin,
    ];

    pub fn parse(s: &str) -> CoreResult<Self> {
        Self::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s.trim())
            .ok_or_else(|| CoreError::new("scope", format!("unknown scope {s:?}")))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CustomersRead => "customers:read",
            Self::CustomersWrite => "customers:write",
            Self::DataImport => "data:import",
            Self::DataExport => "data:export",
            Self::InboxRead => "inbox:read",
            Self::InboxWrite => "inbox:write",
            Self::PointsWrite => "points:write",
            Self::Admin => "admin",
        }
    }

    /// Parses a space- or comma-separated list, as it is stored and typed.
    pub fn parse_list(s: &str) -> CoreResult<Vec<Scope>> {
        let mut out: Vec<Scope> = s
            .split([',', ' '])
            .filter(|p| !p.is_empty())
            .map(Scope::parse)
            .collect::<CoreResult<_>>()?;
        out.sort();
        out.dedup();
        Ok(out)
    }

    pub fn join(scopes: &[Scope]) -> String {
        scopes
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn allows(self, p: Permission) -> bool {
        use Permission::*;
        match self {
            Self::CustomersRead => matches!(p, CustomersRead | ViewPii | TeamsRead),
            Self::CustomersWrite => matches!(
                p,
                CustomersWrite | CustomersMerge | CustomersErase | SegmentsManage | CampaignsManage
            ),
            Self::DataImport => p == DataImport,
            Self::DataExport => p == DataExport,
            Self::InboxRead => p == InboxRead,
            // Intake needs no reading: a relay's token can add mail but not read the inbox.
            Self::InboxWrite => p == InboxWrite,
            // A checkout redeems points; it needs no other right.
            Self::PointsWrite => p == PointsWrite,
            Self::Admin => true,
        }
    }
}

/// The rights of one authenticated request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub role: Role,
    /// `None` for a browser session (the full role), `Some` for an API token.
    pub scopes: Option<Vec<Scope>>,
}

impl Grant {
    pub fn allows(&self, p: Permission) -> bool {
        self.role.has(p)
            && self
                .scopes
                .as_ref()
                .is_none_or(|scopes| scopes.iter().any(|s| s.allows(p)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_names_round_trip_and_match_serde() {
        for p in Permission::ALL {
            assert_eq!(Permission::parse(p.as_str()).unwrap(), p);
            assert_eq!(
                serde_json::to_value(p).unwrap(),
                serde_json::Value::from(p.as_str())
            );
        }
        assert!(Permission::parse("customers:write").is_err());
    }

    #[test]
    fn roles_grow_monotonically() {
        for p in Permission::ALL {
            let holders: Vec<bool> = [Role::Viewer, Role::Agent, Role::Manager, Role::Admin]
                .iter()
                .map(|r| r.has(p))
                .collect();
            assert!(
                holders.windows(2).all(|w| !w[0] || w[1]),
                "{p:?}: a higher role lost a right"
            );
        }
        assert!(!Role::Viewer.has(Permission::ViewPii));
        assert!(Role::Admin.has(Permission::AuditRead));
        assert!(!Role::Manager.has(Permission::UsersManage));
    }

    #[test]
    fn token_scopes_narrow_the_role() {
        let read_only = Grant {
            role: Role::Admin,
            scopes: Some(vec![Scope::CustomersRead]),
        };
        assert!(read_only.allows(Permission::CustomersRead));
        assert!(!read_only.allows(Permission::CustomersWrite));
        let viewer_with_write = Grant {
            role: Role::Viewer,
            scopes: Some(vec![Scope::CustomersWrite]),
        };
        assert!(!viewer_with_write.allows(Permission::CustomersWrite));
        let session = Grant {
            role: Role::Agent,
            scopes: None,
        };
        assert!(session.allows(Permission::CustomersWrite));
    }

    #[test]
    fn scope_lists() {
        assert_eq!(
            Scope::parse_list("customers:write, customers:read customers:read").unwrap(),
            vec![Scope::CustomersRead, Scope::CustomersWrite]
        );
        assert!(Scope::parse_list("customers:delete").is_err());
        assert_eq!(
            Scope::join(&[Scope::DataExport, Scope::Admin]),
            "data:export admin"
        );
    }
}
