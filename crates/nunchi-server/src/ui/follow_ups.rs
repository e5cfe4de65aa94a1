//! The follow-ups page: open follow-ups with the feedback behind them, notes and closing
//! with a resolution; the closed-loop report per owner and per team; and the outer loop —
//! root-cause items grouping negative feedback by topic, suggested from what customers
//! keep mentioning, tracked to "fixed" with the affected customers told.

use std::collections::HashMap;

use askama::Template;
use axum::{
    Form, Router,
    extract::State,
    response::{IntoResponse, Redirect},
    routing::{get, post},
};
use nunchi_core::access::Permission;
use nunchi_store::model::{Feedback, FollowUpNote, RootCause};
use serde::Deserialize;

use super::{Chrome, UiNeed, UiResult, fmt_time, form_number, lang_of, render};
use crate::{
    AppState,
    auth::{check_form_csrf, perm},
    extract::ApiPath,
};
use nunchi_app::loops::{
    FixInput, LoopRuleInput, RootCauseInput, add_follow_up_note, close_follow_up, create_loop_rule,
    delete_loop_rule, loop_report, mark_fixed, open_root_cause, topic_suggestions,
};
use nunchi_app::outer_loop::{LoopStats, TopicSuggestion};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/follow-ups", get(page))
        .route("/follow-ups/{id}/notes", post(note))
        .route("/follow-ups/{id}/close", post(close))
        .route("/loop-rules", post(add_rule))
        .route("/loop-rules/{id}/delete", post(remove_rule))
        .route("/root-causes", post(track))
        .route("/root-causes/{id}/fix", post(fix))
}

/// Open follow-ups shown, at most.
const SHOWN: i64 = 200;

struct FollowUpRow {
    id: i64,
    source: String,
    rating: String,
    body: String,
    customer_id: Option<i64>,
    /// The conversation the owner answers the customer in.
    conversation_id: Option<i64>,
    owner: String,
    /// Every rule the feedback met, by name.
    rules: String,
    due: String,
    overdue: bool,
    notes: Vec<(String, String, String)>,
}

struct StatsRow {
    name: String,
    opened: u64,
    /// Opened and not closed yet (the "open" the column header used to claim for all).
    open_now: u64,
    closed: u64,
    rate: String,
    median: String,
    overdue: u64,
}

fn stats_row(name: String, s: &LoopStats) -> StatsRow {
    StatsRow {
        name,
        opened: s.opened,
        open_now: s.opened.saturating_sub(s.closed),
        closed: s.closed,
        rate: format!("{:.0}%", s.closed_loop_rate * 100.0),
        median: s
            .median_hours_to_close
            .map(|h| format!("{h:.1}"))
            .unwrap_or_else(|| "—".into()),
        overdue: s.overdue,
    }
}

#[derive(Template)]
#[template(path = "follow_ups.html")]
struct Page {
    chrome: Chrome,
    rows: Vec<FollowUpRow>,
    /// (heading, element id, rows): per owner, then per team.
    tables: Vec<(&'static str, &'static str, Vec<StatsRow>)>,
    causes: Vec<RootCause>,
    suggestions: Vec<(TopicSuggestion, String)>,
    rules: Vec<RuleRow>,
    users: Vec<(i64, String)>,
    /// Saved segments a rule may name: (id, name).
    segments: Vec<(i64, String)>,
    can_write: bool,
    can_manage: bool,
}

