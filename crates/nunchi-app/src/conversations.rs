//! The support desk's operations: mail taken in and threaded into conversations, agents'
//! replies (sent by e-mail as a background job) and notes, status, priority and assignment
//! changes recorded as activity lines, and the inbox and thread as a caller may see them.

use nunchi_core::{
    access::Permission,
    conversation::{
        ConversationChannel, ConversationStatus, MAX_MESSAGE_BYTES, MessageDirection, Priority,
        base_subject, thread_candidates,
    },
    customer::{CustomerName, ProfileFields},
    email::Email,
    identity::Identity,
    import::CustomerRecord,
    sla::SlaEvent,
};
use nunchi_store::{
    StoreError,
    model::{
        AssigneeFilter, Conversation, ConversationFilter, ConversationMessage, ConversationState,
        InboxCounts, NewConversation, NewMessage,
    },
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    App, Error, Result,
    actor::Actor,
    inbound_mail::{self, InboundMail},
    mail::{MailThread, OutgoingMail},
};

/// What taking in one e-mail gave: the same three ids however often it is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Intake {
    pub conversation_id: i64,
    pub message_id: i64,
    pub customer_id: i64,
}

fn require(actor: &Actor, p: Permission) -> Result<()> {
    if actor.can(p) {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

/// Takes in one raw e-mail: finds or creates its sender as a customer, threads it into the
/// conversation one of its reply headers names (never by subject), or opens a new one. A
/// message whose Message-ID is already stored answers the ids it was stored under. Mail
/// that cannot be read is kept whole for an admin and answered with `unreadable_mail`.
pub async fn take_in_email(app: &App, actor: &Actor, raw: &[u8]) -> Result<Intake> {
    require(actor, Permission::InboxWrite)?;
    let mail = match inbound_mail::read(raw) {
        Ok(mail) => mail,
        Err(why) => {
            let kept = if raw.len() <= inbound_mail::MAX_RAW_BYTES {
                Some(
                    app.store
                        .keep_unreadable_mail(raw, &why.to_string())
                        .await?,
                )
            } else {
                None
            };
            tracing::warn!(reason = %why, kept = ?kept, "an incoming e-mail could not be read");
            let message = match kept {
                Some(id) => format!("{why}; it is kept as unreadable mail #{id} for an admin"),
                None => why.to_string(),
            };
            return Err(Error::invalid("unreadable_mail", message));
        }
    };
    if let Some(done) = already_taken(app, &mail.message_id).await? {
        return Ok(done);
    }
    match store_mail(app, &mail).await {
        // The same message arrived twice at once: the other request stored it.
        Err(Error::Conflict(_)) => already_taken(app, &mail.message_id)
            .await?
            .ok_or_else(|| Error::Conflict("the message was stored and then vanished".into())),
        other => other,
    }
}

async fn already_taken(app: &App, message_id: &str) -> Result<Option<Intake>> {
    let found = app
        .store
        .messages_by_external_id(
            ConversationChannel::Email.as_str(),
            &[message_id.to_string()],
        )
        .await?;
    let Some(m) = found.into_iter().next() else {
        return Ok(None);
    };
    let conversation = app.store.conversation(m.conversation_id).await?;
    Ok(Some(Intake {
        conversation_id: conversation.id,
        message_id: m.id,
        customer_id: conversation.customer_id,
    }))
}

async fn store_mail(app: &App, mail: &InboundMail) -> Result<Intake> {
    let line = NewMessage {
        direction: MessageDirection::Incoming,
        channel: ConversationChannel::Email,
        author_user_id: None,
        text: mail.text.clone(),
        external_id: Some(mail.message_id.clone()),
        subject: Some(mail.subject.clone()),
        delivery: None,
        at: None,
    };
    let candidates = thread_candidates(&mail.in_reply_to, &mail.references);
    let known = app
        .store
        .messages_by_external_id(ConversationChannel::Email.as_str(), &candidates)
        .await?;
    let thread = candidates
        .iter()
        .find_map(|id| known.iter().find(|m| m.external_id.as_deref() == Some(id)));
    if let Some(parent) = thread {
        let conversation = app.store.conversation(parent.conversation_id).await?;
        let added = app.store.add_message(conversation.id, &line).await?;
        crate::sla::track(
            app,
            &conversation,
            SlaEvent::Incoming {
                at: added.created_at,
                replied_before: conversation.first_reply_at.is_some(),
            },
        )
        .await?;
        reopen_on_reply(app, &conversation).await?;
        return Ok(Intake {
            conversation_id: conversation.id,
            message_id: added.id,
            customer_id: conversation.customer_id,
        });
    }
    let customer_id = customer_for_email(app, &mail.from, mail.from_name.as_deref()).await?;
    let subject = base_subject(&mail.subject);
    let (conversation, added) = app
        .store
        .create_conversation(
            &NewConversation {
                customer_id,
                channel: ConversationChannel::Email,
                subject: inbound_mail::clip(subject, 500),
                priority: Priority::Normal,
                team_id: None,
            },
            &line,
        )
        .await?;
    crate::sla::track(
        app,
        &conversation,
        SlaEvent::Opened {
            at: conversation.created_at,
        },
    )
    .await?;
    Ok(Intake {
        conversation_id: conversation.id,
        message_id: added.id,
        customer_id,
    })
}

/// A customer's message brings a conversation back to the team's open work.
async fn reopen_on_reply(app: &App, c: &Conversation) -> Result<()> {
    if c.status == ConversationStatus::Open {
        return Ok(());
    }
    let mut state = state_of(c);
    state.status = ConversationStatus::Open;
    state.snoozed_until = None;
    let after = app.store.set_conversation_state(c.id, &state).await?;
    crate::sla::track(
        app,
        &after,
        SlaEvent::Status {
            from: c.status,
            to: after.status,
            at: after.updated_at,
        },
    )
    .await?;
    activity(app, c.id, c.channel, None, "reopened").await
}

/// The customer an address belongs to, created on first sight.
pub async fn customer_for_email(app: &App, email: &Email, name: Option<&str>) -> Result<i64> {
    let identity = Identity::email(email);
    if let Some(id) = app.store.find_by_identity(&identity).await? {
        return Ok(id);
    }
    let record = CustomerRecord {
        external_id: None,
        profile: ProfileFields {
            name: name.and_then(|n| CustomerName::parse(n).ok()),
            ..Default::default()
        },
        email: Some(email.clone()),
        phone: None,
        tags: vec![],
        consents: vec![],
        life_events: vec![],
        attributes: vec![],
        created_at: None,
    };
    match app.store.create_customer(&record, &[], "email").await {
        Ok(id) => Ok(id),
        Err(StoreError::Conflict(_)) => app
            .store
            .find_by_identity(&identity)
            .await?
            .ok_or_else(|| Error::Conflict(format!("customer {} vanished", email.as_str()))),
        Err(e) => Err(e.into()),
    }
}

fn state_of(c: &Conversation) -> ConversationState {
    ConversationState {
        status: c.status,
        snoozed_until: c.snoozed_until,
        priority: c.priority,
        team_id: c.team_id,
        assignee_id: c.assignee_id,
        at: None,
    }
}

/// Writes an activity line; `what` is a stable key (`reopened`, `status=resolved`,
/// `assignee=12`), which faces show in the reader's language.
async fn activity(
    app: &App,
    conversation_id: i64,
    channel: ConversationChannel,
    by: Option<i64>,
    what: &str,
) -> Result<()> {
    app.store
        .add_message(
            conversation_id,
            &NewMessage {
                direction: MessageDirection::Activity,
                channel,
                author_user_id: by,
                text: what.into(),
                external_id: None,
                subject: None,
                delivery: None,
                at: None,
            },
        )
        .await?;
    Ok(())
}

/// An agent's reply or note.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct MessageInput {
    pub text: String,
    /// A note only staff see, instead of a reply to the customer.
    #[serde(default)]
    pub note: bool,
}

/// Adds an agent's reply (sent to the customer on the conversation's channel) or note.
pub async fn post_message(
    app: &App,
    actor: &Actor,
    conversation_id: i64,
    input: &MessageInput,
) -> Result<ConversationMessage> {
    require(actor, Permission::InboxWrite)?;
    let text = input.text.trim();
    if text.is_empty() || text.len() > MAX_MESSAGE_BYTES {
        return Err(Error::invalid(
            "invalid_text",
            format!("write a message of 1 to {} KiB", MAX_MESSAGE_BYTES / 1024),
        ));
    }
    let conversation = app.store.conversation(conversation_id).await?;
    if input.note {
        let note = app
            .store
            .add_message(
                conversation_id,
                &NewMessage {
                    direction: MessageDirection::Note,
                    channel: conversation.channel,
                    author_user_id: Some(actor.user_id).filter(|id| *id > 0),
                    text: text.into(),
                    external_id: None,
                    subject: None,
                    delivery: None,
                    at: None,
                },
            )
            .await?;
        return Ok(note);
    }
    let by_email = conversation.channel == ConversationChannel::Email;
    let message_id = by_email.then(|| {
        format!(
            "nunchi.{}.{}@{}",
            conversation_id,
            crate::secret::random_token(),
            app.mailer.domain()
        )
    });
    let reply = app
        .store
        .add_message(
            conversation_id,
            &NewMessage {
                direction: MessageDirection::Outgoing,
                channel: conversation.channel,
                author_user_id: Some(actor.user_id).filter(|id| *id > 0),
                text: text.into(),
                external_id: message_id,
                subject: by_email.then(|| reply_subject(&conversation.subject)),
                delivery: by_email.then(|| "queued".to_string()),
                at: None,
            },
        )
        .await?;
    if by_email {
        crate::jobs::enqueue(
            app,
            &ReplyJob {
                message_id: reply.id,
            },
        )
        .await?;
    }
    crate::sla::track(
        app,
        &conversation,
        SlaEvent::Reply {
            at: reply.created_at,
        },
    )
    .await?;
    // Answering a customer hands the conversation back to them.
    if conversation.status == ConversationStatus::Open {
        let mut state = state_of(&conversation);
        state.status = ConversationStatus::Pending;
        let after = app
            .store
            .set_conversation_state(conversation_id, &state)
            .await?;
        // The reply moved the deadlines: read them again before pausing the clock.
        let after = app.store.conversation(after.id).await?;
        crate::sla::track(
            app,
            &after,
            SlaEvent::Status {
                from: conversation.status,
                to: after.status,
                at: after.updated_at,
            },
        )
        .await?;
    }
    Ok(reply)
}

fn reply_subject(subject: &str) -> String {
    if subject.is_empty() {
        "Re:".into()
    } else {
        format!("Re: {subject}")
    }
}

/// Sends one agent reply by e-mail, as a reply in the customer's thread.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReplyJob {
    pub message_id: i64,
}

