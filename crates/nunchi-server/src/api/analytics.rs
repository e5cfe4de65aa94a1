//! Analytics and the journey map over JSON: funnels, paths, retention, the post-purchase
//! template and stage metrics, plus editing the map's stages and touchpoints.

use axum::{Json, extract::State};
use nunchi_store::model::{Stage, Touchpoint};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use nunchi_app::journeys::{
    TouchpointInput, create_touchpoint_checked, parse_touchpoint, stage_key,
};

use crate::{
    AppState,
    auth::Auth,
    error::{AppError, AppResult},
    extract::{ApiJson, ApiPath, ApiQuery},
};
use nunchi_app::analysis::{
    self, Filter, FunnelParams, FunnelView, JourneyView, OutcomeRow, PathParams, PathsView,
    RetentionParams, RetentionView,
};

/// Routes and their OpenAPI operations, both from each handler's `#[utoipa::path]`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(funnel))
        .routes(routes!(paths))
        .routes(routes!(retention))
        .routes(routes!(post_purchase))
        .routes(routes!(journey))
        .routes(routes!(stages, add_stage))
        .routes(routes!(edit_stage, delete_stage))
        .routes(routes!(touchpoints, create_touchpoint))
        .routes(routes!(update_touchpoint, delete_touchpoint))
}

#[utoipa::path(get, path = "/api/v1/analytics/funnel", security(("bearer" = ["customers_read"])), tag = "analytics", params(Filter, FunnelParams), responses((status = 200, body = FunnelView)))]
pub async fn funnel(
    State(state): State<AppState>,
    ApiQuery(f): ApiQuery<Filter>,
    ApiQuery(p): ApiQuery<FunnelParams>,
) -> AppResult<Json<FunnelView>> {
    Ok(Json(analysis::funnel(&state, &f, &p).await?))
}

#[utoipa::path(get, path = "/api/v1/analytics/paths", security(("bearer" = ["customers_read"])), tag = "analytics", params(Filter, PathParams), responses((status = 200, body = PathsView)))]
pub async fn paths(
    State(state): State<AppState>,
    ApiQuery(f): ApiQuery<Filter>,
    ApiQuery(p): ApiQuery<PathParams>,
) -> AppResult<Json<PathsView>> {
    Ok(Json(analysis::paths(&state, &f, &p).await?))
}

