//! What a campaign is made of, checked when it is saved rather than when it sends: the
//! trigger (one-off now or at a time; entering or leaving a segment; an event with a
//! delay and an exit condition; a life event, a Korean holiday or a calendar day, each
//! in the customer's own time zone), the templates per language with the personalisation
//! fields they may use, and the channels in fallback order.

use std::collections::BTreeSet;

use jiff::civil::Date;
use nunchi_core::calendar::holidays;
use nunchi_core::contact::{MessageKind, Via, korea};
use nunchi_core::life_event::LifeEventKind;
use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// What starts a send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Trigger {
    /// Once, to the audience, when launched.
    Now,
    /// Once, to the audience, at a moment (RFC 3339).
    At { at: String },
    /// When a customer enters the campaign's segment.
    SegmentEntered,
    /// When a customer leaves the campaign's segment.
    SegmentLeft,
    /// `delay_minutes` after the customer does `event`, unless they did `unless` in
    /// between ("1 day after purchase, unless a review was already written").
    Event {
        event: String,
        #[serde(default)]
        delay_minutes: i64,
        #[serde(default)]
        unless: Option<String>,
    },
    /// `days_before` a yearly life event (a negative number: after), at `hour` local;
    /// a lunar life event (음력 생일) is observed on its lunar date each year.
    LifeEvent {
        kind: String,
        #[serde(default)]
        days_before: i64,
        #[serde(default)]
        lunar: bool,
        #[serde(default = "default_hour")]
        hour: u8,
    },
    /// `days_before` a Korean public holiday, named in Korean or English ("추석").
    Holiday {
        holiday: String,
        #[serde(default)]
        days_before: i64,
        #[serde(default = "default_hour")]
        hour: u8,
    },
    /// A calendar day every year (스승의 날: 5-15), at `hour` local.
    Date {
        month: i8,
        day: i8,
        #[serde(default = "default_hour")]
        hour: u8,
    },
}

fn default_hour() -> u8 {
    10
}

impl Trigger {
    /// One-off triggers send once to the audience; the others run as a programme.
    pub fn is_one_off(&self) -> bool {
        matches!(self, Trigger::Now | Trigger::At { .. })
    }

    /// A moment for `At`.
    pub fn at_ms(&self) -> Option<i64> {
        match self {
            Trigger::At { at } => nunchi_core::time::Millis::parse(at).ok().map(|m| m.0),
            _ => None,
        }
    }

    /// Checks the trigger can fire; `now` rules out a one-off moment already past.
    pub fn check(&self, segment: Option<i64>, now: i64) -> Result<()> {
        let bad = |why: String| Err(Error::invalid("invalid_trigger", format!("trigger: {why}")));
        match self {
            Trigger::Now => {}
            Trigger::At { at } => match nunchi_core::time::Millis::parse(at) {
                Err(_) => return bad(format!("not a moment (RFC 3339): {at:?}")),
                Ok(m) if m.0 <= now => return bad(format!("{at} has already passed")),
                Ok(_) => {}
            },
            Trigger::SegmentEntered | Trigger::SegmentLeft => {
                if segment.is_none() {
                    return bad("a segment trigger needs the campaign's segment".into());
                }
            }
            Trigger::Event {
                event,
                delay_minutes,
                unless,
            } => {
                if event.trim().is_empty() {
                    return bad("name the event that starts it".into());
                }
                if !(0..=365 * 24 * 60).contains(delay_minutes) {
                    return bad("the delay must be between 0 and 365 days".into());
                }
                if unless.as_deref().is_some_and(|u| u.trim() == event.trim()) {
                    return bad(format!(
                        "\"unless {event}\" would stop every send it starts: it can never fire"
                    ));
                }
            }
            Trigger::LifeEvent {
                kind,
                days_before,
                hour,
                ..
            } => {
                LifeEventKind::parse(kind)?;
                check_days(*days_before)?;
                check_hour(*hour)?;
            }
            Trigger::Holiday {
                holiday,
                days_before,
                hour,
            } => {
                check_days(*days_before)?;
                check_hour(*hour)?;
                let year = jiff::Timestamp::from_millisecond(now)
                    .map(|t| t.to_zoned(jiff::tz::TimeZone::UTC).year())
                    .unwrap_or(2026);
                if holiday_dates(holiday, year)?.is_empty()
                    && holiday_dates(holiday, year + 1)?.is_empty()
                {
                    return bad(format!("no Korean public holiday is called {holiday:?}"));
                }
            }
            Trigger::Date { month, day, hour } => {
                check_hour(*hour)?;
                // 29 February fires in leap years only; any other impossible day never.
                if Date::new(2028, *month, *day).is_err() {
                    return bad(format!(
                        "{month}-{day} is not a day of the year: it can never fire"
                    ));
                }
            }
        }
        Ok(())
    }
}