impl crate::jobs::Job for ReplyJob {
    const KIND: &'static str = "conversation_reply";
    const MAX_ATTEMPTS: i64 = 5;

    async fn run(self, app: &App) -> anyhow::Result<String> {
        let reply = app.store.message(self.message_id).await?;
        let conversation = app.store.conversation(reply.conversation_id).await?;
        let customer = app.store.customer(conversation.customer_id).await?;
        let Some(to) = customer.identity("email").map(str::to_string) else {
            app.store
                .set_delivery(
                    reply.id,
                    "failed",
                    Some("the customer has no e-mail address"),
                )
                .await?;
            return Ok(serde_json::json!({ "skipped": "no address" }).to_string());
        };
        let references: Vec<String> = app
            .store
            .messages(conversation.id)
            .await?
            .into_iter()
            .filter(|m| m.id < reply.id)
            .filter(|m| {
                matches!(
                    m.direction,
                    MessageDirection::Incoming | MessageDirection::Outgoing
                )
            })
            .filter_map(|m| m.external_id)
            .collect();
        let sent = app
            .mailer
            .send_mail(&OutgoingMail {
                to: &to,
                subject: reply.subject.as_deref().unwrap_or("Re:"),
                text: &reply.text,
                html: None,
                thread: reply.external_id.clone().map(|message_id| MailThread {
                    message_id,
                    references,
                }),
            })
            .await;
        match sent {
            Ok(()) => {
                app.store.set_delivery(reply.id, "sent", None).await?;
                Ok(serde_json::json!({ "sent_to": to }).to_string())
            }
            Err(e) => {
                // Shown on the message at once; the runner retries, and a later success
                // marks it sent.
                app.store
                    .set_delivery(reply.id, "failed", Some(&e.to_string()))
                    .await?;
                Err(e)
            }
        }
    }
}

