//! `CampaignStore` in SQL shared by both backends: campaigns, and deliveries decided by
//! the contact budget inside one transaction that holds the customers' locks.

use std::collections::HashMap;

use nunchi_core::contact::{self, Candidate, Decision, MessageKind, Policy, Recipient, Sent, Via};
use nunchi_core::time::Millis;

use crate::model::{DeliveryRequest, RecipientFacts, Reserved};

pub(crate) const COLUMNS: &str = "
    id, name, kind, message_kind, status, trigger_spec, segment_id, channels, priority,
    dedup_key, templates, holdout_pct, goal_event, goal_days, created_by, created_at,
    updated_at, launched_at";

pub(crate) const INSERT_CAMPAIGN: &str = "
    INSERT INTO campaigns (name, kind, message_kind, status, trigger_spec, segment_id, channels,
    priority, dedup_key, templates, holdout_pct, goal_event, goal_days, created_by, created_at,
    updated_at)
    VALUES ($1, $2, $3, 'draft', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)
    RETURNING id";

pub(crate) const UPDATE_CAMPAIGN: &str = "
    UPDATE campaigns SET name = $1, kind = $2, message_kind = $3, trigger_spec = $4,
    segment_id = $5, channels = $6, priority = $7, dedup_key = $8, templates = $9,
    holdout_pct = $10, goal_event = $11, goal_days = $12, updated_at = $13
    WHERE id = $14";

pub(crate) const SET_STATUS: &str = "
    UPDATE campaigns SET status = $1, updated_at = $2,
    launched_at = CASE WHEN $3 AND launched_at IS NULL THEN $2 ELSE launched_at END
    WHERE id = $4";

/// Followed by the rows' values; the transaction holds the customers' locks and skipped
/// the firings already written, so every row is new.
pub(crate) const INSERT_DELIVERIES: &str = "
    INSERT INTO deliveries (campaign_id, customer_id, occurrence, kind, via, dedup, variant,
    status, reason, due_at, attempts, created_at, updated_at) ";

