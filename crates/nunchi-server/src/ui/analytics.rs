//! The analytics pages: the journey map (stages as columns, touchpoints as cards, the
//! conversion curve with pain points marked, and its editing forms), the funnel builder,
//! paths as a Sankey, and the retention heatmap — each downloadable as CSV.

use askama::Template;
use axum::{
    Form, Router,
    extract::State,
    http::header,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use nunchi_analytics::journey::Pain;
use nunchi_core::access::Permission;
use nunchi_core::channel::Channel;
use nunchi_core::touchpoint::{Condition, Op};
use serde::Deserialize;

use super::{Chrome, CsrfForm, UiError, UiNeed, UiResult, charts, lang_of, render};
use nunchi_app::journeys::{TouchpointInput, create_touchpoint_checked, stage_key};

use crate::{
    AppState,
    auth::{check_form_csrf, perm},
    error::AppError,
    extract::{ApiPath, ApiQuery},
    i18n::{Lang, Strings},
};
use nunchi_app::analysis::{
    self, Filter, FunnelParams, FunnelView, JourneyView, PathParams, PathsView, RetentionParams,
    RetentionView, ratio,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/journeys", get(journeys))
        .route("/journeys.csv", get(journeys_csv))
        .route("/journeys/touchpoints", post(add_touchpoint))
        .route("/journeys/touchpoints/{id}/delete", post(delete_touchpoint))
        .route("/journeys/stages", post(add_stage))
        .route("/journeys/stages/{id}/move", post(move_stage))
        .route("/journeys/stages/{id}/delete", post(delete_stage))
        .route("/analytics/funnel", get(funnel))
        .route("/analytics/funnel.csv", get(funnel_csv))
        .route("/analytics/paths", get(paths))
        .route("/analytics/paths.csv", get(paths_csv))
        .route("/analytics/retention", get(retention))
        .route("/analytics/retention.csv", get(retention_csv))
}

fn pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

/// A CSV download, after the byte-order mark that makes Korean Excel read it as UTF-8.
fn csv_response(name: &str, rows: Vec<Vec<String>>) -> Result<Response, UiError> {
    let mut w = csv::Writer::from_writer(nunchi_app::text_encoding::UTF8_BOM.to_vec());
    for r in rows {
        w.write_record(&r)
            .map_err(|e| AppError::Internal(e.into()))?;
    }
    let body = w
        .into_inner()
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// The filter as the forms show it, with the saved segments to choose from: (id, name,
/// chosen).
struct FilterText {
    from: String,
    to: String,
    tag: String,
    segments: Vec<(i64, String, bool)>,
}

async fn filter_text(state: &AppState, f: &Filter) -> Result<FilterText, crate::error::AppError> {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    Ok(FilterText {
        from: text(&f.from),
        to: text(&f.to),
        tag: text(&f.tag),
        segments: state
            .store
            .segments()
            .await?
            .into_iter()
            .map(|s| (s.id, s.name, f.segment == Some(s.id)))
            .collect(),
    })
}

/// The query string of the current filter, to carry into links (CSV, tabs).
fn filter_query(f: &Filter) -> String {
    let mut parts = Vec::new();
    let segment = f.segment.map(|s| s.to_string());
    for (k, v) in [
        ("from", &f.from),
        ("to", &f.to),
        ("tag", &f.tag),
        ("segment", &segment),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            parts.push(format!("{k}={}", urlencode(v)));
        }
    }
    parts.join("&")
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn stage_name(lang: Lang, ko: &str, en: &str) -> String {
    if lang == Lang::Ko {
        ko.to_string()
    } else {
        en.to_string()
    }
}

fn pain_label(t: &Strings, p: Pain) -> &'static str {
    match p {
        Pain::WorstDropOff => t.pain_worst,
        Pain::Worsening => t.pain_worsening,
        Pain::NegativeEmotion => t.pain_emotion,
    }
}

struct CardRow {
    id: i64,
    name: String,
    channel: String,
    event: String,
    reach: u64,
    expected: String,
}

struct StageCol {
    id: i64,
    name: String,
    reach: u64,
    conversion: String,
    previous: String,
    median_next: String,
    /// −1..1 with a sign, empty until feedback arrives.
    emotion: String,
    pains: Vec<&'static str>,
    is_pain: bool,
    cards: Vec<CardRow>,
    first: bool,
    last: bool,
}

#[derive(Template)]
#[template(path = "journeys.html")]
struct JourneysPage {
    chrome: Chrome,
    filter: FilterText,
    query: String,
    range: String,
    stages: Vec<StageCol>,
    unplaced: Vec<CardRow>,
    curve_svg: String,
    has_touchpoints: bool,
    can_edit: bool,
    channels: Vec<&'static str>,
    stage_options: Vec<(i64, String)>,
}

fn card(t: &analysis::TouchpointCard) -> CardRow {
    CardRow {
        id: t.id,
        name: t.name.clone(),
        channel: t.channel.clone(),
        event: t.event.clone(),
        reach: t.reach,
        expected: t
            .expected_rating
            .map(|r| format!("{r:.1}"))
            .unwrap_or_default(),
    }
}

async fn journeys(
    State(state): State<AppState>,
    auth: UiNeed<perm::CustomersRead>,
    ApiQuery(filter): ApiQuery<Filter>,
) -> UiResult {
    let lang = lang_of(&auth);
    let t = lang.strings();
    let view: JourneyView = analysis::journey(&state, &filter).await?;
    let names: Vec<String> = view
        .stages
        .iter()
        .map(|s| stage_name(lang, &s.name_ko, &s.name_en))
        .collect();
    let curve_svg = charts::curve_chart(
        t.curve_title,
        &names,
        &[
            charts::Series {
                name: t.curve_previous.into(),
                values: view.stages.iter().map(|s| s.previous_conversion).collect(),
                class: "previous",
            },
            charts::Series {
                name: t.curve_current.into(),
                values: view.stages.iter().map(|s| s.conversion).collect(),
                class: "current",
            },
            // Emotion −1..1 drawn on the same 0–100% axis: 50% is neutral.
            charts::Series {
                name: t.curve_emotion.into(),
                values: view
                    .stages
                    .iter()
                    .map(|s| s.emotion.map(|e| (e + 1.0) / 2.0))
                    .collect(),
                class: "emotion",
            },
        ],
        &view
            .stages
            .iter()
            .map(|s| !s.pains.is_empty())
            .collect::<Vec<_>>(),
    );
    let count = view.stages.len();
    let stages = view
        .stages
        .iter()
        .enumerate()
        .map(|(i, s)| StageCol {
            id: s.id,
            name: names[i].clone(),
            reach: s.reach,
            conversion: s.conversion.map(pct).unwrap_or_else(|| "—".into()),
            previous: s.previous_conversion.map(pct).unwrap_or_default(),
            median_next: s
                .median_secs_to_next
                .map(|secs| t.duration(secs))
                .unwrap_or_default(),
            emotion: s.emotion.map(|e| format!("{e:+.2}")).unwrap_or_default(),
            pains: s.pains.iter().map(|&p| pain_label(t, p)).collect(),
            is_pain: s.pains.iter().any(|&p| p != Pain::WorstDropOff) || s.pains.len() > 1,
            cards: s.touchpoints.iter().map(card).collect(),
            first: i == 0,
            last: i + 1 == count,
        })
        .collect::<Vec<_>>();
    let has_touchpoints = stages.iter().any(|s| !s.cards.is_empty()) || !view.unplaced.is_empty();
    let page = JourneysPage {
        chrome: Chrome::new(&auth, "/journeys", t.journeys_title),
        query: filter_query(&filter),
        range: match (&view.from, &view.to) {
            (Some(f), Some(to)) => format!("{f} – {to}"),
            _ => String::new(),
        },
        filter: filter_text(&state, &filter).await?,
        unplaced: view.unplaced.iter().map(card).collect(),
        stage_options: view
            .stages
            .iter()
            .zip(&names)
            .map(|(s, n)| (s.id, n.clone()))
            .collect(),
        stages,
        curve_svg,
        has_touchpoints,
        can_edit: auth.can(Permission::JourneysEdit),
        channels: Channel::ALL.iter().map(|c| c.as_str()).collect(),
    };
    Ok(render(page))
}

async fn journeys_csv(
    State(state): State<AppState>,
    _auth: UiNeed<perm::CustomersRead>,
    ApiQuery(filter): ApiQuery<Filter>,
) -> UiResult {
    let view = analysis::journey(&state, &filter).await?;
    let mut rows = vec![
        [
            "stage",
            "reach",
            "converted",
            "conversion",
            "previous_conversion",
            "median_secs_to_next",
            "pains",
            "touchpoint",
            "touchpoint_reach",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for s in &view.stages {
        let base = [
            s.key.clone(),
            s.reach.to_string(),
            s.converted.map(|c| c.to_string()).unwrap_or_default(),
            s.conversion.map(|c| format!("{c:.4}")).unwrap_or_default(),
            s.previous_conversion
                .map(|c| format!("{c:.4}"))
                .unwrap_or_default(),
            s.median_secs_to_next
                .map(|m| m.to_string())
                .unwrap_or_default(),
            s.pains
                .iter()
                .map(|p| format!("{p:?}"))
                .collect::<Vec<_>>()
                .join(" "),
        ];
        if s.touchpoints.is_empty() {
            rows.push(
                base.iter()
                    .cloned()
                    .chain([String::new(), String::new()])
                    .collect(),
            );
        }
        for tp in &s.touchpoints {
            rows.push(
                base.iter()
                    .cloned()
                    .chain([tp.name.clone(), tp.reach.to_string()])
                    .collect(),
            );
        }
    }
    csv_response("journey-map.csv", rows)
}

#[derive(Debug, Default, Deserialize)]
struct TouchpointForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    event: String,
    #[serde(default)]
    stage_id: String,
    #[serde(default)]
    expected_rating: String,
    #[serde(default)]
    property: String,
    #[serde(default)]
    value: String,
}

async fn add_touchpoint(
    State(state): State<AppState>,
    auth: UiNeed<perm::JourneysEdit>,
    Form(f): Form<TouchpointForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    let conditions = match f.property.trim() {
        "" => vec![],
        p => vec![Condition {
            property: p.to_string(),
            op: Op::Eq,
            value: f.value.trim().to_string(),
        }],
    };
    let input = TouchpointInput {
        name: f.name,
        channel: f.channel,
        event: f.event,
        conditions,
        stage_id: super::form_number("stage_id", &f.stage_id)?.map(|v| v as i64),
        expected_rating: super::form_number("expected_rating", &f.expected_rating)?,
    };
    create_touchpoint_checked(&state, &auth.as_actor(), &input).await?;
    Ok(Redirect::to("/journeys").into_response())
}

async fn delete_touchpoint(
    State(state): State<AppState>,
    auth: UiNeed<perm::JourneysEdit>,
    ApiPath(id): ApiPath<i64>,
    Form(f): Form<CsrfForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    state.store.delete_touchpoint(id).await?;
    state.events.rebuild().await;
    state
        .audit(&auth, "touchpoint.delete", &format!("touchpoint:{id}"), "")
        .await;
    Ok(Redirect::to("/journeys").into_response())
}

#[derive(Debug, Default, Deserialize)]
struct StageForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name_ko: String,
    #[serde(default)]
    name_en: String,
}

async fn add_stage(
    State(state): State<AppState>,
    auth: UiNeed<perm::JourneysEdit>,
    Form(f): Form<StageForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    let (ko, en) = (f.name_ko.trim(), f.name_en.trim());
    if ko.is_empty() || en.is_empty() || ko.chars().count() > 60 || en.chars().count() > 60 {
        return Err(AppError::bad_request(
            "invalid_name",
            "both names are needed, at most 60 characters",
        )
        .into());
    }
    let stage = state.store.add_stage(&stage_key(en), ko, en).await?;
    state
        .audit(&auth, "stage.add", &format!("stage:{}", stage.id), en)
        .await;
    Ok(Redirect::to("/journeys").into_response())
}

#[derive(Debug, Default, Deserialize)]
struct MoveForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    by: i64,
}

