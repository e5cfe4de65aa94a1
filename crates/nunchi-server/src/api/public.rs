//! The survey endpoints customers' browsers call, without signing in: the widget asks
//! whether to show a survey (the fatigue rules answer, and every "no" is recorded with
//! its reason) and posts answers one question at a time. Callable from any site that
//! embeds the widget, so responses carry `Access-Control-Allow-Origin: *`; bodies are
//! read as JSON whatever their content type, so the browser needs no preflight.

use axum::{
    Json, Router,
    body::Bytes,
    extract::{Path, State},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
    routing::post,
};
use nunchi_core::identity::Identity;
use nunchi_core::survey::Question;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    AppState,
    error::{AppError, AppResult},
    ratelimit::ClientIp,
};
use nunchi_app::surveys::{self, Loaded};

/// Public paths, outside the role matrix and the OpenAPI document.
pub const PATHS: &[&str] = &[
    "/api/public/surveys/{key}/display",
    "/api/public/responses/{token}",
];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(PATHS[0], post(display).options(preflight))
        .route(PATHS[1], post(answer).options(preflight))
}

pub(crate) fn cors(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("content-type"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("POST, OPTIONS"),
    );
    r
}

pub(crate) async fn preflight() -> Response {
    cors(axum::http::StatusCode::NO_CONTENT.into_response())
}

fn parse<T: serde::de::DeserializeOwned>(body: &Bytes) -> AppResult<T> {
    serde_json::from_slice(body)
        .map_err(|e| AppError::bad_request("invalid_json", format!("the body is not valid: {e}")))
}

/// A question in one language, as the widget and the link page show it.
pub fn localized(q: &Question, lang: &str) -> Value {
    json!({
        "id": q.id,
        "kind": q.kind.as_str(),
        "text": q.text.get(lang),
        "required": q.required,
        "scale": q.scale(),
        "choices": q.choices.iter().map(|c| json!({"id": c.id, "label": c.label.get(lang)})).collect::<Vec<_>>(),
    })
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DisplayInput {
    /// The customer's id in the brand's own systems (an `external_id` identity).
    #[serde(default)]
    customer: Option<String>,
    /// The widget's visitor id, for people not known as customers.
    #[serde(default)]
    anonymous_id: Option<String>,
    #[serde(default)]
    lang: Option<String>,
}

async fn display(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(key): Path<String>,
    body: Bytes,
) -> Response {
    cors(display_inner(&state, ip, &key, &body).await.into_response())
}

async fn display_inner(
    state: &AppState,
    ip: std::net::IpAddr,
    key: &str,
    body: &Bytes,
) -> AppResult<Json<Value>> {
    let input: DisplayInput = parse(body)?;
    let s = Loaded::new(state.store.survey_by_key(key).await?)?;
    let lang = match input.lang.as_deref().and_then(crate::i18n::Lang::parse) {
        Some(l) => l.code(),
        None => "ko",
    };
    let customer = match input
        .customer
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        Some(c) => {
            let identity = Identity::parse("external_id", c)
                .map_err(|e| AppError::bad_request("invalid_customer", e.message))?;
            state.store.find_by_identity(&identity).await?
        }
        None => None,
    };
    let anonymous = input
        .anonymous_id
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty() && a.len() <= 200);
    if customer.is_none() && anonymous.is_none() {
        return Err(AppError::bad_request(
            "unknown_visitor",
            "send the customer's id or the widget's anonymous_id",
        ));
    }
    Ok(Json(
        match surveys::display(state, &s, customer, anonymous, lang, || {
            state.limits.new_response(ip, s.row.id)
        })
        .await?
        {
            Ok(token) => json!({
                "show": true,
                "token": token,
                "lang": lang,
                "questions": s.questions.iter().map(|q| localized(q, lang)).collect::<Vec<_>>(),
                "first": s.questions.first().map(|q| q.id.clone()),
            }),
            Err(why) => json!({
                "show": false,
                "reason": why.code(),
                "explanation": why.explain(lang),
            }),
        },
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerInput {
    question: String,
    #[serde(default)]
    answer: Value,
}

async fn answer(State(state): State<AppState>, Path(token): Path<String>, body: Bytes) -> Response {
    cors(answer_inner(&state, &token, &body).await.into_response())
}

async fn answer_inner(
    state: &AppState,
    token: &str,
    body: &Bytes,
) -> AppResult<Json<surveys::Step>> {
    let input: AnswerInput = parse(body)?;
    let response = state.store.response_by_token(token).await?;
    let s = Loaded::new(state.store.survey(response.survey_id).await?)?;
    if !s.is_active() {
        return Err(AppError::Conflict("this survey is closed".into()));
    }
    Ok(Json(
        surveys::answer(state, &s, &response, &input.question, &input.answer).await?,
    ))
}
