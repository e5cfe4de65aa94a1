//! Regression tests, each named after the defect it pins (the fix-first issue: events
//! dropped after a `200`, one order taking the dashboard down, floods through public
//! endpoints, erasure leaving data behind, merges leaving history behind, a broken quote
//! swallowing CSV rows). `scripts/test.sh` runs them on SQLite and on PostgreSQL.

mod support;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use nunchi_core::access::Role;
use nunchi_server::ratelimit::LimitSettings;
use serde_json::{Value, json};
use support::{
    Reply, TestApp, create, nps_survey, segment, send_batch, token_of, track, write_key,
};

async fn stored_message_ids(app: &TestApp) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after = 0;
    loop {
        let page = app.state.store.events_page(after, 10_000).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.id;
        ids.extend(page.into_iter().map(|e| e.message_id));
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_events_with_similar_message_ids_are_never_dropped() {
    let app = TestApp::new().await;
    let key = write_key(&app, None).await;
    // The pair the probe found: both acknowledged, only the first stored.
    for id in ["order-109", "order-182"] {
        let body = json!({"userId": "U-1", "event": "purchase", "messageId": id, "timestamp": "2026-11-01T10:00:00Z"});
        let r = track(&app, &key, body).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    // Structured business ids the way server-side senders make them.
    let mut sent: Vec<String> = vec!["order-109".into(), "order-182".into()];
    for n in 0..1500 {
        sent.push(format!("order-{}", n + 1000));
        sent.push(format!("evt-{n:07}"));
        sent.push(format!("user:{}:event:{}", n / 40, n % 40));
        sent.push(format!("user{}:event{}", n / 40, n % 40));
    }
    for chunk in sent[2..].chunks(500) {
        let batch: Vec<Value> = chunk
            .iter()
            .map(|id| json!({"type": "track", "userId": "U-1", "event": "view", "messageId": id, "timestamp": "2026-11-01T10:00:00Z"}))
            .collect();
        send_batch(&app, &key, batch).await;
    }
    // A true retry is still stored once.
    let again = json!({"userId": "U-1", "event": "purchase", "messageId": "order-182", "timestamp": "2026-11-01T10:00:00Z"});
    track(&app, &key, again).await;
    let mut stored = stored_message_ids(&app).await;
    stored.sort();
    sent.sort();
    assert_eq!(
        stored.len(),
        sent.len(),
        "every acknowledged event is stored once"
    );
    assert_eq!(stored, sent);
}

async fn orders(app: &TestApp, lines: Value) -> Reply {
    app.api(
        Some(Role::Admin),
        "POST",
        "/api/v1/orders",
        Some(json!({ "lines": lines })),
    )
    .await
}

fn line(order: &str, product: &str, price: &str, qty: i64) -> Value {
    json!({"order_id": order, "customer_external_id": "C-1", "placed_at": "2026-05-01T10:00:00+09:00",
           "product": product, "unit_price": price, "quantity": qty})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_absurd_order_line_cannot_take_the_dashboard_down() {
    let app = TestApp::new().await;
    let customer = app
        .customer(json!({"external_id": "C-1", "name": "김하늘"}))
        .await;
    let ok = orders(&app, json!([line("O-1", "크림", "32000", 2)])).await;
    assert_eq!(ok.json()["accepted"], 1, "{}", ok.text());
    for bad in [
        json!([line("O-2", "크림", "9223372036854775807", 1)]),
        json!([
            line("O-3", "크림", "5000000000000000000", 1),
            line("O-3", "토너", "5000000000000000000", 1)
        ]),
        json!([line("O-4", "크림", "-100", 1)]),
        json!([line("O-5", "크림", "100000000000000", 2)]),
        json!([
            line("O-6", "크림", "60000000000000", 1),
            line("O-6", "토너", "60000000000000", 1)
        ]),
    ] {
        let r = orders(&app, bad.clone()).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.text());
        assert_eq!(r.json()["error"]["code"], "invalid_amount");
    }
    // An unreadable price is one bad line among good ones, as before.
    let mixed = orders(
        &app,
        json!([
            line("O-8", "크림", "abc", 1),
            line("O-9", "토너", "1000", 1)
        ]),
    )
    .await;
    assert_eq!(mixed.status, StatusCode::OK, "{}", mixed.text());
    assert_eq!(mixed.json()["accepted"], 1);
    assert_eq!(mixed.json()["errors"][0]["line"], 1);
    // An order may not grow past the ceiling across requests either.
    let first = orders(&app, json!([line("O-7", "크림", "100000000000000", 1)])).await;
    assert_eq!(first.json()["accepted"], 1, "{}", first.text());
    let second = orders(&app, json!([line("O-7", "토너", "1", 1)])).await;
    assert_eq!(second.json()["accepted"], 0, "{}", second.text());
    assert!(second.text().contains("order"), "{}", second.text());
    let stored = app.state.store.orders_of(customer).await.unwrap();
    assert_eq!(
        stored.len(),
        3,
        "nothing of the refused requests was written"
    );
    assert!(stored.iter().all(|o| o.row.total_minor >= 0));

    // Rows an older version stored wrapped or huge must not break the aggregate either.
    nunchi_store::testing::execute_raw(
        &app.db_url,
        &format!(
            "INSERT INTO orders (external_id, customer_id, status, currency, channel, total_minor, refunded_minor, placed_at, created_at) VALUES \
             ('LEGACY-1', {customer}, 'paid', 'KRW', 'web', 9223372036854775807, 0, 0, 0), \
             ('LEGACY-2', {customer}, 'paid', 'KRW', 'web', 5000000000000000000, 0, 0, 0), \
             ('LEGACY-3', {customer}, 'paid', 'KRW', 'web', -9223372036854775807, 0, 0, 0)"
        ),
    )
    .await
    .unwrap();
    let revenue = app.state.store.revenue_by_channel().await.unwrap();
    let web = revenue
        .iter()
        .find(|(c, cur, _)| c == "web" && cur == "KRW");
    assert!(web.is_some(), "{revenue:?}");
    for role in [Role::Admin, Role::Viewer] {
        let page = app.page(role, "GET", "/", None).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.text());
    }
}

/// A request from `ip` (the test app trusts `X-Forwarded-For`), without credentials.
async fn from(
    app: &TestApp,
    ip: &str,
    method: &str,
    path: &str,
    ctype: &str,
    body: String,
) -> Reply {
    app.send(
        Request::builder()
            .method(method)
            .uri(path)
            .header("x-forwarded-for", ip)
            .header(header::CONTENT_TYPE, ctype)
            .body(Body::from(body))
            .unwrap(),
    )
    .await
}

fn assert_limited(r: &Reply) {
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text());
    let wait: u64 = r.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait >= 1, "Retry-After {wait}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_flooding_public_endpoints_are_answered_429() {
    let app = TestApp::with_settings(|s| {
        s.limits = LimitSettings {
            public_per_minute: 40,
            responses_per_minute: 3,
            survey_responses_per_minute: 5,
            tracking_per_second: 2,
            trust_forwarded_for: true,
        }
    })
    .await;
    let survey = create(&app, nps_survey(json!({}))).await;
    let link = format!("/s/{}", survey["key"].as_str().unwrap());
    let form = "application/x-www-form-urlencoded";
    let answer = || "q=nps&answer=0&lang=ko".to_string();

    // Per address: three new responses from A, then 429.
    for _ in 0..3 {
        let r = from(&app, "198.51.100.1", "POST", &link, form, answer()).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    }
    assert_limited(&from(&app, "198.51.100.1", "POST", &link, form, answer()).await);
    // Per survey: five in all, whoever sends them.
    let display = format!(
        "/api/public/surveys/{}/display",
        survey["key"].as_str().unwrap()
    );
    let widget = |visitor: &str| json!({"anonymous_id": visitor}).to_string();
    for v in ["v1", "v2"] {
        let r = from(
            &app,
            "198.51.100.2",
            "POST",
            &display,
            "text/plain",
            widget(v),
        )
        .await;
        assert_eq!(r.json()["show"], true, "{}", r.text());
    }
    let r = from(
        &app,
        "198.51.100.2",
        "POST",
        &display,
        "text/plain",
        widget("v3"),
    )
    .await;
    assert_limited(&r);
    assert_eq!(
        r.headers["access-control-allow-origin"], "*",
        "the widget can read it"
    );
    assert_limited(&from(&app, "198.51.100.3", "POST", &link, form, answer()).await);

    // Every page and endpoint a stranger reaches counts against the address.
    let mut codes = Vec::new();
    for _ in 0..41 {
        codes.push(
            from(&app, "198.51.100.4", "GET", &link, form, String::new())
                .await
                .status,
        );
    }
    assert!(
        codes[..40].iter().all(|c| *c == StatusCode::OK),
        "{codes:?}"
    );
    assert_eq!(codes[40], StatusCode::TOO_MANY_REQUESTS);
    // Guessing API tokens is limited the same way.
    let guess = || {
        Request::builder()
            .uri("/api/v1/customers")
            .header("x-forwarded-for", "198.51.100.5")
            .header(header::AUTHORIZATION, "Bearer nk_guess")
            .body(Body::empty())
            .unwrap()
    };
    for _ in 0..40 {
        assert_eq!(app.send(guess()).await.status, StatusCode::UNAUTHORIZED);
    }
    assert_limited(&app.send(guess()).await);
    // Signed-in staff are not counted.
    for _ in 0..45 {
        let r = app
            .api(Some(Role::Viewer), "GET", "/api/v1/surveys", None)
            .await;
        assert_eq!(r.status, StatusCode::OK);
    }

    // The tracking API, per address and write key: a burst of 20 at 2 per second.
    let key = write_key(&app, None).await;
    let calls = (0..20).map(|i| {
        let body = json!({"userId": "U-9", "event": "visit", "messageId": format!("m{i}")});
        let basic = base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{key}:"),
        );
        app.send(
            Request::post("/v1/track")
                .header("x-forwarded-for", "198.51.100.6")
                .header(header::AUTHORIZATION, format!("Basic {basic}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
    });
    let replies = futures_util::future::join_all(calls).await;
    let limited: Vec<&Reply> = replies
        .iter()
        .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert!(replies.iter().any(|r| r.status == StatusCode::OK));
    assert!(!limited.is_empty(), "some of a burst of 20 are refused");
    assert_limited(limited[0]);
    assert_eq!(limited[0].json()["code"], "rate_limited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_answers_are_marked_in_scores_and_tokens_answer_once() {
    let app = TestApp::new().await;
    app.customer(json!({"external_id": "KNOWN-1", "name": "이알려"}))
        .await;
    let survey = create(&app, nps_survey(json!({}))).await;
    let key = survey["key"].as_str().unwrap();
    let widget = |body: Value| {
        let key = key.to_string();
        let app = &app;
        async move {
            support::public(app, &format!("/api/public/surveys/{key}/display"), body)
                .await
                .json()
        }
    };
    // A known customer answers in the widget, twice over the same token.
    let shown = widget(json!({"customer": "KNOWN-1"})).await;
    let token = shown["token"].as_str().unwrap().to_string();
    let path = format!("/api/public/responses/{token}");
    let r = support::public(&app, &path, json!({"question": "nps", "answer": 10})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = support::public(
        &app,
        &path,
        json!({"question": "liked", "answer": ["fast"]}),
    )
    .await;
    assert_eq!(r.json()["complete"], true, "{}", r.text());
    let again = support::public(&app, &path, json!({"question": "nps", "answer": 0})).await;
    assert_eq!(
        again.status,
        StatusCode::CONFLICT,
        "one answer per respondent token"
    );
    // A stranger answers through the bare link.
    let r = support::form(&app, &format!("/s/{key}"), "q=nps&answer=0&lang=ko").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let location = r.headers[header::LOCATION].to_str().unwrap();
    let replay = support::form(
        &app,
        &format!("/s/{key}"),
        &format!("t={}&q=nps&answer=0&lang=ko", token_of(location)),
    )
    .await;
    assert_ne!(
        replay.status,
        StatusCode::SEE_OTHER,
        "the answered question is not taken twice"
    );

    let all = app
        .api(Some(Role::Viewer), "GET", "/api/v1/scores?metric=nps", None)
        .await
        .json();
    assert_eq!(all["overall"]["responses"], 2, "{all}");
    assert_eq!(all["anonymous"], 1, "{all}");
    let known = app
        .api(
            Some(Role::Viewer),
            "GET",
            "/api/v1/scores?metric=nps&respondents=known",
            None,
        )
        .await
        .json();
    assert_eq!(known["overall"]["responses"], 1, "{known}");
    assert_eq!(known["overall"]["value"], 100.0, "{known}");
    assert_eq!(known["anonymous"], 0);
    let page = app
        .page(Role::Viewer, "GET", "/voc?respondents=known", None)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text()
            .contains("name=\"respondents\" value=\"known\" checked")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasure_leaves_no_personal_data_behind() {
    let app = TestApp::new().await;
    let key = write_key(&app, None).await;
    // Each value below is unique to this person, so finding it anywhere is a leak.
    let (ext, email, phone, name, anon, ip, words) = (
        "ERASE-zq7x",
        "erase.zq7x@example.com",
        "010-5737-2911",
        "나지움",
        "anon-zq7x",
        "203.0.113.73",
        "성수동 zq7x호로 보내주세요",
    );
    let customer = app
        .customer(json!({"external_id": ext, "name": name, "email": email, "phone": phone}))
        .await;
    let calls = [
        (
            "page",
            json!({"anonymousId": anon, "messageId": "e1", "name": "Home", "context": {"ip": ip}}),
        ),
        (
            "identify",
            json!({"userId": ext, "anonymousId": anon, "messageId": "e2",
                           "traits": {"email": email, "phone": phone, "name": name}, "context": {"ip": ip}}),
        ),
        (
            "track",
            json!({"userId": ext, "messageId": "e3", "event": "purchase",
                        "properties": {"address": words}, "context": {"ip": ip}}),
        ),
    ];
    for (call, body) in calls {
        let r = segment(&app, Some(&key), call, body.to_string().into_bytes(), false).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    let survey = create(&app, nps_survey(json!({}))).await;
    let shown = support::public(
        &app,
        &format!(
            "/api/public/surveys/{}/display",
            survey["key"].as_str().unwrap()
        ),
        json!({"customer": ext}),
    )
    .await
    .json();
    let answer = format!("/api/public/responses/{}", shown["token"].as_str().unwrap());
    for (q, a) in [("nps", json!(2)), ("why", json!(words))] {
        let r = support::public(&app, &answer, json!({"question": q, "answer": a})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    let fb = app
        .api(
            Some(Role::Admin),
            "POST",
            "/api/v1/feedback",
            Some(
                json!({"feedback": [{"source": "review", "rating": 1, "customer_external_id": ext,
                                      "text": format!("{name}입니다. {email}로 연락 주세요")}]}),
            ),
        )
        .await;
    assert_eq!(fb.status, StatusCode::OK, "{}", fb.text());
    let note = app
        .api(
            Some(Role::Admin),
            "POST",
            &format!("/api/v1/customers/{customer}/notes"),
            Some(json!({"body": format!("{name} 고객, {phone}로 회신")})),
        )
        .await;
    assert!(note.status.is_success(), "{}", note.text());
    // A mail waiting in the queue for them must not go out after the erasure.
    nunchi_app::jobs::enqueue(
        &app.state,
        &nunchi_app::mail::EmailJob {
            to: email.into(),
            subject: "배송 안내".into(),
            text: format!("{name}님, {words}"),
        },
    )
    .await
    .unwrap();

    let r = app
        .api(
            Some(Role::Admin),
            "DELETE",
            &format!("/api/v1/customers/{customer}"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());

    let needles = [ext, email, "57372911", "5737-2911", name, anon, ip, "zq7x"];
    for needle in needles {
        let tables = nunchi_store::testing::tables_containing(&app.db_url, needle)
            .await
            .unwrap();
        assert!(tables.is_empty(), "{needle:?} is still in {tables:?}");
    }
    // SQLite: not in the file either, nor in its write-ahead log or free pages.
    if let Some(path) = app.db_url.strip_prefix("sqlite:") {
        let dir = std::path::Path::new(path).parent().unwrap();
        for entry in std::fs::read_dir(dir).unwrap() {
            let file = entry.unwrap().path();
            let bytes = std::fs::read(&file).unwrap();
            for needle in needles {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                    "{needle:?} is still in {}",
                    file.display()
                );
            }
        }
    }
    // Nor readable through the API, nor held by the live engine.
    let events = app
        .api(
            Some(Role::Admin),
            "GET",
            &format!("/api/v1/customers/{customer}/events"),
            None,
        )
        .await;
    assert_eq!(events.status, StatusCode::OK);
    for needle in needles {
        assert!(
            !events.text().contains(needle),
            "{needle:?} in {}",
            events.text()
        );
    }
    assert_eq!(app.state.events.engine.read().unwrap().linked(anon), None);
    // The aggregates keep the anonymised history: three events and the rating.
    assert_eq!(stored_message_ids(&app).await.len(), 3);
    let scores = app
        .api(Some(Role::Viewer), "GET", "/api/v1/scores?metric=nps", None)
        .await
        .json();
    assert_eq!(scores["overall"]["responses"], 1, "{scores}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merging_moves_survey_history_and_live_analytics_at_once() {
    let app = TestApp::new().await;
    let key = write_key(&app, None).await;
    let a = app
        .customer(json!({"external_id": "MERGE-A", "name": "김중복"}))
        .await;
    let b = app
        .customer(json!({"external_id": "MERGE-B", "name": "김중복"}))
        .await;
    for (user, id) in [("MERGE-A", "a1"), ("MERGE-A", "a2"), ("MERGE-B", "b1")] {
        let body = json!({"userId": user, "event": "visit", "messageId": id});
        track(&app, &key, body).await;
    }
    let survey = create(&app, nps_survey(json!({"repeat": "once"}))).await;
    let display = format!(
        "/api/public/surveys/{}/display",
        survey["key"].as_str().unwrap()
    );
    let shown = support::public(&app, &display, json!({"customer": "MERGE-A"}))
        .await
        .json();
    assert_eq!(shown["show"], true, "{shown}");

    let r = app
        .api(
            Some(Role::Admin),
            "POST",
            &format!("/api/v1/customers/{b}/merge"),
            Some(json!({"source_id": a})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    // The survivor inherits the survey history: "show once" holds across the merge.
    let again = support::public(&app, &display, json!({"customer": "MERGE-B"}))
        .await
        .json();
    assert_eq!(again["show"], false, "{again}");
    // The engine moved A's events to B without a restart, and later events for A's user
    // id (the cache knew A) land on B, in the engine and in the table.
    let body = json!({"userId": "MERGE-A", "event": "purchase", "messageId": "a3"});
    track(&app, &key, body).await;
    {
        let engine = app.state.events.engine.read().unwrap();
        let mut scratch = Vec::new();
        let slots = engine.slots_of(&[b]);
        let slot = (0..engine.log.customers())
            .find(|s| slots.contains(*s))
            .unwrap();
        assert_eq!(engine.log.run(slot, &mut scratch).len(), 4);
        let old = engine.slots_of(&[a]);
        for s in (0..engine.log.customers()).filter(|s| old.contains(*s)) {
            assert!(engine.log.run(s, &mut scratch).is_empty());
        }
    }
    let last = app.state.store.events_page(0, 100).await.unwrap();
    assert_eq!(last.last().unwrap().customer_id, Some(b));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unmatched_csv_quote_is_reported_and_the_following_rows_import() {
    let app = TestApp::new().await;
    let customers = "external_id,name,email\nQ-1,Kim,q1@example.com\nQ-2,\"Lee,q2@example.com\nQ-3,Park,q3@example.com\nQ-4,Choi,q4@example.com\nQ-5,Jung,q5@example.com\n";
    let report = nunchi_app::import::import_customers(
        app.state.store.clone(),
        Box::new(std::io::Cursor::new(customers.as_bytes().to_vec())),
        false,
        "test",
        &|_| {},
    )
    .await
    .unwrap();
    assert_eq!(
        (report.rows, report.imported, report.rejected),
        (5, 4, 1),
        "{report:?}"
    );
    assert_eq!(report.errors[0].line, 3);
    assert!(report.errors[0].reason.contains("quote"), "{report:?}");

    let feedback = "source,rating,text\nreview,5,좋아요\nreview,1,\"배송이 늦어요\nreview,4,\"괜찮아요\"\nreview,2,별로\nreview,5,\"여러 줄\n후기\"\n";
    let r = app
        .send(
            Request::post("/api/v1/feedback/import")
                .header(header::AUTHORIZATION, app.bearer(Role::Admin))
                .header(header::CONTENT_TYPE, "text/csv")
                .body(Body::from(feedback))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let report = r.json();
    assert_eq!(
        (report["created"].as_u64(), report["rejected"].as_u64()),
        (Some(4), Some(1)),
        "{report}"
    );
    let rejected = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["error"].is_string())
        .unwrap();
    assert_eq!(rejected["at"], 3, "{report}");
}
