//! The survey builder: the list of surveys with the brand's survey cap, a new survey from
//! a template (NPS, CSAT, CES, eNPS or blank), and one survey's page — its questions with
//! skip logic, distribution (link, widget snippet, event-triggered e-mail) and fatigue
//! settings, results per question, and every suppression counted and explained.

use askama::Template;
use axum::{
    Form, Router,
    extract::State,
    response::{IntoResponse, Redirect},
    routing::{get, post},
};
use nunchi_core::access::Permission;
use nunchi_core::{
    survey::{Audience, Condition, END, Jump, Localized, Question, QuestionKind, SurveyStatus},
    survey_edit,
};
use nunchi_store::model::{Stage, Team, Touchpoint};
use serde::Deserialize;

use super::{Chrome, CsrfForm, UiNeed, UiResult, fmt_time, form_number, lang_of, render};
use nunchi_app::survey_builder::{
    ContactView, SurveyInput, SurveyResults, check, contact_view, survey_results,
};

use crate::{
    AppState,
    auth::{check_form_csrf, perm},
    error::AppError,
    extract::ApiPath,
    i18n::Strings,
};
use nunchi_app::surveys::{self, Loaded};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/surveys", get(list).post(create))
        .route("/surveys/settings", post(save_cap))
        .route("/surveys/{id}", get(page))
        .route("/surveys/{id}/status", post(set_status))
        .route("/surveys/{id}/settings", post(save_settings))
        .route("/surveys/{id}/questions", post(add_question))
        .route(
            "/surveys/{id}/questions/{qid}/delete",
            post(delete_question),
        )
        .route("/surveys/{id}/questions/{qid}/logic", post(add_logic))
}

pub fn kind_label(t: &'static Strings, kind: &str) -> &'static str {
    match kind {
        "nps" => t.kind_nps,
        "csat" => t.kind_csat,
        "ces" => t.kind_ces,
        "rating" => t.kind_rating,
        "single" => t.kind_single,
        "multi" => t.kind_multi,
        _ => t.kind_text,
    }
}

fn status_label(t: &'static Strings, status: SurveyStatus) -> &'static str {
    match status {
        SurveyStatus::Active => t.status_active,
        SurveyStatus::Closed => t.status_closed,
        SurveyStatus::Draft => t.status_draft,
    }
}

struct SurveyRow {
    id: i64,
    name: String,
    status: &'static str,
    status_key: &'static str,
    audience: &'static str,
    started: i64,
    completed: i64,
    link: String,
}

#[derive(Template)]
#[template(path = "surveys.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<SurveyRow>,
    can_manage: bool,
    global_cap: String,
}

async fn list(State(state): State<AppState>, auth: UiNeed<perm::CustomersRead>) -> UiResult {
    let t = lang_of(&auth).strings();
    let counts: std::collections::HashMap<i64, (i64, i64)> = state
        .store
        .response_counts()
        .await?
        .into_iter()
        .map(|c| (c.survey_id, (c.started, c.completed)))
        .collect();
    let rows = state
        .store
        .surveys()
        .await?
        .into_iter()
        .map(|s| {
            let (started, completed) = counts.get(&s.id).copied().unwrap_or_default();
            SurveyRow {
                id: s.id,
                status: status_label(t, s.status),
                audience: if s.audience == Audience::Employees {
                    t.audience_employees
                } else {
                    t.audience_customers
                },
                started,
                completed,
                link: format!("/s/{}", s.key),
                status_key: s.status.as_str(),
                name: s.name,
            }
        })
        .collect();
    Ok(render(ListPage {
        chrome: Chrome::new(&auth, "/surveys", t.surveys_title),
        rows,
        can_manage: auth.can(Permission::SurveysManage),
        global_cap: surveys::global_cap(state.store.as_ref())
            .await?
            .map(|c| c.to_string())
            .unwrap_or_default(),
    }))
}

#[derive(Debug, Default, Deserialize)]
struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    template: String,
}

