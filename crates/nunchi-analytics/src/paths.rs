//! Paths: which event follows which. Top transitions between consecutive events, the
//! position-indexed links a Sankey draws, and the next or previous steps around an event.

use std::collections::HashMap;

use crate::log::{self, EventLog, Scope};

/// Name tables up to this size count pairs in a dense matrix; beyond, in a hash map.
const DENSE_NAMES: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub from: u16,
    pub to: u16,
    pub count: u64,
}

enum PairCounts {
    Dense { width: usize, counts: Vec<u32> },
    Sparse(HashMap<u32, u64>),
}

impl PairCounts {
    fn new(names: usize) -> PairCounts {
        if names <= DENSE_NAMES {
            PairCounts::Dense {
                width: names.max(1),
                counts: vec![0; names.max(1) * names.max(1)],
            }
        } else {
            PairCounts::Sparse(HashMap::new())
        }
    }

    #[inline]
    fn add(&mut self, from: u16, to: u16) {
        match self {
            PairCounts::Dense { width, counts } => {
                counts[from as usize * *width + to as usize] += 1;
            }
            PairCounts::Sparse(map) => {
                *map.entry((from as u32) << 16 | to as u32).or_default() += 1
            }
        }
    }

    fn merge(self, other: PairCounts) -> PairCounts {
        match (self, other) {
            (PairCounts::Dense { width, mut counts }, PairCounts::Dense { counts: b, .. }) => {
                for (x, y) in counts.iter_mut().zip(b) {
                    *x += y;
                }
                PairCounts::Dense { width, counts }
            }
            (PairCounts::Sparse(mut a), PairCounts::Sparse(b)) => {
                for (k, v) in b {
                    *a.entry(k).or_default() += v;
                }
                PairCounts::Sparse(a)
            }
            _ => unreachable!("both sides are built for the same name table"),
        }
    }

    fn into_transitions(self) -> Vec<Transition> {
        match self {
            PairCounts::Dense { width, counts } => counts
                .into_iter()
                .enumerate()
                .filter(|&(_, n)| n > 0)
                .map(|(i, n)| Transition {
                    from: (i / width) as u16,
                    to: (i % width) as u16,
                    count: n as u64,
                })
                .collect(),
            PairCounts::Sparse(map) => map
                .into_iter()
                .map(|(k, n)| Transition {
                    from: (k >> 16) as u16,
                    to: k as u16,
                    count: n,
                })
                .collect(),
        }
    }
}

/// Sorts most frequent first, ties by names' codes, and keeps `limit`.
fn top(mut all: Vec<Transition>, limit: usize) -> Vec<Transition> {
    all.sort_unstable_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then((a.from, a.to).cmp(&(b.from, b.to)))
    });
    all.truncate(limit);
    all
}

/// The `limit` most frequent pairs of consecutive events in scope.
pub fn top_transitions(log: &EventLog, scope: Scope<'_>, limit: usize) -> Vec<Transition> {
    let names = log.names.len();
    let counts = log.scan(
        scope,
        || PairCounts::new(names),
        |acc, _, run| {
            let events = scope.slice(run);
            for pair in events.windows(2) {
                acc.add(log::name(pair[0]), log::name(pair[1]));
            }
        },
        PairCounts::merge,
    );
    top(counts.into_transitions(), limit)
}

/// A link in a Sankey: at position `step` of a path, `from` was followed by `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Link {
    pub step: u8,
    pub from: u16,
    pub to: u16,
    pub count: u64,
}

