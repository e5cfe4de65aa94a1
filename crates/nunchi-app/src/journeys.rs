//! The journey map's editing, for the API and the journey page alike: stage keys from
//! their names, and touchpoints checked (name, channel, the event and property conditions
//! that tag events with them, an expected rating) and created, retagging the engine.

use nunchi_core::channel::Channel;
use nunchi_core::touchpoint::{Condition, Rule};
use nunchi_store::model::{NewTouchpoint, Touchpoint};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::{Actor, App, Error, Result};

/// A stage key from its English name: lowercase letters, digits and dashes.
pub fn stage_key(name_en: &str) -> String {
    let mut key: String = name_en
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    key = key
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if key.is_empty() { "stage".into() } else { key }
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct TouchpointInput {
    pub name: String,
    pub channel: String,
    pub event: String,
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub conditions: Vec<Condition>,
    pub stage_id: Option<i64>,
    /// 1–5: the rating the team expects customers to give this touchpoint.
    pub expected_rating: Option<f64>,
}

/// Validates a touchpoint typed by a person (API or form).
pub async fn parse_touchpoint(state: &App, t: &TouchpointInput) -> Result<NewTouchpoint> {
    let name = crate::error::required_text(
        &t.name,
        100,
        "invalid_name",
        "the name must be 1–100 characters",
    )?;
    let channel = Channel::parse(&t.channel).ok_or_else(|| {
        Error::invalid(
            "invalid_channel",
            format!("unknown channel {:?}", t.channel),
        )
    })?;
    let rule = Rule {
        event: t.event.trim().to_string(),
        conditions: t.conditions.clone(),
    };
    rule.validate()?;
    if let Some(r) = t.expected_rating
        && !(1.0..=5.0).contains(&r)
    {
        return Err(Error::invalid(
            "invalid_expected_rating",
            "the expected rating is 1–5",
        ));
    }
    if let Some(stage) = t.stage_id
        && !state.store.stages().await?.iter().any(|s| s.id == stage)
    {
        return Err(Error::invalid(
            "invalid_stage_id",
            format!("no stage {stage}"),
        ));
    }
    Ok(NewTouchpoint {
        name: name.to_string(),
        channel: channel.as_str().to_string(),
        event: rule.event,
        conditions: serde_json::to_string(&rule.conditions)
            .map_err(|e| Error::Internal(e.into()))?,
        stage_id: t.stage_id,
        expected_rating: t.expected_rating,
    })
}

/// Validates and creates a touchpoint, retags the engine's events and audits it; for the
/// API and the journey page.
pub async fn create_touchpoint_checked(
    state: &App,
    actor: &Actor,
    input: &TouchpointInput,
) -> Result<Touchpoint> {
    let new = parse_touchpoint(state, input).await?;
    let t = state.store.create_touchpoint(&new).await?;
    state.events.rebuild().await;
    state
        .audit_by(
            actor,
            "touchpoint.create",
            &format!("touchpoint:{}", t.id),
            &t.name,
        )
        .await;
    Ok(t)
}
