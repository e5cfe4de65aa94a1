//! Segment's tracking-API message format: parse and validate one message (`identify`,
//! `track`, `page`, `screen`, `group`, `alias`) into what nunchi stores, with Segment's
//! field names, its size limits, its clock-skew correction and a channel for every event.

use std::borrow::Cow;

use jiff::Timestamp;
use nunchi_core::channel::{self, Channel, ContextHints};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, Visitor};
use serde_json::{Map, Value, value::RawValue};

/// Segment's limits: 32 KB per message, 500 KB per batch request.
pub const MAX_MESSAGE_BYTES: usize = 32 * 1024;
pub const MAX_BATCH_BYTES: usize = 500 * 1024;
const MAX_ID_CHARS: usize = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Identify,
    Track,
    Page,
    Screen,
    Group,
    Alias,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "identify" => Kind::Identify,
            "track" => Kind::Track,
            "page" => Kind::Page,
            "screen" => Kind::Screen,
            "group" => Kind::Group,
            "alias" => Kind::Alias,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Identify => "identify",
            Kind::Track => "track",
            Kind::Page => "page",
            Kind::Screen => "screen",
            Kind::Group => "group",
            Kind::Alias => "alias",
        }
    }
}

/// A validated message. Properties, traits and context stay JSON text: they are stored
/// as sent, so parsing builds no trees for them.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub kind: Kind,
    /// The event name: `event` for track, `page_view`/`screen_view` for page/screen,
    /// the call type for the others.
    pub name: String,
    pub message_id: String,
    pub user_id: Option<String>,
    pub anonymous_id: Option<String>,
    /// alias: the id the user had before.
    pub previous_id: Option<String>,
    pub ts_ms: i64,
    pub channel: Channel,
    /// Whether the sender named the channel (so a source's default must not override it).
    pub named_channel: bool,
    /// JSON object.
    pub properties: String,
    /// JSON object.
    pub traits: String,
    /// JSON object.
    pub context: String,
}

/// Why a message was refused, with a stable code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub code: &'static str,
    pub message: String,
}

fn invalid(code: &'static str, message: impl Into<String>) -> Invalid {
    Invalid {
        code,
        message: message.into(),
    }
}

/// An id: a string, or a number (Segment's libraries allow both), as text.
fn id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    struct IdVisitor;
    impl<'de> Visitor<'de> for IdVisitor {
        type Value = Option<Cow<'de, str>>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string or a number")
        }
        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Borrowed(v)))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v.to_string())))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v.to_string())))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v.to_string())))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v.to_string())))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(IdVisitor)
}

/// The message as it travels, borrowing from the request body where it can.
#[derive(Deserialize)]
struct Wire<'a> {
    #[serde(rename = "type", default, borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(rename = "userId", default, borrow, deserialize_with = "id")]
    user_id: Option<Cow<'a, str>>,
    #[serde(rename = "anonymousId", default, borrow, deserialize_with = "id")]
    anonymous_id: Option<Cow<'a, str>>,
    #[serde(rename = "previousId", default, borrow, deserialize_with = "id")]
    previous_id: Option<Cow<'a, str>>,
    #[serde(rename = "messageId", default, borrow, deserialize_with = "id")]
    message_id: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    event: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    name: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    category: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(rename = "originalTimestamp", default, borrow)]
    original_timestamp: Option<Cow<'a, str>>,
    #[serde(rename = "sentAt", default, borrow)]
    sent_at: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    channel: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    properties: Option<&'a RawValue>,
    #[serde(default, borrow)]
    traits: Option<&'a RawValue>,
    #[serde(default, borrow)]
    context: Option<&'a RawValue>,
}

/// The parts of `context` that say where an event came from.
#[derive(Deserialize, Default)]
struct Hints<'a> {
    #[serde(default, borrow)]
    channel: Option<Cow<'a, str>>,
    #[serde(default)]
    app: Option<IgnoredAny>,
    #[serde(default)]
    page: Option<IgnoredAny>,
    #[serde(rename = "userAgent", default)]
    user_agent: Option<IgnoredAny>,
    #[serde(default, borrow)]
    device: Option<Named<'a>>,
    #[serde(default, borrow)]
    library: Option<Named<'a>>,
}

#[derive(Deserialize, Default)]
struct Named<'a> {
    #[serde(rename = "type", default, borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    name: Option<Cow<'a, str>>,
}

/// An id trimmed, empty as none, at most 256 characters.
fn clean_id(key: &str, v: Option<Cow<'_, str>>) -> Result<Option<String>, Invalid> {
    let Some(v) = v else { return Ok(None) };
    let t = v.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if t.chars().count() > MAX_ID_CHARS {
        return Err(invalid(
            "invalid_field",
            format!("{key} is longer than {MAX_ID_CHARS} characters"),
        ));
    }
    Ok(Some(t.to_string()))
}

/// A JSON object as text; `{}` when absent or null.
fn object_text(key: &str, raw: Option<&RawValue>) -> Result<String, Invalid> {
    match raw.map(|r| r.get().trim()) {
        None | Some("null") => Ok("{}".to_string()),
        Some(t) if t.starts_with('{') => Ok(t.to_string()),
        Some(_) => Err(invalid("invalid_field", format!("{key} must be an object"))),
    }
}

