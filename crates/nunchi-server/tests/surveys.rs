//! Surveys end to end: built over the API, answered through the public link (partial
//! responses kept, skip logic followed, answers turned into feedback), shown by the
//! widget under the fatigue rules with every refusal explained, sent by e-mail after an
//! event to a real SMTP server, and the closed loop's e-mail and signed webhooks received
//! by real peers on loopback.

mod support;

use axum::http::{StatusCode, header};
use std::sync::Arc;

use nunchi_core::access::Role;
use serde_json::{Value, json};
use support::{
    Peer, TestApp, create, eventually, form, get, mailbox, nps_survey, public, token_of, with_smtp,
};

async fn survey_feedback(app: &TestApp) -> Vec<Value> {
    app.api(
        Some(Role::Viewer),
        "GET",
        "/api/v1/feedback?source=survey",
        None,
    )
    .await
    .json()
    .as_array()
    .unwrap()
    .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_link_keeps_partial_answers_follows_skip_logic_and_feeds_the_stream() {
    let app = TestApp::new().await;
    let bad = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/surveys",
            Some(nps_survey(json!({"questions": [{"id": "a", "kind": "single", "text": {"en": "?"}, "choices": [{"id": "x", "en": "only one"}]}]}))),
        )
        .await;
    assert_eq!(bad.json()["error"]["code"], "invalid_questions");
    let agent = app
        .api(
            Some(Role::Agent),
            "POST",
            "/api/v1/surveys",
            Some(nps_survey(json!({}))),
        )
        .await;
    assert_eq!(
        agent.status,
        StatusCode::FORBIDDEN,
        "agents do not build surveys"
    );
    let s = create(&app, nps_survey(json!({}))).await;
    let key = s["key"].as_str().unwrap();
    assert!(s["link"].as_str().unwrap().ends_with(&format!("/s/{key}")));

    // A detractor: NPS 3, then the "what went wrong" question, answered later.
    let page = get(&app, &format!("/s/{key}?lang=ko")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("추천하시겠어요?"), "{}", page.text());
    let missing = form(&app, &format!("/s/{key}"), "t=&q=nps&lang=ko").await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.text().contains("이 질문에 답해 주세요"));
    let r = form(&app, &format!("/s/{key}"), "t=&q=nps&lang=ko&answer=3").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let location = r.headers[header::LOCATION].to_str().unwrap().to_string();
    let token = token_of(&location);
    let next = get(&app, &location).await;
    assert!(
        next.text().contains("무엇이 아쉬웠나요?"),
        "skip logic: NPS 3 asks why"
    );

    let results = app
        .api(
            Some(Role::Viewer),
            "GET",
            &format!("/api/v1/surveys/{}/results", s["id"]),
            None,
        )
        .await
        .json();
    assert_eq!(
        (
            results["started"].as_u64(),
            results["completed"].as_u64(),
            results["partial"].as_u64()
        ),
        (Some(1), Some(0), Some(1)),
        "the partial response is kept: {results}"
    );
    let fb = survey_feedback(&app).await;
    assert_eq!(fb.len(), 1, "the rating is in the stream at once");
    assert_eq!(
        (fb[0]["metric"].as_str(), fb[0]["rating"].as_f64()),
        (Some("nps"), Some(3.0))
    );
    assert_eq!(fb[0]["channel"], "web");

    let done = form(
        &app,
        &format!("/s/{key}"),
        &format!("t={token}&q=why&lang=ko&answer=%EB%B0%B0%EC%86%A1%EC%9D%B4+%EB%84%88%EB%AC%B4+%EB%8A%A6%EC%97%88%EC%96%B4%EC%9A%94"),
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    let thanks = get(&app, done.headers[header::LOCATION].to_str().unwrap()).await;
    assert!(thanks.text().contains("survey-done"), "{}", thanks.text());
    let again = form(
        &app,
        &format!("/s/{key}"),
        &format!("t={token}&q=why&answer=x"),
    )
    .await;
    assert_ne!(
        again.status,
        StatusCode::SEE_OTHER,
        "a complete response takes no more answers"
    );
    let fb = survey_feedback(&app).await;
    assert_eq!(fb.len(), 1, "the text joins the rating, not a second item");
    assert_eq!(fb[0]["body"], "배송이 너무 늦었어요");

    // A promoter skips to "what did you like" and picks two choices.
    let r = form(&app, &format!("/s/{key}"), "t=&q=nps&lang=en&answer=10").await;
    let location = r.headers[header::LOCATION].to_str().unwrap().to_string();
    assert!(
        get(&app, &location)
            .await
            .text()
            .contains("What did you like?")
    );
    let token = token_of(&location);
    let r = form(
        &app,
        &format!("/s/{key}"),
        &format!("t={token}&q=liked&answer=fast&answer=price"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);

    let results = app
        .api(
            Some(Role::Viewer),
            "GET",
            &format!("/api/v1/surveys/{}/results", s["id"]),
            None,
        )
        .await
        .json();
    assert_eq!(results["completed"].as_u64(), Some(2));
    let nps = &results["questions"][0];
    assert_eq!(
        nps["score"].as_f64(),
        Some(0.0),
        "one promoter, one detractor: {nps}"
    );
    let liked = &results["questions"][2];
    assert_eq!(liked["counts"], json!([["fast", 1], ["price", 1]]));
    assert_eq!(
        results["questions"][1]["latest"],
        json!(["배송이 너무 늦었어요"])
    );

    // Closing the survey closes the link.
    let mut closed = nps_survey(json!({"status": "closed"}));
    closed["name"] = json!("구매 후 NPS");
    let r = app
        .api(
            Some(Role::Manager),
            "PUT",
            &format!("/api/v1/surveys/{}", s["id"]),
            Some(closed),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(
        get(&app, &format!("/s/{key}?lang=en"))
            .await
            .text()
            .contains("This survey is closed")
    );
    assert_eq!(
        get(&app, "/s/no-such-key").await.status,
        StatusCode::NOT_FOUND
    );
    // The list counts started and completed responses: two of each, not the empty one the
    // unanswered first post opened.
    let list = app.page(Role::Viewer, "GET", "/surveys", None).await.text();
    assert!(list.contains("<td>2</td><td>2</td>"), "{list}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_respects_fatigue_rules_and_explains_every_refusal() {
    let app = TestApp::new().await;
    app.customer(json!({"name": "정우성", "external_id": "W-1", "email": "woo@example.com"}))
        .await;
    let once = create(&app, nps_survey(json!({"repeat": "once", "min_days": 0}))).await;
    let other = create(
        &app,
        nps_survey(json!({"name": "배송 만족도", "min_days": 14})),
    )
    .await;
    let nobody = create(
        &app,
        nps_survey(json!({"name": "표본 0%", "sample_rate": 0.0})),
    )
    .await;
    let display = |key: &str, who: Value| {
        let app = &app;
        let path = format!("/api/public/surveys/{key}/display");
        async move { public(app, &path, who).await }
    };
    let first = display(
        once["key"].as_str().unwrap(),
        json!({"customer": "W-1", "lang": "en"}),
    )
    .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    assert_eq!(first.headers["access-control-allow-origin"], "*");
    let shown = first.json();
    assert_eq!(
        (shown["show"].as_bool(), shown["first"].as_str()),
        (Some(true), Some("nps"))
    );
    assert_eq!(shown["questions"][0]["text"], "Would you recommend us?");
    let token = shown["token"].as_str().unwrap();
    let step = public(
        &app,
        &format!("/api/public/responses/{token}"),
        json!({"question": "nps", "answer": 9}),
    )
    .await;
    assert_eq!(
        step.json(),
        json!({"next": "liked", "complete": false}),
        "{}",
        step.text()
    );
    let wrong = public(
        &app,
        &format!("/api/public/responses/{token}"),
        json!({"question": "nps", "answer": 9}),
    )
    .await;
    assert_eq!(wrong.json()["error"]["code"], "not_current_question");

    // Shown once: not again. Surveyed moments ago: the 14-day survey waits.
    let again = display(
        once["key"].as_str().unwrap(),
        json!({"customer": "W-1", "lang": "en"}),
    )
    .await
    .json();
    assert_eq!(
        (again["show"].as_bool(), again["reason"].as_str()),
        (Some(false), Some("already_shown"))
    );
    let soon = display(
        other["key"].as_str().unwrap(),
        json!({"customer": "W-1", "lang": "ko"}),
    )
    .await
    .json();
    assert_eq!(soon["reason"], "too_soon");
    assert_eq!(soon["explanation"], "미표시: 0일 전에 설문함");
    let sampled = display(
        nobody["key"].as_str().unwrap(),
        json!({"anonymous_id": "visitor-9"}),
    )
    .await
    .json();
    assert_eq!(sampled["reason"], "sampled_out");

    // The brand's cap counts every survey that reached the person.
    let r = app
        .api(
            Some(Role::Manager),
            "PUT",
            "/api/v1/survey-settings",
            Some(json!({"global_cap": 1})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let capped = create(
        &app,
        nps_survey(json!({"name": "상한", "repeat": "always"})),
    )
    .await;
    let c = display(capped["key"].as_str().unwrap(), json!({"customer": "W-1"}))
        .await
        .json();
    assert_eq!(
        (c["reason"].as_str(), c["explanation"].as_str()),
        (
            Some("global_cap"),
            Some("미표시: 30일 동안 이미 1번 설문함")
        )
    );
    let fresh = display(
        capped["key"].as_str().unwrap(),
        json!({"anonymous_id": "visitor-1"}),
    )
    .await
    .json();
    assert_eq!(fresh["show"], true, "{fresh}");

    let contacts = app
        .api(
            Some(Role::Viewer),
            "GET",
            &format!("/api/v1/surveys/{}/contacts", other["id"]),
            None,
        )
        .await
        .json();
    assert_eq!(contacts[0]["status"], "suppressed");
    assert_eq!(
        contacts[0]["explanation_en"],
        "not shown: surveyed 0 days ago"
    );
    let tallies = app
        .api(
            Some(Role::Viewer),
            "GET",
            &format!("/api/v1/surveys/{}/results", once["id"]),
            None,
        )
        .await
        .json()["contacts"]
        .clone();
    assert_eq!(
        tallies,
        json!([
            {"status": "shown", "reason": null, "count": 1, "explanation_en": null, "explanation_ko": null},
            {"status": "suppressed", "reason": "already_shown", "count": 1,
             "explanation_en": "not shown: this survey is shown once", "explanation_ko": "미표시: 한 번만 보여 주는 설문"}
        ])
    );
    let page = app
        .page(
            Role::Viewer,
            "GET",
            &format!("/surveys/{}", other["id"]),
            None,
        )
        .await;
    assert!(
        page.text().contains("not shown: surveyed recently"),
        "{}",
        page.text()
    );
    assert_eq!(
        public(
            &app,
            "/api/public/surveys/nope/display",
            json!({"anonymous_id": "x"})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        public(
            &app,
            &format!(
                "/api/public/surveys/{}/display",
                once["key"].as_str().unwrap()
            ),
            json!({})
        )
        .await
        .json()["error"]["code"],
        "unknown_visitor"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_sends_the_survey_by_email_to_a_real_smtp_server() {
    let Some((mail_dir, _smtp, app)) = with_smtp().await else {
        return;
    };
    let buyer = app
        .customer(json!({"name": "한지민", "external_id": "E-1", "email": "jimin@example.com", "language": "ko"}))
        .await;
    app.customer(json!({"name": "메일없음", "external_id": "E-2"}))
        .await;
    let s = create(
        &app,
        nps_survey(json!({"trigger_event": "purchase", "trigger_delay_hours": 0})),
    )
    .await;
    // The first pass sets the trigger cursor; only events after it count.
    nunchi_app::surveys::dispatch_once(&app.state)
        .await
        .unwrap();
    let now = jiff::Timestamp::now().to_string();
    let r = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/events",
            Some(json!({"events": [
                {"userId": "E-1", "event": "purchase", "timestamp": now, "messageId": "p1"},
                {"userId": "E-2", "event": "purchase", "timestamp": now, "messageId": "p2"},
                {"userId": "E-1", "event": "view_product", "timestamp": now, "messageId": "v1"},
            ]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let settled = nunchi_app::surveys::dispatch_once(&app.state)
        .await
        .unwrap();
    assert_eq!(settled, 2, "one sent, one without an address");
    assert_eq!(
        nunchi_app::surveys::dispatch_once(&app.state)
            .await
            .unwrap(),
        0,
        "once per event"
    );

    let mails = eventually("the invitation", async || {
        let m = mailbox(mail_dir.path());
        (!m.is_empty()).then_some(m)
    })
    .await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert!(mail.contains("X-Envelope-To: jimin@example.com"), "{mail}");
    let link_start = mail
        .find("https://cx.example.com/s/")
        .expect("the survey link");
    let link: String = mail[link_start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    assert!(
        link.contains(s["key"].as_str().unwrap()) && link.contains("lang=ko"),
        "{link}"
    );

    // The link answers as that customer.
    let path = link.trim_start_matches("https://cx.example.com");
    assert!(get(&app, path).await.text().contains("추천하시겠어요?"));
    let token = token_of(path);
    let r = form(
        &app,
        &format!("/s/{}", s["key"].as_str().unwrap()),
        &format!("t={token}&q=nps&answer=4"),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let fb = survey_feedback(&app).await;
    assert_eq!(
        (fb[0]["customer_id"].as_i64(), fb[0]["channel"].as_str()),
        (Some(buyer), Some("email"))
    );

    let contacts = app
        .api(
            Some(Role::Viewer),
            "GET",
            &format!("/api/v1/surveys/{}/contacts", s["id"]),
            None,
        )
        .await
        .json();
    let statuses: Vec<(&str, Option<&str>)> = contacts
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["status"].as_str().unwrap(), c["explanation_en"].as_str()))
        .collect();
    assert!(statuses.contains(&("sent", None)), "{statuses:?}");
    assert!(
        statuses.contains(&("suppressed", Some("not sent: no e-mail address"))),
        "{statuses:?}"
    );

    // Sent by hand: the fatigue rules still apply (the customer was surveyed just now).
    let mut resend = nps_survey(json!({"min_days": 7}));
    resend["name"] = json!("재발송");
    let second = create(&app, resend).await;
    let r = app
        .api(
            Some(Role::Manager),
            "POST",
            &format!("/api/v1/surveys/{}/send", second["id"]),
            Some(json!({"customer_ids": [buyer]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.text());
    nunchi_app::surveys::dispatch_once(&app.state)
        .await
        .unwrap();
    let c = app
        .api(
            Some(Role::Viewer),
            "GET",
            &format!("/api/v1/surveys/{}/contacts", second["id"]),
            None,
        )
        .await
        .json();
    assert_eq!(c[0]["reason"], "too_soon", "{c}");
    assert_eq!(mailbox(mail_dir.path()).len(), 1, "nothing more was sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_loop_actions_reach_a_real_smtp_server_and_a_signed_webhook_receiver() {
    let Some((mail_dir, _smtp, app)) = with_smtp().await else {
        return;
    };
    let (_stop, stop_rx) = tokio::sync::watch::channel(false);
    nunchi_app::jobs::spawn_runner(app.state.app.clone(), "test".into(), stop_rx, |_, _| {});

    let created = app
        .api(
            Some(Role::Admin),
            "POST",
            "/api/v1/webhooks",
            Some(json!({"url": "http://127.0.0.1:9/placeholder", "events": ["feedback.created", "follow_up.opened", "root_cause.fixed"]})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let secret = created.json()["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(
        app.api(Some(Role::Admin), "GET", "/api/v1/webhooks", None)
            .await
            .json()[0]
            .get("secret"),
        None,
        "the secret is shown once"
    );
    // The receiver checks signatures with that secret and refuses the first delivery,
    // so the job table's retry has to deliver it.
    let hooks_file = tempfile::NamedTempFile::new().unwrap();
    let receiver = Peer::start(
        "webhook_receiver.py",
        &[&secret, hooks_file.path().to_str().unwrap(), "1"],
    );
    // Point the stored webhook at the receiver (the secret stays).
    let hook_id = created.json()["id"].as_i64().unwrap();
    let hook = app.state.store.webhook(hook_id).await.unwrap();
    app.state.store.delete_webhook(hook_id).await.unwrap();
    app.state
        .store
        .create_webhook(
            &format!("http://127.0.0.1:{}/hooks", receiver.port),
            &hook.secret,
            &hook.events,
        )
        .await
        .unwrap();
    let bad = app
        .api(
            Some(Role::Admin),
            "POST",
            "/api/v1/webhooks",
            Some(json!({"url": "ftp://x", "events": ["feedback.created"]})),
        )
        .await;
    assert_eq!(bad.json()["error"]["code"], "invalid_url");

    let rule = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/loop-rules",
            Some(
                json!({"name": "Detractors", "max_score": 0.6, "due_hours": 24,
                        "notify_email": "cx-lead@example.com", "notify_webhook": true}),
            ),
        )
        .await;
    assert_eq!(rule.status, StatusCode::CREATED, "{}", rule.text());
    let vip_rule = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/loop-rules",
            Some(json!({"name": "VIP 불만", "max_score": 0.6, "tag": "vip", "due_hours": 2})),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let customer = app
        .customer(json!({"name": "윤아", "external_id": "L-1", "email": "yoona@example.com", "language": "ko", "tags": ["vip"]}))
        .await;
    let r = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/feedback",
            Some(
                json!({"feedback": [{"source": "review", "rating": 1, "customer_id": customer,
                         "text": "배송이 일주일이나 늦었어요. 너무 화나요"}]}),
            ),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    let mails = eventually("the follow-up notice", async || {
        let m = mailbox(mail_dir.path());
        (!m.is_empty()).then_some(m)
    })
    .await;
    let notice = &mails[0];
    assert!(
        notice.contains("X-Envelope-To: cx-lead@example.com"),
        "{notice}"
    );
    assert!(notice.contains("Detractors"), "{notice}");

    let received = eventually("both signed webhooks, after a retry", async || {
        let lines: Vec<Value> = std::fs::read_to_string(hooks_file.path())
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (lines.len() >= 2).then_some(lines)
    })
    .await;
    let types: Vec<&str> = received
        .iter()
        .map(|m| m["type"].as_str().unwrap())
        .collect();
    assert!(
        types.contains(&"feedback.created") && types.contains(&"follow_up.opened"),
        "{types:?}"
    );
    let opened = received
        .iter()
        .find(|m| m["type"] == "follow_up.opened")
        .unwrap();
    let follow_up = opened["data"]["follow_up_id"]
        .as_i64()
        .expect("the follow-up's id");
    assert_eq!(
        opened["data"]["feedback"]["customer_id"].as_i64(),
        Some(customer)
    );
    let created_fb = received
        .iter()
        .find(|m| m["type"] == "feedback.created")
        .unwrap();
    assert!(
        created_fb["data"]["sentiment"].is_number(),
        "sent after annotation: {created_fb}"
    );

    // The segment rule opened a follow-up for the VIP only.
    let plain = app
        .customer(json!({"name": "일반 고객", "external_id": "L-2"}))
        .await;
    let r = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/feedback",
            Some(json!({"feedback": [{"source": "survey", "metric": "nps", "rating": 0, "customer_id": plain}]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let all = eventually("the second detractor's follow-up", async || {
        let list = app
            .api(Some(Role::Viewer), "GET", "/api/v1/follow-ups", None)
            .await
            .json();
        (list.as_array().unwrap().len() >= 2).then_some(list)
    })
    .await;
    // One follow-up per piece of feedback: the VIP's carries both rules (the VIP rule,
    // due sooner, first), the other customer's only the general one.
    assert_eq!(all.as_array().unwrap().len(), 2, "{all}");
    let vip_follow_ups: Vec<&Value> = all
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_ids"].as_array().unwrap().contains(&json!(vip_rule)))
        .collect();
    assert_eq!(vip_follow_ups.len(), 1, "{all}");
    assert_eq!(vip_follow_ups[0]["rule_id"], vip_rule);

    // A score band: NPS passives (7–8) only.
    let inverted = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/loop-rules",
            Some(json!({"name": "x", "min_score": 0.8, "max_score": 0.7, "due_hours": 2})),
        )
        .await;
    assert_eq!(inverted.json()["error"]["code"], "invalid_min_score");
    let passives = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/loop-rules",
            Some(json!({"name": "Passives", "min_score": 0.7, "max_score": 0.8, "due_hours": 72})),
        )
        .await;
    assert_eq!(passives.status, StatusCode::CREATED, "{}", passives.text());
    let passives = passives.json()["id"].as_i64().unwrap();
    let r = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/feedback",
            Some(json!({"feedback": [
                {"source": "survey", "metric": "nps", "rating": 7, "customer_id": plain},
                {"source": "survey", "metric": "nps", "rating": 9, "customer_id": plain},
                {"source": "survey", "metric": "nps", "rating": 6, "customer_id": plain},
            ]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    eventually("the passive's follow-up", async || {
        let list = app
            .api(Some(Role::Viewer), "GET", "/api/v1/follow-ups", None)
            .await
            .json();
        list.as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule_id"].as_i64() == Some(passives))
            .then_some(())
    })
    .await;
    // Give the rules time to open anything else they would.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let all: Vec<Value> = app
        .api(Some(Role::Viewer), "GET", "/api/v1/follow-ups", None)
        .await
        .json()
        .as_array()
        .unwrap()
        .clone();
    let banded: Vec<&Value> = all
        .iter()
        .filter(|f| f["rule_id"].as_i64() == Some(passives))
        .collect();
    assert_eq!(
        banded.len(),
        1,
        "only the 7 is in the 0.7–0.8 band: {all:?}"
    );

    // Notes, then the page and the report per team.
    let note = app
        .api(
            Some(Role::Agent),
            "POST",
            &format!("/api/v1/follow-ups/{follow_up}/notes"),
            Some(json!({"body": "전화드렸으나 부재중"})),
        )
        .await;
    assert_eq!(note.status, StatusCode::CREATED, "{}", note.text());
    let detail = app
        .api(
            Some(Role::Viewer),
            "GET",
            &format!("/api/v1/follow-ups/{follow_up}"),
            None,
        )
        .await
        .json();
    assert_eq!(detail["notes"][0]["body"], "전화드렸으나 부재중");
    assert_eq!(detail["feedback"]["author"], Value::Null);
    // A rule made on the page, next to the ones made over the API.
    let form = format!(
        "csrf={}&name=Angry+reviews&max_sentiment=-0.5&source=review&due_hours=8&notify_email=",
        app.csrf(Role::Manager)
    );
    let made = app
        .page(Role::Manager, "POST", "/loop-rules", Some(&form))
        .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{}", made.text());
    let rules = app
        .api(Some(Role::Viewer), "GET", "/api/v1/loop-rules", None)
        .await
        .json();
    let angry = rules
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Angry reviews")
        .expect("the page's rule");
    assert_eq!(
        (
            angry["max_sentiment"].as_f64(),
            angry["source"].as_str(),
            angry["due_hours"].as_i64()
        ),
        (Some(-0.5), Some("review"), Some(8))
    );
    let page = app.page(Role::Agent, "GET", "/follow-ups", None).await;
    assert!(
        page.text().contains("전화드렸으나 부재중") && page.text().contains("loop-teams"),
        "{}",
        page.text()
    );
    assert!(
        page.text().contains("Angry reviews") && page.text().contains("Tag vip"),
        "the rules are listed with their conditions"
    );

    // The outer loop: the topic is suggested, tracked, fixed, and the customer told.
    let suggestions = app
        .api(
            Some(Role::Viewer),
            "GET",
            "/api/v1/root-causes/suggestions",
            None,
        )
        .await
        .json();
    let topic = suggestions[0]["topic"]
        .as_str()
        .expect("a suggested topic")
        .to_string();
    assert_eq!(
        suggestions[0]["customers"].as_u64(),
        Some(1),
        "{suggestions}"
    );
    let rc = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/root-causes",
            Some(json!({"topic": topic, "title": "택배사 변경 후 지연"})),
        )
        .await;
    assert_eq!(rc.status, StatusCode::CREATED, "{}", rc.text());
    let rc = rc.json();
    assert_eq!(rc["feedback_count"].as_i64(), Some(1));
    let dup = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/root-causes",
            Some(json!({"topic": topic, "title": "again"})),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    let fixed = app
        .api(
            Some(Role::Manager),
            "POST",
            &format!("/api/v1/root-causes/{}/fix", rc["id"]),
            Some(json!({"note": "예전 택배사로 돌아갔습니다. 이제 이틀 안에 도착합니다.", "notify_customers": true})),
        )
        .await;
    assert_eq!(fixed.status, StatusCode::OK, "{}", fixed.text());
    assert_eq!(
        (
            fixed.json()["status"].as_str(),
            fixed.json()["notified"].as_i64()
        ),
        (Some("fixed"), Some(1))
    );
    let told = eventually("the fix notice", async || {
        mailbox(mail_dir.path())
            .into_iter()
            .find(|m| m.contains("X-Envelope-To: yoona@example.com"))
    })
    .await;
    assert!(
        told.contains("Subject: 말씀해 주신 문제를 고쳤습니다") && told.contains("이틀 안에"),
        "{told}"
    );
    eventually("the root_cause.fixed webhook", async || {
        std::fs::read_to_string(hooks_file.path())
            .unwrap_or_default()
            .contains("root_cause.fixed")
            .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minimum_days_between_surveys_follow_the_app_clock() {
    let clock = Arc::new(nunchi_app::TestClock::at(nunchi_app::clock::system_now_ms()));
    let app = TestApp::with_clock(clock.clone()).await;
    app.customer(json!({"external_id": "CLOCK-1", "name": "시계"}))
        .await;
    let s = create(&app, nps_survey(json!({"repeat": "always", "min_days": 3}))).await;
    let display = format!("/api/public/surveys/{}/display", s["key"].as_str().unwrap());
    let ask = || public(&app, &display, json!({"customer": "CLOCK-1"}));
    assert_eq!(ask().await.json()["show"], true);
    let soon = ask().await.json();
    assert_eq!(
        (soon["show"].clone(), soon["reason"].clone()),
        (json!(false), json!("too_soon")),
        "{soon}"
    );
    clock.advance(2 * 86_400_000);
    assert_eq!(ask().await.json()["show"], false, "two days later");
    clock.advance(86_400_000 + 1_000);
    assert_eq!(
        ask().await.json()["show"],
        true,
        "three days later, without sleeping"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_public_page_shows_stars_for_a_star_rating_and_not_the_teams_survey_name() {
    let app = TestApp::new().await;
    let s = create(
        &app,
        json!({
            "name": "내부용: 2분기 배송 만족도 (팀 전용)",
            "status": "active",
            "questions": [
                {"id": "stars", "kind": "rating", "required": true,
                 "text": {"ko": "배송은 어떠셨나요?", "en": "How was the delivery?"}}
            ]
        }),
    )
    .await;
    let key = s["key"].as_str().unwrap();
    for (lang, heading) in [
        ("ko", "고객님의 의견을 들려주세요"),
        ("en", "Tell us how we did"),
    ] {
        let page = get(&app, &format!("/s/{key}?lang={lang}")).await.text();
        assert!(
            !page.contains("내부용"),
            "the team's name for the survey stays inside"
        );
        assert!(page.contains(heading), "{lang}: {page}");
        for n in 1..=5 {
            assert!(
                page.contains(&format!("<span>{}</span>", "★".repeat(n))),
                "{n} stars: {page}"
            );
        }
        assert!(!page.contains("<span>3</span>"), "stars, not numbers");
    }
    // An NPS question keeps its numbers.
    let nps = create(&app, nps_survey(json!({}))).await;
    let page = get(
        &app,
        &format!("/s/{}?lang=ko", nps["key"].as_str().unwrap()),
    )
    .await
    .text();
    assert!(page.contains("<span>10</span>"));
}
