//! The points ledger of one customer: credits open lots, debits name the lots they draw
//! from, and the balance is the lots' remainders less any debt. `Ledger::plan` turns an
//! operation into postings against the current state; `Ledger::apply` folds a written
//! posting in — replaying every entry through `apply` rebuilds the state, which is how
//! the stored copy of the lots is checked.
//!
//! Rules the anchors' bugs taught: spending draws the lots that expire first, then the
//! oldest; expiry removes only a lot's remainder (FloCafe#78); a refund reverses earned
//! points once per refunded amount and never what had already expired; refunding an order
//! paid with points returns them once (odoo#212922). Points are conserved: credits equal
//! spends, expiries, reversals, downward adjustments and the balance.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use super::program::{DAY_MS, RefundPolicy};

/// Points returned from a refunded order keep their old expiry, but never less than this.
pub const RETURN_GRACE_DAYS: i64 = 30;

crate::named_enum! {
    /// What an entry records.
    pub enum EntryKind("entry kind") {
        /// Points earned by an order line under a rule (a credit).
        Earn = "earn",
        /// Staff added (credit) or removed (debit) points, with a reason.
        Adjust = "adjust",
        /// Points spent on a refunded order, given back (a credit).
        Return = "return",
        /// Points redeemed (a debit).
        Spend = "spend",
        /// A lot's remainder at its expiry (a debit).
        Expire = "expire",
        /// Earned points taken back when their order was refunded or cancelled (a debit).
        Reverse = "reverse",
        /// A new lot paying off debt left by a reversal or a credit line (a debit that
        /// lowers the debt by as much, so the balance does not move).
        Settle = "settle",
    }
}

/// Points taken from one lot, or from nowhere (`lot: None`: the account goes into debt).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Draw {
    pub lot: Option<i64>,
    pub points: i64,
}

/// One entry to write. Credits have `points > 0` and open a lot; debits have `points < 0`
/// and `draws` summing to `-points`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Posting {
    pub kind: EntryKind,
    pub points: i64,
    /// Unique over the whole ledger: a posting whose key exists is never written twice.
    pub key: String,
    pub order_ref: Option<String>,
    pub rule_id: Option<i64>,
    pub product: Option<String>,
    pub category: Option<String>,
    /// When the business event happened (the order's time); the ledger's own time is
    /// the store's stamp.
    pub occurred_at: i64,
    pub available_at: Option<i64>,
    pub expires_at: Option<i64>,
    /// Reversals only: points of the refund that had already expired, so were not taken.
    pub waived: i64,
    pub reason: String,
    pub draws: Vec<Draw>,
}

impl Posting {
    fn new(kind: EntryKind, points: i64, key: String, at: i64) -> Self {
        Self {
            kind,
            points,
            key,
            order_ref: None,
            rule_id: None,
            product: None,
            category: None,
            occurred_at: at,
            available_at: None,
            expires_at: None,
            waived: 0,
            reason: String::new(),
            draws: vec![],
        }
    }
}

/// A credit's points and what is left of them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lot {
    pub id: i64,
    pub kind: EntryKind,
    pub amount: i64,
    pub remaining: i64,
    /// Taken by expiry (the rest went to spends, reversals and settlements).
    pub expired: i64,
    pub available_at: i64,
    pub expires_at: Option<i64>,
    pub occurred_at: i64,
    pub order_ref: Option<String>,
    pub product: Option<String>,
    pub category: Option<String>,
}

impl Lot {
    pub fn is_expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|e| e <= now)
    }

    pub fn is_pending(&self, now: i64) -> bool {
        self.available_at > now && !self.is_expired(now)
    }

    pub fn is_spendable(&self, now: i64) -> bool {
        self.remaining > 0 && self.available_at <= now && !self.is_expired(now)
    }
}

/// What the ledger knows of one order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrderPoints {
    pub earned: i64,
    pub reversed: i64,
    pub waived: i64,
    /// Points spent paying for the order, and the draws that paid, in order.
    pub spent: i64,
    pub spend_draws: Vec<(Option<i64>, i64)>,
    pub returned: i64,
}

