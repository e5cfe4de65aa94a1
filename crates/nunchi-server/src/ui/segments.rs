//! The segments pages: the list with each segment's rule as a sentence and its size, the
//! builder (start from a template, edit the rule, preview who matches now, save), and a
//! segment's page with its size over time and recent entries and exits — all through
//! `nunchi_app::segments`, as the API does.

use axum::{
    Form, Router,
    extract::{FromRequest, Multipart, Request, State},
    response::{IntoResponse, Redirect},
    routing::{get, post},
};
use nunchi_app::segments::{self, SegmentInput, SegmentView};
use nunchi_charts as charts;
use serde::Deserialize;

use super::{Chrome, CsrfForm, UiNeed, UiResult, count, fmt_time, lang_of, render};
use crate::{
    AppState,
    auth::{check_form_csrf, perm},
    extract::{ApiPath, ApiQuery},
    i18n::Strings,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/segments", get(list).post(create))
        .route("/segments/preview", post(preview))
        .route("/segments/import", post(import_list))
        .route("/segments/{id}", get(detail))
        .route("/segments/{id}/delete", post(delete))
        .route("/segments/{id}/freeze", post(freeze))
}

/// A template's key, its name in the reader's language, and its rule.
type Template = (&'static str, fn(&Strings) -> &'static str, &'static str);

/// Templates a CX manager starts from; each is an ordinary rule they can edit.
const TEMPLATES: &[Template] = &[
    (
        "carts",
        |t| t.seg_t_carts,
        r#"{"type": "all", "rules": [
  {"type": "event", "name": "add_to_cart", "at_least": 2, "within_days": 30},
  {"type": "not", "rule": {"type": "event", "name": "purchase", "within_days": 30}}
]}"#,
    ),
    (
        "fans",
        |t| t.seg_t_fans,
        r#"{"type": "all", "rules": [
  {"type": "orders", "measure": "count", "cmp": "gte", "value": 2},
  {"type": "any", "rules": [
    {"type": "nps", "groups": ["promoter"]},
    {"type": "rfm", "cells": ["champions", "loyal"]}
  ]}
]}"#,
    ),
    (
        "adjacent",
        |t| t.seg_t_adjacent,
        r#"{"type": "orders", "measure": "count", "cmp": "eq", "value": 1}"#,
    ),
    (
        "prospects",
        |t| t.seg_t_prospects,
        r#"{"type": "orders", "measure": "count", "cmp": "eq", "value": 0}"#,
    ),
    (
        "at_risk",
        |t| t.seg_t_risk,
        r#"{"type": "all", "rules": [
  {"type": "orders", "measure": "count", "cmp": "gte", "value": 1},
  {"type": "value", "measure": "probability_alive", "cmp": "lt", "value": 0.3}
]}"#,
    ),
];

struct Row {
    id: i64,
    name: String,
    sentence: String,
    members: String,
    /// Entered and left in the last 7 days: "+12 / −3".
    week: String,
    evaluated: String,
}

#[derive(askama::Template)]
#[template(path = "segments.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    templates: Vec<(&'static str, &'static str)>,
    form: SegmentForm,
    /// (count, of, sentence) after a preview.
    previewed: Option<(String, String, String)>,
    error: Option<String>,
    /// Why a file could not make a list.
    upload_error: Option<String>,
    /// What the form-based builder offers, as JSON for the page script.
    vocabulary: String,
    can_write: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct SegmentForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    rule: String,
}

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    template: Option<String>,
}

fn sentence(v: &SegmentView, ko: bool) -> String {
    if ko {
        v.sentence_ko.clone()
    } else {
        v.sentence_en.clone()
    }
}

async fn page(
    state: &AppState,
    auth: &crate::auth::Auth,
    form: SegmentForm,
    previewed: Option<(String, String, String)>,
    error: Option<String>,
) -> UiResult {
    Ok(render(page_of(state, auth, form, previewed, error).await?))
}

