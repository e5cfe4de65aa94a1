//! The JSON API under `/api/v1`: one module per area.

pub mod admin;
pub mod analytics;
pub mod customers;
pub mod data;
pub mod events;
pub mod feedback;
pub mod loops;
pub mod orders;
pub mod public;
pub mod surveys;

use axum::Router;

use crate::AppState;

pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .merge(customers::routes())
        .merge(orders::routes())
        .merge(admin::routes())
        .merge(data::routes(state))
        .merge(events::routes())
        .merge(analytics::routes())
        .merge(feedback::routes())
        .merge(loops::routes())
        .merge(surveys::routes())
        .merge(public::routes())
}
