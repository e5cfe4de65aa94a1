//! `nunchi bench --conversation-messages N`: fills the support desk with N messages of
//! varied Korean and English text, then times conversation search as agents type it —
//! three characters or more (the trigram index) and one- or two-syllable Korean words
//! (a scan) — and prints the percentiles; `--inbound-mail N` times e-mail intake.

use std::{sync::Arc, time::Instant};

use indicatif::{ProgressBar, ProgressStyle};
use nunchi_core::{
    conversation::{ConversationChannel, MessageDirection, Priority},
    customer::{CustomerName, ProfileFields},
    import::CustomerRecord,
};
use nunchi_store::{
    Store,
    model::{NewConversation, NewMessage},
};
use rand::{Rng, SeedableRng, seq::SliceRandom};

use super::demo::percentile;

const KO: &[&str] = &[
    "배송",
    "환불",
    "교환",
    "주문",
    "취소",
    "택배",
    "포장",
    "파손",
    "수분크림",
    "세럼",
    "토너",
    "적립금",
    "쿠폰",
    "회원",
    "결제",
    "카드",
    "영수증",
    "선물",
    "재고",
    "입고",
    "문의",
    "확인",
    "부탁드립니다",
    "언제",
    "오나요",
    "늦어요",
    "왜",
    "아직",
    "받았는데",
    "불량",
    "피부",
    "트러블",
];
const EN: &[&str] = &[
    "order", "refund", "delivery", "late", "package", "damaged", "exchange", "serum", "toner",
    "points", "coupon", "payment", "receipt", "gift", "stock", "please", "when", "still",
    "received", "broken", "skin", "account", "tracking", "courier", "cancel",
];
/// Messages per conversation.
const THREAD: usize = 20;
const BATCH: usize = 5_000;

fn sentence(rng: &mut impl Rng) -> String {
    let (words, n) = if rng.gen_bool(0.7) {
        (KO, rng.gen_range(4..14))
    } else {
        (EN, rng.gen_range(5..18))
    };
    let mut s: Vec<String> = (0..n)
        .map(|_| words.choose(rng).copied().unwrap_or("").to_string())
        .collect();
    s.push(format!("#{}", rng.gen_range(100_000..999_999)));
    s.join(" ")
}

pub async fn run(store: &Arc<dyn Store>, messages: usize, queries: usize) -> anyhow::Result<()> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let customer = store
        .create_customer(
            &CustomerRecord {
                external_id: Some(format!("bench-inbox-{}", store.stats().await?.customers)),
                profile: ProfileFields {
                    name: Some(CustomerName::parse("벤치 고객")?),
                    ..Default::default()
                },
                email: None,
                phone: None,
                tags: vec![],
                consents: vec![],
                life_events: vec![],
                attributes: vec![],
                created_at: None,
            },
            &[],
            "bench",
        )
        .await?;
    let line = |text: String| NewMessage {
        direction: MessageDirection::Incoming,
        channel: ConversationChannel::Chat,
        author_user_id: None,
        text,
        external_id: None,
        subject: None,
        delivery: None,
        at: None,
        client_id: None,
    };
    let bar = ProgressBar::new(messages as u64).with_style(ProgressStyle::with_template(
        "{msg} {bar:40} {pos}/{len} {per_sec} eta {eta}",
    )?);
    bar.set_message("messages");
    let started = Instant::now();
    let mut pending: Vec<(i64, NewMessage)> = Vec::with_capacity(BATCH);
    let mut written = 0;
    while written < messages {
        let (conversation, _) = store
            .create_conversation(
                &NewConversation {
                    customer_id: customer,
                    channel: ConversationChannel::Chat,
                    subject: "bench".into(),
                    priority: Priority::Normal,
                    team_id: None,
                },
                &line(sentence(&mut rng)),
            )
            .await?;
        written += 1;
        for _ in 1..THREAD.min(messages - written + 1) {
            pending.push((conversation.id, line(sentence(&mut rng))));
            written += 1;
        }
        if pending.len() >= BATCH || written >= messages {
            store.import_messages(&pending).await?;
            bar.inc(pending.len() as u64 + 1);
            pending.clear();
        }
    }
    bar.finish_and_clear();
    println!(
        "wrote {written} messages in {:.1} s ({:.0} messages/s, {} backend)",
        started.elapsed().as_secs_f64(),
        written as f64 / started.elapsed().as_secs_f64(),
        store.backend()
    );
    // What autovacuum would have done by the time anyone searches.
    store.refresh_statistics().await?;
    for (label, pick) in [
        ("3+ characters", 0u8),
        ("1–2 syllables", 1u8),
        ("1–2 syllables found nowhere (a full scan)", 2u8),
    ] {
        let mut latencies = Vec::with_capacity(queries);
        let mut hits = 0;
        for _ in 0..queries {
            let q: String = if pick == 0 {
                // A substring of a real message: 3–8 characters from a random word pair.
                let s = sentence(&mut rng);
                let chars: Vec<char> = s.chars().collect();
                let len = rng.gen_range(3..=8).min(chars.len());
                let start = rng.gen_range(0..=chars.len() - len);
                chars[start..start + len]
                    .iter()
                    .collect::<String>()
                    .trim()
                    .to_string()
            } else if pick == 1 {
                let w: Vec<char> = KO
                    .choose(&mut rng)
                    .copied()
                    .unwrap_or("배송")
                    .chars()
                    .collect();
                w[..w.len().min(rng.gen_range(1..=2))].iter().collect()
            } else {
                ["냉장", "여름", "겨울", "뷁", "창문"]
                    .choose(&mut rng)
                    .copied()
                    .unwrap_or("냉장")
                    .to_string()
            };
            if q.chars().count() < 1 {
                continue;
            }
            let t = Instant::now();
            let found = store.search_messages(&q, 50).await?;
            latencies.push(t.elapsed().as_secs_f64() * 1e3);
            hits += usize::from(!found.is_empty());
        }
        latencies.sort_by(f64::total_cmp);
        println!(
            "conversation search, {label}: {} queries, limit 50: p50 {:.2} ms  p95 {:.2} ms  p99 {:.2} ms  max {:.2} ms  with hits {hits}",
            latencies.len(),
            percentile(&latencies, 0.5),
            percentile(&latencies, 0.95),
            percentile(&latencies, 0.99),
            latencies[latencies.len() - 1]
        );
    }
    Ok(())
}

