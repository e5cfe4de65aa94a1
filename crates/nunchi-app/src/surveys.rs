//! Surveys at work: answering one question at a time (partial responses kept, skip logic
//! applied, every rating and text turned into feedback as it arrives), the fatigue check
//! before a survey reaches anyone (each refusal recorded with its reason), the widget's
//! display decision, and the dispatcher that turns events into due invitations ("one day
//! after `purchase`") and sends due invitations by e-mail.

use nunchi_core::identity::IdentityKind;
use std::collections::HashMap;
use std::time::Duration;

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use nunchi_analytics::scores::Tally;
use nunchi_core::channel::Channel;
use nunchi_core::feedback::{Metric, Rating};
use nunchi_core::survey::{
    self, Answer, Audience, Exposure, Fatigue, Question, Suppressed, SurveyStatus,
};
use nunchi_store::Store;
use nunchi_store::model::{
    NewFeedback, NewSurveyContact, NewSurveyResponse, Survey, SurveyResponse,
};
use rand::{Rng, RngCore};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::{
    App,
    error::{Error, Result},
};

/// The settings key of the brand's cap on surveys per person per 30 days.
pub const GLOBAL_CAP_KEY: &str = "survey_global_cap";
const TRIGGER_CURSOR_KEY: &str = "survey_trigger_cursor";
/// Events older than this (plus the survey's delay) trigger nothing: an import of old
/// history must not survey people about last year's purchases.
const TRIGGER_HORIZON_MS: i64 = 7 * 86_400_000;
const SEND_ATTEMPTS: i64 = 5;
const DISPATCH_BATCH: i64 = 100;

/// A stored survey with its questions read.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub row: Survey,
    pub questions: Vec<Question>,
}

impl Loaded {
    /// A stored survey whose questions no longer pass validation (a jump to a question
    /// that is gone, two questions with one id) is corrupt: an error, not a survey that
    /// misbehaves halfway through.
    pub fn new(row: Survey) -> Result<Loaded> {
        let questions = row.questions.0.clone();
        survey::validate(&questions)
            .map_err(|e| Error::Internal(anyhow::anyhow!("survey {}: {e}", row.id)))?;
        Ok(Loaded { row, questions })
    }

    pub fn question(&self, id: &str) -> Option<(usize, &Question)> {
        self.questions.iter().enumerate().find(|(_, q)| q.id == id)
    }

    pub fn is_active(&self) -> bool {
        self.row.status == SurveyStatus::Active
    }

    fn fatigue(&self, global_cap: Option<i64>) -> Fatigue {
        Fatigue {
            sample_rate: self.row.sample_rate,
            min_days: self.row.min_days,
            repeat: self.row.repeat,
            global_cap,
        }
    }
}

