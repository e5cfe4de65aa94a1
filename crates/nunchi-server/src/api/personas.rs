//! Personas over HTTP: their stories (Korean and English) linked to a segment, each read
//! with the live truth about its customers and where the story and the data disagree, and
//! a photo checked by its bytes.

use axum::{
    Json,
    body::Bytes,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use nunchi_app::personas::{self, PersonaInput, PersonaView};
use nunchi_store::model::Persona;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    AppState,
    auth::Auth,
    error::{AppError, AppResult},
    extract::{ApiJson, ApiPath},
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(get, update, delete))
        .routes(routes!(photo, set_photo))
}

#[utoipa::path(get, operation_id = "list_personas", path = "/api/v1/personas", security(("bearer" = ["customers_read"])), tag = "customers",
    responses((status = 200, body = Vec<Persona>)))]
pub async fn list(auth: Auth, State(state): State<AppState>) -> AppResult<Json<Vec<Persona>>> {
    Ok(Json(personas::list(&state, &auth.as_actor()).await?))
}

#[utoipa::path(post, operation_id = "create_persona", path = "/api/v1/personas", security(("bearer" = ["segments_manage"])), tag = "customers",
    request_body = PersonaInput, responses((status = 201, body = Persona), (status = 400, body = crate::error::ErrorBody)))]
pub async fn create(
    auth: Auth,
    State(state): State<AppState>,
    ApiJson(input): ApiJson<PersonaInput>,
) -> AppResult<(StatusCode, Json<Persona>)> {
    Ok((
        StatusCode::CREATED,
        Json(personas::create(&state, &auth.as_actor(), &input).await?),
    ))
}

#[utoipa::path(get, operation_id = "get_persona", path = "/api/v1/personas/{id}", security(("bearer" = ["customers_read"])), tag = "customers", params(("id" = i64, Path)),
    responses((status = 200, body = PersonaView, description = "The story with the truth about its segment's customers over the last 90 days"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<PersonaView>> {
    Ok(Json(personas::get(&state, &auth.as_actor(), id).await?))
}

#[utoipa::path(put, operation_id = "update_persona", path = "/api/v1/personas/{id}", security(("bearer" = ["segments_manage"])), tag = "customers", params(("id" = i64, Path)),
    request_body = PersonaInput, responses((status = 200, body = Persona), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn update(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<PersonaInput>,
) -> AppResult<Json<Persona>> {
    Ok(Json(
        personas::update(&state, &auth.as_actor(), id, &input).await?,
    ))
}

#[utoipa::path(delete, operation_id = "delete_persona", path = "/api/v1/personas/{id}", security(("bearer" = ["segments_manage"])), tag = "customers", params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = crate::error::ErrorBody)))]
pub async fn delete(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<StatusCode> {
    personas::delete(&state, &auth.as_actor(), id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, operation_id = "persona_photo", path = "/api/v1/personas/{id}/photo", security(("bearer" = ["customers_read"])), tag = "customers", params(("id" = i64, Path)),
    responses((status = 200, description = "The photo as the image type its bytes were recognised as"), (status = 404, body = crate::error::ErrorBody)))]
pub async fn photo(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Response> {
    match personas::photo(&state, &auth.as_actor(), id).await? {
        Some((ty, bytes)) => Ok(crate::files::image_response(ty, bytes)),
        None => Err(AppError::NotFound("the persona has no photo".into())),
    }
}

#[utoipa::path(put, operation_id = "set_persona_photo", path = "/api/v1/personas/{id}/photo", security(("bearer" = ["segments_manage"])), tag = "customers", params(("id" = i64, Path)),
    request_body(content = Vec<u8>, content_type = "image/*", description = "A PNG, JPEG, GIF or WebP image of at most 1 MiB, recognised by its bytes"),
    responses((status = 204), (status = 400, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn set_photo(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    body: Bytes,
) -> AppResult<Response> {
    personas::set_photo(&state, &auth.as_actor(), id, &body).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
