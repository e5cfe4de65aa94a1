//! Feedback as it enters the stream: where it came from, and a rating checked against
//! its scale and mapped to 0..1 so that a 5-star review, an NPS answer (0–10) and a CES
//! answer (1–7) can be compared.

use serde::{Deserialize, Serialize};

use crate::channel::Channel;
use crate::{CoreError, CoreResult};

/// Where a piece of feedback came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Survey,
    Review,
    Social,
    AppStore,
    Support,
    /// Employee pulse surveys (eNPS), reported beside the customers' scores.
    Employee,
}

impl Source {
    pub const ALL: [Source; 6] = [
        Source::Survey,
        Source::Review,
        Source::Social,
        Source::AppStore,
        Source::Support,
        Source::Employee,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Survey => "survey",
            Source::Review => "review",
            Source::Social => "social",
            Source::AppStore => "app_store",
            Source::Support => "support",
            Source::Employee => "employee",
        }
    }

    pub fn parse(s: &str) -> CoreResult<Source> {
        let key = s.trim().to_ascii_lowercase().replace(['-', ' '], "_");
        Source::ALL
            .into_iter()
            .find(|src| src.as_str() == key || (key == "appstore" && *src == Source::AppStore))
            .ok_or_else(|| {
                CoreError::new(
                    "source",
                    format!(
                        "unknown source {s:?}; one of survey, review, social, app_store, support, employee"
                    ),
                )
            })
    }

    /// The channel feedback from this source arrived through when the sender names none.
    pub fn default_channel(self) -> Channel {
        match self {
            Source::Survey | Source::Review => Channel::Web,
            Source::Social => Channel::Social,
            Source::AppStore => Channel::App,
            Source::Support => Channel::Messenger,
            Source::Employee => Channel::Custom,
        }
    }
}

/// The sentiment label of text read as negative.
pub const NEGATIVE_LABEL: &str = "negative";
/// A normalised rating (0..1) at or below this is negative: the lower half of any scale.
pub const NEGATIVE_SCORE_MAX: f64 = 0.5;

/// Whether feedback counts as negative (for root causes and their suggestions): negative
/// text, or a rating in the lower half of its scale. The store groups feedback by the same
/// rule, written in SQL from these two constants.
pub fn is_negative(sentiment_label: Option<&str>, score: Option<f64>) -> bool {
    sentiment_label == Some(NEGATIVE_LABEL) || score.is_some_and(|s| s <= NEGATIVE_SCORE_MAX)
}

/// What a rating measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// 0–10, "how likely are you to recommend".
    Nps,
    /// 1–5 satisfaction.
    Csat,
    /// 1–7 effort (higher is easier).
    Ces,
    /// Any other scale, such as review stars.
    Rating,
}

impl Metric {
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::Nps => "nps",
            Metric::Csat => "csat",
            Metric::Ces => "ces",
            Metric::Rating => "rating",
        }
    }

    pub fn parse(s: &str) -> CoreResult<Metric> {
        match s.trim().to_ascii_lowercase().as_str() {
            "nps" | "enps" => Ok(Metric::Nps),
            "csat" => Ok(Metric::Csat),
            "ces" => Ok(Metric::Ces),
            "rating" | "stars" | "" => Ok(Metric::Rating),
            _ => Err(CoreError::new(
                "metric",
                format!("unknown metric {s:?}; one of nps, csat, ces, rating"),
            )),
        }
    }

    /// The fixed scale of the standard metrics.
    pub fn fixed_scale(self) -> Option<(f64, f64)> {
        match self {
            Metric::Nps => Some((0.0, 10.0)),
            Metric::Csat => Some((1.0, 5.0)),
            Metric::Ces => Some((1.0, 7.0)),
            Metric::Rating => None,
        }
    }
}

/// Review stars when no scale is given.
pub const DEFAULT_SCALE: (f64, f64) = (1.0, 5.0);