async fn page(State(state): State<AppState>, auth: UiNeed<perm::CustomersRead>) -> UiResult {
    let lang = lang_of(&auth);
    let t = lang.strings();
    let ko = lang.code() == "ko";
    let users: HashMap<i64, String> = state
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let rule_names: HashMap<i64, String> = state
        .store
        .loop_rules()
        .await?
        .into_iter()
        .map(|r| (r.id, r.name))
        .collect();
    let now = state.now();
    // Three queries for the whole list: the follow-ups, their feedback, their notes.
    let open = state.store.follow_ups(Some("open"), SHOWN).await?;
    let ids: Vec<i64> = open.iter().map(|f| f.feedback_id).collect();
    let actor = auth.as_actor();
    let feedback: HashMap<i64, Feedback> = state
        .store
        .feedback_many(&ids)
        .await?
        .into_iter()
        .map(|f| (f.id, nunchi_app::privacy::masked_feedback(f, &actor)))
        .collect();
    let ids: Vec<i64> = open.iter().map(|f| f.id).collect();
    let mut notes: HashMap<i64, Vec<FollowUpNote>> = HashMap::new();
    for n in state.store.follow_up_notes_many(&ids).await? {
        notes.entry(n.follow_up_id).or_default().push(n);
    }
    let rows = open
        .into_iter()
        .filter_map(|f| {
            let fb = feedback.get(&f.feedback_id)?;
            Some(FollowUpRow {
                id: f.id,
                source: fb.source.to_string(),
                rating: fb.rating_label().unwrap_or_default(),
                body: fb.body.clone(),
                customer_id: fb.customer_id,
                conversation_id: f.conversation_id,
                owner: f
                    .owner_id
                    .and_then(|o| users.get(&o).cloned())
                    .unwrap_or_else(|| t.unassigned.into()),
                rules: f
                    .rule_ids
                    .iter()
                    .filter_map(|r| rule_names.get(r).map(String::as_str))
                    .collect::<Vec<_>>()
                    .join(", "),
                due: fmt_time(f.due_at),
                overdue: f.due_at < now,
                notes: notes
                    .remove(&f.id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|n| {
                        (
                            fmt_time(n.created_at),
                            n.author_id
                                .and_then(|a| users.get(&a).cloned())
                                .unwrap_or_default(),
                            n.body,
                        )
                    })
                    .collect(),
            })
        })
        .collect();
    let report = loop_report(&state).await?;
    let segments: Vec<(i64, String)> = state
        .store
        .segments()
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    Ok(render(Page {
        chrome: Chrome::new(&auth, "/follow-ups", t.follow_ups_title),
        rows,
        tables: vec![
            (
                t.loop_by_owner,
                "loop-owners",
                report
                    .owners
                    .iter()
                    .map(|o| {
                        stats_row(
                            o.owner.clone().unwrap_or_else(|| t.unassigned.into()),
                            &o.stats,
                        )
                    })
                    .collect(),
            ),
            (
                t.loop_by_team,
                "loop-teams",
                report
                    .teams
                    .iter()
                    .map(|o| {
                        stats_row(o.team.clone().unwrap_or_else(|| t.no_team.into()), &o.stats)
                    })
                    .collect(),
            ),
        ],
        causes: state.store.root_causes().await?,
        suggestions: topic_suggestions(&state)
            .await?
            .into_iter()
            .take(8)
            .map(|s| {
                let label = if ko {
                    s.label_ko.clone()
                } else {
                    s.label_en.clone()
                };
                (s, label)
            })
            .collect(),
        segments: segments.clone(),
        rules: state
            .store
            .loop_rules()
            .await?
            .into_iter()
            .map(|r| RuleRow {
                id: r.id,
                conditions: rule_conditions(t, &r, &segments),
                owner: r
                    .owner_id
                    .and_then(|o| users.get(&o).cloned())
                    .unwrap_or_else(|| t.unassigned.into()),
                due_hours: r.due_hours,
                notify: [
                    r.notify_email.clone(),
                    r.notify_webhook.then(|| "webhook".to_string()),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", "),
                name: r.name,
            })
            .collect(),
        users: {
            let mut u: Vec<(i64, String)> = users.iter().map(|(id, n)| (*id, n.clone())).collect();
            u.sort();
            u
        },
        can_write: auth.can(Permission::CustomersWrite),
        can_manage: auth.can(Permission::LoopsManage),
    }))
}

/// One closed-loop rule, described.
struct RuleRow {
    id: i64,
    name: String,
    conditions: String,
    owner: String,
    due_hours: i64,
    notify: String,
}

fn rule_conditions(
    t: &'static crate::i18n::Strings,
    r: &nunchi_store::model::LoopRule,
    segments: &[(i64, String)],
) -> String {
    let mut parts = Vec::new();
    match (r.min_score, r.max_score) {
        (Some(lo), Some(hi)) => parts.push(format!(
            "{:.0}% ≤ {} ≤ {:.0}%",
            lo * 100.0,
            t.rule_score,
            hi * 100.0
        )),
        (None, Some(hi)) => parts.push(format!("{} ≤ {:.0}%", t.rule_score, hi * 100.0)),
        (Some(lo), None) => parts.push(format!("{} ≥ {:.0}%", t.rule_score, lo * 100.0)),
        (None, None) => {}
    }
    if let Some(s) = r.max_sentiment {
        parts.push(format!("{} ≤ {s:.1}", t.rule_sentiment));
    }
    if let Some(topic) = &r.topic {
        parts.push(format!("{} {topic}", t.rule_topic));
    }
    if let Some(source) = &r.source {
        parts.push(format!("{} {source}", t.rule_source));
    }
    if let Some(tag) = &r.tag {
        parts.push(format!("{} {tag}", t.filter_tag));
    }
    if let Some(id) = r.segment_id {
        let name = segments
            .iter()
            .find(|(s, _)| *s == id)
            .map_or_else(|| format!("#{id}"), |(_, n)| n.clone());
        parts.push(format!("{} {name}", t.nav_segments));
    }
    parts.join(" · ")
}

