//! The sentiment model: one weight per hashed feature, quantised to a signed byte, and
//! the file format it ships in. Scoring a text is one table lookup per n-gram.

use std::io::Read;
use std::sync::Arc;

use crate::features::{Extractor, FeatureSpec};
use crate::lang::Lang;

const MAGIC: &[u8; 8] = b"NUNCHITX";
const VERSION: u16 = 1;
const HEADER_LEN: usize = 8 + 2 + 1 + 5 + 4 + 4 + 4;

/// Why a model file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("not a nunchi text model (bad magic bytes)")]
    BadMagic,
    #[error("model format version {0} is not supported (this build reads {VERSION})")]
    Version(u16),
    #[error("model file is truncated: {0} bytes, {1} expected")]
    Truncated(usize, usize),
    #[error("model header is invalid: {0}")]
    Header(&'static str),
    #[error("model file is not valid gzip: {0}")]
    Gzip(String),
}

/// A sentiment label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    Negative = 0,
    Neutral = 1,
    Positive = 2,
}

impl Label {
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Negative => "negative",
            Label::Neutral => "neutral",
            Label::Positive => "positive",
        }
    }
}

/// A sentiment: `score` in [-1, 1], its sign the polarity, and the label it implies.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Sentiment {
    pub label: Label,
    pub score: f32,
}

/// A trained linear model over hashed features, in its shipped (quantised) form.
#[derive(Debug, Clone)]
pub struct Model {
    pub lang: Lang,
    pub spec: FeatureSpec,
    /// Weight of table entry i is `weights[i] as i8 as f32 * scale`.
    scale: f32,
    /// Scores within this distance of zero are neutral.
    pub neutral_band: f32,
    /// Multiplies the raw margin before squashing, fitted so scores read as confidence.
    pub temperature: f32,
    /// One signed byte per table entry, shared between clones.
    weights: Arc<[u8]>,
}

fn lang_code(lang: Lang) -> u8 {
    match lang {
        Lang::Ko => 1,
        Lang::En => 2,
        Lang::Other => 0,
    }
}

impl Model {
    /// Quantises float weights (one per table entry) into a model.
    pub fn quantise(lang: Lang, spec: FeatureSpec, weights: &[f32], neutral_band: f32) -> Model {
        assert_eq!(weights.len(), spec.table_size());
        let max = weights.iter().fold(0f32, |m, w| m.max(w.abs()));
        let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
        let bytes: Vec<u8> = weights
            .iter()
            .map(|w| (w / scale).round().clamp(-127.0, 127.0) as i8 as u8)
            .collect();
        Model {
            lang,
            spec,
            scale,
            neutral_band,
            temperature: 1.0,
            weights: bytes.into(),
        }
    }

    /// Reads a model from file bytes, gzip-compressed or not.
    pub fn from_bytes(bytes: &[u8]) -> Result<Model, ModelError> {
        if bytes.starts_with(&[0x1f, 0x8b]) {
            let mut plain = Vec::new();
            flate2::read::GzDecoder::new(bytes)
                .read_to_end(&mut plain)
                .map_err(|e| ModelError::Gzip(e.to_string()))?;
            return Self::from_bytes(&plain);
        }
        let (mut model, body) = Self::header(bytes)?;
        model.weights = body.into();
        Ok(model)
    }

