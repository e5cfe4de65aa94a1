//! The Voice-of-the-Customer page: NPS, CSAT and CES with their margins of error, the
//! weekly NPS trend, CSAT per journey stage, and the live feed of feedback, which new
//! items join without a reload (server-sent events from `/voc/stream`).

use nunchi_core::feedback::Source;
use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::{
    Router,
    extract::State,
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
    routing::get,
};
use nunchi_analytics::retention::Period;
use nunchi_core::access::Permission;
use nunchi_core::feedback::Metric;
use nunchi_core::mask;
use nunchi_core::time::Millis;
use nunchi_store::model::{Feedback, FeedbackFilter, MetricRating};
use serde::Deserialize;

use super::{Chrome, UiNeed, UiResult, charts, fmt_time, lang_of, render};
use nunchi_app::scores::{By, ScoreSpec, keep_respondents, perception_gap, report, segment};

use crate::{
    AppState,
    auth::{Auth, perm},
    error::AppError,
    extract::ApiQuery,
    i18n::{Lang, Strings},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/voc", get(page))
        .route("/voc/stream", get(stream))
}

/// Items in the feed on first load.
const FEED_ITEMS: i64 = 40;
/// How often the live feed looks for new feedback.
const POLL: Duration = Duration::from_secs(2);

/// One feed item, ready to show.
pub struct FeedItem {
    pub id: i64,
    pub source: &'static str,
    pub rating: String,
    pub body: String,
    pub sentiment: String,
    pub sentiment_class: &'static str,
    pub topics: Vec<String>,
    pub customer_id: Option<i64>,
    pub author: String,
    pub when: String,
    pub channel: String,
}

#[derive(Template)]
#[template(path = "voc_item.html")]
struct ItemView<'a> {
    item: &'a FeedItem,
    t: &'static Strings,
}

