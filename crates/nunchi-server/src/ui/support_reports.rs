//! The support report page: for conversations started in a chosen period, the headline
//! figures, new conversations per day as a chart, and tables per channel, team and agent,
//! with the rows as a CSV download.

use askama::Template;
use axum::{Router, extract::State, routing::get};
use nunchi_app::support_report::{GroupRow, SupportStats};
use nunchi_core::conversation::ConversationChannel;
use serde::Deserialize;

use super::{Chrome, UiNeed, UiResult, charts, inbox::channel_label, lang_of, render};
use crate::{AppState, auth::perm, extract::ApiQuery, i18n::Strings};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/inbox/reports", get(page))
        .route("/inbox/reports.csv", get(download))
}

#[derive(Debug, Default, Deserialize)]
struct Period {
    from: Option<String>,
    to: Option<String>,
}

/// One table row, formatted.
struct Line {
    name: String,
    conversations: String,
    resolved: String,
    still_open: String,
    first_response: String,
    resolution: String,
    sla: String,
    reopen: String,
}

fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{:.0}%", v * 100.0))
        .unwrap_or_else(|| "—".into())
}

fn pair(t: &Strings, median: Option<i64>, p90: Option<i64>) -> String {
    match (median, p90) {
        (Some(m), Some(p)) => format!(
            "{} / {}",
            t.duration(m.max(0) as u64),
            t.duration(p.max(0) as u64)
        ),
        _ => "—".into(),
    }
}

fn line(t: &Strings, name: String, s: &SupportStats) -> Line {
    Line {
        name,
        conversations: crate::ui::count(&s.conversations),
        resolved: crate::ui::count(&s.resolved),
        still_open: crate::ui::count(&s.still_open),
        first_response: pair(t, s.first_response_median_secs, s.first_response_p90_secs),
        resolution: pair(t, s.resolution_median_secs, s.resolution_p90_secs),
        sla: pct(s.sla_hit_rate),
        reopen: pct(s.reopen_rate),
    }
}

#[derive(Template)]
#[template(path = "support_reports.html")]
struct Page {
    chrome: Chrome,
    from: String,
    to: String,
    csv_href: String,
    overall: Line,
    empty: bool,
    chart: String,
    tables: Vec<(&'static str, &'static str, Vec<Line>)>,
}

fn date_of(ms: i64, tz: &jiff::tz::TimeZone) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_zoned(tz.clone()).date().to_string())
        .unwrap_or_default()
}

async fn page(
    State(state): State<AppState>,
    auth: UiNeed<perm::InboxRead>,
    ApiQuery(p): ApiQuery<Period>,
) -> UiResult {
    let t = lang_of(&auth).strings();
    let (from, to) = nunchi_app::scores::range_ms(&state, p.from.as_deref(), p.to.as_deref())?;
    let report = nunchi_app::support_report::report(&state, &auth.as_actor(), from, to).await?;
    // Channels in the reader's words; a team or agent by name, or "no team" / "unassigned".
    let rows = |groups: &[GroupRow], none: &str, channels: bool| -> Vec<Line> {
        groups
            .iter()
            .map(|g| {
                let name = match (&g.name, channels) {
                    (Some(key), true) => ConversationChannel::parse(key)
                        .map(|c| channel_label(t, c).to_string())
                        .unwrap_or_else(|_| key.clone()),
                    (Some(name), false) => name.clone(),
                    (None, _) => none.to_string(),
                };
                line(t, name, &g.stats)
            })
            .collect()
    };
    let bars: Vec<charts::Bar> = report
        .daily
        .iter()
        .map(|d| {
            let n: u64 = d.by_channel.iter().sum();
            charts::Bar {
                label: d.day.get(5..).unwrap_or(&d.day).to_string(),
                value: n as f64,
                shown: crate::ui::count(&n),
            }
        })
        .collect();
    let tz = &state.config.time_zone;
    let (from_day, to_day) = (date_of(from, tz), date_of(to - 1, tz));
    Ok(render(Page {
        chrome: Chrome::new(&auth, "/inbox", t.reports_title),
        csv_href: format!(
            "/inbox/reports.csv?{}",
            serde_urlencoded::to_string([("from", &from_day), ("to", &date_of(to, tz))])
                .unwrap_or_default()
        ),
        from: from_day,
        to: to_day,
        overall: line(t, String::new(), &report.overall),
        empty: report.overall.conversations == 0,
        chart: charts::bar_chart(t.reports_volume, &bars, t.reports_empty),
        tables: vec![
            (
                t.reports_by_channel,
                "report-channels",
                rows(&report.by_channel, "", true),
            ),
            (
                t.reports_by_team,
                "report-teams",
                rows(&report.by_team, t.no_team, false),
            ),
            (
                t.reports_by_agent,
                "report-agents",
                rows(&report.by_agent, t.unassigned, false),
            ),
        ],
    }))
}

async fn download(
    State(state): State<AppState>,
    auth: UiNeed<perm::InboxRead>,
    ApiQuery(p): ApiQuery<Period>,
) -> UiResult {
    Ok(crate::files::support_report_csv(&state, &auth, p.from.as_deref(), p.to.as_deref()).await?)
}
