//! The `PersonaStore` trait: personas with their stories and photos, and the feedback of a
//! persona's customers (kept apart from `traits.rs` for size; `traits` re-exports it).

use async_trait::async_trait;

use crate::{StoreResult, model::*};

/// Personas, and what their customers said.
#[async_trait]
pub trait PersonaStore: Send + Sync {
    async fn create_persona(&self, story: &PersonaStory, created_by: &str) -> StoreResult<i64>;
    async fn update_persona(&self, id: i64, story: &PersonaStory) -> StoreResult<()>;
    async fn delete_persona(&self, id: i64) -> StoreResult<()>;
    async fn persona(&self, id: i64) -> StoreResult<Persona>;
    /// Every persona, by English name.
    async fn personas(&self) -> StoreResult<Vec<Persona>>;
    /// Sets (content type, bytes) or, with `None`, removes the photo.
    async fn set_persona_photo(&self, id: i64, photo: Option<(&str, &[u8])>) -> StoreResult<()>;
    /// The photo's content type and bytes, when one is held.
    async fn persona_photo(&self, id: i64) -> StoreResult<Option<(String, Vec<u8>)>>;
    /// Feedback these customers gave at or after `since` (Unix ms), newest first, at most
    /// `limit`.
    async fn feedback_of_customers(
        &self,
        customer_ids: &[i64],
        since: i64,
        limit: i64,
    ) -> StoreResult<Vec<Feedback>>;
}
