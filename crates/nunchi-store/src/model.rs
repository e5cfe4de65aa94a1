//! The records the store hands out. They are plain data, shaped for reading; what may be
//! written goes in through the parsed types of `nunchi-core`.

use nunchi_core::{
    access::Role,
    channel::Channel,
    closed_loop::TopicMention,
    consent::{ContactChannel, Purpose},
    customer::AttributeType,
    feedback::{Metric, Source},
    identity::IdentityKind,
    import::OrderStatus,
    life_event::LifeEventKind,
    money::Currency,
    status::{FollowUpStatus, JobStatus, RootCauseStatus},
    touchpoint::Condition,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::Json;

mod attachments;
mod campaigns;
mod conversations;
mod loyalty;
mod messengers;
mod personas;
mod segments;
mod surveys;
pub use attachments::*;
pub use campaigns::*;
pub use conversations::*;
pub use loyalty::*;
pub use messengers::*;
pub use personas::*;
pub use segments::*;
pub use surveys::*;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct Team {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub name: String,
    #[serde(skip)]
    pub password_hash: String,
    #[sqlx(try_from = "String")]
    #[schema(value_type = String)]
    pub role: Role,
    pub locale: String,
    pub team_id: Option<i64>,
    #[serde(skip)]
    pub failed_logins: i64,
    pub locked_until: i64,
    pub disabled: bool,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Session {
    pub token_hash: String,
    pub user_id: i64,
    pub csrf_token: String,
    pub created_at: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    /// The first characters of the token, to tell tokens apart; the rest is never stored.
    pub prefix: String,
    pub scopes: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub actor_user_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub ip: String,
}

/// What a caller records; the store adds the id.
#[derive(Debug, Clone, Default)]
pub struct NewAuditEntry {
    pub at: i64,
    pub actor_user_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
    pub ip: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct IdentityRow {
    pub id: i64,
    #[sqlx(try_from = "String")]
    #[schema(value_type = String)]
    pub kind: IdentityKind,
    pub value: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct ConsentRow {
    #[sqlx(try_from = "String")]
    #[schema(value_type = String)]
    pub channel: ContactChannel,
    #[sqlx(try_from = "String")]
    #[schema(value_type = String)]
    pub purpose: Purpose,
    pub granted: bool,
    pub at: i64,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct AttributeRow {
    pub key: String,
    #[sqlx(rename = "type")]
    #[serde(rename = "type")]
    #[sqlx(try_from = "String")]
    #[schema(value_type = String)]
    pub ty: AttributeType,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct LifeEventRow {
    pub id: i64,
    #[sqlx(try_from = "String")]
    #[schema(value_type = String)]
    pub kind: LifeEventKind,
    pub label: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    pub recurring: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct CustomerRow {
    pub id: i64,
    pub name: Option<String>,
    pub language: Option<String>,
    pub time_zone: Option<String>,
    pub preferred_channel: Option<String>,
    pub merged_into: Option<i64>,
    pub erased_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A whole profile: the row and everything attached to it except paged history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Customer {
    #[serde(flatten)]
    pub row: CustomerRow,
    pub identities: Vec<IdentityRow>,
    pub tags: Vec<String>,
    pub attributes: Vec<AttributeRow>,
    /// The latest answer per channel and purpose.
    pub consents: Vec<ConsentRow>,
    pub life_events: Vec<LifeEventRow>,
}

impl Customer {
    pub fn identity(&self, kind: IdentityKind) -> Option<&str> {
        self.identities
            .iter()
            .find(|i| i.kind == kind)
            .map(|i| i.value.as_str())
    }
}

/// One line of a customer list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct CustomerSummary {
    pub id: i64,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub external_id: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct Note {
    pub id: i64,
    pub customer_id: i64,
    pub author_user_id: Option<i64>,
    pub author_name: String,
    pub body: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct OrderItem {
    pub product: String,
    pub category: String,
    pub unit_price_minor: i64,
    pub quantity: i64,
}

/// One purchased order line as the customer models read it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PurchaseLine {
    pub line_id: i64,
    pub order_id: i64,
    pub customer_id: i64,
    pub placed_at: i64,
    pub currency: String,
    pub product: String,
    pub category: String,
    /// Unit price × quantity.
    pub line_minor: i64,
    pub order_total_minor: i64,
    /// Refunded of the order (all of it once refunded).
    pub order_refunded_minor: i64,
}

impl PurchaseLine {
    /// The line's amount net of its share of the order's refunds, to the nearest minor
    /// unit (so an order's lines add up to what it kept within a unit per line).
    pub fn net_minor(&self) -> i64 {
        if self.order_total_minor <= 0 {
            return self.line_minor;
        }
        let kept = i128::from((self.order_total_minor - self.order_refunded_minor).max(0));
        let total = i128::from(self.order_total_minor);
        ((2 * i128::from(self.line_minor) * kept + total) / (2 * total)) as i64
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct OrderRow {
    pub id: i64,
    pub external_id: String,
    pub customer_id: i64,
    #[sqlx(try_from = "String")]
    #[schema(value_type = String)]
    pub status: OrderStatus,
    #[sqlx(try_from = "String")]
    #[schema(value_type = String)]
    pub currency: Currency,
    #[sqlx(try_from = "String")]
    #[schema(value_type = String)]
    pub channel: Channel,
    pub total_minor: i64,
    pub refunded_minor: i64,
    pub placed_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Order {
    #[serde(flatten)]
    pub row: OrderRow,
    pub items: Vec<OrderItem>,
}

/// One entry of the unified customer timeline. `kind` says which table it came from
/// (`note`, `order`, `identity`, `consent`); later capabilities add their own kinds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct TimelineEntry {
    pub kind: String,
    pub ref_id: i64,
    pub at: i64,
    pub title: String,
    pub detail: String,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
}

/// Where a timeline page ends, to ask for the next one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineCursor {
    pub at: i64,
    pub kind: String,
    pub ref_id: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    /// `queued`, `running`, `done` or `failed`.
    #[sqlx(try_from = "String")]
    #[schema(value_type = String)]
    pub status: JobStatus,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: i64,
    pub locked_until: i64,
    pub locked_by: Option<String>,
    pub last_error: Option<String>,
    pub result: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Everything held on one customer, for a subject-access export.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CustomerExport {
    pub customer: Customer,
    pub orders: Vec<Order>,
    pub notes: Vec<Note>,
    pub consent_history: Vec<ConsentRow>,
    pub timeline: Vec<TimelineEntry>,
    /// Their touchpoint events, including those sent under their anonymous ids.
    pub events: Vec<EventRow>,
    pub feedback: Vec<Feedback>,
    pub survey_responses: Vec<SurveyResponse>,
    /// Every attempt to survey them: sent, shown or suppressed, and why.
    pub survey_contacts: Vec<SurveyContact>,
    pub conversations: Vec<Conversation>,
    /// Every line of their conversations, notes and activity included.
    pub conversation_messages: Vec<ConversationMessage>,
    /// The phone calls among those lines.
    pub calls: Vec<Call>,
    /// Their points ledger, every entry with the lots it drew from.
    pub loyalty_entries: Vec<LoyaltyEntry>,
    /// Every message the brand sent or meant to send them, suppressed ones with why.
    pub deliveries: Vec<Delivery>,
}

/// Filters of the customer list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerFilter {
    /// A search prefix (already normalised by `nunchi_core::search::normalise_query`).
    pub query: Option<String>,
    pub tag: Option<String>,
    pub language: Option<String>,
    /// Only customers with marketing consent on this channel.
    pub marketing_channel: Option<String>,
}

/// What one import row did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Upserted {
    Created(i64),
    Updated(i64),
}

/// Counts for the dashboard.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Stats {
    pub customers: i64,
    pub orders: i64,
    pub notes: i64,
    pub queued_jobs: i64,
}

/// A source of events (a website, an app, a store's POS) and its write key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct EventSource {
    pub id: i64,
    pub name: String,
    #[serde(skip)]
    pub write_key_hash: String,
    /// The first characters of the write key, to tell keys apart.
    pub write_key_prefix: String,
    /// Channel given to this source's events that name none.
    pub channel: Option<String>,
    pub created_at: i64,
}

/// One event as ingested, customer resolved where known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct EventRow {
    /// Arrival order; 0 before the event is stored.
    pub id: i64,
    pub source_id: i64,
    pub message_id: String,
    /// track, page, screen, identify, group or alias.
    pub kind: String,
    pub name: String,
    pub customer_id: Option<i64>,
    pub user_id: Option<String>,
    pub anonymous_id: Option<String>,
    pub channel: String,
    /// When it happened, Unix ms.
    pub ts: i64,
    pub received_at: i64,
    /// JSON object.
    pub properties: String,
    /// JSON object.
    pub context: String,
}

/// A column of the journey map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct Stage {
    pub id: i64,
    pub position: i64,
    pub key: String,
    pub name_ko: String,
    pub name_en: String,
}

/// A touchpoint: the events it stands for (name plus property conditions), its channel,
/// its stage on the journey map and the rating the team expects customers to give it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, sqlx::FromRow)]
pub struct Touchpoint {
    pub id: i64,
    pub name: String,
    pub channel: String,
    pub event: String,
    /// The property conditions that must all hold.
    #[schema(value_type = String)]
    pub conditions: Json<Vec<Condition>>,
    pub stage_id: Option<i64>,
    pub expected_rating: Option<f64>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewTouchpoint {
    pub name: String,
    pub channel: String,
    pub event: String,
    pub conditions: String,
    pub stage_id: Option<i64>,
    pub expected_rating: Option<f64>,
}

/// One piece of feedback in the stream: a survey answer, review, social post, app-store
/// review or support rating, with its rating normalised and its text annotated.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, sqlx::FromRow)]
pub struct Feedback {
    pub id: i64,
    /// survey, review, social, app_store, support or employee.
    #[sqlx(try_from = "String")]
    #[schema(value_type = String)]
    pub source: Source,
    /// The source's own id; importing the same one twice stores it once.
    pub external_id: Option<String>,
    /// nps, csat, ces, rating, or none for text only.
    #[sqlx(try_from = "crate::OptionalName")]
    #[schema(value_type = Option<String>)]
    pub metric: Option<Metric>,
    pub rating: Option<f64>,
    pub scale_min: Option<f64>,
    pub scale_max: Option<f64>,
    /// The rating mapped to 0..1 on its scale.
    pub score: Option<f64>,
    pub body: String,
    pub url: Option<String>,
    pub author: Option<String>,
    pub customer_id: Option<i64>,
    pub touchpoint_id: Option<i64>,
    pub stage_id: Option<i64>,
    pub team_id: Option<i64>,
    #[sqlx(try_from = "String")]
    #[schema(value_type = String)]
    pub channel: Channel,
    /// ko, en or other; set with the other annotations.
    pub lang: Option<String>,
    /// −1..1.
    pub sentiment: Option<f64>,
    pub sentiment_label: Option<String>,
    /// The topics the text analytics found.
    #[schema(value_type = Option<String>)]
    pub topics: Option<Json<Vec<TopicMention>>>,
    pub annotated_at: Option<i64>,
    /// When the closed-loop rules looked at it.
    pub looped_at: Option<i64>,
    /// When the customer gave it, Unix ms.
    pub created_at: i64,
    pub received_at: i64,
}

impl Feedback {
    /// The rating as staff read it ("NPS 3", "CSAT 4"); none without a metric and a rating.
    pub fn rating_label(&self) -> Option<String> {
        match (self.metric, self.rating) {
            (Some(m), Some(r)) => Some(format!("{} {r}", m.as_str().to_uppercase())),
            _ => None,
        }
    }
}

/// Feedback to store, validated by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFeedback {
    pub source: String,
    pub external_id: Option<String>,
    pub metric: Option<String>,
    pub rating: Option<f64>,
    pub scale_min: Option<f64>,
    pub scale_max: Option<f64>,
    pub score: Option<f64>,
    pub body: String,
    pub url: Option<String>,
    pub author: Option<String>,
    pub customer_id: Option<i64>,
    pub touchpoint_id: Option<i64>,
    pub stage_id: Option<i64>,
    pub team_id: Option<i64>,
    pub channel: String,
    pub created_at: i64,
}

/// What storing one piece of feedback did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "status", content = "id", rename_all = "lowercase")]
pub enum Added {
    Created(i64),
    /// Its (source, external id) was already stored; nothing changed.
    Existing(i64),
}

/// Text annotations for one piece of feedback.
#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    pub lang: String,
    pub sentiment: f64,
    pub sentiment_label: String,
    /// JSON array of topic labels.
    pub topics: String,
}

/// A rating on a known metric, for scores.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct MetricRating {
    pub created_at: i64,
    pub customer_id: Option<i64>,
    pub rating: f64,
    /// Employee pulse answers (`employee`) are kept apart from customers'.
    #[sqlx(try_from = "String")]
    pub source: Source,
    #[sqlx(try_from = "String")]
    pub channel: Channel,
    pub touchpoint_id: Option<i64>,
    pub stage_id: Option<i64>,
    pub team_id: Option<i64>,
}

/// Per journey stage (directly or through a touchpoint): the sums behind its emotion.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StageSignal {
    pub stage_id: i64,
    /// Sum of normalised ratings (0..1) and how many there were.
    pub score_sum: Option<f64>,
    pub scores: i64,
    /// Sum of text sentiment (−1..1) and how many there were.
    pub sentiment_sum: Option<f64>,
    pub sentiments: i64,
}

/// Per touchpoint: the normalised ratings customers gave, for the perception gap.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TouchpointSignal {
    pub touchpoint_id: i64,
    pub score_sum: f64,
    pub scores: i64,
}

