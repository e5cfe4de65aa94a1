//! Ordered funnels within a conversion window, with ClickHouse `windowFunnel` semantics:
//! per customer, events are scanned in time order; a step-1 event (re)starts the chain,
//! step k+1 extends a chain whose step k is set, if it falls within the window of the
//! chain's first event. The customer's level is the deepest step reached. `strict_order`
//! stops the scan at the first event that matches no step once the chain has begun, and
//! at a step arriving before its predecessor; `strict_increase` needs strictly
//! increasing times. Within one second, entries apply in step order (an event matching
//! no step first), as ClickHouse sorts them, so an event matching two consecutive steps
//! advances both unless `strict_increase` is set.
//!
//! With `separate_events` (the product's funnels, as PostHog counts them) each step needs
//! an event of its own, later in the customer's timeline than the previous step's: a
//! funnel `purchase → purchase` counts customers who bought twice. Events are taken in
//! time order (within one second, by their first step, so the result does not depend on
//! arrival order), and an event that matches several steps is applied to them from the
//! last to the first, so it can extend a chain or start one but never fill two steps of
//! the same chain.

use std::collections::BTreeMap;

use crate::AnalyticsError;
use crate::duration::Durations;
use crate::log::{self, EventLog, Scope};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunnelSpec {
    /// Event-name codes, one per step; a name may repeat.
    pub steps: Vec<u16>,
    pub window_secs: u64,
    pub strict_order: bool,
    pub strict_increase: bool,
    /// Each step needs a separate, later event (see the module's notes); off: ClickHouse's
    /// `windowFunnel`, where one event may satisfy two steps.
    pub separate_events: bool,
}

impl FunnelSpec {
    /// A `windowFunnel` funnel: no strictness, one event may fill repeated steps.
    pub fn new(steps: Vec<u16>, window_secs: u64) -> FunnelSpec {
        FunnelSpec {
            steps,
            window_secs,
            strict_order: false,
            strict_increase: false,
            separate_events: false,
        }
    }
}

/// How to split the funnel's customers.
#[derive(Debug, Clone, Copy, Default)]
pub enum Breakdown<'a> {
    #[default]
    None,
    /// The channel of the step-1 event that began the customer's deepest chain.
    Channel,
    /// The channel of the customer's first event ever.
    FirstTouch,
    /// A caller-coded customer attribute; `values[customer]`, `u32::MAX` for none.
    Attribute(&'a [u32]),
}

/// Key used for customers without a breakdown value.
pub const NO_VALUE: u32 = u32::MAX;

#[derive(Debug, Clone)]
pub struct FunnelReport {
    /// `reached[k]`: customers who reached at least step k+1.
    pub reached: Vec<u64>,
    /// Per step k (index 0 is empty): time from the chain's first step to step k+1.
    pub from_first: Vec<Durations>,
    /// Per breakdown key: the same `reached` counts.
    pub breakdown: BTreeMap<u32, Vec<u64>>,
}

impl FunnelReport {
    /// Time from the first to the last step for customers who completed the funnel.
    pub fn time_to_convert(&self) -> &Durations {
        self.from_first.last().expect("a funnel has steps")
    }
}

/// For each event name, the steps it matches, in order.
pub(crate) struct StepTable {
    offsets: Vec<(u32, u32)>,
    flat: Vec<u32>,
    /// When no name is used by two steps: the one step of each name, [`NOT_A_STEP`] if none.
    single: Option<Vec<u32>>,
    /// For loose (not strict-order) funnels with one step per name: each name's step,
    /// or the scratch slot `steps.len()` for names that match none, so the update needs
    /// no branch on whether an event is a step.
    loose: Option<Vec<u32>>,
}

const NOT_A_STEP: u32 = u32::MAX;

