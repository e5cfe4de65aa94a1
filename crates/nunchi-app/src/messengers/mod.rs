//! Messenger channels: LINE, Telegram and nunchi's own signed contract, each an `Adapter`
//! (check a delivery's signature, read its messages, build the requests that send a reply)
//! so Kakao and others plug in the same way. A delivery's messages become conversations of
//! the customers they come from, found or created by their messenger id; agents' replies
//! and the CSAT question go back through the provider as jobs, with their delivery shown
//! on the message.

mod generic;
mod line;
mod media;
mod telegram;

pub use media::MediaJob;

use nunchi_core::{
    access::Permission,
    conversation::{
        ConversationChannel, MAX_MESSAGE_BYTES, MessageDirection, MessengerKind, Priority,
    },
    customer::{CustomerName, Language, ProfileFields},
    identity::{Identity, IdentityKind},
    import::CustomerRecord,
};
use nunchi_store::{
    StoreError,
    model::{
        ConversationMessage, MessengerChannel, NewConversation, NewMessage, NewMessengerChannel,
    },
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    App, Error, Result,
    actor::Actor,
    conversations::{Intake, already_taken},
    inbound_mail,
};

/// One customer message a delivery carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// The provider's id of the message, unique within the channel.
    pub id: String,
    /// Who wrote it.
    pub sender: String,
    /// Where replies go: the sender, or the group they wrote in.
    pub recipient: String,
    pub name: Option<String>,
    pub language: Option<String>,
    pub text: String,
    /// The provider's handle of a photo or file the message carried, fetched afterwards.
    pub media: Option<String>,
}

/// A reply to send.
#[derive(Debug, Clone)]
pub struct Reply {
    pub conversation_id: i64,
    pub message_id: i64,
    pub recipient: String,
    pub text: String,
}

/// One HTTP request to the provider (always a JSON POST).
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// A delivery's headers, looked up without regard to case.
pub struct Headers<'a>(pub &'a [(String, String)]);

impl Headers<'_> {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What a messenger needs from nunchi.
pub(crate) trait Adapter: Sync {
    /// Whether a delivery carries the provider's signature for this channel.
    fn verify(
        &self,
        channel: &MessengerChannel,
        headers: &Headers<'_>,
        body: &[u8],
        now_ms: i64,
    ) -> bool;
    /// The customer messages in a delivery (none for events that are not one).
    fn parse(&self, body: &[u8]) -> std::result::Result<Vec<Incoming>, String>;
    /// The kind of identity a sender's id is.
    fn identity(&self) -> IdentityKind;
    /// The identity's value for a sender.
    fn identity_value(&self, _channel: &MessengerChannel, m: &Incoming) -> String {
        m.sender.clone()
    }
    /// The requests that send a reply, in order.
    fn requests(
        &self,
        channel: &MessengerChannel,
        reply: &Reply,
        now_ms: i64,
    ) -> anyhow::Result<Vec<Outgoing>>;
    /// Whether the provider's status code means the request was taken.
    fn accepted(&self, status: u16) -> bool {
        (200..300).contains(&status)
    }
    /// How a file sent with a reply goes out, for providers that take uploads (none for
    /// the others, whose replies carry the text alone).
    fn file_request(
        &self,
        _channel: &MessengerChannel,
        _reply: &Reply,
        _content_type: &str,
    ) -> Option<anyhow::Result<FileUpload>> {
        None
    }
}

/// A file sent as a multipart upload: the form's text fields, then the file under `part`.
#[derive(Debug, Clone)]
pub struct FileUpload {
    pub url: String,
    pub fields: Vec<(String, String)>,
    pub part: &'static str,
}

fn adapter(kind: MessengerKind) -> &'static dyn Adapter {
    match kind {
        MessengerKind::Generic => &generic::Generic,
        MessengerKind::Line => &line::Line,
        MessengerKind::Telegram => &telegram::Telegram,
    }
}

/// The token a provider's API needs for this channel (LINE's access token, Telegram's bot
/// token); a clear error when the channel was made without one.
pub(crate) fn token(channel: &MessengerChannel) -> anyhow::Result<&str> {
    channel.access_token.as_deref().ok_or_else(|| {
        anyhow::anyhow!(
            "the {} channel has no access token: connect it again with the provider's token",
            channel.kind
        )
    })
}

/// The provider's API root for this channel: the one it was given, or `public`.
pub(crate) fn api_root<'a>(channel: &'a MessengerChannel, public: &'a str) -> &'a str {
    channel
        .api_base
        .as_deref()
        .unwrap_or(public)
        .trim_end_matches('/')
}

/// `text` in pieces of at most `max` characters, as a provider's message limit wants.
pub(crate) fn chunks(text: &str, max: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(max).map(|c| c.iter().collect()).collect()
}

