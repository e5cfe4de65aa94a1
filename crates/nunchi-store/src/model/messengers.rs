//! Messenger channels and the thread each messenger conversation answers to.

use nunchi_core::conversation::MessengerKind;
use serde::Serialize;
use utoipa::ToSchema;

/// A messenger the desk receives from and replies through. Its secret and token are never
/// serialised: the API shows them once, when the channel is made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct MessengerChannel {
    pub id: i64,
    /// Its name in the webhook URL, `/hooks/messenger/{key}`.
    pub key: String,
    /// generic, line or telegram.
    #[sqlx(try_from = "String")]
    #[schema(value_type = String)]
    pub kind: MessengerKind,
    pub name: String,
    #[serde(skip)]
    pub secret: String,
    #[serde(skip)]
    pub access_token: Option<String>,
    /// The provider's API root (its public one when absent); for the generic contract,
    /// where replies are posted.
    pub api_base: Option<String>,
    pub created_at: i64,
}

/// A messenger channel to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessengerChannel {
    pub key: String,
    pub kind: MessengerKind,
    pub name: String,
    pub secret: String,
    pub access_token: Option<String>,
    pub api_base: Option<String>,
}

/// Where a messenger conversation's replies go.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MessengerThread {
    pub conversation_id: i64,
    pub channel_id: i64,
    /// The provider's id of the recipient (a LINE user, a Telegram chat).
    pub recipient: String,
}
