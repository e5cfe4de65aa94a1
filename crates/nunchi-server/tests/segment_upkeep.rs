//! Live segments kept up incrementally: a round judges only the customers new data
//! touched and those whose window passed, records why each moved ("data", "time"), and —
//! the property — over random histories of events, orders, tags, attributes, NPS answers
//! and the clock moving, the members kept this way equal a full recomputation, and
//! replaying the stored entries and exits gives the members. Runs on the backend
//! `NUNCHI_TEST_BACKEND` names (the test script runs both).

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::http::StatusCode;
use nunchi_app::Clock;
use nunchi_app::segment_upkeep::catch_up;
use nunchi_core::access::Role;
use proptest::prelude::*;
use serde_json::{Value, json};
use support::{TestApp, save_segment};

/// 2026-03-02 12:00 KST.
const START: i64 = 1_772_420_400_000;
const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
const CUSTOMERS: usize = 7;

fn iso(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).unwrap().to_string()
}

async fn post(app: &TestApp, path: &str, body: Value) -> Value {
    let r = app.api(Some(Role::Manager), "POST", path, Some(body)).await;
    assert!(r.status.is_success(), "{path}: {} {}", r.status, r.text());
    r.json()
}

async fn event(app: &TestApp, who: usize, name: &str, at: i64, id: &str) {
    support::post_events(
        app,
        vec![json!({"userId": format!("U-{who}"), "event": name,
                    "timestamp": iso(at), "messageId": id})],
    )
    .await;
}

