//! Event sources: each has a write key (shown once, stored hashed) that Segment SDKs send
//! with their events, and a default channel for events that name none.

use nunchi_core::channel::Channel;
use nunchi_store::model::EventSource;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{Actor, App, Error, Result, secret};

#[derive(Debug, Deserialize, ToSchema)]
pub struct SourceInput {
    pub name: String,
    /// Channel for events that name none: web, app, store, phone, email, messenger, social, custom.
    #[serde(default)]
    pub channel: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedSource {
    pub source: EventSource,
    /// Shown once: configure Segment SDKs with it as their write key.
    pub write_key: String,
}

/// Validates and creates a source with a fresh write key, for the API and the admin page.
pub async fn create_source_checked(
    state: &App,
    actor: &Actor,
    input: &SourceInput,
) -> Result<CreatedSource> {
    let name = crate::error::required_text(
        &input.name,
        100,
        "invalid_name",
        "the name must be 1–100 characters",
    )?;
    let channel = match input
        .channel
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
    {
        None => None,
        Some(c) => Some(
            Channel::parse(c)
                .ok_or_else(|| Error::invalid("invalid_channel", format!("unknown channel {c:?}")))?
                .as_str(),
        ),
    };
    let write_key = format!("nk_{}", secret::random_token());
    let source = state
        .store
        .create_source(name, &secret::hash(&write_key), &write_key[..10], channel)
        .await?;
    state
        .audit_by(
            actor,
            "source.create",
            &format!("source:{}", source.id),
            name,
        )
        .await;
    Ok(CreatedSource { source, write_key })
}
