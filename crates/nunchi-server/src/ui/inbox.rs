//! The support desk's pages: the inbox (tabs by status and assignee with counts, newest
//! activity first) and a conversation (the thread, the composer for replies and internal
//! notes, status, priority, assignment and labels, and the customer panel beside it).

use nunchi_core::identity::IdentityKind;
use std::collections::HashMap;

use askama::Template;
use axum::{
    Form, Router,
    extract::{Query, State},
    response::{IntoResponse, Redirect},
    routing::{get, post},
};
use nunchi_app::conversations::{self, ConversationChange};
use nunchi_app::inbox::InboxQuery;
use nunchi_core::{
    access::Permission,
    conversation::{ConversationChannel, ConversationStatus, MessageDirection, Priority},
};
use nunchi_store::model::ConversationMessage;
use serde::Deserialize;

use super::{Chrome, UiNeed, UiResult, fmt_money, fmt_time, lang_of, render};
use crate::{
    AppState,
    auth::{check_form_csrf, perm},
    extract::ApiPath,
    i18n::Strings,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/inbox", get(inbox))
        .route("/inbox/{id}", get(conversation))
        .route("/inbox/{id}/state", post(set_state))
}

/// A customer known only by a channel's id (a chat visitor, a caller): "방문자 #402".
pub(super) fn unnamed(t: &Strings, customer_id: i64) -> String {
    format!("{} #{customer_id}", t.inbox_unnamed_customer)
}

pub fn channel_label(t: &Strings, c: ConversationChannel) -> &'static str {
    match c {
        ConversationChannel::Email => t.channel_email,
        ConversationChannel::Chat => t.channel_chat,
        ConversationChannel::Phone => t.channel_phone,
        ConversationChannel::Messenger => t.channel_messenger,
    }
}

fn status_label(t: &Strings, s: ConversationStatus) -> &'static str {
    match s {
        ConversationStatus::Open => t.conv_status_open,
        ConversationStatus::Pending => t.conv_status_pending,
        ConversationStatus::Snoozed => t.conv_status_snoozed,
        ConversationStatus::Resolved => t.conv_status_resolved,
    }
}

pub fn priority_label(t: &Strings, p: Priority) -> &'static str {
    match p {
        Priority::Low => t.priority_low,
        Priority::Normal => t.priority_normal,
        Priority::High => t.priority_high,
        Priority::Urgent => t.priority_urgent,
    }
}

struct Tab {
    href: String,
    label: &'static str,
    count: i64,
    active: bool,
}

struct Row {
    id: i64,
    /// The customer's lines the reader has not seen.
    unread: i64,
    customer: String,
    subject: String,
    preview: String,
    channel: &'static str,
    status: &'static str,
    status_key: &'static str,
    priority: &'static str,
    urgent: bool,
    assignee: String,
    when: String,
    /// The soonest SLA deadline, and whether it has passed.
    due: Option<(String, bool)>,
}

#[derive(Template)]
#[template(path = "inbox.html")]
struct InboxPage {
    chrome: Chrome,
    tabs: Vec<Tab>,
    rows: Vec<Row>,
    older: Option<String>,
    query: String,
    status: String,
    assignee: String,
}

#[derive(Debug, Default, Deserialize)]
struct InboxParams {
    q: Option<String>,
    status: Option<String>,
    assignee: Option<String>,
    before: Option<String>,
}

