//! The table of every API route and the permission it requires. It is not what routes
//! requests (each handler names its permission in its signature); it is the contract the
//! role × route matrix test and the OpenAPI coverage test check the router against.

use nunchi_core::access::Permission::{self, *};

#[derive(Debug, Clone, Copy)]
pub struct RouteSpec {
    pub method: &'static str,
    /// In axum's syntax, `{id}` for parameters.
    pub path: &'static str,
    /// `None`: any signed-in caller.
    pub permission: Option<Permission>,
}

const fn r(method: &'static str, path: &'static str, permission: Option<Permission>) -> RouteSpec {
    RouteSpec {
        method,
        path,
        permission,
    }
}

pub const API: &[RouteSpec] = &[
    r("GET", "/api/v1/customers", Some(CustomersRead)),
    r("POST", "/api/v1/customers", Some(CustomersWrite)),
    r("GET", "/api/v1/customers/lookup", Some(CustomersRead)),
    r("GET", "/api/v1/search", Some(CustomersRead)),
    r("GET", "/api/v1/customers/{id}", Some(CustomersRead)),
    r("PATCH", "/api/v1/customers/{id}", Some(CustomersWrite)),
    r("DELETE", "/api/v1/customers/{id}", Some(CustomersErase)),
    r(
        "POST",
        "/api/v1/customers/{id}/identities",
        Some(CustomersWrite),
    ),
    r(
        "DELETE",
        "/api/v1/customers/{id}/identities/{kind}/{value}",
        Some(CustomersWrite),
    ),
    r(
        "POST",
        "/api/v1/customers/{id}/consents",
        Some(CustomersWrite),
    ),
    r(
        "POST",
        "/api/v1/customers/{id}/life-events",
        Some(CustomersWrite),
    ),
    r("GET", "/api/v1/customers/{id}/notes", Some(CustomersRead)),
    r("POST", "/api/v1/customers/{id}/notes", Some(CustomersWrite)),
    r(
        "GET",
        "/api/v1/customers/{id}/timeline",
        Some(CustomersRead),
    ),
    r("GET", "/api/v1/customers/{id}/orders", Some(CustomersRead)),
    r("POST", "/api/v1/customers/{id}/merge", Some(CustomersMerge)),
    r("GET", "/api/v1/customers/{id}/export", Some(DataExport)),
    r("POST", "/api/v1/orders", Some(CustomersWrite)),
    r("POST", "/api/v1/orders/{id}/refunds", Some(CustomersWrite)),
    r("GET", "/api/v1/me", None),
    r("GET", "/api/v1/stats", Some(CustomersRead)),
    r("GET", "/api/v1/users", Some(UsersManage)),
    r("POST", "/api/v1/users", Some(UsersManage)),
    r("PATCH", "/api/v1/users/{id}", Some(UsersManage)),
    r("GET", "/api/v1/teams", Some(TeamsRead)),
    r("POST", "/api/v1/teams", Some(UsersManage)),
    r("GET", "/api/v1/tokens", None),
    r("POST", "/api/v1/tokens", None),
    r("DELETE", "/api/v1/tokens/{id}", None),
    r("GET", "/api/v1/audit", Some(AuditRead)),
    r("GET", "/api/v1/jobs", Some(UsersManage)),
    r("GET", "/api/v1/jobs/{id}", Some(DataImport)),
    r("POST", "/api/v1/imports/{kind}", Some(DataImport)),
    r("GET", "/api/v1/exports/{file}", Some(DataExport)),
    r("POST", "/api/v1/events", Some(DataImport)),
    r("GET", "/api/v1/sources", Some(UsersManage)),
    r("POST", "/api/v1/sources", Some(UsersManage)),
    r("GET", "/api/v1/customers/{id}/events", Some(CustomersRead)),
    r("GET", "/api/v1/analytics/funnel", Some(CustomersRead)),
    r("GET", "/api/v1/analytics/paths", Some(CustomersRead)),
    r("GET", "/api/v1/analytics/retention", Some(CustomersRead)),
    r(
        "GET",
        "/api/v1/analytics/post-purchase",
        Some(CustomersRead),
    ),
    r("GET", "/api/v1/analytics/journey", Some(CustomersRead)),
    r("GET", "/api/v1/stages", Some(CustomersRead)),
    r("POST", "/api/v1/stages", Some(JourneysEdit)),
    r("PATCH", "/api/v1/stages/{id}", Some(JourneysEdit)),
    r("DELETE", "/api/v1/stages/{id}", Some(JourneysEdit)),
    r("GET", "/api/v1/touchpoints", Some(CustomersRead)),
    r("POST", "/api/v1/touchpoints", Some(JourneysEdit)),
    r("PATCH", "/api/v1/touchpoints/{id}", Some(JourneysEdit)),
    r("DELETE", "/api/v1/touchpoints/{id}", Some(JourneysEdit)),
    r("GET", "/api/v1/feedback", Some(CustomersRead)),
    r("POST", "/api/v1/feedback", Some(DataImport)),
    r("POST", "/api/v1/feedback/import", Some(DataImport)),
    r("GET", "/api/v1/feedback/{id}", Some(CustomersRead)),
    r("GET", "/api/v1/scores", Some(CustomersRead)),
    r("GET", "/api/v1/perception-gap", Some(CustomersRead)),
    r("GET", "/api/v1/loop-rules", Some(CustomersRead)),
    r("POST", "/api/v1/loop-rules", Some(LoopsManage)),
    r("DELETE", "/api/v1/loop-rules/{id}", Some(LoopsManage)),
    r("GET", "/api/v1/follow-ups", Some(CustomersRead)),
    r("GET", "/api/v1/follow-ups/report", Some(CustomersRead)),
    r(
        "POST",
        "/api/v1/follow-ups/{id}/close",
        Some(CustomersWrite),
    ),
];

