//! `FeedbackStore` in SQL shared by both backends: the feedback stream, idempotent on
//! (source, external id), its listings, the ratings behind scores and the per-stage and
//! per-touchpoint signals behind the journey map's emotion curve and the perception gap
//! (customers' feedback only, not employee pulse answers), and the text annotations that
//! arrive after the feedback itself.

pub(crate) const ADD_FEEDBACK_INSERT_FEEDBACK: &str = "
    INSERT INTO feedback (source, external_id, metric, rating, scale_min, scale_max, score, body,
    url, author, customer_id, touchpoint_id, stage_id, team_id, channel, created_at, received_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
    ON CONFLICT (source, external_id) DO NOTHING RETURNING id";

pub(crate) const ADD_FEEDBACK_SELECT_FEEDBACK: &str = "
    SELECT id FROM feedback WHERE source = $1 AND external_id = $2";

pub(crate) const FEEDBACK: &str = "SELECT * FROM feedback WHERE id = $1";

pub(crate) const FEEDBACK_MANY: &str = "SELECT * FROM feedback WHERE id IN (";

pub(crate) const LIST_FEEDBACK: &str = "SELECT * FROM feedback WHERE 1 = 1";

pub(crate) const LAST_FEEDBACK_ID: &str = "SELECT COALESCE(MAX(id), 0) FROM feedback";

pub(crate) const METRIC_RATINGS_SELECT_FEEDBACK: &str = "
    SELECT created_at, customer_id, rating, source, channel, touchpoint_id, stage_id, team_id
    FROM feedback WHERE metric = $1 AND rating IS NOT NULL AND created_at >= $2
    AND created_at < $3";

pub(crate) const STAGE_SIGNALS_SELECT_FEEDBACK: &str = "
    SELECT COALESCE(f.stage_id, t.stage_id) AS stage_id, SUM(f.score) AS score_sum, COUNT(f.score)
    AS scores, SUM(f.sentiment) AS sentiment_sum, COUNT(f.sentiment) AS sentiments FROM feedback f
    LEFT JOIN touchpoints t ON t.id = f.touchpoint_id
    WHERE COALESCE(f.stage_id, t.stage_id) IS NOT NULL AND f.source <> 'employee'
    AND f.created_at >= $1 AND f.created_at < $2 GROUP BY COALESCE(f.stage_id, t.stage_id)
    ORDER BY 1";

pub(crate) const TOUCHPOINT_SIGNALS_SELECT_FEEDBACK: &str = "
    SELECT touchpoint_id, SUM(score) AS score_sum, COUNT(score) AS scores FROM feedback
    WHERE touchpoint_id IS NOT NULL AND score IS NOT NULL AND source <> 'employee'
    AND created_at >= $1 AND created_at < $2 GROUP BY touchpoint_id ORDER BY touchpoint_id";

pub(crate) const UNANNOTATED_SELECT_FEEDBACK: &str = "
    SELECT id, body FROM feedback WHERE annotated_at IS NULL AND body <> '' ORDER BY id LIMIT $1";

pub(crate) const ANNOTATE_UPDATE_FEEDBACK: &str = "
    UPDATE feedback SET lang = $2, sentiment = $3, sentiment_label = $4, topics = $5, annotated_at
    = $6 WHERE id = $1";

pub(crate) const SET_FEEDBACK_BODY: &str = "
    UPDATE feedback SET body = $3, annotated_at = NULL, looped_at = NULL WHERE source = $1
    AND external_id = $2";

macro_rules! impl_feedback_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::traits::FeedbackStore for $store {
            async fn add_feedback(
                &self,
                items: &[$crate::model::NewFeedback],
            ) -> $crate::StoreResult<Vec<$crate::model::Added>> {
                use $crate::model::Added;
                let mut tx = self.write.begin().await?;
                let mut out = Vec::with_capacity(items.len());
                let now = self.clock.now_ms();
                for f in items {
                    let created: Option<i64> =
                        sqlx::query_scalar($crate::sql::feedback::ADD_FEEDBACK_INSERT_FEEDBACK)
                            .bind(&f.source)
                            .bind(&f.external_id)
                            .bind(&f.metric)
                            .bind(f.rating)
                            .bind(f.scale_min)
                            .bind(f.scale_max)
                            .bind(f.score)
                            .bind(&f.body)
                            .bind(&f.url)
                            .bind(&f.author)
                            .bind(f.customer_id)
                            .bind(f.touchpoint_id)
                            .bind(f.stage_id)
                            .bind(f.team_id)
                            .bind(&f.channel)
                            .bind(f.created_at)
                            .bind(now)
                            .fetch_optional(&mut *tx)
                            .await?;
                    out.push(match created {
                        Some(id) => Added::Created(id),
                        None => Added::Existing(
                            sqlx::query_scalar($crate::sql::feedback::ADD_FEEDBACK_SELECT_FEEDBACK)
                                .bind(&f.source)
                                .bind(&f.external_id)
                                .fetch_one(&mut *tx)
                                .await?,
                        ),
                    });
                }
                tx.commit().await?;
                Ok(out)
            }

            async fn feedback(&self, id: i64) -> $crate::StoreResult<$crate::model::Feedback> {
                sqlx::query_as($crate::sql::feedback::FEEDBACK)
                    .bind(id)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or_else(|| $crate::StoreError::NotFound(format!("feedback {id}")))
            }

            async fn feedback_many(
                &self,
                ids: &[i64],
            ) -> $crate::StoreResult<Vec<$crate::model::Feedback>> {
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut qb = sqlx::QueryBuilder::<$db>::new($crate::sql::feedback::FEEDBACK_MANY);
                let mut list = qb.separated(", ");
                for id in ids {
                    list.push_bind(*id);
                }
                qb.push(") ORDER BY id");
                Ok(qb.build_query_as().fetch_all(&self.read).await?)
            }

            async fn list_feedback(
                &self,
                filter: &$crate::model::FeedbackFilter,
            ) -> $crate::StoreResult<Vec<$crate::model::Feedback>> {
                let mut qb = sqlx::QueryBuilder::<$db>::new($crate::sql::feedback::LIST_FEEDBACK);
                if let Some(source) = &filter.source {
                    qb.push(" AND source = ").push_bind(source.clone());
                }
                if let Some(customer) = filter.customer_id {
                    qb.push(" AND customer_id = ").push_bind(customer);
                }
                if let Some(before) = filter.before_id {
                    // Older than that item in time (then id), so pages follow the dates
                    // even when history was imported after newer feedback.
                    qb.push(" AND (created_at < (SELECT created_at FROM feedback WHERE id = ")
                        .push_bind(before)
                        .push(") OR (created_at = (SELECT created_at FROM feedback WHERE id = ")
                        .push_bind(before)
                        .push(") AND id < ")
                        .push_bind(before)
                        .push("))");
                }
                if let Some(after) = filter.after_id {
                    qb.push(" AND id > ")
                        .push_bind(after)
                        .push(" ORDER BY id ASC");
                } else {
                    qb.push(" ORDER BY created_at DESC, id DESC");
                }
                qb.push(" LIMIT ").push_bind(filter.limit.clamp(1, 1000));
                Ok(qb.build_query_as().fetch_all(&self.read).await?)
            }

            async fn last_feedback_id(&self) -> $crate::StoreResult<i64> {
                Ok(sqlx::query_scalar($crate::sql::feedback::LAST_FEEDBACK_ID)
                    .fetch_one(&self.read)
                    .await?)
            }

            async fn metric_ratings(
                &self,
                metric: &str,
                from: i64,
                to: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::MetricRating>> {
                Ok(
                    sqlx::query_as($crate::sql::feedback::METRIC_RATINGS_SELECT_FEEDBACK)
                        .bind(metric)
                        .bind(from)
                        .bind(to)
                        .fetch_all(&self.read)
                        .await?,
                )
            }

            async fn stage_signals(
                &self,
                from: i64,
                to: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::StageSignal>> {
                Ok(
                    sqlx::query_as($crate::sql::feedback::STAGE_SIGNALS_SELECT_FEEDBACK)
                        .bind(from)
                        .bind(to)
                        .fetch_all(&self.read)
                        .await?,
                )
            }

            async fn touchpoint_signals(
                &self,
                from: i64,
                to: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::TouchpointSignal>> {
                Ok(
                    sqlx::query_as($crate::sql::feedback::TOUCHPOINT_SIGNALS_SELECT_FEEDBACK)
                        .bind(from)
                        .bind(to)
                        .fetch_all(&self.read)
                        .await?,
                )
            }

            async fn unannotated(&self, limit: i64) -> $crate::StoreResult<Vec<(i64, String)>> {
                Ok(
                    sqlx::query_as($crate::sql::feedback::UNANNOTATED_SELECT_FEEDBACK)
                        .bind(limit)
                        .fetch_all(&self.read)
                        .await?,
                )
            }

            async fn annotate(
                &self,
                items: &[(i64, $crate::model::Annotation)],
            ) -> $crate::StoreResult<()> {
                let mut tx = self.write.begin().await?;
                let now = self.clock.now_ms();
                for (id, a) in items {
                    sqlx::query($crate::sql::feedback::ANNOTATE_UPDATE_FEEDBACK)
                        .bind(id)
                        .bind(&a.lang)
                        .bind(a.sentiment)
                        .bind(&a.sentiment_label)
                        .bind(&a.topics)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn set_feedback_body(
                &self,
                source: &str,
                external_id: &str,
                body: &str,
            ) -> $crate::StoreResult<()> {
                sqlx::query($crate::sql::feedback::SET_FEEDBACK_BODY)
                    .bind(source)
                    .bind(external_id)
                    .bind(body)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }
        }
    };
}

pub(crate) const WITH_RULES: &str = "
    SELECT follow_up_id, rule_id FROM follow_up_rules WHERE follow_up_id IN (";

pub(crate) const CREATE_LOOP_RULE: &str = "
    INSERT INTO loop_rules (name, max_score, max_sentiment, topic, source, owner_id, due_hours,
    created_at, notify_email, notify_webhook, tag, min_score, segment_id)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING *";

pub(crate) const LOOP_RULES: &str = "SELECT * FROM loop_rules ORDER BY id";

pub(crate) const DELETE_LOOP_RULE: &str = "DELETE FROM loop_rules WHERE id = $1";

pub(crate) const UNLOOPED_SELECT_FEEDBACK: &str = "
    SELECT * FROM feedback WHERE looped_at IS NULL AND (body = '' OR annotated_at IS NOT NULL)
    ORDER BY id LIMIT $1";

pub(crate) const OPEN_FOLLOW_UPS_INSERT_FOLLOW_UPS: &str = "
    INSERT INTO follow_ups (feedback_id, rule_id, owner_id, status, due_at, created_at)
    VALUES ($1, $2, $3, 'open', $4, $5) ON CONFLICT (feedback_id) DO NOTHING";

pub(crate) const OPEN_FOLLOW_UPS_SELECT_FOLLOW_UPS: &str =
    "SELECT id FROM follow_ups WHERE feedback_id = $1";

pub(crate) const OPEN_FOLLOW_UPS_INSERT_FOLLOW_UP_RULES: &str = "
    INSERT INTO follow_up_rules (follow_up_id, rule_id) VALUES ($1, $2) ON CONFLICT DO NOTHING";

pub(crate) const OPEN_FOLLOW_UPS_UPDATE_FEEDBACK: &str =
    "UPDATE feedback SET looped_at = $2 WHERE id = $1";

pub(crate) const FOLLOW_UPS_SELECT_FOLLOW_UPS: &str = "
    SELECT * FROM follow_ups WHERE status = $1 ORDER BY id DESC LIMIT $2";

pub(crate) const FOLLOW_UPS_SELECT_FOLLOW_UPS_2: &str =
    "SELECT * FROM follow_ups ORDER BY id DESC LIMIT $1";

pub(crate) const CLOSE_FOLLOW_UP: &str = "
    UPDATE follow_ups SET status = 'closed', closed_at = $2, resolution = $3 WHERE id = $1
    AND status = 'open' RETURNING *";

pub(crate) const FOLLOW_UP: &str = "SELECT * FROM follow_ups WHERE id = $1";

pub(crate) const FOLLOW_UP_FOR: &str = "SELECT * FROM follow_ups WHERE feedback_id = $1";

pub(crate) const ADD_FOLLOW_UP_NOTE_SELECT_FOLLOW_UPS: &str =
    "SELECT id FROM follow_ups WHERE id = $1";

pub(crate) const ADD_FOLLOW_UP_NOTE_INSERT_FOLLOW_UP_NOTES: &str = "
    INSERT INTO follow_up_notes (follow_up_id, author_id, body, created_at)
    VALUES ($1, $2, $3, $4) RETURNING *";

pub(crate) const FOLLOW_UP_NOTES: &str = "
    SELECT * FROM follow_up_notes WHERE follow_up_id = $1 ORDER BY id";

pub(crate) const FOLLOW_UP_NOTES_MANY: &str = "
    SELECT * FROM follow_up_notes WHERE follow_up_id IN (";

pub(crate) const CREATE_WEBHOOK: &str = "
    INSERT INTO webhooks (url, secret, events, active, created_at) VALUES ($1, $2, $3, TRUE, $4)
    RETURNING *";

pub(crate) const WEBHOOKS: &str = "SELECT * FROM webhooks ORDER BY id";

pub(crate) const WEBHOOK: &str = "SELECT * FROM webhooks WHERE id = $1";

pub(crate) const DELETE_WEBHOOK: &str = "DELETE FROM webhooks WHERE id = $1";

pub(crate) const CREATE_ROOT_CAUSE_INSERT_ROOT_CAUSES: &str = "
    INSERT INTO root_causes (topic, title, status, owner_id, notified, created_at)
    VALUES ($1, $2, 'open', $3, 0, $4) RETURNING id";

pub(crate) const ROOT_CAUSE_CUSTOMERS_SELECT_ROOT_CAUSE_FEEDBACK: &str =
    "SELECT DISTINCT f.customer_id FROM root_cause_feedback l
     JOIN feedback f ON f.id = l.feedback_id WHERE l.root_cause_id = $1
     AND f.customer_id IS NOT NULL ORDER BY 1";

pub(crate) const FIX_ROOT_CAUSE: &str = "
    UPDATE root_causes SET status = 'fixed', fix_note = $2, fixed_at = $3, notified = $4
    WHERE id = $1 AND status = 'open'";

pub(crate) const LINK_FOLLOW_UP: &str = "
    UPDATE follow_ups SET conversation_id = $2 WHERE id = $1 AND conversation_id IS NULL";

macro_rules! impl_loop_store {
    ($store:ty, $db:ty) => {
        impl $store {
            /// Fills each follow-up's `rule_ids`: its own rule first, then the others it met.
            async fn with_rules(
                &self,
                mut rows: Vec<$crate::model::FollowUp>,
            ) -> $crate::StoreResult<Vec<$crate::model::FollowUp>> {
                if rows.is_empty() {
                    return Ok(rows);
                }
                let mut qb = sqlx::QueryBuilder::<$db>::new($crate::sql::feedback::WITH_RULES);
                let mut ids = qb.separated(", ");
                for r in &rows {
                    ids.push_bind(r.id);
                }
                qb.push(") ORDER BY rule_id");
                let pairs: Vec<(i64, i64)> = qb.build_query_as().fetch_all(&self.read).await?;
                for row in &mut rows {
                    row.rule_ids = row.rule_id.into_iter().collect();
                    for &(_, rule) in pairs.iter().filter(|(f, _)| *f == row.id) {
                        if Some(rule) != row.rule_id {
                            row.rule_ids.push(rule);
                        }
                    }
                }
                Ok(rows)
            }
        }

        #[async_trait::async_trait]
        impl $crate::traits::LoopStore for $store {
            async fn create_loop_rule(
                &self,
                r: &$crate::model::NewLoopRule,
            ) -> $crate::StoreResult<$crate::model::LoopRule> {
                Ok(sqlx::query_as($crate::sql::feedback::CREATE_LOOP_RULE)
                    .bind(&r.name)
                    .bind(r.max_score)
                    .bind(r.max_sentiment)
                    .bind(&r.topic)
                    .bind(&r.source)
                    .bind(r.owner_id)
                    .bind(r.due_hours)
                    .bind(self.clock.now_ms())
                    .bind(&r.notify_email)
                    .bind(r.notify_webhook)
                    .bind(&r.tag)
                    .bind(r.min_score)
                    .bind(r.segment_id)
                    .fetch_one(&self.write)
                    .await?)
            }

            async fn loop_rules(&self) -> $crate::StoreResult<Vec<$crate::model::LoopRule>> {
                Ok(sqlx::query_as($crate::sql::feedback::LOOP_RULES)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn delete_loop_rule(&self, id: i64) -> $crate::StoreResult<()> {
                let done = sqlx::query($crate::sql::feedback::DELETE_LOOP_RULE)
                    .bind(id)
                    .execute(&self.write)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound(format!("loop rule {id}")));
                }
                Ok(())
            }

            async fn unlooped(
                &self,
                limit: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::Feedback>> {
                Ok(
                    sqlx::query_as($crate::sql::feedback::UNLOOPED_SELECT_FEEDBACK)
                        .bind(limit)
                        .fetch_all(&self.read)
                        .await?,
                )
            }

            async fn open_follow_ups(
                &self,
                looked_at: &[i64],
                follow_ups: &[$crate::model::NewFollowUp],
                jobs: &[$crate::model::NewJob],
            ) -> $crate::StoreResult<()> {
                let mut tx = self.write.begin().await?;
                let now = self.clock.now_ms();
                for f in follow_ups {
                    sqlx::query($crate::sql::feedback::OPEN_FOLLOW_UPS_INSERT_FOLLOW_UPS)
                        .bind(f.feedback_id)
                        .bind(f.rule_ids.first())
                        .bind(f.owner_id)
                        .bind(f.due_at)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    let id: i64 = sqlx::query_scalar(
                        $crate::sql::feedback::OPEN_FOLLOW_UPS_SELECT_FOLLOW_UPS,
                    )
                    .bind(f.feedback_id)
                    .fetch_one(&mut *tx)
                    .await?;
                    for rule in &f.rule_ids {
                        sqlx::query($crate::sql::feedback::OPEN_FOLLOW_UPS_INSERT_FOLLOW_UP_RULES)
                            .bind(id)
                            .bind(rule)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                for id in looked_at {
                    sqlx::query($crate::sql::feedback::OPEN_FOLLOW_UPS_UPDATE_FEEDBACK)
                        .bind(id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(&format!(
                        "INSERT INTO root_cause_feedback (root_cause_id, feedback_id) SELECT r.id,
                         f.id FROM root_causes r JOIN feedback f ON f.id = $1
                         WHERE r.status = 'open' AND f.topics LIKE '%\"topic\":\"' || r.topic ||
                         '\"%' AND {} ON CONFLICT DO NOTHING",
                        $crate::sql::feedback::negative("f")
                    ))
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                }
                for j in jobs {
                    sqlx::query($crate::sql::jobs::INSERT_JOB)
                        .bind(&j.kind)
                        .bind(&j.payload)
                        .bind(j.max_attempts)
                        .bind(j.run_at)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn follow_ups(
                &self,
                status: Option<&str>,
                limit: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::FollowUp>> {
                let rows = match status {
                    Some(s) => {
                        sqlx::query_as($crate::sql::feedback::FOLLOW_UPS_SELECT_FOLLOW_UPS)
                            .bind(s)
                            .bind(limit)
                            .fetch_all(&self.read)
                            .await?
                    }
                    None => {
                        sqlx::query_as($crate::sql::feedback::FOLLOW_UPS_SELECT_FOLLOW_UPS_2)
                            .bind(limit)
                            .fetch_all(&self.read)
                            .await?
                    }
                };
                self.with_rules(rows).await
            }

            async fn link_follow_up(
                &self,
                id: i64,
                conversation_id: i64,
            ) -> $crate::StoreResult<bool> {
                let done = sqlx::query($crate::sql::feedback::LINK_FOLLOW_UP)
                    .bind(id)
                    .bind(conversation_id)
                    .execute(&self.write)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn close_follow_up(
                &self,
                id: i64,
                resolution: &str,
            ) -> $crate::StoreResult<$crate::model::FollowUp> {
                let row = sqlx::query_as($crate::sql::feedback::CLOSE_FOLLOW_UP)
                    .bind(id)
                    .bind(self.clock.now_ms())
                    .bind(resolution)
                    .fetch_optional(&self.write)
                    .await?
                    .ok_or_else(|| $crate::StoreError::NotFound(format!("open follow-up {id}")))?;
                Ok(self.with_rules(vec![row]).await?.remove(0))
            }

            async fn follow_up(&self, id: i64) -> $crate::StoreResult<$crate::model::FollowUp> {
                let row = sqlx::query_as($crate::sql::feedback::FOLLOW_UP)
                    .bind(id)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or_else(|| $crate::StoreError::NotFound(format!("follow-up {id}")))?;
                Ok(self.with_rules(vec![row]).await?.remove(0))
            }

            async fn follow_up_for(
                &self,
                feedback_id: i64,
            ) -> $crate::StoreResult<$crate::model::FollowUp> {
                let row = sqlx::query_as($crate::sql::feedback::FOLLOW_UP_FOR)
                    .bind(feedback_id)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or_else(|| {
                        $crate::StoreError::NotFound(format!(
                            "follow-up for feedback {feedback_id}"
                        ))
                    })?;
                Ok(self.with_rules(vec![row]).await?.remove(0))
            }

            async fn add_follow_up_note(
                &self,
                follow_up_id: i64,
                author_id: Option<i64>,
                body: &str,
            ) -> $crate::StoreResult<$crate::model::FollowUpNote> {
                let mut tx = self.write.begin().await?;
                let exists: Option<i64> =
                    sqlx::query_scalar($crate::sql::feedback::ADD_FOLLOW_UP_NOTE_SELECT_FOLLOW_UPS)
                        .bind(follow_up_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                if exists.is_none() {
                    return Err($crate::StoreError::NotFound(format!(
                        "follow-up {follow_up_id}"
                    )));
                }
                let note = sqlx::query_as(
                    $crate::sql::feedback::ADD_FOLLOW_UP_NOTE_INSERT_FOLLOW_UP_NOTES,
                )
                .bind(follow_up_id)
                .bind(author_id)
                .bind(body)
                .bind(self.clock.now_ms())
                .fetch_one(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(note)
            }

            async fn follow_up_notes(
                &self,
                follow_up_id: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::FollowUpNote>> {
                Ok(sqlx::query_as($crate::sql::feedback::FOLLOW_UP_NOTES)
                    .bind(follow_up_id)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn follow_up_notes_many(
                &self,
                follow_up_ids: &[i64],
            ) -> $crate::StoreResult<Vec<$crate::model::FollowUpNote>> {
                if follow_up_ids.is_empty() {
                    return Ok(Vec::new());
                }
                let mut qb =
                    sqlx::QueryBuilder::<$db>::new($crate::sql::feedback::FOLLOW_UP_NOTES_MANY);
                let mut list = qb.separated(", ");
                for id in follow_up_ids {
                    list.push_bind(*id);
                }
                qb.push(") ORDER BY id");
                Ok(qb.build_query_as().fetch_all(&self.read).await?)
            }

            async fn create_webhook(
                &self,
                url: &str,
                secret: &str,
                events: &str,
            ) -> $crate::StoreResult<$crate::model::Webhook> {
                Ok(sqlx::query_as($crate::sql::feedback::CREATE_WEBHOOK)
                    .bind(url)
                    .bind(secret)
                    .bind(events)
                    .bind(self.clock.now_ms())
                    .fetch_one(&self.write)
                    .await?)
            }

            async fn webhooks(&self) -> $crate::StoreResult<Vec<$crate::model::Webhook>> {
                Ok(sqlx::query_as($crate::sql::feedback::WEBHOOKS)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn webhook(&self, id: i64) -> $crate::StoreResult<$crate::model::Webhook> {
                sqlx::query_as($crate::sql::feedback::WEBHOOK)
                    .bind(id)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or_else(|| $crate::StoreError::NotFound(format!("webhook {id}")))
            }

            async fn delete_webhook(&self, id: i64) -> $crate::StoreResult<()> {
                let done = sqlx::query($crate::sql::feedback::DELETE_WEBHOOK)
                    .bind(id)
                    .execute(&self.write)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound(format!("webhook {id}")));
                }
                Ok(())
            }

            async fn create_root_cause(
                &self,
                topic: &str,
                title: &str,
                owner_id: Option<i64>,
                since: i64,
            ) -> $crate::StoreResult<$crate::model::RootCause> {
                let mut tx = self.write.begin().await?;
                let id: i64 =
                    sqlx::query_scalar($crate::sql::feedback::CREATE_ROOT_CAUSE_INSERT_ROOT_CAUSES)
                        .bind(topic)
                        .bind(title)
                        .bind(owner_id)
                        .bind(self.clock.now_ms())
                        .fetch_one(&mut *tx)
                        .await?;
                sqlx::query(&format!(
                    "INSERT INTO root_cause_feedback (root_cause_id, feedback_id) SELECT $1, f.id
                     FROM feedback f WHERE f.source <> 'employee' AND f.created_at >= $3
                     AND f.topics LIKE '%\"topic\":\"' || $2 || '\"%' AND {}",
                    $crate::sql::feedback::negative("f")
                ))
                .bind(id)
                .bind(topic)
                .bind(since)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                self.root_cause(id).await
            }

            async fn root_causes(&self) -> $crate::StoreResult<Vec<$crate::model::RootCause>> {
                Ok(sqlx::query_as(concat!(
                    $crate::sql::feedback::root_cause_select!(),
                    " GROUP BY r.id ORDER BY r.status DESC, COUNT(l.feedback_id) DESC, r.id"
                ))
                .fetch_all(&self.read)
                .await?)
            }

            async fn root_cause(&self, id: i64) -> $crate::StoreResult<$crate::model::RootCause> {
                sqlx::query_as(concat!(
                    $crate::sql::feedback::root_cause_select!(),
                    " WHERE r.id = $1 GROUP BY r.id"
                ))
                .bind(id)
                .fetch_optional(&self.read)
                .await?
                .ok_or_else(|| $crate::StoreError::NotFound(format!("root cause {id}")))
            }

            async fn root_cause_customers(&self, id: i64) -> $crate::StoreResult<Vec<i64>> {
                Ok(sqlx::query_scalar(
                    $crate::sql::feedback::ROOT_CAUSE_CUSTOMERS_SELECT_ROOT_CAUSE_FEEDBACK,
                )
                .bind(id)
                .fetch_all(&self.read)
                .await?)
            }

            async fn fix_root_cause(
                &self,
                id: i64,
                note: &str,
                notified: i64,
                jobs: &[$crate::model::NewJob],
            ) -> $crate::StoreResult<$crate::model::RootCause> {
                let mut tx = self.write.begin().await?;
                let now = self.clock.now_ms();
                let done = sqlx::query($crate::sql::feedback::FIX_ROOT_CAUSE)
                    .bind(id)
                    .bind(note)
                    .bind(now)
                    .bind(notified)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound(format!(
                        "open root cause {id}"
                    )));
                }
                for j in jobs {
                    sqlx::query($crate::sql::jobs::INSERT_JOB)
                        .bind(&j.kind)
                        .bind(&j.payload)
                        .bind(j.max_attempts)
                        .bind(j.run_at)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                self.root_cause(id).await
            }
        }
    };
}

/// Feedback that counts against a root cause, in SQL: `nunchi_core::feedback::is_negative`
/// written from the same constants, for rows of `alias`.
pub(crate) fn negative(alias: &str) -> String {
    format!(
        "({alias}.sentiment_label = '{}' OR {alias}.score <= {:?})",
        nunchi_core::feedback::NEGATIVE_LABEL,
        nunchi_core::feedback::NEGATIVE_SCORE_MAX
    )
}

/// A root cause with how much feedback, from how many customers, it groups.
macro_rules! root_cause_select {
    () => {
        "SELECT r.id, r.topic, r.title, r.status, r.owner_id, r.fix_note, r.notified, r.created_at,
         r.fixed_at, COUNT(l.feedback_id) AS feedback_count, COUNT(DISTINCT f.customer_id) AS
         customers FROM root_causes r LEFT JOIN root_cause_feedback l ON l.root_cause_id = r.id
         LEFT JOIN feedback f ON f.id = l.feedback_id"
    };
}

pub(crate) use impl_feedback_store;
pub(crate) use impl_loop_store;
pub(crate) use root_cause_select;
