//! Messenger channels end to end: deliveries signed as LINE, Telegram and nunchi's own
//! contract document (signed here with the hmac crate, not nunchi's code) become
//! conversations of the customers they come from; unsigned, wrongly signed and stale ones
//! are refused and store nothing; a redelivery stores nothing twice; agents' replies and the
//! CSAT question reach real HTTP peers on loopback — a stand-in for the LINE and Telegram
//! APIs that checks tokens and payloads as they do, and a receiver that checks Standard
//! Webhooks signatures with Python's hmac — and a refused reply shows on its message.

mod support;

use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use nunchi_core::access::Role;
use serde_json::{Value, json};
use sha2::Sha256;
use support::{Peer, Reply, TestApp, eventually};

const LINE_SECRET: &str = "8c570fa6dd201bb328f1c1eac23a96d8";
const LINE_TOKEN: &str = "line-access-token-for-tests";
const TELEGRAM_TOKEN: &str = "110201543:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

async fn deliver(app: &TestApp, key: &str, headers: &[(&str, String)], body: &str) -> Reply {
    let mut req = Request::builder()
        .method("POST")
        .uri(format!("/hooks/messenger/{key}"))
        .header("content-type", "application/json");
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    app.send(req.body(Body::from(body.to_string())).unwrap())
        .await
}