pub fn new_token() -> String {
    let mut bytes = [0u8; 18];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A survey's public key: short enough for a link, long enough not to be guessed.
pub fn new_key() -> String {
    let mut bytes = [0u8; 9];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub async fn global_cap(store: &dyn Store) -> Result<Option<i64>> {
    Ok(store
        .setting(GLOBAL_CAP_KEY)
        .await?
        .and_then(|v| v.parse().ok())
        .filter(|v: &i64| *v > 0))
}

/// Whether this survey may reach this person now, by the survey's rules and the brand's
/// cap (`global_cap`, read by the caller once per request or pass).
pub async fn decide(
    store: &dyn Store,
    s: &Loaded,
    global_cap: Option<i64>,
    customer_id: Option<i64>,
    anonymous_id: Option<&str>,
    now: i64,
) -> Result<Result<(), Suppressed>> {
    if !s.is_active() {
        return Ok(Err(Suppressed::NotActive));
    }
    let e = store
        .exposure(customer_id, anonymous_id, s.row.id, now)
        .await?;
    let exposure = Exposure {
        last_contact_at: e.last_contact_at,
        contacts_30d: e.contacts_30d,
        shown_this: e.shown_this,
        answered_this: e.answered_this,
    };
    let draw: f64 = rand::thread_rng().r#gen();
    Ok(survey::decide(&s.fatigue(global_cap), &exposure, now, draw))
}

/// The record of one widget display: shown with its response token, or suppressed and why.
fn widget_contact(
    s: &Loaded,
    customer_id: Option<i64>,
    anonymous_id: Option<&str>,
    outcome: Result<&str, Suppressed>,
    now: i64,
) -> NewSurveyContact {
    NewSurveyContact {
        survey_id: s.row.id,
        customer_id,
        anonymous_id: anonymous_id.map(str::to_string),
        channel: "widget".into(),
        status: if outcome.is_ok() {
            "shown"
        } else {
            "suppressed"
        }
        .into(),
        reason: outcome.err().map(|w| w.code().into()),
        reason_value: outcome.err().and_then(Suppressed::value),
        event_id: None,
        response_token: outcome.ok().map(str::to_string),
        due_at: now,
        decided_at: Some(now),
    }
}

/// The widget asks whether to show a survey: either a fresh response token (the display
/// is recorded as shown) or the reason it is not shown (recorded as suppressed). `admit`
/// is asked before a response is opened (the rate limit on new responses).
pub async fn display(
    app: &App,
    s: &Loaded,
    customer_id: Option<i64>,
    anonymous_id: Option<&str>,
    lang: &str,
    admit: impl FnOnce() -> Result<()>,
) -> Result<Result<String, Suppressed>> {
    let store = app.store.as_ref();
    let now = app.now();
    let cap = global_cap(store).await?;
    if let Err(why) = decide(store, s, cap, customer_id, anonymous_id, now).await? {
        store
            .add_contacts(&[widget_contact(s, customer_id, anonymous_id, Err(why), now)])
            .await?;
        return Ok(Err(why));
    }
    admit()?;
    let response = start(store, s, customer_id, anonymous_id, "widget", lang).await?;
    store
        .add_contacts(&[widget_contact(
            s,
            customer_id,
            anonymous_id,
            Ok(&response.token),
            now,
        )])
        .await?;
    Ok(Ok(response.token))
}

/// Opens a response at the first question.
pub async fn start(
    store: &dyn Store,
    s: &Loaded,
    customer_id: Option<i64>,
    anonymous_id: Option<&str>,
    channel: &str,
    lang: &str,
) -> Result<SurveyResponse> {
    Ok(store
        .start_response(&NewSurveyResponse {
            survey_id: s.row.id,
            token: new_token(),
            customer_id,
            anonymous_id: anonymous_id.map(str::to_string),
            channel: channel.into(),
            lang: if lang == "en" { "en" } else { "ko" }.into(),
            next_question: s.questions.first().map(|q| q.id.clone()),
        })
        .await?)
}

/// Where a response stands after an answer.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Step {
    /// The next question's id; `null` when the survey is complete.
    pub next: Option<String>,
    pub complete: bool,
}

/// Records the answer to the response's current question, moves on by the skip logic,
/// and sends ratings and text into the feedback stream.
pub async fn answer(
    state: &App,
    s: &Loaded,
    response: &SurveyResponse,
    question_id: &str,
    raw: &Value,
) -> Result<Step> {
    if response.completed_at.is_some() {
        return Err(Error::Conflict("this response is already complete".into()));
    }
    if response.next_question.as_deref() != Some(question_id) {
        return Err(Error::invalid(
            "not_current_question",
            format!(
                "the current question is {:?}, not {question_id:?}",
                response.next_question.as_deref().unwrap_or("none")
            ),
        ));
    }
    let (index, q) = s
        .question(question_id)
        .ok_or_else(|| Error::invalid("unknown_question", question_id.to_string()))?;
    let raw: Option<survey::RawAnswer> = serde_json::from_value(raw.clone()).map_err(|_| {
        Error::invalid(
            "invalid_answer",
            "an answer is a number, a text or a list of choice ids",
        )
    })?;
    let answer = q
        .check_answer(raw.as_ref())
        .map_err(|e| Error::invalid("invalid_answer", e.message.clone()))?;
    let mut answers = response.answers.0.clone();
    answers.insert(
        q.id.clone(),
        serde_json::to_value(&answer).unwrap_or(Value::Null),
    );
    let next =
        survey::next(&s.questions, index, answer.as_ref()).map(|i| s.questions[i].id.clone());
    let now = state.now();
    state
        .store
        .save_response(
            response.id,
            &Value::Object(answers.clone()).to_string(),
            next.as_deref(),
            next.is_none().then_some(now),
        )
        .await?;
    if let Some(a) = &answer {
        to_feedback(state, s, response, &answers, q, a, now).await?;
    }
    Ok(Step {
        complete: next.is_none(),
        next,
    })
}

fn external_id(response: &SurveyResponse, question: &str) -> String {
    format!(
        "survey:{}:response:{}:{question}",
        response.survey_id, response.id
    )
}

/// The free-text answers so far, in question order.
fn texts(s: &Loaded, answers: &Map<String, Value>) -> String {
    s.questions
        .iter()
        .filter(|q| q.kind == survey::QuestionKind::Text)
        .filter_map(|q| answers.get(&q.id).and_then(Value::as_str))
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// A rating becomes feedback of its own (carrying any text answered so far); a text
/// answer is added to the response's first rating, or stands alone when there is none.
async fn to_feedback(
    state: &App,
    s: &Loaded,
    response: &SurveyResponse,
    answers: &Map<String, Value>,
    q: &Question,
    answer: &Answer,
    now: i64,
) -> Result<()> {
    let source = if s.row.audience == Audience::Employees {
        "employee"
    } else {
        "survey"
    };
    let first_rated = s
        .questions
        .iter()
        .find(|p| p.metric().is_some() && answers.get(&p.id).is_some_and(|v| !v.is_null()));
    let mut item = NewFeedback {
        source: source.into(),
        external_id: Some(external_id(response, &q.id)),
        metric: None,
        rating: None,
        scale_min: None,
        scale_max: None,
        score: None,
        body: texts(s, answers),
        url: None,
        author: None,
        customer_id: response.customer_id,
        touchpoint_id: s.row.touchpoint_id,
        stage_id: s.row.stage_id,
        team_id: s.row.team_id,
        channel: if response.channel == "email" {
            Channel::Email
        } else {
            Channel::Web
        }
        .as_str()
        .into(),
        created_at: now,
    };
    match (q.metric(), answer, q.scale()) {
        (Some(metric), Answer::Number(n), Some((lo, hi))) => {
            let rating = Rating::new(metric, *n as f64, Some(lo as f64), Some(hi as f64))
                .map_err(|e| Error::invalid("invalid_answer", e.message.clone()))?;
            item.metric = Some(metric.as_str().into());
            item.rating = Some(rating.value);
            item.scale_min = Some(rating.min);
            item.scale_max = Some(rating.max);
            item.score = Some(rating.normalised);
            if first_rated.is_some_and(|p| p.id != q.id) {
                item.body.clear();
            }
            state.store.add_feedback(&[item]).await?;
        }
        (None, Answer::Text(_), None) if q.kind == survey::QuestionKind::Text => {
            match first_rated {
                Some(p) => {
                    state
                        .store
                        .set_feedback_body(source, &external_id(response, &p.id), &item.body)
                        .await?
                }
                None => {
                    state.store.add_feedback(&[item]).await?;
                }
            }
        }
        _ => return Ok(()),
    }
    state.touched(response.customer_id);
    state.annotator.wake();
    Ok(())
}

/// One question's answers so far.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct QuestionSummary {
    pub id: String,
    pub kind: String,
    pub text_ko: String,
    pub text_en: String,
    pub answered: u64,
    pub skipped: u64,
    /// For numbers: (value, count) over the scale; for choices: (choice id, count).
    pub counts: Vec<(String, u64)>,
    pub mean: Option<f64>,
    /// The NPS, CSAT or CES of the answers, for those kinds.
    pub score: Option<f64>,
    /// The newest free-text answers.
    pub latest: Vec<String>,
}

/// How a survey is doing.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Results {
    /// Responses with at least one answer.
    pub started: u64,
    pub completed: u64,
    /// Started and not completed: kept, counted here.
    pub partial: u64,
    pub completion_rate: Option<f64>,
    pub questions: Vec<QuestionSummary>,
}