/// Firings already written for these customers: (campaign, customer, occurrence).
pub(crate) const EXISTING: &str = "
    SELECT campaign_id, customer_id, occurrence FROM deliveries WHERE customer_id IN (";

/// Deliveries that reached or will reach a customer count against the budget; failed,
/// suppressed and held-out ones do not.
///
/// Read by customer only, the status judged in code (`histories`): a filter on the
/// status lets SQLite pick the status index and scan every queued row for each chunk.
pub(crate) const HISTORY: &str = "
    SELECT customer_id, COALESCE(sent_at, due_at), kind, via, dedup, status FROM deliveries
    WHERE customer_id IN (";

/// Survey e-mails count as survey messages once sent (a widget's showing is no message).
pub(crate) const SURVEY_HISTORY: &str = "
    SELECT customer_id, COALESCE(decided_at, due_at), 'survey', 'email', NULL,
    CASE WHEN status = 'sent' AND channel = 'email' THEN 'sent' ELSE 'not_sent' END
    FROM survey_contacts WHERE customer_id IN (";

pub(crate) const DUE: &str = "
    SELECT * FROM deliveries WHERE status IN ('queued', 'held') AND due_at <= $1
    ORDER BY due_at, id LIMIT $2";

pub(crate) const SETTLE: &str = "
    UPDATE deliveries SET status = $1, reason = COALESCE($2, reason), error = $3,
    attempts = attempts + 1,
    sent_at = CASE WHEN $1 IN ('sent', 'delivered') THEN $4 ELSE sent_at END, updated_at = $4
    WHERE id = $5";

pub(crate) const RETRY: &str = "
    UPDATE deliveries SET status = 'queued', due_at = $1, error = $2, attempts = attempts + 1,
    updated_at = $3
    WHERE id = $4";

pub(crate) const OF_CAMPAIGN: &str = "
    SELECT * FROM deliveries WHERE campaign_id = $1 ORDER BY id";

pub(crate) const DELIVERY: &str = "SELECT * FROM deliveries WHERE id = $1";

pub(crate) const COUNTS: &str = "
    SELECT variant, status, reason, COUNT(*) AS count FROM deliveries WHERE campaign_id = $1
    GROUP BY variant, status, reason ORDER BY variant, status, reason";

pub(crate) const OF_CUSTOMER: &str = "
    SELECT * FROM deliveries WHERE customer_id = $1 ORDER BY due_at DESC, id DESC LIMIT $2";

pub(crate) const CHANGES_SINCE: &str = "
    SELECT customer_id, entered, at, reason FROM segment_changes
    WHERE segment_id = $1 AND at >= $2 ORDER BY at, id LIMIT $3";

pub(crate) const LIVE_IDS: &str = "
    SELECT id FROM customers WHERE merged_into IS NULL AND erased_at IS NULL AND id > $1
    ORDER BY id LIMIT $2";

pub(crate) const RECIPIENTS: &str = "
    SELECT c.id, c.name, c.language, c.time_zone, c.preferred_channel,
    (SELECT MIN(i.value) FROM customer_identities i WHERE i.customer_id = c.id
    AND i.kind = 'email') AS email,
    (SELECT MIN(i.value) FROM customer_identities i WHERE i.customer_id = c.id
    AND i.kind = 'phone') AS phone
    FROM customers c WHERE c.merged_into IS NULL AND c.erased_at IS NULL AND c.id IN (";

pub(crate) const LIFE_EVENTS_OF: &str = "
    SELECT customer_id, kind, date FROM life_events WHERE customer_id IN (";

pub(crate) const CONSENTS_OF: &str = "
    SELECT customer_id, channel, purpose, granted, at, source FROM consents
    WHERE customer_id IN (";

/// A history row as read: customer, moment, kind, channel, de-duplication key.
pub(crate) type HistoryRow = (i64, i64, String, Option<String>, Option<String>, String);

/// Statuses of a delivery that reached, or will reach, the customer (a survey e-mail
/// reads `sent` once sent).
const COUNTED: [&str; 4] = ["queued", "held", "sent", "delivered"];

/// Folds history rows into each customer's sends (rows naming an unknown kind or channel
/// are read as marketing e-mail, the strictest reading).
pub(crate) fn histories(rows: Vec<HistoryRow>) -> HashMap<i64, Vec<Sent>> {
    let mut out: HashMap<i64, Vec<Sent>> = HashMap::new();
    for (customer, at, kind, via, dedup, status) in rows {
        let Some(via) = via.filter(|_| COUNTED.contains(&status.as_str())) else {
            continue;
        };
        out.entry(customer).or_default().push(Sent {
            at: Millis(at),
            kind: MessageKind::parse(&kind).unwrap_or(MessageKind::Marketing),
            via: Via::parse(&via).unwrap_or(Via::Email),
            dedup,
        });
    }
    out
}

/// One request's decision against the customer's history: the first channel the rules
/// allow (sent or held), else the preferred channel's reason.
pub(crate) fn decide(
    policy: &Policy,
    facts: Option<&RecipientFacts>,
    history: &[Sent],
    request: &DeliveryRequest,
    now: i64,
) -> (Reserved, i64) {
    let due = request.due_at.max(now);
    if request.variant == "control" {
        return (reserved("held_out", None, None), due);
    }
    let Some(facts) = facts else {
        return (reserved("suppressed", None, Some("no_consent")), due);
    };
    let recipient = Recipient {
        tz: &facts.tz,
        korean: facts.korean,
        consents: &facts.consents,
        history,
    };
    let candidate = Candidate {
        kind: request.kind,
        via: Via::Email,
        dedup: request.dedup.clone(),
        priority: request.priority,
    };
    let channels = facts.channel_order(&request.channels);
    match contact::decide_channels(policy, &recipient, &candidate, &channels, Millis(due)) {
        (via, Decision::Send) => (reserved("queued", via, None), due),
        (via, Decision::Hold { until, why }) => (reserved("held", via, Some(why.code())), until.0),
        (via, Decision::Suppress(why)) => (reserved("suppressed", via, Some(why.code())), due),
    }
}

fn reserved(status: &str, via: Option<Via>, reason: Option<&str>) -> Reserved {
    Reserved {
        delivery_id: None,
        status: status.to_string(),
        via: via.map(|v| v.as_str().to_string()),
        reason: reason.map(str::to_string),
    }
}

/// Ids per history query.
pub(crate) const CHUNK: usize = 500;

macro_rules! impl_campaign_store {
    ($store:ty, $db:ty) => {
        impl $store {
            async fn history_in(
                conn: &mut <$db as sqlx::Database>::Connection,
                customers: &[i64],
            ) -> $crate::StoreResult<Vec<$crate::sql::campaigns::HistoryRow>> {
                let mut rows = Vec::new();
                for chunk in customers.chunks($crate::sql::campaigns::CHUNK) {
                    for head in [
                        $crate::sql::campaigns::HISTORY,
                        $crate::sql::campaigns::SURVEY_HISTORY,
                    ] {
                        let mut qb = sqlx::QueryBuilder::<$db>::new(head);
                        let mut sep = qb.separated(", ");
                        for id in chunk {
                            sep.push_bind(*id);
                        }
                        qb.push(")");
                        rows.extend(
                            qb.build_query_as::<$crate::sql::campaigns::HistoryRow>()
                                .fetch_all(&mut *conn)
                                .await?,
                        );
                    }
                }
                Ok(rows)
            }
        }

        #[async_trait::async_trait]
        impl $crate::traits::CampaignStore for $store {
            async fn create_campaign(
                &self,
                c: &$crate::model::NewCampaign,
                created_by: &str,
            ) -> $crate::StoreResult<i64> {
                Ok(
                    sqlx::query_scalar($crate::sql::campaigns::INSERT_CAMPAIGN)
                        .bind(&c.name)
                        .bind(&c.kind)
                        .bind(&c.message_kind)
                        .bind(&c.trigger_spec)
                        .bind(c.segment_id)
                        .bind(&c.channels)
                        .bind(c.priority)
                        .bind(&c.dedup_key)
                        .bind(&c.templates)
                        .bind(c.holdout_pct)
                        .bind(&c.goal_event)
                        .bind(c.goal_days)
                        .bind(created_by)
                        .bind(self.clock.now_ms())
                        .fetch_one(&self.write)
                        .await?,
                )
            }

            async fn update_campaign(
                &self,
                id: i64,
                c: &$crate::model::NewCampaign,
            ) -> $crate::StoreResult<()> {
                let done = sqlx::query($crate::sql::campaigns::UPDATE_CAMPAIGN)
                    .bind(&c.name)
                    .bind(&c.kind)
                    .bind(&c.message_kind)
                    .bind(&c.trigger_spec)
                    .bind(c.segment_id)
                    .bind(&c.channels)
                    .bind(c.priority)
                    .bind(&c.dedup_key)
                    .bind(&c.templates)
                    .bind(c.holdout_pct)
                    .bind(&c.goal_event)
                    .bind(c.goal_days)
                    .bind(self.clock.now_ms())
                    .bind(id)
                    .execute(&self.write)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound(format!("campaign {id}")));
                }
                Ok(())
            }

            async fn set_campaign_status(
                &self,
                id: i64,
                status: &str,
                launched: bool,
            ) -> $crate::StoreResult<()> {
                let done = sqlx::query($crate::sql::campaigns::SET_STATUS)
                    .bind(status)
                    .bind(self.clock.now_ms())
                    .bind(launched)
                    .bind(id)
                    .execute(&self.write)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound(format!("campaign {id}")));
                }
                Ok(())
            }

            async fn campaign(
                &self,
                id: i64,
            ) -> $crate::StoreResult<$crate::model::Campaign> {
                sqlx::query_as(&format!(
                    "SELECT {} FROM campaigns WHERE id = $1",
                    $crate::sql::campaigns::COLUMNS
                ))
                .bind(id)
                .fetch_optional(&self.read)
                .await?
                .ok_or_else(|| $crate::StoreError::NotFound(format!("campaign {id}")))
            }

            async fn campaigns(&self) -> $crate::StoreResult<Vec<$crate::model::Campaign>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {} FROM campaigns ORDER BY created_at DESC, id DESC",
                    $crate::sql::campaigns::COLUMNS
                ))
                .fetch_all(&self.read)
                .await?)
            }

            async fn reserve_deliveries(
                &self,
                policy: &nunchi_core::contact::Policy,
                requests: &[$crate::model::DeliveryRequest],
                recipients: &std::collections::HashMap<i64, $crate::model::RecipientFacts>,
            ) -> $crate::StoreResult<Vec<$crate::model::Reserved>> {
                let now = self.clock.now_ms();
                let mut customers: Vec<i64> = requests.iter().map(|r| r.customer_id).collect();
                customers.sort_unstable();
                customers.dedup();
                let mut tx = self.write.begin().await?;
                Self::lock_customers(&mut tx, &customers).await?;
                let mut histories = $crate::sql::campaigns::histories(
                    Self::history_in(&mut tx, &customers).await?,
                );
                // Firings already written are skipped: their rows stay as they are.
                let mut existing = std::collections::HashSet::new();
                for chunk in customers.chunks($crate::sql::campaigns::CHUNK) {
                    let mut qb =
                        sqlx::QueryBuilder::<$db>::new($crate::sql::campaigns::EXISTING);
                    let mut sep = qb.separated(", ");
                    for id in chunk {
                        sep.push_bind(*id);
                    }
                    qb.push(")");
                    existing.extend(
                        qb.build_query_as::<(Option<i64>, i64, String)>()
                            .fetch_all(&mut *tx)
                            .await?,
                    );
                }
                // The most important request of a customer decides first; equal ones go
                // in the order given. A request repeated within the batch counts once.
                let priorities: Vec<i32> = requests.iter().map(|r| r.priority).collect();
                let mut out: Vec<$crate::model::Reserved> = requests
                    .iter()
                    .map(|_| $crate::model::Reserved {
                        delivery_id: None,
                        status: String::new(),
                        via: None,
                        reason: None,
                    })
                    .collect();
                let mut rows: Vec<(usize, i64)> = Vec::new();
                for i in nunchi_core::contact::priority_order(&priorities) {
                    let r = &requests[i];
                    if !existing.insert((r.campaign_id, r.customer_id, r.occurrence.clone())) {
                        out[i].status = "exists".into();
                        continue;
                    }
                    let history = histories.entry(r.customer_id).or_default();
                    let (reserved, due) = $crate::sql::campaigns::decide(
                        policy,
                        recipients.get(&r.customer_id),
                        history,
                        r,
                        now,
                    );
                    if matches!(reserved.status.as_str(), "queued" | "held")
                        && let Some(via) = reserved.via.as_deref()
                    {
                        history.push(nunchi_core::contact::Sent {
                            at: nunchi_core::time::Millis(due),
                            kind: r.kind,
                            via: nunchi_core::contact::Via::parse(via)
                                .unwrap_or(nunchi_core::contact::Via::Email),
                            dedup: r.dedup.clone(),
                        });
                    }
                    out[i] = reserved;
                    rows.push((i, due));
                }
                // Written many rows a statement.
                for chunk in rows.chunks($crate::sql::campaigns::CHUNK) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        $crate::sql::campaigns::INSERT_DELIVERIES,
                    );
                    qb.push_values(chunk, |mut b, &(i, due)| {
                        let (r, d) = (&requests[i], &out[i]);
                        b.push_bind(r.campaign_id)
                            .push_bind(r.customer_id)
                            .push_bind(r.occurrence.clone())
                            .push_bind(r.kind.as_str())
                            .push_bind(d.via.clone())
                            .push_bind(r.dedup.clone())
                            .push_bind(r.variant.clone())
                            .push_bind(d.status.clone())
                            .push_bind(d.reason.clone())
                            .push_bind(due)
                            .push_bind(0_i64)
                            .push_bind(now)
                            .push_bind(now);
                    });
                    // Matched back by key: neither backend promises RETURNING's order.
                    qb.push(
                        " RETURNING id, campaign_id, customer_id, occurrence",
                    );
                    let written: Vec<(i64, Option<i64>, i64, String)> =
                        qb.build_query_as().fetch_all(&mut *tx).await?;
                    let ids: std::collections::HashMap<(Option<i64>, i64, String), i64> = written
                        .into_iter()
                        .map(|(id, c, cu, o)| ((c, cu, o), id))
                        .collect();
                    for &(i, _) in chunk {
                        let r = &requests[i];
                        out[i].delivery_id = ids
                            .get(&(r.campaign_id, r.customer_id, r.occurrence.clone()))
                            .copied();
                    }
                }
                tx.commit().await?;
                Ok(out)
            }

            async fn contact_history(
                &self,
                customer_ids: &[i64],
            ) -> $crate::StoreResult<
                std::collections::HashMap<i64, Vec<nunchi_core::contact::Sent>>,
            > {
                let mut conn = self.read.acquire().await?;
                Ok($crate::sql::campaigns::histories(
                    Self::history_in(&mut conn, customer_ids).await?,
                ))
            }

            async fn due_deliveries(
                &self,
                now: i64,
                limit: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::Delivery>> {
                Ok(sqlx::query_as($crate::sql::campaigns::DUE)
                    .bind(now)
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn settle_delivery(
                &self,
                id: i64,
                status: &str,
                reason: Option<&str>,
                error: Option<&str>,
            ) -> $crate::StoreResult<()> {
                sqlx::query($crate::sql::campaigns::SETTLE)
                    .bind(status)
                    .bind(reason)
                    .bind(error)
                    .bind(self.clock.now_ms())
                    .bind(id)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            async fn retry_delivery(
                &self,
                id: i64,
                due_at: i64,
                error: &str,
            ) -> $crate::StoreResult<()> {
                sqlx::query($crate::sql::campaigns::RETRY)
                    .bind(due_at)
                    .bind(error)
                    .bind(self.clock.now_ms())
                    .bind(id)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            async fn delivery_counts(
                &self,
                campaign_id: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::DeliveryCount>> {
                Ok(sqlx::query_as($crate::sql::campaigns::COUNTS)
                    .bind(campaign_id)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn customer_deliveries(
                &self,
                customer_id: i64,
                limit: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::Delivery>> {
                Ok(sqlx::query_as($crate::sql::campaigns::OF_CUSTOMER)
                    .bind(customer_id)
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn live_customer_ids(
                &self,
                after_id: i64,
                limit: i64,
            ) -> $crate::StoreResult<Vec<i64>> {
                Ok(sqlx::query_scalar($crate::sql::campaigns::LIVE_IDS)
                    .bind(after_id)
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn recipients(
                &self,
                customer_ids: &[i64],
            ) -> $crate::StoreResult<Vec<$crate::model::RecipientRow>> {
                let mut out = Vec::with_capacity(customer_ids.len());
                for chunk in customer_ids.chunks($crate::sql::campaigns::CHUNK) {
                    let mut qb =
                        sqlx::QueryBuilder::<$db>::new($crate::sql::campaigns::RECIPIENTS);
                    let mut sep = qb.separated(", ");
                    for id in chunk {
                        sep.push_bind(*id);
                    }
                    qb.push(") ORDER BY c.id");
                    out.extend(
                        qb.build_query_as::<$crate::model::RecipientRow>()
                            .fetch_all(&self.read)
                            .await?,
                    );
                }
                Ok(out)
            }

            async fn life_events_of(
                &self,
                customer_ids: &[i64],
            ) -> $crate::StoreResult<Vec<(i64, String, String)>> {
                let mut out = Vec::new();
                for chunk in customer_ids.chunks($crate::sql::campaigns::CHUNK) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        $crate::sql::campaigns::LIFE_EVENTS_OF,
                    );
                    let mut sep = qb.separated(", ");
                    for id in chunk {
                        sep.push_bind(*id);
                    }
                    qb.push(")");
                    out.extend(qb.build_query_as().fetch_all(&self.read).await?);
                }
                Ok(out)
            }

            async fn consents_of(
                &self,
                customer_ids: &[i64],
            ) -> $crate::StoreResult<Vec<(i64, $crate::model::ConsentRow)>> {
                #[derive(sqlx::FromRow)]
                struct Row {
                    customer_id: i64,
                    #[sqlx(flatten)]
                    consent: $crate::model::ConsentRow,
                }
                let mut out = Vec::new();
                for chunk in customer_ids.chunks($crate::sql::campaigns::CHUNK) {
                    let mut qb =
                        sqlx::QueryBuilder::<$db>::new($crate::sql::campaigns::CONSENTS_OF);
                    let mut sep = qb.separated(", ");
                    for id in chunk {
                        sep.push_bind(*id);
                    }
                    qb.push(") ORDER BY at, id");
                    out.extend(
                        qb.build_query_as::<Row>()
                            .fetch_all(&self.read)
                            .await?
                            .into_iter()
                            .map(|r| (r.customer_id, r.consent)),
                    );
                }
                Ok(out)
            }

            async fn segment_changes_since(
                &self,
                segment_id: i64,
                from: i64,
                limit: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::SegmentChange>> {
                Ok(sqlx::query_as($crate::sql::campaigns::CHANGES_SINCE)
                    .bind(segment_id)
                    .bind(from)
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn campaign_deliveries(
                &self,
                campaign_id: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::Delivery>> {
                Ok(sqlx::query_as($crate::sql::campaigns::OF_CAMPAIGN)
                    .bind(campaign_id)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn delivery(
                &self,
                id: i64,
            ) -> $crate::StoreResult<$crate::model::Delivery> {
                sqlx::query_as($crate::sql::campaigns::DELIVERY)
                    .bind(id)
                    .fetch_optional(&self.read)
                    .await?
                    .ok_or_else(|| $crate::StoreError::NotFound(format!("delivery {id}")))
            }
        }
    };
}
pub(crate) use impl_campaign_store;
