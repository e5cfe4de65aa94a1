//! Files with conversation messages: an e-mail's files kept (photos, PDFs) or recorded as
//! not kept with the reason (a program, a page dressed as a photo); staff upload files by
//! API or from the composer and they leave with the e-mail reply to a real SMTP server;
//! downloads are served as their recognised type, sandboxed, and only to staff who may
//! read the conversation; bytes live under the data folder on SQLite and in the database
//! on PostgreSQL; erasing the customer removes them.

mod support;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use base64::{Engine, engine::general_purpose::STANDARD};
use nunchi_core::access::Role;
use serde_json::{Value, json};
use support::{Reply, TestApp, eventually, mailbox, with_smtp};

const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n";

fn part(name: &str, content_type: &str, bytes: &[u8]) -> String {
    format!(
        "--b1\r\nContent-Type: {content_type}; name=\"{name}\"\r\n\
         Content-Disposition: attachment; filename=\"{name}\"\r\n\
         Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
        STANDARD.encode(bytes)
    )
}

fn mail_with_files() -> Vec<u8> {
    format!(
        "From: Minji Park <minji@example.com>\r\nTo: help@brand.example\r\n\
         Subject: Broken heel\r\nMessage-ID: <files-1@example.com>\r\n\
         MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n굽이 부러졌어요. 사진 보냅니다.\r\n{}{}{}{}--b1--\r\n",
        part("heel.png", "image/png", PNG),
        part("receipt.pdf", "application/pdf", PDF),
        part("setup.exe", "application/octet-stream", b"MZ\x90\0\x03\0\0\0"),
        part("photo.png", "image/png", b"<html><script>alert(document.cookie)</script></html>"),
    )
    .into_bytes()
}

