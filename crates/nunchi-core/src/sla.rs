//! Service-level rules of the support desk, with Zendesk's semantics: first response runs
//! from a conversation's start to the team's first reply; next response from a customer's
//! message (after the team has replied once) to the next reply, reset by each reply;
//! resolution from the start to resolved, paused while the conversation waits on the
//! customer (pending). Clocks run in working minutes of the policy's `BusinessHours`.
//! Pure: the caller stores the deadlines and checks them at their due time.

use crate::{business_hours::BusinessHours, conversation::ConversationStatus};

crate::named_enum! {
    /// What an SLA measures.
    pub enum SlaMetric("SLA metric") {
        FirstResponse = "first_response",
        NextResponse = "next_response",
        Resolution = "resolution",
    }
}

/// A policy's targets in working minutes; `None` is not measured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Targets {
    pub first_response: Option<i64>,
    pub next_response: Option<i64>,
    pub resolution: Option<i64>,
}

/// The deadlines a conversation is held to now (ms), and the resolution clock's working
/// minutes left while it is paused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Deadlines {
    pub first_response: Option<i64>,
    pub next_response: Option<i64>,
    pub resolution: Option<i64>,
    pub resolution_left: Option<i64>,
}

impl Deadlines {
    pub fn due(&self, metric: SlaMetric) -> Option<i64> {
        match metric {
            SlaMetric::FirstResponse => self.first_response,
            SlaMetric::NextResponse => self.next_response,
            SlaMetric::Resolution => self.resolution,
        }
    }
}

/// What happened to a conversation, at a time (ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaEvent {
    Opened {
        at: i64,
    },
    /// A customer's message; `replied_before`: the team had answered at least once.
    Incoming {
        at: i64,
        replied_before: bool,
    },
    /// A reply to the customer (notes do not count).
    Reply {
        at: i64,
    },
    Status {
        from: ConversationStatus,
        to: ConversationStatus,
        at: i64,
    },
}

/// The new deadlines after `event`, and the deadlines it shows were missed (metric and due
/// time): a reply after its due time, or resolving after the resolution deadline.
pub fn apply(
    d: Deadlines,
    targets: &Targets,
    hours: &BusinessHours,
    event: SlaEvent,
) -> (Deadlines, Vec<(SlaMetric, i64)>) {
    let mut d = d;
    let mut missed = Vec::new();
    let due_after = |at: i64, minutes: Option<i64>| minutes.map(|m| hours.add_minutes(at, m));
    match event {
        SlaEvent::Opened { at } => {
            d.first_response = due_after(at, targets.first_response);
            d.resolution = due_after(at, targets.resolution);
            d.next_response = None;
            d.resolution_left = None;
        }
        SlaEvent::Incoming { at, replied_before } => {
            if replied_before && d.next_response.is_none() {
                d.next_response = due_after(at, targets.next_response);
            }
        }
        SlaEvent::Reply { at } => {
            for (metric, due) in [
                (SlaMetric::FirstResponse, d.first_response),
                (SlaMetric::NextResponse, d.next_response),
            ] {
                if let Some(due) = due.filter(|due| at > *due) {
                    missed.push((metric, due));
                }
            }
            d.first_response = None;
            d.next_response = None;
        }
        SlaEvent::Status { from, to, at } => {
            use ConversationStatus::*;
            match (from, to) {
                (a, b) if a == b => {}
                (_, Resolved) => {
                    if let Some(due) = d.resolution.filter(|due| at > *due) {
                        missed.push((SlaMetric::Resolution, due));
                    }
                    d = Deadlines::default();
                }
                (_, Pending) => {
                    if let Some(due) = d.resolution.take() {
                        d.resolution_left = Some(hours.minutes_between(at, due));
                    }
                }
                (Pending, _) => {
                    if let Some(left) = d.resolution_left.take() {
                        d.resolution = Some(hours.add_minutes(at, left));
                    }
                }
                (Resolved, _) => {
                    d.resolution = due_after(at, targets.resolution);
                }
                _ => {}
            }
        }
    }
    (d, missed)
}

