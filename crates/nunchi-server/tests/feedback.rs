//! The feedback stream in-process: adding feedback by JSON and CSV with bad items
//! reported and good ones kept, idempotent re-sends, asynchronous text annotations,
//! masking, CX scores with margins by period and group, and the journey map's emotion.

mod support;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use nunchi_core::access::Role;
use serde_json::{Value, json};
use support::{TestApp, add_feedback as add, follow_ups};

/// Waits for the background annotator to reach a piece of feedback.
async fn annotated(app: &TestApp, id: i64) -> Value {
    for _ in 0..100 {
        let f = app
            .api(
                Some(Role::Agent),
                "GET",
                &format!("/api/v1/feedback/{id}"),
                None,
            )
            .await
            .json();
        if !f["annotated_at"].is_null() {
            return f;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("feedback {id} was never annotated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feedback_is_validated_stored_once_and_annotated() {
    let app = TestApp::new().await;
    let customer = app
        .customer(json!({"name": "최유나", "external_id": "C-9", "email": "yuna@example.com"}))
        .await;
    let report = add(
        &app,
        json!([
            {"source": "review", "external_id": "R-1", "rating": 1, "text": "배송이 일주일이나 늦었어요. 너무 화나요",
             "customer_external_id": "C-9", "author": "최유나", "url": "https://shop.example.com/r/1",
             "created_at": "2026-11-20T10:00:00+09:00"},
            {"source": "survey", "metric": "nps", "rating": 11},
            {"source": "fax", "rating": 3},
            {"source": "survey", "metric": "csat", "rating": 5, "customer_id": 999999},
            {"source": "social", "text": "The serum is lovely and arrived fast!", "channel": "social"},
            {"source": "app_store", "rating": 4, "scale_min": 1, "scale_max": 5, "stage": "nowhere"},
        ]),
    )
    .await;
    assert_eq!(
        (report["created"].as_u64(), report["rejected"].as_u64()),
        (Some(2), Some(4)),
        "{report}"
    );
    let results = report["results"].as_array().unwrap();
    let reason = |i: usize| results[i]["error"].as_str().unwrap_or("").to_string();
    assert!(reason(1).contains("off the 0–10 scale"), "{}", reason(1));
    assert!(reason(2).contains("unknown source"), "{}", reason(2));
    assert!(reason(3).contains("no customer 999999"), "{}", reason(3));
    assert!(reason(5).contains("no journey stage"), "{}", reason(5));
    let review = results[0]["id"].as_i64().unwrap();

    // Sending it again stores nothing new.
    let again = add(
        &app,
        json!([{"source": "review", "external_id": "R-1", "rating": 1, "text": "dup"}]),
    )
    .await;
    assert_eq!(again["existing"], 1);
    assert_eq!(again["results"][0]["id"].as_i64(), Some(review));

    let f = annotated(&app, review).await;
    assert_eq!(f["customer_id"].as_i64(), Some(customer));
    assert_eq!(
        (f["score"].as_f64(), f["metric"].as_str()),
        (Some(0.0), Some("rating"))
    );
    assert_eq!(f["lang"], "ko");
    assert_eq!(f["sentiment_label"], "negative", "{f}");
    assert!(f["topics"].as_str().unwrap().contains("배송"), "{f}");
    assert_eq!(f["channel"], "web", "a review's default channel");
    let social = annotated(&app, results[4]["id"].as_i64().unwrap()).await;
    assert_eq!(
        (social["lang"].as_str(), social["sentiment_label"].as_str()),
        (Some("en"), Some("positive"))
    );

    let as_viewer = app
        .api(
            Some(Role::Viewer),
            "GET",
            "/api/v1/feedback?source=review",
            None,
        )
        .await
        .json();
    assert_eq!(as_viewer.as_array().unwrap().len(), 1);
    assert_ne!(as_viewer[0]["author"], "최유나", "masked for viewers");
    let as_agent = app
        .api(
            Some(Role::Agent),
            "GET",
            "/api/v1/feedback?source=review",
            None,
        )
        .await
        .json();
    assert_eq!(as_agent[0]["author"], "최유나");
    let r = app
        .api(
            Some(Role::Viewer),
            "POST",
            "/api/v1/feedback",
            Some(json!({"feedback": [{"source": "review", "rating": 5}]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csv_file_reports_bad_lines_and_keeps_the_good_rows() {
    let app = TestApp::new().await;
    let csv = "source,external_id,rating,scale_min,scale_max,comment,created_at\n\
               review,N-1,5,1,5,정말 좋아요,2026-11-01\n\
               review,N-2,six,1,5,bad number,2026-11-01\n\
               app_store,N-3,9,0,10,\"Great app, fast\",2026-11-02T09:00:00Z\n\
               review,N-4,3,1,5\n\
               review,N-5,2,1,5,,not a date\n";
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/feedback/import")
        .header(header::AUTHORIZATION, app.bearer(Role::Manager))
        .header(header::CONTENT_TYPE, "text/csv")
        .body(Body::from(csv))
        .unwrap();
    let r = app.send(req).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let report = r.json();
    assert_eq!(
        (report["created"].as_u64(), report["rejected"].as_u64()),
        (Some(2), Some(3)),
        "{report}"
    );
    let rejected: Vec<(u64, String)> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["status"] == "rejected")
        .map(|x| {
            (
                x["at"].as_u64().unwrap(),
                x["error"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        rejected.iter().map(|r| r.0).collect::<Vec<_>>(),
        [3, 5, 6],
        "{report}"
    );
    assert!(
        rejected[0].1.contains("rating: not a number"),
        "{rejected:?}"
    );
    assert!(
        rejected[1].1.contains("fields where the header has"),
        "{rejected:?}"
    );
    assert!(rejected[2].1.contains("timestamp"), "{rejected:?}");

    let bad_header = Request::builder()
        .method("POST")
        .uri("/api/v1/feedback/import")
        .header(header::AUTHORIZATION, app.bearer(Role::Manager))
        .body(Body::from("source,stars\nreview,5\n"))
        .unwrap();
    let r = app.send(bad_header).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.text().contains("unknown: stars"), "{}", r.text());
    let latin1 = Request::builder()
        .method("POST")
        .uri("/api/v1/feedback/import")
        .header(header::AUTHORIZATION, app.bearer(Role::Manager))
        .body(Body::from(vec![b's', b'o', 0xff, b'\n']))
        .unwrap();
    assert_eq!(app.send(latin1).await.status, StatusCode::BAD_REQUEST);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scores_have_margins_and_break_down_by_period_and_channel() {
    let app = TestApp::new().await;
    // Week of 2026-11-02 (Monday, Korean time): 9, 10, 6 on the web and 3 in the app →
    // 2 promoters, 2 detractors: NPS 0. Week of 2026-11-09: 10, 10 → 100.
    let mut items = Vec::new();
    for (rating, channel, day) in [
        (9, "web", "2026-11-03"),
        (10, "web", "2026-11-04"),
        (6, "web", "2026-11-05"),
        (3, "app", "2026-11-06"),
        (10, "web", "2026-11-10"),
        (10, "web", "2026-11-11"),
    ] {
        items.push(
            json!({"source": "survey", "metric": "nps", "rating": rating, "channel": channel,
                          "created_at": format!("{day}T12:00:00+09:00")}),
        );
    }
    items.push(
        json!({"source": "survey", "metric": "csat", "rating": 2, "created_at": "2026-11-04"}),
    );
    add(&app, Value::Array(items)).await;

    let get = |q: &str| {
        let path = format!("/api/v1/scores?{q}");
        let app = &app;
        async move { app.api(Some(Role::Viewer), "GET", &path, None).await }
    };
    let r = get("metric=nps&from=2026-11-01&to=2026-11-30").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let all = r.json();
    // 4 promoters, 2 detractors of 6.
    assert_eq!(all["overall"]["responses"], 6);
    assert!(
        (all["overall"]["value"].as_f64().unwrap() - 100.0 / 3.0).abs() < 1e-9,
        "{all}"
    );
    assert!(all["overall"]["margin"].as_f64().unwrap() > 0.0);
    let weeks: Vec<(String, f64)> = all["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["period_start"].as_str().unwrap().to_string(),
                p["score"]["value"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(weeks.len(), 2, "{all}");
    assert_eq!(weeks[0].0, "2026-11-01T15:00:00Z", "Monday 00:00 in Korea");
    assert!(
        weeks[0].1.abs() < 1e-9 && (weeks[1].1 - 100.0).abs() < 1e-9,
        "{weeks:?}"
    );

    let by = get("metric=nps&by=channel&period=week&from=2026-11-01&to=2026-11-30")
        .await
        .json();
    let groups: Vec<(String, f64)> = by["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["group"].as_str().unwrap().to_string(),
                g["score"]["value"].as_f64().unwrap(),
            )
        })
        .collect();
    let of = |name: &str| groups.iter().find(|g| g.0 == name).map(|g| g.1);
    assert!((of("app").unwrap() + 100.0).abs() < 1e-9, "{groups:?}");
    assert!((of("web").unwrap() - 60.0).abs() < 1e-9, "{groups:?}");

    let csat = get("metric=csat&from=2026-11-01&to=2026-11-30")
        .await
        .json();
    assert_eq!(
        (
            csat["overall"]["value"].as_f64(),
            csat["overall"]["margin"].as_f64()
        ),
        (Some(0.0), None)
    );
    let none = get("metric=ces&from=2026-11-01&to=2026-11-30").await.json();
    assert!(none["overall"].is_null() && none["series"].as_array().unwrap().is_empty());
    assert_eq!(get("metric=wow").await.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        get("metric=nps&by=planet").await.status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journey_maps_emotion_comes_from_feedback() {
    let app = TestApp::new().await;
    add(
        &app,
        json!([
            {"source": "review", "rating": 1, "stage": "delivery", "text": "배송이 너무 늦어요", "created_at": "2026-11-10"},
            {"source": "survey", "metric": "csat", "rating": 2, "stage": "delivery", "created_at": "2026-11-11"},
            {"source": "review", "rating": 5, "stage": "use", "created_at": "2026-11-12"},
        ]),
    )
    .await;
    // Wait for the text to be read so that the sentiment counts too.
    let listed = app
        .api(
            Some(Role::Agent),
            "GET",
            "/api/v1/feedback?source=review&limit=10",
            None,
        )
        .await
        .json();
    let delivery_review = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["body"] != "")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    annotated(&app, delivery_review).await;
    let map = app
        .api(
            Some(Role::Viewer),
            "GET",
            "/api/v1/analytics/journey?from=2026-11-01&to=2026-12-01",
            None,
        )
        .await;
    assert_eq!(map.status, StatusCode::OK, "{}", map.text());
    let map = map.json();
    let stage = |key: &str| {
        map["stages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["key"] == key)
            .unwrap()
            .clone()
    };
    let delivery = stage("delivery")["emotion"]
        .as_f64()
        .expect("delivery has an emotion");
    // Ratings 1/5 → −1 and 2/5 → −0.5, and a negative text: clearly negative.
    assert!(delivery < -0.6, "{delivery}");
    assert_eq!(stage("use")["emotion"].as_f64(), Some(1.0));
    assert!(stage("awareness")["emotion"].is_null());
    let pains = stage("delivery")["pains"].to_string();
    assert!(pains.contains("negative_emotion"), "{pains}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_voc_page_shows_scores_and_a_live_feed() {
    let app = TestApp::new().await;
    let empty = app.page(Role::Viewer, "GET", "/voc", None).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(
        empty.text().contains("No feedback yet"),
        "a useful empty state"
    );
    let first = add(
        &app,
        json!([{"source": "survey", "metric": "nps", "rating": 10, "text": "최고예요", "author": "박서준"},
               {"source": "survey", "metric": "nps", "rating": 3, "stage": "delivery"}]),
    )
    .await["results"][1]["id"]
        .as_i64()
        .unwrap();
    let page = app.page(Role::Viewer, "GET", "/voc", None).await.text();
    assert!(page.contains("최고예요"), "the feed lists the text");
    assert!(!page.contains("박서준"), "authors are masked for viewers");
    // 1 promoter and 1 detractor: NPS 0 over 2 answers.
    assert!(
        page.contains(">0</span>") && page.contains("2 responses"),
        "{page}"
    );
    assert!(page.contains("<svg"), "charts are drawn");

    // The live feed sends what arrives after the page's newest item.
    add(
        &app,
        json!([{"source": "review", "rating": 5, "text": "Lovely serum, fast shipping"}]),
    )
    .await;
    let (status, events) = app
        .stream(
            Role::Viewer,
            &format!("/voc/stream?after={first}"),
            "Lovely serum",
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        events.contains("event: feedback") && events.contains("Lovely serum"),
        "{events}"
    );
    assert!(
        !events.contains("최고예요"),
        "nothing older than the cursor: {events}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_perception_gap_puts_the_biggest_overestimate_first() {
    let app = TestApp::new().await;
    let touchpoint = |name: &str, expected: f64| {
        let app = &app;
        let body =
            json!({"name": name, "channel": "app", "event": name, "expected_rating": expected});
        async move {
            let r = app
                .api(
                    Some(Role::Manager),
                    "POST",
                    "/api/v1/touchpoints",
                    Some(body),
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
            r.json()["id"].as_i64().unwrap()
        }
    };
    let delivery = touchpoint("order_delivered", 4.5).await;
    let unboxing = touchpoint("product_used", 4.0).await;
    let unrated = touchpoint("visit", 4.0).await;
    add(
        &app,
        json!([
            // 2 and 3 of 5 → 2.5 against 4.5 expected: a gap of 2.
            {"source": "review", "rating": 2, "touchpoint_id": delivery},
            {"source": "survey", "metric": "csat", "rating": 3, "touchpoint_id": delivery},
            // NPS 10 → 5 on the 1–5 scale, against 4 expected: customers think better of it.
            {"source": "survey", "metric": "nps", "rating": 10, "touchpoint_id": unboxing},
        ]),
    )
    .await;
    let r = app
        .api(Some(Role::Viewer), "GET", "/api/v1/perception-gap", None)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let rows = r.json();
    let rows = rows.as_array().unwrap();
    assert_eq!(
        rows.len(),
        2,
        "touchpoints without rated feedback are left out: {rows:?}"
    );
    assert_eq!(rows[0]["touchpoint_id"].as_i64(), Some(delivery));
    assert!((rows[0]["customers"].as_f64().unwrap() - 2.5).abs() < 1e-9);
    assert!((rows[0]["gap"].as_f64().unwrap() - 2.0).abs() < 1e-9);
    assert_eq!(rows[0]["responses"], 2);
    assert_eq!(rows[1]["touchpoint_id"].as_i64(), Some(unboxing));
    assert!((rows[1]["gap"].as_f64().unwrap() + 1.0).abs() < 1e-9);
    assert!(
        rows.iter()
            .all(|r| r["touchpoint_id"].as_i64() != Some(unrated))
    );

    let page = app.page(Role::Viewer, "GET", "/voc", None).await.text();
    let table = page
        .split("id=\"perception-gap\"")
        .nth(1)
        .expect("the gap table");
    let first_row = table.split("<tr").nth(2).unwrap();
    assert!(
        first_row.contains("order_delivered") && first_row.contains("+2.0"),
        "{first_row}"
    );
    assert_eq!(
        app.api(
            Some(Role::Viewer),
            "GET",
            "/api/v1/perception-gap?from=junk",
            None
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn employee_pulse_is_reported_beside_customer_scores_per_team() {
    let app = TestApp::new().await;
    let team = app
        .api(
            Some(Role::Admin),
            "POST",
            "/api/v1/teams",
            Some(json!({"name": "배송팀"})),
        )
        .await;
    assert!(team.status.is_success(), "{}", team.text());
    let team = team.json()["id"].as_i64().unwrap();
    add(
        &app,
        json!([
            // Employees: 2 promoters, 1 detractor → eNPS 33.
            {"source": "employee", "metric": "nps", "rating": 9, "team_id": team},
            {"source": "employee", "metric": "nps", "rating": 10, "team_id": team},
            {"source": "employee", "metric": "nps", "rating": 2, "team_id": team},
            // Customers of the same team: 1 detractor → NPS −100.
            {"source": "survey", "metric": "nps", "rating": 4, "team_id": team},
        ]),
    )
    .await;
    let get = |q: &'static str| {
        let app = &app;
        async move {
            app.api(
                Some(Role::Viewer),
                "GET",
                &format!("/api/v1/scores?metric=nps&{q}"),
                None,
            )
            .await
            .json()
        }
    };
    let customers = get("by=team").await;
    assert_eq!(
        customers["overall"]["responses"], 1,
        "employees are not customers"
    );
    assert_eq!(customers["overall"]["value"].as_f64(), Some(-100.0));
    let employees = get("by=team&audience=employees").await;
    assert_eq!(employees["overall"]["responses"], 3);
    assert_eq!(employees["groups"][0]["group"], team.to_string());
    assert!((employees["overall"]["value"].as_f64().unwrap() - 100.0 / 3.0).abs() < 1e-9);

    let page = app.page(Role::Viewer, "GET", "/voc", None).await.text();
    let table = page
        .split("id=\"team-scores\"")
        .nth(1)
        .expect("the team table");
    let row = table.split("<tr").nth(2).unwrap();
    assert!(
        row.contains("배송팀") && row.contains("33 (n = 3)") && row.contains("-100 (n = 1)"),
        "{row}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_loop_rules_open_follow_ups_that_are_tracked_to_closure() {
    let app = TestApp::new().await;
    let agent = app
        .api(Some(Role::Agent), "GET", "/api/v1/me", None)
        .await
        .json()["user"]["id"]
        .as_i64()
        .unwrap();
    let rule = |body: Value| {
        let app = &app;
        async move {
            app.api(
                Some(Role::Manager),
                "POST",
                "/api/v1/loop-rules",
                Some(body),
            )
            .await
        }
    };
    assert_eq!(
        rule(json!({"name": "nothing", "due_hours": 24}))
            .await
            .status,
        StatusCode::BAD_REQUEST,
        "a rule needs a condition"
    );
    assert_eq!(
        rule(json!({"name": "x", "max_score": 2.0, "due_hours": 24}))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let r = app
        .api(
            Some(Role::Agent),
            "POST",
            "/api/v1/loop-rules",
            Some(json!({"name": "x", "max_score": 0.5, "due_hours": 24})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "agents do not set rules");
    let detractors =
        rule(json!({"name": "Detractors", "max_score": 0.6, "owner_id": agent, "due_hours": 24}))
            .await;
    assert_eq!(
        detractors.status,
        StatusCode::CREATED,
        "{}",
        detractors.text()
    );
    let late = rule(
        json!({"name": "Late deliveries", "topic": "배송", "max_sentiment": -0.2, "due_hours": 4}),
    )
    .await;
    assert_eq!(late.status, StatusCode::CREATED, "{}", late.text());

    add(
        &app,
        json!([
            {"source": "survey", "metric": "nps", "rating": 2},
            {"source": "review", "rating": 5, "text": "최고예요, 또 살게요"},
            {"source": "review", "rating": 4, "text": "배송이 일주일이나 늦었어요. 너무 화나요"},
            {"source": "employee", "metric": "nps", "rating": 1},
        ]),
    )
    .await;
    let opened = follow_ups(&app, 2).await;
    // The detractor (NPS 2) and the late-delivery complaint, not the happy review nor the
    // employee's answer.
    assert_eq!(opened.len(), 2, "{opened:?}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        follow_ups(&app, 0).await.len(),
        2,
        "nothing more opens later"
    );
    let detractor = opened
        .iter()
        .find(|f| f["owner_id"].as_i64() == Some(agent))
        .expect("the detractor's follow-up goes to its owner");
    let id = detractor["id"].as_i64().unwrap();
    let due_in = detractor["due_at"].as_i64().unwrap() - detractor["created_at"].as_i64().unwrap();
    assert!((due_in - 24 * 3_600_000).abs() < 60_000, "{due_in}");

    let r = app
        .api(
            Some(Role::Viewer),
            "POST",
            &format!("/api/v1/follow-ups/{id}/close"),
            Some(json!({"resolution": "x"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .api(
            Some(Role::Agent),
            "POST",
            &format!("/api/v1/follow-ups/{id}/close"),
            Some(json!({"resolution": "전화로 사과드리고 쿠폰을 보냈습니다"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["status"], "closed");
    let again = app
        .api(
            Some(Role::Agent),
            "POST",
            &format!("/api/v1/follow-ups/{id}/close"),
            Some(json!({"resolution": "again"})),
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);

    let report = app
        .api(Some(Role::Viewer), "GET", "/api/v1/follow-ups/report", None)
        .await
        .json();
    let mine = report["owners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["owner_id"].as_i64() == Some(agent))
        .unwrap();
    assert_eq!(mine["owner"], "Test agent");
    let no_team = report["teams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["team_id"].is_null())
        .expect("owners in no team are reported together");
    assert_eq!(
        (no_team["opened"].as_u64(), no_team["closed"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(
        (mine["opened"].as_u64(), mine["closed"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(mine["closed_loop_rate"].as_f64(), Some(1.0));
    assert!(mine["median_hours_to_close"].as_f64().unwrap() >= 0.0);
    let open = app
        .api(
            Some(Role::Agent),
            "GET",
            "/api/v1/follow-ups?status=open",
            None,
        )
        .await
        .json();
    assert_eq!(open.as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scores_for_a_segment_count_only_its_customers() {
    let app = TestApp::new().await;
    let vip = app
        .customer(json!({"name": "브이아이피", "external_id": "VIP-1", "tags": ["vip"]}))
        .await;
    let other = app
        .customer(json!({"name": "일반", "external_id": "GEN-1"}))
        .await;
    add(
        &app,
        json!([
            {"source": "survey", "metric": "nps", "rating": 2, "customer_id": vip, "created_at": "2026-11-03"},
            {"source": "survey", "metric": "nps", "rating": 10, "customer_id": vip, "created_at": "2026-11-04"},
            {"source": "survey", "metric": "nps", "rating": 10, "customer_id": other, "created_at": "2026-11-04"},
            {"source": "survey", "metric": "nps", "rating": 9, "created_at": "2026-11-04"},
        ]),
    )
    .await;
    let score = |q: &str| {
        let path = format!("/api/v1/scores?metric=nps&from=2026-11-01&to=2026-11-30{q}");
        let app = &app;
        async move { app.api(Some(Role::Viewer), "GET", &path, None).await.json() }
    };
    let all = score("").await;
    assert_eq!(
        (
            all["overall"]["responses"].as_u64(),
            all["overall"]["value"].as_f64()
        ),
        (Some(4), Some(50.0))
    );
    let vips = score("&tag=vip").await;
    assert_eq!(
        (
            vips["overall"]["responses"].as_u64(),
            vips["overall"]["value"].as_f64()
        ),
        (Some(2), Some(0.0)),
        "{vips}"
    );
    let nobody = score("&tag=nobody").await;
    assert_eq!(nobody["overall"], Value::Null);
    let page = app
        .page(
            Role::Viewer,
            "GET",
            "/voc?from=2026-11-01&to=2026-11-30&tag=vip",
            None,
        )
        .await
        .text();
    assert!(
        page.contains("2 responses") || page.contains("2 응답"),
        "the page's cards are the segment's"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_loop_rule_on_a_saved_segment_follows_up_only_its_members() {
    let app = TestApp::new().await;
    let vip = app
        .customer(json!({"external_id": "L-1", "tags": ["vip"]}))
        .await;
    let other = app.customer(json!({"external_id": "L-2"})).await;
    let segment = support::save_segment(&app, "VIP", json!({"type": "tag", "tag": "vip"})).await;
    let rule = |segment_id: i64| {
        app.api(
            Some(Role::Manager),
            "POST",
            "/api/v1/loop-rules",
            Some(json!({"name": "VIP detractors", "max_score": 0.6, "segment_id": segment_id, "due_hours": 4})),
        )
    };
    let r = rule(99_999).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    let r = rule(segment).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["segment_id"], segment);
    let added = add(
        &app,
        json!([
            {"source": "survey", "external_id": "l1", "metric": "nps", "rating": 2, "customer_id": vip},
            {"source": "survey", "external_id": "l2", "metric": "nps", "rating": 1, "customer_id": other},
        ]),
    )
    .await;
    let opened = follow_ups(&app, 1).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let opened_later = follow_ups(&app, 0).await;
    assert_eq!(
        opened_later.len(),
        1,
        "only the member's answer: {opened:?}"
    );
    assert_eq!(
        opened_later[0]["feedback_id"], added["results"][0]["id"],
        "{opened_later:?}"
    );
}
