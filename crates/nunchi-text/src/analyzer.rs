//! The entry point the product uses: detect the language, then score with that
//! language's shipped model. Text in another language gets a neutral score unless it is
//! written in Latin script, where the English model is the better guess.

use std::cell::RefCell;
use std::sync::OnceLock;

use crate::features::Extractor;
use crate::lang::{Lang, detect};
use crate::lexicon;
use crate::model::{Label, Model, ModelError, Sentiment};

static KOREAN_MODEL: &[u8] = include_bytes!("../models/sentiment-ko.bin.gz");
static ENGLISH_MODEL: &[u8] = include_bytes!("../models/sentiment-en.bin.gz");
static SHIPPED: OnceLock<Analyzer> = OnceLock::new();

/// How much one lexicon point moves the margin; chosen so that the lexicon decides
/// service texts the movie-review model has no view on, without moving NSMC accuracy
/// (`nunchi text eval` measures both paths).
const LEXICON_WEIGHT: f32 = 0.6;

thread_local! {
    static SCRATCH: RefCell<(Extractor, Vec<u32>)> = RefCell::new((Extractor::new(), Vec::with_capacity(1024)));
}

/// Language and sentiment of one text.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Scored {
    pub lang: Lang,
    pub label: Label,
    pub score: f32,
}

/// Sentiment for Korean and English text.
#[derive(Debug, Clone)]
pub struct Analyzer {
    ko: Model,
    en: Model,
}

impl Analyzer {
    /// The models compiled into this build, unpacked on first use (tens of
    /// milliseconds) and shared afterwards.
    pub fn shipped() -> &'static Analyzer {
        SHIPPED.get_or_init(|| Analyzer {
            ko: Model::from_bytes(KOREAN_MODEL).expect("the shipped Korean model is valid"),
            en: Model::from_bytes(ENGLISH_MODEL).expect("the shipped English model is valid"),
        })
    }

    /// Other models, for evaluation and retraining.
    pub fn with_models(ko: Model, en: Model) -> Result<Analyzer, ModelError> {
        if ko.lang != Lang::Ko || en.lang != Lang::En {
            return Err(ModelError::Header("models given for the wrong languages"));
        }
        Ok(Analyzer { ko, en })
    }

    pub fn model(&self, lang: Lang) -> Option<&Model> {
        match lang {
            Lang::Ko => Some(&self.ko),
            Lang::En => Some(&self.en),
            Lang::Other => None,
        }
    }

    /// Language and sentiment of `text`.
    pub fn sentiment(&self, text: &str) -> Scored {
        let lang = detect(text);
        let model = match lang {
            Lang::Ko => &self.ko,
            Lang::En => &self.en,
            Lang::Other if text.chars().any(|c| c.is_ascii_alphabetic()) => &self.en,
            Lang::Other => {
                return Scored {
                    lang,
                    label: Label::Neutral,
                    score: 0.0,
                };
            }
        };
        let Sentiment { label, score } = Self::score_with(model, text);
        Scored { lang, label, score }
    }

    /// Sentiment of `text` under one model, skipping language detection: the model's
    /// margin plus the service-vocabulary lexicon's.
    pub fn score_with(model: &Model, text: &str) -> Sentiment {
        let margin = SCRATCH.with(|s| {
            let (x, buf) = &mut *s.borrow_mut();
            x.extract(&model.spec, text, buf);
            model.margin(buf)
        });
        let prior = lexicon::polarity(text, model.lang) * LEXICON_WEIGHT;
        model.from_margin(margin + prior)
    }
}
