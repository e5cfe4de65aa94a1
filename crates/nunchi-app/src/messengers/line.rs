//! The LINE Messaging API: webhook deliveries signed with the channel secret
//! (`x-line-signature`, base64 HMAC-SHA256 of the body), message events from users, groups
//! and rooms, and replies as push messages with a retry key, so a retried push is not sent
//! twice.

use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use nunchi_core::identity::IdentityKind;
use nunchi_store::model::MessengerChannel;
use serde::Deserialize;
use sha2::Sha256;

use super::{Adapter, Headers, Incoming, Outgoing, Reply, chunks};

/// LINE's public API root.
const API: &str = "https://api.line.me";
/// A text message holds at most 5,000 characters, and one push at most five messages.
const TEXT_CHARS: usize = 5_000;
const MESSAGES_PER_PUSH: usize = 5;

pub(super) struct Line;

#[derive(Deserialize)]
struct Delivery {
    #[serde(default)]
    events: Vec<Event>,
}

#[derive(Deserialize)]
struct Event {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    message: Option<Message>,
    #[serde(default)]
    source: Option<Source>,
}

#[derive(Deserialize)]
struct Message {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    text: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Source {
    #[serde(default)]
    user_id: Option<String>,
    #[serde(default)]
    group_id: Option<String>,
    #[serde(default)]
    room_id: Option<String>,
}

/// The signature LINE puts on a delivery of `body`.
pub(super) fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}

/// A retry key is a UUID; the same message and part always get the same one.
fn retry_key(channel: &MessengerChannel, message_id: i64, part: usize) -> String {
    let digest = crate::secret::hash(&format!("{}:{message_id}:{part}", channel.key));
    format!(
        "{}-{}-4{}-a{}-{}",
        &digest[0..8],
        &digest[8..12],
        &digest[13..16],
        &digest[17..20],
        &digest[20..32]
    )
}

impl Adapter for Line {
    fn verify(
        &self,
        channel: &MessengerChannel,
        headers: &Headers<'_>,
        body: &[u8],
        _: i64,
    ) -> bool {
        headers.get("x-line-signature").is_some_and(|given| {
            crate::secret::constant_time_eq(given, &signature(&channel.secret, body))
        })
    }

    fn parse(&self, body: &[u8]) -> Result<Vec<Incoming>, String> {
        let delivery: Delivery = serde_json::from_slice(body).map_err(|e| e.to_string())?;
        Ok(delivery
            .events
            .into_iter()
            .filter(|e| e.kind == "message")
            .filter_map(|e| {
                let message = e.message?;
                let source = e.source?;
                let sender = source.user_id.clone()?;
                let recipient = source.group_id.or(source.room_id).unwrap_or(sender.clone());
                let text = match message.text {
                    Some(t) if message.kind == "text" => t,
                    _ => format!("[{}]", message.kind),
                };
                // Photos, videos, voice and files are fetched by the message's id.
                let media = matches!(message.kind.as_str(), "image" | "video" | "audio" | "file")
                    .then(|| message.id.clone());
                Some(Incoming {
                    id: message.id,
                    sender,
                    recipient,
                    name: None,
                    language: None,
                    text,
                    media,
                })
            })
            .collect())
    }

    fn identity(&self) -> IdentityKind {
        IdentityKind::Line
    }

    fn requests(
        &self,
        channel: &MessengerChannel,
        reply: &Reply,
        _: i64,
    ) -> anyhow::Result<Vec<Outgoing>> {
        let token = super::token(channel)?;
        let url = format!("{}/v2/bot/message/push", super::api_root(channel, API));
        let texts = chunks(&reply.text, TEXT_CHARS);
        Ok(texts
            .chunks(MESSAGES_PER_PUSH)
            .enumerate()
            .map(|(part, texts)| Outgoing {
                url: url.clone(),
                headers: vec![
                    ("authorization".into(), format!("Bearer {token}")),
                    (
                        "x-line-retry-key".into(),
                        retry_key(channel, reply.message_id, part),
                    ),
                ],
                body: serde_json::json!({
                    "to": reply.recipient,
                    "messages": texts
                        .iter()
                        .map(|t| serde_json::json!({"type": "text", "text": t}))
                        .collect::<Vec<_>>(),
                })
                .to_string(),
            })
            .collect())
    }

    fn accepted(&self, status: u16) -> bool {
        // 409: a push with this retry key was already accepted.
        (200..300).contains(&status) || status == 409
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_sample_parses_and_non_text_messages_are_named() {
        // The shape of the sample in LINE's Messaging API reference (webhook event objects).
        let body = r#"{
          "destination": "xxxxxxxxxx",
          "events": [
            {"replyToken": "nHuyWiB7yP5Zw52FIkcQobQuGDXCTA", "type": "message", "mode": "active",
             "timestamp": 1462629479859,
             "source": {"type": "user", "userId": "U4af4980629"},
             "webhookEventId": "01FZ74A0TDDPYRVKNK77XKC3ZR",
             "deliveryContext": {"isRedelivery": false},
             "message": {"id": "444573844083572737", "type": "text", "quoteToken": "q3Plxr4AgKd",
                         "text": "배송이 아직 안 왔어요"}},
            {"type": "message", "timestamp": 1462629479860,
             "source": {"type": "group", "groupId": "Ca56f94637c", "userId": "U4af4980630"},
             "message": {"id": "444573844083572738", "type": "sticker", "packageId": "1", "stickerId": "1"}},
            {"type": "follow", "timestamp": 1462629479861,
             "source": {"type": "user", "userId": "U4af4980631"}}
          ]
        }"#.as_bytes();
        let got = Line.parse(body).unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].text, "배송이 아직 안 왔어요");
        assert_eq!(
            (got[0].sender.as_str(), got[0].recipient.as_str()),
            ("U4af4980629", "U4af4980629")
        );
        assert_eq!(got[1].text, "[sticker]");
        assert_eq!(got[1].media, None, "a sticker is not fetched");
        assert_eq!(got[0].media, None);
        assert_eq!(
            got[1].recipient, "Ca56f94637c",
            "a group's replies go to the group"
        );
        assert!(Line.parse(b"{\"events\": 3}").is_err());
    }

    #[test]
    fn retry_keys_are_uuids_stable_per_message_and_part() {
        let channel = MessengerChannel {
            id: 1,
            key: "line".into(),
            kind: nunchi_core::conversation::MessengerKind::Line,
            name: "LINE".into(),
            secret: "s".into(),
            access_token: Some("t".into()),
            api_base: None,
            created_at: 0,
        };
        let a = retry_key(&channel, 7, 0);
        assert_eq!(a, retry_key(&channel, 7, 0));
        assert_ne!(a, retry_key(&channel, 7, 1));
        assert_ne!(a, retry_key(&channel, 8, 0));
        let groups: Vec<usize> = a.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12], "{a}");
        assert!(a.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
    }
}
