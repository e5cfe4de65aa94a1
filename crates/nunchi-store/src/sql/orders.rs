//! `OrderStore` in SQL shared by both backends: orders with line items, totals derived
//! from the items, refunds.

pub(crate) const ATTACH_ITEMS: &str = "
    SELECT order_id, product, category, unit_price_minor, quantity FROM order_items
    WHERE order_id >= $1 AND order_id <= $2 ORDER BY id";

pub(crate) const EXISTING_ORDERS: &str = "SELECT external_id FROM orders WHERE external_id IN (";

pub(crate) const CUSTOMERS_BY_EXTERNAL_ID_SELECT_IDENTITIES: &str = "
    SELECT value, customer_id FROM customer_identities WHERE kind = 'external_id' AND value IN (";

pub(crate) const INSERT_ORDERS_INSERT_ORDERS: &str = "
    INSERT INTO orders (id, external_id, customer_id, status, currency, channel, total_minor,
    refunded_minor, placed_at, created_at)";

pub(crate) const INSERT_ORDERS_INSERT_ORDER_ITEMS: &str = "
    INSERT INTO order_items (order_id, product, category, unit_price_minor, quantity)";

pub(crate) const WRITE_ORDER_LINE_SELECT_IDENTITIES: &str = "
    SELECT customer_id FROM customer_identities WHERE kind = 'external_id' AND value = $1";

pub(crate) const WRITE_ORDER_LINE_SELECT_ORDERS: &str =
    "SELECT currency FROM orders WHERE external_id = $1";

pub(crate) const WRITE_ORDER_LINE_INSERT_ORDERS: &str = "
    INSERT INTO orders (external_id, customer_id, status, currency, channel, total_minor,
    refunded_minor, placed_at, created_at) VALUES ($1, $2, $3, $4, $5, 0, $6, $7, $8)
    ON CONFLICT (external_id) DO UPDATE
    SET customer_id = excluded.customer_id, status = excluded.status, channel = excluded.channel,
    placed_at = excluded.placed_at, refunded_minor = CASE WHEN $9 THEN excluded.refunded_minor
    ELSE orders.refunded_minor END RETURNING id";

pub(crate) const WRITE_ORDER_LINE_INSERT_ORDER_ITEMS: &str = "
    INSERT INTO order_items (order_id, product, category, unit_price_minor, quantity)
    VALUES ($1, $2, $3, $4, $5) ON CONFLICT (order_id, product) DO UPDATE
    SET category = excluded.category, unit_price_minor = excluded.unit_price_minor, quantity =
    excluded.quantity";

pub(crate) const WRITE_ORDER_LINE_SELECT_ORDER_ITEMS: &str = "
    SELECT unit_price_minor * quantity FROM order_items WHERE order_id = $1";

pub(crate) const WRITE_ORDER_LINE_UPDATE_ORDERS: &str =
    "UPDATE orders SET total_minor = $2 WHERE id = $1";

pub(crate) const ORDER: &str = "
    SELECT id, external_id, customer_id, status, currency, channel, total_minor, refunded_minor,
    placed_at FROM orders WHERE id = $1";

pub(crate) const ORDERS_OF: &str = "
    SELECT id, external_id, customer_id, status, currency, channel, total_minor, refunded_minor,
    placed_at FROM orders WHERE customer_id = $1 ORDER BY placed_at DESC, id DESC";

pub(crate) const ORDERS_BY_IDS: &str = "
    SELECT id, external_id, customer_id, status, currency, channel, total_minor, refunded_minor,
    placed_at FROM orders WHERE id IN (";

/// Per product: category, first and last sale, units, and units since `$1` (cancelled
/// orders left out).
pub(crate) const PRODUCT_SALES: &str = "
    SELECT i.product, MAX(i.category), MIN(o.placed_at), MAX(o.placed_at),
    CAST(SUM(i.quantity) AS BIGINT), CAST(SUM(CASE WHEN o.placed_at >= $1 THEN i.quantity ELSE 0
    END) AS BIGINT)
    FROM order_items i JOIN orders o ON o.id = i.order_id
    WHERE o.status <> 'cancelled'
    GROUP BY i.product
    ORDER BY i.product";

/// Order lines placed in `($1, $2]` in currency `$3` (of customer `$4`, or everyone's when
/// it is 0), with their order's total and refunded amount, for tiers on spend.
pub(crate) const SPEND_LINES: &str = "
    SELECT o.customer_id, o.total_minor, CASE WHEN o.status IN ('refunded', 'cancelled')
    THEN o.total_minor ELSE o.refunded_minor END, i.unit_price_minor * i.quantity, i.product,
    i.category
    FROM orders o JOIN order_items i ON i.order_id = o.id
    WHERE o.placed_at > $1 AND o.placed_at <= $2 AND o.currency = $3 AND o.status <> 'pending'
    AND ($4 = 0 OR o.customer_id = $4)
    ORDER BY o.customer_id";

pub(crate) const PURCHASE_LINES_PAGE: &str = "
    SELECT i.id AS line_id, o.id AS order_id, o.customer_id, o.placed_at, o.currency, i.product,
    i.category, i.unit_price_minor * i.quantity AS line_minor, o.total_minor AS order_total_minor,
    CASE WHEN o.status = 'refunded' THEN o.total_minor ELSE o.refunded_minor END AS
    order_refunded_minor
    FROM order_items i JOIN orders o ON o.id = i.order_id
    WHERE i.id > $1 AND o.status NOT IN ('pending', 'cancelled')
    ORDER BY i.id LIMIT $2";

pub(crate) const ORDERS_PAGE: &str = "
    SELECT id, external_id, customer_id, status, currency, channel, total_minor, refunded_minor,
    placed_at FROM orders WHERE id > $1 ORDER BY id LIMIT $2";

pub(crate) const REFUND_ORDER_SELECT_ORDERS: &str = "
    SELECT id, external_id, customer_id, status, currency, channel, total_minor, refunded_minor,
    placed_at FROM orders WHERE id = $1";

pub(crate) const REFUND_ORDER_UPDATE_ORDERS: &str = "
    UPDATE orders SET refunded_minor = $2, status = $3 WHERE id = $1
    RETURNING id, external_id, customer_id, status, currency, channel, total_minor,
    refunded_minor, placed_at";

pub(crate) const REVENUE_BY_CHANNEL_SELECT_ORDERS: &str = "
    SELECT channel, currency, CAST(COALESCE(SUM(total_minor / 1000000000), 0) AS BIGINT),
    CAST(COALESCE(SUM(total_minor % 1000000000), 0) AS BIGINT), CAST(COALESCE(SUM(refunded_minor /
    1000000000), 0) AS BIGINT), CAST(COALESCE(SUM(refunded_minor % 1000000000), 0) AS BIGINT)
    FROM orders GROUP BY channel, currency ORDER BY channel, currency";

macro_rules! impl_order_store {
    ($store:ty, $db:ty) => {
        impl $store {
            async fn attach_items(
                conn: &mut <$db as sqlx::Database>::Connection,
                rows: Vec<$crate::model::OrderRow>,
            ) -> $crate::StoreResult<Vec<$crate::model::Order>> {
                let (Some(lo), Some(hi)) = (
                    rows.iter().map(|r| r.id).min(),
                    rows.iter().map(|r| r.id).max(),
                ) else {
                    return Ok(vec![]);
                };
                let items: Vec<(i64, String, String, i64, i64)> =
                    sqlx::query_as($crate::sql::orders::ATTACH_ITEMS)
                        .bind(lo)
                        .bind(hi)
                        .fetch_all(&mut *conn)
                        .await?;
                let mut out: Vec<$crate::model::Order> = rows
                    .into_iter()
                    .map(|row| $crate::model::Order { row, items: vec![] })
                    .collect();
                // Items come for every order in the id range; a map finds each one's order.
                let at: std::collections::HashMap<i64, usize> =
                    out.iter().enumerate().map(|(i, o)| (o.row.id, i)).collect();
                for (order_id, product, category, unit_price_minor, quantity) in items {
                    if let Some(o) = at.get(&order_id).map(|i| &mut out[*i]) {
                        o.items.push($crate::model::OrderItem {
                            product,
                            category,
                            unit_price_minor,
                            quantity,
                        });
                    }
                }
                Ok(out)
            }

            async fn existing_orders(
                conn: &mut <$db as sqlx::Database>::Connection,
                lines: &[nunchi_core::import::OrderLine],
            ) -> $crate::StoreResult<std::collections::HashSet<String>> {
                let mut ids: Vec<&str> = lines.iter().map(|l| l.order_id.as_str()).collect();
                ids.sort_unstable();
                ids.dedup();
                let mut found = std::collections::HashSet::new();
                for chunk in ids.chunks(5000) {
                    let mut qb =
                        sqlx::QueryBuilder::<$db>::new($crate::sql::orders::EXISTING_ORDERS);
                    let mut sep = qb.separated(", ");
                    for id in chunk {
                        sep.push_bind(id.to_string());
                    }
                    qb.push(")");
                    found.extend(
                        qb.build_query_scalar::<String>()
                            .fetch_all(&mut *conn)
                            .await?,
                    );
                }
                Ok(found)
            }

            async fn customers_by_external_id(
                conn: &mut <$db as sqlx::Database>::Connection,
                lines: &[nunchi_core::import::OrderLine],
            ) -> $crate::StoreResult<std::collections::HashMap<String, i64>> {
                let mut ids: Vec<&str> = lines
                    .iter()
                    .map(|l| l.customer_external_id.as_str())
                    .collect();
                ids.sort_unstable();
                ids.dedup();
                let mut found = std::collections::HashMap::new();
                for chunk in ids.chunks(5000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        $crate::sql::orders::CUSTOMERS_BY_EXTERNAL_ID_SELECT_IDENTITIES,
                    );
                    let mut sep = qb.separated(", ");
                    for id in chunk {
                        sep.push_bind(id.to_string());
                    }
                    qb.push(")");
                    found.extend(
                        qb.build_query_as::<(String, i64)>()
                            .fetch_all(&mut *conn)
                            .await?,
                    );
                }
                Ok(found)
            }

            /// Creates new orders, one statement each, and all their items in bulk. Within an
            /// order a later line for the same product replaces the earlier one, and the last
            /// line's status, channel and time win, as they would line by line.
            async fn insert_orders(
                conn: &mut <$db as sqlx::Database>::Connection,
                lines: &[nunchi_core::import::OrderLine],
                groups: &[(String, Vec<usize>)],
                customers: &std::collections::HashMap<String, i64>,
                now: i64,
            ) -> $crate::StoreResult<Vec<i64>> {
                let ids = Self::reserve_ids(&mut *conn, "orders", groups.len()).await?;
                let mut orders: Vec<(i64, &str, i64, &nunchi_core::import::OrderLine, i64, i64)> =
                    Vec::with_capacity(groups.len());
                let mut items: Vec<(i64, &nunchi_core::import::OrderLine)> = Vec::new();
                for ((order, g), id) in groups.iter().zip(ids.iter().copied()) {
                    let last = &lines[*g.last().unwrap_or(&0)];
                    let currency = lines[g[0]].unit_price.currency;
                    let mut products: Vec<&nunchi_core::import::OrderLine> = Vec::new();
                    for i in g {
                        let l = &lines[*i];
                        if l.unit_price.currency != currency {
                            return Err($crate::StoreError::Conflict(format!(
                                "order {order} mixes currencies"
                            )));
                        }
                        products.retain(|p| p.product != l.product);
                        products.push(l);
                    }
                    let total = nunchi_core::money::Money::checked_total(
                        currency,
                        products
                            .iter()
                            .map(|l| l.unit_price.minor.saturating_mul(l.quantity)),
                    )
                    .map_err(|e| $crate::StoreError::Conflict(format!("order {order}: {e}")))?
                    .minor;
                    let refunded = g
                        .iter()
                        .rev()
                        .find_map(|i| lines[*i].refunded)
                        .map(|m| m.minor)
                        .unwrap_or(0);
                    let customer = customers
                        .get(&last.customer_external_id)
                        .copied()
                        .ok_or_else(|| {
                            $crate::StoreError::NotFound(last.customer_external_id.clone())
                        })?;
                    orders.push((id, order.as_str(), customer, last, total, refunded));
                    items.extend(products.into_iter().map(|l| (id, l)));
                }
                for chunk in orders.chunks(1000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        $crate::sql::orders::INSERT_ORDERS_INSERT_ORDERS,
                    );
                    qb.push_values(
                        chunk,
                        |mut b, (id, order, customer, last, total, refunded)| {
                            b.push_bind(*id)
                                .push_bind(order.to_string())
                                .push_bind(*customer)
                                .push_bind(last.status.as_str())
                                .push_bind(last.unit_price.currency.code().to_string())
                                .push_bind(last.channel.as_str())
                                .push_bind(*total)
                                .push_bind(*refunded)
                                .push_bind(last.placed_at.0)
                                .push_bind(now);
                        },
                    );
                    qb.build().execute(&mut *conn).await?;
                }
                for chunk in items.chunks(5000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        $crate::sql::orders::INSERT_ORDERS_INSERT_ORDER_ITEMS,
                    );
                    qb.push_values(chunk, |mut b, (id, l)| {
                        b.push_bind(*id)
                            .push_bind(l.product.clone())
                            .push_bind(l.category.clone())
                            .push_bind(l.unit_price.minor)
                            .push_bind(l.quantity);
                    });
                    qb.build().execute(&mut *conn).await?;
                }
                Ok(ids)
            }

            async fn write_order_line(
                conn: &mut <$db as sqlx::Database>::Connection,
                line: &nunchi_core::import::OrderLine,
                now: i64,
            ) -> $crate::StoreResult<i64> {
                let customer: Option<i64> =
                    sqlx::query_scalar($crate::sql::orders::WRITE_ORDER_LINE_SELECT_IDENTITIES)
                        .bind(&line.customer_external_id)
                        .fetch_optional(&mut *conn)
                        .await?;
                let customer = customer.ok_or_else(|| {
                    $crate::StoreError::NotFound(format!(
                        "no customer with external_id {}",
                        line.customer_external_id
                    ))
                })?;
                let currency: Option<String> =
                    sqlx::query_scalar($crate::sql::orders::WRITE_ORDER_LINE_SELECT_ORDERS)
                        .bind(&line.order_id)
                        .fetch_optional(&mut *conn)
                        .await?;
                if currency
                    .as_deref()
                    .is_some_and(|c| c != line.unit_price.currency.code())
                {
                    return Err($crate::StoreError::Conflict(format!(
                        "order {} is in {}, not {}",
                        line.order_id,
                        currency.unwrap_or_default(),
                        line.unit_price.currency.code()
                    )));
                }
                let order_id: i64 =
                    sqlx::query_scalar($crate::sql::orders::WRITE_ORDER_LINE_INSERT_ORDERS)
                        .bind(&line.order_id)
                        .bind(customer)
                        .bind(line.status.as_str())
                        .bind(line.unit_price.currency.code())
                        .bind(line.channel.as_str())
                        .bind(line.refunded.map(|m| m.minor).unwrap_or(0))
                        .bind(line.placed_at.0)
                        .bind(now)
                        .bind(line.refunded.is_some())
                        .fetch_one(&mut *conn)
                        .await?;
                sqlx::query($crate::sql::orders::WRITE_ORDER_LINE_INSERT_ORDER_ITEMS)
                    .bind(order_id)
                    .bind(&line.product)
                    .bind(&line.category)
                    .bind(line.unit_price.minor)
                    .bind(line.quantity)
                    .execute(&mut *conn)
                    .await?;
                // The total is summed in Rust with checked arithmetic, so no stored line can
                // make it wrap, and an order may not grow past the ceiling.
                let items: Vec<i64> =
                    sqlx::query_scalar($crate::sql::orders::WRITE_ORDER_LINE_SELECT_ORDER_ITEMS)
                        .bind(order_id)
                        .fetch_all(&mut *conn)
                        .await?;
                let total =
                    nunchi_core::money::Money::checked_total(line.unit_price.currency, items)
                        .map_err(|e| {
                            $crate::StoreError::Conflict(format!("order {}: {e}", line.order_id))
                        })?;
                sqlx::query($crate::sql::orders::WRITE_ORDER_LINE_UPDATE_ORDERS)
                    .bind(order_id)
                    .bind(total.minor)
                    .execute(&mut *conn)
                    .await?;
                Ok(order_id)
            }
        }

        #[async_trait::async_trait]
        impl $crate::traits::OrderStore for $store {
            async fn upsert_order_lines(
                &self,
                lines: &[nunchi_core::import::OrderLine],
            ) -> $crate::StoreResult<Vec<$crate::StoreResult<i64>>> {
                let now = self.clock.now_ms();
                let mut tx = self.write.begin().await?;
                let mut out: Vec<Option<$crate::StoreResult<i64>>> =
                    lines.iter().map(|_| None).collect();
                // Lines of orders that do not exist yet are written order by order with their
                // items in bulk; lines of existing orders go one by one.
                let existing = Self::existing_orders(&mut tx, lines).await?;
                let customers = Self::customers_by_external_id(&mut tx, lines).await?;
                let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
                let mut index: std::collections::HashMap<&str, usize> =
                    std::collections::HashMap::new();
                let mut slow: Vec<usize> = Vec::new();
                for (i, line) in lines.iter().enumerate() {
                    if existing.contains(&line.order_id)
                        || !customers.contains_key(&line.customer_external_id)
                    {
                        slow.push(i);
                    } else if let Some(g) = index.get(line.order_id.as_str()) {
                        groups[*g].1.push(i);
                    } else {
                        index.insert(line.order_id.as_str(), groups.len());
                        groups.push((line.order_id.clone(), vec![i]));
                    }
                }
                let mut sp = sqlx::Connection::begin(&mut *tx).await?;
                match Self::insert_orders(&mut sp, lines, &groups, &customers, now).await {
                    Ok(ids) => {
                        sp.commit().await?;
                        for ((_, g), id) in groups.iter().zip(ids) {
                            for i in g {
                                out[*i] = Some(Ok(id));
                            }
                        }
                    }
                    Err(_) => {
                        sp.rollback().await?;
                        slow.extend(groups.iter().flat_map(|(_, g)| g.iter().copied()));
                        slow.sort_unstable();
                    }
                }
                for i in slow {
                    let mut sp = sqlx::Connection::begin(&mut *tx).await?;
                    let result = Self::write_order_line(&mut sp, &lines[i], now).await;
                    if result.is_ok() {
                        sp.commit().await?;
                    } else {
                        sp.rollback().await?;
                    }
                    out[i] = Some(result);
                }
                tx.commit().await?;
                Ok(out
                    .into_iter()
                    .map(|r| {
                        r.unwrap_or_else(|| {
                            Err($crate::StoreError::Conflict(
                                "line was not processed".into(),
                            ))
                        })
                    })
                    .collect())
            }

            async fn order(&self, id: i64) -> $crate::StoreResult<$crate::model::Order> {
                let mut conn = self.read.acquire().await?;
                let rows: Vec<$crate::model::OrderRow> = sqlx::query_as($crate::sql::orders::ORDER)
                    .bind(id)
                    .fetch_all(&mut *conn)
                    .await?;
                Self::attach_items(&mut conn, rows)
                    .await?
                    .pop()
                    .ok_or_else(|| $crate::StoreError::NotFound(format!("order {id}")))
            }

            async fn orders_of(
                &self,
                customer_id: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::Order>> {
                let mut conn = self.read.acquire().await?;
                let rows: Vec<$crate::model::OrderRow> =
                    sqlx::query_as($crate::sql::orders::ORDERS_OF)
                        .bind(customer_id)
                        .fetch_all(&mut *conn)
                        .await?;
                Self::attach_items(&mut conn, rows).await
            }

            async fn orders_page(
                &self,
                after_id: i64,
                limit: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::Order>> {
                let mut conn = self.read.acquire().await?;
                let rows: Vec<$crate::model::OrderRow> =
                    sqlx::query_as($crate::sql::orders::ORDERS_PAGE)
                        .bind(after_id)
                        .bind(limit)
                        .fetch_all(&mut *conn)
                        .await?;
                Self::attach_items(&mut conn, rows).await
            }

            async fn orders_by_ids(
                &self,
                ids: &[i64],
            ) -> $crate::StoreResult<Vec<$crate::model::Order>> {
                let mut conn = self.read.acquire().await?;
                let mut out = Vec::with_capacity(ids.len());
                for chunk in ids.chunks(1000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new($crate::sql::orders::ORDERS_BY_IDS);
                    let mut sep = qb.separated(", ");
                    for id in chunk {
                        sep.push_bind(*id);
                    }
                    qb.push(") ORDER BY id");
                    let rows: Vec<$crate::model::OrderRow> =
                        qb.build_query_as().fetch_all(&mut *conn).await?;
                    out.extend(Self::attach_items(&mut conn, rows).await?);
                }
                Ok(out)
            }

            async fn product_sales(
                &self,
                recent_since: i64,
            ) -> $crate::StoreResult<Vec<nunchi_core::loyalty::slow_movers::ProductSales>> {
                let rows: Vec<(String, String, i64, i64, i64, i64)> =
                    sqlx::query_as($crate::sql::orders::PRODUCT_SALES)
                        .bind(recent_since)
                        .fetch_all(&self.read)
                        .await?;
                Ok(rows
                    .into_iter()
                    .map(
                        |(product, category, first_sold_at, last_sold_at, units, recent_units)| {
                            nunchi_core::loyalty::slow_movers::ProductSales {
                                product,
                                category,
                                first_sold_at,
                                last_sold_at,
                                units,
                                recent_units,
                            }
                        },
                    )
                    .collect())
            }

            async fn spend_lines(
                &self,
                customer_id: Option<i64>,
                from: i64,
                to: i64,
                currency: &str,
            ) -> $crate::StoreResult<Vec<(i64, nunchi_core::loyalty::tiers::SpendLine)>> {
                let rows: Vec<(i64, i64, i64, i64, String, String)> =
                    sqlx::query_as($crate::sql::orders::SPEND_LINES)
                        .bind(from)
                        .bind(to)
                        .bind(currency)
                        .bind(customer_id.unwrap_or(0))
                        .fetch_all(&self.read)
                        .await?;
                Ok(rows
                    .into_iter()
                    .map(
                        |(c, order_total, order_refunded, amount, product, category)| {
                            (
                                c,
                                nunchi_core::loyalty::tiers::SpendLine {
                                    order_total,
                                    order_refunded,
                                    amount,
                                    product,
                                    category,
                                },
                            )
                        },
                    )
                    .collect())
            }

            async fn purchase_lines_page(
                &self,
                after_line_id: i64,
                limit: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::PurchaseLine>> {
                Ok(sqlx::query_as($crate::sql::orders::PURCHASE_LINES_PAGE)
                    .bind(after_line_id)
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn refund_order(
                &self,
                order_id: i64,
                amount_minor: i64,
            ) -> $crate::StoreResult<$crate::model::OrderRow> {
                let mut tx = self.write.begin().await?;
                let row: Option<$crate::model::OrderRow> =
                    sqlx::query_as($crate::sql::orders::REFUND_ORDER_SELECT_ORDERS)
                        .bind(order_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                let row =
                    row.ok_or_else(|| $crate::StoreError::NotFound(format!("order {order_id}")))?;
                let refunded = row
                    .refunded_minor
                    .checked_add(amount_minor)
                    .unwrap_or(i64::MAX);
                if amount_minor <= 0 || refunded > row.total_minor {
                    return Err($crate::StoreError::Conflict(format!(
                        "refund must be positive and at most the {} left",
                        row.total_minor - row.refunded_minor
                    )));
                }
                let status = if refunded == row.total_minor {
                    "refunded"
                } else {
                    "partially_refunded"
                };
                let row: $crate::model::OrderRow =
                    sqlx::query_as($crate::sql::orders::REFUND_ORDER_UPDATE_ORDERS)
                        .bind(order_id)
                        .bind(refunded)
                        .bind(status)
                        .fetch_one(&mut *tx)
                        .await?;
                tx.commit().await?;
                Ok(row)
            }

            async fn revenue_by_channel(&self) -> $crate::StoreResult<Vec<(String, String, i64)>> {
                // Each amount is summed as a high and a low part (a billion apart), which no
                // number of rows can overflow; the parts are joined in 128 bits and capped, so
                // one absurd order can skew the figure but never break the dashboard.
                let rows: Vec<(String, String, i64, i64, i64, i64)> =
                    sqlx::query_as($crate::sql::orders::REVENUE_BY_CHANNEL_SELECT_ORDERS)
                        .fetch_all(&self.read)
                        .await?;
                let join = |hi: i64, lo: i64| hi as i128 * 1_000_000_000 + lo as i128;
                Ok(rows
                    .into_iter()
                    .map(|(channel, currency, th, tl, rh, rl)| {
                        let net = (join(th, tl) - join(rh, rl))
                            .clamp(i64::MIN as i128, i64::MAX as i128)
                            as i64;
                        (channel, currency, net)
                    })
                    .collect())
            }
        }
    };
}
pub(crate) use impl_order_store;
