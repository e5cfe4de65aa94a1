//! Automatic assignment of new conversations: round-robin (whoever waited longest since
//! their last one) or balanced (fewest open, then round-robin), among agents of the
//! conversation's team who may answer, have the skills it requires (its channel, its
//! customer's language or its labels, where some agent offers them — `nunchi_core::routing`),
//! are not away, are within their working hours and below their cap. The store makes each assignment atomic, so however many run at once
//! no agent passes their cap and no conversation is given twice. When nobody is eligible
//! the conversation waits unassigned and the team's managers are told.

use nunchi_core::{access::Permission, business_hours::BusinessHours};
use nunchi_store::model::{AgentAvailability, AgentLoad, Conversation};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{App, Error, Result, actor::Actor};

/// The settings key holding the mode.
const MODE_KEY: &str = "inbox_assignment";

nunchi_core::named_enum! {
    /// How new conversations find an agent.
    pub enum AssignmentMode("assignment mode") {
        Manual = "manual",
        RoundRobin = "round_robin",
        Balanced = "balanced",
    }
}

pub async fn mode(app: &App) -> Result<AssignmentMode> {
    Ok(match app.store.setting(MODE_KEY).await? {
        Some(m) => AssignmentMode::parse(&m).unwrap_or(AssignmentMode::Manual),
        None => AssignmentMode::Manual,
    })
}

pub async fn set_mode(app: &App, actor: &Actor, mode: &str) -> Result<AssignmentMode> {
    if !actor.can(Permission::InboxManage) {
        return Err(Error::Forbidden);
    }
    let mode = AssignmentMode::parse(mode)?;
    app.store.set_setting(MODE_KEY, mode.as_str()).await?;
    app.audit_by(actor, "inbox.assignment_mode", mode.as_str(), "")
        .await;
    Ok(mode)
}

/// An agent's availability as a manager sets it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct AvailabilityInput {
    #[serde(default)]
    pub away: bool,
    pub max_open: Option<i64>,
    /// `mon-fri 09:00-18:00`; any time when absent.
    pub working_hours: Option<String>,
    pub time_zone: Option<String>,
    /// Comma-separated (`en, refund, phone`); kept as they are when absent. Only managers
    /// change them.
    #[serde(default)]
    pub skills: Option<String>,
}

pub async fn set_availability(
    app: &App,
    actor: &Actor,
    user_id: i64,
    input: &AvailabilityInput,
) -> Result<AgentAvailability> {
    // Agents may step away themselves; anything else about others is a manager's.
    if !(actor.can(Permission::InboxManage)
        || actor.user_id == user_id && actor.can(Permission::InboxWrite))
    {
        return Err(Error::Forbidden);
    }
    app.store.user(user_id).await?;
    if input.max_open.is_some_and(|m| !(1..=10_000).contains(&m)) {
        return Err(Error::invalid(
            "invalid_max_open",
            "the cap is 1 to 10,000 open conversations",
        ));
    }
    let time_zone = input
        .time_zone
        .clone()
        .filter(|z| !z.trim().is_empty())
        .unwrap_or_else(|| {
            app.config
                .time_zone
                .iana_name()
                .unwrap_or("UTC")
                .to_string()
        });
    let working_hours = input
        .working_hours
        .as_deref()
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .map(str::to_string);
    if let Some(h) = &working_hours {
        BusinessHours::parse(&time_zone, h, &[], false)?;
    }
    let current = app
        .store
        .availabilities()
        .await?
        .into_iter()
        .find(|x| x.user_id == user_id)
        .map(|x| x.skills)
        .unwrap_or_default();
    let skills = match &input.skills {
        Some(list) if actor.can(Permission::InboxManage) => {
            nunchi_core::routing::parse_skills(list)?.join(", ")
        }
        _ => current,
    };
    let a = AgentAvailability {
        user_id,
        away: input.away,
        max_open: input.max_open,
        working_hours,
        time_zone,
        last_assigned_at: None,
        skills,
    };
    app.store.set_availability(&a).await?;
    app.audit_by(actor, "agent.availability", &format!("user:{user_id}"), "")
        .await;
    Ok(app
        .store
        .availabilities()
        .await?
        .into_iter()
        .find(|x| x.user_id == user_id)
        .unwrap_or(a))
}

/// Whether an agent may take one more now: not away, and within their working hours
/// (any time when they have none).
fn on_duty(a: &AgentLoad, now: i64) -> bool {
    if a.away {
        return false;
    }
    match &a.working_hours {
        None => true,
        Some(h) => BusinessHours::parse(a.time_zone.as_deref().unwrap_or("UTC"), h, &[], true)
            .map(|hours| hours.add_minutes(now, 1) == now + 60_000)
            .unwrap_or(false),
    }
}

