//! Campaigns at work: each round fires the active campaigns' triggers (a one-off moment
//! reached, segment entries and exits, events after a delay, life events, holidays and
//! calendar days in each customer's own zone) as delivery requests the contact budget
//! decides, then sends what is due — e-mail over SMTP with a one-click unsubscribe, every
//! other channel as a signed webhook to the brand's provider. A failed send is retried
//! with backoff and, failing for good, gives its budget slot back.

use std::collections::HashMap;
use std::time::Duration;

use jiff::ToSpan;
use jiff::civil::Date;
use nunchi_core::calendar::lunar;
use nunchi_core::consent::{self, Purpose};
use nunchi_core::contact::{MessageKind, Via};
use nunchi_core::identity::IdentityKind;
use nunchi_store::model::{Campaign, Customer, Delivery, DeliveryRequest};

use crate::campaign_spec::{self, Trigger};
use crate::campaigns::{facts_of, request_for, view_of};
use crate::{App, Error, Result, contact_policy};

/// Deliveries sent per round.
const SEND_BATCH: i64 = 200;
/// Attempts before a delivery is failed for good.
const SEND_ATTEMPTS: i64 = 5;
/// Requests reserved per transaction.
const RESERVE_CHUNK: usize = 500;
/// How often a calendar trigger looks for customers whose day it is.
const DAILY_CHECK_MS: i64 = 10 * 60_000;
/// Events older than this when first seen are not acted on (a campaign launched today
/// does not message last year's buyers).
const EVENT_HORIZON_MS: i64 = 86_400_000;

/// The personalisation values of one customer, loaded only for the fields a message uses.
pub struct Values {
    map: HashMap<String, String>,
}

impl Values {
    pub async fn load(
        app: &App,
        customer: &Customer,
        subject: &str,
        body: &str,
        brand: &contact_policy::Loaded,
        unsubscribe_url: Option<String>,
    ) -> Result<Values> {
        let lang = customer.row.language.as_deref().unwrap_or("ko");
        let mut map = HashMap::new();
        let fields: Vec<String> = campaign_spec::fields_in(subject)
            .into_iter()
            .chain(campaign_spec::fields_in(body))
            .collect();
        let id = customer.row.id;
        for field in fields {
            let value = match field.as_str() {
                "name" => customer
                    .row
                    .name
                    .clone()
                    .unwrap_or_else(|| if lang == "en" { "there" } else { "고객" }.into()),
                "email" => customer
                    .identity(IdentityKind::Email)
                    .unwrap_or_default()
                    .to_string(),
                "points" => {
                    let points = app.store.loyalty_points(id).await?;
                    points.balance(app.now()).to_string()
                }
                "tier" => app.store.loyalty_points(id).await?.tier.unwrap_or_default(),
                "last_order" => app
                    .store
                    .orders_of(id)
                    .await?
                    .iter()
                    .max_by_key(|o| o.row.id)
                    .and_then(|o| o.items.first())
                    .map(|i| i.product.clone())
                    .unwrap_or_default(),
                "recommendations" => crate::customer_models::snapshot(app)
                    .await?
                    .recommend(id, 3)
                    .products
                    .join(", "),
                "unsubscribe_url" => unsubscribe_url.clone().unwrap_or_default(),
                "brand_name" => brand.brand_name.clone(),
                "brand_contact" => brand.brand_contact.clone(),
                other => other
                    .strip_prefix("attr.")
                    .and_then(|k| customer.attributes.iter().find(|a| a.key == k))
                    .map(|a| a.value.clone())
                    .unwrap_or_default(),
            };
            map.insert(field, value);
        }
        Ok(Values { map })
    }

    pub fn get(&self, field: &str) -> String {
        self.map.get(field).cloned().unwrap_or_default()
    }
}