async fn take_in(app: &TestApp, raw: &[u8]) -> Value {
    let r = app
        .send(
            Request::builder()
                .method("POST")
                .uri("/api/v1/inbound/email")
                .header(header::AUTHORIZATION, app.bearer(Role::Agent))
                .header(header::CONTENT_TYPE, "message/rfc822")
                .body(Body::from(raw.to_vec()))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

async fn files(app: &TestApp, conversation: i64) -> Vec<Value> {
    let r = app
        .api(
            Some(Role::Agent),
            "GET",
            &format!("/api/v1/conversations/{conversation}/attachments"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json().as_array().unwrap().clone()
}

async fn upload(app: &TestApp, conversation: i64, name: &str, bytes: &[u8]) -> Reply {
    app.send(
        Request::builder()
            .method("POST")
            .uri(format!(
                "/api/v1/conversations/{conversation}/attachments?filename={}",
                name.replace(' ', "%20")
            ))
            .header(header::AUTHORIZATION, app.bearer(Role::Agent))
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(Body::from(bytes.to_vec()))
            .unwrap(),
    )
    .await
}

fn named<'a>(all: &'a [Value], name: &str) -> &'a Value {
    all.iter()
        .find(|f| f["filename"] == name)
        .unwrap_or_else(|| panic!("no {name} in {all:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_emails_files_are_kept_or_recorded_with_the_reason_and_served_safely() {
    let app = TestApp::new().await;
    let intake = take_in(&app, &mail_with_files()).await;
    let conversation = intake["conversation_id"].as_i64().unwrap();
    let all = files(&app, conversation).await;
    assert_eq!(all.len(), 4, "{all:?}");
    let heel = named(&all, "heel.png");
    assert_eq!(heel["content_type"], "image/png");
    assert_eq!(heel["message_id"], intake["message_id"]);
    assert_eq!(heel["rejected"], Value::Null);
    assert_eq!(
        named(&all, "receipt.pdf")["content_type"],
        "application/pdf"
    );
    assert_eq!(named(&all, "setup.exe")["rejected"], "type_not_allowed");
    assert_eq!(
        named(&all, "photo.png")["rejected"],
        "type_not_allowed",
        "a page named like a photo is not a photo"
    );

    // Where the bytes are depends on the backend.
    let stored = app
        .state
        .store
        .attachment(heel["id"].as_i64().unwrap())
        .await
        .unwrap();
    let on_disk = stored
        .file_path
        .as_ref()
        .map(|p| app.state.app.config.data_dir.join(p));
    match app.state.store.backend() {
        "sqlite" => assert_eq!(
            std::fs::read(on_disk.as_ref().expect("a file under the data folder")).unwrap(),
            PNG
        ),
        _ => assert!(on_disk.is_none(), "kept in the database"),
    }

    let url = format!(
        "/api/v1/conversations/{conversation}/attachments/{}",
        heel["id"]
    );
    let got = app.api(Some(Role::Agent), "GET", &url, None).await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.body, PNG);
    assert_eq!(got.headers[header::CONTENT_TYPE], "image/png");
    assert_eq!(got.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert!(
        got.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .starts_with("sandbox"),
        "{:?}",
        got.headers
    );
    let pdf = named(&all, "receipt.pdf");
    let got = app
        .api(
            Some(Role::Agent),
            "GET",
            &format!(
                "/api/v1/conversations/{conversation}/attachments/{}",
                pdf["id"]
            ),
            None,
        )
        .await;
    assert!(
        got.headers[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .starts_with("attachment;"),
        "a PDF downloads"
    );
    // Not kept: nothing to download. Not staff who read the inbox: nothing at all.
    let exe = named(&all, "setup.exe");
    let none = app
        .api(
            Some(Role::Agent),
            "GET",
            &format!(
                "/api/v1/conversations/{conversation}/attachments/{}",
                exe["id"]
            ),
            None,
        )
        .await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.api(Some(Role::Viewer), "GET", &url, None).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.api(None, "GET", &url, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    // Another conversation's id in the path does not reach it.
    let other = take_in(
        &app,
        b"From: x@example.com\r\nSubject: hi\r\nMessage-ID: <other@example.com>\r\n\r\nhello\r\n",
    )
    .await;
    let wrong = format!(
        "/api/v1/conversations/{}/attachments/{}",
        other["conversation_id"], heel["id"]
    );
    assert_eq!(
        app.api(Some(Role::Agent), "GET", &wrong, None).await.status,
        StatusCode::NOT_FOUND
    );

    let page = app
        .page(Role::Agent, "GET", &format!("/inbox/{conversation}"), None)
        .await
        .text();
    assert!(
        page.contains(&format!(
            "<img src=\"/inbox/{conversation}/attachments/{}\"",
            heel["id"]
        )),
        "the photo is shown in place"
    );
    assert!(page.contains("setup.exe · not kept"), "{page}");
    let ui = app
        .page(
            Role::Agent,
            "GET",
            &format!("/inbox/{conversation}/attachments/{}", heel["id"]),
            None,
        )
        .await;
    assert_eq!(ui.body, PNG);

    // Erasing the customer removes the files, rows and bytes.
    let erased = app
        .api(
            Some(Role::Admin),
            "DELETE",
            &format!("/api/v1/customers/{}", intake["customer_id"]),
            None,
        )
        .await;
    assert!(erased.status.is_success(), "{}", erased.text());
    assert_eq!(
        app.api(Some(Role::Agent), "GET", &url, None).await.status,
        StatusCode::NOT_FOUND
    );
    if let Some(path) = on_disk {
        assert!(!path.exists(), "the file is gone from the data folder");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_uploads_leave_with_the_reply_and_bad_ones_are_refused() {
    let Some((mail_dir, _smtp, app)) = with_smtp().await else {
        return;
    };
    let (_stop, stop_rx) = tokio::sync::watch::channel(false);
    nunchi_app::jobs::spawn_runner(app.state.app.clone(), "test".into(), stop_rx, |_, _| {});
    let intake = take_in(
        &app,
        b"From: Jun <jun@example.com>\r\nSubject: Invoice\r\nMessage-ID: <inv-1@example.com>\r\n\r\nPlease send the invoice.\r\n",
    )
    .await;
    let conversation = intake["conversation_id"].as_i64().unwrap();

    let refused = upload(&app, conversation, "tool.exe", b"MZ\x90\0").await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        refused.json()["error"]["code"],
        "attachment_type_not_allowed"
    );
    let too_big = upload(
        &app,
        conversation,
        "big.txt",
        &vec![b'a'; 10 * 1024 * 1024 + 1],
    )
    .await;
    assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE);

    let kept = upload(&app, conversation, "인보이스 12월.pdf", PDF).await;
    assert_eq!(kept.status, StatusCode::CREATED, "{}", kept.text());
    let kept = kept.json();
    assert_eq!(kept["message_id"], Value::Null, "waiting for its reply");

    // An id from another conversation is refused, and the reply is not sent.
    let other = take_in(
        &app,
        b"From: z@example.com\r\nSubject: x\r\nMessage-ID: <x-2@example.com>\r\n\r\nx\r\n",
    )
    .await;
    let elsewhere = app
        .api(
            Some(Role::Agent),
            "POST",
            &format!(
                "/api/v1/conversations/{}/messages",
                other["conversation_id"]
            ),
            Some(json!({"text": "see attached", "attachment_ids": [kept["id"]]})),
        )
        .await;
    assert_eq!(
        elsewhere.status,
        StatusCode::BAD_REQUEST,
        "{}",
        elsewhere.text()
    );
    assert_eq!(elsewhere.json()["error"]["code"], "invalid_attachment");

    let reply = app
        .api(
            Some(Role::Agent),
            "POST",
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(json!({"text": "인보이스를 첨부합니다.", "attachment_ids": [kept["id"]]})),
        )
        .await;
    assert!(reply.status.is_success(), "{}", reply.text());
    let all = files(&app, conversation).await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["message_id"], reply.json()["id"]);
    // Used once: it cannot go with a second message.
    let again = app
        .api(
            Some(Role::Agent),
            "POST",
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(json!({"text": "again", "attachment_ids": [kept["id"]]})),
        )
        .await;
    assert_eq!(again.status, StatusCode::BAD_REQUEST);

    let sent = eventually("the reply with its file", async || {
        mailbox(mail_dir.path())
            .into_iter()
            .find(|m| m.contains("X-Envelope-To: jun@example.com"))
    })
    .await;
    // Python's MIME parser finds the file with its Korean name and every byte.
    use sha2::Digest;
    let digest: String = sha2::Sha256::digest(PDF)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(
        sent.contains(&format!(
            "X-Attachment: 인보이스 12월.pdf; application/pdf; {digest}"
        )),
        "{sent}"
    );
    assert!(
        sent.contains("인보이스를 첨부합니다."),
        "the text still leads: {sent}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_composer_sends_files_with_a_note() {
    let app = TestApp::new().await;
    let intake = take_in(
        &app,
        b"From: Jun <jun@example.com>\r\nSubject: Photo\r\nMessage-ID: <photo-1@example.com>\r\n\r\nsee photo\r\n",
    )
    .await;
    let conversation = intake["conversation_id"].as_i64().unwrap();
    let (cookie, csrf) = &app.sessions[&Role::Agent];
    let body = format!(
        "--XB\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --XB\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n창고 사진 첨부\r\n\
         --XB\r\nContent-Disposition: form-data; name=\"action\"\r\n\r\nnote\r\n\
         --XB\r\nContent-Disposition: form-data; name=\"files\"; filename=\"창고.png\"\r\n\
         Content-Type: image/png\r\n\r\n"
    );
    let mut raw = body.into_bytes();
    raw.extend_from_slice(PNG);
    raw.extend_from_slice(b"\r\n--XB--\r\n");
    let r = app
        .send(
            Request::builder()
                .method("POST")
                .uri(format!("/inbox/{conversation}/messages"))
                .header(header::COOKIE, format!("nunchi_session={cookie}"))
                .header(header::CONTENT_TYPE, "multipart/form-data; boundary=XB")
                .body(Body::from(raw))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let all = files(&app, conversation).await;
    assert_eq!(all.len(), 1, "{all:?}");
    assert_eq!(all[0]["filename"], "창고.png");
    let page = app
        .page(Role::Agent, "GET", &format!("/inbox/{conversation}"), None)
        .await
        .text();
    assert!(page.contains("창고 사진 첨부") && page.contains("📎 창고.png"));
}
