//! Analyses over the live engine, shared by the API and the UI: funnels, paths, retention
//! (in `retention_report`), the post-purchase template and the journey map's stage metrics. Parameters arrive as
//! text (query strings, forms) and are validated here; the scans run on a blocking thread
//! under the engine's read lock.

use nunchi_analytics::duration::{self, DurationSummary};
use nunchi_analytics::funnel::{self, Breakdown, FunnelSpec, NO_VALUE};
use nunchi_analytics::journey::{self, Pain, StageMap};
use nunchi_analytics::log::{CustomerSet, Scope};
use nunchi_analytics::paths::{self, Direction};
use nunchi_core::channel::Channel;
use nunchi_core::time::Millis;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub use crate::retention_report::{
    CohortRow, GroupRetention, RetentionParams, RetentionView, retention,
};
use crate::{
    App,
    error::{Error, Result},
    events::engine::Engine,
};

/// Most steps a funnel may have (ClickHouse allows 32; ours has no hard limit, this only
/// keeps a URL sane).
pub const MAX_STEPS: usize = 64;

/// The time range and segment every analysis takes.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Filter {
    /// Start, inclusive: a date (`2026-08-01`), RFC 3339, or Unix seconds.
    pub from: Option<String>,
    /// End, exclusive.
    pub to: Option<String>,
    /// Only customers with this tag.
    pub tag: Option<String>,
    /// Only the members of this saved segment (with `tag` too: those in both).
    #[serde(default, deserialize_with = "segment_id")]
    #[param(value_type = Option<i64>)]
    pub segment: Option<i64>,
}

/// A segment id from a query string, where a form's empty choice (`segment=`) means none.
pub fn segment_id<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<i64>, D::Error> {
    let text: Option<String> = Option::deserialize(d)?;
    match text.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => t
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("segment {t:?} is not a segment id"))),
    }
}

fn secs(field: &str, text: Option<&str>) -> Result<Option<u32>> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => {
            let ms = Millis::parse(t).map_err(|_| {
                Error::invalid(
                    &format!("invalid_{field}"),
                    format!("{field} {t:?} is not a date"),
                )
            })?;
            Ok(Some(ms.0.div_euclid(1000).clamp(0, u32::MAX as i64) as u32))
        }
    }
}

/// The filter resolved: times in seconds and the segment's members.
pub(crate) struct Resolved {
    pub(crate) from: Option<u32>,
    pub(crate) to: Option<u32>,
    /// The filter's customers, ascending; `None` for everyone.
    pub(crate) members: Option<Vec<i64>>,
}

impl Resolved {
    pub(crate) fn scope<'a>(&self, set: Option<&'a CustomerSet>) -> Scope<'a> {
        Scope {
            from: self.from,
            to: self.to,
            customers: set,
        }
    }
}

pub(crate) async fn resolve(state: &App, f: &Filter) -> Result<Resolved> {
    let members = crate::segments::members_of(state, f.tag.as_deref(), f.segment).await?;
    Ok(Resolved {
        from: secs("from", f.from.as_deref())?,
        to: secs("to", f.to.as_deref())?,
        members,
    })
}

/// The journey map's range: as asked, or the last [`DEFAULT_JOURNEY_DAYS`] of data (of
/// the calendar, before there is any).
async fn journey_range(state: &App, r: &Resolved) -> (Option<u32>, Option<u32>) {
    let (asked_from, asked_to) = (r.from, r.to);
    let now = (state.now() / 1000) as u32;
    with_engine(state, move |engine| {
        let span = engine.log.time_span();
        let to = asked_to
            .or(span.map(|(_, hi)| hi.saturating_add(1)))
            .or(Some(now));
        let from = asked_from.or(to.map(|t| t.saturating_sub(DEFAULT_JOURNEY_DAYS * 86_400)));
        (from, to)
    })
    .await
    .unwrap_or((r.from, r.to))
}

