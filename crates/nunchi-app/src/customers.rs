//! Customer 360's operations, for the API and the pages alike: the customer list and a
//! profile's timeline as the caller may see them (personal data masked where their role
//! says), notes checked, and the three lifecycle operations — merge, erasure and the
//! subject-access export — each recorded in the audit log.

use nunchi_core::consent::ContactChannel;
use nunchi_core::search::normalise_query;
use nunchi_store::model::{CustomerExport, CustomerFilter, CustomerSummary, TimelineEntry};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::paging::{
    decode_id_cursor, decode_timeline_cursor, encode_id_cursor, encode_timeline_cursor, limit,
};
use crate::privacy::mask_summary;
use crate::{Actor, App, Result};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Search prefix: name (Korean included), e-mail, phone or external id.
    pub q: Option<String>,
    pub tag: Option<String>,
    pub language: Option<String>,
    /// Only customers with marketing consent on this channel.
    pub marketing_channel: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct CustomerPage {
    pub items: Vec<CustomerSummary>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

pub async fn list_customers(state: &App, actor: &Actor, q: &ListQuery) -> Result<CustomerPage> {
    let limit = limit(q.limit)?;
    let filter = CustomerFilter {
        query: q
            .q
            .as_deref()
            .map(normalise_query)
            .filter(|s| !s.is_empty()),
        tag: q.tag.clone().filter(|s| !s.is_empty()),
        language: q.language.clone().filter(|s| !s.is_empty()),
        marketing_channel: q
            .marketing_channel
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(|c| ContactChannel::parse(c).map(|c| c.as_str().to_string()))
            .transpose()?,
    };
    let mut items = state
        .store
        .list_customers(&filter, decode_id_cursor(q.cursor.as_deref())?, limit)
        .await?;
    if !actor.sees_pii() {
        items.iter_mut().for_each(mask_summary);
    }
    let next_cursor = (items.len() as i64 == limit)
        .then(|| items.last().map(|c| encode_id_cursor(c.id)))
        .flatten();
    Ok(CustomerPage { items, next_cursor })
}

pub fn check_note(body: &str) -> Result<&str> {
    let body = crate::error::required_text(
        body,
        10_000,
        "invalid_body",
        "a note has 1–10000 characters",
    )?;
    Ok(body)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

#[derive(Debug, serde::Serialize, ToSchema)]
pub struct TimelinePage {
    pub items: Vec<TimelineEntry>,
    pub next_cursor: Option<String>,
}

pub async fn timeline_page(
    state: &App,
    actor: &Actor,
    id: i64,
    q: &PageQuery,
) -> Result<TimelinePage> {
    let limit = limit(q.limit)?;
    let mut items = state
        .store
        .timeline(
            id,
            decode_timeline_cursor(q.cursor.as_deref())?.as_ref(),
            limit,
        )
        .await?;
    if !actor.sees_pii() {
        for e in items.iter_mut().filter(|e| e.kind == "identity") {
            e.detail = e.detail.split(' ').next().unwrap_or_default().to_string();
        }
    }
    let next_cursor = (items.len() as i64 == limit)
        .then(|| {
            items.last().map(|e| {
                encode_timeline_cursor(&nunchi_store::model::TimelineCursor {
                    at: e.at,
                    kind: e.kind.clone(),
                    ref_id: e.ref_id,
                })
            })
        })
        .flatten();
    Ok(TimelinePage { items, next_cursor })
}

/// Merges `source` into `target` and records it; the engine and the ingest cache follow.
pub async fn merge(state: &App, actor: &Actor, source: i64, target: i64) -> Result<()> {
    state
        .events
        .merge(
            source,
            target,
            state.store.merge_customers(source, target, &actor.label),
        )
        .await?;
    state.touched([source, target]);
    state
        .audit_by(
            actor,
            "customer.merge",
            &format!("customer {target}"),
            &format!("merged customer {source} into {target}"),
        )
        .await;
    Ok(())
}

/// Replaces a customer's tags (each checked), recorded in the audit log; shared by the
/// API's update and the profile page.
pub async fn set_tags(state: &App, actor: &Actor, id: i64, tags: &[String]) -> Result<()> {
    if !actor.can(nunchi_core::access::Permission::CustomersWrite) {
        return Err(crate::Error::Forbidden);
    }
    let parsed: Vec<nunchi_core::customer::Tag> = tags
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .map(nunchi_core::customer::Tag::parse)
        .collect::<std::result::Result<_, _>>()?;
    state.store.customer(id).await?;
    state.store.set_tags(id, &parsed).await?;
    state.touched([id]);
    let names: Vec<&str> = parsed.iter().map(|t| t.as_str()).collect();
    state
        .audit_by(
            actor,
            "customer.tags",
            &format!("customer {id}"),
            &names.join(", "),
        )
        .await;
    Ok(())
}

/// Sets one custom attribute from typed text: the key's declared type, or the one the
/// text reads as for a new key; recorded in the audit log.
pub async fn set_attribute(
    state: &App,
    actor: &Actor,
    id: i64,
    key: &str,
    value: &str,
) -> Result<()> {
    use nunchi_core::customer::{AttributeType, parse_attribute_key};
    if !actor.can(nunchi_core::access::Permission::CustomersWrite) {
        return Err(crate::Error::Forbidden);
    }
    let key = parse_attribute_key(key)?;
    let value = value.trim();
    let ty = state
        .store
        .attribute_type(&key)
        .await?
        .unwrap_or_else(|| AttributeType::infer(value));
    let canonical = ty.canonical(&key, value)?;
    state.store.customer(id).await?;
    state.store.set_attribute(id, &key, ty, &canonical).await?;
    state.touched([id]);
    state
        .audit_by(
            actor,
            "customer.attribute",
            &format!("customer {id}"),
            &format!("{key} = {canonical}"),
        )
        .await;
    Ok(())
}

/// Erases a customer's personal data and records it; shared by the API and the profile page.
pub async fn erase(state: &App, actor: &Actor, id: i64) -> Result<()> {
    let files = state.store.customer_attachment_files(id).await?;
    state.store.erase_customer(id, &actor.label).await?;
    crate::attachments::remove_files(state, &files).await;
    state.events.erased(id).await;
    state.touched([id]);
    state
        .audit_by(
            actor,
            "customer.erase",
            &format!("customer {id}"),
            "personal data erased",
        )
        .await;
    Ok(())
}

/// Everything held on one customer, with the export recorded in the audit log.
pub async fn export(state: &App, actor: &Actor, id: i64) -> Result<CustomerExport> {
    let export = state.store.export_customer(id).await?;
    state
        .audit_by(
            actor,
            "customer.export",
            &format!("customer {id}"),
            "subject access export",
        )
        .await;
    Ok(export)
}

/// The customer a channel's identity belongs to (an e-mail sender, a caller, a chat
/// visitor), created from `record` on first sight. Two requests that create the same
/// person at once both get the one that was stored.
pub async fn find_or_create(
    app: &App,
    identity: &nunchi_core::identity::Identity,
    record: &nunchi_core::import::CustomerRecord,
    extra: &[nunchi_core::identity::Identity],
    source: &str,
) -> Result<i64> {
    if let Some(id) = app.store.find_by_identity(identity).await? {
        return Ok(id);
    }
    match app.store.create_customer(record, extra, source).await {
        Ok(id) => {
            app.touched([id]);
            Ok(id)
        }
        Err(nunchi_store::StoreError::Conflict(_)) => {
            app.store.find_by_identity(identity).await?.ok_or_else(|| {
                crate::Error::Conflict(format!("customer {} vanished", identity.value))
            })
        }
        Err(e) => Err(e.into()),
    }
}
