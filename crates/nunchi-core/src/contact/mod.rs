//! One contact budget for everything the brand sends a customer — surveys, marketing and
//! service notices alike: caps per channel per calendar day, week or month in the
//! customer's own time zone, lifetime caps, a minimum gap, quiet hours that hold a
//! message until they end, de-duplication across overlapping campaigns and a priority
//! for the last slot; the advertising law of the customer's country on top (`korea`).
//! Transactional messages are never blocked and never counted against the budget.

pub mod korea;

use jiff::{Timestamp, ToSpan, civil::Date, tz::TimeZone};

use crate::consent::{Consent, ContactChannel};
use crate::time::Millis;

crate::named_enum! {
    /// What a message is, which decides which rules it meets.
    pub enum MessageKind("message kind") {
        /// Receipts, SLA notices, callbacks: never blocked, counted apart.
        Transactional = "transactional",
        /// Service notices: counted in the budget, not advertising.
        Service = "service",
        Survey = "survey",
        /// Advertising (광고성 정보): consent, night-time and labelling rules apply.
        Marketing = "marketing",
    }
}

crate::named_enum! {
    /// How a message travels.
    pub enum Via("channel") {
        Email = "email",
        Sms = "sms",
        Lms = "lms",
        /// Kakao 알림톡: informational messages on pre-approved templates only.
        KakaoAlimtalk = "kakao_alimtalk",
        /// Kakao 브랜드 메시지 / 친구톡: may carry ads to consenting friends.
        KakaoBrand = "kakao_brand",
        Line = "line",
        Push = "push",
    }
}

impl Via {
    /// The channel a customer's consent is recorded for.
    pub fn consent_channel(self) -> ContactChannel {
        match self {
            Via::Email => ContactChannel::Email,
            Via::Sms | Via::Lms => ContactChannel::Sms,
            Via::KakaoAlimtalk | Via::KakaoBrand => ContactChannel::Kakao,
            Via::Line => ContactChannel::Line,
            Via::Push => ContactChannel::Push,
        }
    }
}

crate::named_enum! {
    /// The calendar span a cap counts over, in the customer's time zone (a week runs
    /// Monday to Sunday).
    pub enum Period("period") {
        Day = "day",
        Week = "week",
        Month = "month",
        Lifetime = "lifetime",
    }
}

impl Period {
    /// The first local day of the period holding `day` (None for a lifetime).
    fn start(self, day: Date) -> Option<Date> {
        match self {
            Self::Day => Some(day),
            Self::Week => Some(
                day.checked_sub(i64::from(day.weekday().to_monday_zero_offset()).days())
                    .unwrap_or(day),
            ),
            Self::Month => Some(day.first_of_month()),
            Self::Lifetime => None,
        }
    }
}

/// At most `max` messages of a kind (every counted kind when `None`) through a channel
/// (every channel when `None`) per period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cap {
    pub kind: Option<MessageKind>,
    pub channel: Option<ContactChannel>,
    pub max: u32,
    pub period: Period,
}

impl Cap {
    fn covers(&self, kind: MessageKind, via: Via) -> bool {
        kind != MessageKind::Transactional
            && self.kind.is_none_or(|k| k == kind)
            && self.channel.is_none_or(|c| c == via.consent_channel())
    }
}

/// What to do with an advertisement that falls in hours it may not be sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NightPolicy {
    /// Keep it until the hours end (Braze's quiet hours).
    Hold,
    /// Drop it, recorded as suppressed.
    Skip,
}

/// The brand's contact policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub caps: Vec<Cap>,
    /// Least time between two counted messages to one customer, on any channel.
    pub min_gap_ms: i64,
    /// Local hours `[from, to)` (wrapping midnight) in which counted messages wait.
    pub quiet_hours: Option<(u8, u8)>,
    pub night: NightPolicy,
    /// Apply the Korean advertising rules to Korean customers (on by default).
    pub korean_law: bool,
    /// Two messages with the same de-duplication key within this long count as one.
    pub dedup_window_ms: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            caps: vec![
                Cap {
                    kind: Some(MessageKind::Marketing),
                    channel: None,
                    max: 1,
                    period: Period::Day,
                },
                Cap {
                    kind: Some(MessageKind::Marketing),
                    channel: None,
                    max: 3,
                    period: Period::Week,
                },
            ],
            min_gap_ms: 0,
            quiet_hours: None,
            night: NightPolicy::Hold,
            korean_law: true,
            dedup_window_ms: 7 * 86_400_000,
        }
    }
}

