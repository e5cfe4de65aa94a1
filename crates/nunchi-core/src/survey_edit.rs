//! Editing a survey's questions as pure rules: the template questions a new survey starts
//! from, adding a question under a fresh id, removing one (jumps to it go on to the end),
//! adding a skip-logic jump. The builder page and any other face apply these and then
//! check the result with `survey::validate`.

use crate::{
    CoreError, CoreResult,
    survey::{Choice, Condition, END, Jump, Localized, Question, QuestionKind},
};

/// The id of the free-text "why" question that closes template surveys.
pub const WHY: &str = "why";

fn question(id: &str, kind: QuestionKind, ko: &str, en: &str) -> Question {
    Question {
        id: id.into(),
        kind,
        text: Localized {
            ko: ko.into(),
            en: en.into(),
        },
        choices: Vec::new(),
        required: false,
        scale_max: None,
        logic: Vec::new(),
    }
}

/// "What is the main reason for your answer?", optional.
pub fn why_question() -> Question {
    question(
        WHY,
        QuestionKind::Text,
        "그렇게 답하신 가장 큰 이유는 무엇인가요?",
        "What is the main reason for your answer?",
    )
}

/// The required opening question of a survey made from a template (`nps`, `enps`,
/// `csat`, `ces`); `None` for an unknown template.
pub fn template_question(template: &str) -> Option<Question> {
    let (kind, ko, en) = match template {
        "nps" => (
            QuestionKind::Nps,
            "저희를 친구나 동료에게 추천하실 가능성은 얼마나 되나요?",
            "How likely are you to recommend us to a friend or colleague?",
        ),
        "enps" => (
            QuestionKind::Nps,
            "우리 회사를 친구에게 직장으로 추천하시겠어요?",
            "How likely are you to recommend us as a place to work?",
        ),
        "csat" => (
            QuestionKind::Csat,
            "이번 경험에 얼마나 만족하셨나요?",
            "How satisfied were you with this experience?",
        ),
        "ces" => (
            QuestionKind::Ces,
            "원하시는 일을 처리하기가 얼마나 쉬웠나요?",
            "How easy was it to get what you needed?",
        ),
        _ => return None,
    };
    Some(Question {
        required: true,
        ..question(kind.as_str(), kind, ko, en)
    })
}

/// The questions a new survey starts with: the template's question, then "why".
pub fn template_questions(template: &str) -> Vec<Question> {
    template_question(template)
        .into_iter()
        .chain([why_question()])
        .collect()
}

/// Choices typed one per line, "Korean | English" or one label for both; blank lines are
/// skipped and the choices are numbered `c1`, `c2`, … in order.
pub fn parse_choices(text: &str) -> Vec<Choice> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
        .map(|(i, line)| {
            let (ko, en) = match line.split_once('|') {
                Some((ko, en)) => (ko.trim(), en.trim()),
                None => (line, line),
            };
            Choice {
                id: format!("c{}", i + 1),
                label: Localized {
                    ko: ko.into(),
                    en: en.into(),
                },
            }
        })
        .collect()
}

/// A question to append; the id is chosen by `add_question`.
#[derive(Debug, Clone)]
pub struct NewQuestion {
    pub kind: QuestionKind,
    pub text: Localized,
    /// Kept only for single and multiple choice.
    pub choices: Vec<Choice>,
    pub required: bool,
}

/// Appends a question under the first free id `qN` (N from the count of questions plus
/// one), so ids stay stable when others are removed.
pub fn add_question(questions: &[Question], new: NewQuestion) -> Vec<Question> {
    let mut n = questions.len() + 1;
    while questions.iter().any(|q| q.id == format!("q{n}")) {
        n += 1;
    }
    let mut out = questions.to_vec();
    out.push(Question {
        id: format!("q{n}"),
        kind: new.kind,
        text: Localized {
            ko: new.text.ko.trim().into(),
            en: new.text.en.trim().into(),
        },
        choices: if matches!(new.kind, QuestionKind::Single | QuestionKind::Multi) {
            new.choices
        } else {
            Vec::new()
        },
        required: new.required,
        scale_max: None,
        logic: Vec::new(),
    });
    out
}

fn missing(id: &str) -> CoreError {
    CoreError::new("question", format!("no question {id:?}"))
}

/// Removes a question; jumps that led to it go on to the end instead.
pub fn remove_question(questions: &[Question], id: &str) -> CoreResult<Vec<Question>> {
    if !questions.iter().any(|q| q.id == id) {
        return Err(missing(id));
    }
    Ok(questions
        .iter()
        .filter(|q| q.id != id)
        .cloned()
        .map(|mut q| {
            for j in &mut q.logic {
                if j.to == id {
                    j.to = END.into();
                }
            }
            q
        })
        .collect())
}

