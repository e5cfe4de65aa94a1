//! Keeping live segments current as data arrives, without rescanning everyone. Writes
//! touch the customers they change ([`Touches`]: events, profile changes, feedback,
//! loyalty; orders once the customer models that read them are rebuilt), and every
//! judgement notes when its answer could next change with no new data (a window passing,
//! another day since the last order). A round ([`catch_up`]) judges only the touched
//! customers and those whose moment has come, against every live segment, and records
//! who entered and who left and why ("data" or "time"); whoever moves in a segment another
//! rule names is judged again the next round, so that rule follows. A segment is judged in full
//! when the upkeep first meets it (start, a new or changed rule) and when the models its
//! rule reads (RFM, lifetime value) are refitted: those move everyone at once.
//!
//! All membership writes, full or incremental, go through one lock, so an evaluation
//! never applies a difference computed against members another one has since changed.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nunchi_core::segment::Rule;
use nunchi_core::segment::check;
use nunchi_store::StoreError;
use nunchi_store::model::{Customer, Segment};
use serde::Serialize;

use crate::segment_facts::{self, Judge, Matching, Sources, Whose, is_live, poisoned, reads};
use crate::segments::{Evaluated, parse_rule};
use crate::{App, Error, Result};

/// How long the upkeep waits between rounds when nothing wakes it.
const ROUND_EVERY: Duration = Duration::from_secs(2);
/// Touched customers read one by one up to this many; more are found by reading pages.
const READ_ONE_BY_ONE: usize = 2_000;

/// Customers whose facts changed since the last round.
#[derive(Default)]
pub struct Touches {
    inner: Mutex<TouchSet>,
}

#[derive(Default)]
struct TouchSet {
    /// Increases with every model build that starts ([`Touches::mark`]).
    mark: u64,
    now: HashSet<i64>,
    /// Customers who moved in a segment other rules name: judged again, for no new data.
    again: HashSet<i64>,
    /// Customers whose orders changed, with the mark current then: they are judged once
    /// models built from a later mark hold the change.
    orders: HashMap<i64, u64>,
    /// Something changed for everyone (an import): every segment is judged in full, now
    /// or, for orders, once models built after the mark hold the change.
    everyone: bool,
    everyone_orders: Option<u64>,
}

/// What a round takes: customers to judge, and whether to judge everyone.
struct Taken {
    customers: HashSet<i64>,
    again: HashSet<i64>,
    everyone: bool,
}

impl Touches {
    fn lock(&self) -> std::sync::MutexGuard<'_, TouchSet> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// These customers' profile, events, feedback or points changed.
    pub fn customers(&self, ids: impl IntoIterator<Item = i64>) {
        self.lock().now.extend(ids);
    }

    /// These customers' orders changed (written, refunded).
    pub fn orders(&self, ids: impl IntoIterator<Item = i64>) {
        let mut t = self.lock();
        let mark = t.mark;
        t.orders.extend(ids.into_iter().map(|c| (c, mark)));
    }

    /// These customers moved in a segment other rules name.
    fn again(&self, ids: impl IntoIterator<Item = i64>) {
        self.lock().again.extend(ids);
    }

    /// Many customers changed at once (a customer import).
    pub fn everyone(&self) {
        self.lock().everyone = true;
    }

    /// Many customers' orders changed at once (an order import).
    pub fn everyones_orders(&self) {
        let mut t = self.lock();
        t.everyone_orders = Some(t.mark);
    }

    /// A model build starts reading orders now: returns the mark its models will hold.
    pub fn mark(&self) -> u64 {
        let mut t = self.lock();
        let mark = t.mark;
        t.mark += 1;
        mark
    }

    /// Everything touched that models built at `models_mark` already hold.
    fn take(&self, models_mark: u64) -> Taken {
        let mut t = self.lock();
        let mut customers = std::mem::take(&mut t.now);
        let again = std::mem::take(&mut t.again);
        t.orders.retain(|&c, &mut m| {
            let held = m <= models_mark;
            if held {
                customers.insert(c);
            }
            !held
        });
        let mut everyone = std::mem::take(&mut t.everyone);
        if t.everyone_orders.is_some_and(|m| m <= models_mark) {
            t.everyone_orders = None;
            everyone = true;
        }
        Taken {
            customers,
            again,
            everyone,
        }
    }
}

