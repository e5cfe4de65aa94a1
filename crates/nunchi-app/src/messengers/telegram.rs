//! The Telegram Bot API: updates pushed to the webhook with the secret token given to
//! `setWebhook` in `X-Telegram-Bot-Api-Secret-Token`, messages from private chats and
//! groups, and replies through `sendMessage` to the chat.

use nunchi_core::identity::IdentityKind;
use nunchi_store::model::MessengerChannel;
use serde::Deserialize;

use super::{Adapter, Headers, Incoming, Outgoing, Reply, chunks};

/// Telegram's public API root.
const API: &str = "https://api.telegram.org";
/// A message holds at most 4,096 characters.
const TEXT_CHARS: usize = 4_096;
/// What a message without text carries, by the field Telegram names it with.
const MEDIA: [&str; 9] = [
    "photo",
    "sticker",
    "document",
    "voice",
    "video",
    "audio",
    "animation",
    "location",
    "contact",
];

pub(super) struct Telegram;

#[derive(Deserialize)]
struct Update {
    #[serde(default)]
    message: Option<Message>,
}

#[derive(Deserialize)]
struct Message {
    message_id: i64,
    #[serde(default)]
    from: Option<User>,
    chat: Chat,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    caption: Option<String>,
    #[serde(flatten)]
    rest: serde_json::Map<String, serde_json::Value>,
}

#[derive(Deserialize)]
struct User {
    id: i64,
    #[serde(default)]
    is_bot: bool,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: Option<String>,
    #[serde(default)]
    language_code: Option<String>,
}

#[derive(Deserialize)]
struct Chat {
    id: i64,
}

impl Adapter for Telegram {
    fn verify(&self, channel: &MessengerChannel, headers: &Headers<'_>, _: &[u8], _: i64) -> bool {
        headers
            .get("x-telegram-bot-api-secret-token")
            .is_some_and(|given| crate::secret::constant_time_eq(given, &channel.secret))
    }

    fn parse(&self, body: &[u8]) -> Result<Vec<Incoming>, String> {
        let update: Update = serde_json::from_slice(body).map_err(|e| e.to_string())?;
        // Edited messages, channel posts, callback queries and the rest are not a customer
        // writing to the desk.
        let Some(m) = update.message else {
            return Ok(vec![]);
        };
        let Some(from) = m.from.filter(|f| !f.is_bot) else {
            return Ok(vec![]);
        };
        let text = match m.text.or(m.caption) {
            Some(t) => t,
            None => match MEDIA.iter().find(|k| m.rest.contains_key(**k)) {
                Some(kind) => format!("[{kind}]"),
                None => return Ok(vec![]),
            },
        };
        // The largest size of a photo; a document, video, voice message or audio as sent.
        let media = match m.rest.get("photo").and_then(|p| p.as_array()) {
            Some(sizes) => sizes
                .iter()
                .max_by_key(|s| {
                    s["file_size"].as_i64().unwrap_or(0) + s["width"].as_i64().unwrap_or(0)
                })
                .and_then(|s| s["file_id"].as_str())
                .map(str::to_string),
            None => ["document", "video", "voice", "audio"]
                .iter()
                .find_map(|k| m.rest.get(*k)?.get("file_id")?.as_str())
                .map(str::to_string),
        };
        let name = match &from.last_name {
            Some(last) => format!("{} {last}", from.first_name),
            None => from.first_name.clone(),
        };
        Ok(vec![Incoming {
            // A message id is unique within its chat.
            id: format!("{}:{}", m.chat.id, m.message_id),
            sender: from.id.to_string(),
            recipient: m.chat.id.to_string(),
            name: Some(name).filter(|n| !n.trim().is_empty()),
            language: from.language_code,
            text,
            media,
        }])
    }

    fn identity(&self) -> IdentityKind {
        IdentityKind::Telegram
    }

    fn requests(
        &self,
        channel: &MessengerChannel,
        reply: &Reply,
        _: i64,
    ) -> anyhow::Result<Vec<Outgoing>> {
        let token = super::token(channel)?;
        let url = format!("{}/bot{token}/sendMessage", super::api_root(channel, API));
        let chat: serde_json::Value = match reply.recipient.parse::<i64>() {
            Ok(id) => id.into(),
            Err(_) => reply.recipient.clone().into(),
        };
        Ok(chunks(&reply.text, TEXT_CHARS)
            .into_iter()
            .map(|text| Outgoing {
                url: url.clone(),
                headers: vec![],
                body: serde_json::json!({ "chat_id": chat, "text": text }).to_string(),
            })
            .collect())
    }

    /// Photos go as photos (`sendPhoto`), anything else as a document (`sendDocument`).
    fn file_request(
        &self,
        channel: &MessengerChannel,
        reply: &Reply,
        content_type: &str,
    ) -> Option<anyhow::Result<super::FileUpload>> {
        let photo = matches!(
            content_type,
            "image/jpeg" | "image/png" | "image/gif" | "image/webp"
        );
        let (method, part) = if photo {
            ("sendPhoto", "photo")
        } else {
            ("sendDocument", "document")
        };
        Some(super::token(channel).map(|token| super::FileUpload {
            url: format!("{}/bot{token}/{method}", super::api_root(channel, API)),
            fields: vec![("chat_id".into(), reply.recipient.clone())],
            part,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_give_text_captions_and_media_and_skip_the_rest() {
        let text = r#"{"update_id": 10000, "message": {"date": 1441645532,
            "chat": {"last_name": "Kim", "id": 1111111, "type": "private", "first_name": "Minji"},
            "message_id": 1365,
            "from": {"last_name": "Kim", "id": 1111111, "is_bot": false, "first_name": "Minji",
                     "language_code": "ko"},
            "text": "환불은 언제 되나요?"}}"#
            .as_bytes();
        let got = Telegram.parse(text).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].id, "1111111:1365");
        assert_eq!(got[0].name.as_deref(), Some("Minji Kim"));
        assert_eq!(got[0].language.as_deref(), Some("ko"));
        assert_eq!(got[0].text, "환불은 언제 되나요?");

        let photo = br#"{"update_id": 10001, "message": {"message_id": 1366, "date": 1,
            "chat": {"id": -100200, "type": "group"},
            "from": {"id": 1111111, "is_bot": false, "first_name": "Minji"},
            "photo": [{"file_id": "a", "file_unique_id": "b", "width": 1, "height": 1}]}}"#;
        let got = Telegram.parse(photo).unwrap();
        assert_eq!(got[0].text, "[photo]");
        assert_eq!(got[0].recipient, "-100200");
        assert_eq!(got[0].media.as_deref(), Some("a"));
        assert_eq!(Telegram.parse(text).unwrap()[0].media, None);
        let sizes = br#"{"update_id": 10003, "message": {"message_id": 1367, "date": 1,
            "chat": {"id": 5, "type": "private"}, "from": {"id": 5, "is_bot": false, "first_name": "J"},
            "photo": [{"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90, "file_size": 900},
                      {"file_id": "large", "file_unique_id": "l", "width": 800, "height": 800, "file_size": 90000}],
            "caption": "box"}}"#;
        let got = Telegram.parse(sizes).unwrap();
        assert_eq!(
            (got[0].text.as_str(), got[0].media.as_deref()),
            ("box", Some("large"))
        );

        let edited = br#"{"update_id": 10002, "edited_message": {"message_id": 1365, "date": 1,
            "chat": {"id": 1111111, "type": "private"}, "text": "x"}}"#;
        assert!(Telegram.parse(edited).unwrap().is_empty());
        assert!(Telegram.parse(b"\"an update\"").is_err());
    }
}