/// Points in and out by kind, for the conservation law and the program page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    pub earned: i64,
    pub returned: i64,
    pub adjusted_up: i64,
    pub spent: i64,
    pub expired: i64,
    pub reversed: i64,
    pub adjusted_down: i64,
    pub settled: i64,
}

impl Totals {
    pub fn credited(&self) -> i64 {
        self.earned + self.returned + self.adjusted_up
    }

    /// Debits that left the account (settlements only move points onto the debt).
    pub fn debited(&self) -> i64 {
        self.spent + self.expired + self.reversed + self.adjusted_down
    }
}

/// An operation on a customer's points, planned into postings by `Ledger::plan`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Earn {
        key: String,
        points: i64,
        order_ref: Option<String>,
        rule_id: Option<i64>,
        product: Option<String>,
        category: Option<String>,
        occurred_at: i64,
        available_at: i64,
        expires_at: Option<i64>,
    },
    /// A redemption; `order_ref` names the order it paid for, so a refund returns it.
    Spend {
        key: String,
        points: i64,
        order_ref: Option<String>,
        credit_limit: i64,
        reason: String,
    },
    /// Staff adding (`points > 0`) or removing points.
    Adjust {
        key: String,
        points: i64,
        reason: String,
        expires_at: Option<i64>,
    },
    /// The order now has `refunded` of its `total` refunded (minor units; all of it when
    /// cancelled): reverse that share of the points it earned, less what earlier refunds
    /// reversed.
    Reverse {
        order_ref: String,
        refunded: i64,
        total: i64,
        policy: RefundPolicy,
    },
    /// The same for an order paid with points: return that share of the points spent on it.
    Return {
        order_ref: String,
        refunded: i64,
        total: i64,
    },
    /// Expire every lot whose time has come.
    Expire,
}

/// Why an operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LedgerError {
    #[error("{points} points asked for, {available} available")]
    Insufficient { points: i64, available: i64 },
    #[error("points must be a positive whole number")]
    NotPositive,
}

/// The state of one customer's points.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ledger {
    pub lots: BTreeMap<i64, Lot>,
    pub debt: i64,
    pub keys: HashSet<String>,
    pub orders: HashMap<String, OrderPoints>,
    pub totals: Totals,
}

impl Ledger {
    /// Spendable points: available, unexpired remainders less the debt.
    pub fn balance(&self, now: i64) -> i64 {
        self.lots
            .values()
            .filter(|l| l.is_spendable(now))
            .map(|l| l.remaining)
            .sum::<i64>()
            - self.debt
    }

    /// Points still inside their order's return window.
    pub fn pending(&self, now: i64) -> i64 {
        self.lots
            .values()
            .filter(|l| l.is_pending(now))
            .map(|l| l.remaining)
            .sum()
    }

    /// Every remainder, expired or pending included, less the debt: what the conservation
    /// law balances against.
    pub fn outstanding(&self) -> i64 {
        self.lots.values().map(|l| l.remaining).sum::<i64>() - self.debt
    }

    /// Points that expire in `[now, until)` unless spent.
    pub fn expiring(&self, now: i64, until: i64) -> i64 {
        self.lots
            .values()
            .filter(|l| l.remaining > 0 && l.expires_at.is_some_and(|e| e > now && e <= until))
            .map(|l| l.remaining)
            .sum()
    }

