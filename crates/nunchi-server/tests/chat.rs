//! Web chat over real WebSockets on loopback: a visitor's messages become a chat
//! conversation, replies reach the visitor live, a client that reconnects is sent exactly
//! the lines it missed (by sequence number), a message re-sent after a drop is stored once,
//! and the agent's thread socket needs a session from nunchi's own pages.

mod support;

use std::{net::SocketAddr, time::Duration};

use futures_util::{SinkExt, StreamExt};
use nunchi_core::access::Role;
use serde_json::{Value, json};
use support::TestApp;
use tokio::net::TcpStream;
use tokio_tungstenite::{
    WebSocketStream, client_async,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

struct Client {
    ws: WebSocketStream<TcpStream>,
}

async fn connect(
    addr: SocketAddr,
    path: &str,
    cookie: Option<&str>,
    origin: Option<&str>,
) -> Result<Client, tokio_tungstenite::tungstenite::Error> {
    let mut req = format!("ws://{addr}{path}").into_client_request()?;
    if let Some(c) = cookie {
        req.headers_mut().insert(
            "cookie",
            HeaderValue::from_str(&format!("nunchi_session={c}")).unwrap(),
        );
    }
    if let Some(o) = origin {
        req.headers_mut()
            .insert("origin", HeaderValue::from_str(o).unwrap());
    }
    let stream = TcpStream::connect(addr).await.unwrap();
    let (ws, _) = client_async(req, stream).await?;
    Ok(Client { ws })
}

impl Client {
    async fn send(&mut self, v: Value) {
        self.ws
            .send(Message::Text(v.to_string().into()))
            .await
            .unwrap();
    }

    /// The next frame, or `None` when none comes within `wait`.
    async fn next_within(&mut self, wait: Duration) -> Option<Value> {
        loop {
            match tokio::time::timeout(wait, self.ws.next()).await {
                Ok(Some(Ok(Message::Text(t)))) => return Some(serde_json::from_str(&t).unwrap()),
                Ok(Some(Ok(_))) => continue,
                _ => return None,
            }
        }
    }

    async fn next(&mut self) -> Value {
        self.next_within(Duration::from_secs(10))
            .await
            .expect("a frame within 10 s")
    }

    /// Frames up to and including the first that `done` accepts.
    async fn until(&mut self, done: impl Fn(&Value) -> bool) -> Vec<Value> {
        let mut out = vec![];
        loop {
            let f = self.next().await;
            let stop = done(&f);
            out.push(f);
            if stop {
                return out;
            }
        }
    }
}

fn lines(frames: &[Value]) -> Vec<(i64, String)> {
    frames
        .iter()
        .filter(|f| f["type"] == "line")
        .map(|f| {
            (
                f["seq"].as_i64().unwrap(),
                f["text"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

const VISITOR: &str = "v-chat-test-visitor-0001";

async fn visitor(addr: SocketAddr) -> Client {
    connect(
        addr,
        &format!("/chat/socket?visitor={VISITOR}&lang=ko"),
        None,
        Some("https://shop.example"),
    )
    .await
    .expect("the visitor's socket opens from any site")
}

/// A GET through the agent's API token, as JSON.
async fn agent_get(app: &TestApp, path: &str) -> Value {
    app.api(Some(Role::Agent), "GET", path, None).await.json()
}

async fn reply(app: &TestApp, conversation: i64, text: &str, note: bool) {
    let r = app
        .api(
            Some(Role::Agent),
            "POST",
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(json!({"text": text, "note": note})),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitors_chat_reaches_the_desk_and_a_reconnect_gets_exactly_what_was_missed() {
    let app = TestApp::new().await;
    let addr = app.listen().await;
    let mut v = visitor(addr).await;
    v.send(json!({"type": "hello", "conversation": null, "since": 0}))
        .await;
    v.send(json!({"type": "send", "client_id": "c1", "text": "배송이 언제 오나요?"}))
        .await;
    let frames = v.until(|f| f["type"] == "line").await;
    let ack = frames.iter().find(|f| f["type"] == "ack").expect("an ack");
    assert_eq!(
        (ack["client_id"].as_str(), ack["seq"].as_i64()),
        (Some("c1"), Some(1))
    );
    let conversation = ack["conversation"].as_i64().unwrap();
    let first = frames.last().unwrap();
    assert_eq!(first["direction"], "incoming");
    assert_eq!(first["client_id"], "c1");

    // Sent again (as after a drop): the same line, stored once.
    v.send(json!({"type": "send", "client_id": "c1", "text": "배송이 언제 오나요?"}))
        .await;
    let again = v.next().await;
    assert_eq!(
        (again["type"].as_str(), again["seq"].as_i64()),
        (Some("ack"), Some(1))
    );
    let stored = agent_get(
        &app,
        &format!("/api/v1/conversations/{conversation}/messages"),
    )
    .await;
    assert_eq!(stored.as_array().unwrap().len(), 1, "{stored}");
    assert_eq!(stored[0]["channel"], "chat");
    let c = agent_get(&app, &format!("/api/v1/conversations/{conversation}")).await;
    assert_eq!(c["channel"], "chat", "{c}");

    // The agent's reply arrives live; a note (seq 3) never reaches the visitor.
    reply(&app, conversation, "내일 도착합니다", false).await;
    let live = v.next().await;
    assert_eq!(
        (
            live["seq"].as_i64(),
            live["direction"].as_str(),
            live["text"].as_str()
        ),
        (Some(2), Some("outgoing"), Some("내일 도착합니다"))
    );
    reply(&app, conversation, "고객이 두 번째 문의", true).await;
    reply(&app, conversation, "송장 번호를 보내드릴게요", false).await;
    let next = v.next().await;
    assert_eq!(
        next["seq"].as_i64(),
        Some(4),
        "the note was skipped: {next}"
    );

    // Away while the agent writes twice; back with the last number seen.
    drop(v);
    reply(&app, conversation, "송장: 1234", false).await;
    reply(&app, conversation, "더 도와드릴 일이 있을까요?", false).await;
    let mut back = visitor(addr).await;
    back.send(json!({"type": "hello", "conversation": conversation, "since": 4}))
        .await;
    let missed = back.until(|f| f["seq"] == 6).await;
    assert_eq!(
        lines(&missed),
        vec![
            (5, "송장: 1234".to_string()),
            (6, "더 도와드릴 일이 있을까요?".to_string())
        ]
    );
    assert!(
        back.next_within(Duration::from_millis(300)).await.is_none(),
        "nothing twice"
    );

    // A new page load (no number held) is sent the whole chat, without the note.
    let mut fresh = visitor(addr).await;
    fresh
        .send(json!({"type": "hello", "conversation": null, "since": 0}))
        .await;
    let all = fresh.until(|f| f["seq"] == 6).await;
    let seqs: Vec<i64> = lines(&all).iter().map(|(s, _)| *s).collect();
    assert_eq!(seqs, vec![1, 2, 4, 5, 6]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agents_thread_socket_needs_a_session_from_our_own_pages() {
    let app = TestApp::new().await;
    let addr = app.listen().await;
    let mut v = visitor(addr).await;
    v.send(json!({"type": "send", "client_id": "c1", "text": "환불 문의"}))
        .await;
    let ack = v.until(|f| f["type"] == "ack").await.pop().unwrap();
    let conversation = ack["conversation"].as_i64().unwrap();
    let path = format!("/inbox/{conversation}/socket");
    let ours = format!("http://{addr}");
    let (agent_cookie, _) = &app.sessions[&Role::Agent];

    assert!(
        connect(
            addr,
            &path,
            Some(agent_cookie),
            Some("https://evil.example")
        )
        .await
        .is_err(),
        "another site's page may not open an agent's socket"
    );
    assert!(
        connect(addr, &path, None, Some(&ours)).await.is_err(),
        "no session, no socket"
    );

    let mut agent = connect(addr, &path, Some(agent_cookie), Some(&ours))
        .await
        .expect("the agent's own page opens it");
    agent
        .send(json!({"type": "hello", "conversation": conversation, "since": 0}))
        .await;
    let first = agent.next().await;
    assert_eq!(first["seq"], 1);
    assert!(
        first["html"].as_str().unwrap().contains("환불 문의"),
        "{first}"
    );

    // The composer sends through the socket; a re-send is stored once and the visitor
    // gets the reply.
    for _ in 0..2 {
        agent
            .send(json!({"type": "send", "client_id": "a1", "text": "확인해 드릴게요"}))
            .await;
    }
    let frames = agent.until(|f| f["type"] == "line" && f["seq"] == 2).await;
    assert!(
        frames
            .iter()
            .any(|f| f["type"] == "ack" && f["client_id"] == "a1")
    );
    let to_visitor = v.until(|f| f["type"] == "line" && f["seq"] == 2).await;
    assert_eq!(to_visitor.last().unwrap()["text"], "확인해 드릴게요");
    let stored = agent_get(
        &app,
        &format!("/api/v1/conversations/{conversation}/messages"),
    )
    .await;
    assert_eq!(stored.as_array().unwrap().len(), 2, "stored once: {stored}");

    // What the agent's socket delivered counts as read: the visitor writes again, the line
    // reaches the agent's open thread, and the inbox shows nothing unread for them.
    v.send(json!({"type": "send", "client_id": "c2", "text": "감사합니다"}))
        .await;
    agent.until(|f| f["type"] == "line" && f["seq"] == 3).await;
    support::eventually("the agent's unread count drops", async || {
        let list = app
            .api(
                Some(Role::Agent),
                "GET",
                "/api/v1/conversations?status=all",
                None,
            )
            .await
            .json();
        let row = list["rows"]
            .as_array()?
            .iter()
            .find(|r| r["conversation"]["id"] == conversation)?
            .clone();
        (row["unread"] == 0).then_some(())
    })
    .await;

    // A viewer, who may not read the inbox, gets no socket either.
    let (viewer_cookie, _) = &app.sessions[&Role::Viewer];
    assert!(
        connect(addr, &path, Some(viewer_cookie), Some(&ours))
            .await
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_chat_input_gets_a_clear_error_and_nothing_is_stored() {
    let app = TestApp::new().await;
    let addr = app.listen().await;
    assert!(
        connect(addr, "/chat/socket?visitor=short", None, None)
            .await
            .is_err(),
        "a guessable visitor id is refused"
    );
    let mut v = visitor(addr).await;
    v.ws.send(Message::Text("not json".into())).await.unwrap();
    assert_eq!(v.next().await["code"], "invalid_frame");
    v.send(json!({"type": "send", "client_id": "c1", "text": "   "}))
        .await;
    let empty = v.next().await;
    assert_eq!(
        (empty["code"].as_str(), empty["client_id"].as_str()),
        (Some("invalid_text"), Some("c1"))
    );
    v.send(json!({"type": "send", "client_id": "bad id!", "text": "hi"}))
        .await;
    assert_eq!(v.next().await["code"], "invalid_client_id");
    // A burst past the limit is refused for a moment, not stored.
    for i in 0..14 {
        v.send(json!({"type": "send", "client_id": format!("b{i}"), "text": format!("{i}")}))
            .await;
    }
    let mut limited = 0;
    while let Some(f) = v.next_within(Duration::from_millis(500)).await {
        limited += usize::from(f["code"] == "rate_limited");
    }
    assert!(limited >= 3, "{limited} refused");
    // A frame over the limit closes the socket.
    let huge = "가".repeat(40_000);
    let _ =
        v.ws.send(Message::Text(
            json!({"type": "send", "client_id": "h", "text": huge})
                .to_string()
                .into(),
        ))
        .await;
    let mut closed = false;
    for _ in 0..20 {
        match tokio::time::timeout(Duration::from_secs(2), v.ws.next()).await {
            Ok(Some(Ok(Message::Text(_)))) => continue,
            _ => {
                closed = true;
                break;
            }
        }
    }
    assert!(closed, "an oversized frame ends the connection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolving_a_chat_asks_for_a_rating_in_the_chat_without_counting_as_a_reply() {
    let app = TestApp::new().await;
    let addr = app.listen().await;
    let mut v = visitor(addr).await;
    v.send(json!({"type": "send", "client_id": "c1", "text": "해결됐어요, 감사합니다"}))
        .await;
    let ack = v.until(|f| f["type"] == "ack").await.pop().unwrap();
    let conversation = ack["conversation"].as_i64().unwrap();
    let resolved = app
        .api(
            Some(Role::Agent),
            "PATCH",
            &format!("/api/v1/conversations/{conversation}"),
            Some(json!({"status": "resolved"})),
        )
        .await;
    assert!(resolved.status.is_success(), "{}", resolved.text());
    let ask = v
        .until(|f| f["type"] == "line" && f["direction"] == "automatic")
        .await
        .pop()
        .unwrap();
    let text = ask["text"].as_str().unwrap();
    assert!(
        text.contains("평가해 주세요"),
        "asked in the visitor's language: {text}"
    );
    let link = text
        .split_whitespace()
        .find(|w| w.contains("/csat/"))
        .expect("a rating link");
    let path = &link[link.find("/csat/").unwrap()..];
    let page = app
        .send(
            axum::http::Request::builder()
                .uri(path)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(page.status, axum::http::StatusCode::OK, "the link opens");
    // The desk's own message is no agent's reply: the first response is still to come.
    let c = agent_get(&app, &format!("/api/v1/conversations/{conversation}")).await;
    assert!(c.get("first_reply_at").is_some_and(|r| r.is_null()), "{c}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_sends_a_photo_into_the_chat_and_the_desk_keeps_it() {
    use axum::{
        body::Body,
        http::{Request, StatusCode},
    };
    let app = TestApp::new().await;
    let addr = app.listen().await;
    let mut v = visitor(addr).await;
    v.send(json!({"type": "hello", "conversation": null, "since": 0}))
        .await;
    v.send(json!({"type": "send", "client_id": "c1", "text": "상자가 찌그러져 왔어요"}))
        .await;
    let ack = v.until(|f| f["type"] == "line").await;
    let conversation = ack
        .iter()
        .find_map(|f| f["conversation"].as_i64())
        .expect("an ack naming the conversation");
    let png: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01";
    let post = |name: &str, client: &str, bytes: &[u8]| {
        Request::builder()
            .method("POST")
            .uri(format!(
                "/chat/files?visitor={VISITOR}&name={name}&client_id={client}&lang=ko"
            ))
            .header("content-type", "text/plain")
            .header("origin", "https://shop.example")
            .body(Body::from(bytes.to_vec()))
            .unwrap()
    };
    let sent = app.send(post("box.png", "f1", png)).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text());
    assert_eq!(sent.headers["access-control-allow-origin"], "*");
    // The line reaches the visitor's own socket like any other.
    let line = v.until(|f| f["type"] == "line").await.pop().unwrap();
    assert_eq!(
        (line["text"].as_str(), line["client_id"].as_str()),
        (Some("📎 box.png"), Some("f1"))
    );
    // Sent again after a dropped answer: the same line.
    let again = app.send(post("box.png", "f1", png)).await;
    assert_eq!(again.json()["id"], sent.json()["id"]);
    let files = agent_get(
        &app,
        &format!("/api/v1/conversations/{conversation}/attachments"),
    )
    .await;
    assert_eq!(files.as_array().map(Vec::len), Some(1), "{files}");
    assert_eq!(files[0]["content_type"], "image/png");
    assert_eq!(files[0]["message_id"], sent.json()["id"]);

    // A program is refused with the reason, and nothing is stored.
    let refused = app.send(post("setup.exe", "f2", b"MZ\x90\0")).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.json()["error"]["code"],
        "attachment_type_not_allowed"
    );
    let lines = agent_get(
        &app,
        &format!("/api/v1/conversations/{conversation}/messages"),
    )
    .await;
    assert_eq!(lines.as_array().unwrap().len(), 2, "{lines}");
    let guessed = app
        .send(
            Request::builder()
                .method("POST")
                .uri("/chat/files?visitor=short&name=a.png&client_id=f3")
                .body(Body::from(png.to_vec()))
                .unwrap(),
        )
        .await;
    assert_eq!(guessed.status, StatusCode::BAD_REQUEST);

    // The line carries the file for the widget, which the visitor (and no one else) fetches.
    let url = line["files"][0]["url"]
        .as_str()
        .expect("the line names its file")
        .to_string();
    let get = |uri: String| Request::builder().uri(uri).body(Body::empty()).unwrap();
    let mine = app.send(get(url.clone())).await;
    assert_eq!(mine.status, StatusCode::OK);
    assert_eq!(mine.body, png);
    assert_eq!(mine.headers["x-content-type-options"], "nosniff");
    let stranger = url.replace(VISITOR, "v-someone-else-entirely-0002");
    assert_eq!(app.send(get(stranger)).await.status, StatusCode::NOT_FOUND);

    // An agent's file sent with a reply reaches the visitor's socket with the line.
    let up = app
        .send(
            Request::builder()
                .method("POST")
                .uri(format!(
                    "/api/v1/conversations/{conversation}/attachments?filename=guide.pdf"
                ))
                .header(
                    "authorization",
                    app.bearer(nunchi_core::access::Role::Agent),
                )
                .header("content-type", "application/octet-stream")
                .body(Body::from(b"%PDF-1.4\n%guide\n".to_vec()))
                .unwrap(),
        )
        .await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.text());
    let reply = app
        .api(
            Some(nunchi_core::access::Role::Agent),
            "POST",
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(json!({"text": "교환 절차 안내서를 보내드려요", "attachment_ids": [up.json()["id"]]})),
        )
        .await;
    assert!(reply.status.is_success(), "{}", reply.text());
    let frames = v
        .until(|f| f["type"] == "line" && f["direction"] == "outgoing")
        .await;
    let out = frames.last().unwrap();
    assert_eq!(out["files"][0]["name"], "guide.pdf", "{out}");
    let pdf = app
        .send(get(out["files"][0]["url"].as_str().unwrap().to_string()))
        .await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert!(pdf.body.starts_with(b"%PDF"));
}