/// Paths from each customer's first event (or first `start` event) in scope, repeats of
/// the same event collapsed, up to `depth` links deep; the `limit` heaviest links.
pub fn sankey(
    log: &EventLog,
    scope: Scope<'_>,
    start: Option<u16>,
    depth: u8,
    limit: usize,
) -> Vec<Link> {
    let counts = log.scan(
        scope,
        HashMap::<(u8, u16, u16), u64>::new,
        |acc, _, run| {
            let events = scope.slice(run);
            let begin = match start {
                None => 0,
                Some(s) => match events.iter().position(|&e| log::name(e) == s) {
                    Some(i) => i,
                    None => return,
                },
            };
            let mut prev = None;
            let mut step = 0u8;
            for &e in &events[begin..] {
                let name = log::name(e);
                if prev == Some(name) {
                    continue;
                }
                if let Some(p) = prev {
                    *acc.entry((step, p, name)).or_default() += 1;
                    step += 1;
                    if step >= depth {
                        break;
                    }
                }
                prev = Some(name);
            }
        },
        |mut a, b| {
            for (k, v) in b {
                *a.entry(k).or_default() += v;
            }
            a
        },
    );
    let mut links: Vec<Link> = counts
        .into_iter()
        .map(|((step, from, to), count)| Link {
            step,
            from,
            to,
            count,
        })
        .collect();
    links.sort_unstable_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then((a.step, a.from, a.to).cmp(&(b.step, b.from, b.to)))
    });
    links.truncate(limit);
    links
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Next,
    Previous,
}

/// For every occurrence of `event` in scope, the event right after (or before) it;
/// `None` counts occurrences with nothing after (or before) them. Most frequent first.
pub fn neighbours(
    log: &EventLog,
    scope: Scope<'_>,
    event: u16,
    direction: Direction,
) -> Vec<(Option<u16>, u64)> {
    let counts = log.scan(
        scope,
        HashMap::<Option<u16>, u64>::new,
        |acc, _, run| {
            let events = scope.slice(run);
            for (i, &e) in events.iter().enumerate() {
                if log::name(e) != event {
                    continue;
                }
                let other = match direction {
                    Direction::Next => events.get(i + 1),
                    Direction::Previous => i.checked_sub(1).map(|j| &events[j]),
                };
                *acc.entry(other.map(|&o| log::name(o))).or_default() += 1;
            }
        },
        |mut a, b| {
            for (k, v) in b {
                *a.entry(k).or_default() += v;
            }
            a
        },
    );
    let mut out: Vec<(Option<u16>, u64)> = counts.into_iter().collect();
    out.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

#[cfg(test)]
mod tests {
    use nunchi_core::channel::Channel;

    use super::*;
    use crate::log::Event;

    fn log_of(paths: &[&[&str]]) -> EventLog {
        let mut log = EventLog::new();
        for (c, path) in paths.iter().enumerate() {
            for (t, name) in path.iter().enumerate() {
                let name = log.intern(name).unwrap();
                log.push(
                    c as u32,
                    Event {
                        ts: t as u32 * 10,
                        name,
                        touchpoint: 0,
                        channel: Channel::Web,
                    },
                );
            }
        }
        log
    }

    #[test]
    fn transitions_sankey_and_neighbours() {
        let log = log_of(&[
            &["home", "item", "cart"],
            &["home", "home", "item"],
            &["item", "cart"],
        ]);
        let code = |n| log.names.code(n).unwrap();
        let top = top_transitions(&log, Scope::all(), 2);
        assert_eq!(
            top[0],
            Transition {
                from: code("home"),
                to: code("item"),
                count: 2
            }
        );
        assert_eq!(
            top[1],
            Transition {
                from: code("item"),
                to: code("cart"),
                count: 2
            }
        );
        let links = sankey(&log, Scope::all(), None, 5, 10);
        assert!(links.contains(&Link {
            step: 0,
            from: code("home"),
            to: code("item"),
            count: 2
        }));
        assert!(links.contains(&Link {
            step: 1,
            from: code("item"),
            to: code("cart"),
            count: 1
        }));
        assert_eq!(links.iter().map(|l| l.count).sum::<u64>(), 4);
        let after_item = neighbours(&log, Scope::all(), code("item"), Direction::Next);
        assert_eq!(after_item, vec![(Some(code("cart")), 2), (None, 1)]);
        let before_cart = neighbours(&log, Scope::all(), code("cart"), Direction::Previous);
        assert_eq!(before_cart, vec![(Some(code("item")), 2)]);
    }
}
