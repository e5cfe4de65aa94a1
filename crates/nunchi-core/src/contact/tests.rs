//! The contact budget's rules one by one, and a randomised run — many campaigns, random
//! clocks and time zones — after which every cap, gap, night-time and Kakao rule is
//! checked again from the sends alone.

use jiff::tz::TimeZone;
use proptest::prelude::*;

use super::*;
use crate::consent::Purpose;

fn at(s: &str) -> Millis {
    Millis::parse(s).unwrap()
}

fn seoul() -> TimeZone {
    TimeZone::get("Asia/Seoul").unwrap()
}

fn consent(channel: ContactChannel, purpose: Purpose, at_: &str) -> Consent {
    Consent {
        channel,
        purpose,
        granted: true,
        at: at(at_),
        source: "test".into(),
    }
}

fn ad(via: Via) -> Candidate {
    Candidate {
        kind: MessageKind::Marketing,
        via,
        dedup: None,
        priority: 0,
    }
}

#[test]
fn caps_count_calendar_days_in_the_customers_zone() {
    let tz = seoul();
    let consents = [consent(
        ContactChannel::Email,
        Purpose::Marketing,
        "2026-01-01",
    )];
    let history = [Sent {
        at: at("2026-06-01T23:30:00+09:00"),
        kind: MessageKind::Marketing,
        via: Via::Email,
        dedup: None,
    }];
    let policy = Policy {
        korean_law: false,
        ..Policy::default()
    };
    let r = Recipient {
        tz: &tz,
        korean: true,
        consents: &consents,
        history: &history,
    };
    // 23:30 and 23:50 Seoul are the same day: the daily cap of one holds the second.
    let same_day = decide(
        &policy,
        &r,
        &ad(Via::Email),
        at("2026-06-01T23:50:00+09:00"),
    );
    assert!(matches!(
        same_day,
        Decision::Suppress(Suppression::Capped {
            period: Period::Day,
            ..
        })
    ));
    // 00:10 the next day in Seoul (still 1 June in UTC) is a new day.
    assert_eq!(
        decide(
            &policy,
            &r,
            &ad(Via::Email),
            at("2026-06-02T00:10:00+09:00")
        ),
        Decision::Send
    );
    // A receipt is never blocked.
    let receipt = Candidate {
        kind: MessageKind::Transactional,
        ..ad(Via::Email)
    };
    assert_eq!(
        decide(&policy, &r, &receipt, at("2026-06-01T23:50:00+09:00")),
        Decision::Send
    );
}

#[test]
fn korean_law_holds_night_ads_and_checks_consent() {
    let tz = seoul();
    let only_day = [consent(
        ContactChannel::Sms,
        Purpose::Marketing,
        "2026-01-01",
    )];
    let r = Recipient {
        tz: &tz,
        korean: true,
        consents: &only_day,
        history: &[],
    };
    let policy = Policy::default();
    let night = at("2026-06-01T22:00:00+09:00");
    assert_eq!(
        decide(&policy, &r, &ad(Via::Sms), night),
        Decision::Hold {
            until: at("2026-06-02T08:00:00+09:00"),
            why: Suppression::NightWithoutConsent
        }
    );
    let skip = Policy {
        night: NightPolicy::Skip,
        ..Policy::default()
    };
    assert_eq!(
        decide(&skip, &r, &ad(Via::Sms), night),
        Decision::Suppress(Suppression::NightWithoutConsent)
    );
    assert_eq!(
        decide(
            &policy,
            &r,
            &ad(Via::Email),
            at("2026-06-01T12:00:00+09:00")
        ),
        Decision::Suppress(Suppression::NoConsent)
    );
    assert_eq!(
        decide(
            &policy,
            &r,
            &ad(Via::KakaoAlimtalk),
            at("2026-06-01T12:00:00+09:00")
        ),
        Decision::Suppress(Suppression::AdOverAlimtalk)
    );
    // Kakao brand ads stop at 20:00 even with night-time consent.
    let kakao = [
        consent(ContactChannel::Kakao, Purpose::Marketing, "2026-01-01"),
        consent(ContactChannel::Kakao, Purpose::NightAds, "2026-01-01"),
    ];
    let r = Recipient {
        consents: &kakao,
        ..r
    };
    assert_eq!(
        decide(
            &policy,
            &r,
            &ad(Via::KakaoBrand),
            at("2026-06-01T20:30:00+09:00")
        ),
        Decision::Hold {
            until: at("2026-06-02T08:00:00+09:00"),
            why: Suppression::KakaoNight
        }
    );
    // A customer abroad follows their own clock: 22:00 in Seoul is 15:00 in Paris.
    let paris = TimeZone::get("Europe/Paris").unwrap();
    let abroad = Recipient {
        tz: &paris,
        consents: &only_day,
        ..r
    };
    assert_eq!(
        decide(&policy, &abroad, &ad(Via::Sms), night),
        Decision::Send
    );
}

