//! `nunchi bench --contact-customers N`: the contact budget's eligibility on N synthetic
//! customers (consents per channel, night-time consent for some, 0–6 messages in the last
//! month, Seoul, UTC and New York clocks) for one advertising campaign with a channel
//! fallback — on one core and on all — and then, with `--contact-store M`, the whole
//! one-off launch path on a fresh SQLite database of M such customers: reading their
//! facts and histories, deciding under their locks and writing every delivery row.

use std::{sync::Arc, time::Instant};

use nunchi_core::consent::{Consent, ContactChannel, Purpose};
use nunchi_core::contact::{self, Candidate, Decision, MessageKind, Policy, Recipient, Sent, Via};
use nunchi_core::time::Millis;
use rand::{Rng, SeedableRng, rngs::StdRng};

const ZONES: [&str; 3] = ["Asia/Seoul", "UTC", "America/New_York"];
const CHANNELS: [ContactChannel; 3] = [
    ContactChannel::Kakao,
    ContactChannel::Sms,
    ContactChannel::Email,
];
const VIAS: [Via; 3] = [Via::KakaoBrand, Via::Sms, Via::Email];

struct Person {
    zone: usize,
    korean: bool,
    consents: Vec<Consent>,
    history: Vec<Sent>,
}

fn people(n: usize, now: i64) -> Vec<Person> {
    let mut rng = StdRng::seed_from_u64(16);
    (0..n)
        .map(|_| {
            let zone = if rng.gen_bool(0.8) {
                0
            } else {
                rng.gen_range(1..3)
            };
            let mut consents = Vec::new();
            for channel in CHANNELS {
                if rng.gen_bool(0.55) {
                    let at = Millis(now - rng.gen_range(1..700) * 86_400_000);
                    consents.push(Consent {
                        channel,
                        purpose: Purpose::Marketing,
                        granted: true,
                        at,
                        source: "bench".into(),
                    });
                    if rng.gen_bool(0.15) {
                        consents.push(Consent {
                            channel,
                            purpose: Purpose::NightAds,
                            granted: true,
                            at,
                            source: "bench".into(),
                        });
                    }
                }
            }
            let history = (0..rng.gen_range(0..7))
                .map(|_| Sent {
                    at: Millis(now - rng.gen_range(0..30 * 86_400_000)),
                    kind: if rng.gen_bool(0.7) {
                        MessageKind::Marketing
                    } else {
                        MessageKind::Service
                    },
                    via: VIAS[rng.gen_range(0..3)],
                    dedup: None,
                })
                .collect();
            Person {
                zone,
                korean: zone == 0,
                consents,
                history,
            }
        })
        .collect()
}

/// Decides every person; (sent, held, suppressed).
fn decide_all(
    people: &[Person],
    zones: &[jiff::tz::TimeZone],
    policy: &Policy,
    now: i64,
) -> (usize, usize, usize) {
    let (mut sent, mut held, mut suppressed) = (0, 0, 0);
    for p in people {
        let r = Recipient {
            tz: &zones[p.zone],
            korean: p.korean,
            consents: &p.consents,
            history: &p.history,
        };
        let mut outcome = 2;
        for via in VIAS {
            let c = Candidate {
                kind: MessageKind::Marketing,
                via,
                dedup: Some("bench".into()),
                priority: 0,
            };
            match contact::decide(policy, &r, &c, Millis(now)) {
                Decision::Send => outcome = 0,
                Decision::Hold { .. } => outcome = 1,
                Decision::Suppress(_) => continue,
            }
            break;
        }
        match outcome {
            0 => sent += 1,
            1 => held += 1,
            _ => suppressed += 1,
        }
    }
    (sent, held, suppressed)
}

