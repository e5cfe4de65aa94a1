//! `ConversationStore` in SQL shared by both backends: conversations, their threads, labels
//! and the mail kept raw because it could not be read.

pub(crate) const INSERT_CONVERSATION: &str = "
    INSERT INTO conversations (
        customer_id, channel, status, priority, subject, team_id,
        last_message_at, created_at, updated_at
    )
    VALUES ($1, $2, 'open', $3, $4, $5, $6, $6, $6)
    RETURNING *";

pub(crate) const INSERT_MESSAGE: &str = "
    INSERT INTO conversation_messages (
        conversation_id, direction, channel, author_user_id, text, external_id, subject,
        delivery, created_at, seq, client_id
    )
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
    RETURNING *";

/// Gives the next line of conversation `$1` its number. On PostgreSQL the row stays locked
/// until the line commits, so numbers commit in order within a thread.
pub(crate) const NEXT_SEQ: &str = "
    UPDATE conversations SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq";

pub(crate) const MESSAGES_AFTER: &str = "
    SELECT * FROM conversation_messages
    WHERE conversation_id = $1 AND seq > $2
    ORDER BY seq
    LIMIT $3";

pub(crate) const MESSAGE_BY_CLIENT_ID: &str = "
    SELECT * FROM conversation_messages WHERE conversation_id = $1 AND client_id = $2";

/// Moves a conversation's activity times for a new line `$2` (its direction) at `$3`.
/// Notes and activity lines are not customer-facing, so they move only `updated_at`.
pub(crate) const TOUCH_CONVERSATION: &str = "
    UPDATE conversations SET
        last_message_at = CASE WHEN $2 IN ('incoming', 'outgoing') THEN $3
                               ELSE last_message_at END,
        last_incoming_at = CASE WHEN $2 = 'incoming' THEN $3 ELSE last_incoming_at END,
        first_reply_at = CASE WHEN $2 = 'outgoing' AND first_reply_at IS NULL THEN $3
                              ELSE first_reply_at END,
        updated_at = $3
    WHERE id = $1";

pub(crate) const SET_STATE: &str = "
    UPDATE conversations SET
        status = $2, snoozed_until = $3, priority = $4, team_id = $5, assignee_id = $6,
        resolved_at = CASE WHEN $2 = 'resolved' THEN COALESCE(resolved_at, $7) ELSE NULL END,
        updated_at = $7
    WHERE id = $1
    RETURNING *";

pub(crate) const INBOX_COUNTS: &str = "
    SELECT
        COUNT(CASE WHEN status = 'open' THEN 1 END),
        COUNT(CASE WHEN status = 'pending' THEN 1 END),
        COUNT(CASE WHEN status = 'snoozed' THEN 1 END),
        COUNT(CASE WHEN status = 'resolved' THEN 1 END),
        COUNT(CASE WHEN status <> 'resolved' AND assignee_id = $1 THEN 1 END),
        COUNT(CASE WHEN status <> 'resolved' AND assignee_id IS NULL THEN 1 END)
    FROM conversations";