impl StepTable {
    pub(crate) fn new(steps: &[u16], names: usize) -> StepTable {
        let width = names.max(steps.iter().map(|&s| s as usize + 1).max().unwrap_or(0));
        let mut per_name: Vec<Vec<u32>> = vec![Vec::new(); width];
        for (i, &s) in steps.iter().enumerate() {
            per_name[s as usize].push(i as u32);
        }
        let single = per_name.iter().all(|l| l.len() <= 1).then(|| {
            per_name
                .iter()
                .map(|l| l.first().copied().unwrap_or(NOT_A_STEP))
                .collect()
        });
        let loose = single.as_ref().map(|single: &Vec<u32>| {
            let scratch = steps.len() as u32;
            single
                .iter()
                .map(|&i| if i == NOT_A_STEP { scratch } else { i })
                .collect()
        });
        let mut offsets = Vec::with_capacity(width);
        let mut flat = Vec::new();
        for list in per_name {
            offsets.push((flat.len() as u32, list.len() as u32));
            flat.extend(list);
        }
        StepTable {
            offsets,
            flat,
            single,
            loose,
        }
    }

    #[inline]
    pub(crate) fn steps_of(&self, name: u16) -> &[u32] {
        match self.offsets.get(name as usize) {
            Some(&(start, len)) => &self.flat[start as usize..(start + len) as usize],
            None => &[],
        }
    }
}

/// One step's slot in a chain: the chain's first time, this step's time, the channel of
/// the step-1 event. `first == u32::MAX` is unset.
#[derive(Clone, Copy)]
pub(crate) struct Slot {
    first: u32,
    at: u32,
    channel: u8,
}

const UNSET: Slot = Slot {
    first: u32::MAX,
    at: 0,
    channel: 0,
};

impl Slot {
    #[inline]
    fn is_set(&self) -> bool {
        self.first != u32::MAX
    }
}

/// The level a chain reached: one past its last set step.
fn deepest(chain: &[Slot]) -> usize {
    chain.iter().rposition(Slot::is_set).map_or(0, |i| i + 1)
}

/// What the walk does after one entry.
enum Flow {
    Go,
    Stop,
    Done(usize),
}

/// Walks one customer's chain; `started` is whether a step-1 event has been seen.
struct Walk<'a> {
    spec: &'a FunnelSpec,
    chain: &'a mut [Slot],
    started: bool,
}

impl Walk<'_> {
    /// Applies one (condition, time) entry: condition 0 is an event matching no step
    /// (only fed in strict order), condition k is step k.
    #[inline(always)]
    fn entry(&mut self, cond: u32, at: u32, channel: u8) -> Flow {
        if cond == 0 {
            return if self.started { Flow::Stop } else { Flow::Go };
        }
        let idx = cond as usize - 1;
        if idx == 0 {
            self.chain[0] = Slot {
                first: at,
                at,
                channel,
            };
            self.started = true;
        } else if self.spec.strict_order && self.started && !self.chain[idx - 1].is_set() {
            return Flow::Stop;
        } else if self.chain[idx - 1].is_set() {
            let prev = self.chain[idx - 1];
            let mut within = at as u64 <= prev.first as u64 + self.spec.window_secs;
            if self.spec.strict_increase {
                within &= prev.at < at;
            }
            if within {
                self.chain[idx] = Slot { at, ..prev };
                if idx + 1 == self.chain.len() {
                    return Flow::Done(idx + 1);
                }
            }
        }
        Flow::Go
    }
}

/// Applies step `idx` at time `at` to a loose chain, with selects rather than branches
/// on the data: step 1 always (re)starts the chain, step k+1 extends a set step k within
/// the window. `idx == chain.len() - 1` is the scratch slot that absorbs non-steps.
#[inline(always)]
fn extend_loose(chain: &mut [Slot], idx: usize, at: u32, channel: u8, spec: &FunnelSpec) {
    let is_first = idx == 0;
    let prev = chain[idx.saturating_sub(1)];
    let within = (prev.first != u32::MAX)
        & ((at as u64) <= (prev.first as u64).saturating_add(spec.window_secs))
        & (!spec.strict_increase | (prev.at < at));
    let ok = is_first | within;
    let cur = chain[idx];
    chain[idx] = Slot {
        first: if !ok {
            cur.first
        } else if is_first {
            at
        } else {
            prev.first
        },
        at: if ok { at } else { cur.at },
        channel: if !ok {
            cur.channel
        } else if is_first {
            channel
        } else {
            prev.channel
        },
    };
}