/// `nunchi bench --inbound-mail N`: takes in N generated e-mails through the same operation
/// as `POST /api/v1/inbound/email` — a third are replies that must find their thread by
/// `In-Reply-To`/`References`, half are Korean in EUC-KR — and prints messages/s; then
/// parses `mail-parser`'s sample corpus, when its sources are present, and prints that rate.
pub async fn inbound_mail(app: &nunchi_app::App, n: usize) -> anyhow::Result<()> {
    let actor = nunchi_app::Actor::operator();
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let run = rng.r#gen::<u32>();
    let mut sent: Vec<String> = Vec::new();
    let mut thread_of: std::collections::HashMap<String, i64> = Default::default();
    let bar = ProgressBar::new(n as u64).with_style(ProgressStyle::with_template(
        "{msg} {bar:40} {pos}/{len} {per_sec} eta {eta}",
    )?);
    bar.set_message("e-mails");
    let started = Instant::now();
    let mut threaded = 0;
    let mut replies = 0;
    for i in 0..n {
        let id = format!("bench-{run}-{i}@example.com");
        let sender = format!("customer{}@example.com", rng.gen_range(0..n.max(1) / 3 + 1));
        let reply_to = (!sent.is_empty() && rng.gen_bool(1.0 / 3.0))
            .then(|| sent[rng.gen_range(0..sent.len())].clone());
        replies += usize::from(reply_to.is_some());
        let mut raw = format!("From: {sender}\r\nTo: help@brand.example\r\nMessage-ID: <{id}>\r\n");
        if let Some(parent) = &reply_to {
            raw.push_str(&format!(
                "Subject: Re: 문의\r\nIn-Reply-To: <{parent}>\r\nReferences: <{parent}>\r\n"
            ));
        } else {
            raw.push_str("Subject: 문의\r\n");
        }
        let body = sentence(&mut rng);
        let mut bytes = if rng.gen_bool(0.5) {
            raw.push_str("Content-Type: text/plain; charset=euc-kr\r\n\r\n");
            let mut b = raw.into_bytes();
            b.extend_from_slice(&encoding_rs::EUC_KR.encode(&body).0);
            b
        } else {
            raw.push_str("Content-Type: text/plain; charset=utf-8\r\n\r\n");
            raw.push_str(&body);
            raw.into_bytes()
        };
        bytes.extend_from_slice(b"\r\n");
        let intake = nunchi_app::conversations::take_in_email(app, &actor, &bytes).await?;
        // A reply counts as threaded only when it joined its parent's conversation.
        threaded += usize::from(
            reply_to.is_some_and(|p| thread_of.get(&p) == Some(&intake.conversation_id)),
        );
        thread_of.insert(id.clone(), intake.conversation_id);
        sent.push(id);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "took in {n} e-mails ({threaded} of {replies} replies joined their thread) in {secs:.1} s: {:.0} messages/s ({} backend)",
        n as f64 / secs,
        app.store.backend()
    );
    let files = nunchi_app::inbound_mail::sample_corpus();
    if !files.is_empty() {
        let raws: Vec<Vec<u8>> = files.iter().filter_map(|p| std::fs::read(p).ok()).collect();
        let rounds = 100;
        let started = Instant::now();
        let mut readable = 0;
        for _ in 0..rounds {
            for raw in &raws {
                readable += usize::from(nunchi_app::inbound_mail::read(raw).is_ok());
            }
        }
        let secs = started.elapsed().as_secs_f64();
        println!(
            "parsed mail-parser's sample corpus ({} messages) {rounds} times: {:.0} messages/s, {} of {} readable each round",
            raws.len(),
            (raws.len() * rounds) as f64 / secs,
            readable / rounds,
            raws.len()
        );
    }
    Ok(())
}
