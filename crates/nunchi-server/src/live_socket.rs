//! One live thread over a WebSocket, for the visitor's chat widget and for an agent's
//! conversation page alike. The client says the last line number it saw (`hello`) and is
//! sent every line after it, in order; each line it sends carries its own id and is
//! acknowledged with the number it was stored under, so a message re-sent after a dropped
//! connection is stored once. Lines are always read from the store by number; the live hub
//! only says when to read, and a periodic read catches up anything a signal missed.
//!
//! Frames, client → server: `{"type":"hello","conversation":C,"since":N}`,
//! `{"type":"send","client_id":"…","text":"…","note":false}`, `{"type":"ping"}`.
//! Server → client: `{"type":"line","conversation":C,"seq":N,…}` (what `Side::render`
//! adds), `{"type":"ack","client_id":"…","conversation":C,"seq":N}`,
//! `{"type":"error","client_id":"…","code":"…","message":"…"}`, `{"type":"pong"}`.

use std::time::Duration;

use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use nunchi_app::chat::{self, Reader};
use nunchi_store::model::ConversationMessage;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::AppState;

/// The largest frame a client may send (a message is at most 20 KiB of text).
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// A live socket's settings: small frames, small buffers (an idle chat holds thousands of
/// them), and each frame written out at once.
pub fn upgrade(ws: axum::extract::WebSocketUpgrade) -> axum::extract::WebSocketUpgrade {
    ws.max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
}

/// How often a socket reads the store even without a signal (a line written by another
/// node, until nodes relay their signals).
const SAFETY_READ: Duration = Duration::from_secs(30);

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientFrame {
    Hello {
        #[serde(default)]
        conversation: Option<i64>,
        #[serde(default)]
        since: i64,
    },
    Send {
        client_id: String,
        text: String,
        #[serde(default)]
        note: bool,
    },
    Ping,
}

/// What a sent message became.
pub type Sent = Result<ConversationMessage, nunchi_app::Error>;

/// The part that differs between the visitor and an agent.
pub trait Side: Send {
    /// The conversation this socket follows; a visitor has none until their first message.
    fn conversation(&self) -> Option<i64>;
    fn reader(&self) -> Reader;
    /// Stores a message the client sent (and from now on follows its conversation).
    fn send(
        &mut self,
        state: &AppState,
        client_id: &str,
        text: &str,
        note: bool,
    ) -> impl Future<Output = Sent> + Send;
    /// The client now holds every line up to `seq` (an agent's unread count drops).
    fn delivered(&mut self, state: &AppState, seq: i64) -> impl Future<Output = ()> + Send;
    /// The fields of one line's frame beyond `type`, `conversation` and `seq`.
    fn render(
        &mut self,
        state: &AppState,
        line: &ConversationMessage,
    ) -> impl Future<Output = Value> + Send;
}

fn frame(v: Value) -> Message {
    Message::Text(Utf8Bytes::from(v.to_string()))
}

fn error_frame(client_id: Option<&str>, e: &nunchi_app::Error) -> Message {
    let (code, message) = match e {
        nunchi_app::Error::Invalid { code, message } => (code.as_str(), message.clone()),
        nunchi_app::Error::NotFound(what) => ("not_found", what.clone()),
        nunchi_app::Error::Forbidden => ("forbidden", "you may not write here".to_string()),
        nunchi_app::Error::Unauthorized(why) => ("unauthorized", why.clone()),
        nunchi_app::Error::TooManyRequests { .. } => ("rate_limited", "slow down".to_string()),
        nunchi_app::Error::Conflict(what) => ("conflict", what.clone()),
        nunchi_app::Error::Internal(cause) => {
            tracing::error!(error = ?cause, "a live thread failed");
            (
                "internal",
                "something went wrong; it was logged".to_string(),
            )
        }
    };
    frame(json!({"type": "error", "client_id": client_id, "code": code, "message": message}))
}

/// A visitor may send this many messages in a burst, then one per `REFILL`.
const BURST: f64 = 10.0;
const REFILL_PER_SEC: f64 = 1.0;

struct Bucket {
    tokens: f64,
    at: tokio::time::Instant,
}