/// Sums up responses (newest first) question by question.
pub fn summarize(s: &Loaded, responses: &[SurveyResponse]) -> Results {
    let parsed: Vec<(bool, &Map<String, Value>)> = responses
        .iter()
        .map(|r| (r.completed_at.is_some(), &*r.answers))
        .filter(|(_, a)| !a.is_empty())
        .collect();
    let completed = parsed.iter().filter(|(done, _)| *done).count() as u64;
    let started = parsed.len() as u64;
    let questions = s
        .questions
        .iter()
        .map(|q| {
            let given: Vec<&Value> = parsed.iter().filter_map(|(_, a)| a.get(&q.id)).collect();
            let answered: Vec<&Value> = given.iter().copied().filter(|v| !v.is_null()).collect();
            let mut counts: Vec<(String, u64)> = match q.scale() {
                Some((lo, hi)) => (lo..=hi).map(|v| (v.to_string(), 0)).collect(),
                None => q.choices.iter().map(|c| (c.id.clone(), 0)).collect(),
            };
            let mut numbers = Vec::new();
            for v in &answered {
                let keys: Vec<String> = match v {
                    Value::Number(n) => {
                        numbers.push(n.as_f64().unwrap_or(0.0));
                        vec![n.to_string()]
                    }
                    Value::String(t) => vec![t.clone()],
                    Value::Array(a) => a
                        .iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect(),
                    _ => Vec::new(),
                };
                for k in keys {
                    if let Some(c) = counts.iter_mut().find(|(key, _)| *key == k) {
                        c.1 += 1;
                    }
                }
            }
            let n = numbers.len() as f64;
            // NPS, CSAT and CES as the analytics engine defines them, nowhere else.
            let score = q
                .metric()
                .filter(|m| matches!(m, Metric::Nps | Metric::Csat | Metric::Ces))
                .and_then(|m| {
                    let mut tally = Tally::default();
                    for v in &numbers {
                        tally.add(v.round().clamp(0.0, 10.0) as u8);
                    }
                    tally.score(m).map(|s| s.value)
                });
            QuestionSummary {
                id: q.id.clone(),
                kind: q.kind.as_str().into(),
                text_ko: q.text.get("ko").into(),
                text_en: q.text.get("en").into(),
                answered: answered.len() as u64,
                skipped: (given.len() - answered.len()) as u64,
                counts: if q.kind == survey::QuestionKind::Text {
                    Vec::new()
                } else {
                    counts
                },
                mean: (!numbers.is_empty()).then(|| numbers.iter().sum::<f64>() / n),
                score,
                latest: if q.kind == survey::QuestionKind::Text {
                    answered
                        .iter()
                        .filter_map(|v| v.as_str())
                        .take(5)
                        .map(str::to_string)
                        .collect()
                } else {
                    Vec::new()
                },
            }
        })
        .collect();
    Results {
        started,
        completed,
        partial: started - completed,
        completion_rate: (started > 0).then(|| completed as f64 / started as f64),
        questions,
    }
}

