//! `MailThreadStore` in SQL shared by both backends: the Message-IDs incoming e-mail named,
//! and the conversation of a stored message that names one of a set.

pub(crate) const ADD: &str = "
    INSERT INTO mail_references (message_id, reference) VALUES ($1, $2)
    ON CONFLICT DO NOTHING";

/// Followed by the ids, bound inside `IN (…)`: the first stored message naming any of them.
pub(crate) const CONVERSATION_NAMING_HEAD: &str = "
    SELECT m.conversation_id FROM mail_references r
    JOIN conversation_messages m ON m.id = r.message_id
    WHERE r.reference IN (";

macro_rules! impl_mail_thread_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::traits::MailThreadStore for $store {
            async fn add_mail_references(
                &self,
                message_id: i64,
                references: &[String],
            ) -> $crate::StoreResult<()> {
                let mut tx = self.write.begin().await?;
                for r in references.iter().take(200) {
                    sqlx::query($crate::sql::mail_references::ADD)
                        .bind(message_id)
                        .bind(r)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn conversation_naming(
                &self,
                message_ids: &[String],
            ) -> $crate::StoreResult<Option<i64>> {
                if message_ids.is_empty() {
                    return Ok(None);
                }
                let mut qb = sqlx::QueryBuilder::<$db>::new(
                    $crate::sql::mail_references::CONVERSATION_NAMING_HEAD,
                );
                let mut sep = qb.separated(", ");
                for id in message_ids.iter().take(200) {
                    sep.push_bind(id.clone());
                }
                qb.push(") ORDER BY m.id LIMIT 1");
                Ok(qb
                    .build_query_scalar::<i64>()
                    .fetch_optional(&self.read)
                    .await?)
            }
        }
    };
}
pub(crate) use impl_mail_thread_store;
