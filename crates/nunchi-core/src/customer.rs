//! The customer profile's own fields: name, language, time zone, preferred channel, tags
//! and typed custom attributes, each parsed into a type that cannot hold a bad value.

use crate::{CoreError, CoreResult, consent::ContactChannel};

/// A display name, 1–200 characters, trimmed and with runs of spaces collapsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerName(String);

impl CustomerName {
    pub fn parse(raw: &str) -> CoreResult<Self> {
        let s = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if s.is_empty() || s.chars().count() > 200 {
            return Err(CoreError::new("name", "must be 1–200 characters"));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A UI and message language: a lower-case BCP 47 primary tag (`ko`, `en`, `ja`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Language(String);

impl Language {
    pub fn parse(raw: &str) -> CoreResult<Self> {
        let primary = raw
            .trim()
            .split(['-', '_'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        if !(2..=3).contains(&primary.len()) || !primary.bytes().all(|b| b.is_ascii_lowercase()) {
            return Err(CoreError::new(
                "language",
                format!("not a language code: {raw:?}"),
            ));
        }
        Ok(Self(primary))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An IANA time-zone name that the bundled tz database knows (`Asia/Seoul`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeZoneName(String);

impl TimeZoneName {
    pub fn parse(raw: &str) -> CoreResult<Self> {
        let name = raw.trim();
        jiff::tz::TimeZone::get(name)
            .map_err(|_| CoreError::new("time_zone", format!("unknown IANA time zone {raw:?}")))?;
        Ok(Self(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn tz(&self) -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::get(&self.0).unwrap_or(jiff::tz::TimeZone::UTC)
    }
}

/// A tag: 1–50 characters, no commas or semicolons (they separate tags in CSV).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tag(String);

impl Tag {
    pub fn parse(raw: &str) -> CoreResult<Self> {
        let s = raw.trim();
        if s.is_empty()
            || s.chars().count() > 50
            || s.contains([',', ';'])
            || s.chars().any(char::is_control)
        {
            return Err(CoreError::new(
                "tags",
                format!("a tag has 1–50 characters and no , or ;: {raw:?}"),
            ));
        }
        Ok(Self(s.to_string()))
    }

    pub fn parse_list(raw: &str) -> CoreResult<Vec<Tag>> {
        let mut tags: Vec<Tag> = raw
            .split([';', ','])
            .filter(|t| !t.trim().is_empty())
            .map(Tag::parse)
            .collect::<CoreResult<_>>()?;
        tags.sort();
        tags.dedup();
        Ok(tags)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The type a custom attribute is declared with; values are checked against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AttributeType {
    Text,
    Number,
    Bool,
    Date,
}

impl AttributeType {
    pub fn parse(s: &str) -> CoreResult<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "text" | "string" => Ok(Self::Text),
            "number" => Ok(Self::Number),
            "bool" | "boolean" => Ok(Self::Bool),
            "date" => Ok(Self::Date),
            _ => Err(CoreError::new(
                "type",
                format!("unknown attribute type {s:?}; use text, number, bool or date"),
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Number => "number",
            Self::Bool => "bool",
            Self::Date => "date",
        }
    }

    /// Infers the type of a value seen for the first time, most specific first.
    pub fn infer(raw: &str) -> Self {
        let v = raw.trim();
        if v.parse::<f64>().is_ok_and(f64::is_finite) {
            Self::Number
        } else if matches!(v.to_ascii_lowercase().as_str(), "true" | "false") {
            Self::Bool
        } else if v.parse::<jiff::civil::Date>().is_ok() {
            Self::Date
        } else {
            Self::Text
        }
    }

    /// Checks a value against the type and returns its canonical text form.
    pub fn canonical(self, key: &str, raw: &str) -> CoreResult<String> {
        let v = raw.trim();
        let bad = |what: &str| CoreError::new("attributes", format!("{key}: {v:?} is not {what}"));
        match self {
            Self::Text if v.chars().count() <= 1000 => Ok(v.to_string()),
            Self::Text => Err(bad("text of at most 1000 characters")),
            Self::Number => v
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .map(|n| n.to_string())
                .ok_or_else(|| bad("a number")),
            Self::Bool => match v.to_ascii_lowercase().as_str() {
                "true" | "yes" | "y" | "1" => Ok("true".into()),
                "false" | "no" | "n" | "0" => Ok("false".into()),
                _ => Err(bad("true or false")),
            },
            Self::Date => v
                .parse::<jiff::civil::Date>()
                .map(|d| d.to_string())
                .map_err(|_| bad("a date (YYYY-MM-DD)")),
        }
    }
}

/// An attribute key: lower-case letters, digits and `_`, starting with a letter.
pub fn parse_attribute_key(raw: &str) -> CoreResult<String> {
    let k = raw.trim();
    let ok = (1..=64).contains(&k.len())
        && k.starts_with(|c: char| c.is_ascii_lowercase())
        && k.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(k.to_string())
    } else {
        Err(CoreError::new(
            "attributes",
            format!("attribute keys are snake_case: {raw:?}"),
        ))
    }
}

/// The profile fields a create or an import sets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfileFields {
    pub name: Option<CustomerName>,
    pub language: Option<Language>,
    pub time_zone: Option<TimeZoneName>,
    pub preferred_channel: Option<ContactChannel>,
}

crate::read_by_name!(AttributeType);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields() {
        assert_eq!(
            CustomerName::parse("  김   민준 ").unwrap().as_str(),
            "김 민준"
        );
        assert!(CustomerName::parse(" ").is_err());
        assert_eq!(Language::parse("ko-KR").unwrap().as_str(), "ko");
        assert!(Language::parse("korean!").is_err());
        assert!(TimeZoneName::parse("Asia/Seoul").is_ok());
        assert!(TimeZoneName::parse("Mars/Olympus").is_err());
        assert_eq!(
            Tag::parse_list("vip; 신규 ,vip")
                .unwrap()
                .iter()
                .map(Tag::as_str)
                .collect::<Vec<_>>(),
            vec!["vip", "신규"]
        );
    }

    #[test]
    fn typed_attributes() {
        assert_eq!(AttributeType::Number.canonical("k", "3.50").unwrap(), "3.5");
        assert!(AttributeType::Number.canonical("k", "three").is_err());
        assert_eq!(AttributeType::Bool.canonical("k", "Yes").unwrap(), "true");
        assert!(AttributeType::Date.canonical("k", "2026-02-30").is_err());
        assert_eq!(AttributeType::infer("12"), AttributeType::Number);
        assert_eq!(AttributeType::infer("2026-01-02"), AttributeType::Date);
        assert_eq!(AttributeType::infer("gold"), AttributeType::Text);
        assert!(parse_attribute_key("skin_type").is_ok());
        assert!(parse_attribute_key("Skin Type").is_err());
    }
}
