//! The demo brand's Voice of the Customer: survey answers, reviews, support ratings and
//! social posts that follow each customer's journey, in the customer's language, written
//! from varied templates per touchpoint and mood. A late delivery sours what the customer
//! says afterwards, so the courier change shows in the scores and the map's emotion curve.

use nunchi_analytics::synth::{Rng, SynthEvent};

/// One piece of demo feedback.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoFeedback {
    /// Index of the demo customer.
    pub customer: u32,
    /// survey, review, support or social.
    pub source: &'static str,
    /// nps, csat, or `None` for a star rating (1–5) or text only.
    pub metric: Option<&'static str>,
    pub rating: Option<u8>,
    pub body: String,
    /// The event name of the touchpoint it is about.
    pub touchpoint_event: &'static str,
    pub channel: &'static str,
    /// Unix seconds.
    pub ts: u32,
    /// Stable id, so loading the demo twice stores each once.
    pub external_id: String,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mood {
    Good,
    Mixed,
    Bad,
}

/// Draws for one event, seeded by (seed, customer, event position): the same inputs give
/// the same draws.
struct Draw(Rng);

impl Draw {
    fn new(seed: u64, customer: u32, n: usize) -> Draw {
        Draw(Rng(seed
            ^ (customer as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ ((n as u64) << 40)))
    }

    fn chance(&mut self, p: f64) -> bool {
        self.0.chance(p)
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.0.below(items.len() as u32) as usize]
    }
}

const DELIVERY_GOOD_KO: &[&str] = &[
    "배송이 정말 빨랐어요",
    "주문 다음 날 바로 받았어요. 포장도 꼼꼼해요",
    "택배 기사님이 친절하셨어요",
    "생각보다 일찍 도착해서 좋았어요",
];
const DELIVERY_BAD_KO: &[&str] = &[
    "배송이 일주일이나 늦었어요",
    "배송 지연 안내도 늦게 와서 답답했어요",
    "택배가 너무 늦게 와서 실망이에요",
    "배송 조회가 며칠째 그대로예요. 너무 느려요",
    "상자가 찌그러져서 왔어요. 배송이 엉망이에요",
];
const DELIVERY_GOOD_EN: &[&str] = &[
    "Delivery was really fast",
    "Arrived the next day, well packed",
    "Came earlier than expected, thank you",
];
const DELIVERY_BAD_EN: &[&str] = &[
    "Delivery was a week late",
    "The package arrived late and the box was damaged",
    "Shipping took forever and nobody told me why",
    "Tracking did not update for days, very slow delivery",
];
const PRODUCT_GOOD_KO: &[&str] = &[
    "세럼이 촉촉하고 흡수가 잘 돼요",
    "피부가 한결 편안해졌어요. 재구매할게요",
    "향이 은은하고 자극이 없어요",
    "토너 사용감이 산뜻해서 매일 써요",
];
const PRODUCT_MIXED_KO: &[&str] = &[
    "제품은 괜찮은데 가격이 조금 비싸요",
    "보통이에요. 아직 효과는 잘 모르겠어요",
    "용량이 생각보다 작아요",
];
const PRODUCT_BAD_KO: &[&str] = &[
    "바르고 나서 트러블이 났어요",
    "기대했는데 효과가 없어요",
    "펌프가 고장 나서 쓰기 불편해요",
];
const PRODUCT_GOOD_EN: &[&str] = &[
    "The serum is lovely and absorbs quickly",
    "My skin feels calmer, will buy again",
    "Gentle toner, no irritation at all",
];
const PRODUCT_MIXED_EN: &[&str] = &[
    "Decent product but a bit pricey",
    "It is okay, not sure it does much yet",
];
const PRODUCT_BAD_EN: &[&str] = &[
    "Broke me out after two days",
    "The pump stopped working, very disappointing",
];
const SUPPORT_GOOD_KO: &[&str] = &[
    "상담원분이 친절하게 해결해 주셨어요",
    "문의하자마자 바로 환불해 주셨어요",
];
const SUPPORT_BAD_KO: &[&str] = &[
    "고객센터 연결이 너무 오래 걸려요",
    "답변이 늦고 같은 말만 반복해요",
    "전화 대기 시간이 30분이 넘었어요",
];
const SUPPORT_GOOD_EN: &[&str] = &["The agent was kind and solved it quickly"];
const SUPPORT_BAD_EN: &[&str] = &[
    "Waited forever on the phone",
    "Support replies are slow and unhelpful",
];
const NPS_GOOD_KO: &[&str] = &["친구에게도 추천했어요", "믿고 쓰는 브랜드예요", ""];
const NPS_BAD_KO: &[&str] = &["배송 때문에 추천하기 어려워요", "다시 살지 모르겠어요", ""];
const NPS_GOOD_EN: &[&str] = &["Already recommended it to friends", ""];
const NPS_BAD_EN: &[&str] = &["Would not recommend after the delivery mess", ""];
const SOCIAL_KO: &[&str] = &[
    "하늘결 세럼 요즘 최애템 ㅎㅎ",
    "친구 추천으로 샀는데 대만족 ㅋㅋ",
];
const SOCIAL_EN: &[&str] = &[
    "Loving my new Haneulgyeol serum",
    "Friend's pick, now mine too",
];