/// A messenger channel as an admin describes it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ChannelInput {
    /// 1–40 lower-case letters, digits, `-` or `_`: the channel's name in its webhook URL.
    pub key: String,
    /// generic, line or telegram.
    pub kind: String,
    pub name: String,
    /// LINE: the channel secret (required). Telegram: the secret token given to
    /// `setWebhook`; generic: the `whsec_` signing key — made when absent.
    #[serde(default)]
    pub secret: Option<String>,
    /// LINE: the channel access token; Telegram: the bot token (both required).
    #[serde(default)]
    pub access_token: Option<String>,
    /// LINE and Telegram: the API root, when not the provider's public one. Generic: the
    /// URL replies are posted to (required).
    #[serde(default)]
    pub api_base: Option<String>,
}

/// A channel just made: its secret is shown this once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedChannel {
    #[serde(flatten)]
    pub channel: MessengerChannel,
    pub secret: String,
    /// Where the provider delivers: give it to LINE's console or Telegram's `setWebhook`.
    pub webhook_url: String,
}

fn filled(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The URL a provider delivers a channel's messages to.
pub fn webhook_url(app: &App, key: &str) -> String {
    format!(
        "{}/hooks/messenger/{key}",
        app.config.public_url.trim_end_matches('/')
    )
}

pub async fn create_channel(
    app: &App,
    actor: &Actor,
    input: &ChannelInput,
) -> Result<CreatedChannel> {
    if !actor.can(Permission::InboxManage) {
        return Err(Error::Forbidden);
    }
    let key = input.key.trim().to_string();
    let key_ok = (1..=40).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !key_ok {
        return Err(Error::invalid(
            "invalid_key",
            "a channel key is 1 to 40 lower-case letters, digits, '-' or '_'",
        ));
    }
    let kind = MessengerKind::parse(&input.kind)?;
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::invalid(
            "invalid_name",
            "name the channel (1 to 100 characters)",
        ));
    }
    let access_token = filled(&input.access_token);
    let api_base = filled(&input.api_base)
        .map(|u| crate::webhooks::checked_url(&u))
        .transpose()?;
    let secret = match (kind, filled(&input.secret)) {
        (_, Some(s)) if s.len() > 256 => {
            return Err(Error::invalid(
                "invalid_secret",
                "a secret is at most 256 characters",
            ));
        }
        (MessengerKind::Generic, Some(s)) if !s.starts_with("whsec_") => {
            return Err(Error::invalid(
                "invalid_secret",
                "a signing secret starts with whsec_ (leave it empty and one is made)",
            ));
        }
        (MessengerKind::Line, None) => {
            return Err(Error::invalid(
                "invalid_secret",
                "give the LINE channel secret (LINE Developers console, Basic settings)",
            ));
        }
        (_, Some(s)) => s,
        (MessengerKind::Generic, None) => crate::webhooks::new_secret(),
        // Telegram allows A–Z, a–z, 0–9, '_' and '-': the URL-safe alphabet.
        (MessengerKind::Telegram, None) => crate::secret::random_token(),
    };
    if kind != MessengerKind::Generic && access_token.is_none() {
        return Err(Error::invalid(
            "invalid_access_token",
            match kind {
                MessengerKind::Line => "give the LINE channel access token",
                _ => "give the Telegram bot token (from @BotFather)",
            },
        ));
    }
    if kind == MessengerKind::Generic && api_base.is_none() {
        return Err(Error::invalid(
            "invalid_url",
            "give the URL nunchi posts replies to",
        ));
    }
    let channel = app
        .store
        .create_messenger_channel(&NewMessengerChannel {
            key: key.clone(),
            kind,
            name: name.to_string(),
            secret: secret.clone(),
            access_token,
            api_base,
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => {
                Error::Conflict(format!("a channel is already called {key}"))
            }
            e => e.into(),
        })?;
    app.audit_by(
        actor,
        "messenger.create",
        &format!("messenger:{}", channel.id),
        &key,
    )
    .await;
    Ok(CreatedChannel {
        webhook_url: webhook_url(app, &key),
        channel,
        secret,
    })
}

pub async fn channels(app: &App, actor: &Actor) -> Result<Vec<MessengerChannel>> {
    if !actor.can(Permission::InboxRead) {
        return Err(Error::Forbidden);
    }
    Ok(app.store.messenger_channels().await?)
}

pub async fn delete_channel(app: &App, actor: &Actor, id: i64) -> Result<()> {
    if !actor.can(Permission::InboxManage) {
        return Err(Error::Forbidden);
    }
    app.store.delete_messenger_channel(id).await?;
    app.audit_by(actor, "messenger.delete", &format!("messenger:{id}"), "")
        .await;
    Ok(())
}

