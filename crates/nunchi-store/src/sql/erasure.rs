//! Erasure (the right to be forgotten) in SQL shared by both backends: every copy of a
//! person's data goes, not just the profile. Identities, tags, attributes, consents, life
//! events and notes are deleted; events, survey answers, feedback and follow-ups keep what
//! the aggregates need (a name, a time, a rating) and lose who sent them and what they
//! wrote; queued and past jobs that carried their address or words are emptied. After the
//! commit each backend scrubs its own leftovers (`purge_erased`): SQLite checkpoints and
//! truncates the WAL (freed pages are already zeroed by `secure_delete`), PostgreSQL
//! vacuums the touched tables.

/// Every table an erasure touches, which PostgreSQL vacuums afterwards: the registry's
/// customer tables, and those that hold copies without a customer column.
pub(crate) fn touched_tables() -> impl Iterator<Item = &'static str> {
    crate::lifecycle::CUSTOMER_TABLES
        .iter()
        .filter(|t| t.on_erase != crate::lifecycle::OnErase::Keep)
        .map(|t| t.name)
        .chain([
            "customers",
            "follow_ups",
            "follow_up_notes",
            "jobs",
            "conversation_messages",
            "conversation_labels",
            "calls",
        ])
}

/// A response's answers with every free-text answer removed: ratings and choice ids stay
/// for the results, words go. An answer to a question the survey no longer has is
/// removed too, since nothing says it is not text.
pub(crate) fn answers_without_text(answers: &str, questions: &str) -> String {
    use nunchi_core::survey::{Question, QuestionKind};
    let questions: Vec<Question> = serde_json::from_str(questions).unwrap_or_default();
    let Ok(serde_json::Value::Object(mut map)) = serde_json::from_str(answers) else {
        return "{}".into();
    };
    for (id, value) in map.iter_mut() {
        let keep = questions
            .iter()
            .find(|q| &q.id == id)
            .is_some_and(|q| q.kind != QuestionKind::Text);
        if !keep {
            *value = serde_json::Value::Null;
        }
    }
    serde_json::Value::Object(map).to_string()
}

