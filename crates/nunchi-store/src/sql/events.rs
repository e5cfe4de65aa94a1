//! `EventStore` and `JourneyStore` in SQL shared by both backends: event sources and
//! their write keys, the append-only event table written in multi-row statements, and the
//! journey map's stages and touchpoints.

/// Rows per INSERT statement: 13 binds each stays under both backends' bind limits.
pub(crate) const EVENT_ROWS_PER_STATEMENT: usize = 1_000;

/// Statement sizes for `n` rows: full statements, then the rest in powers of two. Each
/// distinct size is a distinct prepared statement in the connection's cache (a 1,000-row
/// insert is megabytes of compiled program), so sizes come from this fixed set of eleven
/// rather than one per group size the writer happens to meet.
pub(crate) fn statement_sizes(n: usize) -> Vec<usize> {
    let mut sizes = vec![EVENT_ROWS_PER_STATEMENT; n / EVENT_ROWS_PER_STATEMENT];
    let rest = n % EVENT_ROWS_PER_STATEMENT;
    let mut bit = EVENT_ROWS_PER_STATEMENT.next_power_of_two();
    while bit > 0 {
        if rest & bit != 0 {
            sizes.push(bit);
        }
        bit >>= 1;
    }
    sizes
}

pub(crate) const CREATE_SOURCE: &str = "
    INSERT INTO event_sources (name, write_key_hash, write_key_prefix, channel, created_at)
    VALUES ($1, $2, $3, $4, $5) RETURNING *";

pub(crate) const SOURCES: &str = "SELECT * FROM event_sources ORDER BY id";

pub(crate) const SOURCE_BY_KEY: &str = "SELECT * FROM event_sources WHERE write_key_hash = $1";

pub(crate) const APPEND_EVENTS: &str = "
    INSERT INTO events (source_id, message_id, kind, name, customer_id, user_id, anonymous_id,
    channel, ts, received_at, properties, context)";

pub(crate) const EVENTS_PAGE: &str = "SELECT * FROM events WHERE id > $1 ORDER BY id LIMIT $2";

pub(crate) const ANONYMOUS_LINKS_SELECT_IDENTITIES: &str = "
    SELECT value, customer_id FROM customer_identities WHERE kind = 'anonymous_id' ORDER BY id";

pub(crate) const CUSTOMER_EVENTS: &str = "
    SELECT * FROM events WHERE customer_id = $1 OR anonymous_id IN (SELECT value
    FROM customer_identities WHERE kind = 'anonymous_id' AND customer_id = $1)
    ORDER BY ts DESC, id DESC LIMIT $2";

pub(crate) const COUNT_EVENTS: &str = "SELECT COUNT(*) FROM events";

pub(crate) const STAGES: &str = "SELECT * FROM journey_stages ORDER BY position, id";

pub(crate) const ADD_STAGE: &str = "
    INSERT INTO journey_stages (position, key, name_ko, name_en)
    VALUES ((SELECT COALESCE(MAX(position), 0) + 1 FROM journey_stages), $1, $2, $3) RETURNING *";

pub(crate) const RENAME_STAGE: &str = "
    UPDATE journey_stages SET name_ko = $2, name_en = $3 WHERE id = $1";

pub(crate) const MOVE_STAGE_SELECT_JOURNEY_STAGES: &str = "
    SELECT id, position FROM journey_stages ORDER BY position, id";

pub(crate) const MOVE_STAGE_UPDATE_JOURNEY_STAGES: &str = "
    UPDATE journey_stages SET position = $2 WHERE id = $1";

pub(crate) const DELETE_STAGE_UPDATE_TOUCHPOINTS: &str = "
    UPDATE touchpoints SET stage_id = NULL WHERE stage_id = $1";

pub(crate) const DELETE_STAGE_DELETE_JOURNEY_STAGES: &str =
    "DELETE FROM journey_stages WHERE id = $1";

pub(crate) const TOUCHPOINTS: &str = "SELECT * FROM touchpoints ORDER BY id";