/// A message that already reached the customer (or is reserved to).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub at: Millis,
    pub kind: MessageKind,
    pub via: Via,
    pub dedup: Option<String>,
}

/// Who a message would go to.
#[derive(Debug, Clone, Copy)]
pub struct Recipient<'a> {
    pub tz: &'a TimeZone,
    /// Korean law applies (a Korean customer: country KR, or a +82 phone).
    pub korean: bool,
    pub consents: &'a [Consent],
    /// What reached them, any order; transactional sends may be included and are ignored.
    pub history: &'a [Sent],
}

/// A message asking for a slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub kind: MessageKind,
    pub via: Via,
    /// Overlapping campaigns that share a key reach a customer once.
    pub dedup: Option<String>,
    /// Higher wins the last slot when several compete; equal ones go first come.
    pub priority: i32,
}

/// Why a message was not sent (stored with the delivery and shown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Suppression {
    NoConsent,
    ConsentExpired,
    NightWithoutConsent,
    QuietHours,
    Capped {
        kind: Option<MessageKind>,
        channel: Option<ContactChannel>,
        period: Period,
        max: u32,
    },
    TooSoon,
    Duplicate,
    /// Korean law: no advertising through 알림톡.
    AdOverAlimtalk,
    /// Kakao: at most one 브랜드 메시지 per recipient per day.
    KakaoBrandDaily,
    /// Kakao: no 친구톡/브랜드 메시지 ads from 20:00 to 08:00.
    KakaoNight,
    /// The campaign names no channel to try.
    NoChannel,
}

impl Suppression {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoConsent => "no_consent",
            Self::ConsentExpired => "consent_expired",
            Self::NightWithoutConsent => "night_without_consent",
            Self::QuietHours => "quiet_hours",
            Self::Capped { .. } => "capped",
            Self::TooSoon => "too_soon",
            Self::Duplicate => "duplicate",
            Self::AdOverAlimtalk => "ad_over_alimtalk",
            Self::KakaoBrandDaily => "kakao_brand_daily",
            Self::KakaoNight => "kakao_night",
            Self::NoChannel => "no_channel",
        }
    }

    /// A stored code explained without its numbers (a cap's reads "capped"); `None` for a
    /// code this type does not make.
    pub fn explain_code(code: &str, lang: &str) -> Option<String> {
        const PLAIN: [Suppression; 10] = [
            Suppression::NoConsent,
            Suppression::ConsentExpired,
            Suppression::NightWithoutConsent,
            Suppression::QuietHours,
            Suppression::TooSoon,
            Suppression::Duplicate,
            Suppression::AdOverAlimtalk,
            Suppression::KakaoBrandDaily,
            Suppression::KakaoNight,
            Suppression::NoChannel,
        ];
        PLAIN
            .iter()
            .find(|s| s.code() == code)
            .map(|s| s.explain(lang))
    }

    /// "not sent: 3 marketing messages this week", in Korean or English.
    pub fn explain(&self, lang: &str) -> String {
        let ko = lang == "ko";
        let s = |en: &str, k: &str| if ko { k.to_string() } else { en.to_string() };
        match self {
            Self::NoConsent => s(
                "not sent: no consent to advertising on this channel",
                "미발송: 이 채널의 광고 수신 동의 없음",
            ),
            Self::ConsentExpired => s(
                "not sent: consent older than two years, not re-confirmed",
                "미발송: 수신 동의 후 2년이 지나 재확인 필요",
            ),
            Self::NightWithoutConsent => s(
                "not sent: 21:00–08:00 without night-time consent",
                "미발송: 야간(21시~08시) 광고 수신 동의 없음",
            ),
            Self::QuietHours => s("not sent: quiet hours", "미발송: 발송 제한 시간"),
            Self::Capped {
                kind,
                channel,
                period,
                max,
            } => {
                let what_en = kind.map_or("", |k| match k {
                    MessageKind::Marketing => "marketing ",
                    MessageKind::Survey => "survey ",
                    MessageKind::Service => "service ",
                    MessageKind::Transactional => "",
                });
                let what_ko = kind.map_or("", |k| match k {
                    MessageKind::Marketing => "마케팅 ",
                    MessageKind::Survey => "설문 ",
                    MessageKind::Service => "안내 ",
                    MessageKind::Transactional => "",
                });
                let via = channel.map(|c| c.as_str()).unwrap_or("");
                let (per_en, per_ko) = match period {
                    Period::Day => ("today", "오늘"),
                    Period::Week => ("this week", "이번 주"),
                    Period::Month => ("this month", "이번 달"),
                    Period::Lifetime => ("ever", "누적"),
                };
                if ko {
                    format!("미발송: {per_ko} {via} {what_ko}메시지 {max}건 도달")
                        .replace("  ", " ")
                } else {
                    format!(
                        "not sent: {max} {what_en}{}message{} {per_en}",
                        if via.is_empty() {
                            String::new()
                        } else {
                            format!("{via} ")
                        },
                        if *max == 1 { "" } else { "s" }
                    )
                }
            }
            Self::TooSoon => s(
                "not sent: too soon after the last message",
                "미발송: 직전 메시지와 간격이 너무 짧음",
            ),
            Self::Duplicate => s(
                "not sent: the same message already went out in another campaign",
                "미발송: 다른 캠페인에서 같은 메시지를 이미 보냄",
            ),
            Self::AdOverAlimtalk => s(
                "not sent: advertising may not go through 알림톡",
                "미발송: 알림톡으로는 광고를 보낼 수 없음",
            ),
            Self::KakaoBrandDaily => s(
                "not sent: one brand message per day already sent",
                "미발송: 오늘 브랜드 메시지 1건을 이미 보냄",
            ),
            Self::KakaoNight => s(
                "not sent: Kakao ads may not go out 20:00–08:00",
                "미발송: 카카오 광고는 20시~08시 발송 불가",
            ),
            Self::NoChannel => s("not sent: no channel to try", "미발송: 시도할 채널 없음"),
        }
    }
}

