//! The personas pages: the list with each persona's photo, quote and segment size and a
//! form for a new one; a persona's page with the story beside the live truth about its
//! customers (size, NPS, CSAT, value, channel mix, topics, journey drop-off) and every
//! place they disagree; editing, a photo upload and deletion — all through
//! `nunchi_app::personas`, as the API does.

use axum::{
    Form, Router,
    extract::{FromRequest, Multipart, Request, State},
    response::{IntoResponse, Redirect},
    routing::{get, post},
};
use nunchi_app::personas::{self, PersonaInput, PersonaView, Truth, in_language};
use nunchi_charts as charts;
use nunchi_core::channel::Channel;
use nunchi_store::model::Persona;
use serde::Deserialize;

use super::{Chrome, CsrfForm, UiNeed, UiResult, count, fmt_major, lang_of, render};
use crate::{
    AppState,
    auth::{check_form_csrf, perm},
    error::AppError,
    extract::ApiPath,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/personas", get(list).post(create))
        .route("/personas/{id}", get(detail).post(update))
        .route("/personas/{id}/photo", get(photo).post(upload))
        .route("/personas/{id}/delete", post(delete))
}

/// The persona form's fields, as posted.
#[derive(Debug, Default, Deserialize)]
pub struct PersonaForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    segment_id: String,
    #[serde(default)]
    name_ko: String,
    #[serde(default)]
    name_en: String,
    #[serde(default)]
    goals_ko: String,
    #[serde(default)]
    goals_en: String,
    #[serde(default)]
    pains_ko: String,
    #[serde(default)]
    pains_en: String,
    #[serde(default)]
    quote_ko: String,
    #[serde(default)]
    quote_en: String,
    /// Channel keys, comma-separated.
    #[serde(default)]
    channels: String,
}

impl PersonaForm {
    fn of(p: &Persona) -> Self {
        PersonaForm {
            csrf: String::new(),
            segment_id: p.segment_id.map(|s| s.to_string()).unwrap_or_default(),
            name_ko: p.name_ko.clone(),
            name_en: p.name_en.clone(),
            goals_ko: p.goals_ko.clone(),
            goals_en: p.goals_en.clone(),
            pains_ko: p.pains_ko.clone(),
            pains_en: p.pains_en.clone(),
            quote_ko: p.quote_ko.clone(),
            quote_en: p.quote_en.clone(),
            channels: p.channels.clone(),
        }
    }

    fn input(&self) -> Result<PersonaInput, AppError> {
        let segment_id = match self.segment_id.trim() {
            "" => None,
            s => Some(s.parse().map_err(|_| {
                AppError::bad_request("invalid_persona", format!("{s:?} is not a segment id"))
            })?),
        };
        Ok(PersonaInput {
            segment_id,
            name_ko: self.name_ko.clone(),
            name_en: self.name_en.clone(),
            goals_ko: self.goals_ko.clone(),
            goals_en: self.goals_en.clone(),
            pains_ko: self.pains_ko.clone(),
            pains_en: self.pains_en.clone(),
            quote_ko: self.quote_ko.clone(),
            quote_en: self.quote_en.clone(),
            channels: self.channels.split(',').map(str::to_string).collect(),
        })
    }
}

/// The form's choices: the segments to link and the channels.
struct Choices {
    segments: Vec<(i64, String)>,
    channels: Vec<(&'static str, &'static str)>,
}

async fn choices(state: &AppState, auth: &crate::auth::Auth) -> Result<Choices, AppError> {
    let ko = lang_of(auth) == crate::i18n::Lang::Ko;
    Ok(Choices {
        segments: state
            .store
            .segments()
            .await?
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect(),
        channels: Channel::ALL
            .iter()
            .map(|c| (c.as_str(), if ko { c.label_ko() } else { c.label_en() }))
            .collect(),
    })
}

struct Card {
    id: i64,
    name: String,
    quote: String,
    has_photo: bool,
    initial: String,
    segment: String,
    size: String,
}

#[derive(askama::Template)]
#[template(path = "personas.html")]
struct ListPage {
    chrome: Chrome,
    cards: Vec<Card>,
    form: PersonaForm,
    choices: Choices,
    action: String,
    error: Option<String>,
    can_write: bool,
}