pub(crate) const CREATE_TOUCHPOINT: &str = "
    INSERT INTO touchpoints (name, channel, event, conditions, stage_id, expected_rating,
    created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *";

pub(crate) const UPDATE_TOUCHPOINT: &str = "
    UPDATE touchpoints SET name = $2, channel = $3, event = $4, conditions = $5, stage_id = $6,
    expected_rating = $7 WHERE id = $1 RETURNING *";

pub(crate) const DELETE_TOUCHPOINT: &str = "DELETE FROM touchpoints WHERE id = $1";

macro_rules! impl_event_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::traits::EventStore for $store {
            async fn create_source(
                &self,
                name: &str,
                write_key_hash: &str,
                write_key_prefix: &str,
                channel: Option<&str>,
            ) -> $crate::StoreResult<$crate::model::EventSource> {
                Ok(sqlx::query_as($crate::sql::events::CREATE_SOURCE)
                    .bind(name)
                    .bind(write_key_hash)
                    .bind(write_key_prefix)
                    .bind(channel)
                    .bind(self.clock.now_ms())
                    .fetch_one(&self.write)
                    .await?)
            }
            async fn sources(&self) -> $crate::StoreResult<Vec<$crate::model::EventSource>> {
                Ok(sqlx::query_as($crate::sql::events::SOURCES)
                    .fetch_all(&self.read)
                    .await?)
            }
            async fn source_by_key(
                &self,
                write_key_hash: &str,
            ) -> $crate::StoreResult<Option<$crate::model::EventSource>> {
                Ok(sqlx::query_as($crate::sql::events::SOURCE_BY_KEY)
                    .bind(write_key_hash)
                    .fetch_optional(&self.read)
                    .await?)
            }
            async fn append_events(
                &self,
                events: &[$crate::model::EventRow],
            ) -> $crate::StoreResult<()> {
                if events.is_empty() {
                    return Ok(());
                }
                let mut tx = self.write.begin().await?;
                let mut rest = events;
                for size in $crate::sql::events::statement_sizes(events.len()) {
                    let (chunk, tail) = rest.split_at(size);
                    rest = tail;
                    let mut qb = sqlx::QueryBuilder::<$db>::new($crate::sql::events::APPEND_EVENTS);
                    qb.push_values(chunk, |mut b, e| {
                        b.push_bind(e.source_id)
                            .push_bind(&e.message_id)
                            .push_bind(&e.kind)
                            .push_bind(&e.name)
                            .push_bind(e.customer_id)
                            .push_bind(&e.user_id)
                            .push_bind(&e.anonymous_id)
                            .push_bind(&e.channel)
                            .push_bind(e.ts)
                            .push_bind(e.received_at)
                            .push_bind(&e.properties)
                            .push_bind(&e.context);
                    });
                    qb.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }
            async fn events_page(
                &self,
                after_id: i64,
                limit: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::EventRow>> {
                Ok(sqlx::query_as($crate::sql::events::EVENTS_PAGE)
                    .bind(after_id)
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?)
            }
            async fn anonymous_links(&self) -> $crate::StoreResult<Vec<(String, i64)>> {
                Ok(
                    sqlx::query_as($crate::sql::events::ANONYMOUS_LINKS_SELECT_IDENTITIES)
                        .fetch_all(&self.read)
                        .await?,
                )
            }
            async fn customer_events(
                &self,
                customer_id: i64,
                limit: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::EventRow>> {
                Ok(sqlx::query_as($crate::sql::events::CUSTOMER_EVENTS)
                    .bind(customer_id)
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?)
            }
            async fn count_events(&self) -> $crate::StoreResult<i64> {
                Ok(sqlx::query_scalar($crate::sql::events::COUNT_EVENTS)
                    .fetch_one(&self.read)
                    .await?)
            }
        }

        #[async_trait::async_trait]
        impl $crate::traits::JourneyStore for $store {
            async fn stages(&self) -> $crate::StoreResult<Vec<$crate::model::Stage>> {
                Ok(sqlx::query_as($crate::sql::events::STAGES)
                    .fetch_all(&self.read)
                    .await?)
            }
            async fn add_stage(
                &self,
                key: &str,
                name_ko: &str,
                name_en: &str,
            ) -> $crate::StoreResult<$crate::model::Stage> {
                Ok(sqlx::query_as($crate::sql::events::ADD_STAGE)
                    .bind(key)
                    .bind(name_ko)
                    .bind(name_en)
                    .fetch_one(&self.write)
                    .await?)
            }
            async fn rename_stage(
                &self,
                id: i64,
                name_ko: &str,
                name_en: &str,
            ) -> $crate::StoreResult<()> {
                let done = sqlx::query($crate::sql::events::RENAME_STAGE)
                    .bind(id)
                    .bind(name_ko)
                    .bind(name_en)
                    .execute(&self.write)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound(format!("stage {id}")));
                }
                Ok(())
            }
            async fn move_stage(&self, id: i64, by: i64) -> $crate::StoreResult<()> {
                let mut tx = self.write.begin().await?;
                let stages: Vec<(i64, i64)> =
                    sqlx::query_as($crate::sql::events::MOVE_STAGE_SELECT_JOURNEY_STAGES)
                        .fetch_all(&mut *tx)
                        .await?;
                let Some(at) = stages.iter().position(|s| s.0 == id) else {
                    return Err($crate::StoreError::NotFound(format!("stage {id}")));
                };
                let to = at as i64 + by.signum();
                if to < 0 || to >= stages.len() as i64 {
                    return Ok(());
                }
                let mut order: Vec<i64> = stages.iter().map(|s| s.0).collect();
                order.swap(at, to as usize);
                for (position, stage) in order.iter().enumerate() {
                    sqlx::query($crate::sql::events::MOVE_STAGE_UPDATE_JOURNEY_STAGES)
                        .bind(stage)
                        .bind(position as i64 + 1)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }
            async fn delete_stage(&self, id: i64) -> $crate::StoreResult<()> {
                let mut tx = self.write.begin().await?;
                sqlx::query($crate::sql::events::DELETE_STAGE_UPDATE_TOUCHPOINTS)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                let done = sqlx::query($crate::sql::events::DELETE_STAGE_DELETE_JOURNEY_STAGES)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound(format!("stage {id}")));
                }
                tx.commit().await?;
                Ok(())
            }
            async fn touchpoints(&self) -> $crate::StoreResult<Vec<$crate::model::Touchpoint>> {
                Ok(sqlx::query_as($crate::sql::events::TOUCHPOINTS)
                    .fetch_all(&self.read)
                    .await?)
            }
            async fn create_touchpoint(
                &self,
                t: &$crate::model::NewTouchpoint,
            ) -> $crate::StoreResult<$crate::model::Touchpoint> {
                Ok(sqlx::query_as($crate::sql::events::CREATE_TOUCHPOINT)
                    .bind(&t.name)
                    .bind(&t.channel)
                    .bind(&t.event)
                    .bind(&t.conditions)
                    .bind(t.stage_id)
                    .bind(t.expected_rating)
                    .bind(self.clock.now_ms())
                    .fetch_one(&self.write)
                    .await?)
            }
            async fn update_touchpoint(
                &self,
                id: i64,
                t: &$crate::model::NewTouchpoint,
            ) -> $crate::StoreResult<$crate::model::Touchpoint> {
                let row: Option<$crate::model::Touchpoint> =
                    sqlx::query_as($crate::sql::events::UPDATE_TOUCHPOINT)
                        .bind(id)
                        .bind(&t.name)
                        .bind(&t.channel)
                        .bind(&t.event)
                        .bind(&t.conditions)
                        .bind(t.stage_id)
                        .bind(t.expected_rating)
                        .fetch_optional(&self.write)
                        .await?;
                row.ok_or_else(|| $crate::StoreError::NotFound(format!("touchpoint {id}")))
            }
            async fn delete_touchpoint(&self, id: i64) -> $crate::StoreResult<()> {
                let done = sqlx::query($crate::sql::events::DELETE_TOUCHPOINT)
                    .bind(id)
                    .execute(&self.write)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound(format!("touchpoint {id}")));
                }
                Ok(())
            }
        }
    };
}
pub(crate) use impl_event_store;

#[cfg(test)]
mod tests {
    #[test]
    fn statement_sizes_cover_every_row_from_a_fixed_set() {
        let mut shapes = std::collections::HashSet::new();
        for n in 0..5_000 {
            let sizes = super::statement_sizes(n);
            assert_eq!(sizes.iter().sum::<usize>(), n);
            shapes.extend(sizes);
        }
        assert_eq!(shapes.len(), 11, "{shapes:?}");
    }
}