async fn inbox(
    State(state): State<AppState>,
    auth: UiNeed<perm::InboxRead>,
    Query(p): Query<InboxParams>,
) -> UiResult {
    let t = lang_of(&auth).strings();
    let page = nunchi_app::inbox::inbox(
        &state,
        &auth.as_actor(),
        &InboxQuery {
            status: p.status.clone(),
            assignee: p.assignee.clone(),
            q: p.q.clone(),
            before: p.before.clone(),
            ..Default::default()
        },
    )
    .await?;
    let users = user_names(&state).await?;
    let status = p.status.as_deref().unwrap_or("");
    let assignee = p.assignee.as_deref().unwrap_or("");
    let c = &page.counts;
    let mut tabs = vec![
        (
            "/inbox?status=open",
            t.conv_status_open,
            c.open,
            status == "open" && assignee.is_empty(),
        ),
        (
            "/inbox?assignee=mine",
            t.inbox_tab_mine,
            c.mine,
            assignee == "mine",
        ),
        (
            "/inbox?assignee=unassigned",
            t.unassigned,
            c.unassigned,
            assignee == "unassigned",
        ),
        (
            "/inbox?status=pending",
            t.conv_status_pending,
            c.pending,
            status == "pending",
        ),
        (
            "/inbox?status=snoozed",
            t.conv_status_snoozed,
            c.snoozed,
            status == "snoozed",
        ),
        (
            "/inbox?status=resolved",
            t.conv_status_resolved,
            c.resolved,
            status == "resolved",
        ),
    ];
    let total = c.open + c.pending + c.snoozed + c.resolved;
    tabs.push(("/inbox?status=all", t.inbox_tab_all, total, status == "all"));
    // A bare /inbox is the open list.
    if status.is_empty() && assignee.is_empty() {
        tabs[0].3 = true;
    }
    let now = state.now();
    let rows = page
        .rows
        .into_iter()
        .map(|r| Row {
            id: r.conversation.id,
            unread: r.unread,
            customer: r
                .customer_name
                .unwrap_or_else(|| unnamed(t, r.conversation.customer_id)),
            subject: if r.conversation.subject.is_empty() {
                t.inbox_no_subject.into()
            } else {
                r.conversation.subject.clone()
            },
            preview: r.preview,
            channel: channel_label(t, r.conversation.channel),
            status: status_label(t, r.conversation.status),
            status_key: r.conversation.status.as_str(),
            priority: priority_label(t, r.conversation.priority),
            urgent: r.conversation.priority >= Priority::High,
            assignee: r
                .conversation
                .assignee_id
                .and_then(|a| users.get(&a).cloned())
                .unwrap_or_else(|| t.unassigned.into()),
            when: fmt_time(r.conversation.last_message_at),
            due: r
                .conversation
                .next_due()
                .map(|due| (fmt_time(due), due < now)),
        })
        .collect();
    let older = page.next.map(|cursor| {
        let mut q = vec![("before", cursor)];
        if let Some(s) = &p.status {
            q.push(("status", s.clone()));
        }
        if let Some(a) = &p.assignee {
            q.push(("assignee", a.clone()));
        }
        format!(
            "/inbox?{}",
            serde_urlencoded::to_string(q).unwrap_or_default()
        )
    });
    Ok(render(InboxPage {
        chrome: Chrome::new(&auth, "/inbox", t.nav_inbox),
        tabs: tabs
            .into_iter()
            .map(|(href, label, count, active)| Tab {
                href: href.into(),
                label,
                count,
                active,
            })
            .collect(),
        rows,
        older,
        query: p.q.clone().unwrap_or_default(),
        status: status.to_string(),
        assignee: assignee.to_string(),
    }))
}

pub(super) async fn user_names(
    state: &AppState,
) -> Result<HashMap<i64, String>, crate::error::AppError> {
    Ok(state
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect())
}

