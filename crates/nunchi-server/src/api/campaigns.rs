//! Campaigns over HTTP: build and change them (checked when saved), see what a launch
//! would do, preview a customer's message, launch and pause, read the report; the contact
//! policy and the channels' providers.

use axum::{Json, extract::State, http::StatusCode};
use nunchi_app::campaigns::{self, CampaignInput, CampaignView, Impact, Preview, Report};
use nunchi_app::contact_policy::{self, PolicyInput};
use nunchi_core::contact::Via;
use nunchi_store::model::{Campaign, Delivery};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    AppState,
    auth::Auth,
    error::AppResult,
    extract::{ApiJson, ApiPath, ApiQuery},
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update))
        .routes(routes!(impact))
        .routes(routes!(preview))
        .routes(routes!(launch))
        .routes(routes!(pause))
        .routes(routes!(report))
        .routes(routes!(customer_deliveries))
        .routes(routes!(get_policy, put_policy))
        .routes(routes!(put_provider))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

#[utoipa::path(get, operation_id = "list_campaigns", path = "/api/v1/campaigns", security(("bearer" = ["customers_read"])), tag = "campaigns",
    responses((status = 200, body = Vec<Campaign>)))]
pub async fn list(auth: Auth, State(state): State<AppState>) -> AppResult<Json<Vec<Campaign>>> {
    Ok(Json(campaigns::list(&state, &auth.as_actor()).await?))
}

#[utoipa::path(post, operation_id = "create_campaign", path = "/api/v1/campaigns", security(("bearer" = ["campaigns_manage"])), tag = "campaigns",
    request_body = CampaignInput, responses((status = 201, body = Created), (status = 400, body = crate::error::ErrorBody)))]
pub async fn create(
    auth: Auth,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<CampaignInput>,
) -> AppResult<(StatusCode, Json<Created>)> {
    let id = campaigns::create(&state, &auth.as_actor(), &input).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[utoipa::path(get, operation_id = "get_campaign", path = "/api/v1/campaigns/{id}", security(("bearer" = ["customers_read"])), tag = "campaigns", params(("id" = i64, Path)),
    responses((status = 200, body = CampaignView), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<CampaignView>> {
    Ok(Json(campaigns::get(&state, &auth.as_actor(), id).await?))
}

#[utoipa::path(put, operation_id = "update_campaign", path = "/api/v1/campaigns/{id}", security(("bearer" = ["campaigns_manage"])), tag = "campaigns", params(("id" = i64, Path)),
    request_body = CampaignInput, responses((status = 204), (status = 400, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn update(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<CampaignInput>,
) -> AppResult<StatusCode> {
    campaigns::update(&state, &auth.as_actor(), id, &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LangQuery {
    /// ko or en, for the explanations.
    pub lang: Option<String>,
}

#[utoipa::path(get, operation_id = "campaign_impact", path = "/api/v1/campaigns/{id}/impact", security(("bearer" = ["customers_read"])), tag = "campaigns", params(("id" = i64, Path), LangQuery),
    responses((status = 200, body = Impact, description = "What launching now would do: who receives it and who is suppressed, by reason")))]
pub async fn impact(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<LangQuery>,
) -> AppResult<Json<Impact>> {
    let lang = q.lang.as_deref().unwrap_or("en");
    Ok(Json(
        campaigns::impact(&state, &auth.as_actor(), id, lang).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PreviewQuery {
    pub customer_id: i64,
}

#[utoipa::path(get, operation_id = "campaign_preview", path = "/api/v1/campaigns/{id}/preview", security(("bearer" = ["customers_read"])), tag = "campaigns", params(("id" = i64, Path), PreviewQuery),
    responses((status = 200, body = Preview)))]
pub async fn preview(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<PreviewQuery>,
) -> AppResult<Json<Preview>> {
    Ok(Json(
        campaigns::preview(&state, &auth.as_actor(), id, q.customer_id).await?,
    ))
}

#[utoipa::path(post, operation_id = "launch_campaign", path = "/api/v1/campaigns/{id}/launch", security(("bearer" = ["campaigns_manage"])), tag = "campaigns", params(("id" = i64, Path)),
    responses((status = 204), (status = 400, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn launch(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    campaigns::launch(&state, &auth.as_actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, operation_id = "pause_campaign", path = "/api/v1/campaigns/{id}/pause", security(("bearer" = ["campaigns_manage"])), tag = "campaigns", params(("id" = i64, Path)),
    responses((status = 204), (status = 409, body = crate::error::ErrorBody)))]
pub async fn pause(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    campaigns::pause(&state, &auth.as_actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, operation_id = "campaign_report", path = "/api/v1/campaigns/{id}/report", security(("bearer" = ["customers_read"])), tag = "campaigns", params(("id" = i64, Path)),
    responses((status = 200, body = Report)))]
pub async fn report(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Report>> {
    Ok(Json(campaigns::report(&state, &auth.as_actor(), id).await?))
}

#[utoipa::path(get, operation_id = "customer_deliveries", path = "/api/v1/customers/{id}/deliveries", security(("bearer" = ["customers_read"])), tag = "campaigns", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<Delivery>, description = "Every message sent or meant for them, newest first, suppressed ones with their reason")))]
pub async fn customer_deliveries(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Vec<Delivery>>> {
    Ok(Json(
        campaigns::deliveries_of(&state, &auth.as_actor(), id).await?,
    ))
}

#[utoipa::path(get, operation_id = "get_contact_policy", path = "/api/v1/contact-policy", security(("bearer" = ["customers_read"])), tag = "campaigns",
    responses((status = 200, body = PolicyInput)))]
pub async fn get_policy(
    _auth: Auth,
    State(state): State<AppState>,
) -> AppResult<Json<PolicyInput>> {
    Ok(Json(contact_policy::current(&state).await?))
}

#[utoipa::path(put, operation_id = "put_contact_policy", path = "/api/v1/contact-policy", security(("bearer" = ["campaigns_manage"])), tag = "campaigns",
    request_body = PolicyInput, responses((status = 204), (status = 400, body = crate::error::ErrorBody)))]
pub async fn put_policy(
    auth: Auth,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<PolicyInput>,
) -> AppResult<StatusCode> {
    contact_policy::save(&state, &auth.as_actor(), &input).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ProviderInput {
    pub url: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderSecret {
    /// The signing secret (`whsec_…`) the provider checks `webhook-signature` with; shown once.
    pub secret: String,
}

#[utoipa::path(put, operation_id = "put_channel_provider", path = "/api/v1/channel-providers/{channel}", security(("bearer" = ["campaigns_manage"])), tag = "campaigns", params(("channel" = String, Path, description = "sms, lms, kakao_alimtalk, kakao_brand, line or push")),
    request_body = ProviderInput, responses((status = 200, body = ProviderSecret), (status = 400, body = crate::error::ErrorBody)))]
pub async fn put_provider(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(channel): ApiPath<String>,
    ApiJson(input): ApiJson<ProviderInput>,
) -> AppResult<Json<ProviderSecret>> {
    let via = Via::parse(&channel).map_err(nunchi_app::Error::from)?;
    let secret = contact_policy::set_provider(&state, &auth.as_actor(), via, &input.url).await?;
    Ok(Json(ProviderSecret { secret }))
}