/// The key unsubscribe links are signed with, made on first use.
async fn link_secret(app: &App) -> Result<String> {
    const KEY: &str = "unsubscribe_secret";
    if let Some(s) = app.store.setting(KEY).await? {
        return Ok(s);
    }
    let secret = crate::secret::random_token();
    app.store.set_setting(KEY, &secret).await?;
    Ok(secret)
}

fn link_token(secret: &str, delivery_id: i64) -> String {
    crate::secret::hash(&format!("{secret}:unsubscribe:{delivery_id}"))[..32].to_string()
}

/// The one-click unsubscribe URL of a delivery, signed with the round's `secret`.
fn unsubscribe_url(app: &App, secret: &str, delivery_id: i64) -> String {
    format!(
        "{}/unsubscribe/{delivery_id}/{}",
        app.config.public_url.trim_end_matches('/'),
        link_token(secret, delivery_id)
    )
}

/// What a sending round reads once: the sender's identity, the link key, and each
/// campaign met with its parsed parts.
struct Sending {
    brand: contact_policy::Loaded,
    secret: String,
    campaigns: HashMap<i64, crate::campaigns::CampaignView>,
}

/// The delivery an unsubscribe link names, when its token is right.
pub async fn unsubscribe_link(app: &App, delivery_id: i64, token: &str) -> Result<Delivery> {
    let expected = link_token(&link_secret(app).await?, delivery_id);
    if !crate::secret::constant_time_eq(&expected, token) {
        return Err(Error::NotFound("unsubscribe link".into()));
    }
    Ok(app.store.delivery(delivery_id).await?)
}

/// What an unsubscribe withdrew.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Unsubscribed {
    pub channel: String,
    pub customer_id: i64,
}

/// Withdraws advertising consent (and night-time consent) on the channel a delivery went
/// through; the next send checks consent again, so it takes effect before it.
pub async fn unsubscribe(app: &App, delivery_id: i64, token: &str) -> Result<Unsubscribed> {
    let d = unsubscribe_link(app, delivery_id, token).await?;
    let via = d
        .via
        .as_deref()
        .and_then(|v| Via::parse(v).ok())
        .unwrap_or(Via::Email);
    let channel = via.consent_channel();
    for purpose in [Purpose::Marketing, Purpose::NightAds] {
        app.store
            .record_consent(
                d.customer_id,
                &consent::Consent {
                    channel,
                    purpose,
                    granted: false,
                    at: nunchi_core::time::Millis(app.now()),
                    source: "unsubscribe".into(),
                },
            )
            .await?;
    }
    app.touched([d.customer_id]);
    app.audit_system(
        "customer",
        "consent.unsubscribe",
        &format!("customer:{}", d.customer_id),
        channel.as_str(),
    )
    .await;
    Ok(Unsubscribed {
        channel: channel.as_str().into(),
        customer_id: d.customer_id,
    })
}

