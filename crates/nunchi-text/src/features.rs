//! Hashed n-gram features. Character n-grams carry Korean, where one word fuses a stem
//! with its endings and spacing is unreliable; word n-grams carry negation and phrases.
//! Every n-gram is hashed straight into a fixed table, so nothing is stored per
//! vocabulary entry and unseen words still land somewhere.

use serde::{Deserialize, Serialize};

use crate::normalize::normalize_into;

/// Which n-grams a model uses; saved in the model file so that training and use agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureSpec {
    /// log2 of the table size.
    pub bits: u8,
    /// Character n-gram lengths, inclusive, over the text with spaces kept.
    pub char_min: u8,
    pub char_max: u8,
    /// Longest character n-gram over the text with spaces removed (0 = none), which
    /// makes `배송이너무늦어요` and `배송이 너무 늦어요` share features.
    pub squeezed_max: u8,
    /// Longest word n-gram (0 = none).
    pub word_max: u8,
}

impl FeatureSpec {
    pub const KOREAN: FeatureSpec = FeatureSpec {
        bits: 24,
        char_min: 1,
        char_max: 5,
        squeezed_max: 4,
        word_max: 2,
    };
    pub const ENGLISH: FeatureSpec = FeatureSpec {
        bits: 20,
        char_min: 3,
        char_max: 5,
        squeezed_max: 0,
        word_max: 3,
    };

    pub fn table_size(&self) -> usize {
        1usize << self.bits
    }
}

const SEED_CHAR: u64 = 0x9E37_79B9_7F4A_7C15;
const SEED_SQUEEZED: u64 = 0xC2B2_AE3D_27D4_EB4F;
const SEED_WORD: u64 = 0x1656_67B1_9E37_79F9;

#[inline]
fn mix(h: u64, x: u64) -> u64 {
    (h ^ x).wrapping_mul(0x5851_F42D_4C95_7F2D).rotate_left(29)
}

#[inline]
fn finish(h: u64, bits: u8) -> u32 {
    let h = h ^ (h >> 31);
    let h = h.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    (h >> (64 - bits as u32)) as u32
}

/// Reusable buffers for feature extraction; one per thread.
#[derive(Debug, Default)]
pub struct Extractor {
    text: String,
    chars: Vec<char>,
    squeezed: Vec<char>,
    words: Vec<u64>,
}

impl Extractor {
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes the feature indices of `text` into `out` (cleared first). An index may
    /// repeat; the model counts each occurrence, which is what training saw too.
    pub fn extract(&mut self, spec: &FeatureSpec, text: &str, out: &mut Vec<u32>) {
        out.clear();
        normalize_into(text, &mut self.text);
        self.chars.clear();
        self.chars.push(' ');
        self.chars.extend(self.text.chars());
        self.chars.push(' ');
        let bits = spec.bits;
        // A constant feature acts as the bias.
        out.push(0);
        for n in spec.char_min as usize..=spec.char_max as usize {
            ngrams(&self.chars, n, SEED_CHAR, bits, out);
        }
        if spec.squeezed_max >= 2 {
            self.squeezed.clear();
            self.squeezed
                .extend(self.chars.iter().copied().filter(|c| *c != ' '));
            for n in 2..=spec.squeezed_max as usize {
                ngrams(&self.squeezed, n, SEED_SQUEEZED, bits, out);
            }
        }
        if spec.word_max >= 1 {
            self.words.clear();
            for word in self.text.split(' ').filter(|w| !w.is_empty()) {
                let h = word.chars().fold(SEED_WORD, |h, c| mix(h, c as u64));
                self.words.push(h);
            }
            for n in 1..=spec.word_max as usize {
                for window in self.words.windows(n) {
                    let h = window.iter().fold(SEED_WORD ^ n as u64, |h, w| mix(h, *w));
                    out.push(finish(h, bits).max(1));
                }
            }
        }
    }
}

fn ngrams(chars: &[char], n: usize, seed: u64, bits: u8, out: &mut Vec<u32>) {
    if chars.len() < n {
        return;
    }
    for window in chars.windows(n) {
        // A lone space says nothing.
        if n == 1 && window[0] == ' ' {
            continue;
        }
        let h = window
            .iter()
            .fold(seed ^ n as u64, |h, c| mix(h, *c as u64));
        out.push(finish(h, bits).max(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_are_stable_and_in_range() {
        let spec = FeatureSpec::KOREAN;
        let mut x = Extractor::new();
        let mut a = Vec::new();
        let mut b = Vec::new();
        x.extract(&spec, "배송이 너무 늦어요ㅠㅠㅠㅠ", &mut a);
        x.extract(&spec, "배송이  너무 늦어요ㅠㅠ", &mut b);
        assert_eq!(a, b, "normalisation makes these the same text");
        assert!(a.iter().all(|i| (*i as usize) < spec.table_size()));
        assert_eq!(a[0], 0, "bias feature first");
        x.extract(&spec, "배송이너무늦어요", &mut b);
        let shared = b.iter().filter(|i| a.contains(i)).count();
        assert!(shared * 2 > b.len(), "spacing errors keep most features");
    }
}
