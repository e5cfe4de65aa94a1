//! The event log: one time-sorted run of packed 8-byte events per customer, updated in
//! place as events arrive, so queries never rebuild it.
//!
//! An event packs into a `u64`: the Unix second in the top 32 bits, the event-name code in
//! the next 16, a touchpoint code in 13 and the channel in the low 3. Runs stay sorted by
//! time; events with equal times keep their arrival order, as ClickHouse's stable sort
//! does, which makes funnel results independent of how a log was loaded only up to ties.

use std::collections::HashMap;

use nunchi_core::channel::Channel;

use crate::AnalyticsError;
use crate::keys::Names;
use crate::parallel;

/// Touchpoint codes fit in 13 bits; 0 means "no touchpoint matched".
pub const MAX_TOUCHPOINTS: u16 = (1 << 13) - 1;

/// One event as the engine sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    pub ts: u32,
    pub name: u16,
    pub touchpoint: u16,
    pub channel: Channel,
}

impl Event {
    #[inline]
    pub fn pack(self) -> u64 {
        ((self.ts as u64) << 32)
            | ((self.name as u64) << 16)
            | (((self.touchpoint & MAX_TOUCHPOINTS) as u64) << 3)
            | self.channel.code() as u64
    }

    #[inline]
    pub fn unpack(packed: u64) -> Event {
        Event {
            ts: ts(packed),
            name: name(packed),
            touchpoint: touchpoint(packed),
            channel: Channel::from_code(channel_code(packed)),
        }
    }
}

#[inline]
pub fn ts(packed: u64) -> u32 {
    (packed >> 32) as u32
}

#[inline]
pub fn name(packed: u64) -> u16 {
    (packed >> 16) as u16
}

/// How many events named `name_code` a time-ordered run holds at or after `since`
/// (seconds), and the time of the first of them: what a segment rule's "did X at least N
/// times in the last D days" reads, and when the oldest of those leaves the window.
pub fn tally(run: &[u64], name_code: u16, since: u32) -> (u32, Option<u32>) {
    let start = run.partition_point(|&e| ts(e) < since);
    run[start..]
        .iter()
        .filter(|&&e| name(e) == name_code)
        .fold((0, None), |(n, first), &e| (n + 1, first.or(Some(ts(e)))))
}

#[inline]
pub fn touchpoint(packed: u64) -> u16 {
    ((packed >> 3) as u16) & MAX_TOUCHPOINTS
}

#[inline]
pub fn channel_code(packed: u64) -> u8 {
    (packed & 7) as u8
}

/// A set of customers by dense index, e.g. a segment's members.
#[derive(Debug, Clone, Default)]
pub struct CustomerSet {
    words: Vec<u64>,
}

impl CustomerSet {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, customer: u32) {
        let word = customer as usize / 64;
        if word >= self.words.len() {
            self.words.resize(word + 1, 0);
        }
        self.words[word] |= 1 << (customer % 64);
    }

    #[inline]
    pub fn contains(&self, customer: u32) -> bool {
        self.words
            .get(customer as usize / 64)
            .is_some_and(|w| w & (1 << (customer % 64)) != 0)
    }

    pub fn len(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl FromIterator<u32> for CustomerSet {
    fn from_iter<I: IntoIterator<Item = u32>>(iter: I) -> Self {
        let mut set = CustomerSet::new();
        for c in iter {
            set.insert(c);
        }
        set
    }
}

/// Which events a query looks at: a half-open time range and optionally a customer set.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scope<'a> {
    pub from: Option<u32>,
    pub to: Option<u32>,
    pub customers: Option<&'a CustomerSet>,
}

impl Scope<'_> {
    pub fn all() -> Scope<'static> {
        Scope::default()
    }

    #[inline]
    pub fn includes(&self, customer: u32) -> bool {
        self.customers.is_none_or(|s| s.contains(customer))
    }

    /// The part of a sorted run that falls inside the time range.
    #[inline]
    pub fn slice<'e>(&self, run: &'e [u64]) -> &'e [u64] {
        let start = match self.from {
            Some(from) if run.first().is_some_and(|&e| ts(e) < from) => {
                run.partition_point(|&e| ts(e) < from)
            }
            _ => 0,
        };
        let end = match self.to {
            Some(to) if run.last().is_some_and(|&e| ts(e) >= to) => {
                run.partition_point(|&e| ts(e) < to)
            }
            _ => run.len(),
        };
        &run[start..end.max(start)]
    }
}

/// Below this many pending events the log never compacts on its own.
const MIN_COMPACT: usize = 65_536;

/// All customers' events, sorted by time within each customer.
///
/// Most events live in `base`, one contiguous customer-major array that scans stream
/// through at memory speed. Events that arrive later wait in a small per-customer `tail`
/// until the tail reaches an eighth of the base; then both are merged into a new base.
/// That keeps each insert amortised O(1) and no query ever rebuilds anything.
#[derive(Debug, Default)]
pub struct EventLog {
    pub names: Names,
    base: Vec<u64>,
    /// `base[offsets[c]..offsets[c + 1]]` is customer c's compacted run.
    offsets: Vec<u64>,
    /// Customers whose compacted run was moved to another customer by a merge.
    emptied: CustomerSet,
    tail: HashMap<u32, Vec<u64>>,
    has_tail: CustomerSet,
    tail_len: usize,
    customers: u32,
    len: usize,
}