fn text(draw: &mut Draw, korean: bool, ko: &[&'static str], en: &[&'static str]) -> String {
    draw.pick(if korean { ko } else { en }).to_string()
}

/// A rating for a mood on a 1..=5 or 0..=10 scale.
fn rating(draw: &mut Draw, mood: Mood, nps: bool) -> u8 {
    let pool: &[u8] = match (mood, nps) {
        (Mood::Good, false) => &[5, 5, 5, 4, 4, 4, 3],
        (Mood::Mixed, false) => &[4, 3, 3, 2],
        (Mood::Bad, false) => &[1, 1, 2, 2, 3],
        (Mood::Good, true) => &[10, 10, 9, 9, 9, 8, 8, 7, 6],
        (Mood::Mixed, true) => &[8, 7, 7, 6, 5],
        (Mood::Bad, true) => &[0, 2, 3, 4, 5, 6, 6, 7],
    };
    *draw.pick(pool)
}

/// Feedback following the demo journeys. `events` in time order per customer;
/// `korean[i]` is whether demo customer i writes in Korean.
pub fn feedback(seed: u64, events: &[SynthEvent], korean: &[bool]) -> Vec<DemoFeedback> {
    let mut out = Vec::new();
    // Per customer: when their last delivery was late, and whether they were surveyed.
    let mut late_at: std::collections::HashMap<u32, u32> = std::collections::HashMap::new();
    let mut surveyed: std::collections::HashSet<u32> = std::collections::HashSet::new();
    let anchor = events.iter().map(|e| e.ts).max().unwrap_or(0);
    for (n, e) in events.iter().enumerate() {
        let c = e.customer;
        let ko = korean.get(c as usize).copied().unwrap_or(true);
        let mut draw = Draw::new(seed, c, n);
        let soured = late_at
            .get(&c)
            .is_some_and(|&at| e.ts.saturating_sub(at) < 21 * 86_400);
        let mood = if soured {
            if draw.chance(0.75) {
                Mood::Bad
            } else {
                Mood::Mixed
            }
        } else if draw.chance(0.8) {
            Mood::Good
        } else if draw.chance(0.6) {
            Mood::Mixed
        } else {
            Mood::Bad
        };
        let mut push = |source, metric, rating, body: String, event, channel, after: u32| {
            let ts = e.ts + after;
            if ts <= anchor {
                out.push(DemoFeedback {
                    customer: c,
                    source,
                    metric,
                    rating,
                    body,
                    touchpoint_event: event,
                    channel,
                    ts,
                    external_id: format!("demo-{seed}-{n}"),
                });
            }
        };
        match e.name() {
            "delivery_delayed" => {
                late_at.insert(c, e.ts);
            }
            "order_delivered" if draw.chance(0.3) => {
                let r = rating(&mut draw, mood, false);
                let body = if !draw.chance(0.6) {
                    String::new()
                } else if mood == Mood::Good {
                    text(&mut draw, ko, DELIVERY_GOOD_KO, DELIVERY_GOOD_EN)
                } else {
                    text(&mut draw, ko, DELIVERY_BAD_KO, DELIVERY_BAD_EN)
                };
                push(
                    "survey",
                    Some("csat"),
                    Some(r),
                    body,
                    "order_delivered",
                    "app",
                    86_400,
                );
            }
            "review_written" => {
                let r = rating(&mut draw, mood, false);
                let body = match mood {
                    Mood::Good => text(&mut draw, ko, PRODUCT_GOOD_KO, PRODUCT_GOOD_EN),
                    Mood::Mixed => text(&mut draw, ko, PRODUCT_MIXED_KO, PRODUCT_MIXED_EN),
                    Mood::Bad if soured && draw.chance(0.6) => {
                        text(&mut draw, ko, DELIVERY_BAD_KO, DELIVERY_BAD_EN)
                    }
                    Mood::Bad => text(&mut draw, ko, PRODUCT_BAD_KO, PRODUCT_BAD_EN),
                };
                push("review", None, Some(r), body, "review_written", "web", 0);
            }
            "support_contact" if draw.chance(0.5) => {
                let support_mood = if draw.chance(0.55) {
                    Mood::Good
                } else {
                    Mood::Bad
                };
                let r = rating(&mut draw, support_mood, false);
                let body = if support_mood == Mood::Good {
                    text(&mut draw, ko, SUPPORT_GOOD_KO, SUPPORT_GOOD_EN)
                } else {
                    text(&mut draw, ko, SUPPORT_BAD_KO, SUPPORT_BAD_EN)
                };
                push(
                    "support",
                    Some("csat"),
                    Some(r),
                    body,
                    "support_contact",
                    "phone",
                    600,
                );
            }
            "purchase" if !surveyed.contains(&c) && draw.chance(0.25) => {
                surveyed.insert(c);
                let r = rating(&mut draw, mood, true);
                let body = if mood == Mood::Good {
                    text(&mut draw, ko, NPS_GOOD_KO, NPS_GOOD_EN)
                } else {
                    text(&mut draw, ko, NPS_BAD_KO, NPS_BAD_EN)
                };
                push(
                    "survey",
                    Some("nps"),
                    Some(r),
                    body,
                    "purchase",
                    "email",
                    7 * 86_400,
                );
            }
            "referral" if draw.chance(0.5) => {
                let body = text(&mut draw, ko, SOCIAL_KO, SOCIAL_EN);
                push("social", None, None, body, "referral", "social", 3_600);
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journey;

    #[test]
    fn late_deliveries_sour_what_customers_say() {
        let events = journey::events(7, 3_000);
        let korean: Vec<bool> = (0..3_000).map(|i| i % 4 != 0).collect();
        let all = feedback(7, &events, &korean);
        assert!(all.len() > 500, "{}", all.len());
        assert_eq!(all, feedback(7, &events, &korean), "deterministic");
        let change = journey::anchor_secs() - journey::COURIER_CHANGE_DAYS * 86_400;
        let mean = |after: bool| {
            let r: Vec<f64> = all
                .iter()
                .filter(|f| f.touchpoint_event == "order_delivered" && (f.ts >= change) == after)
                .filter_map(|f| f.rating.map(f64::from))
                .collect();
            r.iter().sum::<f64>() / r.len() as f64
        };
        assert!(
            mean(true) < mean(false) - 0.3,
            "before {} after {}",
            mean(false),
            mean(true)
        );
        assert!(all.iter().any(|f| f.body.contains("배송")));
        assert!(
            all.iter()
                .any(|f| f.body.contains("Delivery") || f.body.contains("delivery"))
        );
        let ids: std::collections::HashSet<_> = all.iter().map(|f| &f.external_id).collect();
        assert_eq!(ids.len(), all.len(), "unique ids");
    }
}
