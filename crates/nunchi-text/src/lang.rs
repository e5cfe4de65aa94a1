//! Language detection for short, informal text: Korean, English or other. Script decides
//! most cases (any real amount of Hangul, including bare jamo such as `ㅋㅋ`, is Korean);
//! Latin-script text is English unless it carries the letters or function words of
//! another Latin-script language.

use serde::{Deserialize, Serialize};

/// A detected language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Ko,
    En,
    Other,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ko => "ko",
            Lang::En => "en",
            Lang::Other => "other",
        }
    }
}

fn is_hangul(c: char) -> bool {
    matches!(c as u32, 0xAC00..=0xD7A3 | 0x1100..=0x11FF | 0x3130..=0x318F | 0xA960..=0xA97F | 0xD7B0..=0xD7FF)
}

fn is_other_script(c: char) -> bool {
    // Han, kana, Cyrillic, Greek, Arabic, Hebrew, Thai, Devanagari and friends.
    matches!(c as u32,
        0x0370..=0x03FF | 0x0400..=0x052F | 0x0590..=0x06FF | 0x0900..=0x0DFF | 0x0E00..=0x0EFF
        | 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF)
}

/// Words common in other Latin-script languages and rare in English.
const FOREIGN_WORDS: &[&str] = &[
    "el", "los", "las", "una", "muy", "pero", "que", "por", "para", "est", "les", "des", "une",
    "très", "avec", "pour", "pas", "der", "die", "das", "und", "nicht", "ist", "ein", "sehr",
    "mit", "il", "che", "non", "della", "molto", "não", "muito", "uma", "com", "het", "een",
    "niet", "yang", "dan", "tidak", "ini", "itu", "sangat", "và", "không", "của", "rất",
];

/// Common English function words and chat forms.
const ENGLISH_WORDS: &[&str] = &[
    "the", "a", "an", "and", "or", "but", "is", "are", "was", "were", "it", "this", "that", "i",
    "you", "we", "they", "my", "your", "not", "no", "to", "of", "in", "on", "for", "with", "so",
    "very", "too", "be", "have", "has", "had", "do", "did", "does", "at", "as", "lol", "omg",
    "thanks", "thank", "good", "great", "bad", "love", "hate", "ok", "okay", "please",
];

/// Detects the language of `text`.
pub fn detect(text: &str) -> Lang {
    let (mut hangul, mut latin, mut other, mut accented) = (0usize, 0usize, 0usize, 0usize);
    for c in text.chars() {
        if is_hangul(c) {
            hangul += 1;
        } else if c.is_ascii_alphabetic() {
            latin += 1;
        } else if is_other_script(c) {
            other += 1;
        } else if c.is_alphabetic() && (c as u32) < 0x0250 {
            // Latin letters with diacritics (é, ñ, ü, ß, ă …): not English.
            latin += 1;
            accented += 1;
        }
    }
    let letters = hangul + latin + other;
    if letters == 0 {
        return Lang::Other;
    }
    // Korean writers mix in English brand names and words; a third Hangul is Korean.
    if hangul * 3 >= letters || (hangul > 0 && hangul >= other && latin < 3 * hangul) {
        return Lang::Ko;
    }
    if other > latin {
        return Lang::Other;
    }
    let (mut english, mut foreign) = (0usize, 0usize);
    for word in text
        .split(|c: char| !c.is_alphabetic() && c != '\'')
        .filter(|w| !w.is_empty())
    {
        let lower = word.to_lowercase();
        if ENGLISH_WORDS.contains(&lower.as_str()) {
            english += 1;
        } else if FOREIGN_WORDS.contains(&lower.as_str()) {
            foreign += 1;
        }
    }
    if accented * 20 > latin || foreign > english {
        return Lang::Other;
    }
    Lang::En
}

#[cfg(test)]
mod tests {
    use super::{Lang, detect};

    #[test]
    fn short_informal_text() {
        for ko in [
            "ㅋㅋㅋㅋ",
            "ㅠㅠ",
            "배송 너무 늦어요",
            "CS 응대 최고👍",
            "아이폰 케이스 good",
            "존맛탱",
        ] {
            assert_eq!(detect(ko), Lang::Ko, "{ko}");
        }
        for en in [
            "lol",
            "Delivery was late :(",
            "great service!!",
            "ok",
            "Love it 😍",
        ] {
            assert_eq!(detect(en), Lang::En, "{en}");
        }
        for other in [
            "配送が遅い",
            "Очень плохо",
            "El envío fue muy lento pero el producto es bueno",
            "Très bon produit, livraison rapide",
            "Sehr gut und schnell",
            "🙂🙂",
            "",
            "12345",
        ] {
            assert_eq!(detect(other), Lang::Other, "{other}");
        }
    }
}