/// [`level`] for funnels without strict order: the common case, kept free of the
/// per-event branching the strict walk needs.
fn level_loose(
    events: &[u64],
    spec: &FunnelSpec,
    table: &StepTable,
    chain: &mut [Slot],
    ties: &mut Vec<u32>,
) -> usize {
    let n = chain.len() - 1;
    let mut i = 0;
    while i < events.len() {
        let e = events[i];
        let at = log::ts(e);
        if events.get(i + 1).is_some_and(|&next| log::ts(next) == at) {
            i = tied_entries(events, i, spec, table, ties);
            for &x in ties.iter() {
                extend_loose(chain, (x >> 3) as usize - 1, at, (x & 7) as u8, spec);
            }
        } else {
            i += 1;
            let channel = log::channel_code(e);
            match &table.loose {
                Some(loose) => {
                    let idx = loose.get(log::name(e) as usize).copied();
                    let idx = idx.unwrap_or(n as u32) as usize;
                    extend_loose(chain, idx, at, channel, spec);
                }
                None => {
                    for &idx in table.steps_of(log::name(e)) {
                        extend_loose(chain, idx as usize, at, channel, spec);
                    }
                }
            }
        }
        if chain[n - 1].is_set() {
            return n;
        }
    }
    deepest(&chain[..n])
}

/// Collects into `ties` the entries of the events from `start` that share its second, in
/// ClickHouse's order (condition ascending), and returns the index after them.
fn tied_entries(
    events: &[u64],
    start: usize,
    spec: &FunnelSpec,
    table: &StepTable,
    ties: &mut Vec<u32>,
) -> usize {
    let at = log::ts(events[start]);
    let mut i = start;
    ties.clear();
    while i < events.len() && log::ts(events[i]) == at {
        entries(events[i], spec, table, ties);
        i += 1;
    }
    ties.sort_unstable();
    i
}

/// Entries of one event, ascending by condition, as (condition << 3 | channel).
#[inline]
fn entries(e: u64, spec: &FunnelSpec, table: &StepTable, out: &mut Vec<u32>) {
    let channel = log::channel_code(e) as u32;
    let steps = table.steps_of(log::name(e));
    if steps.is_empty() {
        if spec.strict_order {
            out.push(channel);
        }
        return;
    }
    out.extend(steps.iter().map(|&idx| (idx + 1) << 3 | channel));
}

/// The deepest level one customer reaches; `chain` is scratch of the funnel's length plus
/// one and is left holding the chain that produced the level, `ties` is scratch for
/// events that share a second.
///
/// ClickHouse orders a customer's (time, condition) entries by time, then condition, so
/// within one second the earlier steps apply first and unmatched events before all.
#[inline]
pub(crate) fn level(
    events: &[u64],
    spec: &FunnelSpec,
    table: &StepTable,
    chain: &mut [Slot],
    ties: &mut Vec<u32>,
) -> usize {
    chain.fill(UNSET);
    // With no event name on two steps, one event can fill only one step anyway, and ties
    // are ordered the same way: the two modes agree, and the faster walks below apply.
    if spec.separate_events && table.single.is_none() {
        return level_separate(events, spec, table, chain, ties);
    }
    if !spec.strict_order {
        return level_loose(events, spec, table, chain, ties);
    }
    let n = chain.len() - 1;
    let chain = &mut chain[..n];
    let mut walk = Walk {
        spec,
        chain,
        started: false,
    };
    let mut i = 0;
    while i < events.len() {
        let e = events[i];
        let at = log::ts(e);
        let flow = if events.get(i + 1).is_none_or(|&n| log::ts(n) != at) {
            i += 1;
            match &table.single {
                // The common case, one step per name: a flat lookup per event.
                Some(single) => {
                    let idx = single
                        .get(log::name(e) as usize)
                        .copied()
                        .unwrap_or(NOT_A_STEP);
                    let cond = if idx == NOT_A_STEP { 0 } else { idx + 1 };
                    walk.entry(cond, at, log::channel_code(e))
                }
                None => {
                    ties.clear();
                    entries(e, spec, table, ties);
                    apply(&mut walk, ties, at)
                }
            }
        } else {
            i = tied_entries(events, i, spec, table, ties);
            apply(&mut walk, ties, at)
        };
        match flow {
            Flow::Go => {}
            Flow::Stop => break,
            Flow::Done(level) => return level,
        }
    }
    deepest(walk.chain)
}