/// Segment's tracking API, authenticated by a source's write key rather than a user:
/// outside the role matrix and the OpenAPI document (Segment's own spec describes it).
pub const TRACKING: &[&str] = &[
    "/v1/identify",
    "/v1/track",
    "/v1/page",
    "/v1/screen",
    "/v1/group",
    "/v1/alias",
    "/v1/batch",
    "/v1/import",
];

/// Server-rendered pages and form posts, with the permission each needs.
pub const UI: &[RouteSpec] = &[
    r("GET", "/", None),
    r("GET", "/customers", Some(CustomersRead)),
    r("GET", "/customers/{id}", Some(CustomersRead)),
    r("POST", "/customers/{id}/notes", Some(CustomersWrite)),
    r("POST", "/customers/{id}/merge", Some(CustomersMerge)),
    r("POST", "/customers/{id}/erase", Some(CustomersErase)),
    r("GET", "/customers/{id}/export", Some(DataExport)),
    r("GET", "/import", Some(DataImport)),
    r("POST", "/import", Some(DataImport)),
    r("GET", "/import/jobs/{id}", Some(DataImport)),
    r("GET", "/export/{file}", Some(DataExport)),
    r("GET", "/admin/users", Some(UsersManage)),
    r("POST", "/admin/users", Some(UsersManage)),
    r("POST", "/admin/users/{id}", Some(UsersManage)),
    r("POST", "/admin/teams", Some(UsersManage)),
    r("GET", "/admin/tokens", None),
    r("POST", "/admin/tokens", None),
    r("GET", "/admin/sources", Some(UsersManage)),
    r("POST", "/admin/sources", Some(UsersManage)),
    r("POST", "/admin/tokens/{id}/revoke", None),
    r("GET", "/admin/audit", Some(AuditRead)),
    r("GET", "/admin/jobs", Some(UsersManage)),
    r("GET", "/journeys", Some(CustomersRead)),
    r("GET", "/journeys.csv", Some(CustomersRead)),
    r("POST", "/journeys/touchpoints", Some(JourneysEdit)),
    r(
        "POST",
        "/journeys/touchpoints/{id}/delete",
        Some(JourneysEdit),
    ),
    r("POST", "/journeys/stages", Some(JourneysEdit)),
    r("POST", "/journeys/stages/{id}/move", Some(JourneysEdit)),
    r("POST", "/journeys/stages/{id}/delete", Some(JourneysEdit)),
    r("GET", "/voc", Some(CustomersRead)),
    r("GET", "/voc/stream", Some(CustomersRead)),
    r("GET", "/analytics/funnel", Some(CustomersRead)),
    r("GET", "/analytics/funnel.csv", Some(CustomersRead)),
    r("GET", "/analytics/paths", Some(CustomersRead)),
    r("GET", "/analytics/paths.csv", Some(CustomersRead)),
    r("GET", "/analytics/retention", Some(CustomersRead)),
    r("GET", "/analytics/retention.csv", Some(CustomersRead)),
];