async fn move_stage(
    State(state): State<AppState>,
    auth: UiNeed<perm::JourneysEdit>,
    ApiPath(id): ApiPath<i64>,
    Form(f): Form<MoveForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    state.store.move_stage(id, f.by).await?;
    Ok(Redirect::to("/journeys").into_response())
}

async fn delete_stage(
    State(state): State<AppState>,
    auth: UiNeed<perm::JourneysEdit>,
    ApiPath(id): ApiPath<i64>,
    Form(f): Form<CsrfForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    state.store.delete_stage(id).await?;
    state
        .audit(&auth, "stage.delete", &format!("stage:{id}"), "")
        .await;
    Ok(Redirect::to("/journeys").into_response())
}

/// Known event names, most useful first, for the builders' hints.
async fn event_names(state: &AppState) -> Vec<String> {
    state.events.ready().await;
    let engine = state.events.engine.read().expect("engine lock");
    let names = &engine.log.names;
    let mut out: Vec<String> = (0..names.len())
        .map(|c| names.name(c as u16).to_string())
        .collect();
    out.sort();
    out
}

struct StepRow {
    name: String,
    customers: u64,
    of_first: String,
    of_previous: String,
    median: String,
}

struct OutcomeView {
    label: &'static str,
    converted: u64,
    purchasers: u64,
    rate: String,
}

