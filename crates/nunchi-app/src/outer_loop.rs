//! The closed loop's reports: per owner and per team, how many follow-ups opened and
//! closed, the closed-loop rate, the median time to close and what is overdue; and the
//! outer loop's suggestions — topics that recent negative feedback keeps mentioning, not
//! yet tracked as a root cause.

use std::collections::{BTreeMap, HashMap};

use nunchi_core::feedback::Source;
use nunchi_core::status::{FollowUpStatus, RootCauseStatus};
use nunchi_store::model::{Feedback, FollowUp, RootCause, Team, User};
use serde::Serialize;
use utoipa::ToSchema;

/// One owner's or team's closed loop.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LoopStats {
    pub opened: u64,
    pub closed: u64,
    /// closed / opened.
    pub closed_loop_rate: f64,
    /// Median hours from opening to closing, over the closed ones.
    pub median_hours_to_close: Option<f64>,
    /// Open and past their due time.
    pub overdue: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OwnerLoop {
    /// `null` for follow-ups without an owner.
    pub owner_id: Option<i64>,
    pub owner: Option<String>,
    pub team_id: Option<i64>,
    #[serde(flatten)]
    pub stats: LoopStats,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TeamLoop {
    /// `null`: owners in no team, and follow-ups without an owner.
    pub team_id: Option<i64>,
    pub team: Option<String>,
    #[serde(flatten)]
    pub stats: LoopStats,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LoopReport {
    pub owners: Vec<OwnerLoop>,
    pub teams: Vec<TeamLoop>,
}

fn stats(items: &[&FollowUp], now: i64) -> LoopStats {
    let mut hours: Vec<f64> = items
        .iter()
        .filter_map(|f| f.closed_at.map(|c| (c - f.created_at) as f64 / 3_600_000.0))
        .collect();
    hours.sort_by(f64::total_cmp);
    let closed = hours.len() as u64;
    let median = match hours.len() {
        0 => None,
        n if n % 2 == 1 => Some(hours[n / 2]),
        n => Some((hours[n / 2 - 1] + hours[n / 2]) / 2.0),
    };
    LoopStats {
        opened: items.len() as u64,
        closed,
        closed_loop_rate: if items.is_empty() {
            0.0
        } else {
            closed as f64 / items.len() as f64
        },
        median_hours_to_close: median,
        overdue: items
            .iter()
            .filter(|f| f.status == FollowUpStatus::Open && f.due_at < now)
            .count() as u64,
    }
}

/// The report over these follow-ups; an owner's team is the one they are in now.
pub fn report(follow_ups: &[FollowUp], users: &[User], teams: &[Team], now: i64) -> LoopReport {
    let user: HashMap<i64, &User> = users.iter().map(|u| (u.id, u)).collect();
    let team_name: HashMap<i64, &str> = teams.iter().map(|t| (t.id, t.name.as_str())).collect();
    let team_of = |owner: Option<i64>| owner.and_then(|o| user.get(&o).and_then(|u| u.team_id));
    let mut by_owner: BTreeMap<Option<i64>, Vec<&FollowUp>> = BTreeMap::new();
    let mut by_team: BTreeMap<Option<i64>, Vec<&FollowUp>> = BTreeMap::new();
    for f in follow_ups {
        by_owner.entry(f.owner_id).or_default().push(f);
        by_team.entry(team_of(f.owner_id)).or_default().push(f);
    }
    LoopReport {
        owners: by_owner
            .into_iter()
            .map(|(owner_id, items)| OwnerLoop {
                owner_id,
                owner: owner_id.and_then(|o| user.get(&o).map(|u| u.name.clone())),
                team_id: team_of(owner_id),
                stats: stats(&items, now),
            })
            .collect(),
        teams: by_team
            .into_iter()
            .map(|(team_id, items)| TeamLoop {
                team_id,
                team: team_id.and_then(|t| team_name.get(&t).map(|n| n.to_string())),
                stats: stats(&items, now),
            })
            .collect(),
    }
}

/// A topic that negative feedback keeps mentioning.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TopicSuggestion {
    pub topic: String,
    pub label_ko: String,
    pub label_en: String,
    /// Negative feedback mentioning it.
    pub negative: u64,
    /// Distinct customers among them.
    pub customers: u64,
    /// Open follow-ups on that feedback.
    pub open_follow_ups: u64,
}

/// Whether feedback counts against a root cause (`nunchi_core::feedback::is_negative`, the
/// rule the store applies when it groups feedback under one).
pub fn is_negative(f: &Feedback) -> bool {
    nunchi_core::feedback::is_negative(f.sentiment_label.as_deref(), f.score)
}

/// Topics of negative customer feedback, most mentioned first, leaving out those an open
/// root cause already tracks.
pub fn suggestions(
    feedback: &[Feedback],
    open_follow_ups: &[FollowUp],
    tracked: &[RootCause],
) -> Vec<TopicSuggestion> {
    let open: HashMap<i64, u64> = open_follow_ups
        .iter()
        .filter(|f| f.status == FollowUpStatus::Open)
        .fold(HashMap::new(), |mut m, f| {
            *m.entry(f.feedback_id).or_default() += 1;
            m
        });
    let mut by_topic: BTreeMap<String, (TopicSuggestion, Vec<i64>)> = BTreeMap::new();
    for f in feedback
        .iter()
        .filter(|f| f.source != Source::Employee && is_negative(f))
    {
        for t in crate::feedback::topics_of(f) {
            let key = t.topic.as_str();
            if tracked
                .iter()
                .any(|r| r.status == RootCauseStatus::Open && r.topic == key)
            {
                continue;
            }
            let label = |l: &str| {
                if l.is_empty() {
                    key.to_string()
                } else {
                    l.to_string()
                }
            };
            let (s, customers) = by_topic.entry(key.to_string()).or_insert_with(|| {
                (
                    TopicSuggestion {
                        topic: key.into(),
                        label_ko: label(&t.ko),
                        label_en: label(&t.en),
                        negative: 0,
                        customers: 0,
                        open_follow_ups: 0,
                    },
                    Vec::new(),
                )
            });
            s.negative += 1;
            s.open_follow_ups += open.get(&f.id).copied().unwrap_or(0);
            if let Some(c) = f.customer_id
                && !customers.contains(&c)
            {
                customers.push(c);
                s.customers += 1;
            }
        }
    }
    let mut out: Vec<TopicSuggestion> = by_topic.into_values().map(|(s, _)| s).collect();
    out.sort_by(|a, b| b.negative.cmp(&a.negative).then(a.topic.cmp(&b.topic)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn follow_up(
        id: i64,
        owner: Option<i64>,
        created: i64,
        closed: Option<i64>,
        due: i64,
    ) -> FollowUp {
        FollowUp {
            id,
            feedback_id: id,
            rule_id: Some(1),
            rule_ids: vec![1],
            owner_id: owner,
            status: if closed.is_some() {
                FollowUpStatus::Closed
            } else {
                FollowUpStatus::Open
            },
            due_at: due,
            created_at: created,
            closed_at: closed,
            resolution: None,
            conversation_id: None,
        }
    }

    fn user(id: i64, team: Option<i64>) -> User {
        User {
            id,
            email: format!("u{id}@example.com"),
            name: format!("User {id}"),
            password_hash: String::new(),
            role: nunchi_core::access::Role::Agent,
            locale: "ko".into(),
            team_id: team,
            failed_logins: 0,
            locked_until: 0,
            disabled: false,
            created_at: 0,
        }
    }

    #[test]
    fn owners_and_teams_get_their_rate_median_and_overdue() {
        const H: i64 = 3_600_000;
        let items = vec![
            follow_up(1, Some(1), 0, Some(2 * H), 24 * H),
            follow_up(2, Some(1), 0, Some(4 * H), 24 * H),
            follow_up(3, Some(2), 0, None, 10 * H),
            follow_up(4, None, 0, None, 100 * H),
        ];
        let teams = vec![Team {
            id: 7,
            name: "CS".into(),
            created_at: 0,
        }];
        let r = report(
            &items,
            &[user(1, Some(7)), user(2, Some(7))],
            &teams,
            20 * H,
        );
        let one = r.owners.iter().find(|o| o.owner_id == Some(1)).unwrap();
        assert_eq!((one.stats.opened, one.stats.closed), (2, 2));
        assert_eq!(one.stats.median_hours_to_close, Some(3.0));
        let two = r.owners.iter().find(|o| o.owner_id == Some(2)).unwrap();
        assert_eq!((two.stats.closed_loop_rate, two.stats.overdue), (0.0, 1));
        let cs = r.teams.iter().find(|t| t.team_id == Some(7)).unwrap();
        assert_eq!(cs.team.as_deref(), Some("CS"));
        assert_eq!(
            (cs.stats.opened, cs.stats.closed, cs.stats.overdue),
            (3, 2, 1)
        );
        assert!((cs.stats.closed_loop_rate - 2.0 / 3.0).abs() < 1e-9);
        let none = r.teams.iter().find(|t| t.team_id.is_none()).unwrap();
        assert_eq!((none.stats.opened, none.stats.overdue), (1, 0));
    }
}