/// Takes in one delivery to channel `key`: checks its signature, then stores each message
/// in its sender's open conversation on the channel (or a new one). A message already
/// stored answers the ids it was stored under, so a provider's redelivery adds nothing.
pub async fn receive(
    app: &App,
    key: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<Vec<Intake>> {
    let channel = app.store.messenger_channel(key).await?;
    let messenger = adapter(channel.kind);
    if !messenger.verify(&channel, &Headers(headers), body, app.now()) {
        tracing::warn!(
            channel = key,
            "a messenger delivery's signature did not match"
        );
        return Err(Error::Unauthorized(format!(
            "the delivery is not signed with channel {key}'s secret"
        )));
    }
    let messages = messenger.parse(body).map_err(|why| {
        Error::invalid(
            "invalid_payload",
            format!("{} payload: {why}", channel.kind),
        )
    })?;
    let mut taken = Vec::with_capacity(messages.len());
    for m in messages {
        if m.text.trim().is_empty() {
            continue;
        }
        taken.push(take_in(app, &channel, messenger, &m).await?);
    }
    Ok(taken)
}

async fn take_in(
    app: &App,
    channel: &MessengerChannel,
    messenger: &dyn Adapter,
    m: &Incoming,
) -> Result<Intake> {
    let external_id = format!("{}:{}", channel.key, m.id);
    let messenger_channel = ConversationChannel::Messenger;
    if let Some(done) = already_taken(app, messenger_channel, &external_id).await? {
        // A delivery that failed half-way is redelivered: finish its link.
        app.store
            .link_messenger_thread(done.conversation_id, channel.id, &m.recipient)
            .await?;
        return Ok(done);
    }
    match store_message(app, channel, messenger, m, &external_id).await {
        Err(Error::Conflict(_)) => already_taken(app, messenger_channel, &external_id)
            .await?
            .ok_or_else(|| Error::Conflict("the message was stored and then vanished".into())),
        other => other,
    }
}

async fn store_message(
    app: &App,
    channel: &MessengerChannel,
    messenger: &dyn Adapter,
    m: &Incoming,
    external_id: &str,
) -> Result<Intake> {
    let text = inbound_mail::clip(m.text.trim(), MAX_MESSAGE_BYTES / 4);
    let line = NewMessage {
        direction: MessageDirection::Incoming,
        channel: ConversationChannel::Messenger,
        author_user_id: None,
        text: text.clone(),
        external_id: Some(external_id.to_string()),
        subject: None,
        delivery: None,
        at: None,
        client_id: None,
    };
    if let Some(id) = app
        .store
        .open_messenger_conversation(channel.id, &m.recipient)
        .await?
    {
        let conversation = app.store.conversation(id).await?;
        app.touched([conversation.customer_id]);
        let added = crate::live::add_line(app, id, &line).await?;
        fetch_media(app, channel, m, added.id).await?;
        crate::conversations::customer_wrote(app, &conversation, &added).await?;
        return Ok(Intake {
            conversation_id: id,
            message_id: added.id,
            customer_id: conversation.customer_id,
        });
    }
    let identity = Identity::new(messenger.identity(), &messenger.identity_value(channel, m))
        .map_err(|e| Error::invalid("invalid_sender", e.message))?;
    let record = CustomerRecord {
        profile: ProfileFields {
            name: m.name.as_deref().and_then(|n| CustomerName::parse(n).ok()),
            language: m.language.as_deref().and_then(|l| Language::parse(l).ok()),
            ..Default::default()
        },
        ..Default::default()
    };
    let customer_id = crate::customers::find_or_create(
        app,
        &identity,
        &record,
        std::slice::from_ref(&identity),
        channel.kind.as_str(),
    )
    .await?;
    let (conversation, added) = crate::live::open(
        app,
        &NewConversation {
            customer_id,
            channel: ConversationChannel::Messenger,
            subject: inbound_mail::clip(
                &format!("{} · {}", channel.name, text.lines().next().unwrap_or("")),
                80,
            ),
            priority: Priority::Normal,
            team_id: None,
        },
        &line,
    )
    .await?;
    app.store
        .link_messenger_thread(conversation.id, channel.id, &m.recipient)
        .await?;
    fetch_media(app, channel, m, added.id).await?;
    crate::conversations::opened(app, &conversation).await?;
    Ok(Intake {
        conversation_id: conversation.id,
        message_id: added.id,
        customer_id,
    })
}

/// Queues the fetching of a photo or file the message carried (the provider answers the
/// delivery's webhook first; the file follows).
async fn fetch_media(app: &App, channel: &MessengerChannel, m: &Incoming, line: i64) -> Result<()> {
    if let Some(media) = &m.media {
        crate::jobs::enqueue(
            app,
            &MediaJob {
                channel_id: channel.id,
                message_id: line,
                media: media.clone(),
            },
        )
        .await?;
    }
    Ok(())
}

/// Queues the sending of an outgoing or automatic line of a messenger conversation.
pub(crate) async fn queue_delivery(app: &App, line: &ConversationMessage) -> Result<()> {
    crate::jobs::enqueue(
        app,
        &ReplyJob {
            message_id: line.id,
        },
    )
    .await?;
    Ok(())
}

/// Sends one line to the customer through the conversation's messenger.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReplyJob {
    pub message_id: i64,
}

