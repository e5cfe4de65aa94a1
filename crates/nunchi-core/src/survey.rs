//! Surveys as data: questions (NPS, CSAT, CES, rating, single and multiple choice, free
//! text) with Korean and English text, skip logic that only jumps forward, the checks an
//! answer must pass, and the rules against survey fatigue that decide whether a customer
//! may be asked now — each refusal with a reason a person can read.

use serde::{Deserialize, Serialize};

use crate::feedback::Metric;
use crate::{CoreError, CoreResult};

/// The most questions one survey may hold.
pub const MAX_QUESTIONS: usize = 30;
const MAX_TEXT: usize = 500;
/// The longest free-text answer kept.
pub const MAX_ANSWER_CHARS: usize = 5_000;
const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    /// 0–10, "how likely are you to recommend us".
    Nps,
    /// 1–5 satisfaction.
    Csat,
    /// 1–7 effort (higher is easier).
    Ces,
    /// 1 to `scale_max` stars (3–10, 5 by default).
    Rating,
    Single,
    Multi,
    Text,
}

impl QuestionKind {
    pub const ALL: [QuestionKind; 7] = [
        Self::Nps,
        Self::Csat,
        Self::Ces,
        Self::Rating,
        Self::Single,
        Self::Multi,
        Self::Text,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nps => "nps",
            Self::Csat => "csat",
            Self::Ces => "ces",
            Self::Rating => "rating",
            Self::Single => "single",
            Self::Multi => "multi",
            Self::Text => "text",
        }
    }

    pub fn parse(s: &str) -> CoreResult<QuestionKind> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or_else(|| {
                CoreError::new(
                    "kind",
                    format!("unknown question kind {s:?}; one of nps, csat, ces, rating, single, multi, text"),
                )
            })
    }

    fn has_choices(self) -> bool {
        matches!(self, Self::Single | Self::Multi)
    }
}

/// Text in both UI languages; either may be empty, not both.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Localized {
    #[serde(default)]
    pub ko: String,
    #[serde(default)]
    pub en: String,
}

impl Localized {
    /// The text in `lang` (`ko` or `en`), or the other language's when that one is empty.
    pub fn get(&self, lang: &str) -> &str {
        let (first, second) = if lang == "ko" {
            (&self.ko, &self.en)
        } else {
            (&self.en, &self.ko)
        };
        if first.trim().is_empty() {
            second
        } else {
            first
        }
    }

    fn check(&self, what: &str) -> CoreResult<()> {
        if self.ko.trim().is_empty() && self.en.trim().is_empty() {
            return Err(CoreError::new(
                "questions",
                format!("{what} needs Korean or English text"),
            ));
        }
        if self.ko.chars().count() > MAX_TEXT || self.en.chars().count() > MAX_TEXT {
            return Err(CoreError::new(
                "questions",
                format!("{what} is longer than {MAX_TEXT} characters"),
            ));
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub id: String,
    #[serde(flatten)]
    pub label: Localized,
}

/// When a skip-logic jump applies, tested against the answer just given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", content = "value", rename_all = "snake_case")]
pub enum Condition {
    /// A number answer at most this.
    AtMost(f64),
    /// A number answer at least this.
    AtLeast(f64),
    /// The choice picked (single) or one of those picked (multiple).
    Chose(String),
    Answered,
    Skipped,
}

/// Skip logic: when the condition holds, go to `to` (a later question's id, or `end`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Jump {
    pub when: Condition,
    pub to: String,
}

/// Where a jump to `end` goes.
pub const END: &str = "end";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Question {
    pub id: String,
    pub kind: QuestionKind,
    pub text: Localized,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Choice>,
    #[serde(default)]
    pub required: bool,
    /// Stars for a rating question (3–10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_max: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub logic: Vec<Jump>,
}

/// A checked answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    Number(i64),
    Text(String),
    Choices(Vec<String>),
}