/// Reserves every request, in chunks, against the saved policy.
async fn reserve(app: &App, requests: Vec<DeliveryRequest>) -> Result<usize> {
    if requests.is_empty() {
        return Ok(0);
    }
    let policy = contact_policy::load(app).await?.policy;
    let mut written = 0;
    for chunk in requests.chunks(RESERVE_CHUNK) {
        let mut ids: Vec<i64> = chunk.iter().map(|r| r.customer_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let facts = facts_of(app, &ids).await?;
        let out = app.store.reserve_deliveries(&policy, chunk, &facts).await?;
        written += out.iter().filter(|r| r.delivery_id.is_some()).count();
    }
    Ok(written)
}

/// Reserves a one-off campaign's delivery for every audience member, due `at`, and marks
/// the campaign done (its deliveries still go out).
pub async fn send_one_off(app: &App, c: &Campaign, at: i64) -> Result<usize> {
    let ids = crate::campaigns::audience(app, c).await?;
    let requests = ids
        .into_iter()
        .map(|id| request_for(c, id, "once".into(), at))
        .collect();
    let n = reserve(app, requests).await?;
    app.store.set_campaign_status(c.id, "done", false).await?;
    Ok(n)
}

async fn cursor(app: &App, c: &Campaign, name: &str) -> Result<Option<i64>> {
    Ok(app
        .store
        .setting(&format!("campaign:{}:{name}", c.id))
        .await?
        .and_then(|v| v.parse().ok()))
}

async fn set_cursor(app: &App, c: &Campaign, name: &str, value: i64) -> Result<()> {
    app.store
        .set_setting(&format!("campaign:{}:{name}", c.id), &value.to_string())
        .await?;
    Ok(())
}

/// Segment entries or exits since the last round.
async fn fire_segment(app: &App, c: &Campaign, entered: bool) -> Result<()> {
    let Some(segment) = c.segment_id else {
        return Ok(());
    };
    let from = match cursor(app, c, "changes").await? {
        Some(v) => v,
        None => c.launched_at.unwrap_or_else(|| app.now()),
    };
    let changes = app
        .store
        .segment_changes_since(segment, from, 5_000)
        .await?;
    let Some(last) = changes.last().map(|ch| ch.at) else {
        return Ok(());
    };
    let now = app.now();
    let requests = changes
        .iter()
        .filter(|ch| ch.entered == entered)
        .map(|ch| {
            let key = if entered { "entered" } else { "left" };
            request_for(c, ch.customer_id, format!("{key}:{}", ch.at), now)
        })
        .collect();
    reserve(app, requests).await?;
    // Changes at the last moment are seen again next round; their rows exist already.
    set_cursor(app, c, "changes", last).await
}

/// Events after the cursor, each due after the trigger's delay.
async fn fire_event(app: &App, c: &Campaign, event: &str, delay_minutes: i64) -> Result<()> {
    let Some(mut after) = cursor(app, c, "events").await? else {
        // First round: start from the newest event, not from history.
        let last = app.store.last_event_id().await?;
        return set_cursor(app, c, "events", last).await;
    };
    let now = app.now();
    loop {
        let events = app
            .store
            .trigger_events(after, &[event.to_string()], 1_000)
            .await?;
        let Some(last) = events.last().map(|e| e.id) else {
            return Ok(());
        };
        let requests = events
            .iter()
            .filter(|e| e.ts >= now - EVENT_HORIZON_MS)
            .map(|e| {
                let due = e.ts + delay_minutes * 60_000;
                request_for(c, e.customer_id, format!("event:{}:{}", e.id, e.ts), due)
            })
            .collect();
        reserve(app, requests).await?;
        set_cursor(app, c, "events", last).await?;
        after = last;
    }
}

/// The day a calendar trigger fires for a customer whose local date is `today`: the
/// occurrence key, and the local hour it is due.
pub fn fires_today(
    trigger: &Trigger,
    today: Date,
    life_events: &[(String, String)],
) -> Option<(String, u8)> {
    let ahead = |days: i64| today.checked_add(days.days()).ok();
    match trigger {
        Trigger::Date { month, day, hour } => {
            (today.month() == *month && today.day() == *day).then(|| (today.to_string(), *hour))
        }
        Trigger::Holiday {
            holiday,
            days_before,
            hour,
        } => {
            let target = ahead(*days_before)?;
            let dates = campaign_spec::holiday_dates(holiday, target.year()).ok()?;
            dates.contains(&target).then(|| (target.to_string(), *hour))
        }
        Trigger::LifeEvent {
            kind,
            days_before,
            lunar: is_lunar,
            hour,
        } => {
            let target = ahead(*days_before)?;
            life_events
                .iter()
                .filter(|(k, _)| k == kind)
                .filter_map(|(_, d)| d.parse::<Date>().ok())
                .any(|d| {
                    if *is_lunar {
                        lunar::to_lunar(target).ok().is_some_and(|l| {
                            lunar::anniversary_in(d.month(), d.day(), l.year).ok() == Some(target)
                        })
                    } else {
                        nunchi_core::life_event::next_occurrence(d, target) == target
                    }
                })
                .then(|| (target.to_string(), *hour))
        }
        _ => None,
    }
}

/// Calendar triggers: every audience member whose local day it is, due at the trigger's
/// hour (now, when that hour has passed), once per day per customer.
async fn fire_calendar(app: &App, c: &Campaign, trigger: &Trigger) -> Result<()> {
    let now = app.now();
    if cursor(app, c, "checked")
        .await?
        .is_some_and(|t| now - t < DAILY_CHECK_MS)
    {
        return Ok(());
    }
    let ids = crate::campaigns::audience(app, c).await?;
    let needs_life_events = matches!(trigger, Trigger::LifeEvent { .. });
    let mut requests = Vec::new();
    for chunk in ids.chunks(1_000) {
        let facts = facts_of(app, chunk).await?;
        let mut life: HashMap<i64, Vec<(String, String)>> = HashMap::new();
        if needs_life_events {
            for (id, kind, date) in app.store.life_events_of(chunk).await? {
                life.entry(id).or_default().push((kind, date));
            }
        }
        for &id in chunk {
            let Some(f) = facts.get(&id) else { continue };
            let here = jiff::Timestamp::from_millisecond(now)
                .map_err(|e| Error::Internal(e.into()))?
                .to_zoned(f.tz.clone());
            let theirs = life.get(&id).map_or(&[][..], Vec::as_slice);
            if let Some((key, hour)) = fires_today(trigger, here.date(), theirs) {
                let due = here
                    .date()
                    .at(hour as i8, 0, 0, 0)
                    .to_zoned(f.tz.clone())
                    .map(|z| z.timestamp().as_millisecond())
                    .unwrap_or(now);
                requests.push(request_for(c, id, key, due));
            }
        }
    }
    reserve(app, requests).await?;
    set_cursor(app, c, "checked", now).await
}

/// Fires every active campaign's trigger once.
pub async fn fire_triggers(app: &App) -> Result<()> {
    let now = app.now();
    for c in app.store.campaigns().await? {
        if c.status != "active" {
            continue;
        }
        let view = view_of(c.clone(), None)?;
        let fired = match &view.trigger {
            Trigger::Now => Ok(()),
            Trigger::At { .. } => match view.trigger.at_ms() {
                Some(at) if at <= now => send_one_off(app, &c, at).await.map(|_| ()),
                _ => Ok(()),
            },
            Trigger::SegmentEntered => fire_segment(app, &c, true).await,
            Trigger::SegmentLeft => fire_segment(app, &c, false).await,
            Trigger::Event {
                event,
                delay_minutes,
                ..
            } => fire_event(app, &c, event, *delay_minutes).await,
            t => fire_calendar(app, &c, t).await,
        };
        if let Err(e) = fired {
            tracing::warn!(campaign = c.id, error = ?e, "campaign trigger failed");
        }
    }
    Ok(())
}

/// Why a due delivery should not go now after all: the customer left, withdrew consent,
/// or did the exit event after the one that triggered it.
async fn still_wanted(
    app: &App,
    view: &crate::campaigns::CampaignView,
    d: &Delivery,
    customer: &Customer,
) -> Result<Option<&'static str>> {
    let c = &view.campaign;
    if customer.row.erased_at.is_some() || customer.row.merged_into.is_some() {
        return Ok(Some("no_customer"));
    }
    let via = d.via.as_deref().and_then(|v| Via::parse(v).ok());
    if c.message_kind == MessageKind::Marketing.as_str()
        && let Some(via) = via
    {
        let consents: Vec<consent::Consent> = customer
            .consents
            .iter()
            .map(crate::campaigns::consent_of)
            .collect();
        let korean = crate::campaigns::is_korean(
            customer.row.language.as_deref(),
            customer.row.time_zone.as_deref(),
            customer.identity(IdentityKind::Phone),
        );
        // Night-time was settled when it was reserved; consent is read again now.
        let now = nunchi_core::time::Millis(app.now());
        if let Some(why) = nunchi_core::contact::ad_consent(&consents, via, now, korean) {
            return Ok(Some(why.code()));
        }
    }
    if let Trigger::Event {
        unless: Some(unless),
        ..
    } = &view.trigger
    {
        let since: i64 = d
            .occurrence
            .rsplit(':')
            .next()
            .and_then(|t| t.parse().ok())
            .unwrap_or(d.created_at);
        let events = app.store.customer_events(customer.row.id, 500).await?;
        if events.iter().any(|e| &e.name == unless && e.ts >= since) {
            return Ok(Some("exit_condition"));
        }
    }
    Ok(None)
}

