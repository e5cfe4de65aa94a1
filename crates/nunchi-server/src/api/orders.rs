//! Orders over JSON: upsert line items (the same shape as a CSV row) and record refunds.

use axum::{Json, Router, routing::post};
use nunchi_core::{
    import::{OrderLine, OrderStatus, SalesChannel},
    money::{Currency, Money},
    time::Millis,
};
use nunchi_store::model::OrderRow;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::{
    AppState,
    auth::{Need, perm},
    error::{AppError, AppResult},
    extract::{ApiJson, ApiPath},
    import::RowError,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/orders", post(upsert))
        .route("/api/v1/orders/{id}/refunds", post(refund))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OrderLineInput {
    pub order_id: String,
    pub customer_external_id: String,
    /// RFC 3339.
    pub placed_at: String,
    #[serde(default = "paid")]
    pub status: String,
    /// ISO 4217; KRW when left out.
    #[serde(default = "krw")]
    pub currency: String,
    #[serde(default = "web")]
    pub channel: String,
    pub product: String,
    #[serde(default)]
    pub category: String,
    /// Decimal text in the currency's units: `"32000"` (KRW), `"19.99"` (USD).
    pub unit_price: String,
    pub quantity: i64,
}

fn paid() -> String {
    "paid".into()
}
fn krw() -> String {
    "KRW".into()
}
fn web() -> String {
    "web".into()
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct OrderLinesInput {
    pub lines: Vec<OrderLineInput>,
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct OrderLinesResult {
    pub accepted: u64,
    /// Rejected lines, numbered from 1 in the order sent.
    pub errors: Vec<RowError>,
}

fn parse_line(l: &OrderLineInput) -> nunchi_core::CoreResult<OrderLine> {
    let currency = Currency::parse(&l.currency)?;
    if !(1..=100_000).contains(&l.quantity) {
        return Err(nunchi_core::CoreError::new(
            "quantity",
            "must be from 1 to 100000",
        ));
    }
    Ok(OrderLine {
        order_id: l.order_id.trim().to_string(),
        customer_external_id: l.customer_external_id.trim().to_string(),
        placed_at: Millis::parse(&l.placed_at)?,
        status: OrderStatus::parse(&l.status)?,
        channel: SalesChannel::parse(&l.channel)?,
        product: l.product.trim().to_string(),
        category: l.category.trim().to_string(),
        unit_price: Money::parse(&l.unit_price, currency)?,
        quantity: l.quantity,
        refunded: None,
    })
}

#[utoipa::path(post, path = "/api/v1/orders", tag = "orders", request_body = OrderLinesInput, responses((status = 200, body = OrderLinesResult)))]
pub async fn upsert(
    _auth: Need<perm::CustomersWrite>,
    state: axum::extract::State<AppState>,
    ApiJson(input): ApiJson<OrderLinesInput>,
) -> AppResult<Json<OrderLinesResult>> {
    if input.lines.len() > 1000 {
        return Err(AppError::bad_request(
            "too_many_lines",
            "send at most 1000 lines per request",
        ));
    }
    let mut errors = Vec::new();
    let mut good = Vec::new();
    for (i, l) in input.lines.iter().enumerate() {
        match parse_line(l) {
            Ok(line) => good.push((i as u64 + 1, line)),
            Err(e) => errors.push(RowError {
                line: i as u64 + 1,
                reason: e.to_string(),
            }),
        }
    }
    let lines: Vec<OrderLine> = good.iter().map(|(_, l)| l.clone()).collect();
    let mut accepted = 0;
    for ((n, _), r) in good
        .iter()
        .zip(state.store.upsert_order_lines(&lines).await?)
    {
        match r {
            Ok(_) => accepted += 1,
            Err(e) => errors.push(RowError {
                line: *n,
                reason: e.to_string(),
            }),
        }
    }
    errors.sort_by_key(|e| e.line);
    Ok(Json(OrderLinesResult { accepted, errors }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RefundInput {
    /// Decimal text in the order's currency.
    pub amount: String,
}

#[utoipa::path(post, path = "/api/v1/orders/{id}/refunds", tag = "orders", params(("id" = i64, Path)), request_body = RefundInput,
    responses((status = 200, body = OrderRow), (status = 409, body = crate::error::ErrorBody)))]
pub async fn refund(
    _auth: Need<perm::CustomersWrite>,
    state: axum::extract::State<AppState>,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<RefundInput>,
) -> AppResult<Json<OrderRow>> {
    let order = state.store.order(id).await?;
    let amount = Money::parse(&input.amount, Currency::parse(&order.row.currency)?)?;
    Ok(Json(state.store.refund_order(id, amount.minor).await?))
}
