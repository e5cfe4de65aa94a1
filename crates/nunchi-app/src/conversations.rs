//! The support desk's operations: mail taken in and threaded into conversations, agents'
//! replies (sent by e-mail as a background job) and notes, status, priority and assignment
//! changes recorded as activity lines, and a thread as a caller may see it (the inbox and
//! the customer panel are in `inbox`).

use nunchi_core::identity::IdentityKind;
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
use nunchi_store::model::{
    Conversation, ConversationMessage, ConversationState, NewConversation, NewMessage,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    App, Error, Result,
    actor::Actor,
    inbound_mail::{self, InboundMail},
    mail::{MailAttachment, MailThread, OutgoingMail},
};

/// What taking in one e-mail gave: the same three ids however often it is sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Intake {
    pub conversation_id: i64,
    pub message_id: i64,
    pub customer_id: i64,
}

pub(crate) fn require(actor: &Actor, p: Permission) -> Result<()> {
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
    Ok(take_in_new_email(app, actor, raw).await?.0)
}

/// `take_in_email`, also saying whether the message was new (not stored before).
pub async fn take_in_new_email(app: &App, actor: &Actor, raw: &[u8]) -> Result<(Intake, bool)> {
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
    let email = ConversationChannel::Email;
    if let Some(done) = already_taken(app, email, &mail.message_id).await? {
        return Ok((done, false));
    }
    match store_mail(app, &mail).await {
        // The same message arrived twice at once: the other request stored it.
        Err(Error::Conflict(_)) => already_taken(app, email, &mail.message_id)
            .await?
            .map(|done| (done, false))
            .ok_or_else(|| Error::Conflict("the message was stored and then vanished".into())),
        other => other.map(|done| (done, true)),
    }
}

/// The ids a message stored under the channel's own id for it answers, if it is stored.
pub(crate) async fn already_taken(
    app: &App,
    channel: ConversationChannel,
    external_id: &str,
) -> Result<Option<Intake>> {
    let found = app
        .store
        .messages_by_external_id(channel.as_str(), &[external_id.to_string()])
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
        client_id: None,
    };
    let candidates = thread_candidates(&mail.in_reply_to, &mail.references);
    let known = app
        .store
        .messages_by_external_id(ConversationChannel::Email.as_str(), &candidates)
        .await?;
    let parent = candidates.iter().find_map(|id| {
        known
            .iter()
            .find(|m| m.external_id.as_deref() == Some(id))
            .map(|m| m.conversation_id)
    });
    // No stored parent: a stored e-mail that names this one (its reply came first) or names
    // one of the same ids (a reply to the same missing message) holds the thread.
    let thread = match parent {
        Some(id) => Some(id),
        None => {
            let mut named = candidates.clone();
            named.push(mail.message_id.clone());
            app.store.conversation_naming(&named).await?
        }
    };
    if let Some(conversation_id) = thread {
        let conversation = app.store.conversation(conversation_id).await?;
        let added = crate::live::add_line_unsignalled(app, conversation.id, &line).await?;
        app.store.add_mail_references(added.id, &candidates).await?;
        keep_files(app, conversation.id, added.id, mail).await?;
        crate::live::signal(app, &added);
        customer_wrote(app, &conversation, &added).await?;
        return Ok(Intake {
            conversation_id: conversation.id,
            message_id: added.id,
            customer_id: conversation.customer_id,
        });
    }
    let customer_id = customer_for_email(app, &mail.from, mail.from_name.as_deref()).await?;
    let subject = base_subject(&mail.subject);
    let subject = subject.as_str();
    let (conversation, added) = crate::live::open(
        app,
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
    app.store.add_mail_references(added.id, &candidates).await?;
    keep_files(app, conversation.id, added.id, mail).await?;
    opened(app, &conversation).await?;
    Ok(Intake {
        conversation_id: conversation.id,
        message_id: added.id,
        customer_id,
    })
}

/// Keeps the files a stored e-mail carried with its line.
async fn keep_files(
    app: &App,
    conversation_id: i64,
    message_id: i64,
    mail: &InboundMail,
) -> Result<()> {
    for f in &mail.files {
        crate::attachments::keep_received(app, conversation_id, message_id, &f.name, &f.bytes)
            .await?;
    }
    Ok(())
}

/// What a customer's new line in an existing conversation sets going: the reply clocks and
/// the conversation back in the team's open work.
pub(crate) async fn customer_wrote(
    app: &App,
    conversation: &Conversation,
    line: &ConversationMessage,
) -> Result<()> {
    crate::sla::track(
        app,
        conversation,
        SlaEvent::Incoming {
            at: line.created_at,
            replied_before: conversation.first_reply_at.is_some(),
        },
    )
    .await?;
    reopen_on_reply(app, conversation).await
}

/// What opening a conversation sets going: its SLA clocks and its assignment.
pub(crate) async fn opened(app: &App, conversation: &Conversation) -> Result<()> {
    app.touched([conversation.customer_id]);
    crate::sla::track(
        app,
        conversation,
        SlaEvent::Opened {
            at: conversation.created_at,
        },
    )
    .await?;
    crate::assignment::auto_assign(app, conversation).await?;
    Ok(())
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
    app.touched([after.customer_id]);
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
    crate::live::activity(app, c.id, c.channel, None, "reopened").await
}

/// The customer an address belongs to, created on first sight.
pub async fn customer_for_email(app: &App, email: &Email, name: Option<&str>) -> Result<i64> {
    let record = CustomerRecord {
        profile: ProfileFields {
            name: name.and_then(|n| CustomerName::parse(n).ok()),
            ..Default::default()
        },
        email: Some(email.clone()),
        ..Default::default()
    };
    crate::customers::find_or_create(app, &Identity::email(email), &record, &[], "email").await
}