pub async fn run(customers: usize, store_customers: Option<usize>) -> anyhow::Result<()> {
    let now = nunchi_core::clock::system_now_ms();
    let zones: Vec<jiff::tz::TimeZone> = ZONES
        .iter()
        .map(|z| jiff::tz::TimeZone::get(z))
        .collect::<Result<_, _>>()?;
    let policy = Policy {
        min_gap_ms: 4 * 3_600_000,
        ..Policy::default()
    };
    let crowd = people(customers, now);
    let started = Instant::now();
    let (sent, held, suppressed) = decide_all(&crowd, &zones, &policy, now);
    let one = started.elapsed().as_secs_f64();
    println!(
        "eligibility, one core: {customers} customers in {one:.2}s = {:.0} recipients/s ({sent} send, {held} held, {suppressed} suppressed)",
        customers as f64 / one
    );
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let started = Instant::now();
    let chunk = customers.div_ceil(threads).max(1);
    let totals: Vec<(usize, usize, usize)> = std::thread::scope(|s| {
        let handles: Vec<_> = crowd
            .chunks(chunk)
            .map(|part| {
                let (zones, policy) = (&zones, &policy);
                s.spawn(move || decide_all(part, zones, policy, now))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    let all = started.elapsed().as_secs_f64();
    let agreed = totals
        .iter()
        .fold((0, 0, 0), |a, t| (a.0 + t.0, a.1 + t.1, a.2 + t.2));
    anyhow::ensure!(
        agreed == (sent, held, suppressed),
        "threads decided differently"
    );
    println!(
        "eligibility, {threads} cores: {:.2}s = {:.0} recipients/s",
        all,
        customers as f64 / all
    );
    if let Some(m) = store_customers {
        launch_path(m).await?;
    }
    Ok(())
}

/// A one-off launch to every customer of a fresh SQLite database.
async fn launch_path(customers: usize) -> anyhow::Result<()> {
    use nunchi_core::customer::{CustomerName, ProfileFields};
    use nunchi_core::import::CustomerRecord;
    let dir = std::env::temp_dir().join(format!("nunchi-contact-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let outcome = async {
        let store: Arc<dyn nunchi_store::Store> =
            nunchi_store::connect(&format!("sqlite:{}", dir.join("c.db").display())).await?;
        let mut rng = StdRng::seed_from_u64(7);
        let records: Vec<CustomerRecord> = (0..customers)
            .map(|i| CustomerRecord {
                external_id: Some(format!("CB-{i:07}")),
                profile: ProfileFields {
                    name: CustomerName::parse(&format!("고객 {i}")).ok(),
                    ..Default::default()
                },
                consents: CHANNELS
                    .into_iter()
                    .filter(|_| rng.gen_bool(0.55))
                    .map(|c| (c, Purpose::Marketing))
                    .collect(),
                ..Default::default()
            })
            .collect();
        for chunk in records.chunks(5_000) {
            store.upsert_customers(chunk, "bench").await?;
        }
        let app = nunchi_app::App::offline(
            store.clone(),
            nunchi_app::AppConfig::for_tests(dir.clone()),
        );
        let id = store
            .create_campaign(
                &nunchi_store::model::NewCampaign {
                    name: "bench".into(),
                    kind: "one_off".into(),
                    message_kind: "marketing".into(),
                    trigger_spec: r#"{"type":"now"}"#.into(),
                    channels: "kakao_brand,sms,email".into(),
                    templates: r#"{"ko":{"subject":"(광고) 하늘결","body":"무료수신거부 {{unsubscribe_url}} {{brand_contact}}"}}"#.into(),
                    holdout_pct: 10,
                    goal_days: 7,
                    ..Default::default()
                },
                "bench",
            )
            .await?;
        let campaign = store.campaign(id).await?;
        let started = Instant::now();
        let written = nunchi_app::campaign_run::send_one_off(&app, &campaign, app.now())
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let took = started.elapsed().as_secs_f64();
        println!(
            "one-off launch on SQLite: {customers} customers read, decided under their locks and written in {took:.2}s = {:.0} recipients/s ({written} delivery rows)",
            customers as f64 / took
        );
        anyhow::Ok(())
    }
    .await;
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}
