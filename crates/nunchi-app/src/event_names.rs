//! Event names a person typed, matched to the ones received: the closest known names to
//! one that matches nothing (a typo, another casing or separator), for suggestions.

/// Levenshtein distance over characters (Hangul syllables count as one).
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(above + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

/// Known names close to `wanted`: the same apart from case, separators or a few typos,
/// or containing it (`purchase` for `purchas`), closest first.
pub fn closest<'a>(wanted: &str, known: impl Iterator<Item = &'a str>) -> Vec<String> {
    let norm = |s: &str| {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    let w = norm(wanted);
    if w.is_empty() {
        return Vec::new();
    }
    let mut scored: Vec<(usize, &str)> = known
        .filter_map(|k| {
            let n = norm(k);
            let d = edit_distance(&w, &n);
            let close = d <= (w.chars().count() / 3).max(2) || n.contains(&w) || w.contains(&n);
            close.then_some((d, k))
        })
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(3)
        .map(|(_, k)| k.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn unknown_step_names_get_the_closest_known_ones() {
        let known = [
            "purchase",
            "view_product",
            "add_to_cart",
            "page_view",
            "refund",
        ];
        let near = |w: &str| super::closest(w, known.iter().copied());
        assert_eq!(near("purchse"), ["purchase"]);
        assert_eq!(near("Purchase"), ["purchase"]);
        assert_eq!(near("view-product"), ["view_product"]);
        assert_eq!(near("cart"), ["add_to_cart"]);
        assert!(near("signup").is_empty());
        assert_eq!(super::edit_distance("구매완료", "구매 완료"), 1);
    }
}
