//! The de-duplication window on (source, message id): 24 hours, as Segment's. A keyed
//! 64-bit hash finds the candidates, but the decision always compares the whole id: two
//! different ids that share a hash are two events. (An earlier version decided on an
//! unkeyed hash alone and dropped acknowledged events whose business ids collided:
//! `order-109` and `order-182`.)
//!
//! Every id in the window is kept in full, so the layout is made compact: the records
//! (source, id bytes) lie end to end in 1 MiB chunks in arrival order, which is also the
//! order they expire in, so a chunk is freed whole once its last record expires; the hash
//! table holds only each record's offset, and arrival times are kept once per second, not
//! per record. About 20 bytes plus the id's length per message, against ~100 for a map of
//! strings. The window also holds at most `max_ids` messages: under a flood the oldest
//! leave early rather than memory growing without bound.

use std::collections::VecDeque;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};

use hashbrown::HashTable;

/// Duplicates are recognised for this long after the first copy arrived.
pub const DEDUP_WINDOW_MS: i64 = 24 * 3600 * 1000;

/// The most messages the window remembers by default: 24 hours at 23 events a second,
/// about 140 MB with Segment's 45-character ids.
pub const DEFAULT_MAX_IDS: usize = 2_000_000;

/// Bytes before a record's id: source (i64), id length (u16).
const HEADER: usize = 8 + 2;
/// Arena chunk size; a logical offset is (chunk number << 32) | position in the chunk.
const CHUNK: usize = 1 << 20;

/// Message ids seen within the window, in arrival order.
#[derive(Debug)]
pub struct Dedup {
    /// Keyed per process (SipHash with a random key), so nobody can choose ids that
    /// collide; a collision only costs a comparison anyway.
    hasher: RandomState,
    /// Logical offsets of records, found by the hash of their (source, id).
    table: HashTable<u64>,
    /// The records, oldest first; `chunks[0]` is chunk number `first_chunk`, and its live
    /// records start at `head`.
    chunks: VecDeque<Vec<u8>>,
    first_chunk: u64,
    head: usize,
    /// (second, logical offset of the first record that arrived in it), oldest first.
    /// Seconds never go back: a record that arrives late counts as the newest second.
    seconds: VecDeque<(i64, u64)>,
    len: usize,
    max_ids: usize,
    chunk_size: usize,
}

impl Default for Dedup {
    fn default() -> Self {
        Dedup::with_capacity_limit(DEFAULT_MAX_IDS)
    }
}

/// One record read back from the arena.
struct Rec<'a> {
    source: i64,
    id: &'a [u8],
}

impl Rec<'_> {
    fn size(&self) -> usize {
        HEADER + self.id.len()
    }
}

fn offset(chunk: u64, pos: usize) -> u64 {
    (chunk << 32) | pos as u64
}

fn rec_in<'a>(chunks: &'a VecDeque<Vec<u8>>, first_chunk: u64, offset: u64) -> Rec<'a> {
    let data = &chunks[((offset >> 32) - first_chunk) as usize];
    let at = (offset & 0xffff_ffff) as usize;
    let h = &data[at..at + HEADER];
    let source = i64::from_le_bytes(h[0..8].try_into().expect("8 bytes"));
    let len = u16::from_le_bytes(h[8..10].try_into().expect("2 bytes")) as usize;
    Rec {
        source,
        id: &data[at + HEADER..at + HEADER + len],
    }
}

fn hash_of(hasher: &RandomState, source: i64, id: &[u8]) -> u64 {
    let mut h = hasher.build_hasher();
    h.write_i64(source);
    h.write(id);
    h.finish()
}

impl Dedup {
    pub fn with_capacity_limit(max_ids: usize) -> Dedup {
        Dedup::with_chunks(max_ids, CHUNK)
    }

    fn with_chunks(max_ids: usize, chunk_size: usize) -> Dedup {
        Dedup {
            hasher: RandomState::new(),
            table: HashTable::new(),
            chunks: VecDeque::new(),
            first_chunk: 0,
            head: 0,
            seconds: VecDeque::new(),
            len: 0,
            max_ids: max_ids.max(1),
            chunk_size,
        }
    }

