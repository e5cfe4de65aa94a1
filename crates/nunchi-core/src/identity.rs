//! Identities: every handle by which a customer can be recognised (e-mail, phone, external
//! id, anonymous or device id, messenger ids), normalised so that look-ups are exact.

use crate::{CoreError, CoreResult, email::Email, phone::Phone};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityKind {
    Email,
    Phone,
    ExternalId,
    AnonymousId,
    DeviceId,
    Kakao,
    Line,
    Telegram,
    Messenger,
}

impl IdentityKind {
    pub const ALL: [IdentityKind; 9] = [
        Self::Email,
        Self::Phone,
        Self::ExternalId,
        Self::AnonymousId,
        Self::DeviceId,
        Self::Kakao,
        Self::Line,
        Self::Telegram,
        Self::Messenger,
    ];

    pub fn parse(s: &str) -> CoreResult<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| CoreError::new("kind", format!("unknown identity kind {s:?}")))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Phone => "phone",
            Self::ExternalId => "external_id",
            Self::AnonymousId => "anonymous_id",
            Self::DeviceId => "device_id",
            Self::Kakao => "kakao",
            Self::Line => "line",
            Self::Telegram => "telegram",
            Self::Messenger => "messenger",
        }
    }

    /// Whether the value is personal data that the viewer role must not see.
    pub fn is_pii(self) -> bool {
        matches!(self, Self::Email | Self::Phone)
    }
}

/// A parsed identity: its kind and the normalised value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Identity {
    pub kind: IdentityKind,
    pub value: String,
}

impl Identity {
    pub fn parse(kind: &str, value: &str) -> CoreResult<Self> {
        Self::new(IdentityKind::parse(kind)?, value)
    }

    pub fn new(kind: IdentityKind, value: &str) -> CoreResult<Self> {
        let value = match kind {
            IdentityKind::Email => Email::parse(value)?.as_str().to_string(),
            IdentityKind::Phone => Phone::parse(value)?.as_str().to_string(),
            _ => {
                let v = value.trim();
                if v.is_empty() || v.chars().count() > 200 || v.chars().any(char::is_control) {
                    return Err(CoreError::new(
                        "value",
                        format!("{} must be 1–200 printable characters", kind.as_str()),
                    ));
                }
                v.to_string()
            }
        };
        Ok(Self { kind, value })
    }

    pub fn email(e: &Email) -> Self {
        Self {
            kind: IdentityKind::Email,
            value: e.as_str().to_string(),
        }
    }

    pub fn phone(p: &Phone) -> Self {
        Self {
            kind: IdentityKind::Phone,
            value: p.as_str().to_string(),
        }
    }
}

crate::read_by_name!(IdentityKind);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_by_kind() {
        assert_eq!(Identity::parse("email", "A@B.co").unwrap().value, "a@b.co");
        assert_eq!(
            Identity::parse("phone", "010-1111-2222").unwrap().value,
            "+821011112222"
        );
        assert_eq!(
            Identity::parse("external_id", "  C-001 ").unwrap().value,
            "C-001"
        );
        assert!(Identity::parse("external_id", "  ").is_err());
        assert!(Identity::parse("fax", "1").is_err());
    }
}
