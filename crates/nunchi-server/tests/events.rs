//! Event ingest and analytics in-process: Segment's tracking API with write keys, its
//! error shapes and limits, idempotency, identity stitching, the native API, touchpoints,
//! the journey map and funnels over what was sent.

mod support;

use axum::http::{StatusCode, header};
use nunchi_core::access::Role;
use serde_json::json;
use support::{TestApp, gz, segment, write_key};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn segment_calls_are_stored_stitched_and_deduplicated() {
    let app = TestApp::new().await;
    let key = write_key(&app, None).await;

    // An anonymous visitor browses, then signs up: identify links the two.
    let browse = json!({"batch": [
        {"type": "page", "anonymousId": "anon-1", "messageId": "p1", "name": "Home", "timestamp": "2026-11-01T10:00:00Z"},
        {"type": "track", "anonymousId": "anon-1", "messageId": "t1", "event": "view_product", "timestamp": "2026-11-01T10:01:00Z", "properties": {"sku": "TONER-1"}},
    ]});
    let r = segment(&app, Some(&key), "batch", gz(&browse), true).await;
    assert_eq!(
        (r.status, r.json()),
        (StatusCode::OK, json!({"success": true}))
    );
    let identify = json!({"userId": "U-100", "anonymousId": "anon-1", "messageId": "i1", "timestamp": "2026-11-01T10:02:00Z",
                          "traits": {"email": "jiwoo@example.com", "name": "박지우"}});
    let r = segment(
        &app,
        Some(&key),
        "identify",
        identify.to_string().into_bytes(),
        false,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let buy = json!({"userId": "U-100", "messageId": "t2", "event": "purchase", "timestamp": "2026-11-01T10:05:00Z", "properties": {"total": 39000}});
    for _ in 0..3 {
        // The SDK retried: the same messageId is stored once.
        assert_eq!(
            segment(
                &app,
                Some(&key),
                "track",
                buy.to_string().into_bytes(),
                false
            )
            .await
            .status,
            StatusCode::OK
        );
    }

    let found = app
        .api(
            Some(Role::Agent),
            "GET",
            "/api/v1/customers/lookup?kind=external_id&value=U-100",
            None,
        )
        .await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.text());
    let customer = found.json()["id"].as_i64().unwrap();
    let profile = app
        .api(
            Some(Role::Agent),
            "GET",
            &format!("/api/v1/customers/{customer}"),
            None,
        )
        .await
        .json();
    assert_eq!(profile["name"], "박지우", "{profile}");
    let events = app
        .api(
            Some(Role::Agent),
            "GET",
            &format!("/api/v1/customers/{customer}/events"),
            None,
        )
        .await
        .json();
    let names: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["purchase", "identify", "view_product", "page_view"],
        "newest first, anonymous history included"
    );
    assert_eq!(events[3]["channel"], "web");
    assert_eq!(events[3]["properties"], r#"{"name":"Home"}"#);

    // The engine sees one customer who went all the way.
    let funnel = app
        .api(
            Some(Role::Viewer),
            "GET",
            "/api/v1/analytics/funnel?steps=page_view,view_product,purchase&window=1h",
            None,
        )
        .await;
    assert_eq!(funnel.status, StatusCode::OK, "{}", funnel.text());
    let counts: Vec<u64> = funnel.json()["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["customers"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, [1, 1, 1]);
    let narrow = app
        .api(
            Some(Role::Viewer),
            "GET",
            "/api/v1/analytics/funnel?steps=page_view,purchase&window=2m",
            None,
        )
        .await
        .json();
    assert_eq!(
        narrow["steps"][1]["customers"], 0,
        "the purchase is 5 minutes after the first page"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn segment_errors_have_segment_shapes_and_store_nothing() {
    let app = TestApp::new().await;
    let key = write_key(&app, Some("store")).await;
    let ok = json!({"userId": "U-1", "event": "visit"})
        .to_string()
        .into_bytes();
    let r = segment(&app, None, "track", ok.clone(), false).await;
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("missing_write_key"))
    );
    let r = segment(&app, Some("nk_wrong"), "track", ok.clone(), false).await;
    assert_eq!(
        (r.status, r.json()["success"].as_bool()),
        (StatusCode::UNAUTHORIZED, Some(false))
    );
    let huge =
        json!({"userId": "U-1", "event": "visit", "properties": {"blob": "x".repeat(33 * 1024)}});
    let r = segment(
        &app,
        Some(&key),
        "track",
        huge.to_string().into_bytes(),
        false,
    )
    .await;
    assert_eq!(
        (r.status, r.json()["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("message_too_large"))
    );
    let batch = json!({"batch": [
        {"type": "track", "userId": "U-1", "event": "visit"},
        {"type": "track", "event": "visit"},
        {"type": "explode", "userId": "U-1"},
    ]});
    let r = segment(
        &app,
        Some(&key),
        "batch",
        batch.to_string().into_bytes(),
        false,
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let errors = r.json()["errors"].clone();
    assert_eq!(errors.as_array().unwrap().len(), 2, "{errors}");
    assert_eq!(
        (errors[0]["index"].as_u64(), errors[0]["code"].as_str()),
        (Some(1), Some("missing_identity"))
    );
    assert_eq!(errors[1]["code"], "invalid_type");
    let r = segment(&app, Some(&key), "batch", b"{\"batch\": [".to_vec(), false).await;
    assert_eq!(r.json()["code"], "invalid_json");
    let big_batch = json!({"batch": (0..300).map(|i| json!({"type": "track", "userId": "U-1", "event": "visit", "properties": {"pad": "y".repeat(2000), "i": i}})).collect::<Vec<_>>()});
    let r = segment(
        &app,
        Some(&key),
        "batch",
        big_batch.to_string().into_bytes(),
        false,
    )
    .await;
    assert_eq!(r.json()["code"], "batch_too_large");
    assert_eq!(
        app.state.store.count_events().await.unwrap(),
        0,
        "refused requests store nothing"
    );

    // The source's default channel applies to events that name none.
    assert_eq!(
        segment(&app, Some(&key), "track", ok, false).await.status,
        StatusCode::OK
    );
    let web =
        json!({"userId": "U-1", "event": "visit", "context": {"channel": "web"}, "messageId": "w"});
    assert_eq!(
        segment(
            &app,
            Some(&key),
            "track",
            web.to_string().into_bytes(),
            false
        )
        .await
        .status,
        StatusCode::OK
    );
    let page = app.state.store.events_page(0, 10).await.unwrap();
    assert_eq!(
        page.iter().map(|e| e.channel.as_str()).collect::<Vec<_>>(),
        ["store", "web"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_api_touchpoints_and_the_journey_map() {
    let app = TestApp::new().await;
    let stages = app
        .api(Some(Role::Viewer), "GET", "/api/v1/stages", None)
        .await
        .json();
    let stage = |key: &str| {
        stages
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["key"] == key)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    for (name, event, stage_key, conditions) in [
        ("Product page", "view_product", "consideration", json!([])),
        (
            "Checkout",
            "purchase",
            "purchase",
            json!([{"property": "total", "op": "gte", "value": "1"}]),
        ),
        ("Delivered", "order_delivered", "delivery", json!([])),
    ] {
        let r = app
            .api(
                Some(Role::Manager),
                "POST",
                "/api/v1/touchpoints",
                Some(json!({"name": name, "channel": "web", "event": event,
                "conditions": conditions, "stage_id": stage(stage_key), "expected_rating": 4.5})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }
    let bad = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/touchpoints",
            Some(json!({"name": "x", "channel": "fax", "event": "e"})),
        )
        .await;
    assert_eq!(bad.json()["error"]["code"], "invalid_channel");
    assert_eq!(
        app.api(
            Some(Role::Agent),
            "POST",
            "/api/v1/touchpoints",
            Some(json!({"name": "x", "channel": "web", "event": "e"}))
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );

    // Ten customers view, six buy, two get their delivery.
    let mut events = Vec::new();
    for c in 0..10 {
        events.push(json!({"userId": format!("N-{c}"), "event": "view_product", "timestamp": "2026-11-02T09:00:00Z", "messageId": format!("v{c}")}));
        if c < 6 {
            events.push(json!({"userId": format!("N-{c}"), "event": "purchase", "timestamp": "2026-11-02T09:30:00Z", "properties": {"total": 10}, "messageId": format!("b{c}")}));
        }
        if c < 2 {
            events.push(json!({"userId": format!("N-{c}"), "event": "order_delivered", "timestamp": "2026-11-04T09:30:00Z", "messageId": format!("d{c}")}));
        }
    }
    let r = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/events",
            Some(json!({"events": events})),
        )
        .await;
    assert_eq!(
        (r.status, r.json()["new"].as_u64()),
        (StatusCode::OK, Some(18)),
        "{}",
        r.text()
    );
    let again = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/events",
            Some(json!({"events": [events[0].clone()]})),
        )
        .await;
    assert_eq!(
        (
            again.json()["accepted"].as_u64(),
            again.json()["new"].as_u64()
        ),
        (Some(1), Some(0))
    );
    let bad = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/events",
            Some(json!({"events": [{"event": "x"}]})),
        )
        .await;
    assert_eq!(
        (bad.status, bad.json()["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_event"))
    );

    let map = app
        .api(Some(Role::Viewer), "GET", "/api/v1/analytics/journey", None)
        .await;
    assert_eq!(map.status, StatusCode::OK, "{}", map.text());
    let map = map.json();
    let by_key = |k: &str| {
        map["stages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["key"] == k)
            .unwrap()
            .clone()
    };
    let consideration = by_key("consideration");
    assert_eq!(
        (
            consideration["reach"].as_u64(),
            consideration["converted"].as_u64()
        ),
        (Some(10), Some(6))
    );
    let purchase = by_key("purchase");
    assert_eq!(
        (purchase["reach"].as_u64(), purchase["converted"].as_u64()),
        (Some(6), Some(2))
    );
    // Nobody reached "use" after delivery: the map's worst drop-off.
    let delivery = by_key("delivery");
    assert_eq!(delivery["pains"], json!(["worst_drop_off"]), "{delivery}");
    assert_eq!(purchase["pains"], json!([]));
    assert_eq!(purchase["touchpoints"][0]["reach"], 6);
    assert_eq!(delivery["reach"], 2);

    let outcomes = app
        .api(
            Some(Role::Viewer),
            "GET",
            "/api/v1/analytics/post-purchase",
            None,
        )
        .await
        .json();
    assert_eq!(outcomes[0]["purchasers"], 6);
    let paths = app
        .api(
            Some(Role::Viewer),
            "GET",
            "/api/v1/analytics/paths?after=purchase",
            None,
        )
        .await
        .json();
    assert_eq!(paths["neighbours"][0], json!({"name": null, "count": 4}));
    let retention = app
        .api(
            Some(Role::Viewer),
            "GET",
            "/api/v1/analytics/retention?period=day&periods=3",
            None,
        )
        .await
        .json();
    assert_eq!(retention["cohorts"][0]["size"], 10);
    assert_eq!(retention["cohorts"][0]["returned"], json!([10, 0, 2, 0]));
    let bad = app
        .api(
            Some(Role::Viewer),
            "GET",
            "/api/v1/analytics/retention?period=year",
            None,
        )
        .await;
    assert_eq!(bad.json()["error"]["code"], "invalid_period");

    // Editing the map: a new stage, moved and renamed.
    let added = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/stages",
            Some(json!({"name_ko": "재구매", "name_en": "Repeat purchase"})),
        )
        .await
        .json();
    assert_eq!(added["key"], "repeat-purchase");
    let id = added["id"].as_i64().unwrap();
    let moved = app
        .api(
            Some(Role::Manager),
            "PATCH",
            &format!("/api/v1/stages/{id}"),
            Some(json!({"move_by": -1})),
        )
        .await
        .json();
    let keys: Vec<&str> = moved
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys[keys.len() - 2], "repeat-purchase");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analytics_pages_draw_the_map_funnel_sankey_and_heatmap() {
    let app = TestApp::new().await;
    let empty = app
        .page(Role::Viewer, "GET", "/analytics/funnel", None)
        .await
        .text();
    assert!(empty.contains("No events yet"), "useful empty state");
    let form = format!(
        "csrf={}&name=Checkout+page&event=purchase&channel=web&stage_id=3&expected_rating=4.5&property=&value=",
        app.csrf(Role::Manager)
    );
    let added = app
        .page(Role::Manager, "POST", "/journeys/touchpoints", Some(&form))
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.text());
    let mut events = Vec::new();
    for c in 0..8 {
        events.push(json!({"userId": format!("P-{c}"), "event": "visit", "timestamp": "2026-11-02T09:00:00Z"}));
        events.push(json!({"userId": format!("P-{c}"), "event": "view_product", "timestamp": "2026-11-02T09:01:00Z"}));
        if c < 3 {
            events.push(json!({"userId": format!("P-{c}"), "event": "purchase", "timestamp": "2026-11-09T09:02:00Z"}));
        }
    }
    let r = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/events",
            Some(json!({"events": events})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    let map = app
        .page(Role::Viewer, "GET", "/journeys", None)
        .await
        .text();
    assert!(
        map.contains("Checkout page") && map.contains("3 customers"),
        "the card shows its reach"
    );
    assert!(
        map.contains("Purchase") && map.contains("<svg"),
        "stages and the curve"
    );
    let ko = app.page(Role::Viewer, "GET", "/journeys", None).await;
    assert_eq!(ko.status, StatusCode::OK);

    let funnel = app
        .page(
            Role::Viewer,
            "GET",
            "/analytics/funnel?steps=visit,view_product,purchase&window=30d&breakdown=channel",
            None,
        )
        .await
        .text();
    assert!(funnel.contains("37.5%"), "3 of 8 reached purchase");
    assert!(funnel.contains("class=\"bar\""));
    let week = app
        .page(
            Role::Viewer,
            "GET",
            "/analytics/funnel?steps=visit,purchase&window=1d",
            None,
        )
        .await
        .text();
    assert!(
        week.contains("0.0%"),
        "a purchase a week later is outside a day's window"
    );
    let csv = app
        .page(
            Role::Viewer,
            "GET",
            "/analytics/funnel.csv?steps=visit,purchase&window=30d",
            None,
        )
        .await;
    assert_eq!(csv.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    let text = csv.text();
    assert!(
        text.starts_with("\u{feff}breakdown,step,event,customers"),
        "{text}"
    );
    assert!(text.contains("(all),2,purchase,3,"), "{text}");

    let paths = app
        .page(
            Role::Viewer,
            "GET",
            "/analytics/paths?after=view_product",
            None,
        )
        .await
        .text();
    assert!(paths.contains("class=\"flow\"") && paths.contains("(journey ends)"));
    let retention = app
        .page(Role::Viewer, "GET", "/analytics/retention?period=day", None)
        .await
        .text();
    assert!(retention.contains("fill-opacity") && retention.contains("2026-11-02"));
    let bad = app
        .page(
            Role::Viewer,
            "GET",
            "/analytics/retention?cohort_event=nope",
            None,
        )
        .await
        .text();
    assert!(
        bad.contains("no events named"),
        "a clear message for an unknown event"
    );
    let journeys_csv = app
        .page(Role::Viewer, "GET", "/journeys.csv", None)
        .await
        .text();
    assert!(journeys_csv.contains("purchase,3,"), "{journeys_csv}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sources_page_issues_a_write_key_that_the_tracking_api_accepts() {
    let app = TestApp::new().await;
    let empty = app.page(Role::Admin, "GET", "/admin/sources", None).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(!empty.text().contains("new-write-key"));
    let form = format!(
        "csrf={}&name=%EC%95%B1+%EC%86%8C%EC%8A%A4&channel=app",
        app.csrf(Role::Admin)
    );
    let created = app
        .page(Role::Admin, "POST", "/admin/sources", Some(&form))
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.text());
    let html = created.text();
    let key = html
        .split("<code id=\"new-write-key\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the key is shown once")
        .to_string();
    assert!(key.starts_with("nk_"), "{key}");
    assert!(html.contains("앱 소스"), "the new source is listed");
    let listed = app
        .page(Role::Admin, "GET", "/admin/sources", None)
        .await
        .text();
    assert!(!listed.contains(&key), "never shown again");
    assert!(listed.contains(&key[..10]), "its prefix tells it apart");

    let sent = segment(
        &app,
        Some(&key),
        "track",
        json!({"userId": "S-1", "event": "app_open"})
            .to_string()
            .into_bytes(),
        false,
    )
    .await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.text());
    let customer = app
        .api(
            Some(Role::Admin),
            "GET",
            "/api/v1/customers/lookup?kind=external_id&value=S-1",
            None,
        )
        .await
        .json()["id"]
        .as_i64()
        .expect("the tracked user became a customer");
    let events = app
        .api(
            Some(Role::Admin),
            "GET",
            &format!("/api/v1/customers/{customer}/events"),
            None,
        )
        .await;
    assert!(events.text().contains("app_open"), "{}", events.text());
    assert!(
        events.text().contains("\"channel\":\"app\""),
        "the source's channel"
    );

    let bad = format!("csrf={}&name=x&channel=fax", app.csrf(Role::Admin));
    let refused = app
        .page(Role::Admin, "POST", "/admin/sources", Some(&bad))
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
}
