//! Canned replies (macros) as pure rules: the variables a reply may use (`{{customer_name}}`,
//! `{{last_order}}`, …), checking a template names only those, and filling one in.

use crate::{CoreError, CoreResult};

/// The variables a canned reply may use.
pub const VARIABLES: &[&str] = &[
    "customer_name",
    "customer_email",
    "last_order",
    "last_order_status",
    "agent_name",
];

/// The variables `template` names, in order, each once.
fn names(template: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let name = after[..end].trim();
        if !out.contains(&name) {
            out.push(name);
        }
        rest = &after[end + 2..];
    }
    out
}

/// Refuses a template that names a variable nunchi does not know.
pub fn check(template: &str) -> CoreResult<()> {
    match names(template).into_iter().find(|n| !VARIABLES.contains(n)) {
        Some(unknown) => Err(CoreError::new(
            "template",
            format!(
                "unknown variable {{{{{unknown}}}}}; use {}",
                VARIABLES
                    .iter()
                    .map(|v| format!("{{{{{v}}}}}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
        None => Ok(()),
    }
}

/// `template` with each variable replaced by `value(name)`, or by nothing when it has none.
pub fn fill(template: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        out.push_str(&value(after[..end].trim()).unwrap_or_default());
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_checked_and_filled() {
        let t = "{{ customer_name }}님, 주문 {{last_order}} 확인했습니다. {{customer_name}}";
        assert!(check(t).is_ok());
        assert_eq!(names(t), vec!["customer_name", "last_order"]);
        let filled = fill(t, |n| (n == "customer_name").then(|| "김민준".to_string()));
        assert_eq!(filled, "김민준님, 주문  확인했습니다. 김민준");
        let err = check("Hi {{first_name}}").unwrap_err();
        assert!(err.to_string().contains("{{first_name}}"), "{err}");
        assert_eq!(fill("open {{ no end", |_| None), "open {{ no end");
    }
}