#[derive(Template)]
#[template(path = "funnel.html")]
struct FunnelPage {
    chrome: Chrome,
    filter: FilterText,
    query: String,
    steps_text: String,
    window: String,
    breakdown: String,
    strict_order: bool,
    /// The `mode` parameter as given, for the form and the CSV link.
    mode: String,
    /// Step names no event has carried, with the known names closest to each and the
    /// steps with that name put in.
    unknown: Vec<(String, Vec<(String, String)>)>,
    attributes: Vec<String>,
    rows: Vec<StepRow>,
    chart_svg: String,
    ttc_svg: String,
    breakdown_head: Vec<String>,
    breakdown_rows: Vec<(String, Vec<String>)>,
    outcomes: Vec<OutcomeView>,
    events: Vec<String>,
    empty: bool,
    error: String,
}

const DEFAULT_STEPS: &str = "visit,view_product,add_to_cart,purchase";

fn funnel_defaults(p: &mut FunnelParams) {
    if p.steps.trim().is_empty() {
        p.steps = DEFAULT_STEPS.into();
    }
}

async fn funnel(
    State(state): State<AppState>,
    auth: UiNeed<perm::CustomersRead>,
    ApiQuery(filter): ApiQuery<Filter>,
    ApiQuery(mut p): ApiQuery<FunnelParams>,
) -> UiResult {
    let t = lang_of(&auth).strings();
    funnel_defaults(&mut p);
    let events = event_names(&state).await;
    let (view, error): (Option<FunnelView>, String) =
        match analysis::funnel(&state, &filter, &p).await {
            Ok(v) => (Some(v), String::new()),
            Err(nunchi_app::Error::Invalid { message, .. }) => (None, message),
            Err(e) => return Err(e.into()),
        };
    let outcomes = analysis::post_purchase(&state, &filter, 30 * 86_400).await?;
    let outcome_label = |e: &str| match e {
        "refund" => t.outcome_refund,
        "purchase" => t.outcome_purchase,
        _ => t.outcome_referral,
    };
    let mut page = FunnelPage {
        chrome: Chrome::new(&auth, "/analytics/funnel", t.funnel_title),
        query: filter_query(&filter),
        filter: filter_text(&state, &filter).await?,
        steps_text: p.steps.clone(),
        window: p.window.clone().unwrap_or_else(|| "7d".into()),
        breakdown: p.breakdown.clone().unwrap_or_default(),
        strict_order: p.strict_order,
        mode: p.mode.clone().unwrap_or_default(),
        unknown: view
            .as_ref()
            .map(|v| {
                v.unknown_steps
                    .iter()
                    .map(|u| {
                        let with = |s: &str| {
                            p.steps
                                .split(',')
                                .map(|step| {
                                    if step.trim() == u.name {
                                        s
                                    } else {
                                        step.trim()
                                    }
                                })
                                .collect::<Vec<_>>()
                                .join(",")
                        };
                        let fixes = u.suggestions.iter().map(|s| (s.clone(), with(s))).collect();
                        (u.name.clone(), fixes)
                    })
                    .collect()
            })
            .unwrap_or_default(),
        attributes: state.store.attribute_keys().await?,
        rows: vec![],
        chart_svg: String::new(),
        ttc_svg: String::new(),
        breakdown_head: vec![],
        breakdown_rows: vec![],
        outcomes: outcomes
            .iter()
            .map(|o| OutcomeView {
                label: outcome_label(&o.event),
                converted: o.converted,
                purchasers: o.purchasers,
                rate: pct(o.rate),
            })
            .collect(),
        empty: events.is_empty(),
        events,
        error,
    };
    if let Some(v) = view {
        page.chart_svg = charts::funnel_chart(
            t.funnel_title,
            &v.steps
                .iter()
                .map(|s| charts::Bar {
                    label: s.name.clone(),
                    value: s.customers as f64,
                    shown: format!("{} · {}", super::count(&s.customers), pct(s.of_first)),
                })
                .collect::<Vec<_>>(),
            // Events exist (the page says so otherwise): nobody matched, in this range.
            t.funnel_nobody,
        );
        page.ttc_svg = charts::bar_chart(
            t.funnel_time_to_convert,
            &v.time_to_convert
                .bands
                .iter()
                .enumerate()
                .map(|(band, (_, n))| charts::Bar {
                    label: t.duration_band(band),
                    value: *n as f64,
                    shown: n.to_string(),
                })
                .collect::<Vec<_>>(),
            t.empty_list,
        );
        page.rows = v
            .steps
            .iter()
            .map(|s| StepRow {
                name: s.name.clone(),
                customers: s.customers,
                of_first: pct(s.of_first),
                of_previous: pct(s.of_previous),
                median: s
                    .median_secs
                    .map(|secs| t.duration(secs))
                    .unwrap_or_default(),
            })
            .collect();
        page.breakdown_head = v.steps.iter().map(|s| s.name.clone()).collect();
        page.breakdown_rows = v
            .breakdown
            .iter()
            .map(|b| {
                let first = b.customers.first().copied().unwrap_or(0);
                (
                    b.label.clone(),
                    b.customers
                        .iter()
                        .map(|&n| format!("{n} ({})", pct(ratio(n, first))))
                        .collect(),
                )
            })
            .collect();
    }
    Ok(render(page))
}