#[derive(Debug, Default, Deserialize)]
struct RuleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    /// 0–100 (% of the scale).
    #[serde(default)]
    max_score: String,
    #[serde(default)]
    min_score: String,
    #[serde(default)]
    max_sentiment: String,
    #[serde(default)]
    topic: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    tag: String,
    #[serde(default)]
    segment_id: String,
    #[serde(default)]
    owner_id: String,
    #[serde(default)]
    due_hours: String,
    #[serde(default)]
    notify_email: String,
    #[serde(default)]
    notify_webhook: Option<String>,
}

async fn add_rule(
    State(state): State<AppState>,
    auth: UiNeed<perm::LoopsManage>,
    Form(f): Form<RuleForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let input = LoopRuleInput {
        name: f.name.clone(),
        max_score: form_number("max_score", &f.max_score)?.map(|v| v / 100.0),
        min_score: form_number("min_score", &f.min_score)?.map(|v| v / 100.0),
        max_sentiment: form_number("max_sentiment", &f.max_sentiment)?,
        topic: text(&f.topic),
        source: text(&f.source),
        tag: text(&f.tag),
        segment_id: form_number("segment_id", &f.segment_id)?.map(|v| v as i64),
        owner_id: form_number("owner_id", &f.owner_id)?.map(|v| v as i64),
        due_hours: form_number("due_hours", &f.due_hours)?.map_or(24, |v| v as i64),
        notify_email: text(&f.notify_email),
        notify_webhook: f.notify_webhook.is_some(),
    };
    create_loop_rule(&state, &auth.as_actor(), &input).await?;
    Ok(Redirect::to("/follow-ups#loop-rules").into_response())
}

async fn remove_rule(
    State(state): State<AppState>,
    auth: UiNeed<perm::LoopsManage>,
    ApiPath(id): ApiPath<i64>,
    Form(f): Form<TextForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    delete_loop_rule(&state, &auth.as_actor(), id).await?;
    Ok(Redirect::to("/follow-ups#loop-rules").into_response())
}

#[derive(Debug, Default, Deserialize)]
struct TextForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    body: String,
}

async fn note(
    State(state): State<AppState>,
    auth: UiNeed<perm::CustomersWrite>,
    ApiPath(id): ApiPath<i64>,
    Form(f): Form<TextForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    add_follow_up_note(&state, &auth.as_actor(), id, &f.body).await?;
    Ok(Redirect::to(&format!("/follow-ups#follow-up-{id}")).into_response())
}

async fn close(
    State(state): State<AppState>,
    auth: UiNeed<perm::CustomersWrite>,
    ApiPath(id): ApiPath<i64>,
    Form(f): Form<TextForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    close_follow_up(&state, &auth.as_actor(), id, &f.body).await?;
    Ok(Redirect::to("/follow-ups").into_response())
}

#[derive(Debug, Default, Deserialize)]
struct TrackForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    topic: String,
    #[serde(default)]
    title: String,
}

async fn track(
    State(state): State<AppState>,
    auth: UiNeed<perm::LoopsManage>,
    Form(f): Form<TrackForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    let input = RootCauseInput {
        topic: f.topic,
        title: f.title,
        owner_id: Some(auth.user.id),
        days: None,
    };
    open_root_cause(&state, &auth.as_actor(), &input).await?;
    Ok(Redirect::to("/follow-ups#root-causes").into_response())
}

#[derive(Debug, Default, Deserialize)]
struct FixForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    notify: Option<String>,
}

async fn fix(
    State(state): State<AppState>,
    auth: UiNeed<perm::LoopsManage>,
    ApiPath(id): ApiPath<i64>,
    Form(f): Form<FixForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    let input = FixInput {
        note: f.note,
        notify_customers: f.notify.is_some(),
    };
    mark_fixed(&state, &auth.as_actor(), id, &input).await?;
    Ok(Redirect::to("/follow-ups#root-causes").into_response())
}
