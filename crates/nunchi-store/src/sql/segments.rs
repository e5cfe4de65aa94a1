//! `SegmentStore` in SQL shared by both backends: segment definitions, members, and the
//! entries and exits each evaluation records, applied in one transaction so the member
//! count, the members and the history never disagree.

pub(crate) const INSERT_SEGMENT: &str = "
    INSERT INTO segments (name, description, kind, rule, created_by, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, $6)
    RETURNING id";

pub(crate) const UPDATE_SEGMENT: &str = "
    UPDATE segments SET name = $1, description = $2, rule = $3, updated_at = $4 WHERE id = $5";

pub(crate) const DELETE_SEGMENT: &str = "DELETE FROM segments WHERE id = $1";

pub(crate) const SEGMENT: &str = "
    SELECT id, name, description, kind, rule, members, evaluated_at, created_by, created_at,
    updated_at
    FROM segments WHERE id = $1";

pub(crate) const SEGMENTS: &str = "
    SELECT id, name, description, kind, rule, members, evaluated_at, created_by, created_at,
    updated_at
    FROM segments ORDER BY name";

pub(crate) const MEMBER_IDS: &str = "
    SELECT customer_id FROM segment_members WHERE segment_id = $1 ORDER BY customer_id";

pub(crate) const MEMBERS_PAGE: &str = "
    SELECT customer_id, since FROM segment_members WHERE segment_id = $1 AND customer_id > $2
    ORDER BY customer_id LIMIT $3";

pub(crate) const LEAVE: &str = "
    DELETE FROM segment_members WHERE segment_id = $1 AND customer_id = $2";

pub(crate) const COUNT_AND_STAMP: &str = "
    UPDATE segments SET members = (SELECT COUNT(*) FROM segment_members WHERE segment_id = $1),
    evaluated_at = $2
    WHERE id = $1";

pub(crate) const CHANGES: &str = "
    SELECT customer_id, entered, at, reason FROM segment_changes WHERE segment_id = $1
    ORDER BY at DESC, id DESC LIMIT $2";

pub(crate) const DAYS: &str = "
    SELECT at / 86400000 AS day, CAST(SUM(CASE WHEN entered THEN 1 ELSE 0 END) AS BIGINT) AS
    entered, CAST(SUM(CASE WHEN entered THEN 0 ELSE 1 END) AS BIGINT) AS \"left\"
    FROM segment_changes WHERE segment_id = $1
    GROUP BY at / 86400000 ORDER BY day";

/// Rows per multi-row insert.
pub(crate) const CHUNK: usize = 500;

