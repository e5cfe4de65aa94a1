//! What agents look at: the inbox (tabs by status and assignee, newest activity first,
//! paged by an opaque cursor; or a search over every message in any language) and the
//! customer panel beside a thread, masked as the caller must see them.

use nunchi_core::identity::IdentityKind;
use nunchi_core::{access::Permission, conversation::ConversationStatus};
use nunchi_store::model::{AssigneeFilter, Conversation, ConversationFilter, InboxCounts};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{App, Error, Result, actor::Actor, conversations::require};

/// Which conversations an inbox list shows.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct InboxQuery {
    /// open, pending, snoozed or resolved; every status when absent.
    pub status: Option<String>,
    /// `mine`, `unassigned`, or a user id.
    pub assignee: Option<String>,
    pub team_id: Option<i64>,
    pub customer_id: Option<i64>,
    /// Only conversations with a message containing this (any language, any length);
    /// results are not paged.
    pub q: Option<String>,
    /// The cursor a previous page gave.
    pub before: Option<String>,
    pub limit: Option<i64>,
}

/// One row of the inbox: the conversation, who it is with, and its newest line.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InboxRow {
    pub conversation: Conversation,
    pub customer_name: Option<String>,
    pub preview: String,
    /// The customer's lines the caller has not read yet.
    pub unread: i64,
}

/// A page of the inbox.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct InboxPage {
    pub rows: Vec<InboxRow>,
    /// Pass as `before` for the next page; absent on the last.
    pub next: Option<String>,
    pub counts: InboxCounts,
}

/// The inbox as `actor` may see it.
pub async fn inbox(app: &App, actor: &Actor, q: &InboxQuery) -> Result<InboxPage> {
    require(actor, Permission::InboxRead)?;
    let limit = crate::paging::limit(q.limit)?;
    let status = q
        .status
        .as_deref()
        .filter(|s| !s.is_empty() && *s != "all")
        .map(ConversationStatus::parse)
        .transpose()?;
    let assignee = match q.assignee.as_deref().map(str::trim) {
        None | Some("") | Some("all") => None,
        Some("mine") => Some(AssigneeFilter::User(actor.user_id)),
        Some("unassigned") => Some(AssigneeFilter::Nobody),
        Some(id) => Some(AssigneeFilter::User(id.parse().map_err(|_| {
            Error::invalid(
                "invalid_assignee",
                "assignee is mine, unassigned or a user id",
            )
        })?)),
    };
    let filter = ConversationFilter {
        status,
        assignee,
        team_id: q.team_id,
        customer_id: q.customer_id,
        ids: None,
        before: q.before.as_deref().map(parse_cursor).transpose()?,
        limit,
    };
    let mut found_text = std::collections::HashMap::new();
    let (list, next) = match q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(text) => {
            if text.chars().count() > MAX_QUERY_CHARS {
                return Err(Error::invalid(
                    "invalid_query",
                    format!("search for at most {MAX_QUERY_CHARS} characters"),
                ));
            }
            let list = search(app, text, &filter, &mut found_text).await?;
            (list, None)
        }
        None => {
            let list = app.store.conversations(&filter).await?;
            let next = (list.len() as i64 == limit)
                .then(|| {
                    list.last()
                        .map(|c| format!("{}.{}", c.last_message_at, c.id))
                })
                .flatten();
            (list, next)
        }
    };
    // One query for every row's newest line, not one thread per row.
    let ids: Vec<i64> = list.iter().map(|c| c.id).collect();
    let mut latest: std::collections::HashMap<i64, String> = app
        .store
        .latest_messages(&ids)
        .await?
        .into_iter()
        .map(|m| (m.conversation_id, m.text))
        .collect();
    // One query for every row's customer too.
    let mut customer_ids: Vec<i64> = list.iter().map(|c| c.customer_id).collect();
    customer_ids.sort_unstable();
    customer_ids.dedup();
    let names: std::collections::HashMap<i64, Option<String>> = app
        .store
        .customer_summaries(&customer_ids)
        .await?
        .into_iter()
        .map(|mut s| {
            if !actor.sees_pii() {
                crate::privacy::mask_summary(&mut s);
            }
            (s.id, s.name.or(s.email).or(s.phone))
        })
        .collect();
    let unread: std::collections::HashMap<i64, i64> = app
        .store
        .unread(actor.user_id, &ids)
        .await?
        .into_iter()
        .collect();
    let mut rows = Vec::with_capacity(list.len());
    for c in list {
        let preview = found_text
            .remove(&c.id)
            .or_else(|| latest.remove(&c.id))
            .map(|t| t.chars().take(140).collect())
            .unwrap_or_default();
        rows.push(InboxRow {
            unread: unread.get(&c.id).copied().unwrap_or(0),
            customer_name: names.get(&c.customer_id).cloned().flatten(),
            conversation: c,
            preview,
        });
    }
    Ok(InboxPage {
        rows,
        next,
        counts: app.store.inbox_counts(actor.user_id).await?,
    })
}

