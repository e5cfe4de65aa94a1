//! `DeskStore` in SQL shared by both backends: the support desk's settings and
//! measurements beside its conversations — SLA policies, deadlines and breaches, agents'
//! availability and atomic assignment, canned replies, CSAT requests, and the facts the
//! support report reads.

pub(crate) const INSERT_SLA_POLICY: &str = "
    INSERT INTO sla_policies (
        name, team_id, priority, first_response_minutes, next_response_minutes,
        resolution_minutes, business_hours, time_zone, korean_holidays, holidays, created_at
    )
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
    RETURNING *";

pub(crate) const SET_SLA: &str = "
    UPDATE conversations SET
        sla_policy_id = $2, first_response_due_at = $3, next_response_due_at = $4,
        resolution_due_at = $5, resolution_left_minutes = $6
    WHERE id = $1";

pub(crate) const RECORD_BREACH: &str = "
    INSERT INTO sla_breaches (conversation_id, metric, due_at, breached_at)
    VALUES ($1, $2, $3, $4)
    ON CONFLICT DO NOTHING";

pub(crate) const CONVERSATION_FACTS: &str = "
    SELECT c.id, c.channel, c.status, c.team_id, c.assignee_id, c.created_at,
        c.first_reply_at, c.resolved_at, c.sla_policy_id,
        (SELECT COUNT(*) FROM conversation_messages m
         WHERE m.conversation_id = c.id AND m.direction = 'activity' AND m.text = 'reopened')
            AS reopens,
        (SELECT COUNT(*) FROM sla_breaches b WHERE b.conversation_id = c.id) AS breaches,
        (SELECT q.rating FROM csat_requests q
         WHERE q.conversation_id = c.id AND q.rating IS NOT NULL
         ORDER BY q.answered_at DESC LIMIT 1) AS csat
    FROM conversations c
    WHERE c.created_at >= $1 AND c.created_at < $2
    ORDER BY c.id";

pub(crate) const SET_AVAILABILITY: &str = "
    INSERT INTO agent_availability (user_id, away, max_open, working_hours, time_zone, skills)
    VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (user_id) DO UPDATE SET
        away = excluded.away, max_open = excluded.max_open,
        working_hours = excluded.working_hours, time_zone = excluded.time_zone,
        skills = excluded.skills";

/// Kept current by triggers (migration 0019), so this reads one row per agent.
pub(crate) const OPEN_COUNTS: &str = "
    SELECT user_id, open_count FROM agent_open_counts
    WHERE open_count > 0
    ORDER BY user_id";

/// One row per enabled user: what an assignment decision weighs, in one read.
pub(crate) const ASSIGNMENT_POOL: &str = "
    SELECT u.id AS user_id, u.role, u.team_id, COALESCE(a.away, FALSE) AS away, a.max_open,
        a.working_hours, a.time_zone, a.last_assigned_at, COALESCE(a.skills, '') AS skills,
        COALESCE(o.open_count, 0) AS open_count
    FROM users u
    LEFT JOIN agent_availability a ON a.user_id = u.id
    LEFT JOIN agent_open_counts o ON o.user_id = u.id
    WHERE NOT u.disabled
    ORDER BY u.id";

pub(crate) const ASSIGN_IF_FREE: &str = "
    UPDATE conversations SET assignee_id = $2, updated_at = $3
    WHERE id = $1 AND assignee_id IS NULL";

/// Records that user `$1` has read conversation `$2` up to line `$3` (never backwards).
pub(crate) const MARK_READ: &str = "
    INSERT INTO conversation_reads (user_id, conversation_id, seq, read_at)
    VALUES ($1, $2, $3, $4)
    ON CONFLICT (user_id, conversation_id) DO UPDATE SET
        seq = CASE WHEN excluded.seq > conversation_reads.seq THEN excluded.seq
                   ELSE conversation_reads.seq END,
        read_at = excluded.read_at";

/// The customer's lines a user has not read, per conversation: the user's id is bound after
/// the head, the conversations' ids inside `IN (…)`.
pub(crate) const UNREAD_HEAD: &str = "
    SELECT m.conversation_id, COUNT(*) FROM conversation_messages m
    LEFT JOIN conversation_reads r ON r.conversation_id = m.conversation_id AND r.user_id = ";
