//! `RewardStore` in SQL shared by both backends: the reward catalogue, and taking a reward
//! for points — its stock lowered and the spend written in one transaction, so a reward
//! never oversells and a retried request never takes two.

pub(crate) const REWARDS: &str = "
    SELECT id, name_ko, name_en, points, stock, active FROM loyalty_rewards ORDER BY id";

pub(crate) const INSERT_REWARD: &str = "
    INSERT INTO loyalty_rewards (name_ko, name_en, points, stock, active, created_at)
    VALUES ($1, $2, $3, $4, $5, $6)
    RETURNING id";

pub(crate) const UPDATE_REWARD: &str = "
    UPDATE loyalty_rewards SET name_ko = $1, name_en = $2, points = $3, stock = $4, active = $5
    WHERE id = $6";

/// One taken from stock when the reward is on and any are left; its price and name.
pub(crate) const TAKE_REWARD: &str = "
    UPDATE loyalty_rewards SET stock = stock - 1
    WHERE id = $1 AND active AND (stock IS NULL OR stock > 0)
    RETURNING points, name_ko";

pub(crate) const INSERT_CLAIM: &str = "
    INSERT INTO loyalty_reward_claims (entry_id, reward_id, created_at) VALUES ($1, $2, $3)";

macro_rules! impl_reward_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::traits::RewardStore for $store {
            async fn loyalty_rewards(
                &self,
            ) -> $crate::StoreResult<Vec<nunchi_core::loyalty::reward::Reward>> {
                let rows: Vec<(i64, String, String, i64, Option<i64>, bool)> =
                    sqlx::query_as($crate::sql::loyalty_rewards::REWARDS)
                        .fetch_all(&self.read)
                        .await?;
                Ok(rows
                    .into_iter()
                    .map(|(id, name_ko, name_en, points, stock, active)| {
                        nunchi_core::loyalty::reward::Reward {
                            id,
                            name_ko,
                            name_en,
                            points,
                            stock,
                            active,
                        }
                    })
                    .collect())
            }

            async fn save_loyalty_reward(
                &self,
                r: &nunchi_core::loyalty::reward::Reward,
            ) -> $crate::StoreResult<i64> {
                if r.id == 0 {
                    return Ok(
                        sqlx::query_scalar($crate::sql::loyalty_rewards::INSERT_REWARD)
                            .bind(&r.name_ko)
                            .bind(&r.name_en)
                            .bind(r.points)
                            .bind(r.stock)
                            .bind(r.active)
                            .bind(self.clock.now_ms())
                            .fetch_one(&self.write)
                            .await?,
                    );
                }
                let done = sqlx::query($crate::sql::loyalty_rewards::UPDATE_REWARD)
                    .bind(&r.name_ko)
                    .bind(&r.name_en)
                    .bind(r.points)
                    .bind(r.stock)
                    .bind(r.active)
                    .bind(r.id)
                    .execute(&self.write)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound(format!("reward {}", r.id)));
                }
                Ok(r.id)
            }

            async fn redeem_reward(
                &self,
                customer_id: i64,
                reward_id: i64,
                key: &str,
                order_ref: Option<&str>,
                credit_limit: i64,
                actor: &str,
            ) -> $crate::StoreResult<$crate::model::RewardOutcome> {
                use $crate::model::RewardOutcome;
                let now = self.clock.now_ms();
                let mut tx = self.write.begin().await?;
                let taken: Option<(i64, String)> =
                    sqlx::query_as($crate::sql::loyalty_rewards::TAKE_REWARD)
                        .bind(reward_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                // Returning before the commit rolls the stock back.
                let Some((points, name)) = taken else {
                    return Ok(RewardOutcome::Unavailable);
                };
                let op = nunchi_core::loyalty::Op::Spend {
                    key: key.to_string(),
                    points,
                    order_ref: order_ref.map(str::to_string),
                    credit_limit,
                    reason: name,
                };
                let outcome = Self::post_batch(&mut tx, &[(customer_id, op)], actor, now)
                    .await?
                    .remove(0);
                match outcome {
                    Err(e) => Ok(RewardOutcome::Refused(e)),
                    Ok(ids) if ids.is_empty() => Ok(RewardOutcome::AlreadyTaken),
                    Ok(ids) => {
                        sqlx::query($crate::sql::loyalty_rewards::INSERT_CLAIM)
                            .bind(ids[0])
                            .bind(reward_id)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                        tx.commit().await?;
                        Ok(RewardOutcome::Taken(ids))
                    }
                }
            }
        }
    };
}
pub(crate) use impl_reward_store;
