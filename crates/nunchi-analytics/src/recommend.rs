//! Recommendations from who bought or viewed what: item-to-item neighbours by cosine
//! similarity of the customers they share (Amazon's item-to-item collaborative filtering,
//! RecBole's ItemKNN), per-customer top N from the neighbours of what the customer has,
//! and the most popular items as the fallback for customers with little or no history.
//!
//! Co-occurrence is counted sparsely, item by item through the customers who have it, so
//! the cost is Σ (items per customer)² and never items²; each item keeps its `k` most
//! similar items.

use crate::parallel::over_customers;

/// Customer × item interactions as two compressed sparse rows: each customer's items with
/// their summed weights, and each item's customers.
#[derive(Debug, Clone)]
pub struct Interactions {
    customer_start: Vec<u32>,
    customer_items: Vec<(u32, f32)>,
    item_start: Vec<u32>,
    item_customers: Vec<(u32, f32)>,
}

/// Turns (key, value, weight) rows into compressed rows over `0..rows`, values ascending
/// within a row, summing the weights of repeated (key, value) pairs. A counting sort by
/// key (keys are dense) and a sort of each short row: linear in the rows, where one sort
/// of all of them was most of the fit's time on millions of pairs.
fn compress(rows: usize, pairs: Vec<(u32, u32, f32)>) -> (Vec<u32>, Vec<(u32, f32)>) {
    let mut start = vec![0u32; rows + 1];
    for &(k, _, _) in &pairs {
        start[k as usize + 1] += 1;
    }
    for i in 0..rows {
        start[i + 1] += start[i];
    }
    let mut placed = vec![(0u32, 0f32); pairs.len()];
    let mut next = start.clone();
    for (k, v, w) in pairs {
        let at = &mut next[k as usize];
        placed[*at as usize] = (v, w);
        *at += 1;
    }
    let mut merged_start = vec![0u32; rows + 1];
    let mut out: Vec<(u32, f32)> = Vec::with_capacity(placed.len());
    for r in 0..rows {
        let row = &mut placed[start[r] as usize..start[r + 1] as usize];
        row.sort_unstable_by_key(|&(v, _)| v);
        let row_begins = out.len();
        for &(v, w) in row.iter() {
            let repeated = out.len() > row_begins && out.last().is_some_and(|l| l.0 == v);
            match out.last_mut() {
                Some(last) if repeated => last.1 += w,
                _ => out.push((v, w)),
            }
        }
        merged_start[r + 1] = out.len() as u32;
    }
    (merged_start, out)
}

impl Interactions {
    /// From (customer, item, weight) rows in any order, customers in `0..customers` and
    /// items in `0..items`. Weights must be positive (the co-occurrence count tells a
    /// touched item by its non-zero sum).
    pub fn new(customers: usize, items: usize, rows: Vec<(u32, u32, f32)>) -> Self {
        let by_item: Vec<(u32, u32, f32)> = rows.iter().map(|&(c, i, w)| (i, c, w)).collect();
        let (customer_start, customer_items) = compress(customers, rows);
        let (item_start, item_customers) = compress(items, by_item);
        Interactions {
            customer_start,
            customer_items,
            item_start,
            item_customers,
        }
    }

    pub fn items(&self) -> usize {
        self.item_start.len() - 1
    }

    /// A customer's items (ascending) with their weights.
    pub fn of_customer(&self, customer: u32) -> &[(u32, f32)] {
        let c = customer as usize;
        &self.customer_items[self.customer_start[c] as usize..self.customer_start[c + 1] as usize]
    }

    /// An item's customers (ascending) with their weights.
    pub fn of_item(&self, item: u32) -> &[(u32, f32)] {
        let i = item as usize;
        &self.item_customers[self.item_start[i] as usize..self.item_start[i + 1] as usize]
    }
}

/// How the neighbours are chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KnnConfig {
    /// Neighbours kept per item.
    pub k: usize,
    /// Added to the cosine's denominator, so pairs seen together only by a handful of
    /// customers count for less (0 = plain cosine).
    pub shrink: f32,
    /// Customers with more distinct items than this (resellers, bots, test accounts) are
    /// left out of the similarities: one such history costs its length squared in pairs
    /// and says little about which items go together. They still get recommendations.
    pub max_history: usize,
}

impl Default for KnnConfig {
    fn default() -> Self {
        KnnConfig {
            k: 100,
            shrink: 0.0,
            max_history: 2_000,
        }
    }
}

/// The fitted model: each item's neighbours, and items by popularity.
#[derive(Debug, Clone)]
pub struct ItemKnn {
    /// For each item, its `k` most similar items, most similar first.
    neighbour_start: Vec<u32>,
    neighbours: Vec<(u32, f32)>,
    /// For each item i, the items j that keep i among their neighbours, with sim(i, j):
    /// what a customer having i adds to j's score.
    vote_start: Vec<u32>,
    votes: Vec<(u32, f32)>,
    /// Items by customers who have them, most first (ties: lower index first).
    popular: Vec<u32>,
}

