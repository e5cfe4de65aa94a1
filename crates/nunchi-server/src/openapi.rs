//! The OpenAPI 3.1 document of `/api/v1`, served at `/api/openapi.json`: the title, tags
//! and security scheme here, the operations from the routes themselves (`api::documented`).

use axum::{
    http::header,
    response::{IntoResponse, Response},
};
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

#[derive(OpenApi)]
#[openapi(
    info(title = "nunchi API", description = "Customer experience management: Customer 360, consent, orders, import/export, users and access. Authenticate with `Authorization: Bearer <token>`; tokens are created under Admin → API tokens or `POST /api/v1/tokens`. Errors are `{\"error\": {\"code\", \"message\", \"request_id\"}}`; lists page with an opaque `cursor`."),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags((name = "customers", description = "Customer 360"), (name = "orders"), (name = "data", description = "CSV import and export"), (name = "admin", description = "Users, tokens, audit log, jobs"), (name = "analytics", description = "Funnels, paths, retention and journey-map metrics from the in-memory engine"), (name = "journeys", description = "Journey-map stages and touchpoints"), (name = "events", description = "Touchpoint events; Segment's tracking API is also served at /v1/* with source write keys"), (name = "feedback", description = "The Voice-of-the-Customer stream: survey answers, reviews, social posts, app-store reviews and support ratings; CX scores; the closed loop (rules, follow-ups, webhooks, root causes)"), (name = "surveys", description = "Surveys: questions with skip logic, distribution by link, widget, e-mail and events, fatigue rules with explained suppressions; customers answer at /s/{key} and through /api/public/*"), (name = "inbox", description = "The support desk: conversations over e-mail, chat, phone and messengers; raw e-mail intake; replies, notes, status and assignment"), (name = "campaigns", description = "Campaigns and the one contact budget: triggers, templates per language, what a launch would do, previews, reports, every message's delivery with its reason, the contact policy and the channels' providers"), (name = "loyalty", description = "Points: each customer's balance, lots and ledger; quotes and idempotent redemptions for a checkout; adjustments; the program's settings, earn rules, tiers and liabilities"))
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The finished document, rendered once, as a handler.
pub fn handler(
    doc: &utoipa::openapi::OpenApi,
) -> impl Fn() -> std::future::Ready<Response> + Clone + use<> {
    let body = doc.to_json().expect("the OpenAPI document serialises");
    move || {
        std::future::ready(
            ([(header::CONTENT_TYPE, "application/json")], body.clone()).into_response(),
        )
    }
}
