//! The ledger's rules, each pinned by the bug an anchor product shipped, and a property
//! test of the conservation law and replay over random histories.

use proptest::prelude::*;

use super::*;

const DAY: i64 = DAY_MS;

/// Posts `op` as the store does: plan, write each posting under the next id, and settle
/// debt from every new lot. Keeps every posting for replays.
struct Book {
    ledger: Ledger,
    written: Vec<(i64, Posting)>,
}

impl Book {
    fn new() -> Self {
        Self {
            ledger: Ledger::default(),
            written: vec![],
        }
    }

    fn post(&mut self, op: Op, now: i64) -> Result<usize, LedgerError> {
        let postings = self.ledger.plan(&op, now)?;
        let n = postings.len();
        for p in postings {
            let id = self.write(p);
            if let Some(s) = self.ledger.settle_from(id, now) {
                self.write(s);
            }
        }
        Ok(n)
    }

    fn write(&mut self, p: Posting) -> i64 {
        let id = self.written.len() as i64 + 1;
        self.ledger.apply(id, &p);
        self.written.push((id, p));
        id
    }

    fn earn(&mut self, order: &str, points: i64, at: i64, pending_days: i64, valid_days: i64) {
        self.post(
            Op::Earn {
                key: format!("earn:{order}:line:1"),
                points,
                order_ref: Some(order.into()),
                rule_id: Some(1),
                product: Some("coat".into()),
                category: Some("outer".into()),
                occurred_at: at,
                available_at: at + pending_days * DAY,
                expires_at: Some(at + (pending_days + valid_days) * DAY),
            },
            at,
        )
        .unwrap();
    }

    fn spend(
        &mut self,
        key: &str,
        points: i64,
        order: Option<&str>,
        now: i64,
    ) -> Result<usize, LedgerError> {
        self.post(
            Op::Spend {
                key: key.into(),
                points,
                order_ref: order.map(Into::into),
                credit_limit: 0,
                reason: String::new(),
            },
            now,
        )
    }

    /// Refunds `refunded` of an order whose total is taken to be the points it earned,
    /// so `refunded` reads as points to reverse.
    fn refund(&mut self, order: &str, refunded: i64, policy: RefundPolicy, now: i64) {
        let total = self.ledger.orders.get(order).map_or(1, |o| o.earned.max(1));
        self.post(
            Op::Reverse {
                order_ref: order.into(),
                refunded,
                total,
                policy,
            },
            now,
        )
        .unwrap();
    }

    fn conserved(&self) {
        let t = self.ledger.totals;
        assert_eq!(
            t.credited(),
            t.debited() + self.ledger.outstanding(),
            "{t:?}"
        );
        assert!(
            self.ledger
                .lots
                .values()
                .all(|l| l.remaining >= 0 && l.remaining <= l.amount)
        );
        assert!(self.ledger.debt >= 0);
        let replayed = Ledger::replay(self.written.iter().map(|(id, p)| (*id, p)));
        assert_eq!(replayed, self.ledger);
    }
}

#[test]
fn spending_draws_the_soonest_to_expire_then_the_oldest() {
    let mut b = Book::new();
    b.earn("o1", 100, 0, 0, 365); // expires day 365
    b.earn("o2", 100, DAY, 0, 30); // expires day 31
    b.earn("o3", 100, 2 * DAY, 0, 30); // expires day 32
    b.spend("s1", 150, None, 3 * DAY).unwrap();
    let s = &b.written.last().unwrap().1;
    assert_eq!(
        s.draws,
        vec![
            Draw {
                lot: Some(2),
                points: 100
            },
            Draw {
                lot: Some(3),
                points: 50
            }
        ]
    );
    assert_eq!(b.ledger.balance(3 * DAY), 150);
    b.conserved();
}

#[test]
fn no_spend_beyond_the_balance_unless_a_credit_line_allows() {
    let mut b = Book::new();
    b.earn("o1", 100, 0, 0, 365);
    assert_eq!(
        b.spend("s1", 101, None, DAY),
        Err(LedgerError::Insufficient {
            points: 101,
            available: 100
        })
    );
    assert_eq!(b.spend("s0", 0, None, DAY), Err(LedgerError::NotPositive));
    b.post(
        Op::Spend {
            key: "s2".into(),
            points: 130,
            order_ref: None,
            credit_limit: 50,
            reason: String::new(),
        },
        DAY,
    )
    .unwrap();
    assert_eq!(b.ledger.balance(DAY), -30);
    // The next points pay the debt first.
    b.earn("o2", 100, 2 * DAY, 0, 365);
    assert_eq!(b.ledger.balance(2 * DAY), 70);
    assert_eq!(b.ledger.debt, 0);
    b.conserved();
}

#[test]
fn a_spend_with_the_same_key_is_written_once() {
    let mut b = Book::new();
    b.earn("o1", 100, 0, 0, 365);
    assert_eq!(b.spend("pos-7", 40, None, DAY), Ok(1));
    assert_eq!(b.spend("pos-7", 40, None, DAY), Ok(0));
    assert_eq!(b.ledger.balance(DAY), 60);
}