fn source_label(t: &'static Strings, source: Source) -> &'static str {
    match source {
        Source::Survey => t.source_survey,
        Source::Review => t.source_review,
        Source::Social => t.source_social,
        Source::AppStore => t.source_app_store,
        Source::Support => t.source_support,
        Source::Employee => t.source_employee,
    }
}

fn item(f: Feedback, lang: Lang, auth: &Auth) -> FeedItem {
    let t = lang.strings();
    let rating = match (f.metric, f.rating, f.scale_max) {
        (Some(Metric::Nps), Some(r), _) => format!("NPS {r}"),
        (Some(Metric::Csat), Some(r), _) => format!("CSAT {r}/5"),
        (Some(Metric::Ces), Some(r), _) => format!("CES {r}/7"),
        (_, Some(r), Some(max)) => format!("★ {r}/{max}"),
        _ => String::new(),
    };
    let (sentiment, sentiment_class) = match f.sentiment_label.as_deref() {
        Some("positive") => (t.sentiment_positive, "sent-positive"),
        Some("negative") => (t.sentiment_negative, "sent-negative"),
        Some(_) => (t.sentiment_neutral, "sent-neutral"),
        None if f.body.is_empty() => ("", ""),
        None => (t.sentiment_pending, "sent-pending"),
    };
    let topics = f
        .topics
        .as_deref()
        .map_or(&[][..], Vec::as_slice)
        .iter()
        .map(|m| if lang == Lang::Ko { &m.ko } else { &m.en })
        .filter(|label| !label.is_empty())
        .take(4)
        .cloned()
        .collect();
    let author = f.author.unwrap_or_default();
    FeedItem {
        id: f.id,
        source: source_label(t, f.source),
        rating,
        body: f.body,
        sentiment: sentiment.to_string(),
        sentiment_class,
        topics,
        customer_id: f.customer_id,
        author: if auth.can(Permission::ViewPii) {
            author
        } else {
            mask::mask_name(&author)
        },
        when: fmt_time(f.created_at),
        channel: f.channel.to_string(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct VocQuery {
    #[serde(default)]
    source: String,
    /// Range of the scores: RFC 3339, a date or Unix seconds.
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    /// Scores for customers with this tag.
    #[serde(default)]
    tag: String,
    /// Scores for the members of this saved segment (with a tag too: those in both).
    #[serde(default, deserialize_with = "nunchi_app::analysis::segment_id")]
    segment: Option<i64>,
    /// `known`: only answers from known customers (no anonymous link answers).
    #[serde(default)]
    respondents: String,
}

struct ScoreCard {
    label: &'static str,
    value: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "voc.html")]
struct VocPage {
    chrome: Chrome,
    cards: Vec<ScoreCard>,
    trend_svg: String,
    stages_svg: String,
    items: Vec<FeedItem>,
    sources: Vec<(&'static str, &'static str)>,
    source: String,
    /// The customer tag the scores are for; empty: everyone.
    tag: String,
    /// The saved segments to choose from: (id, name, chosen).
    segments: Vec<(i64, String, bool)>,
    segment: Option<i64>,
    /// Scores leave out answers from no known customer.
    known_only: bool,
    from: String,
    to: String,
    last_id: i64,
    range: String,
    gaps: Vec<GapView>,
    teams: Vec<TeamView>,
    /// (persona, NPS, CSAT)
    personas: Vec<(String, String, String)>,
}

/// A team's employee NPS beside its customers' NPS and CSAT.
struct TeamView {
    name: String,
    enps: String,
    nps: String,
    csat: String,
}

/// eNPS from the team's pulse answers beside the scores customers gave the same team.
async fn team_rows(
    state: &AppState,
    nps: &[MetricRating],
    csat: &[MetricRating],
    spec: ScoreSpec,
) -> Result<Vec<TeamView>, AppError> {
    let by_team = ScoreSpec {
        by: By::Team,
        ..spec
    };
    let enps = report(
        nps,
        &ScoreSpec {
            employees: true,
            ..by_team
        },
    );
    let nps = report(nps, &by_team);
    let csat = report(
        csat,
        &ScoreSpec {
            metric: Metric::Csat,
            ..by_team
        },
    );
    let show = |groups: &[nunchi_app::scores::ScorePoint], team: i64| {
        groups
            .iter()
            .find(|g| g.group.as_deref() == Some(team.to_string().as_str()))
            .map(|g| {
                format!(
                    "{:.0} (n = {})",
                    g.score.value,
                    super::count(&g.score.responses)
                )
            })
            .unwrap_or_else(|| "—".into())
    };
    Ok(state
        .store
        .teams()
        .await?
        .into_iter()
        .map(|t| TeamView {
            enps: show(&enps.groups, t.id),
            nps: show(&nps.groups, t.id),
            csat: show(&csat.groups, t.id),
            name: t.name,
        })
        .filter(|t| t.enps != "—" || t.nps != "—" || t.csat != "—")
        .collect())
}

/// NPS and CSAT per persona: each persona's segment's answers among those on the page.
async fn persona_rows(
    state: &AppState,
    nps: &[MetricRating],
    csat: &[MetricRating],
    spec: ScoreSpec,
) -> Result<Vec<(String, String, String)>, AppError> {
    use nunchi_app::breakdowns::{self, GroupKind};
    let groups = breakdowns::groups(state, GroupKind::Persona).await?;
    let nps = breakdowns::scores_by(nps, &spec, &groups);
    let csat = breakdowns::scores_by(
        csat,
        &ScoreSpec {
            metric: Metric::Csat,
            ..spec
        },
        &groups,
    );
    let show = |points: &[nunchi_app::scores::ScorePoint], name: &str| {
        points
            .iter()
            .find(|g| g.group.as_deref() == Some(name))
            .map_or_else(
                || "—".to_string(),
                |g| {
                    format!(
                        "{:.0} (n = {})",
                        g.score.value,
                        super::count(&g.score.responses)
                    )
                },
            )
    };
    Ok(groups
        .iter()
        .map(|g| {
            (
                g.name.clone(),
                show(&nps.groups, &g.name),
                show(&csat.groups, &g.name),
            )
        })
        .collect())
}

/// One row of the perception gap table.
struct GapView {
    name: String,
    expected: String,
    customers: String,
    responses: i64,
    gap: String,
    /// The team rates it at least half a star above its customers.
    wide: bool,
}

/// The NPS trend's points: every week of the range (`scores::every_week`), labelled by
/// its first day in the brand's time zone.
fn weekly_trend(
    series: &[nunchi_app::scores::ScorePoint],
    from: i64,
    to: i64,
    now: i64,
    utc_offset_secs: i32,
) -> Vec<charts::TrendPoint> {
    nunchi_app::scores::every_week(series, from, to, now, utc_offset_secs)
        .into_iter()
        .map(|(start, point)| charts::TrendPoint {
            label: jiff::Timestamp::from_second(start + utc_offset_secs as i64)
                .map(|t| t.strftime("%m-%d").to_string())
                .unwrap_or_default(),
            value: point.map(|p| p.score.value),
            margin: point.and_then(|p| p.score.margin),
            responses: point.map_or(0, |p| p.score.responses),
        })
        .collect()
}

async fn page(
    State(state): State<AppState>,
    auth: UiNeed<perm::CustomersRead>,
    ApiQuery(q): ApiQuery<VocQuery>,
) -> UiResult {
    let lang = lang_of(&auth);
    let t = lang.strings();
    let source = q.source.trim().to_string();
    let filter = FeedbackFilter {
        source: (!source.is_empty()).then(|| source.clone()),
        limit: FEED_ITEMS,
        ..Default::default()
    };
    let recent = state.store.list_feedback(&filter).await?;
    // Scores cover the range asked for, or the 90 days up to now: never a period that
    // moves because of which row was stored last.
    let when = |field: &str, text: &str| -> Result<Option<i64>, AppError> {
        match text.trim() {
            "" => Ok(None),
            t => Millis::parse(t)
                .map(|m| Some(m.0))
                .map_err(|e| AppError::bad_request(&format!("invalid_{field}"), e.to_string())),
        }
    };
    let to = when("to", &q.to)?.unwrap_or_else(|| state.now() + 1);
    let from = when("from", &q.from)?.unwrap_or(to - 90 * 86_400_000);
    // Each metric's ratings are read once and grouped in memory for every view below.
    let spec = ScoreSpec {
        metric: Metric::Nps,
        period: Period::Week,
        by: By::None,
        employees: false,
        from,
        utc_offset_secs: state.utc_offset_secs(),
    };
    let members = segment(&state, Some(&q.tag), q.segment).await?;
    let known_only = q.respondents == "known";
    let mut ratings = Vec::new();
    for metric in [Metric::Nps, Metric::Csat, Metric::Ces] {
        let mut rows = state
            .store
            .metric_ratings(metric.as_str(), from, to)
            .await?;
        keep_respondents(&mut rows, members.as_ref(), known_only);
        ratings.push(rows);
    }
    let mut cards = Vec::new();
    let mut nps_series = Vec::new();
    for (metric, rows) in [Metric::Nps, Metric::Csat, Metric::Ces]
        .into_iter()
        .zip(&ratings)
    {
        let report = report(rows, &ScoreSpec { metric, ..spec });
        let label = match metric {
            Metric::Nps => t.score_nps,
            Metric::Csat => t.score_csat,
            _ => t.score_ces,
        };
        let (value, detail) = match &report.overall {
            Some(s) => (
                if metric == Metric::Ces {
                    format!("{:.2}", s.value)
                } else {
                    format!("{:.0}", s.value)
                },
                format!(
                    "{} {} · ± {}",
                    super::count(&s.responses),
                    t.score_responses,
                    s.margin
                        .map(|m| format!("{m:.1}"))
                        .unwrap_or_else(|| "—".into())
                ),
            ),
            None => ("—".into(), t.score_none.into()),
        };
        cards.push(ScoreCard {
            label,
            value,
            detail,
        });
        if metric == Metric::Nps {
            nps_series = report.series;
        }
    }
    let trend = weekly_trend(&nps_series, from, to, state.now(), state.utc_offset_secs());
    let trend_svg = charts::trend_chart(
        t.nps_trend_title,
        &trend,
        (-100.0, 100.0),
        t.chart_no_scores,
        t.trend_sparse,
    );
    let stages = state.store.stages().await?;
    let by_stage = report(
        &ratings[1],
        &ScoreSpec {
            metric: Metric::Csat,
            by: By::Stage,
            ..spec
        },
    );
    let bars: Vec<charts::Bar> = stages
        .iter()
        .filter_map(|s| {
            let g = by_stage
                .groups
                .iter()
                .find(|g| g.group.as_deref() == Some(&s.id.to_string()))?;
            Some(charts::Bar {
                label: if lang == Lang::Ko {
                    s.name_ko.clone()
                } else {
                    s.name_en.clone()
                },
                value: g.score.value,
                shown: format!("{:.0}%", g.score.value),
            })
        })
        .collect();
    let stages_svg = charts::bar_chart(t.csat_by_stage_title, &bars, t.chart_no_scores);
    let last_id = state.store.last_feedback_id().await?;
    let teams = team_rows(&state, &ratings[0], &ratings[1], spec).await?;
    let personas = persona_rows(&state, &ratings[0], &ratings[1], spec).await?;
    let gaps = perception_gap(&state, from, to)
        .await?
        .into_iter()
        .map(|g| GapView {
            name: g.name,
            expected: format!("{:.1}", g.expected),
            customers: format!("{:.1}", g.customers),
            responses: g.responses,
            gap: format!("{:+.1}", g.gap),
            wide: g.gap >= 0.5,
        })
        .collect();
    Ok(render(VocPage {
        chrome: Chrome::new(&auth, "/voc", t.voc_title),
        cards,
        trend_svg,
        stages_svg,
        items: recent.into_iter().map(|f| item(f, lang, &auth)).collect(),
        sources: Source::ALL
            .into_iter()
            .map(|s| (s.as_str(), source_label(t, s)))
            .collect(),
        source,
        tag: q.tag.clone(),
        segments: state
            .store
            .segments()
            .await?
            .into_iter()
            .map(|s| (s.id, s.name, q.segment == Some(s.id)))
            .collect(),
        segment: q.segment,
        known_only,
        from: q.from.clone(),
        to: q.to.clone(),
        last_id,
        gaps,
        teams,
        personas,
        range: format!(
            "{} – {}",
            Millis(from).to_rfc3339().get(..10).unwrap_or(""),
            Millis(to).to_rfc3339().get(..10).unwrap_or("")
        ),
    }))
}

#[derive(Debug, Deserialize)]
pub struct StreamQuery {
    after: i64,
    #[serde(default)]
    source: String,
}

/// New feedback after `after`, as server-sent events whose data is the item's HTML.
async fn stream(
    State(state): State<AppState>,
    auth: UiNeed<perm::CustomersRead>,
    headers: axum::http::HeaderMap,
    ApiQuery(q): ApiQuery<StreamQuery>,
) -> Response {
    // A reconnecting browser says what it saw last; start from there, not the page's id.
    let after = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(q.after)
        .max(q.after);
    let lang = lang_of(&auth);
    let auth: Auth = auth.0;
    let source = (!q.source.trim().is_empty()).then(|| q.source.trim().to_string());
    let events =
        futures_util::stream::unfold((state, after, true), move |(state, after, first)| {
            let (auth, source) = (auth.clone(), source.clone());
            async move {
                if !first {
                    tokio::time::sleep(POLL).await;
                }
                let fresh = state
                    .store
                    .list_feedback(&FeedbackFilter {
                        source,
                        after_id: Some(after),
                        limit: 100,
                        ..Default::default()
                    })
                    .await
                    .unwrap_or_default();
                let next = fresh.last().map_or(after, |f| f.id);
                let t = lang.strings();
                let html: Vec<Result<Event, Infallible>> = fresh
                    .into_iter()
                    .map(|f| {
                        let view = item(f, lang, &auth);
                        let body = ItemView { item: &view, t }.render().unwrap_or_default();
                        Ok(Event::default()
                            .id(view.id.to_string())
                            .event("feedback")
                            .data(body.replace('\n', " ")))
                    })
                    .collect();
                Some((futures_util::stream::iter(html), (state, next, false)))
            }
        });
    use futures_util::StreamExt;
    Sse::new(events.flatten())
        .keep_alive(KeepAlive::default())
        .into_response()
}