impl Bucket {
    fn take(&mut self) -> bool {
        let now = tokio::time::Instant::now();
        let refill = now.duration_since(self.at).as_secs_f64() * REFILL_PER_SEC;
        self.tokens = (self.tokens + refill).min(BURST);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

struct Cursor {
    conversation: Option<i64>,
    seen: i64,
    greeted: bool,
}

/// Sends the lines after the cursor; false when the socket is gone.
async fn catch_up<S: Side>(
    socket: &mut WebSocket,
    state: &AppState,
    side: &mut S,
    at: &mut Cursor,
) -> bool {
    let Some(conversation) = side.conversation() else {
        return true;
    };
    if at.conversation != Some(conversation) {
        // The client followed another conversation (or none): this one from its start.
        at.conversation = Some(conversation);
        at.seen = 0;
    }
    loop {
        let (lines, last) = match chat::missed(state, conversation, at.seen, side.reader()).await {
            Ok(read) => read,
            Err(e) => return socket.send(error_frame(None, &e)).await.is_ok(),
        };
        for line in &lines {
            let mut v = side.render(state, line).await;
            v["type"] = json!("line");
            v["conversation"] = json!(conversation);
            v["seq"] = json!(line.seq);
            if socket.send(frame(v)).await.is_err() {
                return false;
            }
        }
        if last == at.seen {
            return true;
        }
        at.seen = last;
        side.delivered(state, last).await;
    }
}

/// The newest line number of the conversation the socket follows, once it follows one.
async fn moved(follow: &mut Option<(i64, watch::Receiver<i64>)>) -> i64 {
    match follow {
        Some((_, rx)) => match rx.changed().await {
            Ok(()) => *rx.borrow_and_update(),
            Err(_) => std::future::pending().await,
        },
        None => std::future::pending().await,
    }
}

/// Runs one socket until the client leaves.
pub async fn run<S: Side>(mut socket: WebSocket, state: AppState, mut side: S) {
    let mut follow: Option<(i64, watch::Receiver<i64>)> = None;
    let mut tick = tokio::time::interval(SAFETY_READ);
    let mut bucket = Bucket {
        tokens: BURST,
        at: tokio::time::Instant::now(),
    };
    let mut at = Cursor {
        conversation: None,
        seen: 0,
        greeted: false,
    };
    loop {
        // Follow the socket's conversation (a visitor's first message opens one).
        if let Some(c) = side.conversation()
            && follow.as_ref().is_none_or(|(id, _)| *id != c)
        {
            follow = Some((c, state.live.follow(c)));
            // A line added before the follow began is read now, not at the next signal.
            if at.greeted && !catch_up(&mut socket, &state, &mut side, &mut at).await {
                break;
            }
        }
        let alive = tokio::select! {
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    handle(&mut socket, &state, &mut side, &mut at, &mut bucket, &text).await
                }
                Some(Ok(Message::Ping(p))) => socket.send(Message::Pong(p)).await.is_ok(),
                Some(Ok(Message::Binary(_))) => socket
                    .send(error_frame(None, &nunchi_app::Error::invalid("invalid_frame", "frames are JSON text")))
                    .await
                    .is_ok(),
                Some(Ok(Message::Pong(_))) => true,
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => false,
            },
            newest = moved(&mut follow) => {
                let behind = at.conversation != side.conversation() || newest > at.seen;
                !(at.greeted && behind) || catch_up(&mut socket, &state, &mut side, &mut at).await
            }
            _ = tick.tick() => !at.greeted || catch_up(&mut socket, &state, &mut side, &mut at).await,
        };
        if !alive {
            break;
        }
    }
}

async fn handle<S: Side>(
    socket: &mut WebSocket,
    state: &AppState,
    side: &mut S,
    at: &mut Cursor,
    bucket: &mut Bucket,
    text: &str,
) -> bool {
    let parsed: ClientFrame = match serde_json::from_str(text) {
        Ok(f) => f,
        Err(e) => {
            let e = nunchi_app::Error::invalid("invalid_frame", e.to_string());
            return socket.send(error_frame(None, &e)).await.is_ok();
        }
    };
    match parsed {
        ClientFrame::Hello {
            conversation,
            since,
        } => {
            at.greeted = true;
            at.conversation = conversation;
            at.seen = since.max(0);
            catch_up(socket, state, side, at).await
        }
        ClientFrame::Ping => socket.send(frame(json!({"type": "pong"}))).await.is_ok(),
        ClientFrame::Send {
            client_id,
            text,
            note,
        } => {
            if side.reader() == Reader::Customer && !bucket.take() {
                let e = nunchi_app::Error::TooManyRequests {
                    retry_after_secs: 1,
                };
                return socket.send(error_frame(Some(&client_id), &e)).await.is_ok();
            }
            // A client that writes before its hello follows the thread from its start.
            at.greeted = true;
            let reply = match side.send(state, &client_id, &text, note).await {
                Ok(line) => frame(json!({
                    "type": "ack",
                    "client_id": client_id,
                    "conversation": line.conversation_id,
                    "seq": line.seq,
                })),
                Err(e) => error_frame(Some(&client_id), &e),
            };
            socket.send(reply).await.is_ok() && catch_up(socket, state, side, at).await
        }
    }
}

/// Whether a browser's WebSocket request comes from this server's own pages: a socket
/// authenticated by the session cookie must not be opened by another site's script.
pub fn same_origin(headers: &axum::http::HeaderMap) -> bool {
    let Some(origin) = headers.get("origin").and_then(|v| v.to_str().ok()) else {
        // Not a browser (browsers always send Origin on WebSocket requests).
        return true;
    };
    let host = headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| rest.trim_end_matches('/') == host)
}
