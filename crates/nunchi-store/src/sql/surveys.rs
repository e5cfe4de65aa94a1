//! `SurveyStore` in SQL shared by both backends: surveys, responses kept as they arrive,
//! the contact log behind the fatigue rules and the suppression counts, the event-trigger
//! cursor, and the brand's key-value settings.

/// The settings key of the last event id the survey triggers have looked at.
pub(crate) const TRIGGER_CURSOR: &str = "survey_trigger_cursor";

pub(crate) const CREATE_SURVEY: &str = "
    INSERT INTO surveys (key, name, status, audience, questions, touchpoint_id, stage_id, team_id,
    trigger_event, trigger_delay_hours, sample_rate, min_days, repeat, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14) RETURNING *";

pub(crate) const UPDATE_SURVEY: &str = "
    UPDATE surveys SET name = $2, status = $3, audience = $4, questions = $5, touchpoint_id = $6,
    stage_id = $7, team_id = $8, trigger_event = $9, trigger_delay_hours = $10, sample_rate = $11,
    min_days = $12, repeat = $13, updated_at = $14 WHERE id = $1 RETURNING *";

pub(crate) const SURVEY: &str = "SELECT * FROM surveys WHERE id = $1";

pub(crate) const SURVEY_BY_KEY: &str = "SELECT * FROM surveys WHERE key = $1";

pub(crate) const SURVEYS: &str = "SELECT * FROM surveys ORDER BY id DESC";

pub(crate) const START_RESPONSE: &str = "
    INSERT INTO survey_responses (survey_id, token, customer_id, anonymous_id, channel, lang,
    answers, next_question, started_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, '{}', $7, $8, $8) RETURNING *";

pub(crate) const RESPONSE_BY_TOKEN: &str = "SELECT * FROM survey_responses WHERE token = $1";

pub(crate) const SAVE_RESPONSE: &str = "
    UPDATE survey_responses SET answers = $2, next_question = $3, completed_at = $4, updated_at =
    $5 WHERE id = $1";

pub(crate) const RESPONSES: &str = "
    SELECT * FROM survey_responses WHERE survey_id = $1 ORDER BY id DESC LIMIT $2";

pub(crate) const RESPONSE_COUNTS: &str = "
    SELECT survey_id, COUNT(CASE WHEN answers <> '{}' THEN 1 END) AS started, COUNT(CASE
    WHEN completed_at IS NOT NULL AND answers <> '{}' THEN 1 END) AS completed
    FROM survey_responses GROUP BY survey_id ORDER BY survey_id";

pub(crate) const SCHEDULE_TRIGGERED_INSERT_SETTINGS: &str = "
    INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE
    SET value = excluded.value";

pub(crate) const DUE_CONTACTS: &str = "
    SELECT * FROM survey_contacts WHERE status = 'due' AND due_at <= $1 ORDER BY due_at, id
    LIMIT $2";

pub(crate) const SETTLE_CONTACT: &str = "
    UPDATE survey_contacts SET status = $2, reason = $3, reason_value = $4, response_token = $5,
    decided_at = $6, attempts = attempts + 1 WHERE id = $1";

pub(crate) const RETRY_CONTACT: &str = "
    UPDATE survey_contacts SET due_at = $2, last_error = $3, attempts = attempts + 1 WHERE id = $1";

pub(crate) const CONTACT_COUNTS: &str = "
    SELECT status, reason, COUNT(*) AS count FROM survey_contacts WHERE survey_id = $1
    GROUP BY status, reason ORDER BY status, reason";

pub(crate) const CONTACTS: &str = "
    SELECT * FROM survey_contacts WHERE survey_id = $1 ORDER BY id DESC LIMIT $2";

pub(crate) const SETTING: &str = "SELECT value FROM settings WHERE key = $1";

pub(crate) const SET_SETTING: &str = "
    INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE
    SET value = excluded.value";

pub(crate) const TRIGGER_EVENTS: &str = "SELECT id, customer_id, name, ts FROM events WHERE id >";

pub(crate) const LAST_EVENT_ID: &str = "SELECT MAX(id) FROM events";