/// A change staff make to a conversation; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ConversationChange {
    /// open, pending, snoozed or resolved.
    pub status: Option<String>,
    /// For snoozed: until when (milliseconds since the epoch).
    pub snoozed_until: Option<i64>,
    /// low, normal, high or urgent.
    pub priority: Option<String>,
    /// A user id; 0 takes the assignment away.
    pub assignee_id: Option<i64>,
    /// A team id; 0 takes the team away.
    pub team_id: Option<i64>,
    pub labels: Option<Vec<String>>,
}

/// Applies a change and writes an activity line for each field that moved.
pub async fn change(
    app: &App,
    actor: &Actor,
    conversation_id: i64,
    change: &ConversationChange,
) -> Result<Conversation> {
    require(actor, Permission::InboxWrite)?;
    let before = app.store.conversation(conversation_id).await?;
    let mut state = state_of(&before);
    if let Some(s) = &change.status {
        state.status = ConversationStatus::parse(s)?;
        state.snoozed_until = match state.status {
            ConversationStatus::Snoozed => {
                let until = change.snoozed_until.ok_or_else(|| {
                    Error::invalid("invalid_snoozed_until", "say until when to snooze")
                })?;
                if until <= app.now() {
                    return Err(Error::invalid(
                        "invalid_snoozed_until",
                        "snooze until a time in the future",
                    ));
                }
                Some(until)
            }
            _ => None,
        };
    }
    if let Some(p) = &change.priority {
        state.priority = Priority::parse(p)?;
    }
    if let Some(a) = change.assignee_id {
        state.assignee_id = if a == 0 {
            None
        } else {
            let user =
                app.store.user(a).await.map_err(|_| {
                    Error::invalid("invalid_assignee", format!("there is no user {a}"))
                })?;
            if user.disabled {
                return Err(Error::invalid(
                    "invalid_assignee",
                    format!("{} is disabled", user.name),
                ));
            }
            Some(a)
        };
    }
    if let Some(t) = change.team_id {
        state.team_id = if t == 0 {
            None
        } else {
            if !app.store.teams().await?.iter().any(|team| team.id == t) {
                return Err(Error::invalid(
                    "invalid_team",
                    format!("there is no team {t}"),
                ));
            }
            Some(t)
        };
    }
    let after = app
        .store
        .set_conversation_state(conversation_id, &state)
        .await?;
    if before.status != after.status {
        crate::sla::track(
            app,
            &after,
            SlaEvent::Status {
                from: before.status,
                to: after.status,
                at: after.updated_at,
            },
        )
        .await?;
    }
    let by = Some(actor.user_id).filter(|id| *id > 0);
    let moved = [
        (before.status != after.status).then(|| format!("status={}", after.status)),
        (before.priority != after.priority).then(|| format!("priority={}", after.priority)),
        (before.assignee_id != after.assignee_id)
            .then(|| format!("assignee={}", after.assignee_id.unwrap_or(0))),
        (before.team_id != after.team_id).then(|| format!("team={}", after.team_id.unwrap_or(0))),
    ];
    for what in moved.into_iter().flatten() {
        activity(app, conversation_id, after.channel, by, &what).await?;
    }
    if let Some(labels) = &change.labels {
        let mut clean: Vec<String> = Vec::new();
        for l in labels {
            let l = l.trim();
            if l.is_empty() || l.chars().count() > 50 {
                return Err(Error::invalid(
                    "invalid_label",
                    "labels are 1–50 characters",
                ));
            }
            clean.push(l.to_string());
        }
        app.store.set_labels(conversation_id, &clean).await?;
    }
    app.audit_by(
        actor,
        "conversation.change",
        &format!("conversation:{conversation_id}"),
        "",
    )
    .await;
    Ok(app.store.conversation(conversation_id).await?)
}

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
    let mut rows = Vec::with_capacity(list.len());
    let mut names = std::collections::HashMap::new();
    for c in list {
        if let std::collections::hash_map::Entry::Vacant(slot) = names.entry(c.customer_id) {
            let mut customer = app.store.customer(c.customer_id).await?;
            if !actor.sees_pii() {
                crate::privacy::mask_customer(&mut customer);
            }
            slot.insert(display_name(&customer));
        }
        let preview = match found_text.remove(&c.id) {
            Some(text) => Some(text),
            None => app
                .store
                .messages(c.id)
                .await?
                .into_iter()
                .rev()
                .find(|m| {
                    matches!(
                        m.direction,
                        MessageDirection::Incoming | MessageDirection::Outgoing
                    )
                })
                .map(|m| m.text),
        }
        .map(|t| t.chars().take(140).collect())
        .unwrap_or_default();
        rows.push(InboxRow {
            customer_name: names[&c.customer_id].clone(),
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

/// How the desk names a customer: their name, else their e-mail address.
pub fn display_name(c: &nunchi_store::model::Customer) -> Option<String> {
    c.row
        .name
        .clone()
        .or_else(|| c.identity("email").map(str::to_string))
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
    let mut list = Vec::new();
    for m in app.store.search_messages(text, SEARCH_MESSAGES).await? {
        if found_text.contains_key(&m.conversation_id) {
            continue;
        }
        let c = app.store.conversation(m.conversation_id).await?;
        let fits = filter.status.is_none_or(|s| s == c.status)
            && filter.team_id.is_none_or(|t| Some(t) == c.team_id)
            && filter.customer_id.is_none_or(|id| id == c.customer_id)
            && match filter.assignee {
                Some(AssigneeFilter::User(u)) => c.assignee_id == Some(u),
                Some(AssigneeFilter::Nobody) => c.assignee_id.is_none(),
                None => true,
            };
        found_text.insert(m.conversation_id, m.text);
        if fits {
            list.push(c);
            if list.len() as i64 >= filter.limit {
                break;
            }
        }
    }
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

/// A conversation's thread in order, for `actor`.
pub async fn thread(
    app: &App,
    actor: &Actor,
    conversation_id: i64,
) -> Result<(Conversation, Vec<ConversationMessage>)> {
    require(actor, Permission::InboxRead)?;
    let conversation = app.store.conversation(conversation_id).await?;
    let messages = app.store.messages(conversation_id).await?;
    Ok((conversation, messages))
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