/// The upkeep's state: the touches, and when each judged answer could next change.
#[derive(Default)]
pub struct Upkeep {
    pub touches: Touches,
    state: tokio::sync::Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Live segments judged in full since start, with their customers' next changes.
    due: HashMap<i64, Due>,
    /// When the models the last round read were built.
    models_built_at: Option<i64>,
    /// Segments whose rule passed the check, as of their `updated_at`: checked again only
    /// when changed, so a round costs no schema reads.
    checked: HashMap<i64, i64>,
}

/// Customers of one segment by the moment their answer could next change.
#[derive(Default)]
struct Due {
    by_time: BTreeSet<(i64, i64)>,
    at: HashMap<i64, i64>,
}

impl Due {
    fn set(&mut self, customer: i64, next: Option<i64>) {
        if let Some(old) = self.at.remove(&customer) {
            self.by_time.remove(&(old, customer));
        }
        if let Some(at) = next {
            self.at.insert(customer, at);
            self.by_time.insert((at, customer));
        }
    }

    /// Customers whose moment is at or before `now`, forgotten here.
    fn take_until(&mut self, now: i64) -> Vec<i64> {
        let later = self.by_time.split_off(&(now.saturating_add(1), i64::MIN));
        let due = std::mem::replace(&mut self.by_time, later);
        due.into_iter()
            .map(|(_, c)| {
                self.at.remove(&c);
                c
            })
            .collect()
    }
}

/// Judges one live segment in full with `sources` and records the difference; who moved
/// is added to `moved`.
async fn in_full(
    app: &App,
    state: &mut State,
    (segment, rule): (&Segment, &Rule),
    sources: &Sources,
    moved: &mut Vec<i64>,
) -> Result<Evaluated> {
    let Matching { ids, due, .. } = segment_facts::matching_with(app, rule, sources).await?;
    let before = app.store.segment_member_ids(segment.id).await?;
    let (entered, left) = difference(&before, &ids);
    app.store
        .apply_segment_changes(segment.id, &entered, &left, app.now(), "rule")
        .await?;
    let mut d = Due::default();
    for (c, at) in due {
        d.set(c, Some(at));
    }
    state.due.insert(segment.id, d);
    moved.extend(entered.iter().chain(&left));
    Ok(Evaluated {
        entered: entered.len(),
        left: left.len(),
        members: ids.len(),
    })
}

/// Whether any of these rules names another segment: then whoever moves is judged again,
/// so rules naming the segment they moved in follow.
fn any_names_a_segment<'a>(rules: impl IntoIterator<Item = &'a Rule>) -> bool {
    rules
        .into_iter()
        .any(|r| reads(r, &|r| matches!(r, Rule::Segment { .. })))
}

/// Evaluates one live segment in full now and records who entered and who left. A rule
/// that no longer checks (an attribute or tier since removed) leaves the members as they
/// are.
pub async fn evaluate(app: &App, id: i64) -> Result<Evaluated> {
    let mut state = app.segment_upkeep.state.lock().await;
    let segment = app.store.segment(id).await?;
    if segment.kind != "live" {
        return Ok(Evaluated::default());
    }
    let rule = parse_rule(&segment.rule).map_err(|e| Error::invalid("invalid_rule", e))?;
    crate::segments::checked(app, &rule, Some(id)).await?;
    let sources = Sources::load(app, &[&rule]).await?;
    let mut moved = Vec::new();
    let done = in_full(app, &mut state, (&segment, &rule), &sources, &mut moved).await?;
    let rules: Vec<Rule> = app
        .store
        .segments()
        .await?
        .iter()
        .filter_map(|s| parse_rule(&s.rule).ok())
        .collect();
    if any_names_a_segment(&rules) {
        app.segment_upkeep.touches.again(moved);
    }
    Ok(done)
}

/// What one round did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Round {
    /// Segments judged in full.
    pub full: usize,
    /// Customers judged because data touched them or their moment came.
    pub customers: usize,
    pub entered: usize,
    pub left: usize,
}