/// Runs the dispatcher until `shutdown` fires: every couple of seconds, or when woken.
pub fn spawn_dispatcher(
    state: std::sync::Arc<App>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let wake = state.survey_wakeup.clone();
    crate::periodic::spawn(
        "surveys",
        shutdown,
        wake,
        Duration::from_secs(2),
        move || {
            let state = state.clone();
            async move {
                dispatch_once(&state).await?;
                Ok(false)
            }
        },
    )
}

/// One pass: schedules invitations for new triggering events, then sends what is due.
/// Returns how many contacts were settled (sent, suppressed or failed).
pub async fn dispatch_once(state: &App) -> anyhow::Result<usize> {
    schedule_triggers(state.store.as_ref(), state.now()).await?;
    send_due(state).await
}

/// Turns events after the cursor into due e-mail contacts for the active surveys they
/// trigger, moving the cursor in the same transaction.
pub async fn schedule_triggers(store: &dyn Store, now: i64) -> anyhow::Result<()> {
    let triggered: Vec<Loaded> = store
        .surveys()
        .await?
        .into_iter()
        .filter(|s| s.status == SurveyStatus::Active && s.trigger_event.is_some())
        .map(Loaded::new)
        .collect::<Result<_>>()
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let cursor: Option<i64> = store
        .setting(TRIGGER_CURSOR_KEY)
        .await?
        .and_then(|c| c.parse().ok());
    let (Some(mut cursor), false) = (cursor, triggered.is_empty()) else {
        // Nothing triggers now: keep the cursor at the newest event, so a survey set up
        // later only hears of events from then on.
        let last = store.last_event_id().await?;
        store.schedule_triggered(&[], last).await?;
        return Ok(());
    };
    let names: Vec<String> = triggered
        .iter()
        .filter_map(|s| s.row.trigger_event.clone())
        .collect();
    loop {
        let events = store.trigger_events(cursor, &names, 1_000).await?;
        let Some(last) = events.last().map(|e| e.id) else {
            return Ok(());
        };
        let mut contacts = Vec::new();
        for e in &events {
            for s in triggered
                .iter()
                .filter(|s| s.row.trigger_event.as_deref() == Some(e.name.as_str()))
            {
                let due_at = e.ts + s.row.trigger_delay_hours * 3_600_000;
                if due_at < now - TRIGGER_HORIZON_MS {
                    continue;
                }
                contacts.push(NewSurveyContact {
                    survey_id: s.row.id,
                    customer_id: Some(e.customer_id),
                    anonymous_id: None,
                    channel: "email".into(),
                    status: "due".into(),
                    reason: None,
                    reason_value: None,
                    event_id: Some(e.id),
                    response_token: None,
                    due_at,
                    decided_at: None,
                });
            }
        }
        store.schedule_triggered(&contacts, last).await?;
        cursor = last;
    }
}

