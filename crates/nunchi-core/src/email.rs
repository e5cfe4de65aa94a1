//! E-mail addresses, parsed once and kept lower-cased so look-ups are exact matches.

use crate::{CoreError, CoreResult};

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

impl Email {
    /// Accepts `local@domain.tld` with no spaces; the whole address is lower-cased, since
    /// no mail provider our customers use treats the local part case-sensitively.
    pub fn parse(raw: &str) -> CoreResult<Self> {
        let s = raw.trim().to_lowercase();
        let err = |why: &str| CoreError::new("email", format!("{why}: {raw:?}"));
        if s.len() > 254 {
            return Err(err("longer than 254 characters"));
        }
        let (local, domain) = s.rsplit_once('@').ok_or_else(|| err("missing @"))?;
        if local.is_empty() || local.len() > 64 {
            return Err(err("empty or over-long local part"));
        }
        if domain.len() < 3
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
        {
            return Err(err("domain must look like example.com"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) || local.contains('@') {
            return Err(err("contains spaces or a second @"));
        }
        if domain.contains("..")
            || !domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '.' || c == '-')
        {
            return Err(err("invalid domain"));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or_default()
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check() {
        let ok = |s: &str, want: &str| assert_eq!(Email::parse(s).unwrap().as_str(), want, "{s}");
        ok(" Minjun.Kim@Example.COM ", "minjun.kim@example.com");
        ok("a+tag@mail.co.kr", "a+tag@mail.co.kr");
        ok("지민@한국.kr", "지민@한국.kr");
        for bad in [
            "",
            "plain",
            "@x.com",
            "a@b",
            "a@.com",
            "a b@x.com",
            "a@x..com",
            "a@x.com.",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} should fail");
        }
    }
}