pub(super) struct Line {
    id: i64,
    seq: i64,
    kind: &'static str,
    who: String,
    when: String,
    text: String,
    delivery: Option<(&'static str, bool)>,
    delivery_error: String,
    /// For a phone call: what happened, and where its recording plays.
    call: Option<String>,
    recording: Option<String>,
    recording_label: &'static str,
    files: Vec<super::inbox_files::FileLink>,
}

/// One line of a thread as its `<li>`, for the live socket.
#[derive(Template)]
#[template(path = "thread_line.html")]
pub(super) struct ThreadLine {
    pub l: Line,
}

struct PanelView {
    customer_id: i64,
    name: String,
    email: String,
    phone: String,
    tags: Vec<String>,
    language: String,
    orders: Vec<(String, String, String, String)>,
    feedback: Vec<(String, String, String)>,
    others: Vec<(i64, String, &'static str)>,
}

#[derive(Template)]
#[template(path = "conversation.html")]
struct ConversationPage {
    chrome: Chrome,
    id: i64,
    subject: String,
    /// For a messenger, which one (`LINE · LINE 공식 계정`).
    channel: String,
    status: &'static str,
    lines: Vec<Line>,
    /// The newest line's number: where the live socket starts.
    last_seq: i64,
    can_write: bool,
    statuses: Vec<(&'static str, &'static str, bool)>,
    priorities: Vec<(&'static str, &'static str, bool)>,
    users: Vec<(i64, String, bool)>,
    teams: Vec<(i64, String, bool)>,
    labels: String,
    panel: PanelView,
    macros: Vec<(i64, String)>,
    /// The composer's text: a macro chosen from the list, filled for this customer.
    draft: String,
}

#[derive(Debug, Default, Deserialize)]
struct ConversationParams {
    #[serde(rename = "macro")]
    canned: Option<i64>,
}

/// An activity line's stable key in the reader's words.
fn activity_text(
    t: &Strings,
    what: &str,
    users: &HashMap<i64, String>,
    teams: &HashMap<i64, String>,
) -> String {
    let (key, value) = what.split_once('=').unwrap_or((what, ""));
    let id = value.parse::<i64>().unwrap_or(0);
    match key {
        "reopened" => t.activity_reopened.into(),
        "follow_up" => format!("{} #{value}", t.activity_follow_up),
        "unassigned_no_agent" => t.activity_no_agent.into(),
        "csat_requested" => t.activity_csat_requested.into(),
        "csat" => format!("{} {value}/5", t.activity_csat),
        "sla_breached" => match nunchi_core::sla::SlaMetric::parse(value) {
            Ok(m) => format!(
                "{} {}",
                t.activity_sla_breached,
                super::sla::metric_label(t, m)
            ),
            Err(_) => what.into(),
        },
        "status" => match ConversationStatus::parse(value) {
            Ok(s) => format!("{} {}", t.activity_status, status_label(t, s)),
            Err(_) => what.into(),
        },
        "priority" => match Priority::parse(value) {
            Ok(p) => format!("{} {}", t.activity_priority, priority_label(t, p)),
            Err(_) => what.into(),
        },
        "assignee" if id == 0 => t.activity_unassigned.into(),
        "assignee" => format!(
            "{} {}",
            t.activity_assignee,
            users.get(&id).cloned().unwrap_or_else(|| format!("#{id}"))
        ),
        "team" => format!(
            "{} {}",
            t.activity_team,
            teams.get(&id).cloned().unwrap_or_else(|| t.no_team.into())
        ),
        _ => what.into(),
    }
}

fn call_text(t: &Strings, c: &nunchi_store::model::Call) -> String {
    use nunchi_core::conversation::{CallDirection, CallOutcome};
    let direction = match CallDirection::parse(&c.direction) {
        Ok(CallDirection::Outbound) => t.call_outbound,
        _ => t.call_inbound,
    };
    let outcome = match CallOutcome::parse(&c.outcome) {
        Ok(CallOutcome::Answered) => t.call_answered,
        Ok(CallOutcome::Missed) => t.call_missed,
        Ok(CallOutcome::Voicemail) => t.call_voicemail,
        Ok(CallOutcome::Busy) => t.call_busy,
        _ => t.call_failed,
    };
    let length = c
        .ended_at
        .map(|e| {
            format!(
                " · {}",
                t.duration(((e - c.started_at).max(0) / 1000) as u64)
            )
        })
        .unwrap_or_default();
    format!("📞 {direction} {}{length} · {outcome}", c.number)
}

pub(super) fn line(
    t: &Strings,
    m: ConversationMessage,
    call: Option<&nunchi_store::model::Call>,
    customer: &str,
    users: &HashMap<i64, String>,
    teams: &HashMap<i64, String>,
    files: &[nunchi_store::model::Attachment],
) -> Line {
    let staff = m
        .author_user_id
        .and_then(|a| users.get(&a).cloned())
        .unwrap_or_else(|| "nunchi".into());
    let (kind, who, text) = match m.direction {
        MessageDirection::Incoming => ("incoming", customer.to_string(), m.text),
        MessageDirection::Outgoing => ("outgoing", staff, m.text),
        MessageDirection::Note => ("note", format!("{} · {}", staff, t.conv_note), m.text),
        MessageDirection::Activity => ("activity", staff, activity_text(t, &m.text, users, teams)),
        MessageDirection::Automatic => ("automatic", "nunchi".into(), m.text),
    };
    let delivery = m.delivery.as_deref().map(|d| match d {
        "sent" => (t.delivery_sent, false),
        "failed" => (t.delivery_failed, true),
        _ => (t.delivery_queued, false),
    });
    Line {
        id: m.id,
        seq: m.seq,
        kind,
        who,
        when: fmt_time(m.created_at),
        text,
        delivery,
        delivery_error: m.delivery_error.unwrap_or_default(),
        call: call.map(|c| call_text(t, c)),
        recording: call.and_then(|c| c.recording_url.clone()),
        recording_label: t.call_recording,
        files: super::inbox_files::file_links(t, files),
    }
}

async fn conversation(
    State(state): State<AppState>,
    auth: UiNeed<perm::InboxRead>,
    ApiPath(id): ApiPath<i64>,
    Query(params): Query<ConversationParams>,
) -> UiResult {
    let t = lang_of(&auth).strings();
    let actor = auth.as_actor();
    let (c, messages) = conversations::thread(&state, &actor, id).await?;
    let panel = nunchi_app::inbox::customer_panel(&state, &actor, c.customer_id).await?;
    let users = user_names(&state).await?;
    let team_list = state.store.teams().await?;
    let teams: HashMap<i64, String> = team_list.iter().map(|t| (t.id, t.name.clone())).collect();
    let customer = &panel.customer;
    let name =
        nunchi_app::inbox::display_name(customer).unwrap_or_else(|| unnamed(t, customer.row.id));
    let calls: HashMap<i64, nunchi_store::model::Call> = state
        .store
        .calls(c.id)
        .await?
        .into_iter()
        .map(|k| (k.message_id, k))
        .collect();
    let last_seq = messages.iter().map(|m| m.seq).max().unwrap_or(0);
    nunchi_app::inbox::mark_read(&state, &actor, c.id, last_seq).await?;
    let ids: Vec<i64> = messages.iter().map(|m| m.id).collect();
    let files = nunchi_app::attachments::of_messages(&state, &ids).await?;
    let lines = messages
        .into_iter()
        .map(|m| {
            let call = calls.get(&m.id);
            let line_files = files.get(&m.id).map(Vec::as_slice).unwrap_or_default();
            line(t, m, call, &name, &users, &teams, line_files)
        })
        .collect();
    let mut user_rows: Vec<(i64, String, bool)> = users
        .iter()
        .map(|(uid, n)| (*uid, n.clone(), c.assignee_id == Some(*uid)))
        .collect();
    user_rows.sort_by(|a, b| a.1.cmp(&b.1));
    let panel_view = PanelView {
        customer_id: customer.row.id,
        email: customer.identity(IdentityKind::Email).unwrap_or("—").into(),
        phone: customer.identity(IdentityKind::Phone).unwrap_or("—").into(),
        tags: customer.tags.clone(),
        language: customer.row.language.clone().unwrap_or_else(|| "—".into()),
        orders: panel
            .orders
            .iter()
            .map(|o| {
                (
                    o.row.external_id.clone(),
                    fmt_time(o.row.placed_at),
                    o.row.status.to_string(),
                    fmt_money(o.row.total_minor, o.row.currency.code()),
                )
            })
            .collect(),
        feedback: panel
            .feedback
            .iter()
            .map(|f| {
                (
                    fmt_time(f.created_at),
                    f.rating_label().unwrap_or_else(|| f.source.to_string()),
                    f.body.chars().take(160).collect(),
                )
            })
            .collect(),
        others: panel
            .conversations
            .iter()
            .filter(|o| o.id != c.id)
            .map(|o| (o.id, o.subject.clone(), status_label(t, o.status)))
            .collect(),
        name,
    };
    let channel = match state.store.messenger_thread(c.id).await? {
        Some(thread) => match state.store.messenger_channel_by_id(thread.channel_id).await {
            Ok(m) => format!(
                "{} · {}",
                super::messenger_channels::kind_label(t, m.kind),
                m.name
            ),
            Err(_) => channel_label(t, c.channel).to_string(),
        },
        None => channel_label(t, c.channel).to_string(),
    };
    Ok(render(ConversationPage {
        chrome: Chrome::new(&auth, "/inbox", &c.subject),
        id: c.id,
        subject: if c.subject.is_empty() {
            t.inbox_no_subject.into()
        } else {
            c.subject.clone()
        },
        channel,
        status: status_label(t, c.status),
        lines,
        last_seq,
        can_write: auth.can(Permission::InboxWrite),
        statuses: ConversationStatus::ALL
            .iter()
            .map(|s| (s.as_str(), status_label(t, *s), *s == c.status))
            .collect(),
        priorities: Priority::ALL
            .iter()
            .map(|p| (p.as_str(), priority_label(t, *p), *p == c.priority))
            .collect(),
        users: user_rows,
        teams: team_list
            .into_iter()
            .map(|team| (team.id, team.name, c.team_id == Some(team.id)))
            .collect(),
        labels: c.labels.join(", "),
        panel: panel_view,
        macros: state
            .store
            .macros()
            .await?
            .into_iter()
            .map(|m| (m.id, format!("/{} · {}", m.shortcut, m.name)))
            .collect(),
        draft: match params.canned {
            Some(m) if auth.can(Permission::InboxWrite) => {
                nunchi_app::macros::fill(&state, &actor, m, c.id)
                    .await?
                    .text
            }
            _ => String::new(),
        },
    }))
}

#[derive(Debug, Default, Deserialize)]
struct StateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    assignee_id: String,
    #[serde(default)]
    team_id: String,
    #[serde(default)]
    snooze_hours: String,
    #[serde(default)]
    labels: String,
}

async fn set_state(
    State(state): State<AppState>,
    auth: UiNeed<perm::InboxWrite>,
    ApiPath(id): ApiPath<i64>,
    Form(f): Form<StateForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    let number = |field: &str, text: &str| -> Result<i64, crate::error::AppError> {
        Ok(super::form_number(field, text)?.unwrap_or(0.0) as i64)
    };
    let hours = number("snooze_hours", &f.snooze_hours)?;
    let change = ConversationChange {
        status: Some(f.status).filter(|s| !s.is_empty()),
        snoozed_until: (hours > 0).then(|| state.now() + hours * 3_600_000),
        priority: Some(f.priority).filter(|s| !s.is_empty()),
        assignee_id: Some(number("assignee_id", &f.assignee_id)?),
        team_id: Some(number("team_id", &f.team_id)?),
        labels: Some(
            f.labels
                .split(',')
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect(),
        ),
    };
    conversations::change(&state, &auth.as_actor(), id, &change).await?;
    Ok(Redirect::to(&format!("/inbox/{id}")).into_response())
}
