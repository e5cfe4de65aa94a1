//! The OpenAPI 3.1 document of `/api/v1`, served at `/api/openapi.json`. A test checks that
//! it lists exactly the routes in `routes::API`.

use axum::{Json, response::IntoResponse};
use utoipa::{
    Modify, OpenApi,
    openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
};

use crate::api::{admin, analytics, customers, data, events, feedback, loops, orders, surveys};

#[derive(OpenApi)]
#[openapi(
    info(title = "nunchi API", description = "Customer experience management: Customer 360, consent, orders, import/export, users and access. Authenticate with `Authorization: Bearer <token>`; tokens are created under Admin → API tokens or `POST /api/v1/tokens`. Errors are `{\"error\": {\"code\", \"message\", \"request_id\"}}`; lists page with an opaque `cursor`."),
    paths(
        customers::list, customers::create, customers::lookup, customers::search, customers::read, customers::update, customers::erase,
        customers::add_identity, customers::remove_identity, customers::record_consent, customers::set_life_event,
        customers::notes, customers::add_note, customers::timeline, customers::orders, customers::merge, customers::export,
        orders::upsert, orders::refund,
        admin::me, admin::stats, admin::users, admin::create_user, admin::update_user, admin::teams, admin::create_team,
        admin::tokens, admin::create_token, admin::revoke_token, admin::audit, admin::jobs, admin::job,
        data::start_import, data::export,
        events::native, events::sources, events::create_source, events::customer_events,
        analytics::funnel, analytics::paths, analytics::retention, analytics::post_purchase, analytics::journey,
        analytics::stages, analytics::add_stage, analytics::edit_stage, analytics::delete_stage,
        analytics::touchpoints, analytics::create_touchpoint, analytics::update_touchpoint, analytics::delete_touchpoint,
        feedback::add, feedback::import_csv, feedback::list, feedback::read, feedback::scores_report, feedback::perception_gap_report,
        loops::rules, loops::create_rule, loops::delete_rule, loops::follow_ups, loops::report, loops::close,
        loops::follow_up, loops::add_note, loops::webhooks, loops::create_webhook, loops::delete_webhook,
        loops::root_causes, loops::suggestions, loops::create_root_cause, loops::fix_root_cause,
        surveys::list, surveys::create, surveys::read, surveys::update, surveys::results, surveys::contacts, surveys::send,
        surveys::settings, surveys::set_settings,
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags((name = "customers", description = "Customer 360"), (name = "orders"), (name = "data", description = "CSV import and export"), (name = "admin", description = "Users, tokens, audit log, jobs"), (name = "analytics", description = "Funnels, paths, retention and journey-map metrics from the in-memory engine"), (name = "journeys", description = "Journey-map stages and touchpoints"), (name = "events", description = "Touchpoint events; Segment's tracking API is also served at /v1/* with source write keys"), (name = "feedback", description = "The Voice-of-the-Customer stream: survey answers, reviews, social posts, app-store reviews and support ratings; CX scores; the closed loop (rules, follow-ups, webhooks, root causes)"), (name = "surveys", description = "Surveys: questions with skip logic, distribution by link, widget, e-mail and events, fatigue rules with explained suppressions; customers answer at /s/{key} and through /api/public/*"))
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

pub async fn handler() -> impl IntoResponse {
    Json(ApiDoc::openapi())
}
