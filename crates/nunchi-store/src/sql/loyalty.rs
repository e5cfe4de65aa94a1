//! `LoyaltyStore` in SQL shared by both backends: the program, earn rules, and the points
//! ledger. Entries and draws are only ever inserted; each posting also updates the kept
//! copy of the lots and the account's debt in the same transaction.

pub(crate) const PROGRAM: &str = "SELECT settings FROM loyalty_program WHERE id = 1";

pub(crate) const SET_PROGRAM: &str = "
    INSERT INTO loyalty_program (id, settings, updated_at) VALUES (1, $1, $2)
    ON CONFLICT (id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at";

pub(crate) const RULES: &str = "SELECT * FROM loyalty_rules ORDER BY id";

pub(crate) const INSERT_RULE: &str = "
    INSERT INTO loyalty_rules (name, kind, points, per_minor, currency, percent, scope,
    scope_values, starts_at, ends_at, active, created_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
    RETURNING id";

pub(crate) const UPDATE_RULE: &str = "
    UPDATE loyalty_rules SET name = $1, kind = $2, points = $3, per_minor = $4, currency = $5,
    percent = $6, scope = $7, scope_values = $8, starts_at = $9, ends_at = $10, active = $11
    WHERE id = $12";

/// The customer's first account, where new points go.
pub(crate) const PRIMARY_ACCOUNT: &str = "
    SELECT id FROM loyalty_accounts WHERE customer_id = $1 ORDER BY id LIMIT 1";

pub(crate) const CREATE_ACCOUNT: &str = "
    INSERT INTO loyalty_accounts (customer_id, debt, created_at) VALUES ($1, 0, $2) RETURNING id";

pub(crate) const DRAW_LOT: &str = "
    UPDATE loyalty_lots SET remaining = remaining - $2 WHERE lot_id = $1";

pub(crate) const ADD_DEBT: &str = "UPDATE loyalty_accounts SET debt = debt + $2 WHERE id = $1";

pub(crate) const ENTRIES_OF: &str = "
    SELECT e.* FROM loyalty_entries e JOIN loyalty_accounts a ON a.id = e.account_id
    WHERE a.customer_id = $1
    ORDER BY e.id";

pub(crate) const DRAWS_OF: &str = "
    SELECT d.entry_id, d.lot_id, d.points FROM loyalty_draws d
    JOIN loyalty_entries e ON e.id = d.entry_id
    JOIN loyalty_accounts a ON a.id = e.account_id
    WHERE a.customer_id = $1
    ORDER BY d.entry_id, d.position";

pub(crate) const NEWEST_ENTRIES_OF: &str = "
    SELECT e.* FROM loyalty_entries e JOIN loyalty_accounts a ON a.id = e.account_id
    WHERE a.customer_id = $1
    ORDER BY e.id DESC
    LIMIT $2";

/// The customer's entry under an idempotency key (none when the key is another's).
pub(crate) const ENTRY_BY_KEY: &str = "
    SELECT e.* FROM loyalty_entries e JOIN loyalty_accounts a ON a.id = e.account_id
    WHERE e.key = $1 AND a.customer_id = $2";

pub(crate) const LOTS_OF: &str = "
    SELECT l.* FROM loyalty_lots l JOIN loyalty_accounts a ON a.id = l.account_id
    WHERE a.customer_id = $1
    ORDER BY l.lot_id";

pub(crate) const ACCOUNTS_OF: &str = "
    SELECT CAST(COALESCE(SUM(debt), 0) AS BIGINT) FROM loyalty_accounts WHERE customer_id = $1";

pub(crate) const TIER_OF: &str = "
    SELECT tier, tier_since FROM loyalty_accounts WHERE customer_id = $1 ORDER BY id LIMIT 1";

/// Each customer's tier, read from their first account.
pub(crate) const TIERS_HELD: &str = "
    SELECT a.customer_id, a.tier, a.tier_since FROM loyalty_accounts a
    WHERE a.id = (SELECT MIN(b.id) FROM loyalty_accounts b WHERE b.customer_id = a.customer_id)
    ORDER BY a.customer_id";

pub(crate) const TO_EXPIRE: &str = "
    SELECT DISTINCT a.customer_id FROM loyalty_lots l
    JOIN loyalty_accounts a ON a.id = l.account_id
    WHERE l.remaining > 0 AND l.expires_at <= $1
    ORDER BY a.customer_id
    LIMIT $2";

pub(crate) const NOTICES_DUE: &str = "
    SELECT a.customer_id, a.id AS account_id, MIN(l.expires_at) AS expires_at,
    CAST(SUM(l.remaining) AS BIGINT) AS points
    FROM loyalty_lots l JOIN loyalty_accounts a ON a.id = l.account_id
    WHERE l.remaining > 0 AND l.expires_at > $1 AND l.expires_at <= $2 AND NOT EXISTS (
    SELECT 1 FROM loyalty_expiry_notices n
    WHERE n.account_id = a.id AND n.expires_on = l.expires_at / 86400000)
    GROUP BY a.customer_id, a.id
    ORDER BY a.id
    LIMIT $3";

pub(crate) const RECORD_NOTICE: &str = "
    INSERT INTO loyalty_expiry_notices (account_id, expires_on, points, sent_at)
    VALUES ($1, $2, $3, $4) ON CONFLICT (account_id, expires_on) DO NOTHING";

pub(crate) const SET_TIER: &str = "
    UPDATE loyalty_accounts SET tier = $2, tier_since = $3 WHERE id = $1";

pub(crate) const INSERT_TIER_CHANGE: &str = "
    INSERT INTO loyalty_tier_changes (account_id, from_tier, to_tier, points, at)
    VALUES ($1, $2, $3, $4, $5)
    RETURNING *";

pub(crate) const TIER_CHANGES_OF: &str = "
    SELECT t.* FROM loyalty_tier_changes t JOIN loyalty_accounts a ON a.id = t.account_id
    WHERE a.customer_id = $1
    ORDER BY t.at DESC, t.id DESC";

pub(crate) const SUMMARY_MEMBERS: &str = "
    SELECT COUNT(DISTINCT customer_id), CAST(COALESCE(SUM(debt), 0) AS BIGINT)
    FROM loyalty_accounts";

/// Spendable, pending, and expiring within `($1, $2]`.
pub(crate) const SUMMARY_LOTS: &str = "
    SELECT CAST(COALESCE(SUM(CASE WHEN available_at <= $1 THEN remaining ELSE 0 END), 0) AS
    BIGINT), CAST(COALESCE(SUM(CASE WHEN available_at > $1 THEN remaining ELSE 0 END), 0) AS
    BIGINT), CAST(COALESCE(SUM(CASE WHEN expires_at <= $2 THEN remaining ELSE 0 END), 0) AS
    BIGINT)
    FROM loyalty_lots
    WHERE remaining > 0 AND (expires_at IS NULL OR expires_at > $1)";

/// Members per tier, read from each customer's first account.
pub(crate) const SUMMARY_TIERS: &str = "
    SELECT a.tier, COUNT(*) FROM loyalty_accounts a
    WHERE a.id = (SELECT MIN(b.id) FROM loyalty_accounts b WHERE b.customer_id = a.customer_id)
    GROUP BY a.tier
    ORDER BY a.tier";

pub(crate) const SUMMARY_KINDS: &str = "
    SELECT kind, CAST(COALESCE(SUM(CASE WHEN points > 0 THEN points ELSE 0 END), 0) AS BIGINT),
    CAST(COALESCE(SUM(CASE WHEN points < 0 THEN -points ELSE 0 END), 0) AS BIGINT)
    FROM loyalty_entries
    GROUP BY kind";

pub(crate) const ALL_ENTRIES: &str = "
    SELECT a.customer_id, e.* FROM loyalty_entries e
    JOIN loyalty_accounts a ON a.id = e.account_id
    ORDER BY a.customer_id, e.id";

pub(crate) const ALL_DRAWS: &str = "
    SELECT d.entry_id, d.lot_id, d.points FROM loyalty_draws d
    ORDER BY d.entry_id, d.position";

pub(crate) const ALL_LOTS: &str = "
    SELECT a.customer_id, l.lot_id, l.remaining FROM loyalty_lots l
    JOIN loyalty_accounts a ON a.id = l.account_id";

pub(crate) const ALL_DEBTS: &str = "
    SELECT customer_id, CAST(SUM(debt) AS BIGINT) FROM loyalty_accounts GROUP BY customer_id";

/// A rule as stored; `scope_values` holds one value per line.
#[derive(sqlx::FromRow)]
pub(crate) struct RuleRow {
    id: i64,
    name: String,
    kind: String,
    points: i64,
    per_minor: i64,
    currency: String,
    percent: i64,
    scope: String,
    scope_values: String,
    starts_at: Option<i64>,
    ends_at: Option<i64>,
    active: bool,
}

impl RuleRow {
    pub(crate) fn rule(self) -> crate::StoreResult<nunchi_core::loyalty::earn::EarnRule> {
        use nunchi_core::loyalty::earn::{EarnRule, RuleKind, ScopeKind};
        let bad = |e: nunchi_core::CoreError| corrupt("loyalty_rules", e.to_string());
        Ok(EarnRule {
            id: self.id,
            name: self.name,
            kind: RuleKind::parse(&self.kind).map_err(bad)?,
            points: self.points,
            per_minor: self.per_minor,
            currency: self.currency,
            percent: self.percent,
            scope: ScopeKind::parse(&self.scope).map_err(bad)?,
            scope_values: self
                .scope_values
                .lines()
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .collect(),
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            active: self.active,
        })
    }
}

pub(crate) fn corrupt(column: &str, message: String) -> crate::StoreError {
    crate::StoreError::Corrupt {
        column: column.to_string(),
        message,
    }
}

/// Entries with their draws attached, in the order given.
pub(crate) fn with_draws(
    rows: Vec<crate::model::LoyaltyEntryRow>,
    draws: Vec<(i64, Option<i64>, i64)>,
) -> Vec<crate::model::LoyaltyEntry> {
    let mut by_entry: std::collections::HashMap<i64, Vec<nunchi_core::loyalty::Draw>> =
        Default::default();
    for (entry, lot, points) in draws {
        by_entry
            .entry(entry)
            .or_default()
            .push(nunchi_core::loyalty::Draw { lot, points });
    }
    rows.into_iter()
        .map(|row| crate::model::LoyaltyEntry {
            draws: by_entry.remove(&row.id).unwrap_or_default(),
            row,
        })
        .collect()
}

macro_rules! impl_loyalty_store {
    ($store:ty, $db:ty) => {
        impl $store {
            async fn loyalty_account(
                conn: &mut <$db as sqlx::Database>::Connection,
                customer_id: i64,
                now: i64,
            ) -> $crate::StoreResult<i64> {
                let found: Option<i64> =
                    sqlx::query_scalar($crate::sql::loyalty::PRIMARY_ACCOUNT)
                        .bind(customer_id)
                        .fetch_optional(&mut *conn)
                        .await?;
                match found {
                    Some(id) => Ok(id),
                    None => Ok(sqlx::query_scalar($crate::sql::loyalty::CREATE_ACCOUNT)
                        .bind(customer_id)
                        .bind(now)
                        .fetch_one(&mut *conn)
                        .await?),
                }
            }

            async fn loyalty_entries_in(
                conn: &mut <$db as sqlx::Database>::Connection,
                customer_id: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::LoyaltyEntry>> {
                let rows = sqlx::query_as($crate::sql::loyalty::ENTRIES_OF)
                    .bind(customer_id)
                    .fetch_all(&mut *conn)
                    .await?;
                let draws = sqlx::query_as($crate::sql::loyalty::DRAWS_OF)
                    .bind(customer_id)
                    .fetch_all(&mut *conn)
                    .await?;
                Ok($crate::sql::loyalty::with_draws(rows, draws))
            }
        }

        #[async_trait::async_trait]
        impl $crate::traits::LoyaltyStore for $store {
            async fn loyalty_program(
                &self,
            ) -> $crate::StoreResult<nunchi_core::loyalty::Program> {
                let json: Option<String> = sqlx::query_scalar($crate::sql::loyalty::PROGRAM)
                    .fetch_optional(&self.read)
                    .await?;
                match json {
                    None => Ok(Default::default()),
                    Some(j) => serde_json::from_str(&j).map_err(|e| {
                        $crate::sql::loyalty::corrupt("loyalty_program", e.to_string())
                    }),
                }
            }

            async fn set_loyalty_program(
                &self,
                program: &nunchi_core::loyalty::Program,
            ) -> $crate::StoreResult<()> {
                let json = serde_json::to_string(program).map_err(|e| {
                    $crate::sql::loyalty::corrupt("loyalty_program", e.to_string())
                })?;
                sqlx::query($crate::sql::loyalty::SET_PROGRAM)
                    .bind(json)
                    .bind(self.clock.now_ms())
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            async fn loyalty_rules(
                &self,
            ) -> $crate::StoreResult<Vec<nunchi_core::loyalty::earn::EarnRule>> {
                let rows: Vec<$crate::sql::loyalty::RuleRow> =
                    sqlx::query_as($crate::sql::loyalty::RULES)
                        .fetch_all(&self.read)
                        .await?;
                rows.into_iter().map(|r| r.rule()).collect()
            }

            async fn save_loyalty_rule(
                &self,
                rule: &nunchi_core::loyalty::earn::EarnRule,
            ) -> $crate::StoreResult<i64> {
                let mut tx = self.write.begin().await?;
                let rows: Vec<$crate::sql::loyalty::RuleRow> =
                    sqlx::query_as($crate::sql::loyalty::RULES)
                        .fetch_all(&mut *tx)
                        .await?;
                let rules = rows
                    .into_iter()
                    .map(|r| r.rule())
                    .collect::<$crate::StoreResult<Vec<_>>>()?;
                if rule.id != 0 && !rules.iter().any(|r| r.id == rule.id) {
                    return Err($crate::StoreError::NotFound(format!(
                        "loyalty rule {}",
                        rule.id
                    )));
                }
                nunchi_core::loyalty::earn::check_no_double_award(&rules, rule)
                    .map_err(|e| $crate::StoreError::Conflict(e.message))?;
                let values = rule.scope_values.join("\n");
                let id = if rule.id == 0 {
                    sqlx::query_scalar($crate::sql::loyalty::INSERT_RULE)
                        .bind(&rule.name)
                        .bind(rule.kind.as_str())
                        .bind(rule.points)
                        .bind(rule.per_minor)
                        .bind(&rule.currency)
                        .bind(rule.percent)
                        .bind(rule.scope.as_str())
                        .bind(values)
                        .bind(rule.starts_at)
                        .bind(rule.ends_at)
                        .bind(rule.active)
                        .bind(self.clock.now_ms())
                        .fetch_one(&mut *tx)
                        .await?
                } else {
                    sqlx::query($crate::sql::loyalty::UPDATE_RULE)
                        .bind(&rule.name)
                        .bind(rule.kind.as_str())
                        .bind(rule.points)
                        .bind(rule.per_minor)
                        .bind(&rule.currency)
                        .bind(rule.percent)
                        .bind(rule.scope.as_str())
                        .bind(values)
                        .bind(rule.starts_at)
                        .bind(rule.ends_at)
                        .bind(rule.active)
                        .bind(rule.id)
                        .execute(&mut *tx)
                        .await?;
                    rule.id
                };
                tx.commit().await?;
                Ok(id)
            }

            async fn post_loyalty(
                &self,
                ops: &[(i64, nunchi_core::loyalty::Op)],
                actor: &str,
            ) -> $crate::StoreResult<
                Vec<Result<Vec<i64>, nunchi_core::loyalty::ledger::LedgerError>>,
            > {
                self.post_loyalty_at(ops, actor, self.clock.now_ms()).await
            }

            async fn post_loyalty_at(
                &self,
                ops: &[(i64, nunchi_core::loyalty::Op)],
                actor: &str,
                now: i64,
            ) -> $crate::StoreResult<
                Vec<Result<Vec<i64>, nunchi_core::loyalty::ledger::LedgerError>>,
            > {
                let mut tx = self.write.begin().await?;
                let out = Self::post_batch(&mut tx, ops, actor, now).await?;
                tx.commit().await?;
                Ok(out)
            }

            async fn loyalty_ledger(
                &self,
                customer_id: i64,
            ) -> $crate::StoreResult<nunchi_core::loyalty::Ledger> {
                let mut conn = self.read.acquire().await?;
                let entries = Self::loyalty_entries_in(&mut conn, customer_id).await?;
                let postings: Vec<_> = entries.iter().map(|e| (e.row.id, e.posting())).collect();
                Ok(nunchi_core::loyalty::Ledger::replay(
                    postings.iter().map(|(id, p)| (*id, p)),
                ))
            }

            async fn loyalty_entries(
                &self,
                customer_id: i64,
                limit: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::LoyaltyEntry>> {
                let rows: Vec<$crate::model::LoyaltyEntryRow> =
                    sqlx::query_as($crate::sql::loyalty::NEWEST_ENTRIES_OF)
                        .bind(customer_id)
                        .bind(limit)
                        .fetch_all(&self.read)
                        .await?;
                let draws = sqlx::query_as($crate::sql::loyalty::DRAWS_OF)
                    .bind(customer_id)
                    .fetch_all(&self.read)
                    .await?;
                Ok($crate::sql::loyalty::with_draws(rows, draws))
            }

            async fn loyalty_entry_by_key(
                &self,
                customer_id: i64,
                key: &str,
            ) -> $crate::StoreResult<Option<$crate::model::LoyaltyEntryRow>> {
                Ok(sqlx::query_as($crate::sql::loyalty::ENTRY_BY_KEY)
                    .bind(key)
                    .bind(customer_id)
                    .fetch_optional(&self.read)
                    .await?)
            }

            async fn loyalty_points(
                &self,
                customer_id: i64,
            ) -> $crate::StoreResult<$crate::model::PointsState> {
                let lots = sqlx::query_as($crate::sql::loyalty::LOTS_OF)
                    .bind(customer_id)
                    .fetch_all(&self.read)
                    .await?;
                let debt: i64 = sqlx::query_scalar($crate::sql::loyalty::ACCOUNTS_OF)
                    .bind(customer_id)
                    .fetch_one(&self.read)
                    .await?;
                let tier: Option<(Option<String>, Option<i64>)> =
                    sqlx::query_as($crate::sql::loyalty::TIER_OF)
                        .bind(customer_id)
                        .fetch_optional(&self.read)
                        .await?;
                let (tier, tier_since) = tier.unwrap_or_default();
                Ok($crate::model::PointsState {
                    lots,
                    debt,
                    tier,
                    tier_since,
                })
            }

            async fn loyalty_customers_to_expire(
                &self,
                now: i64,
                limit: i64,
            ) -> $crate::StoreResult<Vec<i64>> {
                Ok(sqlx::query_scalar($crate::sql::loyalty::TO_EXPIRE)
                    .bind(now)
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn loyalty_expiry_notices_due(
                &self,
                now: i64,
                until: i64,
                limit: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::ExpiryNoticeDue>> {
                Ok(sqlx::query_as($crate::sql::loyalty::NOTICES_DUE)
                    .bind(now)
                    .bind(until)
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn record_loyalty_expiry_notice(
                &self,
                n: &$crate::model::ExpiryNoticeDue,
            ) -> $crate::StoreResult<()> {
                sqlx::query($crate::sql::loyalty::RECORD_NOTICE)
                    .bind(n.account_id)
                    .bind(n.expires_at / 86_400_000)
                    .bind(n.points)
                    .bind(self.clock.now_ms())
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            async fn set_loyalty_tiers(
                &self,
                moves: &[(i64, Option<String>, i64)],
            ) -> $crate::StoreResult<Vec<(i64, $crate::model::TierChange)>> {
                let now = self.clock.now_ms();
                let mut customers: Vec<i64> = moves.iter().map(|m| m.0).collect();
                customers.sort_unstable();
                customers.dedup();
                let mut tx = self.write.begin().await?;
                Self::lock_customers(&mut tx, &customers).await?;
                let mut changes = Vec::new();
                for (customer_id, tier, points) in moves {
                    let account = Self::loyalty_account(&mut tx, *customer_id, now).await?;
                    let current: Option<(Option<String>, Option<i64>)> =
                        sqlx::query_as($crate::sql::loyalty::TIER_OF)
                            .bind(customer_id)
                            .fetch_optional(&mut *tx)
                            .await?;
                    let from = current.and_then(|c| c.0);
                    if from == *tier {
                        continue;
                    }
                    sqlx::query($crate::sql::loyalty::SET_TIER)
                        .bind(account)
                        .bind(tier)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    let change = sqlx::query_as($crate::sql::loyalty::INSERT_TIER_CHANGE)
                        .bind(account)
                        .bind(from)
                        .bind(tier)
                        .bind(points)
                        .bind(now)
                        .fetch_one(&mut *tx)
                        .await?;
                    changes.push((*customer_id, change));
                }
                tx.commit().await?;
                Ok(changes)
            }

            async fn loyalty_tiers_held(
                &self,
            ) -> $crate::StoreResult<Vec<(i64, Option<String>, Option<i64>)>> {
                Ok(sqlx::query_as($crate::sql::loyalty::TIERS_HELD)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn loyalty_tier_changes(
                &self,
                customer_id: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::TierChange>> {
                Ok(sqlx::query_as($crate::sql::loyalty::TIER_CHANGES_OF)
                    .bind(customer_id)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn loyalty_summary(
                &self,
                now: i64,
            ) -> $crate::StoreResult<$crate::model::LoyaltySummary> {
                use nunchi_core::loyalty::EntryKind;
                let (members, debt): (i64, i64) =
                    sqlx::query_as($crate::sql::loyalty::SUMMARY_MEMBERS)
                        .fetch_one(&self.read)
                        .await?;
                let (spendable, pending, expiring_soon): (i64, i64, i64) =
                    sqlx::query_as($crate::sql::loyalty::SUMMARY_LOTS)
                        .bind(now)
                        .bind(now + 30 * 86_400_000)
                        .fetch_one(&self.read)
                        .await?;
                let tiers = sqlx::query_as($crate::sql::loyalty::SUMMARY_TIERS)
                    .fetch_all(&self.read)
                    .await?;
                let kinds: Vec<(String, i64, i64)> =
                    sqlx::query_as($crate::sql::loyalty::SUMMARY_KINDS)
                        .fetch_all(&self.read)
                        .await?;
                let mut totals = nunchi_core::loyalty::ledger::Totals::default();
                for (kind, up, down) in kinds {
                    let kind = EntryKind::parse(&kind).map_err(|e| {
                        $crate::sql::loyalty::corrupt("loyalty_entries", e.to_string())
                    })?;
                    match kind {
                        EntryKind::Earn => totals.earned += up,
                        EntryKind::Return => totals.returned += up,
                        EntryKind::Adjust => {
                            totals.adjusted_up += up;
                            totals.adjusted_down += down;
                        }
                        EntryKind::Spend => totals.spent += down,
                        EntryKind::Expire => totals.expired += down,
                        EntryKind::Reverse => totals.reversed += down,
                        EntryKind::Settle => totals.settled += down,
                    }
                }
                Ok($crate::model::LoyaltySummary {
                    members,
                    outstanding: spendable - debt,
                    pending,
                    debt,
                    expiring_soon,
                    tiers,
                    totals,
                })
            }

            async fn all_loyalty_ledgers(
                &self,
            ) -> $crate::StoreResult<Vec<(i64, nunchi_core::loyalty::Ledger)>> {
                let mut conn = self.read.acquire().await?;
                let rows: Vec<(i64, $crate::model::LoyaltyEntryRow)> =
                    sqlx::query($crate::sql::loyalty::ALL_ENTRIES)
                        .fetch_all(&mut *conn)
                        .await?
                        .iter()
                        .map(|r| {
                            use sqlx::{FromRow, Row};
                            Ok((
                                r.try_get::<i64, _>(0)?,
                                $crate::model::LoyaltyEntryRow::from_row(r)?,
                            ))
                        })
                        .collect::<Result<_, sqlx::Error>>()?;
                let draws: Vec<(i64, Option<i64>, i64)> =
                    sqlx::query_as($crate::sql::loyalty::ALL_DRAWS)
                        .fetch_all(&mut *conn)
                        .await?;
                Ok($crate::sql::loyalty::replay_all(rows, draws))
            }

            async fn verify_loyalty(
                &self,
            ) -> $crate::StoreResult<$crate::model::LoyaltyCheck> {
                let ledgers = self.all_loyalty_ledgers().await?;
                let lots: Vec<(i64, i64, i64)> = sqlx::query_as($crate::sql::loyalty::ALL_LOTS)
                    .fetch_all(&self.read)
                    .await?;
                let debts: Vec<(i64, i64)> = sqlx::query_as($crate::sql::loyalty::ALL_DEBTS)
                    .fetch_all(&self.read)
                    .await?;
                Ok($crate::sql::loyalty::compare(ledgers, lots, debts))
            }
        }
    };
}
pub(crate) use impl_loyalty_store;

/// Each customer's ledger, replayed from all entries (in id order per customer).
pub(crate) fn replay_all(
    rows: Vec<(i64, crate::model::LoyaltyEntryRow)>,
    draws: Vec<(i64, Option<i64>, i64)>,
) -> Vec<(i64, nunchi_core::loyalty::Ledger)> {
    use std::collections::{BTreeMap, HashMap};
    let mut draws_of: HashMap<i64, Vec<nunchi_core::loyalty::Draw>> = HashMap::new();
    for (entry, lot, points) in draws {
        draws_of
            .entry(entry)
            .or_default()
            .push(nunchi_core::loyalty::Draw { lot, points });
    }
    let mut by_customer: BTreeMap<i64, Vec<(i64, nunchi_core::loyalty::Posting)>> = BTreeMap::new();
    for (c, row) in rows {
        let id = row.id;
        let entry = crate::model::LoyaltyEntry {
            draws: draws_of.remove(&id).unwrap_or_default(),
            row,
        };
        by_customer
            .entry(c)
            .or_default()
            .push((id, entry.posting()));
    }
    by_customer
        .into_iter()
        .map(|(c, postings)| {
            let ledger =
                nunchi_core::loyalty::Ledger::replay(postings.iter().map(|(id, p)| (*id, p)));
            (c, ledger)
        })
        .collect()
}

/// Compares replayed ledgers with the kept lots `(customer, lot, remaining)` and debts.
pub(crate) fn compare(
    ledgers: Vec<(i64, nunchi_core::loyalty::Ledger)>,
    lots: Vec<(i64, i64, i64)>,
    debts: Vec<(i64, i64)>,
) -> crate::model::LoyaltyCheck {
    use std::collections::{BTreeMap, HashMap};
    let mut kept_lots: HashMap<i64, BTreeMap<i64, i64>> = HashMap::new();
    for (c, lot, remaining) in lots {
        kept_lots.entry(c).or_default().insert(lot, remaining);
    }
    let kept_debt: HashMap<i64, i64> = debts.into_iter().collect();
    let mut check = crate::model::LoyaltyCheck {
        customers: ledgers.len() as u64,
        ..Default::default()
    };
    for (customer, ledger) in ledgers {
        check.entries += ledger.keys.len() as u64;
        let replayed: BTreeMap<i64, i64> =
            ledger.lots.values().map(|l| (l.id, l.remaining)).collect();
        let lots_match = kept_lots.remove(&customer).unwrap_or_default() == replayed;
        let debt_match = kept_debt.get(&customer).copied().unwrap_or(0) == ledger.debt;
        if !(lots_match && debt_match) {
            check.mismatched.push(customer);
        }
    }
    check
}
