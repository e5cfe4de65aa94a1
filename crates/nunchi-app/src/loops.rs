//! The closed loop's operations, for the API and the follow-ups page alike: rules that
//! open follow-ups (checked, stored, audited), closing follow-ups and adding notes, the
//! closed-loop report, root-cause items opened from the topics negative feedback keeps
//! mentioning and marked fixed (telling the affected customers).

use nunchi_core::feedback::Source;
use nunchi_core::identity::IdentityKind;
use nunchi_core::status::RootCauseStatus;
use nunchi_store::model::{FollowUp, FollowUpNote, LoopRule, NewLoopRule, RootCause};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::jobs::Job;
use crate::mail::EmailJob;
use crate::outer_loop::{self, LoopReport, TopicSuggestion};
use crate::{Actor, App, Error, Result, webhooks};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoopRuleInput {
    pub name: String,
    /// Normalised rating at most this (0..1; 0.6 is an NPS of 6 or a CSAT of 3.4).
    #[serde(default)]
    pub max_score: Option<f64>,
    /// Normalised rating at least this; with max_score a band (0.7–0.8: NPS passives).
    #[serde(default)]
    pub min_score: Option<f64>,
    /// Text sentiment at most this (−1..1).
    #[serde(default)]
    pub max_sentiment: Option<f64>,
    /// A topic label the text mentions, Korean or English (e.g. 배송 지연).
    #[serde(default)]
    pub topic: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    /// Only feedback from customers with this tag (e.g. vip).
    #[serde(default)]
    pub tag: Option<String>,
    /// Only feedback from the members of this saved segment (with a tag too: both).
    #[serde(default)]
    pub segment_id: Option<i64>,
    /// Who gets the follow-ups.
    #[serde(default)]
    pub owner_id: Option<i64>,
    /// Hours until a follow-up is due (1–720).
    pub due_hours: i64,
    /// E-mail this address when a follow-up opens.
    #[serde(default)]
    pub notify_email: Option<String>,
    /// Announce opened follow-ups to webhooks subscribed to `follow_up.opened`.
    #[serde(default)]
    pub notify_webhook: bool,
}

/// Checks and stores a rule, for the API and the follow-ups page alike.
pub async fn create_loop_rule(
    state: &App,
    actor: &Actor,
    input: &LoopRuleInput,
) -> Result<LoopRule> {
    let bad = |code: &str, m: &str| Err(Error::invalid(code, m.to_string()));
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return bad("invalid_name", "the name must be 1–100 characters");
    }
    if input.max_score.is_some_and(|v| !(0.0..=1.0).contains(&v)) {
        return bad("invalid_max_score", "max_score is between 0 and 1");
    }
    if input.min_score.is_some_and(|v| !(0.0..=1.0).contains(&v))
        || input
            .min_score
            .zip(input.max_score)
            .is_some_and(|(lo, hi)| lo > hi)
    {
        return bad(
            "invalid_min_score",
            "min_score is between 0 and 1, and at most max_score",
        );
    }
    if input
        .max_sentiment
        .is_some_and(|v| !(-1.0..=1.0).contains(&v))
    {
        return bad("invalid_max_sentiment", "max_sentiment is between −1 and 1");
    }
    if !(1..=720).contains(&input.due_hours) {
        return bad("invalid_due_hours", "due_hours is 1–720");
    }
    let topic = input
        .topic
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    let source = match input
        .source
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(s) => Some(
            Source::parse(s)
                .map_err(|e| Error::invalid("invalid_source", e.to_string()))?
                .as_str(),
        ),
        None => None,
    };
    if input.max_score.is_none()
        && input.min_score.is_none()
        && input.max_sentiment.is_none()
        && topic.is_none()
    {
        return bad(
            "no_condition",
            "a rule needs a score, a sentiment or a topic condition",
        );
    }
    let notify_email = match input
        .notify_email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
    {
        Some(e) => Some(
            nunchi_core::email::Email::parse(e)
                .map_err(|e| Error::invalid("invalid_notify_email", e.to_string()))?
                .as_str()
                .to_string(),
        ),
        None => None,
    };
    if let Some(segment) = input.segment_id {
        state.store.segment(segment).await.map_err(|_| {
            Error::invalid("invalid_segment", format!("there is no segment {segment}"))
        })?;
    }
    if let Some(owner) = input.owner_id {
        state
            .store
            .user(owner)
            .await
            .map_err(|_| Error::invalid("invalid_owner", format!("no user {owner}")))?;
    }
    let rule = state
        .store
        .create_loop_rule(&NewLoopRule {
            name: name.into(),
            max_score: input.max_score,
            min_score: input.min_score,
            max_sentiment: input.max_sentiment,
            topic: topic.map(str::to_string),
            source: source.map(str::to_string),
            tag: input
                .tag
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string),
            owner_id: input.owner_id,
            due_hours: input.due_hours,
            notify_email,
            notify_webhook: input.notify_webhook,
            segment_id: input.segment_id,
        })
        .await?;
    state
        .audit_by(
            actor,
            "loop_rule.create",
            &format!("loop_rule:{}", rule.id),
            name,
        )
        .await;
    Ok(rule)
}