/// Assigns a new conversation as the mode says; returns the agent, or `None` when it
/// waits (manual mode, or nobody eligible — then the team's managers are told).
pub async fn auto_assign(app: &App, c: &Conversation) -> Result<Option<i64>> {
    let mode = mode(app).await?;
    if mode == AssignmentMode::Manual || c.assignee_id.is_some() {
        return Ok(None);
    }
    for (user, cap) in candidates(app, mode, c).await? {
        if app.store.assign_within_cap(c.id, user, cap).await? {
            crate::live::activity(app, c.id, c.channel, None, &format!("assignee={user}")).await?;
            return Ok(Some(user));
        }
    }
    crate::live::activity(app, c.id, c.channel, None, "unassigned_no_agent").await?;
    let users = app.store.users().await?;
    let managers: Vec<_> = users
        .iter()
        .filter(|u| !u.disabled && u.role.has(Permission::InboxManage))
        .filter(|u| c.team_id.is_none() || u.team_id == c.team_id || u.team_id.is_none())
        .collect();
    for m in managers {
        let ko = m.locale == "ko";
        crate::jobs::enqueue(
            app,
            &crate::mail::EmailJob {
                to: m.email.clone(),
                subject: if ko {
                    format!(
                        "[배정 대기] 상담 #{}: 배정할 수 있는 상담원이 없습니다",
                        c.id
                    )
                } else {
                    format!("[Waiting] Conversation #{}: no agent can take it", c.id)
                },
                text: format!("{}/inbox/{}", app.config.public_url, c.id),
            },
        )
        .await?;
    }
    Ok(None)
}

/// Who may take conversation `c` now, in the order `mode` tries them, each with their cap:
/// the decision without its write, from one read of every enabled user's load.
pub async fn candidates(
    app: &App,
    mode: AssignmentMode,
    c: &Conversation,
) -> Result<Vec<(i64, Option<i64>)>> {
    let now = app.now();
    let pool: Vec<(AgentLoad, Vec<String>)> = app
        .store
        .assignment_pool()
        .await?
        .into_iter()
        .filter(|a| a.role.has(Permission::InboxWrite))
        .filter(|a| c.team_id.is_none() || a.team_id == c.team_id)
        .map(|a| {
            let skills = nunchi_core::routing::parse_skills(&a.skills).unwrap_or_default();
            (a, skills)
        })
        .collect();
    let offered: std::collections::BTreeSet<String> =
        pool.iter().flat_map(|(_, s)| s.iter().cloned()).collect();
    let traits = if offered.is_empty() {
        Vec::new()
    } else {
        traits_of(app, c).await?
    };
    let needed = nunchi_core::routing::required(&traits, &offered);
    let mut candidates: Vec<AgentLoad> = pool
        .into_iter()
        .filter(|(_, skills)| nunchi_core::routing::qualifies(skills, &needed))
        .map(|(a, _)| a)
        .filter(|a| a.max_open.is_none_or(|cap| a.open_count < cap))
        .filter(|a| on_duty(a, now))
        .collect();
    match mode {
        AssignmentMode::Balanced => candidates.sort_by_key(|a| {
            (
                a.open_count,
                a.last_assigned_at.unwrap_or(i64::MIN),
                a.user_id,
            )
        }),
        _ => candidates.sort_by_key(|a| (a.last_assigned_at.unwrap_or(i64::MIN), a.user_id)),
    }
    Ok(candidates
        .into_iter()
        .map(|a| (a.user_id, a.max_open))
        .collect())
}

/// What a conversation may require a skill for: its channel, its customer's language and
/// its labels.
async fn traits_of(app: &App, c: &Conversation) -> Result<Vec<String>> {
    let mut traits = vec![c.channel.as_str().to_string()];
    if let Some(lang) = app.store.customer(c.customer_id).await?.row.language {
        traits.push(lang.to_lowercase());
    }
    traits.extend(c.labels.iter().map(|l| l.to_lowercase()));
    Ok(traits)
}

/// The desk's assignment settings, for the settings page and API.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssignmentSettings {
    /// manual, round_robin or balanced.
    #[schema(value_type = String)]
    pub mode: AssignmentMode,
    pub agents: Vec<AgentAvailability>,
}

pub async fn settings(app: &App, actor: &Actor) -> Result<AssignmentSettings> {
    if !actor.can(Permission::InboxRead) {
        return Err(Error::Forbidden);
    }
    Ok(AssignmentSettings {
        mode: mode(app).await?,
        agents: app.store.availabilities().await?,
    })
}
