//! Signing in and out, and the language switch. Sign-in is guarded three ways: a CSRF token
//! bound to a pre-session cookie, a per-address rate limit, and per-account lockout.

use askama::Template;
use axum::{
    Form, Router,
    extract::State,
    http::{HeaderMap, header, request::Parts},
    response::{AppendHeaders, IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;

use super::{Chrome, CsrfForm, UiAuth, UiError, UiResult, render};
use crate::{
    AppState,
    auth::{
        PRE_SESSION_COOKIE, SESSION_COOKIE, SESSION_TTL_MS, authenticate, check_form_csrf,
        cookie_value, password, secret,
    },
    error::AppError,
    i18n::Lang,
    ratelimit::ClientIp,
};

pub const MAX_FAILED_SIGN_INS: i64 = 5;
pub const LOCKOUT_MS: i64 = 15 * 60 * 1000;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/signin", get(form).post(submit))
        .route("/signout", post(sign_out))
        .route("/settings/language", post(set_language))
}

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage {
    chrome: Chrome,
    csrf: String,
    email: String,
    error: Option<&'static str>,
}

pub fn cookie(state: &AppState, name: &str, value: &str, max_age_s: i64) -> String {
    let secure = if state.settings.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age_s}{secure}")
}

async fn form(State(state): State<AppState>, parts: Parts) -> Response {
    if let Ok(Some(_)) = authenticate(&parts, &state).await {
        return Redirect::to("/").into_response();
    }
    let lang = crate::context::current().lang;
    let csrf = cookie_value(&parts.headers, PRE_SESSION_COOKIE)
        .filter(|v| v.len() >= 32)
        .map(str::to_string)
        .unwrap_or_else(secret::random_token);
    let page = SignInPage {
        chrome: Chrome::anonymous(lang, lang.strings().sign_in),
        csrf: csrf.clone(),
        email: String::new(),
        error: None,
    };
    (
        [(
            header::SET_COOKIE,
            cookie(&state, PRE_SESSION_COOKIE, &csrf, 3600),
        )],
        render(page),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    email: String,
    password: String,
    csrf: String,
}

async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(f): Form<SignInForm>,
) -> UiResult {
    let lang = crate::context::current().lang;
    let t = lang.strings();
    let pre = cookie_value(&headers, PRE_SESSION_COOKIE);
    if !pre.is_some_and(|p| secret::constant_time_eq(p, &f.csrf)) {
        return Err(UiError(AppError::Forbidden));
    }
    let again = |error: &'static str, email: &str| {
        let page = SignInPage {
            chrome: Chrome::anonymous(lang, t.sign_in),
            csrf: f.csrf.clone(),
            email: email.to_string(),
            error: Some(error),
        };
        Ok((axum::http::StatusCode::UNAUTHORIZED, render(page)).into_response())
    };
    if state.limits.sign_in.check(ip).is_err() {
        return Ok((
            axum::http::StatusCode::TOO_MANY_REQUESTS,
            again(t.rate_limited, &f.email)?,
        )
            .into_response());
    }
    let email = f.email.trim().to_lowercase();
    let user = state.store.user_by_email(&email).await?;
    let now = state.now();
    let Some(user) = user.filter(|u| !u.disabled) else {
        password::verify(&f.password, password::dummy_hash());
        state.metrics.sign_in_failures.inc();
        state
            .audit_system(&email, "sign_in.failed", "unknown account", &ip.to_string())
            .await;
        return again(t.bad_credentials, &f.email);
    };
    if user.locked_until > now {
        state
            .audit_system(
                &email,
                "sign_in.locked",
                &format!("user {}", user.id),
                &ip.to_string(),
            )
            .await;
        return again(t.account_locked, &f.email);
    }
    if !password::verify(&f.password, &user.password_hash) {
        state
            .store
            .record_login_failure(user.id, MAX_FAILED_SIGN_INS, now + LOCKOUT_MS)
            .await?;
        state.metrics.sign_in_failures.inc();
        state
            .audit_system(
                &email,
                "sign_in.failed",
                &format!("user {}", user.id),
                &ip.to_string(),
            )
            .await;
        let locked = user.failed_logins + 1 >= MAX_FAILED_SIGN_INS;
        return again(
            if locked {
                t.account_locked
            } else {
                t.bad_credentials
            },
            &f.email,
        );
    }
    state.store.record_login_success(user.id).await?;
    let token = secret::random_token();
    let session = nunchi_store::model::Session {
        token_hash: secret::hash(&token),
        user_id: user.id,
        csrf_token: secret::random_token(),
        created_at: now,
        expires_at: now + SESSION_TTL_MS,
    };
    state.store.create_session(&session).await?;
    state
        .audit_system(
            &user.email,
            "sign_in",
            &format!("user {}", user.id),
            &ip.to_string(),
        )
        .await;
    Ok((
        AppendHeaders([
            (
                header::SET_COOKIE,
                cookie(&state, SESSION_COOKIE, &token, SESSION_TTL_MS / 1000),
            ),
            (
                header::SET_COOKIE,
                cookie(&state, PRE_SESSION_COOKIE, "", 0),
            ),
        ]),
        Redirect::to("/"),
    )
        .into_response())
}

async fn sign_out(
    State(state): State<AppState>,
    UiAuth(auth): UiAuth,
    Form(f): Form<CsrfForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    if let crate::auth::Via::Session { token_hash, .. } = &auth.via {
        state.store.delete_session(token_hash).await?;
    }
    state
        .audit(&auth, "sign_out", &format!("user {}", auth.user.id), "")
        .await;
    Ok((
        [(header::SET_COOKIE, cookie(&state, SESSION_COOKIE, "", 0))],
        Redirect::to("/signin"),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
pub struct LanguageForm {
    csrf: String,
    lang: String,
}

async fn set_language(
    State(state): State<AppState>,
    UiAuth(auth): UiAuth,
    headers: HeaderMap,
    Form(f): Form<LanguageForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    let lang = Lang::parse(&f.lang)
        .ok_or_else(|| AppError::bad_request("invalid_locale", "use ko or en"))?;
    state.store.set_locale(auth.user.id, lang.code()).await?;
    // Back to the page the switch was pressed on, if it was one of ours.
    let back = headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.find("://").map(|i| &r[i + 3..]))
        .and_then(|r| r.find('/').map(|i| r[i..].to_string()))
        .unwrap_or_else(|| "/".into());
    Ok(Redirect::to(&back).into_response())
}