/// `value` as it appears inside a JSON string, escaped for a `LIKE … ESCAPE '\'` pattern.
pub(crate) fn like_json_fragment(value: &str) -> String {
    let json = serde_json::to_string(value).unwrap_or_default();
    let inner = &json[1..json.len().saturating_sub(1)];
    let mut pattern = String::with_capacity(inner.len() + 2);
    pattern.push('%');
    for c in inner.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

pub(crate) const ERASE_EVERYWHERE_SELECT_IDENTITIES: &str = "
    SELECT kind, value FROM customer_identities WHERE customer_id = $1";

pub(crate) const ERASE_EVERYWHERE_SELECT_FEEDBACK: &str = "
    SELECT body FROM feedback WHERE customer_id = $1 AND body <> ''";

pub(crate) const ERASE_EVERYWHERE_UPDATE_EVENTS: &str = "UPDATE events SET customer_id =";

pub(crate) const ERASE_EVERYWHERE_SELECT_SURVEY_RESPONSES: &str = "
    SELECT r.id, r.answers, s.questions FROM survey_responses r
    JOIN surveys s ON s.id = r.survey_id WHERE r.customer_id =";

pub(crate) const ERASE_EVERYWHERE_UPDATE_SURVEY_RESPONSES: &str = "
    UPDATE survey_responses SET answers = $2, customer_id = $3, anonymous_id = NULL WHERE id = $1";

pub(crate) const ERASE_EVERYWHERE_UPDATE_SURVEY_CONTACTS: &str = "
    UPDATE survey_contacts SET anonymous_id = NULL, last_error = NULL WHERE customer_id = $1";

pub(crate) const ERASE_EVERYWHERE_DELETE_FOLLOW_UP_NOTES: &str = "
    DELETE FROM follow_up_notes WHERE follow_up_id IN (SELECT f.id FROM follow_ups f
    JOIN feedback b ON b.id = f.feedback_id WHERE b.customer_id = $1)";

pub(crate) const ERASE_EVERYWHERE_UPDATE_FOLLOW_UPS: &str = "
    UPDATE follow_ups SET resolution = NULL WHERE feedback_id IN (SELECT id FROM feedback
    WHERE customer_id = $1)";

pub(crate) const ERASE_EVERYWHERE_UPDATE_FEEDBACK: &str = "
    UPDATE feedback SET body = '', author = NULL, url = NULL, topics = NULL WHERE customer_id = $1";

pub(crate) const ERASE_EVERYWHERE_SELECT_CONVERSATION_MESSAGES: &str = "
    SELECT m.text FROM conversation_messages m JOIN conversations c ON c.id = m.conversation_id
    WHERE c.customer_id = $1 AND m.text <> '' AND m.direction IN ('incoming', 'outgoing')";

pub(crate) const ERASE_EVERYWHERE_UPDATE_CONVERSATION_MESSAGES: &str =
    "UPDATE conversation_messages SET text = '', subject = NULL, external_id = NULL,
     delivery_error = NULL WHERE conversation_id IN (SELECT id FROM conversations
     WHERE customer_id = $1)";

pub(crate) const ERASE_EVERYWHERE_DELETE_CONVERSATION_LABELS: &str = "
    DELETE FROM conversation_labels WHERE conversation_id IN (SELECT id FROM conversations
    WHERE customer_id = $1)";

/// The Message-IDs their mail named.
pub(crate) const ERASE_EVERYWHERE_DELETE_MAIL_REFERENCES: &str = "
    DELETE FROM mail_references WHERE message_id IN (SELECT m.id FROM conversation_messages m
    JOIN conversations c ON c.id = m.conversation_id WHERE c.customer_id = $1)";

/// Files the person sent or was sent (the data-folder copies are removed by the app).
pub(crate) const ERASE_EVERYWHERE_DELETE_ATTACHMENTS: &str = "
    DELETE FROM attachments WHERE conversation_id IN (SELECT id FROM conversations
    WHERE customer_id = $1)";

/// A messenger recipient id is the person's handle on that messenger.
pub(crate) const ERASE_EVERYWHERE_DELETE_MESSENGER_THREADS: &str = "
    DELETE FROM messenger_threads WHERE conversation_id IN (SELECT id FROM conversations
    WHERE customer_id = $1)";

pub(crate) const ERASE_EVERYWHERE_UPDATE_CALLS: &str = "
    UPDATE calls SET number = '', recording_url = NULL WHERE message_id IN (SELECT m.id
    FROM conversation_messages m JOIN conversations c ON c.id = m.conversation_id
    WHERE c.customer_id = $1)";

pub(crate) const ERASE_EVERYWHERE_UPDATE_CONVERSATIONS: &str = "
    UPDATE conversations SET subject = '' WHERE customer_id = $1";

pub(crate) const ERASE_EVERYWHERE_UPDATE_JOBS: &str = "
    UPDATE jobs SET payload = '{}', result = NULL, last_error = CASE
    WHEN status IN ('queued', 'running') THEN 'cancelled: the customer was erased'
    ELSE NULL END, status = CASE WHEN status IN ('queued', 'running') THEN 'failed'
    ELSE status END WHERE payload LIKE $1 ESCAPE '\\' OR result LIKE $1 ESCAPE '\\' OR last_error
    LIKE $1 ESCAPE '\\'";

pub(crate) const ERASE_EVERYWHERE_UPDATE_CUSTOMERS: &str = "
    UPDATE customers SET name = NULL, time_zone = NULL, preferred_channel = NULL, erased_at = $2,
    updated_at = $2 WHERE id = $1";

macro_rules! impl_erasure {
    ($store:ty, $db:ty) => {
        impl $store {
            /// Removes or anonymises every copy of customer `id`'s personal data inside the
            /// caller's transaction.
            pub(crate) async fn erase_everywhere(
                conn: &mut <$db as sqlx::Database>::Connection,
                id: i64,
                name: Option<String>,
                now: i64,
            ) -> $crate::StoreResult<()> {
                // Everything that identified the person, gathered before it is deleted, to
                // find copies outside their own rows.
                let identities: Vec<(String, String)> =
                    sqlx::query_as($crate::sql::erasure::ERASE_EVERYWHERE_SELECT_IDENTITIES)
                        .bind(id)
                        .fetch_all(&mut *conn)
                        .await?;
                let anonymous: Vec<String> = identities
                    .iter()
                    .filter(|(k, _)| k == "anonymous_id")
                    .map(|(_, v)| v.clone())
                    .collect();
                let mut traces: Vec<String> =
                    identities.into_iter().map(|(_, v)| v).chain(name).collect();
                traces.extend(
                    sqlx::query_scalar::<_, String>(
                        $crate::sql::erasure::ERASE_EVERYWHERE_SELECT_FEEDBACK,
                    )
                    .bind(id)
                    .fetch_all(&mut *conn)
                    .await?,
                );

                // Events keep their name, time and channel for the analytics, on the erased
                // profile; who sent them and what they carried (traits, context) go.
                const FORGET_SENDER: &str =
                    ", user_id = NULL, anonymous_id = NULL, properties = '{}', context = '{}'";
                sqlx::query(&format!(
                    "UPDATE events SET customer_id = $1{FORGET_SENDER} WHERE customer_id = $1"
                ))
                .bind(id)
                .execute(&mut *conn)
                .await?;
                for chunk in anonymous.chunks(500) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        $crate::sql::erasure::ERASE_EVERYWHERE_UPDATE_EVENTS,
                    );
                    qb.push_bind(id)
                        .push(FORGET_SENDER)
                        .push(" WHERE anonymous_id IN (");
                    let mut sep = qb.separated(", ");
                    for a in chunk {
                        sep.push_bind(a.clone());
                    }
                    qb.push(")");
                    qb.build().execute(&mut *conn).await?;
                }

                // Survey responses keep ratings and choices; free text and visitor ids go.
                let mut qb = sqlx::QueryBuilder::<$db>::new(
                    $crate::sql::erasure::ERASE_EVERYWHERE_SELECT_SURVEY_RESPONSES,
                );
                qb.push_bind(id);
                if !anonymous.is_empty() {
                    qb.push(" OR r.anonymous_id IN (");
                    let mut sep = qb.separated(", ");
                    for a in &anonymous {
                        sep.push_bind(a.clone());
                    }
                    qb.push(")");
                }
                let responses: Vec<(i64, String, String)> =
                    qb.build_query_as().fetch_all(&mut *conn).await?;
                for (response, answers, questions) in responses {
                    if let Ok(serde_json::Value::Object(map)) =
                        serde_json::from_str::<serde_json::Value>(&answers)
                    {
                        traces.extend(
                            map.values()
                                .filter_map(|v| v.as_str())
                                .filter(|s| s.chars().count() > 3)
                                .map(str::to_string),
                        );
                    }
                    sqlx::query($crate::sql::erasure::ERASE_EVERYWHERE_UPDATE_SURVEY_RESPONSES)
                        .bind(response)
                        .bind($crate::sql::erasure::answers_without_text(
                            &answers, &questions,
                        ))
                        .bind(id)
                        .execute(&mut *conn)
                        .await?;
                }
                sqlx::query($crate::sql::erasure::ERASE_EVERYWHERE_UPDATE_SURVEY_CONTACTS)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;

                // Feedback keeps its ratings for the aggregates; its words and author go, and
                // so do the staff's notes and resolutions about it.
                sqlx::query($crate::sql::erasure::ERASE_EVERYWHERE_DELETE_FOLLOW_UP_NOTES)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                sqlx::query($crate::sql::erasure::ERASE_EVERYWHERE_UPDATE_FOLLOW_UPS)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                sqlx::query($crate::sql::erasure::ERASE_EVERYWHERE_UPDATE_FEEDBACK)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;

                // Conversations keep their channel, times and who handled them for the desk's
                // reports; every word, subject and mail id goes.
                traces.extend(
                    sqlx::query_scalar::<_, String>(
                        $crate::sql::erasure::ERASE_EVERYWHERE_SELECT_CONVERSATION_MESSAGES,
                    )
                    .bind(id)
                    .fetch_all(&mut *conn)
                    .await?,
                );
                sqlx::query($crate::sql::erasure::ERASE_EVERYWHERE_UPDATE_CONVERSATION_MESSAGES)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                sqlx::query($crate::sql::erasure::ERASE_EVERYWHERE_DELETE_CONVERSATION_LABELS)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                sqlx::query($crate::sql::erasure::ERASE_EVERYWHERE_DELETE_MAIL_REFERENCES)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                sqlx::query($crate::sql::erasure::ERASE_EVERYWHERE_DELETE_ATTACHMENTS)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                sqlx::query($crate::sql::erasure::ERASE_EVERYWHERE_DELETE_MESSENGER_THREADS)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                sqlx::query($crate::sql::erasure::ERASE_EVERYWHERE_UPDATE_CALLS)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                sqlx::query($crate::sql::erasure::ERASE_EVERYWHERE_UPDATE_CONVERSATIONS)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;

                // Jobs (e-mails, webhook deliveries) that carried any of it: emptied, and
                // those still waiting are cancelled so nothing goes out after the erasure.
                traces.retain(|t| t.chars().count() >= 3);
                traces.sort_unstable();
                traces.dedup();
                for t in &traces {
                    let pattern = $crate::sql::erasure::like_json_fragment(t);
                    sqlx::query($crate::sql::erasure::ERASE_EVERYWHERE_UPDATE_JOBS)
                        .bind(pattern)
                        .execute(&mut *conn)
                        .await?;
                }

                for table in $crate::lifecycle::erased_tables() {
                    sqlx::query(&format!("DELETE FROM {table} WHERE customer_id = $1"))
                        .bind(id)
                        .execute(&mut *conn)
                        .await?;
                }
                sqlx::query($crate::sql::erasure::ERASE_EVERYWHERE_UPDATE_CUSTOMERS)
                    .bind(id)
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }
        }
    };
}
pub(crate) use impl_erasure;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_text_answers_are_removed() {
        let questions = r#"[
            {"id":"q1","kind":"nps","text":{"ko":"추천","en":"Recommend"},"required":true},
            {"id":"q2","kind":"text","text":{"ko":"이유","en":"Why"},"required":false},
            {"id":"q3","kind":"single","text":{"ko":"채널","en":"Channel"},"required":false,
             "choices":[{"id":"web","ko":"웹","en":"Web"}]}
        ]"#;
        let out = answers_without_text(
            r#"{"q1":9,"q2":"김민준입니다, 010-1234-5678","q3":"web","gone":"x"}"#,
            questions,
        );
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["q1"], 9);
        assert_eq!(v["q3"], "web");
        assert!(v["q2"].is_null() && v["gone"].is_null(), "{out}");
    }

    #[test]
    fn like_fragments_match_json_text_literally() {
        assert_eq!(like_json_fragment("a_b%c"), r"%a\_b\%c%");
        assert_eq!(like_json_fragment("줄\n바꿈"), r"%줄\\n바꿈%");
        assert_eq!(like_json_fragment(r#"say "hi""#), r#"%say \\"hi\\"%"#);
    }
}
