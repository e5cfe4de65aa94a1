//! The one error type of operations: what went wrong in words a face can pass on (a stable
//! code and a message for bad input), or an internal failure with its cause for the log.
//! The HTTP server maps each variant to a status; the CLI prints it.

use nunchi_core::CoreError;
use nunchi_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input: `code` is stable and machine-readable (`invalid_email`, …).
    #[error("{message}")]
    Invalid { code: String, message: String },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("forbidden")]
    Forbidden,
    /// A caller who is not who they say (a delivery whose signature does not match).
    #[error("{0}")]
    Unauthorized(String),
    /// Not now: the caller may try again after this many seconds.
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl Error {
    pub fn invalid(code: &str, message: impl Into<String>) -> Self {
        Self::Invalid {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// `text` trimmed, if it has 1 to `max_chars` characters; otherwise the bad-input error with
/// this code and message (every name, note and title a person types passes through here).
pub fn required_text<'a>(
    text: &'a str,
    max_chars: usize,
    code: &str,
    message: &str,
) -> Result<&'a str> {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > max_chars {
        return Err(Error::invalid(code, message));
    }
    Ok(text)
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => Self::NotFound(what),
            StoreError::Conflict(what) => Self::Conflict(what),
            StoreError::Unsupported(what) => Self::invalid("unsupported", what),
            other => Self::Internal(other.into()),
        }
    }
}

impl From<CoreError> for Error {
    fn from(e: CoreError) -> Self {
        // Codes are identifiers: "conversation status" reads `invalid_conversation_status`.
        let field: String = e
            .field
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        Self::invalid(&format!("invalid_{field}"), e.to_string())
    }
}

impl From<anyhow::Error> for Error {
    fn from(e: anyhow::Error) -> Self {
        Self::Internal(e)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
