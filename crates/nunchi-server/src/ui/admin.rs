//! Admin pages: users and roles, one's own API tokens, event sources and their write keys,
//! the audit log, background jobs.

use askama::Template;
use axum::{
    Form, Router,
    extract::State,
    http::{HeaderMap, header},
    response::{IntoResponse, Redirect},
    routing::{get, post},
};
use nunchi_core::{
    access::{Role, Scope},
    channel::Channel,
};
use nunchi_store::model::{ApiToken, EventSource, Job, Team, User};
use serde::Deserialize;

use super::{Chrome, CsrfForm, UiAuth, UiNeed, UiResult, fmt_time, lang_of, render};
use nunchi_app::paging::{decode_id_cursor, encode_id_cursor};

use nunchi_app::sources::{SourceInput, create_source_checked};
use nunchi_app::users::{
    NewToken, NewUser, UserPatch, create_team_checked, create_token_checked, create_user_checked,
    update_user_checked,
};

use crate::{
    AppState,
    auth::{Auth, check_form_csrf, perm},
    extract::{ApiPath, ApiQuery},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users).post(create_user))
        .route("/admin/users/{id}", post(update_user))
        .route("/admin/teams", post(create_team))
        .route("/admin/tokens", get(tokens).post(create_token))
        .route("/admin/tokens/{id}/revoke", post(revoke_token))
        .route("/admin/sources", get(sources).post(create_source))
        .route("/admin/audit", get(audit))
        .route("/admin/jobs", get(jobs))
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    chrome: Chrome,
    users: Vec<User>,
    teams: Vec<Team>,
    roles: Vec<&'static str>,
    me: i64,
}

impl UsersPage {
    fn same(&self, a: &Role, b: &str) -> bool {
        a.as_str() == b
    }
}

async fn users(State(state): State<AppState>, auth: UiNeed<perm::UsersManage>) -> UiResult {
    let t = lang_of(&auth).strings();
    Ok(render(UsersPage {
        chrome: Chrome::new(&auth, "/admin/users", t.users_title),
        users: state.store.users().await?,
        teams: state.store.teams().await?,
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
        me: auth.user.id,
    }))
}

#[derive(Debug, Deserialize)]
pub struct NewUserForm {
    csrf: String,
    email: String,
    name: String,
    password: String,
    role: String,
}

async fn create_user(
    State(state): State<AppState>,
    auth: UiNeed<perm::UsersManage>,
    Form(f): Form<NewUserForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    create_user_checked(
        &state,
        &auth.as_actor(),
        &NewUser {
            email: f.email,
            name: f.name,
            password: f.password,
            role: f.role,
            locale: None,
        },
    )
    .await?;
    Ok(Redirect::to("/admin/users").into_response())
}

#[derive(Debug, Deserialize)]
pub struct TeamForm {
    csrf: String,
    name: String,
}

async fn create_team(
    State(state): State<AppState>,
    auth: UiNeed<perm::UsersManage>,
    Form(f): Form<TeamForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    create_team_checked(&state, &auth.as_actor(), &f.name).await?;
    Ok(Redirect::to("/admin/users").into_response())
}

#[derive(Debug, Deserialize)]
pub struct UserForm {
    csrf: String,
    role: String,
    team_id: String,
}

async fn update_user(
    State(state): State<AppState>,
    auth: UiNeed<perm::UsersManage>,
    ApiPath(id): ApiPath<i64>,
    Form(f): Form<UserForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    let team_id = f.team_id.parse::<i64>().ok();
    let current = state.store.user(id).await?;
    let patch = UserPatch {
        role: (current.role.as_str() != f.role).then_some(f.role),
        team_id: (current.team_id != team_id).then_some(team_id),
        disabled: None,
        password: None,
    };
    update_user_checked(&state, &auth.as_actor(), id, &patch).await?;
    Ok(Redirect::to("/admin/users").into_response())
}

#[derive(Template)]
#[template(path = "admin_tokens.html")]
struct TokensPage {
    chrome: Chrome,
    tokens: Vec<ApiToken>,
    scopes: Vec<&'static str>,
    created: Option<String>,
}

async fn tokens_page(state: &AppState, auth: &Auth, created: Option<String>) -> UiResult {
    let t = lang_of(auth).strings();
    Ok(render(TokensPage {
        chrome: Chrome::new(auth, "/admin/tokens", t.tokens_title),
        tokens: state.store.api_tokens(auth.user.id).await?,
        scopes: Scope::ALL.iter().map(|s| s.as_str()).collect(),
        created,
    }))
}

async fn tokens(State(state): State<AppState>, UiAuth(auth): UiAuth) -> UiResult {
    tokens_page(&state, &auth, None).await
}

