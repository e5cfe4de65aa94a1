//! Web chat: what a visitor writes from the widget becomes a chat conversation of the
//! customer their browser stands for (found or created by its visitor id, stitched to a
//! known customer later like their events), and each side of a live thread is sent what it
//! missed by sequence number. The sockets themselves are the server's; the rules are here.

use nunchi_core::{
    conversation::{ConversationChannel, MAX_MESSAGE_BYTES, MessageDirection, Priority},
    customer::{Language, ProfileFields},
    identity::Identity,
    import::CustomerRecord,
};
use nunchi_store::model::{Conversation, ConversationMessage, NewConversation, NewMessage};

use crate::{App, Error, Result, inbound_mail};

/// The most lines one catch-up sends; a client far behind gets the rest on the next read.
pub const CATCH_UP_LINES: i64 = 200;

/// A client's id for a message it sends: 1 to 64 letters, digits, `-` or `_`.
pub fn checked_client_id(id: Option<&str>) -> Result<Option<String>> {
    let Some(id) = id else { return Ok(None) };
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(Some(id.to_string()))
    } else {
        Err(Error::invalid(
            "invalid_client_id",
            "a message's client id is 1 to 64 letters, digits, '-' or '_'",
        ))
    }
}

/// The widget's visitor id (its `anonymous_id`): long enough that it cannot be guessed,
/// since whoever holds it may read that visitor's chat.
pub fn checked_visitor(visitor: &str) -> Result<Identity> {
    let ok = (16..=64).contains(&visitor.len())
        && visitor
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !ok {
        return Err(Error::invalid(
            "invalid_visitor",
            "a visitor id is 16 to 64 letters, digits, '-' or '_'",
        ));
    }
    Identity::parse("anonymous_id", visitor)
        .map_err(|e| Error::invalid("invalid_visitor", e.message))
}

fn checked_text(text: &str) -> Result<&str> {
    let text = text.trim();
    if text.is_empty() || text.len() > MAX_MESSAGE_BYTES {
        return Err(Error::invalid(
            "invalid_text",
            format!("write a message of 1 to {} KiB", MAX_MESSAGE_BYTES / 1024),
        ));
    }
    Ok(text)
}

/// The visitor's chat still in progress (not resolved), if they have one.
/// A file of the visitor's own chat — theirs or the desk's, never one on an internal note —
/// for the widget to show; any other is not found.
pub async fn visitor_attachment(
    app: &App,
    visitor: &Identity,
    id: i64,
) -> Result<(nunchi_store::model::Attachment, Vec<u8>)> {
    let missing = || Error::NotFound(format!("attachment {id}"));
    let a = app.store.attachment(id).await.map_err(|_| missing())?;
    let (Some(message_id), None) = (a.message_id, &a.rejected) else {
        return Err(missing());
    };
    let customer = app
        .store
        .find_by_identity(visitor)
        .await?
        .ok_or_else(missing)?;
    let conversation = app.store.conversation(a.conversation_id).await?;
    let line = app.store.message(message_id).await?;
    if conversation.customer_id != customer
        || conversation.channel != ConversationChannel::Chat
        || !matches!(
            line.direction,
            nunchi_core::conversation::MessageDirection::Incoming
                | nunchi_core::conversation::MessageDirection::Outgoing
        )
    {
        return Err(missing());
    }
    let bytes = crate::attachments::bytes_of(app, &a).await?;
    Ok((a, bytes))
}

pub async fn visitor_conversation(app: &App, visitor: &Identity) -> Result<Option<Conversation>> {
    let Some(customer_id) = app.store.find_by_identity(visitor).await? else {
        return Ok(None);
    };
    crate::conversations::open_one(app, customer_id, Some(ConversationChannel::Chat)).await
}

async fn customer_for_visitor(app: &App, visitor: &Identity, lang: Option<&str>) -> Result<i64> {
    let record = CustomerRecord {
        profile: ProfileFields {
            language: lang.and_then(|l| Language::parse(l).ok()),
            ..Default::default()
        },
        ..Default::default()
    };
    crate::customers::find_or_create(app, visitor, &record, std::slice::from_ref(visitor), "chat")
        .await
}