    /// Folds in a written posting under its entry id.
    pub fn apply(&mut self, id: i64, p: &Posting) {
        self.keys.insert(p.key.clone());
        let order = p
            .order_ref
            .as_ref()
            .map(|o| self.orders.entry(o.clone()).or_default());
        if p.points > 0 {
            match p.kind {
                EntryKind::Earn => self.totals.earned += p.points,
                EntryKind::Return => self.totals.returned += p.points,
                _ => self.totals.adjusted_up += p.points,
            }
            if let Some(o) = order {
                match p.kind {
                    EntryKind::Earn => o.earned += p.points,
                    EntryKind::Return => o.returned += p.points,
                    _ => {}
                }
            }
            self.lots.insert(
                id,
                Lot {
                    id,
                    kind: p.kind,
                    amount: p.points,
                    remaining: p.points,
                    expired: 0,
                    available_at: p.available_at.unwrap_or(p.occurred_at),
                    expires_at: p.expires_at,
                    occurred_at: p.occurred_at,
                    order_ref: p.order_ref.clone(),
                    product: p.product.clone(),
                    category: p.category.clone(),
                },
            );
            return;
        }
        let points = -p.points;
        if let Some(o) = order {
            match p.kind {
                EntryKind::Reverse => {
                    o.reversed += points;
                    o.waived += p.waived;
                }
                EntryKind::Spend => {
                    o.spent += points;
                    o.spend_draws
                        .extend(p.draws.iter().map(|d| (d.lot, d.points)));
                }
                _ => {}
            }
        }
        for d in &p.draws {
            match d.lot.and_then(|id| self.lots.get_mut(&id)) {
                Some(lot) => {
                    lot.remaining -= d.points;
                    if p.kind == EntryKind::Expire {
                        lot.expired += d.points;
                    }
                }
                None => self.debt += d.points,
            }
        }
        match p.kind {
            EntryKind::Spend => self.totals.spent += points,
            EntryKind::Expire => self.totals.expired += points,
            EntryKind::Reverse => self.totals.reversed += points,
            EntryKind::Settle => {
                self.totals.settled += points;
                self.debt -= points;
            }
            _ => self.totals.adjusted_down += points,
        }
    }

    /// The postings that carry out `op` now; none when it was already done (its key is
    /// in the ledger) or there is nothing to do.
    pub fn plan(&self, op: &Op, now: i64) -> Result<Vec<Posting>, LedgerError> {
        match op {
            Op::Earn {
                key,
                points,
                order_ref,
                rule_id,
                product,
                category,
                occurred_at,
                available_at,
                expires_at,
            } => {
                if self.keys.contains(key) || *points <= 0 {
                    return Ok(vec![]);
                }
                let mut p = Posting::new(EntryKind::Earn, *points, key.clone(), *occurred_at);
                p.order_ref = order_ref.clone();
                p.rule_id = *rule_id;
                p.product = product.clone();
                p.category = category.clone();
                p.available_at = Some(*available_at);
                p.expires_at = *expires_at;
                Ok(vec![p])
            }
            Op::Spend {
                key,
                points,
                order_ref,
                credit_limit,
                reason,
            } => {
                if self.keys.contains(key) {
                    return Ok(vec![]);
                }
                let mut p = self.debit(EntryKind::Spend, *points, *credit_limit, key, now)?;
                p.order_ref = order_ref.clone();
                p.reason = reason.clone();
                Ok(vec![p])
            }
            Op::Adjust {
                key,
                points,
                reason,
                expires_at,
            } => {
                if self.keys.contains(key) {
                    return Ok(vec![]);
                }
                let mut p = if *points > 0 {
                    let mut p = Posting::new(EntryKind::Adjust, *points, key.clone(), now);
                    p.available_at = Some(now);
                    p.expires_at = *expires_at;
                    p
                } else {
                    self.debit(EntryKind::Adjust, -points, 0, key, now)?
                };
                p.reason = reason.clone();
                Ok(vec![p])
            }
            Op::Reverse {
                order_ref,
                refunded,
                total,
                policy,
            } => {
                let earned = self.orders.get(order_ref).map_or(0, |o| o.earned);
                let target = share(earned, *refunded, *total);
                Ok(self.plan_reverse(order_ref, target, *policy, now))
            }
            Op::Return {
                order_ref,
                refunded,
                total,
            } => {
                let spent = self.orders.get(order_ref).map_or(0, |o| o.spent);
                Ok(self.plan_return(order_ref, share(spent, *refunded, *total), now))
            }
            Op::Expire => Ok(self
                .lots
                .values()
                .filter(|l| l.remaining > 0 && l.is_expired(now))
                .map(|l| {
                    let mut p = Posting::new(
                        EntryKind::Expire,
                        -l.remaining,
                        format!("expire:{}", l.id),
                        now,
                    );
                    p.draws = vec![Draw {
                        lot: Some(l.id),
                        points: l.remaining,
                    }];
                    p
                })
                .filter(|p| !self.keys.contains(&p.key))
                .collect()),
        }
    }