impl Trigger {
    /// The trigger as a sentence in Korean or English.
    pub fn describe(&self, ko: bool) -> String {
        let when = |days: i64| match (days, ko) {
            (0, true) => "당일".to_string(),
            (0, false) => "on the day".to_string(),
            (d, true) if d > 0 => format!("{d}일 전"),
            (d, true) => format!("{}일 후", -d),
            (d, false) if d > 0 => format!("{d} days before"),
            (d, false) => format!("{} days after", -d),
        };
        match (self, ko) {
            (Trigger::Now, true) => "출시 즉시 한 번 발송".into(),
            (Trigger::Now, false) => "Once, when launched".into(),
            (Trigger::At { at }, true) => format!("{at}에 한 번 발송"),
            (Trigger::At { at }, false) => format!("Once, at {at}"),
            (Trigger::SegmentEntered, true) => "세그먼트에 들어올 때".into(),
            (Trigger::SegmentEntered, false) => "When a customer enters the segment".into(),
            (Trigger::SegmentLeft, true) => "세그먼트에서 나갈 때".into(),
            (Trigger::SegmentLeft, false) => "When a customer leaves the segment".into(),
            (
                Trigger::Event {
                    event,
                    delay_minutes,
                    unless,
                },
                _,
            ) => {
                let delay = if *delay_minutes % 1440 == 0 && *delay_minutes > 0 {
                    if ko {
                        format!("{}일", delay_minutes / 1440)
                    } else {
                        format!("{} day(s)", delay_minutes / 1440)
                    }
                } else if ko {
                    format!("{delay_minutes}분")
                } else {
                    format!("{delay_minutes} minutes")
                };
                match (unless, ko) {
                    (Some(u), true) => format!("{event} 후 {delay}, 그 사이 {u}가 없으면"),
                    (None, true) => format!("{event} 후 {delay}"),
                    (Some(u), false) => format!("{delay} after {event}, unless {u} happened"),
                    (None, false) => format!("{delay} after {event}"),
                }
            }
            (
                Trigger::LifeEvent {
                    kind,
                    days_before,
                    lunar,
                    hour,
                },
                _,
            ) => {
                let cal = match (*lunar, ko) {
                    (true, true) => " (음력)",
                    (true, false) => " (lunar)",
                    _ => "",
                };
                if ko {
                    format!("{kind}{cal} {} {hour}시", when(*days_before))
                } else {
                    format!("{} {kind}{cal}, {hour}:00", when(*days_before))
                }
            }
            (
                Trigger::Holiday {
                    holiday,
                    days_before,
                    hour,
                },
                _,
            ) => {
                if ko {
                    format!("{holiday} {} {hour}시", when(*days_before))
                } else {
                    format!("{} {holiday}, {hour}:00", when(*days_before))
                }
            }
            (Trigger::Date { month, day, hour }, true) => {
                format!("매년 {month}월 {day}일 {hour}시")
            }
            (Trigger::Date { month, day, hour }, false) => {
                format!("Every year on {month}-{day}, {hour}:00")
            }
        }
    }
}

fn check_days(days: i64) -> Result<()> {
    if (-365..=365).contains(&days) {
        Ok(())
    } else {
        Err(Error::invalid(
            "invalid_trigger",
            "trigger: days before must be within a year either way",
        ))
    }
}

fn check_hour(hour: u8) -> Result<()> {
    if hour < 24 {
        Ok(())
    } else {
        Err(Error::invalid(
            "invalid_trigger",
            "trigger: the hour must be 0–23",
        ))
    }
}

/// The dates in `year` of a Korean holiday named in either language (the first day of a
/// three-day holiday counts by its own name: "설날 전날").
pub fn holiday_dates(name: &str, year: i16) -> Result<Vec<Date>> {
    let wanted = name.trim();
    Ok(holidays::korean(year)?
        .into_iter()
        .filter(|h| {
            h.name_ko.split("; ").any(|n| n == wanted) || h.name_en.split("; ").any(|n| n == wanted)
        })
        .map(|h| h.date)
        .collect())
}

/// A message in one language.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Template {
    /// The e-mail subject; for other channels the message's first line.
    #[serde(default)]
    pub subject: String,
    pub body: String,
}

/// The message per language; the customer's language picks one, the other stands in.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Templates {
    #[serde(default)]
    pub ko: Option<Template>,
    #[serde(default)]
    pub en: Option<Template>,
}

impl Templates {
    /// The template for a language, the other one when it has none.
    pub fn pick(&self, lang: &str) -> Option<(&'static str, &Template)> {
        let (ko, en) = (self.ko.as_ref(), self.en.as_ref());
        if lang == "en" {
            en.map(|t| ("en", t)).or(ko.map(|t| ("ko", t)))
        } else {
            ko.map(|t| ("ko", t)).or(en.map(|t| ("en", t)))
        }
    }

