//! The survey records the store hands out: surveys, responses, contacts and the counts the
//! fatigue rules and the results page read.

use nunchi_core::survey::{Audience, Question, Repeat, SurveyStatus};
use serde::Serialize;
use utoipa::ToSchema;

use crate::Json;

/// A survey as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Survey {
    pub id: i64,
    pub key: String,
    pub name: String,
    #[sqlx(try_from = "String")]
    pub status: SurveyStatus,
    #[sqlx(try_from = "String")]
    pub audience: Audience,
    pub questions: Json<Vec<Question>>,
    pub touchpoint_id: Option<i64>,
    pub stage_id: Option<i64>,
    pub team_id: Option<i64>,
    pub trigger_event: Option<String>,
    pub trigger_delay_hours: i64,
    pub sample_rate: f64,
    pub min_days: i64,
    #[sqlx(try_from = "String")]
    pub repeat: Repeat,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A survey to create or the new state of one, validated by the caller.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSurvey {
    pub name: String,
    pub status: SurveyStatus,
    pub audience: Audience,
    pub questions: String,
    pub touchpoint_id: Option<i64>,
    pub stage_id: Option<i64>,
    pub team_id: Option<i64>,
    pub trigger_event: Option<String>,
    pub trigger_delay_hours: i64,
    pub sample_rate: f64,
    pub min_days: i64,
    pub repeat: Repeat,
}

/// One person's answers to a survey, kept as they arrive.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema, sqlx::FromRow)]
pub struct SurveyResponse {
    pub id: i64,
    pub survey_id: i64,
    #[serde(skip)]
    pub token: String,
    pub customer_id: Option<i64>,
    pub anonymous_id: Option<String>,
    /// link, email or widget.
    pub channel: String,
    pub lang: String,
    /// Question id → answer (null when skipped).
    #[schema(value_type = String)]
    pub answers: Json<serde_json::Map<String, serde_json::Value>>,
    /// The question to ask next; none once complete.
    pub next_question: Option<String>,
    pub started_at: i64,
    pub updated_at: i64,
    pub completed_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewSurveyResponse {
    pub survey_id: i64,
    pub token: String,
    pub customer_id: Option<i64>,
    pub anonymous_id: Option<String>,
    pub channel: String,
    pub lang: String,
    pub next_question: Option<String>,
}

/// One attempt to survey someone and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct SurveyContact {
    pub id: i64,
    pub survey_id: i64,
    pub customer_id: Option<i64>,
    pub anonymous_id: Option<String>,
    /// email or widget.
    pub channel: String,
    /// due, sent, shown, suppressed or failed.
    pub status: String,
    /// Why it was suppressed (nunchi_core::survey::Suppressed code).
    pub reason: Option<String>,
    pub reason_value: Option<i64>,
    pub event_id: Option<i64>,
    #[serde(skip)]
    pub response_token: Option<String>,
    pub due_at: i64,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub decided_at: Option<i64>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSurveyContact {
    pub survey_id: i64,
    pub customer_id: Option<i64>,
    pub anonymous_id: Option<String>,
    pub channel: String,
    pub status: String,
    pub reason: Option<String>,
    pub reason_value: Option<i64>,
    pub event_id: Option<i64>,
    pub response_token: Option<String>,
    pub due_at: i64,
    /// Set when decided on the spot (the widget), not for contacts that wait to be sent.
    pub decided_at: Option<i64>,
}

/// How far a survey's responses got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct ResponseCount {
    pub survey_id: i64,
    /// With at least one answer.
    pub started: i64,
    pub completed: i64,
}

/// What has reached one person so far, for the fatigue rules.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExposureCounts {
    pub last_contact_at: Option<i64>,
    pub contacts_30d: i64,
    pub shown_this: i64,
    pub answered_this: bool,
}

/// How many contacts of a survey ended one way, by reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct ContactCount {
    pub status: String,
    pub reason: Option<String>,
    pub count: i64,
}

/// An event that may trigger a survey.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TriggerEvent {
    pub id: i64,
    pub customer_id: i64,
    pub name: String,
    pub ts: i64,
}
