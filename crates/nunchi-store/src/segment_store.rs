//! The `SegmentStore` trait: segment definitions, members and their entries and exits
//! (kept apart from `traits.rs` for size; `traits` re-exports it).

use async_trait::async_trait;

use crate::{StoreResult, model::*};

/// Segments: definitions, who is in each now, and every entry and exit.
#[async_trait]
pub trait SegmentStore: Send + Sync {
    /// A new segment's id; a name already taken is a conflict.
    async fn create_segment(&self, s: &NewSegment) -> StoreResult<i64>;
    async fn update_segment(
        &self,
        id: i64,
        name: &str,
        description: &str,
        rule: &str,
    ) -> StoreResult<()>;
    /// Deletes the segment with its members and history.
    async fn delete_segment(&self, id: i64) -> StoreResult<()>;
    async fn segment(&self, id: i64) -> StoreResult<Segment>;
    async fn segments(&self) -> StoreResult<Vec<Segment>>;
    /// Who is in the segment now, ascending.
    async fn segment_member_ids(&self, id: i64) -> StoreResult<Vec<i64>>;
    /// The live and static segments each of these customers is in now: (segment id,
    /// customer id).
    async fn segment_memberships(&self, customer_ids: &[i64]) -> StoreResult<Vec<(i64, i64)>>;
    /// Applies one evaluation in one transaction: `entered` join (since `at`), `left`
    /// leave, each recorded as a change with `reason`; the member count and the time of
    /// evaluation are updated.
    async fn apply_segment_changes(
        &self,
        id: i64,
        entered: &[i64],
        left: &[i64],
        at: i64,
        reason: &str,
    ) -> StoreResult<()>;
    /// Members after `after_customer` by customer id: (customer id, member since).
    async fn segment_members_page(
        &self,
        id: i64,
        after_customer: i64,
        limit: i64,
    ) -> StoreResult<Vec<(i64, i64)>>;
    /// The newest changes first.
    async fn segment_changes(&self, id: i64, limit: i64) -> StoreResult<Vec<SegmentChange>>;
    /// Entries and exits per UTC day, oldest first.
    async fn segment_days(&self, id: i64) -> StoreResult<Vec<SegmentDay>>;
}
