//! The support desk's records: conversations, the lines of their threads, and mail that
//! could not be read into one.

use nunchi_core::conversation::{
    ConversationChannel, ConversationStatus, MessageDirection, Priority,
};
use serde::Serialize;
use utoipa::ToSchema;

/// A conversation with one customer, on the channel it started on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct Conversation {
    pub id: i64,
    pub customer_id: i64,
    /// email, chat, phone or messenger.
    #[sqlx(try_from = "String")]
    #[schema(value_type = String)]
    pub channel: ConversationChannel,
    /// open, pending, snoozed or resolved.
    #[sqlx(try_from = "String")]
    #[schema(value_type = String)]
    pub status: ConversationStatus,
    /// low, normal, high or urgent.
    #[sqlx(try_from = "String")]
    #[schema(value_type = String)]
    pub priority: Priority,
    pub subject: String,
    pub team_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub snoozed_until: Option<i64>,
    pub last_message_at: i64,
    pub last_incoming_at: Option<i64>,
    pub first_reply_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// The number of its newest line (`ConversationMessage::seq`).
    pub last_seq: i64,
    /// The SLA policy it is held to, and its open deadlines (ms).
    pub sla_policy_id: Option<i64>,
    pub first_response_due_at: Option<i64>,
    pub next_response_due_at: Option<i64>,
    pub resolution_due_at: Option<i64>,
    /// While pending: the resolution clock's working minutes left.
    pub resolution_left_minutes: Option<i64>,
    #[sqlx(skip)]
    pub labels: Vec<String>,
}

impl Conversation {
    /// Its SLA deadlines as the rules read them.
    pub fn deadlines(&self) -> nunchi_core::sla::Deadlines {
        nunchi_core::sla::Deadlines {
            first_response: self.first_response_due_at,
            next_response: self.next_response_due_at,
            resolution: self.resolution_due_at,
            resolution_left: self.resolution_left_minutes,
        }
    }

    /// The soonest open deadline.
    pub fn next_due(&self) -> Option<i64> {
        [
            self.first_response_due_at,
            self.next_response_due_at,
            self.resolution_due_at,
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

/// An SLA policy: targets in working minutes for the conversations it covers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct SlaPolicy {
    pub id: i64,
    pub name: String,
    /// The team it covers; any when absent.
    pub team_id: Option<i64>,
    /// The priority it covers; any when absent.
    pub priority: Option<String>,
    pub first_response_minutes: Option<i64>,
    pub next_response_minutes: Option<i64>,
    pub resolution_minutes: Option<i64>,
    /// A weekly schedule (`mon-fri 09:00-18:00`); calendar hours when absent.
    pub business_hours: Option<String>,
    pub time_zone: String,
    pub korean_holidays: bool,
    /// Extra days off, comma-separated ISO dates.
    pub holidays: String,
    pub created_at: i64,
}

/// A policy to create (already checked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSlaPolicy {
    pub name: String,
    pub team_id: Option<i64>,
    pub priority: Option<String>,
    pub first_response_minutes: Option<i64>,
    pub next_response_minutes: Option<i64>,
    pub resolution_minutes: Option<i64>,
    pub business_hours: Option<String>,
    pub time_zone: String,
    pub korean_holidays: bool,
    pub holidays: String,
}

/// A deadline that passed unmet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct SlaBreach {
    pub id: i64,
    pub conversation_id: i64,
    /// first_response, next_response or resolution.
    pub metric: String,
    pub due_at: i64,
    pub breached_at: i64,
}

/// One line of a thread.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct ConversationMessage {
    pub id: i64,
    pub conversation_id: i64,
    /// incoming, outgoing, note or activity.
    #[sqlx(try_from = "String")]
    #[schema(value_type = String)]
    pub direction: MessageDirection,
    #[sqlx(try_from = "String")]
    #[schema(value_type = String)]
    pub channel: ConversationChannel,
    pub author_user_id: Option<i64>,
    pub text: String,
    /// The channel's own id, e.g. an e-mail's Message-ID without angle brackets.
    pub external_id: Option<String>,
    pub subject: Option<String>,
    /// Outgoing: queued, sent or failed.
    pub delivery: Option<String>,
    pub delivery_error: Option<String>,
    pub created_at: i64,
    /// The line's number in its conversation (1, 2, 3 …, in commit order): what a live
    /// client says it has seen when it reconnects.
    pub seq: i64,
    /// The id a chat client gave the message it sent, so a re-send is stored once.
    pub client_id: Option<String>,
}

/// A conversation to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConversation {
    pub customer_id: i64,
    pub channel: ConversationChannel,
    pub subject: String,
    pub priority: Priority,
    pub team_id: Option<i64>,
}