async fn funnel_csv(
    State(state): State<AppState>,
    _auth: UiNeed<perm::CustomersRead>,
    ApiQuery(filter): ApiQuery<Filter>,
    ApiQuery(mut p): ApiQuery<FunnelParams>,
) -> UiResult {
    funnel_defaults(&mut p);
    let v = analysis::funnel(&state, &filter, &p).await?;
    let mut rows = vec![vec![
        "breakdown".to_string(),
        "step".into(),
        "event".into(),
        "customers".into(),
        "of_first".into(),
        "of_previous".into(),
        "median_secs_from_first".into(),
    ]];
    for (k, s) in v.steps.iter().enumerate() {
        rows.push(vec![
            "(all)".into(),
            (k + 1).to_string(),
            s.name.clone(),
            s.customers.to_string(),
            format!("{:.4}", s.of_first),
            format!("{:.4}", s.of_previous),
            s.median_secs.map(|m| m.to_string()).unwrap_or_default(),
        ]);
    }
    for b in &v.breakdown {
        for (k, n) in b.customers.iter().enumerate() {
            let prev = if k == 0 {
                b.customers[0]
            } else {
                b.customers[k - 1]
            };
            rows.push(vec![
                b.label.clone(),
                (k + 1).to_string(),
                v.steps[k].name.clone(),
                n.to_string(),
                format!("{:.4}", ratio(*n, b.customers[0])),
                format!("{:.4}", ratio(*n, prev)),
                String::new(),
            ]);
        }
    }
    csv_response("funnel.csv", rows)
}