/// Records that the caller has seen a conversation up to line `seq` (its page, or its
/// live thread, showed them).
pub async fn mark_read(app: &App, actor: &Actor, conversation_id: i64, seq: i64) -> Result<()> {
    // The CLI operator and tokens without a user read nothing for anyone.
    if actor.user_id > 0 {
        app.store
            .mark_read(actor.user_id, conversation_id, seq)
            .await?;
    }
    Ok(())
}

/// How the desk names a customer: their name, else their e-mail address, else their phone
/// number (as the inbox's rows do from a customer summary); none for a chat visitor.
pub fn display_name(c: &nunchi_store::model::Customer) -> Option<String> {
    c.row
        .name
        .clone()
        .or_else(|| c.identity(IdentityKind::Email).map(str::to_string))
        .or_else(|| c.identity(IdentityKind::Phone).map(str::to_string))
}

/// The longest search accepted, in characters.
const MAX_QUERY_CHARS: usize = 200;
/// Matching messages read for one search, at most (newest first).
const SEARCH_MESSAGES: i64 = 2_000;

/// Conversations with a message containing `text`, newest match first, that also meet
/// `filter`; the matching message's text is kept for the preview.
async fn search(
    app: &App,
    text: &str,
    filter: &ConversationFilter,
    found_text: &mut std::collections::HashMap<i64, String>,
) -> Result<Vec<Conversation>> {
    // The conversations hit, in the order of their newest matching message.
    let mut hits: Vec<i64> = Vec::new();
    for m in app.store.search_messages(text, SEARCH_MESSAGES).await? {
        if let std::collections::hash_map::Entry::Vacant(slot) = found_text.entry(m.conversation_id)
        {
            slot.insert(m.text);
            hits.push(m.conversation_id);
        }
    }
    // One query applies the inbox's filters to all of them.
    let mut list = app
        .store
        .conversations(&ConversationFilter {
            ids: Some(hits.clone()),
            before: None,
            limit: hits.len() as i64,
            ..filter.clone()
        })
        .await?;
    let rank: std::collections::HashMap<i64, usize> =
        hits.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    list.sort_by_key(|c| rank.get(&c.id).copied());
    list.truncate(filter.limit.max(0) as usize);
    Ok(list)
}

fn parse_cursor(s: &str) -> Result<(i64, i64)> {
    let bad = || Error::invalid("invalid_cursor", "before is the cursor a page gave");
    let (at, id) = s.split_once('.').ok_or_else(bad)?;
    Ok((
        at.parse().map_err(|_| bad())?,
        id.parse().map_err(|_| bad())?,
    ))
}

/// What an agent sees of the customer beside a thread: the profile, recent orders and
/// feedback, consents and their other conversations, masked as the caller must see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CustomerPanel {
    pub customer: nunchi_store::model::Customer,
    pub orders: Vec<nunchi_store::model::Order>,
    pub feedback: Vec<nunchi_store::model::Feedback>,
    /// Their other conversations, newest activity first.
    pub conversations: Vec<Conversation>,
}

/// Orders, feedback and conversations the panel shows, at most, of each.
const PANEL_ITEMS: usize = 5;

pub async fn customer_panel(app: &App, actor: &Actor, customer_id: i64) -> Result<CustomerPanel> {
    require(actor, Permission::InboxRead)?;
    let mut customer = app.store.customer(customer_id).await?;
    if !actor.sees_pii() {
        crate::privacy::mask_customer(&mut customer);
    }
    let mut orders = app.store.orders_of(customer_id).await?;
    orders.sort_by_key(|o| std::cmp::Reverse(o.row.placed_at));
    orders.truncate(PANEL_ITEMS);
    let feedback = app
        .store
        .list_feedback(&nunchi_store::model::FeedbackFilter {
            customer_id: Some(customer_id),
            limit: PANEL_ITEMS as i64,
            ..Default::default()
        })
        .await?
        .into_iter()
        .map(|f| crate::privacy::masked_feedback(f, actor))
        .collect();
    let conversations = app
        .store
        .conversations(&ConversationFilter {
            customer_id: Some(customer_id),
            limit: PANEL_ITEMS as i64 + 1,
            ..Default::default()
        })
        .await?;
    Ok(CustomerPanel {
        customer,
        orders,
        feedback,
        conversations,
    })
}
