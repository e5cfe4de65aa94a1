//! Segments over HTTP. This slice: preview a rule — checked against what nunchi holds
//! (errors name the part of the rule), then who matches it now, with the rule as a
//! sentence in Korean and English.

use axum::{Json, extract::State};
use nunchi_app::segments::{self, Preview};
use nunchi_core::segment::Rule;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{AppState, auth::Auth, error::AppResult, extract::ApiJson};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(preview))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PreviewInput {
    /// The rule: `{"type": "all" | "any", "rules": […]}`, `{"type": "not", "rule": …}`,
    /// or a condition — `tag`, `attribute`, `consent`, `event`, `orders`, `rfm`, `value`,
    /// `tier`, `loyalty`.
    #[schema(value_type = Object)]
    pub rule: serde_json::Value,
}

#[utoipa::path(post, operation_id = "preview_segment", path = "/api/v1/segments/preview", security(("bearer" = ["customers_read"])), tag = "customers",
    request_body = PreviewInput, responses((status = 200, body = Preview), (status = 400, body = crate::error::ErrorBody, description = "The rule names something unknown, compares the wrong types or is too expensive; the message names the part")))]
pub async fn preview(
    auth: Auth,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<PreviewInput>,
) -> AppResult<Json<Preview>> {
    let rule: Rule = serde_json::from_value(input.rule)
        .map_err(|e| nunchi_app::Error::invalid("invalid_rule", format!("rule: {e}")))?;
    Ok(Json(
        segments::preview(&state, &auth.as_actor(), &rule).await?,
    ))
}
