//! Administration over JSON: the caller, users and roles, teams, API tokens, the audit log,
//! background jobs and dashboard counts.

use axum::{
    Json, Router,
    http::StatusCode,
    routing::{delete, get},
};
use nunchi_core::{
    access::{Role, Scope},
    email::Email,
};
use nunchi_store::model::{ApiToken, AuditEntry, Job, Stats, Team, User};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{
    AppState,
    api::{decode_id_cursor, encode_id_cursor, limit},
    auth::{Auth, Need, password, perm, secret},
    error::{AppError, AppResult},
    extract::{ApiJson, ApiPath, ApiQuery},
    i18n::Lang,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/me", get(me))
        .route("/api/v1/stats", get(stats))
        .route("/api/v1/users", get(users).post(create_user))
        .route("/api/v1/users/{id}", axum::routing::patch(update_user))
        .route("/api/v1/teams", get(teams).post(create_team))
        .route("/api/v1/tokens", get(tokens).post(create_token))
        .route("/api/v1/tokens/{id}", delete(revoke_token))
        .route("/api/v1/audit", get(audit))
        .route("/api/v1/jobs", get(jobs))
        .route("/api/v1/jobs/{id}", get(job))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub user: User,
    /// What this caller may do, after token scopes.
    #[schema(value_type = Vec<String>)]
    pub permissions: Vec<nunchi_core::access::Permission>,
}

#[utoipa::path(get, path = "/api/v1/me", tag = "admin", responses((status = 200, body = Me), (status = 401, body = crate::error::ErrorBody)))]
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

#[utoipa::path(get, path = "/api/v1/stats", tag = "admin", responses((status = 200, body = Stats)))]
pub async fn stats(
    _auth: Need<perm::CustomersRead>,
    state: axum::extract::State<AppState>,
) -> AppResult<Json<Stats>> {
    Ok(Json(state.store.stats().await?))
}

