//! Files sent with conversation messages, as the desk records them.

use serde::Serialize;
use utoipa::ToSchema;

/// A file of a conversation. Its bytes are read separately (`AttachmentStore::attachment_data`
/// or the file under the data folder that `file_path` names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct Attachment {
    pub id: i64,
    pub conversation_id: i64,
    /// None while an upload waits for its message.
    pub message_id: Option<i64>,
    pub filename: String,
    /// The type it is served as, recognised from its bytes.
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    #[serde(skip)]
    pub file_path: Option<String>,
    /// Why it was not kept (no bytes then): `too_large`, `type_not_allowed`, `empty`.
    pub rejected: Option<String>,
    pub uploaded_by: Option<i64>,
    pub created_at: i64,
}

/// A file to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAttachment {
    pub conversation_id: i64,
    pub message_id: Option<i64>,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub file_path: Option<String>,
    pub rejected: Option<String>,
    pub uploaded_by: Option<i64>,
}