pub(crate) const UNREAD_WHERE: &str = "
    WHERE m.direction = 'incoming' AND m.seq > COALESCE(r.seq, 0)
      AND m.conversation_id IN (";

pub(crate) const AVAILABILITIES_SELECT_AGENT_AVAILABILITY: &str =
    "SELECT * FROM agent_availability ORDER BY user_id";

pub(crate) const ASSIGN_WITHIN_CAP_SELECT_CONVERSATIONS: &str = "
    SELECT COALESCE((SELECT open_count FROM agent_open_counts WHERE user_id = $1), 0)";

pub(crate) const ASSIGN_WITHIN_CAP_INSERT_AGENT_AVAILABILITY: &str =
    "INSERT INTO agent_availability (user_id, last_assigned_at) VALUES ($1, $2)
     ON CONFLICT (user_id) DO UPDATE SET last_assigned_at = excluded.last_assigned_at";

pub(crate) const CREATE_CSAT_REQUEST: &str = "
    INSERT INTO csat_requests (token_hash, conversation_id, agent_id, team_id, lang, sent_at)
    VALUES ($1, $2, $3, $4, $5, $6)";

pub(crate) const CSAT_REQUEST: &str = "SELECT * FROM csat_requests WHERE token_hash = $1";

pub(crate) const ANSWER_CSAT_UPDATE_CSAT_REQUESTS: &str = "
    UPDATE csat_requests SET rating = $2, feedback_id = $3, answered_at = $4 WHERE token_hash = $1
    AND answered_at IS NULL";

pub(crate) const CREATE_MACRO: &str = "
    INSERT INTO macros (shortcut, name, body_ko, body_en, created_at) VALUES ($1, $2, $3, $4, $5)
    RETURNING *";

pub(crate) const MACROS: &str = "SELECT * FROM macros ORDER BY shortcut";

pub(crate) const DELETE_MACRO: &str = "DELETE FROM macros WHERE id = $1";

pub(crate) const SLA_POLICIES_SELECT_SLA_POLICIES: &str = "SELECT * FROM sla_policies ORDER BY id";

pub(crate) const DELETE_SLA_POLICY: &str = "DELETE FROM sla_policies WHERE id = $1";

pub(crate) const SLA_BREACHES: &str = "
    SELECT * FROM sla_breaches WHERE breached_at >= $1 ORDER BY breached_at DESC, id DESC LIMIT $2";

macro_rules! impl_desk_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::traits::DeskStore for $store {
            async fn set_availability(
                &self,
                a: &$crate::model::AgentAvailability,
            ) -> $crate::StoreResult<()> {
                sqlx::query($crate::sql::desk::SET_AVAILABILITY)
                    .bind(a.user_id)
                    .bind(a.away)
                    .bind(a.max_open)
                    .bind(&a.working_hours)
                    .bind(&a.time_zone)
                    .bind(&a.skills)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            async fn availabilities(
                &self,
            ) -> $crate::StoreResult<Vec<$crate::model::AgentAvailability>> {
                Ok(
                    sqlx::query_as($crate::sql::desk::AVAILABILITIES_SELECT_AGENT_AVAILABILITY)
                        .fetch_all(&self.read)
                        .await?,
                )
            }

            async fn open_counts(&self) -> $crate::StoreResult<Vec<(i64, i64)>> {
                Ok(sqlx::query_as($crate::sql::desk::OPEN_COUNTS)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn assignment_pool(&self) -> $crate::StoreResult<Vec<$crate::model::AgentLoad>> {
                Ok(sqlx::query_as($crate::sql::desk::ASSIGNMENT_POOL)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn assign_within_cap(
                &self,
                conversation_id: i64,
                user_id: i64,
                cap: Option<i64>,
            ) -> $crate::StoreResult<bool> {
                let now = self.clock.now_ms();
                let mut tx = self.write.begin().await?;
                // Concurrent assigners to one agent queue here, so each counts what the
                // others committed.
                Self::lock_agent(&mut tx, user_id).await?;
                if let Some(cap) = cap {
                    let open: i64 = sqlx::query_scalar(
                        $crate::sql::desk::ASSIGN_WITHIN_CAP_SELECT_CONVERSATIONS,
                    )
                    .bind(user_id)
                    .fetch_one(&mut *tx)
                    .await?;
                    if open >= cap {
                        return Ok(false);
                    }
                }
                let done = sqlx::query($crate::sql::desk::ASSIGN_IF_FREE)
                    .bind(conversation_id)
                    .bind(user_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Ok(false);
                }
                sqlx::query($crate::sql::desk::ASSIGN_WITHIN_CAP_INSERT_AGENT_AVAILABILITY)
                    .bind(user_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn create_csat_request(
                &self,
                r: &$crate::model::CsatRequest,
            ) -> $crate::StoreResult<()> {
                sqlx::query($crate::sql::desk::CREATE_CSAT_REQUEST)
                    .bind(&r.token_hash)
                    .bind(r.conversation_id)
                    .bind(r.agent_id)
                    .bind(r.team_id)
                    .bind(&r.lang)
                    .bind(r.sent_at)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            async fn csat_request(
                &self,
                token_hash: &str,
            ) -> $crate::StoreResult<$crate::model::CsatRequest> {
                sqlx::query_as($crate::sql::desk::CSAT_REQUEST)
                    .bind(token_hash)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or_else(|| $crate::StoreError::NotFound("CSAT link".into()))
            }

            async fn answer_csat(
                &self,
                token_hash: &str,
                rating: i64,
                feedback_id: i64,
                at: i64,
            ) -> $crate::StoreResult<()> {
                let done = sqlx::query($crate::sql::desk::ANSWER_CSAT_UPDATE_CSAT_REQUESTS)
                    .bind(token_hash)
                    .bind(rating)
                    .bind(feedback_id)
                    .bind(at)
                    .execute(&self.write)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::Conflict("already answered".into()));
                }
                Ok(())
            }

            async fn create_macro(
                &self,
                shortcut: &str,
                name: &str,
                body_ko: &str,
                body_en: &str,
            ) -> $crate::StoreResult<$crate::model::Macro> {
                Ok(sqlx::query_as($crate::sql::desk::CREATE_MACRO)
                    .bind(shortcut)
                    .bind(name)
                    .bind(body_ko)
                    .bind(body_en)
                    .bind(self.clock.now_ms())
                    .fetch_one(&self.write)
                    .await?)
            }

            async fn macros(&self) -> $crate::StoreResult<Vec<$crate::model::Macro>> {
                Ok(sqlx::query_as($crate::sql::desk::MACROS)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn delete_macro(&self, id: i64) -> $crate::StoreResult<()> {
                let done = sqlx::query($crate::sql::desk::DELETE_MACRO)
                    .bind(id)
                    .execute(&self.write)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound(format!("macro {id}")));
                }
                Ok(())
            }

            async fn create_sla_policy(
                &self,
                p: &$crate::model::NewSlaPolicy,
            ) -> $crate::StoreResult<$crate::model::SlaPolicy> {
                Ok(sqlx::query_as($crate::sql::desk::INSERT_SLA_POLICY)
                    .bind(&p.name)
                    .bind(p.team_id)
                    .bind(&p.priority)
                    .bind(p.first_response_minutes)
                    .bind(p.next_response_minutes)
                    .bind(p.resolution_minutes)
                    .bind(&p.business_hours)
                    .bind(&p.time_zone)
                    .bind(p.korean_holidays)
                    .bind(&p.holidays)
                    .bind(self.clock.now_ms())
                    .fetch_one(&self.write)
                    .await?)
            }

            async fn sla_policies(&self) -> $crate::StoreResult<Vec<$crate::model::SlaPolicy>> {
                Ok(
                    sqlx::query_as($crate::sql::desk::SLA_POLICIES_SELECT_SLA_POLICIES)
                        .fetch_all(&self.read)
                        .await?,
                )
            }

            async fn delete_sla_policy(&self, id: i64) -> $crate::StoreResult<()> {
                let done = sqlx::query($crate::sql::desk::DELETE_SLA_POLICY)
                    .bind(id)
                    .execute(&self.write)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound(format!("SLA policy {id}")));
                }
                Ok(())
            }

            async fn set_sla(
                &self,
                conversation_id: i64,
                policy_id: Option<i64>,
                d: &nunchi_core::sla::Deadlines,
            ) -> $crate::StoreResult<()> {
                sqlx::query($crate::sql::desk::SET_SLA)
                    .bind(conversation_id)
                    .bind(policy_id)
                    .bind(d.first_response)
                    .bind(d.next_response)
                    .bind(d.resolution)
                    .bind(d.resolution_left)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            async fn record_breach(
                &self,
                conversation_id: i64,
                metric: &str,
                due_at: i64,
                at: i64,
            ) -> $crate::StoreResult<bool> {
                let done = sqlx::query($crate::sql::desk::RECORD_BREACH)
                    .bind(conversation_id)
                    .bind(metric)
                    .bind(due_at)
                    .bind(at)
                    .execute(&self.write)
                    .await?;
                Ok(done.rows_affected() == 1)
            }

            async fn conversation_facts(
                &self,
                from: i64,
                to: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::ConversationFacts>> {
                Ok(sqlx::query_as($crate::sql::desk::CONVERSATION_FACTS)
                    .bind(from)
                    .bind(to)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn sla_breaches(
                &self,
                since: i64,
                limit: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::SlaBreach>> {
                Ok(sqlx::query_as($crate::sql::desk::SLA_BREACHES)
                    .bind(since)
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn mark_read(
                &self,
                user_id: i64,
                conversation_id: i64,
                seq: i64,
            ) -> $crate::StoreResult<()> {
                sqlx::query($crate::sql::desk::MARK_READ)
                    .bind(user_id)
                    .bind(conversation_id)
                    .bind(seq)
                    .bind(self.clock.now_ms())
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            async fn unread(
                &self,
                user_id: i64,
                conversation_ids: &[i64],
            ) -> $crate::StoreResult<Vec<(i64, i64)>> {
                let mut out = Vec::new();
                for chunk in conversation_ids.chunks(500) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new($crate::sql::desk::UNREAD_HEAD);
                    qb.push_bind(user_id);
                    qb.push($crate::sql::desk::UNREAD_WHERE);
                    let mut sep = qb.separated(", ");
                    for id in chunk {
                        sep.push_bind(*id);
                    }
                    qb.push(") GROUP BY m.conversation_id");
                    out.extend(
                        qb.build_query_as::<(i64, i64)>()
                            .fetch_all(&self.read)
                            .await?,
                    );
                }
                Ok(out)
            }
        }
    };
}
pub(crate) use impl_desk_store;