impl Question {
    /// The scale a number answer lies on, for the kinds that have one.
    pub fn scale(&self) -> Option<(i64, i64)> {
        match self.kind {
            QuestionKind::Nps => Some((0, 10)),
            QuestionKind::Csat => Some((1, 5)),
            QuestionKind::Ces => Some((1, 7)),
            QuestionKind::Rating => Some((1, self.scale_max.unwrap_or(5))),
            _ => None,
        }
    }

    /// What a number answer to this question measures, when it becomes feedback.
    pub fn metric(&self) -> Option<Metric> {
        match self.kind {
            QuestionKind::Nps => Some(Metric::Nps),
            QuestionKind::Csat => Some(Metric::Csat),
            QuestionKind::Ces => Some(Metric::Ces),
            QuestionKind::Rating => Some(Metric::Rating),
            _ => None,
        }
    }

    /// Checks a raw answer from a form or the widget. `None` (or an empty one): skipped,
    /// allowed only when the question is optional.
    pub fn check_answer(&self, raw: Option<&RawAnswer>) -> CoreResult<Option<Answer>> {
        let err = |m: String| Err(CoreError::new("answer", format!("{}: {m}", self.id)));
        let raw = match raw {
            Some(RawAnswer::Text(s)) if s.trim().is_empty() => None,
            Some(RawAnswer::List(l)) if l.is_empty() => None,
            other => other,
        };
        let Some(raw) = raw else {
            return if self.required {
                err("this question needs an answer".into())
            } else {
                Ok(None)
            };
        };
        if let Some((lo, hi)) = self.scale() {
            let n = match raw {
                RawAnswer::Number(n) if n.fract() == 0.0 => Some(*n as i64),
                RawAnswer::Text(s) => s.trim().parse().ok(),
                _ => None,
            };
            return match n {
                Some(n) if (lo..=hi).contains(&n) => Ok(Some(Answer::Number(n))),
                _ => err(format!("answer with a whole number from {lo} to {hi}")),
            };
        }
        match (self.kind, raw) {
            (QuestionKind::Text, RawAnswer::Text(s)) if s.chars().count() <= MAX_ANSWER_CHARS => {
                Ok(Some(Answer::Text(s.trim().to_string())))
            }
            (QuestionKind::Text, RawAnswer::Text(_)) => {
                err(format!("at most {MAX_ANSWER_CHARS} characters"))
            }
            (QuestionKind::Text, _) => err("answer with text".into()),
            (kind, raw) => {
                let picked: Vec<String> = match raw {
                    RawAnswer::Text(s) => vec![s.clone()],
                    RawAnswer::List(l) => l.clone(),
                    RawAnswer::Number(_) => Vec::new(),
                };
                if picked.is_empty()
                    || picked
                        .iter()
                        .any(|p| !self.choices.iter().any(|c| &c.id == p))
                {
                    return err("pick one of the listed choices".into());
                }
                if kind == QuestionKind::Single {
                    if picked.len() > 1 {
                        return err("pick only one choice".into());
                    }
                    return Ok(Some(Answer::Text(picked[0].clone())));
                }
                let mut unique = Vec::new();
                for p in picked {
                    if !unique.contains(&p) {
                        unique.push(p);
                    }
                }
                Ok(Some(Answer::Choices(unique)))
            }
        }
    }
}

/// An answer as it arrives from a form or the widget, before it is checked.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum RawAnswer {
    Number(f64),
    Text(String),
    List(Vec<String>),
}

impl Condition {
    fn holds(&self, answer: Option<&Answer>) -> bool {
        match (self, answer) {
            (Self::Answered, a) => a.is_some(),
            (Self::Skipped, a) => a.is_none(),
            (Self::AtMost(v), Some(Answer::Number(n))) => (*n as f64) <= *v,
            (Self::AtLeast(v), Some(Answer::Number(n))) => (*n as f64) >= *v,
            (Self::Chose(c), Some(Answer::Text(t))) => c == t,
            (Self::Chose(c), Some(Answer::Choices(cs))) => cs.contains(c),
            _ => false,
        }
    }
}