/// [`level`] with `separate_events`: one event per step of a chain.
fn level_separate(
    events: &[u64],
    spec: &FunnelSpec,
    table: &StepTable,
    chain: &mut [Slot],
    order: &mut Vec<u32>,
) -> usize {
    let n = chain.len() - 1;
    let mut walk = Walk {
        spec,
        chain: &mut chain[..n],
        started: false,
    };
    // An event's place within its second: events matching no step first, then by the
    // first step they match, then by channel (which the breakdown reports).
    let rank = |e: u64| {
        let first = table.steps_of(log::name(e)).first().map_or(0, |&s| s + 1);
        first << 3 | log::channel_code(e) as u32
    };
    let mut i = 0;
    while i < events.len() {
        let at = log::ts(events[i]);
        let mut end = i + 1;
        while end < events.len() && log::ts(events[end]) == at {
            end += 1;
        }
        let second = &events[i..end];
        i = end;
        let flow = if second.len() == 1 {
            separate_event(&mut walk, table, second[0], at)
        } else {
            order.clear();
            order.extend(0..second.len() as u32);
            order.sort_by_key(|&k| rank(second[k as usize]));
            let mut flow = Flow::Go;
            for &k in order.iter() {
                flow = separate_event(&mut walk, table, second[k as usize], at);
                if !matches!(flow, Flow::Go) {
                    break;
                }
            }
            flow
        };
        match flow {
            Flow::Go => {}
            Flow::Stop => break,
            Flow::Done(level) => return level,
        }
    }
    deepest(walk.chain)
}

/// Applies one event to the steps it matches, last step first, so that it reads the
/// chain as it stood before the event.
#[inline]
fn separate_event(walk: &mut Walk<'_>, table: &StepTable, e: u64, at: u32) -> Flow {
    let channel = log::channel_code(e);
    let steps = table.steps_of(log::name(e));
    if steps.is_empty() {
        return if walk.spec.strict_order {
            walk.entry(0, at, channel)
        } else {
            Flow::Go
        };
    }
    for &idx in steps.iter().rev() {
        match walk.entry(idx + 1, at, channel) {
            Flow::Go => {}
            other => return other,
        }
    }
    Flow::Go
}

fn apply(walk: &mut Walk<'_>, entries: &[u32], at: u32) -> Flow {
    for &x in entries {
        match walk.entry(x >> 3, at, (x & 7) as u8) {
            Flow::Go => {}
            other => return other,
        }
    }
    Flow::Go
}

struct Acc {
    reached: Vec<u64>,
    from_first: Vec<Durations>,
    breakdown: BTreeMap<u32, Vec<u64>>,
    chain: Vec<Slot>,
    ties: Vec<u32>,
}

/// Runs a funnel over every customer in scope.
pub fn funnel(
    log: &EventLog,
    scope: Scope<'_>,
    spec: &FunnelSpec,
    breakdown: Breakdown<'_>,
) -> Result<FunnelReport, AnalyticsError> {
    if spec.steps.is_empty() {
        return Err(AnalyticsError::NoSteps);
    }
    let n = spec.steps.len();
    let table = StepTable::new(&spec.steps, log.names.len());
    let acc = log.scan(
        scope,
        || Acc {
            reached: vec![0; n],
            from_first: vec![Durations::default(); n],
            breakdown: BTreeMap::new(),
            chain: vec![UNSET; n + 1],
            ties: Vec::new(),
        },
        |acc, c, run| {
            let events = scope.slice(run);
            if events.is_empty() {
                return;
            }
            let depth = level(events, spec, &table, &mut acc.chain, &mut acc.ties);
            if depth == 0 {
                return;
            }
            for k in 0..depth {
                acc.reached[k] += 1;
            }
            for k in 1..depth {
                let slot = acc.chain[k];
                acc.from_first[k].add((slot.at - slot.first) as u64);
            }
            let key = match breakdown {
                Breakdown::None => return,
                Breakdown::Channel => acc.chain[depth - 1].channel as u32,
                Breakdown::FirstTouch => log::channel_code(run[0]) as u32,
                Breakdown::Attribute(values) => values.get(c as usize).copied().unwrap_or(NO_VALUE),
            };
            let row = acc.breakdown.entry(key).or_insert_with(|| vec![0; n]);
            for slot in row.iter_mut().take(depth) {
                *slot += 1;
            }
        },
        |mut a, b| {
            for (x, y) in a.reached.iter_mut().zip(&b.reached) {
                *x += y;
            }
            for (x, y) in a.from_first.iter_mut().zip(&b.from_first) {
                x.merge(y);
            }
            for (key, row) in b.breakdown {
                let into = a.breakdown.entry(key).or_insert_with(|| vec![0; n]);
                for (x, y) in into.iter_mut().zip(&row) {
                    *x += y;
                }
            }
            a
        },
    );
    Ok(FunnelReport {
        reached: acc.reached,
        from_first: acc.from_first,
        breakdown: acc.breakdown,
    })
}