/// Keeps the `k` largest (item, score) by score, ties to the lower item, sorted.
fn top_k(candidates: &mut Vec<(u32, f32)>, k: usize) {
    let order = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    if candidates.len() > k && k > 0 {
        candidates.select_nth_unstable_by(k - 1, order);
        candidates.truncate(k);
    }
    if k == 0 {
        candidates.clear();
    }
    candidates.sort_unstable_by(order);
}

/// One worker's scratch while counting co-occurrences: dense sums over all items and the
/// list of those it touched, so clearing costs only what was used.
struct Scratch {
    sums: Vec<f32>,
    touched: Vec<u32>,
    /// One item's candidates, reused from item to item (no allocation per item).
    candidates: Vec<(u32, f32)>,
    /// Neighbour lists of this worker's items, back to back, and where each ends.
    neighbours: Vec<(u32, f32)>,
    ends: Vec<u32>,
}

impl ItemKnn {
    pub fn fit(x: &Interactions, config: KnnConfig) -> ItemKnn {
        let items = x.items();
        let counted = |customer: u32| x.of_customer(customer).len() <= config.max_history;
        // ‖item‖ over the weights of the customers who count.
        let norms: Vec<f32> = (0..items as u32)
            .map(|i| {
                x.of_item(i)
                    .iter()
                    .filter(|&&(c, _)| counted(c))
                    .map(|&(_, w)| w * w)
                    .sum::<f32>()
                    .sqrt()
            })
            .collect();
        let per_item = over_customers(
            items as u32,
            || Scratch {
                sums: vec![0.0; items],
                touched: Vec::new(),
                candidates: Vec::new(),
                neighbours: Vec::new(),
                ends: Vec::new(),
            },
            |s, i| {
                for &(customer, wi) in x.of_item(i) {
                    let theirs = x.of_customer(customer);
                    if theirs.len() > config.max_history {
                        continue;
                    }
                    for &(j, wj) in theirs {
                        if j == i {
                            continue;
                        }
                        if s.sums[j as usize] == 0.0 {
                            s.touched.push(j);
                        }
                        s.sums[j as usize] += wi * wj;
                    }
                }
                s.candidates.clear();
                for j in s.touched.drain(..) {
                    let dot = std::mem::take(&mut s.sums[j as usize]);
                    let denominator = norms[i as usize] * norms[j as usize] + config.shrink;
                    if denominator > 0.0 && dot > 0.0 {
                        s.candidates.push((j, dot / denominator));
                    }
                }
                top_k(&mut s.candidates, config.k);
                s.neighbours.extend_from_slice(&s.candidates);
                s.ends.push(s.neighbours.len() as u32);
            },
            |mut a, b| {
                let offset = a.neighbours.len() as u32;
                a.neighbours.extend(b.neighbours);
                a.ends.extend(b.ends.into_iter().map(|e| e + offset));
                a
            },
        );
        let neighbours = per_item.neighbours;
        let mut neighbour_start = Vec::with_capacity(items + 1);
        neighbour_start.push(0u32);
        neighbour_start.extend(per_item.ends);
        let vote_pairs: Vec<(u32, u32, f32)> = (0..items)
            .flat_map(|j| {
                let row = &neighbours[neighbour_start[j] as usize..neighbour_start[j + 1] as usize];
                row.iter().map(move |&(i, sim)| (i, j as u32, sim))
            })
            .collect();
        let (vote_start, votes) = compress(items, vote_pairs);
        let popular = popularity(x);
        ItemKnn {
            neighbour_start,
            neighbours,
            vote_start,
            votes,
            popular,
        }
    }

    /// An item's most similar items, most similar first.
    pub fn similar(&self, item: u32) -> &[(u32, f32)] {
        let i = item as usize;
        match (self.neighbour_start.get(i), self.neighbour_start.get(i + 1)) {
            (Some(&a), Some(&b)) => &self.neighbours[a as usize..b as usize],
            _ => &[],
        }
    }

    /// The top `n` items for a customer with this history (items with weights): scored by
    /// the similarity of each candidate to what they have, then filled from the most
    /// popular items. With `exclude_seen`, items in the history are never offered.
    pub fn recommend(&self, history: &[(u32, f32)], n: usize, exclude_seen: bool) -> Vec<u32> {
        let mut scores: std::collections::HashMap<u32, f32> = std::collections::HashMap::new();
        for &(i, w) in history {
            let Some((&a, &b)) = self
                .vote_start
                .get(i as usize)
                .zip(self.vote_start.get(i as usize + 1))
            else {
                continue;
            };
            for &(j, sim) in &self.votes[a as usize..b as usize] {
                *scores.entry(j).or_default() += w * sim;
            }
        }
        ranked(scores.into_iter(), history, n, exclude_seen, &self.popular)
    }
}

