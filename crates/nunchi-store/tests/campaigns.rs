//! Deliveries decided by the contact budget on both backends: concurrent schedulers that
//! never overrun a cap, one row per firing however often it is asked, failed sends that
//! give their slot back, held-out customers never counted, and night-time ads held to
//! 08:00 in the customer's own zone.

use std::collections::HashMap;
use std::sync::Arc;

use nunchi_core::clock::Clock;
use nunchi_core::consent::{Consent, ContactChannel, Purpose};
use nunchi_core::contact::{Cap, MessageKind, Period, Policy, Via};
use nunchi_core::customer::{CustomerName, ProfileFields};
use nunchi_core::import::CustomerRecord;
use nunchi_core::time::Millis;
use nunchi_store::model::{DeliveryRequest, NewCampaign, RecipientFacts};
use nunchi_store::{Store, each_backend};

async fn person(s: &dyn Store, name: &str) -> i64 {
    let record = CustomerRecord {
        external_id: Some(format!("ext-{name}")),
        profile: ProfileFields {
            name: Some(CustomerName::parse(name).unwrap()),
            ..Default::default()
        },
        ..Default::default()
    };
    s.create_customer(&record, &[], "test").await.unwrap()
}

async fn campaign(s: &dyn Store, name: &str) -> i64 {
    let c = NewCampaign {
        name: name.into(),
        kind: "one_off".into(),
        message_kind: "marketing".into(),
        trigger_spec: "{}".into(),
        channels: "email".into(),
        templates: "{}".into(),
        goal_days: 7,
        ..Default::default()
    };
    s.create_campaign(&c, "tester").await.unwrap()
}

/// Consented to e-mail ads a day before `at` (now when `None`).
fn facts_at(tz: &str, at: Option<i64>) -> RecipientFacts {
    let at = at.unwrap_or_else(|| nunchi_core::clock::SystemClock.now_ms());
    RecipientFacts {
        tz: jiff::tz::TimeZone::get(tz).unwrap(),
        korean: true,
        consents: vec![Consent {
            channel: ContactChannel::Email,
            purpose: Purpose::Marketing,
            granted: true,
            at: Millis(at - 86_400_000),
            source: "test".into(),
        }],
        preferred: None,
    }
}

fn facts(tz: &str) -> RecipientFacts {
    facts_at(tz, None)
}

fn request(campaign: i64, customer: i64, occurrence: &str, due_at: i64) -> DeliveryRequest {
    DeliveryRequest {
        campaign_id: Some(campaign),
        customer_id: customer,
        occurrence: occurrence.into(),
        kind: MessageKind::Marketing,
        channels: vec![Via::Email],
        dedup: None,
        priority: 0,
        variant: "a".into(),
        due_at,
    }
}

/// Two a week at most, and no Korean night rules in the way (UTC customers at noon).
fn policy() -> Policy {
    Policy {
        caps: vec![Cap {
            kind: Some(MessageKind::Marketing),
            channel: None,
            max: 2,
            period: Period::Lifetime,
        }],
        korean_law: false,
        ..Policy::default()
    }
}

each_backend!(concurrent_schedulers_never_overrun_a_cap, |s| {
    let mut customers = Vec::new();
    for i in 0..30 {
        customers.push(person(&*s, &format!("고객{i}")).await);
    }
    let recipients: Arc<HashMap<i64, RecipientFacts>> =
        Arc::new(customers.iter().map(|&c| (c, facts("UTC"))).collect());
    let now = nunchi_core::clock::SystemClock.now_ms();
    let mut tasks = Vec::new();
    for k in 0..6 {
        let id = campaign(&*s, &format!("c{k}")).await;
        let (s, recipients, customers) = (s.clone(), recipients.clone(), customers.clone());
        tasks.push(tokio::spawn(async move {
            let requests: Vec<_> = customers
                .iter()
                .map(|&c| request(id, c, "once", now))
                .collect();
            // Half at once, half one by one: batches and singles interleave.
            let (batch, singles) = requests.split_at(15);
            let mut out = s
                .reserve_deliveries(&policy(), batch, &recipients)
                .await
                .unwrap();
            for r in singles {
                out.extend(
                    s.reserve_deliveries(&policy(), std::slice::from_ref(r), &recipients)
                        .await
                        .unwrap(),
                );
            }
            out
        }));
    }
    let mut queued = 0;
    for t in tasks {
        queued += t
            .await
            .unwrap()
            .iter()
            .filter(|r| r.status == "queued")
            .count();
    }
    assert_eq!(queued, 2 * customers.len(), "two per customer, no more");
    for &c in &customers {
        let rows = s.customer_deliveries(c, 100).await.unwrap();
        assert_eq!(rows.len(), 6);
        assert_eq!(rows.iter().filter(|d| d.status == "queued").count(), 2);
        assert!(
            rows.iter()
                .filter(|d| d.status == "suppressed")
                .all(|d| d.reason.as_deref() == Some("capped"))
        );
    }
});

