//! The customer models over HTTP on a moving clock: a customer's value (RFM cell,
//! probability alive, expected purchases, lifetime value) from their orders net of
//! refunds, products to offer (bought together, never what they have; best sellers for a
//! customer with no history), products bought together, staleness after new orders, bad
//! input, and the Customer 360 card.

mod support;

use std::sync::Arc;

use axum::http::StatusCode;
use nunchi_core::access::Role;
use serde_json::{Value, json};
use support::TestApp;

/// 2026-03-02 12:00 KST.
const START: i64 = 1_772_420_400_000;

async fn order(app: &TestApp, customer: &str, order: &str, day: &str, products: &[(&str, &str)]) {
    let lines: Vec<Value> = products
        .iter()
        .map(|(product, price)| {
            json!({"order_id": order, "customer_external_id": customer,
                   "placed_at": format!("{day}T10:00:00+09:00"), "product": product,
                   "category": "skin", "unit_price": price, "quantity": 1})
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
}

async fn get(app: &TestApp, path: &str) -> (StatusCode, Value) {
    let r = app.api(Some(Role::Viewer), "GET", path, None).await;
    let status = r.status;
    (
        status,
        if status == StatusCode::OK {
            r.json()
        } else {
            Value::Null
        },
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn value_and_recommendations_follow_the_orders() {
    let clock = Arc::new(nunchi_app::TestClock::at(START));
    let app = TestApp::with_clock(clock.clone()).await;
    let mut ids = Vec::new();
    for n in 0..8 {
        ids.push(
            app.customer(json!({"external_id": format!("C-{n}"), "name": format!("고객{n}")}))
                .await,
        );
    }
    // C-0..C-3 buy cream with serum, some again later; C-4 and C-5 buy lip balm with
    // sunscreen; C-6 only cream; C-7 nothing yet.
    let days = ["2025-10-01", "2025-11-15", "2026-01-10", "2026-02-20"];
    for n in 0..4 {
        for (k, day) in days.iter().enumerate().take(n + 1) {
            // Prices move a little from order to order, as shops' do.
            let serum = (45_000 + 1_000 * k * n).to_string();
            order(
                &app,
                &format!("C-{n}"),
                &format!("O-{n}-{k}"),
                day,
                &[("크림", "32000"), ("세럼", &serum)],
            )
            .await;
        }
    }
    for n in 4..6 {
        order(
            &app,
            &format!("C-{n}"),
            &format!("O-{n}"),
            "2026-02-01",
            &[("립밤", "5000"), ("선크림", "18000")],
        )
        .await;
    }
    order(&app, "C-6", "O-6", "2026-02-25", &[("크림", "32000")]).await;

    // C-3 bought on four days: 4 × 32,000 + 45,000 + 48,000 + 51,000 + 54,000 KRW.
    let (status, v) = get(&app, &format!("/api/v1/customers/{}/value", ids[3])).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(v["currency"], "KRW");
    assert_eq!(v["purchase_days"], 4, "{v}");
    assert_eq!(v["total_spend"].as_f64(), Some(326_000.0), "{v}");
    let cell = v["rfm"]["cell"].as_str().unwrap();
    assert!(nunchi_analytics::rfm::Cell::parse(cell).is_some(), "{cell}");
    let alive = v["probability_alive"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&alive), "{v}");
    assert!(v["expected_purchases"].as_f64().unwrap() > 0.0, "{v}");
    assert!(v["clv"].as_f64().unwrap() > 0.0, "{v}");
    // The frequent buyer scores higher on frequency than the one-off buyer.
    let (_, once) = get(&app, &format!("/api/v1/customers/{}/value", ids[0])).await;
    assert!(
        v["rfm"]["f"].as_u64() > once["rfm"]["f"].as_u64(),
        "{v} {once}"
    );
    // No purchases: no figures.
    let (_, none) = get(&app, &format!("/api/v1/customers/{}/value", ids[7])).await;
    assert!(none["rfm"].is_null() && none["clv"].is_null(), "{none}");

    // C-6 has cream: serum goes with it, and cream is never offered back.
    let (_, r) = get(
        &app,
        &format!("/api/v1/customers/{}/recommendations?top=3", ids[6]),
    )
    .await;
    assert_eq!(r["personal"], true, "{r}");
    assert_eq!(r["products"][0], "세럼", "{r}");
    assert!(!r["products"].as_array().unwrap().contains(&json!("크림")));
    // No history: the best sellers, said so.
    let (_, r) = get(
        &app,
        &format!("/api/v1/customers/{}/recommendations?top=2", ids[7]),
    )
    .await;
    assert_eq!(r["personal"], false, "{r}");
    assert_eq!(
        r["products"],
        json!(["크림", "세럼"]),
        "most customers first"
    );
    let (_, similar) = get(&app, "/api/v1/products/similar?product=%EB%A6%BD%EB%B0%A4").await;
    assert_eq!(similar, json!(["선크림"]));
    assert_eq!(
        get(&app, "/api/v1/products/similar?product=nothing")
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let bad = format!("/api/v1/customers/{}/recommendations?top=0", ids[6]);
    assert_eq!(get(&app, &bad).await.0, StatusCode::BAD_REQUEST);
    assert_eq!(
        get(&app, "/api/v1/customers/999999/value").await.0,
        StatusCode::NOT_FOUND
    );

    // A new order counts once the snapshot may be rebuilt (a minute), not on every read.
    order(&app, "C-7", "O-7", "2026-03-02", &[("립밤", "5000")]).await;
    let (_, still) = get(&app, &format!("/api/v1/customers/{}/value", ids[7])).await;
    assert!(
        still["rfm"].is_null(),
        "within a minute the snapshot stands: {still}"
    );
    clock.advance(61_000);
    let (_, now) = get(&app, &format!("/api/v1/customers/{}/value", ids[7])).await;
    assert_eq!(now["purchase_days"], 1, "{now}");
    let (_, r) = get(
        &app,
        &format!("/api/v1/customers/{}/recommendations?top=1", ids[7]),
    )
    .await;
    assert_eq!(r["products"], json!(["선크림"]), "{r}");

    // The whole base: grid, cells and histogram each count every buyer once.
    let (_, o) = get(&app, "/api/v1/customer-value").await;
    assert_eq!(o["customers"], 8, "{o}");
    let grid: u64 = o["grid"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r.as_array().unwrap())
        .map(|n| n.as_u64().unwrap())
        .sum();
    let cells: u64 = o["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["customers"].as_u64().unwrap())
        .sum();
    let bins: u64 = o["clv_histogram"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["customers"].as_u64().unwrap())
        .sum();
    assert_eq!((grid, cells, bins), (8, 8, 8), "{o}");
    assert!(o["total_clv"].as_f64().unwrap() > 0.0);
    let page = app.page(Role::Agent, "GET", "/customer-value", None).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(
        html.contains("id=\"rfm-grid\"") && html.contains("id=\"rfm-cells\""),
        "{html}"
    );

    // The Customer 360 card, in Korean and English.
    let page = app
        .page(Role::Agent, "GET", &format!("/customers/{}", ids[6]), None)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(
        html.contains("id=\"value-offer\"") && html.contains("<li>세럼</li>"),
        "{html}"
    );
    assert!(html.contains("id=\"value-rfm\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shop_without_orders_says_so() {
    let app = TestApp::new().await;
    let page = app.page(Role::Viewer, "GET", "/customer-value", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text().contains("id=\"value-empty\""));
    let (_, o) = get(&app, "/api/v1/customer-value").await;
    assert_eq!(o["customers"], 0);
    assert!(
        o["total_clv"].is_null() && o["clv_histogram"].as_array().unwrap().is_empty(),
        "{o}"
    );
    let id = app
        .customer(json!({"external_id": "N-1", "name": "새 고객"}))
        .await;
    let (_, r) = get(&app, &format!("/api/v1/customers/{id}/recommendations")).await;
    assert_eq!(r, json!({"products": [], "personal": false}));
}
