//! Surveys over HTTP: build and launch them, read their results (partial responses
//! counted, every suppression counted and explained), send them by e-mail to chosen
//! customers, and set the brand's survey cap. The public side (link page, widget) is in
//! `public.rs`.

use axum::{Json, extract::State, http::StatusCode};
use nunchi_store::model::NewSurveyContact;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    AppState,
    auth::Auth,
    error::{AppError, AppResult},
    extract::{ApiJson, ApiPath},
};
use nunchi_app::survey_builder::{
    ContactView, SurveyInput, SurveyResults, SurveyView, check, contact_view, survey_results, view,
};
use nunchi_app::surveys::{self as run, Loaded};

/// Routes and their OpenAPI operations, both from each handler's `#[utoipa::path]`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(read, update))
        .routes(routes!(results))
        .routes(routes!(contacts))
        .routes(routes!(send))
        .routes(routes!(settings, set_settings))
}

#[utoipa::path(get, operation_id = "surveys", path = "/api/v1/surveys", security(("bearer" = ["customers_read"])), tag = "surveys", responses((status = 200, body = Vec<SurveyView>)))]
pub async fn list(State(state): State<AppState>) -> AppResult<Json<Vec<SurveyView>>> {
    let all = state.store.surveys().await?;
    Ok(Json(all.into_iter().map(|s| view(&state, s)).collect()))
}

#[utoipa::path(post, operation_id = "create_survey", path = "/api/v1/surveys", security(("bearer" = ["surveys_manage"])), tag = "surveys", request_body = SurveyInput,
    responses((status = 201, body = SurveyView)))]
pub async fn create(
    auth: Auth,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<SurveyInput>,
) -> AppResult<(StatusCode, Json<SurveyView>)> {
    let new = check(&state, &input).await?;
    let s = state.store.create_survey(&run::new_key(), &new).await?;
    state
        .audit(&auth, "survey.create", &format!("survey:{}", s.id), &s.name)
        .await;
    Ok((StatusCode::CREATED, Json(view(&state, s))))
}

#[utoipa::path(get, operation_id = "survey", path = "/api/v1/surveys/{id}", security(("bearer" = ["customers_read"])), tag = "surveys", params(("id" = i64, Path)),
    responses((status = 200, body = SurveyView)))]
pub async fn read(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<SurveyView>> {
    Ok(Json(view(&state, state.store.survey(id).await?)))
}

#[utoipa::path(put, operation_id = "update_survey", path = "/api/v1/surveys/{id}", security(("bearer" = ["surveys_manage"])), tag = "surveys", params(("id" = i64, Path)),
    request_body = SurveyInput, responses((status = 200, body = SurveyView)))]
pub async fn update(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<SurveyInput>,
) -> AppResult<Json<SurveyView>> {
    state.store.survey(id).await?;
    let new = check(&state, &input).await?;
    let s = state.store.update_survey(id, &new).await?;
    state
        .audit(
            &auth,
            "survey.update",
            &format!("survey:{id}"),
            s.status.as_str(),
        )
        .await;
    Ok(Json(view(&state, s)))
}

#[utoipa::path(get, operation_id = "survey_results", path = "/api/v1/surveys/{id}/results", security(("bearer" = ["customers_read"])), tag = "surveys", params(("id" = i64, Path)),
    responses((status = 200, body = SurveyResults)))]
pub async fn results(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<SurveyResults>> {
    let s = Loaded::new(state.store.survey(id).await?)?;
    Ok(Json(survey_results(&state, &s).await?))
}

#[utoipa::path(get, operation_id = "survey_contacts", path = "/api/v1/surveys/{id}/contacts", security(("bearer" = ["customers_read"])), tag = "surveys", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<ContactView>)))]
pub async fn contacts(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Vec<ContactView>>> {
    state.store.survey(id).await?;
    let list = state.store.contacts(id, 500).await?;
    Ok(Json(list.into_iter().map(contact_view).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendInput {
    /// Customers to invite by e-mail (1–10,000); the fatigue rules still apply to each.
    pub customer_ids: Vec<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Queued {
    pub queued: usize,
}

#[utoipa::path(post, operation_id = "send_survey", path = "/api/v1/surveys/{id}/send", security(("bearer" = ["surveys_manage"])), tag = "surveys", params(("id" = i64, Path)),
    request_body = SendInput, responses((status = 202, body = Queued)))]
pub async fn send(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<SendInput>,
) -> AppResult<(StatusCode, Json<Queued>)> {
    let s = state.store.survey(id).await?;
    if s.status != nunchi_core::survey::SurveyStatus::Active {
        return Err(AppError::Conflict(
            "only an active survey can be sent".into(),
        ));
    }
    if input.customer_ids.is_empty() || input.customer_ids.len() > 10_000 {
        return Err(AppError::bad_request(
            "invalid_customer_ids",
            "send to 1–10,000 customers at a time",
        ));
    }
    let now = state.now();
    let mut ids = input.customer_ids.clone();
    ids.sort_unstable();
    ids.dedup();
    let contacts: Vec<NewSurveyContact> = ids
        .iter()
        .map(|c| NewSurveyContact {
            survey_id: id,
            customer_id: Some(*c),
            anonymous_id: None,
            channel: "email".into(),
            status: "due".into(),
            reason: None,
            reason_value: None,
            event_id: None,
            response_token: None,
            due_at: now,
            decided_at: None,
        })
        .collect();
    for c in &ids {
        state.store.customer(*c).await.map_err(|_| {
            AppError::bad_request("invalid_customer_ids", format!("no customer {c}"))
        })?;
    }
    state.store.add_contacts(&contacts).await?;
    state.survey_wakeup.notify_one();
    state
        .audit(
            &auth,
            "survey.send",
            &format!("survey:{id}"),
            &format!("{} customers", contacts.len()),
        )
        .await;
    Ok((
        StatusCode::ACCEPTED,
        Json(Queued {
            queued: contacts.len(),
        }),
    ))
}

/// The brand's survey settings.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveySettings {
    /// Surveys one person may receive per 30 days, across all surveys; `null`: no cap.
    pub global_cap: Option<i64>,
}

#[utoipa::path(get, operation_id = "survey_settings", path = "/api/v1/survey-settings", security(("bearer" = ["customers_read"])), tag = "surveys", responses((status = 200, body = SurveySettings)))]
pub async fn settings(State(state): State<AppState>) -> AppResult<Json<SurveySettings>> {
    Ok(Json(SurveySettings {
        global_cap: run::global_cap(state.store.as_ref()).await?,
    }))
}

#[utoipa::path(put, operation_id = "set_survey_settings", path = "/api/v1/survey-settings", security(("bearer" = ["surveys_manage"])), tag = "surveys", request_body = SurveySettings,
    responses((status = 200, body = SurveySettings)))]
pub async fn set_settings(
    auth: Auth,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<SurveySettings>,
) -> AppResult<Json<SurveySettings>> {
    if input.global_cap.is_some_and(|c| !(1..=100).contains(&c)) {
        return Err(AppError::bad_request(
            "invalid_global_cap",
            "the cap is 1–100 surveys per 30 days, or null for none",
        ));
    }
    let value = input.global_cap.map(|c| c.to_string()).unwrap_or_default();
    state.store.set_setting(run::GLOBAL_CAP_KEY, &value).await?;
    state
        .audit(&auth, "survey.settings", "survey_settings", &value)
        .await;
    Ok(Json(input))
}
