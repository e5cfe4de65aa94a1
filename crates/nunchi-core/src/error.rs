//! The one error type of `nunchi-core`: a rejected input, with a stable code for machines
//! and a human message for people.

/// A value that failed to parse into a domain type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct CoreError {
    /// Which input was wrong (`email`, `phone`, `currency`, …).
    pub field: &'static str,
    /// What was wrong with it, in English; the server translates the field name for the UI.
    pub message: String,
}

impl CoreError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

pub type CoreResult<T> = Result<T, CoreError>;
