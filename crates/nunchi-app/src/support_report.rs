//! The support desk's report over conversations started in a period: volume by channel
//! and day, first-response and resolution times (median and 90th percentile, exact), SLA
//! hit rate, what is still open and how often resolved conversations came back — overall,
//! per channel, per team and per agent, with a CSV of the per-team and per-agent rows.

use std::collections::BTreeMap;

use nunchi_core::{
    access::Permission,
    conversation::{ConversationChannel, ConversationStatus},
};
use nunchi_store::model::ConversationFacts;
use serde::Serialize;
use utoipa::ToSchema;

use crate::{App, Error, Result, actor::Actor};

/// The figures of one group of conversations.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct SupportStats {
    pub conversations: u64,
    pub resolved: u64,
    /// Not resolved now.
    pub still_open: u64,
    /// Conversations the team has answered, and how long the first answer took (seconds).
    pub replied: u64,
    pub first_response_median_secs: Option<i64>,
    pub first_response_p90_secs: Option<i64>,
    pub resolution_median_secs: Option<i64>,
    pub resolution_p90_secs: Option<i64>,
    /// Conversations held to an SLA policy, and those that missed none of its deadlines.
    pub sla_measured: u64,
    pub sla_met: u64,
    pub sla_hit_rate: Option<f64>,
    /// Of the conversations ever resolved, those a customer's reply reopened.
    pub reopened: u64,
    pub reopen_rate: Option<f64>,
    /// CSAT answers after resolution, and the share that were 4 or 5 (satisfied).
    pub csat_responses: u64,
    pub csat: Option<f64>,
}

