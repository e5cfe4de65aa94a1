//! A deterministic generator of realistic commerce journeys, for benchmarks, tests and the
//! demo brand: visits that narrow through product views, cart and checkout to purchase,
//! then delivery, reviews, support, refunds, repurchases and referrals, across channels.

use nunchi_core::channel::Channel;

/// The generator's event names, in journey order.
pub const EVENTS: [&str; 15] = [
    "visit",
    "search",
    "view_product",
    "add_to_cart",
    "begin_checkout",
    "purchase",
    "order_shipped",
    "order_delivered",
    "support_contact",
    "review_written",
    "refund",
    "referral",
    "app_open",
    "delivery_delayed",
    "product_used",
];

const VISIT: u8 = 0;
const SEARCH: u8 = 1;
const VIEW: u8 = 2;
const CART: u8 = 3;
const CHECKOUT: u8 = 4;
const PURCHASE: u8 = 5;
const SHIPPED: u8 = 6;
const DELIVERED: u8 = 7;
const SUPPORT: u8 = 8;
const REVIEW: u8 = 9;
const REFUND: u8 = 10;
const REFERRAL: u8 = 11;
const APP_OPEN: u8 = 12;
const DELAYED: u8 = 13;
const USED: u8 = 14;

/// One generated event; `event` indexes [`EVENTS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SynthEvent {
    pub customer: u32,
    pub ts: u32,
    pub event: u8,
    pub channel: Channel,
}

impl SynthEvent {
    pub fn name(&self) -> &'static str {
        EVENTS[self.event as usize]
    }
}

#[derive(Debug, Clone)]
pub struct SynthConfig {
    pub customers: u32,
    pub days: u32,
    /// Unix time of the first day's midnight.
    pub start: u32,
    pub seed: u64,
    /// Share of deliveries that arrive late (and drive support contacts and refunds): the
    /// planted pain point.
    pub late_delivery: f64,
    /// From this time on (a courier change), `late_delivery_after` applies instead.
    pub late_from: Option<u32>,
    pub late_delivery_after: f64,
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            customers: 1_000_000,
            days: 90,
            // 2026-08-01T00:00:00Z
            start: 1_785_542_400,
            seed: 20_261_122,
            late_delivery: 0.12,
            late_from: None,
            late_delivery_after: 0.12,
        }
    }
}

/// SplitMix64: tiny, fast, and the same numbers on every platform and version. Public so
/// that the demo's generators draw from the same source.
pub struct Rng(pub u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    pub fn below(&mut self, n: u32) -> u32 {
        (((self.next() >> 32) * n as u64) >> 32) as u32
    }

    fn between(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.below(hi - lo + 1)
    }
}

fn pick_channel(rng: &mut Rng) -> Channel {
    match rng.below(100) {
        0..=49 => Channel::Web,
        50..=79 => Channel::App,
        80..=89 => Channel::Social,
        90..=95 => Channel::Email,
        _ => Channel::Messenger,
    }
}

