//! Splits a scan over customers across the machine's cores and merges the partial results.

use std::num::NonZeroUsize;

/// Below this many customers a scan runs on the calling thread: spawning costs more.
const MIN_PARALLEL: u32 = 50_000;

/// Runs `visit` over customers `0..n` in contiguous chunks, one per core, each with its
/// own accumulator from `init`, then folds the accumulators with `merge`.
pub fn over_customers<A: Send>(
    n: u32,
    init: impl Fn() -> A + Sync,
    visit: impl Fn(&mut A, u32) + Sync,
    merge: impl Fn(A, A) -> A,
) -> A {
    let threads = std::thread::available_parallelism()
        .map(NonZeroUsize::get)
        .unwrap_or(1) as u32;
    if threads <= 1 || n < MIN_PARALLEL {
        let mut acc = init();
        for c in 0..n {
            visit(&mut acc, c);
        }
        return acc;
    }
    let chunk = n.div_ceil(threads);
    let scan = |t: u32| {
        let mut acc = init();
        for c in (t * chunk)..((t + 1) * chunk).min(n) {
            visit(&mut acc, c);
        }
        acc
    };
    // The calling thread takes the first chunk itself: one thread fewer to start and wake,
    // which on a small machine is a good part of a millisecond-long query.
    let parts: Vec<A> = std::thread::scope(|s| {
        let handles: Vec<_> = (1..threads)
            .map(|t| {
                let scan = &scan;
                s.spawn(move || scan(t))
            })
            .collect();
        let mut parts = vec![scan(0)];
        parts.extend(
            handles
                .into_iter()
                .map(|h| h.join().expect("analytics worker panicked")),
        );
        parts
    });
    parts.into_iter().reduce(merge).unwrap_or_else(init)
}