#[test]
fn overlapping_campaigns_send_once_and_priority_takes_the_last_slot() {
    let tz = seoul();
    let consents = [consent(
        ContactChannel::Email,
        Purpose::Marketing,
        "2026-01-01",
    )];
    let r = Recipient {
        tz: &tz,
        korean: true,
        consents: &consents,
        history: &[],
    };
    let policy = Policy::default();
    let now = at("2026-06-01T12:00:00+09:00");
    let shared = |priority| Candidate {
        dedup: Some("summer-sale".into()),
        priority,
        ..ad(Via::Email)
    };
    let decisions = decide_all(&policy, &r, &[shared(0), shared(0), shared(0)], now);
    assert_eq!(decisions[0], Decision::Send);
    assert!(
        decisions[1..]
            .iter()
            .all(|d| *d == Decision::Suppress(Suppression::Duplicate))
    );
    // One slot left today (daily cap 1): the priority-5 message takes it though it came last.
    let low = ad(Via::Email);
    let high = Candidate {
        priority: 5,
        ..ad(Via::Email)
    };
    let decisions = decide_all(&policy, &r, &[low, high], now);
    assert!(matches!(
        decisions[0],
        Decision::Suppress(Suppression::Capped { .. })
    ));
    assert_eq!(decisions[1], Decision::Send);
}

#[test]
fn explanations_name_the_rule() {
    let capped = Suppression::Capped {
        kind: Some(MessageKind::Marketing),
        channel: None,
        period: Period::Week,
        max: 3,
    };
    assert_eq!(
        capped.explain("en"),
        "not sent: 3 marketing messages this week"
    );
    assert_eq!(
        capped.explain("ko"),
        "미발송: 이번 주 마케팅 메시지 3건 도달"
    );
}

#[test]
fn ad_templates_need_label_sender_contact_and_opt_out() {
    use korea::{AdProblem, check_ad};
    assert_eq!(
        check_ad(
            Via::Sms,
            "(광고) 하늘결 여름 세일",
            "전 품목 20%\n문의 02-123-4567\n무료수신거부 080-123-4567",
            "하늘결"
        ),
        vec![]
    );
    assert_eq!(
        check_ad(
            Via::Email,
            "(광고){{brand_name}} 소식",
            "{{brand_contact}} {{unsubscribe_url}}",
            "하늘결"
        ),
        vec![]
    );
    assert_eq!(
        check_ad(Via::Sms, "여름 세일", "전 품목 20%", "하늘결"),
        vec![
            AdProblem::NoAdLabel,
            AdProblem::NoContact,
            AdProblem::NoOptOut
        ]
    );
    assert_eq!(
        check_ad(
            Via::KakaoAlimtalk,
            "(광고) 다른상호",
            "help@brand.kr {{unsubscribe_url}}",
            "하늘결"
        ),
        vec![AdProblem::AlimtalkAd, AdProblem::NoSenderName]
    );
}

const ZONES: [&str; 3] = ["Asia/Seoul", "UTC", "America/New_York"];
const VIAS: [Via; 4] = [Via::Email, Via::Sms, Via::KakaoBrand, Via::KakaoAlimtalk];
const KINDS: [MessageKind; 4] = [
    MessageKind::Marketing,
    MessageKind::Marketing,
    MessageKind::Survey,
    MessageKind::Transactional,
];

