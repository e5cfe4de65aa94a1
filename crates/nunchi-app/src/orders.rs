//! Orders as operations: writing line items and recording refunds. Both bring the
//! customer's points up to date (`loyalty::earning`), as the CSV import does for its rows,
//! and mark the customer models (lifetime value, recommendations) stale; live segments judge
//! the customers again once the models hold the change.

use nunchi_core::{access::Permission, import::OrderLine, money::Money};
use nunchi_store::{StoreResult, model::OrderRow};

use crate::{App, Error, Result, actor::Actor};

/// Upserts order lines (one result per line: the order's id or why the line was refused),
/// then follows the written orders' points.
pub async fn write_lines(
    app: &App,
    actor: &Actor,
    lines: &[OrderLine],
) -> Result<Vec<StoreResult<i64>>> {
    if !actor.can(Permission::CustomersWrite) {
        return Err(Error::Forbidden);
    }
    let written = app.store.upsert_order_lines(lines).await?;
    let ids: Vec<i64> = written
        .iter()
        .filter_map(|r| r.as_ref().ok().copied())
        .collect();
    crate::loyalty::earning::follow_orders(app.store.as_ref(), app.now(), &ids).await?;
    app.customer_models.mark_stale();
    let customers = app.store.orders_by_ids(&ids).await?;
    app.segment_upkeep
        .touches
        .orders(customers.iter().map(|o| o.row.customer_id));
    Ok(written)
}

/// Records a refund of `amount` (decimal text in the order's currency); the points the
/// order earned are reversed in proportion, and points spent on it returned.
pub async fn refund(app: &App, actor: &Actor, order_id: i64, amount: &str) -> Result<OrderRow> {
    if !actor.can(Permission::CustomersWrite) {
        return Err(Error::Forbidden);
    }
    let order = app.store.order(order_id).await?;
    let amount = Money::parse_amount(amount, order.row.currency)?;
    let row = app.store.refund_order(order_id, amount.minor).await?;
    crate::loyalty::earning::follow_orders(app.store.as_ref(), app.now(), &[order_id]).await?;
    app.customer_models.mark_stale();
    app.segment_upkeep.touches.orders([row.customer_id]);
    Ok(row)
}