/// Generates one customer's journey into `out`, in time order.
fn customer(rng: &mut Rng, c: u32, config: &SynthConfig, out: &mut Vec<SynthEvent>) {
    let end = config.start + config.days * 86_400;
    let first_day = rng.below(config.days);
    // Daytime-heavy: most sessions start between 09:00 and 23:00 KST (00:00–14:00 UTC).
    let mut t = config.start + first_day * 86_400 + rng.below(14 * 3_600) + rng.below(6) * 1_800;
    let home = pick_channel(rng);
    let mut first_session = true;
    loop {
        if t >= end {
            return;
        }
        let channel = if first_session || rng.chance(0.7) {
            home
        } else {
            pick_channel(rng)
        };
        first_session = false;
        let emit = |t: u32, event: u8, channel: Channel, out: &mut Vec<SynthEvent>| {
            if t < end {
                out.push(SynthEvent {
                    customer: c,
                    ts: t,
                    event,
                    channel,
                });
            }
        };
        let step = |t: &mut u32, rng: &mut Rng| *t += rng.between(8, 240);
        if channel == Channel::App && rng.chance(0.5) {
            emit(t, APP_OPEN, channel, out);
            step(&mut t, rng);
        }
        emit(t, VISIT, channel, out);
        if rng.chance(0.3) {
            step(&mut t, rng);
            emit(t, SEARCH, channel, out);
        }
        let mut bought = false;
        if rng.chance(0.8) {
            for _ in 0..rng.between(1, 4) {
                step(&mut t, rng);
                emit(t, VIEW, channel, out);
            }
            if rng.chance(0.42) {
                step(&mut t, rng);
                emit(t, CART, channel, out);
                if rng.chance(0.7) {
                    step(&mut t, rng);
                    emit(t, CHECKOUT, channel, out);
                    if rng.chance(0.78) {
                        step(&mut t, rng);
                        emit(t, PURCHASE, channel, out);
                        bought = true;
                    }
                }
            }
        }
        if bought {
            let shipped = t + rng.between(6 * 3_600, 30 * 3_600);
            emit(shipped, SHIPPED, Channel::Email, out);
            let late_rate = match config.late_from {
                Some(from) if shipped >= from => config.late_delivery_after,
                _ => config.late_delivery,
            };
            let late = rng.chance(late_rate);
            let days = if late {
                rng.between(6, 10)
            } else {
                rng.between(1, 3)
            };
            let delivered = shipped + days * 86_400 + rng.below(8 * 3_600);
            if late && rng.chance(0.55) {
                let support = shipped + rng.between(3, 5) * 86_400 + rng.below(10 * 3_600);
                let via = if rng.chance(0.5) {
                    Channel::Phone
                } else {
                    Channel::Messenger
                };
                emit(support, SUPPORT, via, out);
            }
            if late {
                emit(
                    shipped + 2 * 86_400 + rng.below(6 * 3_600),
                    DELAYED,
                    Channel::Email,
                    out,
                );
            }
            emit(delivered, DELIVERED, Channel::App, out);
            // A late box is opened with less enthusiasm: fewer log their first use.
            if rng.chance(if late { 0.3 } else { 0.8 }) {
                emit(
                    delivered + rng.between(3_600, 4 * 86_400),
                    USED,
                    Channel::App,
                    out,
                );
            }
            let mut after = delivered + rng.between(3_600, 3 * 86_400);
            if rng.chance(if late { 0.22 } else { 0.03 }) {
                emit(after, REFUND, Channel::Web, out);
                after += rng.between(3_600, 86_400);
            } else if rng.chance(if late { 0.08 } else { 0.2 }) {
                emit(after, REVIEW, channel, out);
                after += rng.between(3_600, 86_400);
            }
            if !late && rng.chance(0.07) {
                emit(after, REFERRAL, Channel::Social, out);
            }
            if rng.chance(0.04) {
                emit(
                    after + rng.between(600, 86_400),
                    SUPPORT,
                    Channel::Phone,
                    out,
                );
            }
        }
        // Come back for another session, sooner after a good purchase.
        if !rng.chance(if bought { 0.72 } else { 0.62 }) {
            return;
        }
        t += rng.between(86_400 / 2, 21 * 86_400);
    }
}

/// All customers' events in customer order, each customer's in time order.
pub fn generate(config: &SynthConfig) -> Vec<SynthEvent> {
    let mut rng = Rng(config.seed);
    let mut out = Vec::with_capacity(config.customers as usize * 11);
    let mut scratch = Vec::new();
    for c in 0..config.customers {
        scratch.clear();
        customer(&mut rng, c, config, &mut scratch);
        scratch.sort_by_key(|e| e.ts);
        out.extend_from_slice(&scratch);
    }
    out
}

/// The same events as one time-ordered log, as an event stream or export would hold them.
pub fn generate_time_ordered(config: &SynthConfig) -> Vec<SynthEvent> {
    let mut events = generate(config);
    events.sort_by_key(|e| e.ts);
    events
}

/// Deterministic survey answers for the scores benchmark: `count` NPS answers spread over
/// `days` days from `start`, on the eight channels, with a promoter share that differs by
/// channel and drifts over time so the weekly figures move.
pub fn answers(count: u32, seed: u64, start: u32, days: u32) -> Vec<crate::scores::Answer> {
    let mut rng = Rng(seed);
    (0..count)
        .map(|_| {
            let offset = rng.below(days * 86_400);
            let key = rng.below(8) as u16;
            let lean = 0.35 + 0.05 * key as f64 - 0.15 * offset as f64 / (days * 86_400) as f64;
            let value = if rng.chance(lean) {
                rng.between(9, 10)
            } else if rng.chance(0.5) {
                rng.between(7, 8)
            } else {
                rng.between(0, 6)
            } as u8;
            crate::scores::Answer {
                ts: start + offset,
                key,
                value,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_realistic_and_in_range() {
        let config = SynthConfig {
            customers: 2_000,
            ..SynthConfig::default()
        };
        let a = generate(&config);
        assert_eq!(a, generate(&config));
        let per_customer = a.len() as f64 / 2_000.0;
        assert!(
            (7.0..14.0).contains(&per_customer),
            "{per_customer} events per customer"
        );
        let end = config.start + config.days * 86_400;
        assert!(a.iter().all(|e| e.ts >= config.start && e.ts < end));
        let count = |ev: u8| a.iter().filter(|e| e.event == ev).count();
        assert!(count(VISIT) > count(VIEW) / 3 && count(VIEW) > count(CART));
        assert!(count(CART) > count(PURCHASE) && count(PURCHASE) > count(REFUND));
        let sorted = generate_time_ordered(&config);
        assert!(sorted.windows(2).all(|w| w[0].ts <= w[1].ts));
    }
}
