//! Retention by cohort over the live engine, for the API and the pages: who came back in
//! each period after the one they started in, periods not yet begun left unknown, and —
//! with a breakdown — one pooled curve per saved segment or persona.

use nunchi_analytics::retention::{self, Period, RetentionSpec};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::analysis::{Filter, ratio, resolve, with_engine};
use crate::events::engine::Engine;
use crate::{App, Error, Result};

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RetentionParams {
    /// `day`, `week` (default) or `month` (calendar months).
    pub period: Option<String>,
    /// Periods after the cohort's own (default 8, at most 52).
    pub periods: Option<usize>,
    /// Cohort by the first event of this name (e.g. purchase) instead of any event.
    pub cohort_event: Option<String>,
    /// Only this event counts as coming back.
    pub return_event: Option<String>,
    /// Hours east of UTC for period boundaries (default 9, Korea).
    pub utc_offset: Option<i32>,
    /// `segment` or `persona`: besides the cohorts, one retention curve per saved segment
    /// or persona (a customer in several counts in each).
    pub breakdown: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CohortRow {
    /// The period's first day, local time.
    pub start: String,
    /// Customers in the cohort.
    pub size: u64,
    /// Per period after the cohort's own (index 0 is the cohort's period): members who
    /// came back; `null` for a period that has not begun yet (as of now, or the range's
    /// end), which is unknown rather than 0.
    pub returned: Vec<Option<u64>>,
    /// `returned` as shares of `size`, `null` likewise.
    pub rates: Vec<Option<f64>>,
}

/// One group's retention over all its cohorts: of the members whose period k has begun,
/// the share who came back in it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GroupRetention {
    pub label: String,
    /// Members in any cohort.
    pub customers: u64,
    pub rates: Vec<Option<f64>>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RetentionView {
    /// `day`, `week` or `month`: the unit of the cohorts and of the periods after them.
    pub period: String,
    pub cohorts: Vec<CohortRow>,
    /// Per segment or persona when a breakdown is asked, largest first.
    pub groups: Vec<GroupRetention>,
}

/// Cohort rows pooled: per period, returned over the sizes of the cohorts it has begun for.
fn pooled(label: String, rows: &[CohortRow]) -> GroupRetention {
    let periods = rows.iter().map(|r| r.returned.len()).max().unwrap_or(0);
    GroupRetention {
        label,
        customers: rows.iter().map(|r| r.size).sum(),
        rates: (0..periods)
            .map(|k| {
                let (mut back, mut of) = (0, 0);
                for r in rows {
                    if let Some(Some(n)) = r.returned.get(k) {
                        back += n;
                        of += r.size;
                    }
                }
                (of > 0).then(|| ratio(back, of))
            })
            .collect(),
    }
}

fn event_code(engine: &Engine, name: Option<&str>) -> Result<Option<u16>, String> {
    match name.map(str::trim).filter(|n| !n.is_empty()) {
        None => Ok(None),
        Some(n) => engine
            .log
            .names
            .code(n)
            .map(Some)
            .ok_or_else(|| format!("no events named {n:?} yet")),
    }
}

pub async fn retention(state: &App, filter: &Filter, p: &RetentionParams) -> Result<RetentionView> {
    let period = match p.period.as_deref().map(str::trim).unwrap_or("week") {
        "day" => Period::Day,
        "" | "week" => Period::Week,
        "month" => Period::Month,
        other => {
            return Err(Error::invalid(
                "invalid_period",
                format!("period {other:?}: use day, week or month"),
            ));
        }
    };
    let periods = p.periods.unwrap_or(8);
    if periods > 52 {
        return Err(Error::invalid("invalid_periods", "at most 52 periods"));
    }
    let offset = p.utc_offset.unwrap_or(9);
    if !(-12..=14).contains(&offset) {
        return Err(Error::invalid(
            "invalid_utc_offset",
            "utc_offset is hours from -12 to 14",
        ));
    }
    let resolved = resolve(state, filter).await?;
    let groups = match p
        .breakdown
        .as_deref()
        .map(str::trim)
        .filter(|b| !b.is_empty())
    {
        None => Vec::new(),
        Some(b) => {
            let kind = crate::breakdowns::GroupKind::parse(b).ok_or_else(|| {
                Error::invalid(
                    "invalid_breakdown",
                    format!("breakdown is segment or persona, not {b:?}"),
                )
            })?;
            crate::breakdowns::groups(state, kind).await?
        }
    };
    // Periods that begin after this have not happened: now, or the end of the range asked.
    let now = (state.now() / 1000).clamp(0, u32::MAX as i64);
    let as_of = resolved.to.map_or(now, |to| (to as i64).min(now));
    let p = p.clone();
    with_engine(state, move |engine| {
        let spec = RetentionSpec {
            period,
            cohort_event: event_code(engine, p.cohort_event.as_deref())?,
            return_event: event_code(engine, p.return_event.as_deref())?,
            periods: periods + 1,
            utc_offset_secs: offset * 3_600,
        };
        let rows_of = |members: Option<&[i64]>| -> Result<Vec<CohortRow>, String> {
            let set = members.map(|m| engine.slots_of(m));
            let cohorts = retention::retention(&engine.log, resolved.scope(set.as_ref()), &spec)
                .map_err(|e| e.to_string())?;
            Ok(cohort_rows(cohorts, period, spec.utc_offset_secs, as_of))
        };
        let rows = rows_of(resolved.members.as_deref())?;
        let mut pooled_groups = Vec::new();
        for g in &groups {
            let mut ids: Vec<i64> = g
                .members
                .iter()
                .copied()
                .filter(|c| {
                    resolved
                        .members
                        .as_ref()
                        .is_none_or(|m| m.binary_search(c).is_ok())
                })
                .collect();
            ids.sort_unstable();
            pooled_groups.push(pooled(g.name.clone(), &rows_of(Some(&ids))?));
        }
        Ok::<_, String>(RetentionView {
            period: format!("{period:?}").to_lowercase(),
            cohorts: rows,
            groups: pooled_groups,
        })
    })
    .await?
    .map_err(|e| Error::invalid("invalid_event", e))
}

/// The engine's cohorts as rows: local start dates, and periods not begun by `as_of` as
/// unknown rather than 0.
fn cohort_rows(
    cohorts: Vec<retention::Cohort>,
    period: Period,
    utc_offset_secs: i32,
    as_of: i64,
) -> Vec<CohortRow> {
    let spec_offset = utc_offset_secs;
    cohorts
        .into_iter()
        .map(|c| {
            let local = period.start(c.index, spec_offset) + spec_offset as i64;
            CohortRow {
                start: jiff::Timestamp::from_second(local)
                    .map(|t| t.strftime("%Y-%m-%d").to_string())
                    .unwrap_or_default(),
                returned: c
                    .returned
                    .iter()
                    .enumerate()
                    .map(|(k, &n)| {
                        let begins = period.start(c.index + k as i64, spec_offset);
                        (begins < as_of).then_some(n)
                    })
                    .collect(),
                rates: Vec::new(),
                size: c.size,
            }
        })
        .map(|mut row: CohortRow| {
            row.rates = row
                .returned
                .iter()
                .map(|n| n.map(|n| ratio(n, row.size)))
                .collect();
            row
        })
        .collect()
}