async fn page_of(
    state: &AppState,
    auth: &crate::auth::Auth,
    form: SegmentForm,
    previewed: Option<(String, String, String)>,
    error: Option<String>,
) -> Result<ListPage, crate::error::AppError> {
    let t = lang_of(auth).strings();
    let ko = lang_of(auth) == crate::i18n::Lang::Ko;
    let rows = segments::list(state, &auth.as_actor())
        .await?
        .into_iter()
        .map(|v| Row {
            id: v.segment.id,
            name: v.segment.name.clone(),
            sentence: sentence(&v, ko),
            members: count(&v.segment.members),
            week: format!("+{} / −{}", count(&v.entered_7d), count(&v.left_7d)),
            evaluated: v.segment.evaluated_at.map(fmt_time).unwrap_or_default(),
        })
        .collect();
    Ok(ListPage {
        chrome: Chrome::new(auth, "/segments", t.nav_segments),
        rows,
        templates: TEMPLATES
            .iter()
            .map(|(k, label, _)| (*k, label(t)))
            .collect(),
        form,
        previewed,
        error,
        upload_error: None,
        vocabulary: vocabulary(state, t).await?,
        can_write: auth.can(nunchi_core::access::Permission::SegmentsManage),
    })
}

/// The builder's vocabulary: each condition's label, each field's label, and the choices
/// nunchi holds now (events seen, attributes declared, tiers, cells, segments). Written
/// into the page as JSON, with `<` escaped so it cannot close the script element.
async fn vocabulary(
    state: &AppState,
    t: &'static crate::i18n::Strings,
) -> Result<String, crate::error::AppError> {
    use nunchi_core::consent::{ContactChannel, Purpose};
    use nunchi_core::identity::IdentityKind;
    let schema = segments::schema(state).await?;
    let segments: Vec<serde_json::Value> = state
        .store
        .segments()
        .await?
        .into_iter()
        .filter(|s| schema.segments.contains(&s.id))
        .map(|s| serde_json::json!({"id": s.id, "name": s.name}))
        .collect();
    let v = serde_json::json!({
        "types": {
            "tag": t.seg_c_tag, "attribute": t.seg_c_attribute, "consent": t.seg_c_consent,
            "identity": t.seg_c_identity, "event": t.seg_c_event, "event_days": t.seg_c_event_days,
            "orders": t.seg_c_orders, "rating": t.seg_c_rating, "nps": t.seg_c_nps,
            "sentiment": t.seg_c_sentiment, "topic": t.seg_c_topic,
            "open_conversation": t.seg_c_open_conversation, "segment": t.seg_c_segment,
            "rfm": t.seg_c_rfm, "value": t.seg_c_value, "tier": t.seg_c_tier, "loyalty": t.seg_c_loyalty,
        },
        "fields": {
            "tag": t.seg_f_tag, "key": t.seg_f_key, "cmp": t.seg_f_cmp, "value": t.seg_f_value,
            "channel": t.seg_f_channel, "purpose": t.seg_f_purpose, "kind": t.seg_f_kind,
            "name": t.seg_f_name, "at_least": t.seg_f_at_least, "within_days": t.seg_f_within_days,
            "which": t.seg_f_which, "measure": t.seg_f_measure, "product": t.seg_f_product,
            "category": t.seg_f_category, "metric": t.seg_f_metric, "groups": t.seg_f_groups,
            "topic": t.seg_f_topic, "negative": t.seg_f_negative, "segment": t.seg_f_segment,
            "cells": t.seg_f_cells, "tier": t.seg_f_tier,
        },
        "words": {
            "match": t.seg_b_match, "all": t.seg_b_all, "any": t.seg_b_any, "add": t.seg_b_add,
            "not": t.seg_b_not, "remove": t.seg_b_remove, "complex": t.seg_b_complex,
        },
        "choices": {
            "event": schema.events,
            "attribute": schema.attributes.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            "tier": schema.tiers,
            "rfm": schema.rfm_cells,
            "segment": segments,
            "channel": ContactChannel::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            "purpose": [Purpose::Marketing.as_str(), Purpose::NightAds.as_str()],
            "identity": IdentityKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
            "metric": nunchi_core::segment::RATING_METRICS,
            "nps_groups": nunchi_core::segment::NPS_GROUPS,
        },
    });
    Ok(v.to_string().replace('<', "\\u003c"))
}