each_backend!(a_firing_is_one_row_and_failures_give_the_slot_back, |s| {
    let c = person(&*s, "김하나").await;
    let recipients: HashMap<i64, RecipientFacts> = [(c, facts("UTC"))].into();
    let now = nunchi_core::clock::SystemClock.now_ms();
    let (a, b, control) = (
        campaign(&*s, "a").await,
        campaign(&*s, "b").await,
        campaign(&*s, "c").await,
    );
    let first = s
        .reserve_deliveries(&policy(), &[request(a, c, "once", now)], &recipients)
        .await
        .unwrap();
    assert!(first[0].delivery_id.is_some());
    let again = s
        .reserve_deliveries(&policy(), &[request(a, c, "once", now)], &recipients)
        .await
        .unwrap();
    assert_eq!(again[0].delivery_id, None, "the same firing writes nothing");
    // Held out: never sent, never counted.
    let held_out = DeliveryRequest {
        variant: "control".into(),
        ..request(control, c, "once", now)
    };
    let out = s
        .reserve_deliveries(&policy(), &[held_out], &recipients)
        .await
        .unwrap();
    assert_eq!(out[0].status, "held_out");
    let second = s
        .reserve_deliveries(&policy(), &[request(b, c, "once", now)], &recipients)
        .await
        .unwrap();
    assert_eq!(second[0].status, "queued");
    let third = s
        .reserve_deliveries(&policy(), &[request(b, c, "day-2", now)], &recipients)
        .await
        .unwrap();
    assert_eq!(third[0].status, "suppressed");
    // The first send fails for good: its slot comes back.
    s.settle_delivery(
        first[0].delivery_id.unwrap(),
        "failed",
        None,
        Some("bounced"),
    )
    .await
    .unwrap();
    let fourth = s
        .reserve_deliveries(&policy(), &[request(b, c, "day-3", now)], &recipients)
        .await
        .unwrap();
    assert_eq!(fourth[0].status, "queued");
    let counts = s.delivery_counts(b).await.unwrap();
    let count = |status: &str| {
        counts
            .iter()
            .filter(|k| k.status == status)
            .map(|k| k.count)
            .sum::<i64>()
    };
    assert_eq!((count("queued"), count("suppressed")), (2, 1));
    let due = s.due_deliveries(now + 60_000, 100).await.unwrap();
    assert_eq!(due.len(), 2);
    assert!(due.iter().all(|d| d.campaign_id == Some(b)));
    assert_eq!(s.export_customer(c).await.unwrap().deliveries.len(), 5);
});

each_backend!(night_ads_wait_for_eight_in_the_customers_zone, |s| {
    let c = person(&*s, "박서울").await;
    // 22:00 on a future day in Seoul, consented the day before.
    let night = Millis::parse("2030-06-01T22:00:00+09:00").unwrap().0;
    let recipients: HashMap<i64, RecipientFacts> =
        [(c, facts_at("Asia/Seoul", Some(night)))].into();
    let id = campaign(&*s, "night").await;
    let out = s
        .reserve_deliveries(
            &Policy::default(),
            &[request(id, c, "once", night)],
            &recipients,
        )
        .await
        .unwrap();
    assert_eq!(out[0].status, "held");
    assert_eq!(out[0].reason.as_deref(), Some("night_without_consent"));
    let row = s.delivery(out[0].delivery_id.unwrap()).await.unwrap();
    assert_eq!(
        row.due_at,
        Millis::parse("2030-06-02T08:00:00+09:00").unwrap().0
    );
    // No consent facts at all: suppressed, never guessed.
    let stranger = person(&*s, "무명").await;
    let out = s
        .reserve_deliveries(
            &Policy::default(),
            &[request(id, stranger, "once", night)],
            &recipients,
        )
        .await
        .unwrap();
    assert_eq!(out[0].status, "suppressed");
});

each_backend!(the_preferred_channel_goes_first_when_consented, |s| {
    let c = person(&*s, "선호").await;
    let id = campaign(&*s, "prefer").await;
    let now = nunchi_core::clock::SystemClock.now_ms();
    let mut facts = facts("UTC");
    facts.consents.push(Consent {
        channel: ContactChannel::Sms,
        purpose: Purpose::Marketing,
        granted: true,
        at: Millis(now - 86_400_000),
        source: "test".into(),
    });
    facts.preferred = Some(ContactChannel::Sms);
    let both = DeliveryRequest {
        channels: vec![Via::Email, Via::Sms],
        ..request(id, c, "once", now)
    };
    let out = s
        .reserve_deliveries(
            &policy(),
            std::slice::from_ref(&both),
            &[(c, facts.clone())].into(),
        )
        .await
        .unwrap();
    assert_eq!(
        out[0].via.as_deref(),
        Some("sms"),
        "preferred and consented"
    );
    // Preferred but not consented: the campaign's order decides.
    facts.consents.retain(|k| k.channel != ContactChannel::Sms);
    let other = DeliveryRequest {
        occurrence: "again".into(),
        ..both
    };
    let out = s
        .reserve_deliveries(&policy(), &[other], &[(c, facts)].into())
        .await
        .unwrap();
    assert_eq!(out[0].via.as_deref(), Some("email"));
});
