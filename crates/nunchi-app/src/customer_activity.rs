//! What a customer said and did, for the Customer 360 page and its endpoint alike: their
//! recent feedback (masked as the caller must see it), what they spent — orders, net of
//! refunds, and the average order per currency — and when they were last seen.

use std::collections::BTreeMap;

use nunchi_core::{access::Permission, import::OrderStatus};
use nunchi_store::model::{Feedback, Order};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{Actor, App, Error, Result};

/// Feedback the page shows at most.
const FEEDBACK_ITEMS: i64 = 20;

/// Spend in one currency, net of refunds, cancelled orders left out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Spend {
    pub currency: String,
    pub orders: i64,
    pub net_minor: i64,
    /// Net spend per order.
    pub average_minor: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CustomerActivity {
    pub spend: Vec<Spend>,
    pub first_order_at: Option<i64>,
    pub last_order_at: Option<i64>,
    /// Their latest touchpoint event, Unix ms.
    pub last_seen_at: Option<i64>,
    /// Newest first.
    #[schema(value_type = Vec<Object>)]
    pub feedback: Vec<Feedback>,
}

/// Net spend per currency over `orders` (cancelled ones left out), by currency code.
pub fn spend(orders: &[Order]) -> Vec<Spend> {
    let mut by: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for o in orders
        .iter()
        .filter(|o| o.row.status != OrderStatus::Cancelled)
    {
        let e = by.entry(o.row.currency.code().to_string()).or_default();
        e.0 += 1;
        e.1 += (o.row.total_minor - o.row.refunded_minor).max(0);
    }
    by.into_iter()
        .map(|(currency, (orders, net_minor))| Spend {
            currency,
            orders,
            net_minor,
            average_minor: if orders > 0 { net_minor / orders } else { 0 },
        })
        .collect()
}

pub async fn activity(app: &App, actor: &Actor, customer_id: i64) -> Result<CustomerActivity> {
    if !actor.can(Permission::CustomersRead) {
        return Err(Error::Forbidden);
    }
    app.store.customer(customer_id).await?;
    let orders = app.store.orders_of(customer_id).await?;
    let feedback = app
        .store
        .list_feedback(&nunchi_store::model::FeedbackFilter {
            customer_id: Some(customer_id),
            limit: FEEDBACK_ITEMS,
            ..Default::default()
        })
        .await?
        .into_iter()
        .map(|f| crate::privacy::masked_feedback(f, actor))
        .collect();
    let last_seen_at = app
        .store
        .customer_events(customer_id, 1)
        .await?
        .first()
        .map(|e| e.ts);
    Ok(CustomerActivity {
        spend: spend(&orders),
        first_order_at: orders.iter().map(|o| o.row.placed_at).min(),
        last_order_at: orders.iter().map(|o| o.row.placed_at).max(),
        last_seen_at,
        feedback,
    })
}
