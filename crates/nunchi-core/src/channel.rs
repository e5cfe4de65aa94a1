//! Touchpoint channels: the closed list every event carries, and how a channel is read
//! from a Segment-style `context` when the sender did not name one.

use serde::{Deserialize, Serialize};

/// Where a customer met the brand. Stored as its lowercase name; packed as 3 bits in the
/// analytics engine, so the list stays at eight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Web,
    App,
    Store,
    Phone,
    Email,
    Messenger,
    Social,
    Custom,
}

impl Channel {
    pub const ALL: [Channel; 8] = [
        Channel::Web,
        Channel::App,
        Channel::Store,
        Channel::Phone,
        Channel::Email,
        Channel::Messenger,
        Channel::Social,
        Channel::Custom,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Web => "web",
            Channel::App => "app",
            Channel::Store => "store",
            Channel::Phone => "phone",
            Channel::Email => "email",
            Channel::Messenger => "messenger",
            Channel::Social => "social",
            Channel::Custom => "custom",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// Like `parse`, with an error that names the field, for input that must be a channel.
    pub fn parse_checked(s: &str) -> crate::CoreResult<Channel> {
        Channel::parse(s)
            .ok_or_else(|| crate::CoreError::new("channel", format!("unknown channel {s:?}")))
    }

    pub fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: u8) -> Channel {
        Channel::ALL[(code & 7) as usize]
    }

    pub fn label_ko(self) -> &'static str {
        match self {
            Channel::Web => "웹",
            Channel::App => "앱",
            Channel::Store => "매장",
            Channel::Phone => "전화",
            Channel::Email => "이메일",
            Channel::Messenger => "메신저",
            Channel::Social => "소셜",
            Channel::Custom => "기타",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Channel::Web => "Web",
            Channel::App => "App",
            Channel::Store => "Store",
            Channel::Phone => "Phone",
            Channel::Email => "Email",
            Channel::Messenger => "Messenger",
            Channel::Social => "Social",
            Channel::Custom => "Other",
        }
    }
}

/// The parts of a Segment `context` object that say where an event came from.
#[derive(Debug, Default, Clone, Copy)]
pub struct ContextHints<'a> {
    /// `context.channel`, which Segment's own libraries set to "server", "browser", "mobile".
    pub channel: Option<&'a str>,
    /// `context.app.name` or `context.device.type` present: a mobile or desktop app.
    pub has_app: bool,
    /// `context.page.url` or a browser user agent present.
    pub has_page: bool,
    /// `context.library.name`, e.g. "analytics.js", "analytics-ios".
    pub library: Option<&'a str>,
    /// The Segment call type: "page" implies web, "screen" implies app.
    pub call: &'a str,
}

/// Picks a channel from what the sender told us, most explicit first: an explicit
/// channel name, then the call type, then the context's app/page/library hints.
pub fn derive_channel(hints: ContextHints<'_>) -> Channel {
    if let Some(c) = hints.channel {
        if let Some(channel) = Channel::parse(c) {
            return channel;
        }
        match c.trim().to_ascii_lowercase().as_str() {
            "browser" => return Channel::Web,
            "mobile" => return Channel::App,
            _ => {}
        }
    }
    match hints.call {
        "page" => return Channel::Web,
        "screen" => return Channel::App,
        _ => {}
    }
    if hints.has_app {
        return Channel::App;
    }
    if hints.has_page {
        return Channel::Web;
    }
    if let Some(lib) = hints.library {
        let lib = lib.to_ascii_lowercase();
        if lib.contains("ios") || lib.contains("android") || lib.contains("react-native") {
            return Channel::App;
        }
        if lib.contains(".js") || lib.contains("browser") {
            return Channel::Web;
        }
    }
    Channel::Custom
}

impl std::fmt::Display for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for Channel {
    type Error = crate::CoreError;
    fn try_from(s: String) -> crate::CoreResult<Self> {
        Channel::parse_checked(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_names_parse() {
        for c in Channel::ALL {
            assert_eq!(Channel::from_code(c.code()), c);
            assert_eq!(Channel::parse(&c.as_str().to_uppercase()), Some(c));
        }
        assert_eq!(Channel::parse("fax"), None);
    }

    #[test]
    fn channel_comes_from_the_most_explicit_hint() {
        let base = ContextHints {
            call: "track",
            ..Default::default()
        };
        assert_eq!(derive_channel(base), Channel::Custom);
        assert_eq!(
            derive_channel(ContextHints {
                channel: Some("store"),
                has_page: true,
                ..base
            }),
            Channel::Store
        );
        assert_eq!(
            derive_channel(ContextHints {
                channel: Some("mobile"),
                ..base
            }),
            Channel::App
        );
        assert_eq!(
            derive_channel(ContextHints {
                call: "page",
                ..base
            }),
            Channel::Web
        );
        assert_eq!(
            derive_channel(ContextHints {
                library: Some("analytics-android"),
                ..base
            }),
            Channel::App
        );
        assert_eq!(
            derive_channel(ContextHints {
                has_page: true,
                ..base
            }),
            Channel::Web
        );
    }
}
