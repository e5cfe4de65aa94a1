//! Segment previews over HTTP: a rule over tags, attributes, events in a window, orders
//! and the customer models counts who matches now, reads back in Korean and English, and
//! a bad rule is refused with the part named (unknown event, wrong type, too expensive).
//! Personas: a story linked to a segment reads back with the truth about its customers
//! and says where the two disagree.

mod support;

use std::sync::Arc;

use axum::http::StatusCode;
use nunchi_core::access::Role;
use serde_json::{Value, json};
use support::{TestApp, eventually};

/// 2026-03-02 12:00 KST.
const START: i64 = 1_772_420_400_000;

async fn preview(app: &TestApp, rule: Value) -> (StatusCode, Value) {
    let r = app
        .api(
            Some(Role::Viewer),
            "POST",
            "/api/v1/segments/preview",
            Some(json!({"rule": rule})),
        )
        .await;
    (r.status, r.json())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn previews_count_who_matches_and_bad_rules_name_their_part() {
    let clock = Arc::new(nunchi_app::TestClock::at(START));
    let app = TestApp::with_clock(clock.clone()).await;
    let mut ids = Vec::new();
    for n in 0..6 {
        let tags = if n < 2 { json!(["vip"]) } else { json!([]) };
        let id = app
            .customer(
                json!({"external_id": format!("S-{n}"), "name": format!("세그{n}"), "tags": tags,
                             "attributes": {"age": 20 + 5 * n}}),
            )
            .await;
        ids.push(id);
    }
    // S-0..S-3 put things in their cart twice in February; S-0 and S-1 then bought.
    let mut events = Vec::new();
    for n in 0..4 {
        for (k, day) in ["2026-02-20", "2026-02-25"].iter().enumerate() {
            events.push(json!({"userId": format!("S-{n}"), "event": "add_to_cart",
                               "timestamp": format!("{day}T10:00:00+09:00"), "messageId": format!("c{n}{k}")}));
        }
        if n < 2 {
            events.push(json!({"userId": format!("S-{n}"), "event": "purchase",
                               "timestamp": "2026-02-26T10:00:00+09:00", "messageId": format!("p{n}")}));
        }
    }
    support::post_events(&app, events).await;
    // S-0 and S-1's purchases as orders too.
    for n in 0..2 {
        let line = json!({"order_id": format!("SO-{n}"), "customer_external_id": format!("S-{n}"),
                          "placed_at": "2026-02-26T10:00:00+09:00", "product": "크림", "category": "skin",
                          "unit_price": "32000", "quantity": 1});
        let r = app
            .api(
                Some(Role::Agent),
                "POST",
                "/api/v1/orders",
                Some(json!({"lines": [line]})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    }

    let abandoned = json!({"type": "all", "rules": [
        {"type": "event", "name": "add_to_cart", "at_least": 2, "within_days": 30},
        {"type": "not", "rule": {"type": "event", "name": "purchase", "within_days": 30}}
    ]});
    // The engine takes events in the background: wait until both carts count.
    let p = eventually("carts counted", async || {
        let (status, p) = preview(&app, abandoned.clone()).await;
        (status == StatusCode::OK && p["customers"] == 2).then_some(p)
    })
    .await;
    assert_eq!(p["of"], 6);
    let names: Vec<&str> = p["sample"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["세그2", "세그3"]);
    assert_eq!(p["time_relative"], true);
    assert_eq!(
        p["sentence_en"],
        "did add_to_cart at least 2 times in the last 30 days and did not do purchase in the last 30 days"
    );
    assert!(
        p["sentence_ko"]
            .as_str()
            .unwrap()
            .contains("add_to_cart 2회 이상")
    );
    // Saved, the segment holds its two members, each entry recorded.
    let r = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/segments",
            Some(json!({"name": "장바구니 이탈", "description": "30일", "rule": abandoned})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let seg = r.json();
    let id = seg["id"].as_i64().unwrap();
    assert_eq!(seg["members"], 2, "{seg}");
    assert_eq!(
        (seg["entered_7d"].as_i64(), seg["left_7d"].as_i64()),
        (Some(2), Some(0)),
        "{seg}"
    );
    assert!(seg["sentence_ko"].as_str().unwrap().contains("add_to_cart"));
    let again = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/segments",
            Some(json!({"name": "장바구니 이탈", "rule": {"type": "tag", "tag": "vip"}})),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "names are unique");
    let viewer = app
        .api(
            Some(Role::Viewer),
            "POST",
            "/api/v1/segments",
            Some(json!({"name": "x", "rule": {"type": "tag", "tag": "vip"}})),
        )
        .await;
    assert_eq!(viewer.status, StatusCode::FORBIDDEN);
    // Agents read and preview segments; managing them is a manager's.
    let agent = app
        .api(
            Some(Role::Agent),
            "POST",
            "/api/v1/segments",
            Some(json!({"name": "x", "rule": {"type": "tag", "tag": "vip"}})),
        )
        .await;
    assert_eq!(agent.status, StatusCode::FORBIDDEN);

    // Frozen now, a static copy keeps these two whatever the rule does later.
    let r = app
        .api(
            Some(Role::Manager),
            "POST",
            &format!("/api/v1/segments/{id}/freeze"),
            Some(json!({"name": "2월 장바구니 이탈"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let frozen = r.json();
    let frozen_id = frozen["id"].as_i64().unwrap();
    assert_eq!(
        (frozen["kind"].as_str(), frozen["members"].as_i64()),
        (Some("static"), Some(2))
    );
    let r = app
        .api(
            Some(Role::Manager),
            "PUT",
            &format!("/api/v1/segments/{frozen_id}"),
            Some(json!({"name": "x", "rule": {"type": "tag", "tag": "vip"}})),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::BAD_REQUEST,
        "a static list follows no rule"
    );

    // The window moves with the clock: a month on, the carts are too old, and the
    // refresh records both exits.
    clock.advance(30 * 86_400_000);
    assert_eq!(preview(&app, abandoned.clone()).await.1["customers"], 0);
    let done = nunchi_app::segments::evaluate(&app.state.app, id)
        .await
        .unwrap();
    assert_eq!((done.entered, done.left, done.members), (0, 2, 0));
    // A week's movement counts the exits now, not the month-old entries.
    let moved = app
        .api(
            Some(Role::Viewer),
            "GET",
            &format!("/api/v1/segments/{id}"),
            None,
        )
        .await
        .json();
    assert_eq!(
        (moved["entered_7d"].as_i64(), moved["left_7d"].as_i64()),
        (Some(0), Some(2)),
        "{moved}"
    );
    let h = app
        .api(
            Some(Role::Viewer),
            "GET",
            &format!("/api/v1/segments/{id}/history"),
            None,
        )
        .await
        .json();
    let changes = h["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 4, "{h}");
    assert_eq!(changes[0]["entered"], false, "newest first: {h}");
    let days = h["days"].as_array().unwrap();
    assert_eq!(
        (days[0]["entered"].as_i64(), days[1]["left"].as_i64()),
        (Some(2), Some(2)),
        "{h}"
    );
    let kept = nunchi_app::segments::evaluate(&app.state.app, frozen_id)
        .await
        .unwrap();
    assert_eq!(kept.members, 0, "evaluation leaves a static list alone");
    assert_eq!(app.state.store.segment(frozen_id).await.unwrap().members, 2);
    // A static list from CSV: unknown customers are reported by line, the rest kept.
    let r = app
        .send(
            axum::http::Request::builder()
                .method("POST")
                .uri("/api/v1/segments/import?name=%EC%9D%B4%EB%B2%A4%ED%8A%B8")
                .header(axum::http::header::AUTHORIZATION, app.bearer(Role::Manager))
                .header(axum::http::header::CONTENT_TYPE, "text/csv")
                .body(axum::body::Body::from(
                    "name,external_id\n하나,S-0\n없음,S-99\n빈칸,\n둘,S-1\n",
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let imported = r.json();
    assert_eq!(imported["segment"]["members"], 2, "{imported}");
    let lines: Vec<u64> = imported["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [3, 4], "{imported}");
    let list = app
        .api(Some(Role::Viewer), "GET", "/api/v1/segments", None)
        .await
        .json();
    // Reports narrow to a saved segment: the imported list (S-0, S-1) bought after their
    // carts; with the tag too, only those in both.
    let list_id = imported["segment"]["id"].as_i64().unwrap();
    let funnel = |q: String| {
        let app = &app;
        async move {
            let r = app
                .api(Some(Role::Viewer), "GET", &format!("/api/v1/analytics/funnel?steps=add_to_cart,purchase&window=30d&from=2026-02-01&to=2026-03-01{q}"), None)
                .await;
            assert_eq!(r.status, StatusCode::OK, "{}", r.text());
            r.json()["steps"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["customers"].as_u64().unwrap())
                .collect::<Vec<u64>>()
        }
    };
    assert_eq!(funnel(String::new()).await, [4, 2]);
    assert_eq!(funnel(format!("&segment={list_id}")).await, [2, 2]);
    assert_eq!(
        funnel(format!("&segment={list_id}&tag=nobody")).await,
        [0, 0]
    );
    assert_eq!(
        funnel("&segment=".into()).await,
        [4, 2],
        "an empty choice is no segment"
    );
    let nps = app
        .api(
            Some(Role::Viewer),
            "GET",
            &format!("/api/v1/scores?metric=nps&from=2026-01-01&to=2026-03-01&segment={frozen_id}"),
            None,
        )
        .await
        .json();
    assert_eq!(
        nps["overall"],
        Value::Null,
        "the frozen carts answered no NPS: {nps}"
    );
    let members: Vec<(&str, i64)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["members"].as_i64().unwrap()))
        .collect();
    assert_eq!(
        members,
        [
            ("2월 장바구니 이탈", 2),
            ("이벤트", 2),
            ("장바구니 이탈", 0)
        ],
        "by name, each with its members now"
    );

    // The pages: the list with the sentence, the builder's preview, the segment's page.
    let html = app.page(Role::Agent, "GET", "/segments", None).await.text();
    assert!(
        html.contains("장바구니 이탈") && html.contains("id=\"segment-form\""),
        "{html}"
    );
    // The form builder's vocabulary: JSON the page script reads, naming what nunchi holds.
    let tag = "id=\"segment-vocabulary\">";
    let start = html.find(tag).unwrap() + tag.len();
    let end = start + html[start..].find("</script>").unwrap();
    let vocabulary: Value = serde_json::from_str(&html[start..end]).unwrap();
    assert!(
        vocabulary["choices"]["event"]
            .as_array()
            .unwrap()
            .contains(&json!("add_to_cart")),
        "{vocabulary}"
    );
    assert_eq!(
        vocabulary["types"]["open_conversation"],
        "Has an unresolved conversation"
    );
    let html = app
        .page(Role::Agent, "GET", &format!("/segments/{id}"), None)
        .await
        .text();
    assert!(html.contains("id=\"segment-changes\"") && html.contains("id=\"segment-sentence\""));
    let csrf = app.csrf(Role::Agent).to_string();
    let form = format!(
        "csrf={csrf}&name=vip&description=&rule={}",
        urlencode(r#"{"type": "tag", "tag": "vip"}"#)
    );
    let r = app
        .page(Role::Agent, "POST", "/segments/preview", Some(&form))
        .await;
    assert!(r.text().contains("id=\"segment-preview\""), "{}", r.text());
    // The page script's live count: the same preview as JSON.
    let live = app
        .send(
            axum::http::Request::builder()
                .method("POST")
                .uri("/segments/preview")
                .header(
                    axum::http::header::COOKIE,
                    format!("nunchi_session={}", app.sessions[&Role::Agent].0),
                )
                .header(axum::http::header::ACCEPT, "application/json")
                .header(
                    axum::http::header::CONTENT_TYPE,
                    "application/x-www-form-urlencoded",
                )
                .body(axum::body::Body::from(form.clone()))
                .unwrap(),
        )
        .await;
    assert_eq!(live.json()["customers"], 2, "{}", live.text());
    // An agent may preview but not save.
    let r = app
        .page(Role::Agent, "POST", "/segments", Some(&form))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let csrf = app.csrf(Role::Manager).to_string();
    let form = form.replace(app.csrf(Role::Agent), &csrf);
    let bad = format!(
        "csrf={csrf}&name=x&description=&rule={}",
        urlencode(r#"{"type": "tag"}"#)
    );
    let r = app
        .page(Role::Manager, "POST", "/segments", Some(&bad))
        .await;
    assert!(r.text().contains("id=\"segment-error\""), "{}", r.text());
    let r = app
        .page(Role::Manager, "POST", "/segments", Some(&form))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let r = app
        .api(
            Some(Role::Manager),
            "DELETE",
            &format!("/api/v1/segments/{id}"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);

    let (_, p) = preview(
        &app,
        json!({"type": "all", "rules": [
            {"type": "tag", "tag": "vip"},
            {"type": "orders", "measure": "spend", "cmp": "gte", "value": 30000, "product": "크림"}
        ]}),
    )
    .await;
    assert_eq!(p["customers"], 2, "{p}");
    // Points, read from every ledger at once: only S-2 holds any.
    let r = app
        .api(
            Some(Role::Manager),
            "POST",
            &format!("/api/v1/customers/{}/points/adjustments", ids[2]),
            Some(json!({"points": 500, "reason": "보상"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let (_, p) = preview(
        &app,
        json!({"type": "loyalty", "measure": "points", "cmp": "gte", "value": 100}),
    )
    .await;
    assert_eq!(
        (p["customers"].as_u64(), p["sample"][0]["id"].as_i64()),
        (Some(1), Some(ids[2])),
        "{p}"
    );

    // NPS: the latest answer decides (S-4 was a promoter, then a detractor).
    let answers = json!({"feedback": [
        {"source": "survey", "metric": "nps", "rating": 10, "customer_external_id": "S-4", "created_at": "2026-01-05T10:00:00+09:00"},
        {"source": "survey", "metric": "nps", "rating": 3, "customer_external_id": "S-4", "created_at": "2026-02-05T10:00:00+09:00"},
        {"source": "survey", "metric": "nps", "rating": 9, "customer_external_id": "S-5", "created_at": "2026-01-20T10:00:00+09:00"}
    ]});
    let r = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/feedback",
            Some(answers),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let (_, p) = preview(&app, json!({"type": "nps", "groups": ["promoter"]})).await;
    let names: Vec<&str> = p["sample"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["세그5"], "{p}");
    let (_, p) = preview(&app, json!({"type": "nps", "groups": ["detractor"]})).await;
    assert_eq!(p["customers"], 1, "{p}");
    let (_, p) = preview(
        &app,
        json!({"type": "attribute", "key": "age", "cmp": "gte", "value": "35"}),
    )
    .await;
    assert_eq!(p["customers"], 3, "ages 35, 40, 45: {p}");
    let (_, p) = preview(&app, json!({"type": "not", "rule": {"type": "rfm", "cells": ["champions", "loyal", "potential_loyalists", "new_customers", "promising", "need_attention", "about_to_sleep", "at_risk", "cant_lose", "hibernating", "lost"]}})).await;
    assert_eq!(
        p["customers"], 4,
        "only the two buyers have an RFM cell: {p}"
    );

    for (rule, path) in [
        (json!({"type": "event", "name": "add_to_crat"}), "rule.name"),
        (
            json!({"type": "attribute", "key": "age", "cmp": "gt", "value": "old"}),
            "rule.value",
        ),
        (
            json!({"type": "event", "name": "purchase", "within_days": 99999}),
            "rule.within_days",
        ),
    ] {
        let (status, body) = preview(&app, rule).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"]["code"], "invalid_rule");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains(&format!("{path}: ")),
            "{body}"
        );
    }
    let (status, body) = preview(&app, json!({"type": "zodiac", "sign": "leo"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("zodiac"),
        "{body}"
    );
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persona_shows_its_customers_beside_the_story_and_where_they_disagree() {
    use axum::body::Body;
    use axum::http::{Request, header};
    let app = TestApp::new().await;
    let ids = support::tagged_customers(&app, "P", 4, 3, "fan").await;
    // The fans are on the web three times out of four; the outsider lives in the app.
    let mut events = Vec::new();
    for n in 0..4 {
        for k in 0..4 {
            let channel = if n == 3 || k == 0 { "app" } else { "web" };
            events.push(
                json!({"userId": format!("P-{n}"), "event": "visit", "channel": channel,
                               "messageId": format!("pv{n}{k}")}),
            );
        }
    }
    support::post_events(&app, events).await;
    let ratings = [10, 9, 3, 0];
    let items: Vec<Value> = (0..4)
        .map(|n| {
            json!({"source": "survey", "external_id": format!("pn{n}"), "metric": "nps",
                        "rating": ratings[n], "customer_id": ids[n]})
        })
        .collect();
    support::add_feedback(&app, json!(items)).await;
    let fans = support::save_segment(&app, "팬", json!({"type": "tag", "tag": "fan"})).await;
    let story = json!({"segment_id": fans, "name_ko": "지현", "name_en": "Jihyun",
                       "quote_ko": "앱으로 편하게 사요", "channels": ["app"]});
    let r = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/personas",
            Some(story.clone()),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    let id = r.json()["id"].as_i64().unwrap();
    let p = app
        .api(
            Some(Role::Viewer),
            "GET",
            &format!("/api/v1/personas/{id}"),
            None,
        )
        .await
        .json();
    let truth = &p["truth"];
    assert_eq!(truth["size"], 3, "{p}");
    // Two promoters and a detractor among the fans: NPS 33; the outsider's 0 is not theirs.
    assert_eq!(
        truth["nps"]["value"].as_f64().map(f64::round),
        Some(33.0),
        "{p}"
    );
    assert_eq!(truth["channels"][0]["channel"], "web", "{p}");
    assert_eq!(truth["channels"][0]["share"], 0.75, "{p}");
    let flags = truth["disagreements"].as_array().unwrap();
    assert_eq!(flags.len(), 1, "{p}");
    assert!(
        flags[0]["en"]
            .as_str()
            .unwrap()
            .contains("75% of their events"),
        "{p}"
    );
    // The page shows the flag beside the story.
    let page = app
        .page(Role::Viewer, "GET", &format!("/personas/{id}"), None)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text().contains("persona-disagreements"),
        "{}",
        page.text()
    );
    // Told the truth, the story agrees.
    let mut fixed = story.clone();
    fixed["channels"] = json!(["web", "app"]);
    let r = app
        .api(
            Some(Role::Manager),
            "PUT",
            &format!("/api/v1/personas/{id}"),
            Some(fixed),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let p = app
        .api(
            Some(Role::Viewer),
            "GET",
            &format!("/api/v1/personas/{id}"),
            None,
        )
        .await
        .json();
    assert_eq!(p["truth"]["disagreements"], json!([]), "{p}");
    assert!(
        app.page(Role::Viewer, "GET", &format!("/personas/{id}"), None)
            .await
            .text()
            .contains("persona-agrees")
    );

    // Bad stories are refused with the reason; viewers cannot write.
    for (bad, why) in [
        (json!({"name_ko": "", "name_en": " "}), "a name"),
        (json!({"name_en": "X", "channels": ["fax"]}), "fax"),
        (json!({"name_en": "X", "segment_id": 99_999}), "99999"),
    ] {
        let r = app
            .api(Some(Role::Manager), "POST", "/api/v1/personas", Some(bad))
            .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
        assert!(r.text().contains(why), "{}", r.text());
    }
    let r = app
        .api(Some(Role::Viewer), "POST", "/api/v1/personas", Some(story))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // A photo is an image by its bytes, served as that type and never sniffed.
    let put = |body: &'static [u8]| {
        Request::builder()
            .method("PUT")
            .uri(format!("/api/v1/personas/{id}/photo"))
            .header(header::AUTHORIZATION, app.bearer(Role::Manager))
            .header(header::CONTENT_TYPE, "image/png")
            .body(Body::from(body))
            .unwrap()
    };
    let r = app.send(put(b"<svg onload=alert(1)></svg>")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    let r = app.send(put(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.text());
    let got = app
        .api(
            Some(Role::Viewer),
            "GET",
            &format!("/api/v1/personas/{id}/photo"),
            None,
        )
        .await;
    assert_eq!(got.status, StatusCode::OK);
    assert_eq!(got.headers["content-type"], "image/png");
    assert_eq!(got.headers["x-content-type-options"], "nosniff");

    let r = app
        .api(
            Some(Role::Manager),
            "DELETE",
            &format!("/api/v1/personas/{id}"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app
        .api(
            Some(Role::Viewer),
            "GET",
            &format!("/api/v1/personas/{id}"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fixed_list_uploaded_on_the_segments_page_keeps_the_good_rows() {
    use axum::body::Body;
    use axum::http::{Request, header};
    let app = TestApp::new().await;
    let a = app.customer(json!({"external_id": "F-1"})).await;
    let b = app.customer(json!({"external_id": "F-2"})).await;
    let (cookie, csrf) = app.sessions[&Role::Manager].clone();
    let upload = |csv: &str| {
        let body = format!(
            "--XB\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
             --XB\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n행사 초대 명단\r\n\
             --XB\r\nContent-Disposition: form-data; name=\"file\"; filename=\"list.csv\"\r\n\
             Content-Type: text/csv\r\n\r\n{csv}\r\n--XB--\r\n"
        );
        Request::builder()
            .method("POST")
            .uri("/segments/import")
            .header(header::COOKIE, format!("nunchi_session={cookie}"))
            .header(header::CONTENT_TYPE, "multipart/form-data; boundary=XB")
            .body(Body::from(body))
            .unwrap()
    };
    let r = app.send(upload("external_id\nF-1\nF-404\nF-2\n")).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text());
    let to = r.headers[header::LOCATION].to_str().unwrap().to_string();
    assert!(to.ends_with("?rejected=1"), "{to}");
    let id: i64 = to
        .trim_start_matches("/segments/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        app.state.store.segment_member_ids(id).await.unwrap(),
        vec![a, b]
    );
    let page = app.page(Role::Manager, "GET", &to, None).await.text();
    assert!(page.contains("segment-rejected"), "{page}");
    // A file naming no known column is refused on the page, and nothing is saved.
    let r = app.send(upload("nickname\n민지\n")).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.text().contains("segment-upload-error"), "{}", r.text());
    assert_eq!(app.state.store.segments().await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn funnels_and_scores_break_down_by_segment_and_persona() {
    let app = TestApp::new().await;
    let ids = support::tagged_customers(&app, "B", 3, 2, "fan").await;
    // Everyone visits; the first fan and the outsider buy.
    let mut events = Vec::new();
    for n in 0..3 {
        events.push(
            json!({"userId": format!("B-{n}"), "event": "visit", "messageId": format!("bv{n}"),
                           "timestamp": "2026-03-01T10:00:00+09:00"}),
        );
        if n != 1 {
            events.push(json!({"userId": format!("B-{n}"), "event": "purchase", "messageId": format!("bp{n}"),
                               "timestamp": "2026-03-01T11:00:00+09:00"}));
        }
    }
    support::post_events(&app, events).await;
    support::add_feedback(
        &app,
        json!([{"source": "survey", "external_id": "bn0", "metric": "nps", "rating": 10, "customer_id": ids[0]},
               {"source": "survey", "external_id": "bn2", "metric": "nps", "rating": 0, "customer_id": ids[2]}]),
    )
    .await;
    let fans = support::save_segment(&app, "팬", json!({"type": "tag", "tag": "fan"})).await;
    let r = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/personas",
            Some(json!({"segment_id": fans, "name_ko": "지현", "name_en": "Jihyun"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    for (by, label) in [("segment", "팬"), ("persona", "지현 · Jihyun")] {
        let f = app
            .api(
                Some(Role::Viewer),
                "GET",
                &format!("/api/v1/analytics/funnel?steps=visit,purchase&window=1d&from=2026-02-01&breakdown={by}"),
                None,
            )
            .await
            .json();
        assert_eq!(f["steps"][1]["customers"], 2, "{f}");
        let row = f["breakdown"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["label"] == label)
            .unwrap_or_else(|| panic!("{by}: {f}"));
        assert_eq!(row["customers"], json!([2, 1]), "{by}: {f}");
        let s = app
            .api(
                Some(Role::Viewer),
                "GET",
                &format!("/api/v1/scores?metric=nps&by={by}"),
                None,
            )
            .await
            .json();
        assert_eq!(s["overall"]["responses"], 2, "{s}");
        let group = &s["groups"][0];
        assert_eq!(group["group"], label, "{s}");
        assert_eq!(
            (
                group["score"]["value"].as_f64(),
                group["score"]["responses"].as_u64()
            ),
            (Some(100.0), Some(1)),
            "{s}"
        );
    }
    // Retention pools each persona's cohorts into one curve.
    let r = app
        .api(
            Some(Role::Viewer),
            "GET",
            "/api/v1/analytics/retention?breakdown=persona&from=2026-02-01",
            None,
        )
        .await
        .json();
    let group = &r["groups"][0];
    assert_eq!(
        (group["label"].as_str(), group["customers"].as_u64()),
        (Some("지현 · Jihyun"), Some(2)),
        "{r}"
    );
    assert_eq!(group["rates"][0], 1.0, "{r}");
    let page = app
        .page(
            Role::Viewer,
            "GET",
            "/analytics/retention?breakdown=segment",
            None,
        )
        .await
        .text();
    assert!(
        page.contains("retention-groups") && page.contains("팬"),
        "{page}"
    );
    let bad = app
        .api(
            Some(Role::Viewer),
            "GET",
            "/api/v1/analytics/retention?breakdown=horoscope",
            None,
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let voc = app.page(Role::Viewer, "GET", "/voc", None).await.text();
    assert!(
        voc.contains("persona-scores") && voc.contains("지현 · Jihyun"),
        "{voc}"
    );
}