fn time(key: &str, v: Option<&str>) -> Result<Option<Timestamp>, Invalid> {
    match v {
        None => Ok(None),
        Some(s) => s.parse::<Timestamp>().map(Some).map_err(|_| {
            invalid(
                "invalid_timestamp",
                format!("{key} {s:?} is not an ISO 8601 date-time"),
            )
        }),
    }
}

/// Adds `key` to a JSON object's text unless it is there already.
fn with_property(properties: &str, key: &str, value: &str) -> String {
    let mut map: Map<String, Value> = serde_json::from_str(properties).unwrap_or_default();
    map.entry(key)
        .or_insert_with(|| Value::String(value.to_string()));
    Value::Object(map).to_string()
}

/// Parses one message from its JSON text. `batch_type` is the call type implied by the
/// endpoint (`/v1/track` → track) when the message has none; a batch's `sentAt` and
/// `context` apply to messages without their own; `received` is the server's clock;
/// `generate_id` makes a message id for senders that give none.
pub fn parse(
    raw: &str,
    batch_type: Option<Kind>,
    batch_sent_at: Option<&str>,
    batch_context: Option<&Map<String, Value>>,
    received: Timestamp,
    generate_id: impl FnOnce() -> String,
) -> Result<Message, Invalid> {
    if !raw.trim_start().starts_with('{') {
        return Err(invalid(
            "invalid_message",
            "a message must be a JSON object",
        ));
    }
    let wire: Wire<'_> =
        serde_json::from_str(raw).map_err(|e| invalid("invalid_field", e.to_string()))?;
    let kind = match wire.kind.as_deref() {
        Some(t) => Kind::parse(t)
            .ok_or_else(|| invalid("invalid_type", format!("unknown message type {t:?}")))?,
        None => batch_type.ok_or_else(|| invalid("invalid_type", "the message has no type"))?,
    };
    let user_id = clean_id("userId", wire.user_id)?;
    let anonymous_id = clean_id("anonymousId", wire.anonymous_id)?;
    if user_id.is_none() && anonymous_id.is_none() {
        return Err(invalid(
            "missing_identity",
            "userId or anonymousId is required",
        ));
    }
    let previous_id = clean_id("previousId", wire.previous_id)?;
    if kind == Kind::Alias && (previous_id.is_none() || user_id.is_none()) {
        return Err(invalid(
            "invalid_alias",
            "alias needs previousId and userId",
        ));
    }
    let message_id = clean_id("messageId", wire.message_id)?.unwrap_or_else(generate_id);
    let mut properties = object_text("properties", wire.properties)?;
    let traits = object_text("traits", wire.traits)?;
    let mut context = object_text("context", wire.context)?;
    if let Some(batch) = batch_context.filter(|b| !b.is_empty()) {
        let mut own: Map<String, Value> = serde_json::from_str(&context).unwrap_or_default();
        for (k, v) in batch {
            own.entry(k.clone()).or_insert_with(|| v.clone());
        }
        context = Value::Object(own).to_string();
    }
    let name = match kind {
        Kind::Track => {
            let event = wire.event.as_deref().map(str::trim).unwrap_or("");
            if event.is_empty() {
                return Err(invalid("missing_event", "track needs an event name"));
            }
            if event.chars().count() > 200 {
                return Err(invalid(
                    "invalid_field",
                    "event is longer than 200 characters",
                ));
            }
            event.to_string()
        }
        Kind::Page | Kind::Screen => {
            // The page's name travels as a property so touchpoint rules can match it.
            if let Some(n) = wire.name.as_deref() {
                properties = with_property(&properties, "name", n);
            }
            if let Some(c) = wire.category.as_deref() {
                properties = with_property(&properties, "category", c);
            }
            if kind == Kind::Page {
                "page_view"
            } else {
                "screen_view"
            }
            .to_string()
        }
        other => other.as_str().to_string(),
    };
    // Segment's skew correction: the device's clock is off by (sentAt - received), so the
    // event happened at timestamp + (received - sentAt).
    let happened = time("timestamp", wire.timestamp.as_deref())?.or(time(
        "originalTimestamp",
        wire.original_timestamp.as_deref(),
    )?);
    let sent = time("sentAt", wire.sent_at.as_deref().or(batch_sent_at))?;
    let ts = match (happened, sent) {
        (Some(ts), Some(sent)) => {
            ts.as_millisecond() + (received.as_millisecond() - sent.as_millisecond())
        }
        (Some(ts), None) => ts.as_millisecond(),
        (None, _) => received.as_millisecond(),
    };
    if !(0..=u32::MAX as i64 * 1000).contains(&ts) {
        return Err(invalid(
            "invalid_timestamp",
            "the timestamp is outside 1970–2106",
        ));
    }
    let hints: Hints<'_> = serde_json::from_str(&context).unwrap_or_default();
    let explicit = wire.channel.as_deref().or(hints.channel.as_deref());
    let named_channel = wire.channel.is_some()
        || hints
            .channel
            .as_deref()
            .is_some_and(|c| Channel::parse(c).is_some());
    let channel = channel::derive_channel(ContextHints {
        channel: explicit,
        has_app: hints.app.is_some() || hints.device.as_ref().is_some_and(|d| d.kind.is_some()),
        has_page: hints.page.is_some() || hints.user_agent.is_some(),
        library: hints.library.as_ref().and_then(|l| l.name.as_deref()),
        call: kind.as_str(),
    });
    Ok(Message {
        kind,
        name,
        message_id,
        user_id,
        anonymous_id,
        previous_id,
        ts_ms: ts,
        channel,
        named_channel,
        properties,
        traits,
        context,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn one(v: Value, kind: Option<Kind>, now: Timestamp) -> Result<Message, Invalid> {
        parse(&v.to_string(), kind, None, None, now, || "gen".into())
    }

    #[test]
    fn track_with_segment_fields_and_skew_correction() {
        let m = one(
            json!({"type": "track", "event": "Order Completed", "userId": "u-1", "messageId": "m-1",
                    "timestamp": "2026-11-20T10:00:00Z", "sentAt": "2026-11-20T10:00:05Z",
                    "properties": {"total": 39000}, "context": {"library": {"name": "analytics-python"}}}),
            None,
            at("2026-11-20T10:00:02Z"),
        )
        .unwrap();
        assert_eq!(m.name, "Order Completed");
        assert_eq!(
            m.ts_ms,
            at("2026-11-20T09:59:57Z").as_millisecond(),
            "3 s fast clock corrected"
        );
        assert_eq!(m.properties, r#"{"total":39000}"#);
        assert_eq!((m.channel, m.named_channel), (Channel::Custom, false));
        // The batch's sentAt applies to messages without their own.
        let batch = parse(
            &json!({"type": "track", "event": "x", "userId": "u", "timestamp": "2026-11-20T10:00:00Z"}).to_string(),
            None,
            Some("2026-11-20T10:00:05Z"),
            None,
            at("2026-11-20T10:00:02Z"),
            || "g".into(),
        )
        .unwrap();
        assert_eq!(batch.ts_ms, m.ts_ms);
    }

    #[test]
    fn page_and_screen_get_names_and_channels() {
        let now = at("2026-11-20T10:00:00Z");
        let page = one(
            json!({"anonymousId": "a", "name": "Checkout", "properties": {"path": "/c"}}),
            Some(Kind::Page),
            now,
        )
        .unwrap();
        assert_eq!(
            (page.name.as_str(), page.channel, page.message_id.as_str()),
            ("page_view", Channel::Web, "gen")
        );
        let props: Value = serde_json::from_str(&page.properties).unwrap();
        assert_eq!(
            (props["name"].as_str(), props["path"].as_str()),
            (Some("Checkout"), Some("/c"))
        );
        assert_eq!(page.ts_ms, now.as_millisecond());
        let screen = one(
            json!({"type": "screen", "userId": 7, "name": "Home"}),
            None,
            now,
        )
        .unwrap();
        assert_eq!(
            (screen.channel, screen.user_id.as_deref()),
            (Channel::App, Some("7"))
        );
        let store = one(json!({"type": "track", "event": "visit", "userId": "u", "context": {"channel": "store"}}), None, now).unwrap();
        assert_eq!((store.channel, store.named_channel), (Channel::Store, true));
        let merged = parse(
            &json!({"type": "track", "event": "visit", "userId": "u", "context": {"ip": "1.2.3.4"}}).to_string(),
            None,
            None,
            json!({"app": {"name": "shop"}, "ip": "9.9.9.9"}).as_object(),
            now,
            || "g".into(),
        )
        .unwrap();
        assert_eq!(merged.channel, Channel::App, "the batch's context says app");
        assert!(merged.context.contains("1.2.3.4") && !merged.context.contains("9.9.9.9"));
    }

    #[test]
    fn bad_messages_are_refused_with_a_code() {
        let now = at("2026-11-20T10:00:00Z");
        let code = |v: Value| one(v, None, now).unwrap_err().code;
        assert_eq!(
            code(json!({"type": "track", "event": "x"})),
            "missing_identity"
        );
        assert_eq!(
            code(json!({"type": "track", "userId": "u"})),
            "missing_event"
        );
        assert_eq!(
            code(json!({"type": "launch", "userId": "u"})),
            "invalid_type"
        );
        assert_eq!(
            code(json!({"type": "alias", "userId": "u"})),
            "invalid_alias"
        );
        assert_eq!(
            code(json!({"type": "track", "event": "x", "userId": "u", "timestamp": "yesterday"})),
            "invalid_timestamp"
        );
        assert_eq!(
            code(json!({"type": "track", "event": "x", "userId": "u", "properties": [1]})),
            "invalid_field"
        );
        assert_eq!(
            code(json!({"type": "track", "event": "x", "userId": {"a": 1}})),
            "invalid_field"
        );
        assert_eq!(code(json!([1, 2])), "invalid_message");
        assert_eq!(
            code(json!({"type": "track", "event": "x", "userId": "u".repeat(300)})),
            "invalid_field"
        );
    }
}