#[derive(Template)]
#[template(path = "paths.html")]
struct PathsPage {
    chrome: Chrome,
    filter: FilterText,
    query: String,
    start: String,
    after: String,
    sankey_svg: String,
    view: PathsView,
    events: Vec<String>,
}

async fn paths(
    State(state): State<AppState>,
    auth: UiNeed<perm::CustomersRead>,
    ApiQuery(filter): ApiQuery<Filter>,
    ApiQuery(p): ApiQuery<PathParams>,
) -> UiResult {
    let t = lang_of(&auth).strings();
    let view = analysis::paths(&state, &filter, &p).await?;
    let links: Vec<(u8, String, String, u64)> = view
        .sankey
        .iter()
        .map(|l| (l.step, l.from.clone(), l.to.clone(), l.count))
        .collect();
    let page = PathsPage {
        chrome: Chrome::new(&auth, "/analytics/funnel", t.paths_title),
        query: filter_query(&filter),
        filter: filter_text(&state, &filter).await?,
        start: p.start.clone().unwrap_or_default(),
        after: p.after.clone().unwrap_or_default(),
        sankey_svg: charts::sankey(t.paths_sankey, &links, t.analytics_empty),
        view,
        events: event_names(&state).await,
    };
    Ok(render(page))
}

async fn paths_csv(
    State(state): State<AppState>,
    _auth: UiNeed<perm::CustomersRead>,
    ApiQuery(filter): ApiQuery<Filter>,
    ApiQuery(p): ApiQuery<PathParams>,
) -> UiResult {
    let view = analysis::paths(&state, &filter, &p).await?;
    let mut rows = vec![vec![
        "kind".to_string(),
        "step".into(),
        "from".into(),
        "to".into(),
        "count".into(),
    ]];
    for tr in &view.transitions {
        rows.push(vec![
            "transition".into(),
            String::new(),
            tr.from.clone(),
            tr.to.clone(),
            tr.count.to_string(),
        ]);
    }
    for l in &view.sankey {
        rows.push(vec![
            "path".into(),
            l.step.to_string(),
            l.from.clone(),
            l.to.clone(),
            l.count.to_string(),
        ]);
    }
    csv_response("paths.csv", rows)
}