/// Sends one delivery through its channel.
async fn send_one(
    app: &App,
    round: &Sending,
    view: &crate::campaigns::CampaignView,
    d: &Delivery,
    customer: &Customer,
) -> anyhow::Result<()> {
    let c = &view.campaign;
    let lang = customer.row.language.as_deref().unwrap_or("ko");
    let (_, t) = view
        .templates
        .pick(lang)
        .ok_or_else(|| anyhow::anyhow!("the campaign has no message"))?;
    let ad = c.message_kind == MessageKind::Marketing.as_str();
    let link = ad.then(|| unsubscribe_url(app, &round.secret, d.id));
    let values = Values::load(
        app,
        customer,
        &t.subject,
        &t.body,
        &round.brand,
        link.clone(),
    )
    .await?;
    let subject = campaign_spec::render(&t.subject, &|f| values.get(f));
    let body = campaign_spec::render(&t.body, &|f| values.get(f));
    let via = d
        .via
        .as_deref()
        .map(Via::parse)
        .transpose()?
        .ok_or_else(|| anyhow::anyhow!("no channel"))?;
    if via == Via::Email {
        let to = customer
            .identity(IdentityKind::Email)
            .ok_or_else(|| anyhow::anyhow!("no e-mail address"))?;
        let footer = link
            .as_deref()
            .map(|l| {
                if lang == "en" {
                    format!("Unsubscribe: {l}")
                } else {
                    format!("수신거부: {l}")
                }
            })
            .unwrap_or_default();
        let text = if footer.is_empty() {
            body.clone()
        } else {
            format!("{body}\n\n{footer}")
        };
        let html = crate::reply_mail::html_body(&body, &footer);
        return app
            .mailer
            .send_mail(&crate::mail::OutgoingMail {
                to,
                subject: &subject,
                text: &text,
                html: Some(&html),
                thread: None,
                files: &[],
                unsubscribe: link.as_deref(),
            })
            .await;
    }
    let provider = contact_policy::provider(app, via)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no {} provider is configured", via.as_str()))?;
    let to = match via {
        Via::Sms | Via::Lms | Via::KakaoAlimtalk | Via::KakaoBrand => customer
            .identity(IdentityKind::Phone)
            .ok_or_else(|| anyhow::anyhow!("no phone number"))?
            .to_string(),
        _ => customer
            .identity(IdentityKind::ExternalId)
            .map(str::to_string)
            .unwrap_or_else(|| customer.row.id.to_string()),
    };
    let now = app.now();
    let data = serde_json::json!({
        "delivery_id": d.id,
        "campaign_id": c.id,
        "channel": via.as_str(),
        "to": to,
        "subject": subject,
        "text": body,
        "ad": ad,
        "language": lang,
        "unsubscribe_url": link,
    });
    let body = crate::webhooks::body("message.send", now, data);
    crate::webhooks::post_signed(
        &app.http,
        &provider.url,
        &provider.secret,
        &format!("msg_delivery_{}", d.id),
        body,
        now,
    )
    .await
}

