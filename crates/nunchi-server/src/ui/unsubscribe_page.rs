//! The unsubscribe link every advertising message carries (`/unsubscribe/{id}/{token}`):
//! free, no sign-in, one button in the customer's language. Mail clients post to the same
//! address without a page (RFC 8058's one-click `List-Unsubscribe-Post`), so the post
//! needs no form token; the link's own signed token is the proof.

use askama::Template;
use axum::{
    Router,
    extract::{Path, State},
    http::HeaderMap,
    response::Response,
    routing::get,
};

use crate::{
    AppState,
    error::AppError,
    i18n::{Lang, Strings},
    ui::{UiError, UiResult, render},
};

pub fn routes() -> Router<AppState> {
    Router::new().route("/unsubscribe/{id}/{token}", get(page).post(submit))
}

#[derive(Template)]
#[template(path = "unsubscribe_page.html")]
struct UnsubscribePage {
    t: &'static Strings,
    lang: &'static str,
    action: String,
    channel: String,
    done: bool,
}

async fn language(state: &AppState, customer_id: i64, headers: &HeaderMap) -> Lang {
    match state.store.customer(customer_id).await {
        Ok(c) => c.row.language.as_deref().and_then(Lang::parse),
        Err(_) => None,
    }
    .unwrap_or_else(|| {
        Lang::from_accept_language(headers.get("accept-language").and_then(|v| v.to_str().ok()))
    })
}

fn show(lang: Lang, id: i64, token: &str, channel: String, done: bool) -> Response {
    render(UnsubscribePage {
        t: lang.strings(),
        lang: lang.code(),
        action: format!("/unsubscribe/{id}/{token}"),
        channel,
        done,
    })
}

async fn page(
    State(state): State<AppState>,
    Path((id, token)): Path<(i64, String)>,
    headers: HeaderMap,
) -> UiResult {
    let d = nunchi_app::campaign_run::unsubscribe_link(&state, id, &token)
        .await
        .map_err(|e| UiError(AppError::from(e)))?;
    let lang = language(&state, d.customer_id, &headers).await;
    Ok(show(lang, id, &token, d.via.unwrap_or_default(), false))
}

async fn submit(
    State(state): State<AppState>,
    Path((id, token)): Path<(i64, String)>,
    headers: HeaderMap,
) -> UiResult {
    let done = nunchi_app::campaign_run::unsubscribe(&state, id, &token)
        .await
        .map_err(|e| UiError(AppError::from(e)))?;
    let lang = language(&state, done.customer_id, &headers).await;
    Ok(show(lang, id, &token, done.channel, true))
}