fn caps() -> Vec<Cap> {
    vec![
        Cap {
            kind: Some(MessageKind::Marketing),
            channel: None,
            max: 2,
            period: Period::Day,
        },
        Cap {
            kind: Some(MessageKind::Marketing),
            channel: Some(ContactChannel::Sms),
            max: 3,
            period: Period::Week,
        },
        Cap {
            kind: None,
            channel: None,
            max: 8,
            period: Period::Month,
        },
        Cap {
            kind: Some(MessageKind::Survey),
            channel: None,
            max: 4,
            period: Period::Lifetime,
        },
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Messages from many campaigns arrive at random moments over two months; held ones
    /// come back when their hold ends. Whatever was sent must satisfy every rule when
    /// checked from the sends alone.
    #[test]
    fn nothing_sent_breaks_a_rule(
        zone in 0..ZONES.len(),
        korean in any::<bool>(),
        night_consent in any::<bool>(),
        consented in prop::collection::vec(any::<bool>(), 3),
        gap_minutes in prop::sample::select(vec![0_i64, 30, 240]),
        arrivals in prop::collection::vec((0_i64..60 * 24 * 60, 0..VIAS.len(), 0..KINDS.len(), 0_i32..3, 0_u8..4), 1..120),
    ) {
        let tz = TimeZone::get(ZONES[zone]).unwrap();
        let base = at("2026-03-01T00:00:00Z").0;
        let mut consents = Vec::new();
        for (channel, yes) in [ContactChannel::Email, ContactChannel::Sms, ContactChannel::Kakao].into_iter().zip(&consented) {
            if *yes {
                consents.push(consent(channel, Purpose::Marketing, "2026-01-01"));
                if night_consent {
                    consents.push(consent(channel, Purpose::NightAds, "2026-01-01"));
                }
            }
        }
        let policy = Policy { caps: caps(), min_gap_ms: gap_minutes * 60_000, ..Policy::default() };
        let mut queue: Vec<(i64, Candidate)> = arrivals
            .iter()
            .map(|&(minute, v, k, p, d)| (base + minute * 60_000, Candidate {
                kind: KINDS[k],
                via: VIAS[v],
                dedup: (d > 0).then(|| format!("campaign-{d}")),
                priority: p,
            }))
            .collect();
        let mut history: Vec<Sent> = Vec::new();
        let mut rounds = 0;
        while !queue.is_empty() {
            rounds += 1;
            prop_assert!(rounds < 10_000, "holds never end");
            queue.sort_by_key(|(t, _)| *t);
            let (now, msg) = queue.remove(0);
            let r = Recipient { tz: &tz, korean, consents: &consents, history: &history };
            match decide(&policy, &r, &msg, Millis(now)) {
                Decision::Send => history.push(Sent { at: Millis(now), kind: msg.kind, via: msg.via, dedup: msg.dedup.clone() }),
                Decision::Hold { until, .. } => {
                    prop_assert!(until.0 > now);
                    queue.push((until.0, msg));
                }
                Decision::Suppress(why) => {
                    prop_assert!(msg.kind != MessageKind::Transactional, "{why:?}");
                }
            }
        }
        let counted: Vec<&Sent> = history.iter().filter(|s| s.kind != MessageKind::Transactional).collect();
        let local_of = |s: &Sent| s.at.to_timestamp().to_zoned(tz.clone());
        for cap in caps() {
            let mut per: std::collections::HashMap<String, u32> = Default::default();
            let covered = counted.iter().filter(|s| {
                cap.kind.is_none_or(|k| k == s.kind)
                    && cap.channel.is_none_or(|c| c == s.via.consent_channel())
            });
            for s in covered {
                let z = local_of(s);
                let key = match cap.period {
                    Period::Day => z.date().to_string(),
                    Period::Week => {
                        let w = z.date().iso_week_date();
                        format!("{}-W{}", w.year(), w.week())
                    }
                    Period::Month => format!("{}-{}", z.year(), z.month()),
                    Period::Lifetime => String::new(),
                };
                *per.entry(key).or_default() += 1;
            }
            prop_assert!(per.values().all(|&n| n <= cap.max), "{cap:?}: {per:?}");
        }
        if gap_minutes > 0 {
            let mut times: Vec<i64> = counted.iter().map(|s| s.at.0).collect();
            times.sort_unstable();
            prop_assert!(times.windows(2).all(|w| w[1] - w[0] >= gap_minutes * 60_000));
        }
        // Wherever they live, no ad without consent on its channel.
        for s in counted.iter().filter(|s| s.kind == MessageKind::Marketing) {
            let channel = match s.via.consent_channel() {
                ContactChannel::Email => 0,
                ContactChannel::Sms => 1,
                _ => 2,
            };
            prop_assert!(consented[channel], "an ad without consent");
        }
        if korean {
            for s in counted.iter().filter(|s| s.kind == MessageKind::Marketing) {
                let hour = local_of(s).hour();
                prop_assert!(s.via != Via::KakaoAlimtalk);
                prop_assert!(night_consent || (8..21).contains(&hour), "a night-time ad at {hour}:00");
                if s.via == Via::KakaoBrand {
                    prop_assert!((8..20).contains(&hour), "a Kakao brand ad at {hour}:00");
                }
            }
            let mut brand_days: Vec<jiff::civil::Date> = counted.iter().filter(|s| s.via == Via::KakaoBrand).map(|s| local_of(s).date()).collect();
            let n = brand_days.len();
            brand_days.sort();
            brand_days.dedup();
            prop_assert_eq!(n, brand_days.len(), "two brand messages in a day");
        }
    }
}