    fn header(bytes: &[u8]) -> Result<(Model, &[u8]), ModelError> {
        if bytes.len() < HEADER_LEN {
            return Err(ModelError::Truncated(bytes.len(), HEADER_LEN));
        }
        if &bytes[..8] != MAGIC {
            return Err(ModelError::BadMagic);
        }
        let version = u16::from_le_bytes([bytes[8], bytes[9]]);
        if version != VERSION {
            return Err(ModelError::Version(version));
        }
        let lang = match bytes[10] {
            1 => Lang::Ko,
            2 => Lang::En,
            0 => Lang::Other,
            _ => return Err(ModelError::Header("unknown language")),
        };
        let spec = FeatureSpec {
            bits: bytes[11],
            char_min: bytes[12],
            char_max: bytes[13],
            squeezed_max: bytes[14],
            word_max: bytes[15],
        };
        if !(8..=26).contains(&spec.bits) || spec.char_min > spec.char_max || spec.char_max > 8 {
            return Err(ModelError::Header("feature spec out of range"));
        }
        let f = |at: usize| f32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
        let (scale, neutral_band, temperature) = (f(16), f(20), f(24));
        if !(scale.is_finite() && scale > 0.0 && neutral_band.is_finite() && temperature > 0.0) {
            return Err(ModelError::Header("non-finite or negative parameters"));
        }
        let expected = HEADER_LEN + spec.table_size();
        if bytes.len() != expected {
            return Err(ModelError::Truncated(bytes.len(), expected));
        }
        let model = Model {
            lang,
            spec,
            scale,
            neutral_band,
            temperature,
            weights: Arc::new([]),
        };
        Ok((model, &bytes[HEADER_LEN..]))
    }

    /// The model file, gzip-compressed (the shipped form).
    pub fn to_gzip(&self) -> Vec<u8> {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&self.to_bytes()).expect("writing to memory");
        gz.finish().expect("writing to memory")
    }

    /// The model file: header then one signed byte per table entry.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.spec.table_size());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.push(lang_code(self.lang));
        let s = self.spec;
        out.extend_from_slice(&[s.bits, s.char_min, s.char_max, s.squeezed_max, s.word_max]);
        out.extend_from_slice(&self.scale.to_le_bytes());
        out.extend_from_slice(&self.neutral_band.to_le_bytes());
        out.extend_from_slice(&self.temperature.to_le_bytes());
        out.extend_from_slice(&self.weights);
        out
    }

    /// The raw margin (log-odds of positive) for already-extracted features.
    pub fn margin(&self, features: &[u32]) -> f32 {
        let w = &self.weights;
        let sum: i32 = features.iter().map(|&i| w[i as usize] as i8 as i32).sum();
        sum as f32 * self.scale * norm(features.len())
    }

    /// The sentiment of one text.
    pub fn sentiment(&self, x: &mut Extractor, buf: &mut Vec<u32>, text: &str) -> Sentiment {
        x.extract(&self.spec, text, buf);
        self.from_margin(self.margin(buf))
    }

    /// Maps a margin to a score in [-1, 1] and a label.
    pub fn from_margin(&self, margin: f32) -> Sentiment {
        let score = (margin * self.temperature * 0.5).tanh();
        let label = if score.abs() < self.neutral_band {
            Label::Neutral
        } else if score > 0.0 {
            Label::Positive
        } else {
            Label::Negative
        };
        Sentiment { label, score }
    }
}

/// Feature values are 1/sqrt(n), so long and short texts score on one scale.
#[inline]
pub fn norm(n: usize) -> f32 {
    1.0 / (n.max(1) as f32).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejections() {
        let spec = FeatureSpec {
            bits: 10,
            ..FeatureSpec::KOREAN
        };
        let weights: Vec<f32> = (0..1024).map(|i| (i as f32 - 512.0) / 100.0).collect();
        let model = Model::quantise(Lang::Ko, spec, &weights, 0.2);
        let bytes = model.to_bytes();
        let back = Model::from_bytes(&bytes).expect("reads back");
        assert_eq!(back.spec, spec);
        assert_eq!(back.to_bytes(), bytes);
        assert!((back.margin(&[1023]) - model.margin(&[1023])).abs() < 1e-6);
        assert!(matches!(
            Model::from_bytes(&bytes[..100]),
            Err(ModelError::Truncated(..))
        ));
        let mut bad = bytes.clone();
        bad[0] = b'X';
        assert!(matches!(Model::from_bytes(&bad), Err(ModelError::BadMagic)));
        let gz = Model::from_bytes(&model.to_gzip()).expect("gzip reads back");
        assert_eq!(gz.to_bytes(), bytes);
        let mut bad = bytes;
        bad[8] = 9;
        assert!(matches!(
            Model::from_bytes(&bad),
            Err(ModelError::Version(9))
        ));
    }
}
