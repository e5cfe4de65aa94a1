//! Regression tests for numbers a CX manager must be able to trust (issue 20), each named
//! after the defect it pins. `scripts/test.sh` runs them on SQLite and on PostgreSQL.

mod support;

use axum::http::StatusCode;
use nunchi_core::access::Role;
use serde_json::{Value, json};
use support::{
    TestApp, add_feedback, follow_ups, job_result, send_batch, start_customer_import, write_key,
};

fn counts(funnel: &Value) -> Vec<u64> {
    funnel["steps"]
        .as_array()
        .unwrap_or_else(|| panic!("no steps in {funnel}"))
        .iter()
        .map(|s| s["customers"].as_u64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_funnel_steps_need_a_separate_later_event() {
    let app = TestApp::new().await;
    let key = write_key(&app, None).await;
    // Three buyers: one bought twice, one once, one bought and then asked for a refund
    // twice. Two events in the same second for the last.
    let mut batch = Vec::new();
    for (n, (user, event, at)) in [
        ("U-1", "purchase", "2026-10-01T10:00:00Z"),
        ("U-1", "purchase", "2026-10-20T10:00:00Z"),
        ("U-2", "purchase", "2026-10-02T10:00:00Z"),
        ("U-3", "purchase", "2026-10-03T10:00:00Z"),
        ("U-3", "refund", "2026-10-04T10:00:00Z"),
        ("U-3", "refund", "2026-10-04T10:00:00Z"),
    ]
    .into_iter()
    .enumerate()
    {
        batch.push(json!({"type": "track", "userId": user, "event": event,
                          "messageId": format!("m{n}"), "timestamp": at}));
    }
    send_batch(&app, &key, batch).await;
    let funnel = |query: &'static str| {
        let app = &app;
        async move {
            let r = app
                .api(
                    Some(Role::Viewer),
                    "GET",
                    &format!("/api/v1/analytics/funnel?{query}"),
                    None,
                )
                .await;
            assert_eq!(r.status, StatusCode::OK, "{query}: {}", r.text());
            r.json()
        }
    };
    // Before: 3 → 3 (100%), the same purchase counted as the repeat.
    let twice = funnel("steps=purchase,purchase&window=365d").await;
    assert_eq!(counts(&twice), [3, 1], "{twice}");
    assert_eq!(twice["mode"], "separate");
    assert_eq!(
        counts(&funnel("steps=refund,refund&window=365d").await),
        [1, 1],
        "two refunds in the same second are two events"
    );
    assert_eq!(
        counts(&funnel("steps=purchase,purchase,purchase&window=365d").await),
        [3, 1, 0]
    );
    // ClickHouse's semantics stay available when asked for by name.
    let clickhouse = funnel("steps=purchase,purchase&window=365d&mode=window_funnel").await;
    assert_eq!(counts(&clickhouse), [3, 3], "{clickhouse}");
    assert_eq!(clickhouse["mode"], "window_funnel");
    let bad = app
        .api(
            Some(Role::Viewer),
            "GET",
            "/api/v1/analytics/funnel?steps=purchase&mode=loose",
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{}", bad.text());
    assert_eq!(bad.json()["error"]["code"], "invalid_mode");
    // The page counts the same way and offers the choice.
    let page = app
        .page(
            Role::Viewer,
            "GET",
            "/analytics/funnel?steps=purchase,purchase&window=365d",
            None,
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains(r#"id="funnel-mode""#), "the mode is offered");
    let cells: Vec<&str> = html
        .split(r#"<td class="num">"#)
        .skip(1)
        .map(|c| c.split('<').next().unwrap_or(""))
        .collect();
    assert_eq!(
        cells.get(4),
        Some(&"1"),
        "second step's customers: {cells:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_voc_feed_and_period_follow_dates_not_row_ids() {
    let app = TestApp::new().await;
    let today = jiff::Timestamp::now();
    let days_ago = |d: i64| (today - jiff::SignedDuration::from_hours(24 * d)).to_string();
    // Recent answers first, then an old one imported later: its id is the highest.
    add_feedback(&app, json!([
        {"source": "survey", "metric": "nps", "rating": 10, "text": "셋째", "created_at": days_ago(3)},
        {"source": "survey", "metric": "nps", "rating": 9, "text": "첫째", "created_at": days_ago(1)},
        {"source": "survey", "metric": "nps", "rating": 10, "text": "둘째", "created_at": days_ago(2)},
    ]))
    .await;
    add_feedback(&app, json!([{"source": "survey", "metric": "nps", "rating": 0, "text": "오래된 것", "created_at": days_ago(200)}])).await;
    let list = app
        .api(Some(Role::Viewer), "GET", "/api/v1/feedback?limit=10", None)
        .await
        .json();
    let bodies: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        ["첫째", "둘째", "셋째", "오래된 것"],
        "newest first by date"
    );
    // Paging back from the second item goes on by date too.
    let second = list[1]["id"].as_i64().unwrap();
    let older = app
        .api(
            Some(Role::Viewer),
            "GET",
            &format!("/api/v1/feedback?before={second}"),
            None,
        )
        .await
        .json();
    let older: Vec<&str> = older
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["body"].as_str().unwrap())
        .collect();
    assert_eq!(older, ["셋째", "오래된 것"]);
    // The page's default period is the 90 days up to now: the old detractor is outside it,
    // and the three promoters make NPS 100 (before: the period ended at the newest id's
    // date, 200 days ago, and showed that one answer's -100).
    let page = app.page(Role::Viewer, "GET", "/voc", None).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    let feed_order: Vec<usize> = ["첫째", "둘째", "셋째"]
        .iter()
        .map(|b| html.find(b).unwrap_or_else(|| panic!("{b} is in the feed")))
        .collect();
    assert!(feed_order.windows(2).all(|w| w[0] < w[1]), "{feed_order:?}");
    let scores = app
        .api(Some(Role::Viewer), "GET", "/api/v1/scores?metric=nps", None)
        .await
        .json();
    assert_eq!(scores["overall"]["responses"], 3, "{scores}");
    assert!(
        html.contains(&format!("{} –", days_ago(89).get(..10).unwrap()))
            || html.contains(&format!("{} –", days_ago(90).get(..10).unwrap())),
        "the period starts 90 days ago"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_imports_are_not_labelled_completed() {
    let app = TestApp::new().await;
    let (_stop, stop_rx) = tokio::sync::watch::channel(false);
    let _runner =
        nunchi_app::jobs::spawn_runner(app.state.app.clone(), "w".into(), stop_rx, |_, _| {});
    let start = |body: &'static str| {
        let app = &app;
        async move {
            let id = start_customer_import(app, body.into(), false).await;
            job_result(app, id).await;
            app.page(Role::Manager, "GET", &format!("/import/jobs/{id}"), None)
                .await
                .text()
        }
    };
    let outcome = |page: &str| {
        page.split(r#"data-outcome=""#)
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap_or_default()
            .to_string()
    };
    // A file whose columns name no customer: before, the job read "done" ("완료").
    let unreadable = start("foo,bar\n1,2\n").await;
    assert_eq!(outcome(&unreadable), "failed", "{unreadable}");
    assert!(
        unreadable.contains("Failed: nothing imported"),
        "{unreadable}"
    );
    let all_refused = start("external_id,name,email\nK-1,김서연,not-an-email\n").await;
    assert_eq!(outcome(&all_refused), "failed");
    let partial =
        start("external_id,name,email\nK-1,김서연,seo@example.com\nK-2,이도윤,nope\n").await;
    assert_eq!(outcome(&partial), "completed_with_errors");
    assert!(partial.contains("Completed, some rows refused"));
    let clean = start("external_id,name,email\nK-3,박지우,jiwoo@example.com\n").await;
    assert_eq!(outcome(&clean), "completed");
    // The list says the same, with the file's problem as the summary.
    let list = app.page(Role::Manager, "GET", "/import", None).await.text();
    assert_eq!(
        list.matches(r#"class="outcome-failed""#).count(),
        2,
        "{list}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn korean_excel_files_import_and_exports_open_in_korean_excel() {
    let app = TestApp::new().await;
    let (_stop, stop_rx) = tokio::sync::watch::channel(false);
    let _runner =
        nunchi_app::jobs::spawn_runner(app.state.app.clone(), "w".into(), stop_rx, |_, _| {});
    // What Korean Excel writes by default: CP949. Before, every row was refused as not UTF-8.
    let (cp949, _, _) = encoding_rs::EUC_KR.encode(
        "external_id,name,email\nX-1,김서연,seo@example.com\nX-2,이도윤,doyoon@example.com\n",
    );
    let id = start_customer_import(&app, cp949.into_owned(), false).await;
    let report = job_result(&app, id).await;
    assert_eq!(report["imported"], 2, "{report}");
    let found = app
        .api(
            Some(Role::Admin),
            "GET",
            "/api/v1/customers/lookup?kind=external_id&value=X-1",
            None,
        )
        .await
        .json();
    assert_eq!(found["name"], "김서연", "{found}");
    // Exports start with the byte-order mark Korean Excel needs to read UTF-8.
    let export = app
        .api(
            Some(Role::Admin),
            "GET",
            "/api/v1/exports/customers.csv",
            None,
        )
        .await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(
        export.body.starts_with(b"\xEF\xBB\xBFexternal_id,"),
        "{}",
        export.text()
    );
    assert!(export.text().contains("김서연"));
    let page_csv = app
        .page(
            Role::Viewer,
            "GET",
            "/analytics/funnel.csv?steps=purchase",
            None,
        )
        .await;
    assert!(
        page_csv.body.starts_with(b"\xEF\xBB\xBF"),
        "{}",
        page_csv.text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_leaves_periods_that_have_not_happened_empty() {
    let app = TestApp::new().await;
    let key = write_key(&app, None).await;
    let now = jiff::Timestamp::now();
    let at = |days: i64| (now - jiff::SignedDuration::from_hours(24 * days)).to_string();
    // Two customers first seen 15 days ago; one back 8 days later; one first seen today.
    let mut batch = Vec::new();
    for (n, (user, day)) in [("R-1", 15), ("R-2", 15), ("R-1", 7), ("R-3", 0)]
        .into_iter()
        .enumerate()
    {
        batch.push(json!({"type": "track", "userId": user, "event": "visit",
                          "messageId": format!("r{n}"), "timestamp": at(day)}));
    }
    send_batch(&app, &key, batch).await;
    let view = app
        .api(
            Some(Role::Viewer),
            "GET",
            "/api/v1/analytics/retention?period=day&periods=20",
            None,
        )
        .await
        .json();
    let cohorts = view["cohorts"].as_array().unwrap();
    assert_eq!(cohorts.len(), 2, "{view}");
    let first = &cohorts[0]["returned"];
    assert_eq!(first[0], 2);
    assert_eq!(first[8], 1);
    assert_eq!(first[9], 0, "a day that passed with nobody back is 0");
    // Day 16 after a cohort 15 days old has not happened: unknown, not 0 (before: 0).
    assert_eq!(first[16], Value::Null, "{first}");
    assert_eq!(cohorts[0]["rates"][16], Value::Null);
    let today = &cohorts[1]["returned"];
    assert_eq!(today[0], 1);
    assert!(
        today.as_array().unwrap()[1..].iter().all(Value::is_null),
        "{today}"
    );
    // Monthly cohorts exist, and the CSV leaves the same cells empty with named units.
    let monthly = app
        .api(
            Some(Role::Viewer),
            "GET",
            "/api/v1/analytics/retention?period=month&periods=2",
            None,
        )
        .await;
    assert_eq!(monthly.status, StatusCode::OK, "{}", monthly.text());
    assert_eq!(monthly.json()["period"], "month");
    let csv = app
        .page(
            Role::Viewer,
            "GET",
            "/analytics/retention.csv?period=day",
            None,
        )
        .await
        .text();
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("\u{feff}cohort_start,cohort_customers,day_0,day_1"),
        "{csv}"
    );
    let today_row = lines.last().unwrap();
    assert!(today_row.ends_with(",1,,,,,,,,"), "{today_row}");
    let page = app
        .page(Role::Viewer, "GET", "/analytics/retention?period=day", None)
        .await
        .text();
    assert!(page.contains("cell-empty") && page.contains(r#"id="return-event""#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_customer_problem_opens_one_follow_up_with_every_rule_it_met() {
    let app = TestApp::new().await;
    let agent = app
        .api(Some(Role::Agent), "GET", "/api/v1/me", None)
        .await
        .json()["user"]["id"]
        .as_i64()
        .unwrap();
    let mut rule_ids = Vec::new();
    for body in [
        json!({"name": "Detractors", "max_score": 0.6, "due_hours": 48}),
        json!({"name": "Late deliveries", "topic": "배송", "max_sentiment": -0.2,
               "owner_id": agent, "due_hours": 24}),
    ] {
        let r = app
            .api(
                Some(Role::Manager),
                "POST",
                "/api/v1/loop-rules",
                Some(body),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
        rule_ids.push(r.json()["id"].as_i64().unwrap());
    }
    // Three late-delivery complaints with 1-star ratings: each meets both rules.
    let items: Vec<Value> = [
        "배송이 일주일이나 늦었어요. 너무 화나요",
        "택배가 너무 늦게 와서 실망했어요",
        "Delivery was late again, really annoying",
    ]
    .iter()
    .map(|text| json!({"source": "review", "rating": 1, "text": text}))
    .collect();
    add_feedback(&app, items.into()).await;
    follow_ups(&app, 3).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let list = app
        .api(Some(Role::Agent), "GET", "/api/v1/follow-ups", None)
        .await
        .json();
    // Before: six follow-ups, two per complaint.
    assert_eq!(list.as_array().unwrap().len(), 3, "{list}");
    for f in list.as_array().unwrap() {
        let mut met: Vec<i64> = f["rule_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_i64().unwrap())
            .collect();
        met.sort_unstable();
        assert_eq!(met, rule_ids, "every rule is recorded: {f}");
        // The most urgent rule sets the due time and the owner.
        assert_eq!(f["rule_id"], rule_ids[1]);
        assert_eq!(f["owner_id"], agent);
        let due_in = f["due_at"].as_i64().unwrap() - f["created_at"].as_i64().unwrap();
        assert!((due_in - 24 * 3_600_000).abs() < 60_000, "{due_in}");
    }
    let page = app
        .page(Role::Agent, "GET", "/follow-ups", None)
        .await
        .text();
    assert_eq!(
        page.matches("Late deliveries, Detractors").count(),
        3,
        "each row names both rules"
    );
    let report = app
        .api(Some(Role::Viewer), "GET", "/api/v1/follow-ups/report", None)
        .await
        .json();
    assert_eq!(report["owners"][0]["opened"], 3, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_funnel_on_an_unknown_event_name_says_so_instead_of_asking_for_an_sdk() {
    let app = TestApp::new().await;
    let key = write_key(&app, None).await;
    let batch: Vec<Value> = (0..3)
        .map(|n| {
            json!({"type": "track", "userId": format!("S-{n}"), "event": "purchase",
                   "messageId": format!("s{n}"), "timestamp": "2026-10-01T10:00:00Z"})
        })
        .collect();
    send_batch(&app, &key, batch).await;
    let view = app
        .api(
            Some(Role::Viewer),
            "GET",
            "/api/v1/analytics/funnel?steps=Purchse,purchase",
            None,
        )
        .await
        .json();
    assert_eq!(
        view["unknown_steps"],
        json!([{"name": "Purchse", "suggestions": ["purchase"]}])
    );
    let page = app
        .page(
            Role::Viewer,
            "GET",
            "/analytics/funnel?steps=Purchse,purchase&window=7d",
            None,
        )
        .await
        .text();
    assert!(
        page.contains("No events with this name have arrived"),
        "{page}"
    );
    assert!(
        page.contains(r#"href="?steps=purchase,purchase&amp;window=7d""#),
        "{page}"
    );
    // Before: "No events yet. Send events with any Segment SDK…", with 3 events stored.
    assert!(!page.contains("No events yet"), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_have_an_icon_and_counts_have_thousands_separators() {
    let app = TestApp::new().await;
    let icon = app.page(Role::Viewer, "GET", "/favicon.ico", None).await;
    assert_eq!(icon.status, StatusCode::OK, "before: 404 on every page");
    assert_eq!(icon.headers["content-type"], "image/svg+xml");
    // Ten thousand and one customers, imported in one go, read "10,001" on the dashboard.
    let mut csv = String::from("external_id,name\n");
    for n in 0..10_001 {
        csv.push_str(&format!("T-{n},고객{n}\n"));
    }
    let report = nunchi_app::import::import_customers(
        app.state.store.clone(),
        Box::new(std::io::Cursor::new(csv.into_bytes())),
        false,
        "test",
        &|_| {},
    )
    .await
    .unwrap();
    assert_eq!(report.imported, 10_001);
    let page = app.page(Role::Viewer, "GET", "/", None).await.text();
    assert!(page.contains(r#"<span class="n">10,001</span>"#), "{page}");
    assert!(page.contains(r#"rel="icon""#));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enter_on_an_optional_survey_question_answers_it_instead_of_skipping() {
    use support::{create, form, get, nps_survey};
    let app = TestApp::new().await;
    let s = create(&app, nps_survey(json!({}))).await;
    let key = s["key"].as_str().unwrap();
    let r = form(&app, &format!("/s/{key}"), "t=&q=nps&lang=ko&answer=3").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let location = r.headers[axum::http::header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    let page = get(&app, &location).await.text();
    // Pressing Enter submits with the form's first submit button (HTML's implicit
    // submission). Before: "Skip" came first, so Enter dropped the answer typed.
    let next = page.find(r#"id="survey-next""#).expect("a next button");
    let skip = page
        .find(r#"id="survey-skip""#)
        .expect("an optional question");
    assert!(next < skip, "the answering button is the form's first");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_loop_report_tells_opened_from_still_open() {
    let app = TestApp::new().await;
    let r = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/loop-rules",
            Some(json!({"name": "Detractors", "max_score": 0.6, "due_hours": 24})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let items: Vec<Value> = (0..3)
        .map(|_| json!({"source": "survey", "metric": "nps", "rating": 1}))
        .collect();
    add_feedback(&app, items.into()).await;
    let opened = follow_ups(&app, 3).await;
    let first = opened[0]["id"].as_i64().unwrap();
    let r = app
        .api(
            Some(Role::Agent),
            "POST",
            &format!("/api/v1/follow-ups/{first}/close"),
            Some(json!({"resolution": "called back"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let page = app
        .page(Role::Agent, "GET", "/follow-ups", None)
        .await
        .text();
    // Before: one "Open" column said 3 with one of them closed.
    assert!(
        page.contains("Opened (all)") && page.contains("Open now"),
        "{page}"
    );
    assert!(
        page.contains(r#"<td>3</td><td class="open-now">2</td><td>1</td>"#),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nps_trend_shows_empty_and_sparse_weeks_honestly() {
    let app = TestApp::new().await;
    let now = jiff::Timestamp::now();
    let at = |days: i64| (now - jiff::SignedDuration::from_hours(24 * days)).to_string();
    // Twelve answers five weeks ago, nothing in the weeks after, three detractors last
    // week. Before: the line joined the two weeks as neighbours and the 3-answer week's
    // margin drew a band from -100 to 100.
    let mut items: Vec<Value> = (0..12)
        .map(|n| json!({"source": "survey", "metric": "nps", "rating": 9 + n % 2, "created_at": at(35)}))
        .collect();
    items.extend(
        (0..3).map(
            |_| json!({"source": "survey", "metric": "nps", "rating": 0, "created_at": at(7)}),
        ),
    );
    add_feedback(&app, items.into()).await;
    let page = app.page(Role::Viewer, "GET", "/voc", None).await.text();
    let trend = page
        .split("<svg")
        .find(|s| s.contains("dot sparse") || s.contains("dot current"))
        .unwrap_or_else(|| panic!("no trend chart: {page}"));
    assert_eq!(
        trend.matches(r#"class="line current""#).count(),
        2,
        "{trend}"
    );
    assert_eq!(trend.matches(r#"class="band""#).count(), 1, "{trend}");
    assert_eq!(trend.matches("dot sparse").count(), 1, "{trend}");
    // Only weeks with answers have dots; the axis still has every week of the 90 days.
    assert_eq!(trend.matches("<circle").count(), 2);
    assert!(
        trend
            .matches(r#"text-anchor="middle" class="label""#)
            .count()
            >= 12,
        "{trend}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wide_range_still_draws_the_trend_up_to_now() {
    let app = TestApp::new().await;
    let week_ago = (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * 7)).to_string();
    let items: Vec<Value> = (0..12)
        .map(|_| json!({"source": "survey", "metric": "nps", "rating": 10, "created_at": week_ago}))
        .collect();
    add_feedback(&app, items.into()).await;
    let page = app
        .page(
            Role::Viewer,
            "GET",
            "/voc?from=2020-01-01&to=2100-01-01",
            None,
        )
        .await
        .text();
    assert!(
        page.contains("dot current"),
        "the week with answers is drawn"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn irreversible_actions_ask_before_they_run() {
    use support::{create, nps_survey};
    let app = TestApp::new().await;
    let customer = app
        .customer(json!({"name": "확인 고객", "external_id": "C-1"}))
        .await;
    let r = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/loop-rules",
            Some(json!({"name": "Detractors", "max_score": 0.6, "due_hours": 24})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let r = app
        .api(
            Some(Role::Admin),
            "POST",
            "/api/v1/touchpoints",
            Some(json!({"name": "Checkout", "channel": "web", "event": "purchase"})),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.text());
    let survey = create(&app, nps_survey(json!({}))).await;
    let mut checked = 0;
    for path in [
        format!("/customers/{customer}"),
        "/follow-ups".to_string(),
        "/journeys".to_string(),
        format!("/surveys/{}", survey["id"]),
    ] {
        let page = app.page(Role::Admin, "GET", &path, None).await.text();
        for form in page.split("<form").skip(1) {
            let tag = form.split('>').next().unwrap_or_default();
            let action = tag
                .split("action=\"")
                .nth(1)
                .and_then(|a| a.split('"').next());
            let Some(action) = action else { continue };
            if ["/delete", "/merge", "/erase"]
                .iter()
                .any(|end| action.ends_with(end))
            {
                assert!(
                    tag.contains("data-confirm=\""),
                    "{path}: {action} runs unasked"
                );
                checked += 1;
            }
        }
    }
    // Merge, erase, the rule, the touchpoint, the stages and the survey's questions.
    assert!(checked >= 6, "only {checked} irreversible forms found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_reads_in_the_users_language() {
    let app = TestApp::new().await;
    let viewer = app.user_ids[&Role::Viewer];
    let r = app
        .api(
            Some(Role::Admin),
            "PATCH",
            &format!("/api/v1/users/{viewer}"),
            Some(json!({"role": "agent"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let page = app
        .page(Role::Admin, "GET", "/admin/audit", None)
        .await
        .text();
    // Before: `user.role` and `user 2`.
    assert!(
        page.contains(r#"title="user.role">Role changed<"#),
        "{page}"
    );
    assert!(page.contains("Test viewer (viewer@test.local)"), "{page}");
    assert!(!page.contains(&format!("<td>user {viewer}</td>")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_feed_says_whether_it_is_connected() {
    let app = TestApp::new().await;
    let page = app.page(Role::Viewer, "GET", "/voc", None).await.text();
    // Before: a grey "● live" appeared on connecting and stayed after the stream dropped.
    let tag = page
        .split(r#"id="voc-live""#)
        .nth(1)
        .and_then(|s| s.split('>').next())
        .unwrap_or_else(|| panic!("no indicator: {page}"));
    assert!(tag.contains(r#"data-state="connecting""#), "{tag}");
    assert!(
        tag.contains(r#"data-live="live""#) && tag.contains(r#"data-reconnecting="reconnecting…""#),
        "{tag}"
    );
    let js = app
        .page(Role::Viewer, "GET", "/assets/app.js", None)
        .await
        .text();
    assert!(
        js.contains(r#"addEventListener("error""#),
        "a dropped stream is shown"
    );
}

/// Item 21: the Customer 360 showed orders and notes but not what the customer said, what
/// they spent or when they were last seen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_360_shows_what_the_customer_said_and_spent() {
    let app = TestApp::new().await;
    let id = app
        .customer(json!({"external_id": "C-360", "name": "오삼육"}))
        .await;
    add_feedback(
        &app,
        json!([{"source": "review", "rating": 2, "text": "배송이 너무 늦었어요", "customer_external_id": "C-360"}]),
    )
    .await;
    let line = |order: &str, price: &str, status: &str| {
        json!({"order_id": order, "customer_external_id": "C-360", "placed_at": "2026-10-02T10:00:00+09:00",
               "status": status, "product": "크림", "unit_price": price, "quantity": 1})
    };
    let r = app
        .api(
            Some(Role::Agent),
            "POST",
            "/api/v1/orders",
            Some(json!({"lines": [line("S-1", "30000", "delivered"), line("S-2", "50000", "delivered"), line("S-3", "99999", "cancelled")]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let orders = app
        .api(
            Some(Role::Agent),
            "GET",
            &format!("/api/v1/customers/{id}/orders"),
            None,
        )
        .await
        .json();
    let s2 = orders
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["external_id"] == "S-2")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let refunded = app
        .api(
            Some(Role::Agent),
            "POST",
            &format!("/api/v1/orders/{s2}/refunds"),
            Some(json!({"amount": "10000"})),
        )
        .await;
    assert_eq!(refunded.status, StatusCode::OK);
    let activity = app
        .api(
            Some(Role::Viewer),
            "GET",
            &format!("/api/v1/customers/{id}/activity"),
            None,
        )
        .await
        .json();
    let krw = &activity["spend"][0];
    assert_eq!(
        (
            krw["currency"].as_str(),
            krw["orders"].as_i64(),
            krw["net_minor"].as_i64(),
            krw["average_minor"].as_i64()
        ),
        (Some("KRW"), Some(2), Some(70_000), Some(35_000)),
        "cancelled orders and refunds left out: {activity}"
    );
    assert_eq!(activity["feedback"][0]["body"], "배송이 너무 늦었어요");
    let page = app
        .page(Role::Viewer, "GET", &format!("/customers/{id}"), None)
        .await
        .text();
    assert!(page.contains("id=\"customer-feedback\"") && page.contains("배송이 너무 늦었어요"));
    assert!(
        page.contains("70,000") && page.contains("35,000"),
        "spend and average shown"
    );
}

/// Item 21: tags could only be changed through the API; the profile edits them, audited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_360_edits_tags_and_the_audit_log_says_so() {
    let app = TestApp::new().await;
    let id = app
        .customer(json!({"external_id": "C-TAG", "name": "태그님", "tags": ["vip"]}))
        .await;
    let csrf = app.csrf(Role::Agent).to_string();
    let page = app
        .page(Role::Agent, "GET", &format!("/customers/{id}"), None)
        .await
        .text();
    assert!(page.contains("id=\"tags-form\"") && page.contains("value=\"vip\""));
    let form =
        format!("csrf={csrf}&tags=vip%2C+%EB%AF%BC%EA%B0%90%EC%84%B1+%ED%94%BC%EB%B6%80%2C+");
    let r = app
        .page(
            Role::Agent,
            "POST",
            &format!("/customers/{id}/tags"),
            Some(&form),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let c = app
        .api(
            Some(Role::Agent),
            "GET",
            &format!("/api/v1/customers/{id}"),
            None,
        )
        .await
        .json();
    assert_eq!(c["tags"], json!(["vip", "민감성 피부"]), "{c}");
    let bad = format!("csrf={csrf}&tags={}", "x".repeat(200));
    let r = app
        .page(
            Role::Agent,
            "POST",
            &format!("/customers/{id}/tags"),
            Some(&bad),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let viewer = app
        .page(Role::Viewer, "GET", &format!("/customers/{id}"), None)
        .await
        .text();
    assert!(!viewer.contains("id=\"tags-form\""));
    let audit = app
        .api(Some(Role::Admin), "GET", "/api/v1/audit", None)
        .await
        .json();
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "customer.tags"),
        "{audit}"
    );
}

/// Item 21: custom attributes could only be set through the API or an import; the profile
/// sets them, typed as the key is declared, audited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_360_sets_attributes_typed_and_audited() {
    let app = TestApp::new().await;
    let id = app
        .customer(json!({"external_id": "C-ATTR", "name": "속성님"}))
        .await;
    let csrf = app.csrf(Role::Agent).to_string();
    let set = |key: &str, value: &str| {
        format!(
            "csrf={csrf}&key={key}&value={}",
            &serde_urlencoded::to_string([("", value)]).unwrap()[1..]
        )
    };
    let r = app
        .page(
            Role::Agent,
            "POST",
            &format!("/customers/{id}/attributes"),
            Some(&set("skin_type", "민감성")),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r = app
        .page(
            Role::Agent,
            "POST",
            &format!("/customers/{id}/attributes"),
            Some(&set("visits", "12")),
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    // The key is a number now: text is refused, and so is a key that is not snake_case.
    for (key, value) in [("visits", "many"), ("Skin Type", "x")] {
        let r = app
            .page(
                Role::Agent,
                "POST",
                &format!("/customers/{id}/attributes"),
                Some(&set(key, value)),
            )
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{key}={value}");
    }
    let c = app
        .api(
            Some(Role::Agent),
            "GET",
            &format!("/api/v1/customers/{id}"),
            None,
        )
        .await
        .json();
    let attrs: Vec<(String, String)> = c["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["key"].as_str().unwrap().to_string(),
                a["value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        attrs.contains(&("skin_type".into(), "민감성".into())),
        "{c}"
    );
    assert!(attrs.contains(&("visits".into(), "12".into())), "{c}");
    let audit = app
        .api(Some(Role::Admin), "GET", "/api/v1/audit", None)
        .await
        .json();
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "customer.attribute"),
        "{audit}"
    );
}
