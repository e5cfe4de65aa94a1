//! The demo brand's support desk: conversations that follow its late-delivery pain point
//! (customers write after a delay by e-mail, chat, phone or a messenger), plus everyday
//! questions about refunds and products, in the customer's language. Older ones were
//! answered and resolved; the newest wait, some of them for longer than a day with no
//! first reply, which is what a support lead should notice.

use nunchi_analytics::synth::{Rng, SynthEvent};

/// One line of a demo conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoLine {
    /// incoming (the customer) or outgoing (the team).
    pub incoming: bool,
    pub text: String,
    /// Unix seconds.
    pub ts: u32,
}

/// One demo conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoConversation {
    /// Index of the demo customer.
    pub customer: u32,
    /// email, chat, phone or messenger.
    pub channel: &'static str,
    pub subject: String,
    /// open, pending or resolved.
    pub status: &'static str,
    /// normal or high.
    pub priority: &'static str,
    pub labels: Vec<&'static str>,
    pub lines: Vec<DemoLine>,
    /// When it was resolved, for resolved ones (Unix seconds).
    pub resolved_at: Option<u32>,
}

/// The brand's canned replies: (shortcut, name, Korean, English).
pub const MACROS: &[(&str, &str, &str, &str)] = &[
    (
        "delay",
        "배송 지연 사과 / Late delivery apology",
        "{{customer_name}}님, 배송이 늦어져 정말 죄송합니다. 주문 {{last_order}}은(는) 택배사 변경으로 지연되고 있으며, 내일까지 받으실 수 있도록 재출고했습니다. 사과의 뜻으로 적립금을 넣어 드렸어요. - {{agent_name}}",
        "{{customer_name}}, we're very sorry your order {{last_order}} is late. Our courier change slowed some deliveries; we've re-shipped it to arrive by tomorrow and added points to your account. - {{agent_name}}",
    ),
    (
        "refund",
        "환불 안내 / Refund steps",
        "{{customer_name}}님, 환불을 도와드리겠습니다. 주문 {{last_order}}의 제품을 받으신 상자에 넣어 두시면 내일 수거해 가고, 확인 후 2영업일 안에 환불됩니다.",
        "{{customer_name}}, we'll refund your order {{last_order}}. Leave the product in its box and our courier will pick it up tomorrow; the refund follows within 2 business days.",
    ),
];

/// Conversations at most, so loading the demo stays quick.
const MAX_CONVERSATIONS: usize = 400;

const LATE_KO: &[(&str, &str)] = &[
    (
        "배송 지연 문의",
        "주문한 지 일주일이 넘었는데 아직 배송이 안 왔어요. 언제 받을 수 있나요?",
    ),
    (
        "배송이 너무 늦어요",
        "배송 조회를 해도 사흘째 같은 곳에 멈춰 있어요. 확인 부탁드립니다.",
    ),
    (
        "선물용 주문 배송",
        "선물하려고 주문했는데 날짜를 못 맞출 것 같아요. 오늘 출고 가능한가요?",
    ),
    (
        "택배 상태 확인 요청",
        "택배사에 전화해도 연결이 안 돼요. 제 물건 어디 있나요?",
    ),
];
const LATE_EN: &[(&str, &str)] = &[
    (
        "Where is my order?",
        "I ordered over a week ago and it still hasn't arrived. When will it come?",
    ),
    (
        "Delivery delayed",
        "Tracking has shown the same location for three days. Can you check?",
    ),
    (
        "Late gift order",
        "This was a gift and it won't arrive in time. Can it ship today?",
    ),
];
const OTHER_KO: &[(&str, &str, &str)] = &[
    (
        "환불 요청",
        "제품이 피부에 맞지 않아요. 환불해 주세요.",
        "환불",
    ),
    (
        "성분 문의",
        "민감성 피부인데 수분 크림에 향료가 들어 있나요?",
        "제품 문의",
    ),
    (
        "교환 문의",
        "용량을 잘못 골랐어요. 큰 용량으로 교환 가능할까요?",
        "교환",
    ),
];
const OTHER_EN: &[(&str, &str, &str)] = &[
    (
        "Refund request",
        "The serum irritated my skin. I'd like a refund, please.",
        "refund",
    ),
    (
        "Ingredient question",
        "Does the moisturiser contain fragrance? I have sensitive skin.",
        "product question",
    ),
];
const REPLY_KO: &[&str] = &[
    "불편을 드려 정말 죄송합니다. 택배사 변경 이후 일부 지역 배송이 늦어지고 있어 확인해 보니 내일 도착 예정입니다.",
    "기다리게 해드려 죄송합니다. 오늘 재출고해 드렸고, 사과의 뜻으로 적립금을 넣어 드렸어요.",
    "확인해 보겠습니다. 주문 번호를 알려주시면 바로 조회해 드릴게요.",
];
const REPLY_EN: &[&str] = &[
    "We're very sorry. Deliveries to some areas are slower since our courier change; yours is due tomorrow.",
    "Sorry for the wait. We re-shipped it today and added points to your account as an apology.",
    "Let us check. Could you send us your order number?",
];
const THANKS_KO: &[&str] = &[
    "네 감사합니다.",
    "빠른 답변 감사해요.",
    "알겠습니다. 기다릴게요.",
];
const THANKS_EN: &[&str] = &[
    "Thanks!",
    "Thank you for the quick answer.",
    "OK, I'll wait.",
];