/// One round of upkeep: segments new to the upkeep or whose models were refitted are
/// judged in full; then every live segment for the customers touched since the last
/// round and those whose moment has come.
pub async fn catch_up(app: &App) -> Result<Round> {
    let mut state = app.segment_upkeep.state.lock().await;
    let segments: Vec<Segment> = app
        .store
        .segments()
        .await?
        .into_iter()
        .filter(|s| s.kind == "live")
        .collect();
    let unchecked = |s: &Segment, state: &State| state.checked.get(&s.id) != Some(&s.updated_at);
    let schema = if segments.iter().any(|s| unchecked(s, &state)) {
        Some(crate::segments::schema(app).await?)
    } else {
        None
    };
    let mut live: Vec<(Segment, Rule)> = Vec::new();
    for s in segments {
        let Ok(rule) = parse_rule(&s.rule) else {
            continue;
        };
        if let (true, Some(schema)) = (unchecked(&s, &state), &schema) {
            let mut own = schema.clone();
            own.segments.retain(|&x| x != s.id);
            // A rule that no longer checks keeps its members until it is fixed.
            if check::check(&rule, &own).is_err() {
                continue;
            }
            state.checked.insert(s.id, s.updated_at);
        }
        live.push((s, rule));
    }
    state
        .checked
        .retain(|id, _| live.iter().any(|(s, _)| s.id == *id));
    state
        .due
        .retain(|id, _| live.iter().any(|(s, _)| s.id == *id));
    let snapshot = crate::customer_models::snapshot(app).await?;
    // Taken before anything is read, so whatever touches arrive later are judged again.
    let taken = app.segment_upkeep.touches.take(snapshot.touch_mark);
    let refitted = state.models_built_at != Some(snapshot.built_at);
    state.models_built_at = Some(snapshot.built_at);
    let reads_models = |r: &Rule| reads(r, &|r| matches!(r, Rule::Rfm { .. } | Rule::Value { .. }));
    let full: Vec<&(Segment, Rule)> = live
        .iter()
        .filter(|(segment, rule)| {
            taken.everyone
                || !state.due.contains_key(&segment.id)
                || (refitted && reads_models(rule))
        })
        .collect();
    let mut round = Round::default();
    let mut moved = Vec::new();
    if !full.is_empty() {
        let rules: Vec<&Rule> = full.iter().map(|(_, r)| r).collect();
        let sources = Sources::with(app, snapshot.clone(), &rules, Whose::Everyone).await?;
        for (segment, rule) in full {
            let done = in_full(app, &mut state, (segment, rule), &sources, &mut moved).await?;
            round.full += 1;
            round.entered += done.entered;
            round.left += done.left;
        }
    }
    let now = app.now();
    let mut timed: BTreeSet<i64> = BTreeSet::new();
    for due in state.due.values_mut() {
        timed.extend(due.take_until(now));
    }
    let ids: Vec<i64> = taken
        .customers
        .iter()
        .copied()
        .chain(timed.iter().copied())
        .chain(taken.again.iter().copied())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if !ids.is_empty() && !live.is_empty() {
        round.customers = ids.len();
        let customers = read_customers(app, &ids).await?;
        let held: HashSet<(i64, i64)> = app
            .store
            .segment_memberships(&ids)
            .await?
            .into_iter()
            .collect();
        let rules: Vec<&Rule> = live.iter().map(|(_, r)| r).collect();
        let sources = Sources::with(app, snapshot, &rules, Whose::Customers(&ids)).await?;
        // (segment, reason, entered, left), judged under the engine's lock.
        let mut moves: Vec<(i64, &str, Vec<i64>, Vec<i64>)> = Vec::new();
        {
            let engine = app.events.engine.read().map_err(|_| poisoned())?;
            let judge = Judge::new(&sources, &engine, now);
            for (segment, rule) in &live {
                let due = state.due.entry(segment.id).or_default();
                let mut by_reason: [(&str, Vec<i64>, Vec<i64>); 2] =
                    [("data", vec![], vec![]), ("time", vec![], vec![])];
                for &id in &ids {
                    let (yes, next) = match customers.get(&id) {
                        Some(c) if is_live(c) => judge.judge(rule, c),
                        _ => (false, None),
                    };
                    due.set(id, next);
                    let was = held.contains(&(segment.id, id));
                    // New data first; the clock when only it moved them.
                    let by_time = !taken.customers.contains(&id) && timed.contains(&id);
                    let slot = &mut by_reason[usize::from(by_time)];
                    if yes && !was {
                        slot.1.push(id);
                    } else if !yes && was {
                        slot.2.push(id);
                    }
                }
                for (reason, entered, left) in by_reason {
                    if !entered.is_empty() || !left.is_empty() {
                        moves.push((segment.id, reason, entered, left));
                    }
                }
            }
        }
        for (id, reason, entered, left) in moves {
            round.entered += entered.len();
            round.left += left.len();
            moved.extend(entered.iter().chain(&left));
            app.store
                .apply_segment_changes(id, &entered, &left, now, reason)
                .await?;
        }
    }
    if any_names_a_segment(live.iter().map(|(_, r)| r)) {
        app.segment_upkeep.touches.again(moved);
    }
    Ok(round)
}

