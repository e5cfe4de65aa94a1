//! `CustomerStore` in SQL that both backends accept unchanged. The macro stamps the one
//! implementation onto each backend type, so a query is written once and the
//! conformance suite proves it on both.

/// The identities a record carries, in the order upserts match on them: external id,
/// then e-mail, then phone.
pub(crate) fn record_identities(
    r: &nunchi_core::import::CustomerRecord,
) -> Vec<nunchi_core::identity::Identity> {
    use nunchi_core::identity::{Identity, IdentityKind};
    let mut out = Vec::with_capacity(3);
    if let Some(x) = &r.external_id {
        out.push(Identity {
            kind: IdentityKind::ExternalId,
            value: x.clone(),
        });
    }
    if let Some(e) = &r.email {
        out.push(Identity::email(e));
    }
    if let Some(p) = &r.phone {
        out.push(Identity::phone(p));
    }
    out
}

/// A value checked against the type its attribute was declared with (a value that looks
/// like a number is still valid text), in canonical form.
pub(crate) fn checked_attribute(
    declared: Option<&str>,
    key: &str,
    value: &str,
) -> crate::StoreResult<String> {
    let Some(t) = declared else {
        return Ok(value.to_string());
    };
    let ty = nunchi_core::customer::AttributeType::parse(t)
        .map_err(|e| crate::StoreError::Conflict(e.to_string()))?;
    ty.canonical(key, value).map_err(|e| {
        crate::StoreError::Conflict(format!("{} (declared {})", e.message, ty.as_str()))
    })
}

/// New customers written per group by an upsert.
pub(crate) const GROUP: usize = 500;

/// Who holds an identity during an upsert: a customer, or a row of the pending group.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Owner {
    Id(i64),
    Pending,
}

pub(crate) fn identity_key(i: &nunchi_core::identity::Identity) -> (String, String) {
    (i.kind.as_str().to_string(), i.value.clone())
}