/// Reads a jump's condition as a form gives it: an operator (`at_most`, `at_least`,
/// `chose`, `skipped`, anything else: answered) and a value. A choice may be named by its
/// id or by either label.
pub fn condition(q: &Question, op: &str, value: &str) -> CoreResult<Condition> {
    let value = value.trim();
    let number = || {
        value
            .parse::<f64>()
            .map_err(|_| CoreError::new("logic", "the skip condition needs a number"))
    };
    Ok(match op {
        "at_most" => Condition::AtMost(number()?),
        "at_least" => Condition::AtLeast(number()?),
        "chose" => Condition::Chose(
            q.choices
                .iter()
                .find(|c| c.label.ko == value || c.label.en == value || c.id == value)
                .map(|c| c.id.clone())
                .unwrap_or_else(|| value.to_string()),
        ),
        "skipped" => Condition::Skipped,
        _ => Condition::Answered,
    })
}

/// Adds a skip-logic jump to question `id`, to `to` (the end when blank). Whether the jump
/// fits (a number test on a number question, forward only) is `survey::validate`'s call.
pub fn add_jump(
    questions: &[Question],
    id: &str,
    op: &str,
    value: &str,
    to: &str,
) -> CoreResult<Vec<Question>> {
    let index = questions
        .iter()
        .position(|q| q.id == id)
        .ok_or_else(|| missing(id))?;
    let when = condition(&questions[index], op, value)?;
    let mut out = questions.to_vec();
    out[index].logic.push(Jump {
        when,
        to: match to.trim() {
            "" => END.into(),
            to => to.into(),
        },
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::survey::validate;

    fn new_text(kind: QuestionKind) -> NewQuestion {
        NewQuestion {
            kind,
            text: Localized {
                ko: " 질문 ".into(),
                en: "Question".into(),
            },
            choices: parse_choices("좋아요 | Good\n\n별로"),
            required: false,
        }
    }

    #[test]
    fn templates_are_valid_surveys() {
        for t in ["nps", "enps", "csat", "ces"] {
            let qs = template_questions(t);
            assert_eq!(qs.len(), 2, "{t}");
            assert!(qs[0].required);
            validate(&qs).unwrap();
        }
        assert_eq!(template_questions("nope"), vec![why_question()]);
    }

    #[test]
    fn added_questions_get_fresh_ids_and_keep_choices_only_for_choice_kinds() {
        let qs = template_questions("nps");
        let qs = add_question(&qs, new_text(QuestionKind::Single));
        assert_eq!(qs[2].id, "q3");
        assert_eq!(qs[2].text.ko, "질문");
        assert_eq!(qs[2].choices.len(), 2);
        assert_eq!(qs[2].choices[1].label.en, "별로");
        let qs = add_question(&qs, new_text(QuestionKind::Text));
        assert_eq!(qs[3].id, "q4");
        assert!(qs[3].choices.is_empty());
        // With q3 gone there are three questions again, but q4 is still taken: the new
        // one is q5, never an id another question holds.
        let qs = remove_question(&qs, "q3").unwrap();
        let qs = add_question(&qs, new_text(QuestionKind::Text));
        assert_eq!(qs.last().unwrap().id, "q5");
        validate(&qs).unwrap();
    }

    #[test]
    fn removing_a_question_repoints_the_jumps_that_led_to_it() {
        let qs = add_question(&template_questions("csat"), new_text(QuestionKind::Multi));
        let qs = add_jump(&qs, "csat", "at_least", "4", "q3").unwrap();
        assert_eq!(qs[0].logic[0].to, "q3");
        let qs = remove_question(&qs, "q3").unwrap();
        assert_eq!(qs[0].logic[0].to, END);
        assert!(remove_question(&qs, "q3").is_err());
        validate(&qs).unwrap();
    }

    #[test]
    fn jumps_read_numbers_and_choices_by_label_or_id() {
        let qs = add_question(&template_questions("nps"), new_text(QuestionKind::Single));
        let qs = add_jump(&qs, "q3", "chose", "Good", "").unwrap();
        assert_eq!(qs[2].logic[0].when, Condition::Chose("c1".into()));
        assert_eq!(qs[2].logic[0].to, END);
        let qs = add_jump(&qs, "nps", "at_most", " 6 ", "why").unwrap();
        assert_eq!(qs[0].logic[0].when, Condition::AtMost(6.0));
        assert!(add_jump(&qs, "nps", "at_least", "many", "").is_err());
        assert!(add_jump(&qs, "missing", "answered", "", "").is_err());
    }
}
