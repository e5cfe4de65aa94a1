//! The one error-to-response policy: bad input is a 4xx with a stable code and a message in
//! the caller's language; anything else is an opaque 500 whose cause goes to the log.
//! Every error body is `{"error": {"code", "message", "request_id"}}`.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use nunchi_core::CoreError;
use nunchi_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

use crate::{context, i18n::Lang};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{message}")]
    BadRequest { code: String, message: String },
    #[error("authentication required")]
    Unauthorized,
    #[error("forbidden")]
    Forbidden,
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("request body too large")]
    PayloadTooLarge,
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable, machine-readable: `not_found`, `invalid_email`, `forbidden`, …
    pub code: String,
    /// For people, in the language of `Accept-Language` (Korean or English).
    pub message: String,
    /// Quote this when reporting a problem; the server log has the same id.
    pub request_id: String,
}

impl AppError {
    pub fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code: code.into(),
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> String {
        match self {
            Self::BadRequest { code, .. } => code.clone(),
            Self::Unauthorized => "unauthorized".into(),
            Self::Forbidden => "forbidden".into(),
            Self::NotFound(_) => "not_found".into(),
            Self::Conflict(_) => "conflict".into(),
            Self::PayloadTooLarge => "payload_too_large".into(),
            Self::UnsupportedMediaType(_) => "unsupported_media_type".into(),
            Self::TooManyRequests { .. } => "too_many_requests".into(),
            Self::Internal(_) => "internal".into(),
        }
    }

    /// The message for people: a fixed sentence per code in their language, followed by
    /// the specific detail where there is one (never for internal errors).
    pub fn message(&self, lang: Lang) -> String {
        let t = lang.strings();
        let (lead, detail) = match self {
            Self::BadRequest { message, .. } => (t.err_bad_request, Some(message.clone())),
            Self::Unauthorized => (t.err_unauthorized, None),
            Self::Forbidden => (t.err_forbidden, None),
            Self::NotFound(d) => (t.err_not_found, Some(d.clone())),
            Self::Conflict(d) => (t.err_conflict, Some(d.clone())),
            Self::PayloadTooLarge => (t.err_too_large, None),
            Self::UnsupportedMediaType(d) => (t.err_media_type, Some(d.clone())),
            Self::TooManyRequests { .. } => (t.err_rate_limited, None),
            Self::Internal(_) => (t.err_internal, None),
        };
        match detail {
            Some(d) if !d.is_empty() => format!("{lead}: {d}"),
            _ => lead.to_string(),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let ctx = context::current();
        if let Self::Internal(cause) = &self {
            tracing::error!(request_id = %ctx.id, error = ?cause, "internal error");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message: self.message(ctx.lang),
                request_id: ctx.id,
            },
        };
        let mut response = (self.status(), Json(body)).into_response();
        self.add_headers(&mut response);
        response
    }
}

impl AppError {
    /// Headers the error's status calls for: `Retry-After` on a 429.
    pub fn add_headers(&self, response: &mut Response) {
        if let Self::TooManyRequests { retry_after_secs } = self {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(*retry_after_secs),
            );
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => Self::NotFound(what),
            StoreError::Conflict(what) => Self::Conflict(what),
            StoreError::Unsupported(what) => Self::bad_request("unsupported", what),
            other => Self::Internal(other.into()),
        }
    }
}

impl From<nunchi_app::Error> for AppError {
    fn from(e: nunchi_app::Error) -> Self {
        use nunchi_app::Error as E;
        match e {
            E::Invalid { code, message } => Self::BadRequest { code, message },
            E::NotFound(what) => Self::NotFound(what),
            E::Conflict(what) => Self::Conflict(what),
            E::Forbidden => Self::Forbidden,
            E::Unauthorized(why) => {
                tracing::info!(%why, "refused an unsigned call");
                Self::Unauthorized
            }
            E::TooManyRequests { retry_after_secs } => Self::TooManyRequests { retry_after_secs },
            E::Internal(cause) => Self::Internal(cause),
        }
    }
}

impl From<CoreError> for AppError {
    fn from(e: CoreError) -> Self {
        Self::bad_request(&format!("invalid_{}", e.field), e.to_string())
    }
}

impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        Self::Internal(e)
    }
}

pub type AppResult<T> = Result<T, AppError>;