/// A line to add to a thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub direction: MessageDirection,
    pub channel: ConversationChannel,
    pub author_user_id: Option<i64>,
    pub text: String,
    pub external_id: Option<String>,
    pub subject: Option<String>,
    pub delivery: Option<String>,
    /// When it was written, for history brought in from elsewhere; `None`: now.
    pub at: Option<i64>,
    /// A chat client's id for the message: adding it again returns the stored line.
    pub client_id: Option<String>,
}

/// Who a conversation is assigned to, as a filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssigneeFilter {
    User(i64),
    Nobody,
}

/// Which conversations to list, newest activity first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConversationFilter {
    pub status: Option<ConversationStatus>,
    pub assignee: Option<AssigneeFilter>,
    pub team_id: Option<i64>,
    pub customer_id: Option<i64>,
    /// Only these conversations (a search's hits).
    pub ids: Option<Vec<i64>>,
    /// Continue after this (last_message_at, id), exclusive.
    pub before: Option<(i64, i64)>,
    pub limit: i64,
}

/// The inbox's counts, for its tabs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct InboxCounts {
    pub open: i64,
    pub pending: i64,
    pub snoozed: i64,
    pub resolved: i64,
    /// Not resolved and assigned to the asking user.
    pub mine: i64,
    /// Not resolved and assigned to nobody.
    pub unassigned: i64,
}

/// A conversation's state as staff set it; the store writes it whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationState {
    pub status: ConversationStatus,
    pub snoozed_until: Option<i64>,
    pub priority: Priority,
    pub team_id: Option<i64>,
    pub assignee_id: Option<i64>,
    /// When the change happened, for history brought in from elsewhere; `None`: now.
    pub at: Option<i64>,
}

/// Mail kept whole because it could not be read into a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct UnreadableMail {
    pub id: i64,
    pub received_at: i64,
    pub reason: String,
    #[serde(skip)]
    pub raw: Vec<u8>,
}

/// What the support report reads of one conversation.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ConversationFacts {
    pub id: i64,
    #[sqlx(try_from = "String")]
    pub channel: ConversationChannel,
    #[sqlx(try_from = "String")]
    pub status: ConversationStatus,
    pub team_id: Option<i64>,
    pub assignee_id: Option<i64>,
    pub created_at: i64,
    pub first_reply_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub sla_policy_id: Option<i64>,
    /// Times a customer's message reopened it after it was resolved.
    pub reopens: i64,
    /// SLA deadlines it missed.
    pub breaches: i64,
    /// The customer's CSAT answer (1–5) after it was resolved, the latest if several.
    pub csat: Option<i64>,
}

/// A phone call logged on a conversation line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct Call {
    pub message_id: i64,
    /// inbound or outbound.
    pub direction: String,
    /// E.164.
    pub number: String,
    pub agent_id: Option<i64>,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    /// answered, missed, voicemail, busy or failed.
    pub outcome: String,
    pub recording_url: Option<String>,
}

/// Whether and when an agent takes conversations automatically.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct AgentAvailability {
    pub user_id: i64,
    pub away: bool,
    /// Open conversations they may hold at once; no cap when absent.
    pub max_open: Option<i64>,
    /// A weekly schedule (`mon-fri 09:00-18:00`) in `time_zone`; any time when absent.
    pub working_hours: Option<String>,
    pub time_zone: String,
    pub last_assigned_at: Option<i64>,
    /// What they can handle, comma-separated (`en, refund, phone`); empty: no skill.
    pub skills: String,
}

/// An enabled user as automatic assignment weighs them: role and team, availability
/// (defaults when never set) and how many open conversations they hold.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AgentLoad {
    pub user_id: i64,
    #[sqlx(try_from = "String")]
    pub role: nunchi_core::access::Role,
    pub team_id: Option<i64>,
    pub away: bool,
    pub max_open: Option<i64>,
    pub working_hours: Option<String>,
    pub time_zone: Option<String>,
    pub last_assigned_at: Option<i64>,
    /// Comma-separated, as `AgentAvailability::skills`.
    pub skills: String,
    pub open_count: i64,
}

/// A CSAT question sent when a conversation was resolved, and its answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct CsatRequest {
    #[serde(skip)]
    pub token_hash: String,
    pub conversation_id: i64,
    pub agent_id: Option<i64>,
    pub team_id: Option<i64>,
    pub lang: String,
    pub sent_at: i64,
    pub answered_at: Option<i64>,
    /// 1–5.
    pub rating: Option<i64>,
    pub feedback_id: Option<i64>,
}

/// A canned reply, in Korean and English (either may be empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct Macro {
    pub id: i64,
    /// Typed after `/` in the composer.
    pub shortcut: String,
    pub name: String,
    pub body_ko: String,
    pub body_en: String,
    pub created_at: i64,
}