/// A visitor's message (its line names its conversation). The first opens a chat
/// conversation (and the visitor's customer record); the same client id sent again answers
/// the stored line and changes nothing.
/// `following` is the chat the visitor's socket already follows, which saves looking it up
/// while it is still in progress.
pub async fn visitor_send(
    app: &App,
    visitor: &Identity,
    following: Option<i64>,
    client_id: &str,
    text: &str,
    lang: Option<&str>,
) -> Result<ConversationMessage> {
    let text = checked_text(text)?;
    let client_id = checked_client_id(Some(client_id))?;
    let line = NewMessage {
        direction: MessageDirection::Incoming,
        channel: ConversationChannel::Chat,
        author_user_id: None,
        text: text.into(),
        external_id: None,
        subject: None,
        delivery: None,
        at: None,
        client_id,
    };
    let known = match following {
        Some(id) => Some(app.store.conversation(id).await?).filter(|c| c.status.is_open()),
        None => None,
    };
    let current = match known {
        Some(c) => Some(c),
        None => visitor_conversation(app, visitor).await?,
    };
    if let Some(conversation) = current {
        let added = crate::live::add_line(app, conversation.id, &line).await?;
        if added.seq > conversation.last_seq {
            crate::conversations::customer_wrote(app, &conversation, &added).await?;
        }
        return Ok(added);
    }
    let customer_id = customer_for_visitor(app, visitor, lang).await?;
    let (conversation, added) = crate::live::open(
        app,
        &NewConversation {
            customer_id,
            channel: ConversationChannel::Chat,
            subject: inbound_mail::clip(text.lines().next().unwrap_or(""), 80),
            priority: Priority::Normal,
            team_id: None,
        },
        &line,
    )
    .await?;
    crate::conversations::opened(app, &conversation).await?;
    Ok(added)
}

/// A file a visitor sends from the widget (a photo of what arrived broken): a line of its
/// own in their chat, `📎 name`, with the file kept on it — in the chat in progress, or a
/// new one. A file the desk does not keep is a clear error and nothing is stored; the same
/// client id sent again answers the stored line.
pub async fn visitor_file(
    app: &App,
    visitor: &Identity,
    client_id: &str,
    name: &str,
    bytes: &[u8],
    lang: Option<&str>,
) -> Result<ConversationMessage> {
    let client_id = checked_client_id(Some(client_id))?;
    crate::attachments::refuse_unkept(name, bytes)?;
    let shown = nunchi_core::attachment::safe_filename(name);
    let line = NewMessage {
        direction: MessageDirection::Incoming,
        channel: ConversationChannel::Chat,
        author_user_id: None,
        text: format!("📎 {shown}"),
        external_id: None,
        subject: None,
        delivery: None,
        at: None,
        client_id: client_id.clone(),
    };
    let current = visitor_conversation(app, visitor).await?;
    if let (Some(c), Some(id)) = (&current, &client_id)
        && let Some(sent) = app.store.message_by_client_id(c.id, id).await?
    {
        return Ok(sent);
    }
    let (conversation, added, new) = match current {
        Some(c) => {
            let added = crate::live::add_line_unsignalled(app, c.id, &line).await?;
            (c, added, false)
        }
        None => {
            let customer_id = customer_for_visitor(app, visitor, lang).await?;
            let (c, added) = app
                .store
                .create_conversation(
                    &NewConversation {
                        customer_id,
                        channel: ConversationChannel::Chat,
                        subject: inbound_mail::clip(&line.text, 80),
                        priority: Priority::Normal,
                        team_id: None,
                    },
                    &line,
                )
                .await?;
            (c, added, true)
        }
    };
    crate::attachments::keep_received(app, conversation.id, added.id, name, bytes).await?;
    crate::live::signal(app, &added);
    if new {
        crate::conversations::opened(app, &conversation).await?;
    } else {
        crate::conversations::customer_wrote(app, &conversation, &added).await?;
    }
    Ok(added)
}

/// Who reads a live thread: the customer sees the conversation (their lines, the replies
/// and what the desk sends by itself), staff see every line, notes and activity included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    Customer,
    Staff,
}

/// The lines after `after_seq` that `reader` may see, and the last number read (which moves
/// past lines the reader may not see, so they are not read again).
pub async fn missed(
    app: &App,
    conversation_id: i64,
    after_seq: i64,
    reader: Reader,
) -> Result<(Vec<ConversationMessage>, i64)> {
    let lines = app
        .store
        .messages_after(conversation_id, after_seq, CATCH_UP_LINES)
        .await?;
    let last = lines.last().map_or(after_seq, |l| l.seq);
    let visible = lines
        .into_iter()
        .filter(|l| {
            reader == Reader::Staff
                || matches!(
                    l.direction,
                    MessageDirection::Incoming
                        | MessageDirection::Outgoing
                        | MessageDirection::Automatic
                )
        })
        .collect();
    Ok((visible, last))
}