macro_rules! impl_segment_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::traits::SegmentStore for $store {
            async fn create_segment(
                &self,
                s: &$crate::model::NewSegment,
            ) -> $crate::StoreResult<i64> {
                Ok(sqlx::query_scalar($crate::sql::segments::INSERT_SEGMENT)
                    .bind(&s.name)
                    .bind(&s.description)
                    .bind(&s.kind)
                    .bind(&s.rule)
                    .bind(&s.created_by)
                    .bind(self.clock.now_ms())
                    .fetch_one(&self.write)
                    .await?)
            }

            async fn update_segment(
                &self,
                id: i64,
                name: &str,
                description: &str,
                rule: &str,
            ) -> $crate::StoreResult<()> {
                let done = sqlx::query($crate::sql::segments::UPDATE_SEGMENT)
                    .bind(name)
                    .bind(description)
                    .bind(rule)
                    .bind(self.clock.now_ms())
                    .bind(id)
                    .execute(&self.write)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound(format!("segment {id}")));
                }
                Ok(())
            }

            async fn delete_segment(&self, id: i64) -> $crate::StoreResult<()> {
                let done = sqlx::query($crate::sql::segments::DELETE_SEGMENT)
                    .bind(id)
                    .execute(&self.write)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound(format!("segment {id}")));
                }
                Ok(())
            }

            async fn segment(&self, id: i64) -> $crate::StoreResult<$crate::model::Segment> {
                sqlx::query_as($crate::sql::segments::SEGMENT)
                    .bind(id)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or_else(|| $crate::StoreError::NotFound(format!("segment {id}")))
            }

            async fn segments(&self) -> $crate::StoreResult<Vec<$crate::model::Segment>> {
                Ok(sqlx::query_as($crate::sql::segments::SEGMENTS)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn segment_member_ids(&self, id: i64) -> $crate::StoreResult<Vec<i64>> {
                Ok(sqlx::query_scalar($crate::sql::segments::MEMBER_IDS)
                    .bind(id)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn segment_memberships(
                &self,
                customer_ids: &[i64],
            ) -> $crate::StoreResult<Vec<(i64, i64)>> {
                let mut out = Vec::new();
                for chunk in customer_ids.chunks($crate::sql::segments::CHUNK) {
                    let mut q = sqlx::QueryBuilder::<$db>::new(
                        "SELECT segment_id, customer_id FROM segment_members
                         WHERE customer_id IN (",
                    );
                    let mut ids = q.separated(", ");
                    for c in chunk {
                        ids.push_bind(*c);
                    }
                    q.push(")");
                    out.extend(
                        q.build_query_as::<(i64, i64)>()
                            .fetch_all(&self.read)
                            .await?,
                    );
                }
                Ok(out)
            }

            async fn apply_segment_changes(
                &self,
                id: i64,
                entered: &[i64],
                left: &[i64],
                at: i64,
                reason: &str,
            ) -> $crate::StoreResult<()> {
                let mut tx = self.write.begin().await?;
                for chunk in entered.chunks($crate::sql::segments::CHUNK) {
                    let mut q = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO segment_members (segment_id, customer_id, since) ",
                    );
                    q.push_values(chunk, |mut b, c| {
                        b.push_bind(id).push_bind(*c).push_bind(at);
                    });
                    q.build().execute(&mut *tx).await?;
                }
                for c in left {
                    sqlx::query($crate::sql::segments::LEAVE)
                        .bind(id)
                        .bind(*c)
                        .execute(&mut *tx)
                        .await?;
                }
                let changes: Vec<(i64, bool)> = entered
                    .iter()
                    .map(|&c| (c, true))
                    .chain(left.iter().map(|&c| (c, false)))
                    .collect();
                for chunk in changes.chunks($crate::sql::segments::CHUNK) {
                    let mut q = sqlx::QueryBuilder::<$db>::new(
                        "INSERT INTO segment_changes (segment_id, customer_id, entered, at,
                         reason) ",
                    );
                    q.push_values(chunk, |mut b, (c, entered)| {
                        b.push_bind(id)
                            .push_bind(*c)
                            .push_bind(*entered)
                            .push_bind(at)
                            .push_bind(reason);
                    });
                    q.build().execute(&mut *tx).await?;
                }
                let done = sqlx::query($crate::sql::segments::COUNT_AND_STAMP)
                    .bind(id)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound(format!("segment {id}")));
                }
                tx.commit().await?;
                Ok(())
            }

            async fn segment_members_page(
                &self,
                id: i64,
                after_customer: i64,
                limit: i64,
            ) -> $crate::StoreResult<Vec<(i64, i64)>> {
                Ok(sqlx::query_as($crate::sql::segments::MEMBERS_PAGE)
                    .bind(id)
                    .bind(after_customer)
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn segment_changes(
                &self,
                id: i64,
                limit: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::SegmentChange>> {
                Ok(sqlx::query_as($crate::sql::segments::CHANGES)
                    .bind(id)
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn segment_days(
                &self,
                id: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::SegmentDay>> {
                Ok(sqlx::query_as($crate::sql::segments::DAYS)
                    .bind(id)
                    .fetch_all(&self.read)
                    .await?)
            }
        }
    };
}
pub(crate) use impl_segment_store;
