//! The points ledger's storage on both backends: entries that nothing can update or
//! delete, kept lots and debts that equal a full replay after random histories, merges
//! that keep every point, rules that would double-award refused, and concurrent spends
//! that never overdraw.

use std::sync::Arc;

use nunchi_core::{
    customer::{CustomerName, ProfileFields},
    import::CustomerRecord,
    loyalty::{
        Op, RefundPolicy,
        earn::{EarnRule, ScopeKind},
    },
};
use nunchi_store::{Store, StoreError, each_backend, testing};

const DAY: i64 = 86_400_000;

async fn person(s: &dyn Store, name: &str) -> i64 {
    let record = CustomerRecord {
        external_id: Some(format!("ext-{name}")),
        profile: ProfileFields {
            name: Some(CustomerName::parse(name).unwrap()),
            ..Default::default()
        },
        ..Default::default()
    };
    s.create_customer(&record, &[], "test").await.unwrap()
}

fn earn(key: &str, order: &str, points: i64, now: i64) -> Op {
    Op::Earn {
        key: key.into(),
        points,
        order_ref: Some(order.into()),
        rule_id: None,
        product: Some("coat".into()),
        category: Some("outer".into()),
        occurred_at: now,
        available_at: now,
        expires_at: Some(now + 365 * DAY),
    }
}

fn spend(key: &str, points: i64) -> Op {
    Op::Spend {
        key: key.into(),
        points,
        order_ref: None,
        credit_limit: 0,
        reason: "test".into(),
    }
}

/// The clock the store stamps with; lots are timed from it.
fn now_of() -> i64 {
    nunchi_core::clock::SystemClock.now_ms()
}
use nunchi_core::clock::Clock;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_and_draws_refuse_update_and_delete() {
    for backend in testing::backends() {
        let url = testing::fresh_url(backend).await.unwrap();
        let s = nunchi_store::connect(&url).await.unwrap();
        let c = person(&*s, "김하나").await;
        let now = now_of();
        let posted = s
            .post_loyalty(
                &[(c, earn("e1", "o1", 500, now)), (c, spend("s1", 200))],
                "test",
            )
            .await
            .unwrap();
        assert!(
            posted
                .iter()
                .all(|r| r.as_ref().is_ok_and(|ids| ids.len() == 1))
        );
        for sql in [
            "UPDATE loyalty_entries SET points = 1000000",
            "DELETE FROM loyalty_entries",
            "UPDATE loyalty_draws SET points = 1",
            "DELETE FROM loyalty_draws",
        ] {
            assert!(
                testing::execute_raw(&url, sql).await.is_err(),
                "on {backend}: {sql} went through"
            );
        }
        let ledger = s.loyalty_ledger(c).await.unwrap();
        assert_eq!(ledger.balance(now + 1), 300, "on {backend}");
        assert_eq!(s.loyalty_points(c).await.unwrap().balance(now + 1), 300);
    }
}

each_backend!(
    kept_state_equals_a_full_replay_after_random_histories,
    |s| {
        // A small deterministic generator: no dependency, the same history every run.
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let customers = [
            person(&*s, "가나다").await,
            person(&*s, "라마바").await,
            person(&*s, "사아자").await,
        ];
        let now = now_of();
        let mut ops = Vec::new();
        for i in 0..300 {
            let c = customers[next(3) as usize];
            let order = format!("o{}", next(12));
            let op = match next(7) {
                0 | 1 => Op::Earn {
                    key: format!("earn:{i}"),
                    points: 1 + next(900) as i64,
                    order_ref: Some(order),
                    rule_id: None,
                    product: None,
                    category: None,
                    occurred_at: now - next(400) as i64 * DAY,
                    available_at: now - next(30) as i64 * DAY + next(20) as i64 * DAY,
                    expires_at: Some(now - 10 * DAY + next(60) as i64 * DAY),
                },
                2 => Op::Spend {
                    key: format!("spend:{i}"),
                    points: 1 + next(600) as i64,
                    order_ref: Some(order),
                    credit_limit: next(200) as i64,
                    reason: String::new(),
                },
                3 => Op::Reverse {
                    order_ref: order,
                    refunded: next(101) as i64,
                    total: 100,
                    policy: if next(2) == 0 {
                        RefundPolicy::ClawBack
                    } else {
                        RefundPolicy::NegativeBalance
                    },
                },
                4 => Op::Return {
                    order_ref: order,
                    refunded: next(101) as i64,
                    total: 100,
                },
                5 => Op::Adjust {
                    key: format!("adjust:{i}"),
                    points: next(400) as i64 - 200,
                    reason: "correction".into(),
                    expires_at: None,
                },
                _ => Op::Expire,
            };
            ops.push((c, op));
        }
        // Half in one batch, the rest one by one: both paths keep the same state.
        let (batch, single) = ops.split_at(150);
        s.post_loyalty(batch, "test").await.unwrap();
        for op in single {
            s.post_loyalty(std::slice::from_ref(op), "test")
                .await
                .unwrap();
        }
        let check = s.verify_loyalty().await.unwrap();
        assert_eq!(check.customers, 3);
        assert!(check.entries > 100, "{check:?}");
        assert!(check.mismatched.is_empty(), "{check:?}");
        for c in customers {
            let replay = s.loyalty_ledger(c).await.unwrap();
            let kept = s.loyalty_points(c).await.unwrap();
            let t = replay.totals;
            assert_eq!(t.credited(), t.debited() + replay.outstanding());
            for at in [now - 5 * DAY, now, now + 50 * DAY] {
                assert_eq!(kept.balance(at), replay.balance(at));
                assert_eq!(kept.pending(at), replay.pending(at));
            }
        }
        // The summary's movements add up the same way.
        let sum = s.loyalty_summary(now).await.unwrap();
        assert_eq!(sum.members, 3);
        let mut outstanding = 0;
        for c in customers {
            outstanding += s.loyalty_ledger(c).await.unwrap().outstanding();
        }
        assert_eq!(sum.totals.credited(), sum.totals.debited() + outstanding);
    }
);