macro_rules! impl_customer_store {
    ($store:ty, $db:ty) => {
        impl $store {
            async fn load_customers(conn: &mut <$db as sqlx::Database>::Connection, lo: i64, hi: i64) -> $crate::StoreResult<Vec<$crate::model::Customer>> {
                use $crate::model::*;
                let rows: Vec<CustomerRow> = sqlx::query_as("SELECT * FROM customers WHERE id >= $1 AND id <= $2 ORDER BY id").bind(lo).bind(hi).fetch_all(&mut *conn).await?;
                let idents: Vec<(i64, i64, String, String, i64)> = sqlx::query_as("SELECT customer_id, id, kind, value, created_at FROM customer_identities WHERE customer_id >= $1 AND customer_id <= $2 ORDER BY id").bind(lo).bind(hi).fetch_all(&mut *conn).await?;
                let tags: Vec<(i64, String)> = sqlx::query_as("SELECT customer_id, tag FROM customer_tags WHERE customer_id >= $1 AND customer_id <= $2 ORDER BY tag").bind(lo).bind(hi).fetch_all(&mut *conn).await?;
                let attrs: Vec<(i64, String, String, String)> = sqlx::query_as("SELECT a.customer_id, a.key, d.type, a.value FROM customer_attributes a JOIN attribute_defs d ON d.key = a.key WHERE a.customer_id >= $1 AND a.customer_id <= $2 ORDER BY a.key").bind(lo).bind(hi).fetch_all(&mut *conn).await?;
                let consents: Vec<(i64, String, String, bool, i64, String)> = sqlx::query_as("SELECT customer_id, channel, purpose, granted, at, source FROM consents WHERE customer_id >= $1 AND customer_id <= $2 ORDER BY channel, purpose, at DESC, id DESC").bind(lo).bind(hi).fetch_all(&mut *conn).await?;
                let events: Vec<(i64, i64, String, String, String, bool)> = sqlx::query_as("SELECT customer_id, id, kind, label, date, recurring FROM life_events WHERE customer_id >= $1 AND customer_id <= $2 ORDER BY date").bind(lo).bind(hi).fetch_all(&mut *conn).await?;
                let mut out: Vec<Customer> = rows.into_iter().map(|row| Customer { row, identities: vec![], tags: vec![], attributes: vec![], consents: vec![], life_events: vec![] }).collect();
                let index = |out: &Vec<Customer>, id: i64| out.binary_search_by_key(&id, |c| c.row.id).ok();
                for (cid, id, kind, value, created_at) in idents {
                    if let Some(i) = index(&out, cid) { out[i].identities.push(IdentityRow { id, kind, value, created_at }); }
                }
                for (cid, tag) in tags {
                    if let Some(i) = index(&out, cid) { out[i].tags.push(tag); }
                }
                for (cid, key, ty, value) in attrs {
                    if let Some(i) = index(&out, cid) { out[i].attributes.push(AttributeRow { key, ty, value }); }
                }
                for (cid, channel, purpose, granted, at, source) in consents {
                    if let Some(i) = index(&out, cid) {
                        let c = &mut out[i].consents;
                        if !c.iter().any(|x| x.channel == channel && x.purpose == purpose) {
                            c.push(ConsentRow { channel, purpose, granted, at, source });
                        }
                    }
                }
                for (cid, id, kind, label, date, recurring) in events {
                    if let Some(i) = index(&out, cid) { out[i].life_events.push(LifeEventRow { id, kind, label, date, recurring }); }
                }
                Ok(out)
            }

            /// Who already holds each external id, e-mail and phone of a batch.
            async fn identity_owners(conn: &mut <$db as sqlx::Database>::Connection, records: &[nunchi_core::import::CustomerRecord]) -> $crate::StoreResult<std::collections::HashMap<(String, String), i64>> {
                let mut by_kind: std::collections::BTreeMap<&'static str, Vec<String>> = std::collections::BTreeMap::new();
                for r in records {
                    for i in $crate::sql::customers::record_identities(r) {
                        by_kind.entry(i.kind.as_str()).or_default().push(i.value);
                    }
                }
                let mut owners = std::collections::HashMap::new();
                if by_kind.is_empty() { return Ok(owners); }
                let mut qb = sqlx::QueryBuilder::<$db>::new("SELECT kind, value, customer_id FROM customer_identities WHERE ");
                for (n, (kind, values)) in by_kind.into_iter().enumerate() {
                    if n > 0 { qb.push(" OR "); }
                    qb.push("(kind = ").push_bind(kind).push(" AND value IN (");
                    let mut sep = qb.separated(", ");
                    for v in values { sep.push_bind(v); }
                    qb.push("))");
                }
                let rows: Vec<(String, String, i64)> = qb.build_query_as().fetch_all(&mut *conn).await?;
                for (kind, value, id) in rows { owners.insert((kind, value), id); }
                Ok(owners)
            }

            /// Creates the pending group of new customers: one statement per customer row, then
            /// one multi-row insert per table for the whole group. If anything fails the group
            /// is retried row by row, so one bad row is reported alone.
            #[allow(clippy::too_many_arguments)]
            async fn flush_group(
                tx: &mut <$db as sqlx::Database>::Connection,
                records: &[nunchi_core::import::CustomerRecord],
                group: &mut Vec<usize>,
                known: &mut std::collections::HashMap<(String, String), $crate::sql::customers::Owner>,
                out: &mut [Option<$crate::StoreResult<$crate::model::Upserted>>],
                source: &str,
                defs: &mut std::collections::HashMap<String, String>,
                now: i64,
            ) -> $crate::StoreResult<()> {
                use $crate::sql::customers::{Owner, identity_key, record_identities};
                if group.is_empty() { return Ok(()); }
                let rows: Vec<&nunchi_core::import::CustomerRecord> = group.iter().map(|i| &records[*i]).collect();
                let saved_defs = defs.clone();
                let mut sp = sqlx::Connection::begin(&mut *tx).await?;
                let outcome: Vec<(usize, $crate::StoreResult<i64>)> = match Self::insert_group(&mut sp, &rows, source, defs, now).await {
                    Ok(ids) => { sp.commit().await?; group.iter().copied().zip(ids.into_iter().map(Ok)).collect() }
                    Err(_) => {
                        sp.rollback().await?;
                        *defs = saved_defs;
                        let mut each = Vec::with_capacity(group.len());
                        for &i in group.iter() {
                            let saved_defs = defs.clone();
                            let mut sp = sqlx::Connection::begin(&mut *tx).await?;
                            match Self::insert_group(&mut sp, &[&records[i]], source, defs, now).await {
                                Ok(ids) => { sp.commit().await?; each.push((i, Ok(ids[0]))); }
                                Err(e) => { sp.rollback().await?; *defs = saved_defs; each.push((i, Err(e))); }
                            }
                        }
                        each
                    }
                };
                for (i, result) in outcome {
                    for key in record_identities(&records[i]).iter().map(identity_key) {
                        match &result {
                            Ok(id) => { known.insert(key, Owner::Id(*id)); }
                            Err(_) => { known.remove(&key); }
                        }
                    }
                    out[i] = Some(result.map($crate::model::Upserted::Created));
                }
                group.clear();
                Ok(())
            }

            /// Inserts new customers and everything their records carry. The caller has checked
            /// that none of their identities exists; a concurrent writer that slipped one in
            /// makes the unique index fail.
            async fn insert_group(conn: &mut <$db as sqlx::Database>::Connection, rows: &[&nunchi_core::import::CustomerRecord], source: &str, defs: &mut std::collections::HashMap<String, String>, now: i64) -> $crate::StoreResult<Vec<i64>> {
                let mut attributes: Vec<(usize, String, String)> = Vec::new();
                for (n, r) in rows.iter().enumerate() {
                    for (key, ty, value) in &r.attributes {
                        if !defs.contains_key(key) {
                            sqlx::query("INSERT INTO attribute_defs (key, type, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING").bind(key).bind(ty.as_str()).bind(now).execute(&mut *conn).await?;
                            defs.insert(key.clone(), ty.as_str().to_string());
                        }
                        attributes.push((n, key.clone(), $crate::sql::customers::checked_attribute(defs.get(key).map(String::as_str), key, value)?));
                    }
                }
                let ids = Self::reserve_ids(&mut *conn, "customers", rows.len()).await?;
                for (chunk, chunk_ids) in rows.chunks(1000).zip(ids.chunks(1000)) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new("INSERT INTO customers (id, name, language, time_zone, preferred_channel, created_at, updated_at) ");
                    qb.push_values(chunk.iter().zip(chunk_ids), |mut b, (r, id)| {
                        let f = &r.profile;
                        b.push_bind(*id).push_bind(f.name.as_ref().map(|v| v.as_str().to_string())).push_bind(f.language.as_ref().map(|v| v.as_str().to_string()))
                            .push_bind(f.time_zone.as_ref().map(|v| v.as_str().to_string())).push_bind(f.preferred_channel.map(|v| v.as_str()))
                            .push_bind(r.created_at.map(|m| m.0).unwrap_or(now)).push_bind(now);
                    });
                    qb.build().execute(&mut *conn).await?;
                }
                let owned = |f: &dyn Fn(&nunchi_core::import::CustomerRecord) -> Vec<(String, String, String)>| -> Vec<(i64, String, String, String)> {
                    rows.iter().zip(&ids).flat_map(|(r, id)| f(r).into_iter().map(move |(a, b, c)| (*id, a, b, c))).collect()
                };
                let identities = owned(&|r| $crate::sql::customers::record_identities(r).into_iter().map(|i| (i.kind.as_str().to_string(), i.value, String::new())).collect());
                let tags = owned(&|r| r.tags.iter().map(|t| (t.as_str().to_string(), String::new(), String::new())).collect());
                let consents = owned(&|r| r.consents.iter().map(|(c, p)| (c.as_str().to_string(), p.as_str().to_string(), String::new())).collect());
                let events = owned(&|r| r.life_events.iter().map(|(k, d)| (k.as_str().to_string(), d.to_string(), String::new())).collect());
                let keys = owned(&|r| {
                    let externals: Vec<&str> = r.external_id.as_deref().into_iter().collect();
                    nunchi_core::search::keys_for(r.profile.name.as_ref().map(|n| n.as_str()), r.email.as_slice(), r.phone.as_slice(), &externals).into_iter().map(|k| (k, String::new(), String::new())).collect()
                });
                // Rows per statement stay under SQLite's and PostgreSQL's bind-parameter limits.
                for chunk in identities.chunks(2000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new("INSERT INTO customer_identities (customer_id, kind, value, created_at) ");
                    qb.push_values(chunk, |mut b, (id, kind, value, _)| { b.push_bind(*id).push_bind(kind.clone()).push_bind(value.clone()).push_bind(now); });
                    qb.build().execute(&mut *conn).await?;
                    let mut qb = sqlx::QueryBuilder::<$db>::new("INSERT INTO identity_log (customer_id, action, kind, value, actor, at) ");
                    qb.push_values(chunk, |mut b, (id, kind, value, _)| { b.push_bind(*id).push_bind("added").push_bind(kind.clone()).push_bind(value.clone()).push_bind(source.to_string()).push_bind(now); });
                    qb.build().execute(&mut *conn).await?;
                }
                for chunk in tags.chunks(5000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new("INSERT INTO customer_tags (customer_id, tag) ");
                    qb.push_values(chunk, |mut b, (id, tag, _, _)| { b.push_bind(*id).push_bind(tag.clone()); });
                    qb.build().execute(&mut *conn).await?;
                }
                for chunk in consents.chunks(2000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new("INSERT INTO consents (customer_id, channel, purpose, granted, at, source) ");
                    qb.push_values(chunk, |mut b, (id, channel, purpose, _)| { b.push_bind(*id).push_bind(channel.clone()).push_bind(purpose.clone()).push_bind(true).push_bind(now).push_bind(source.to_string()); });
                    qb.build().execute(&mut *conn).await?;
                }
                for chunk in events.chunks(2000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new("INSERT INTO life_events (customer_id, kind, label, date, recurring) ");
                    qb.push_values(chunk, |mut b, (id, kind, date, _)| { b.push_bind(*id).push_bind(kind.clone()).push_bind("").push_bind(date.clone()).push_bind(true); });
                    qb.build().execute(&mut *conn).await?;
                }
                for chunk in attributes.chunks(3000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new("INSERT INTO customer_attributes (customer_id, key, value) ");
                    qb.push_values(chunk, |mut b, (n, key, value)| { b.push_bind(ids[*n]).push_bind(key.clone()).push_bind(value.clone()); });
                    qb.build().execute(&mut *conn).await?;
                }
                for chunk in keys.chunks(5000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new("INSERT INTO search_keys (key, customer_id) ");
                    qb.push_values(chunk, |mut b, (id, key, _, _)| { b.push_bind(key.clone()).push_bind(*id); });
                    qb.build().execute(&mut *conn).await?;
                }
                Ok(ids)
            }

            async fn refresh_search_keys(conn: &mut <$db as sqlx::Database>::Connection, id: i64) -> $crate::StoreResult<()> {
                use nunchi_core::{email::Email, phone::Phone};
                let name: Option<String> = sqlx::query_scalar("SELECT name FROM customers WHERE id = $1").bind(id).fetch_one(&mut *conn).await?;
                let idents: Vec<(String, String)> = sqlx::query_as("SELECT kind, value FROM customer_identities WHERE customer_id = $1").bind(id).fetch_all(&mut *conn).await?;
                let emails: Vec<Email> = idents.iter().filter(|(k, _)| k == "email").filter_map(|(_, v)| Email::parse(v).ok()).collect();
                let phones: Vec<Phone> = idents.iter().filter(|(k, _)| k == "phone").filter_map(|(_, v)| Phone::parse(v).ok()).collect();
                let externals: Vec<&str> = idents.iter().filter(|(k, _)| k == "external_id").map(|(_, v)| v.as_str()).collect();
                let keys = nunchi_core::search::keys_for(name.as_deref(), &emails, &phones, &externals);
                sqlx::query("DELETE FROM search_keys WHERE customer_id = $1").bind(id).execute(&mut *conn).await?;
                for key in keys {
                    sqlx::query("INSERT INTO search_keys (key, customer_id) VALUES ($1, $2) ON CONFLICT DO NOTHING").bind(key).bind(id).execute(&mut *conn).await?;
                }
                Ok(())
            }

            async fn log_identity(conn: &mut <$db as sqlx::Database>::Connection, id: i64, action: &str, kind: &str, value: &str, actor: &str, now: i64) -> $crate::StoreResult<()> {
                sqlx::query("INSERT INTO identity_log (customer_id, action, kind, value, actor, at) VALUES ($1, $2, $3, $4, $5, $6)")
                    .bind(id).bind(action).bind(kind).bind(value).bind(actor).bind(now).execute(&mut *conn).await?;
                Ok(())
            }

            /// Attaches an identity, or fails with `Conflict` if another customer holds it.
            async fn attach_identity(conn: &mut <$db as sqlx::Database>::Connection, id: i64, identity: &nunchi_core::identity::Identity, actor: &str, now: i64) -> $crate::StoreResult<bool> {
                let owner: Option<i64> = sqlx::query_scalar("SELECT customer_id FROM customer_identities WHERE kind = $1 AND value = $2")
                    .bind(identity.kind.as_str()).bind(&identity.value).fetch_optional(&mut *conn).await?;
                match owner {
                    Some(o) if o == id => Ok(false),
                    Some(o) => Err($crate::StoreError::Conflict(format!("{} {} already belongs to customer {o}", identity.kind.as_str(), identity.value))),
                    None => {
                        sqlx::query("INSERT INTO customer_identities (customer_id, kind, value, created_at) VALUES ($1, $2, $3, $4)")
                            .bind(id).bind(identity.kind.as_str()).bind(&identity.value).bind(now).execute(&mut *conn).await?;
                        Self::log_identity(conn, id, "added", identity.kind.as_str(), &identity.value, actor, now).await?;
                        Ok(true)
                    }
                }
            }

            async fn write_profile(conn: &mut <$db as sqlx::Database>::Connection, id: i64, f: &nunchi_core::customer::ProfileFields, now: i64) -> $crate::StoreResult<()> {
                sqlx::query("UPDATE customers SET name = COALESCE($2, name), language = COALESCE($3, language), time_zone = COALESCE($4, time_zone), preferred_channel = COALESCE($5, preferred_channel), updated_at = $6 WHERE id = $1")
                    .bind(id)
                    .bind(f.name.as_ref().map(|v| v.as_str()))
                    .bind(f.language.as_ref().map(|v| v.as_str()))
                    .bind(f.time_zone.as_ref().map(|v| v.as_str()))
                    .bind(f.preferred_channel.map(|v| v.as_str()))
                    .bind(now)
                    .execute(&mut *conn).await?;
                Ok(())
            }

            async fn write_attribute(conn: &mut <$db as sqlx::Database>::Connection, id: i64, key: &str, ty: nunchi_core::customer::AttributeType, value: &str, now: i64) -> $crate::StoreResult<()> {
                let declared: Option<String> = sqlx::query_scalar("SELECT type FROM attribute_defs WHERE key = $1").bind(key).fetch_optional(&mut *conn).await?;
                if declared.is_none() {
                    sqlx::query("INSERT INTO attribute_defs (key, type, created_at) VALUES ($1, $2, $3)").bind(key).bind(ty.as_str()).bind(now).execute(&mut *conn).await?;
                }
                let value = $crate::sql::customers::checked_attribute(Some(declared.as_deref().unwrap_or(ty.as_str())), key, value)?;
                sqlx::query("INSERT INTO customer_attributes (customer_id, key, value) VALUES ($1, $2, $3) ON CONFLICT (customer_id, key) DO UPDATE SET value = excluded.value")
                    .bind(id).bind(key).bind(value).execute(&mut *conn).await?;
                Ok(())
            }

            async fn write_consent(conn: &mut <$db as sqlx::Database>::Connection, id: i64, c: &nunchi_core::consent::Consent) -> $crate::StoreResult<()> {
                let latest: Option<bool> = sqlx::query_scalar("SELECT granted FROM consents WHERE customer_id = $1 AND channel = $2 AND purpose = $3 ORDER BY at DESC, id DESC LIMIT 1")
                    .bind(id).bind(c.channel.as_str()).bind(c.purpose.as_str()).fetch_optional(&mut *conn).await?;
                if latest != Some(c.granted) {
                    sqlx::query("INSERT INTO consents (customer_id, channel, purpose, granted, at, source) VALUES ($1, $2, $3, $4, $5, $6)")
                        .bind(id).bind(c.channel.as_str()).bind(c.purpose.as_str()).bind(c.granted).bind(c.at.0).bind(&c.source).execute(&mut *conn).await?;
                }
                Ok(())
            }

            async fn write_life_event(conn: &mut <$db as sqlx::Database>::Connection, id: i64, kind: &str, label: &str, date: &str, recurring: bool) -> $crate::StoreResult<()> {
                sqlx::query("INSERT INTO life_events (customer_id, kind, label, date, recurring) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (customer_id, kind, label) DO UPDATE SET date = excluded.date, recurring = excluded.recurring")
                    .bind(id).bind(kind).bind(label).bind(date).bind(recurring).execute(&mut *conn).await?;
                Ok(())
            }

            /// Writes everything a record carries onto customer `id`.
            async fn write_record(conn: &mut <$db as sqlx::Database>::Connection, id: i64, r: &nunchi_core::import::CustomerRecord, extra: &[nunchi_core::identity::Identity], source: &str, now: i64) -> $crate::StoreResult<()> {
                Self::write_profile(conn, id, &r.profile, now).await?;
                let mut identities: Vec<nunchi_core::identity::Identity> = extra.to_vec();
                identities.extend($crate::sql::customers::record_identities(r));
                for identity in &identities {
                    Self::attach_identity(conn, id, identity, source, now).await?;
                }
                for tag in &r.tags {
                    sqlx::query("INSERT INTO customer_tags (customer_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING").bind(id).bind(tag.as_str()).execute(&mut *conn).await?;
                }
                for (channel, purpose) in &r.consents {
                    let c = nunchi_core::consent::Consent { channel: *channel, purpose: *purpose, granted: true, at: nunchi_core::time::Millis(now), source: source.to_string() };
                    Self::write_consent(conn, id, &c).await?;
                }
                for (kind, date) in &r.life_events {
                    Self::write_life_event(conn, id, kind.as_str(), "", &date.to_string(), true).await?;
                }
                for (key, ty, value) in &r.attributes {
                    Self::write_attribute(conn, id, key, *ty, value, now).await?;
                }
                Self::refresh_search_keys(conn, id).await
            }

            async fn insert_customer_row(conn: &mut <$db as sqlx::Database>::Connection, since: Option<nunchi_core::time::Millis>, now: i64) -> $crate::StoreResult<i64> {
                Ok(sqlx::query_scalar("INSERT INTO customers (created_at, updated_at) VALUES ($1, $2) RETURNING id").bind(since.map(|m| m.0).unwrap_or(now)).bind(now).fetch_one(&mut *conn).await?)
            }

            async fn live_customer(conn: &mut <$db as sqlx::Database>::Connection, id: i64) -> $crate::StoreResult<$crate::model::CustomerRow> {
                let row: Option<$crate::model::CustomerRow> = sqlx::query_as("SELECT * FROM customers WHERE id = $1").bind(id).fetch_optional(&mut *conn).await?;
                match row {
                    None => Err($crate::StoreError::NotFound(format!("customer {id}"))),
                    Some(r) if r.merged_into.is_some() => Err($crate::StoreError::Conflict(format!("customer {id} was merged into {}", r.merged_into.unwrap_or_default()))),
                    Some(r) if r.erased_at.is_some() => Err($crate::StoreError::Conflict(format!("customer {id} was erased"))),
                    Some(r) => Ok(r),
                }
            }

            async fn summaries(conn: &mut <$db as sqlx::Database>::Connection, ids: &[i64]) -> $crate::StoreResult<Vec<$crate::model::CustomerSummary>> {
                if ids.is_empty() { return Ok(vec![]); }
                let mut qb = sqlx::QueryBuilder::<$db>::new($crate::sql::customers::SUMMARY_SELECT);
                qb.push(" WHERE c.id IN (");
                let mut sep = qb.separated(", ");
                for id in ids { sep.push_bind(*id); }
                qb.push(")");
                let mut rows: Vec<$crate::model::CustomerSummary> = qb.build_query_as().fetch_all(&mut *conn).await?;
                rows.sort_by_key(|r| ids.iter().position(|i| *i == r.id));
                Ok(rows)
            }
        }

        #[async_trait::async_trait]
        impl $crate::traits::CustomerStore for $store {
            async fn create_customer(&self, record: &nunchi_core::import::CustomerRecord, extra: &[nunchi_core::identity::Identity], source: &str) -> $crate::StoreResult<i64> {
                let now = self.clock.now_ms();
                let mut tx = self.write.begin().await?;
                let id = Self::insert_customer_row(&mut tx, record.created_at, now).await?;
                Self::write_record(&mut tx, id, record, extra, source, now).await?;
                tx.commit().await?;
                Ok(id)
            }

            async fn upsert_customers(&self, records: &[nunchi_core::import::CustomerRecord], source: &str) -> $crate::StoreResult<Vec<$crate::StoreResult<$crate::model::Upserted>>> {
                use $crate::{model::Upserted, sql::customers::{Owner, identity_key, record_identities}};
                let mut tx = self.write.begin().await?;
                let now = self.clock.now_ms();
                // One query finds every existing customer the batch refers to. New customers
                // (the bulk of a first import) are then written in groups, a few multi-row
                // statements per group; updates go row by row.
                let mut known: std::collections::HashMap<(String, String), Owner> = Self::identity_owners(&mut tx, records).await?.into_iter().map(|(k, id)| (k, Owner::Id(id))).collect();
                let mut defs: std::collections::HashMap<String, String> = sqlx::query_as::<_, (String, String)>("SELECT key, type FROM attribute_defs").fetch_all(&mut *tx).await?.into_iter().collect();
                let mut out: Vec<Option<$crate::StoreResult<Upserted>>> = records.iter().map(|_| None).collect();
                let mut group: Vec<usize> = Vec::new();
                for (idx, r) in records.iter().enumerate() {
                    let keys = record_identities(r);
                    let find = |known: &std::collections::HashMap<(String, String), Owner>| keys.iter().find_map(|i| known.get(&identity_key(i)).copied());
                    if matches!(find(&known), Some(Owner::Pending)) {
                        Self::flush_group(&mut tx, records, &mut group, &mut known, &mut out, source, &mut defs, now).await?;
                    }
                    match find(&known) {
                        Some(Owner::Id(id)) => {
                            let mut sp = sqlx::Connection::begin(&mut *tx).await?;
                            let result = async { Self::live_customer(&mut sp, id).await?; Self::write_record(&mut sp, id, r, &[], source, now).await }.await;
                            if result.is_ok() {
                                sp.commit().await?;
                                for i in &keys { known.insert(identity_key(i), Owner::Id(id)); }
                            } else {
                                sp.rollback().await?;
                            }
                            out[idx] = Some(result.map(|()| Upserted::Updated(id)));
                        }
                        _ => {
                            for i in &keys { known.insert(identity_key(i), Owner::Pending); }
                            group.push(idx);
                            if group.len() >= $crate::sql::customers::GROUP {
                                Self::flush_group(&mut tx, records, &mut group, &mut known, &mut out, source, &mut defs, now).await?;
                            }
                        }
                    }
                }
                Self::flush_group(&mut tx, records, &mut group, &mut known, &mut out, source, &mut defs, now).await?;
                tx.commit().await?;
                Ok(out.into_iter().map(|r| r.unwrap_or_else(|| Err($crate::StoreError::Conflict("row was not processed".into())))).collect())
            }

            async fn customer(&self, id: i64) -> $crate::StoreResult<$crate::model::Customer> {
                let mut conn = self.read.acquire().await?;
                Self::load_customers(&mut conn, id, id).await?.pop().ok_or_else(|| $crate::StoreError::NotFound(format!("customer {id}")))
            }

            async fn update_profile(&self, id: i64, fields: &nunchi_core::customer::ProfileFields) -> $crate::StoreResult<()> {
                let mut tx = self.write.begin().await?;
                Self::live_customer(&mut tx, id).await?;
                Self::write_profile(&mut tx, id, fields, self.clock.now_ms()).await?;
                Self::refresh_search_keys(&mut tx, id).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn find_by_identity(&self, identity: &nunchi_core::identity::Identity) -> $crate::StoreResult<Option<i64>> {
                Ok(sqlx::query_scalar("SELECT customer_id FROM customer_identities WHERE kind = $1 AND value = $2").bind(identity.kind.as_str()).bind(&identity.value).fetch_optional(&self.read).await?)
            }

            async fn add_identity(&self, id: i64, identity: &nunchi_core::identity::Identity, actor: &str) -> $crate::StoreResult<()> {
                let mut tx = self.write.begin().await?;
                Self::live_customer(&mut tx, id).await?;
                Self::attach_identity(&mut tx, id, identity, actor, self.clock.now_ms()).await?;
                Self::refresh_search_keys(&mut tx, id).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn remove_identity(&self, id: i64, identity: &nunchi_core::identity::Identity, actor: &str) -> $crate::StoreResult<()> {
                let mut tx = self.write.begin().await?;
                let done = sqlx::query("DELETE FROM customer_identities WHERE customer_id = $1 AND kind = $2 AND value = $3").bind(id).bind(identity.kind.as_str()).bind(&identity.value).execute(&mut *tx).await?;
                if done.rows_affected() == 0 {
                    return Err($crate::StoreError::NotFound(format!("{} {} on customer {id}", identity.kind.as_str(), identity.value)));
                }
                Self::log_identity(&mut tx, id, "removed", identity.kind.as_str(), &identity.value, actor, self.clock.now_ms()).await?;
                Self::refresh_search_keys(&mut tx, id).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn list_customers(&self, filter: &$crate::model::CustomerFilter, before: Option<i64>, limit: i64) -> $crate::StoreResult<Vec<$crate::model::CustomerSummary>> {
                let mut conn = self.read.acquire().await?;
                let mut qb = sqlx::QueryBuilder::<$db>::new("SELECT c.id FROM customers c WHERE c.merged_into IS NULL AND c.erased_at IS NULL");
                if let Some(q) = filter.query.as_deref().filter(|q| !q.is_empty()) {
                    qb.push(" AND c.id IN (SELECT customer_id FROM search_keys WHERE key >= ").push_bind(q.to_string())
                        .push(" AND key < ").push_bind(nunchi_core::search::prefix_upper_bound(q)).push(")");
                }
                if let Some(tag) = &filter.tag {
                    qb.push(" AND EXISTS (SELECT 1 FROM customer_tags t WHERE t.customer_id = c.id AND t.tag = ").push_bind(tag.clone()).push(")");
                }
                if let Some(lang) = &filter.language {
                    qb.push(" AND c.language = ").push_bind(lang.clone());
                }
                if let Some(ch) = &filter.marketing_channel {
                    qb.push(" AND (SELECT granted FROM consents k WHERE k.customer_id = c.id AND k.channel = ").push_bind(ch.clone())
                        .push(" AND k.purpose = 'marketing' ORDER BY k.at DESC, k.id DESC LIMIT 1) = TRUE");
                }
                if let Some(b) = before {
                    qb.push(" AND c.id < ").push_bind(b);
                }
                qb.push(" ORDER BY c.id DESC LIMIT ").push_bind(limit);
                let ids: Vec<i64> = qb.build_query_scalar().fetch_all(&mut *conn).await?;
                Self::summaries(&mut conn, &ids).await
            }

            async fn customer_summaries(&self, ids: &[i64]) -> $crate::StoreResult<Vec<$crate::model::CustomerSummary>> {
                let mut conn = self.read.acquire().await?;
                let mut out = Vec::with_capacity(ids.len());
                for chunk in ids.chunks(500) {
                    out.extend(Self::summaries(&mut conn, chunk).await?);
                }
                Ok(out)
            }

            async fn search_customers(&self, query: &str, limit: i64) -> $crate::StoreResult<Vec<$crate::model::CustomerSummary>> {
                if query.is_empty() { return Ok(vec![]); }
                let mut conn = self.read.acquire().await?;
                // Keys come back in key order, so exact and shorter matches rank first; a
                // customer matching several keys is counted once.
                let hits: Vec<i64> = sqlx::query_scalar("SELECT customer_id FROM search_keys WHERE key >= $1 AND key < $2 ORDER BY key LIMIT $3")
                    .bind(query).bind(nunchi_core::search::prefix_upper_bound(query)).bind(limit * 4).fetch_all(&mut *conn).await?;
                let mut ids = Vec::with_capacity(limit as usize);
                for id in hits {
                    if !ids.contains(&id) { ids.push(id); }
                    if ids.len() as i64 == limit { break; }
                }
                Self::summaries(&mut conn, &ids).await
            }

            async fn set_tags(&self, id: i64, tags: &[nunchi_core::customer::Tag]) -> $crate::StoreResult<()> {
                let mut tx = self.write.begin().await?;
                Self::live_customer(&mut tx, id).await?;
                sqlx::query("DELETE FROM customer_tags WHERE customer_id = $1").bind(id).execute(&mut *tx).await?;
                for tag in tags {
                    sqlx::query("INSERT INTO customer_tags (customer_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING").bind(id).bind(tag.as_str()).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn set_attribute(&self, id: i64, key: &str, ty: nunchi_core::customer::AttributeType, value: &str) -> $crate::StoreResult<()> {
                let mut tx = self.write.begin().await?;
                Self::live_customer(&mut tx, id).await?;
                Self::write_attribute(&mut tx, id, key, ty, value, self.clock.now_ms()).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn attribute_type(&self, key: &str) -> $crate::StoreResult<Option<nunchi_core::customer::AttributeType>> {
                let t: Option<String> = sqlx::query_scalar("SELECT type FROM attribute_defs WHERE key = $1").bind(key).fetch_optional(&self.read).await?;
                Ok(t.and_then(|t| nunchi_core::customer::AttributeType::parse(&t).ok()))
            }

            async fn attribute_keys(&self) -> $crate::StoreResult<Vec<String>> {
                Ok(sqlx::query_scalar("SELECT key FROM attribute_defs ORDER BY key").fetch_all(&self.read).await?)
            }

            async fn attribute_values(&self, key: &str) -> $crate::StoreResult<Vec<(i64, String)>> {
                Ok(sqlx::query_as("SELECT customer_id, value FROM customer_attributes WHERE key = $1").bind(key).fetch_all(&self.read).await?)
            }

            async fn customers_tagged(&self, tag: &str) -> $crate::StoreResult<Vec<i64>> {
                Ok(sqlx::query_scalar("SELECT customer_id FROM customer_tags WHERE tag = $1").bind(tag).fetch_all(&self.read).await?)
            }

            async fn record_consent(&self, id: i64, consent: &nunchi_core::consent::Consent) -> $crate::StoreResult<()> {
                let mut tx = self.write.begin().await?;
                Self::live_customer(&mut tx, id).await?;
                Self::write_consent(&mut tx, id, consent).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn consent_history(&self, id: i64) -> $crate::StoreResult<Vec<$crate::model::ConsentRow>> {
                Ok(sqlx::query_as("SELECT channel, purpose, granted, at, source FROM consents WHERE customer_id = $1 ORDER BY at DESC, id DESC").bind(id).fetch_all(&self.read).await?)
            }

            async fn set_life_event(&self, id: i64, kind: nunchi_core::life_event::LifeEventKind, label: &str, date: &str, recurring: bool) -> $crate::StoreResult<()> {
                let mut tx = self.write.begin().await?;
                Self::live_customer(&mut tx, id).await?;
                Self::write_life_event(&mut tx, id, kind.as_str(), label, date, recurring).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn add_note(&self, id: i64, author_user_id: Option<i64>, author_name: &str, body: &str) -> $crate::StoreResult<$crate::model::Note> {
                let mut tx = self.write.begin().await?;
                Self::live_customer(&mut tx, id).await?;
                let note: $crate::model::Note = sqlx::query_as("INSERT INTO notes (customer_id, author_user_id, author_name, body, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING *")
                    .bind(id).bind(author_user_id).bind(author_name).bind(body).bind(self.clock.now_ms()).fetch_one(&mut *tx).await?;
                tx.commit().await?;
                Ok(note)
            }

            async fn add_notes(&self, notes: &[(i64, String, String)]) -> $crate::StoreResult<()> {
                if notes.is_empty() { return Ok(()); }
                let now = self.clock.now_ms();
                let mut tx = self.write.begin().await?;
                for chunk in notes.chunks(5000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new("INSERT INTO notes (customer_id, author_name, body, created_at) ");
                    qb.push_values(chunk, |mut b, (id, author, body)| { b.push_bind(*id).push_bind(author.clone()).push_bind(body.clone()).push_bind(now); });
                    qb.build().execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn notes(&self, id: i64) -> $crate::StoreResult<Vec<$crate::model::Note>> {
                Ok(sqlx::query_as("SELECT * FROM notes WHERE customer_id = $1 ORDER BY created_at DESC, id DESC").bind(id).fetch_all(&self.read).await?)
            }

            async fn timeline(&self, id: i64, after: Option<&$crate::model::TimelineCursor>, limit: i64) -> $crate::StoreResult<Vec<$crate::model::TimelineEntry>> {
                let (at, kind, ref_id) = match after {
                    Some(c) => (c.at, c.kind.clone(), c.ref_id),
                    None => (i64::MAX, String::new(), i64::MAX),
                };
                Ok(sqlx::query_as($crate::sql::customers::TIMELINE_SQL).bind(id).bind(at).bind(kind).bind(ref_id).bind(limit).fetch_all(&self.read).await?)
            }

            async fn merge_customers(&self, source: i64, target: i64, actor: &str) -> $crate::StoreResult<()> {
                let now = self.clock.now_ms();
                if source == target {
                    return Err($crate::StoreError::Conflict("cannot merge a customer into itself".into()));
                }
                let mut tx = self.write.begin().await?;
                Self::live_customer(&mut tx, source).await?;
                Self::live_customer(&mut tx, target).await?;
                // Every customer-keyed table, as the lifecycle registry says.
                for t in $crate::lifecycle::CUSTOMER_TABLES {
                    for (sql, with_target) in $crate::lifecycle::merge_statements(t) {
                        let q = sqlx::query(&sql);
                        let q = if with_target { q.bind(target).bind(source) } else { q.bind(source) };
                        q.execute(&mut *tx).await?;
                    }
                }
                sqlx::query("UPDATE customers SET name = COALESCE(name, (SELECT s.name FROM customers s WHERE s.id = $2)), language = COALESCE(language, (SELECT s.language FROM customers s WHERE s.id = $2)), time_zone = COALESCE(time_zone, (SELECT s.time_zone FROM customers s WHERE s.id = $2)), preferred_channel = COALESCE(preferred_channel, (SELECT s.preferred_channel FROM customers s WHERE s.id = $2)), created_at = (SELECT MIN(x.created_at) FROM customers x WHERE x.id IN ($1, $2)), updated_at = $3 WHERE id = $1")
                    .bind(target).bind(source).bind(now).execute(&mut *tx).await?;
                sqlx::query("UPDATE customers SET merged_into = $1, name = NULL, updated_at = $3 WHERE id = $2 OR merged_into = $2").bind(target).bind(source).bind(now).execute(&mut *tx).await?;
                Self::log_identity(&mut tx, target, "merged_from", "customer", &source.to_string(), actor, now).await?;
                sqlx::query("INSERT INTO merges (source_id, target_id, actor, at) VALUES ($1, $2, $3, $4)").bind(source).bind(target).bind(actor).bind(now).execute(&mut *tx).await?;
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

            async fn export_customer(&self, id: i64) -> $crate::StoreResult<$crate::model::CustomerExport> {
                use $crate::traits::OrderStore;
                let customer = self.customer(id).await?;
                let mut timeline = Vec::new();
                let mut cursor: Option<$crate::model::TimelineCursor> = None;
                loop {
                    let page = self.timeline(id, cursor.as_ref(), 500).await?;
                    let Some(last) = page.last() else { break };
                    cursor = Some($crate::model::TimelineCursor { at: last.at, kind: last.kind.clone(), ref_id: last.ref_id });
                    let full = page.len() == 500;
                    timeline.extend(page);
                    if !full { break; }
                }
                use $crate::traits::EventStore;
                let events = self.customer_events(id, 10_000_000).await?;
                let feedback = sqlx::query_as("SELECT * FROM feedback WHERE customer_id = $1 ORDER BY created_at, id").bind(id).fetch_all(&self.read).await?;
                let survey_responses = sqlx::query_as("SELECT * FROM survey_responses WHERE customer_id = $1 ORDER BY started_at, id").bind(id).fetch_all(&self.read).await?;
                let survey_contacts = sqlx::query_as("SELECT * FROM survey_contacts WHERE customer_id = $1 ORDER BY created_at, id").bind(id).fetch_all(&self.read).await?;
                use $crate::traits::ConversationStore;
                let conversations = self.conversations(&$crate::model::ConversationFilter { customer_id: Some(id), limit: i64::MAX, ..Default::default() }).await?;
                let conversation_messages = sqlx::query_as("SELECT m.* FROM conversation_messages m JOIN conversations c ON c.id = m.conversation_id WHERE c.customer_id = $1 ORDER BY m.id").bind(id).fetch_all(&self.read).await?;
                let calls = sqlx::query_as("SELECT k.* FROM calls k JOIN conversation_messages m ON m.id = k.message_id JOIN conversations c ON c.id = m.conversation_id WHERE c.customer_id = $1 ORDER BY k.message_id").bind(id).fetch_all(&self.read).await?;
                Ok($crate::model::CustomerExport {
                    orders: self.orders_of(id).await?, notes: self.notes(id).await?, consent_history: self.consent_history(id).await?,
                    customer, timeline, events, feedback, survey_responses, survey_contacts, conversations, conversation_messages, calls,
                })
            }

            async fn customers_page(&self, after_id: i64, limit: i64) -> $crate::StoreResult<Vec<$crate::model::Customer>> {
                let mut conn = self.read.acquire().await?;
                let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM customers WHERE id > $1 AND merged_into IS NULL AND erased_at IS NULL ORDER BY id LIMIT $2").bind(after_id).bind(limit).fetch_all(&mut *conn).await?;
                let (Some(lo), Some(hi)) = (ids.first(), ids.last()) else { return Ok(vec![]) };
                let mut all = Self::load_customers(&mut conn, *lo, *hi).await?;
                all.retain(|c| c.row.merged_into.is_none() && c.row.erased_at.is_none());
                Ok(all)
            }

            async fn stats(&self) -> $crate::StoreResult<$crate::model::Stats> {
                let (customers, orders, notes, queued_jobs): (i64, i64, i64, i64) = sqlx::query_as("SELECT (SELECT COUNT(*) FROM customers WHERE merged_into IS NULL AND erased_at IS NULL), (SELECT COUNT(*) FROM orders), (SELECT COUNT(*) FROM notes), (SELECT COUNT(*) FROM jobs WHERE status = 'queued')").fetch_one(&self.read).await?;
                Ok($crate::model::Stats { customers, orders, notes, queued_jobs })
            }

            async fn daily_signups(&self) -> $crate::StoreResult<Vec<(i64, i64)>> {
                Ok(sqlx::query_as("SELECT created_at / 86400000 AS day, COUNT(*) FROM customers WHERE merged_into IS NULL GROUP BY created_at / 86400000 ORDER BY day").fetch_all(&self.read).await?)
            }
        }
    };
}
pub(crate) use impl_customer_store;

/// One customer-list line: the row and its first e-mail, phone and external id.
pub(crate) const SUMMARY_SELECT: &str = "SELECT c.id, c.name, \
    (SELECT i.value FROM customer_identities i WHERE i.customer_id = c.id AND i.kind = 'email' ORDER BY i.id LIMIT 1) AS email, \
    (SELECT i.value FROM customer_identities i WHERE i.customer_id = c.id AND i.kind = 'phone' ORDER BY i.id LIMIT 1) AS phone, \
    (SELECT i.value FROM customer_identities i WHERE i.customer_id = c.id AND i.kind = 'external_id' ORDER BY i.id LIMIT 1) AS external_id, \
    c.created_at FROM customers c";

/// The unified timeline: one branch per source table, newest first, keyset-paged on
/// (at, kind, ref_id). Later capabilities add a branch for their own table.
pub(crate) const TIMELINE_SQL: &str = "SELECT kind, ref_id, at, title, detail, amount_minor, currency FROM ( \
    SELECT 'note' AS kind, id AS ref_id, created_at AS at, author_name AS title, body AS detail, CAST(NULL AS BIGINT) AS amount_minor, CAST(NULL AS TEXT) AS currency FROM notes WHERE customer_id = $1 \
    UNION ALL SELECT 'order', id, placed_at, external_id, status || ' · ' || channel, total_minor, currency FROM orders WHERE customer_id = $1 \
    UNION ALL SELECT 'identity', id, at, action, kind || ' ' || value, NULL, NULL FROM identity_log WHERE customer_id = $1 \
    UNION ALL SELECT 'consent', id, at, channel || ' ' || purpose, CASE WHEN granted THEN 'granted' ELSE 'withdrawn' END || ' · ' || source, NULL, NULL FROM consents WHERE customer_id = $1 \
    UNION ALL SELECT 'conversation', id, created_at, subject, channel || ' · ' || status, NULL, NULL FROM conversations WHERE customer_id = $1 \
    ) t WHERE at < $2 OR (at = $2 AND (kind > $3 OR (kind = $3 AND ref_id < $4))) \
    ORDER BY at DESC, kind ASC, ref_id DESC LIMIT $5";