#[utoipa::path(get, path = "/api/v1/analytics/retention", security(("bearer" = ["customers_read"])), tag = "analytics", params(Filter, RetentionParams), responses((status = 200, body = RetentionView)))]
pub async fn retention(
    State(state): State<AppState>,
    ApiQuery(f): ApiQuery<Filter>,
    ApiQuery(p): ApiQuery<RetentionParams>,
) -> AppResult<Json<RetentionView>> {
    Ok(Json(analysis::retention(&state, &f, &p).await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WindowParam {
    /// How long after the first purchase an outcome counts (default 30d).
    pub window: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/analytics/post-purchase", security(("bearer" = ["customers_read"])), tag = "analytics", params(Filter, WindowParam), responses((status = 200, body = Vec<OutcomeRow>)))]
pub async fn post_purchase(
    State(state): State<AppState>,
    ApiQuery(f): ApiQuery<Filter>,
    ApiQuery(w): ApiQuery<WindowParam>,
) -> AppResult<Json<Vec<OutcomeRow>>> {
    let window = nunchi_analytics::duration::parse_span(w.window.as_deref().unwrap_or("30d"))
        .map_err(|e| AppError::bad_request("invalid_window", e))?;
    Ok(Json(analysis::post_purchase(&state, &f, window).await?))
}

#[utoipa::path(get, path = "/api/v1/analytics/journey", security(("bearer" = ["customers_read"])), tag = "analytics", params(Filter), responses((status = 200, body = JourneyView)))]
pub async fn journey(
    State(state): State<AppState>,
    ApiQuery(f): ApiQuery<Filter>,
) -> AppResult<Json<JourneyView>> {
    Ok(Json(analysis::journey(&state, &f).await?))
}

#[utoipa::path(get, path = "/api/v1/stages", security(("bearer" = ["customers_read"])), tag = "journeys", responses((status = 200, body = Vec<Stage>)))]
pub async fn stages(State(state): State<AppState>) -> AppResult<Json<Vec<Stage>>> {
    Ok(Json(state.store.stages().await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct StageInput {
    pub name_ko: Option<String>,
    pub name_en: Option<String>,
    /// Move one place: -1 left, 1 right (PATCH only).
    pub move_by: Option<i64>,
}

fn stage_name(text: Option<&str>, field: &str) -> AppResult<String> {
    let t = text.map(str::trim).unwrap_or("");
    if t.is_empty() || t.chars().count() > 60 {
        return Err(AppError::bad_request(
            &format!("invalid_{field}"),
            format!("{field} must be 1–60 characters"),
        ));
    }
    Ok(t.to_string())
}

#[utoipa::path(post, path = "/api/v1/stages", security(("bearer" = ["journeys_edit"])), tag = "journeys", request_body = StageInput, responses((status = 200, body = Stage), (status = 409, body = crate::error::ErrorBody)))]
pub async fn add_stage(
    auth: Auth,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<StageInput>,
) -> AppResult<Json<Stage>> {
    let (ko, en) = (
        stage_name(input.name_ko.as_deref(), "name_ko")?,
        stage_name(input.name_en.as_deref(), "name_en")?,
    );
    let stage = state.store.add_stage(&stage_key(&en), &ko, &en).await?;
    state
        .audit(&auth, "stage.add", &format!("stage:{}", stage.id), &en)
        .await;
    Ok(Json(stage))
}

#[utoipa::path(patch, path = "/api/v1/stages/{id}", security(("bearer" = ["journeys_edit"])), tag = "journeys", params(("id" = i64, Path)), request_body = StageInput, responses((status = 200, body = Vec<Stage>)))]
pub async fn edit_stage(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<StageInput>,
) -> AppResult<Json<Vec<Stage>>> {
    if input.name_ko.is_some() || input.name_en.is_some() {
        let current = state
            .store
            .stages()
            .await?
            .into_iter()
            .find(|s| s.id == id)
            .ok_or_else(|| AppError::NotFound(format!("stage {id}")))?;
        let ko = stage_name(
            Some(input.name_ko.as_deref().unwrap_or(&current.name_ko)),
            "name_ko",
        )?;
        let en = stage_name(
            Some(input.name_en.as_deref().unwrap_or(&current.name_en)),
            "name_en",
        )?;
        state.store.rename_stage(id, &ko, &en).await?;
    }
    if let Some(by) = input.move_by {
        state.store.move_stage(id, by).await?;
    }
    state
        .audit(&auth, "stage.edit", &format!("stage:{id}"), "")
        .await;
    Ok(Json(state.store.stages().await?))
}

#[utoipa::path(delete, path = "/api/v1/stages/{id}", security(("bearer" = ["journeys_edit"])), tag = "journeys", params(("id" = i64, Path)), responses((status = 200, body = Vec<Stage>)))]
pub async fn delete_stage(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Vec<Stage>>> {
    state.store.delete_stage(id).await?;
    state
        .audit(&auth, "stage.delete", &format!("stage:{id}"), "")
        .await;
    Ok(Json(state.store.stages().await?))
}

#[utoipa::path(get, path = "/api/v1/touchpoints", security(("bearer" = ["customers_read"])), tag = "journeys", responses((status = 200, body = Vec<Touchpoint>)))]
pub async fn touchpoints(State(state): State<AppState>) -> AppResult<Json<Vec<Touchpoint>>> {
    Ok(Json(state.store.touchpoints().await?))
}

#[utoipa::path(post, path = "/api/v1/touchpoints", security(("bearer" = ["journeys_edit"])), tag = "journeys", request_body = TouchpointInput, responses((status = 200, body = Touchpoint)))]
pub async fn create_touchpoint(
    auth: Auth,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<TouchpointInput>,
) -> AppResult<Json<Touchpoint>> {
    Ok(Json(
        create_touchpoint_checked(&state, &auth.as_actor(), &input).await?,
    ))
}

#[utoipa::path(patch, path = "/api/v1/touchpoints/{id}", security(("bearer" = ["journeys_edit"])), tag = "journeys", params(("id" = i64, Path)), request_body = TouchpointInput, responses((status = 200, body = Touchpoint)))]
pub async fn update_touchpoint(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<TouchpointInput>,
) -> AppResult<Json<Touchpoint>> {
    let new = parse_touchpoint(&state, &input).await?;
    let t = state.store.update_touchpoint(id, &new).await?;
    state.events.rebuild().await;
    state
        .audit(
            &auth,
            "touchpoint.update",
            &format!("touchpoint:{id}"),
            &t.name,
        )
        .await;
    Ok(Json(t))
}

#[utoipa::path(delete, path = "/api/v1/touchpoints/{id}", security(("bearer" = ["journeys_edit"])), tag = "journeys", params(("id" = i64, Path)), responses((status = 200, body = Vec<Touchpoint>)))]
pub async fn delete_touchpoint(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Vec<Touchpoint>>> {
    state.store.delete_touchpoint(id).await?;
    state.events.rebuild().await;
    state
        .audit(&auth, "touchpoint.delete", &format!("touchpoint:{id}"), "")
        .await;
    Ok(Json(state.store.touchpoints().await?))
}
