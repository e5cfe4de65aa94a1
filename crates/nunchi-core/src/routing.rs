//! Skills-based routing as pure rules: what an agent's skills are (short lower-case names —
//! a language, a channel, a topic), and which of a conversation's traits require one. A
//! trait requires its skill only when some agent offers it, so naming a skill on one agent
//! is what turns its routing on, and traits nobody offers never leave a conversation stuck.

use std::collections::BTreeSet;

use crate::{CoreError, CoreResult};

/// Skills one agent may list.
pub const MAX_SKILLS: usize = 20;

/// A comma-separated list of skills, lower-cased, each once, in the order given.
pub fn parse_skills(list: &str) -> CoreResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for raw in list.split(',') {
        let skill = raw.trim().to_lowercase();
        if skill.is_empty() {
            continue;
        }
        let ok = skill.chars().count() <= 40
            && skill
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ':'));
        if !ok {
            return Err(CoreError::new(
                "skills",
                format!("{raw:?} is not a skill: up to 40 letters, digits, '-', '_' or ':'"),
            ));
        }
        if !out.contains(&skill) {
            out.push(skill);
        }
    }
    if out.len() > MAX_SKILLS {
        return Err(CoreError::new(
            "skills",
            format!("an agent lists at most {MAX_SKILLS} skills"),
        ));
    }
    Ok(out)
}

/// The skills a conversation with these traits (its channel, its customer's language, its
/// labels) requires, given every skill some eligible agent offers.
pub fn required<'a>(traits: &'a [String], offered: &BTreeSet<String>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for t in traits {
        let t = t.as_str();
        if offered.contains(t) && !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

/// Whether an agent with `skills` may take a conversation that requires `needed`.
pub fn qualifies(skills: &[String], needed: &[&str]) -> bool {
    needed.iter().all(|n| skills.iter().any(|s| s == n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skills_are_short_lower_case_names_each_once() {
        assert_eq!(
            parse_skills(" EN, refund ,en,, 환불, lang:ja").unwrap(),
            ["en", "refund", "환불", "lang:ja"]
        );
        assert!(parse_skills("").unwrap().is_empty());
        assert!(parse_skills("two words").is_err());
        assert!(parse_skills(&"a".repeat(41)).is_err());
        let many: Vec<String> = (0..21).map(|i| format!("s{i}")).collect();
        assert!(parse_skills(&many.join(",")).is_err());
    }

    #[test]
    fn only_skills_someone_offers_are_required() {
        let offered: BTreeSet<String> = ["en".to_string(), "phone".to_string()].into();
        let traits = vec!["email".to_string(), "en".to_string(), "vip".to_string()];
        let needed = required(&traits, &offered);
        assert_eq!(needed, ["en"]);
        assert!(qualifies(&["en".into(), "refund".into()], &needed));
        assert!(!qualifies(&["ko".into()], &needed));
        assert!(qualifies(&[], &required(&["ko".to_string()], &offered)));
    }
}
