//! Customer-experience polarity terms. The shipped Korean model learned from movie
//! reviews, where "배송이 늦어요" hardly occurs, and the English one from tweets and
//! snippets; these terms carry the service vocabulary a CX team's feedback is made of
//! and add to the model's margin. Korean terms are stems matched inside the text with
//! spaces removed (spacing is unreliable); English terms are words. A negation next to a
//! term turns it. `nunchi text eval` reports accuracy with and without the lexicon.

use crate::lang::Lang;

/// (term, polarity) with polarity in margin units.
const KOREAN: &[(&str, f32)] = &[
    // Negative service experiences.
    ("늦", -2.5),
    ("지연", -2.5),
    ("느려", -2.0),
    ("느렸", -2.0),
    ("느리", -1.0),
    ("느림", -1.0),
    ("안돼", -1.0),
    ("안되", -0.8),
    ("오래걸", -1.2),
    ("파손", -2.5),
    ("깨져", -1.5),
    ("찌그러", -1.2),
    ("불친절", -2.5),
    ("무례", -1.8),
    ("최악", -2.0),
    ("불량", -2.5),
    ("하자", -1.2),
    ("고장", -1.5),
    ("오배송", -2.5),
    ("누락", -2.5),
    ("안와", -1.2),
    ("안오", -1.0),
    ("별로", -1.2),
    ("실망", -1.8),
    ("짜증", -1.8),
    ("화나", -1.8),
    ("비싸", -0.8),
    ("불편", -1.2),
    ("엉망", -1.8),
    ("답답", -1.2),
    ("불만", -1.5),
    ("연락이없", -2.5),
    ("연락없", -2.5),
    ("답변이없", -2.5),
    ("환불해", -1.5),
    ("트러블", -1.2),
    ("따가", -1.0),
    ("가려", -0.8),
    ("오류", -1.2),
    ("에러", -1.2),
    ("튕", -1.2),
    ("품절", -0.6),
    ("다시는안", -2.0),
    ("ㅠㅠ", -0.8),
    ("ㅡㅡ", -1.2),
    // Positive service experiences.
    ("빠르", 2.0),
    ("빨리", 0.8),
    ("빠른", 1.2),
    ("빨라", 2.0),
    ("빨랐", 2.0),
    ("친절", 2.0),
    ("만족", 1.5),
    ("최고", 1.5),
    ("추천", 1.2),
    ("재구매", 2.0),
    ("좋아", 1.0),
    ("좋았", 1.0),
    ("좋네", 1.0),
    ("좋습", 1.0),
    ("좋은", 0.8),
    ("감사", 1.0),
    ("훌륭", 1.5),
    ("완벽", 1.5),
    ("꼼꼼", 2.0),
    ("촉촉", 1.0),
    ("예뻐", 1.0),
    ("이뻐", 1.0),
    ("깔끔", 1.0),
    ("신속", 2.0),
    ("편리", 1.0),
    ("편해", 0.8),
];

/// English service terms. Only words that name a service failure or success and are rare
/// in general writing: general sentiment words are the model's business (a broader list
/// cost the English model accuracy on the VADER ground truth).
const ENGLISH: &[(&str, f32)] = &[
    ("late", -2.0),
    ("delayed", -2.0),
    ("damaged", -2.0),
    ("missing", -1.5),
    ("refund", -1.0),
    ("rude", -2.0),
    ("unhelpful", -2.0),
    ("defective", -2.0),
    ("faulty", -2.0),
    ("crashes", -1.5),
    ("overcharged", -2.0),
    ("friendly", 1.5),
    ("helpful", 1.5),
    ("promptly", 1.5),
];

const ENGLISH_NEGATIONS: &[&str] = &[
    "not", "no", "never", "isn't", "wasn't", "don't", "didn't", "doesn't", "aren't", "weren't",
    "isnt", "wasnt", "dont", "didnt", "doesnt", "hardly", "without",
];

/// The polarity the lexicon sees in `text`, in margin units.
pub fn polarity(text: &str, lang: Lang) -> f32 {
    match lang {
        Lang::Ko => korean_polarity(text),
        Lang::En => english_polarity(text),
        Lang::Other => 0.0,
    }
}

fn english_polarity(text: &str) -> f32 {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .collect();
    let mut total = 0.0;
    for (i, word) in words.iter().enumerate() {
        let Some((_, weight)) = ENGLISH.iter().find(|(t, _)| t == word) else {
            continue;
        };
        let negated = words[i.saturating_sub(3)..i]
            .iter()
            .any(|w| ENGLISH_NEGATIONS.contains(w));
        total += if negated { -weight * 0.7 } else { *weight };
    }
    total
}

fn korean_polarity(text: &str) -> f32 {
    let squeezed: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let mut total = 0.0;
    for (term, weight) in KOREAN {
        let mut from = 0;
        while let Some(at) = squeezed[from..].find(term) {
            let start = from + at;
            let end = start + term.len();
            let after: String = squeezed[end..].chars().take(4).collect();
            let before = &squeezed[..start];
            // "늦지 않게", "안 늦게", "불친절하지 않" turn the term.
            let negated = after.contains("지않")
                || after.contains("지도않")
                || before.ends_with('안')
                || before.ends_with('못');
            total += if negated { -weight * 0.7 } else { *weight };
            from = end;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::polarity;
    use crate::lang::Lang;

    #[test]
    fn service_terms_and_negation() {
        let ko = |t| polarity(t, Lang::Ko);
        assert!(ko("배송이 너무 늦어요") < 0.0);
        assert!(ko("배송이너무늦어요") < 0.0);
        assert!(ko("늦지 않게 왔어요") > 0.0);
        assert!(ko("직원분이 친절해요") > 0.0);
        assert!(ko("불친절하지 않았어요") > 0.0);
        assert_eq!(ko("그냥 그래요"), 0.0);
        let en = |t| polarity(t, Lang::En);
        assert!(en("The parcel arrived late and damaged") < 0.0);
        assert!(en("It was not late at all") > 0.0);
        assert!(en("friendly and helpful staff") > 0.0);
        assert_eq!(polarity("配送が遅い", Lang::Other), 0.0);
    }
}
