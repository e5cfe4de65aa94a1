//! Segments over HTTP: preview a rule (checked against what nunchi holds, errors naming
//! the part of the rule; who matches now; the rule as a sentence in Korean and English),
//! save, change and delete segments, and read a segment's entries and exits.

use axum::{Json, body::Bytes, extract::State, http::StatusCode};
use nunchi_app::segments::{self, Imported, Preview, SegmentInput, SegmentView};
use nunchi_core::segment::Rule;
use nunchi_store::model::{SegmentChange, SegmentDay};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    AppState,
    auth::Auth,
    error::{AppError, AppResult},
    extract::{ApiJson, ApiPath, ApiQuery},
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(preview))
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
        .routes(routes!(history))
        .routes(routes!(freeze))
        .routes(routes!(import_list))
}

/// A rule as the API takes it: JSON, parsed with the rule language's own messages.
fn rule_of(value: serde_json::Value) -> Result<Rule, nunchi_app::Error> {
    serde_json::from_value(value)
        .map_err(|e| nunchi_app::Error::invalid("invalid_rule", format!("rule: {e}")))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PreviewInput {
    /// The rule: `{"type": "all" | "any", "rules": […]}`, `{"type": "not", "rule": …}`,
    /// or a condition — `tag`, `attribute`, `consent`, `identity`, `event`, `event_days`,
    /// `orders`, `nps`, `rating`, `sentiment`, `topic`, `open_conversation`, `segment`,
    /// `rfm`, `value`, `tier`, `loyalty`.
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
    let rule = rule_of(input.rule)?;
    Ok(Json(
        segments::preview(&state, &auth.as_actor(), &rule).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SegmentBody {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[schema(value_type = Object)]
    pub rule: serde_json::Value,
}

impl SegmentBody {
    fn input(self) -> Result<SegmentInput, nunchi_app::Error> {
        Ok(SegmentInput {
            name: self.name,
            description: self.description,
            rule: rule_of(self.rule)?,
        })
    }
}

#[utoipa::path(get, operation_id = "list_segments", path = "/api/v1/segments", security(("bearer" = ["customers_read"])), tag = "customers",
    responses((status = 200, body = Vec<SegmentView>)))]
pub async fn list(auth: Auth, State(state): State<AppState>) -> AppResult<Json<Vec<SegmentView>>> {
    Ok(Json(segments::list(&state, &auth.as_actor()).await?))
}

#[utoipa::path(post, operation_id = "create_segment", path = "/api/v1/segments", security(("bearer" = ["segments_manage"])), tag = "customers",
    request_body = SegmentBody, responses((status = 201, body = SegmentView, description = "Saved and evaluated"), (status = 400, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn create(
    auth: Auth,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SegmentBody>,
) -> AppResult<(StatusCode, Json<SegmentView>)> {
    let input = body.input()?;
    Ok((
        StatusCode::CREATED,
        Json(segments::create(&state, &auth.as_actor(), &input).await?),
    ))
}

#[utoipa::path(get, operation_id = "get_segment", path = "/api/v1/segments/{id}", security(("bearer" = ["customers_read"])), tag = "customers", params(("id" = i64, Path)),
    responses((status = 200, body = SegmentView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<SegmentView>> {
    Ok(Json(segments::get(&state, &auth.as_actor(), id).await?))
}

#[utoipa::path(put, operation_id = "update_segment", path = "/api/v1/segments/{id}", security(("bearer" = ["segments_manage"])), tag = "customers", params(("id" = i64, Path)),
    request_body = SegmentBody, responses((status = 200, body = SegmentView), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn update(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<SegmentBody>,
) -> AppResult<Json<SegmentView>> {
    let input = body.input()?;
    Ok(Json(
        segments::update(&state, &auth.as_actor(), id, &input).await?,
    ))
}

#[utoipa::path(delete, operation_id = "delete_segment", path = "/api/v1/segments/{id}", security(("bearer" = ["segments_manage"])), tag = "customers", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    segments::delete(&state, &auth.as_actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct History {
    /// The newest 200 entries and exits.
    pub changes: Vec<SegmentChange>,
    /// Entries and exits per UTC day.
    pub days: Vec<SegmentDay>,
}

#[utoipa::path(get, operation_id = "segment_history", path = "/api/v1/segments/{id}/history", security(("bearer" = ["customers_read"])), tag = "customers", params(("id" = i64, Path)),
    responses((status = 200, body = History), (status = 404, body = crate::error::ErrorBody)))]
pub async fn history(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<History>> {
    let (changes, days) = segments::history(&state, &auth.as_actor(), id).await?;
    Ok(Json(History { changes, days }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct FreezeBody {
    /// The new static segment's name.
    pub name: String,
}

#[utoipa::path(post, operation_id = "freeze_segment", path = "/api/v1/segments/{id}/freeze", security(("bearer" = ["segments_manage"])), tag = "customers", params(("id" = i64, Path)),
    request_body = FreezeBody, responses((status = 201, body = SegmentView, description = "A static segment holding the members as of now"), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn freeze(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<FreezeBody>,
) -> AppResult<(StatusCode, Json<SegmentView>)> {
    Ok((
        StatusCode::CREATED,
        Json(segments::freeze(&state, &auth.as_actor(), id, &body.name).await?),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    pub name: String,
    pub description: Option<String>,
}

#[utoipa::path(post, operation_id = "import_segment_list", path = "/api/v1/segments/import", security(("bearer" = ["segments_manage"])), tag = "customers", params(ListQuery),
    request_body(content = String, content_type = "text/csv", description = "CSV (UTF-8 or CP949) with a header naming customer_id, external_id, email or phone"),
    responses((status = 201, body = Imported, description = "A static segment of the customers found; rows naming no customer are listed by line"), (status = 400, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn import_list(
    auth: Auth,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
    body: Bytes,
) -> AppResult<(StatusCode, Json<Imported>)> {
    let Some((text, _)) = nunchi_app::text_encoding::utf8_text(&body) else {
        return Err(AppError::bad_request(
            "invalid_encoding",
            "the file is neither UTF-8 nor CP949 (EUC-KR)",
        ));
    };
    let imported = segments::import_static(
        &state,
        &auth.as_actor(),
        &q.name,
        q.description.as_deref().unwrap_or(""),
        &text,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(imported)))
}
