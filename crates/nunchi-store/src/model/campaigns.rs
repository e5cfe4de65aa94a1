//! Campaigns and deliveries as stored: a campaign's definition (its trigger and templates
//! as JSON the app parses), every message's row with its status and reason, and what a
//! reservation needs to know about each recipient.

use nunchi_core::consent::Consent;
use nunchi_core::contact::{MessageKind, Via};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct Campaign {
    pub id: i64,
    pub name: String,
    /// one_off or programme.
    pub kind: String,
    /// marketing, service or survey.
    pub message_kind: String,
    /// draft, active, paused or done.
    pub status: String,
    /// The trigger as JSON.
    pub trigger_spec: String,
    pub segment_id: Option<i64>,
    /// Channels in fallback order, comma-separated.
    pub channels: String,
    pub priority: i64,
    pub dedup_key: Option<String>,
    /// Subject and body per language, as JSON.
    pub templates: String,
    pub holdout_pct: i64,
    pub goal_event: Option<String>,
    pub goal_days: i64,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub launched_at: Option<i64>,
}

/// A campaign's definition to save (validated by the caller).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewCampaign {
    pub name: String,
    pub kind: String,
    pub message_kind: String,
    pub trigger_spec: String,
    pub segment_id: Option<i64>,
    pub channels: String,
    pub priority: i64,
    pub dedup_key: Option<String>,
    pub templates: String,
    pub holdout_pct: i64,
    pub goal_event: Option<String>,
    pub goal_days: i64,
}

/// One message to one customer and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct Delivery {
    pub id: i64,
    pub campaign_id: Option<i64>,
    pub customer_id: i64,
    pub occurrence: String,
    pub kind: String,
    pub via: Option<String>,
    pub dedup: Option<String>,
    pub variant: String,
    /// queued, held, sent, delivered, failed, suppressed or held_out.
    pub status: String,
    /// Why it was suppressed or held (nunchi_core::contact::Suppression code).
    pub reason: Option<String>,
    pub due_at: i64,
    pub sent_at: Option<i64>,
    pub attempts: i64,
    pub error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A message asking the contact budget for a slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRequest {
    pub campaign_id: Option<i64>,
    pub customer_id: i64,
    pub occurrence: String,
    pub kind: MessageKind,
    /// Channels to try, preferred first; the first the rules allow is used.
    pub channels: Vec<Via>,
    pub dedup: Option<String>,
    pub priority: i32,
    /// `control`: held out, never sent and never counted.
    pub variant: String,
    /// When it should go (a delay trigger's moment, or now).
    pub due_at: i64,
}

/// What the budget's rules need to know about a recipient besides what reached them.
#[derive(Debug, Clone)]
pub struct RecipientFacts {
    pub tz: jiff::tz::TimeZone,
    pub korean: bool,
    pub consents: Vec<Consent>,
    /// The channel the customer prefers: tried first among the campaign's channels.
    pub preferred: Option<nunchi_core::consent::ContactChannel>,
}

impl RecipientFacts {
    /// The channels to try for this customer: their preferred one first, then the
    /// campaign's order.
    pub fn channel_order(&self, channels: &[Via]) -> Vec<Via> {
        let mut out = channels.to_vec();
        out.sort_by_key(|v| Some(v.consent_channel()) != self.preferred);
        out
    }
}

/// What a reservation did with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reserved {
    /// The new row, or `None` when this (campaign, customer, occurrence) already had one.
    pub delivery_id: Option<i64>,
    /// queued, held, suppressed or held_out; `exists` when the firing had a row already.
    pub status: String,
    pub via: Option<String>,
    pub reason: Option<String>,
}

/// How many of a campaign's deliveries ended one way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct DeliveryCount {
    pub variant: String,
    pub status: String,
    pub reason: Option<String>,
    pub count: i64,
}

/// What sending needs of a customer, read in bulk.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct RecipientRow {
    pub id: i64,
    pub name: Option<String>,
    pub language: Option<String>,
    pub time_zone: Option<String>,
    pub preferred_channel: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}