async fn channel(app: &TestApp, body: Value) -> Value {
    let r = app
        .api(
            Some(Role::Admin),
            "POST",
            "/api/v1/messenger-channels",
            Some(body),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    r.json()
}

fn start_jobs(app: &TestApp) -> tokio::sync::watch::Sender<bool> {
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    nunchi_app::jobs::spawn_runner(app.state.app.clone(), "test".into(), stop_rx, |_, _| {});
    stop
}

fn peer_lines(file: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

async fn messages(app: &TestApp, conversation: i64) -> Vec<Value> {
    app.api(
        Some(Role::Agent),
        "GET",
        &format!("/api/v1/conversations/{conversation}/messages"),
        None,
    )
    .await
    .json()
    .as_array()
    .unwrap()
    .clone()
}

async fn reply(app: &TestApp, conversation: i64, text: &str) -> Value {
    let r = app
        .api(
            Some(Role::Agent),
            "POST",
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(json!({ "text": text })),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text());
    r.json()
}

/// Waits until message `id` of the conversation has left the queue; returns it.
async fn delivered(app: &TestApp, conversation: i64, id: i64) -> Value {
    eventually("the reply's delivery", async || {
        messages(app, conversation)
            .await
            .into_iter()
            .find(|m| m["id"] == id && m["delivery"] != "queued")
    })
    .await
}

fn line_delivery(user: &str, message_id: &str, text: &str) -> String {
    // The shape of the sample in LINE's Messaging API reference.
    json!({
        "destination": "U8e742f61d673b39c7fff3cecb7536ef0",
        "events": [{
            "replyToken": "nHuyWiB7yP5Zw52FIkcQobQuGDXCTA",
            "type": "message",
            "mode": "active",
            "timestamp": 1462629479859i64,
            "source": {"type": "user", "userId": user},
            "webhookEventId": format!("01FZ74A0TDDPYRVKNK77XKC3{message_id}"),
            "deliveryContext": {"isRedelivery": false},
            "message": {"id": message_id, "type": "text", "quoteToken": "q3Plxr4AgKd", "text": text}
        }]
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn line_messages_become_conversations_and_replies_are_pushed_once() {
    let app = TestApp::new().await;
    let _jobs = start_jobs(&app);
    let out = tempfile::NamedTempFile::new().unwrap();
    let api = Peer::start(
        "messenger_api.py",
        &[LINE_TOKEN, TELEGRAM_TOKEN, out.path().to_str().unwrap()],
    );
    let created = channel(
        &app,
        json!({"key": "line", "kind": "line", "name": "LINE 공식 계정", "secret": LINE_SECRET,
               "access_token": LINE_TOKEN, "api_base": format!("http://127.0.0.1:{}", api.port)}),
    )
    .await;
    assert!(
        created["webhook_url"]
            .as_str()
            .unwrap()
            .ends_with("/hooks/messenger/line"),
        "{created}"
    );
    let listed = app
        .api(Some(Role::Agent), "GET", "/api/v1/messenger-channels", None)
        .await
        .json();
    assert_eq!(listed[0]["key"], "line");
    assert!(
        listed[0].get("secret").is_none() && listed[0].get("access_token").is_none(),
        "{listed}"
    );
    let taken = app
        .api(
            Some(Role::Admin),
            "POST",
            "/api/v1/messenger-channels",
            Some(json!({"key": "line", "kind": "line", "name": "x", "secret": "s", "access_token": "t"})),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.text());

    let body = line_delivery(
        "U4af4980629",
        "444573844083572737",
        "택배가 일주일째 안 와요",
    );
    let signature = STANDARD.encode(hmac_sha256(LINE_SECRET.as_bytes(), body.as_bytes()));

    // Unsigned and wrongly signed deliveries store nothing.
    let unsigned = deliver(&app, "line", &[], &body).await;
    assert_eq!(
        unsigned.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        unsigned.text()
    );
    let forged = STANDARD.encode(hmac_sha256(b"another secret", body.as_bytes()));
    let wrong = deliver(&app, "line", &[("x-line-signature", forged)], &body).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let tampered = body.replace("택배", "환불");
    let changed = deliver(
        &app,
        "line",
        &[("x-line-signature", signature.clone())],
        &tampered,
    )
    .await;
    assert_eq!(changed.status, StatusCode::UNAUTHORIZED);
    let inbox = app
        .api(Some(Role::Agent), "GET", "/api/v1/conversations", None)
        .await
        .json();
    assert_eq!(inbox["rows"].as_array().map(Vec::len), Some(0), "{inbox}");
    let nowhere = deliver(
        &app,
        "kakao",
        &[("x-line-signature", signature.clone())],
        &body,
    )
    .await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);

    let first = deliver(
        &app,
        "line",
        &[("x-line-signature", signature.clone())],
        &body,
    )
    .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    let intake = first.json()["received"][0].clone();
    // LINE redelivers what it thinks failed: the same ids, nothing stored twice.
    let again = deliver(&app, "line", &[("x-line-signature", signature)], &body).await;
    assert_eq!(again.json()["received"][0], intake);
    let conversation = intake["conversation_id"].as_i64().unwrap();
    let thread = messages(&app, conversation).await;
    let incoming: Vec<&Value> = thread
        .iter()
        .filter(|m| m["direction"] == "incoming")
        .collect();
    assert_eq!(incoming.len(), 1, "{thread:?}");
    assert_eq!(incoming[0]["channel"], "messenger");
    assert_eq!(incoming[0]["text"], "택배가 일주일째 안 와요");
    let customer = app
        .api(
            Some(Role::Agent),
            "GET",
            &format!("/api/v1/customers/{}", intake["customer_id"]),
            None,
        )
        .await
        .json();
    assert!(
        customer.to_string().contains("U4af4980629"),
        "the customer is known by their LINE id: {customer}"
    );

    // A second message from the same person joins the open conversation.
    let next = line_delivery(
        "U4af4980629",
        "444573844083572740",
        "주문번호는 2024-118 입니다",
    );
    let sig = STANDARD.encode(hmac_sha256(LINE_SECRET.as_bytes(), next.as_bytes()));
    let second = deliver(&app, "line", &[("x-line-signature", sig)], &next).await;
    assert_eq!(
        second.json()["received"][0]["conversation_id"],
        conversation
    );

    // A photo arrives as a line of its own; its bytes follow from LINE's content endpoint.
    let photo = json!({"destination": "U8e742f61d673b39c7fff3cecb7536ef0", "events": [{
        "type": "message", "timestamp": 1462629479900i64,
        "source": {"type": "user", "userId": "U4af4980629"},
        "message": {"id": "444573844083572799", "type": "image",
                    "contentProvider": {"type": "line"}}}]})
    .to_string();
    let sig = STANDARD.encode(hmac_sha256(LINE_SECRET.as_bytes(), photo.as_bytes()));
    let sent_photo = deliver(&app, "line", &[("x-line-signature", sig)], &photo).await;
    assert_eq!(
        sent_photo.json()["received"][0]["conversation_id"],
        conversation
    );
    let kept = eventually("the photo fetched from LINE", async || {
        let files = app
            .api(
                Some(Role::Agent),
                "GET",
                &format!("/api/v1/conversations/{conversation}/attachments"),
                None,
            )
            .await
            .json();
        files.as_array().and_then(|f| f.first().cloned())
    })
    .await;
    assert_eq!(kept["content_type"], "image/png", "{kept}");
    assert_eq!(kept["filename"], "line-444573844083572799.png");

    // The agent's reply is pushed to the user with a retry key; long text is split.
    let long = "가".repeat(6_000);
    let sent = reply(&app, conversation, &long).await;
    assert_eq!(sent["delivery"], "queued");
    let done = delivered(&app, conversation, sent["id"].as_i64().unwrap()).await;
    assert_eq!(done["delivery"], "sent", "{done}");
    let pushes = peer_lines(out.path());
    assert_eq!(pushes.len(), 1, "{pushes:?}");
    assert_eq!(pushes[0]["body"]["to"], "U4af4980629");
    let parts: Vec<&str> = pushes[0]["body"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        parts.iter().map(|p| p.chars().count()).collect::<Vec<_>>(),
        [5_000, 1_000]
    );
    assert_eq!(parts.concat(), long);

    // Resolving asks for a rating in the same messenger.
    let resolved = app
        .api(
            Some(Role::Agent),
            "PATCH",
            &format!("/api/v1/conversations/{conversation}"),
            Some(json!({"status": "resolved"})),
        )
        .await;
    assert!(resolved.status.is_success(), "{}", resolved.text());
    let asked = eventually("the CSAT question pushed", async || {
        let lines = peer_lines(out.path());
        (lines.len() >= 2).then(|| lines[1].clone())
    })
    .await;
    let question = asked["body"]["messages"][0]["text"].as_str().unwrap();
    assert!(question.contains("/csat/"), "{question}");

    // A channel whose token the provider refuses: the reply shows the failure.
    let stale = channel(
        &app,
        json!({"key": "line-old", "kind": "line", "name": "옛 계정", "secret": LINE_SECRET,
               "access_token": "revoked", "api_base": format!("http://127.0.0.1:{}", api.port)}),
    )
    .await;
    assert_eq!(stale["key"], "line-old");
    let body = line_delivery("U77", "555", "안녕하세요");
    let sig = STANDARD.encode(hmac_sha256(LINE_SECRET.as_bytes(), body.as_bytes()));
    let other = deliver(&app, "line-old", &[("x-line-signature", sig)], &body).await;
    let other = other.json()["received"][0]["conversation_id"]
        .as_i64()
        .unwrap();
    assert_ne!(other, conversation);
    let sent = reply(&app, other, "확인해 드릴게요").await;
    let failed = delivered(&app, other, sent["id"].as_i64().unwrap()).await;
    assert_eq!(failed["delivery"], "failed");
    assert!(
        failed["delivery_error"].as_str().unwrap().contains("401"),
        "{failed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_updates_need_the_secret_token_and_replies_go_to_the_chat() {
    let app = TestApp::new().await;
    let _jobs = start_jobs(&app);
    let out = tempfile::NamedTempFile::new().unwrap();
    let api = Peer::start(
        "messenger_api.py",
        &[LINE_TOKEN, TELEGRAM_TOKEN, out.path().to_str().unwrap()],
    );
    let created = channel(
        &app,
        json!({"key": "tg", "kind": "telegram", "name": "텔레그램 봇",
               "access_token": TELEGRAM_TOKEN, "api_base": format!("http://127.0.0.1:{}", api.port)}),
    )
    .await;
    // Made for us, in the alphabet Telegram allows for secret_token.
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(
        !secret.is_empty()
            && secret
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'),
        "{secret}"
    );
    // The update in the Bot API's webhook example.
    let update = json!({"update_id": 10000, "message": {"date": 1441645532,
        "chat": {"last_name": "Kim", "id": 1111111, "type": "private", "first_name": "Minji", "username": "minji"},
        "message_id": 1365,
        "from": {"last_name": "Kim", "id": 1111111, "is_bot": false, "first_name": "Minji", "username": "minji", "language_code": "ko"},
        "text": "환불은 언제 되나요?"}})
    .to_string();
    let refused = deliver(
        &app,
        "tg",
        &[("x-telegram-bot-api-secret-token", "guess".into())],
        &update,
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
    let header = [("x-telegram-bot-api-secret-token", secret.clone())];
    let garbage = deliver(&app, "tg", &header, "{\"update_id\": \"x\"").await;
    assert_eq!(
        garbage.status,
        StatusCode::BAD_REQUEST,
        "{}",
        garbage.text()
    );
    assert_eq!(garbage.json()["error"]["code"], "invalid_payload");

    let r = deliver(&app, "tg", &header, &update).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let intake = r.json()["received"][0].clone();
    let customer = app
        .api(
            Some(Role::Agent),
            "GET",
            &format!("/api/v1/customers/{}", intake["customer_id"]),
            None,
        )
        .await
        .json();
    assert_eq!(customer["name"], "Minji Kim", "{customer}");
    assert_eq!(customer["language"], "ko", "{customer}");
    // An edited message is not a new one.
    let edited = json!({"update_id": 10001, "edited_message": {"message_id": 1365, "date": 1441645600,
        "chat": {"id": 1111111, "type": "private"}, "from": {"id": 1111111, "is_bot": false, "first_name": "Minji"},
        "edit_date": 1441645600, "text": "환불은 언제?"}})
    .to_string();
    let e = deliver(&app, "tg", &header, &edited).await;
    assert_eq!(e.json()["received"], json!([]));

    let conversation = intake["conversation_id"].as_i64().unwrap();
    // A photo with a caption: the caption is the text, the largest size is fetched.
    let photo = json!({"update_id": 10002, "message": {"message_id": 1366, "date": 1441645600,
        "chat": {"id": 1111111, "type": "private"},
        "from": {"id": 1111111, "is_bot": false, "first_name": "Minji"},
        "photo": [{"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90, "file_size": 900},
                  {"file_id": "large", "file_unique_id": "l", "width": 800, "height": 800, "file_size": 90000}],
        "caption": "상자가 찌그러져 왔어요"}})
    .to_string();
    let p = deliver(&app, "tg", &header, &photo).await;
    assert_eq!(p.json()["received"][0]["conversation_id"], conversation);
    let kept = eventually("the photo fetched from Telegram", async || {
        let files = app
            .api(
                Some(Role::Agent),
                "GET",
                &format!("/api/v1/conversations/{conversation}/attachments"),
                None,
            )
            .await
            .json();
        files.as_array().and_then(|f| f.first().cloned())
    })
    .await;
    assert_eq!(
        (kept["filename"].as_str(), kept["content_type"].as_str()),
        (Some("file_7.jpg"), Some("image/jpeg")),
        "{kept}"
    );
    let sent = reply(&app, conversation, "내일까지 환불됩니다.").await;
    let done = delivered(&app, conversation, sent["id"].as_i64().unwrap()).await;
    assert_eq!(done["delivery"], "sent", "{done}");
    let calls = peer_lines(out.path());
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0]["api"], "telegram");
    assert_eq!(calls[0]["body"]["chat_id"], 1111111);
    assert_eq!(calls[0]["body"]["text"], "내일까지 환불됩니다.");

    // An agent's file goes with the reply as an upload: a PDF as a document.
    let up = app
        .send(
            Request::builder()
                .method("POST")
                .uri(format!(
                    "/api/v1/conversations/{conversation}/attachments?filename=guide.pdf"
                ))
                .header("authorization", app.bearer(Role::Agent))
                .header("content-type", "application/octet-stream")
                .body(Body::from(b"%PDF-1.4\n%guide\n".to_vec()))
                .unwrap(),
        )
        .await;
    assert_eq!(up.status, StatusCode::CREATED, "{}", up.text());
    let with_file = app
        .api(
            Some(Role::Agent),
            "POST",
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(json!({"text": "교환 안내서를 보내드려요", "attachment_ids": [up.json()["id"]]})),
        )
        .await;
    assert!(with_file.status.is_success(), "{}", with_file.text());
    let done = delivered(&app, conversation, with_file.json()["id"].as_i64().unwrap()).await;
    assert_eq!(done["delivery"], "sent", "{done}");
    let calls = peer_lines(out.path());
    let file = calls
        .iter()
        .find(|c| c["api"] == "telegram_file")
        .unwrap_or_else(|| panic!("no upload in {calls:?}"));
    assert_eq!(
        (
            file["body"]["method"].as_str(),
            file["body"]["chat_id"].as_str(),
            file["body"]["name"].as_str()
        ),
        (Some("sendDocument"), Some("1111111"), Some("guide.pdf")),
        "{file}"
    );
    assert_eq!(file["body"]["head"], "25504446", "the file's own bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generic_contract_is_signed_both_ways_and_refuses_stale_deliveries() {
    let app = TestApp::new().await;
    let _jobs = start_jobs(&app);
    // The reply URL is filled in once the receiver knows the secret.
    let created = channel(
        &app,
        json!({"key": "kakao", "kind": "generic", "name": "카카오 상담톡 중계",
               "api_base": "http://127.0.0.1:9/placeholder"}),
    )
    .await;
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{secret}");
    let out = tempfile::NamedTempFile::new().unwrap();
    let receiver = Peer::start(
        "webhook_receiver.py",
        &[&secret, out.path().to_str().unwrap(), "0"],
    );
    let id = created["id"].as_i64().unwrap();
    let stored = app.state.store.messenger_channel_by_id(id).await.unwrap();
    app.state.store.delete_messenger_channel(id).await.unwrap();
    app.state
        .store
        .create_messenger_channel(&nunchi_store::model::NewMessengerChannel {
            key: stored.key,
            kind: stored.kind,
            name: stored.name,
            secret: stored.secret,
            access_token: None,
            api_base: Some(format!("http://127.0.0.1:{}/hooks", receiver.port)),
        })
        .await
        .unwrap();

    let body =
        json!({"id": "m-1", "sender": {"id": "kakao-user-9", "name": "이서연", "language": "ko"},
                      "text": "교환 신청하고 싶어요"})
        .to_string();
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let signed = |msg_id: &str, stamp: i64, body: &str| {
        let sig = STANDARD.encode(hmac_sha256(
            &key,
            format!("{msg_id}.{stamp}.{body}").as_bytes(),
        ));
        vec![
            ("webhook-id", msg_id.to_string()),
            ("webhook-timestamp", stamp.to_string()),
            ("webhook-signature", format!("v1,{sig}")),
        ]
    };
    let now = app.state.app.now() / 1000;
    let stale = deliver(&app, "kakao", &signed("msg_1", now - 3_600, &body), &body).await;
    assert_eq!(
        stale.status,
        StatusCode::UNAUTHORIZED,
        "a replayed old delivery"
    );
    let unknown_field = body.replace("\"text\"", "\"txt\"");
    let bad = deliver(
        &app,
        "kakao",
        &signed("msg_1", now, &unknown_field),
        &unknown_field,
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text());

    let ok = deliver(&app, "kakao", &signed("msg_1", now, &body), &body).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text());
    let intake = ok.json()["received"][0].clone();
    let conversation = intake["conversation_id"].as_i64().unwrap();
    let customer = app
        .api(
            Some(Role::Agent),
            "GET",
            &format!("/api/v1/customers/{}", intake["customer_id"]),
            None,
        )
        .await
        .json();
    assert_eq!(customer["name"], "이서연");

    let sent = reply(&app, conversation, "교환 접수해 드렸습니다.").await;
    let done = delivered(&app, conversation, sent["id"].as_i64().unwrap()).await;
    assert_eq!(done["delivery"], "sent", "{done}");
    let got = peer_lines(out.path());
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["type"], "message.reply");
    assert_eq!(got[0]["data"]["recipient"], "kakao-user-9");
    assert_eq!(got[0]["data"]["conversation_id"], conversation);
    assert_eq!(got[0]["data"]["text"], "교환 접수해 드렸습니다.");
    assert_eq!(
        got[0]["id"],
        format!("msg_reply_kakao_{}", sent["id"]),
        "a retried reply keeps its id, so the receiver can drop the copy"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_channels_page_connects_a_messenger_and_shows_its_secret_once() {
    let app = TestApp::new().await;
    let empty = app
        .page(Role::Agent, "GET", "/inbox/channels", None)
        .await
        .text();
    assert!(empty.contains("id=\"channels-empty\""), "{empty}");
    assert!(empty.contains("id=\"mailbox-off\""), "no mailbox is polled");
    assert!(
        !empty.contains("id=\"new-channel\""),
        "agents see the channels, managers connect them"
    );
    let form = format!(
        "csrf={}&kind=telegram&name=Support+bot&key=tg-help&secret=&access_token=123%3Aabc&api_base=",
        app.csrf(Role::Admin)
    );
    let made = app
        .page(Role::Admin, "POST", "/inbox/channels", Some(&form))
        .await;
    assert_eq!(made.status, StatusCode::OK, "{}", made.text());
    let made = made.text();
    assert!(made.contains("id=\"connected-secret\""), "{made}");
    assert!(made.contains("/hooks/messenger/tg-help"), "{made}");
    assert!(made.contains("setWebhook"), "Telegram's next step is named");
    let listed = app
        .page(Role::Agent, "GET", "/inbox/channels", None)
        .await
        .text();
    assert!(listed.contains("id=\"channel-list\"") && listed.contains("Support bot"));
    assert!(
        !listed.contains("id=\"connected-secret\""),
        "the secret is not shown again"
    );
    let bad = app
        .page(
            Role::Admin,
            "POST",
            "/inbox/channels",
            Some(&form.replace("key=tg-help", "key=Bad+Key")),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);

    // A conversation of the channel names it.
    let secret = made
        .split("id=\"connected-secret\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .to_string();
    let update = json!({"update_id": 1, "message": {"message_id": 1, "date": 1,
        "chat": {"id": 42, "type": "private"}, "from": {"id": 42, "is_bot": false, "first_name": "Jun"},
        "text": "hello"}})
    .to_string();
    let r = deliver(
        &app,
        "tg-help",
        &[("x-telegram-bot-api-secret-token", secret)],
        &update,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let id = r.json()["received"][0]["conversation_id"].as_i64().unwrap();
    let page = app
        .page(Role::Agent, "GET", &format!("/inbox/{id}"), None)
        .await
        .text();
    assert!(page.contains("Telegram · Support bot"), "{page}");
}