/// Which feedback to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeedbackFilter {
    pub source: Option<String>,
    pub customer_id: Option<i64>,
    /// Only feedback older than this item (by time, then id), for paging back.
    pub before_id: Option<i64>,
    /// Only ids above this (newer), for the live feed.
    pub after_id: Option<i64>,
    pub limit: i64,
}

/// A closed-loop rule: feedback meeting every set condition gets a follow-up for the owner,
/// due after `due_hours`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, sqlx::FromRow)]
pub struct LoopRule {
    pub id: i64,
    pub name: String,
    /// Normalised rating (0..1) at most this.
    pub max_score: Option<f64>,
    /// Normalised rating at least this: with `max_score`, a band (NPS 7–8 is 0.7–0.8).
    pub min_score: Option<f64>,
    /// Text sentiment (−1..1) at most this.
    pub max_sentiment: Option<f64>,
    /// A topic label (Korean or English) the text mentions.
    pub topic: Option<String>,
    #[sqlx(try_from = "crate::OptionalName")]
    #[schema(value_type = Option<String>)]
    pub source: Option<Source>,
    /// Only feedback from customers with this tag.
    pub tag: Option<String>,
    pub owner_id: Option<i64>,
    pub due_hours: i64,
    pub created_at: i64,
    /// Tell this address by e-mail when a follow-up opens.
    pub notify_email: Option<String>,
    /// Announce opened follow-ups to the webhooks subscribed to `follow_up.opened`.
    pub notify_webhook: bool,
    /// Only feedback from the members of this saved segment (with `tag` too: both).
    pub segment_id: Option<i64>,
}

