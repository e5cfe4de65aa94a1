//! The JSON API under `/api/v1`: one module per area.

pub mod admin;
pub mod analytics;
pub mod attachments;
pub mod campaigns;
pub mod chat;
pub mod conversations;
pub mod customer_models;
pub mod customers;
pub mod data;
pub mod events;
pub mod feedback;
pub mod loops;
pub mod loyalty;
pub mod messengers;
pub mod orders;
pub mod personas;
pub mod public;
pub mod segments;
pub mod surveys;

pub mod permissions;

use axum::Router;
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;

/// Every `/api/v1` route with its OpenAPI operation. Each is declared once, in its
/// handler's `#[utoipa::path]` (method, path, the permission it needs as the bearer
/// scope, schemas); the router, the OpenAPI document and the permission check all come
/// from that declaration.
pub fn documented(state: &AppState) -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(<crate::openapi::ApiDoc as utoipa::OpenApi>::openapi())
        .merge(customers::routes())
        .merge(orders::routes())
        .merge(admin::routes())
        .merge(data::routes(state))
        .merge(events::routes())
        .merge(analytics::routes())
        .merge(feedback::routes())
        .merge(loops::routes())
        .merge(surveys::routes())
        .merge(conversations::routes())
        .merge(messengers::routes())
        .merge(attachments::routes())
        .merge(loyalty::routes())
        .merge(customer_models::routes())
        .merge(segments::routes())
        .merge(personas::routes())
        .merge(campaigns::routes())
}

/// Routes outside the document and the role matrix: Segment's tracking API (write keys),
/// the public survey endpoints customers call without signing in, the widget's chat and
/// the messenger webhooks (signed by each provider's scheme).
pub fn undocumented() -> Router<AppState> {
    Router::new()
        .merge(events::tracking_routes())
        .merge(public::routes())
        .merge(chat::routes())
        .merge(messengers::hook_routes())
}