/// One outcome of the post-purchase CX funnel.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub event: String,
    pub purchasers: u64,
    pub converted: u64,
}

/// The built-in post-purchase template: of the customers who purchased in scope, how
/// many then, within the window after their first purchase, refunded, bought again or
/// referred someone. A scan of its own: a repurchase is a later purchase event, which a
/// `[purchase, purchase]` windowFunnel cannot express (one event meets both steps).
pub fn post_purchase(
    log: &EventLog,
    scope: Scope<'_>,
    window_secs: u64,
    purchase: &str,
    outcomes: &[&str],
) -> Vec<Outcome> {
    let Some(buy) = log.names.code(purchase) else {
        return Vec::new();
    };
    let codes: Vec<Option<u16>> = outcomes.iter().map(|o| log.names.code(o)).collect();
    let (purchasers, converted) = log.scan(
        scope,
        || (0u64, vec![0u64; codes.len()]),
        |(purchasers, converted), _, run| {
            let events = scope.slice(run);
            let Some(first) = events.iter().position(|&e| log::name(e) == buy) else {
                return;
            };
            *purchasers += 1;
            let deadline = log::ts(events[first]) as u64 + window_secs;
            let later = events[first + 1..]
                .iter()
                .take_while(|&&e| log::ts(e) as u64 <= deadline);
            let mut seen = vec![false; codes.len()];
            for &e in later {
                for (k, code) in codes.iter().enumerate() {
                    seen[k] |= *code == Some(log::name(e));
                }
            }
            for (k, hit) in seen.into_iter().enumerate() {
                converted[k] += hit as u64;
            }
        },
        |(pa, mut ca), (pb, cb)| {
            for (x, y) in ca.iter_mut().zip(cb) {
                *x += y;
            }
            (pa + pb, ca)
        },
    );
    outcomes
        .iter()
        .zip(converted)
        .map(|(event, converted)| Outcome {
            event: event.to_string(),
            purchasers,
            converted,
        })
        .collect()
}

/// Default outcome events of the post-purchase template.
pub const POST_PURCHASE_OUTCOMES: [&str; 3] = ["refund", "purchase", "referral"];

#[cfg(test)]
mod tests {
    use nunchi_core::channel::Channel;

    use super::*;
    use crate::log::Event;

    fn log_of(rows: &[(u32, u32, &str)]) -> EventLog {
        let mut log = EventLog::new();
        for &(c, ts, name) in rows {
            let name = log.intern(name).unwrap();
            let channel = if c % 2 == 0 {
                Channel::Web
            } else {
                Channel::App
            };
            log.push(
                c,
                Event {
                    ts,
                    name,
                    touchpoint: 0,
                    channel,
                },
            );
        }
        log
    }

    fn reached(log: &EventLog, steps: &[&str], window: u64, strict_order: bool) -> Vec<u64> {
        let mut spec = FunnelSpec::new(log.names.codes(steps).unwrap(), window);
        spec.strict_order = strict_order;
        funnel(log, Scope::all(), &spec, Breakdown::None)
            .unwrap()
            .reached
    }

