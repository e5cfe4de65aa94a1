//! Text normalisation before feature extraction: lower case, one space between words,
//! and runs of a repeated character cut to two, so that `ㅋㅋㅋㅋㅋ`, `ㅋㅋ` and `!!!!` each
//! become one feature however long the run is.

/// Normalises `text` into `out` (cleared first), reusing its allocation.
pub fn normalize_into(text: &str, out: &mut String) {
    out.clear();
    let mut last: Option<char> = None;
    let mut run = 0usize;
    let mut pending_space = false;
    for raw in text.chars() {
        if raw.is_whitespace() || raw.is_control() {
            pending_space = !out.is_empty();
            last = None;
            continue;
        }
        for c in raw.to_lowercase() {
            if Some(c) == last {
                run += 1;
                if run > 2 {
                    continue;
                }
            } else {
                run = 1;
                last = Some(c);
            }
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    }
}

/// Normalises `text` into a new string.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    normalize_into(text, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn runs_are_cut_to_two_and_spaces_collapse() {
        assert_eq!(
            normalize("  Great!!!!   ㅋㅋㅋㅋㅋ\n\t좋아요ㅠㅠㅠ "),
            "great!! ㅋㅋ 좋아요ㅠㅠ"
        );
        assert_eq!(normalize("aaa bbb"), "aa bb");
        assert_eq!(normalize(""), "");
    }
}