/// Each stage's emotion in −1..1 from the feedback given in `[from, to)` (Unix ms):
/// normalised ratings and text sentiment together.
pub async fn stage_emotions(
    state: &App,
    from: i64,
    to: i64,
) -> Result<std::collections::HashMap<i64, f64>> {
    Ok(state
        .store
        .stage_signals(from, to)
        .await?
        .into_iter()
        .filter_map(|s| {
            let mut e = nunchi_analytics::scores::Emotion::default();
            e.add_sums(
                s.score_sum.unwrap_or(0.0),
                s.scores as u64,
                s.sentiment_sum.unwrap_or(0.0),
                s.sentiments as u64,
            );
            e.value().map(|v| (s.stage_id, v))
        })
        .collect())
}

/// Runs `query` on a blocking thread with the engine read-locked.
pub(crate) async fn with_engine<T: Send + 'static>(
    state: &App,
    query: impl FnOnce(&Engine) -> T + Send + 'static,
) -> Result<T> {
    state.events.ready().await;
    let engine = state.events.engine.clone();
    tokio::task::spawn_blocking(move || query(&engine.read().expect("engine lock")))
        .await
        .map_err(|e| Error::Internal(e.into()))
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FunnelParams {
    /// Event names, comma-separated, in order.
    #[serde(default)]
    pub steps: String,
    /// Conversion window: 90s, 30m, 2h, 7d, 2w. Default 7d.
    pub window: Option<String>,
    #[serde(default)]
    pub strict_order: bool,
    #[serde(default)]
    pub strict_increase: bool,
    /// How a step repeated in the funnel counts: `separate` (the default: each step needs
    /// its own, later event, so `purchase,purchase` is the customers who bought twice) or
    /// `window_funnel` (ClickHouse's `windowFunnel`: one event may satisfy both).
    pub mode: Option<String>,
    /// `channel`, `first_touch`, `attr:KEY` for a custom attribute, `segment` (every saved
    /// segment) or `persona` (every persona's segment; a customer counts in each of theirs).
    pub breakdown: Option<String>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FunnelStep {
    pub name: String,
    /// Customers who reached at least this step.
    pub customers: u64,
    pub of_first: f64,
    pub of_previous: f64,
    /// Median time from the first step to this one.
    pub median_secs: Option<u64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BreakdownRow {
    pub label: String,
    pub customers: Vec<u64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FunnelView {
    pub steps: Vec<FunnelStep>,
    #[schema(value_type = Object)]
    pub time_to_convert: DurationSummary,
    pub breakdown: Vec<BreakdownRow>,
    pub window_secs: u64,
    /// `separate` or `window_funnel`, as counted.
    pub mode: &'static str,
    /// Steps naming an event that has never been received, with the known names closest
    /// to each (a typo, another casing), so that a 0 is not mistaken for a finding.
    pub unknown_steps: Vec<UnknownStep>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UnknownStep {
    pub name: String,
    /// Up to three known event names, closest first.
    pub suggestions: Vec<String>,
}

/// `FunnelParams::mode`, read: whether each step needs a separate event.
pub fn separate_events(mode: Option<&str>) -> Result<bool> {
    match mode.map(str::trim).unwrap_or("") {
        "" | "separate" => Ok(true),
        "window_funnel" => Ok(false),
        other => Err(Error::invalid(
            "invalid_mode",
            format!("mode is separate or window_funnel, not {other:?}"),
        )),
    }
}

pub fn ratio(n: u64, of: u64) -> f64 {
    if of == 0 { 0.0 } else { n as f64 / of as f64 }
}

pub async fn funnel(state: &App, filter: &Filter, p: &FunnelParams) -> Result<FunnelView> {
    let names: Vec<String> = p
        .steps
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    if names.is_empty() || names.len() > MAX_STEPS {
        return Err(Error::invalid(
            "invalid_steps",
            format!("give 1–{MAX_STEPS} comma-separated event names"),
        ));
    }
    let window_secs = match p.window.as_deref().map(str::trim).filter(|w| !w.is_empty()) {
        None => 7 * 86_400,
        Some(w) => duration::parse_span(w).map_err(|e| Error::invalid("invalid_window", e))?,
    };
    let resolved = resolve(state, filter).await?;
    let attribute = match p.breakdown.as_deref() {
        Some(b) if b.starts_with("attr:") => Some(state.store.attribute_values(&b[5..]).await?),
        _ => None,
    };
    let groups = match p
        .breakdown
        .as_deref()
        .and_then(crate::breakdowns::GroupKind::parse)
    {
        Some(kind) => Some(crate::breakdowns::groups(state, kind).await?),
        None => None,
    };
    let breakdown = p.breakdown.clone().unwrap_or_default();
    let (strict_order, strict_increase) = (p.strict_order, p.strict_increase);
    let separate = separate_events(p.mode.as_deref())?;
    with_engine(state, move |engine| {
        // Unknown names match nothing rather than failing: a step with no events yet is 0.
        let codes = names
            .iter()
            .map(|n| engine.log.names.code(n).unwrap_or(u16::MAX))
            .collect();
        let spec = FunnelSpec {
            steps: codes,
            window_secs,
            strict_order,
            strict_increase,
            separate_events: separate,
        };
        let set = resolved.members.as_deref().map(|m| engine.slots_of(m));
        let (codes_by_slot, labels) = attribute
            .as_deref()
            .map(|v| engine.attribute_codes(v))
            .unwrap_or_default();
        let by = match breakdown.as_str() {
            "channel" => Breakdown::Channel,
            "first_touch" => Breakdown::FirstTouch,
            b if b.starts_with("attr:") => Breakdown::Attribute(&codes_by_slot),
            _ => Breakdown::None,
        };
        let report = funnel::funnel(&engine.log, resolved.scope(set.as_ref()), &spec, by)?;
        let first = report.reached[0];
        let unknown_steps = names
            .iter()
            .filter(|n| engine.log.names.code(n).is_none())
            .map(|n| UnknownStep {
                name: n.clone(),
                suggestions: crate::event_names::closest(
                    n,
                    (0..engine.log.names.len()).map(|c| engine.log.names.name(c as u16)),
                ),
            })
            .collect();
        let steps = names
            .iter()
            .enumerate()
            .map(|(k, name)| FunnelStep {
                name: name.clone(),
                customers: report.reached[k],
                of_first: ratio(report.reached[k], first),
                of_previous: ratio(
                    report.reached[k],
                    if k == 0 { first } else { report.reached[k - 1] },
                ),
                median_secs: if k == 0 {
                    None
                } else {
                    report.from_first[k].median()
                },
            })
            .collect();
        let label = |key: u32| match by {
            Breakdown::Attribute(_) if key != NO_VALUE => labels[key as usize].clone(),
            Breakdown::Channel | Breakdown::FirstTouch if key != NO_VALUE => {
                Channel::from_code(key as u8).as_str().to_string()
            }
            _ => "(none)".to_string(),
        };
        let mut rows: Vec<BreakdownRow> = report
            .breakdown
            .iter()
            .map(|(&key, customers)| BreakdownRow {
                label: label(key),
                customers: customers.clone(),
            })
            .collect();
        // Segments overlap: one funnel per group, over its members within the filter.
        for g in groups.iter().flatten() {
            let ids: Vec<i64> = g
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
            let set = engine.slots_of(&ids);
            let part = funnel::funnel(
                &engine.log,
                resolved.scope(Some(&set)),
                &spec,
                Breakdown::None,
            )?;
            rows.push(BreakdownRow {
                label: g.name.clone(),
                customers: part.reached,
            });
        }
        rows.sort_by(|a, b| {
            b.customers[0]
                .cmp(&a.customers[0])
                .then(a.label.cmp(&b.label))
        });
        Ok::<_, nunchi_analytics::AnalyticsError>(FunnelView {
            steps,
            time_to_convert: report.time_to_convert().summary(),
            breakdown: rows,
            window_secs,
            mode: if separate {
                "separate"
            } else {
                "window_funnel"
            },
            unknown_steps,
        })
    })
    .await?
    .map_err(|e| Error::invalid("invalid_funnel", e.to_string()))
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PathParams {
    /// Show what follows this event.
    pub after: Option<String>,
    /// Show what precedes this event.
    pub before: Option<String>,
    /// Sankey paths start at each customer's first event of this name (default: first event).
    pub start: Option<String>,
    /// How many transitions to list (default 50, at most 500).
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TransitionRow {
    pub from: String,
    pub to: String,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SankeyLink {
    pub step: u8,
    pub from: String,
    pub to: String,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NeighbourRow {
    /// `null`: the journey ends (or begins) there.
    pub name: Option<String>,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PathsView {
    pub transitions: Vec<TransitionRow>,
    pub sankey: Vec<SankeyLink>,
    /// With `after` or `before`: the neighbouring events.
    pub neighbours: Vec<NeighbourRow>,
}

pub const SANKEY_DEPTH: u8 = 5;

pub async fn paths(state: &App, filter: &Filter, p: &PathParams) -> Result<PathsView> {
    let limit = p.limit.unwrap_or(50).clamp(1, 500);
    let resolved = resolve(state, filter).await?;
    let p = p.clone();
    with_engine(state, move |engine| {
        let log = &engine.log;
        let set = resolved.members.as_deref().map(|m| engine.slots_of(m));
        let scope = resolved.scope(set.as_ref());
        let name = |c: u16| log.names.name(c).to_string();
        let transitions = paths::top_transitions(log, scope, limit)
            .into_iter()
            .map(|t| TransitionRow {
                from: name(t.from),
                to: name(t.to),
                count: t.count,
            })
            .collect();
        let start = p.start.as_deref().and_then(|s| log.names.code(s.trim()));
        let sankey = paths::sankey(log, scope, start, SANKEY_DEPTH, 60)
            .into_iter()
            .map(|l| SankeyLink {
                step: l.step,
                from: name(l.from),
                to: name(l.to),
                count: l.count,
            })
            .collect();
        let around = p
            .after
            .as_deref()
            .map(|e| (e, Direction::Next))
            .or(p.before.as_deref().map(|e| (e, Direction::Previous)));
        let neighbours = match around.and_then(|(e, d)| Some((log.names.code(e.trim())?, d))) {
            Some((code, d)) => paths::neighbours(log, scope, code, d)
                .into_iter()
                .take(limit)
                .map(|(c, count)| NeighbourRow {
                    name: c.map(name),
                    count,
                })
                .collect(),
            None => Vec::new(),
        };
        PathsView {
            transitions,
            sankey,
            neighbours,
        }
    })
    .await
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OutcomeRow {
    pub event: String,
    pub purchasers: u64,
    pub converted: u64,
    pub rate: f64,
}

/// The post-purchase CX funnel: purchase → refund / repurchase / referral.
pub async fn post_purchase(
    state: &App,
    filter: &Filter,
    window_secs: u64,
) -> Result<Vec<OutcomeRow>> {
    let resolved = resolve(state, filter).await?;
    with_engine(state, move |engine| {
        let set = resolved.members.as_deref().map(|m| engine.slots_of(m));
        funnel::post_purchase(
            &engine.log,
            resolved.scope(set.as_ref()),
            window_secs,
            "purchase",
            &funnel::POST_PURCHASE_OUTCOMES,
        )
        .into_iter()
        .map(|o| OutcomeRow {
            rate: ratio(o.converted, o.purchasers),
            event: o.event,
            purchasers: o.purchasers,
            converted: o.converted,
        })
        .collect()
    })
    .await
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TouchpointCard {
    pub id: i64,
    pub name: String,
    pub channel: String,
    pub event: String,
    pub reach: u64,
    pub expected_rating: Option<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StageView {
    pub id: i64,
    pub key: String,
    pub name_ko: String,
    pub name_en: String,
    pub reach: u64,
    /// Of the stage's customers, those who went on to the next stage; `null` for the last.
    pub converted: Option<u64>,
    pub conversion: Option<f64>,
    /// The same stage's conversion in the previous period of equal length.
    pub previous_conversion: Option<f64>,
    pub drop_off: Option<f64>,
    pub median_secs_to_next: Option<u64>,
    /// The stage's emotion in −1..1 from the Voice of the Customer; `null` until it has data.
    pub emotion: Option<f64>,
    #[schema(value_type = Vec<String>)]
    pub pains: Vec<Pain>,
    pub touchpoints: Vec<TouchpointCard>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct JourneyView {
    pub stages: Vec<StageView>,
    /// Touchpoints not placed on any stage.
    pub unplaced: Vec<TouchpointCard>,
    /// The range shown (UTC dates, `to` exclusive); `null` when there are no events.
    pub from: Option<String>,
    pub to: Option<String>,
}

/// Without a range, the journey map shows the last 30 days of data.
pub const DEFAULT_JOURNEY_DAYS: u32 = 30;

/// The journey map's metrics for the range, with each stage's conversion in the previous
/// period of the same length beside it, so a stage that got worse is flagged, and each
/// stage's emotion from the feedback given in the range.
pub async fn journey(state: &App, filter: &Filter) -> Result<JourneyView> {
    let stages = state.store.stages().await?;
    let touchpoints = state.store.touchpoints().await?;
    let resolved = resolve(state, filter).await?;
    let (from, to) = journey_range(state, &resolved).await;
    let emotions = match (from, to) {
        (Some(f), Some(t)) => stage_emotions(state, f as i64 * 1000, t as i64 * 1000).await?,
        _ => std::collections::HashMap::new(),
    };
    let emotion: Vec<Option<f64>> = stages
        .iter()
        .map(|s| emotions.get(&s.id).copied())
        .collect();
    with_engine(state, move |engine| {
        let mut map = StageMap::new(stages.len());
        for t in &touchpoints {
            if let (Some(stage), Some(code)) = (
                t.stage_id
                    .and_then(|id| stages.iter().position(|s| s.id == id)),
                engine.touchpoint_code(t.id),
            ) {
                map.assign(code, stage as u8);
            }
        }
        let set = resolved.members.as_deref().map(|m| engine.slots_of(m));
        let scope = Scope {
            from,
            to,
            customers: set.as_ref(),
        };
        let reports = journey::journey(&engine.log, scope, &map);
        let previous_scope = match (from, to) {
            (Some(f), Some(t)) if t > f => Some(Scope {
                from: Some(f.saturating_sub(t - f)),
                to: Some(f),
                customers: set.as_ref(),
            }),
            _ => None,
        };
        let previous = previous_scope.map(|s| journey::journey(&engine.log, s, &map));
        let last = stages.len().saturating_sub(1);
        let rate = |rs: &[journey::StageReport], i: usize| {
            if i == last { None } else { rs[i].conversion() }
        };
        let conversion: Vec<Option<f64>> = (0..stages.len()).map(|i| rate(&reports, i)).collect();
        let before: Vec<Option<f64>> = (0..stages.len())
            .map(|i| previous.as_deref().and_then(|p| rate(p, i)))
            .collect();
        let pains = journey::pain_points(&conversion, &before, &emotion);
        let card = |t: &nunchi_store::model::Touchpoint, reach: u64| TouchpointCard {
            id: t.id,
            name: t.name.clone(),
            channel: t.channel.clone(),
            event: t.event.clone(),
            reach,
            expected_rating: t.expected_rating,
        };
        let views = stages
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let r = &reports[i];
                StageView {
                    id: s.id,
                    key: s.key.clone(),
                    name_ko: s.name_ko.clone(),
                    name_en: s.name_en.clone(),
                    reach: r.reach,
                    converted: (i != last).then_some(r.converted),
                    conversion: conversion[i],
                    previous_conversion: before[i],
                    drop_off: conversion[i].map(|c| 1.0 - c),
                    median_secs_to_next: if i == last {
                        None
                    } else {
                        r.time_to_next.median()
                    },
                    emotion: emotion[i],
                    pains: pains[i].clone(),
                    touchpoints: touchpoints
                        .iter()
                        .filter(|t| t.stage_id == Some(s.id))
                        .map(|t| {
                            card(
                                t,
                                engine
                                    .touchpoint_code(t.id)
                                    .and_then(|c| r.touchpoints.get(&c).copied())
                                    .unwrap_or(0),
                            )
                        })
                        .collect(),
                }
            })
            .collect();
        let unplaced = touchpoints
            .iter()
            .filter(|t| {
                t.stage_id
                    .is_none_or(|id| !stages.iter().any(|s| s.id == id))
            })
            .map(|t| card(t, 0))
            .collect();
        let day = |t: Option<u32>| {
            t.and_then(|t| jiff::Timestamp::from_second(t as i64).ok())
                .map(|t| t.strftime("%Y-%m-%d").to_string())
        };
        JourneyView {
            stages: views,
            unplaced,
            from: day(from),
            to: day(to),
        }
    })
    .await
}