/// The customer's conversation still in progress (not resolved), on `channel` if given:
/// what a new call or chat message joins.
pub(crate) async fn open_one(
    app: &App,
    customer_id: i64,
    channel: Option<ConversationChannel>,
) -> Result<Option<Conversation>> {
    Ok(app
        .store
        .conversations(&nunchi_store::model::ConversationFilter {
            customer_id: Some(customer_id),
            limit: 20,
            ..Default::default()
        })
        .await?
        .into_iter()
        .find(|c| c.status.is_open() && channel.is_none_or(|ch| c.channel == ch)))
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

/// An agent's reply or note.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct MessageInput {
    pub text: String,
    /// A note only staff see, instead of a reply to the customer.
    #[serde(default)]
    pub note: bool,
    /// The sending client's id for the message (a live chat's composer): sending it again
    /// answers the stored line and changes nothing.
    #[serde(default)]
    pub client_id: Option<String>,
    /// Uploads of this conversation (`POST …/attachments`) the message carries.
    #[serde(default)]
    pub attachment_ids: Vec<i64>,
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
    let client_id = crate::chat::checked_client_id(input.client_id.as_deref())?;
    if let Some(id) = &client_id
        && let Some(sent) = app.store.message_by_client_id(conversation_id, id).await?
    {
        return Ok(sent);
    }
    let conversation = app.store.conversation(conversation_id).await?;
    crate::attachments::check_uploads(app, conversation_id, &input.attachment_ids).await?;
    if input.note {
        let note = crate::live::add_line_unsignalled(
            app,
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
                client_id: client_id.clone(),
            },
        )
        .await?;
        crate::attachments::bind(app, conversation_id, note.id, &input.attachment_ids).await?;
        crate::live::signal(app, &note);
        notify_mentions(app, actor, &conversation, text).await?;
        return Ok(note);
    }
    let by_email = conversation.channel == ConversationChannel::Email;
    let by_messenger = conversation.channel == ConversationChannel::Messenger;
    let message_id = by_email.then(|| {
        format!(
            "nunchi.{}.{}@{}",
            conversation_id,
            crate::secret::random_token(),
            app.mailer.domain()
        )
    });
    let reply = crate::live::add_line_unsignalled(
        app,
        conversation_id,
        &NewMessage {
            direction: MessageDirection::Outgoing,
            channel: conversation.channel,
            author_user_id: Some(actor.user_id).filter(|id| *id > 0),
            text: text.into(),
            external_id: message_id,
            subject: by_email.then(|| reply_subject(&conversation.subject)),
            delivery: (by_email || by_messenger).then(|| "queued".to_string()),
            at: None,
            client_id,
        },
    )
    .await?;
    crate::attachments::bind(app, conversation_id, reply.id, &input.attachment_ids).await?;
    crate::live::signal(app, &reply);
    if by_email {
        crate::jobs::enqueue(
            app,
            &ReplyJob {
                message_id: reply.id,
            },
        )
        .await?;
    }
    if by_messenger {
        crate::messengers::queue_delivery(app, &reply).await?;
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
        app.touched([after.customer_id]);
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

/// E-mails each colleague a note @mentions (by e-mail name or by name without spaces),
/// in their own language, with the link to the thread.
async fn notify_mentions(app: &App, actor: &Actor, c: &Conversation, note: &str) -> Result<()> {
    let wanted = nunchi_core::conversation::mentions(note);
    if wanted.is_empty() {
        return Ok(());
    }
    for user in app.store.users().await? {
        let local = user.email.split('@').next().unwrap_or("").to_lowercase();
        let squashed: String = user
            .name
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_lowercase();
        let named = wanted.iter().any(|w| *w == local || *w == squashed);
        if !named
            || user.disabled
            || user.id == actor.user_id
            || !user.role.has(Permission::InboxRead)
        {
            continue;
        }
        let link = format!(
            "{}/inbox/{}",
            app.config.public_url.trim_end_matches('/'),
            c.id
        );
        let (subject, text) = if user.locale == "ko" {
            (
                format!(
                    "{}님이 상담 #{}에서 회원님을 언급했습니다",
                    actor.name, c.id
                ),
                format!("{note}\n\n{link}"),
            )
        } else {
            (
                format!("{} mentioned you in conversation #{}", actor.name, c.id),
                format!("{note}\n\n{link}"),
            )
        };
        crate::jobs::enqueue(
            app,
            &crate::mail::EmailJob {
                to: user.email,
                subject,
                text,
            },
        )
        .await?;
    }
    Ok(())
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
        let Some(to) = customer.identity(IdentityKind::Email).map(str::to_string) else {
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
        let mut files = Vec::new();
        for a in app.store.message_attachments(&[reply.id]).await? {
            let bytes = crate::attachments::bytes_of(app, &a).await?;
            files.push(MailAttachment {
                filename: a.filename,
                content_type: a.content_type,
                bytes,
            });
        }
        let signatures = crate::reply_mail::signature(app).await?;
        let signature = signatures.for_language(customer.row.language.as_deref());
        let text = crate::reply_mail::text_body(&reply.text, signature);
        let html = crate::reply_mail::html_body(&reply.text, signature);
        let sent = app
            .mailer
            .send_mail(&OutgoingMail {
                to: &to,
                subject: reply.subject.as_deref().unwrap_or("Re:"),
                text: &text,
                html: Some(&html),
                files: &files,
                thread: reply.external_id.clone().map(|message_id| MailThread {
                    message_id,
                    references,
                }),
                unsubscribe: None,
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
    app.touched([after.customer_id]);
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
        crate::live::activity(app, conversation_id, after.channel, by, &what).await?;
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
    if before.status != after.status && after.status == ConversationStatus::Resolved {
        crate::csat::ask(app, &after).await?;
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