fn input_of(s: &Loaded, questions: &[Question]) -> SurveyInput {
    SurveyInput {
        name: s.row.name.clone(),
        status: Some(s.row.status.as_str().into()),
        audience: Some(s.row.audience.as_str().into()),
        questions: serde_json::to_value(questions).expect("questions serialise"),
        touchpoint_id: s.row.touchpoint_id,
        stage_id: s.row.stage_id,
        team_id: s.row.team_id,
        trigger_event: s.row.trigger_event.clone(),
        trigger_delay_hours: Some(s.row.trigger_delay_hours),
        sample_rate: Some(s.row.sample_rate),
        min_days: Some(s.row.min_days),
        repeat: Some(s.row.repeat.as_str().into()),
    }
}

async fn create(
    State(state): State<AppState>,
    auth: UiNeed<perm::SurveysManage>,
    Form(f): Form<CreateForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    let questions = survey_edit::template_questions(&f.template);
    let input = SurveyInput {
        name: f.name,
        status: Some("draft".into()),
        audience: Some(
            if f.template == "enps" {
                "employee"
            } else {
                "survey"
            }
            .into(),
        ),
        questions: serde_json::to_value(&questions).expect("questions serialise"),
        touchpoint_id: None,
        stage_id: None,
        team_id: None,
        trigger_event: None,
        trigger_delay_hours: None,
        sample_rate: None,
        min_days: None,
        repeat: None,
    };
    let new = check(&state, &input).await?;
    let s = state.store.create_survey(&surveys::new_key(), &new).await?;
    state
        .audit(&auth, "survey.create", &format!("survey:{}", s.id), &s.name)
        .await;
    Ok(Redirect::to(&format!("/surveys/{}", s.id)).into_response())
}

#[derive(Debug, Default, Deserialize)]
struct CapForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    global_cap: String,
}

async fn save_cap(
    State(state): State<AppState>,
    auth: UiNeed<perm::SurveysManage>,
    Form(f): Form<CapForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    let value = match f.global_cap.trim() {
        "" => String::new(),
        v => match v.parse::<i64>() {
            Ok(n) if (1..=100).contains(&n) => n.to_string(),
            _ => {
                return Err(AppError::bad_request(
                    "invalid_global_cap",
                    "the cap is 1–100 surveys per 30 days, or empty for none",
                )
                .into());
            }
        },
    };
    state
        .store
        .set_setting(surveys::GLOBAL_CAP_KEY, &value)
        .await?;
    state
        .audit(&auth, "survey.settings", "survey_settings", &value)
        .await;
    Ok(Redirect::to("/surveys").into_response())
}

struct QuestionRow {
    id: String,
    kind: &'static str,
    text_ko: String,
    text_en: String,
    required: bool,
    choices: Vec<String>,
    logic: Vec<String>,
    numeric: bool,
    has_choices: bool,
    /// Questions a jump from here may go to.
    later: Vec<String>,
}

struct SummaryRow {
    text: String,
    kind: &'static str,
    answered: u64,
    skipped: u64,
    score: String,
    /// (label, count, bar width %).
    bars: Vec<(String, u64, u64)>,
    latest: Vec<String>,
}

struct TallyRow {
    status: &'static str,
    explanation: String,
    count: i64,
}

struct ContactRow {
    when: String,
    customer_id: Option<i64>,
    channel: String,
    status: &'static str,
    explanation: String,
}

#[derive(Template)]
#[template(path = "survey.html")]
struct SurveyPage {
    chrome: Chrome,
    id: i64,
    name: String,
    status_key: &'static str,
    status: &'static str,
    audience: String,
    link: String,
    widget_snippet: String,
    questions: Vec<QuestionRow>,
    kinds: Vec<(&'static str, &'static str)>,
    can_manage: bool,
    started: u64,
    completed: u64,
    partial: u64,
    completion: String,
    summaries: Vec<SummaryRow>,
    tallies: Vec<TallyRow>,
    contacts: Vec<ContactRow>,
    touchpoints: Vec<Touchpoint>,
    stages: Vec<(i64, String)>,
    teams: Vec<Team>,
    touchpoint_id: i64,
    stage_id: i64,
    team_id: i64,
    trigger_event: String,
    trigger_delay_hours: i64,
    sample_percent: String,
    min_days: i64,
    repeat: String,
}