#[utoipa::path(get, path = "/api/v1/users", tag = "admin", responses((status = 200, body = Vec<User>)))]
pub async fn users(
    _auth: Need<perm::UsersManage>,
    state: axum::extract::State<AppState>,
) -> AppResult<Json<Vec<User>>> {
    Ok(Json(state.store.users().await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewUser {
    pub email: String,
    pub name: String,
    /// At least 10 characters.
    pub password: String,
    /// `admin`, `manager`, `agent` or `viewer`.
    pub role: String,
    /// `ko` or `en`; Korean when left out.
    pub locale: Option<String>,
}

/// Creates a user; shared by the API, the admin page and the CLI.
pub async fn create_user_checked(state: &AppState, auth: &Auth, u: &NewUser) -> AppResult<User> {
    let email = Email::parse(&u.email)?;
    let role = Role::parse(&u.role)?;
    let name = u.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::bad_request(
            "invalid_name",
            "a name has 1–100 characters",
        ));
    }
    let locale = u
        .locale
        .as_deref()
        .map(|l| {
            Lang::parse(l).ok_or_else(|| AppError::bad_request("invalid_locale", "use ko or en"))
        })
        .transpose()?
        .unwrap_or(Lang::Ko);
    let hash = password::hash(&u.password)?;
    let user = state
        .store
        .create_user(email.as_str(), name, &hash, role.as_str(), locale.code())
        .await?;
    state
        .audit(
            auth,
            "user.create",
            &format!("user {}", user.id),
            &format!("{} as {}", user.email, user.role),
        )
        .await;
    Ok(user)
}

#[utoipa::path(post, path = "/api/v1/users", tag = "admin", request_body = NewUser, responses((status = 201, body = User), (status = 409, body = crate::error::ErrorBody)))]
pub async fn create_user(
    auth: Need<perm::UsersManage>,
    state: axum::extract::State<AppState>,
    ApiJson(u): ApiJson<NewUser>,
) -> AppResult<(StatusCode, Json<User>)> {
    Ok((
        StatusCode::CREATED,
        Json(create_user_checked(&state, &auth, &u).await?),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserPatch {
    pub role: Option<String>,
    /// A team id, or null to leave every team.
    #[serde(default, with = "double_option")]
    #[schema(value_type = Option<i64>)]
    pub team_id: Option<Option<i64>>,
    pub disabled: Option<bool>,
    pub password: Option<String>,
}

mod double_option {
    use serde::{Deserialize, Deserializer};
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
        Option::<i64>::deserialize(d).map(Some)
    }
}

/// Applies a change to a user and records every permission change in the audit log.
pub async fn update_user_checked(
    state: &AppState,
    auth: &Auth,
    id: i64,
    p: &UserPatch,
) -> AppResult<User> {
    let before = state.store.user(id).await?;
    if let Some(role) = &p.role {
        let role = Role::parse(role)?;
        if id == auth.user.id && role != Role::Admin {
            return Err(AppError::Conflict(
                "you cannot take away your own admin role".into(),
            ));
        }
        state.store.set_role(id, role.as_str()).await?;
        state
            .audit(
                auth,
                "user.role",
                &format!("user {id}"),
                &format!("{} → {}", before.role, role.as_str()),
            )
            .await;
    }
    if let Some(team) = p.team_id {
        state.store.set_team(id, team).await?;
        state
            .audit(
                auth,
                "user.team",
                &format!("user {id}"),
                &format!("{:?} → {team:?}", before.team_id),
            )
            .await;
    }
    if let Some(disabled) = p.disabled {
        if id == auth.user.id && disabled {
            return Err(AppError::Conflict("you cannot disable yourself".into()));
        }
        state.store.set_disabled(id, disabled).await?;
        state
            .audit(
                auth,
                if disabled {
                    "user.disable"
                } else {
                    "user.enable"
                },
                &format!("user {id}"),
                "",
            )
            .await;
    }
    if let Some(pw) = &p.password {
        state.store.set_password(id, &password::hash(pw)?).await?;
        state
            .audit(
                auth,
                "user.password",
                &format!("user {id}"),
                "password reset",
            )
            .await;
    }
    Ok(state.store.user(id).await?)
}

#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "admin", params(("id" = i64, Path)), request_body = UserPatch, responses((status = 200, body = User)))]
pub async fn update_user(
    auth: Need<perm::UsersManage>,
    state: axum::extract::State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(p): ApiJson<UserPatch>,
) -> AppResult<Json<User>> {
    Ok(Json(update_user_checked(&state, &auth, id, &p).await?))
}

#[utoipa::path(get, path = "/api/v1/teams", tag = "admin", responses((status = 200, body = Vec<Team>)))]
pub async fn teams(
    _auth: Need<perm::TeamsRead>,
    state: axum::extract::State<AppState>,
) -> AppResult<Json<Vec<Team>>> {
    Ok(Json(state.store.teams().await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewTeam {
    pub name: String,
}

/// Creates a team; shared by the API and the users page.
pub async fn create_team_checked(state: &AppState, auth: &Auth, name: &str) -> AppResult<Team> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::bad_request(
            "invalid_name",
            "a team name has 1–100 characters",
        ));
    }
    let team = state.store.create_team(name).await?;
    state
        .audit(auth, "team.create", &format!("team {}", team.id), name)
        .await;
    Ok(team)
}

#[utoipa::path(post, path = "/api/v1/teams", tag = "admin", request_body = NewTeam, responses((status = 201, body = Team)))]
pub async fn create_team(
    auth: Need<perm::UsersManage>,
    state: axum::extract::State<AppState>,
    ApiJson(t): ApiJson<NewTeam>,
) -> AppResult<(StatusCode, Json<Team>)> {
    Ok((
        StatusCode::CREATED,
        Json(create_team_checked(&state, &auth, &t.name).await?),
    ))
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "admin", responses((status = 200, body = Vec<ApiToken>)))]
pub async fn tokens(
    auth: Auth,
    state: axum::extract::State<AppState>,
) -> AppResult<Json<Vec<ApiToken>>> {
    Ok(Json(state.store.api_tokens(auth.user.id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewToken {
    pub name: String,
    /// Any of `customers:read`, `customers:write`, `data:import`, `data:export`, `admin`.
    /// A token never does more than its owner's role allows.
    pub scopes: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    /// The secret, shown only in this response; only its hash is stored.
    pub token: String,
    pub details: ApiToken,
}

/// Creates a token for the caller; shared by the API and the tokens page.
pub async fn create_token_checked(
    state: &AppState,
    auth: &Auth,
    t: &NewToken,
) -> AppResult<CreatedToken> {
    let name = t.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::bad_request(
            "invalid_name",
            "a token name has 1–100 characters",
        ));
    }
    let scopes: Vec<Scope> = Scope::parse_list(&t.scopes.join(" "))?;
    if scopes.is_empty() {
        return Err(AppError::bad_request(
            "invalid_scopes",
            "give the token at least one scope",
        ));
    }
    let token = secret::new_api_token();
    let details = state
        .store
        .create_api_token(
            auth.user.id,
            name,
            &secret::hash(&token),
            &token[..10],
            &Scope::join(&scopes),
        )
        .await?;
    state
        .audit(
            auth,
            "token.create",
            &format!("token {}", details.id),
            &Scope::join(&scopes),
        )
        .await;
    Ok(CreatedToken { token, details })
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "admin", request_body = NewToken, responses((status = 201, body = CreatedToken)))]
pub async fn create_token(
    auth: Auth,
    state: axum::extract::State<AppState>,
    ApiJson(t): ApiJson<NewToken>,
) -> AppResult<(StatusCode, Json<CreatedToken>)> {
    Ok((
        StatusCode::CREATED,
        Json(create_token_checked(&state, &auth, &t).await?),
    ))
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "admin", params(("id" = i64, Path)), responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
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

#[utoipa::path(get, path = "/api/v1/audit", tag = "admin", params(CursorQuery), responses((status = 200, body = AuditPage)))]
pub async fn audit(
    _auth: Need<perm::AuditRead>,
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

#[utoipa::path(get, path = "/api/v1/jobs", tag = "admin", responses((status = 200, body = Vec<Job>)))]
pub async fn jobs(
    _auth: Need<perm::UsersManage>,
    state: axum::extract::State<AppState>,
) -> AppResult<Json<Vec<Job>>> {
    Ok(Json(state.store.jobs(100).await?))
}

#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "admin", params(("id" = i64, Path)), responses((status = 200, body = Job), (status = 404, body = crate::error::ErrorBody)))]
pub async fn job(
    _auth: Need<perm::DataImport>,
    state: axum::extract::State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Job>> {
    Ok(Json(state.store.job(id).await?))
}