/// A rating checked against its scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rating {
    pub metric: Metric,
    pub value: f64,
    pub min: f64,
    pub max: f64,
    /// `(value − min) / (max − min)`.
    pub normalised: f64,
}

impl Rating {
    /// Checks `value` on `metric`'s scale: the standard metrics take whole numbers on their
    /// own scale (a different scale given with them is an error); other ratings take any
    /// number on the given scale, 1–5 by default.
    pub fn new(
        metric: Metric,
        value: f64,
        min: Option<f64>,
        max: Option<f64>,
    ) -> CoreResult<Rating> {
        let err = |m: String| CoreError::new("rating", m);
        if !value.is_finite() {
            return Err(err(format!("not a number: {value}")));
        }
        let (lo, hi) = match (metric.fixed_scale(), min, max) {
            (Some(fixed), None, None) => fixed,
            (Some(fixed), Some(a), Some(b)) if (a, b) == fixed => fixed,
            (Some((a, b)), _, _) => {
                return Err(err(format!(
                    "{} is always on a {a}–{b} scale",
                    metric.as_str()
                )));
            }
            (None, None, None) => DEFAULT_SCALE,
            (None, Some(a), Some(b)) => (a, b),
            (None, _, _) => return Err(err("give both ends of the scale, or neither".into())),
        };
        if !(lo.is_finite() && hi.is_finite()) || hi <= lo || hi - lo > 1000.0 {
            return Err(err(format!("not a usable scale: {lo}–{hi}")));
        }
        if metric.fixed_scale().is_some() && value.fract() != 0.0 {
            return Err(err(format!(
                "{} answers are whole numbers: {value}",
                metric.as_str()
            )));
        }
        if value < lo || value > hi {
            return Err(err(format!("{value} is off the {lo}–{hi} scale")));
        }
        Ok(Rating {
            metric,
            value,
            min: lo,
            max: hi,
            normalised: (value - lo) / (hi - lo),
        })
    }
}

crate::read_by_name!(Source, Metric);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_parse_in_their_usual_spellings() {
        assert_eq!(Source::parse("App Store").unwrap(), Source::AppStore);
        assert_eq!(Source::parse("appstore").unwrap(), Source::AppStore);
        assert_eq!(Source::parse(" Review ").unwrap(), Source::Review);
        assert!(Source::parse("fax").is_err());
        assert_eq!(Source::Social.default_channel(), Channel::Social);
    }

    #[test]
    fn standard_metrics_keep_their_scale() {
        let nps = Rating::new(Metric::Nps, 9.0, None, None).unwrap();
        assert_eq!((nps.min, nps.max, nps.normalised), (0.0, 10.0, 0.9));
        assert!(Rating::new(Metric::Nps, 11.0, None, None).is_err());
        assert!(
            Rating::new(Metric::Csat, 4.5, None, None).is_err(),
            "whole numbers"
        );
        assert!(Rating::new(Metric::Csat, 4.0, Some(1.0), Some(10.0)).is_err());
        assert!(Rating::new(Metric::Ces, 7.0, Some(1.0), Some(7.0)).is_ok());
    }

    #[test]
    fn other_ratings_take_their_own_scale() {
        let stars = Rating::new(Metric::Rating, 4.0, None, None).unwrap();
        assert_eq!(stars.normalised, 0.75);
        let ten = Rating::new(Metric::Rating, 7.5, Some(0.0), Some(10.0)).unwrap();
        assert_eq!(ten.normalised, 0.75);
        assert!(Rating::new(Metric::Rating, 3.0, Some(5.0), Some(1.0)).is_err());
        assert!(Rating::new(Metric::Rating, 3.0, Some(1.0), None).is_err());
        assert!(Rating::new(Metric::Rating, f64::NAN, None, None).is_err());
        assert_eq!(Metric::parse("eNPS").unwrap(), Metric::Nps);
    }
}
