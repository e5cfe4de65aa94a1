//! Loyalty over HTTP on a moving clock: the points contract, earning from the order API
//! and the CSV import, pending points, refunds (the anchors' earn–refund–keep and
//! charged-twice bugs), idempotent redemptions, adjustments in the audit log, rules that
//! would double-award, expiry and its notice through the keeper job, tiers on points
//! earned, and the pages.

mod support;

use std::sync::Arc;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use nunchi_core::access::Role;
use serde_json::{Value, json};
use support::TestApp;

const DAY: i64 = 86_400_000;
/// 2026-03-02 12:00 KST, after the orders below were placed.
const START: i64 = 1_772_420_400_000;

async fn program_on(app: &TestApp, extra: Value) {
    let mut body = json!({
        "enabled": true,
        "return_days": 7,
        "validity_days": 365,
        "refund_policy": "claw_back",
        "tiers": [
            {"key": "sprout", "name_ko": "새싹", "name_en": "Sprout", "threshold": 0},
            {"key": "tree", "name_ko": "나무", "name_en": "Tree", "threshold": 1000},
            {"key": "forest", "name_ko": "숲", "name_en": "Forest", "threshold": 5000}
        ]
    });
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let r = app
        .api(
            Some(Role::Manager),
            "PUT",
            "/api/v1/loyalty/program",
            Some(body),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let r = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/loyalty/rules",
            Some(json!({"name": "기본 1%", "kind": "base", "points": 1, "per_minor": 100, "currency": "KRW", "scope": "all"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
}

/// Sends an order's lines for the customer (id, external id); the order's id.
async fn order(
    app: &TestApp,
    (cid, customer): (i64, &str),
    order: &str,
    lines: &[(&str, &str, &str, i64)],
) -> i64 {
    let lines: Vec<Value> = lines
        .iter()
        .map(|(product, category, price, qty)| {
            json!({"order_id": order, "customer_external_id": customer, "placed_at": "2026-03-02T10:00:00+09:00",
                   "product": product, "category": category, "unit_price": price, "quantity": qty})
        })
        .collect();
    let r = app
        .api(
            Some(Role::Agent),
            "POST",
            "/api/v1/orders",
            Some(json!({"lines": lines})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.json()["accepted"], lines.len(), "{}", r.text());
    let orders = app
        .api(
            Some(Role::Admin),
            "GET",
            &format!("/api/v1/customers/{cid}/orders"),
            None,
        )
        .await
        .json();
    orders
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["external_id"] == order)
        .unwrap()["id"]
        .as_i64()
        .unwrap()
}

async fn points(app: &TestApp, id: i64) -> Value {
    let r = app
        .api(
            Some(Role::Viewer),
            "GET",
            &format!("/api/v1/customers/{id}/points"),
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    r.json()
}

async fn refund(app: &TestApp, order_id: i64, amount: &str) {
    let r = app
        .api(
            Some(Role::Agent),
            "POST",
            &format!("/api/v1/orders/{order_id}/refunds"),
            Some(json!({"amount": amount})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

async fn redeem(app: &TestApp, id: i64, body: Value) -> support::Reply {
    app.api(
        Some(Role::Agent),
        "POST",
        &format!("/api/v1/customers/{id}/points/redemptions"),
        Some(body),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_earn_pending_points_that_refunds_reverse_once() {
    let clock = Arc::new(nunchi_app::TestClock::at(START));
    let app = TestApp::with_clock(clock.clone()).await;
    program_on(&app, json!({"downgrade": "automatic"})).await;
    let id = app
        .customer(json!({"external_id": "C-1", "name": "김하나", "email": "hana@example.com"}))
        .await;
    let o1 = order(
        &app,
        (id, "C-1"),
        "O-1",
        &[("코트", "outer", "120000", 1), ("양말", "socks", "5000", 2)],
    )
    .await;
    // 1 point per 100 KRW: 1,200 + 100, pending for the 7-day return window.
    let p = points(&app, id).await;
    assert_eq!(
        (p["balance"].as_i64(), p["pending"].as_i64()),
        (Some(0), Some(1300)),
        "{p}"
    );
    assert_eq!(p["lots"].as_array().unwrap().len(), 2);
    let lot = &p["lots"][0];
    assert!(
        lot["amount"].is_i64() && lot["remaining"].is_i64() && lot["expires_at"].is_i64(),
        "{p}"
    );
    // Points count towards tiers at once: 1,300 earned reaches the tree tier.
    assert_eq!(p["tier"], "tree");
    // Sending the same order again earns nothing more.
    order(&app, (id, "C-1"), "O-1", &[("코트", "outer", "120000", 1)]).await;
    assert_eq!(points(&app, id).await["pending"], 1300);
    clock.advance(8 * DAY);
    let p = points(&app, id).await;
    assert_eq!(
        (p["balance"].as_i64(), p["pending"].as_i64()),
        (Some(1300), Some(0))
    );
    // Earn, refund, keep (odoo#257854): a partial refund takes back its share, the same
    // refund amount recorded again takes nothing more, the rest takes the rest.
    refund(&app, o1, "65000").await; // half of 130,000
    assert_eq!(points(&app, id).await["balance"], 650);
    refund(&app, o1, "65000").await;
    let p = points(&app, id).await;
    assert_eq!(p["balance"], 0, "{p}");
    // Tiers follow points earned net of refunds, not the balance (Open Loyalty #131).
    assert_eq!(p["tier"], "sprout");
    let entries = app
        .api(
            Some(Role::Viewer),
            "GET",
            &format!("/api/v1/customers/{id}/points/entries"),
            None,
        )
        .await
        .json();
    let reversed: i64 = entries
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "reverse")
        .map(|e| -e["points"].as_i64().unwrap())
        .sum();
    assert_eq!(reversed, 1300);
    // The customer's timeline shows the points and the tier moves.
    let page = app
        .page(Role::Viewer, "GET", &format!("/customers/{id}"), None)
        .await
        .text();
    assert!(page.contains("id=\"points\"") && page.contains("k-points") && page.contains("k-tier"));
    // In the reader's words, not the stored keys.
    assert!(
        page.contains("<strong>Earned</strong>") && page.contains("<strong>Sprout</strong>"),
        "{page}"
    );
    assert!(!page.contains("<strong>earn</strong>") && !page.contains("<strong>sprout</strong>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redemptions_are_idempotent_and_a_refunded_points_order_returns_them_once() {
    let clock = Arc::new(nunchi_app::TestClock::at(START));
    let app = TestApp::with_clock(clock.clone()).await;
    program_on(&app, json!({"return_days": 0})).await;
    let id = app
        .customer(json!({"external_id": "C-2", "name": "이둘"}))
        .await;
    order(&app, (id, "C-2"), "O-2", &[("가방", "bags", "300000", 1)]).await;
    assert_eq!(points(&app, id).await["balance"], 3000);
    let quote = app
        .api(
            Some(Role::Agent),
            "POST",
            &format!("/api/v1/customers/{id}/points/quote"),
            Some(json!({"points": 1000})),
        )
        .await
        .json();
    assert_eq!(
        (quote["allowed"].as_bool(), quote["balance_after"].as_i64()),
        (Some(true), Some(2000))
    );
    let paid = order(&app, (id, "C-2"), "O-3", &[("지갑", "bags", "100000", 1)]).await;
    let body = json!({"id": "pos-77", "points": 1000, "order_id": "O-3"});
    let first = redeem(&app, id, body.clone()).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    let again = redeem(&app, id, body).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["entry_id"], first.json()["entry_id"]);
    // O-3 earned 1,000; 3,000 + 1,000 - 1,000 spent.
    assert_eq!(points(&app, id).await["balance"], 3000);
    let reused = redeem(&app, id, json!({"id": "pos-77", "points": 5})).await;
    assert_eq!(reused.status, StatusCode::CONFLICT, "{}", reused.text());
    let too_many = redeem(&app, id, json!({"id": "pos-78", "points": 3001})).await;
    assert_eq!(too_many.status, StatusCode::CONFLICT);
    assert!(
        too_many.text().contains("3000 available"),
        "{}",
        too_many.text()
    );
    // Refunding O-3 in full reverses the 1,000 it earned and returns the 1,000 spent on
    // it — once, however often the refund is seen (odoo#212922).
    refund(&app, paid, "100000").await;
    // The refunded order sent again is followed again, and changes nothing.
    order(&app, (id, "C-2"), "O-3", &[("지갑", "bags", "100000", 1)]).await;
    assert_eq!(points(&app, id).await["balance"], 3000);
    let check = app.state.store.verify_loyalty().await.unwrap();
    assert!(check.mismatched.is_empty(), "{check:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_checkout_token_redeems_but_only_managers_adjust_and_set_rules() {
    let app = TestApp::new().await;
    program_on(&app, json!({"return_days": 0})).await;
    let id = app
        .customer(json!({"external_id": "C-3", "name": "박셋"}))
        .await;
    // A token with only points:write, as a point of sale would hold.
    let made = app
        .api(
            Some(Role::Agent),
            "POST",
            "/api/v1/tokens",
            Some(json!({"name": "pos", "scopes": ["points:write"]})),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let pos = made.json()["token"].as_str().unwrap().to_string();
    let call = |path: String, body: Value| {
        Request::builder()
            .method("POST")
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {pos}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap()
    };
    let r = app
        .send(call(
            format!("/api/v1/customers/{id}/points/redemptions"),
            json!({"id": "a", "points": 1}),
        ))
        .await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "no points yet: {}",
        r.text()
    );
    let r = app
        .send(call(
            format!("/api/v1/customers/{id}/points/adjustments"),
            json!({"points": 5, "reason": "x"}),
        ))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .api(
            Some(Role::Agent),
            "POST",
            &format!("/api/v1/customers/{id}/points/adjustments"),
            Some(json!({"points": 500, "reason": "배송 지연 보상"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = app
        .api(
            Some(Role::Manager),
            "POST",
            &format!("/api/v1/customers/{id}/points/adjustments"),
            Some(json!({"points": 500, "reason": "배송 지연 보상"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.text());
    assert_eq!(r.json()["balance"], 500);
    let r = app
        .api(
            Some(Role::Manager),
            "POST",
            &format!("/api/v1/customers/{id}/points/adjustments"),
            Some(json!({"points": -501, "reason": "정정"})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    let no_reason = app
        .api(
            Some(Role::Manager),
            "POST",
            &format!("/api/v1/customers/{id}/points/adjustments"),
            Some(json!({"points": 5, "reason": " "})),
        )
        .await;
    assert_eq!(no_reason.status, StatusCode::BAD_REQUEST);
    let audit = app
        .api(Some(Role::Admin), "GET", "/api/v1/audit", None)
        .await
        .json();
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "loyalty.points_adjusted"
                && e["detail"].as_str().unwrap().contains("배송 지연 보상")),
        "{audit}"
    );
    // A second open-ended base rate for KRW would award every order twice.
    let twice = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/loyalty/rules",
            Some(json!({"name": "또 기본", "kind": "base", "points": 2, "per_minor": 100, "scope": "all"})),
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.text());
    assert!(twice.text().contains("기본 1%"));
    let agent_rule = app
        .api(
            Some(Role::Agent),
            "POST",
            "/api/v1/loyalty/rules",
            Some(json!({"name": "x", "kind": "multiplier", "percent": 200, "scope": "category", "scope_values": ["outer"]})),
        )
        .await;
    assert_eq!(agent_rule.status, StatusCode::FORBIDDEN);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imported_orders_earn_and_the_keeper_expires_remainders_after_a_notice() {
    let clock = Arc::new(nunchi_app::TestClock::at(START));
    let app = TestApp::with_clock(clock.clone()).await;
    program_on(
        &app,
        json!({"return_days": 0, "validity_days": 30, "expiry_notice_days": 7}),
    )
    .await;
    let id = app
        .customer(json!({"external_id": "C-4", "name": "최넷", "email": "net@example.com", "language": "ko"}))
        .await;
    let csv = "order_id,customer_external_id,placed_at,product,category,unit_price,quantity\n\
               I-1,C-4,2026-03-02T09:00:00+09:00,머그,kitchen,20000,2\n\
               I-2,C-4,2026-03-02T09:00:00+09:00,접시,kitchen,not-a-price,1\n";
    let report = nunchi_app::import::import_orders(
        app.state.store.clone(),
        Box::new(std::io::Cursor::new(csv.as_bytes().to_vec())),
        false,
        &|_| {},
    )
    .await
    .unwrap();
    assert_eq!(report.imported, 1, "{report:?}");
    assert_eq!(points(&app, id).await["balance"], 400);
    redeem(&app, id, json!({"id": "r1", "points": 150})).await;
    // 24 days on: the rest expires within the 7-day notice window, so a notice is queued
    // once; 31 days on, only the remaining 250 expire.
    clock.advance(24 * DAY);
    let round = nunchi_app::loyalty::keeper::run_once(&app.state.app)
        .await
        .unwrap();
    assert_eq!((round.notices, round.expiry_entries), (1, 0), "{round:?}");
    let again = nunchi_app::loyalty::keeper::run_once(&app.state.app)
        .await
        .unwrap();
    assert_eq!(again.notices, 0);
    let jobs = app.state.store.jobs(50).await.unwrap();
    assert!(
        jobs.iter().any(|j| j.kind == "email"
            && j.payload.contains("net@example.com")
            && j.payload.contains("250")),
        "{jobs:?}"
    );
    clock.advance(7 * DAY);
    // The balance stops counting expired points before the job writes the entry.
    assert_eq!(points(&app, id).await["balance"], 0);
    let round = nunchi_app::loyalty::keeper::run_once(&app.state.app)
        .await
        .unwrap();
    assert_eq!(round.expiry_entries, 1);
    let summary = app
        .api(Some(Role::Viewer), "GET", "/api/v1/loyalty/summary", None)
        .await
        .json();
    assert_eq!(summary["totals"]["expired"], 250, "{summary}");
    assert_eq!(summary["totals"]["spent"], 150);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reward_is_taken_once_per_id_and_never_beyond_its_stock() {
    let app = TestApp::new().await;
    program_on(&app, json!({"return_days": 0})).await;
    let made = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/loyalty/rewards",
            Some(json!({"name_ko": "에코백", "name_en": "Tote bag", "points": 1000, "stock": 2})),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let reward = made.json()["id"].as_i64().unwrap();
    let id = app
        .customer(json!({"external_id": "C-7", "name": "강일곱"}))
        .await;
    order(&app, (id, "C-7"), "O-7", &[("가방", "bags", "500000", 1)]).await;
    assert_eq!(points(&app, id).await["balance"], 5000);
    let take = |n: &str| json!({"id": n, "reward_id": reward});
    let first = redeem(&app, id, take("t1")).await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.text());
    assert_eq!(first.json()["points"], 1000);
    // The same id again takes nothing more, from the stock or the balance.
    assert_eq!(redeem(&app, id, take("t1")).await.status, StatusCode::OK);
    assert_eq!(
        redeem(&app, id, take("t2")).await.status,
        StatusCode::CREATED
    );
    let sold_out = redeem(&app, id, take("t3")).await;
    assert_eq!(sold_out.status, StatusCode::CONFLICT, "{}", sold_out.text());
    assert!(sold_out.text().contains("out of stock"));
    assert_eq!(points(&app, id).await["balance"], 3000);
    let listed = app
        .api(Some(Role::Viewer), "GET", "/api/v1/loyalty/rewards", None)
        .await
        .json();
    assert_eq!(listed[0]["stock"], 0, "{listed}");
    // A reward the balance does not cover leaves its stock alone.
    let dear = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/loyalty/rewards",
            Some(json!({"name_ko": "여행 키트", "name_en": "Travel kit", "points": 9000, "stock": 5})),
        )
        .await
        .json()["id"]
        .as_i64()
        .unwrap();
    let refused = redeem(&app, id, json!({"id": "t4", "reward_id": dear})).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    let listed = app
        .api(Some(Role::Viewer), "GET", "/api/v1/loyalty/rewards", None)
        .await
        .json();
    assert_eq!(listed[1]["stock"], 5, "{listed}");
    let page = app
        .page(Role::Manager, "GET", "/loyalty", None)
        .await
        .text();
    assert!(page.contains("id=\"reward-list\"") && page.contains("Tote bag"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_movers_are_proposed_from_sales_velocity_and_accepted_as_a_bonus() {
    let clock = Arc::new(nunchi_app::TestClock::at(START));
    let app = TestApp::with_clock(clock.clone()).await;
    program_on(&app, json!({"return_days": 0})).await;
    let id = app
        .customer(json!({"external_id": "C-8", "name": "윤여덟"}))
        .await;
    // 48 weeks of sales: the candle sold 10 a week until 8 weeks ago, then nothing; the
    // cream sold 10 a week throughout.
    let week = 7 * DAY;
    let mut lines = Vec::new();
    for w in 1..=48i64 {
        let at = nunchi_core::time::Millis(START - w * week).to_rfc3339();
        lines.push(json!({"order_id": format!("CR-{w}"), "customer_external_id": "C-8", "placed_at": at,
                          "product": "수분 크림", "category": "skincare", "unit_price": "1000", "quantity": 10}));
        if w > 8 {
            lines.push(json!({"order_id": format!("CA-{w}"), "customer_external_id": "C-8", "placed_at": at,
                              "product": "소이 향초", "category": "lifestyle", "unit_price": "1000", "quantity": 10}));
        }
    }
    let r = app
        .api(
            Some(Role::Agent),
            "POST",
            "/api/v1/orders",
            Some(json!({"lines": lines})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let proposed = app
        .api(
            Some(Role::Viewer),
            "GET",
            "/api/v1/loyalty/slow-movers",
            None,
        )
        .await
        .json();
    let names: Vec<&str> = proposed
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["product"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["소이 향초"], "{proposed}");
    assert_eq!(proposed[0]["boosted"], false);
    let accept = json!({"product": "소이 향초"});
    let made = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/loyalty/slow-movers/accept",
            Some(accept.clone()),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let twice = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/loyalty/slow-movers/accept",
            Some(accept),
        )
        .await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.text());
    let proposed = app
        .api(
            Some(Role::Viewer),
            "GET",
            "/api/v1/loyalty/slow-movers",
            None,
        )
        .await
        .json();
    assert_eq!(proposed[0]["boosted"], true);
    // An order of the candle now earns double: 20,000 KRW → 200 + 200.
    clock.advance(DAY);
    let before = points(&app, id).await["balance"].as_i64().unwrap();
    let line = json!({"order_id": "CA-NOW", "customer_external_id": "C-8",
                      "placed_at": nunchi_core::time::Millis(START + 3_600_000).to_rfc3339(),
                      "product": "소이 향초", "category": "lifestyle", "unit_price": "20000", "quantity": 1});
    let r = app
        .api(
            Some(Role::Agent),
            "POST",
            "/api/v1/orders",
            Some(json!({"lines": [line]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(
        points(&app, id).await["balance"].as_i64().unwrap() - before,
        400
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tiers_can_be_measured_on_money_spent_net_of_refunds() {
    let clock = Arc::new(nunchi_app::TestClock::at(START));
    let app = TestApp::with_clock(clock.clone()).await;
    // Thresholds in won spent: 나무 from 100,000, 숲 from 500,000; gift sets left out.
    let tiers = json!([
        {"key": "sprout", "name_ko": "새싹", "name_en": "Sprout", "threshold": 0},
        {"key": "tree", "name_ko": "나무", "name_en": "Tree", "threshold": 100000},
        {"key": "forest", "name_ko": "숲", "name_en": "Forest", "threshold": 500000}
    ]);
    program_on(
        &app,
        json!({"tier_basis": "spend", "tiers": tiers, "downgrade": "automatic", "tier_excluded_categories": ["gift"]}),
    )
    .await;
    let id = app
        .customer(json!({"external_id": "C-9", "name": "서아홉", "email": "nine@example.com", "language": "ko"}))
        .await;
    let o = order(
        &app,
        (id, "C-9"),
        "O-9",
        &[
            ("코트", "outer", "120000", 1),
            ("선물 세트", "gift", "400000", 1),
        ],
    )
    .await;
    assert_eq!(
        points(&app, id).await["tier"],
        "tree",
        "the gift set does not count"
    );
    refund(&app, o, "260000").await; // half of the order
    assert_eq!(
        points(&app, id).await["tier"],
        "sprout",
        "60,000 kept of the coat"
    );
    let jobs = app.state.store.jobs(50).await.unwrap();
    assert!(
        jobs.iter().any(|j| j.kind == "email"
            && j.payload.contains("nine@example.com")
            && j.payload.contains("구매")),
        "told what was measured: {jobs:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daily_sweep_moves_tiers_down_when_the_window_passes_without_orders() {
    let clock = Arc::new(nunchi_app::TestClock::at(START));
    let app = TestApp::with_clock(clock.clone()).await;
    program_on(
        &app,
        json!({"downgrade": "after_days", "downgrade_days": 90, "validity_days": 0}),
    )
    .await;
    let id = app
        .customer(json!({"external_id": "C-6", "name": "한여섯", "email": "six@example.com", "language": "en"}))
        .await;
    order(&app, (id, "C-6"), "O-6", &[("코트", "outer", "120000", 1)]).await;
    assert_eq!(points(&app, id).await["tier"], "tree");
    // Points never expire here, so only the daily sweep can see the window pass.
    clock.advance(200 * DAY);
    nunchi_app::loyalty::keeper::run_once(&app.state.app)
        .await
        .unwrap();
    assert_eq!(
        points(&app, id).await["tier"],
        "tree",
        "still inside the window"
    );
    clock.advance(170 * DAY);
    let round = nunchi_app::loyalty::keeper::run_once(&app.state.app)
        .await
        .unwrap();
    assert_eq!(round.tier_changes, 1, "{round:?}");
    assert_eq!(points(&app, id).await["tier"], "sprout");
    // Once a day: running again the same day sweeps nothing more.
    let again = nunchi_app::loyalty::keeper::run_once(&app.state.app)
        .await
        .unwrap();
    assert_eq!(again.tier_changes, 0);
    let jobs = app.state.store.jobs(50).await.unwrap();
    assert!(
        jobs.iter().any(|j| j.kind == "email"
            && j.payload.contains("six@example.com")
            && j.payload.contains("Sprout")),
        "the customer is told in their language: {jobs:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_program_and_ledger_pages_work_in_both_languages() {
    let app = TestApp::new().await;
    let empty = app.page(Role::Manager, "GET", "/loyalty", None).await;
    assert_eq!(empty.status, StatusCode::OK);
    assert!(
        empty.text().contains("id=\"loyalty-off\"") && empty.text().contains("id=\"rules-empty\"")
    );
    let csrf = app.csrf(Role::Manager).to_string();
    let form = format!(
        "csrf={csrf}&enabled=1&return_days=0&validity_days=365&refund_policy=claw_back&credit_limit=0&point_value_minor=1&currency=KRW&tier_window_days=365&downgrade=after_days&downgrade_days=90&excluded_products=&excluded_categories=gift&expiry_notice_days=30&tiers={}",
        urlencode("sprout | 새싹 | Sprout | 0\ntree | 나무 | Tree | 1000")
    );
    let saved = app
        .page(Role::Manager, "POST", "/loyalty/program", Some(&form))
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.text());
    let rule = format!(
        "csrf={csrf}&name=base&kind=base&points=1&per=100&currency=KRW&percent=&scope=all&scope_values=&starts=&ends="
    );
    let added = app
        .page(Role::Manager, "POST", "/loyalty/rules", Some(&rule))
        .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.text());
    let bad = app
        .page(
            Role::Manager,
            "POST",
            "/loyalty/program",
            Some(&form.replace("tier_window_days=365", "tier_window_days=0")),
        )
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let id = app
        .customer(json!({"external_id": "C-5", "name": "정다섯"}))
        .await;
    order(&app, (id, "C-5"), "O-5", &[("코트", "outer", "150000", 1)]).await;
    let program = app.page(Role::Viewer, "GET", "/loyalty", None).await.text();
    assert!(
        program.contains("1,500 P") && program.contains("Tree"),
        "{program}"
    );
    let ledger = app
        .page(
            Role::Manager,
            "GET",
            &format!("/customers/{id}/points"),
            None,
        )
        .await;
    assert_eq!(ledger.status, StatusCode::OK);
    assert!(ledger.text().contains("O-5") && ledger.text().contains("id=\"adjust-form\""));
    let viewer = app
        .page(
            Role::Viewer,
            "GET",
            &format!("/customers/{id}/points"),
            None,
        )
        .await;
    assert!(!viewer.text().contains("id=\"adjust-form\""));
    let adjusted = app
        .page(
            Role::Manager,
            "POST",
            &format!("/customers/{id}/points/adjust"),
            Some(&format!(
                "csrf={csrf}&points=-100&reason={}",
                urlencode("정정")
            )),
        )
        .await;
    assert_eq!(
        adjusted.status,
        StatusCode::SEE_OTHER,
        "{}",
        adjusted.text()
    );
    assert_eq!(points(&app, id).await["balance"], 1400);
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)]).unwrap()[1..].to_string()
}
