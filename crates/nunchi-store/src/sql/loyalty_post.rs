//! Posting points in bulk, for both backends: a batch of operations is planned in memory
//! against each customer's replayed ledger (read for all of the batch's customers in two
//! queries), and the entries, draws and lots it produces are written with multi-row
//! inserts under ids reserved at the end — the plan runs on provisional ids above any real
//! one, so new lots still sort after old ones. Lots drawn in the same batch are inserted
//! with what is left of them; older lots and accounts' debts are updated once each.

use std::collections::{BTreeMap, HashMap};

use nunchi_core::loyalty::{Draw, EntryKind, Ledger, Posting};

pub(crate) const PRIMARY_ACCOUNTS: &str = "
    SELECT customer_id, MIN(id) FROM loyalty_accounts WHERE customer_id IN (";

pub(crate) const INSERT_ACCOUNTS: &str = "
    INSERT INTO loyalty_accounts (id, customer_id, debt, created_at) ";

pub(crate) const ENTRIES_OF_CUSTOMERS: &str = "
    SELECT a.customer_id, e.* FROM loyalty_entries e JOIN loyalty_accounts a
    ON a.id = e.account_id WHERE a.customer_id IN (";

pub(crate) const DRAWS_OF_CUSTOMERS: &str = "
    SELECT d.entry_id, d.lot_id, d.points FROM loyalty_draws d
    JOIN loyalty_entries e ON e.id = d.entry_id
    JOIN loyalty_accounts a ON a.id = e.account_id WHERE a.customer_id IN (";

pub(crate) const INSERT_ENTRIES: &str = "
    INSERT INTO loyalty_entries (id, account_id, kind, points, key, order_ref, rule_id, product,
    category, occurred_at, available_at, expires_at, waived, reason, actor, created_at) ";

pub(crate) const INSERT_LOTS: &str = "
    INSERT INTO loyalty_lots (lot_id, account_id, amount, remaining, available_at, expires_at) ";

pub(crate) const INSERT_DRAWS: &str = "
    INSERT INTO loyalty_draws (entry_id, position, lot_id, points) ";

/// Provisional ids start above any id a table will reach.
const PROVISIONAL: i64 = 1 << 62;

/// The outcome of one operation: its entries' provisional ids, or why it was refused.
pub(crate) type Planned = Result<Vec<i64>, nunchi_core::loyalty::ledger::LedgerError>;

/// A batch planned on provisional ids: what to write and what each operation did.
pub(crate) struct Plan {
    /// (account, provisional id, posting), in order.
    pub(crate) written: Vec<(i64, i64, Posting)>,
    pub(crate) outcomes: Vec<Planned>,
}

/// Plans `ops` against `ledgers` (customer → ledger; missing ones are empty), settling
/// debt from every new lot, on provisional ids.
pub(crate) fn plan(
    ops: &[(i64, nunchi_core::loyalty::Op)],
    accounts: &HashMap<i64, i64>,
    ledgers: &mut HashMap<i64, Ledger>,
    now: i64,
) -> Plan {
    let mut next = PROVISIONAL;
    let mut written = Vec::new();
    let mut outcomes = Vec::with_capacity(ops.len());
    for (customer, op) in ops {
        let account = accounts.get(customer).copied().unwrap_or_default();
        let ledger = ledgers.entry(*customer).or_default();
        match ledger.plan(op, now) {
            Err(e) => outcomes.push(Err(e)),
            Ok(postings) => {
                let mut ids = Vec::with_capacity(postings.len());
                for p in postings {
                    next += 1;
                    ledger.apply(next, &p);
                    ids.push(next);
                    let settle = ledger.settle_from(next, now);
                    written.push((account, next, p));
                    if let Some(s) = settle {
                        next += 1;
                        ledger.apply(next, &s);
                        ids.push(next);
                        written.push((account, next, s));
                    }
                }
                outcomes.push(Ok(ids));
            }
        }
    }
    Plan { written, outcomes }
}

/// The rows a plan writes once real ids replace the provisional ones.
pub(crate) struct Rows {
    /// (id, account, posting)
    pub(crate) entries: Vec<(i64, i64, Posting)>,
    /// (lot id, account, amount, remaining, available_at, expires_at)
    pub(crate) lots: Vec<(i64, i64, i64, i64, i64, Option<i64>)>,
    /// (entry id, position, lot id, points)
    pub(crate) draws: Vec<(i64, i64, Option<i64>, i64)>,
    /// Points drawn from lots written before this batch.
    pub(crate) drawn_from_old: BTreeMap<i64, i64>,
    /// Debt added (or paid off, negative) per account.
    pub(crate) debt: BTreeMap<i64, i64>,
    pub(crate) outcomes: Vec<Planned>,
}

/// Replaces provisional ids with `real` (reserved in order, one per written posting).
pub(crate) fn rows(plan: Plan, real: &[i64]) -> Rows {
    let id = |provisional: i64| {
        if provisional > PROVISIONAL {
            real[(provisional - PROVISIONAL - 1) as usize]
        } else {
            provisional
        }
    };
    let mut drawn_new: HashMap<i64, i64> = HashMap::new();
    let mut out = Rows {
        entries: Vec::with_capacity(plan.written.len()),
        lots: Vec::new(),
        draws: Vec::new(),
        drawn_from_old: BTreeMap::new(),
        debt: BTreeMap::new(),
        outcomes: plan
            .outcomes
            .into_iter()
            .map(|o| o.map(|ids| ids.into_iter().map(id).collect()))
            .collect(),
    };
    for (_, provisional, p) in &plan.written {
        let entry = id(*provisional);
        for (position, Draw { lot, points }) in p.draws.iter().enumerate() {
            out.draws
                .push((entry, position as i64, lot.map(id), *points));
            match lot {
                Some(l) if *l > PROVISIONAL => *drawn_new.entry(id(*l)).or_default() += points,
                Some(l) => *out.drawn_from_old.entry(*l).or_default() += points,
                None => {}
            }
        }
    }
    for (account, provisional, mut p) in plan.written {
        let entry = id(provisional);
        // Keys that name a lot named it by its provisional id.
        if matches!(p.kind, EntryKind::Settle | EntryKind::Expire)
            && let Some(lot) = p.draws.first().and_then(|d| d.lot)
        {
            p.key = format!("{}:{}", p.kind, id(lot));
        }
        let unbacked: i64 = p
            .draws
            .iter()
            .filter(|d| d.lot.is_none())
            .map(|d| d.points)
            .sum();
        let settled = if p.kind == EntryKind::Settle {
            p.points
        } else {
            0
        };
        if unbacked + settled != 0 {
            *out.debt.entry(account).or_default() += unbacked + settled;
        }
        if p.points > 0 {
            let drawn = drawn_new.get(&entry).copied().unwrap_or(0);
            out.lots.push((
                entry,
                account,
                p.points,
                p.points - drawn,
                p.available_at.unwrap_or(p.occurred_at),
                p.expires_at,
            ));
        }
        out.entries.push((entry, account, p));
    }
    out
}

macro_rules! impl_loyalty_post {
    ($store:ty, $db:ty) => {
        impl $store {
            /// Each customer's first account, made for those who have none.
            async fn primary_accounts(
                conn: &mut <$db as sqlx::Database>::Connection,
                customers: &[i64],
                now: i64,
            ) -> $crate::StoreResult<std::collections::HashMap<i64, i64>> {
                use $crate::sql::loyalty_post as q;
                let mut found = std::collections::HashMap::new();
                for chunk in customers.chunks(1000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(q::PRIMARY_ACCOUNTS);
                    let mut sep = qb.separated(", ");
                    for c in chunk {
                        sep.push_bind(*c);
                    }
                    qb.push(") GROUP BY customer_id");
                    let rows: Vec<(i64, i64)> = qb.build_query_as().fetch_all(&mut *conn).await?;
                    found.extend(rows);
                }
                let missing: Vec<i64> = customers
                    .iter()
                    .copied()
                    .filter(|c| !found.contains_key(c))
                    .collect();
                if !missing.is_empty() {
                    let ids =
                        Self::reserve_ids(&mut *conn, "loyalty_accounts", missing.len()).await?;
                    let made: Vec<(i64, i64)> = missing.into_iter().zip(ids).collect();
                    for chunk in made.chunks(1000) {
                        let mut qb = sqlx::QueryBuilder::<$db>::new(q::INSERT_ACCOUNTS);
                        qb.push_values(chunk, |mut b, (customer, id)| {
                            b.push_bind(*id)
                                .push_bind(*customer)
                                .push_bind(0i64)
                                .push_bind(now);
                        });
                        qb.build().execute(&mut *conn).await?;
                    }
                    found.extend(made);
                }
                Ok(found)
            }

            /// The customers' ledgers, replayed from their entries.
            async fn ledgers_of(
                conn: &mut <$db as sqlx::Database>::Connection,
                customers: &[i64],
            ) -> $crate::StoreResult<std::collections::HashMap<i64, nunchi_core::loyalty::Ledger>>
            {
                use $crate::sql::loyalty_post as q;
                let mut rows: Vec<(i64, $crate::model::LoyaltyEntryRow)> = Vec::new();
                let mut draws: Vec<(i64, Option<i64>, i64)> = Vec::new();
                for chunk in customers.chunks(500) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(q::ENTRIES_OF_CUSTOMERS);
                    let mut sep = qb.separated(", ");
                    for c in chunk {
                        sep.push_bind(*c);
                    }
                    qb.push(") ORDER BY a.customer_id, e.id");
                    for r in qb.build().fetch_all(&mut *conn).await? {
                        use sqlx::{FromRow, Row};
                        rows.push((
                            r.try_get::<i64, _>(0)?,
                            $crate::model::LoyaltyEntryRow::from_row(&r)?,
                        ));
                    }
                    let mut qb = sqlx::QueryBuilder::<$db>::new(q::DRAWS_OF_CUSTOMERS);
                    let mut sep = qb.separated(", ");
                    for c in chunk {
                        sep.push_bind(*c);
                    }
                    qb.push(") ORDER BY d.entry_id, d.position");
                    draws.extend(
                        qb.build_query_as::<(i64, Option<i64>, i64)>()
                            .fetch_all(&mut *conn)
                            .await?,
                    );
                }
                Ok($crate::sql::loyalty::replay_all(rows, draws)
                    .into_iter()
                    .collect())
            }

            /// Plans and writes a batch of operations in the caller's transaction.
            async fn post_batch(
                conn: &mut <$db as sqlx::Database>::Connection,
                ops: &[(i64, nunchi_core::loyalty::Op)],
                actor: &str,
                now: i64,
            ) -> $crate::StoreResult<Vec<$crate::sql::loyalty_post::Planned>> {
                use $crate::sql::loyalty_post as q;
                let mut customers: Vec<i64> = ops.iter().map(|(c, _)| *c).collect();
                customers.sort_unstable();
                customers.dedup();
                Self::lock_customers(&mut *conn, &customers).await?;
                let accounts = Self::primary_accounts(&mut *conn, &customers, now).await?;
                let mut ledgers = Self::ledgers_of(&mut *conn, &customers).await?;
                let plan = q::plan(ops, &accounts, &mut ledgers, now);
                let real =
                    Self::reserve_ids(&mut *conn, "loyalty_entries", plan.written.len()).await?;
                let rows = q::rows(plan, &real);
                for chunk in rows.entries.chunks(400) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(q::INSERT_ENTRIES);
                    qb.push_values(chunk, |mut b, (id, account, p)| {
                        b.push_bind(*id)
                            .push_bind(*account)
                            .push_bind(p.kind.as_str())
                            .push_bind(p.points)
                            .push_bind(p.key.clone())
                            .push_bind(p.order_ref.clone())
                            .push_bind(p.rule_id)
                            .push_bind(p.product.clone())
                            .push_bind(p.category.clone())
                            .push_bind(p.occurred_at)
                            .push_bind(p.available_at)
                            .push_bind(p.expires_at)
                            .push_bind(p.waived)
                            .push_bind(p.reason.clone())
                            .push_bind(actor.to_string())
                            .push_bind(now);
                    });
                    qb.build().execute(&mut *conn).await?;
                }
                for chunk in rows.lots.chunks(1000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(q::INSERT_LOTS);
                    qb.push_values(chunk, |mut b, l| {
                        b.push_bind(l.0)
                            .push_bind(l.1)
                            .push_bind(l.2)
                            .push_bind(l.3)
                            .push_bind(l.4)
                            .push_bind(l.5);
                    });
                    qb.build().execute(&mut *conn).await?;
                }
                for chunk in rows.draws.chunks(1000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(q::INSERT_DRAWS);
                    qb.push_values(chunk, |mut b, d| {
                        b.push_bind(d.0)
                            .push_bind(d.1)
                            .push_bind(d.2)
                            .push_bind(d.3);
                    });
                    qb.build().execute(&mut *conn).await?;
                }
                for (lot, points) in &rows.drawn_from_old {
                    sqlx::query($crate::sql::loyalty::DRAW_LOT)
                        .bind(lot)
                        .bind(points)
                        .execute(&mut *conn)
                        .await?;
                }
                for (account, delta) in &rows.debt {
                    sqlx::query($crate::sql::loyalty::ADD_DEBT)
                        .bind(account)
                        .bind(delta)
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(rows.outcomes)
            }
        }
    };
}
pub(crate) use impl_loyalty_post;