/// The customers with these ids (ascending) that exist, by id.
async fn read_customers(app: &App, ids: &[i64]) -> Result<HashMap<i64, Customer>> {
    let mut out = HashMap::with_capacity(ids.len());
    if ids.len() <= READ_ONE_BY_ONE {
        for &id in ids {
            match app.store.customer(id).await {
                Ok(c) => {
                    out.insert(id, c);
                }
                Err(StoreError::NotFound(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
        return Ok(out);
    }
    let mut after = 0;
    loop {
        let page = app.store.customers_page(after, 2_000).await?;
        let Some(last) = page.last() else { break };
        after = last.row.id;
        out.extend(
            page.into_iter()
                .filter(|c| ids.binary_search(&c.row.id).is_ok())
                .map(|c| (c.row.id, c)),
        );
    }
    Ok(out)
}

/// (in `after` only, in `before` only), both sorted ascending.
pub(crate) fn difference(before: &[i64], after: &[i64]) -> (Vec<i64>, Vec<i64>) {
    let (mut entered, mut left) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < before.len() || j < after.len() {
        match (before.get(i), after.get(j)) {
            (Some(b), Some(a)) if b == a => {
                i += 1;
                j += 1;
            }
            (Some(b), Some(a)) if b < a => {
                left.push(*b);
                i += 1;
            }
            (Some(_), Some(a)) | (None, Some(a)) => {
                entered.push(*a);
                j += 1;
            }
            (Some(b), None) => {
                left.push(*b);
                i += 1;
            }
            (None, None) => break,
        }
    }
    (entered, left)
}

/// Runs rounds until shutdown (the server's background task).
pub fn spawn(
    app: Arc<App>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let wake = Arc::new(tokio::sync::Notify::new());
    crate::periodic::spawn("segments", shutdown, wake, ROUND_EVERY, move || {
        let app = app.clone();
        async move {
            // Judged against every stored event, never a half-loaded engine.
            app.events.ready().await;
            let round = catch_up(&app).await?;
            if round.entered + round.left > 0 {
                tracing::debug!(?round, "segments kept up");
            }
            Ok(false)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn difference_finds_who_entered_and_who_left() {
        assert_eq!(
            difference(&[1, 3, 5, 7], &[2, 3, 7, 9]),
            (vec![2, 9], vec![1, 5])
        );
        assert_eq!(difference(&[], &[4]), (vec![4], vec![]));
        assert_eq!(difference(&[4], &[]), (vec![], vec![4]));
    }

    #[test]
    fn order_touches_wait_for_models_that_hold_them() {
        let t = Touches::default();
        t.orders([7]);
        let built_before = t.mark();
        t.orders([8]);
        t.customers([9]);
        let taken = t.take(built_before);
        assert_eq!(taken.customers, HashSet::from([7, 9]));
        // 8 was touched after that build began reading.
        assert!(t.take(built_before).customers.is_empty());
        let built_after = t.mark();
        assert_eq!(t.take(built_after).customers, HashSet::from([8]));
    }

    #[test]
    fn due_customers_come_once_in_time_order() {
        let mut d = Due::default();
        d.set(1, Some(50));
        d.set(2, Some(10));
        d.set(1, Some(20));
        d.set(3, None);
        assert_eq!(d.take_until(20), vec![2, 1]);
        assert!(d.take_until(100).is_empty());
    }
}
