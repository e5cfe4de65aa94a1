//! Files in the support desk's pages: the composer's post (a reply or note, with the files
//! chosen beside it when the form is sent as multipart), a conversation's file served to
//! staff, and how each file of a line is shown (a photo in place, others as links, and a
//! file that was not kept with the reason).

use axum::extract::DefaultBodyLimit;
use axum::{
    Form, Router,
    extract::{FromRequest, Multipart, Request, State},
    http::header,
    response::{IntoResponse, Redirect},
    routing::{get, post},
};
use nunchi_app::conversations::{self, MessageInput};
use nunchi_core::attachment::{MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS_PER_MESSAGE, size_label};
use nunchi_store::model::Attachment;
use serde::Deserialize;

use super::{UiNeed, UiResult};
use crate::{
    AppState,
    auth::{check_form_csrf, perm},
    error::AppError,
    extract::ApiPath,
    i18n::Strings,
};

/// The composer's form at most: its files and some room for the text.
const MAX_FORM_BYTES: usize = MAX_ATTACHMENTS_PER_MESSAGE * MAX_ATTACHMENT_BYTES + (1 << 20);

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/inbox/{id}/messages",
            post(write).layer(DefaultBodyLimit::max(MAX_FORM_BYTES)),
        )
        .route("/inbox/{id}/attachments/{attachment}", get(download))
}

/// One file of a thread's line, as the line shows it.
pub(super) struct FileLink {
    pub(super) url: String,
    pub(super) name: String,
    pub(super) size: String,
    pub(super) image: bool,
    /// Why it was not kept (then there is nothing to open).
    pub(super) rejected: Option<&'static str>,
}

pub(super) fn file_links(t: &Strings, files: &[Attachment]) -> Vec<FileLink> {
    files
        .iter()
        .map(|a| FileLink {
            url: format!("/inbox/{}/attachments/{}", a.conversation_id, a.id),
            name: a.filename.clone(),
            size: size_label(a.size),
            image: a.content_type.starts_with("image/") && a.content_type != "image/heic",
            rejected: a.rejected.as_deref().map(|r| match r {
                "too_large" => t.file_rejected_too_large,
                "empty" => t.file_rejected_empty,
                _ => t.file_rejected_type,
            }),
        })
        .collect()
}

#[derive(Debug, Default, Deserialize)]
struct WriteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    text: String,
    /// `note` for an internal note; anything else replies.
    #[serde(default)]
    action: String,
}

/// A reply or note from the composer; sent as multipart, it carries the files chosen.
async fn write(
    State(state): State<AppState>,
    auth: UiNeed<perm::InboxWrite>,
    ApiPath(id): ApiPath<i64>,
    request: Request,
) -> UiResult {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let (form, attachment_ids) = if multipart {
        let mut parts = Multipart::from_request(request, &state)
            .await
            .map_err(|e| AppError::bad_request("invalid_form", e.body_text()))?;
        let bad = |e: axum::extract::multipart::MultipartError| {
            AppError::bad_request("invalid_form", e.body_text())
        };
        let (mut form, mut ids) = (WriteForm::default(), Vec::new());
        while let Some(field) = parts.next_field().await.map_err(bad)? {
            match field.name().unwrap_or_default() {
                "csrf" => form.csrf = field.text().await.map_err(bad)?,
                "text" => form.text = field.text().await.map_err(bad)?,
                "action" => form.action = field.text().await.map_err(bad)?,
                "files" => {
                    let name = field.file_name().unwrap_or_default().to_string();
                    let bytes = field.bytes().await.map_err(bad)?;
                    // A file input left empty still sends one nameless, empty part.
                    if name.is_empty() && bytes.is_empty() {
                        continue;
                    }
                    // The token comes first in the form: check it before keeping anything.
                    check_form_csrf(&auth, &form.csrf)?;
                    let kept = nunchi_app::attachments::upload(
                        &state,
                        &auth.as_actor(),
                        id,
                        &name,
                        &bytes,
                    )
                    .await?;
                    ids.push(kept.id);
                }
                _ => {}
            }
        }
        (form, ids)
    } else {
        let Form(form) = Form::<WriteForm>::from_request(request, &state)
            .await
            .map_err(|e| AppError::bad_request("invalid_form", e.body_text()))?;
        (form, Vec::new())
    };
    check_form_csrf(&auth, &form.csrf)?;
    let input = MessageInput {
        text: form.text,
        note: form.action == "note",
        client_id: None,
        attachment_ids,
    };
    let added = conversations::post_message(&state, &auth.as_actor(), id, &input).await?;
    Ok(Redirect::to(&format!("/inbox/{id}#m-{}", added.id)).into_response())
}

async fn download(
    State(state): State<AppState>,
    auth: UiNeed<perm::InboxRead>,
    ApiPath((id, file)): ApiPath<(i64, i64)>,
) -> UiResult {
    let (a, bytes) = nunchi_app::attachments::open(&state, &auth.as_actor(), id, file).await?;
    Ok(crate::files::attachment_response(&a, bytes))
}
