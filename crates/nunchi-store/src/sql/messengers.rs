//! `MessengerStore` in SQL shared by both backends: messenger channels and the channel and
//! recipient each messenger conversation answers to.

pub(crate) const CREATE_CHANNEL: &str = "
    INSERT INTO messenger_channels (key, kind, name, secret, access_token, api_base, created_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7)
    RETURNING *";

pub(crate) const CHANNELS: &str = "SELECT * FROM messenger_channels ORDER BY id";

pub(crate) const CHANNEL_BY_KEY: &str = "SELECT * FROM messenger_channels WHERE key = $1";

pub(crate) const CHANNEL_BY_ID: &str = "SELECT * FROM messenger_channels WHERE id = $1";

pub(crate) const DELETE_CHANNEL: &str = "DELETE FROM messenger_channels WHERE id = $1";

/// A conversation's thread is set once: a redelivered message changes nothing.
pub(crate) const LINK_THREAD: &str = "
    INSERT INTO messenger_threads (conversation_id, channel_id, recipient) VALUES ($1, $2, $3)
    ON CONFLICT (conversation_id) DO NOTHING";

pub(crate) const THREAD: &str = "SELECT * FROM messenger_threads WHERE conversation_id = $1";

/// The recipient's newest conversation on the channel that is not resolved.
pub(crate) const OPEN_CONVERSATION: &str = "
    SELECT c.id FROM messenger_threads t JOIN conversations c ON c.id = t.conversation_id
    WHERE t.channel_id = $1 AND t.recipient = $2 AND c.status <> 'resolved'
    ORDER BY c.id DESC
    LIMIT 1";

macro_rules! impl_messenger_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::traits::MessengerStore for $store {
            async fn create_messenger_channel(
                &self,
                c: &$crate::model::NewMessengerChannel,
            ) -> $crate::StoreResult<$crate::model::MessengerChannel> {
                Ok(sqlx::query_as($crate::sql::messengers::CREATE_CHANNEL)
                    .bind(&c.key)
                    .bind(c.kind.as_str())
                    .bind(&c.name)
                    .bind(&c.secret)
                    .bind(&c.access_token)
                    .bind(&c.api_base)
                    .bind(self.clock.now_ms())
                    .fetch_one(&self.write)
                    .await?)
            }

            async fn messenger_channels(
                &self,
            ) -> $crate::StoreResult<Vec<$crate::model::MessengerChannel>> {
                Ok(sqlx::query_as($crate::sql::messengers::CHANNELS)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn messenger_channel(
                &self,
                key: &str,
            ) -> $crate::StoreResult<$crate::model::MessengerChannel> {
                sqlx::query_as($crate::sql::messengers::CHANNEL_BY_KEY)
                    .bind(key)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or_else(|| $crate::StoreError::NotFound(format!("messenger channel {key}")))
            }

            async fn messenger_channel_by_id(
                &self,
                id: i64,
            ) -> $crate::StoreResult<$crate::model::MessengerChannel> {
                sqlx::query_as($crate::sql::messengers::CHANNEL_BY_ID)
                    .bind(id)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or_else(|| $crate::StoreError::NotFound(format!("messenger channel {id}")))
            }

            async fn delete_messenger_channel(&self, id: i64) -> $crate::StoreResult<()> {
                let done = sqlx::query($crate::sql::messengers::DELETE_CHANNEL)
                    .bind(id)
                    .execute(&self.write)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound(format!(
                        "messenger channel {id}"
                    )));
                }
                Ok(())
            }

            async fn link_messenger_thread(
                &self,
                conversation_id: i64,
                channel_id: i64,
                recipient: &str,
            ) -> $crate::StoreResult<()> {
                sqlx::query($crate::sql::messengers::LINK_THREAD)
                    .bind(conversation_id)
                    .bind(channel_id)
                    .bind(recipient)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            async fn messenger_thread(
                &self,
                conversation_id: i64,
            ) -> $crate::StoreResult<Option<$crate::model::MessengerThread>> {
                Ok(sqlx::query_as($crate::sql::messengers::THREAD)
                    .bind(conversation_id)
                    .fetch_optional(&self.read)
                    .await?)
            }

            async fn open_messenger_conversation(
                &self,
                channel_id: i64,
                recipient: &str,
            ) -> $crate::StoreResult<Option<i64>> {
                Ok(
                    sqlx::query_scalar($crate::sql::messengers::OPEN_CONVERSATION)
                        .bind(channel_id)
                        .bind(recipient)
                        .fetch_optional(&self.read)
                        .await?,
                )
            }
        }
    };
}
pub(crate) use impl_messenger_store;