async fn create_token(
    State(state): State<AppState>,
    UiAuth(auth): UiAuth,
    Form(pairs): Form<Vec<(String, String)>>,
) -> UiResult {
    let get = |k: &str| {
        pairs
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    check_form_csrf(&auth, &get("csrf"))?;
    let scopes = pairs
        .iter()
        .filter(|(n, _)| n == "scope")
        .map(|(_, v)| v.clone())
        .collect();
    let created = create_token_checked(
        &state,
        &auth.as_actor(),
        &NewToken {
            name: get("name"),
            scopes,
        },
    )
    .await?;
    tokens_page(&state, &auth, Some(created.token)).await
}

#[derive(Template)]
#[template(path = "admin_sources.html")]
struct SourcesPage {
    chrome: Chrome,
    sources: Vec<EventSource>,
    channels: Vec<&'static str>,
    created: Option<String>,
    host: String,
}

impl SourcesPage {
    fn created_at(&self, s: &EventSource) -> String {
        fmt_time(s.created_at)
    }
}

async fn sources_page(
    state: &AppState,
    auth: &Auth,
    host: String,
    created: Option<String>,
) -> UiResult {
    let t = lang_of(auth).strings();
    Ok(render(SourcesPage {
        chrome: Chrome::new(auth, "/admin/sources", t.sources_title),
        // The native API's own source has no usable key, so it is not listed.
        sources: state
            .store
            .sources()
            .await?
            .into_iter()
            .filter(|s| s.write_key_prefix.starts_with("nk_"))
            .collect(),
        channels: Channel::ALL.iter().map(|c| c.as_str()).collect(),
        created,
        host,
    }))
}

/// The address SDKs should send to, as the browser reached this server.
fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:8080");
    format!("http://{host}")
}

async fn sources(
    State(state): State<AppState>,
    auth: UiNeed<perm::UsersManage>,
    headers: HeaderMap,
) -> UiResult {
    sources_page(&state, &auth, base_url(&headers), None).await
}

#[derive(Debug, Deserialize)]
pub struct SourceForm {
    csrf: String,
    name: String,
    #[serde(default)]
    channel: String,
}

async fn create_source(
    State(state): State<AppState>,
    auth: UiNeed<perm::UsersManage>,
    headers: HeaderMap,
    Form(f): Form<SourceForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    let created = create_source_checked(
        &state,
        &auth.as_actor(),
        &SourceInput {
            name: f.name,
            channel: Some(f.channel),
        },
    )
    .await?;
    sources_page(&state, &auth, base_url(&headers), Some(created.write_key)).await
}

async fn revoke_token(
    State(state): State<AppState>,
    UiAuth(auth): UiAuth,
    ApiPath(id): ApiPath<i64>,
    Form(f): Form<CsrfForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    state.store.revoke_api_token(auth.user.id, id).await?;
    state
        .audit(&auth, "token.revoke", &format!("token {id}"), "")
        .await;
    Ok(Redirect::to("/admin/tokens").into_response())
}

#[derive(Template)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    chrome: Chrome,
    entries: Vec<AuditRow>,
    next_href: Option<String>,
}

/// An audit entry as people read it: the action in their language (its key beside it),
/// and a user target by name rather than `user 12`.
struct AuditRow {
    when: String,
    actor: String,
    action: String,
    key: String,
    target: String,
    detail: String,
}

#[derive(Debug, Deserialize)]
pub struct CursorQuery {
    cursor: Option<String>,
}

async fn audit(
    State(state): State<AppState>,
    auth: UiNeed<perm::AuditRead>,
    ApiQuery(q): ApiQuery<CursorQuery>,
) -> UiResult {
    let t = lang_of(&auth).strings();
    let entries = state
        .store
        .audit_log(decode_id_cursor(q.cursor.as_deref())?, 100)
        .await?;
    let next_href = (entries.len() == 100)
        .then(|| {
            entries
                .last()
                .map(|e| format!("/admin/audit?cursor={}", encode_id_cursor(e.id)))
        })
        .flatten();
    let users: std::collections::HashMap<String, String> = state
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| {
            (
                format!("user {}", u.id),
                format!("{} ({})", u.name, u.email),
            )
        })
        .collect();
    let rows = entries
        .into_iter()
        .map(|e| AuditRow {
            when: fmt_time(e.at),
            action: t.audit_action(&e.action).unwrap_or(&e.action).to_string(),
            target: users.get(&e.target).cloned().unwrap_or(e.target),
            key: e.action,
            actor: e.actor,
            detail: e.detail,
        })
        .collect();
    Ok(render(AuditPage {
        chrome: Chrome::new(&auth, "/admin/audit", t.audit_title),
        entries: rows,
        next_href,
    }))
}

#[derive(Template)]
#[template(path = "admin_jobs.html")]
struct JobsPage {
    chrome: Chrome,
    jobs: Vec<(String, Job)>,
}

async fn jobs(State(state): State<AppState>, auth: UiNeed<perm::UsersManage>) -> UiResult {
    let t = lang_of(&auth).strings();
    let jobs = state
        .store
        .jobs(100)
        .await?
        .into_iter()
        .map(|j| (fmt_time(j.created_at), j))
        .collect();
    Ok(render(JobsPage {
        chrome: Chrome::new(&auth, "/admin/jobs", t.jobs_title),
        jobs,
    }))
}