    #[test]
    fn window_counts_from_the_chain_start_inclusive() {
        let log = log_of(&[
            (0, 0, "a"),
            (0, 5, "b"),
            (0, 10, "c"),
            (1, 0, "a"),
            (1, 5, "b"),
            (1, 11, "c"),
            (2, 3, "b"),
        ]);
        assert_eq!(reached(&log, &["a", "b", "c"], 10, false), vec![2, 2, 1]);
    }

    #[test]
    fn strict_order_stops_at_an_unrelated_event() {
        let log = log_of(&[
            (0, 0, "a"),
            (0, 1, "x"),
            (0, 2, "b"),
            (1, 0, "a"),
            (1, 2, "b"),
        ]);
        assert_eq!(reached(&log, &["a", "b"], 100, false), vec![2, 2]);
        assert_eq!(reached(&log, &["a", "b"], 100, true), vec![2, 1]);
    }

    #[test]
    fn a_repeated_step_is_met_by_one_event_as_in_clickhouse() {
        // One event matches both steps, step 1 applying first. With strict_increase the
        // second purchase restarts the chain before it could extend it.
        let log = log_of(&[(0, 0, "buy"), (1, 0, "buy"), (1, 50, "buy")]);
        assert_eq!(reached(&log, &["buy", "buy"], 100, false), vec![2, 2]);
        let mut spec = FunnelSpec::new(log.names.codes(&["buy", "buy"]).unwrap(), 100);
        spec.strict_increase = true;
        let report = funnel(&log, Scope::all(), &spec, Breakdown::None).unwrap();
        assert_eq!(report.reached, vec![2, 0]);
    }

    #[test]
    fn events_in_the_same_second_apply_in_step_order() {
        // Arrival order b then a, same second: ClickHouse still sees a before b.
        let log = log_of(&[(0, 10, "b"), (0, 10, "a"), (1, 10, "b"), (1, 11, "a")]);
        assert_eq!(reached(&log, &["a", "b"], 100, false), vec![2, 1]);
        // An unmatched event in the same second comes first: in strict order it ends the
        // walk before b.
        let log = log_of(&[(0, 10, "a"), (0, 20, "b"), (0, 20, "x")]);
        assert_eq!(reached(&log, &["a", "b"], 100, false), vec![1, 1]);
        assert_eq!(reached(&log, &["a", "b"], 100, true), vec![1, 0]);
    }

    #[test]
    fn breakdowns_and_time_to_convert() {
        let log = log_of(&[
            (0, 0, "a"),
            (0, 120, "b"),
            (1, 0, "a"),
            (2, 0, "a"),
            (2, 30, "b"),
        ]);
        let spec = FunnelSpec::new(log.names.codes(&["a", "b"]).unwrap(), 1_000);
        let report = funnel(&log, Scope::all(), &spec, Breakdown::Channel).unwrap();
        assert_eq!(report.breakdown[&(Channel::Web.code() as u32)], vec![2, 2]);
        assert_eq!(report.breakdown[&(Channel::App.code() as u32)], vec![1, 0]);
        assert_eq!(report.time_to_convert().count(), 2);
        assert_eq!(report.time_to_convert().bands()[0..2], [1, 1]);
        let values = [7, NO_VALUE, 7];
        let by_attr = funnel(&log, Scope::all(), &spec, Breakdown::Attribute(&values)).unwrap();
        assert_eq!(by_attr.breakdown[&7], vec![2, 2]);
        assert_eq!(by_attr.breakdown[&NO_VALUE], vec![1, 0]);
    }

    #[test]
    fn post_purchase_template_counts_each_outcome() {
        let log = log_of(&[
            (0, 0, "purchase"),
            (0, 10, "refund"),
            (1, 0, "purchase"),
            (1, 20, "purchase"),
            (2, 0, "purchase"),
            (2, 5, "referral"),
            (2, 500, "refund"),
            (3, 0, "visit"),
        ]);
        let out = post_purchase(&log, Scope::all(), 100, "purchase", &POST_PURCHASE_OUTCOMES);
        let pairs: Vec<(&str, u64, u64)> = out
            .iter()
            .map(|o| (o.event.as_str(), o.purchasers, o.converted))
            .collect();
        assert_eq!(
            pairs,
            vec![("refund", 3, 1), ("purchase", 3, 1), ("referral", 3, 1)]
        );
    }
}
