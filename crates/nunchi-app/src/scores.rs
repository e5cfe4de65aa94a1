//! CX scores over the feedback stream: NPS, CSAT and CES (the analytics engine's
//! definitions) by period and by channel, touchpoint, journey stage or team, for everyone,
//! a segment or known customers only; and the perception gap (what the team expects of a
//! touchpoint against what customers say). The API and the VoC page both read these.

use nunchi_core::feedback::Source;
use std::collections::HashMap;

use nunchi_analytics::retention::Period;
use nunchi_analytics::scores::{self, Answer, Metric, Score, Tally};
use nunchi_core::time::Millis;
use nunchi_store::model::MetricRating;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::{App, Error, Result};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ScoresQuery {
    /// nps, csat or ces (eNPS is nps over employee pulse answers).
    pub metric: String,
    /// day or week (default week, Monday to Sunday in Korean time).
    pub period: Option<String>,
    /// none (default), channel, touchpoint, stage, team, segment (every saved segment) or
    /// persona (every persona's segment); a customer in several segments counts in each.
    pub by: Option<String>,
    /// Start, inclusive: RFC 3339, a date, or Unix seconds; 90 days ago by default.
    pub from: Option<String>,
    /// End, exclusive; now by default.
    pub to: Option<String>,
    /// customers (default) or employees (pulse surveys: eNPS).
    pub audience: Option<String>,
    /// Only customers with this tag (e.g. vip).
    pub tag: Option<String>,
    /// Only the members of this saved segment (with `tag` too: those in both).
    #[serde(default, deserialize_with = "crate::analysis::segment_id")]
    pub segment: Option<i64>,
    /// all (default) or known: only answers from a known customer, leaving out anonymous
    /// survey-link and widget answers and unattributed reviews.
    pub respondents: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScorePoint {
    /// When the period starts, RFC 3339.
    pub period_start: String,
    /// The group's name (channel) or id (touchpoint, stage, team); `null` where none applies.
    pub group: Option<String>,
    #[schema(value_type = Object)]
    pub score: Score,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScoresReport {
    pub metric: String,
    pub period: String,
    pub by: String,
    /// The whole range; `null` without answers.
    #[schema(value_type = Object)]
    pub overall: Option<Score>,
    /// Per group over the whole range.
    pub groups: Vec<ScorePoint>,
    pub series: Vec<ScorePoint>,
    /// Of the answers in `overall`, how many came from no known customer (anonymous
    /// survey-link and widget answers, unattributed reviews); `respondents=known` leaves
    /// them out.
    pub anonymous: u64,
}

/// How to group a score report, with the answers it covers.
#[derive(Debug, Clone, Copy)]
pub struct ScoreSpec {
    pub metric: Metric,
    pub period: Period,
    pub by: By,
    /// Employee pulse answers (eNPS) instead of customers'.
    pub employees: bool,
    /// Start of the range, Unix ms, for the per-group figures' label.
    pub from: i64,
    /// Days and weeks start at midnight at this offset from UTC (the brand's time zone).
    pub utc_offset_secs: i32,
}

/// What a score report is split by besides the period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum By {
    None,
    Channel,
    Touchpoint,
    Stage,
    Team,
}

impl By {
    pub fn parse(s: &str) -> Option<By> {
        Some(match s {
            "none" => By::None,
            "channel" => By::Channel,
            "touchpoint" => By::Touchpoint,
            "stage" => By::Stage,
            "team" => By::Team,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            By::None => "none",
            By::Channel => "channel",
            By::Touchpoint => "touchpoint",
            By::Stage => "stage",
            By::Team => "team",
        }
    }

    fn group_of(self, r: &MetricRating) -> Option<String> {
        match self {
            By::None => None,
            By::Channel => Some(r.channel.to_string()),
            By::Touchpoint => r.touchpoint_id.map(|v| v.to_string()),
            By::Stage => r.stage_id.map(|v| v.to_string()),
            By::Team => r.team_id.map(|v| v.to_string()),
        }
    }
}

/// A metric's score over the range, per group, and per period and group, as the API asks.
/// The customers with `tag` and in saved segment `segment`, when either is named.
pub async fn segment(
    state: &App,
    tag: Option<&str>,
    segment: Option<i64>,
) -> Result<Option<std::collections::HashSet<i64>>> {
    Ok(crate::segments::members_of(state, tag, segment)
        .await?
        .map(|ids| ids.into_iter().collect()))
}

/// Keeps the ratings of a segment's members (when one is named) and, with `known_only`,
/// only those from a known customer.
pub fn keep_respondents(
    ratings: &mut Vec<MetricRating>,
    members: Option<&std::collections::HashSet<i64>>,
    known_only: bool,
) {
    ratings.retain(|r| match (r.customer_id, members) {
        (Some(c), Some(m)) => m.contains(&c),
        (None, Some(_)) => false,
        (c, None) => c.is_some() || !known_only,
    });
}

pub async fn scores(state: &App, q: &ScoresQuery) -> Result<ScoresReport> {
    let metric = match Metric::parse(&q.metric) {
        Ok(m @ (Metric::Nps | Metric::Csat | Metric::Ces)) => m,
        _ => {
            return Err(Error::invalid(
                "invalid_metric",
                "metric is one of nps, csat, ces",
            ));
        }
    };
    let period = match q.period.as_deref().unwrap_or("week") {
        "week" => Period::Week,
        "day" => Period::Day,
        "month" => Period::Month,
        other => {
            return Err(Error::invalid(
                "invalid_period",
                format!("period is day, week or month, not {other:?}"),
            ));
        }
    };
    let by_text = q.by.as_deref().unwrap_or("none");
    let groups = crate::breakdowns::GroupKind::parse(by_text);
    let by = match groups {
        Some(_) => By::None,
        None => By::parse(by_text).ok_or_else(|| {
            Error::invalid(
                "invalid_by",
                "by is none, channel, touchpoint, stage, team, segment or persona",
            )
        })?,
    };
    let employees = match q.audience.as_deref().unwrap_or("customers") {
        "customers" => false,
        "employees" => true,
        other => {
            return Err(Error::invalid(
                "invalid_audience",
                format!("audience is customers or employees, not {other:?}"),
            ));
        }
    };
    let (from, to) = range_ms(state, q.from.as_deref(), q.to.as_deref())?;
    let mut ratings = state
        .store
        .metric_ratings(metric.as_str(), from, to)
        .await?;
    let known_only = match q.respondents.as_deref().unwrap_or("all") {
        "all" => false,
        "known" => true,
        other => {
            return Err(Error::invalid(
                "invalid_respondents",
                format!("respondents is all or known, not {other:?}"),
            ));
        }
    };
    let members = segment(state, q.tag.as_deref(), q.segment).await?;
    keep_respondents(&mut ratings, members.as_ref(), known_only);
    let spec = ScoreSpec {
        metric,
        period,
        by,
        employees,
        from,
        utc_offset_secs: state.utc_offset_secs(),
    };
    Ok(match groups {
        Some(kind) => {
            let groups = crate::breakdowns::groups(state, kind).await?;
            let mut split = crate::breakdowns::scores_by(&ratings, &spec, &groups);
            split.by = by_text.into();
            split
        }
        None => report(&ratings, &spec),
    })
}

/// Scores from ratings already read from the store (one metric's, over the range), so that
/// a page can group the same ratings several ways with one query.
pub fn report(ratings: &[MetricRating], spec: &ScoreSpec) -> ScoresReport {
    let metric = spec.metric;
    let mut groups: Vec<Option<String>> = Vec::new();
    let mut codes: HashMap<Option<String>, u16> = HashMap::new();
    let mut answers = Vec::with_capacity(ratings.len());
    let mut anonymous = 0;
    for r in ratings
        .iter()
        .filter(|r| (r.source == Source::Employee) == spec.employees)
    {
        anonymous += u64::from(r.customer_id.is_none());
        let group = spec.by.group_of(r);
        let next = groups.len() as u16;
        let key = *codes.entry(group.clone()).or_insert_with(|| {
            groups.push(group);
            next
        });
        answers.push(Answer {
            ts: (r.created_at.max(0) / 1000).min(u32::MAX as i64) as u32,
            key,
            value: r.rating.round().clamp(0.0, 10.0) as u8,
        });
    }
    let cells = scores::by_period(&answers, spec.period, spec.utc_offset_secs);
    let mut overall = Tally::default();
    let mut per_group = vec![Tally::default(); groups.len()];
    for ((_, key), t) in &cells {
        overall.merge(t);
        per_group[*key as usize].merge(t);
    }
    let start = |p: i64| Millis(spec.period.start(p, spec.utc_offset_secs) * 1000).to_rfc3339();
    let range_start = Millis(spec.from).to_rfc3339();
    ScoresReport {
        metric: metric.as_str().into(),
        period: match spec.period {
            Period::Week => "week".into(),
            Period::Day => "day".into(),
            Period::Month => "month".into(),
        },
        by: spec.by.as_str().into(),
        overall: overall.score(metric),
        groups: per_group
            .iter()
            .enumerate()
            .filter_map(|(k, t)| {
                t.score(metric).map(|score| ScorePoint {
                    period_start: range_start.clone(),
                    group: groups[k].clone(),
                    score,
                })
            })
            .collect(),
        series: cells
            .iter()
            .filter_map(|((p, key), t)| {
                t.score(metric).map(|score| ScorePoint {
                    period_start: start(*p),
                    group: groups[*key as usize].clone(),
                    score,
                })
            })
            .collect(),
        anonymous,
    }
}

/// One touchpoint's perception gap: what the team expects against what customers say.
#[derive(Debug, Serialize, ToSchema)]
pub struct GapRow {
    pub touchpoint_id: i64,
    pub name: String,
    pub stage_id: Option<i64>,
    /// The team's expected rating, 1–5.
    pub expected: f64,
    /// Customers' ratings of it, normalised and put on the same 1–5 scale.
    pub customers: f64,
    pub responses: i64,
    /// `expected − customers`: positive where the team thinks better of it than customers do.
    pub gap: f64,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// Start, inclusive: RFC 3339, a date, or Unix seconds; 90 days before `to` by default.
    pub from: Option<String>,
    /// End, exclusive; now by default.
    pub to: Option<String>,
}

/// A `[from, to)` range in Unix ms from optional query values: `to` defaults to now and
/// `from` to 90 days before `to`.
pub fn range_ms(app: &App, from: Option<&str>, to: Option<&str>) -> Result<(i64, i64)> {
    let when = |field: &str, v: Option<&str>| -> Result<Option<i64>> {
        match v.map(str::trim).filter(|s| !s.is_empty()) {
            None => Ok(None),
            Some(t) => Millis::parse(t)
                .map(|m| Some(m.0))
                .map_err(|e| Error::invalid(&format!("invalid_{field}"), e.to_string())),
        }
    };
    let to = when("to", to)?.unwrap_or(app.now() + 1);
    let from = when("from", from)?.unwrap_or(to - 90 * 86_400_000);
    Ok((from, to))
}

/// Touchpoints with an expected rating and customer ratings in `[from, to)` (Unix ms),
/// the biggest gap first.
pub async fn perception_gap(state: &App, from: i64, to: i64) -> Result<Vec<GapRow>> {
    let touchpoints = state.store.touchpoints().await?;
    let mut rows: Vec<GapRow> = state
        .store
        .touchpoint_signals(from, to)
        .await?
        .into_iter()
        .filter(|s| s.scores > 0)
        .filter_map(|s| {
            let t = touchpoints.iter().find(|t| t.id == s.touchpoint_id)?;
            let expected = t.expected_rating?;
            let customers = 1.0 + 4.0 * s.score_sum / s.scores as f64;
            Some(GapRow {
                touchpoint_id: t.id,
                name: t.name.clone(),
                stage_id: t.stage_id,
                expected,
                customers,
                responses: s.scores,
                gap: expected - customers,
            })
        })
        .collect();
    rows.sort_by(|a, b| b.gap.total_cmp(&a.gap));
    Ok(rows)
}

/// Most weeks a weekly series is filled out to: a range of years would be too many points
/// to read.
pub const MAX_WEEKS: i64 = 104;

/// Every week of `[from, to)` (Unix ms) up to the current one, in the brand's offset:
/// each week's start (Unix seconds) with its point from `series`, `None` for a week
/// without answers, so a chart never joins across empty weeks. The most recent
/// [`MAX_WEEKS`] when the range is longer.
pub fn every_week(
    series: &[ScorePoint],
    from: i64,
    to: i64,
    now: i64,
    utc_offset_secs: i32,
) -> Vec<(i64, Option<&ScorePoint>)> {
    let secs = |ms: i64| ms.div_euclid(1000).clamp(0, u32::MAX as i64) as u32;
    let first = Period::Week.index(secs(from), utc_offset_secs);
    // Weeks that have not begun hold nothing: the series ends at the current week.
    let last = Period::Week
        .index(secs(to.min(now + 1) - 1), utc_offset_secs)
        .max(first);
    let first = first.max(last - (MAX_WEEKS - 1));
    (first..=last)
        .map(|week| {
            let start = Period::Week.start(week, utc_offset_secs);
            let point = series.iter().find(|p| {
                Millis::parse(&p.period_start).is_ok_and(|m| m.0.div_euclid(1000) == start)
            });
            (start, point)
        })
        .collect()
}
