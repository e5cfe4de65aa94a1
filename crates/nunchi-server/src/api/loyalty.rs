//! Loyalty over HTTP: a customer's points (the stable contract
//! `GET /api/v1/customers/{id}/points`), their ledger, quotes and redemptions for a
//! checkout, staff adjustments, and the program's settings, rules and liabilities.

use axum::{Json, extract::State, http::StatusCode};
use nunchi_app::loyalty::{
    self, CustomerPoints,
    redemption::{self, AdjustmentInput, Quote, Redemption, RedemptionInput},
};
use nunchi_core::loyalty::{Program, earn::EarnRule, reward::Reward};
use nunchi_store::model::{LoyaltyEntry, LoyaltySummary};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    AppState,
    auth::Auth,
    error::AppResult,
    extract::{ApiJson, ApiPath},
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(points))
        .routes(routes!(entries))
        .routes(routes!(quote))
        .routes(routes!(redeem))
        .routes(routes!(adjust))
        .routes(routes!(program, save_program))
        .routes(routes!(rules, create_rule))
        .routes(routes!(update_rule))
        .routes(routes!(summary))
        .routes(routes!(rewards, create_reward))
        .routes(routes!(update_reward))
        .routes(routes!(slow_movers))
        .routes(routes!(accept_slow_mover))
}

#[utoipa::path(get, operation_id = "customer_points", path = "/api/v1/customers/{id}/points", security(("bearer" = ["customers_read"])), tag = "loyalty", params(("id" = i64, Path)),
    responses((status = 200, body = CustomerPoints), (status = 404, body = crate::error::ErrorBody)))]
pub async fn points(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<CustomerPoints>> {
    Ok(Json(
        loyalty::customer_points(&state, &auth.as_actor(), id).await?,
    ))
}

#[utoipa::path(get, operation_id = "customer_points_entries", path = "/api/v1/customers/{id}/points/entries", security(("bearer" = ["customers_read"])), tag = "loyalty", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<LoyaltyEntry>, description = "Newest first, each debit with the lots it drew from")))]
pub async fn entries(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Vec<LoyaltyEntry>>> {
    Ok(Json(
        loyalty::customer_entries(&state, &auth.as_actor(), id, 1000).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct QuoteInput {
    pub points: i64,
}

#[utoipa::path(post, operation_id = "quote_points", path = "/api/v1/customers/{id}/points/quote", security(("bearer" = ["points_write"])), tag = "loyalty", params(("id" = i64, Path)),
    request_body = QuoteInput, responses((status = 200, body = Quote)))]
pub async fn quote(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<QuoteInput>,
) -> AppResult<Json<Quote>> {
    Ok(Json(
        redemption::quote(&state, &auth.as_actor(), id, input.points).await?,
    ))
}

#[utoipa::path(post, operation_id = "redeem_points", path = "/api/v1/customers/{id}/points/redemptions", security(("bearer" = ["points_write"])), tag = "loyalty", params(("id" = i64, Path)),
    request_body = RedemptionInput,
    responses((status = 201, body = Redemption, description = "Spent"),
              (status = 200, body = Redemption, description = "This id was already committed; nothing more was spent"),
              (status = 409, body = crate::error::ErrorBody, description = "Not enough points, or the id was used for something else")))]
pub async fn redeem(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<RedemptionInput>,
) -> AppResult<(StatusCode, Json<Redemption>)> {
    let r = redemption::redeem(&state, &auth.as_actor(), id, &input).await?;
    let status = if r.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(r)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Balance {
    pub balance: i64,
}

#[utoipa::path(post, operation_id = "adjust_points", path = "/api/v1/customers/{id}/points/adjustments", security(("bearer" = ["loyalty_manage"])), tag = "loyalty", params(("id" = i64, Path)),
    request_body = AdjustmentInput, responses((status = 201, body = Balance)))]
pub async fn adjust(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<AdjustmentInput>,
) -> AppResult<(StatusCode, Json<Balance>)> {
    let balance = redemption::adjust(&state, &auth.as_actor(), id, &input).await?;
    Ok((StatusCode::CREATED, Json(Balance { balance })))
}

/// The program's settings as JSON (`nunchi_core::loyalty::Program`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct ProgramBody(pub Program);

#[utoipa::path(get, operation_id = "loyalty_program", path = "/api/v1/loyalty/program", security(("bearer" = ["customers_read"])), tag = "loyalty",
    responses((status = 200, body = ProgramBody)))]
pub async fn program(auth: Auth, State(state): State<AppState>) -> AppResult<Json<ProgramBody>> {
    auth.require(nunchi_core::access::Permission::CustomersRead)?;
    Ok(Json(ProgramBody(loyalty::program(&state).await?)))
}

#[utoipa::path(put, operation_id = "save_loyalty_program", path = "/api/v1/loyalty/program", security(("bearer" = ["loyalty_manage"])), tag = "loyalty",
    request_body = ProgramBody, responses((status = 200, body = ProgramBody)))]
pub async fn save_program(
    auth: Auth,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<ProgramBody>,
) -> AppResult<Json<ProgramBody>> {
    Ok(Json(ProgramBody(
        loyalty::save_program(&state, &auth.as_actor(), body.0).await?,
    )))
}

/// An earn rule as JSON (`nunchi_core::loyalty::earn::EarnRule`; `id` is ignored on create).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct RuleBody(pub EarnRule);

#[utoipa::path(get, operation_id = "loyalty_rules", path = "/api/v1/loyalty/rules", security(("bearer" = ["customers_read"])), tag = "loyalty",
    responses((status = 200, body = Vec<RuleBody>)))]