/// Who a full recomputation puts in the segment now (the preview lists up to 20).
async fn full(app: &TestApp, rule: &Value) -> BTreeSet<i64> {
    let r = app
        .api(
            Some(Role::Viewer),
            "POST",
            "/api/v1/segments/preview",
            Some(json!({"rule": rule})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let p = r.json();
    let ids: BTreeSet<i64> = p["sample"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(p["customers"].as_u64(), Some(ids.len() as u64));
    ids
}

/// The stored members, checked against a replay of the stored entries and exits.
async fn kept(app: &TestApp, id: i64) -> BTreeSet<i64> {
    let store = &app.state.store;
    let members: BTreeSet<i64> = store
        .segment_member_ids(id)
        .await
        .unwrap()
        .into_iter()
        .collect();
    let mut replay = BTreeSet::new();
    let mut changes = store.segment_changes(id, 100_000).await.unwrap();
    changes.reverse();
    for c in changes {
        // Every entry is of a non-member and every exit of a member.
        if c.entered {
            assert!(replay.insert(c.customer_id), "entered twice: {c:?}");
        } else {
            assert!(replay.remove(&c.customer_id), "left unentered: {c:?}");
        }
    }
    assert_eq!(replay, members, "the history replays to the members");
    members
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_round_judges_only_the_touched_and_the_due() {
    let clock = Arc::new(nunchi_app::TestClock::at(START));
    let app = TestApp::with_clock(clock.clone()).await;
    let mut ids = Vec::new();
    for n in 0..30 {
        ids.push(
            app.customer(json!({"external_id": format!("U-{n}"), "name": format!("고객{n}")}))
                .await,
        );
    }
    let rule = json!({"type": "event", "name": "visit", "within_days": 7});
    event(&app, 0, "visit", START - DAY, "v0").await;
    let a = &app.state.app;
    // With no segment yet, the touches of the set-up go by.
    let first = catch_up(a).await.unwrap();
    assert_eq!((first.full, first.customers), (0, 0), "{first:?}");
    // Saved, the segment is judged in full at once; the next round has nothing to do.
    let seg = save_segment(&app, "이번 주 방문", rule.clone()).await;
    assert_eq!(kept(&app, seg).await, BTreeSet::from([ids[0]]));
    assert_eq!(catch_up(a).await.unwrap(), Default::default());

    // One visit touches one customer, who enters for new data.
    event(&app, 3, "visit", START, "v3").await;
    let round = catch_up(a).await.unwrap();
    assert_eq!(
        (round.full, round.customers, round.entered, round.left),
        (0, 1, 1, 0),
        "{round:?}"
    );
    assert_eq!(kept(&app, seg).await, BTreeSet::from([ids[0], ids[3]]));
    let newest = &app.state.store.segment_changes(seg, 1).await.unwrap()[0];
    assert_eq!(
        (newest.customer_id, newest.reason.as_str()),
        (ids[3], "data")
    );

    // Nothing new, no time passed: nobody is judged.
    assert_eq!(catch_up(a).await.unwrap().customers, 0);

    // Six days on U-0's visit leaves the window: only U-0 is judged, and leaves for time.
    clock.advance(6 * DAY + HOUR);
    let round = catch_up(a).await.unwrap();
    assert_eq!(
        (round.customers, round.entered, round.left),
        (1, 0, 1),
        "{round:?}"
    );
    let newest = &app.state.store.segment_changes(seg, 1).await.unwrap()[0];
    assert_eq!(
        (newest.customer_id, newest.reason.as_str()),
        (ids[0], "time")
    );
    assert_eq!(kept(&app, seg).await, BTreeSet::from([ids[3]]));
    assert_eq!(full(&app, &rule).await, BTreeSet::from([ids[3]]));

    // A tag set through the API is a touch too.
    let tagged = save_segment(&app, "VIP", json!({"type": "tag", "tag": "vip"})).await;
    catch_up(a).await.unwrap();
    let r = app
        .api(
            Some(Role::Manager),
            "PATCH",
            &format!("/api/v1/customers/{}", ids[7]),
            Some(json!({"tags": ["vip"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let round = catch_up(a).await.unwrap();
    assert_eq!((round.customers, round.entered), (1, 1), "{round:?}");
    assert_eq!(kept(&app, tagged).await, BTreeSet::from([ids[7]]));
}

/// One thing that happens in a random history.
#[derive(Debug, Clone)]
enum Step {
    Event {
        who: usize,
        name: usize,
        hours_ago: i64,
    },
    Order {
        who: usize,
        product: usize,
        days_ago: i64,
        price: u32,
    },
    Vip {
        who: usize,
        on: bool,
    },
    Age {
        who: usize,
        age: u32,
    },
    Nps {
        who: usize,
        rating: u32,
    },
    Wait {
        hours: i64,
    },
    CatchUp,
}

const EVENTS: [&str; 3] = ["visit", "add_to_cart", "purchase"];
const PRODUCTS: [&str; 2] = ["크림", "세럼"];

fn step() -> impl Strategy<Value = Step> {
    let who = 0..CUSTOMERS;
    prop_oneof![
        4 => (who.clone(), 0..EVENTS.len(), 0..(40 * 24i64))
            .prop_map(|(who, name, hours_ago)| Step::Event { who, name, hours_ago }),
        2 => (who.clone(), 0..PRODUCTS.len(), 0..60i64, 1..9u32)
            .prop_map(|(who, product, days_ago, price)| Step::Order { who, product, days_ago, price }),
        1 => (who.clone(), any::<bool>()).prop_map(|(who, on)| Step::Vip { who, on }),
        1 => (who.clone(), 18..60u32).prop_map(|(who, age)| Step::Age { who, age }),
        1 => (who, 0..=10u32).prop_map(|(who, rating)| Step::Nps { who, rating }),
        2 => (1..(12 * 24i64)).prop_map(|hours| Step::Wait { hours }),
        2 => Just(Step::CatchUp),
    ]
}

/// The rules the property holds for: windows, negation, orders by product and spend,
/// days since the last order, tags, attributes, NPS, the RFM model, a rating in a window
/// and days since the last visit.
fn rules() -> Vec<Value> {
    vec![
        json!({"type": "all", "rules": [
            {"type": "event", "name": "add_to_cart", "at_least": 2, "within_days": 14},
            {"type": "not", "rule": {"type": "event", "name": "purchase", "within_days": 14}}]}),
        json!({"type": "orders", "measure": "days_since_last", "cmp": "gt", "value": 10}),
        json!({"type": "orders", "measure": "spend", "cmp": "gte", "value": 60000, "within_days": 30}),
        json!({"type": "any", "rules": [{"type": "tag", "tag": "vip"}, {"type": "nps", "groups": ["promoter"]}]}),
        json!({"type": "all", "rules": [
            {"type": "attribute", "key": "age", "cmp": "gte", "value": "30"},
            {"type": "not", "rule": {"type": "tag", "tag": "vip"}},
            {"type": "event", "name": "visit", "within_days": 5}]}),
        json!({"type": "orders", "measure": "count", "cmp": "gte", "value": 1, "product": "크림", "within_days": 20}),
        json!({"type": "rfm", "cells": ["champions", "loyal", "potential_loyalists", "new_customers", "promising"]}),
        json!({"type": "rating", "metric": "nps", "cmp": "lte", "value": 6, "within_days": 10}),
        json!({"type": "event_days", "which": "last", "name": "visit", "cmp": "gt", "value": 5}),
        // No ledger is no points, whether a round reads one customer's or a full pass all.
        json!({"type": "loyalty", "measure": "points", "cmp": "lt", "value": 1}),
    ]
}

async fn history_keeps_up(steps: Vec<Step>) {
    let clock = Arc::new(nunchi_app::TestClock::at(START));
    let app = TestApp::with_clock(clock.clone()).await;
    let mut ids = Vec::new();
    for n in 0..CUSTOMERS {
        ids.push(
            app.customer(
                json!({"external_id": format!("U-{n}"), "attributes": {"age": 20 + 6 * n}}),
            )
            .await,
        );
    }
    // An event of each name first, so every rule checks against the names seen.
    for (k, name) in EVENTS.iter().enumerate() {
        event(&app, k, name, START - 90 * DAY, &format!("seed{k}")).await;
    }
    let rules = rules();
    let mut segments = Vec::new();
    for (k, rule) in rules.iter().enumerate() {
        segments.push(save_segment(&app, &format!("s{k}"), rule.clone()).await);
    }
    let a = &app.state.app;
    let compare = async |when: &str| {
        for (rule, &seg) in rules.iter().zip(&segments) {
            assert_eq!(
                kept(&app, seg).await,
                full(&app, rule).await,
                "{when}: {rule}"
            );
        }
    };
    for (n, step) in steps.iter().enumerate() {
        let now = clock.now_ms();
        match *step {
            Step::Event {
                who,
                name,
                hours_ago,
            } => {
                event(
                    &app,
                    who,
                    EVENTS[name],
                    now - hours_ago * HOUR,
                    &format!("e{n}"),
                )
                .await
            }
            Step::Order {
                who,
                product,
                days_ago,
                price,
            } => {
                let line = json!({"order_id": format!("O-{n}"), "customer_external_id": format!("U-{who}"),
                                  "placed_at": iso(now - days_ago * DAY), "product": PRODUCTS[product],
                                  "category": "skin", "unit_price": (price * 10_000).to_string(), "quantity": 1});
                post(&app, "/api/v1/orders", json!({"lines": [line]})).await;
            }
            Step::Vip { who, on } => {
                let tags = if on { json!(["vip"]) } else { json!([]) };
                let r = app
                    .api(
                        Some(Role::Manager),
                        "PATCH",
                        &format!("/api/v1/customers/{}", ids[who]),
                        Some(json!({"tags": tags})),
                    )
                    .await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.text());
            }
            Step::Age { who, age } => {
                let r = app
                    .api(
                        Some(Role::Manager),
                        "PATCH",
                        &format!("/api/v1/customers/{}", ids[who]),
                        Some(json!({"attributes": {"age": age}})),
                    )
                    .await;
                assert_eq!(r.status, StatusCode::OK, "{}", r.text());
            }
            Step::Nps { who, rating } => {
                support::add_feedback(
                    &app,
                    json!([{"source": "survey", "external_id": format!("n{n}"), "metric": "nps",
                            "rating": rating, "customer_id": ids[who], "created_at": iso(now)}]),
                )
                .await;
            }
            Step::Wait { hours } => clock.advance(hours * HOUR),
            Step::CatchUp => {
                catch_up(a).await.unwrap();
                compare(&format!("after step {n}")).await;
            }
        }
    }
    catch_up(a).await.unwrap();
    compare("at the end").await;
    // A week later with no new data, time alone moved whoever it moves.
    clock.advance(7 * DAY);
    catch_up(a).await.unwrap();
    compare("a week later").await;
}

#[test]
fn incremental_membership_equals_a_full_recomputation() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 12,
        max_shrink_iters: 50,
        ..ProptestConfig::default()
    });
    runner
        .run(&proptest::collection::vec(step(), 10..40), |steps| {
            rt.block_on(history_keeps_up(steps));
            Ok(())
        })
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feedback_desk_identity_and_segment_conditions_follow_their_data() {
    let clock = Arc::new(nunchi_app::TestClock::at(START));
    let app = TestApp::with_clock(clock.clone()).await;
    let a = app
        .customer(json!({"external_id": "U-0", "email": "hana@example.com"}))
        .await;
    let b = app.customer(json!({"external_id": "U-1"})).await;
    event(&app, 0, "visit", START - HOUR, "v0").await;
    event(&app, 1, "visit", START - 2 * HOUR, "v1").await;
    let vip = save_segment(&app, "VIP", json!({"type": "tag", "tag": "vip"})).await;
    let rules = [
        json!({"type": "rating", "metric": "csat", "cmp": "lte", "value": 2, "within_days": 30}),
        json!({"type": "open_conversation"}),
        json!({"type": "all", "rules": [{"type": "segment", "segment": vip}, {"type": "identity", "kind": "email"}]}),
        json!({"type": "event_days", "which": "last", "name": "visit", "cmp": "gt", "value": 10}),
    ];
    let mut ids = Vec::new();
    for (k, rule) in rules.iter().enumerate() {
        ids.push(save_segment(&app, &format!("c{k}"), rule.clone()).await);
    }
    let [unhappy, waiting, vip_email, lapsed] = ids[..] else {
        unreachable!()
    };
    // One level only: a segment named by another may not be named in turn.
    let r = app
        .api(
            Some(Role::Manager),
            "POST",
            "/api/v1/segments",
            Some(json!({"name": "nested", "rule": {"type": "segment", "segment": vip_email}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text());
    assert!(r.text().contains("one level"), "{}", r.text());
    let a_app = &app.state.app;
    catch_up(a_app).await.unwrap();

    // A poor CSAT answer.
    support::add_feedback(
        &app,
        json!([{"source": "support", "external_id": "cs1", "metric": "csat", "rating": 1,
                "scale_min": 1, "scale_max": 5, "customer_id": a, "created_at": iso(START)}]),
    )
    .await;
    // An e-mail to the desk opens a conversation for the same customer.
    let mail = app
        .send(
            axum::http::Request::builder()
                .method("POST")
                .uri("/api/v1/inbound/email")
                .header(axum::http::header::AUTHORIZATION, app.bearer(Role::Agent))
                .header(axum::http::header::CONTENT_TYPE, "message/rfc822")
                .body(axum::body::Body::from(
                    "From: hana@example.com\r\nSubject: 환불\r\n\r\n환불해 주세요",
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(mail.status, StatusCode::OK, "{}", mail.text());
    // Made a VIP: she enters VIP, and the next round the segment that names VIP.
    let r = app
        .api(
            Some(Role::Manager),
            "PATCH",
            &format!("/api/v1/customers/{a}"),
            Some(json!({"tags": ["vip"]})),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    catch_up(a_app).await.unwrap();
    assert_eq!(kept(&app, unhappy).await, BTreeSet::from([a]));
    assert_eq!(kept(&app, waiting).await, BTreeSet::from([a]));
    assert_eq!(kept(&app, vip).await, BTreeSet::from([a]));
    catch_up(a_app).await.unwrap();
    assert_eq!(kept(&app, vip_email).await, BTreeSet::from([a]));
    assert!(kept(&app, lapsed).await.is_empty());

    // Eleven days without a visit; a month on, the CSAT answer is out of its window.
    clock.advance(11 * DAY);
    catch_up(a_app).await.unwrap();
    assert_eq!(kept(&app, lapsed).await, BTreeSet::from([a, b]));
    assert_eq!(kept(&app, unhappy).await, BTreeSet::from([a]));
    clock.advance(20 * DAY);
    catch_up(a_app).await.unwrap();
    assert!(kept(&app, unhappy).await.is_empty());
    let newest = &app.state.store.segment_changes(unhappy, 1).await.unwrap()[0];
    assert_eq!((newest.customer_id, newest.reason.as_str()), (a, "time"));
    for (rule, seg) in rules.iter().zip(&ids) {
        assert_eq!(kept(&app, *seg).await, full(&app, rule).await, "{rule}");
    }
}
