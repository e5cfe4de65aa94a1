//! The customer value page: the RFM grid with how many customers sit in each cell, the
//! named cells with their size, mean 12-month value and probability of still being a
//! customer, and how value is spread as a chart — all from
//! `nunchi_app::customer_models`, as `GET /api/v1/customer-value` serves it.

use askama::Template;
use axum::{Router, extract::State, routing::get};
use nunchi_app::customer_models;
use nunchi_charts as charts;

use super::{
    Chrome, UiNeed, UiResult, count, customers::rfm_cell_name, fmt_major, lang_of, render,
};
use crate::{AppState, auth::perm};

pub fn routes() -> Router<AppState> {
    Router::new().route("/customer-value", get(page))
}

struct CellRow {
    name: &'static str,
    key: String,
    customers: String,
    share: String,
    clv: String,
    alive: String,
}

#[derive(Template)]
#[template(path = "customer_value.html")]
struct Page {
    chrome: Chrome,
    figures: Vec<(&'static str, String)>,
    /// R from 5 (top) to 1, each with its five F cells: (count, shade 0–100).
    grid: Vec<(u8, Vec<(String, u8)>)>,
    cells: Vec<CellRow>,
    chart: String,
    empty: bool,
}

async fn page(State(state): State<AppState>, auth: UiNeed<perm::CustomersRead>) -> UiResult {
    let t = lang_of(&auth).strings();
    let o = customer_models::overview_of(&state, &auth.as_actor()).await?;
    let money = |major: f64| fmt_major(major, &o.currency);
    let most = o.grid.iter().flatten().copied().max().unwrap_or(0).max(1);
    let grid = (1..=5u8)
        .rev()
        .map(|r| {
            let row = o.grid[usize::from(r) - 1]
                .iter()
                .map(|&n| (count(&n), (n * 100 / most) as u8))
                .collect();
            (r, row)
        })
        .collect();
    let mut figures = vec![(t.cv_customers, count(&o.customers))];
    if let Some(total) = o.total_clv {
        figures.push((t.cv_total, money(total)));
        figures.push((t.cv_mean, money(total / o.customers.max(1) as f64)));
    }
    let cells = o
        .cells
        .iter()
        .map(|c| CellRow {
            name: rfm_cell_name(t, &c.cell),
            key: c.cell.clone(),
            customers: count(&c.customers),
            share: format!("{:.1}%", c.share * 100.0),
            clv: c.mean_clv.map(money).unwrap_or_else(|| "—".into()),
            alive: c
                .mean_probability_alive
                .map(|p| format!("{:.0}%", p * 100.0))
                .unwrap_or_else(|| "—".into()),
        })
        .collect();
    let bars: Vec<charts::Bar> = o
        .clv_histogram
        .iter()
        .map(|b| charts::Bar {
            label: match b.to {
                Some(_) => money(b.from),
                None => format!("{}+", money(b.from)),
            },
            value: b.customers as f64,
            shown: count(&b.customers),
        })
        .collect();
    let chart = charts::bar_chart(t.cv_chart, &bars, t.cv_empty);
    Ok(render(Page {
        chrome: Chrome::new(&auth, "/customer-value", t.nav_customer_value),
        figures,
        grid,
        cells,
        chart,
        empty: o.customers == 0,
    }))
}
