//! The channels page: the support mailbox polled over IMAP and how its last check went,
//! and which LINE accounts, Telegram bots and generic signed webhooks feed the inbox, each
//! with the webhook URL to give its provider, and a form that connects another (its secret
//! shown once, on the page that answers the form).

use askama::Template;
use axum::{
    Form, Router,
    extract::State,
    response::{IntoResponse, Redirect},
    routing::{get, post},
};
use nunchi_app::messengers::{self, ChannelInput};
use nunchi_core::{access::Permission, conversation::MessengerKind};
use serde::Deserialize;

use super::{Chrome, CsrfForm, UiNeed, UiResult, fmt_time, lang_of, render};
use crate::{
    AppState,
    auth::{Auth, check_form_csrf, perm},
    extract::ApiPath,
    i18n::Strings,
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/inbox/channels", get(page).post(add))
        .route("/inbox/channels/{id}/delete", post(remove))
}

pub fn kind_label(t: &Strings, kind: MessengerKind) -> &'static str {
    match kind {
        MessengerKind::Generic => t.msg_kind_generic,
        MessengerKind::Line => t.msg_kind_line,
        MessengerKind::Telegram => t.msg_kind_telegram,
    }
}

struct ChannelRow {
    id: i64,
    name: String,
    kind: &'static str,
    webhook_url: String,
    created: String,
}

/// A channel just connected: what to give the provider.
struct Connected {
    name: String,
    webhook_url: String,
    secret: String,
    telegram: bool,
}

/// The polled mailbox and its last check.
struct MailboxView {
    address: String,
    checked: Option<String>,
    fetched: usize,
    stored: usize,
    unreadable: usize,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "messenger_channels.html")]
struct Page {
    chrome: Chrome,
    mailbox: Option<MailboxView>,
    channels: Vec<ChannelRow>,
    kinds: Vec<(&'static str, &'static str)>,
    can_manage: bool,
    connected: Option<Connected>,
}

async fn render_page(state: &AppState, auth: &Auth, connected: Option<Connected>) -> UiResult {
    let t = lang_of(auth).strings();
    let channels = messengers::channels(state, &auth.as_actor())
        .await?
        .into_iter()
        .map(|c| ChannelRow {
            id: c.id,
            webhook_url: messengers::webhook_url(state, &c.key),
            kind: kind_label(t, c.kind),
            name: c.name,
            created: fmt_time(c.created_at),
        })
        .collect();
    let mailbox = match &state.app.config.imap {
        Some(m) => {
            let last = nunchi_app::imap_poll::last_outcome(state).await?;
            Some(MailboxView {
                address: m.display(),
                checked: last.as_ref().map(|o| fmt_time(o.at)),
                fetched: last.as_ref().map_or(0, |o| o.fetched),
                stored: last.as_ref().map_or(0, |o| o.stored),
                unreadable: last.as_ref().map_or(0, |o| o.unreadable),
                error: last.and_then(|o| o.error),
            })
        }
        None => None,
    };
    Ok(render(Page {
        chrome: Chrome::new(auth, "/inbox", t.msg_channels_title),
        mailbox,
        channels,
        kinds: MessengerKind::ALL
            .iter()
            .map(|k| (k.as_str(), kind_label(t, *k)))
            .collect(),
        can_manage: auth.can(Permission::InboxManage),
        connected,
    }))
}

async fn page(State(state): State<AppState>, auth: UiNeed<perm::InboxRead>) -> UiResult {
    render_page(&state, &auth, None).await
}

#[derive(Debug, Default, Deserialize)]
struct ChannelForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    secret: String,
    #[serde(default)]
    access_token: String,
    #[serde(default)]
    api_base: String,
}

async fn add(
    State(state): State<AppState>,
    auth: UiNeed<perm::InboxManage>,
    Form(f): Form<ChannelForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    let input = ChannelInput {
        key: f.key,
        kind: f.kind,
        name: f.name,
        secret: Some(f.secret),
        access_token: Some(f.access_token),
        api_base: Some(f.api_base),
    };
    let created = messengers::create_channel(&state, &auth.as_actor(), &input).await?;
    // Answered with the page itself rather than a redirect: the secret exists only here.
    let connected = Connected {
        name: created.channel.name,
        telegram: created.channel.kind == MessengerKind::Telegram,
        webhook_url: created.webhook_url,
        secret: created.secret,
    };
    render_page(&state, &auth, Some(connected)).await
}

async fn remove(
    State(state): State<AppState>,
    auth: UiNeed<perm::InboxManage>,
    ApiPath(id): ApiPath<i64>,
    Form(f): Form<CsrfForm>,
) -> UiResult {
    check_form_csrf(&auth, &f.csrf)?;
    messengers::delete_channel(&state, &auth.as_actor(), id).await?;
    Ok(Redirect::to("/inbox/channels").into_response())
}