    /// After a credit opened `lot`: the settlement that pays off the debt from it, if any.
    pub fn settle_from(&self, lot: i64, now: i64) -> Option<Posting> {
        let l = self.lots.get(&lot)?;
        let points = self.debt.min(l.remaining);
        if points <= 0 {
            return None;
        }
        let mut p = Posting::new(EntryKind::Settle, -points, format!("settle:{lot}"), now);
        p.draws = vec![Draw {
            lot: Some(lot),
            points,
        }];
        Some(p)
    }

    /// Spendable lots in the order a spend draws them: the soonest to expire first (lots
    /// that never expire last), then the oldest.
    fn spend_order(&self, now: i64) -> Vec<&Lot> {
        let mut lots: Vec<&Lot> = self.lots.values().filter(|l| l.is_spendable(now)).collect();
        lots.sort_by_key(|l| (l.expires_at.unwrap_or(i64::MAX), l.id));
        lots
    }

    fn debit(
        &self,
        kind: EntryKind,
        points: i64,
        credit_limit: i64,
        key: &str,
        now: i64,
    ) -> Result<Posting, LedgerError> {
        if points <= 0 {
            return Err(LedgerError::NotPositive);
        }
        let available = self.balance(now);
        if points > available + credit_limit.max(0) {
            return Err(LedgerError::Insufficient {
                points,
                available: available.max(0),
            });
        }
        let mut p = Posting::new(kind, -points, key.to_string(), now);
        let left = draw(self.spend_order(now), points, &mut p.draws);
        if left > 0 {
            p.draws.push(Draw {
                lot: None,
                points: left,
            });
        }
        Ok(p)
    }

    fn plan_reverse(
        &self,
        order_ref: &str,
        target: i64,
        policy: RefundPolicy,
        now: i64,
    ) -> Vec<Posting> {
        let Some(o) = self.orders.get(order_ref) else {
            return vec![];
        };
        let target = target.clamp(0, o.earned);
        let delta = target - o.reversed - o.waived;
        let key = format!("reverse:{order_ref}:{target}");
        if delta <= 0 || self.keys.contains(&key) {
            return vec![];
        }
        let own: Vec<&Lot> = self
            .lots
            .values()
            .filter(|l| l.kind == EntryKind::Earn && l.order_ref.as_deref() == Some(order_ref))
            .collect();
        let mut p = Posting::new(EntryKind::Reverse, 0, key, now);
        p.order_ref = Some(order_ref.to_string());
        let mut left = draw(own.iter().copied(), delta, &mut p.draws);
        // What expired was already taken from the customer; taking it again from other
        // lots would charge the same points twice.
        let expired: i64 = own.iter().map(|l| l.expired).sum();
        p.waived = left.min((expired - o.waived).max(0));
        left -= p.waived;
        if left > 0 && policy == RefundPolicy::ClawBack {
            let mut others: Vec<&Lot> = self
                .spend_order(now)
                .into_iter()
                .filter(|l| l.order_ref.as_deref() != Some(order_ref))
                .collect();
            let mut pending: Vec<&Lot> = self
                .lots
                .values()
                .filter(|l| l.remaining > 0 && l.is_pending(now))
                .filter(|l| l.order_ref.as_deref() != Some(order_ref))
                .collect();
            pending.sort_by_key(|l| l.id);
            others.extend(pending);
            left = draw(others, left, &mut p.draws);
        }
        if left > 0 {
            p.draws.push(Draw {
                lot: None,
                points: left,
            });
        }
        p.points = -p.draws.iter().map(|d| d.points).sum::<i64>();
        vec![p]
    }

