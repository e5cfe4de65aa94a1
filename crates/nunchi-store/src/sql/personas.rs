//! `PersonaStore` in SQL shared by both backends: personas' stories and photos, and the
//! feedback of a persona's customers read in chunks of ids.

pub(crate) const COLUMNS: &str = "
    id, segment_id, name_ko, name_en, goals_ko, goals_en, pains_ko, pains_en, quote_ko,
    quote_en, channels, photo IS NOT NULL AS has_photo, created_by, created_at, updated_at";

pub(crate) const INSERT_PERSONA: &str = "
    INSERT INTO personas (segment_id, name_ko, name_en, goals_ko, goals_en, pains_ko, pains_en,
    quote_ko, quote_en, channels, created_by, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
    RETURNING id";

pub(crate) const UPDATE_PERSONA: &str = "
    UPDATE personas SET segment_id = $1, name_ko = $2, name_en = $3, goals_ko = $4,
    goals_en = $5, pains_ko = $6, pains_en = $7, quote_ko = $8, quote_en = $9, channels = $10,
    updated_at = $11
    WHERE id = $12";

pub(crate) const DELETE_PERSONA: &str = "DELETE FROM personas WHERE id = $1";

pub(crate) const SET_PHOTO: &str = "
    UPDATE personas SET photo = $1, photo_type = $2, updated_at = $3 WHERE id = $4";

pub(crate) const PHOTO: &str = "SELECT photo_type, photo FROM personas WHERE id = $1";

/// Ids per query when reading feedback by customer.
pub(crate) const CHUNK: usize = 500;

macro_rules! impl_persona_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::traits::PersonaStore for $store {
            async fn create_persona(
                &self,
                p: &$crate::model::PersonaStory,
                created_by: &str,
            ) -> $crate::StoreResult<i64> {
                Ok(sqlx::query_scalar($crate::sql::personas::INSERT_PERSONA)
                    .bind(p.segment_id)
                    .bind(&p.name_ko)
                    .bind(&p.name_en)
                    .bind(&p.goals_ko)
                    .bind(&p.goals_en)
                    .bind(&p.pains_ko)
                    .bind(&p.pains_en)
                    .bind(&p.quote_ko)
                    .bind(&p.quote_en)
                    .bind(&p.channels)
                    .bind(created_by)
                    .bind(self.clock.now_ms())
                    .fetch_one(&self.write)
                    .await?)
            }

            async fn update_persona(
                &self,
                id: i64,
                p: &$crate::model::PersonaStory,
            ) -> $crate::StoreResult<()> {
                let done = sqlx::query($crate::sql::personas::UPDATE_PERSONA)
                    .bind(p.segment_id)
                    .bind(&p.name_ko)
                    .bind(&p.name_en)
                    .bind(&p.goals_ko)
                    .bind(&p.goals_en)
                    .bind(&p.pains_ko)
                    .bind(&p.pains_en)
                    .bind(&p.quote_ko)
                    .bind(&p.quote_en)
                    .bind(&p.channels)
                    .bind(self.clock.now_ms())
                    .bind(id)
                    .execute(&self.write)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound(format!("persona {id}")));
                }
                Ok(())
            }

            async fn delete_persona(&self, id: i64) -> $crate::StoreResult<()> {
                let done = sqlx::query($crate::sql::personas::DELETE_PERSONA)
                    .bind(id)
                    .execute(&self.write)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound(format!("persona {id}")));
                }
                Ok(())
            }

            async fn persona(&self, id: i64) -> $crate::StoreResult<$crate::model::Persona> {
                let sql = format!(
                    "SELECT {} FROM personas WHERE id = $1",
                    $crate::sql::personas::COLUMNS
                );
                sqlx::query_as(&sql)
                    .bind(id)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or_else(|| $crate::StoreError::NotFound(format!("persona {id}")))
            }

            async fn personas(&self) -> $crate::StoreResult<Vec<$crate::model::Persona>> {
                let sql = format!(
                    "SELECT {} FROM personas ORDER BY name_en, id",
                    $crate::sql::personas::COLUMNS
                );
                Ok(sqlx::query_as(&sql).fetch_all(&self.read).await?)
            }

            async fn set_persona_photo(
                &self,
                id: i64,
                photo: Option<(&str, &[u8])>,
            ) -> $crate::StoreResult<()> {
                let done = sqlx::query($crate::sql::personas::SET_PHOTO)
                    .bind(photo.map(|p| p.1))
                    .bind(photo.map(|p| p.0))
                    .bind(self.clock.now_ms())
                    .bind(id)
                    .execute(&self.write)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound(format!("persona {id}")));
                }
                Ok(())
            }

            async fn persona_photo(
                &self,
                id: i64,
            ) -> $crate::StoreResult<Option<(String, Vec<u8>)>> {
                let row: Option<(Option<String>, Option<Vec<u8>>)> =
                    sqlx::query_as($crate::sql::personas::PHOTO)
                        .bind(id)
                        .fetch_optional(&self.read)
                        .await?;
                match row {
                    None => Err($crate::StoreError::NotFound(format!("persona {id}"))),
                    Some((Some(ty), Some(bytes))) => Ok(Some((ty, bytes))),
                    Some(_) => Ok(None),
                }
            }

            async fn feedback_of_customers(
                &self,
                customer_ids: &[i64],
                since: i64,
                limit: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::Feedback>> {
                let mut out: Vec<$crate::model::Feedback> = Vec::new();
                for chunk in customer_ids.chunks($crate::sql::personas::CHUNK) {
                    let mut q = sqlx::QueryBuilder::<$db>::new(
                        "SELECT * FROM feedback WHERE created_at >= ",
                    );
                    q.push_bind(since).push(" AND customer_id IN (");
                    let mut ids = q.separated(", ");
                    for c in chunk {
                        ids.push_bind(*c);
                    }
                    q.push(") ORDER BY created_at DESC, id DESC LIMIT ")
                        .push_bind(limit);
                    out.extend(q.build_query_as().fetch_all(&self.read).await?);
                }
                out.sort_by(|a, b| (b.created_at, b.id).cmp(&(a.created_at, a.id)));
                out.truncate(usize::try_from(limit).unwrap_or(0));
                Ok(out)
            }
        }
    };
}

pub(crate) use impl_persona_store;
