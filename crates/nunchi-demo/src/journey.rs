//! The demo brand's touchpoint events and journey map: 90 days of journeys across web,
//! app, stores, e-mail, phone and messenger, ending at the demo's anchor day. The planted
//! pain point: a courier change 30 days before the anchor makes far more deliveries late,
//! so the delivery stage converts worse than before and support contacts rise.

use nunchi_analytics::synth::{self, SynthConfig, SynthEvent};
use nunchi_core::time::Millis;

use crate::ANCHOR;

/// Days of events before the anchor.
pub const DAYS: u32 = 90;
/// Days before the anchor when the new courier started.
pub const COURIER_CHANGE_DAYS: u32 = 30;

/// A touchpoint of the demo map: stage key, name, channel, event, conditions (JSON).
pub struct DemoTouchpoint {
    pub stage: &'static str,
    pub name: &'static str,
    pub channel: &'static str,
    pub event: &'static str,
    pub conditions: &'static str,
    /// What the CX team expects customers to rate it, 1–5.
    pub expected_rating: f64,
}

const fn tp(
    stage: &'static str,
    name: &'static str,
    channel: &'static str,
    event: &'static str,
    expected_rating: f64,
) -> DemoTouchpoint {
    DemoTouchpoint {
        stage,
        name,
        channel,
        event,
        conditions: "[]",
        expected_rating,
    }
}

pub const TOUCHPOINTS: [DemoTouchpoint; 14] = [
    tp("awareness", "방문 (웹·앱·소셜)", "web", "visit", 4.0),
    tp("awareness", "앱 실행", "app", "app_open", 4.0),
    tp("consideration", "상품 검색", "web", "search", 4.0),
    tp(
        "consideration",
        "상품 상세 조회",
        "web",
        "view_product",
        4.2,
    ),
    tp("consideration", "장바구니 담기", "web", "add_to_cart", 4.2),
    tp("purchase", "결제 시작", "web", "begin_checkout", 4.3),
    tp("purchase", "구매 완료", "web", "purchase", 4.5),
    tp("delivery", "출고 알림", "email", "order_shipped", 4.2),
    tp(
        "delivery",
        "배송 지연 안내",
        "email",
        "delivery_delayed",
        3.0,
    ),
    tp("delivery", "배송 완료", "app", "order_delivered", 4.5),
    tp("use", "첫 사용 기록", "app", "product_used", 4.4),
    tp("use", "리뷰 작성", "web", "review_written", 4.3),
    tp("support", "고객센터 문의", "phone", "support_contact", 3.8),
    tp("loyalty", "친구 추천", "social", "referral", 4.6),
];

/// The demo's anchor day as Unix seconds: its events end there.
pub fn anchor_secs() -> u32 {
    Millis::parse(ANCHOR).map(|m| m.0 / 1000).unwrap_or(0) as u32
}

/// The demo's events for `customers` customers, in time order per customer; the customer
/// index matches [`crate::customer`].
pub fn events(seed: u64, customers: u64) -> Vec<SynthEvent> {
    let anchor_secs = anchor_secs();
    let start = anchor_secs - DAYS * 86_400;
    synth::generate(&SynthConfig {
        customers: customers as u32,
        days: DAYS,
        start,
        seed,
        late_delivery: 0.06,
        late_from: Some(anchor_secs - COURIER_CHANGE_DAYS * 86_400),
        late_delivery_after: 0.4,
    })
}

/// Whether customer `i` browsed anonymously before signing up (their events up to their
/// first purchase carry only an anonymous id, then an identify call links them). One in
/// 33, so the demo shows identity stitching without slowing the load.
pub fn browsed_anonymously(i: u64) -> bool {
    i % 33 == 7
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_courier_change_makes_late_deliveries_visible() {
        let events = events(crate::DEFAULT_SEED, 3_000);
        let change = anchor_secs() - COURIER_CHANGE_DAYS * 86_400;
        let share = |after: bool| {
            let in_period = |e: &&SynthEvent| (e.ts >= change) == after;
            let delayed = events
                .iter()
                .filter(in_period)
                .filter(|e| e.name() == "delivery_delayed")
                .count() as f64;
            let shipped = events
                .iter()
                .filter(in_period)
                .filter(|e| e.name() == "order_shipped")
                .count() as f64;
            delayed / shipped
        };
        let (before, after) = (share(false), share(true));
        assert!(
            after > 3.0 * before,
            "late share before {before:.3}, after {after:.3}"
        );
        assert!(TOUCHPOINTS.iter().all(|t| synth::EVENTS.contains(&t.event)));
    }
}