/// The answer for one message now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Send,
    /// Not now: try again at `until` (a quiet or night-time window ends then).
    Hold {
        until: Millis,
        why: Suppression,
    },
    Suppress(Suppression),
}

/// The local date and hour of a moment in a time zone.
fn local(now: Millis, tz: &TimeZone) -> jiff::Zoned {
    now.to_timestamp().to_zoned(tz.clone())
}

/// The next moment the local clock reads `hour`:00 at or after `now`.
pub fn next_local_hour(now: Millis, tz: &TimeZone, hour: u8) -> Millis {
    let here = local(now, tz);
    let today = here.date();
    for day in [today, today.tomorrow().unwrap_or(today)] {
        let at = day
            .at(hour as i8, 0, 0, 0)
            .to_zoned(tz.clone())
            .map(|z| z.timestamp())
            .unwrap_or(Timestamp::UNIX_EPOCH);
        if at >= now.to_timestamp() {
            return Millis::from_timestamp(at);
        }
    }
    now
}

/// Whether a local hour lies in `[from, to)`, wrapping past midnight when `from > to`.
pub fn in_hours(hour: i8, (from, to): (u8, u8)) -> bool {
    let (h, from, to) = (hour as u8, from, to);
    if from <= to {
        (from..to).contains(&h)
    } else {
        h >= from || h < to
    }
}

/// Whether an ad may go on a channel as far as consent goes: the latest answer must be a
/// yes, and for a Korean customer no older than two years (§50 ⑧). Checked again at send
/// time, so an opt-out after a message was reserved still stops it.
pub fn ad_consent(
    consents: &[Consent],
    via: Via,
    now: Millis,
    korean: bool,
) -> Option<Suppression> {
    let latest = consents
        .iter()
        .filter(|c| {
            c.channel == via.consent_channel() && c.purpose == crate::consent::Purpose::Marketing
        })
        .max_by_key(|c| c.at)
        .filter(|c| c.granted);
    match latest {
        None => Some(Suppression::NoConsent),
        Some(c) if korean && now.0 - c.at.0 > crate::consent::RECONFIRM_AFTER_MS => {
            Some(Suppression::ConsentExpired)
        }
        Some(_) => None,
    }
}

