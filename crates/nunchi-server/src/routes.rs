//! The routes outside the OpenAPI document: pages with the permission each needs, the
//! public customer-facing paths and Segment's tracking API. It is not what routes requests
//! (each page names its permission in its signature); it is the contract the page tests
//! check the router against. The `/api/v1` routes are declared once each, in their
//! handlers' `#[utoipa::path]` (see `api::documented`).

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

/// Pages and endpoints for customers, who never sign in: the survey link page, the
/// widget script and the widget's JSON calls (see `api::public`), and the webhooks
/// messengers deliver customers' messages to.
pub const PUBLIC: &[&str] = &[
    "/s/{key}",
    "/csat/{token}",
    "/widget.js",
    "/api/public/surveys/{key}/display",
    "/api/public/responses/{token}",
    "/chat/socket",
    "/chat/files",
    "/chat/files/{id}",
    "/hooks/messenger/{key}",
    "/unsubscribe/{id}/{token}",
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
    r("POST", "/customers/{id}/tags", Some(CustomersWrite)),
    r("POST", "/customers/{id}/attributes", Some(CustomersWrite)),
    r("POST", "/customers/{id}/merge", Some(CustomersMerge)),
    r("POST", "/customers/{id}/erase", Some(CustomersErase)),
    r("GET", "/customers/{id}/export", Some(DataExport)),
    r("GET", "/customer-value", Some(CustomersRead)),
    r("GET", "/segments", Some(CustomersRead)),
    r("POST", "/segments", Some(SegmentsManage)),
    r("POST", "/segments/preview", Some(CustomersRead)),
    r("POST", "/segments/import", Some(SegmentsManage)),
    r("GET", "/segments/{id}", Some(CustomersRead)),
    r("POST", "/segments/{id}/delete", Some(SegmentsManage)),
    r("POST", "/segments/{id}/freeze", Some(SegmentsManage)),
    r("GET", "/campaigns", Some(CustomersRead)),
    r("POST", "/campaigns", Some(CampaignsManage)),
    r("GET", "/campaigns/new", Some(CampaignsManage)),
    r("GET", "/campaigns/{id}", Some(CustomersRead)),
    r("POST", "/campaigns/{id}", Some(CampaignsManage)),
    r("POST", "/campaigns/{id}/launch", Some(CampaignsManage)),
    r("POST", "/campaigns/{id}/pause", Some(CampaignsManage)),
    r("GET", "/contact-policy", Some(CustomersRead)),
    r("POST", "/contact-policy", Some(CampaignsManage)),
    r("GET", "/personas", Some(CustomersRead)),
    r("POST", "/personas", Some(SegmentsManage)),
    r("GET", "/personas/{id}", Some(CustomersRead)),
    r("POST", "/personas/{id}", Some(SegmentsManage)),
    r("GET", "/personas/{id}/photo", Some(CustomersRead)),
    r("POST", "/personas/{id}/photo", Some(SegmentsManage)),
    r("POST", "/personas/{id}/delete", Some(SegmentsManage)),
    r("GET", "/customers/{id}/points", Some(CustomersRead)),
    r("POST", "/customers/{id}/points/adjust", Some(LoyaltyManage)),
    r("GET", "/loyalty", Some(CustomersRead)),
    r("POST", "/loyalty/program", Some(LoyaltyManage)),
    r("POST", "/loyalty/rules", Some(LoyaltyManage)),
    r("POST", "/loyalty/rules/{id}/toggle", Some(LoyaltyManage)),
    r("POST", "/loyalty/rewards", Some(LoyaltyManage)),
    r("POST", "/loyalty/rewards/{id}/toggle", Some(LoyaltyManage)),
    r("POST", "/loyalty/slow-movers/accept", Some(LoyaltyManage)),
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
    r("GET", "/surveys", Some(CustomersRead)),
    r("POST", "/surveys", Some(SurveysManage)),
    r("POST", "/surveys/settings", Some(SurveysManage)),
    r("GET", "/surveys/{id}", Some(CustomersRead)),
    r("POST", "/surveys/{id}/status", Some(SurveysManage)),
    r("POST", "/surveys/{id}/settings", Some(SurveysManage)),
    r("POST", "/surveys/{id}/questions", Some(SurveysManage)),
    r(
        "POST",
        "/surveys/{id}/questions/{qid}/delete",
        Some(SurveysManage),
    ),
    r(
        "POST",
        "/surveys/{id}/questions/{qid}/logic",
        Some(SurveysManage),
    ),
    r("GET", "/inbox", Some(InboxRead)),
    r("GET", "/inbox/sla", Some(InboxRead)),
    r("GET", "/inbox/reports", Some(InboxRead)),
    r("GET", "/inbox/reports.csv", Some(InboxRead)),
    r("POST", "/inbox/sla", Some(InboxManage)),
    r("POST", "/inbox/sla/{id}/delete", Some(InboxManage)),
    r("POST", "/inbox/assignment", Some(InboxManage)),
    r("POST", "/inbox/macros", Some(InboxManage)),
    r("POST", "/inbox/signature", Some(InboxManage)),
    r("POST", "/inbox/macros/{id}/delete", Some(InboxManage)),
    r("POST", "/inbox/agents/{id}/availability", Some(InboxManage)),
    r("POST", "/inbox/me/availability", Some(InboxWrite)),
    r("GET", "/inbox/channels", Some(InboxRead)),
    r("POST", "/inbox/channels", Some(InboxManage)),
    r("POST", "/inbox/channels/{id}/delete", Some(InboxManage)),
    r("GET", "/inbox/socket", Some(InboxRead)),
    r("GET", "/inbox/{id}", Some(InboxRead)),
    r("GET", "/inbox/{id}/socket", Some(InboxRead)),
    r("POST", "/inbox/{id}/messages", Some(InboxWrite)),
    r(
        "GET",
        "/inbox/{id}/attachments/{attachment}",
        Some(InboxRead),
    ),
    r("POST", "/inbox/{id}/state", Some(InboxWrite)),
    r("GET", "/follow-ups", Some(CustomersRead)),
    r("POST", "/follow-ups/{id}/notes", Some(CustomersWrite)),
    r("POST", "/follow-ups/{id}/close", Some(CustomersWrite)),
    r("POST", "/loop-rules", Some(LoopsManage)),
    r("POST", "/loop-rules/{id}/delete", Some(LoopsManage)),
    r("POST", "/root-causes", Some(LoopsManage)),
    r("POST", "/root-causes/{id}/fix", Some(LoopsManage)),
    r("GET", "/analytics/funnel", Some(CustomersRead)),
    r("GET", "/analytics/funnel.csv", Some(CustomersRead)),
    r("GET", "/analytics/paths", Some(CustomersRead)),
    r("GET", "/analytics/paths.csv", Some(CustomersRead)),
    r("GET", "/analytics/retention", Some(CustomersRead)),
    r("GET", "/analytics/retention.csv", Some(CustomersRead)),
];
