//! Building surveys and reading how they do, for the API and the builder page alike: a
//! survey's fields checked one by one, the survey as shown (with its public link), its
//! results question by question with every contact tally explained in Korean and English.

use nunchi_core::survey::{self, Audience, Question, Repeat, Suppressed, SurveyStatus};
use nunchi_store::model::{ContactCount, NewSurvey, Survey, SurveyContact};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::surveys::{self as run, Loaded, Results};
use crate::{App, Error, Result};

/// A survey as callers write it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyInput {
    pub name: String,
    /// draft (default), active or closed.
    #[serde(default)]
    pub status: Option<String>,
    /// survey (customers, default) or employee (pulse surveys, eNPS).
    #[serde(default)]
    pub audience: Option<String>,
    /// Questions: `{id, kind: nps|csat|ces|rating|single|multi|text, text: {ko, en},
    /// choices: [{id, ko, en}], required, scale_max, logic: [{when: {op, value}, to}]}`.
    #[schema(value_type = Vec<Object>)]
    pub questions: serde_json::Value,
    #[serde(default)]
    pub touchpoint_id: Option<i64>,
    #[serde(default)]
    pub stage_id: Option<i64>,
    #[serde(default)]
    pub team_id: Option<i64>,
    /// Send by e-mail after this event (e.g. purchase, conversation_closed).
    #[serde(default)]
    pub trigger_event: Option<String>,
    /// Hours after the event (0–720).
    #[serde(default)]
    pub trigger_delay_hours: Option<i64>,
    /// Share of eligible people asked (0–1, default 1).
    #[serde(default)]
    pub sample_rate: Option<f64>,
    /// Days since a person was last surveyed, by any survey (0–365).
    #[serde(default)]
    pub min_days: Option<i64>,
    /// once, until_answered (default) or always.
    #[serde(default)]
    pub repeat: Option<String>,
}

/// A survey as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyView {
    pub id: i64,
    /// The public link's key: `/s/{key}`.
    pub key: String,
    pub link: String,
    pub name: String,
    /// draft, active or closed.
    #[schema(value_type = String)]
    pub status: SurveyStatus,
    /// survey (customers) or employee.
    #[schema(value_type = String)]
    pub audience: Audience,
    #[schema(value_type = Vec<Object>)]
    pub questions: Vec<Question>,
    pub touchpoint_id: Option<i64>,
    pub stage_id: Option<i64>,
    pub team_id: Option<i64>,
    pub trigger_event: Option<String>,
    pub trigger_delay_hours: i64,
    pub sample_rate: f64,
    pub min_days: i64,
    /// once, until_answered or always.
    #[schema(value_type = String)]
    pub repeat: Repeat,
    pub created_at: i64,
    pub updated_at: i64,
}

pub fn view(state: &App, s: Survey) -> SurveyView {
    SurveyView {
        link: format!(
            "{}/s/{}",
            state.config.public_url.trim_end_matches('/'),
            s.key
        ),
        questions: s.questions.0,
        id: s.id,
        key: s.key,
        name: s.name,
        status: s.status,
        audience: s.audience,
        touchpoint_id: s.touchpoint_id,
        stage_id: s.stage_id,
        team_id: s.team_id,
        trigger_event: s.trigger_event,
        trigger_delay_hours: s.trigger_delay_hours,
        sample_rate: s.sample_rate,
        min_days: s.min_days,
        repeat: s.repeat,
        created_at: s.created_at,
        updated_at: s.updated_at,
    }
}