impl crate::jobs::Job for ReplyJob {
    const KIND: &'static str = "messenger_reply";
    const MAX_ATTEMPTS: i64 = 5;

    async fn run(self, app: &App) -> anyhow::Result<String> {
        let line = app.store.message(self.message_id).await?;
        let fail = async |why: &str| -> anyhow::Result<String> {
            app.store.set_delivery(line.id, "failed", Some(why)).await?;
            Ok(serde_json::json!({ "skipped": why }).to_string())
        };
        let Some(thread) = app.store.messenger_thread(line.conversation_id).await? else {
            return fail("the conversation has no messenger to answer through").await;
        };
        let channel = match app.store.messenger_channel_by_id(thread.channel_id).await {
            Ok(c) => c,
            Err(StoreError::NotFound(_)) => return fail("the messenger channel was removed").await,
            Err(e) => return Err(e.into()),
        };
        let messenger = adapter(channel.kind);
        let reply = Reply {
            conversation_id: line.conversation_id,
            message_id: line.id,
            recipient: thread.recipient,
            text: line.text.clone(),
        };
        // A channel that cannot send (no token, no reply URL) will not send on a retry.
        let requests = match messenger.requests(&channel, &reply, app.now()) {
            Ok(r) => r,
            Err(why) => return fail(&why.to_string()).await,
        };
        let sent = async {
            for request in requests {
                let mut post = app
                    .http
                    .post(&request.url)
                    .header("content-type", "application/json")
                    .body(request.body);
                for (k, v) in &request.headers {
                    post = post.header(k, v);
                }
                let answer = post.send().await?;
                let status = answer.status().as_u16();
                if !messenger.accepted(status) {
                    let said = answer.text().await.unwrap_or_default();
                    anyhow::bail!(
                        "{} answered {status}: {}",
                        channel.kind,
                        inbound_mail::clip(&said, 300)
                    );
                }
            }
            anyhow::Ok(())
        }
        .await;
        let sent = match sent {
            Ok(()) => send_files(app, &channel, messenger, &reply).await,
            Err(e) => Err(e),
        };
        match sent {
            Ok(()) => {
                app.store.set_delivery(line.id, "sent", None).await?;
                Ok(serde_json::json!({ "sent_via": channel.key }).to_string())
            }
            Err(e) => {
                // Shown on the message at once; the runner retries, and a later success
                // marks it sent.
                app.store
                    .set_delivery(line.id, "failed", Some(&e.to_string()))
                    .await?;
                Err(e)
            }
        }
    }
}

/// Uploads the files sent with a reply, where the provider takes uploads.
async fn send_files(
    app: &App,
    channel: &MessengerChannel,
    messenger: &dyn Adapter,
    reply: &Reply,
) -> anyhow::Result<()> {
    let files = crate::attachments::of_messages(app, &[reply.message_id])
        .await?
        .remove(&reply.message_id)
        .unwrap_or_default();
    for f in files.iter().filter(|f| f.rejected.is_none()) {
        let Some(upload) = messenger.file_request(channel, reply, &f.content_type) else {
            continue;
        };
        let upload = upload?;
        let bytes = crate::attachments::bytes_of(app, f).await?;
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(f.filename.clone())
            .mime_str(&f.content_type)?;
        let mut form = reqwest::multipart::Form::new();
        for (k, v) in upload.fields {
            form = form.text(k, v);
        }
        let answer = app
            .http
            .post(&upload.url)
            .multipart(form.part(upload.part, part))
            .send()
            .await?;
        let status = answer.status().as_u16();
        if !messenger.accepted(status) {
            let said = answer.text().await.unwrap_or_default();
            anyhow::bail!(
                "{} refused the file {}: {status} {}",
                channel.kind,
                f.filename,
                inbound_mail::clip(&said, 300)
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_cut_on_characters_not_bytes() {
        let parts = chunks(&"환".repeat(10), 4);
        assert_eq!(parts, ["환환환환", "환환환환", "환환"]);
        assert_eq!(chunks("", 4), Vec::<String>::new());
    }
}
