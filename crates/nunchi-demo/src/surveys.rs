//! The demo brand's surveys and closed-loop rules, as data: a post-purchase NPS sent a day
//! after `purchase`, a delivery CSAT with skip logic, a draft employee pulse; rules for
//! detractors and for late-delivery complaints. `nunchi-app` writes them into a store.

use nunchi_core::{
    survey::{
        Audience, Choice, Condition, END, Jump, Localized, Question, QuestionKind, Repeat,
        SurveyStatus,
    },
    survey_edit::{template_question, why_question},
};

/// A demo survey. The touchpoint and stage are named by their event and key, since their
/// ids exist only once the journey map is stored.
#[derive(Debug, Clone)]
pub struct DemoSurvey {
    pub name: &'static str,
    pub status: SurveyStatus,
    pub audience: Audience,
    pub questions: Vec<Question>,
    /// The event of the touchpoint it asks about.
    pub touchpoint_event: Option<&'static str>,
    /// The key of the journey stage it asks about.
    pub stage_key: Option<&'static str>,
    pub trigger_event: Option<&'static str>,
    pub trigger_delay_hours: i64,
    pub sample_rate: f64,
    pub min_days: i64,
    pub repeat: Repeat,
}

impl DemoSurvey {
    /// Whether the demo's generated survey answers on `metric` (`nps`, `csat`) are this
    /// survey's responses: it is live and opens with that question.
    pub fn answers(&self, metric: &str) -> bool {
        self.status == SurveyStatus::Active
            && self.questions.first().is_some_and(|q| q.id == metric)
    }
}

/// A demo closed-loop rule.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoLoopRule {
    pub name: &'static str,
    pub max_score: Option<f64>,
    pub max_sentiment: Option<f64>,
    pub topic: Option<&'static str>,
    pub due_hours: i64,
}

/// Surveys a person may receive in 30 days, at most, across all surveys.
pub const SURVEYS_PER_30_DAYS: i64 = 4;

/// The id of the free-text question that closes every demo survey.
pub use nunchi_core::survey_edit::WHY;

fn text(ko: &str, en: &str) -> Localized {
    Localized {
        ko: ko.into(),
        en: en.into(),
    }
}

fn question(id: &str, kind: QuestionKind, t: Localized) -> Question {
    Question {
        id: id.into(),
        kind,
        text: t,
        choices: Vec::new(),
        required: false,
        scale_max: None,
        logic: Vec::new(),
    }
}

fn choice(id: &str, ko: &str, en: &str) -> Choice {
    Choice {
        id: id.into(),
        label: text(ko, en),
    }
}

pub fn surveys() -> Vec<DemoSurvey> {
    let template = |t| template_question(t).expect("a built-in template");
    let csat = Question {
        required: true,
        logic: vec![Jump {
            when: Condition::AtLeast(4.0),
            to: END.into(),
        }],
        ..question(
            "csat",
            QuestionKind::Csat,
            text(
                "배송에 얼마나 만족하셨나요?",
                "How satisfied were you with the delivery?",
            ),
        )
    };
    let issue = Question {
        choices: vec![
            choice("late", "늦은 도착", "Late arrival"),
            choice("damaged", "파손", "Damaged box"),
            choice("courier", "기사님 응대", "Courier's manner"),
        ],
        ..question(
            "issue",
            QuestionKind::Multi,
            text("어떤 점이 아쉬웠나요?", "What went wrong?"),
        )
    };
    let enps = Question {
        id: "enps".into(),
        ..template("enps")
    };
    let customer_survey = |name, questions, event: &'static str, stage_key| DemoSurvey {
        name,
        status: SurveyStatus::Active,
        audience: Audience::Customers,
        questions,
        touchpoint_event: Some(event),
        stage_key,
        trigger_event: Some(event),
        trigger_delay_hours: 24,
        sample_rate: 0.5,
        min_days: 30,
        repeat: Repeat::UntilAnswered,
    };
    vec![
        customer_survey(
            "구매 후 NPS",
            vec![template("nps"), why_question()],
            "purchase",
            None,
        ),
        customer_survey(
            "배송 만족도",
            vec![csat, issue, why_question()],
            "order_delivered",
            Some("delivery"),
        ),
        DemoSurvey {
            name: "직원 펄스 (eNPS)",
            status: SurveyStatus::Draft,
            audience: Audience::Employees,
            questions: vec![enps, why_question()],
            touchpoint_event: None,
            stage_key: None,
            trigger_event: None,
            trigger_delay_hours: 24,
            sample_rate: 0.5,
            min_days: 30,
            repeat: Repeat::UntilAnswered,
        },
    ]
}

/// Rules that open follow-ups as the server reads the demo's feedback.
pub fn loop_rules() -> [DemoLoopRule; 2] {
    [
        DemoLoopRule {
            name: "Detractors (NPS 0–6, CSAT 1–2)",
            max_score: Some(0.6),
            max_sentiment: None,
            topic: None,
            due_hours: 48,
        },
        DemoLoopRule {
            name: "배송 지연 불만",
            max_score: None,
            max_sentiment: Some(-0.2),
            topic: Some("배송 지연"),
            due_hours: 24,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_demo_survey_is_valid_and_each_metric_has_one_survey() {
        for s in surveys() {
            nunchi_core::survey::validate(&s.questions)
                .unwrap_or_else(|e| panic!("{}: {e}", s.name));
        }
        for metric in ["nps", "csat"] {
            assert_eq!(
                surveys().iter().filter(|s| s.answers(metric)).count(),
                1,
                "{metric}"
            );
        }
        assert!(
            !surveys().iter().any(|s| s.answers("enps")),
            "the draft takes no answers"
        );
    }
}