/// One day's new conversations per channel (in `ConversationChannel::ALL` order).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DayVolume {
    /// The day in the brand's time zone (YYYY-MM-DD).
    pub day: String,
    pub by_channel: Vec<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct GroupRow {
    /// A channel name, or a team or user id (`None`: no team / nobody).
    pub key: Option<String>,
    /// The team's or agent's name (the channel's for channels); `None` with no key.
    pub name: Option<String>,
    pub stats: SupportStats,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SupportReport {
    pub from: i64,
    pub to: i64,
    pub overall: SupportStats,
    pub by_channel: Vec<GroupRow>,
    pub by_team: Vec<GroupRow>,
    pub by_agent: Vec<GroupRow>,
    pub daily: Vec<DayVolume>,
}

/// The nearest-rank `q`-quantile of sorted values.
fn quantile(sorted: &[i64], q: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

fn rate(n: u64, of: u64) -> Option<f64> {
    (of > 0).then(|| n as f64 / of as f64)
}

/// The figures of `facts`.
pub fn stats(facts: &[&ConversationFacts]) -> SupportStats {
    let mut first: Vec<i64> = facts
        .iter()
        .filter_map(|f| f.first_reply_at.map(|r| (r - f.created_at).max(0) / 1000))
        .collect();
    let mut resolution: Vec<i64> = facts
        .iter()
        .filter(|f| f.status == ConversationStatus::Resolved)
        .filter_map(|f| f.resolved_at.map(|r| (r - f.created_at).max(0) / 1000))
        .collect();
    first.sort_unstable();
    resolution.sort_unstable();
    let count =
        |p: &dyn Fn(&ConversationFacts) -> bool| facts.iter().filter(|f| p(f)).count() as u64;
    let sla_measured = count(&|f| f.sla_policy_id.is_some() || f.breaches > 0);
    let sla_met = count(&|f| (f.sla_policy_id.is_some() || f.breaches > 0) && f.breaches == 0);
    let ever_resolved = count(&|f| f.resolved_at.is_some() || f.reopens > 0);
    let reopened = count(&|f| f.reopens > 0);
    let csat_responses = count(&|f| f.csat.is_some());
    let satisfied = count(&|f| f.csat.is_some_and(|r| r >= 4));
    SupportStats {
        conversations: facts.len() as u64,
        resolved: count(&|f| f.status == ConversationStatus::Resolved),
        still_open: count(&|f| f.status.is_open()),
        replied: first.len() as u64,
        first_response_median_secs: quantile(&first, 0.5),
        first_response_p90_secs: quantile(&first, 0.9),
        resolution_median_secs: quantile(&resolution, 0.5),
        resolution_p90_secs: quantile(&resolution, 0.9),
        sla_measured,
        sla_met,
        sla_hit_rate: rate(sla_met, sla_measured),
        reopened,
        reopen_rate: rate(reopened, ever_resolved),
        csat_responses,
        csat: rate(satisfied, csat_responses),
    }
}

fn grouped<K: Ord + Clone>(
    facts: &[ConversationFacts],
    key: impl Fn(&ConversationFacts) -> K,
    name: impl Fn(&K) -> Option<String>,
) -> Vec<GroupRow> {
    let mut groups: BTreeMap<K, Vec<&ConversationFacts>> = BTreeMap::new();
    for f in facts {
        groups.entry(key(f)).or_default().push(f);
    }
    groups
        .into_iter()
        .map(|(k, list)| GroupRow {
            name: name(&k),
            key: name(&k),
            stats: stats(&list),
        })
        .collect()
}

/// The report of `facts` (conversations started in `[from, to)`), days in `tz`.
pub fn compute(
    facts: &[ConversationFacts],
    from: i64,
    to: i64,
    tz: &jiff::tz::TimeZone,
) -> SupportReport {
    let all: Vec<&ConversationFacts> = facts.iter().collect();
    let mut days: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for f in facts {
        let day = jiff::Timestamp::from_millisecond(f.created_at)
            .map(|t| t.to_zoned(tz.clone()).date().to_string())
            .unwrap_or_default();
        let slot = ConversationChannel::ALL
            .iter()
            .position(|c| *c == f.channel)
            .unwrap_or(0);
        days.entry(day)
            .or_insert_with(|| vec![0; ConversationChannel::ALL.len()])[slot] += 1;
    }
    SupportReport {
        from,
        to,
        overall: stats(&all),
        by_channel: grouped(facts, |f| f.channel, |c| Some(c.as_str().into())),
        by_team: grouped(facts, |f| f.team_id, |t| t.map(|t| t.to_string())),
        by_agent: grouped(facts, |f| f.assignee_id, |a| a.map(|a| a.to_string())),
        daily: days
            .into_iter()
            .map(|(day, by_channel)| DayVolume { day, by_channel })
            .collect(),
    }
}

/// Conversations read for one report, at most.
const MAX_FACTS: usize = 500_000;

/// The report over `[from, to)` (ms) for `actor`.
pub async fn report(app: &App, actor: &Actor, from: i64, to: i64) -> Result<SupportReport> {
    if !actor.can(Permission::InboxRead) {
        return Err(Error::Forbidden);
    }
    let facts = app.store.conversation_facts(from, to).await?;
    if facts.len() > MAX_FACTS {
        return Err(Error::invalid(
            "invalid_range",
            "the period holds too many conversations; choose a shorter one",
        ));
    }
    let mut report = compute(&facts, from, to, &app.config.time_zone);
    let users: std::collections::HashMap<String, String> = app
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| (u.id.to_string(), u.name))
        .collect();
    let teams: std::collections::HashMap<String, String> = app
        .store
        .teams()
        .await?
        .into_iter()
        .map(|t| (t.id.to_string(), t.name))
        .collect();
    for (groups, names) in [
        (&mut report.by_team, &teams),
        (&mut report.by_agent, &users),
    ] {
        for g in groups.iter_mut() {
            g.name = g
                .key
                .as_ref()
                .map(|k| names.get(k).cloned().unwrap_or_else(|| format!("#{k}")));
        }
    }
    Ok(report)
}

fn cell(v: Option<i64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

fn share(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.4}")).unwrap_or_default()
}

/// The per-channel, per-team and per-agent rows as CSV, each named, starting with the
/// byte-order mark Korean Excel needs (`text_encoding::UTF8_BOM`).
pub fn csv(report: &SupportReport) -> String {
    let mut out = String::from('\u{feff}');
    out.push_str("group,name,conversations,resolved,still_open,first_response_median_secs,first_response_p90_secs,resolution_median_secs,resolution_p90_secs,sla_measured,sla_met,sla_hit_rate,reopened,reopen_rate,csat_responses,csat\n");
    let mut w = csv::Writer::from_writer(Vec::new());
    for (group, rows) in [
        ("channel", &report.by_channel),
        ("team", &report.by_team),
        ("agent", &report.by_agent),
    ] {
        for r in rows {
            let s = &r.stats;
            let _ = w.write_record([
                group.to_string(),
                r.name.clone().unwrap_or_default(),
                s.conversations.to_string(),
                s.resolved.to_string(),
                s.still_open.to_string(),
                cell(s.first_response_median_secs),
                cell(s.first_response_p90_secs),
                cell(s.resolution_median_secs),
                cell(s.resolution_p90_secs),
                s.sla_measured.to_string(),
                s.sla_met.to_string(),
                share(s.sla_hit_rate),
                s.reopened.to_string(),
                share(s.reopen_rate),
                s.csat_responses.to_string(),
                share(s.csat),
            ]);
        }
    }
    out.push_str(&String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fact(id: i64, created: i64, reply: Option<i64>, resolved: Option<i64>) -> ConversationFacts {
        ConversationFacts {
            id,
            channel: ConversationChannel::Email,
            status: if resolved.is_some() {
                ConversationStatus::Resolved
            } else {
                ConversationStatus::Open
            },
            team_id: None,
            assignee_id: Some(id % 2),
            created_at: created,
            first_reply_at: reply,
            resolved_at: resolved,
            sla_policy_id: Some(1),
            reopens: 0,
            breaches: 0,
            csat: None,
        }
    }

    #[test]
    fn exact_quantiles_rates_and_groups() {
        // First replies after 1..=10 minutes; the odd ones resolved an hour in.
        let mut facts: Vec<ConversationFacts> = (1..=10)
            .map(|i| fact(i, 0, Some(i * 60_000), (i % 2 == 1).then_some(3_600_000)))
            .collect();
        facts[0].breaches = 2;
        facts[2].reopens = 1;
        facts[3].sla_policy_id = None;
        facts[0].csat = Some(5);
        facts[1].csat = Some(2);
        let r = compute(&facts, 0, 1, &jiff::tz::TimeZone::UTC);
        let s = &r.overall;
        assert_eq!(s.conversations, 10);
        assert_eq!(s.first_response_median_secs, Some(300));
        assert_eq!(s.first_response_p90_secs, Some(540));
        assert_eq!(s.resolution_median_secs, Some(3600));
        assert_eq!((s.resolved, s.still_open), (5, 5));
        assert_eq!((s.sla_measured, s.sla_met), (9, 8));
        assert_eq!((s.reopened, s.reopen_rate), (1, Some(0.2)));
        assert_eq!((s.csat_responses, s.csat), (2, Some(0.5)));
        assert_eq!(r.by_agent.len(), 2);
        assert_eq!(
            r.by_agent
                .iter()
                .map(|g| g.stats.conversations)
                .sum::<u64>(),
            10
        );
        assert_eq!(
            r.daily,
            vec![DayVolume {
                day: "1970-01-01".into(),
                by_channel: vec![10, 0, 0, 0]
            }]
        );
        let empty = compute(&[], 0, 1, &jiff::tz::TimeZone::UTC);
        assert_eq!(empty.overall.first_response_median_secs, None);
        assert_eq!(empty.overall.sla_hit_rate, None);
        let table = csv(&r);
        assert!(table.starts_with('\u{feff}'));
        assert_eq!(table.lines().count(), 1 + 1 + 1 + 2, "{table}");
        assert!(table.contains("agent,1,5,"), "{table}");
    }

    #[test]
    fn quantile_is_nearest_rank() {
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[7], 0.9), Some(7));
        assert_eq!(quantile(&[1, 2, 3, 4], 0.5), Some(2));
        assert_eq!(quantile(&[1, 2, 3, 4], 0.9), Some(4));
    }
}