    fn plan_return(&self, order_ref: &str, target: i64, now: i64) -> Vec<Posting> {
        let Some(o) = self.orders.get(order_ref) else {
            return vec![];
        };
        let target = target.clamp(0, o.spent);
        let mut delta = target - o.returned;
        let key = format!("return:{order_ref}:{target}");
        if delta <= 0 || self.keys.contains(&key) {
            return vec![];
        }
        // Give back the last-drawn points first, each with its lot's expiry (the soonest
        // to expire were drawn first, so what stays spent is what would expire first).
        let mut skip = o.returned;
        let mut out = Vec::new();
        for (lot, drawn) in o.spend_draws.iter().rev() {
            let skipped = skip.min(*drawn);
            skip -= skipped;
            let points = (drawn - skipped).min(delta);
            if points <= 0 {
                continue;
            }
            delta -= points;
            let key = if out.is_empty() {
                key.clone()
            } else {
                format!("{key}:{}", out.len())
            };
            let mut p = Posting::new(EntryKind::Return, points, key, now);
            p.order_ref = Some(order_ref.to_string());
            p.available_at = Some(now);
            p.expires_at = lot
                .and_then(|id| self.lots.get(&id))
                .and_then(|l| l.expires_at)
                .map(|e| e.max(now + RETURN_GRACE_DAYS * DAY_MS));
            out.push(p);
            if delta == 0 {
                break;
            }
        }
        out
    }

    /// Points earned inside `(now - window_days, now]`, net of what refunds took back,
    /// leaving out the given products and categories: what tiers are measured on (never
    /// the balance, Open Loyalty #131).
    pub fn tier_points(
        &self,
        now: i64,
        window_days: i64,
        excluded_products: &[String],
        excluded_categories: &[String],
    ) -> i64 {
        let from = now - window_days * DAY_MS;
        let excluded = |v: &Option<String>, list: &[String]| {
            v.as_ref().is_some_and(|v| list.iter().any(|x| x == v))
        };
        let mut total: i128 = 0;
        for l in self.lots.values() {
            if l.kind != EntryKind::Earn
                || l.occurred_at <= from
                || l.occurred_at > now
                || excluded(&l.product, excluded_products)
                || excluded(&l.category, excluded_categories)
            {
                continue;
            }
            let kept = match l.order_ref.as_ref().and_then(|o| self.orders.get(o)) {
                Some(o) if o.earned > 0 => {
                    i128::from(l.amount) * i128::from(o.earned - o.reversed - o.waived)
                        / i128::from(o.earned)
                }
                _ => i128::from(l.amount),
            };
            total += kept;
        }
        total as i64
    }

    /// Rebuilds the state from written entries in id order.
    pub fn replay<'a>(entries: impl IntoIterator<Item = (i64, &'a Posting)>) -> Self {
        let mut l = Self::default();
        for (id, p) in entries {
            l.apply(id, p);
        }
        l
    }
}

/// `points × refunded / total`, rounded down, within `0..=points`.
fn share(points: i64, refunded: i64, total: i64) -> i64 {
    if total <= 0 {
        return 0;
    }
    let refunded = refunded.clamp(0, total);
    (i128::from(points) * i128::from(refunded) / i128::from(total)) as i64
}

/// Draws up to `points` from `lots` in order, appending the draws; returns what is left.
fn draw<'a>(lots: impl IntoIterator<Item = &'a Lot>, points: i64, out: &mut Vec<Draw>) -> i64 {
    let mut left = points;
    for l in lots {
        if left == 0 {
            break;
        }
        let take = l.remaining.min(left);
        if take > 0 {
            out.push(Draw {
                lot: Some(l.id),
                points: take,
            });
            left -= take;
        }
    }
    left
}

#[cfg(test)]
#[path = "ledger_tests.rs"]
mod tests;