#[test]
fn replaying_an_order_earns_nothing_more() {
    let mut b = Book::new();
    b.earn("o1", 100, 0, 0, 365);
    b.earn("o1", 100, 0, 0, 365);
    assert_eq!(b.ledger.totals.earned, 100);
}

#[test]
fn pending_points_are_not_spendable_until_the_return_window_ends() {
    let mut b = Book::new();
    b.earn("o1", 100, 0, 14, 365);
    assert_eq!(b.ledger.balance(DAY), 0);
    assert_eq!(b.ledger.pending(DAY), 100);
    assert!(b.spend("s1", 10, None, DAY).is_err());
    assert_eq!(b.ledger.balance(14 * DAY), 100);
    assert_eq!(b.ledger.pending(14 * DAY), 0);
}

/// FloCafe#78: expiring an old lot must not take valid points with it.
#[test]
fn expiry_takes_only_each_lots_remainder() {
    let mut b = Book::new();
    b.earn("old", 100, 0, 0, 30);
    b.earn("new", 200, 20 * DAY, 0, 365);
    b.spend("s1", 60, None, 21 * DAY).unwrap(); // from the old lot, which expires first
    assert_eq!(b.post(Op::Expire, 29 * DAY).unwrap(), 0);
    assert_eq!(b.post(Op::Expire, 31 * DAY).unwrap(), 1);
    assert_eq!(b.ledger.totals.expired, 40);
    assert_eq!(b.ledger.balance(31 * DAY), 200);
    // The job running again expires nothing more.
    assert_eq!(b.post(Op::Expire, 32 * DAY).unwrap(), 0);
    b.conserved();
}

/// odoo#257854 / erpnext#32951: earn, refund, keep the points.
#[test]
fn a_refund_reverses_earned_points_in_proportion_full_partial_and_repeated() {
    let mut b = Book::new();
    b.earn("o1", 300, 0, 0, 365);
    b.refund("o1", 100, RefundPolicy::ClawBack, DAY); // a third refunded
    assert_eq!(b.ledger.balance(DAY), 200);
    b.refund("o1", 100, RefundPolicy::ClawBack, DAY); // the same refund seen again
    assert_eq!(b.ledger.balance(DAY), 200);
    b.refund("o1", 200, RefundPolicy::ClawBack, 2 * DAY); // another third
    b.refund("o1", 300, RefundPolicy::ClawBack, 3 * DAY); // the rest
    assert_eq!(b.ledger.balance(3 * DAY), 0);
    assert_eq!(b.ledger.totals.reversed, 300);
    b.refund("o1", 999, RefundPolicy::ClawBack, 3 * DAY); // never more than was earned
    assert_eq!(b.ledger.totals.reversed, 300);
    b.conserved();
}

#[test]
fn spent_points_of_a_refunded_order_follow_the_policy() {
    for policy in RefundPolicy::ALL {
        let mut b = Book::new();
        b.earn("gift", 500, 0, 0, 365);
        b.earn("o1", 300, DAY, 0, 400);
        b.spend("s1", 700, None, 2 * DAY).unwrap(); // all of "gift", 200 of "o1"
        b.refund("o1", 300, *policy, 3 * DAY);
        match policy {
            RefundPolicy::ClawBack => {
                // 100 left on o1's lot; the missing 200 come from nowhere else → debt.
                assert_eq!(b.ledger.balance(3 * DAY), -200);
            }
            RefundPolicy::NegativeBalance => assert_eq!(b.ledger.balance(3 * DAY), -200),
        }
        b.conserved();
    }
    // With other points to take, the claw-back takes them instead of going negative.
    let mut b = Book::new();
    b.earn("o1", 300, 0, 0, 365);
    b.spend("s1", 300, None, DAY).unwrap();
    b.earn("o2", 500, 2 * DAY, 0, 365);
    b.refund("o1", 300, RefundPolicy::ClawBack, 3 * DAY);
    assert_eq!(b.ledger.balance(3 * DAY), 200);
    assert_eq!(b.ledger.debt, 0);
    let mut n = Book::new();
    n.earn("o1", 300, 0, 0, 365);
    n.spend("s1", 300, None, DAY).unwrap();
    n.earn("o2", 500, 2 * DAY, 0, 365);
    n.refund("o1", 300, RefundPolicy::NegativeBalance, 3 * DAY);
    assert_eq!(n.ledger.balance(3 * DAY), 200);
    assert_eq!(n.ledger.debt, 300);
    b.conserved();
    n.conserved();
}

#[test]
fn a_refund_after_expiry_does_not_take_the_expired_points_again() {
    let mut b = Book::new();
    b.earn("o1", 100, 0, 0, 30);
    b.earn("o2", 500, DAY, 0, 365);
    b.post(Op::Expire, 31 * DAY).unwrap();
    b.refund("o1", 100, RefundPolicy::ClawBack, 32 * DAY);
    assert_eq!(b.ledger.balance(32 * DAY), 500);
    assert_eq!(b.ledger.totals.reversed, 0);
    assert_eq!(b.ledger.orders["o1"].waived, 100);
    b.conserved();
}

