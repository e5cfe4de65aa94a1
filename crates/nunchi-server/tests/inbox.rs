//! The support desk over HTTP: the raw e-mail intake contract (ids, idempotency on
//! Message-ID, Korean charsets, unreadable mail kept), threading by reply headers with a
//! real SMTP server receiving the agent's reply, and the inbox's states and activity lines.

mod support;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use nunchi_core::access::Role;
use serde_json::{Value, json};
use support::{Reply, TestApp, eventually, mailbox, with_smtp};

async fn post_mail(app: &TestApp, role: Role, raw: &[u8], content_type: &str) -> Reply {
    app.send(
        Request::builder()
            .method("POST")
            .uri("/api/v1/inbound/email")
            .header(header::AUTHORIZATION, app.bearer(role))
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(raw.to_vec()))
            .unwrap(),
    )
    .await
}

async fn intake(app: &TestApp, raw: &[u8]) -> Value {
    let r = post_mail(app, Role::Agent, raw, "message/rfc822").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

async fn thread(app: &TestApp, conversation: &Value) -> Vec<Value> {
    let r = app
        .api(
            Some(Role::Agent),
            "GET",
            &format!("/api/v1/conversations/{conversation}/messages"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json().as_array().unwrap().clone()
}

async fn get_conversation(app: &TestApp, id: &Value) -> Value {
    let r = app
        .api(
            Some(Role::Agent),
            "GET",
            &format!("/api/v1/conversations/{id}"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

/// Every queued job, as the admin API lists them.
async fn jobs(app: &TestApp) -> Value {
    app.api(Some(Role::Admin), "GET", "/api/v1/jobs", None)
        .await
        .json()
}

fn euc_kr_mail(message_id: &str) -> Vec<u8> {
    let (body, _, _) =
        encoding_rs::EUC_KR.encode("주문한 지 열흘이 지났는데 배송이 안 와요. 환불해 주세요.");
    let mut raw = format!(
        "From: =?EUC-KR?B?sei5zsHY?= <minjun@example.com>\r\n\
         To: help@brand.example\r\n\
         Subject: =?ks_c_5601-1987?B?uei82yC5rsDH?=\r\n\
         Message-ID: <{message_id}>\r\n\
         Date: Mon, 30 Nov 2026 10:00:00 +0900\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=ks_c_5601-1987\r\n\
         Content-Transfer-Encoding: 8bit\r\n\r\n"
    )
    .into_bytes();
    raw.extend_from_slice(&body);
    raw
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbound_email_contract_ids_idempotency_and_korean_text() {
    let app = TestApp::new().await;
    let raw = euc_kr_mail("order-late-1@example.com");
    let first = intake(&app, &raw).await;
    for key in ["conversation_id", "message_id", "customer_id"] {
        assert!(first[key].as_i64().is_some_and(|v| v > 0), "{first}");
    }
    // The same message again (a relay retrying): stored once, the same ids.
    assert_eq!(intake(&app, &raw).await, first);

    let messages = thread(&app, &first["conversation_id"]).await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    let m = &messages[0];
    assert_eq!(m["direction"], "incoming");
    assert_eq!(m["channel"], "email");
    assert_eq!(
        m["text"],
        "주문한 지 열흘이 지났는데 배송이 안 와요. 환불해 주세요."
    );
    assert!(m["created_at"].as_i64().is_some());
    assert_eq!(m["id"], first["message_id"]);

    // The sender became a customer, found by their address from now on.
    let customer = app
        .api(
            Some(Role::Agent),
            "GET",
            &format!("/api/v1/customers/{}", first["customer_id"]),
            None,
        )
        .await
        .json();
    assert_eq!(customer["name"], "김민준", "{customer}");
    let again = intake(
        &app,
        b"From: minjun@example.com\r\nSubject: another\r\nMessage-ID: <two@example.com>\r\n\r\nhi",
    )
    .await;
    assert_eq!(again["customer_id"], first["customer_id"]);
    assert_ne!(again["conversation_id"], first["conversation_id"]);
    let conversation = get_conversation(&app, &first["conversation_id"]).await;
    assert_eq!(conversation["subject"], "배송 문의");
    assert_eq!(conversation["status"], "open");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_mail_is_refused_clearly_and_kept_for_admins() {
    let app = TestApp::new().await;
    let wrong_type = post_mail(&app, Role::Agent, b"From: a@b.c\r\n\r\nx", "text/plain").await;
    assert_eq!(wrong_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let no_sender = post_mail(
        &app,
        Role::Agent,
        b"Subject: lost\r\n\r\nwho sent me?",
        "message/rfc822",
    )
    .await;
    assert_eq!(
        no_sender.status,
        StatusCode::BAD_REQUEST,
        "{}",
        no_sender.text()
    );
    assert_eq!(no_sender.json()["error"]["code"], "unreadable_mail");
    let kept = app
        .api(Some(Role::Admin), "GET", "/api/v1/inbound/unreadable", None)
        .await;
    assert_eq!(kept.status, StatusCode::OK);
    let kept = kept.json();
    assert_eq!(kept.as_array().unwrap().len(), 1);
    assert!(kept[0]["raw"].as_str().unwrap().contains("who sent me?"));
    assert_eq!(
        app.api(Some(Role::Agent), "GET", "/api/v1/inbound/unreadable", None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // Viewers may not read conversations, nor add mail.
    let raw = euc_kr_mail("v@example.com");
    assert_eq!(
        post_mail(&app, Role::Viewer, &raw, "message/rfc822")
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.api(Some(Role::Viewer), "GET", "/api/v1/conversations", None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replies_thread_by_their_headers_through_a_real_smtp_server() {
    let Some((mail_dir, _smtp, app)) = with_smtp().await else {
        return;
    };
    let first = intake(&app, &euc_kr_mail("start@example.com")).await;
    let conversation = first["conversation_id"].clone();
    let signed = app
        .api(
            Some(Role::Manager),
            "PUT",
            "/api/v1/reply-signature",
            Some(json!({"ko": "브랜드 고객센터\n도움말: https://brand.example/help", "en": "Brand Customer Care"})),
        )
        .await;
    assert_eq!(signed.status, StatusCode::OK, "{}", signed.text());
    let refused = app
        .api(
            Some(Role::Agent),
            "PUT",
            "/api/v1/reply-signature",
            Some(json!({"ko": "x"})),
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::FORBIDDEN,
        "managers set the signature"
    );
    let reply = app
        .api(
            Some(Role::Agent),
            "POST",
            &format!("/api/v1/conversations/{conversation}/messages"),
            Some(json!({"text": "불편을 드려 죄송합니다. 오늘 출고됩니다."})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.text());
    let reply = reply.json();
    assert_eq!(reply["direction"], "outgoing");
    assert_eq!(reply["delivery"], "queued");
    let reply_id = reply["external_id"].as_str().unwrap().to_string();

    let (_stop, stop_rx) = tokio::sync::watch::channel(false);
    nunchi_app::jobs::spawn_runner(app.state.app.clone(), "w".into(), stop_rx, |_, _| {});
    let sent = eventually("the reply at the SMTP server", async || {
        let m = mailbox(mail_dir.path());
        (!m.is_empty()).then_some(m)
    })
    .await;
    let mail = &sent[0];
    assert!(mail.contains("X-Envelope-To: minjun@example.com"), "{mail}");
    assert!(
        mail.contains(&format!("Message-ID: <{reply_id}>")),
        "{mail}"
    );
    assert!(mail.contains("In-Reply-To: <start@example.com>"), "{mail}");
    assert!(mail.contains("References: <start@example.com>"), "{mail}");
    assert!(mail.contains("Subject: Re: 배송 문의"), "{mail}");
    assert!(mail.contains("오늘 출고됩니다"), "{mail}");
    // The Korean signature (the customer's language is not known to be English), in the
    // text after the signature line and in an HTML part with its address as a link.
    assert!(
        mail.replace("\r\n", "\n")
            .contains("오늘 출고됩니다.\n\n-- \n브랜드 고객센터"),
        "{mail}"
    );
    let html = mail
        .lines()
        .find_map(|l| l.strip_prefix("X-Html: "))
        .unwrap_or_else(|| panic!("no HTML part: {mail}"));
    assert!(
        html.contains("<p>불편을 드려 죄송합니다. 오늘 출고됩니다.</p>"),
        "{html}"
    );
    assert!(
        html.contains("<a href=\"https://brand.example/help\">https://brand.example/help</a>"),
        "{html}"
    );
    assert!(
        !html.contains("Brand Customer Care"),
        "one language: {html}"
    );
    eventually("the reply marked sent", async || {
        let lines = thread(&app, &conversation).await;
        (lines[1]["delivery"] == "sent").then_some(())
    })
    .await;

    // Outlook answers the agent's reply: In-Reply-To names our Message-ID, the subject a
    // Korean prefix. It joins the same conversation and reopens it.
    let outlook = format!(
        "From: Minjun <minjun@example.com>\r\nSubject: 회신: Re: 배송 문의\r\n\
         Message-ID: <outlook-1@example.com>\r\nIn-Reply-To: <{reply_id}>\r\n\
         References: <start@example.com> <{reply_id}>\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n감사합니다. 기다릴게요."
    );
    let joined = intake(&app, outlook.as_bytes()).await;
    assert_eq!(joined["conversation_id"], conversation);
    // Gmail sometimes drops In-Reply-To and keeps References only.
    let gmail = format!(
        "From: minjun@example.com\r\nSubject: Re: 배송 문의\r\nMessage-ID: <gmail-1@example.com>\r\n\
         References: <start@example.com> <{reply_id}> <outlook-1@example.com>\r\n\r\n하나 더요"
    );
    assert_eq!(
        intake(&app, gmail.as_bytes()).await["conversation_id"],
        conversation
    );
    // The same subject without reply headers is a new conversation: never by subject alone.
    let fresh = intake(
        &app,
        "From: minjun@example.com\r\nSubject: 회신: 배송 문의\r\nMessage-ID: <new@example.com>\r\n\r\n새 문의"
            .as_bytes(),
    )
    .await;
    assert_ne!(fresh["conversation_id"], conversation);

    let lines = thread(&app, &conversation).await;
    let kinds: Vec<&str> = lines
        .iter()
        .map(|m| m["direction"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        vec!["incoming", "outgoing", "incoming", "activity", "incoming"],
        "{lines:?}"
    );
    assert_eq!(lines[3]["text"], "reopened");
    let state = get_conversation(&app, &conversation).await;
    assert_eq!(state["status"], "open");
    assert!(state["first_reply_at"].as_i64().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assignment_status_and_notes_leave_activity_lines_and_counts() {
    let app = TestApp::new().await;
    let first = intake(&app, &euc_kr_mail("assign@example.com")).await;
    let id = first["conversation_id"].clone();
    let agent = app.user_ids[&Role::Agent];
    let patch = |body: Value| {
        let app = &app;
        let id = id.clone();
        async move {
            app.api(
                Some(Role::Agent),
                "PATCH",
                &format!("/api/v1/conversations/{id}"),
                Some(body),
            )
            .await
        }
    };
    let r = patch(json!({"assignee_id": agent, "priority": "urgent", "labels": ["배송", "환불"]}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["labels"], json!(["배송", "환불"]));
    let mine = app
        .api(
            Some(Role::Agent),
            "GET",
            "/api/v1/conversations?assignee=mine",
            None,
        )
        .await
        .json();
    assert_eq!(mine["rows"].as_array().unwrap().len(), 1);
    assert_eq!(mine["counts"]["mine"], 1);
    assert_eq!(mine["rows"][0]["customer_name"], "김민준");
    assert!(
        mine["rows"][0]["preview"]
            .as_str()
            .unwrap()
            .contains("배송")
    );

    let note = app
        .api(
            Some(Role::Agent),
            "POST",
            &format!("/api/v1/conversations/{id}/messages"),
            Some(json!({"text": "택배사 확인 중", "note": true})),
        )
        .await;
    assert_eq!(note.status, StatusCode::CREATED);
    assert_eq!(note.json()["direction"], "note");
    assert_eq!(note.json()["delivery"], Value::Null, "notes are not sent");

    let bad = patch(json!({"status": "snoozed"})).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert_eq!(bad.json()["error"]["code"], "invalid_snoozed_until");
    assert_eq!(
        patch(json!({"status": "closed"})).await.json()["error"]["code"],
        "invalid_conversation_status"
    );
    let resolved = patch(json!({"status": "resolved"})).await.json();
    assert_eq!(resolved["status"], "resolved");
    assert!(resolved["resolved_at"].as_i64().is_some());

    let lines = thread(&app, &id).await;
    let activity: Vec<&str> = lines
        .iter()
        .filter(|m| m["direction"] == "activity")
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        activity,
        vec![
            "priority=urgent",
            &format!("assignee={agent}"),
            "status=resolved",
            "csat_requested"
        ]
    );
    let all = app
        .api(
            Some(Role::Agent),
            "GET",
            "/api/v1/conversations?status=resolved",
            None,
        )
        .await
        .json();
    assert_eq!(all["counts"]["resolved"], 1);
    assert_eq!(all["counts"]["open"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inbox_and_conversation_pages_work_for_an_agent() {
    let app = TestApp::new().await;
    let empty = app.page(Role::Agent, "GET", "/inbox", None).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.text().contains("id=\"inbox-empty\""));
    let first = intake(&app, &euc_kr_mail("page@example.com")).await;
    let id = first["conversation_id"].as_i64().unwrap();
    let list = app.page(Role::Agent, "GET", "/inbox", None).await.text();
    assert!(list.contains(&format!("href=\"/inbox/{id}\"")), "{list}");
    assert!(list.contains("배송 문의") && list.contains("김민준"));

    let csrf = app.csrf(Role::Agent).to_string();
    let note = app
        .page(
            Role::Agent,
            "POST",
            &format!("/inbox/{id}/messages"),
            Some(&format!(
                "csrf={csrf}&action=note&text=%ED%83%9D%EB%B0%B0%EC%82%AC+%ED%99%95%EC%9D%B8"
            )),
        )
        .await;
    assert_eq!(note.status, StatusCode::SEE_OTHER, "{}", note.text());
    let agent = app.user_ids[&Role::Agent];
    let state = app
        .page(
            Role::Agent,
            "POST",
            &format!("/inbox/{id}/state"),
            Some(&format!(
                "csrf={csrf}&status=resolved&priority=high&assignee_id={agent}&team_id=0&snooze_hours=&labels=%EB%B0%B0%EC%86%A1"
            )),
        )
        .await;
    assert_eq!(state.status, StatusCode::SEE_OTHER, "{}", state.text());
    let page = app
        .page(Role::Agent, "GET", &format!("/inbox/{id}"), None)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("class=\"msg-incoming\""), "{html}");
    assert!(html.contains("class=\"msg-note\"") && html.contains("택배사 확인"));
    assert!(html.contains("Status changed to Resolved"), "{html}");
    assert!(html.contains("Assigned to Test agent"), "{html}");
    assert!(html.contains("id=\"customer-panel\"") && html.contains("minjun@example.com"));
    assert!(html.contains("value=\"배송\""), "labels kept: {html}");
    // Without the CSRF token nothing changes.
    let forged = app
        .page(
            Role::Agent,
            "POST",
            &format!("/inbox/{id}/messages"),
            Some("action=reply&text=hi"),
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.page(Role::Viewer, "GET", "/inbox", None).await.status,
        StatusCode::FORBIDDEN
    );
}

fn kst(s: &str) -> i64 {
    s.parse::<jiff::Zoned>()
        .unwrap()
        .timestamp()
        .as_millisecond()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sla_breach_in_business_hours_alerts_in_the_thread_by_webhook_and_mail() {
    // Created Fri 16:30, first response within 1 working hour, Mon–Fri 9–17 → due Mon 09:30.
    let clock = std::sync::Arc::new(nunchi_app::TestClock::at(kst(
        "2026-11-27T16:30:00+09:00[Asia/Seoul]",
    )));
    let app = TestApp::with_clock(clock.clone()).await;
    let bad = app
        .api(
            Some(Role::Admin),
            "POST",
            "/api/v1/sla-policies",
            Some(json!({"name": "x", "first_response_minutes": 60, "business_hours": "mon-fri 9-17"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text());
    assert_eq!(bad.json()["error"]["code"], "invalid_business_hours");
    let agent_may_not = app
        .api(
            Some(Role::Agent),
            "POST",
            "/api/v1/sla-policies",
            Some(json!({"name": "x", "first_response_minutes": 60})),
        )
        .await;
    assert_eq!(agent_may_not.status, StatusCode::FORBIDDEN);
    let policy = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/sla-policies",
            Some(json!({
                "name": "평일 응대", "first_response_minutes": 60, "resolution_minutes": 960,
                "business_hours": "mon-fri 09:00-17:00", "time_zone": "Asia/Seoul"
            })),
        )
        .await;
    assert_eq!(policy.status, StatusCode::CREATED, "{}", policy.text());
    let hook = app
        .api(
            Some(Role::Admin),
            "POST",
            "/api/v1/webhooks",
            Some(
                json!({"url": "http://127.0.0.1:9/hooks", "events": ["conversation.sla_breached"]}),
            ),
        )
        .await;
    assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.text());

    let first = intake(&app, &euc_kr_mail("sla@example.com")).await;
    let id = first["conversation_id"].clone();
    let agent = app.user_ids[&Role::Agent];
    app.api(
        Some(Role::Agent),
        "PATCH",
        &format!("/api/v1/conversations/{id}"),
        Some(json!({"assignee_id": agent})),
    )
    .await;
    let conversation = get_conversation(&app, &id).await;
    assert_eq!(
        conversation["first_response_due_at"],
        kst("2026-11-30T09:30:00+09:00[Asia/Seoul]")
    );
    assert_eq!(
        conversation["resolution_due_at"],
        kst("2026-12-01T16:30:00+09:00[Asia/Seoul]")
    );

    let (_stop, stop_rx) = tokio::sync::watch::channel(false);
    nunchi_app::jobs::spawn_runner(app.state.app.clone(), "w".into(), stop_rx, |_, _| {});
    // The weekend passes with no reply: nothing is breached before Monday 09:30 …
    clock
        .advance(kst("2026-11-30T09:29:00+09:00[Asia/Seoul]") - nunchi_app::Clock::now_ms(&*clock));
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let none = app
        .api(Some(Role::Agent), "GET", "/api/v1/sla-breaches", None)
        .await
        .json();
    assert_eq!(none, json!([]));
    // … and at 09:31 the first-response deadline is missed.
    clock.advance(2 * 60_000);
    let breaches = eventually("the breach", async || {
        let b = app
            .api(Some(Role::Agent), "GET", "/api/v1/sla-breaches", None)
            .await
            .json();
        (!b.as_array().unwrap().is_empty()).then_some(b)
    })
    .await;
    assert_eq!(breaches[0]["metric"], "first_response");
    assert_eq!(breaches[0]["conversation_id"], id);
    // The check records the breach, then writes the thread's line and queues the alerts:
    // wait for each rather than reading mid-check.
    eventually("the breach's line in the thread", async || {
        thread(&app, &id)
            .await
            .iter()
            .any(|m| m["direction"] == "activity" && m["text"] == "sla_breached=first_response")
            .then_some(())
    })
    .await;
    eventually("the webhook and the assignee's e-mail queued", async || {
        let jobs = jobs(&app).await;
        let jobs = jobs.as_array()?;
        let webhook = jobs.iter().any(|j| {
            j["kind"] == "webhook"
                && j["payload"]
                    .as_str()
                    .unwrap()
                    .contains("conversation.sla_breached")
        });
        let mail = jobs.iter().any(|j| {
            j["kind"] == "email" && j["payload"].as_str().unwrap().contains("agent@test.local")
        });
        (webhook && mail).then_some(())
    })
    .await;

    // A late reply does not record the same breach twice; pending pauses resolution.
    let reply = app
        .api(
            Some(Role::Agent),
            "POST",
            &format!("/api/v1/conversations/{id}/messages"),
            Some(json!({"text": "늦어서 죄송합니다", "note": false})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let after = get_conversation(&app, &id).await;
    assert_eq!(after["status"], "pending");
    assert_eq!(after["first_response_due_at"], Value::Null);
    assert_eq!(
        after["resolution_due_at"],
        Value::Null,
        "paused while pending"
    );
    assert!(after["resolution_left_minutes"].as_i64().unwrap() > 0);
    let breaches = app
        .api(Some(Role::Agent), "GET", "/api/v1/sla-breaches", None)
        .await
        .json();
    assert_eq!(breaches.as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managers_set_sla_policies_on_their_page() {
    let app = TestApp::new().await;
    let empty = app
        .page(Role::Agent, "GET", "/inbox/sla", None)
        .await
        .text();
    assert!(empty.contains("id=\"sla-empty\"") && !empty.contains("id=\"new-sla\""));
    let csrf = app.csrf(Role::Manager).to_string();
    let form = format!(
        "csrf={csrf}&name=%ED%8F%89%EC%9D%BC&team_id=&priority=urgent&first_response_minutes=30\
         &next_response_minutes=&resolution_minutes=480&business_hours=mon-fri+09%3A00-18%3A00\
         &time_zone=Asia%2FSeoul&korean_holidays=1"
    );
    let added = app
        .page(Role::Manager, "POST", "/inbox/sla", Some(&form))
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.text());
    let page = app
        .page(Role::Manager, "GET", "/inbox/sla", None)
        .await
        .text();
    assert!(
        page.contains("id=\"sla-policies\"") && page.contains("평일"),
        "{page}"
    );
    assert!(page.contains("mon-fri 09:00-18:00 · Asia/Seoul"), "{page}");
    let agent_csrf = app.csrf(Role::Agent).to_string();
    let refused = app
        .page(
            Role::Agent,
            "POST",
            "/inbox/sla",
            Some(&format!(
                "csrf={agent_csrf}&name=x&first_response_minutes=5"
            )),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let policies = app
        .api(Some(Role::Agent), "GET", "/api/v1/sla-policies", None)
        .await
        .json();
    assert_eq!(policies.as_array().unwrap().len(), 1);
    assert_eq!(policies[0]["priority"], "urgent");
    assert_eq!(policies[0]["korean_holidays"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn searching_the_inbox_finds_two_syllable_korean_and_filters() {
    let app = TestApp::new().await;
    let refund = intake(
        &app,
        "From: a@example.com\r\nSubject: =?UTF-8?B?7ZmY67aI?=\r\nMessage-ID: <s1@x>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n환불해 주세요".as_bytes(),
    )
    .await;
    let late = intake(
        &app,
        "From: b@example.com\r\nSubject: late\r\nMessage-ID: <s2@x>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n배송이 늦어요".as_bytes(),
    )
    .await;
    let search = |q: &str| {
        let path = format!(
            "/api/v1/conversations?{}",
            serde_urlencoded::to_string([("q", q)]).unwrap()
        );
        let app = &app;
        async move {
            let r = app.api(Some(Role::Agent), "GET", &path, None).await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
            r.json()["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|row| row["conversation"]["id"].clone())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        search("환불").await,
        vec![refund["conversation_id"].clone()]
    );
    assert_eq!(
        search("늦어요").await,
        vec![late["conversation_id"].clone()]
    );
    assert!(search("교환").await.is_empty());
    let r = app
        .api(
            Some(Role::Agent),
            "GET",
            "/api/v1/conversations?status=resolved&q=%ED%99%98%EB%B6%88",
            None,
        )
        .await
        .json();
    assert!(
        r["rows"].as_array().unwrap().is_empty(),
        "filters still apply: {r}"
    );
    let page = app
        .page(Role::Agent, "GET", "/inbox?q=%EB%B0%B0%EC%86%A1", None)
        .await
        .text();
    assert!(
        page.contains("배송이 늦어요") && !page.contains("환불해 주세요"),
        "{page}"
    );
    let none = app
        .page(Role::Agent, "GET", "/inbox?q=zzz", None)
        .await
        .text();
    assert!(none.contains("id=\"inbox-no-match\""));
    let long = "가".repeat(201);
    let too_long = app
        .api(
            Some(Role::Agent),
            "GET",
            &format!(
                "/api/v1/conversations?{}",
                serde_urlencoded::to_string([("q", long.as_str())]).unwrap()
            ),
            None,
        )
        .await;
    assert_eq!(too_long.status, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_support_report_measures_response_and_resolution_times() {
    let clock = std::sync::Arc::new(nunchi_app::TestClock::at(kst(
        "2026-11-30T10:00:00+09:00[Asia/Seoul]",
    )));
    let app = TestApp::with_clock(clock.clone()).await;
    let empty = app.page(Role::Agent, "GET", "/inbox/reports", None).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(empty.text().contains("id=\"report-empty\""));
    let mut ids = vec![];
    for (i, reply_after_min) in [(1, 30), (2, 90)] {
        let mail =
            format!("From: r{i}@example.com\r\nSubject: q{i}\r\nMessage-ID: <r{i}@x>\r\n\r\nhello");
        ids.push(intake(&app, mail.as_bytes()).await["conversation_id"].clone());
        clock.advance(reply_after_min * 60_000);
        let r = app
            .api(
                Some(Role::Agent),
                "POST",
                &format!("/api/v1/conversations/{}/messages", ids[ids.len() - 1]),
                Some(json!({"text": "답변드립니다"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED);
    }
    // Now 12:00; the first (opened 10:00) is resolved at 12:30, 150 minutes in.
    clock.advance(30 * 60_000);
    let r = app
        .api(
            Some(Role::Agent),
            "PATCH",
            &format!("/api/v1/conversations/{}", ids[0]),
            Some(json!({"status": "resolved"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let report = app
        .api(
            Some(Role::Agent),
            "GET",
            "/api/v1/support/report?from=2026-11-29",
            None,
        )
        .await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.text());
    let o = &report.json()["overall"];
    assert_eq!(o["conversations"], 2);
    assert_eq!(o["replied"], 2);
    assert_eq!(o["first_response_median_secs"], 30 * 60);
    assert_eq!(o["first_response_p90_secs"], 90 * 60);
    assert_eq!(o["resolved"], 1);
    assert_eq!(o["still_open"], 1);
    assert_eq!(o["resolution_median_secs"], 150 * 60, "{o}");
    assert_eq!(
        o["sla_hit_rate"],
        Value::Null,
        "no policy, nothing measured"
    );
    let page = app
        .page(Role::Agent, "GET", "/inbox/reports?from=2026-11-29", None)
        .await
        .text();
    assert!(
        page.contains("id=\"report-overall\"") && page.contains("svg"),
        "{page}"
    );
    assert!(
        page.contains("id=\"report-channels\"") && page.contains("E-mail"),
        "{page}"
    );
    let csv = app
        .page(
            Role::Agent,
            "GET",
            "/inbox/reports.csv?from=2026-11-29",
            None,
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    let text = csv.text();
    assert!(text.starts_with('\u{feff}'));
    assert!(
        text.contains("channel,email,2,1,1,1800,5400,9000,9000"),
        "{text}"
    );
    assert!(text.contains("agent,,2,"), "nobody was assigned: {text}");
    let bad = app
        .api(
            Some(Role::Agent),
            "GET",
            "/api/v1/support/report?from=yesterday",
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_logged_by_a_telephony_system_join_the_customers_history() {
    let app = TestApp::new().await;
    let log = |body: Value| {
        let app = &app;
        async move {
            app.api(Some(Role::Agent), "POST", "/api/v1/calls", Some(body))
                .await
        }
    };
    let agent = app.user_ids[&Role::Agent];
    let call = json!({
        "direction": "inbound", "number": "010-5555-1234", "agent_id": agent,
        "started_at": "2026-11-30T10:00:00+09:00", "ended_at": "2026-11-30T10:04:12+09:00",
        "outcome": "answered", "recording_url": "https://pbx.example.com/rec/1.mp3",
        "notes": "배송 지연 문의, 내일 재발송 안내", "call_id": "pbx-1"
    });
    let first = log(call.clone()).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    let first = first.json();
    assert_eq!(
        log(call.clone()).await.json(),
        first,
        "the same call id is stored once"
    );
    let customer = app
        .api(
            Some(Role::Agent),
            "GET",
            &format!("/api/v1/customers/{}", first["customer_id"]),
            None,
        )
        .await
        .json();
    assert!(customer.to_string().contains("+821055551234"), "{customer}");

    // A call back joins the same open conversation.
    let back = log(json!({"direction": "outbound", "number": "+82 10 5555 1234", "outcome": "missed", "call_id": "pbx-2"}))
        .await
        .json();
    assert_eq!(back["conversation_id"], first["conversation_id"]);
    let lines = thread(&app, &first["conversation_id"]).await;
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["channel"], "phone");
    assert_eq!(lines[0]["direction"], "incoming");
    assert_eq!(lines[1]["direction"], "outgoing");
    let page = app
        .page(
            Role::Agent,
            "GET",
            &format!("/inbox/{}", first["conversation_id"]),
            None,
        )
        .await
        .text();
    assert!(
        page.contains("Inbound call +821055551234") && page.contains("answered"),
        "{page}"
    );
    assert!(page.contains("https://pbx.example.com/rec/1.mp3") && page.contains("내일 재발송"));

    for (field, value, code) in [
        ("direction", json!("sideways"), "invalid_call_direction"),
        ("outcome", json!("exploded"), "invalid_call_outcome"),
        ("number", json!("not a number"), "invalid_phone"),
        (
            "recording_url",
            json!("javascript:alert(1)"),
            "invalid_recording_url",
        ),
        (
            "ended_at",
            json!("2026-11-30T09:00:00+09:00"),
            "invalid_ended_at",
        ),
    ] {
        let mut bad = call.clone();
        bad[field] = value;
        bad["call_id"] = json!(format!("bad-{field}"));
        let r = log(bad).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{field}: {}", r.text());
        assert_eq!(r.json()["error"]["code"], code, "{field}");
    }
    assert_eq!(
        app.api(Some(Role::Viewer), "POST", "/api/v1/calls", Some(call))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn balanced_assignment_respects_away_caps_and_tells_managers_when_nobody_can() {
    let app = TestApp::new().await;
    let (agent, manager, admin) = (
        app.user_ids[&Role::Agent],
        app.user_ids[&Role::Manager],
        app.user_ids[&Role::Admin],
    );
    let put = |path: String, body: Value, role: Role| {
        let app = &app;
        async move { app.api(Some(role), "PUT", &path, Some(body)).await }
    };
    // An agent may step away themselves, not others.
    let own = put(
        "/api/v1/me/availability".into(),
        json!({"max_open": 2}),
        Role::Agent,
    )
    .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text());
    let others = put(
        format!("/api/v1/agents/{manager}/availability"),
        json!({"away": true}),
        Role::Agent,
    )
    .await;
    assert_eq!(others.status, StatusCode::FORBIDDEN);
    let bad = put(
        format!("/api/v1/agents/{agent}/availability"),
        json!({"working_hours": "mon 25:00-26:00"}),
        Role::Manager,
    )
    .await;
    assert_eq!(bad.json()["error"]["code"], "invalid_business_hours");
    for who in [manager, admin] {
        let r = put(
            format!("/api/v1/agents/{who}/availability"),
            json!({"away": true}),
            Role::Manager,
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
    }
    let mode = put(
        "/api/v1/assignment".into(),
        json!({"mode": "balanced"}),
        Role::Manager,
    )
    .await;
    assert_eq!(mode.status, StatusCode::OK, "{}", mode.text());
    assert_eq!(mode.json()["mode"], "balanced");
    assert_eq!(
        put(
            "/api/v1/assignment".into(),
            json!({"mode": "random"}),
            Role::Manager
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );

    // Only the agent is on duty, and they take two at most.
    let mut assigned = vec![];
    for i in 0..3 {
        let mail =
            format!("From: c{i}@example.com\r\nSubject: q{i}\r\nMessage-ID: <as{i}@x>\r\n\r\nhi");
        let id = intake(&app, mail.as_bytes()).await["conversation_id"].clone();
        let c = get_conversation(&app, &id).await;
        assigned.push((id, c["assignee_id"].clone()));
    }
    assert_eq!(assigned[0].1, agent);
    assert_eq!(assigned[1].1, agent);
    assert_eq!(
        assigned[2].1,
        Value::Null,
        "over the cap and everyone else away: it waits"
    );
    let waiting = thread(&app, &assigned[2].0).await;
    assert!(
        waiting.iter().any(|m| m["text"] == "unassigned_no_agent"),
        "{waiting:?}"
    );
    let jobs = jobs(&app).await;
    assert!(
        jobs.as_array().unwrap().iter().any(|j| j["kind"] == "email"
            && j["payload"]
                .as_str()
                .unwrap()
                .contains("manager@test.local")),
        "the managers are told: {jobs}"
    );
    let page = app
        .page(Role::Manager, "GET", "/inbox/sla", None)
        .await
        .text();
    assert!(
        page.contains("id=\"agents\"") && page.contains("selected>Balanced"),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolving_asks_for_csat_and_the_answer_joins_the_feedback_stream() {
    let app = TestApp::new().await;
    let first = intake(&app, &euc_kr_mail("csat@example.com")).await;
    let id = first["conversation_id"].clone();
    let agent = app.user_ids[&Role::Agent];
    let r = app
        .api(
            Some(Role::Agent),
            "PATCH",
            &format!("/api/v1/conversations/{id}"),
            Some(json!({"assignee_id": agent, "status": "resolved"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let jobs = jobs(&app).await;
    let mail = jobs
        .as_array()
        .unwrap()
        .iter()
        .find(|j| {
            j["kind"] == "email"
                && j["payload"]
                    .as_str()
                    .unwrap()
                    .contains("minjun@example.com")
        })
        .expect("the CSAT e-mail is queued")["payload"]
        .as_str()
        .unwrap()
        .to_string();
    let mail: Value = serde_json::from_str(&mail).unwrap();
    let text = mail["text"].as_str().unwrap();
    assert!(
        mail["subject"]
            .as_str()
            .unwrap()
            .contains("상담은 어떠셨나요"),
        "{mail}"
    );
    let start = text.find("/csat/").expect("a link");
    let token: String = text[start + 6..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();

    let page = app
        .send(
            axum::http::Request::builder()
                .uri(format!("/csat/{token}?rating=5"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(
        html.contains("받으신 상담에 얼마나 만족하셨나요")
            && html.contains("value=\"5\" id=\"rating-5\" checked"),
        "{html}"
    );
    let post = |body: &'static str| {
        let app = &app;
        let token = token.clone();
        async move {
            app.send(
                axum::http::Request::builder()
                    .method("POST")
                    .uri(format!("/csat/{token}"))
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await
        }
    };
    let bad = post("rating=9").await;
    assert!(bad.text().contains("1부터 5 중에서"), "{}", bad.text());
    let done = post("rating=5&comment=%EC%B9%9C%EC%A0%88%ED%96%88%EC%96%B4%EC%9A%94").await;
    assert!(done.text().contains("id=\"csat-done\""));
    let again = post("rating=1").await;
    assert!(
        again.text().contains("id=\"csat-done\""),
        "a second answer changes nothing"
    );

    let feedback = app
        .api(
            Some(Role::Agent),
            "GET",
            "/api/v1/feedback?source=support",
            None,
        )
        .await
        .json();
    let items = feedback["items"]
        .as_array()
        .or(feedback.as_array())
        .unwrap()
        .clone();
    assert_eq!(items.len(), 1, "{feedback}");
    assert_eq!(items[0]["metric"], "csat");
    assert_eq!(items[0]["rating"], 5.0);
    assert_eq!(items[0]["body"], "친절했어요");
    let lines = thread(&app, &id).await;
    assert!(lines.iter().any(|m| m["text"] == "csat=5"), "{lines:?}");
    let report = app
        .api(
            Some(Role::Agent),
            "GET",
            "/api/v1/support/report?from=2000-01-01",
            None,
        )
        .await
        .json();
    assert_eq!(report["overall"]["csat_responses"], 1);
    assert_eq!(report["by_agent"][0]["stats"]["csat"], 1.0, "{report}");
    assert_eq!(report["by_agent"][0]["name"], "Test agent", "{report}");
    let unknown = app
        .send(
            axum::http::Request::builder()
                .uri("/csat/not-a-token")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_that_mentions_a_colleague_tells_them() {
    let app = TestApp::new().await;
    let first = intake(&app, &euc_kr_mail("mention@example.com")).await;
    let r = app
        .api(
            Some(Role::Agent),
            "POST",
            &format!("/api/v1/conversations/{}/messages", first["conversation_id"]),
            Some(json!({"text": "@manager 환불 승인 부탁드려요 (@nobody, agent@test.local)", "note": true})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let jobs = jobs(&app).await;
    let mails: Vec<String> = jobs
        .as_array()
        .unwrap()
        .iter()
        .filter(|j| j["kind"] == "email")
        .map(|j| j["payload"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(
        mails[0].contains("manager@test.local") && mails[0].contains("mentioned you"),
        "{mails:?}"
    );
    assert!(mails[0].contains(&format!("/inbox/{}", first["conversation_id"])));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canned_replies_fill_in_the_customers_language() {
    let app = TestApp::new().await;
    let create = |body: Value| {
        let app = &app;
        async move {
            app.api(Some(Role::Manager), "POST", "/api/v1/macros", Some(body))
                .await
        }
    };
    let m = create(json!({
        "shortcut": "/delay", "name": "배송 지연 사과",
        "body_ko": "{{customer_name}}님, 배송이 늦어 죄송합니다. 담당 {{agent_name}} 드림",
        "body_en": "Sorry for the wait, {{customer_name}}."
    }))
    .await;
    assert_eq!(m.status, StatusCode::CREATED, "{}", m.text());
    let m = m.json();
    assert_eq!(m["shortcut"], "delay");
    let unknown =
        create(json!({"shortcut": "x", "name": "x", "body_en": "Hi {{first_name}}"})).await;
    assert_eq!(unknown.json()["error"]["code"], "invalid_template");
    let taken = create(json!({"shortcut": "delay", "name": "again", "body_en": "x"})).await;
    assert_eq!(taken.json()["error"]["code"], "invalid_shortcut");
    assert_eq!(
        app.api(
            Some(Role::Agent),
            "POST",
            "/api/v1/macros",
            Some(json!({"shortcut": "a", "name": "a", "body_en": "a"}))
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );

    let first = intake(&app, &euc_kr_mail("macro@example.com")).await;
    let id = first["conversation_id"].clone();
    let filled = app
        .api(
            Some(Role::Agent),
            "GET",
            &format!("/api/v1/conversations/{id}/macros/{}", m["id"]),
            None,
        )
        .await;
    assert_eq!(filled.status, StatusCode::OK, "{}", filled.text());
    let filled = filled.json();
    assert_eq!(filled["lang"], "ko");
    assert_eq!(
        filled["text"],
        "김민준님, 배송이 늦어 죄송합니다. 담당 Test agent 드림"
    );
    let page = app
        .page(
            Role::Agent,
            "GET",
            &format!("/inbox/{id}?macro={}", m["id"]),
            None,
        )
        .await
        .text();
    assert!(
        page.contains("김민준님, 배송이 늦어 죄송합니다. 담당 Test agent 드림</textarea>"),
        "{page}"
    );
    assert!(page.contains("/delay · 배송 지연 사과"));
    let settings = app
        .page(Role::Manager, "GET", "/inbox/sla", None)
        .await
        .text();
    assert!(settings.contains("id=\"macro-list\"") && settings.contains("/delay"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_token_with_only_the_inbox_write_scope_can_add_mail_and_nothing_else() {
    let app = TestApp::new().await;
    let token = nunchi_server::auth::secret::new_api_token();
    app.state
        .store
        .create_api_token(
            app.user_ids[&Role::Agent],
            "relay",
            &nunchi_server::auth::secret::hash(&token),
            &token[..10],
            "inbox:write",
        )
        .await
        .unwrap();
    let send = |method: &str, path: &str, content_type: &str, body: Vec<u8>| {
        Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap()
    };
    let r = app
        .send(send(
            "POST",
            "/api/v1/inbound/email",
            "message/rfc822",
            euc_kr_mail("relay@x"),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let ids = r.json();
    let read = app
        .send(send(
            "GET",
            &format!("/api/v1/conversations/{}/messages", ids["conversation_id"]),
            "application/json",
            vec![],
        ))
        .await;
    assert_eq!(
        read.status,
        StatusCode::FORBIDDEN,
        "a relay cannot read the inbox"
    );
}

#[tokio::test]
async fn unread_counts_are_per_colleague_and_drop_when_the_thread_is_read() {
    let app = TestApp::new().await;
    let first = intake(&app, &euc_kr_mail("unread-1@example.com")).await;
    let id = first["conversation_id"].as_i64().unwrap();
    let unread = |role: Role| {
        let app = &app;
        async move {
            let list = app
                .api(Some(role), "GET", "/api/v1/conversations?status=all", None)
                .await
                .json();
            list["rows"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["conversation"]["id"] == id)
                .map(|r| r["unread"].as_i64().unwrap())
                .expect("the conversation is listed")
        }
    };
    assert_eq!(
        (unread(Role::Agent).await, unread(Role::Manager).await),
        (1, 1)
    );
    let page = app.page(Role::Agent, "GET", "/inbox", None).await;
    assert!(
        page.text().contains("unread-count"),
        "the inbox shows the count"
    );

    // The agent opens the thread: read for them, still unread for the manager.
    let r = app
        .page(Role::Agent, "GET", &format!("/inbox/{id}"), None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        (unread(Role::Agent).await, unread(Role::Manager).await),
        (0, 1)
    );

    // The agent's own note is not unread; the customer's next two mails are.
    let note = app
        .api(
            Some(Role::Agent),
            "POST",
            &format!("/api/v1/conversations/{id}/messages"),
            Some(json!({"text": "확인 중", "note": true})),
        )
        .await;
    assert!(note.status.is_success(), "{}", note.text());
    assert_eq!(unread(Role::Agent).await, 0);
    for n in 1..=2 {
        let reply = format!(
            "From: minjun@example.com\r\nSubject: Re: 배송\r\n\
             Message-ID: <unread-reply-{n}@example.com>\r\n\
             In-Reply-To: <unread-1@example.com>\r\n\r\n아직인가요 {n}"
        );
        assert_eq!(intake(&app, reply.as_bytes()).await["conversation_id"], id);
    }
    assert_eq!(
        (unread(Role::Agent).await, unread(Role::Manager).await),
        (2, 3)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follow_up_becomes_a_conversation_its_owner_answers() {
    let app = TestApp::new().await;
    let agent = app.user_ids[&Role::Agent];
    let customer = app
        .customer(json!({"external_id": "FU-1", "name": "최지우", "email": "jiwoo@example.com", "language": "ko"}))
        .await;
    let rule = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/loop-rules",
            Some(
                json!({"name": "Detractors", "max_score": 0.6, "owner_id": agent, "due_hours": 24}),
            ),
        )
        .await;
    assert_eq!(rule.status, StatusCode::CREATED, "{}", rule.text());
    support::add_feedback(
        &app,
        json!([
            {"source": "survey", "metric": "nps", "rating": 2, "text": "배송이 너무 늦어요", "customer_id": customer},
            // No customer to answer: the follow-up stays alone.
            {"source": "survey", "metric": "nps", "rating": 1, "text": "별로예요"}
        ]),
    )
    .await;
    let opened = support::follow_ups(&app, 2).await;
    let (_stop, stop_rx) = tokio::sync::watch::channel(false);
    nunchi_app::jobs::spawn_runner(app.state.app.clone(), "w".into(), stop_rx, |_, _| {});
    let linked = eventually("the follow-up's conversation", async || {
        let list = app
            .api(Some(Role::Agent), "GET", "/api/v1/follow-ups", None)
            .await
            .json();
        let with: Vec<i64> = list
            .as_array()?
            .iter()
            .filter_map(|f| f["conversation_id"].as_i64())
            .collect();
        (!with.is_empty()).then_some(with)
    })
    .await;
    assert_eq!(linked.len(), 1, "only the customer's feedback: {opened:?}");
    let c = get_conversation(&app, &json!(linked[0])).await;
    assert_eq!(
        (
            c["channel"].as_str(),
            c["assignee_id"].as_i64(),
            c["customer_id"].as_i64()
        ),
        (Some("email"), Some(agent), Some(customer)),
        "{c}"
    );
    let lines = thread(&app, &json!(linked[0])).await;
    assert_eq!(lines[0]["direction"], "incoming");
    assert_eq!(lines[0]["text"], "배송이 너무 늦어요");
    assert!(
        lines.iter().any(|l| l["direction"] == "activity"
            && l["text"]
                .as_str()
                .is_some_and(|t| t.starts_with("follow_up="))),
        "{lines:?}"
    );
    let page = app
        .page(Role::Agent, "GET", "/follow-ups", None)
        .await
        .text();
    assert!(
        page.contains(&format!("href=\"/inbox/{}\"", linked[0])),
        "the follow-up links it"
    );
    // One conversation in all: the follow-up without a customer opened none.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let all = app
        .api(
            Some(Role::Agent),
            "GET",
            "/api/v1/conversations?status=all",
            None,
        )
        .await
        .json();
    assert_eq!(all["rows"].as_array().unwrap().len(), 1, "{all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follow_up_job_retried_after_a_crash_opens_no_second_conversation() {
    use nunchi_app::jobs::Job;
    let app = TestApp::new().await;
    let customer = app
        .customer(json!({"external_id": "FU-2", "name": "한소희", "email": "sohee@example.com"}))
        .await;
    let rule = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/loop-rules",
            Some(json!({"name": "Detractors", "max_score": 0.6, "due_hours": 24})),
        )
        .await;
    assert_eq!(rule.status, StatusCode::CREATED, "{}", rule.text());
    support::add_feedback(
        &app,
        json!([{"source": "survey", "metric": "nps", "rating": 1, "text": "환불이 안 돼요", "customer_id": customer}]),
    )
    .await;
    let opened = support::follow_ups(&app, 1).await;
    let follow_up = opened[0]["id"].as_i64().unwrap();
    let feedback_id = opened[0]["feedback_id"].as_i64().unwrap();
    // A first run that opened the conversation and died before linking it.
    let (earlier, _) = app
        .state
        .store
        .create_conversation(
            &nunchi_store::model::NewConversation {
                customer_id: customer,
                channel: nunchi_core::conversation::ConversationChannel::Email,
                subject: "고객 의견".into(),
                priority: nunchi_core::conversation::Priority::High,
                team_id: None,
            },
            &nunchi_store::model::NewMessage {
                direction: nunchi_core::conversation::MessageDirection::Incoming,
                channel: nunchi_core::conversation::ConversationChannel::Email,
                author_user_id: None,
                text: "환불이 안 돼요".into(),
                external_id: Some(nunchi_app::follow_up_conversations::first_line_id(
                    &app.state.app,
                    follow_up,
                )),
                subject: None,
                delivery: None,
                at: None,
                client_id: None,
            },
        )
        .await
        .unwrap();
    let retried = nunchi_app::follow_up_conversations::FollowUpConversationJob { feedback_id }
        .run(&app.state.app)
        .await
        .unwrap();
    assert!(!retried.is_empty());
    let linked = app.state.store.follow_up_for(feedback_id).await.unwrap();
    assert_eq!(linked.conversation_id, Some(earlier.id), "{retried}");
    let all = app
        .api(
            Some(Role::Agent),
            "GET",
            "/api/v1/conversations?status=all",
            None,
        )
        .await
        .json();
    assert_eq!(all["rows"].as_array().unwrap().len(), 1, "{all}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skills_route_by_language_and_channel_and_only_managers_set_them() {
    let app = TestApp::new().await;
    let (agent, manager, admin) = (
        app.user_ids[&Role::Agent],
        app.user_ids[&Role::Manager],
        app.user_ids[&Role::Admin],
    );
    let put = |path: String, body: Value, role: Role| {
        let app = &app;
        async move { app.api(Some(role), "PUT", &path, Some(body)).await }
    };
    assert_eq!(
        put(
            "/api/v1/assignment".into(),
            json!({"mode": "round_robin"}),
            Role::Manager
        )
        .await
        .status,
        StatusCode::OK
    );
    // The admin stays out; the agent speaks English; the manager takes phone calls.
    put(
        format!("/api/v1/agents/{admin}/availability"),
        json!({"away": true}),
        Role::Manager,
    )
    .await;
    let set = put(
        format!("/api/v1/agents/{agent}/availability"),
        json!({"skills": "EN, refund"}),
        Role::Manager,
    )
    .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text());
    assert_eq!(set.json()["skills"], "en, refund");
    put(
        format!("/api/v1/agents/{manager}/availability"),
        json!({"skills": "phone"}),
        Role::Manager,
    )
    .await;
    let bad = put(
        format!("/api/v1/agents/{manager}/availability"),
        json!({"skills": "two words"}),
        Role::Manager,
    )
    .await;
    assert_eq!(bad.json()["error"]["code"], "invalid_skills");
    // An agent changing their own row cannot give themselves skills.
    let own = put(
        "/api/v1/me/availability".into(),
        json!({"skills": "phone, vip"}),
        Role::Agent,
    )
    .await;
    assert_eq!(own.json()["skills"], "en, refund", "{}", own.text());

    let english = app
        .customer(json!({"external_id": "EN-1", "email": "amy@example.com", "language": "en"}))
        .await;
    assert!(english > 0);
    let mail = |from: &str, id: &str| {
        format!("From: {from}\r\nSubject: help\r\nMessage-ID: <{id}>\r\n\r\nhello").into_bytes()
    };
    // Round-robin would alternate; the English customer's mail goes to the English speaker
    // every time.
    for i in 0..3 {
        let id =
            intake(&app, &mail("amy@example.com", &format!("en-{i}@x"))).await["conversation_id"]
                .clone();
        assert_eq!(
            get_conversation(&app, &id).await["assignee_id"],
            agent,
            "mail {i}"
        );
    }
    // Korean is nobody's skill, so it requires nothing; e-mail is not phone.
    let ko = intake(&app, &mail("minji@example.com", "ko-1@x")).await["conversation_id"].clone();
    assert!(get_conversation(&app, &ko).await["assignee_id"].is_i64());
    // A call goes to the one who takes calls.
    let call = app
        .api(
            Some(Role::Agent),
            "POST",
            "/api/v1/calls",
            Some(
                json!({"call_id": "c-1", "direction": "inbound", "number": "010-1234-5678",
                        "started_at": "2026-12-07T10:00:00+09:00", "outcome": "answered"}),
            ),
        )
        .await;
    assert_eq!(call.status, StatusCode::OK, "{}", call.text());
    let c = get_conversation(&app, &call.json()["conversation_id"]).await;
    assert_eq!(c["assignee_id"], manager, "{c}");

    // With the English speaker away, English mail waits rather than going to someone
    // without the language.
    put(
        format!("/api/v1/agents/{agent}/availability"),
        json!({"away": true, "skills": "en, refund"}),
        Role::Manager,
    )
    .await;
    let waits = intake(&app, &mail("amy@example.com", "en-9@x")).await["conversation_id"].clone();
    assert_eq!(
        get_conversation(&app, &waits).await["assignee_id"],
        Value::Null
    );
    let page = app
        .page(Role::Manager, "GET", "/inbox/sla", None)
        .await
        .text();
    assert!(
        page.contains("value=\"en, refund\""),
        "the skills are on the page"
    );
}
