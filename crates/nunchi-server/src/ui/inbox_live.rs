//! The support desk's live sockets for signed-in staff: a conversation page's thread
//! (`/inbox/{id}/socket`: lines arrive as the page's own `<li>` HTML, and the composer sends
//! replies and notes through it — see `live_socket`), and the inbox's signal of which
//! conversations moved (`/inbox/socket`). Both refuse a request from another site's page.

use std::collections::HashMap;

use askama::Template;
use axum::{
    Router,
    extract::{
        State, WebSocketUpgrade,
        ws::{Message, Utf8Bytes, WebSocket},
    },
    http::HeaderMap,
    response::{IntoResponse, Response},
    routing::get,
};
use nunchi_app::{
    Actor,
    chat::Reader,
    conversations::{self, MessageInput},
};
use nunchi_store::model::ConversationMessage;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use super::{
    UiNeed,
    inbox::{ThreadLine, line, unnamed, user_names},
    lang_of,
};
use crate::{
    AppState,
    auth::perm,
    error::AppError,
    extract::ApiPath,
    i18n::Strings,
    live_socket::{self, Sent, Side},
};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/inbox/socket", get(inbox_socket))
        .route("/inbox/{id}/socket", get(thread_socket))
}

fn cross_site() -> Response {
    AppError::Forbidden.into_response()
}

async fn thread_socket(
    State(state): State<AppState>,
    auth: UiNeed<perm::InboxRead>,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, AppError> {
    if !live_socket::same_origin(&headers) {
        return Ok(cross_site());
    }
    let actor = auth.as_actor();
    // The same check the page makes: whoever may not read the thread gets no socket.
    let (c, _) = conversations::thread(&state, &actor, id).await?;
    let panel = nunchi_app::inbox::customer_panel(&state, &actor, c.customer_id).await?;
    let t = lang_of(&auth).strings();
    let customer = nunchi_app::inbox::display_name(&panel.customer)
        .unwrap_or_else(|| unnamed(t, c.customer_id));
    let teams = state
        .store
        .teams()
        .await?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    let side = StaffSide {
        t,
        actor,
        conversation: id,
        customer,
        users: user_names(&state).await?,
        teams,
    };
    Ok(live_socket::upgrade(ws)
        .on_upgrade(move |socket| live_socket::run(socket, state, side))
        .into_response())
}

struct StaffSide {
    t: &'static Strings,
    actor: Actor,
    conversation: i64,
    customer: String,
    users: HashMap<i64, String>,
    teams: HashMap<i64, String>,
}

impl Side for StaffSide {
    fn conversation(&self) -> Option<i64> {
        Some(self.conversation)
    }

    fn reader(&self) -> Reader {
        Reader::Staff
    }

    async fn send(&mut self, state: &AppState, client_id: &str, text: &str, note: bool) -> Sent {
        let input = MessageInput {
            text: text.into(),
            note,
            client_id: Some(client_id.into()),
            attachment_ids: vec![],
        };
        conversations::post_message(state, &self.actor, self.conversation, &input).await
    }

    async fn delivered(&mut self, state: &AppState, seq: i64) {
        let read = nunchi_app::inbox::mark_read(state, &self.actor, self.conversation, seq).await;
        if let Err(e) = read {
            tracing::warn!(error = ?e, "a read mark was not kept");
        }
    }

    async fn render(&mut self, state: &AppState, m: &ConversationMessage) -> Value {
        if let Some(id) = m.author_user_id
            && !self.users.contains_key(&id)
            && let Ok(names) = user_names(state).await
        {
            // Someone added since the socket opened.
            self.users = names;
        }
        // Only a phone line can be a call; other lines need no read.
        let call = match m.channel {
            nunchi_core::conversation::ConversationChannel::Phone => state
                .store
                .calls(self.conversation)
                .await
                .ok()
                .and_then(|calls| calls.into_iter().find(|k| k.message_id == m.id)),
            _ => None,
        };
        let files = state
            .store
            .message_attachments(&[m.id])
            .await
            .unwrap_or_default();
        let l = line(
            self.t,
            m.clone(),
            call.as_ref(),
            &self.customer,
            &self.users,
            &self.teams,
            &files,
        );
        let html = ThreadLine { l }.render().unwrap_or_default();
        json!({ "html": html, "client_id": m.client_id, "id": m.id })
    }
}

async fn inbox_socket(
    State(state): State<AppState>,
    _auth: UiNeed<perm::InboxRead>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if !live_socket::same_origin(&headers) {
        return cross_site();
    }
    live_socket::upgrade(ws)
        .on_upgrade(move |socket| moved(socket, state))
        .into_response()
}

/// Tells an open inbox which conversations moved; the page decides what to show.
async fn moved(mut socket: WebSocket, state: AppState) {
    let mut signals = state.live.subscribe();
    loop {
        let alive = tokio::select! {
            incoming = socket.recv() => matches!(
                incoming,
                Some(Ok(Message::Text(_) | Message::Ping(_) | Message::Pong(_) | Message::Binary(_)))
            ),
            signal = signals.recv() => match signal {
                Ok(m) => {
                    let v = json!({"type": "moved", "conversation_id": m.conversation_id, "seq": m.seq});
                    socket.send(Message::Text(Utf8Bytes::from(v.to_string()))).await.is_ok()
                }
                // Too far behind to say which: the page reloads its list.
                Err(RecvError::Lagged(_)) => socket
                    .send(Message::Text(Utf8Bytes::from(json!({"type": "moved"}).to_string())))
                    .await
                    .is_ok(),
                Err(RecvError::Closed) => false,
            },
        };
        if !alive {
            break;
        }
    }
}
