//! The support desk's SLA clocks: policies (targets per team and priority, in calendar or
//! business hours with Korea's holidays), the deadlines each conversation is held to as
//! it moves (`nunchi_core::sla` decides them), and a job queued for each deadline's due
//! time that records a breach and tells the team — in the thread, by webhook and by
//! e-mail to the assignee — within the job runner's poll of the due time.

use nunchi_core::{
    access::Permission,
    business_hours::BusinessHours,
    conversation::{ConversationStatus, Priority},
    sla::{SlaEvent, SlaMetric, Targets, apply, specificity},
};
use nunchi_store::model::{Conversation, NewSlaPolicy, SlaPolicy};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{App, Error, Result, actor::Actor};

/// A policy as an admin writes it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct SlaPolicyInput {
    pub name: String,
    pub team_id: Option<i64>,
    /// low, normal, high or urgent; any when absent.
    pub priority: Option<String>,
    /// Targets in working minutes.
    pub first_response_minutes: Option<i64>,
    pub next_response_minutes: Option<i64>,
    pub resolution_minutes: Option<i64>,
    /// A weekly schedule (`mon-fri 09:00-18:00; sat 10:00-14:00`); calendar hours when absent.
    pub business_hours: Option<String>,
    /// The schedule's IANA time zone; the brand's when absent.
    pub time_zone: Option<String>,
    /// Skip Korea's public holidays (default true).
    pub korean_holidays: Option<bool>,
    /// Extra days off (ISO dates).
    #[serde(default)]
    pub holidays: Vec<String>,
}

/// The longest target accepted: a year of minutes.
const MAX_TARGET_MINUTES: i64 = 366 * 24 * 60;

pub async fn create_policy(app: &App, actor: &Actor, input: &SlaPolicyInput) -> Result<SlaPolicy> {
    if !actor.can(Permission::InboxManage) {
        return Err(Error::Forbidden);
    }
    let name = crate::error::required_text(
        &input.name,
        100,
        "invalid_name",
        "name the policy in 1–100 characters",
    )?;
    let priority = input
        .priority
        .as_deref()
        .filter(|p| !p.trim().is_empty())
        .map(|p| Priority::parse(p).map(|p| p.as_str().to_string()))
        .transpose()?;
    let targets = [
        input.first_response_minutes,
        input.next_response_minutes,
        input.resolution_minutes,
    ];
    if targets.iter().all(Option::is_none) {
        return Err(Error::invalid("invalid_targets", "set at least one target"));
    }
    if targets
        .iter()
        .flatten()
        .any(|m| !(1..=MAX_TARGET_MINUTES).contains(m))
    {
        return Err(Error::invalid(
            "invalid_targets",
            "targets are 1 minute to a year",
        ));
    }
    if let Some(team) = input.team_id
        && !app.store.teams().await?.iter().any(|t| t.id == team)
    {
        return Err(Error::invalid(
            "invalid_team",
            format!("there is no team {team}"),
        ));
    }
    let policy = NewSlaPolicy {
        name: name.into(),
        team_id: input.team_id,
        priority,
        first_response_minutes: input.first_response_minutes,
        next_response_minutes: input.next_response_minutes,
        resolution_minutes: input.resolution_minutes,
        business_hours: input
            .business_hours
            .as_deref()
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(str::to_string),
        time_zone: input
            .time_zone
            .clone()
            .filter(|z| !z.trim().is_empty())
            .unwrap_or_else(|| {
                app.config
                    .time_zone
                    .iana_name()
                    .unwrap_or("UTC")
                    .to_string()
            }),
        korean_holidays: input.korean_holidays.unwrap_or(true),
        holidays: input
            .holidays
            .iter()
            .map(|d| d.trim())
            .collect::<Vec<_>>()
            .join(","),
    };
    // Checked the way it will be read: a schedule or a date that cannot be read is refused now.
    hours_of_new(&policy)?;
    let created = app.store.create_sla_policy(&policy).await?;
    app.audit_by(
        actor,
        "sla_policy.create",
        &format!("sla_policy:{}", created.id),
        name,
    )
    .await;
    Ok(created)
}

pub async fn delete_policy(app: &App, actor: &Actor, id: i64) -> Result<()> {
    if !actor.can(Permission::InboxManage) {
        return Err(Error::Forbidden);
    }
    app.store.delete_sla_policy(id).await?;
    app.audit_by(actor, "sla_policy.delete", &format!("sla_policy:{id}"), "")
        .await;
    Ok(())
}

fn hours_of_new(p: &NewSlaPolicy) -> Result<BusinessHours> {
    hours(
        &p.time_zone,
        p.business_hours.as_deref(),
        &p.holidays,
        p.korean_holidays,
    )
}

/// The working hours a policy's clocks run in.
pub fn hours_of(p: &SlaPolicy) -> Result<BusinessHours> {
    hours(
        &p.time_zone,
        p.business_hours.as_deref(),
        &p.holidays,
        p.korean_holidays,
    )
}