    fn rec(&self, offset: u64) -> Rec<'_> {
        rec_in(&self.chunks, self.first_chunk, offset)
    }

    /// The logical offset of the oldest record.
    fn start(&self) -> u64 {
        offset(self.first_chunk, self.head)
    }

    /// The logical offset just past the newest record.
    fn end(&self) -> u64 {
        match self.chunks.back() {
            Some(last) => offset(self.first_chunk + self.chunks.len() as u64 - 1, last.len()),
            None => offset(self.first_chunk, 0),
        }
    }

    /// The offset of the record after the one at `at`, moved to the next chunk's start
    /// when `at`'s chunk ends there.
    fn next(&self, at: u64) -> u64 {
        let size = self.rec(at).size();
        let chunk = at >> 32;
        let pos = (at & 0xffff_ffff) as usize + size;
        let is_last = chunk + 1 == self.first_chunk + self.chunks.len() as u64;
        if !is_last && pos >= self.chunks[(chunk - self.first_chunk) as usize].len() {
            offset(chunk + 1, 0)
        } else {
            offset(chunk, pos)
        }
    }

    /// Forgets ids that arrived before the window.
    pub fn expire(&mut self, now: i64) {
        let cutoff = (now - DEDUP_WINDOW_MS).div_euclid(1000);
        while let Some(&(second, _)) = self.seconds.front() {
            if second >= cutoff {
                break;
            }
            let until = self.seconds.get(1).map_or(self.end(), |&(_, o)| o);
            while self.len > 0 && self.start() < until {
                self.pop_oldest();
            }
            self.seconds.pop_front();
        }
    }

    fn pop_oldest(&mut self) {
        let at = self.start();
        let r = self.rec(at);
        let size = r.size();
        let hash = hash_of(&self.hasher, r.source, r.id);
        if let Ok(entry) = self.table.find_entry(hash, |&o| o == at) {
            entry.remove();
        }
        self.len -= 1;
        self.head += size;
        self.free_used_chunks();
    }

    /// Frees front chunks whose records have all gone (keeping the one being filled).
    fn free_used_chunks(&mut self) {
        while self.chunks.len() > 1 && self.head >= self.chunks[0].len() {
            self.chunks.pop_front();
            self.first_chunk += 1;
            self.head = 0;
        }
    }

    /// Remembers the id; false when it was already seen within the window.
    pub fn insert(&mut self, at_ms: i64, source: i64, id: &str) -> bool {
        let id = id.as_bytes();
        // Ids are at most a few hundred bytes (the tracking API checks); a longer one is
        // remembered by its first 64 KiB.
        let id = &id[..id.len().min(u16::MAX as usize)];
        let hash = hash_of(&self.hasher, source, id);
        let (chunks, first) = (&self.chunks, self.first_chunk);
        let seen = self.table.find(hash, |&o| {
            let r = rec_in(chunks, first, o);
            r.source == source && r.id == id
        });
        if seen.is_some() {
            return false;
        }
        if self.len >= self.max_ids {
            self.pop_oldest();
        }
        let size = HEADER + id.len();
        if self
            .chunks
            .back()
            .is_none_or(|c| c.len() + size > c.capacity())
        {
            self.chunks
                .push_back(Vec::with_capacity(self.chunk_size.max(size)));
            self.free_used_chunks();
        }
        let at = self.end();
        let second = at_ms.div_euclid(1000);
        if self.seconds.back().is_none_or(|&(last, _)| second > last) {
            self.seconds.push_back((second, at));
        }
        let chunk = self.chunks.back_mut().expect("a chunk");
        chunk.extend_from_slice(&source.to_le_bytes());
        chunk.extend_from_slice(&(id.len() as u16).to_le_bytes());
        chunk.extend_from_slice(id);
        let (chunks, first, hasher) = (&self.chunks, self.first_chunk, &self.hasher);
        self.table.insert_unique(hash, at, |&o| {
            let r = rec_in(chunks, first, o);
            hash_of(hasher, r.source, r.id)
        });
        self.len += 1;
        true
    }

    /// Where the window ends now; `take_back` to it forgets everything inserted since.
    pub fn mark(&self) -> u64 {
        self.end()
    }

    /// Forgets the ids inserted since `mark` (a group whose write failed), so the
    /// sender's retry is not mistaken for a duplicate.
    pub fn take_back(&mut self, mark: u64) {
        // Records the bound already pushed out since the mark need no taking back.
        let keep = if self.len == 0 {
            self.end()
        } else {
            mark.max(self.start())
        };
        let end = self.end();
        let mut at = keep;
        while at < end && self.len > 0 {
            // A mark at a chunk's very end points past it; the next record is in the next.
            let chunk = (at >> 32) - self.first_chunk;
            if (at & 0xffff_ffff) as usize >= self.chunks[chunk as usize].len() {
                at = offset((at >> 32) + 1, 0);
                continue;
            }
            let next = self.next(at);
            let r = self.rec(at);
            let hash = hash_of(&self.hasher, r.source, r.id);
            if let Ok(entry) = self.table.find_entry(hash, |&o| o == at) {
                entry.remove();
                self.len -= 1;
            }
            at = next;
        }
        let keep_chunk = (keep >> 32).max(self.first_chunk);
        while self.first_chunk + self.chunks.len() as u64 > keep_chunk + 1 {
            self.chunks.pop_back();
        }
        if let Some(last) = self.chunks.back_mut()
            && keep >> 32 == keep_chunk
        {
            last.truncate((keep & 0xffff_ffff) as usize);
        }
        while self.seconds.back().is_some_and(|&(_, o)| o >= keep) {
            self.seconds.pop_back();
        }
    }

    /// How many ids the window holds.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes held, for the tests that bound them.
    #[cfg(test)]
    fn heap_bytes(&self) -> usize {
        self.chunks.iter().map(Vec::capacity).sum::<usize>()
            + self.table.capacity() * (std::mem::size_of::<u64>() + 1)
            + self.seconds.capacity() * 16
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn structured_business_ids_are_all_distinct() {
        let mut d = Dedup::default();
        let families: [&dyn Fn(u32) -> String; 4] = [
            &|n| format!("order-{n}"),
            &|n| format!("evt-{n:07}"),
            &|n| format!("user:{}:event:{}", n / 100, n % 100),
            &|n| format!("{n:032}"),
        ];
        for family in families {
            for n in 0..30_000 {
                assert!(
                    d.insert(0, 1, &family(n)),
                    "{} taken for a duplicate",
                    family(n)
                );
            }
        }
        assert_eq!(d.len(), 120_000);
        assert!(!d.insert(0, 1, "order-182"));
        assert!(
            d.insert(0, 2, "order-182"),
            "another source's id is another event"
        );
    }

    #[test]
    fn window_expires_and_failed_groups_are_taken_back() {
        let mut d = Dedup::default();
        assert!(d.insert(0, 1, "m1"));
        assert!(d.insert(10_000, 1, "m2"));
        d.expire(DEDUP_WINDOW_MS + 5_000);
        assert!(
            d.insert(DEDUP_WINDOW_MS + 5_000, 1, "m1"),
            "m1 left the window"
        );
        assert!(
            !d.insert(DEDUP_WINDOW_MS + 5_000, 1, "m2"),
            "m2 is still inside"
        );
        let mark = d.mark();
        assert!(d.insert(DEDUP_WINDOW_MS + 6_000, 1, "m3"));
        assert!(d.insert(DEDUP_WINDOW_MS + 6_000, 1, "m4"));
        d.take_back(mark);
        assert_eq!(d.len(), 2);
        assert!(
            d.insert(DEDUP_WINDOW_MS + 7_000, 1, "m3")
                && d.insert(DEDUP_WINDOW_MS + 7_000, 1, "m4")
        );
        assert!(!d.insert(DEDUP_WINDOW_MS + 7_000, 1, "m2"));
    }

    #[test]
    fn the_window_is_bounded_and_forgets_the_oldest_first() {
        let mut d = Dedup::with_capacity_limit(1000);
        for n in 0..200_000 {
            assert!(d.insert(n, 1, &format!("evt-{n}")));
        }
        assert_eq!(d.len(), 1000);
        assert!(!d.insert(0, 1, "evt-199999"), "the newest are remembered");
        assert!(d.insert(0, 1, "evt-5"), "the oldest were forgotten");
        assert!(d.chunks.len() <= 2, "used chunks are freed");
        assert!(
            d.heap_bytes() < 2 * CHUNK + 100_000,
            "{} bytes for 1000 ids",
            d.heap_bytes()
        );
    }

    /// Id sets built the way senders build them: sequences, zero padding, shared
    /// prefixes and suffixes, separators moved between words.
    fn adversarial_ids() -> impl Strategy<Value = Vec<String>> {
        let one = prop_oneof![
            (0u64..1_000_000).prop_map(|n| format!("order-{n}")),
            (0u64..1_000_000, 1usize..20).prop_map(|(n, w)| format!("evt-{n:0w$}")),
            (0u32..1000, 0u32..1000).prop_map(|(u, e)| format!("user:{u}:event:{e}")),
            (0u32..1000, 0u32..1000).prop_map(|(u, e)| format!("user{u}:event{e}")),
            (0u32..1000, 0u32..1000).prop_map(|(u, e)| format!("user:{u}event:{e}")),
            "[a-c]{0,3}[:_ -]{0,2}[a-c0-9]{0,12}",
            (0u64..u64::MAX).prop_map(|n| format!("{n:020}")),
        ];
        proptest::collection::vec(one, 1..400)
    }

    proptest! {
        #[test]
        fn every_distinct_id_is_new_once(ids in adversarial_ids(), sources in 1i64..4) {
            let mut d = Dedup::default();
            let mut expected = std::collections::HashSet::new();
            for (i, id) in ids.iter().enumerate() {
                let source = i as i64 % sources;
                let fresh = expected.insert((source, id.clone()));
                prop_assert_eq!(d.insert(0, source, id), fresh, "id {:?}", id);
            }
            prop_assert_eq!(d.len(), expected.len());
            for (source, id) in &expected {
                prop_assert!(!d.insert(1, *source, id));
            }
        }

        #[test]
        fn expiry_and_take_back_agree_with_a_plain_set(
            steps in proptest::collection::vec((0i64..5_000, 0u8..40, proptest::bool::weighted(0.1), 1usize..4), 1..300)
        ) {
            // Model: (arrival ms, id) pairs kept in arrival order, expired by the same rule.
            // Chunks of 40 bytes hold two or three records, so records cross chunk ends.
            let mut d = Dedup::with_chunks(usize::MAX, 40);
            let mut model: Vec<(i64, String)> = Vec::new();
            let mut now = 0;
            for (advance, id, fail, group) in steps {
                now += advance * 60_000;
                d.expire(now);
                let cutoff = (now - DEDUP_WINDOW_MS).div_euclid(1000);
                model.retain(|(at, _)| at.div_euclid(1000) >= cutoff);
                // A group of ids written together, taken back together when it fails.
                let mark = d.mark();
                let mut added = Vec::new();
                for k in 0..group {
                    let id = format!("m{}", (id as usize + k * 7) % 40);
                    let fresh = !model.iter().chain(&added).any(|(_, m)| *m == id);
                    prop_assert_eq!(d.insert(now, 1, &id), fresh, "{}", id);
                    if fresh {
                        added.push((now, id));
                    }
                }
                if fail {
                    d.take_back(mark);
                } else {
                    model.extend(added);
                }
                prop_assert_eq!(d.len(), model.len());
            }
            for (_, id) in &model {
                prop_assert!(!d.insert(now, 1, id));
            }
        }
    }
}