    fn each(&self) -> impl Iterator<Item = (&'static str, &Template)> {
        [("ko", self.ko.as_ref()), ("en", self.en.as_ref())]
            .into_iter()
            .filter_map(|(l, t)| t.map(|t| (l, t)))
    }
}

/// The personalisation fields a template may use, besides `attr.KEY` for any attribute.
pub const FIELDS: [&str; 9] = [
    "name",
    "points",
    "last_order",
    "recommendations",
    "unsubscribe_url",
    "brand_name",
    "brand_contact",
    "tier",
    "email",
];

/// The fields a text names, in order of first use: `{{ name }}` → `name`.
pub fn fields_in(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let field = after[..end].trim().to_string();
        if !out.contains(&field) {
            out.push(field);
        }
        rest = &after[end + 2..];
    }
    out
}

/// Fills a text's fields; `value` answers each (an unknown one is left empty, though
/// saving refuses templates that name one).
pub fn render(text: &str, value: &dyn Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        out.push_str(&value(after[..end].trim()));
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Everything a saved campaign must satisfy, with the part at fault named.
pub struct Checked {
    pub trigger: Trigger,
    pub templates: Templates,
    pub channels: Vec<Via>,
    pub kind: MessageKind,
}

/// Checks a campaign's parts: a known kind (transactional messages are not campaigns),
/// channels, a trigger that can fire, at least one template, only known fields
/// (`attributes`: the attribute keys customers have), and for advertising the Korean
/// labelling rules on every template and channel.
#[allow(clippy::too_many_arguments)]
pub fn check(
    message_kind: &str,
    trigger: Trigger,
    segment: Option<i64>,
    channels: &str,
    templates: Templates,
    attributes: &BTreeSet<String>,
    brand_name: &str,
    now: i64,
) -> Result<Checked> {
    let kind = MessageKind::parse(message_kind)?;
    if kind == MessageKind::Transactional {
        return Err(Error::invalid(
            "invalid_message_kind",
            "message_kind: transactional messages are sent by nunchi itself, not as campaigns",
        ));
    }
    let channels: Vec<Via> = channels
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(Via::parse)
        .collect::<std::result::Result<_, _>>()?;
    if channels.is_empty() {
        return Err(Error::invalid(
            "invalid_channels",
            "channels: choose at least one",
        ));
    }
    trigger.check(segment, now)?;
    if trigger.is_one_off() && segment.is_none() {
        return Err(Error::invalid(
            "invalid_segment",
            "segment_id: a one-off send needs a segment as its audience",
        ));
    }
    if templates.ko.is_none() && templates.en.is_none() {
        return Err(Error::invalid(
            "invalid_template",
            "templates: write the message in Korean or English",
        ));
    }
    for (lang, t) in templates.each() {
        if t.body.trim().is_empty() {
            return Err(Error::invalid(
                "invalid_template",
                format!("templates.{lang}.body: the message is empty"),
            ));
        }
        for field in fields_in(&t.subject).into_iter().chain(fields_in(&t.body)) {
            let known = FIELDS.contains(&field.as_str())
                || field
                    .strip_prefix("attr.")
                    .is_some_and(|k| attributes.contains(k));
            if !known {
                return Err(Error::invalid(
                    "invalid_template",
                    format!(
                        "templates.{lang}: unknown field {{{{{field}}}}}; use {} or attr.KEY for a customer attribute",
                        FIELDS.join(", ")
                    ),
                ));
            }
        }
        if kind == MessageKind::Marketing {
            for &via in &channels {
                let first = if t.subject.trim().is_empty() {
                    t.body.lines().next().unwrap_or("")
                } else {
                    &t.subject
                };
                let problems = korea::check_ad(via, first, &t.body, brand_name);
                if let Some(p) = problems.first() {
                    return Err(Error::invalid(
                        "invalid_ad",
                        format!("templates.{lang}: {} ({})", p.explain(lang), via.as_str()),
                    ));
                }
            }
        }
    }
    Ok(Checked {
        trigger,
        templates,
        channels,
        kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_found_and_filled() {
        let text = "{{name}}님, {{ points }}점이 있어요. {{name}}";
        assert_eq!(fields_in(text), vec!["name", "points"]);
        let filled = render(text, &|f| match f {
            "name" => "지현".into(),
            "points" => "1,200".into(),
            _ => String::new(),
        });
        assert_eq!(filled, "지현님, 1,200점이 있어요. 지현");
        assert_eq!(render("{{broken", &|_| "x".into()), "{{broken");
    }

    #[test]
    fn holidays_are_found_by_either_name() {
        let chuseok = holiday_dates("추석", 2026).unwrap();
        assert_eq!(chuseok, vec![Date::new(2026, 9, 25).unwrap()]);
        assert_eq!(holiday_dates("Chuseok", 2026).unwrap(), chuseok);
        assert!(holiday_dates("추석절", 2026).unwrap().is_empty());
    }
}
