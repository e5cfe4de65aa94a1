//! The writing half of the customer store's SQL, shared by both backends: the helpers the
//! `CustomerStore` impl (`customers.rs`) calls to load profiles in bulk, upsert import
//! groups, attach identities and write profile fields, attributes, consents and life events,
//! and the helpers those share (the identities a record carries, the upsert group size).

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

macro_rules! impl_customer_writes {
    ($store:ty, $db:ty) => {
        impl $store {
            async fn load_customers(
                conn: &mut <$db as sqlx::Database>::Connection,
                lo: i64,
                hi: i64,
            ) -> $crate::StoreResult<Vec<$crate::model::Customer>> {
                use $crate::model::*;
                let rows: Vec<CustomerRow> =
                    sqlx::query_as($crate::sql::customer_queries::LOAD_CUSTOMERS_SELECT_CUSTOMERS)
                        .bind(lo)
                        .bind(hi)
                        .fetch_all(&mut *conn)
                        .await?;
                let idents: Vec<(i64, i64, String, String, i64)> =
                    sqlx::query_as($crate::sql::customer_queries::LOAD_CUSTOMERS_SELECT_IDENTITIES)
                        .bind(lo)
                        .bind(hi)
                        .fetch_all(&mut *conn)
                        .await?;
                let tags: Vec<(i64, String)> =
                    sqlx::query_as($crate::sql::customer_queries::LOAD_CUSTOMERS_SELECT_TAGS)
                        .bind(lo)
                        .bind(hi)
                        .fetch_all(&mut *conn)
                        .await?;
                let attrs: Vec<(i64, String, String, String)> =
                    sqlx::query_as($crate::sql::customer_queries::LOAD_CUSTOMERS_SELECT_ATTRIBUTES)
                        .bind(lo)
                        .bind(hi)
                        .fetch_all(&mut *conn)
                        .await?;
                let consents: Vec<(i64, String, String, bool, i64, String)> =
                    sqlx::query_as($crate::sql::customer_queries::LOAD_CUSTOMERS_SELECT_CONSENTS)
                        .bind(lo)
                        .bind(hi)
                        .fetch_all(&mut *conn)
                        .await?;
                let events: Vec<(i64, i64, String, String, String, bool)> = sqlx::query_as(
                    $crate::sql::customer_queries::LOAD_CUSTOMERS_SELECT_LIFE_EVENTS,
                )
                .bind(lo)
                .bind(hi)
                .fetch_all(&mut *conn)
                .await?;
                let mut out: Vec<Customer> = rows
                    .into_iter()
                    .map(|row| Customer {
                        row,
                        identities: vec![],
                        tags: vec![],
                        attributes: vec![],
                        consents: vec![],
                        life_events: vec![],
                    })
                    .collect();
                let index =
                    |out: &Vec<Customer>, id: i64| out.binary_search_by_key(&id, |c| c.row.id).ok();
                for (cid, id, kind, value, created_at) in idents {
                    if let Some(i) = index(&out, cid) {
                        out[i].identities.push(IdentityRow {
                            id,
                            kind: $crate::error::named("kind", kind)?,
                            value,
                            created_at,
                        });
                    }
                }
                for (cid, tag) in tags {
                    if let Some(i) = index(&out, cid) {
                        out[i].tags.push(tag);
                    }
                }
                for (cid, key, ty, value) in attrs {
                    if let Some(i) = index(&out, cid) {
                        out[i].attributes.push(AttributeRow {
                            key,
                            ty: $crate::error::named("type", ty)?,
                            value,
                        });
                    }
                }
                for (cid, channel, purpose, granted, at, source) in consents {
                    if let Some(i) = index(&out, cid) {
                        let channel = $crate::error::named("channel", channel)?;
                        let purpose = $crate::error::named("purpose", purpose)?;
                        let c = &mut out[i].consents;
                        if !c
                            .iter()
                            .any(|x| x.channel == channel && x.purpose == purpose)
                        {
                            c.push(ConsentRow {
                                channel,
                                purpose,
                                granted,
                                at,
                                source,
                            });
                        }
                    }
                }
                for (cid, id, kind, label, date, recurring) in events {
                    if let Some(i) = index(&out, cid) {
                        out[i].life_events.push(LifeEventRow {
                            id,
                            kind: $crate::error::named("kind", kind)?,
                            label,
                            date,
                            recurring,
                        });
                    }
                }
                Ok(out)
            }

            /// Who already holds each external id, e-mail and phone of a batch.
            async fn identity_owners(
                conn: &mut <$db as sqlx::Database>::Connection,
                records: &[nunchi_core::import::CustomerRecord],
            ) -> $crate::StoreResult<std::collections::HashMap<(String, String), i64>> {
                let mut by_kind: std::collections::BTreeMap<&'static str, Vec<String>> =
                    std::collections::BTreeMap::new();
                for r in records {
                    for i in $crate::sql::customer_writes::record_identities(r) {
                        by_kind.entry(i.kind.as_str()).or_default().push(i.value);
                    }
                }
                let mut owners = std::collections::HashMap::new();
                if by_kind.is_empty() {
                    return Ok(owners);
                }
                let mut qb =
                    sqlx::QueryBuilder::<$db>::new($crate::sql::customer_queries::IDENTITY_OWNERS);
                for (n, (kind, values)) in by_kind.into_iter().enumerate() {
                    if n > 0 {
                        qb.push(" OR ");
                    }
                    qb.push("(kind = ").push_bind(kind).push(" AND value IN (");
                    let mut sep = qb.separated(", ");
                    for v in values {
                        sep.push_bind(v);
                    }
                    qb.push("))");
                }
                let rows: Vec<(String, String, i64)> =
                    qb.build_query_as().fetch_all(&mut *conn).await?;
                for (kind, value, id) in rows {
                    owners.insert((kind, value), id);
                }
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
                known: &mut std::collections::HashMap<
                    (String, String),
                    $crate::sql::customer_writes::Owner,
                >,
                out: &mut [Option<$crate::StoreResult<$crate::model::Upserted>>],
                source: &str,
                defs: &mut std::collections::HashMap<String, String>,
                now: i64,
            ) -> $crate::StoreResult<()> {
                use $crate::sql::customer_writes::{Owner, identity_key, record_identities};
                if group.is_empty() {
                    return Ok(());
                }
                let rows: Vec<&nunchi_core::import::CustomerRecord> =
                    group.iter().map(|i| &records[*i]).collect();
                let saved_defs = defs.clone();
                let mut sp = sqlx::Connection::begin(&mut *tx).await?;
                let outcome: Vec<(usize, $crate::StoreResult<i64>)> =
                    match Self::insert_group(&mut sp, &rows, source, defs, now).await {
                        Ok(ids) => {
                            sp.commit().await?;
                            group.iter().copied().zip(ids.into_iter().map(Ok)).collect()
                        }
                        Err(_) => {
                            sp.rollback().await?;
                            *defs = saved_defs;
                            let mut each = Vec::with_capacity(group.len());
                            for &i in group.iter() {
                                let saved_defs = defs.clone();
                                let mut sp = sqlx::Connection::begin(&mut *tx).await?;
                                match Self::insert_group(&mut sp, &[&records[i]], source, defs, now)
                                    .await
                                {
                                    Ok(ids) => {
                                        sp.commit().await?;
                                        each.push((i, Ok(ids[0])));
                                    }
                                    Err(e) => {
                                        sp.rollback().await?;
                                        *defs = saved_defs;
                                        each.push((i, Err(e)));
                                    }
                                }
                            }
                            each
                        }
                    };
                for (i, result) in outcome {
                    for key in record_identities(&records[i]).iter().map(identity_key) {
                        match &result {
                            Ok(id) => {
                                known.insert(key, Owner::Id(*id));
                            }
                            Err(_) => {
                                known.remove(&key);
                            }
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
            async fn insert_group(
                conn: &mut <$db as sqlx::Database>::Connection,
                rows: &[&nunchi_core::import::CustomerRecord],
                source: &str,
                defs: &mut std::collections::HashMap<String, String>,
                now: i64,
            ) -> $crate::StoreResult<Vec<i64>> {
                let mut attributes: Vec<(usize, String, String)> = Vec::new();
                for (n, r) in rows.iter().enumerate() {
                    for (key, ty, value) in &r.attributes {
                        if !defs.contains_key(key) {
                            sqlx::query(
                                $crate::sql::customer_queries::INSERT_GROUP_INSERT_ATTRIBUTE_DEFS,
                            )
                            .bind(key)
                            .bind(ty.as_str())
                            .bind(now)
                            .execute(&mut *conn)
                            .await?;
                            defs.insert(key.clone(), ty.as_str().to_string());
                        }
                        attributes.push((
                            n,
                            key.clone(),
                            $crate::sql::customer_writes::checked_attribute(
                                defs.get(key).map(String::as_str),
                                key,
                                value,
                            )?,
                        ));
                    }
                }
                let ids = Self::reserve_ids(&mut *conn, "customers", rows.len()).await?;
                for (chunk, chunk_ids) in rows.chunks(1000).zip(ids.chunks(1000)) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        $crate::sql::customer_queries::INSERT_GROUP_INSERT_CUSTOMERS,
                    );
                    qb.push_values(chunk.iter().zip(chunk_ids), |mut b, (r, id)| {
                        let f = &r.profile;
                        b.push_bind(*id)
                            .push_bind(f.name.as_ref().map(|v| v.as_str().to_string()))
                            .push_bind(f.language.as_ref().map(|v| v.as_str().to_string()))
                            .push_bind(f.time_zone.as_ref().map(|v| v.as_str().to_string()))
                            .push_bind(f.preferred_channel.map(|v| v.as_str()))
                            .push_bind(r.created_at.map(|m| m.0).unwrap_or(now))
                            .push_bind(now);
                    });
                    qb.build().execute(&mut *conn).await?;
                }
                let owned = |f: &dyn Fn(
                    &nunchi_core::import::CustomerRecord,
                ) -> Vec<(String, String, String)>|
                 -> Vec<(i64, String, String, String)> {
                    rows.iter()
                        .zip(&ids)
                        .flat_map(|(r, id)| f(r).into_iter().map(move |(a, b, c)| (*id, a, b, c)))
                        .collect()
                };
                let identities = owned(&|r| {
                    $crate::sql::customer_writes::record_identities(r)
                        .into_iter()
                        .map(|i| (i.kind.as_str().to_string(), i.value, String::new()))
                        .collect()
                });
                let tags = owned(&|r| {
                    r.tags
                        .iter()
                        .map(|t| (t.as_str().to_string(), String::new(), String::new()))
                        .collect()
                });
                let consents = owned(&|r| {
                    r.consents
                        .iter()
                        .map(|(c, p)| {
                            (
                                c.as_str().to_string(),
                                p.as_str().to_string(),
                                String::new(),
                            )
                        })
                        .collect()
                });
                let events = owned(&|r| {
                    r.life_events
                        .iter()
                        .map(|(k, d)| (k.as_str().to_string(), d.to_string(), String::new()))
                        .collect()
                });
                let keys = owned(&|r| {
                    let externals: Vec<&str> = r.external_id.as_deref().into_iter().collect();
                    nunchi_core::search::keys_for(
                        r.profile.name.as_ref().map(|n| n.as_str()),
                        r.email.as_slice(),
                        r.phone.as_slice(),
                        &externals,
                    )
                    .into_iter()
                    .map(|k| (k, String::new(), String::new()))
                    .collect()
                });
                // Rows per statement stay under SQLite's and PostgreSQL's bind-parameter limits.
                for chunk in identities.chunks(2000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        $crate::sql::customer_queries::INSERT_GROUP_INSERT_IDENTITIES,
                    );
                    qb.push_values(chunk, |mut b, (id, kind, value, _)| {
                        b.push_bind(*id)
                            .push_bind(kind.clone())
                            .push_bind(value.clone())
                            .push_bind(now);
                    });
                    qb.build().execute(&mut *conn).await?;
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        $crate::sql::customer_queries::INSERT_GROUP_INSERT_IDENTITY_LOG,
                    );
                    qb.push_values(chunk, |mut b, (id, kind, value, _)| {
                        b.push_bind(*id)
                            .push_bind("added")
                            .push_bind(kind.clone())
                            .push_bind(value.clone())
                            .push_bind(source.to_string())
                            .push_bind(now);
                    });
                    qb.build().execute(&mut *conn).await?;
                }
                for chunk in tags.chunks(5000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        $crate::sql::customer_queries::INSERT_GROUP_INSERT_TAGS,
                    );
                    qb.push_values(chunk, |mut b, (id, tag, _, _)| {
                        b.push_bind(*id).push_bind(tag.clone());
                    });
                    qb.build().execute(&mut *conn).await?;
                }
                for chunk in consents.chunks(2000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        $crate::sql::customer_queries::INSERT_GROUP_INSERT_CONSENTS,
                    );
                    qb.push_values(chunk, |mut b, (id, channel, purpose, _)| {
                        b.push_bind(*id)
                            .push_bind(channel.clone())
                            .push_bind(purpose.clone())
                            .push_bind(true)
                            .push_bind(now)
                            .push_bind(source.to_string());
                    });
                    qb.build().execute(&mut *conn).await?;
                }
                for chunk in events.chunks(2000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        $crate::sql::customer_queries::INSERT_GROUP_INSERT_LIFE_EVENTS,
                    );
                    qb.push_values(chunk, |mut b, (id, kind, date, _)| {
                        b.push_bind(*id)
                            .push_bind(kind.clone())
                            .push_bind("")
                            .push_bind(date.clone())
                            .push_bind(true);
                    });
                    qb.build().execute(&mut *conn).await?;
                }
                for chunk in attributes.chunks(3000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        $crate::sql::customer_queries::INSERT_GROUP_INSERT_ATTRIBUTES,
                    );
                    qb.push_values(chunk, |mut b, (n, key, value)| {
                        b.push_bind(ids[*n])
                            .push_bind(key.clone())
                            .push_bind(value.clone());
                    });
                    qb.build().execute(&mut *conn).await?;
                }
                for chunk in keys.chunks(5000) {
                    let mut qb = sqlx::QueryBuilder::<$db>::new(
                        $crate::sql::customer_queries::INSERT_GROUP_INSERT_SEARCH_KEYS,
                    );
                    qb.push_values(chunk, |mut b, (id, key, _, _)| {
                        b.push_bind(key.clone()).push_bind(*id);
                    });
                    qb.build().execute(&mut *conn).await?;
                }
                Ok(ids)
            }

            async fn refresh_search_keys(
                conn: &mut <$db as sqlx::Database>::Connection,
                id: i64,
            ) -> $crate::StoreResult<()> {
                use nunchi_core::{email::Email, phone::Phone};
                let name: Option<String> = sqlx::query_scalar(
                    $crate::sql::customer_queries::REFRESH_SEARCH_KEYS_SELECT_CUSTOMERS,
                )
                .bind(id)
                .fetch_one(&mut *conn)
                .await?;
                let idents: Vec<(String, String)> = sqlx::query_as(
                    $crate::sql::customer_queries::REFRESH_SEARCH_KEYS_SELECT_IDENTITIES,
                )
                .bind(id)
                .fetch_all(&mut *conn)
                .await?;
                let emails: Vec<Email> = idents
                    .iter()
                    .filter(|(k, _)| k == "email")
                    .filter_map(|(_, v)| Email::parse(v).ok())
                    .collect();
                let phones: Vec<Phone> = idents
                    .iter()
                    .filter(|(k, _)| k == "phone")
                    .filter_map(|(_, v)| Phone::parse(v).ok())
                    .collect();
                let externals: Vec<&str> = idents
                    .iter()
                    .filter(|(k, _)| k == "external_id")
                    .map(|(_, v)| v.as_str())
                    .collect();
                let keys =
                    nunchi_core::search::keys_for(name.as_deref(), &emails, &phones, &externals);
                sqlx::query($crate::sql::customer_queries::REFRESH_SEARCH_KEYS_DELETE_SEARCH_KEYS)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                for key in keys {
                    sqlx::query(
                        $crate::sql::customer_queries::REFRESH_SEARCH_KEYS_INSERT_SEARCH_KEYS,
                    )
                    .bind(key)
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
                }
                Ok(())
            }

            async fn log_identity(
                conn: &mut <$db as sqlx::Database>::Connection,
                id: i64,
                action: &str,
                kind: &str,
                value: &str,
                actor: &str,
                now: i64,
            ) -> $crate::StoreResult<()> {
                sqlx::query($crate::sql::customer_queries::LOG_IDENTITY)
                    .bind(id)
                    .bind(action)
                    .bind(kind)
                    .bind(value)
                    .bind(actor)
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }

            /// Attaches an identity, or fails with `Conflict` if another customer holds it.
            async fn attach_identity(
                conn: &mut <$db as sqlx::Database>::Connection,
                id: i64,
                identity: &nunchi_core::identity::Identity,
                actor: &str,
                now: i64,
            ) -> $crate::StoreResult<bool> {
                let owner: Option<i64> = sqlx::query_scalar(
                    $crate::sql::customer_queries::ATTACH_IDENTITY_SELECT_IDENTITIES,
                )
                .bind(identity.kind.as_str())
                .bind(&identity.value)
                .fetch_optional(&mut *conn)
                .await?;
                match owner {
                    Some(o) if o == id => Ok(false),
                    Some(o) => Err($crate::StoreError::Conflict(format!(
                        "{} {} already belongs to customer {o}",
                        identity.kind.as_str(),
                        identity.value
                    ))),
                    None => {
                        sqlx::query(
                            $crate::sql::customer_queries::ATTACH_IDENTITY_INSERT_IDENTITIES,
                        )
                        .bind(id)
                        .bind(identity.kind.as_str())
                        .bind(&identity.value)
                        .bind(now)
                        .execute(&mut *conn)
                        .await?;
                        Self::log_identity(
                            conn,
                            id,
                            "added",
                            identity.kind.as_str(),
                            &identity.value,
                            actor,
                            now,
                        )
                        .await?;
                        Ok(true)
                    }
                }
            }

            async fn write_profile(
                conn: &mut <$db as sqlx::Database>::Connection,
                id: i64,
                f: &nunchi_core::customer::ProfileFields,
                now: i64,
            ) -> $crate::StoreResult<()> {
                sqlx::query($crate::sql::customer_queries::WRITE_PROFILE_UPDATE_CUSTOMERS)
                    .bind(id)
                    .bind(f.name.as_ref().map(|v| v.as_str()))
                    .bind(f.language.as_ref().map(|v| v.as_str()))
                    .bind(f.time_zone.as_ref().map(|v| v.as_str()))
                    .bind(f.preferred_channel.map(|v| v.as_str()))
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }

            async fn write_attribute(
                conn: &mut <$db as sqlx::Database>::Connection,
                id: i64,
                key: &str,
                ty: nunchi_core::customer::AttributeType,
                value: &str,
                now: i64,
            ) -> $crate::StoreResult<()> {
                let declared: Option<String> = sqlx::query_scalar(
                    $crate::sql::customer_queries::WRITE_ATTRIBUTE_SELECT_ATTRIBUTE_DEFS,
                )
                .bind(key)
                .fetch_optional(&mut *conn)
                .await?;
                if declared.is_none() {
                    sqlx::query(
                        $crate::sql::customer_queries::WRITE_ATTRIBUTE_INSERT_ATTRIBUTE_DEFS,
                    )
                    .bind(key)
                    .bind(ty.as_str())
                    .bind(now)
                    .execute(&mut *conn)
                    .await?;
                }
                let value = $crate::sql::customer_writes::checked_attribute(
                    Some(declared.as_deref().unwrap_or(ty.as_str())),
                    key,
                    value,
                )?;
                sqlx::query($crate::sql::customer_queries::WRITE_ATTRIBUTE_INSERT_ATTRIBUTES)
                    .bind(id)
                    .bind(key)
                    .bind(value)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }

            async fn write_consent(
                conn: &mut <$db as sqlx::Database>::Connection,
                id: i64,
                c: &nunchi_core::consent::Consent,
            ) -> $crate::StoreResult<()> {
                let latest: Option<bool> = sqlx::query_scalar(
                    $crate::sql::customer_queries::WRITE_CONSENT_SELECT_CONSENTS,
                )
                .bind(id)
                .bind(c.channel.as_str())
                .bind(c.purpose.as_str())
                .fetch_optional(&mut *conn)
                .await?;
                if latest != Some(c.granted) {
                    sqlx::query($crate::sql::customer_queries::WRITE_CONSENT_INSERT_CONSENTS)
                        .bind(id)
                        .bind(c.channel.as_str())
                        .bind(c.purpose.as_str())
                        .bind(c.granted)
                        .bind(c.at.0)
                        .bind(&c.source)
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(())
            }

            async fn write_life_event(
                conn: &mut <$db as sqlx::Database>::Connection,
                id: i64,
                kind: &str,
                label: &str,
                date: &str,
                recurring: bool,
            ) -> $crate::StoreResult<()> {
                sqlx::query($crate::sql::customer_queries::WRITE_LIFE_EVENT)
                    .bind(id)
                    .bind(kind)
                    .bind(label)
                    .bind(date)
                    .bind(recurring)
                    .execute(&mut *conn)
                    .await?;
                Ok(())
            }

            /// Writes everything a record carries onto customer `id`.
            async fn write_record(
                conn: &mut <$db as sqlx::Database>::Connection,
                id: i64,
                r: &nunchi_core::import::CustomerRecord,
                extra: &[nunchi_core::identity::Identity],
                source: &str,
                now: i64,
            ) -> $crate::StoreResult<()> {
                Self::write_profile(conn, id, &r.profile, now).await?;
                let mut identities: Vec<nunchi_core::identity::Identity> = extra.to_vec();
                identities.extend($crate::sql::customer_writes::record_identities(r));
                for identity in &identities {
                    Self::attach_identity(conn, id, identity, source, now).await?;
                }
                for tag in &r.tags {
                    sqlx::query($crate::sql::customer_queries::WRITE_RECORD_INSERT_TAGS)
                        .bind(id)
                        .bind(tag.as_str())
                        .execute(&mut *conn)
                        .await?;
                }
                for (channel, purpose) in &r.consents {
                    let c = nunchi_core::consent::Consent {
                        channel: *channel,
                        purpose: *purpose,
                        granted: true,
                        at: nunchi_core::time::Millis(now),
                        source: source.to_string(),
                    };
                    Self::write_consent(conn, id, &c).await?;
                }
                for (kind, date) in &r.life_events {
                    Self::write_life_event(conn, id, kind.as_str(), "", &date.to_string(), true)
                        .await?;
                }
                for (key, ty, value) in &r.attributes {
                    Self::write_attribute(conn, id, key, *ty, value, now).await?;
                }
                Self::refresh_search_keys(conn, id).await
            }

            async fn insert_customer_row(
                conn: &mut <$db as sqlx::Database>::Connection,
                since: Option<nunchi_core::time::Millis>,
                now: i64,
            ) -> $crate::StoreResult<i64> {
                Ok(
                    sqlx::query_scalar($crate::sql::customer_queries::INSERT_CUSTOMER_ROW)
                        .bind(since.map(|m| m.0).unwrap_or(now))
                        .bind(now)
                        .fetch_one(&mut *conn)
                        .await?,
                )
            }
        }
    };
}

pub(crate) use impl_customer_writes;