async fn list_page(
    state: &AppState,
    auth: &crate::auth::Auth,
    form: PersonaForm,
    error: Option<String>,
) -> UiResult {
    let t = lang_of(auth).strings();
    let ko = lang_of(auth) == crate::i18n::Lang::Ko;
    let segments = state.store.segments().await?;
    let cards = personas::list(state, &auth.as_actor())
        .await?
        .into_iter()
        .map(|p| {
            let name = personas::name(&p, ko).to_string();
            let linked = p
                .segment_id
                .and_then(|id| segments.iter().find(|s| s.id == id));
            Card {
                id: p.id,
                initial: name.chars().next().map(String::from).unwrap_or_default(),
                quote: in_language(ko, &p.quote_ko, &p.quote_en).to_string(),
                has_photo: p.has_photo,
                segment: linked.map(|s| s.name.clone()).unwrap_or_default(),
                size: linked.map(|s| count(&s.members)).unwrap_or_default(),
                name,
            }
        })
        .collect();
    Ok(render(ListPage {
        chrome: Chrome::new(auth, "/personas", t.nav_personas),
        cards,
        form,
        choices: choices(state, auth).await?,
        action: "/personas".into(),
        error,
        can_write: auth.can(nunchi_core::access::Permission::SegmentsManage),
    }))
}

async fn list(State(state): State<AppState>, auth: UiNeed<perm::CustomersRead>) -> UiResult {
    list_page(&state, &auth, PersonaForm::default(), None).await
}