/// Items that anyone has, by how many customers have them, most first (ties: lower index
/// first): the fallback after a customer's own scores run out.
pub(crate) fn popularity(x: &Interactions) -> Vec<u32> {
    let mut popular: Vec<u32> = (0..x.items() as u32)
        .filter(|&i| !x.of_item(i).is_empty())
        .collect();
    popular.sort_by_key(|&i| (std::cmp::Reverse(x.of_item(i).len()), i));
    popular
}

/// The top `n` of `scores`, then the most `popular` items; with `exclude_seen`, nothing in
/// the (ascending) `history`.
pub(crate) fn ranked(
    scores: impl Iterator<Item = (u32, f32)>,
    history: &[(u32, f32)],
    n: usize,
    exclude_seen: bool,
    popular: &[u32],
) -> Vec<u32> {
    let seen = |j: u32| exclude_seen && history.binary_search_by_key(&j, |&(i, _)| i).is_ok();
    let mut best: Vec<(u32, f32)> = scores.filter(|&(j, _)| !seen(j)).collect();
    top_k(&mut best, n);
    let mut out: Vec<u32> = best.into_iter().map(|(j, _)| j).collect();
    for &j in popular {
        if out.len() >= n {
            break;
        }
        if !seen(j) && !out.contains(&j) {
            out.push(j);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Customers 0–2 buy 0 with 1; 3–4 buy 2 with 3; customer 5 buys 0 only; item 4 once.
    fn shop() -> Interactions {
        let mut rows = Vec::new();
        for c in 0..3 {
            rows.extend([(c, 0, 1.0), (c, 1, 1.0)]);
        }
        for c in 3..5 {
            rows.extend([(c, 2, 1.0), (c, 3, 1.0)]);
        }
        rows.push((5, 0, 1.0));
        rows.push((4, 4, 1.0));
        rows.push((0, 0, 1.0)); // a repeat purchase sums
        Interactions::new(7, 5, rows)
    }

    #[test]
    fn neighbours_are_the_items_bought_together() {
        let x = shop();
        assert_eq!(x.of_customer(0), &[(0, 2.0), (1, 1.0)]);
        let knn = ItemKnn::fit(&x, KnnConfig::default());
        assert_eq!(knn.similar(1)[0].0, 0);
        assert_eq!(knn.similar(2)[0].0, 3);
        assert!(
            knn.similar(0).iter().all(|&(j, _)| j == 1),
            "0 was never bought with 2–4"
        );
        // Cosine of binary-ish columns stays within (0, 1].
        assert!(
            knn.neighbours
                .iter()
                .all(|&(_, s)| s > 0.0 && s <= 1.0 + 1e-6)
        );
    }

    #[test]
    fn recommends_what_goes_with_the_history_then_popular_items() {
        let knn = ItemKnn::fit(&shop(), KnnConfig::default());
        let x = shop();
        // Customer 5 has item 0: item 1 goes with it; then fill by popularity.
        let got = knn.recommend(x.of_customer(5), 3, true);
        assert_eq!(got[0], 1);
        assert!(!got.contains(&0), "seen items are excluded");
        assert_eq!(got.len(), 3);
        // A new customer gets the most popular items: 0 (4 customers), then 1 (3).
        assert_eq!(knn.recommend(&[], 2, true), vec![0, 1]);
        // Without exclusion, the history may come back.
        assert!(knn.recommend(x.of_customer(5), 5, false).contains(&0));
    }

    #[test]
    fn a_customer_with_a_huge_history_does_not_make_neighbours() {
        let mut rows: Vec<(u32, u32, f32)> = (0..50).map(|i| (0, i, 1.0)).collect();
        rows.extend([(1, 0, 1.0), (1, 1, 1.0)]);
        let x = Interactions::new(2, 50, rows);
        let config = KnnConfig {
            max_history: 10,
            ..KnnConfig::default()
        };
        let knn = ItemKnn::fit(&x, config);
        assert_eq!(knn.similar(0), &[(1, 1.0)], "only customer 1 counts");
        assert!(knn.similar(7).is_empty());
        // The heavy customer still gets recommendations.
        assert_eq!(knn.recommend(x.of_customer(0), 3, false).len(), 3);
    }

    #[test]
    fn k_limits_the_neighbours() {
        let mut rows = Vec::new();
        for c in 0..10u32 {
            for i in 0..6u32 {
                if (c + i) % 3 != 0 {
                    rows.push((c, i, 1.0));
                }
            }
        }
        let x = Interactions::new(10, 6, rows);
        let knn = ItemKnn::fit(
            &x,
            KnnConfig {
                k: 2,
                ..KnnConfig::default()
            },
        );
        for i in 0..6 {
            assert!(knn.similar(i).len() <= 2);
            let sims: Vec<f32> = knn.similar(i).iter().map(|s| s.1).collect();
            assert!(sims.windows(2).all(|w| w[0] >= w[1]), "most similar first");
        }
    }
}
