//! The public CSAT link a customer gets when their conversation is resolved
//! (`/csat/{token}`): five choices, an optional comment, in their language, no sign-in
//! and no JavaScript. A rating picked in the e-mail arrives preselected.

use askama::Template;
use axum::{
    Form, Router,
    extract::{Path, Query, State},
    response::Response,
    routing::get,
};
use serde::Deserialize;

use crate::{
    AppState,
    error::AppError,
    i18n::{Lang, Strings},
    ui::{UiError, UiResult, render},
};

pub fn routes() -> Router<AppState> {
    Router::new().route("/csat/{token}", get(page).post(submit))
}

#[derive(Template)]
#[template(path = "csat_page.html")]
struct CsatPage {
    t: &'static Strings,
    lang: &'static str,
    token: String,
    subject: String,
    /// The rating shown as chosen (from the e-mail's link).
    chosen: i64,
    done: bool,
    error: String,
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    rating: Option<i64>,
}

fn show(
    lang: Lang,
    token: String,
    subject: String,
    chosen: i64,
    done: bool,
    error: String,
) -> Response {
    render(CsatPage {
        t: lang.strings(),
        lang: lang.code(),
        token,
        subject,
        chosen,
        done,
        error,
    })
}

async fn page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(q): Query<PageQuery>,
) -> UiResult {
    let (r, c) = nunchi_app::csat::request(&state, &token).await?;
    let lang = Lang::parse(&r.lang).unwrap_or(Lang::Ko);
    Ok(show(
        lang,
        token,
        c.subject,
        q.rating.filter(|r| (1..=5).contains(r)).unwrap_or(0),
        r.answered_at.is_some(),
        String::new(),
    ))
}

#[derive(Debug, Deserialize)]
struct AnswerForm {
    #[serde(default)]
    rating: String,
    #[serde(default)]
    comment: String,
}

async fn submit(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(f): Form<AnswerForm>,
) -> UiResult {
    let (r, c) = nunchi_app::csat::request(&state, &token).await?;
    let lang = Lang::parse(&r.lang).unwrap_or(Lang::Ko);
    let Ok(rating) = f.rating.trim().parse::<i64>() else {
        let error = lang.strings().csat_pick.to_string();
        return Ok(show(lang, token, c.subject, 0, false, error));
    };
    match nunchi_app::csat::answer(&state, &token, rating, &f.comment).await {
        Ok(()) | Err(nunchi_app::Error::Conflict(_)) => {
            Ok(show(lang, token, c.subject, rating, true, String::new()))
        }
        Err(nunchi_app::Error::Invalid { .. }) => {
            let error = lang.strings().csat_pick.to_string();
            Ok(show(lang, token, c.subject, 0, false, error))
        }
        Err(e) => Err(UiError(AppError::from(e))),
    }
}
