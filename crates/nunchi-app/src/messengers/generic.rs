//! nunchi's own messenger contract, for any provider without an adapter (Kakao 상담톡
//! relays, in-house apps): deliveries in and replies out are JSON signed as Standard
//! Webhooks say (`webhook-id`, `webhook-timestamp`, `webhook-signature`), with the channel's
//! `whsec_` secret, the scheme nunchi's outbound webhooks already use.
//!
//! In: `{"id": "m-1", "sender": {"id": "u-1", "name": "…", "language": "ko"}, "text": "…"}`.
//! Out: `{"type": "message.reply", "timestamp": …, "data": {"channel", "conversation_id",
//! "message_id", "recipient", "text"}}`, its `webhook-id` stable across retries.

use nunchi_core::identity::IdentityKind;
use nunchi_store::model::MessengerChannel;
use serde::Deserialize;

use super::{Adapter, Headers, Incoming, Outgoing, Reply};
use crate::webhooks;

/// How far a delivery's timestamp may be from now, as Standard Webhooks advises.
const TOLERANCE_SECS: i64 = 300;

pub(super) struct Generic;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Delivery {
    id: String,
    sender: Sender,
    text: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Sender {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    language: Option<String>,
}

impl Adapter for Generic {
    fn verify(
        &self,
        channel: &MessengerChannel,
        headers: &Headers<'_>,
        body: &[u8],
        now_ms: i64,
    ) -> bool {
        let (Some(id), Some(stamp), Some(given), Ok(body)) = (
            headers.get("webhook-id"),
            headers.get("webhook-timestamp"),
            headers.get("webhook-signature"),
            std::str::from_utf8(body),
        ) else {
            return false;
        };
        let Ok(stamp) = stamp.parse::<i64>() else {
            return false;
        };
        if (now_ms / 1000 - stamp).abs() > TOLERANCE_SECS {
            return false;
        }
        let Ok(expected) = webhooks::sign(&channel.secret, id, stamp, body) else {
            return false;
        };
        // Several signatures may be given while a secret is being rotated.
        given
            .split_whitespace()
            .any(|s| crate::secret::constant_time_eq(s, &expected))
    }

    fn parse(&self, body: &[u8]) -> Result<Vec<Incoming>, String> {
        let d: Delivery = serde_json::from_slice(body).map_err(|e| e.to_string())?;
        if d.id.trim().is_empty() || d.sender.id.trim().is_empty() {
            return Err("a message needs an id and a sender id".into());
        }
        Ok(vec![Incoming {
            id: d.id,
            recipient: d.sender.id.clone(),
            sender: d.sender.id,
            name: d.sender.name,
            language: d.sender.language,
            text: d.text,
            media: None,
        }])
    }

    fn identity(&self) -> IdentityKind {
        IdentityKind::Messenger
    }

    fn requests(
        &self,
        channel: &MessengerChannel,
        reply: &Reply,
        now_ms: i64,
    ) -> anyhow::Result<Vec<Outgoing>> {
        let url = channel
            .api_base
            .clone()
            .ok_or_else(|| anyhow::anyhow!("the channel has no reply URL"))?;
        let msg_id = format!("msg_reply_{}_{}", channel.key, reply.message_id);
        let body = webhooks::body(
            "message.reply",
            now_ms,
            serde_json::json!({
                "channel": channel.key,
                "conversation_id": reply.conversation_id,
                "message_id": reply.message_id,
                "recipient": reply.recipient,
                "text": reply.text,
            }),
        );
        let stamp = now_ms / 1000;
        let signature = webhooks::sign(&channel.secret, &msg_id, stamp, &body)?;
        Ok(vec![Outgoing {
            url,
            headers: vec![
                ("webhook-id".into(), msg_id),
                ("webhook-timestamp".into(), stamp.to_string()),
                ("webhook-signature".into(), signature),
            ],
            body,
        }])
    }

    /// The sender's handle is only unique within the channel that sent it.
    fn identity_value(&self, channel: &MessengerChannel, m: &Incoming) -> String {
        format!("{}:{}", channel.key, m.sender)
    }
}