pub async fn rules(auth: Auth, State(state): State<AppState>) -> AppResult<Json<Vec<RuleBody>>> {
    auth.require(nunchi_core::access::Permission::CustomersRead)?;
    Ok(Json(
        loyalty::rules(&state)
            .await?
            .into_iter()
            .map(RuleBody)
            .collect(),
    ))
}

/// The id of a rule or reward saved.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleId {
    pub id: i64,
}

#[utoipa::path(post, operation_id = "create_loyalty_rule", path = "/api/v1/loyalty/rules", security(("bearer" = ["loyalty_manage"])), tag = "loyalty",
    request_body = RuleBody,
    responses((status = 201, body = RuleId), (status = 409, body = crate::error::ErrorBody, description = "It would award a purchase twice with another rule")))]
pub async fn create_rule(
    auth: Auth,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RuleBody>,
) -> AppResult<(StatusCode, Json<RuleId>)> {
    let mut rule = body.0;
    rule.id = 0;
    let id = loyalty::save_rule(&state, &auth.as_actor(), rule).await?;
    Ok((StatusCode::CREATED, Json(RuleId { id })))
}

#[utoipa::path(put, operation_id = "update_loyalty_rule", path = "/api/v1/loyalty/rules/{id}", security(("bearer" = ["loyalty_manage"])), tag = "loyalty", params(("id" = i64, Path)),
    request_body = RuleBody,
    responses((status = 200, body = RuleId), (status = 409, body = crate::error::ErrorBody)))]
pub async fn update_rule(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<RuleBody>,
) -> AppResult<Json<RuleId>> {
    let mut rule = body.0;
    rule.id = id;
    let id = loyalty::save_rule(&state, &auth.as_actor(), rule).await?;
    Ok(Json(RuleId { id }))
}

/// The program's liabilities (`nunchi_store::model::LoyaltySummary`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct SummaryBody(pub LoyaltySummary);

#[utoipa::path(get, operation_id = "loyalty_summary", path = "/api/v1/loyalty/summary", security(("bearer" = ["customers_read"])), tag = "loyalty",
    responses((status = 200, body = SummaryBody)))]
pub async fn summary(auth: Auth, State(state): State<AppState>) -> AppResult<Json<SummaryBody>> {
    Ok(Json(SummaryBody(
        loyalty::summary(&state, &auth.as_actor()).await?,
    )))
}

/// A reward as JSON (`nunchi_core::loyalty::reward::Reward`; `id` is ignored on create).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct RewardBody(pub Reward);

#[utoipa::path(get, operation_id = "loyalty_rewards", path = "/api/v1/loyalty/rewards", security(("bearer" = ["customers_read"])), tag = "loyalty",
    responses((status = 200, body = Vec<RewardBody>)))]
pub async fn rewards(
    auth: Auth,
    State(state): State<AppState>,
) -> AppResult<Json<Vec<RewardBody>>> {
    auth.require(nunchi_core::access::Permission::CustomersRead)?;
    Ok(Json(
        loyalty::rewards(&state)
            .await?
            .into_iter()
            .map(RewardBody)
            .collect(),
    ))
}

#[utoipa::path(post, operation_id = "create_loyalty_reward", path = "/api/v1/loyalty/rewards", security(("bearer" = ["loyalty_manage"])), tag = "loyalty",
    request_body = RewardBody, responses((status = 201, body = RuleId)))]
pub async fn create_reward(
    auth: Auth,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RewardBody>,
) -> AppResult<(StatusCode, Json<RuleId>)> {
    let mut reward = body.0;
    reward.id = 0;
    let id = redemption::save_reward(&state, &auth.as_actor(), reward).await?;
    Ok((StatusCode::CREATED, Json(RuleId { id })))
}

#[utoipa::path(put, operation_id = "update_loyalty_reward", path = "/api/v1/loyalty/rewards/{id}", security(("bearer" = ["loyalty_manage"])), tag = "loyalty", params(("id" = i64, Path)),
    request_body = RewardBody, responses((status = 200, body = RuleId), (status = 404, body = crate::error::ErrorBody)))]
pub async fn update_reward(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<RewardBody>,
) -> AppResult<Json<RuleId>> {
    let mut reward = body.0;
    reward.id = id;
    let id = redemption::save_reward(&state, &auth.as_actor(), reward).await?;
    Ok(Json(RuleId { id }))
}

#[utoipa::path(get, operation_id = "loyalty_slow_movers", path = "/api/v1/loyalty/slow-movers", security(("bearer" = ["customers_read"])), tag = "loyalty",
    responses((status = 200, body = Vec<nunchi_app::loyalty::slow_movers::Proposal>, description = "Products whose recent sales are under half their usual pace, slowest first")))]
pub async fn slow_movers(
    auth: Auth,
    State(state): State<AppState>,
) -> AppResult<Json<Vec<nunchi_app::loyalty::slow_movers::Proposal>>> {
    Ok(Json(
        nunchi_app::loyalty::slow_movers::propose(&state, &auth.as_actor()).await?,
    ))
}

#[utoipa::path(post, operation_id = "accept_slow_mover", path = "/api/v1/loyalty/slow-movers/accept", security(("bearer" = ["loyalty_manage"])), tag = "loyalty",
    request_body = nunchi_app::loyalty::slow_movers::Acceptance,
    responses((status = 201, body = RuleId, description = "The bonus rule made"), (status = 409, body = crate::error::ErrorBody, description = "A bonus for the product overlaps")))]
pub async fn accept_slow_mover(
    auth: Auth,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<nunchi_app::loyalty::slow_movers::Acceptance>,
) -> AppResult<(StatusCode, Json<RuleId>)> {
    let id = nunchi_app::loyalty::slow_movers::accept(&state, &auth.as_actor(), &input).await?;
    Ok((StatusCode::CREATED, Json(RuleId { id })))
}
