//! Orders over JSON: upsert line items (the same shape as a CSV row) and record refunds.

use axum::Json;
use nunchi_core::{
    channel::Channel,
    import::{OrderLine, OrderStatus},
    money::{Currency, Money},
    time::Millis,
};
use nunchi_store::model::OrderRow;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{
    AppState,
    error::{AppError, AppResult},
    extract::{ApiJson, ApiPath},
};
use nunchi_app::import::RowError;

/// Routes and their OpenAPI operations, both from each handler's `#[utoipa::path]`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upsert))
        .routes(routes!(refund))
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
    OrderLine {
        order_id: l.order_id.trim().to_string(),
        customer_external_id: l.customer_external_id.trim().to_string(),
        placed_at: Millis::parse(&l.placed_at)?,
        status: OrderStatus::parse(&l.status)?,
        channel: Channel::parse_checked(&l.channel)?,
        product: l.product.trim().to_string(),
        category: l.category.trim().to_string(),
        unit_price: Money::parse(&l.unit_price, currency)?,
        quantity: l.quantity,
        refunded: None,
    }
    .checked()
}

/// Whether a line's error is an amount out of range (not merely unreadable): such a
/// request is refused whole, since no real order carries a negative or astronomically
/// large price. An unreadable number stays a line error like any other.
fn is_amount_error(e: &nunchi_core::CoreError) -> bool {
    matches!(e.field, "unit_price" | "line_total" | "order_total")
}

/// Refuses the request when any amount is out of range: a line's price or total, or an
/// order's total over the lines sent together.
fn check_amounts(parsed: &[nunchi_core::CoreResult<OrderLine>]) -> AppResult<()> {
    for (i, p) in parsed.iter().enumerate() {
        if let Err(e) = p
            && is_amount_error(e)
        {
            return Err(AppError::bad_request(
                "invalid_amount",
                format!("line {}: {e}", i + 1),
            ));
        }
    }
    let mut orders: std::collections::HashMap<&str, (Currency, Vec<i64>)> = Default::default();
    for line in parsed.iter().flatten() {
        let total = line.unit_price.line_total(line.quantity)?.minor;
        let entry = orders
            .entry(&line.order_id)
            .or_insert_with(|| (line.unit_price.currency, Vec::new()));
        entry.1.push(total);
    }
    for (order, (currency, totals)) in orders {
        Money::checked_total(currency, totals)
            .map_err(|e| AppError::bad_request("invalid_amount", format!("order {order}: {e}")))?;
    }
    Ok(())
}

#[utoipa::path(post, path = "/api/v1/orders", security(("bearer" = ["customers_write"])), tag = "orders", request_body = OrderLinesInput, responses((status = 200, body = OrderLinesResult)))]
pub async fn upsert(
    state: axum::extract::State<AppState>,
    auth: crate::auth::Auth,
    ApiJson(input): ApiJson<OrderLinesInput>,
) -> AppResult<Json<OrderLinesResult>> {
    if input.lines.len() > 1000 {
        return Err(AppError::bad_request(
            "too_many_lines",
            "send at most 1000 lines per request",
        ));
    }
    let parsed: Vec<_> = input.lines.iter().map(parse_line).collect();
    check_amounts(&parsed)?;
    let mut errors = Vec::new();
    let mut good = Vec::new();
    for (i, l) in parsed.into_iter().enumerate() {
        match l {
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
        .zip(nunchi_app::orders::write_lines(&state, &auth.as_actor(), &lines).await?)
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

#[utoipa::path(post, path = "/api/v1/orders/{id}/refunds", security(("bearer" = ["customers_write"])), tag = "orders", params(("id" = i64, Path)), request_body = RefundInput,
    responses((status = 200, body = OrderRow), (status = 409, body = crate::error::ErrorBody)))]
pub async fn refund(
    state: axum::extract::State<AppState>,
    auth: crate::auth::Auth,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<RefundInput>,
) -> AppResult<Json<OrderRow>> {
    Ok(Json(
        nunchi_app::orders::refund(&state, &auth.as_actor(), id, &input.amount).await?,
    ))
}
