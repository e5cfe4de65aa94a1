//! `CustomerStore` in SQL that both backends accept unchanged. The macro stamps the one
//! implementation onto each backend type, so a query is written once and the
//! conformance suite proves it on both.

macro_rules! impl_customer_store {
    ($store:ty, $db:ty) => {
        impl $store {
            async fn live_customer(
                conn: &mut <$db as sqlx::Database>::Connection,
                id: i64,
            ) -> $crate::StoreResult<$crate::model::CustomerRow> {
                let row: Option<$crate::model::CustomerRow> =
                    sqlx::query_as($crate::sql::customer_queries::LIVE_CUSTOMER)
                        .bind(id)
                        .fetch_optional(&mut *conn)
                        .await?;
                match row {
                    None => Err($crate::StoreError::NotFound(format!("customer {id}"))),
                    Some(r) if r.merged_into.is_some() => {
                        Err($crate::StoreError::Conflict(format!(
                            "customer {id} was merged into {}",
                            r.merged_into.unwrap_or_default()
                        )))
                    }
                    Some(r) if r.erased_at.is_some() => Err($crate::StoreError::Conflict(format!(
                        "customer {id} was erased"
                    ))),
                    Some(r) => Ok(r),
                }
            }

            async fn summaries(
                conn: &mut <$db as sqlx::Database>::Connection,
                ids: &[i64],
            ) -> $crate::StoreResult<Vec<$crate::model::CustomerSummary>> {
                if ids.is_empty() {
                    return Ok(vec![]);
                }
                let mut qb = sqlx::QueryBuilder::<$db>::new($crate::sql::customers::SUMMARY_SELECT);
                qb.push(" WHERE c.id IN (");
                let mut sep = qb.separated(", ");
                for id in ids {
                    sep.push_bind(*id);
                }
                qb.push(")");
                let mut rows: Vec<$crate::model::CustomerSummary> =
                    qb.build_query_as().fetch_all(&mut *conn).await?;
                rows.sort_by_key(|r| ids.iter().position(|i| *i == r.id));
                Ok(rows)
            }
        }

        #[async_trait::async_trait]
        impl $crate::traits::CustomerStore for $store {
            async fn create_customer(
                &self,
                record: &nunchi_core::import::CustomerRecord,
                extra: &[nunchi_core::identity::Identity],
                source: &str,
            ) -> $crate::StoreResult<i64> {
                let now = self.clock.now_ms();
                let mut tx = self.write.begin().await?;
                let id = Self::insert_customer_row(&mut tx, record.created_at, now).await?;
                Self::write_record(&mut tx, id, record, extra, source, now).await?;
                tx.commit().await?;
                Ok(id)
            }

            async fn upsert_customers(
                &self,
                records: &[nunchi_core::import::CustomerRecord],
                source: &str,
            ) -> $crate::StoreResult<Vec<$crate::StoreResult<$crate::model::Upserted>>> {
                use $crate::{
                    model::Upserted,
                    sql::customer_writes::{Owner, identity_key, record_identities},
                };
                let mut tx = self.write.begin().await?;
                let now = self.clock.now_ms();
                // One query finds every existing customer the batch refers to. New customers
                // (the bulk of a first import) are then written in groups, a few multi-row
                // statements per group; updates go row by row.
                let mut known: std::collections::HashMap<(String, String), Owner> =
                    Self::identity_owners(&mut tx, records)
                        .await?
                        .into_iter()
                        .map(|(k, id)| (k, Owner::Id(id)))
                        .collect();
                let mut defs: std::collections::HashMap<String, String> =
                    sqlx::query_as::<_, (String, String)>(
                        $crate::sql::customer_queries::UPSERT_CUSTOMERS_SELECT_ATTRIBUTE_DEFS,
                    )
                    .fetch_all(&mut *tx)
                    .await?
                    .into_iter()
                    .collect();
                let mut out: Vec<Option<$crate::StoreResult<Upserted>>> =
                    records.iter().map(|_| None).collect();
                let mut group: Vec<usize> = Vec::new();
                for (idx, r) in records.iter().enumerate() {
                    let keys = record_identities(r);
                    let find = |known: &std::collections::HashMap<(String, String), Owner>| {
                        keys.iter()
                            .find_map(|i| known.get(&identity_key(i)).copied())
                    };
                    if matches!(find(&known), Some(Owner::Pending)) {
                        Self::flush_group(
                            &mut tx, records, &mut group, &mut known, &mut out, source, &mut defs,
                            now,
                        )
                        .await?;
                    }
                    match find(&known) {
                        Some(Owner::Id(id)) => {
                            let mut sp = sqlx::Connection::begin(&mut *tx).await?;
                            let result = async {
                                Self::live_customer(&mut sp, id).await?;
                                Self::write_record(&mut sp, id, r, &[], source, now).await
                            }
                            .await;
                            if result.is_ok() {
                                sp.commit().await?;
                                for i in &keys {
                                    known.insert(identity_key(i), Owner::Id(id));
                                }
                            } else {
                                sp.rollback().await?;
                            }
                            out[idx] = Some(result.map(|()| Upserted::Updated(id)));
                        }
                        _ => {
                            for i in &keys {
                                known.insert(identity_key(i), Owner::Pending);
                            }
                            group.push(idx);
                            if group.len() >= $crate::sql::customer_writes::GROUP {
                                Self::flush_group(
                                    &mut tx, records, &mut group, &mut known, &mut out, source,
                                    &mut defs, now,
                                )
                                .await?;
                            }
                        }
                    }
                }
                Self::flush_group(
                    &mut tx, records, &mut group, &mut known, &mut out, source, &mut defs, now,
                )
                .await?;
                tx.commit().await?;
                Ok(out
                    .into_iter()
                    .map(|r| {
                        r.unwrap_or_else(|| {
                            Err($crate::StoreError::Conflict("row was not processed".into()))
                        })
                    })
                    .collect())
            }

            async fn customer(&self, id: i64) -> $crate::StoreResult<$crate::model::Customer> {
                let mut conn = self.read.acquire().await?;
                Self::load_customers(&mut conn, id, id)
                    .await?
                    .pop()
                    .ok_or_else(|| $crate::StoreError::NotFound(format!("customer {id}")))
            }

            async fn update_profile(
                &self,
                id: i64,
                fields: &nunchi_core::customer::ProfileFields,
            ) -> $crate::StoreResult<()> {
                let mut tx = self.write.begin().await?;
                Self::live_customer(&mut tx, id).await?;
                Self::write_profile(&mut tx, id, fields, self.clock.now_ms()).await?;
                Self::refresh_search_keys(&mut tx, id).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn find_by_identity(
                &self,
                identity: &nunchi_core::identity::Identity,
            ) -> $crate::StoreResult<Option<i64>> {
                Ok(
                    sqlx::query_scalar($crate::sql::customer_queries::FIND_BY_IDENTITY)
                        .bind(identity.kind.as_str())
                        .bind(&identity.value)
                        .fetch_optional(&self.read)
                        .await?,
                )
            }

            async fn add_identity(
                &self,
                id: i64,
                identity: &nunchi_core::identity::Identity,
                actor: &str,
            ) -> $crate::StoreResult<()> {
                let mut tx = self.write.begin().await?;
                Self::live_customer(&mut tx, id).await?;
                Self::attach_identity(&mut tx, id, identity, actor, self.clock.now_ms()).await?;
                Self::refresh_search_keys(&mut tx, id).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn remove_identity(
                &self,
                id: i64,
                identity: &nunchi_core::identity::Identity,
                actor: &str,
            ) -> $crate::StoreResult<()> {
                let mut tx = self.write.begin().await?;
                let done = sqlx::query($crate::sql::customer_queries::REMOVE_IDENTITY)
                    .bind(id)
                    .bind(identity.kind.as_str())
                    .bind(&identity.value)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound(format!(
                        "{} {} on customer {id}",
                        identity.kind.as_str(),
                        identity.value
                    )));
                }
                Self::log_identity(
                    &mut tx,
                    id,
                    "removed",
                    identity.kind.as_str(),
                    &identity.value,
                    actor,
                    self.clock.now_ms(),
                )
                .await?;
                Self::refresh_search_keys(&mut tx, id).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn list_customers(
                &self,
                filter: &$crate::model::CustomerFilter,
                before: Option<i64>,
                limit: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::CustomerSummary>> {
                let mut conn = self.read.acquire().await?;
                let mut qb =
                    sqlx::QueryBuilder::<$db>::new($crate::sql::customer_queries::LIST_CUSTOMERS);
                if let Some(q) = filter.query.as_deref().filter(|q| !q.is_empty()) {
                    qb.push(" AND c.id IN (SELECT customer_id FROM search_keys WHERE key >= ")
                        .push_bind(q.to_string())
                        .push(" AND key < ")
                        .push_bind(nunchi_core::search::prefix_upper_bound(q))
                        .push(")");
                }
                if let Some(tag) = &filter.tag {
                    qb.push(
                        " AND EXISTS (SELECT 1 FROM customer_tags t WHERE t.customer_id = c.id
                         AND t.tag = ",
                    )
                    .push_bind(tag.clone())
                    .push(")");
                }
                if let Some(lang) = &filter.language {
                    qb.push(" AND c.language = ").push_bind(lang.clone());
                }
                if let Some(ch) = &filter.marketing_channel {
                    qb.push(
                        " AND (SELECT granted FROM consents k WHERE k.customer_id = c.id
                         AND k.channel = ",
                    )
                    .push_bind(ch.clone())
                    .push(
                        " AND k.purpose = 'marketing' ORDER BY k.at DESC, k.id DESC
                         LIMIT 1) = TRUE",
                    );
                }
                if let Some(b) = before {
                    qb.push(" AND c.id < ").push_bind(b);
                }
                qb.push(" ORDER BY c.id DESC LIMIT ").push_bind(limit);
                let ids: Vec<i64> = qb.build_query_scalar().fetch_all(&mut *conn).await?;
                Self::summaries(&mut conn, &ids).await
            }

            async fn customer_summaries(
                &self,
                ids: &[i64],
            ) -> $crate::StoreResult<Vec<$crate::model::CustomerSummary>> {
                let mut conn = self.read.acquire().await?;
                let mut out = Vec::with_capacity(ids.len());
                for chunk in ids.chunks(500) {
                    out.extend(Self::summaries(&mut conn, chunk).await?);
                }
                Ok(out)
            }

            async fn search_customers(
                &self,
                query: &str,
                limit: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::CustomerSummary>> {
                if query.is_empty() {
                    return Ok(vec![]);
                }
                let mut conn = self.read.acquire().await?;
                // Keys come back in key order, so exact and shorter matches rank first; a
                // customer matching several keys is counted once.
                let hits: Vec<i64> = sqlx::query_scalar(
                    $crate::sql::customer_queries::SEARCH_CUSTOMERS_SELECT_SEARCH_KEYS,
                )
                .bind(query)
                .bind(nunchi_core::search::prefix_upper_bound(query))
                .bind(limit * 4)
                .fetch_all(&mut *conn)
                .await?;
                let mut ids = Vec::with_capacity(limit as usize);
                for id in hits {
                    if !ids.contains(&id) {
                        ids.push(id);
                    }
                    if ids.len() as i64 == limit {
                        break;
                    }
                }
                Self::summaries(&mut conn, &ids).await
            }

            async fn set_tags(
                &self,
                id: i64,
                tags: &[nunchi_core::customer::Tag],
            ) -> $crate::StoreResult<()> {
                let mut tx = self.write.begin().await?;
                Self::live_customer(&mut tx, id).await?;
                sqlx::query($crate::sql::customer_queries::SET_TAGS_DELETE_TAGS)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                for tag in tags {
                    sqlx::query($crate::sql::customer_queries::SET_TAGS_INSERT_TAGS)
                        .bind(id)
                        .bind(tag.as_str())
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn set_attribute(
                &self,
                id: i64,
                key: &str,
                ty: nunchi_core::customer::AttributeType,
                value: &str,
            ) -> $crate::StoreResult<()> {
                let mut tx = self.write.begin().await?;
                Self::live_customer(&mut tx, id).await?;
                Self::write_attribute(&mut tx, id, key, ty, value, self.clock.now_ms()).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn attribute_type(
                &self,
                key: &str,
            ) -> $crate::StoreResult<Option<nunchi_core::customer::AttributeType>> {
                let t: Option<String> = sqlx::query_scalar(
                    $crate::sql::customer_queries::ATTRIBUTE_TYPE_SELECT_ATTRIBUTE_DEFS,
                )
                .bind(key)
                .fetch_optional(&self.read)
                .await?;
                Ok(t.and_then(|t| nunchi_core::customer::AttributeType::parse(&t).ok()))
            }

            async fn attribute_keys(&self) -> $crate::StoreResult<Vec<String>> {
                Ok(sqlx::query_scalar(
                    $crate::sql::customer_queries::ATTRIBUTE_KEYS_SELECT_ATTRIBUTE_DEFS,
                )
                .fetch_all(&self.read)
                .await?)
            }

            async fn attribute_values(&self, key: &str) -> $crate::StoreResult<Vec<(i64, String)>> {
                Ok(
                    sqlx::query_as($crate::sql::customer_queries::ATTRIBUTE_VALUES)
                        .bind(key)
                        .fetch_all(&self.read)
                        .await?,
                )
            }

            async fn customers_tagged(&self, tag: &str) -> $crate::StoreResult<Vec<i64>> {
                Ok(
                    sqlx::query_scalar($crate::sql::customer_queries::CUSTOMERS_TAGGED)
                        .bind(tag)
                        .fetch_all(&self.read)
                        .await?,
                )
            }

            async fn record_consent(
                &self,
                id: i64,
                consent: &nunchi_core::consent::Consent,
            ) -> $crate::StoreResult<()> {
                let mut tx = self.write.begin().await?;
                Self::live_customer(&mut tx, id).await?;
                Self::write_consent(&mut tx, id, consent).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn consent_history(
                &self,
                id: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::ConsentRow>> {
                Ok(
                    sqlx::query_as($crate::sql::customer_queries::CONSENT_HISTORY)
                        .bind(id)
                        .fetch_all(&self.read)
                        .await?,
                )
            }

            async fn set_life_event(
                &self,
                id: i64,
                kind: nunchi_core::life_event::LifeEventKind,
                label: &str,
                date: &str,
                recurring: bool,
            ) -> $crate::StoreResult<()> {
                let mut tx = self.write.begin().await?;
                Self::live_customer(&mut tx, id).await?;
                Self::write_life_event(&mut tx, id, kind.as_str(), label, date, recurring).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn add_note(
                &self,
                id: i64,
                author_user_id: Option<i64>,
                author_name: &str,
                body: &str,
            ) -> $crate::StoreResult<$crate::model::Note> {
                let mut tx = self.write.begin().await?;
                Self::live_customer(&mut tx, id).await?;
                let note: $crate::model::Note =
                    sqlx::query_as($crate::sql::customer_queries::ADD_NOTE)
                        .bind(id)
                        .bind(author_user_id)
                        .bind(author_name)
                        .bind(body)
                        .bind(self.clock.now_ms())
                        .fetch_one(&mut *tx)
                        .await?;
                tx.commit().await?;
                Ok(note)
            }

            async fn add_notes(&self, notes: &[(i64, String, String)]) -> $crate::StoreResult<()> {
                if notes.is_empty() {
                    return Ok(());
                }
                let now = self.clock.now_ms();
                let mut tx = self.write.begin().await?;
                for chunk in notes.chunks(5000) {
                    let mut qb =
                        sqlx::QueryBuilder::<$db>::new($crate::sql::customer_queries::ADD_NOTES);
                    qb.push_values(chunk, |mut b, (id, author, body)| {
                        b.push_bind(*id)
                            .push_bind(author.clone())
                            .push_bind(body.clone())
                            .push_bind(now);
                    });
                    qb.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn notes(&self, id: i64) -> $crate::StoreResult<Vec<$crate::model::Note>> {
                Ok(sqlx::query_as($crate::sql::customer_queries::NOTES)
                    .bind(id)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn timeline(
                &self,
                id: i64,
                after: Option<&$crate::model::TimelineCursor>,
                limit: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::TimelineEntry>> {
                let (at, kind, ref_id) = match after {
                    Some(c) => (c.at, c.kind.clone(), c.ref_id),
                    None => (i64::MAX, String::new(), i64::MAX),
                };
                Ok(sqlx::query_as($crate::sql::customers::TIMELINE_SQL)
                    .bind(id)
                    .bind(at)
                    .bind(kind)
                    .bind(ref_id)
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?)
            }

            async fn merge_customers(
                &self,
                source: i64,
                target: i64,
                actor: &str,
            ) -> $crate::StoreResult<()> {
                let now = self.clock.now_ms();
                if source == target {
                    return Err($crate::StoreError::Conflict(
                        "cannot merge a customer into itself".into(),
                    ));
                }
                let mut tx = self.write.begin().await?;
                Self::live_customer(&mut tx, source).await?;
                Self::live_customer(&mut tx, target).await?;
                // Every customer-keyed table, as the lifecycle registry says.
                for t in $crate::lifecycle::CUSTOMER_TABLES {
                    for (sql, with_target) in $crate::lifecycle::merge_statements(t) {
                        let q = sqlx::query(&sql);
                        let q = if with_target {
                            q.bind(target).bind(source)
                        } else {
                            q.bind(source)
                        };
                        q.execute(&mut *tx).await?;
                    }
                }
                sqlx::query($crate::sql::customer_queries::MERGE_CUSTOMERS_UPDATE_CUSTOMERS)
                    .bind(target)
                    .bind(source)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query($crate::sql::customer_queries::MERGE_CUSTOMERS_UPDATE_CUSTOMERS_2)
                    .bind(target)
                    .bind(source)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                Self::log_identity(
                    &mut tx,
                    target,
                    "merged_from",
                    "customer",
                    &source.to_string(),
                    actor,
                    now,
                )
                .await?;
                sqlx::query($crate::sql::customer_queries::MERGE_CUSTOMERS_INSERT_MERGES)
                    .bind(source)
                    .bind(target)
                    .bind(actor)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                Self::refresh_search_keys(&mut tx, target).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn erase_customer(&self, id: i64, actor: &str) -> $crate::StoreResult<()> {
                let now = self.clock.now_ms();
                let mut tx = self.write.begin().await?;
                let row = Self::live_customer(&mut tx, id).await?;
                Self::erase_everywhere(&mut tx, id, row.name, now).await?;
                Self::log_identity(&mut tx, id, "erased", "customer", "", actor, now).await?;
                tx.commit().await?;
                self.purge_erased().await
            }

            async fn export_customer(
                &self,
                id: i64,
            ) -> $crate::StoreResult<$crate::model::CustomerExport> {
                use $crate::traits::OrderStore;
                let customer = self.customer(id).await?;
                let mut timeline = Vec::new();
                let mut cursor: Option<$crate::model::TimelineCursor> = None;
                loop {
                    let page = self.timeline(id, cursor.as_ref(), 500).await?;
                    let Some(last) = page.last() else { break };
                    cursor = Some($crate::model::TimelineCursor {
                        at: last.at,
                        kind: last.kind.clone(),
                        ref_id: last.ref_id,
                    });
                    let full = page.len() == 500;
                    timeline.extend(page);
                    if !full {
                        break;
                    }
                }
                use $crate::traits::EventStore;
                let events = self.customer_events(id, 10_000_000).await?;
                let feedback =
                    sqlx::query_as($crate::sql::customer_queries::EXPORT_CUSTOMER_SELECT_FEEDBACK)
                        .bind(id)
                        .fetch_all(&self.read)
                        .await?;
                let survey_responses = sqlx::query_as(
                    $crate::sql::customer_queries::EXPORT_CUSTOMER_SELECT_SURVEY_RESPONSES,
                )
                .bind(id)
                .fetch_all(&self.read)
                .await?;
                let survey_contacts = sqlx::query_as(
                    $crate::sql::customer_queries::EXPORT_CUSTOMER_SELECT_SURVEY_CONTACTS,
                )
                .bind(id)
                .fetch_all(&self.read)
                .await?;
                use $crate::traits::ConversationStore;
                let conversations = self
                    .conversations(&$crate::model::ConversationFilter {
                        customer_id: Some(id),
                        limit: i64::MAX,
                        ..Default::default()
                    })
                    .await?;
                let conversation_messages = sqlx::query_as(
                    $crate::sql::customer_queries::EXPORT_CUSTOMER_SELECT_CONVERSATION_MESSAGES,
                )
                .bind(id)
                .fetch_all(&self.read)
                .await?;
                let calls =
                    sqlx::query_as($crate::sql::customer_queries::EXPORT_CUSTOMER_SELECT_CALLS)
                        .bind(id)
                        .fetch_all(&self.read)
                        .await?;
                Ok($crate::model::CustomerExport {
                    orders: self.orders_of(id).await?,
                    notes: self.notes(id).await?,
                    consent_history: self.consent_history(id).await?,
                    customer,
                    timeline,
                    events,
                    feedback,
                    survey_responses,
                    survey_contacts,
                    conversations,
                    conversation_messages,
                    calls,
                    loyalty_entries: {
                        use $crate::traits::LoyaltyStore;
                        self.loyalty_entries(id, i64::MAX).await?
                    },
                    deliveries: sqlx::query_as(
                        $crate::sql::customer_queries::EXPORT_CUSTOMER_SELECT_DELIVERIES,
                    )
                    .bind(id)
                    .fetch_all(&self.read)
                    .await?,
                })
            }

            async fn customers_page(
                &self,
                after_id: i64,
                limit: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::Customer>> {
                let mut conn = self.read.acquire().await?;
                let ids: Vec<i64> =
                    sqlx::query_scalar($crate::sql::customer_queries::CUSTOMERS_PAGE)
                        .bind(after_id)
                        .bind(limit)
                        .fetch_all(&mut *conn)
                        .await?;
                let (Some(lo), Some(hi)) = (ids.first(), ids.last()) else {
                    return Ok(vec![]);
                };
                let mut all = Self::load_customers(&mut conn, *lo, *hi).await?;
                all.retain(|c| c.row.merged_into.is_none() && c.row.erased_at.is_none());
                Ok(all)
            }

            async fn stats(&self) -> $crate::StoreResult<$crate::model::Stats> {
                let (customers, orders, notes, queued_jobs): (i64, i64, i64, i64) =
                    sqlx::query_as($crate::sql::customer_queries::STATS_SELECT_CUSTOMERS)
                        .fetch_one(&self.read)
                        .await?;
                Ok($crate::model::Stats {
                    customers,
                    orders,
                    notes,
                    queued_jobs,
                })
            }

            async fn daily_signups(&self) -> $crate::StoreResult<Vec<(i64, i64)>> {
                Ok(
                    sqlx::query_as($crate::sql::customer_queries::DAILY_SIGNUPS_SELECT_CUSTOMERS)
                        .fetch_all(&self.read)
                        .await?,
                )
            }
        }
    };
}
pub(crate) use impl_customer_store;

/// One customer-list line: the row and its first e-mail, phone and external id.
pub(crate) const SUMMARY_SELECT: &str = "SELECT c.id, c.name, (SELECT i.value
                                         FROM customer_identities i WHERE i.customer_id = c.id
                                         AND i.kind = 'email' ORDER BY i.id
                                         LIMIT 1) AS email, (SELECT i.value
                                         FROM customer_identities i WHERE i.customer_id = c.id
                                         AND i.kind = 'phone' ORDER BY i.id
                                         LIMIT 1) AS phone, (SELECT i.value
                                         FROM customer_identities i WHERE i.customer_id = c.id
                                         AND i.kind = 'external_id' ORDER BY i.id
                                         LIMIT 1) AS external_id, c.created_at FROM customers c";

/// The unified timeline: one branch per source table, newest first, keyset-paged on
/// (at, kind, ref_id). Later capabilities add a branch for their own table.
pub(crate) const TIMELINE_SQL: &str = "SELECT kind, ref_id, at, title, detail, amount_minor,
                                       currency FROM ( SELECT 'note' AS kind, id AS ref_id,
                                       created_at AS at, author_name AS title, body AS detail,
                                       CAST(NULL AS BIGINT) AS amount_minor, CAST(NULL AS TEXT) AS
                                       currency FROM notes WHERE customer_id = $1
                                       UNION ALL SELECT 'order', id, placed_at, external_id,
                                       status || ' · ' || channel, total_minor, currency
                                       FROM orders WHERE customer_id = $1
                                       UNION ALL SELECT 'identity', id, at, action, kind || ' ' ||
                                       value, NULL, NULL FROM identity_log WHERE customer_id = $1
                                       UNION ALL SELECT 'consent', id, at, channel || ' ' ||
                                       purpose, CASE WHEN granted THEN 'granted'
                                       ELSE 'withdrawn' END || ' · ' || source, NULL, NULL
                                       FROM consents WHERE customer_id = $1
                                       UNION ALL SELECT 'conversation', id, created_at, subject,
                                       channel || ' · ' || status, NULL, NULL FROM conversations
                                       WHERE customer_id = $1
                                       UNION ALL SELECT 'points', e.id, e.created_at, e.kind,
                                       CAST(e.points AS TEXT) || COALESCE(' · ' || e.order_ref,
                                       '') || CASE WHEN e.reason = '' THEN '' ELSE ' · ' ||
                                       e.reason END, NULL, NULL FROM loyalty_entries e
                                       JOIN loyalty_accounts a ON a.id = e.account_id
                                       WHERE a.customer_id = $1 AND e.kind <> 'settle'
                                       UNION ALL SELECT 'tier', tc.id, tc.at, COALESCE(tc.to_tier,
                                       ''), COALESCE(tc.from_tier, ''), NULL, NULL
                                       FROM loyalty_tier_changes tc JOIN loyalty_accounts a
                                       ON a.id = tc.account_id WHERE a.customer_id = $1 ) t
                                       WHERE at < $2 OR (at = $2
                                       AND (kind > $3 OR (kind = $3 AND ref_id < $4)))
                                       ORDER BY at DESC, kind ASC, ref_id DESC LIMIT $5";