/// Sends due invitations, after the fatigue check; failures are retried with backoff.
async fn send_due(state: &App) -> anyhow::Result<usize> {
    let store = state.store.as_ref();
    let mut surveys: HashMap<i64, Loaded> = HashMap::new();
    let mut settled = 0;
    let now = state.now();
    let cap = global_cap(store)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    for c in store.due_contacts(now, DISPATCH_BATCH).await? {
        if let std::collections::hash_map::Entry::Vacant(v) = surveys.entry(c.survey_id) {
            let row = store.survey(c.survey_id).await?;
            v.insert(Loaded::new(row).map_err(|e| anyhow::anyhow!("{e:?}"))?);
        }
        let s = &surveys[&c.survey_id];
        let verdict = decide(store, s, cap, c.customer_id, c.anonymous_id.as_deref(), now)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let customer = match c.customer_id {
            Some(id) => Some(store.customer(id).await?),
            None => None,
        };
        let email = customer
            .as_ref()
            .and_then(|cu| cu.identity(IdentityKind::Email).map(str::to_string));
        let verdict = verdict.and_then(|()| email.clone().ok_or(Suppressed::NoEmail));
        let to = match verdict {
            Err(why) => {
                store
                    .settle_contact(c.id, "suppressed", Some(why.code()), why.value(), None)
                    .await?;
                settled += 1;
                continue;
            }
            Ok(to) => to,
        };
        let lang = match customer.as_ref().and_then(|cu| cu.row.language.as_deref()) {
            Some("en") => "en",
            _ => "ko",
        };
        let response = start(store, s, c.customer_id, None, "email", lang)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let (subject, text) = invitation(s, lang, &state.config.public_url, &response.token);
        match state.mailer.send(&to, &subject, &text, None).await {
            Ok(()) => {
                store
                    .settle_contact(c.id, "sent", None, None, Some(&response.token))
                    .await?;
                settled += 1;
            }
            Err(e) if c.attempts + 1 < SEND_ATTEMPTS => {
                let retry = now + crate::jobs::backoff_ms(c.attempts + 1);
                store.retry_contact(c.id, retry, &format!("{e:#}")).await?;
            }
            Err(e) => {
                store.retry_contact(c.id, now, &format!("{e:#}")).await?;
                store
                    .settle_contact(c.id, "failed", None, None, None)
                    .await?;
                settled += 1;
            }
        }
    }
    Ok(settled)
}

/// The invitation e-mail: the first question and the link that answers it.
pub fn invitation(s: &Loaded, lang: &str, public_url: &str, token: &str) -> (String, String) {
    let link = format!(
        "{}/s/{}?t={token}&lang={lang}",
        public_url.trim_end_matches('/'),
        s.row.key
    );
    let first = s.questions.first().map(|q| q.text.get(lang)).unwrap_or("");
    if lang == "en" {
        (
            "Tell us how we did".into(),
            format!("{first}\n\nIt takes a minute: {link}\n\nThank you.\n"),
        )
    } else {
        (
            "고객님의 의견을 들려주세요".into(),
            format!("{first}\n\n1분이면 충분합니다: {link}\n\n감사합니다.\n"),
        )
    }
}