fn contact_status(t: &'static Strings, s: &str) -> &'static str {
    match s {
        "sent" => t.contact_sent,
        "shown" => t.contact_shown,
        "due" => t.contact_due,
        "failed" => t.contact_failed,
        _ => t.survey_suppressed,
    }
}

fn logic_text(t: &'static Strings, j: &Jump) -> String {
    let cond = match &j.when {
        Condition::AtMost(v) => format!("{} {v}", t.logic_at_most),
        Condition::AtLeast(v) => format!("{} {v}", t.logic_at_least),
        Condition::Chose(c) => format!("{} {c}", t.logic_chose),
        Condition::Answered => t.logic_answered.into(),
        Condition::Skipped => t.logic_skipped.into(),
    };
    let to = if j.to == END { t.logic_end } else { &j.to };
    format!("{} {cond} → {to}", t.logic_if)
}

async fn page(
    State(state): State<AppState>,
    auth: UiNeed<perm::CustomersRead>,
    ApiPath(id): ApiPath<i64>,
) -> UiResult {
    let lang = lang_of(&auth);
    let t = lang.strings();
    let s = Loaded::new(state.store.survey(id).await?)?;
    let SurveyResults { results, contacts } = survey_results(&state, &s).await?;
    let stages: Vec<Stage> = state.store.stages().await?;
    let public = state.config.public_url.trim_end_matches('/').to_string();
    let summaries = results
        .questions
        .iter()
        .map(|q| {
            let most = q.counts.iter().map(|(_, c)| *c).max().unwrap_or(0).max(1);
            let choice_label = |key: &str| {
                s.question(&q.id)
                    .and_then(|(_, question)| question.choices.iter().find(|c| c.id == key))
                    .map(|c| c.label.get(lang.code()).to_string())
                    .unwrap_or_else(|| key.to_string())
            };
            SummaryRow {
                text: if lang.code() == "ko" {
                    q.text_ko.clone()
                } else {
                    q.text_en.clone()
                },
                kind: kind_label(t, &q.kind),
                answered: q.answered,
                skipped: q.skipped,
                score: q.score.map(|v| format!("{v:.1}")).unwrap_or_default(),
                bars: q
                    .counts
                    .iter()
                    .map(|(k, c)| (choice_label(k), *c, c * 100 / most))
                    .collect(),
                latest: q.latest.clone(),
            }
        })
        .collect();
    let recent: Vec<ContactView> = state
        .store
        .contacts(id, 50)
        .await?
        .into_iter()
        .map(contact_view)
        .collect();
    Ok(render(SurveyPage {
        chrome: Chrome::new(&auth, "/surveys", &s.row.name),
        id,
        name: s.row.name.clone(),
        status_key: s.row.status.as_str(),
        status: status_label(t, s.row.status),
        audience: if s.row.audience == Audience::Employees {
            t.audience_employees
        } else {
            t.audience_customers
        }
        .into(),
        link: format!("{public}/s/{}", s.row.key),
        widget_snippet: format!(
            "<script src=\"{public}/widget.js\" data-survey=\"{}\" data-customer=\"CUSTOMER-ID\" data-lang=\"{}\" async></script>",
            s.row.key,
            lang.code()
        ),
        questions: s
            .questions
            .iter()
            .map(|q| QuestionRow {
                id: q.id.clone(),
                kind: kind_label(t, q.kind.as_str()),
                text_ko: q.text.ko.clone(),
                text_en: q.text.en.clone(),
                required: q.required,
                choices: q
                    .choices
                    .iter()
                    .map(|c| c.label.get(lang.code()).to_string())
                    .collect(),
                logic: q.logic.iter().map(|j| logic_text(t, j)).collect(),
                numeric: q.scale().is_some(),
                has_choices: !q.choices.is_empty(),
                later: s
                    .questions
                    .iter()
                    .skip_while(|p| p.id != q.id)
                    .skip(1)
                    .map(|p| p.id.clone())
                    .collect(),
            })
            .collect(),
        kinds: QuestionKind::ALL
            .iter()
            .map(|k| (k.as_str(), kind_label(t, k.as_str())))
            .collect(),
        can_manage: auth.can(Permission::SurveysManage),
        started: results.started,
        completed: results.completed,
        partial: results.partial,
        completion: results
            .completion_rate
            .map(|r| format!("{:.0}%", r * 100.0))
            .unwrap_or_else(|| "—".into()),
        summaries,
        tallies: contacts
            .into_iter()
            .map(|c| TallyRow {
                status: contact_status(t, &c.count.status),
                explanation: if lang.code() == "ko" {
                    c.explanation_ko
                } else {
                    c.explanation_en
                }
                .unwrap_or_default(),
                count: c.count.count,
            })
            .collect(),
        contacts: recent
            .into_iter()
            .map(|c| ContactRow {
                when: fmt_time(c.contact.decided_at.unwrap_or(c.contact.due_at)),
                customer_id: c.contact.customer_id,
                channel: c.contact.channel.clone(),
                status: contact_status(t, &c.contact.status),
                explanation: if lang.code() == "ko" {
                    c.explanation_ko
                } else {
                    c.explanation_en
                }
                .unwrap_or_default(),
            })
            .collect(),
        touchpoints: state.store.touchpoints().await?,
        stages: stages
            .into_iter()
            .map(|st| {
                (
                    st.id,
                    if lang.code() == "ko" {
                        st.name_ko
                    } else {
                        st.name_en
                    },
                )
            })
            .collect(),
        teams: state.store.teams().await?,
        touchpoint_id: s.row.touchpoint_id.unwrap_or(0),
        stage_id: s.row.stage_id.unwrap_or(0),
        team_id: s.row.team_id.unwrap_or(0),
        trigger_event: s.row.trigger_event.clone().unwrap_or_default(),
        trigger_delay_hours: s.row.trigger_delay_hours,
        sample_percent: format!("{}", (s.row.sample_rate * 100.0).round()),
        min_days: s.row.min_days,
        repeat: s.row.repeat.as_str().into(),
    }))
}

/// Saves a changed survey after the same checks as the API.
async fn save(
    state: &AppState,
    auth: &crate::auth::Auth,
    id: i64,
    input: &SurveyInput,
    what: &str,
) -> UiResult {
    let new = check(state, input).await?;
    state.store.update_survey(id, &new).await?;
    state
        .audit(auth, "survey.update", &format!("survey:{id}"), what)
        .await;
    Ok(Redirect::to(&format!("/surveys/{id}")).into_response())
}

#[derive(Debug, Default, Deserialize)]
struct StatusForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    status: String,
}

