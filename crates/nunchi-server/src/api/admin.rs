//! Administration over JSON: the caller, users and roles, teams, API tokens, the audit log,
//! background jobs and dashboard counts.

use axum::{Json, http::StatusCode};
use nunchi_store::model::{ApiToken, AuditEntry, Job, Stats, Team, User};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use nunchi_app::paging::{decode_id_cursor, encode_id_cursor, limit};

use nunchi_app::users::{
    CreatedToken, NewTeam, NewToken, NewUser, UserPatch, create_team_checked, create_token_checked,
    create_user_checked, update_user_checked,
};

use crate::{
    AppState,
    auth::Auth,
    error::AppResult,
    extract::{ApiJson, ApiPath, ApiQuery},
};

/// Routes and their OpenAPI operations, both from each handler's `#[utoipa::path]`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(stats))
        .routes(routes!(users, create_user))
        .routes(routes!(update_user))
        .routes(routes!(teams, create_team))
        .routes(routes!(tokens, create_token))
        .routes(routes!(revoke_token))
        .routes(routes!(audit))
        .routes(routes!(jobs))
        .routes(routes!(job))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub user: User,
    /// What this caller may do, after token scopes.
    #[schema(value_type = Vec<String>)]
    pub permissions: Vec<nunchi_core::access::Permission>,
}

#[utoipa::path(get, path = "/api/v1/me", security(("bearer" = [])), tag = "admin", responses((status = 200, body = Me), (status = 401, body = crate::error::ErrorBody)))]
pub async fn me(auth: Auth) -> Json<Me> {
    let permissions = nunchi_core::access::Permission::ALL
        .into_iter()
        .filter(|p| auth.can(*p))
        .collect();
    Json(Me {
        user: auth.user,
        permissions,
    })
}

#[utoipa::path(get, path = "/api/v1/stats", security(("bearer" = ["customers_read"])), tag = "admin", responses((status = 200, body = Stats)))]
pub async fn stats(state: axum::extract::State<AppState>) -> AppResult<Json<Stats>> {
    Ok(Json(state.store.stats().await?))
}

#[utoipa::path(get, path = "/api/v1/users", security(("bearer" = ["users_manage"])), tag = "admin", responses((status = 200, body = Vec<User>)))]
pub async fn users(state: axum::extract::State<AppState>) -> AppResult<Json<Vec<User>>> {
    Ok(Json(state.store.users().await?))
}

#[utoipa::path(post, path = "/api/v1/users", security(("bearer" = ["users_manage"])), tag = "admin", request_body = NewUser, responses((status = 201, body = User), (status = 409, body = crate::error::ErrorBody)))]
pub async fn create_user(
    auth: Auth,
    state: axum::extract::State<AppState>,
    ApiJson(u): ApiJson<NewUser>,
) -> AppResult<(StatusCode, Json<User>)> {
    Ok((
        StatusCode::CREATED,
        Json(create_user_checked(&state, &auth.as_actor(), &u).await?),
    ))
}

#[utoipa::path(patch, path = "/api/v1/users/{id}", security(("bearer" = ["users_manage"])), tag = "admin", params(("id" = i64, Path)), request_body = UserPatch, responses((status = 200, body = User)))]
pub async fn update_user(
    auth: Auth,
    state: axum::extract::State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(p): ApiJson<UserPatch>,
) -> AppResult<Json<User>> {
    Ok(Json(
        update_user_checked(&state, &auth.as_actor(), id, &p).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/teams", security(("bearer" = ["teams_read"])), tag = "admin", responses((status = 200, body = Vec<Team>)))]
pub async fn teams(state: axum::extract::State<AppState>) -> AppResult<Json<Vec<Team>>> {
    Ok(Json(state.store.teams().await?))
}

#[utoipa::path(post, path = "/api/v1/teams", security(("bearer" = ["users_manage"])), tag = "admin", request_body = NewTeam, responses((status = 201, body = Team)))]
pub async fn create_team(
    auth: Auth,
    state: axum::extract::State<AppState>,
    ApiJson(t): ApiJson<NewTeam>,
) -> AppResult<(StatusCode, Json<Team>)> {
    Ok((
        StatusCode::CREATED,
        Json(create_team_checked(&state, &auth.as_actor(), &t.name).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/tokens", security(("bearer" = [])), tag = "admin", responses((status = 200, body = Vec<ApiToken>)))]
pub async fn tokens(
    auth: Auth,
    state: axum::extract::State<AppState>,
) -> AppResult<Json<Vec<ApiToken>>> {
    Ok(Json(state.store.api_tokens(auth.user.id).await?))
}

#[utoipa::path(post, path = "/api/v1/tokens", security(("bearer" = [])), tag = "admin", request_body = NewToken, responses((status = 201, body = CreatedToken)))]
pub async fn create_token(
    auth: Auth,
    state: axum::extract::State<AppState>,
    ApiJson(t): ApiJson<NewToken>,
) -> AppResult<(StatusCode, Json<CreatedToken>)> {
    Ok((
        StatusCode::CREATED,
        Json(create_token_checked(&state, &auth.as_actor(), &t).await?),
    ))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", security(("bearer" = [])), tag = "admin", params(("id" = i64, Path)), responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn revoke_token(
    auth: Auth,
    state: axum::extract::State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    state.store.revoke_api_token(auth.user.id, id).await?;
    state
        .audit(&auth, "token.revoke", &format!("token {id}"), "")
        .await;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CursorQuery {
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub items: Vec<AuditEntry>,
    pub next_cursor: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/audit", security(("bearer" = ["audit_read"])), tag = "admin", params(CursorQuery), responses((status = 200, body = AuditPage)))]
pub async fn audit(
    state: axum::extract::State<AppState>,
    ApiQuery(q): ApiQuery<CursorQuery>,
) -> AppResult<Json<AuditPage>> {
    let limit = limit(q.limit)?;
    let items = state
        .store
        .audit_log(decode_id_cursor(q.cursor.as_deref())?, limit)
        .await?;
    let next_cursor = (items.len() as i64 == limit)
        .then(|| items.last().map(|e| encode_id_cursor(e.id)))
        .flatten();
    Ok(Json(AuditPage { items, next_cursor }))
}

#[utoipa::path(get, path = "/api/v1/jobs", security(("bearer" = ["users_manage"])), tag = "admin", responses((status = 200, body = Vec<Job>)))]
pub async fn jobs(state: axum::extract::State<AppState>) -> AppResult<Json<Vec<Job>>> {
    Ok(Json(state.store.jobs(100).await?))
}

#[utoipa::path(get, path = "/api/v1/jobs/{id}", security(("bearer" = ["data_import"])), tag = "admin", params(("id" = i64, Path)), responses((status = 200, body = Job), (status = 404, body = crate::error::ErrorBody)))]
pub async fn job(
    state: axum::extract::State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Job>> {
    Ok(Json(state.store.job(id).await?))
}