/// `text` as a `LIKE … ESCAPE '\'` pattern matching it anywhere.
pub(crate) fn contains_pattern(text: &str) -> String {
    let mut p = String::with_capacity(text.len() + 2);
    p.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Messages (not activity lines) containing `$1` by substring, newest first, `$2` at most;
/// each backend fills in how `$1` is matched.
macro_rules! message_search_sql {
    ($matching:literal) => {
        concat!(
            "SELECT m.* FROM conversation_messages m WHERE m.direction <> 'activity' AND ",
            $matching,
            " ORDER BY m.id DESC LIMIT $2"
        )
    };
}
pub(crate) use message_search_sql;

/// Whether `text` reads the same in any case (Hangul, digits): then a plain substring test
/// is a case-insensitive one, and much cheaper than `ILIKE` over every row.
pub(crate) fn caseless(text: &str) -> bool {
    text.chars()
        .all(|c| c.to_lowercase().eq(std::iter::once(c)) && c.to_uppercase().eq(std::iter::once(c)))
}

pub(crate) const LABELS_OF: &str = "
    SELECT conversation_id, label FROM conversation_labels WHERE conversation_id IN (";

pub(crate) const INSERT_CALL: &str = "
    INSERT INTO calls (message_id, direction, number, agent_id, started_at, ended_at, outcome,
    recording_url) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

pub(crate) const CALLS: &str = "
    SELECT k.* FROM calls k JOIN conversation_messages m ON m.id = k.message_id
    WHERE m.conversation_id = $1 ORDER BY k.message_id";

pub(crate) const CONVERSATION: &str = "SELECT * FROM conversations WHERE id = $1";

pub(crate) const CONVERSATIONS: &str = "SELECT * FROM conversations WHERE 1 = 1";

pub(crate) const MESSAGES: &str = "
    SELECT * FROM conversation_messages WHERE conversation_id = $1 ORDER BY id";

pub(crate) const LATEST_MESSAGES: &str = "
    SELECT * FROM conversation_messages WHERE id IN (SELECT MAX(id) FROM conversation_messages
    WHERE direction IN ('incoming', 'outgoing') AND conversation_id IN (";

pub(crate) const MESSAGES_BY_EXTERNAL_ID: &str = "
    SELECT * FROM conversation_messages WHERE channel =";

pub(crate) const SET_LABELS_DELETE_CONVERSATION_LABELS: &str = "
    DELETE FROM conversation_labels WHERE conversation_id = $1";

pub(crate) const SET_LABELS_INSERT_CONVERSATION_LABELS: &str = "
    INSERT INTO conversation_labels (conversation_id, label) VALUES ($1, $2)
    ON CONFLICT DO NOTHING";

pub(crate) const SET_DELIVERY_UPDATE_CONVERSATION_MESSAGES: &str = "
    UPDATE conversation_messages SET delivery = $2, delivery_error = $3 WHERE id = $1";

pub(crate) const MESSAGE: &str = "SELECT * FROM conversation_messages WHERE id = $1";

pub(crate) const KEEP_UNREADABLE_MAIL: &str = "
    INSERT INTO unreadable_mail (received_at, reason, raw) VALUES ($1, $2, $3) RETURNING id";

pub(crate) const UNREADABLE_MAIL: &str = "SELECT * FROM unreadable_mail ORDER BY id DESC LIMIT $1";

macro_rules! impl_conversation_store {
    ($store:ty, $db:ty) => {
        impl $store {
            async fn labels_of(
                &self,
                ids: &[i64],
            ) -> $crate::StoreResult<std::collections::HashMap<i64, Vec<String>>> {
                let mut out: std::collections::HashMap<i64, Vec<String>> = Default::default();
                for chunk in ids.chunks(500) {
                    let mut qb =
                        sqlx::QueryBuilder::<$db>::new($crate::sql::conversations::LABELS_OF);
                    let mut sep = qb.separated(", ");
                    for id in chunk {
                        sep.push_bind(*id);
                    }
                    qb.push(") ORDER BY label");
                    let rows: Vec<(i64, String)> =
                        qb.build_query_as().fetch_all(&self.read).await?;
                    for (id, label) in rows {
                        out.entry(id).or_default().push(label);
                    }
                }
                Ok(out)
            }

            async fn with_labels(
                &self,
                mut list: Vec<$crate::model::Conversation>,
            ) -> $crate::StoreResult<Vec<$crate::model::Conversation>> {
                let ids: Vec<i64> = list.iter().map(|c| c.id).collect();
                let mut labels = self.labels_of(&ids).await?;
                for c in &mut list {
                    c.labels = labels.remove(&c.id).unwrap_or_default();
                }
                Ok(list)
            }

            async fn insert_call(
                conn: &mut <$db as sqlx::Database>::Connection,
                message_id: i64,
                call: &$crate::model::Call,
            ) -> $crate::StoreResult<()> {
                sqlx::query($crate::sql::conversations::INSERT_CALL)
                    .bind(message_id)
                    .bind(&call.direction)
                    .bind(&call.number)
                    .bind(call.agent_id)
                    .bind(call.started_at)
                    .bind(call.ended_at)
                    .bind(&call.outcome)
                    .bind(&call.recording_url)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }

            async fn open_conversation(
                &self,
                c: &$crate::model::NewConversation,
                first: &$crate::model::NewMessage,
                call: Option<&$crate::model::Call>,
            ) -> $crate::StoreResult<(
                $crate::model::Conversation,
                $crate::model::ConversationMessage,
            )> {
                let now = first.at.unwrap_or_else(|| self.clock.now_ms());
                let mut tx = self.write.begin().await?;
                let conversation: $crate::model::Conversation =
                    sqlx::query_as($crate::sql::conversations::INSERT_CONVERSATION)
                        .bind(c.customer_id)
                        .bind(c.channel.as_str())
                        .bind(c.priority.as_str())
                        .bind(&c.subject)
                        .bind(c.team_id)
                        .bind(now)
                        .fetch_one(&mut *tx)
                        .await?;
                let message = Self::insert_message(&mut tx, conversation.id, first, now).await?;
                if let Some(call) = call {
                    Self::insert_call(&mut tx, message.id, call).await?;
                }
                tx.commit().await?;
                Ok((
                    $crate::traits::ConversationStore::conversation(self, conversation.id).await?,
                    message,
                ))
            }

            async fn insert_message(
                conn: &mut <$db as sqlx::Database>::Connection,
                conversation_id: i64,
                m: &$crate::model::NewMessage,
                now: i64,
            ) -> $crate::StoreResult<$crate::model::ConversationMessage> {
                let at = m.at.unwrap_or(now);
                let seq: Option<i64> = sqlx::query_scalar($crate::sql::conversations::NEXT_SEQ)
                    .bind(conversation_id)
                    .fetch_optional(&mut *conn)
                    .await?;
                let Some(seq) = seq else {
                    return Err($crate::StoreError::NotFound(format!(
                        "conversation {conversation_id}"
                    )));
                };
                let row: $crate::model::ConversationMessage =
                    sqlx::query_as($crate::sql::conversations::INSERT_MESSAGE)
                        .bind(conversation_id)
                        .bind(m.direction.as_str())
                        .bind(m.channel.as_str())
                        .bind(m.author_user_id)
                        .bind(&m.text)
                        .bind(&m.external_id)
                        .bind(&m.subject)
                        .bind(&m.delivery)
                        .bind(at)
                        .bind(seq)
                        .bind(&m.client_id)
                        .fetch_one(&mut *conn)
                        .await?;
                sqlx::query($crate::sql::conversations::TOUCH_CONVERSATION)
                    .bind(conversation_id)
                    .bind(m.direction.as_str())
                    .bind(at)
                    .execute(&mut *conn)
                    .await?;
                Ok(row)
            }
        }

        #[async_trait::async_trait]
        impl $crate::traits::ConversationStore for $store {
            async fn create_conversation(
                &self,
                c: &$crate::model::NewConversation,
                first: &$crate::model::NewMessage,
            ) -> $crate::StoreResult<(
                $crate::model::Conversation,
                $crate::model::ConversationMessage,
            )> {
                self.open_conversation(c, first, None).await
            }

            async fn add_message(
                &self,
                conversation_id: i64,
                m: &$crate::model::NewMessage,
            ) -> $crate::StoreResult<$crate::model::ConversationMessage> {
                if let Some(client_id) = &m.client_id {
                    let sent = $crate::traits::ConversationStore::message_by_client_id(
                        self,
                        conversation_id,
                        client_id,
                    )
                    .await?;
                    if let Some(sent) = sent {
                        return Ok(sent);
                    }
                }
                let now = self.clock.now_ms();
                let mut tx = self.write.begin().await?;
                let row = match Self::insert_message(&mut tx, conversation_id, m, now).await {
                    Ok(row) => row,
                    // The same client id, sent twice at once: the other one was stored.
                    Err($crate::StoreError::Conflict(why)) => {
                        drop(tx);
                        let Some(client_id) = &m.client_id else {
                            return Err($crate::StoreError::Conflict(why));
                        };
                        return $crate::traits::ConversationStore::message_by_client_id(
                            self,
                            conversation_id,
                            client_id,
                        )
                        .await?
                        .ok_or($crate::StoreError::Conflict(why));
                    }
                    Err(e) => return Err(e),
                };
                tx.commit().await?;
                Ok(row)
            }

            async fn messages_after(
                &self,
                conversation_id: i64,
                after_seq: i64,
                limit: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::ConversationMessage>> {
                Ok(sqlx::query_as($crate::sql::conversations::MESSAGES_AFTER)
                    .bind(conversation_id)
                    .bind(after_seq)
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn message_by_client_id(
                &self,
                conversation_id: i64,
                client_id: &str,
            ) -> $crate::StoreResult<Option<$crate::model::ConversationMessage>> {
                Ok(
                    sqlx::query_as($crate::sql::conversations::MESSAGE_BY_CLIENT_ID)
                        .bind(conversation_id)
                        .bind(client_id)
                        .fetch_optional(&self.read)
                        .await?,
                )
            }

            async fn create_call_conversation(
                &self,
                c: &$crate::model::NewConversation,
                line: &$crate::model::NewMessage,
                call: &$crate::model::Call,
            ) -> $crate::StoreResult<(
                $crate::model::Conversation,
                $crate::model::ConversationMessage,
            )> {
                self.open_conversation(c, line, Some(call)).await
            }

            async fn add_call(
                &self,
                conversation_id: i64,
                line: &$crate::model::NewMessage,
                call: &$crate::model::Call,
            ) -> $crate::StoreResult<$crate::model::ConversationMessage> {
                let now = self.clock.now_ms();
                let mut tx = self.write.begin().await?;
                let row = Self::insert_message(&mut tx, conversation_id, line, now).await?;
                Self::insert_call(&mut tx, row.id, call).await?;
                tx.commit().await?;
                Ok(row)
            }

            async fn calls(
                &self,
                conversation_id: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::Call>> {
                Ok(sqlx::query_as($crate::sql::conversations::CALLS)
                    .bind(conversation_id)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn import_messages(
                &self,
                lines: &[(i64, $crate::model::NewMessage)],
            ) -> $crate::StoreResult<()> {
                let now = self.clock.now_ms();
                let mut tx = self.write.begin().await?;
                for (conversation_id, m) in lines {
                    Self::insert_message(&mut tx, *conversation_id, m, now).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn conversation(
                &self,
                id: i64,
            ) -> $crate::StoreResult<$crate::model::Conversation> {
                let row: $crate::model::Conversation =
                    sqlx::query_as($crate::sql::conversations::CONVERSATION)
                        .bind(id)
                        .fetch_optional(&self.read)
                        .await?
                        .ok_or_else(|| {
                            $crate::StoreError::NotFound(format!("conversation {id}"))
                        })?;
                Ok(self.with_labels(vec![row]).await?.remove(0))
            }

            async fn conversations(
                &self,
                f: &$crate::model::ConversationFilter,
            ) -> $crate::StoreResult<Vec<$crate::model::Conversation>> {
                let mut qb =
                    sqlx::QueryBuilder::<$db>::new($crate::sql::conversations::CONVERSATIONS);
                if let Some(s) = f.status {
                    qb.push(" AND status = ").push_bind(s.as_str());
                }
                match f.assignee {
                    Some($crate::model::AssigneeFilter::User(u)) => {
                        qb.push(" AND assignee_id = ").push_bind(u);
                    }
                    Some($crate::model::AssigneeFilter::Nobody) => {
                        qb.push(" AND assignee_id IS NULL");
                    }
                    None => {}
                }
                if let Some(t) = f.team_id {
                    qb.push(" AND team_id = ").push_bind(t);
                }
                if let Some(c) = f.customer_id {
                    qb.push(" AND customer_id = ").push_bind(c);
                }
                if let Some(ids) = &f.ids {
                    if ids.is_empty() {
                        return Ok(vec![]);
                    }
                    qb.push(" AND id IN (");
                    let mut sep = qb.separated(", ");
                    for id in ids {
                        sep.push_bind(*id);
                    }
                    qb.push(")");
                }
                if let Some((at, id)) = f.before {
                    qb.push(" AND (last_message_at < ")
                        .push_bind(at)
                        .push(" OR (last_message_at = ")
                        .push_bind(at)
                        .push(" AND id < ")
                        .push_bind(id)
                        .push("))");
                }
                qb.push(" ORDER BY last_message_at DESC, id DESC LIMIT ")
                    .push_bind(f.limit);
                let list = qb.build_query_as().fetch_all(&self.read).await?;
                self.with_labels(list).await
            }

            async fn inbox_counts(
                &self,
                user_id: i64,
            ) -> $crate::StoreResult<$crate::model::InboxCounts> {
                let (open, pending, snoozed, resolved, mine, unassigned): (
                    i64,
                    i64,
                    i64,
                    i64,
                    i64,
                    i64,
                ) = sqlx::query_as($crate::sql::conversations::INBOX_COUNTS)
                    .bind(user_id)
                    .fetch_one(&self.read)
                    .await?;
                Ok($crate::model::InboxCounts {
                    open,
                    pending,
                    snoozed,
                    resolved,
                    mine,
                    unassigned,
                })
            }

            async fn messages(
                &self,
                conversation_id: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::ConversationMessage>> {
                Ok(sqlx::query_as($crate::sql::conversations::MESSAGES)
                    .bind(conversation_id)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn latest_messages(
                &self,
                conversation_ids: &[i64],
            ) -> $crate::StoreResult<Vec<$crate::model::ConversationMessage>> {
                let mut out = Vec::new();
                for chunk in conversation_ids.chunks(500) {
                    let mut qb =
                        sqlx::QueryBuilder::<$db>::new($crate::sql::conversations::LATEST_MESSAGES);
                    let mut sep = qb.separated(", ");
                    for id in chunk {
                        sep.push_bind(*id);
                    }
                    qb.push(") GROUP BY conversation_id)");
                    out.extend(
                        qb.build_query_as::<$crate::model::ConversationMessage>()
                            .fetch_all(&self.read)
                            .await?,
                    );
                }
                Ok(out)
            }

            async fn messages_by_external_id(
                &self,
                channel: &str,
                external_ids: &[String],
            ) -> $crate::StoreResult<Vec<$crate::model::ConversationMessage>> {
                if external_ids.is_empty() {
                    return Ok(vec![]);
                }
                let mut qb = sqlx::QueryBuilder::<$db>::new(
                    $crate::sql::conversations::MESSAGES_BY_EXTERNAL_ID,
                );
                qb.push_bind(channel.to_string())
                    .push(" AND external_id IN (");
                let mut sep = qb.separated(", ");
                for id in external_ids.iter().take(200) {
                    sep.push_bind(id.clone());
                }
                qb.push(") ORDER BY id");
                Ok(qb.build_query_as().fetch_all(&self.read).await?)
            }

            async fn set_conversation_state(
                &self,
                id: i64,
                s: &$crate::model::ConversationState,
            ) -> $crate::StoreResult<$crate::model::Conversation> {
                sqlx::query_as::<_, $crate::model::Conversation>(
                    $crate::sql::conversations::SET_STATE,
                )
                .bind(id)
                .bind(s.status.as_str())
                .bind(s.snoozed_until)
                .bind(s.priority.as_str())
                .bind(s.team_id)
                .bind(s.assignee_id)
                .bind(s.at.unwrap_or_else(|| self.clock.now_ms()))
                .fetch_optional(&self.write)
                .await?
                .ok_or_else(|| $crate::StoreError::NotFound(format!("conversation {id}")))?;
                self.conversation(id).await
            }

            async fn set_labels(&self, id: i64, labels: &[String]) -> $crate::StoreResult<()> {
                let mut tx = self.write.begin().await?;
                sqlx::query($crate::sql::conversations::SET_LABELS_DELETE_CONVERSATION_LABELS)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                for label in labels {
                    sqlx::query($crate::sql::conversations::SET_LABELS_INSERT_CONVERSATION_LABELS)
                        .bind(id)
                        .bind(label)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn set_delivery(
                &self,
                message_id: i64,
                delivery: &str,
                error: Option<&str>,
            ) -> $crate::StoreResult<()> {
                sqlx::query($crate::sql::conversations::SET_DELIVERY_UPDATE_CONVERSATION_MESSAGES)
                    .bind(message_id)
                    .bind(delivery)
                    .bind(error)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            async fn message(
                &self,
                id: i64,
            ) -> $crate::StoreResult<$crate::model::ConversationMessage> {
                sqlx::query_as($crate::sql::conversations::MESSAGE)
                    .bind(id)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or_else(|| $crate::StoreError::NotFound(format!("message {id}")))
            }

            async fn keep_unreadable_mail(
                &self,
                raw: &[u8],
                reason: &str,
            ) -> $crate::StoreResult<i64> {
                Ok(
                    sqlx::query_scalar($crate::sql::conversations::KEEP_UNREADABLE_MAIL)
                        .bind(self.clock.now_ms())
                        .bind(reason)
                        .bind(raw)
                        .fetch_one(&self.write)
                        .await?,
                )
            }

            async fn search_messages(
                &self,
                query: &str,
                limit: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::ConversationMessage>> {
                let (sql, bound) = Self::message_search(query);
                // Planned with the real pattern each time: a cached generic plan walks the
                // primary key backwards and reads every row for a rare word.
                Ok(sqlx::query_as(sql)
                    .persistent(false)
                    .bind(bound)
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn unreadable_mail(
                &self,
                limit: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::UnreadableMail>> {
                Ok(sqlx::query_as($crate::sql::conversations::UNREADABLE_MAIL)
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?)
            }
        }
    };
}
pub(crate) use impl_conversation_store;