/// A rule to create, validated by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct NewLoopRule {
    pub name: String,
    pub max_score: Option<f64>,
    pub min_score: Option<f64>,
    pub max_sentiment: Option<f64>,
    pub topic: Option<String>,
    pub source: Option<String>,
    pub tag: Option<String>,
    pub owner_id: Option<i64>,
    pub due_hours: i64,
    pub notify_email: Option<String>,
    pub notify_webhook: bool,
    pub segment_id: Option<i64>,
}

/// A follow-up opened for one piece of feedback by the rules it met, tracked to closure.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, sqlx::FromRow)]
pub struct FollowUp {
    pub id: i64,
    pub feedback_id: i64,
    /// The rule that set its owner and due time (the most urgent of those that matched).
    pub rule_id: Option<i64>,
    /// Every rule the feedback met, `rule_id` first.
    #[sqlx(skip)]
    pub rule_ids: Vec<i64>,
    pub owner_id: Option<i64>,
    /// open or closed.
    #[sqlx(try_from = "String")]
    #[schema(value_type = String)]
    pub status: FollowUpStatus,
    pub due_at: i64,
    pub created_at: i64,
    pub closed_at: Option<i64>,
    pub resolution: Option<String>,
    /// The conversation its owner answers the customer in, once one is opened.
    pub conversation_id: Option<i64>,
}