pub async fn delete_loop_rule(state: &App, actor: &Actor, id: i64) -> Result<()> {
    state.store.delete_loop_rule(id).await?;
    state
        .audit_by(actor, "loop_rule.delete", &format!("loop_rule:{id}"), "")
        .await;
    Ok(())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CloseInput {
    /// What was done, for the record (1–2,000 characters).
    pub resolution: String,
}

/// Checks the resolution and closes a follow-up, for the API and the page alike.
pub async fn close_follow_up(
    state: &App,
    actor: &Actor,
    id: i64,
    resolution: &str,
) -> Result<FollowUp> {
    let resolution = crate::error::required_text(
        resolution,
        2_000,
        "invalid_resolution",
        "say what was done, in 1–2,000 characters",
    )?;
    let closed = state.store.close_follow_up(id, resolution).await?;
    state
        .audit_by(actor, "follow_up.close", &format!("follow_up:{id}"), "")
        .await;
    Ok(closed)
}

/// Follow-ups read for the report, at most.
pub const REPORT_LIMIT: i64 = 100_000;

/// The closed-loop report over every follow-up.
pub async fn loop_report(state: &App) -> Result<LoopReport> {
    let all = state.store.follow_ups(None, REPORT_LIMIT).await?;
    Ok(outer_loop::report(
        &all,
        &state.store.users().await?,
        &state.store.teams().await?,
        state.now(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteInput {
    /// 1–2,000 characters.
    pub body: String,
}

/// Checks and stores a note, for the API and the follow-ups page alike.
pub async fn add_follow_up_note(
    state: &App,
    actor: &Actor,
    id: i64,
    body: &str,
) -> Result<FollowUpNote> {
    let body =
        crate::error::required_text(body, 2_000, "invalid_note", "a note is 1–2,000 characters")?;
    let note = state
        .store
        .add_follow_up_note(id, Some(actor.user_id), body)
        .await?;
    state
        .audit_by(actor, "follow_up.note", &format!("follow_up:{id}"), "")
        .await;
    Ok(note)
}

/// Feedback the suggestions look at: the newest this many items.
pub const SUGGESTION_WINDOW: i64 = 1_000;

/// Topics of the newest negative feedback not yet tracked as a root cause.
pub async fn topic_suggestions(state: &App) -> Result<Vec<TopicSuggestion>> {
    let recent = state
        .store
        .list_feedback(&nunchi_store::model::FeedbackFilter {
            limit: SUGGESTION_WINDOW,
            ..Default::default()
        })
        .await?;
    Ok(outer_loop::suggestions(
        &recent,
        &state.store.follow_ups(Some("open"), REPORT_LIMIT).await?,
        &state.store.root_causes().await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RootCauseInput {
    /// A topic key from the suggestions (e.g. delivery_delay).
    pub topic: String,
    pub title: String,
    #[serde(default)]
    pub owner_id: Option<i64>,
    /// Group the topic's negative feedback from this many days back (1–365, 90 by default).
    #[serde(default)]
    pub days: Option<i64>,
}

/// Checks and opens a root-cause item, for the API and the page alike.
pub async fn open_root_cause(
    state: &App,
    actor: &Actor,
    input: &RootCauseInput,
) -> Result<RootCause> {
    let topic = input.topic.trim();
    let title = input.title.trim();
    let well_formed = !topic.is_empty()
        && topic.len() <= 100
        && topic
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_/-".contains(c));
    if !well_formed {
        return Err(Error::invalid(
            "invalid_topic",
            format!("unknown topic {topic:?}"),
        ));
    }
    if title.is_empty() || title.chars().count() > 200 {
        return Err(Error::invalid(
            "invalid_title",
            "the title is 1–200 characters",
        ));
    }
    let days = input.days.unwrap_or(90);
    if !(1..=365).contains(&days) {
        return Err(Error::invalid("invalid_days", "days is 1–365"));
    }
    if state
        .store
        .root_causes()
        .await?
        .iter()
        .any(|r| r.status == RootCauseStatus::Open && r.topic == topic)
    {
        return Err(Error::Conflict(format!(
            "an open root cause already tracks {topic}"
        )));
    }
    if let Some(owner) = input.owner_id {
        state
            .store
            .user(owner)
            .await
            .map_err(|_| Error::invalid("invalid_owner", format!("no user {owner}")))?;
    }
    let since = state.now() - days * 86_400_000;
    let rc = state
        .store
        .create_root_cause(topic, title, input.owner_id, since)
        .await?;
    state
        .audit_by(
            actor,
            "root_cause.create",
            &format!("root_cause:{}", rc.id),
            title,
        )
        .await;
    Ok(rc)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FixInput {
    /// What was fixed (1–2,000 characters); also the message to customers.
    pub note: String,
    /// E-mail the customers whose feedback it grouped.
    #[serde(default)]
    pub notify_customers: bool,
}

/// Marks a root cause fixed; with `notify_customers`, queues one e-mail per affected
/// customer with an address, in their language, and the `root_cause.fixed` webhooks.
pub async fn mark_fixed(
    state: &App,
    actor: &Actor,
    id: i64,
    input: &FixInput,
) -> Result<RootCause> {
    let note = crate::error::required_text(
        &input.note,
        2_000,
        "invalid_note",
        "say what was fixed, in 1–2,000 characters",
    )?;
    let rc = state.store.root_cause(id).await?;
    let now = state.now();
    let mut jobs = Vec::new();
    if input.notify_customers {
        for c in state.store.root_cause_customers(id).await? {
            let customer = state.store.customer(c).await?;
            let Some(email) = customer.identity(IdentityKind::Email) else {
                continue;
            };
            let ko = customer.row.language.as_deref() != Some("en");
            let (subject, greeting) = if ko {
                (
                    "말씀해 주신 문제를 고쳤습니다",
                    "소중한 의견 감사합니다. 말씀해 주신 문제를 고쳤습니다.",
                )
            } else {
                (
                    "We fixed what you told us about",
                    "Thank you for your feedback. We fixed what you told us about.",
                )
            };
            jobs.push(
                EmailJob {
                    to: email.to_string(),
                    subject: subject.into(),
                    text: format!(
                        "{greeting}

{note}
"
                    ),
                }
                .row(now),
            );
        }
    }
    let told = jobs.len();
    let data = serde_json::json!({ "root_cause_id": id, "topic": rc.topic, "title": rc.title, "note": note, "customers_told": told });
    jobs.extend(webhooks::jobs_for(
        &state.store.webhooks().await?,
        "root_cause.fixed",
        &format!("rc{id}"),
        &data,
        None,
        now,
    ));
    let fixed = state
        .store
        .fix_root_cause(id, note, told as i64, &jobs)
        .await?;
    state.job_wakeup.notify_one();
    state
        .audit_by(
            actor,
            "root_cause.fix",
            &format!("root_cause:{id}"),
            &format!("customers told: {told}"),
        )
        .await;
    Ok(fixed)
}