/// Checks a whole survey: 1–30 questions with unique ids, text in at least one language,
/// choices where the kind needs them, and skip logic that names a later question or `end`
/// and tests what the question can answer. Jumps only go forward, so no survey loops.
pub fn validate(questions: &[Question]) -> CoreResult<()> {
    if questions.is_empty() || questions.len() > MAX_QUESTIONS {
        return Err(CoreError::new(
            "questions",
            format!("a survey has 1–{MAX_QUESTIONS} questions"),
        ));
    }
    for (i, q) in questions.iter().enumerate() {
        let valid_id = !q.id.is_empty()
            && q.id.len() <= 32
            && q.id != END
            && q.id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid_id {
            return Err(CoreError::new(
                "questions",
                format!(
                    "question {}: the id {:?} must be 1–32 letters, digits, _ or -",
                    i + 1,
                    q.id
                ),
            ));
        }
        if questions[..i].iter().any(|p| p.id == q.id) {
            return Err(CoreError::new(
                "questions",
                format!("two questions have the id {:?}", q.id),
            ));
        }
        q.text.check(&format!("question {:?}", q.id))?;
        if q.kind.has_choices() {
            if !(2..=20).contains(&q.choices.len()) {
                return Err(CoreError::new(
                    "questions",
                    format!("{}: a choice question has 2–20 choices", q.id),
                ));
            }
            for (j, c) in q.choices.iter().enumerate() {
                c.label.check(&format!("a choice of {:?}", q.id))?;
                if c.id.is_empty() || q.choices[..j].iter().any(|p| p.id == c.id) {
                    return Err(CoreError::new(
                        "questions",
                        format!(
                            "{}: choice ids must be unique and not empty ({:?})",
                            q.id, c.id
                        ),
                    ));
                }
            }
        } else if !q.choices.is_empty() {
            return Err(CoreError::new(
                "questions",
                format!("{}: a {} question has no choices", q.id, q.kind.as_str()),
            ));
        }
        if q.kind == QuestionKind::Rating && q.scale_max.is_some_and(|m| !(3..=10).contains(&m)) {
            return Err(CoreError::new(
                "questions",
                format!("{}: a rating scale has 3–10 stars", q.id),
            ));
        }
        for jump in &q.logic {
            let target_ok = jump.to == END || questions[i + 1..].iter().any(|p| p.id == jump.to);
            if !target_ok {
                return Err(CoreError::new(
                    "questions",
                    format!(
                        "{}: skip logic goes to {:?}, which is not a later question or end",
                        q.id, jump.to
                    ),
                ));
            }
            let fits = match &jump.when {
                Condition::AtMost(_) | Condition::AtLeast(_) => q.scale().is_some(),
                Condition::Chose(c) => q.choices.iter().any(|x| &x.id == c),
                Condition::Answered | Condition::Skipped => true,
            };
            if !fits {
                return Err(CoreError::new(
                    "questions",
                    format!(
                        "{}: a skip condition does not fit this question's answers",
                        q.id
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// The question after `index` given its answer: the first jump that holds, else the next
/// question. `None`: the survey is over.
pub fn next(questions: &[Question], index: usize, answer: Option<&Answer>) -> Option<usize> {
    let q = questions.get(index)?;
    match q.logic.iter().find(|j| j.when.holds(answer)) {
        Some(j) if j.to == END => None,
        Some(j) => questions.iter().position(|p| p.id == j.to),
        None => (index + 1 < questions.len()).then_some(index + 1),
    }
}

crate::named_enum! {
    /// How often the same survey may reach the same person.
    pub enum Repeat("repeat") {
        /// Shown once, answered or not.
        Once = "once",
        /// Shown again (after the minimum gap) until answered.
        UntilAnswered = "until_answered",
        /// Every time it is due, within the other limits.
        Always = "always",
    }
}

crate::named_enum! {
    /// A survey's state: built as a draft, live, or closed to new answers.
    pub enum SurveyStatus("survey status") {
        Draft = "draft",
        Active = "active",
        Closed = "closed",
    }
}

crate::named_enum! {
    /// Who a survey asks: customers (its answers are customer feedback) or employees (a
    /// pulse, whose answers feed eNPS and meet only rules that name their source).
    pub enum Audience("audience") {
        Customers = "survey",
        Employees = "employee",
    }
}

/// One survey's limits against fatigue.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fatigue {
    /// Share of eligible contacts that are asked (0–1).
    pub sample_rate: f64,
    /// Days that must pass after a person was last surveyed (by any survey).
    pub min_days: i64,
    pub repeat: Repeat,
    /// Surveys one person may receive per 30 days, across all surveys (the brand's cap).
    pub global_cap: Option<i64>,
}

/// What has reached a person so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Exposure {
    /// When any survey last reached them.
    pub last_contact_at: Option<i64>,
    /// Surveys that reached them in the last 30 days.
    pub contacts_30d: i64,
    /// Times this survey reached them.
    pub shown_this: i64,
    pub answered_this: bool,
}

/// Why a survey was not shown or sent. Each is counted and explained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Suppressed {
    AlreadyAnswered,
    AlreadyShown,
    /// Surveyed this many days ago, fewer than the minimum gap.
    TooSoon(i64),
    /// Surveyed this many times in the last 30 days, at the cap.
    GlobalCap(i64),
    SampledOut,
    NoEmail,
    NotActive,
}

impl Suppressed {
    pub fn code(self) -> &'static str {
        match self {
            Self::AlreadyAnswered => "already_answered",
            Self::AlreadyShown => "already_shown",
            Self::TooSoon(_) => "too_soon",
            Self::GlobalCap(_) => "global_cap",
            Self::SampledOut => "sampled_out",
            Self::NoEmail => "no_email",
            Self::NotActive => "not_active",
        }
    }

    /// The number in the explanation (days ago, surveys in 30 days), if any.
    pub fn value(self) -> Option<i64> {
        match self {
            Self::TooSoon(n) | Self::GlobalCap(n) => Some(n),
            _ => None,
        }
    }

    /// Back from a stored code and value.
    pub fn from_parts(code: &str, value: Option<i64>) -> Option<Suppressed> {
        let v = value.unwrap_or(0);
        Some(match code {
            "already_answered" => Self::AlreadyAnswered,
            "already_shown" => Self::AlreadyShown,
            "too_soon" => Self::TooSoon(v),
            "global_cap" => Self::GlobalCap(v),
            "sampled_out" => Self::SampledOut,
            "no_email" => Self::NoEmail,
            "not_active" => Self::NotActive,
            _ => return None,
        })
    }

    /// "not shown: surveyed 3 days ago", in Korean or English.
    pub fn explain(self, lang: &str) -> String {
        let ko = lang == "ko";
        match (self, ko) {
            (Self::AlreadyAnswered, false) => "not shown: already answered this survey".into(),
            (Self::AlreadyAnswered, true) => "미표시: 이미 이 설문에 응답함".into(),
            (Self::AlreadyShown, false) => "not shown: this survey is shown once".into(),
            (Self::AlreadyShown, true) => "미표시: 한 번만 보여 주는 설문".into(),
            (Self::TooSoon(d), false) => format!(
                "not shown: surveyed {d} day{} ago",
                if d == 1 { "" } else { "s" }
            ),
            (Self::TooSoon(d), true) => format!("미표시: {d}일 전에 설문함"),
            (Self::GlobalCap(n), false) => {
                format!("not shown: already surveyed {n} times in 30 days")
            }
            (Self::GlobalCap(n), true) => format!("미표시: 30일 동안 이미 {n}번 설문함"),
            (Self::SampledOut, false) => "not shown: outside the sample".into(),
            (Self::SampledOut, true) => "미표시: 표본에서 제외됨".into(),
            (Self::NoEmail, false) => "not sent: no e-mail address".into(),
            (Self::NoEmail, true) => "미발송: 이메일 주소 없음".into(),
            (Self::NotActive, false) => "not shown: the survey is not active".into(),
            (Self::NotActive, true) => "미표시: 설문이 진행 중이 아님".into(),
        }
    }

    /// The reason without its number, for a count of many ("not shown: surveyed recently").
    pub fn explain_kind(self, lang: &str) -> String {
        let ko = lang == "ko";
        match (self, ko) {
            (Self::TooSoon(_), false) => "not shown: surveyed recently".into(),
            (Self::TooSoon(_), true) => "미표시: 최근에 설문함".into(),
            (Self::GlobalCap(_), false) => "not shown: at the 30-day survey cap".into(),
            (Self::GlobalCap(_), true) => "미표시: 30일 설문 한도에 도달".into(),
            (other, _) => other.explain(lang),
        }
    }
}

/// Whether a survey may reach a person now. `draw` is a uniform number in 0..1 for the
/// sampling decision (the caller owns the randomness). Sampling comes last, so only
/// people who were otherwise eligible count as sampled out.
pub fn decide(f: &Fatigue, e: &Exposure, now: i64, draw: f64) -> Result<(), Suppressed> {
    match f.repeat {
        Repeat::Once if e.shown_this > 0 => {
            return Err(if e.answered_this {
                Suppressed::AlreadyAnswered
            } else {
                Suppressed::AlreadyShown
            });
        }
        Repeat::UntilAnswered if e.answered_this => return Err(Suppressed::AlreadyAnswered),
        _ => {}
    }
    if let Some(last) = e.last_contact_at
        && f.min_days > 0
        && now - last < f.min_days * DAY_MS
    {
        return Err(Suppressed::TooSoon((now - last).max(0) / DAY_MS));
    }
    if let Some(cap) = f.global_cap
        && e.contacts_30d >= cap
    {
        return Err(Suppressed::GlobalCap(e.contacts_30d));
    }
    if draw >= f.sample_rate {
        return Err(Suppressed::SampledOut);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn nps_then_text() -> Vec<Question> {
        serde_json::from_value(json!([
            {"id": "nps", "kind": "nps", "text": {"ko": "추천하시겠어요?", "en": "Would you recommend us?"}, "required": true,
             "logic": [{"when": {"op": "at_least", "value": 9}, "to": "praise"}]},
            {"id": "why", "kind": "text", "text": {"en": "What went wrong?"},
             "logic": [{"when": {"op": "answered"}, "to": "end"}]},
            {"id": "praise", "kind": "single", "text": {"ko": "무엇이 좋았나요?"},
             "choices": [{"id": "speed", "ko": "배송"}, {"id": "price", "en": "Price"}]}
        ]))
        .unwrap()
    }

    #[test]
    fn skip_logic_follows_the_first_matching_jump() {
        let qs = nps_then_text();
        validate(&qs).unwrap();
        assert_eq!(next(&qs, 0, Some(&Answer::Number(10))), Some(2));
        assert_eq!(next(&qs, 0, Some(&Answer::Number(3))), Some(1));
        assert_eq!(next(&qs, 1, Some(&Answer::Text("late".into()))), None);
        assert_eq!(next(&qs, 1, None), Some(2));
        assert_eq!(next(&qs, 2, Some(&Answer::Text("speed".into()))), None);
    }

    #[test]
    fn answers_are_checked_against_the_question() {
        let qs = nps_then_text();
        let raw = |v: serde_json::Value| serde_json::from_value::<Option<RawAnswer>>(v).unwrap();
        let check = |q: &Question, v| q.check_answer(raw(v).as_ref());
        assert_eq!(check(&qs[0], json!("7")).unwrap(), Some(Answer::Number(7)));
        assert!(check(&qs[0], json!(11)).is_err());
        assert!(check(&qs[0], json!(7.5)).is_err());
        assert!(check(&qs[0], json!(null)).is_err(), "required");
        assert_eq!(check(&qs[1], json!("  ")).unwrap(), None);
        assert!(check(&qs[2], json!("nope")).is_err());
        assert!(check(&qs[2], json!(["speed", "price"])).is_err());
        assert_eq!(
            check(&qs[2], json!("price")).unwrap(),
            Some(Answer::Text("price".into()))
        );
        assert_eq!(
            qs[2].text.get("en"),
            "무엇이 좋았나요?",
            "falls back to Korean"
        );
    }

    #[test]
    fn backward_jumps_and_bad_conditions_are_refused() {
        let mut qs = nps_then_text();
        qs[2].logic = vec![Jump {
            when: Condition::Answered,
            to: "nps".into(),
        }];
        assert!(validate(&qs).is_err(), "a jump back could loop");
        let mut qs = nps_then_text();
        qs[1].logic = vec![Jump {
            when: Condition::AtMost(3.0),
            to: END.into(),
        }];
        assert!(validate(&qs).is_err(), "a text answer has no number");
        let mut qs = nps_then_text();
        qs[2].choices.truncate(1);
        assert!(validate(&qs).is_err());
        let mut qs = nps_then_text();
        qs[1].id = "nps".into();
        assert!(validate(&qs).is_err());
    }

    fn fatigue(repeat: Repeat) -> Fatigue {
        Fatigue {
            sample_rate: 0.5,
            min_days: 14,
            repeat,
            global_cap: Some(3),
        }
    }

    #[test]
    fn fatigue_rules_explain_each_refusal() {
        let now = 100 * DAY_MS;
        let fresh = Exposure::default();
        assert_eq!(decide(&fatigue(Repeat::Once), &fresh, now, 0.2), Ok(()));
        assert_eq!(
            decide(&fatigue(Repeat::Once), &fresh, now, 0.7),
            Err(Suppressed::SampledOut)
        );
        let recent = Exposure {
            last_contact_at: Some(now - 3 * DAY_MS - 5),
            contacts_30d: 1,
            ..Default::default()
        };
        let refused = decide(&fatigue(Repeat::Always), &recent, now, 0.0).unwrap_err();
        assert_eq!(refused, Suppressed::TooSoon(3));
        assert_eq!(refused.explain("en"), "not shown: surveyed 3 days ago");
        assert_eq!(refused.explain("ko"), "미표시: 3일 전에 설문함");
        let capped = Exposure {
            last_contact_at: Some(now - 20 * DAY_MS),
            contacts_30d: 3,
            ..Default::default()
        };
        assert_eq!(
            decide(&fatigue(Repeat::Always), &capped, now, 0.0),
            Err(Suppressed::GlobalCap(3))
        );
        let answered = Exposure {
            shown_this: 1,
            answered_this: true,
            ..Default::default()
        };
        assert_eq!(
            decide(&fatigue(Repeat::UntilAnswered), &answered, now, 0.0),
            Err(Suppressed::AlreadyAnswered)
        );
        let shown = Exposure {
            shown_this: 1,
            ..Default::default()
        };
        assert_eq!(
            decide(&fatigue(Repeat::Once), &shown, now, 0.0),
            Err(Suppressed::AlreadyShown)
        );
        assert_eq!(
            decide(&fatigue(Repeat::UntilAnswered), &shown, now, 0.0),
            Ok(())
        );
        for s in [
            Suppressed::TooSoon(3),
            Suppressed::GlobalCap(4),
            Suppressed::NoEmail,
        ] {
            assert_eq!(Suppressed::from_parts(s.code(), s.value()), Some(s));
        }
    }
}