const CHANNELS: &[&str] = &["email", "email", "chat", "chat", "phone", "messenger"];

/// Conversations following the demo journeys: `events` in time order, `korean[i]` whether
/// demo customer i writes in Korean.
pub fn conversations(seed: u64, events: &[SynthEvent], korean: &[bool]) -> Vec<DemoConversation> {
    let anchor = events.iter().map(|e| e.ts).max().unwrap_or(0);
    let mut out = Vec::new();
    for (n, e) in events.iter().enumerate() {
        if out.len() >= MAX_CONVERSATIONS {
            break;
        }
        let mut rng = Rng(seed ^ 0x5eed_c0de_u64 ^ ((e.customer as u64) << 32) ^ n as u64);
        let ko = korean.get(e.customer as usize).copied().unwrap_or(true);
        let (subject, body, labels) = match e.name() {
            "delivery_delayed" if rng.chance(0.45) => {
                let (s, b) = if ko {
                    pick(&mut rng, LATE_KO)
                } else {
                    pick(&mut rng, LATE_EN)
                };
                (s, b, vec![if ko { "배송 지연" } else { "late delivery" }])
            }
            "order_delivered" if rng.chance(0.01) => {
                let (s, b, l) = if ko {
                    pick(&mut rng, OTHER_KO)
                } else {
                    pick(&mut rng, OTHER_EN)
                };
                (s, b, vec![l])
            }
            _ => continue,
        };
        let channel = pick(&mut rng, CHANNELS);
        let opened = e.ts + 600 + rng.below(6 * 3600);
        if opened > anchor {
            continue;
        }
        let mut lines = vec![DemoLine {
            incoming: true,
            text: body.into(),
            ts: opened,
        }];
        let age_hours = (anchor - opened) / 3600;
        // The last two days' conversations still wait; a few older ones were missed.
        let waiting = age_hours < 48 || rng.chance(0.04);
        let mut status = "open";
        let mut resolved_at = None;
        if !waiting {
            let first_reply =
                opened + 900 + rng.below(if channel == "email" { 20 * 3600 } else { 3600 });
            lines.push(DemoLine {
                incoming: false,
                text: pick(&mut rng, if ko { REPLY_KO } else { REPLY_EN }).to_string(),
                ts: first_reply,
            });
            status = "pending";
            if rng.chance(0.8) {
                let thanks = first_reply + 600 + rng.below(8 * 3600);
                lines.push(DemoLine {
                    incoming: true,
                    text: pick(&mut rng, if ko { THANKS_KO } else { THANKS_EN }).to_string(),
                    ts: thanks,
                });
                status = "resolved";
                resolved_at = Some(thanks + 300 + rng.below(3600));
            }
        }
        out.push(DemoConversation {
            customer: e.customer,
            channel,
            subject: subject.into(),
            status,
            priority: if waiting && age_hours >= 24 {
                "high"
            } else {
                "normal"
            },
            labels,
            lines,
            resolved_at,
        });
    }
    out
}

fn pick<T: Copy>(rng: &mut Rng, items: &[T]) -> T {
    items[rng.below(items.len() as u32) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversations_follow_late_deliveries_and_some_still_wait() {
        let events = crate::journey::events(crate::DEFAULT_SEED, 3000);
        let korean: Vec<bool> = (0..3000).map(|i| i % 5 != 0).collect();
        let all = conversations(crate::DEFAULT_SEED, &events, &korean);
        assert!(all.len() >= 50, "{}", all.len());
        let late = all
            .iter()
            .filter(|c| {
                c.labels
                    .iter()
                    .any(|l| *l == "배송 지연" || *l == "late delivery")
            })
            .count();
        assert!(
            late * 2 > all.len(),
            "most follow the pain point: {late} of {}",
            all.len()
        );
        let waiting = all.iter().filter(|c| c.status == "open").count();
        assert!(waiting > 0 && waiting < all.len());
        for ch in ["email", "chat", "phone", "messenger"] {
            assert!(all.iter().any(|c| c.channel == ch), "no {ch} conversation");
        }
        for c in &all {
            assert!(
                c.lines.windows(2).all(|w| w[0].ts < w[1].ts),
                "lines in order"
            );
            assert!(c.lines[0].incoming);
            assert_eq!(c.status == "resolved", c.resolved_at.is_some());
        }
        assert_eq!(
            all,
            conversations(crate::DEFAULT_SEED, &events, &korean),
            "seeded"
        );
    }
}