#[derive(Template)]
#[template(path = "retention.html")]
struct RetentionPage {
    chrome: Chrome,
    filter: FilterText,
    query: String,
    period: String,
    cohort_event: String,
    return_event: String,
    heatmap_svg: String,
    /// `segment`, `persona` or empty, with its pooled curves drawn when chosen.
    breakdown: String,
    groups_svg: String,
    events: Vec<String>,
    error: String,
}

async fn retention(
    State(state): State<AppState>,
    auth: UiNeed<perm::CustomersRead>,
    ApiQuery(filter): ApiQuery<Filter>,
    ApiQuery(p): ApiQuery<RetentionParams>,
) -> UiResult {
    let t = lang_of(&auth).strings();
    let (view, error) = match analysis::retention(&state, &filter, &p).await {
        Ok(v) => (v, String::new()),
        Err(nunchi_app::Error::Invalid { message, .. }) => (
            RetentionView {
                period: "week".into(),
                cohorts: vec![],
                groups: vec![],
            },
            message,
        ),
        Err(e) => return Err(e.into()),
    };
    let rows: Vec<(String, u64, Vec<Option<f64>>)> = view
        .cohorts
        .iter()
        .map(|c| (c.start.clone(), c.size, c.rates.clone()))
        .collect();
    let breakdown = p.breakdown.clone().unwrap_or_default();
    let group_rows: Vec<(String, u64, Vec<Option<f64>>)> = view
        .groups
        .iter()
        .map(|g| (g.label.clone(), g.customers, g.rates.clone()))
        .collect();
    let unit = match view.period.as_str() {
        "day" => t.retention_unit_day,
        "month" => t.retention_unit_month,
        _ => t.retention_unit_week,
    };
    let groups_svg = if breakdown.is_empty() {
        String::new()
    } else {
        charts::heatmap(
            &charts::HeatmapLabels {
                title: t.retention_by_group,
                empty: t.analytics_empty,
                row_head: if breakdown == "persona" {
                    t.nav_personas
                } else {
                    t.nav_segments
                },
                size_head: t.retention_size,
                unit,
                not_yet: t.retention_not_yet,
            },
            &group_rows,
        )
    };
    let page = RetentionPage {
        chrome: Chrome::new(&auth, "/analytics/funnel", t.retention_title),
        query: filter_query(&filter),
        filter: filter_text(&state, &filter).await?,
        period: p.period.clone().unwrap_or_else(|| "week".into()),
        cohort_event: p.cohort_event.clone().unwrap_or_default(),
        return_event: p.return_event.clone().unwrap_or_default(),
        heatmap_svg: charts::heatmap(
            &charts::HeatmapLabels {
                title: t.retention_chart,
                empty: t.analytics_empty,
                row_head: t.retention_cohort,
                size_head: t.retention_size,
                unit,
                not_yet: t.retention_not_yet,
            },
            &rows,
        ),
        breakdown,
        groups_svg,
        events: event_names(&state).await,
        error,
    };
    Ok(render(page))
}

async fn retention_csv(
    State(state): State<AppState>,
    _auth: UiNeed<perm::CustomersRead>,
    ApiQuery(filter): ApiQuery<Filter>,
    ApiQuery(p): ApiQuery<RetentionParams>,
) -> UiResult {
    let view = analysis::retention(&state, &filter, &p).await?;
    let periods = view
        .cohorts
        .iter()
        .map(|c| c.returned.len())
        .max()
        .unwrap_or(0);
    // Columns named by their unit (`week_0` …); a period that has not begun is empty.
    let mut head = vec!["cohort_start".to_string(), "cohort_customers".into()];
    head.extend((0..periods).map(|k| format!("{}_{k}", view.period)));
    let mut rows = vec![head];
    for c in &view.cohorts {
        let mut r = vec![c.start.clone(), c.size.to_string()];
        r.extend(
            c.returned
                .iter()
                .map(|n| n.map(|n| n.to_string()).unwrap_or_default()),
        );
        rows.push(r);
    }
    csv_response("retention.csv", rows)
}