async fn set_status(
    State(state): State<AppState>,
    auth: UiNeed<perm::SurveysManage>,
    ApiPath(id): ApiPath<i64>,
    Form(f): Form<StatusForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    let s = Loaded::new(state.store.survey(id).await?)?;
    let mut input = input_of(&s, &s.questions);
    input.status = Some(f.status.clone());
    save(&state, &auth, id, &input, &f.status).await
}

#[derive(Debug, Default, Deserialize)]
struct SettingsForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    touchpoint_id: String,
    #[serde(default)]
    stage_id: String,
    #[serde(default)]
    team_id: String,
    #[serde(default)]
    trigger_event: String,
    #[serde(default)]
    trigger_delay_hours: String,
    #[serde(default)]
    sample_percent: String,
    #[serde(default)]
    min_days: String,
    #[serde(default)]
    repeat: String,
}

async fn save_settings(
    State(state): State<AppState>,
    auth: UiNeed<perm::SurveysManage>,
    ApiPath(id): ApiPath<i64>,
    Form(f): Form<SettingsForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    let s = Loaded::new(state.store.survey(id).await?)?;
    let mut input = input_of(&s, &s.questions);
    input.name = f.name;
    input.touchpoint_id = form_number("touchpoint_id", &f.touchpoint_id)?.map(|v| v as i64);
    input.stage_id = form_number("stage_id", &f.stage_id)?.map(|v| v as i64);
    input.team_id = form_number("team_id", &f.team_id)?.map(|v| v as i64);
    input.trigger_event = Some(f.trigger_event);
    input.trigger_delay_hours =
        form_number("trigger_delay_hours", &f.trigger_delay_hours)?.map(|v| v as i64);
    input.sample_rate = form_number("sample_percent", &f.sample_percent)?.map(|v| v / 100.0);
    input.min_days = form_number("min_days", &f.min_days)?.map(|v| v as i64);
    input.repeat = Some(f.repeat);
    save(&state, &auth, id, &input, "settings").await
}

