//! Segment's tracking-API message format: parse and validate one message (`identify`,
//! `track`, `page`, `screen`, `group`, `alias`) into what nunchi stores, with Segment's
//! field names, its size limits, its clock-skew correction and a channel for every event.

use jiff::Timestamp;
use nunchi_core::channel::{self, Channel, ContextHints};
use serde_json::{Map, Value};

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

/// A validated message.
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
    pub properties: Map<String, Value>,
    pub traits: Map<String, Value>,
    pub context: Map<String, Value>,
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

/// An id field: a string (or a number, which Segment's libraries allow), trimmed,
/// non-empty, at most 256 characters.
fn id_field(obj: &Map<String, Value>, key: &str) -> Result<Option<String>, Invalid> {
    let text = match obj.get(key) {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => return Err(invalid("invalid_field", format!("{key} must be a string"))),
    };
    if text.is_empty() {
        return Ok(None);
    }
    if text.chars().count() > MAX_ID_CHARS {
        return Err(invalid(
            "invalid_field",
            format!("{key} is longer than {MAX_ID_CHARS} characters"),
        ));
    }
    Ok(Some(text))
}

fn object(obj: &Map<String, Value>, key: &str) -> Result<Map<String, Value>, Invalid> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(_) => Err(invalid("invalid_field", format!("{key} must be an object"))),
    }
}

fn time(obj: &Map<String, Value>, key: &str) -> Result<Option<Timestamp>, Invalid> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => s.parse::<Timestamp>().map(Some).map_err(|_| {
            invalid(
                "invalid_timestamp",
                format!("{key} {s:?} is not an ISO 8601 date-time"),
            )
        }),
        Some(_) => Err(invalid(
            "invalid_timestamp",
            format!("{key} must be an ISO 8601 string"),
        )),
    }
}

fn text_at<'a>(obj: &'a Map<String, Value>, path: &[&str]) -> Option<&'a str> {
    let (last, parents) = path.split_last()?;
    let mut at = obj;
    for p in parents {
        at = at.get(*p)?.as_object()?;
    }
    at.get(*last)?.as_str()
}

/// Parses one message. `batch_type` is the call type implied by the endpoint (`/v1/track`
/// → track) when the message has none; `received` is the server's clock; `generate_id`
/// makes a message id for senders that give none.
pub fn parse(
    value: &Value,
    batch_type: Option<Kind>,
    received: Timestamp,
    generate_id: impl FnOnce() -> String,
) -> Result<Message, Invalid> {
    let Value::Object(obj) = value else {
        return Err(invalid(
            "invalid_message",
            "a message must be a JSON object",
        ));
    };
    let kind = match obj.get("type").and_then(Value::as_str) {
        Some(t) => Kind::parse(t)
            .ok_or_else(|| invalid("invalid_type", format!("unknown message type {t:?}")))?,
        None => batch_type.ok_or_else(|| invalid("invalid_type", "the message has no type"))?,
    };
    let user_id = id_field(obj, "userId")?;
    let anonymous_id = id_field(obj, "anonymousId")?;
    if user_id.is_none() && anonymous_id.is_none() {
        return Err(invalid(
            "missing_identity",
            "userId or anonymousId is required",
        ));
    }
    let previous_id = id_field(obj, "previousId")?;
    if kind == Kind::Alias && (previous_id.is_none() || user_id.is_none()) {
        return Err(invalid(
            "invalid_alias",
            "alias needs previousId and userId",
        ));
    }
    let message_id = id_field(obj, "messageId")?.unwrap_or_else(generate_id);
    let mut properties = object(obj, "properties")?;
    let traits = object(obj, "traits")?;
    let context = object(obj, "context")?;
    let name = match kind {
        Kind::Track => {
            let event = obj
                .get("event")
                .and_then(Value::as_str)
                .map(str::trim)
                .unwrap_or("");
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
            if let Some(n) = obj.get("name").and_then(Value::as_str) {
                properties
                    .entry("name")
                    .or_insert_with(|| Value::String(n.to_string()));
            }
            if let Some(c) = obj.get("category").and_then(Value::as_str) {
                properties
                    .entry("category")
                    .or_insert_with(|| Value::String(c.to_string()));
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
    let ts = match (
        time(obj, "timestamp")?.or(time(obj, "originalTimestamp")?),
        time(obj, "sentAt")?,
    ) {
        (Some(ts), Some(sent)) => {
            let skew = received.as_millisecond() - sent.as_millisecond();
            ts.as_millisecond() + skew
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
    let explicit = obj
        .get("channel")
        .and_then(Value::as_str)
        .or_else(|| text_at(&context, &["channel"]));
    let channel = channel::derive_channel(ContextHints {
        channel: explicit,
        has_app: context.get("app").is_some() || text_at(&context, &["device", "type"]).is_some(),
        has_page: context.get("page").is_some() || context.get("userAgent").is_some(),
        library: text_at(&context, &["library", "name"]),
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
        properties,
        traits,
        context,
    })
}

/// Whether a sender said which channel (so a source's default must not override it).
pub fn names_channel(value: &Value) -> bool {
    value.get("channel").is_some_and(Value::is_string)
        || value
            .get("context")
            .and_then(|c| c.get("channel"))
            .and_then(Value::as_str)
            .is_some_and(|c| Channel::parse(c).is_some())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn track_with_segment_fields_and_skew_correction() {
        let m = parse(
            &json!({"type": "track", "event": "Order Completed", "userId": "u-1", "messageId": "m-1",
                    "timestamp": "2026-11-20T10:00:00Z", "sentAt": "2026-11-20T10:00:05Z",
                    "properties": {"total": 39000}, "context": {"library": {"name": "analytics-python"}}}),
            None,
            at("2026-11-20T10:00:02Z"),
            || unreachable!(),
        )
        .unwrap();
        assert_eq!(m.name, "Order Completed");
        assert_eq!(
            m.ts_ms,
            at("2026-11-20T09:59:57Z").as_millisecond(),
            "3 s fast clock corrected"
        );
        assert_eq!(m.properties["total"], 39000);
        assert_eq!(m.channel, Channel::Custom);
    }

    #[test]
    fn page_and_screen_get_names_and_channels() {
        let now = at("2026-11-20T10:00:00Z");
        let page = parse(
            &json!({"anonymousId": "a", "name": "Checkout"}),
            Some(Kind::Page),
            now,
            || "gen".into(),
        )
        .unwrap();
        assert_eq!(
            (page.name.as_str(), page.channel, page.message_id.as_str()),
            ("page_view", Channel::Web, "gen")
        );
        assert_eq!(page.properties["name"], "Checkout");
        assert_eq!(page.ts_ms, now.as_millisecond());
        let screen = parse(
            &json!({"type": "screen", "userId": 7, "name": "Home"}),
            None,
            now,
            || "g".into(),
        )
        .unwrap();
        assert_eq!(
            (screen.channel, screen.user_id.as_deref()),
            (Channel::App, Some("7"))
        );
        let store = parse(&json!({"type": "track", "event": "visit", "userId": "u", "context": {"channel": "store"}}), None, now, || "g".into()).unwrap();
        assert_eq!(store.channel, Channel::Store);
    }

    #[test]
    fn bad_messages_are_refused_with_a_code() {
        let now = at("2026-11-20T10:00:00Z");
        let code = |v: Value| parse(&v, None, now, || "g".into()).unwrap_err().code;
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
        assert_eq!(code(json!([1, 2])), "invalid_message");
    }
}