/// How closely a policy scoped to (`team`, `priority`) fits a conversation: `None` when it
/// does not apply; higher is more specific (team and priority, then team, then priority,
/// then a catch-all).
pub fn specificity<P: PartialEq>(
    policy_team: Option<i64>,
    policy_priority: Option<P>,
    team: Option<i64>,
    priority: P,
) -> Option<u8> {
    let team_fits = match policy_team {
        None => Some(0),
        Some(t) if Some(t) == team => Some(2),
        Some(_) => None,
    }?;
    let priority_fits = match policy_priority {
        None => Some(0),
        Some(p) if p == priority => Some(1),
        Some(_) => None,
    }?;
    Some(team_fits + priority_fits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ConversationStatus::*;

    fn at(s: &str) -> i64 {
        s.parse::<jiff::Zoned>()
            .unwrap()
            .timestamp()
            .as_millisecond()
    }

    fn hours() -> BusinessHours {
        BusinessHours::parse("Asia/Seoul", "mon-fri 09:00-17:00", &[], false).unwrap()
    }

    const TARGETS: Targets = Targets {
        first_response: Some(60),
        next_response: Some(120),
        resolution: Some(8 * 60),
    };

    #[test]
    fn first_reply_clock_and_a_late_reply_is_missed() {
        let h = hours();
        let opened = at("2026-11-27T16:30:00+09:00[Asia/Seoul]");
        let (d, _) = apply(
            Deadlines::default(),
            &TARGETS,
            &h,
            SlaEvent::Opened { at: opened },
        );
        assert_eq!(
            d.first_response,
            Some(at("2026-11-30T09:30:00+09:00[Asia/Seoul]"))
        );
        assert_eq!(
            d.resolution,
            Some(at("2026-11-30T16:30:00+09:00[Asia/Seoul]"))
        );
        let late = at("2026-11-30T10:00:00+09:00[Asia/Seoul]");
        let (d2, missed) = apply(d, &TARGETS, &h, SlaEvent::Reply { at: late });
        assert_eq!(
            missed,
            vec![(SlaMetric::FirstResponse, d.first_response.unwrap())]
        );
        assert_eq!(d2.first_response, None);
        let (_, on_time) = apply(
            d,
            &TARGETS,
            &h,
            SlaEvent::Reply {
                at: opened + 60_000,
            },
        );
        assert!(on_time.is_empty());
    }

    #[test]
    fn next_reply_resets_on_each_reply() {
        let h = hours();
        let t0 = at("2026-11-30T10:00:00+09:00[Asia/Seoul]");
        let d = Deadlines::default();
        let (d, _) = apply(
            d,
            &TARGETS,
            &h,
            SlaEvent::Incoming {
                at: t0,
                replied_before: false,
            },
        );
        assert_eq!(
            d.next_response, None,
            "before any reply only the first-response clock runs"
        );
        let (d, _) = apply(
            d,
            &TARGETS,
            &h,
            SlaEvent::Incoming {
                at: t0,
                replied_before: true,
            },
        );
        assert_eq!(d.next_response, Some(t0 + 120 * 60_000));
        // A second customer message does not move the clock the first one started.
        let (d2, _) = apply(
            d,
            &TARGETS,
            &h,
            SlaEvent::Incoming {
                at: t0 + 60_000,
                replied_before: true,
            },
        );
        assert_eq!(d2.next_response, d.next_response);
        let (d3, _) = apply(
            d2,
            &TARGETS,
            &h,
            SlaEvent::Reply {
                at: t0 + 5 * 60_000,
            },
        );
        assert_eq!(d3.next_response, None);
    }

    #[test]
    fn pending_pauses_resolution_and_resolving_late_is_missed() {
        let h = hours();
        let t0 = at("2026-11-30T09:00:00+09:00[Asia/Seoul]");
        let (d, _) = apply(
            Deadlines::default(),
            &TARGETS,
            &h,
            SlaEvent::Opened { at: t0 },
        );
        // Waiting on the customer from 11:00 (6 working hours left) for two days.
        let (paused, _) = apply(
            d,
            &TARGETS,
            &h,
            SlaEvent::Status {
                from: Open,
                to: Pending,
                at: t0 + 2 * 3_600_000,
            },
        );
        assert_eq!(paused.resolution, None);
        assert_eq!(paused.resolution_left, Some(6 * 60));
        let back = at("2026-12-02T09:00:00+09:00[Asia/Seoul]");
        let (resumed, _) = apply(
            paused,
            &TARGETS,
            &h,
            SlaEvent::Status {
                from: Pending,
                to: Open,
                at: back,
            },
        );
        assert_eq!(
            resumed.resolution,
            Some(at("2026-12-02T15:00:00+09:00[Asia/Seoul]"))
        );
        let (done, missed) = apply(
            resumed,
            &TARGETS,
            &h,
            SlaEvent::Status {
                from: Open,
                to: Resolved,
                at: back + 7 * 3_600_000,
            },
        );
        assert_eq!(
            missed,
            vec![(SlaMetric::Resolution, resumed.resolution.unwrap())]
        );
        assert_eq!(done, Deadlines::default());
        let (reopened, _) = apply(
            done,
            &TARGETS,
            &h,
            SlaEvent::Status {
                from: Resolved,
                to: Open,
                at: back,
            },
        );
        assert!(reopened.resolution.is_some());
    }

    #[test]
    fn the_most_specific_policy_fits() {
        assert_eq!(specificity(None, None::<u8>, Some(3), 1), Some(0));
        assert_eq!(specificity(None, Some(1), Some(3), 1), Some(1));
        assert_eq!(specificity(Some(3), None, Some(3), 1), Some(2));
        assert_eq!(specificity(Some(3), Some(1), Some(3), 1), Some(3));
        assert_eq!(specificity(Some(4), None::<u8>, Some(3), 1), None);
        assert_eq!(specificity(None, Some(2), Some(3), 1), None);
        assert_eq!(specificity(Some(3), None::<u8>, None, 1), None);
    }
}
