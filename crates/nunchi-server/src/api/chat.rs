//! The widget's live chat for visitors, who never sign in: `GET /chat/socket?visitor=…`
//! upgrades to a WebSocket that carries the visitor's chat (see `live_socket` for the
//! frames), and `POST /chat/files?visitor=…&name=…&client_id=…` sends a photo or file into
//! it (the raw bytes as the body, sent as `text/plain` so no preflight is needed), and
//! `GET /chat/files/{id}?visitor=…` fetches a file of that chat — the visitor's or the
//! desk's — to show in the widget. The visitor id is the widget's random `anonymous_id`; whoever holds it reads
//! that visitor's chat, as with any chat widget's visitor token.

use axum::{
    Router,
    extract::{Query, State, WebSocketUpgrade},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use nunchi_app::chat::{self, Reader};
use nunchi_core::identity::Identity;
use nunchi_store::model::ConversationMessage;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    AppState,
    error::AppResult,
    extract::ApiPath,
    live_socket::{self, Sent, Side},
};

pub const PATH: &str = "/chat/socket";
pub const FILES_PATH: &str = "/chat/files";

/// Where the widget fetches a file of the visitor's chat: `?visitor=` names whose.
pub const FILE_PATH: &str = "/chat/files/{id}";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(PATH, get(socket))
        .route(
            FILES_PATH,
            post(send_file).options(super::public::preflight),
        )
        .route(FILE_PATH, get(file))
}

#[derive(Debug, Deserialize)]
struct VisitorQuery {
    visitor: String,
}

/// One file of the visitor's chat, served as staff get it (its recognised type, `nosniff`,
/// sandboxed).
async fn file(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<i64>,
    Query(q): Query<VisitorQuery>,
) -> AppResult<Response> {
    let visitor = chat::checked_visitor(&q.visitor)?;
    let (a, bytes) = chat::visitor_attachment(&state, &visitor, id).await?;
    Ok(crate::files::attachment_response(&a, bytes))
}

#[derive(Debug, Deserialize)]
struct FileQuery {
    visitor: String,
    name: String,
    client_id: String,
    #[serde(default)]
    lang: Option<String>,
}

async fn send_file(
    State(state): State<AppState>,
    Query(q): Query<FileQuery>,
    body: axum::body::Body,
) -> Response {
    let sent = async {
        let bytes = axum::body::to_bytes(body, nunchi_core::attachment::MAX_ATTACHMENT_BYTES)
            .await
            .map_err(|_| crate::error::AppError::PayloadTooLarge)?;
        let visitor = chat::checked_visitor(&q.visitor)?;
        let lang = q.lang.filter(|l| matches!(l.as_str(), "ko" | "en"));
        let line = chat::visitor_file(
            &state,
            &visitor,
            &q.client_id,
            &q.name,
            &bytes,
            lang.as_deref(),
        )
        .await?;
        AppResult::Ok(axum::Json(json!({ "id": line.id, "seq": line.seq })))
    }
    .await;
    super::public::cors(sent.into_response())
}

#[derive(Debug, Deserialize)]
struct SocketQuery {
    visitor: String,
    #[serde(default)]
    lang: Option<String>,
}

async fn socket(
    State(state): State<AppState>,
    Query(q): Query<SocketQuery>,
    ws: WebSocketUpgrade,
) -> AppResult<Response> {
    let visitor = chat::checked_visitor(&q.visitor)?;
    let conversation = chat::visitor_conversation(&state, &visitor)
        .await?
        .map(|c| c.id);
    let lang = q.lang.filter(|l| matches!(l.as_str(), "ko" | "en"));
    let side = VisitorSide {
        visitor,
        lang,
        conversation,
    };
    Ok(live_socket::upgrade(ws)
        .on_upgrade(move |socket| live_socket::run(socket, state, side))
        .into_response())
}

struct VisitorSide {
    visitor: Identity,
    lang: Option<String>,
    conversation: Option<i64>,
}

impl Side for VisitorSide {
    fn conversation(&self) -> Option<i64> {
        self.conversation
    }

    fn reader(&self) -> Reader {
        Reader::Customer
    }

    async fn send(&mut self, state: &AppState, client_id: &str, text: &str, note: bool) -> Sent {
        if note {
            return Err(nunchi_app::Error::Forbidden);
        }
        let line = chat::visitor_send(
            state,
            &self.visitor,
            self.conversation,
            client_id,
            text,
            self.lang.as_deref(),
        )
        .await?;
        self.conversation = Some(line.conversation_id);
        Ok(line)
    }

    async fn delivered(&mut self, _state: &AppState, _seq: i64) {}

    async fn render(&mut self, state: &AppState, line: &ConversationMessage) -> Value {
        // A file that cannot be listed now shows as the line's text alone.
        let files: Vec<Value> = state
            .store
            .message_attachments(&[line.id])
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|a| a.rejected.is_none())
            .map(|a| {
                json!({
                    "name": a.filename,
                    "type": a.content_type,
                    "url": format!("/chat/files/{}?visitor={}", a.id, self.visitor.value),
                })
            })
            .collect();
        json!({
            "direction": line.direction.as_str(),
            "text": line.text,
            "client_id": line.client_id,
            "at": line.created_at,
            "files": files,
        })
    }
}
