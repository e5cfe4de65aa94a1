//! `AttachmentStore` in SQL shared by both backends: files of conversation messages, their
//! bytes in the row on PostgreSQL (a data-folder file on SQLite is the app's to write).

/// Every column but the bytes.
macro_rules! attachment_columns {
    () => {
        "id, conversation_id, message_id, filename, content_type, size, sha256, file_path, \
         rejected, uploaded_by, created_at"
    };
}

pub(crate) const CREATE: &str = concat!(
    "INSERT INTO attachments (conversation_id, message_id, filename, content_type, size, sha256,
     file_path, data, rejected, uploaded_by, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING ",
    attachment_columns!()
);

pub(crate) const BY_ID: &str = concat!(
    "SELECT ",
    attachment_columns!(),
    " FROM attachments WHERE id = $1"
);

pub(crate) const DATA: &str = "SELECT data FROM attachments WHERE id = $1";

/// Followed by the messages' ids, bound inside `IN (…)`.
pub(crate) const OF_MESSAGES_HEAD: &str = concat!(
    "SELECT ",
    attachment_columns!(),
    " FROM attachments WHERE message_id IN ("
);

/// An upload joins its message once, and only in its own conversation.
pub(crate) const BIND_HEAD: &str = "
    UPDATE attachments SET message_id = $1 WHERE conversation_id = $2 AND message_id IS NULL
    AND rejected IS NULL AND id IN (";

pub(crate) const FILES_OF_CUSTOMER: &str = "
    SELECT a.file_path FROM attachments a JOIN conversations c ON c.id = a.conversation_id
    WHERE c.customer_id = $1 AND a.file_path IS NOT NULL";

macro_rules! impl_attachment_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::traits::AttachmentStore for $store {
            async fn create_attachment(
                &self,
                a: &$crate::model::NewAttachment,
                data: Option<&[u8]>,
            ) -> $crate::StoreResult<$crate::model::Attachment> {
                Ok(sqlx::query_as($crate::sql::attachments::CREATE)
                    .bind(a.conversation_id)
                    .bind(a.message_id)
                    .bind(&a.filename)
                    .bind(&a.content_type)
                    .bind(a.size)
                    .bind(&a.sha256)
                    .bind(&a.file_path)
                    .bind(data)
                    .bind(&a.rejected)
                    .bind(a.uploaded_by)
                    .bind(self.clock.now_ms())
                    .fetch_one(&self.write)
                    .await?)
            }

            async fn attachment(&self, id: i64) -> $crate::StoreResult<$crate::model::Attachment> {
                sqlx::query_as($crate::sql::attachments::BY_ID)
                    .bind(id)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or_else(|| $crate::StoreError::NotFound(format!("attachment {id}")))
            }

            async fn attachment_data(&self, id: i64) -> $crate::StoreResult<Option<Vec<u8>>> {
                Ok(
                    sqlx::query_scalar::<_, Option<Vec<u8>>>($crate::sql::attachments::DATA)
                        .bind(id)
                        .fetch_optional(&self.read)
                        .await?
                        .flatten(),
                )
            }

            async fn message_attachments(
                &self,
                message_ids: &[i64],
            ) -> $crate::StoreResult<Vec<$crate::model::Attachment>> {
                let mut out = Vec::new();
                for chunk in message_ids.chunks(500) {
                    let mut qb =
                        sqlx::QueryBuilder::<$db>::new($crate::sql::attachments::OF_MESSAGES_HEAD);
                    let mut sep = qb.separated(", ");
                    for id in chunk {
                        sep.push_bind(*id);
                    }
                    qb.push(") ORDER BY id");
                    out.extend(
                        qb.build_query_as::<$crate::model::Attachment>()
                            .fetch_all(&self.read)
                            .await?,
                    );
                }
                Ok(out)
            }

            async fn bind_attachments(
                &self,
                conversation_id: i64,
                message_id: i64,
                ids: &[i64],
            ) -> $crate::StoreResult<u64> {
                if ids.is_empty() {
                    return Ok(0);
                }
                // The head binds the message and the conversation first; the ids follow.
                let ids_sql: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 3)).collect();
                let sql = format!(
                    "{}{})",
                    $crate::sql::attachments::BIND_HEAD,
                    ids_sql.join(", ")
                );
                let mut q = sqlx::query(&sql).bind(message_id).bind(conversation_id);
                for id in ids {
                    q = q.bind(*id);
                }
                Ok(q.execute(&self.write).await?.rows_affected())
            }

            async fn customer_attachment_files(
                &self,
                customer_id: i64,
            ) -> $crate::StoreResult<Vec<String>> {
                Ok(
                    sqlx::query_scalar($crate::sql::attachments::FILES_OF_CUSTOMER)
                        .bind(customer_id)
                        .fetch_all(&self.read)
                        .await?,
                )
            }
        }
    };
}
pub(crate) use impl_attachment_store;
