//! A conversation's files over HTTP: upload one (the raw bytes as the body and its name in
//! the query, as Zendesk's uploads take them) to send with a reply or note by its id, list
//! the files of a thread, and download one.

use axum::{Json, body::Body, extract::State, http::StatusCode, response::Response};
use nunchi_core::attachment::MAX_ATTACHMENT_BYTES;
use nunchi_store::model::Attachment;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    AppState,
    auth::Auth,
    error::{AppError, AppResult},
    extract::{ApiPath, ApiQuery},
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, upload))
        .routes(routes!(download))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The file's name, as the customer or agent should see it.
    pub filename: String,
}

#[utoipa::path(post, operation_id = "upload_attachment", path = "/api/v1/conversations/{id}/attachments", security(("bearer" = ["inbox_write"])), tag = "inbox",
    params(("id" = i64, Path), UploadQuery),
    request_body(content = String, content_type = "application/octet-stream", description = "The file's bytes (its type is recognised from them: photos, PDF, office documents, text; at most 10 MiB)"),
    responses((status = 201, body = Attachment, description = "Kept; pass its id in a message's attachment_ids"),
              (status = 400, body = crate::error::ErrorBody, description = "`attachment_type_not_allowed`, `attachment_empty`"),
              (status = 413, body = crate::error::ErrorBody)))]
pub async fn upload(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<UploadQuery>,
    body: Body,
) -> AppResult<(StatusCode, Json<Attachment>)> {
    let bytes = axum::body::to_bytes(body, MAX_ATTACHMENT_BYTES)
        .await
        .map_err(|_| AppError::PayloadTooLarge)?;
    let kept =
        nunchi_app::attachments::upload(&state, &auth.as_actor(), id, &q.filename, &bytes).await?;
    Ok((StatusCode::CREATED, Json(kept)))
}

#[utoipa::path(get, operation_id = "conversation_attachments", path = "/api/v1/conversations/{id}/attachments", security(("bearer" = ["inbox_read"])), tag = "inbox",
    params(("id" = i64, Path)),
    responses((status = 200, body = Vec<Attachment>, description = "The files of the thread's messages, with those not kept and why")))]
pub async fn list(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
) -> AppResult<Json<Vec<Attachment>>> {
    let (_, messages) = nunchi_app::conversations::thread(&state, &auth.as_actor(), id).await?;
    let ids: Vec<i64> = messages.iter().map(|m| m.id).collect();
    Ok(Json(state.store.message_attachments(&ids).await?))
}

#[utoipa::path(get, operation_id = "download_attachment", path = "/api/v1/conversations/{id}/attachments/{attachment_id}", security(("bearer" = ["inbox_read"])), tag = "inbox",
    params(("id" = i64, Path), ("attachment_id" = i64, Path)),
    responses((status = 200, description = "The file, as the type its bytes were recognised as")))]
pub async fn download(
    auth: Auth,
    State(state): State<AppState>,
    ApiPath((id, attachment_id)): ApiPath<(i64, i64)>,
) -> AppResult<Response> {
    let (a, bytes) =
        nunchi_app::attachments::open(&state, &auth.as_actor(), id, attachment_id).await?;
    Ok(crate::files::attachment_response(&a, bytes))
}