/// Decides one message for one customer now. The budget rules (caps, gap,
/// de-duplication, quiet hours) apply to every counted kind; the law of the customer's
/// country applies to advertising.
pub fn decide(policy: &Policy, r: &Recipient<'_>, msg: &Candidate, now: Millis) -> Decision {
    if msg.kind == MessageKind::Transactional {
        return Decision::Send;
    }
    if policy.korean_law
        && r.korean
        && let Some(d) = korea::decide(policy, r, msg, now)
    {
        return d;
    }
    // Advertising needs the customer's prior consent on the channel wherever they live;
    // Korean law adds re-confirmation and night-time rules above.
    if msg.kind == MessageKind::Marketing
        && let Some(why) = ad_consent(r.consents, msg.via, now, policy.korean_law && r.korean)
    {
        return Decision::Suppress(why);
    }
    if let Some(quiet) = policy.quiet_hours
        && in_hours(local(now, r.tz).hour(), quiet)
    {
        return match policy.night {
            NightPolicy::Hold => Decision::Hold {
                until: next_local_hour(now, r.tz, quiet.1),
                why: Suppression::QuietHours,
            },
            NightPolicy::Skip => Decision::Suppress(Suppression::QuietHours),
        };
    }
    let counted = || {
        r.history
            .iter()
            .filter(|s| s.kind != MessageKind::Transactional)
    };
    if let Some(key) = &msg.dedup
        && counted().any(|s| {
            s.dedup.as_deref() == Some(key.as_str())
                && (now.0 - s.at.0).abs() < policy.dedup_window_ms
        })
    {
        return Decision::Suppress(Suppression::Duplicate);
    }
    if policy.min_gap_ms > 0 && counted().any(|s| (now.0 - s.at.0).abs() < policy.min_gap_ms) {
        return Decision::Suppress(Suppression::TooSoon);
    }
    let today = local(now, r.tz).date();
    for cap in policy.caps.iter().filter(|c| c.covers(msg.kind, msg.via)) {
        let start = cap.period.start(today);
        // Reservations later in the same period count too: a held message keeps its slot.
        let used = counted()
            .filter(|s| cap.covers(s.kind, s.via))
            .filter(|s| start.is_none() || cap.period.start(local(s.at, r.tz).date()) == start)
            .count();
        if used >= cap.max as usize {
            return Decision::Suppress(Suppression::Capped {
                kind: cap.kind,
                channel: cap.channel,
                period: cap.period,
                max: cap.max,
            });
        }
    }
    Decision::Send
}

/// The order several requests competing for one customer are decided in: the highest
/// priority first, then first come (their order here).
pub fn priority_order(priorities: &[i32]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..priorities.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(priorities[i]), i));
    order
}

/// Decides several messages competing for one customer at the same moment in
/// `priority_order`, each one sent counting against the next — so three overlapping
/// campaigns sharing a key send one message, and the last slot of a cap goes to the most
/// important.
pub fn decide_all(
    policy: &Policy,
    r: &Recipient<'_>,
    msgs: &[Candidate],
    now: Millis,
) -> Vec<Decision> {
    let priorities: Vec<i32> = msgs.iter().map(|m| m.priority).collect();
    let mut history = r.history.to_vec();
    let mut out = vec![Decision::Send; msgs.len()];
    for i in priority_order(&priorities) {
        let here = Recipient {
            history: &history,
            ..*r
        };
        let d = decide(policy, &here, &msgs[i], now);
        if d == Decision::Send {
            history.push(Sent {
                at: now,
                kind: msgs[i].kind,
                via: msgs[i].via,
                dedup: msgs[i].dedup.clone(),
            });
        }
        out[i] = d;
    }
    out
}

/// One message tried on its channels in order (its own `via` is replaced by each): the first the rules let through (sent or
/// held) with its channel, or, when every one refuses, the first channel's refusal.
pub fn decide_channels(
    policy: &Policy,
    r: &Recipient<'_>,
    msg: &Candidate,
    channels: &[Via],
    now: Millis,
) -> (Option<Via>, Decision) {
    let mut first_refusal = None;
    for &via in channels {
        let d = decide(policy, r, &Candidate { via, ..msg.clone() }, now);
        if matches!(d, Decision::Suppress(_)) {
            first_refusal.get_or_insert((via, d));
        } else {
            return (Some(via), d);
        }
    }
    match first_refusal {
        Some((via, d)) => (Some(via), d),
        None => (None, Decision::Suppress(Suppression::NoChannel)),
    }
}

#[cfg(test)]
mod tests;