/// The follow-up to open for one piece of feedback: one, however many rules it met.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFollowUp {
    pub feedback_id: i64,
    /// Every rule it met; the first sets the owner and the due time.
    pub rule_ids: Vec<i64>,
    pub owner_id: Option<i64>,
    pub due_at: i64,
}

/// A job to queue in the same transaction as the change that calls for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub kind: String,
    pub payload: String,
    pub run_at: i64,
    pub max_attempts: i64,
}

/// A note on a follow-up: what was tried, what the customer said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct FollowUpNote {
    pub id: i64,
    pub follow_up_id: i64,
    pub author_id: Option<i64>,
    pub body: String,
    pub created_at: i64,
}

/// A receiver of outbound webhooks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct Webhook {
    pub id: i64,
    pub url: String,
    /// Shown once, when the webhook is created.
    #[serde(skip)]
    pub secret: String,
    /// Comma-separated event types.
    pub events: String,
    pub active: bool,
    pub created_at: i64,
}

impl Webhook {
    pub fn wants(&self, event: &str) -> bool {
        self.active && self.events.split(',').any(|e| e.trim() == event)
    }
}

/// An outer-loop item: negative feedback on one topic, tracked to "fixed".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct RootCause {
    pub id: i64,
    pub topic: String,
    pub title: String,
    /// open or fixed.
    #[sqlx(try_from = "String")]
    #[schema(value_type = String)]
    pub status: RootCauseStatus,
    pub owner_id: Option<i64>,
    pub fix_note: Option<String>,
    /// Affected customers told of the fix.
    pub notified: i64,
    pub created_at: i64,
    pub fixed_at: Option<i64>,
    /// Feedback grouped under it, and the distinct customers who gave it.
    pub feedback_count: i64,
    pub customers: i64,
}
