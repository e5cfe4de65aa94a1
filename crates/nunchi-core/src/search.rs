//! Search keys: what a customer can be found by, reduced to lower-case prefixes so that a
//! B-tree range scan in either database answers "김민" → "김민준" and "010-1234" → the phone.

use crate::{email::Email, phone::Phone};

/// Every key under which one customer should be found: the whole name and each word of
/// it, the given name of a Korean name (`민준` for `김민준`), e-mail and its local part,
/// phone in E.164, national and last-four forms, and external ids.
pub fn keys_for(
    name: Option<&str>,
    emails: &[Email],
    phones: &[Phone],
    external_ids: &[&str],
) -> Vec<String> {
    let mut keys = Vec::new();
    if let Some(name) = name {
        let lower = name.to_lowercase();
        keys.push(lower.clone());
        let words: Vec<&str> = lower.split(' ').filter(|w| !w.is_empty()).collect();
        if words.len() > 1 {
            keys.extend(words.iter().skip(1).map(|w| w.to_string()));
        }
        let chars: Vec<char> = lower.chars().collect();
        if words.len() == 1
            && chars.len() >= 3
            && chars.iter().all(|c| ('\u{AC00}'..='\u{D7A3}').contains(c))
        {
            keys.push(chars[1..].iter().collect());
        }
    }
    for e in emails {
        keys.push(e.as_str().to_string());
        keys.push(e.local_part().to_string());
    }
    for p in phones {
        keys.push(p.as_str().trim_start_matches('+').to_string());
        keys.push(p.national_digits());
        keys.push(p.last_four().to_string());
    }
    keys.extend(external_ids.iter().map(|x| x.to_lowercase()));
    keys.retain(|k| !k.is_empty());
    keys.sort();
    keys.dedup();
    keys
}

/// Turns what a person typed into the prefix to scan for: lower-cased, and for anything
/// that looks like a phone number, digits only (`010-1234` → `0101234`, `+82 10` → `8210`).
pub fn normalise_query(q: &str) -> String {
    let q = q.trim();
    let phone_like = !q.is_empty()
        && q.chars()
            .all(|c| c.is_ascii_digit() || " -+().".contains(c))
        && q.chars().any(|c| c.is_ascii_digit());
    if phone_like {
        q.chars().filter(char::is_ascii_digit).collect()
    } else {
        q.to_lowercase()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// The exclusive upper bound of a prefix range: in code-point (and UTF-8 byte) order every
/// string starting with `prefix` sorts below `prefix` + U+10FFFF.
pub fn prefix_upper_bound(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        let keys = keys_for(
            Some("김민준"),
            &[Email::parse("MJ@x.com").unwrap()],
            &[Phone::parse("010-1234-5678").unwrap()],
            &["C-9"],
        );
        for want in [
            "김민준",
            "민준",
            "mj@x.com",
            "mj",
            "821012345678",
            "01012345678",
            "5678",
            "c-9",
        ] {
            assert!(
                keys.contains(&want.to_string()),
                "{want} missing from {keys:?}"
            );
        }
        let en = keys_for(Some("Grace Park"), &[], &[], &[]);
        assert_eq!(en, vec!["grace park".to_string(), "park".to_string()]);
    }

    #[test]
    fn queries() {
        assert_eq!(normalise_query(" 010-1234 "), "0101234");
        assert_eq!(normalise_query("Grace  PARK"), "grace park");
        assert_eq!(normalise_query("김민"), "김민");
        let hi = prefix_upper_bound("김민");
        assert!("김민준" < hi.as_str() && "김민" < hi.as_str() && "김및" > hi.as_str());
    }
}