async fn create(
    State(state): State<AppState>,
    auth: UiNeed<perm::SegmentsManage>,
    Form(f): Form<PersonaForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    let outcome = match f.input() {
        Ok(input) => personas::create(&state, &auth.as_actor(), &input)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    match outcome {
        Ok(p) => Ok(Redirect::to(&format!("/personas/{}", p.id)).into_response()),
        Err(e) => list_page(&state, &auth, f, Some(e)).await,
    }
}

/// The truth as the page shows it.
struct Shown {
    segment_id: i64,
    segment: String,
    size: String,
    /// (score, answers)
    nps: (String, String),
    csat: (String, String),
    clv: String,
    channels_chart: String,
    /// (topic, mentions, negative mentions)
    topics: Vec<(String, String, String)>,
    /// (stage, reach, conversion to the next, drop-off)
    stages: Vec<(String, String, String, String)>,
    disagreements: Vec<String>,
}

fn shown(truth: &Truth, ko: bool, t: &crate::i18n::Strings) -> Shown {
    let score = |s: &Option<nunchi_analytics::scores::Score>, pct: bool| {
        s.as_ref().map_or(("—".to_string(), String::new()), |s| {
            (
                format!("{}{}", s.value.round(), if pct { "%" } else { "" }),
                format!(" · {} {}", count(&s.responses), t.per_answers),
            )
        })
    };
    let label = |key: &str| {
        Channel::parse(key).map_or(key.to_string(), |c| {
            if ko { c.label_ko() } else { c.label_en() }.to_string()
        })
    };
    let bars: Vec<charts::Bar> = truth
        .channels
        .iter()
        .map(|c| charts::Bar {
            label: label(&c.channel),
            value: c.share * 100.0,
            shown: format!("{}%", (c.share * 100.0).round()),
        })
        .collect();
    let pct = |x: Option<f64>| x.map_or(String::new(), |v| format!("{}%", (v * 100.0).round()));
    Shown {
        segment_id: truth.segment_id,
        segment: truth.segment_name.clone(),
        size: count(&truth.size),
        nps: score(&truth.nps, false),
        csat: score(&truth.csat, true),
        clv: truth
            .clv_mean
            .map_or("—".to_string(), |v| fmt_major(v, &truth.currency)),
        channels_chart: charts::bar_chart(t.per_channel_mix, &bars, t.per_no_events),
        topics: truth
            .topics
            .iter()
            .map(|c| {
                (
                    in_language(ko, &c.ko, &c.en).to_string(),
                    count(&c.mentions),
                    count(&c.negative),
                )
            })
            .collect(),
        stages: truth
            .stages
            .iter()
            .map(|s| {
                (
                    in_language(ko, &s.name_ko, &s.name_en).to_string(),
                    count(&s.reach),
                    pct(s.conversion),
                    pct(s.drop_off),
                )
            })
            .collect(),
        disagreements: truth
            .disagreements
            .iter()
            .map(|d| if ko { d.ko.clone() } else { d.en.clone() })
            .collect(),
    }
}

#[derive(askama::Template)]
#[template(path = "persona.html")]
struct DetailPage {
    chrome: Chrome,
    id: i64,
    name: String,
    has_photo: bool,
    initial: String,
    goals: String,
    pains: String,
    quote: String,
    channels: Vec<String>,
    truth: Option<Shown>,
    form: PersonaForm,
    choices: Choices,
    action: String,
    error: Option<String>,
    can_write: bool,
}

async fn detail_page(
    state: &AppState,
    auth: &crate::auth::Auth,
    id: i64,
    form: Option<PersonaForm>,
    error: Option<String>,
) -> UiResult {
    let t = lang_of(auth).strings();
    let ko = lang_of(auth) == crate::i18n::Lang::Ko;
    let PersonaView { persona: p, truth } = personas::get(state, &auth.as_actor(), id).await?;
    let name = personas::name(&p, ko).to_string();
    Ok(render(DetailPage {
        chrome: Chrome::new(auth, "/personas", t.nav_personas),
        id,
        initial: name.chars().next().map(String::from).unwrap_or_default(),
        has_photo: p.has_photo,
        goals: in_language(ko, &p.goals_ko, &p.goals_en).to_string(),
        pains: in_language(ko, &p.pains_ko, &p.pains_en).to_string(),
        quote: in_language(ko, &p.quote_ko, &p.quote_en).to_string(),
        channels: p
            .channels
            .split(',')
            .filter(|c| !c.is_empty())
            .map(|c| {
                Channel::parse(c).map_or(c.to_string(), |c| {
                    if ko { c.label_ko() } else { c.label_en() }.to_string()
                })
            })
            .collect(),
        truth: truth.as_ref().map(|tr| shown(tr, ko, t)),
        form: form.unwrap_or_else(|| PersonaForm::of(&p)),
        choices: choices(state, auth).await?,
        action: format!("/personas/{id}"),
        error,
        can_write: auth.can(nunchi_core::access::Permission::SegmentsManage),
        name,
    }))
}

async fn detail(
    State(state): State<AppState>,
    auth: UiNeed<perm::CustomersRead>,
    ApiPath(id): ApiPath<i64>,
) -> UiResult {
    detail_page(&state, &auth, id, None, None).await
}

async fn update(
    State(state): State<AppState>,
    auth: UiNeed<perm::SegmentsManage>,
    ApiPath(id): ApiPath<i64>,
    Form(f): Form<PersonaForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    let outcome = match f.input() {
        Ok(input) => personas::update(&state, &auth.as_actor(), id, &input)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    match outcome {
        Ok(_) => Ok(Redirect::to(&format!("/personas/{id}")).into_response()),
        Err(e) => detail_page(&state, &auth, id, Some(f), Some(e)).await,
    }
}

async fn photo(
    State(state): State<AppState>,
    auth: UiNeed<perm::CustomersRead>,
    ApiPath(id): ApiPath<i64>,
) -> UiResult {
    match personas::photo(&state, &auth.as_actor(), id).await? {
        Some((ty, bytes)) => Ok(crate::files::image_response(ty, bytes)),
        None => Err(AppError::NotFound("the persona has no photo".into()).into()),
    }
}

/// The photo form: a multipart upload with the page's token first.
async fn upload(
    State(state): State<AppState>,
    auth: UiNeed<perm::SegmentsManage>,
    ApiPath(id): ApiPath<i64>,
    request: Request,
) -> UiResult {
    let mut parts = Multipart::from_request(request, &state)
        .await
        .map_err(|e| AppError::bad_request("invalid_form", e.body_text()))?;
    let bad = |e: axum::extract::multipart::MultipartError| {
        AppError::bad_request("invalid_form", e.body_text())
    };
    let mut csrf = String::new();
    let mut outcome = Err(lang_of(&auth).strings().per_photo_missing.to_string());
    while let Some(field) = parts.next_field().await.map_err(bad)? {
        match field.name().unwrap_or_default() {
            "csrf" => csrf = field.text().await.map_err(bad)?,
            "photo" => {
                check_form_csrf(&auth, &csrf)?;
                let bytes = field.bytes().await.map_err(bad)?;
                if !bytes.is_empty() {
                    outcome = personas::set_photo(&state, &auth.as_actor(), id, &bytes)
                        .await
                        .map_err(|e| e.to_string());
                }
            }
            _ => {}
        }
    }
    check_form_csrf(&auth, &csrf)?;
    match outcome {
        Ok(()) => Ok(Redirect::to(&format!("/personas/{id}")).into_response()),
        Err(e) => detail_page(&state, &auth, id, None, Some(e)).await,
    }
}

async fn delete(
    State(state): State<AppState>,
    auth: UiNeed<perm::SegmentsManage>,
    ApiPath(id): ApiPath<i64>,
    Form(f): Form<CsrfForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    personas::delete(&state, &auth.as_actor(), id).await?;
    Ok(Redirect::to("/personas").into_response())
}
