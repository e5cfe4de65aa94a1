//! Masking of personal data for roles that may not see it: enough is left for an agent
//! to recognise a customer on the phone, not enough to contact them.

/// `김민준` → `김*준`, `John Smith` → `J*** S****`, `이나` → `이*`.
pub fn mask_name(name: &str) -> String {
    name.split(' ')
        .map(|word| {
            let chars: Vec<char> = word.chars().collect();
            let is_hangul = chars.iter().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(c));
            match chars.len() {
                0 => String::new(),
                1 => "*".into(),
                2 => format!("{}*", chars[0]),
                n if is_hangul => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
                n => format!("{}{}", chars[0], "*".repeat(n - 1)),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `minjun.kim@example.com` → `mi********@example.com`.
pub fn mask_email(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let keep: String = local.chars().take(2).collect();
            format!(
                "{keep}{}@{domain}",
                "*".repeat(local.chars().count().saturating_sub(2).max(1))
            )
        }
        None => "*".repeat(email.chars().count()),
    }
}

/// `+821012345678` → `+82******5678`: country code and last four digits stay.
pub fn mask_phone(phone: &str) -> String {
    let n = phone.chars().count();
    if n <= 7 {
        return "*".repeat(n);
    }
    phone
        .chars()
        .enumerate()
        .map(|(i, c)| if i < 3 || i >= n - 4 { c } else { '*' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check() {
        assert_eq!(mask_name("김민준"), "김*준");
        assert_eq!(mask_name("남궁민수"), "남**수");
        assert_eq!(mask_name("이나"), "이*");
        assert_eq!(mask_name("John Smith"), "J*** S****");
        assert_eq!(
            mask_email("minjun.kim@example.com"),
            "mi********@example.com"
        );
        assert_eq!(mask_email("a@x.io"), "a*@x.io");
        assert_eq!(mask_phone("+821012345678"), "+82******5678");
        for s in ["김민준", "minjun.kim@example.com", "+821012345678"] {
            assert_ne!(mask_name(s), s);
        }
    }
}
