//! The dashboard: headline counts and charts of sign-ups and revenue.

use askama::Template;
use axum::{Router, extract::State, response::Response, routing::get};

use super::{Chrome, UiAuth, UiResult, charts, fmt_money, lang_of, render};
use crate::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/", get(dashboard))
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    stats: nunchi_store::model::Stats,
    signups_svg: String,
    revenue_svg: String,
}

async fn dashboard(State(state): State<AppState>, UiAuth(auth): UiAuth) -> UiResult {
    let t = lang_of(&auth).strings();
    let stats = state.store.stats().await?;
    // Sign-ups per month for the last 12 months that have any.
    let mut months: Vec<(String, f64)> = Vec::new();
    for (day, n) in state.store.daily_signups().await? {
        let date = jiff::civil::Date::new(1970, 1, 1)
            .ok()
            .and_then(|d| d.checked_add(jiff::Span::new().days(day)).ok());
        let key = date
            .map(|d| d.strftime("%Y-%m").to_string())
            .unwrap_or_default();
        match months.last_mut() {
            Some((k, v)) if *k == key => *v += n as f64,
            _ => months.push((key, n as f64)),
        }
    }
    let recent = &months[months.len().saturating_sub(12)..];
    let signups: Vec<charts::Bar> = recent
        .iter()
        .map(|(k, v)| charts::Bar {
            label: k.clone(),
            value: *v,
            shown: format!("{v}"),
        })
        .collect();
    let revenue: Vec<charts::Bar> = state
        .store
        .revenue_by_channel()
        .await?
        .into_iter()
        .filter(|(_, cur, _)| cur == "KRW")
        .map(|(channel, cur, minor)| charts::Bar {
            label: channel,
            value: minor as f64,
            shown: fmt_money(minor, &cur),
        })
        .collect();
    let page = DashboardPage {
        chrome: Chrome::new(&auth, "/", t.dashboard_title),
        stats,
        signups_svg: charts::bar_chart(t.chart_signups, &signups, t.empty_list),
        revenue_svg: charts::bar_chart(t.chart_channels, &revenue, t.empty_list),
    };
    Ok::<Response, _>(render(page))
}