pub(crate) const INSERT_CONTACTS: &str = "
    INSERT INTO survey_contacts (survey_id, customer_id, anonymous_id, channel, status, reason,
    reason_value, event_id, response_token, due_at, decided_at, created_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
    ON CONFLICT (survey_id, event_id) DO NOTHING";

macro_rules! impl_survey_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::traits::SurveyStore for $store {
            async fn create_survey(
                &self,
                key: &str,
                s: &$crate::model::NewSurvey,
            ) -> $crate::StoreResult<$crate::model::Survey> {
                let now = self.clock.now_ms();
                Ok(sqlx::query_as($crate::sql::surveys::CREATE_SURVEY)
                    .bind(key)
                    .bind(&s.name)
                    .bind(s.status.as_str())
                    .bind(s.audience.as_str())
                    .bind(&s.questions)
                    .bind(s.touchpoint_id)
                    .bind(s.stage_id)
                    .bind(s.team_id)
                    .bind(&s.trigger_event)
                    .bind(s.trigger_delay_hours)
                    .bind(s.sample_rate)
                    .bind(s.min_days)
                    .bind(s.repeat.as_str())
                    .bind(now)
                    .fetch_one(&self.write)
                    .await?)
            }

            async fn update_survey(
                &self,
                id: i64,
                s: &$crate::model::NewSurvey,
            ) -> $crate::StoreResult<$crate::model::Survey> {
                sqlx::query_as($crate::sql::surveys::UPDATE_SURVEY)
                    .bind(id)
                    .bind(&s.name)
                    .bind(s.status.as_str())
                    .bind(s.audience.as_str())
                    .bind(&s.questions)
                    .bind(s.touchpoint_id)
                    .bind(s.stage_id)
                    .bind(s.team_id)
                    .bind(&s.trigger_event)
                    .bind(s.trigger_delay_hours)
                    .bind(s.sample_rate)
                    .bind(s.min_days)
                    .bind(s.repeat.as_str())
                    .bind(self.clock.now_ms())
                    .fetch_optional(&self.write)
                    .await?
                    .ok_or_else(|| $crate::StoreError::NotFound(format!("survey {id}")))
            }

            async fn survey(&self, id: i64) -> $crate::StoreResult<$crate::model::Survey> {
                sqlx::query_as($crate::sql::surveys::SURVEY)
                    .bind(id)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or_else(|| $crate::StoreError::NotFound(format!("survey {id}")))
            }

            async fn survey_by_key(&self, key: &str) -> $crate::StoreResult<$crate::model::Survey> {
                sqlx::query_as($crate::sql::surveys::SURVEY_BY_KEY)
                    .bind(key)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or_else(|| $crate::StoreError::NotFound("survey".into()))
            }

            async fn surveys(&self) -> $crate::StoreResult<Vec<$crate::model::Survey>> {
                Ok(sqlx::query_as($crate::sql::surveys::SURVEYS)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn start_response(
                &self,
                r: &$crate::model::NewSurveyResponse,
            ) -> $crate::StoreResult<$crate::model::SurveyResponse> {
                let now = self.clock.now_ms();
                Ok(sqlx::query_as($crate::sql::surveys::START_RESPONSE)
                    .bind(r.survey_id)
                    .bind(&r.token)
                    .bind(r.customer_id)
                    .bind(&r.anonymous_id)
                    .bind(&r.channel)
                    .bind(&r.lang)
                    .bind(&r.next_question)
                    .bind(now)
                    .fetch_one(&self.write)
                    .await?)
            }

            async fn response_by_token(
                &self,
                token: &str,
            ) -> $crate::StoreResult<$crate::model::SurveyResponse> {
                sqlx::query_as($crate::sql::surveys::RESPONSE_BY_TOKEN)
                    .bind(token)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or_else(|| $crate::StoreError::NotFound("survey response".into()))
            }

            async fn save_response(
                &self,
                id: i64,
                answers: &str,
                next_question: Option<&str>,
                completed_at: Option<i64>,
            ) -> $crate::StoreResult<()> {
                sqlx::query($crate::sql::surveys::SAVE_RESPONSE)
                    .bind(id)
                    .bind(answers)
                    .bind(next_question)
                    .bind(completed_at)
                    .bind(self.clock.now_ms())
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            async fn responses(
                &self,
                survey_id: i64,
                limit: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::SurveyResponse>> {
                Ok(sqlx::query_as($crate::sql::surveys::RESPONSES)
                    .bind(survey_id)
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn response_counts(
                &self,
            ) -> $crate::StoreResult<Vec<$crate::model::ResponseCount>> {
                Ok(sqlx::query_as($crate::sql::surveys::RESPONSE_COUNTS)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn add_contacts(
                &self,
                contacts: &[$crate::model::NewSurveyContact],
            ) -> $crate::StoreResult<()> {
                let mut tx = self.write.begin().await?;
                insert_contacts(&mut tx, contacts, self.clock.now_ms()).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn schedule_triggered(
                &self,
                contacts: &[$crate::model::NewSurveyContact],
                cursor: i64,
            ) -> $crate::StoreResult<()> {
                let mut tx = self.write.begin().await?;
                insert_contacts(&mut tx, contacts, self.clock.now_ms()).await?;
                sqlx::query($crate::sql::surveys::SCHEDULE_TRIGGERED_INSERT_SETTINGS)
                    .bind($crate::sql::surveys::TRIGGER_CURSOR)
                    .bind(cursor.to_string())
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn due_contacts(
                &self,
                now: i64,
                limit: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::SurveyContact>> {
                Ok(sqlx::query_as($crate::sql::surveys::DUE_CONTACTS)
                    .bind(now)
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn settle_contact(
                &self,
                id: i64,
                status: &str,
                reason: Option<&str>,
                reason_value: Option<i64>,
                response_token: Option<&str>,
            ) -> $crate::StoreResult<()> {
                sqlx::query($crate::sql::surveys::SETTLE_CONTACT)
                    .bind(id)
                    .bind(status)
                    .bind(reason)
                    .bind(reason_value)
                    .bind(response_token)
                    .bind(self.clock.now_ms())
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            async fn retry_contact(
                &self,
                id: i64,
                due_at: i64,
                error: &str,
            ) -> $crate::StoreResult<()> {
                sqlx::query($crate::sql::surveys::RETRY_CONTACT)
                    .bind(id)
                    .bind(due_at)
                    .bind(error)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            async fn exposure(
                &self,
                customer_id: Option<i64>,
                anonymous_id: Option<&str>,
                survey_id: i64,
                now: i64,
            ) -> $crate::StoreResult<$crate::model::ExposureCounts> {
                let (column, key): (&str, String) = match (customer_id, anonymous_id) {
                    (Some(c), _) => ("customer_id", c.to_string()),
                    (None, Some(a)) => ("anonymous_id", a.to_string()),
                    (None, None) => return Ok(Default::default()),
                };
                // Customer ids are compared as text so one statement serves both keys.
                let reached = format!(
                    "FROM survey_contacts WHERE CAST({column} AS TEXT) = $1
                     AND status IN ('sent', 'shown')"
                );
                let (last, recent): (Option<i64>, i64) = sqlx::query_as(&format!(
                    "SELECT MAX(decided_at), COUNT(CASE WHEN decided_at >= $2 THEN 1 END) {reached}"
                ))
                .bind(&key)
                .bind(now - 30 * 86_400_000i64)
                .fetch_one(&self.read)
                .await?;
                let shown: i64 =
                    sqlx::query_scalar(&format!("SELECT COUNT(*) {reached} AND survey_id = $2"))
                        .bind(&key)
                        .bind(survey_id)
                        .fetch_one(&self.read)
                        .await?;
                let answered: i64 = sqlx::query_scalar(&format!(
                    "SELECT COUNT(*) FROM survey_responses WHERE CAST({column} AS TEXT) = $1
                     AND survey_id = $2 AND completed_at IS NOT NULL"
                ))
                .bind(&key)
                .bind(survey_id)
                .fetch_one(&self.read)
                .await?;
                Ok($crate::model::ExposureCounts {
                    last_contact_at: last,
                    contacts_30d: recent,
                    shown_this: shown,
                    answered_this: answered > 0,
                })
            }

            async fn contact_counts(
                &self,
                survey_id: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::ContactCount>> {
                Ok(sqlx::query_as($crate::sql::surveys::CONTACT_COUNTS)
                    .bind(survey_id)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn contacts(
                &self,
                survey_id: i64,
                limit: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::SurveyContact>> {
                Ok(sqlx::query_as($crate::sql::surveys::CONTACTS)
                    .bind(survey_id)
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn setting(&self, key: &str) -> $crate::StoreResult<Option<String>> {
                Ok(sqlx::query_scalar($crate::sql::surveys::SETTING)
                    .bind(key)
                    .fetch_optional(&self.read)
                    .await?)
            }

            async fn set_setting(&self, key: &str, value: &str) -> $crate::StoreResult<()> {
                sqlx::query($crate::sql::surveys::SET_SETTING)
                    .bind(key)
                    .bind(value)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            async fn trigger_events(
                &self,
                after_id: i64,
                names: &[String],
                limit: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::TriggerEvent>> {
                if names.is_empty() {
                    return Ok(Vec::new());
                }
                let mut qb = sqlx::QueryBuilder::<$db>::new($crate::sql::surveys::TRIGGER_EVENTS);
                qb.push_bind(after_id)
                    .push(" AND customer_id IS NOT NULL AND name IN (");
                let mut list = qb.separated(", ");
                for n in names {
                    list.push_bind(n.clone());
                }
                qb.push(") ORDER BY id LIMIT ").push_bind(limit);
                Ok(qb.build_query_as().fetch_all(&self.read).await?)
            }

            async fn last_event_id(&self) -> $crate::StoreResult<i64> {
                let id: Option<i64> = sqlx::query_scalar($crate::sql::surveys::LAST_EVENT_ID)
                    .fetch_one(&self.read)
                    .await?;
                Ok(id.unwrap_or(0))
            }
        }

        async fn insert_contacts(
            tx: &mut sqlx::Transaction<'_, $db>,
            contacts: &[$crate::model::NewSurveyContact],
            now: i64,
        ) -> $crate::StoreResult<()> {
            for c in contacts {
                sqlx::query($crate::sql::surveys::INSERT_CONTACTS)
                    .bind(c.survey_id)
                    .bind(c.customer_id)
                    .bind(&c.anonymous_id)
                    .bind(&c.channel)
                    .bind(&c.status)
                    .bind(&c.reason)
                    .bind(c.reason_value)
                    .bind(c.event_id)
                    .bind(&c.response_token)
                    .bind(c.due_at)
                    .bind(c.decided_at)
                    .bind(now)
                    .execute(&mut **tx)
                    .await?;
            }
            Ok(())
        }
    };
}

pub(crate) use impl_survey_store;