async fn list(
    State(state): State<AppState>,
    auth: UiNeed<perm::CustomersRead>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> UiResult {
    let t = lang_of(&auth).strings();
    let form = match TEMPLATES
        .iter()
        .find(|(k, _, _)| Some(*k) == q.template.as_deref())
    {
        Some((_, label, rule)) => SegmentForm {
            name: label(t)
                .split(':')
                .next()
                .unwrap_or_default()
                .trim()
                .to_string(),
            rule: rule.to_string(),
            ..SegmentForm::default()
        },
        None => SegmentForm {
            rule: TEMPLATES[0].2.to_string(),
            ..SegmentForm::default()
        },
    };
    page(&state, &auth, form, None, None).await
}

/// The builder's preview: a page with the count, or — for the page script, which asks
/// with `Accept: application/json` as the rule is typed — the count alone.
async fn preview(
    State(state): State<AppState>,
    auth: UiNeed<perm::CustomersRead>,
    headers: axum::http::HeaderMap,
    Form(f): Form<SegmentForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    let ko = lang_of(&auth) == crate::i18n::Lang::Ko;
    let outcome = match segments::parse_rule(&f.rule) {
        Err(e) => Err(e),
        Ok(rule) => segments::preview(&state, &auth.as_actor(), &rule)
            .await
            .map_err(|e| e.to_string()),
    };
    let wants_json = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    if wants_json {
        let body = match &outcome {
            Ok(p) => serde_json::json!({
                "customers": p.customers,
                "of": p.of,
                "sentence": if ko { &p.sentence_ko } else { &p.sentence_en },
            }),
            Err(e) => serde_json::json!({ "error": e }),
        };
        return Ok(axum::Json(body).into_response());
    }
    match outcome {
        Ok(p) => {
            let said = if ko { p.sentence_ko } else { p.sentence_en };
            page(
                &state,
                &auth,
                f,
                Some((count(&p.customers), count(&p.of), said)),
                None,
            )
            .await
        }
        Err(e) => page(&state, &auth, f, None, Some(e)).await,
    }
}

async fn create(
    State(state): State<AppState>,
    auth: UiNeed<perm::SegmentsManage>,
    Form(f): Form<SegmentForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    let outcome = match segments::parse_rule(&f.rule) {
        Err(e) => Err(e),
        Ok(rule) => {
            let input = SegmentInput {
                name: f.name.clone(),
                description: f.description.clone(),
                rule,
            };
            segments::create(&state, &auth.as_actor(), &input)
                .await
                .map_err(|e| e.to_string())
        }
    };
    match outcome {
        Ok(v) => Ok(Redirect::to(&format!("/segments/{}", v.segment.id)).into_response()),
        Err(e) => page(&state, &auth, f, None, Some(e)).await,
    }
}

struct ChangeRow {
    customer_id: i64,
    entered: bool,
    when: String,
    /// Why, in the reader's language where nunchi wrote it ("imported list" as stored).
    why: String,
}

#[derive(askama::Template)]
#[template(path = "segment.html")]
struct DetailPage {
    chrome: Chrome,
    v: SegmentView,
    sentence: String,
    members: String,
    chart: String,
    changes: Vec<ChangeRow>,
    /// Rows of an uploaded list that named no customer, right after the upload.
    rejected: Option<u64>,
    can_write: bool,
}

#[derive(Debug, Deserialize)]
pub struct DetailQuery {
    rejected: Option<u64>,
}

async fn detail(
    State(state): State<AppState>,
    auth: UiNeed<perm::CustomersRead>,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<DetailQuery>,
) -> UiResult {
    let t = lang_of(&auth).strings();
    let actor = auth.as_actor();
    let v = segments::get(&state, &actor, id).await?;
    let (changes, days) = segments::history(&state, &actor, id).await?;
    // The size at the end of each day with a change: the running sum of entries − exits.
    let mut size = 0i64;
    let bars: Vec<charts::Bar> = days
        .iter()
        .map(|d| {
            size += d.entered - d.left;
            charts::Bar {
                label: fmt_time(d.day * 86_400_000)[5..10].to_string(),
                value: size as f64,
                shown: count(&size),
            }
        })
        .collect();
    Ok(render(DetailPage {
        chrome: Chrome::new(&auth, "/segments", t.nav_segments),
        sentence: sentence(&v, lang_of(&auth) == crate::i18n::Lang::Ko),
        members: count(&v.segment.members),
        chart: charts::bar_chart(t.seg_size, &bars, t.seg_no_changes),
        changes: changes
            .into_iter()
            .map(|c| ChangeRow {
                customer_id: c.customer_id,
                entered: c.entered,
                when: fmt_time(c.at),
                why: match c.reason.as_str() {
                    "rule" => t.seg_reason_rule.to_string(),
                    "data" => t.seg_reason_data.to_string(),
                    "time" => t.seg_reason_time.to_string(),
                    other => other.to_string(),
                },
            })
            .collect(),
        rejected: q.rejected,
        can_write: auth.can(nunchi_core::access::Permission::SegmentsManage),
        v,
    }))
}

async fn delete(
    State(state): State<AppState>,
    auth: UiNeed<perm::SegmentsManage>,
    ApiPath(id): ApiPath<i64>,
    Form(f): Form<CsrfForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    segments::delete(&state, &auth.as_actor(), id).await?;
    Ok(Redirect::to("/segments").into_response())
}

#[derive(Debug, Deserialize)]
pub struct FreezeForm {
    csrf: String,
    name: String,
}

async fn freeze(
    State(state): State<AppState>,
    auth: UiNeed<perm::SegmentsManage>,
    ApiPath(id): ApiPath<i64>,
    Form(f): Form<FreezeForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    let v = segments::freeze(&state, &auth.as_actor(), id, &f.name).await?;
    Ok(Redirect::to(&format!("/segments/{}", v.segment.id)).into_response())
}

/// A static segment from an uploaded customer list: the new segment's page, with the rows
/// that named no customer counted; or the list page saying what was wrong.
async fn import_list(
    State(state): State<AppState>,
    auth: UiNeed<perm::SegmentsManage>,
    request: Request,
) -> UiResult {
    let t = lang_of(&auth).strings();
    let mut parts = Multipart::from_request(request, &state)
        .await
        .map_err(|e| crate::error::AppError::bad_request("invalid_form", e.body_text()))?;
    let bad = |e: axum::extract::multipart::MultipartError| {
        crate::error::AppError::bad_request("invalid_form", e.body_text())
    };
    let (mut csrf, mut name, mut file) = (String::new(), String::new(), Vec::new());
    while let Some(field) = parts.next_field().await.map_err(bad)? {
        match field.name().unwrap_or_default() {
            "csrf" => csrf = field.text().await.map_err(bad)?,
            "name" => name = field.text().await.map_err(bad)?,
            "file" => file = field.bytes().await.map_err(bad)?.to_vec(),
            _ => {}
        }
    }
    check_form_csrf(&auth, &csrf)?;
    let outcome = match nunchi_app::text_encoding::utf8_text(&file) {
        _ if file.is_empty() => Err(t.seg_upload_missing.to_string()),
        None => Err("the file is neither UTF-8 nor CP949 (EUC-KR)".to_string()),
        Some((text, _)) => segments::import_static(&state, &auth.as_actor(), &name, "", &text)
            .await
            .map_err(|e| e.to_string()),
    };
    match outcome {
        Ok(imported) => {
            let id = imported.segment.segment.id;
            let rejected = imported.rejected.len();
            let to = if rejected == 0 {
                format!("/segments/{id}")
            } else {
                format!("/segments/{id}?rejected={rejected}")
            };
            Ok(Redirect::to(&to).into_response())
        }
        Err(e) => {
            let form = SegmentForm {
                rule: TEMPLATES[0].2.to_string(),
                ..SegmentForm::default()
            };
            let mut page = page_of(&state, &auth, form, None, None).await?;
            page.upload_error = Some(e);
            Ok(render(page))
        }
    }
}