/// Sends what is due. Returns whether a full batch was handled (more may wait).
pub async fn send_due(app: &App) -> Result<bool> {
    let now = app.now();
    let due = app.store.due_deliveries(now, SEND_BATCH).await?;
    let full = due.len() as i64 == SEND_BATCH;
    if due.is_empty() {
        return Ok(false);
    }
    let mut round = Sending {
        brand: contact_policy::load(app).await?,
        secret: link_secret(app).await?,
        campaigns: HashMap::new(),
    };
    for d in due {
        let Some(cid) = d.campaign_id else { continue };
        if let std::collections::hash_map::Entry::Vacant(v) = round.campaigns.entry(cid) {
            v.insert(view_of(app.store.campaign(cid).await?, None)?);
        }
        let view = &round.campaigns[&cid];
        let customer = app.store.customer(d.customer_id).await?;
        if let Some(reason) = still_wanted(app, view, &d, &customer).await? {
            app.store
                .settle_delivery(d.id, "suppressed", Some(reason), None)
                .await?;
            continue;
        }
        match send_one(app, &round, view, &d, &customer).await {
            Ok(()) => app.store.settle_delivery(d.id, "sent", None, None).await?,
            Err(e) if d.attempts + 1 < SEND_ATTEMPTS => {
                let retry = now + crate::jobs::backoff_ms(d.attempts + 1);
                app.store
                    .retry_delivery(d.id, retry, &format!("{e:#}"))
                    .await?
            }
            Err(e) => {
                app.store
                    .settle_delivery(d.id, "failed", None, Some(&format!("{e:#}")))
                    .await?
            }
        }
    }
    Ok(full)
}