each_backend!(a_merge_keeps_both_customers_points, |s| {
    let a = person(&*s, "합병일").await;
    let b = person(&*s, "합병이").await;
    let now = now_of();
    s.post_loyalty(
        &[
            (a, earn("a1", "oa", 300, now)),
            (b, earn("b1", "ob", 200, now)),
        ],
        "test",
    )
    .await
    .unwrap();
    s.merge_customers(b, a, "test").await.unwrap();
    assert_eq!(s.loyalty_points(a).await.unwrap().balance(now + 1), 500);
    // Spending draws from both accounts' lots.
    let r = s
        .post_loyalty(&[(a, spend("s", 450))], "test")
        .await
        .unwrap();
    assert!(r[0].is_ok(), "{r:?}");
    assert_eq!(s.loyalty_ledger(a).await.unwrap().balance(now + 1), 50);
    assert!(s.verify_loyalty().await.unwrap().mismatched.is_empty());
    let export = serde_json::to_value(s.export_customer(a).await.unwrap()).unwrap();
    assert_eq!(export["loyalty_entries"].as_array().unwrap().len(), 3);
});

each_backend!(rules_that_would_double_award_are_refused, |s| {
    let rule = |name: &str, values: &[&str]| EarnRule {
        starts_at: Some(0),
        ends_at: Some(10 * DAY),
        ..EarnRule::multiplier(name, 200, ScopeKind::Category, values)
    };
    let first = s
        .save_loyalty_rule(&rule("겨울 외투 2배", &["outer"]))
        .await
        .unwrap();
    let err = s
        .save_loyalty_rule(&rule("외투 특가", &["outer", "shoes"]))
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(ref m) if m.contains("겨울 외투 2배")),
        "{err}"
    );
    // Editing the rule itself is no overlap with itself.
    let mut edited = rule("겨울 외투 2배 (연장)", &["outer"]);
    edited.id = first;
    edited.ends_at = Some(20 * DAY);
    s.save_loyalty_rule(&edited).await.unwrap();
    let rules = s.loyalty_rules().await.unwrap();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0].ends_at, Some(20 * DAY));
    assert_eq!(rules[0].scope_values, vec!["outer"]);
});

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_spends_never_overdraw() {
    for backend in testing::backends() {
        let s: Arc<dyn Store> = testing::fresh_store(backend).await;
        let c = person(&*s, "동시").await;
        let now = now_of();
        s.post_loyalty(&[(c, earn("e", "o", 1000, now))], "test")
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for i in 0..12 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                s.post_loyalty(&[(c, spend(&format!("s{i}"), 100))], "test")
                    .await
                    .unwrap()
                    .remove(0)
                    .is_ok()
            }));
        }
        let mut ok = 0;
        for t in tasks {
            ok += t.await.unwrap() as i64;
        }
        assert_eq!(ok, 10, "on {backend}");
        assert_eq!(s.loyalty_points(c).await.unwrap().balance(now + 1), 0);
        assert!(s.verify_loyalty().await.unwrap().mismatched.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_takes_never_oversell_a_reward() {
    use nunchi_core::loyalty::reward::Reward;
    use nunchi_store::model::RewardOutcome;
    for backend in testing::backends() {
        let s: Arc<dyn Store> = testing::fresh_store(backend).await;
        let c = person(&*s, "리워드").await;
        let now = now_of();
        s.post_loyalty(&[(c, earn("e", "o", 10_000, now))], "test")
            .await
            .unwrap();
        let reward = s
            .save_loyalty_reward(&Reward {
                id: 0,
                name_ko: "에코백".into(),
                name_en: "Tote bag".into(),
                points: 500,
                stock: Some(3),
                active: true,
            })
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for i in 0..8 {
            let s = s.clone();
            tasks.push(tokio::spawn(async move {
                s.redeem_reward(c, reward, &format!("take-{i}"), None, 0, "test")
                    .await
                    .unwrap()
            }));
        }
        let mut taken = 0;
        for t in tasks {
            match t.await.unwrap() {
                RewardOutcome::Taken(_) => taken += 1,
                RewardOutcome::Unavailable => {}
                other => panic!("on {backend}: {other:?}"),
            }
        }
        assert_eq!(taken, 3, "on {backend}");
        assert_eq!(s.loyalty_rewards().await.unwrap()[0].stock, Some(0));
        assert_eq!(s.loyalty_points(c).await.unwrap().balance(now + 1), 8_500);
        // A take the balance cannot cover changes nothing, the stock included.
        let dear = s
            .save_loyalty_reward(&Reward {
                id: 0,
                name_ko: "큰 선물".into(),
                name_en: "Big gift".into(),
                points: 9_000,
                stock: Some(1),
                active: true,
            })
            .await
            .unwrap();
        let refused = s
            .redeem_reward(c, dear, "dear", None, 0, "test")
            .await
            .unwrap();
        assert!(matches!(refused, RewardOutcome::Refused(_)), "{refused:?}");
        assert_eq!(s.loyalty_rewards().await.unwrap()[1].stock, Some(1));
    }
}