#[derive(Debug, Default, Deserialize)]
struct QuestionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    text_ko: String,
    #[serde(default)]
    text_en: String,
    #[serde(default)]
    choices: String,
    #[serde(default)]
    required: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct LogicForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    logic_op: String,
    #[serde(default)]
    logic_value: String,
    #[serde(default)]
    logic_to: String,
}

async fn add_question(
    State(state): State<AppState>,
    auth: UiNeed<perm::SurveysManage>,
    ApiPath(id): ApiPath<i64>,
    Form(f): Form<QuestionForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    let s = Loaded::new(state.store.survey(id).await?)?;
    let kind = QuestionKind::parse(&f.kind)
        .map_err(|e| AppError::bad_request("invalid_kind", e.message))?;
    let questions = survey_edit::add_question(
        &s.questions,
        survey_edit::NewQuestion {
            kind,
            text: Localized {
                ko: f.text_ko.clone(),
                en: f.text_en.clone(),
            },
            choices: survey_edit::parse_choices(&f.choices),
            required: f.required.is_some(),
        },
    );
    save(
        &state,
        &auth,
        id,
        &input_of(&s, &questions),
        "question added",
    )
    .await
}

async fn delete_question(
    State(state): State<AppState>,
    auth: UiNeed<perm::SurveysManage>,
    ApiPath((id, qid)): ApiPath<(i64, String)>,
    Form(f): Form<CsrfForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    let s = Loaded::new(state.store.survey(id).await?)?;
    if s.question(&qid).is_none() {
        return Err(AppError::NotFound(format!("question {qid}")).into());
    }
    let questions = survey_edit::remove_question(&s.questions, &qid)?;
    save(
        &state,
        &auth,
        id,
        &input_of(&s, &questions),
        "question removed",
    )
    .await
}

/// Adds a skip-logic jump to a question; the survey's checks refuse a jump that does
/// not fit (a number test on a text question, a jump backwards).
async fn add_logic(
    State(state): State<AppState>,
    auth: UiNeed<perm::SurveysManage>,
    ApiPath((id, qid)): ApiPath<(i64, String)>,
    Form(f): Form<LogicForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    let s = Loaded::new(state.store.survey(id).await?)?;
    if s.question(&qid).is_none() {
        return Err(AppError::NotFound(format!("question {qid}")).into());
    }
    let questions =
        survey_edit::add_jump(&s.questions, &qid, &f.logic_op, &f.logic_value, &f.logic_to)
            .map_err(|e| AppError::bad_request("invalid_logic", e.message))?;
    save(
        &state,
        &auth,
        id,
        &input_of(&s, &questions),
        "skip logic added",
    )
    .await
}