/// odoo#212922: refunding an order paid with points must return them once.
#[test]
fn refunding_an_order_paid_with_points_returns_them_once() {
    let mut b = Book::new();
    b.earn("o1", 1000, 0, 0, 365);
    b.spend("pay-o2", 600, Some("o2"), DAY).unwrap();
    let ret = |b: &mut Book, refunded, now| {
        b.post(
            Op::Return {
                order_ref: "o2".into(),
                refunded,
                total: 600,
            },
            now,
        )
        .unwrap()
    };
    ret(&mut b, 300, 2 * DAY); // half the order refunded
    assert_eq!(b.ledger.balance(2 * DAY), 700);
    assert_eq!(ret(&mut b, 300, 2 * DAY), 0);
    ret(&mut b, 600, 3 * DAY);
    ret(&mut b, 900, 3 * DAY); // never more than was spent
    assert_eq!(b.ledger.balance(3 * DAY), 1000);
    assert_eq!(b.ledger.totals.returned, 600);
    b.conserved();
}

#[test]
fn tiers_count_points_earned_net_of_refunds_not_the_balance() {
    let mut b = Book::new();
    b.earn("o1", 1000, 0, 0, 365);
    b.spend("s1", 1000, None, DAY).unwrap();
    assert_eq!(b.ledger.balance(DAY), 0);
    assert_eq!(b.ledger.tier_points(DAY, 365, &[], &[]), 1000);
    b.refund("o1", 500, RefundPolicy::NegativeBalance, 2 * DAY);
    assert_eq!(b.ledger.tier_points(2 * DAY, 365, &[], &[]), 500);
    assert_eq!(
        b.ledger.tier_points(2 * DAY, 365, &[], &["outer".into()]),
        0
    );
    assert_eq!(b.ledger.tier_points(400 * DAY, 365, &[], &[]), 0);
}

#[derive(Debug, Clone)]
enum Step {
    Earn {
        order: u8,
        points: i64,
        pending: i64,
        valid: i64,
    },
    Spend {
        points: i64,
        order: Option<u8>,
        credit: i64,
    },
    Adjust {
        points: i64,
    },
    Refund {
        order: u8,
        percent: i64,
        claw: bool,
    },
    ReturnPaid {
        order: u8,
        percent: i64,
    },
    Expire,
    Wait {
        days: i64,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0u8..6, 1i64..2000, 0i64..20, 1i64..90).prop_map(|(order, points, pending, valid)| {
            Step::Earn {
                order,
                points,
                pending,
                valid,
            }
        }),
        (1i64..1500, proptest::option::of(0u8..6), 0i64..300).prop_map(
            |(points, order, credit)| Step::Spend {
                points,
                order,
                credit
            }
        ),
        (-500i64..500).prop_map(|points| Step::Adjust { points }),
        (0u8..6, 0i64..=100, any::<bool>()).prop_map(|(order, percent, claw)| Step::Refund {
            order,
            percent,
            claw
        }),
        (0u8..6, 0i64..=100).prop_map(|(order, percent)| Step::ReturnPaid { order, percent }),
        Just(Step::Expire),
        (1i64..40).prop_map(|days| Step::Wait { days }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// For any history: earned = spent + expired + reversed + balance (adjustments and
    /// returns on their sides), no lot goes negative, and a replay of the entries equals
    /// the state built one posting at a time.
    #[test]
    fn points_are_conserved_and_replay_equals_the_incremental_state(
        steps in proptest::collection::vec(step(), 1..80)
    ) {
        let mut b = Book::new();
        let mut now = 0;
        for (i, s) in steps.into_iter().enumerate() {
            let order = |o: u8| format!("o{o}");
            let _ = match s {
                Step::Earn { order: o, points, pending, valid } => b.post(Op::Earn {
                    key: format!("earn:{i}"),
                    points,
                    order_ref: Some(order(o)),
                    rule_id: None,
                    product: None,
                    category: None,
                    occurred_at: now,
                    available_at: now + pending * DAY,
                    expires_at: Some(now + (pending + valid) * DAY),
                }, now),
                Step::Spend { points, order: o, credit } => b.post(Op::Spend {
                    key: format!("spend:{i}"),
                    points,
                    order_ref: o.map(order),
                    credit_limit: credit,
                    reason: String::new(),
                }, now),
                Step::Adjust { points } => b.post(Op::Adjust {
                    key: format!("adjust:{i}"),
                    points,
                    reason: "test".into(),
                    expires_at: Some(now + 60 * DAY),
                }, now),
                Step::Refund { order: o, percent, claw } => {
                    b.post(Op::Reverse {
                        order_ref: order(o),
                        refunded: percent,
                        total: 100,
                        policy: if claw { RefundPolicy::ClawBack } else { RefundPolicy::NegativeBalance },
                    }, now)
                }
                Step::ReturnPaid { order: o, percent } => {
                    b.post(Op::Return { order_ref: order(o), refunded: percent, total: 100 }, now)
                }
                Step::Expire => b.post(Op::Expire, now),
                Step::Wait { days } => { now += days * DAY; Ok(0) }
            };
            b.conserved();
            prop_assert!(b.ledger.balance(now) + b.ledger.debt >= 0);
        }
    }
}