/// Checks a survey field by field, for the API and the builder page alike.
pub async fn check(state: &App, input: &SurveyInput) -> Result<NewSurvey> {
    let bad = |code: &str, m: String| Err(Error::invalid(code, m));
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return bad("invalid_name", "the name must be 1–200 characters".into());
    }
    let status = match input.status.as_deref() {
        None => SurveyStatus::Draft,
        Some(s) => {
            SurveyStatus::parse(s).map_err(|e| Error::invalid("invalid_status", e.message))?
        }
    };
    let audience = match input.audience.as_deref() {
        None => Audience::Customers,
        Some(a) => Audience::parse(a).map_err(|e| Error::invalid("invalid_audience", e.message))?,
    };
    let questions: Vec<Question> = serde_json::from_value(input.questions.clone())
        .map_err(|e| Error::invalid("invalid_questions", e.to_string()))?;
    survey::validate(&questions).map_err(|e| Error::invalid("invalid_questions", e.message))?;
    let repeat = Repeat::parse(input.repeat.as_deref().unwrap_or("until_answered"))
        .map_err(|e| Error::invalid("invalid_repeat", e.message))?;
    let sample_rate = input.sample_rate.unwrap_or(1.0);
    if !(0.0..=1.0).contains(&sample_rate) || sample_rate.is_nan() {
        return bad("invalid_sample_rate", "sample_rate is 0–1".into());
    }
    let min_days = input.min_days.unwrap_or(0);
    if !(0..=365).contains(&min_days) {
        return bad("invalid_min_days", "min_days is 0–365".into());
    }
    let delay = input.trigger_delay_hours.unwrap_or(0);
    if !(0..=720).contains(&delay) {
        return bad(
            "invalid_trigger_delay",
            "trigger_delay_hours is 0–720".into(),
        );
    }
    let trigger_event = input
        .trigger_event
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    if trigger_event.is_some_and(|t| t.chars().count() > 200) {
        return bad("invalid_trigger_event", "the event name is too long".into());
    }
    if let Some(tp) = input.touchpoint_id
        && !state.store.touchpoints().await?.iter().any(|t| t.id == tp)
    {
        return bad("invalid_touchpoint", format!("no touchpoint {tp}"));
    }
    if let Some(st) = input.stage_id
        && !state.store.stages().await?.iter().any(|s| s.id == st)
    {
        return bad("invalid_stage", format!("no stage {st}"));
    }
    if let Some(t) = input.team_id
        && !state.store.teams().await?.iter().any(|x| x.id == t)
    {
        return bad("invalid_team", format!("no team {t}"));
    }
    Ok(NewSurvey {
        name: name.into(),
        status,
        audience,
        questions: serde_json::to_string(&questions).expect("questions serialise"),
        touchpoint_id: input.touchpoint_id,
        stage_id: input.stage_id,
        team_id: input.team_id,
        trigger_event: trigger_event.map(str::to_string),
        trigger_delay_hours: delay,
        sample_rate,
        min_days,
        repeat,
    })
}

/// Contacts that ended one way, with the reason explained.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactTally {
    #[serde(flatten)]
    pub count: ContactCount,
    /// Why they were suppressed, in English and Korean; `null` for sent and shown.
    pub explanation_en: Option<String>,
    pub explanation_ko: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SurveyResults {
    #[serde(flatten)]
    pub results: Results,
    pub contacts: Vec<ContactTally>,
}

/// Responses read for the results, at most.
pub const RESULTS_LIMIT: i64 = 50_000;

/// A suppression's explanation, with its number ("surveyed 3 days ago").
fn explain(reason: Option<&str>, value: Option<i64>, lang: &str) -> Option<String> {
    reason
        .and_then(|r| Suppressed::from_parts(r, value))
        .map(|s| s.explain(lang))
}

/// A survey's results and contact tallies, for the API and the survey page.
pub async fn survey_results(state: &App, s: &Loaded) -> Result<SurveyResults> {
    let responses = state.store.responses(s.row.id, RESULTS_LIMIT).await?;
    let contacts = state.store.contact_counts(s.row.id).await?;
    Ok(SurveyResults {
        results: run::summarize(s, &responses),
        contacts: contacts
            .into_iter()
            .map(|c| {
                let general = |lang| {
                    c.reason
                        .as_deref()
                        .and_then(|r| Suppressed::from_parts(r, None))
                        .map(|s| s.explain_kind(lang))
                };
                ContactTally {
                    explanation_en: general("en"),
                    explanation_ko: general("ko"),
                    count: c,
                }
            })
            .collect(),
    })
}

/// One attempt to reach someone, explained.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactView {
    #[serde(flatten)]
    pub contact: SurveyContact,
    /// "not shown: surveyed 3 days ago"; `null` unless suppressed.
    pub explanation_en: Option<String>,
    pub explanation_ko: Option<String>,
}

pub fn contact_view(c: SurveyContact) -> ContactView {
    ContactView {
        explanation_en: explain(c.reason.as_deref(), c.reason_value, "en"),
        explanation_ko: explain(c.reason.as_deref(), c.reason_value, "ko"),
        contact: c,
    }
}
