//! Korea's rules for advertising messages (정보통신망법 §50 and Kakao's own): prior
//! consent per channel, re-confirmed every two years; nothing from 21:00 to 08:00 without
//! the separate night-time consent; "(광고)" and the sender's name first, a contact and a
//! free opt-out in every ad; no ads through 알림톡; no 친구톡/브랜드 메시지 ads from 20:00
//! to 08:00 and at most one 브랜드 메시지 per recipient per day.

use super::{Candidate, Decision, MessageKind, NightPolicy, Policy, Recipient, Suppression, Via};
use super::{in_hours, local, next_local_hour};
use crate::consent::{self, AdBlock};
use crate::time::Millis;

/// Kakao's no-ads window for brand messages, local hours `[20, 8)`.
const KAKAO_NIGHT: (u8, u8) = (20, 8);

fn hold_or_skip(policy: &Policy, r: &Recipient<'_>, now: Millis, why: Suppression) -> Decision {
    match policy.night {
        NightPolicy::Hold => Decision::Hold {
            until: next_local_hour(now, r.tz, 8),
            why,
        },
        NightPolicy::Skip => Decision::Suppress(why),
    }
}

/// The Korean rules' answer for a message, or `None` when they leave it to the budget.
pub fn decide(
    policy: &Policy,
    r: &Recipient<'_>,
    msg: &Candidate,
    now: Millis,
) -> Option<Decision> {
    let hour = local(now, r.tz).hour();
    if msg.via == Via::KakaoBrand {
        let today = local(now, r.tz).date();
        let sent_today = r
            .history
            .iter()
            .filter(|s| s.via == Via::KakaoBrand && s.kind != MessageKind::Transactional)
            .any(|s| local(s.at, r.tz).date() == today);
        if sent_today {
            return Some(Decision::Suppress(Suppression::KakaoBrandDaily));
        }
    }
    if msg.kind != MessageKind::Marketing {
        return None;
    }
    if msg.via == Via::KakaoAlimtalk {
        return Some(Decision::Suppress(Suppression::AdOverAlimtalk));
    }
    match consent::ad_allowed(r.consents, msg.via.consent_channel(), now, r.tz) {
        Err(AdBlock::NoConsent) => return Some(Decision::Suppress(Suppression::NoConsent)),
        Err(AdBlock::ConsentExpired) => {
            return Some(Decision::Suppress(Suppression::ConsentExpired));
        }
        Err(AdBlock::NightTimeWithoutConsent) => {
            return Some(hold_or_skip(
                policy,
                r,
                now,
                Suppression::NightWithoutConsent,
            ));
        }
        Ok(()) => {}
    }
    if msg.via == Via::KakaoBrand && in_hours(hour, KAKAO_NIGHT) {
        return Some(hold_or_skip(policy, r, now, Suppression::KakaoNight));
    }
    None
}

/// What an advertising template lacks under Korean law, checked when it is saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdProblem {
    /// The message (the subject, for e-mail) must begin with "(광고)".
    NoAdLabel,
    /// The sender's name must follow the label.
    NoSenderName,
    /// A contact (a phone number, an e-mail address or `{{brand_contact}}`).
    NoContact,
    /// A free way to opt out (`{{unsubscribe_url}}`, or 무료수신거부 and a number).
    NoOptOut,
    /// 알림톡 carries no advertising.
    AlimtalkAd,
}

impl AdProblem {
    pub fn explain(self, lang: &str) -> &'static str {
        let ko = lang == "ko";
        match (self, ko) {
            (Self::NoAdLabel, false) => "an ad must begin with \"(광고)\"",
            (Self::NoAdLabel, true) => "광고는 \"(광고)\"로 시작해야 합니다",
            (Self::NoSenderName, false) => "the sender's name must follow \"(광고)\"",
            (Self::NoSenderName, true) => "\"(광고)\" 뒤에 전송자 명칭이 있어야 합니다",
            (Self::NoContact, false) => {
                "an ad must carry a contact: a phone number, an e-mail address or {{brand_contact}}"
            }
            (Self::NoContact, true) => {
                "광고에는 연락처(전화번호, 이메일 또는 {{brand_contact}})가 있어야 합니다"
            }
            (Self::NoOptOut, false) => {
                "an ad must offer a free opt-out: {{unsubscribe_url}} or 무료수신거부 with a number"
            }
            (Self::NoOptOut, true) => {
                "광고에는 무료 수신거부 방법({{unsubscribe_url}} 또는 무료수신거부 번호)이 있어야 합니다"
            }
            (Self::AlimtalkAd, false) => "알림톡 may not carry advertising",
            (Self::AlimtalkAd, true) => "알림톡으로는 광고를 보낼 수 없습니다",
        }
    }
}

/// Checks an advertising template: `first` is the subject (e-mail) or the message's
/// opening, `body` the rest, `sender` the brand's name as registered.
pub fn check_ad(via: Via, first: &str, body: &str, sender: &str) -> Vec<AdProblem> {
    let mut problems = Vec::new();
    if via == Via::KakaoAlimtalk {
        problems.push(AdProblem::AlimtalkAd);
    }
    let first = first.trim_start();
    match first.strip_prefix("(광고)") {
        None => problems.push(AdProblem::NoAdLabel),
        Some(rest) => {
            let head: String = rest
                .trim_start()
                .chars()
                .take(sender.chars().count() + 2)
                .collect();
            let sender = sender.trim();
            if sender.is_empty()
                || !(head.contains(sender) || rest.trim_start().starts_with("{{brand_name}}"))
            {
                problems.push(AdProblem::NoSenderName);
            }
        }
    }
    let all = format!("{first}\n{body}");
    let has_phone = all
        .split(|c: char| !(c.is_ascii_digit() || c == '-'))
        .any(|t| t.chars().filter(char::is_ascii_digit).count() >= 8 && t.contains('-'));
    let has_mail = all.split_whitespace().any(|w| {
        w.split_once('@')
            .is_some_and(|(a, b)| !a.is_empty() && b.contains('.'))
    });
    if !(all.contains("{{brand_contact}}") || has_phone || has_mail) {
        problems.push(AdProblem::NoContact);
    }
    let compact: String = all.chars().filter(|c| !c.is_whitespace()).collect();
    if !(all.contains("{{unsubscribe_url}}") || compact.contains("무료수신거부")) {
        problems.push(AdProblem::NoOptOut);
    }
    problems
}