impl EventLog {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn intern(&mut self, name: &str) -> Result<u16, AnalyticsError> {
        self.names.intern(name)
    }

    /// Adds one event. A late event is placed after any events with the same second.
    pub fn push(&mut self, customer: u32, event: Event) {
        self.customers = self.customers.max(customer + 1);
        let run = self.tail.entry(customer).or_default();
        insert_sorted(run, event.pack());
        self.has_tail.insert(customer);
        self.tail_len += 1;
        self.len += 1;
        if self.tail_len >= MIN_COMPACT.max(self.base.len() / 8) {
            self.compact();
        }
    }

    /// Merges the pending tail into the contiguous base. Runs on its own as events
    /// arrive; call it after a bulk load to have everything in scan order at once.
    pub fn compact(&mut self) {
        if self.tail_len == 0 && self.emptied.is_empty() {
            return;
        }
        let mut base = Vec::with_capacity(self.len);
        let mut offsets = Vec::with_capacity(self.customers as usize + 1);
        let mut scratch = Vec::new();
        offsets.push(0);
        for c in 0..self.customers {
            base.extend_from_slice(self.run(c, &mut scratch));
            offsets.push(base.len() as u64);
        }
        self.base = base;
        self.offsets = offsets;
        self.tail = HashMap::new();
        self.has_tail = CustomerSet::new();
        self.emptied = CustomerSet::new();
        self.tail_len = 0;
    }

    fn base_run(&self, customer: u32) -> &[u64] {
        let c = customer as usize;
        if c + 1 >= self.offsets.len() || self.emptied.contains(customer) {
            return &[];
        }
        &self.base[self.offsets[c] as usize..self.offsets[c + 1] as usize]
    }

    /// Customer's events in time order. Usually a slice of the base; when events are
    /// pending for the customer, they are merged into `scratch` and that is returned.
    #[inline]
    pub fn run<'a>(&'a self, customer: u32, scratch: &'a mut Vec<u64>) -> &'a [u64] {
        let base = self.base_run(customer);
        if !self.has_tail.contains(customer) {
            return base;
        }
        let tail = self.tail.get(&customer).map_or(&[][..], Vec::as_slice);
        scratch.clear();
        merge_into(scratch, base, tail);
        scratch
    }

    /// Visits every customer in scope with their whole run, across the machine's
    /// cores, and folds the per-core accumulators.
    pub fn scan<A: Send>(
        &self,
        scope: Scope<'_>,
        init: impl Fn() -> A + Sync,
        visit: impl Fn(&mut A, u32, &[u64]) + Sync,
        merge: impl Fn(A, A) -> A,
    ) -> A {
        let acc = parallel::over_customers(
            self.customers,
            || (init(), Vec::new()),
            |(acc, scratch), c| {
                if scope.includes(c) {
                    let run = self.run(c, scratch);
                    if !run.is_empty() {
                        visit(acc, c, run);
                    }
                }
            },
            |(a, s), (b, _)| (merge(a, b), s),
        );
        acc.0
    }

    /// Moves every event of `from` into `into`, as identity stitching does when an
    /// anonymous visitor turns out to be a known customer.
    pub fn merge_customers(&mut self, from: u32, into: u32) {
        if from == into || from >= self.customers {
            return;
        }
        let mut scratch = Vec::new();
        let moved = self.run(from, &mut scratch).to_vec();
        if moved.is_empty() {
            return;
        }
        self.emptied.insert(from);
        if let Some(t) = self.tail.remove(&from) {
            self.tail_len -= t.len();
        }
        self.customers = self.customers.max(into + 1);
        let run = self.tail.entry(into).or_default();
        let mut merged = Vec::with_capacity(run.len() + moved.len());
        merge_into(&mut merged, run, &moved);
        self.tail_len += moved.len();
        *run = merged;
        self.has_tail.insert(into);
        if self.tail_len >= MIN_COMPACT.max(self.base.len() / 8) {
            self.compact();
        }
    }

