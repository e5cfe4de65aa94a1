//! The public survey link (`/s/{key}`): mobile-first, no sign-in, in the customer's
//! language, one question per screen. Works without JavaScript: each answer is a form
//! post, kept at once (partial responses count), and the skip logic picks the next
//! screen. A link from an invitation e-mail carries the response token, so the answers
//! join that customer.

use askama::Template;
use axum::{
    Router,
    body::Bytes,
    extract::{Path, Query, State},
    http::HeaderMap,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use nunchi_core::survey::Question;
use nunchi_store::model::SurveyResponse;
use serde::Deserialize;

use crate::{
    AppState,
    error::AppError,
    i18n::{Lang, Strings},
    ratelimit::ClientIp,
    ui::{UiError, UiResult, render},
};
use nunchi_app::surveys::{self, Loaded};

pub fn routes() -> Router<AppState> {
    Router::new().route("/s/{key}", get(page).post(submit))
}

/// One choice or scale point on the screen.
struct ChoiceView {
    value: String,
    label: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "survey_page.html")]
struct SurveyPage {
    t: &'static Strings,
    lang: &'static str,
    key: String,
    token: String,
    /// `None`: the thank-you screen or the closed screen.
    question: Option<QuestionView>,
    done: bool,
    closed: bool,
    error: String,
}

struct QuestionView {
    id: String,
    kind: &'static str,
    text: String,
    required: bool,
    options: Vec<ChoiceView>,
    position: usize,
    total: usize,
    low_label: &'static str,
    high_label: &'static str,
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    t: Option<String>,
    lang: Option<String>,
}

fn language(query: Option<&str>, response: Option<&SurveyResponse>, headers: &HeaderMap) -> Lang {
    query
        .and_then(Lang::parse)
        .or_else(|| response.and_then(|r| Lang::parse(&r.lang)))
        .unwrap_or_else(|| {
            Lang::from_accept_language(headers.get("accept-language").and_then(|v| v.to_str().ok()))
        })
}

fn view(s: &Loaded, q: &Question, lang: Lang, chosen: &[String]) -> QuestionView {
    let t = lang.strings();
    // A star rating shows stars, every other scale its numbers.
    let stars = q.kind.as_str() == "rating";
    let options = match q.scale() {
        Some((lo, hi)) => (lo..=hi)
            .map(|v| ChoiceView {
                value: v.to_string(),
                label: if stars {
                    "★".repeat(v.max(0) as usize)
                } else {
                    v.to_string()
                },
                checked: chosen.contains(&v.to_string()),
            })
            .collect(),
        None => q
            .choices
            .iter()
            .map(|c| ChoiceView {
                value: c.id.clone(),
                label: c.label.get(lang.code()).to_string(),
                checked: chosen.contains(&c.id),
            })
            .collect(),
    };
    let (low_label, high_label) = match q.kind.as_str() {
        "nps" => (t.survey_not_likely, t.survey_very_likely),
        "ces" => (t.survey_very_hard, t.survey_very_easy),
        "csat" | "rating" => (t.survey_unsatisfied, t.survey_satisfied),
        _ => ("", ""),
    };
    QuestionView {
        id: q.id.clone(),
        kind: q.kind.as_str(),
        text: q.text.get(lang.code()).to_string(),
        required: q.required,
        options,
        position: s.question(&q.id).map_or(1, |(i, _)| i + 1),
        total: s.questions.len(),
        low_label,
        high_label,
    }
}

fn screen(
    s: &Loaded,
    response: Option<&SurveyResponse>,
    lang: Lang,
    error: String,
    chosen: &[String],
) -> Response {
    let current = match response {
        Some(r) => r.next_question.as_deref(),
        None => s.questions.first().map(|q| q.id.as_str()),
    };
    let question = if s.is_active() {
        current
            .and_then(|id| s.question(id))
            .map(|(_, q)| view(s, q, lang, chosen))
    } else {
        None
    };
    render(SurveyPage {
        t: lang.strings(),
        lang: lang.code(),
        key: s.row.key.clone(),
        token: response.map(|r| r.token.clone()).unwrap_or_default(),
        done: s.is_active() && question.is_none(),
        closed: !s.is_active(),
        question,
        error,
    })
}

async fn response_of(
    state: &AppState,
    s: &Loaded,
    token: Option<&str>,
) -> Result<Option<SurveyResponse>, UiError> {
    match token.filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => {
            let r = state.store.response_by_token(t).await?;
            if r.survey_id != s.row.id {
                return Err(UiError(AppError::NotFound("survey response".into())));
            }
            Ok(Some(r))
        }
    }
}

async fn page(
    State(state): State<AppState>,
    Path(key): Path<String>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> UiResult {
    let s = Loaded::new(state.store.survey_by_key(&key).await?)?;
    let response = response_of(&state, &s, q.t.as_deref()).await?;
    let lang = language(q.lang.as_deref(), response.as_ref(), &headers);
    Ok(screen(&s, response.as_ref(), lang, String::new(), &[]))
}

async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> UiResult {
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
        .map_err(|e| AppError::bad_request("invalid_form", e.to_string()))?;
    let field = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let chosen: Vec<String> = fields
        .iter()
        .filter(|(k, _)| k == "answer")
        .map(|(_, v)| v.clone())
        .collect();
    let s = Loaded::new(state.store.survey_by_key(&key).await?)?;
    let mut response = response_of(&state, &s, field("t")).await?;
    let lang = language(field("lang"), response.as_ref(), &headers);
    if !s.is_active() {
        return Ok(screen(&s, response.as_ref(), lang, String::new(), &[]));
    }
    let question = field("q").unwrap_or_default().to_string();
    let Some((_, q)) = s.question(&question) else {
        return Err(UiError(AppError::bad_request("unknown_question", question)));
    };
    let raw = if field("skip").is_some() {
        serde_json::Value::Null
    } else if q.kind.as_str() == "multi" {
        serde_json::json!(chosen)
    } else {
        serde_json::json!(chosen.first().cloned().unwrap_or_default())
    };
    if response.is_none() {
        state.limits.new_response(ip, s.row.id)?;
        response =
            Some(surveys::start(state.store.as_ref(), &s, None, None, "link", lang.code()).await?);
    }
    let r = response.expect("a response");
    match surveys::answer(&state, &s, &r, &question, &raw).await {
        Ok(_) => Ok(
            Redirect::to(&format!("/s/{key}?t={}&lang={}", r.token, lang.code())).into_response(),
        ),
        Err(nunchi_app::Error::Invalid { message, .. }) => {
            // Nothing given fails only on a required question: say so in the page's words.
            let unanswered =
                raw.is_null() || raw == serde_json::json!("") || raw == serde_json::json!([]);
            let message = if unanswered {
                lang.strings().survey_needs_answer.to_string()
            } else {
                message
            };
            Ok((
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                screen(&s, Some(&r), lang, message, &chosen),
            )
                .into_response())
        }
        Err(e) => Err(UiError(e.into())),
    }
}