fn hours(tz: &str, week: Option<&str>, holidays: &str, korean: bool) -> Result<BusinessHours> {
    let days = holidays
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .map(|d| {
            d.parse::<jiff::civil::Date>().map_err(|_| {
                Error::invalid(
                    "invalid_holidays",
                    format!("{d:?} is not a date (2026-12-31)"),
                )
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(match week {
        Some(w) => BusinessHours::parse(tz, w, &days, korean)?,
        None => BusinessHours::always(jiff::tz::TimeZone::get(tz).map_err(|_| {
            Error::invalid("invalid_time_zone", format!("unknown time zone {tz:?}"))
        })?),
    })
}

pub fn targets_of(p: &SlaPolicy) -> Targets {
    Targets {
        first_response: p.first_response_minutes,
        next_response: p.next_response_minutes,
        resolution: p.resolution_minutes,
    }
}

/// The policy that fits a conversation best: the most specific, then the oldest.
pub fn pick<'a>(policies: &'a [SlaPolicy], c: &Conversation) -> Option<&'a SlaPolicy> {
    policies
        .iter()
        .filter_map(|p| {
            let priority = p.priority.as_deref().and_then(|x| Priority::parse(x).ok());
            specificity(p.team_id, priority, c.team_id, c.priority).map(|s| (s, p))
        })
        .max_by_key(|(s, p)| (*s, std::cmp::Reverse(p.id)))
        .map(|(_, p)| p)
}

/// Moves `c`'s SLA clocks for `event`: records what it shows was missed, stores the new
/// deadlines and queues a check at each new due time.
pub(crate) async fn track(app: &App, c: &Conversation, event: SlaEvent) -> Result<()> {
    let policies = app.store.sla_policies().await?;
    let policy = match event {
        SlaEvent::Opened { .. } => pick(&policies, c),
        _ => c
            .sla_policy_id
            .and_then(|id| policies.iter().find(|p| p.id == id)),
    };
    let Some(policy) = policy else {
        return Ok(());
    };
    let hours = match hours_of(policy) {
        Ok(h) => h,
        Err(e) => {
            tracing::warn!(policy = policy.id, error = %e, "an SLA policy's hours cannot be read");
            return Ok(());
        }
    };
    let before = c.deadlines();
    let (after, missed) = apply(before, &targets_of(policy), &hours, event);
    for (metric, due) in missed {
        breach(app, c, metric, due).await?;
    }
    if after != before || c.sla_policy_id != Some(policy.id) {
        app.store.set_sla(c.id, Some(policy.id), &after).await?;
    }
    for metric in SlaMetric::ALL {
        if let Some(due) = after.due(*metric)
            && before.due(*metric) != Some(due)
        {
            crate::jobs::enqueue_at(
                app,
                &SlaCheckJob {
                    conversation_id: c.id,
                    metric: metric.as_str().into(),
                    due_at: due,
                },
                due,
            )
            .await?;
        }
    }
    Ok(())
}

/// Records a missed deadline once, and tells the team: an activity line in the thread, a
/// `conversation.sla_breached` webhook and an e-mail to the assignee.
async fn breach(app: &App, c: &Conversation, metric: SlaMetric, due: i64) -> Result<()> {
    let now = app.now();
    if !app
        .store
        .record_breach(c.id, metric.as_str(), due, now)
        .await?
    {
        return Ok(());
    }
    crate::live::activity(
        app,
        c.id,
        c.channel,
        None,
        &format!("sla_breached={}", metric.as_str()),
    )
    .await?;
    let data = serde_json::json!({
        "conversation_id": c.id, "metric": metric.as_str(), "due_at": due,
        "customer_id": c.customer_id, "assignee_id": c.assignee_id, "team_id": c.team_id,
    });
    let hooks = app.store.webhooks().await?;
    let jobs = crate::webhooks::jobs_for(
        &hooks,
        "conversation.sla_breached",
        &format!("sla{}_{}_{due}", c.id, metric.as_str()),
        &data,
        None,
        now,
    );
    for j in jobs {
        app.store
            .enqueue_job(&j.kind, &j.payload, j.run_at, j.max_attempts)
            .await?;
    }
    if let Some(assignee) = c.assignee_id
        && let Ok(user) = app.store.user(assignee).await
    {
        let ko = user.locale == "ko";
        let (subject, text) = if ko {
            (
                format!("[SLA 위반] 상담 #{} {}", c.id, c.subject),
                format!(
                    "상담 #{}의 {} 기한이 지났습니다: {}/inbox/{}",
                    c.id,
                    metric_ko(metric),
                    app.config.public_url,
                    c.id
                ),
            )
        } else {
            (
                format!("[SLA breached] Conversation #{} {}", c.id, c.subject),
                format!(
                    "The {} deadline of conversation #{} has passed: {}/inbox/{}",
                    metric.as_str().replace('_', " "),
                    c.id,
                    app.config.public_url,
                    c.id
                ),
            )
        };
        crate::jobs::enqueue(
            app,
            &crate::mail::EmailJob {
                to: user.email,
                subject,
                text,
            },
        )
        .await?;
    }
    app.job_wakeup.notify_one();
    Ok(())
}

fn metric_ko(m: SlaMetric) -> &'static str {
    match m {
        SlaMetric::FirstResponse => "첫 응답",
        SlaMetric::NextResponse => "다음 응답",
        SlaMetric::Resolution => "해결",
    }
}

/// Checks one deadline at its due time: still open and unchanged means it was missed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SlaCheckJob {
    pub conversation_id: i64,
    pub metric: String,
    pub due_at: i64,
}

impl crate::jobs::Job for SlaCheckJob {
    const KIND: &'static str = "sla_check";

    async fn run(self, app: &App) -> anyhow::Result<String> {
        let c = match app.store.conversation(self.conversation_id).await {
            Ok(c) => c,
            Err(nunchi_store::StoreError::NotFound(_)) => {
                return Ok(r#"{"skipped":"the conversation is gone"}"#.into());
            }
            Err(e) => return Err(e.into()),
        };
        let metric = SlaMetric::parse(&self.metric)?;
        let missed = c.status != ConversationStatus::Resolved
            && c.deadlines().due(metric) == Some(self.due_at)
            && app.now() >= self.due_at;
        if missed {
            breach(app, &c, metric, self.due_at)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        Ok(serde_json::json!({ "breached": missed }).to_string())
    }
}