    /// Number of customer slots (the highest index plus one).
    pub fn customers(&self) -> u32 {
        self.customers
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes the log holds on the heap: the base, its offsets, and the pending tail
    /// (with glibc's 16-byte block rounding for the tail's small allocations).
    pub fn heap_bytes(&self) -> usize {
        let block = |bytes: usize| {
            if bytes == 0 {
                0
            } else {
                (bytes + 8 + 15).max(32) & !15
            }
        };
        self.base.capacity() * 8
            + self.offsets.capacity() * 8
            + self.tail.capacity() * (4 + std::mem::size_of::<Vec<u64>>() + 1)
            + self
                .tail
                .values()
                .map(|r| block(r.capacity() * 8))
                .sum::<usize>()
    }

    /// Earliest and latest event time, if any.
    pub fn time_span(&self) -> Option<(u32, u32)> {
        self.scan(
            Scope::all(),
            || None,
            |span: &mut Option<(u32, u32)>, _, run| {
                let (a, b) = (ts(run[0]), ts(run[run.len() - 1]));
                *span = Some(span.map_or((a, b), |(lo, hi)| (lo.min(a), hi.max(b))));
            },
            |a, b| match (a, b) {
                (Some((a0, a1)), Some((b0, b1))) => Some((a0.min(b0), a1.max(b1))),
                (a, b) => a.or(b),
            },
        )
    }
}

/// Inserts keeping time order, after events with the same second.
fn insert_sorted(run: &mut Vec<u64>, packed: u64) {
    if run.last().is_none_or(|&last| ts(last) <= ts(packed)) {
        run.push(packed);
    } else {
        let at = run.partition_point(|&e| ts(e) <= ts(packed));
        run.insert(at, packed);
    }
}

/// Appends the time-ordered merge of two sorted runs; on equal times `a` goes first.
fn merge_into(out: &mut Vec<u64>, a: &[u64], b: &[u64]) {
    if a.last()
        .is_none_or(|&l| b.first().is_none_or(|&f| ts(l) <= ts(f)))
    {
        out.extend_from_slice(a);
        out.extend_from_slice(b);
        return;
    }
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if ts(b[j]) < ts(a[i]) {
            out.push(b[j]);
            j += 1;
        } else {
            out.push(a[i]);
            i += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(ts: u32, name: u16) -> Event {
        Event {
            ts,
            name,
            touchpoint: 0,
            channel: Channel::Web,
        }
    }

    #[test]
    fn tally_counts_one_name_from_a_moment_on() {
        let run: Vec<u64> = [(5, 1), (10, 2), (10, 1), (20, 1), (30, 2)]
            .iter()
            .map(|&(t, n)| ev(t, n).pack())
            .collect();
        assert_eq!(tally(&run, 1, 0), (3, Some(5)));
        assert_eq!(tally(&run, 1, 10), (2, Some(10)));
        assert_eq!(tally(&run, 2, 11), (1, Some(30)));
        assert_eq!(tally(&run, 2, 31), (0, None));
        assert_eq!(tally(&run, 9, 0), (0, None));
    }

    #[test]
    fn packing_round_trips() {
        let e = Event {
            ts: u32::MAX - 5,
            name: 65_000,
            touchpoint: MAX_TOUCHPOINTS,
            channel: Channel::Custom,
        };
        assert_eq!(Event::unpack(e.pack()), e);
    }

    #[test]
    fn late_events_land_in_time_order_after_equal_times() {
        let mut log = EventLog::new();
        log.push(3, ev(10, 1));
        log.push(3, ev(30, 2));
        log.push(3, ev(10, 3));
        log.push(3, ev(5, 4));
        let mut scratch = Vec::new();
        let names: Vec<u16> = log.run(3, &mut scratch).iter().map(|&e| name(e)).collect();
        assert_eq!(names, vec![4, 1, 3, 2]);
        log.compact();
        let names: Vec<u16> = log.run(3, &mut scratch).iter().map(|&e| name(e)).collect();
        assert_eq!(names, vec![4, 1, 3, 2]);
        log.push(3, ev(10, 5));
        let names: Vec<u16> = log.run(3, &mut scratch).iter().map(|&e| name(e)).collect();
        assert_eq!(names, vec![4, 1, 3, 5, 2]);
        assert_eq!(log.len(), 5);
        assert!(log.run(0, &mut scratch).is_empty());
        assert_eq!(log.time_span(), Some((5, 30)));
    }

    #[test]
    fn merging_interleaves_by_time_and_empties_the_source() {
        let mut log = EventLog::new();
        log.push(0, ev(10, 1));
        log.push(0, ev(40, 1));
        log.compact();
        log.push(1, ev(20, 2));
        log.push(1, ev(50, 2));
        log.merge_customers(1, 0);
        let mut scratch = Vec::new();
        let times: Vec<u32> = log.run(0, &mut scratch).iter().map(|&e| ts(e)).collect();
        assert_eq!(times, vec![10, 20, 40, 50]);
        assert!(log.run(1, &mut scratch).is_empty());
        log.compact();
        let times: Vec<u32> = log.run(0, &mut scratch).iter().map(|&e| ts(e)).collect();
        assert_eq!(times, vec![10, 20, 40, 50]);
        assert!(log.run(1, &mut scratch).is_empty());
        assert_eq!(log.len(), 4);
    }

    #[test]
    fn scope_slices_a_run_by_half_open_range() {
        let run: Vec<u64> = [1, 5, 5, 9, 12].iter().map(|&t| ev(t, 0).pack()).collect();
        let scope = Scope {
            from: Some(5),
            to: Some(12),
            customers: None,
        };
        let times: Vec<u32> = scope.slice(&run).iter().map(|&e| ts(e)).collect();
        assert_eq!(times, vec![5, 5, 9]);
        let set: CustomerSet = [2, 70].into_iter().collect();
        assert!(set.contains(70) && !set.contains(3));
        assert_eq!(set.len(), 2);
    }
}
