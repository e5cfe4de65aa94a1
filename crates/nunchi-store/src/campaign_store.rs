//! The `CampaignStore` trait: campaigns, and the deliveries the contact budget decides
//! under each customer's lock (kept apart from `traits.rs` for size; `traits` re-exports
//! it).

use std::collections::HashMap;

use async_trait::async_trait;
use nunchi_core::contact::{Policy, Sent};

use crate::{StoreResult, model::*};

/// Campaigns and every message sent through the contact budget.
#[async_trait]
pub trait CampaignStore: Send + Sync {
    async fn create_campaign(&self, c: &NewCampaign, created_by: &str) -> StoreResult<i64>;
    async fn update_campaign(&self, id: i64, c: &NewCampaign) -> StoreResult<()>;
    /// Sets the status; `launched` stamps the launch time when it is first set.
    async fn set_campaign_status(&self, id: i64, status: &str, launched: bool) -> StoreResult<()>;
    async fn campaign(&self, id: i64) -> StoreResult<Campaign>;
    /// Every campaign, newest first.
    async fn campaigns(&self) -> StoreResult<Vec<Campaign>>;
    /// Decides and writes each request in one transaction holding the customers' locks:
    /// every customer's history (deliveries that reached or will reach them, and survey
    /// e-mails) is read inside it, so concurrent schedulers never both take a last slot.
    /// A request whose (campaign, customer, occurrence) already has a row writes nothing.
    /// A customer missing from `recipients` is suppressed as having no consent facts.
    async fn reserve_deliveries(
        &self,
        policy: &Policy,
        requests: &[DeliveryRequest],
        recipients: &HashMap<i64, RecipientFacts>,
    ) -> StoreResult<Vec<Reserved>>;
    /// What reached or will reach these customers, for previews.
    async fn contact_history(&self, customer_ids: &[i64]) -> StoreResult<HashMap<i64, Vec<Sent>>>;
    /// Queued or held deliveries due at or before `now`, oldest first.
    async fn due_deliveries(&self, now: i64, limit: i64) -> StoreResult<Vec<Delivery>>;
    /// Records the outcome of a send: sent, delivered, failed or suppressed (`reason`).
    async fn settle_delivery(
        &self,
        id: i64,
        status: &str,
        reason: Option<&str>,
        error: Option<&str>,
    ) -> StoreResult<()>;
    /// A failed attempt to retry at `due_at`.
    async fn retry_delivery(&self, id: i64, due_at: i64, error: &str) -> StoreResult<()>;
    async fn delivery_counts(&self, campaign_id: i64) -> StoreResult<Vec<DeliveryCount>>;
    /// A customer's deliveries, newest first.
    async fn customer_deliveries(&self, customer_id: i64, limit: i64)
    -> StoreResult<Vec<Delivery>>;
    async fn delivery(&self, id: i64) -> StoreResult<Delivery>;
    /// A segment's entries and exits at or after `from` (Unix ms), oldest first.
    async fn segment_changes_since(
        &self,
        segment_id: i64,
        from: i64,
        limit: i64,
    ) -> StoreResult<Vec<SegmentChange>>;
    /// Every delivery of a campaign, oldest first.
    async fn campaign_deliveries(&self, campaign_id: i64) -> StoreResult<Vec<Delivery>>;
    /// Live customers' ids after `after_id`, in id order, at most `limit`.
    async fn live_customer_ids(&self, after_id: i64, limit: i64) -> StoreResult<Vec<i64>>;
    /// Live (not merged, not erased) customers among these ids, with their first e-mail
    /// address and phone number.
    async fn recipients(&self, customer_ids: &[i64]) -> StoreResult<Vec<RecipientRow>>;
    /// These customers' life events: (customer, kind, `YYYY-MM-DD`).
    async fn life_events_of(&self, customer_ids: &[i64])
    -> StoreResult<Vec<(i64, String, String)>>;
    /// Every recorded consent answer of these customers, oldest first.
    async fn consents_of(&self, customer_ids: &[i64]) -> StoreResult<Vec<(i64, ConsentRow)>>;
}