/// One round: fire triggers, then send what is due.
pub async fn round(app: &App) -> Result<bool> {
    fire_triggers(app).await?;
    send_due(app).await
}

/// Runs rounds every two seconds, or at once when woken (a launch), until `shutdown`.
pub fn spawn(
    app: std::sync::Arc<App>,
    shutdown: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    let wake = app.campaign_wakeup.clone();
    crate::periodic::spawn(
        "campaigns",
        shutdown,
        wake,
        Duration::from_secs(2),
        move || {
            let app = app.clone();
            async move { round(&app).await.map_err(|e| anyhow::anyhow!("{e:?}")) }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn calendar_triggers_fire_on_their_day() {
        let teachers = Trigger::Date {
            month: 5,
            day: 15,
            hour: 9,
        };
        assert_eq!(
            fires_today(&teachers, d("2027-05-15"), &[]),
            Some(("2027-05-15".into(), 9))
        );
        assert_eq!(fires_today(&teachers, d("2027-05-14"), &[]), None);
        // Three days before 추석 2026 (25 September).
        let chuseok = Trigger::Holiday {
            holiday: "추석".into(),
            days_before: 3,
            hour: 10,
        };
        assert_eq!(
            fires_today(&chuseok, d("2026-09-22"), &[]),
            Some(("2026-09-25".into(), 10))
        );
        // A lunar birthday of 8-15 falls on 추석 each year; 30 days before the anniversary.
        let lunar_birthday = Trigger::LifeEvent {
            kind: "birthday".into(),
            days_before: 0,
            lunar: true,
            hour: 10,
        };
        let events = [("birthday".to_string(), "1990-08-15".to_string())];
        assert!(fires_today(&lunar_birthday, d("2026-09-25"), &events).is_some());
        assert!(fires_today(&lunar_birthday, d("2026-08-15"), &events).is_none());
        let anniversary = Trigger::LifeEvent {
            kind: "wedding_anniversary".into(),
            days_before: 30,
            lunar: false,
            hour: 10,
        };
        let events = [("wedding_anniversary".to_string(), "2015-06-20".to_string())];
        assert_eq!(
            fires_today(&anniversary, d("2027-05-21"), &events),
            Some(("2027-06-20".into(), 10))
        );
    }
}
