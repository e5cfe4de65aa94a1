//! `nunchi demo` and `nunchi bench`: load the deterministic demo brand with a progress bar,
//! and measure search latency over it.

use std::{sync::Arc, time::Instant};

use anyhow::Context;
use nunchi_store::{Store, model::Upserted};

use super::progress;

const BATCH: u64 = 1000;

pub async fn load(store: &Arc<dyn Store>, customers: u64, seed: u64) -> anyhow::Result<()> {
    let bar = progress(customers, "demo customers");
    let started = Instant::now();
    // Generation runs on a blocking thread, one batch ahead of the writes.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<nunchi_demo::DemoCustomer>>(2);
    let generator = tokio::task::spawn_blocking(move || {
        let mut start = 0;
        while start < customers {
            let end = (start + BATCH).min(customers);
            if tx
                .blocking_send(
                    (start..end)
                        .map(|i| nunchi_demo::customer(seed, i))
                        .collect(),
                )
                .is_err()
            {
                break;
            }
            start = end;
        }
    });
    let (mut orders, mut notes) = (0usize, 0usize);
    let mut ids = Vec::with_capacity(customers as usize);
    let mut korean = Vec::with_capacity(customers as usize);
    while let Some(batch) = rx.recv().await {
        let records: Vec<_> = batch.iter().map(|c| c.record.clone()).collect();
        let results = store.upsert_customers(&records, "demo").await?;
        let lines: Vec<_> = batch
            .iter()
            .flat_map(|c| c.orders.iter().cloned())
            .collect();
        for r in store.upsert_order_lines(&lines).await? {
            r.context("a demo order was rejected")?;
        }
        orders += lines.len();
        let mut batch_notes = Vec::new();
        for (c, r) in batch.iter().zip(results) {
            let id = match r.context("a demo customer was rejected")? {
                Upserted::Created(id) | Upserted::Updated(id) => id,
            };
            ids.push(id);
            korean.push(
                c.record
                    .profile
                    .language
                    .as_ref()
                    .is_none_or(|l| l.as_str() == "ko"),
            );
            batch_notes.extend(
                c.notes
                    .iter()
                    .map(|(author, body)| (id, author.clone(), body.clone())),
            );
        }
        notes += batch_notes.len();
        store.add_notes(&batch_notes).await?;
        bar.inc(batch.len() as u64);
    }
    generator.await?;
    bar.finish_and_clear();
    let (events, feedback) = load_events(store, seed, &ids, &korean).await?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "demo brand {} loaded: {customers} customers, {orders} order lines, {notes} notes, {events} events, {feedback} pieces of feedback in {secs:.1}s ({:.0} customers/s)",
        nunchi_demo::BRAND_KO,
        customers as f64 / secs
    );
    Ok(())
}

/// The demo's journey map and 90 days of touchpoint events; `ids[i]` is demo customer
/// i's id. Customers who browsed anonymously get their pre-purchase events under an
/// anonymous id, an identify call, and the anonymous id as an identity. Then the feedback
/// that follows those journeys. Returns (events, feedback) stored.
async fn load_events(
    store: &Arc<dyn Store>,
    seed: u64,
    ids: &[i64],
    korean: &[bool],
) -> anyhow::Result<(usize, usize)> {
    use nunchi_demo::journey;
    use nunchi_store::model::{EventRow, NewTouchpoint};

    let write_key = format!("demo-{seed}");
    if store.source_by_key(&write_key).await?.is_some() {
        // Loading the demo again refreshes its customers; its event history is
        // append-only, so it is loaded once per seed rather than doubled.
        println!("demo events for seed {seed} are already loaded; kept as they are");
        return Ok((0, 0));
    }
    let stages = store.stages().await?;
    for t in &journey::TOUCHPOINTS {
        store
            .create_touchpoint(&NewTouchpoint {
                name: t.name.into(),
                channel: t.channel.into(),
                event: t.event.into(),
                conditions: t.conditions.into(),
                stage_id: stages.iter().find(|s| s.key == t.stage).map(|s| s.id),
                expected_rating: Some(t.expected_rating),
            })
            .await?;
    }
    let source = store
        .create_source("하늘결 웹·앱 (demo)", &write_key, "(demo)", None)
        .await?;
    let events = tokio::task::spawn_blocking({
        let n = ids.len() as u64;
        move || journey::events(seed, n)
    })
    .await?;
    let bar = progress(events.len() as u64, "demo events");
    let mut rows = Vec::with_capacity(events.len());
    let mut first_purchase: std::collections::HashMap<u32, u32> = std::collections::HashMap::new();
    for e in &events {
        if e.name() == "purchase" {
            first_purchase.entry(e.customer).or_insert(e.ts);
        }
    }
    for (n, e) in events.iter().enumerate() {
        let i = e.customer as u64;
        let anonymous = journey::browsed_anonymously(i)
            && first_purchase.get(&e.customer).is_none_or(|&p| e.ts < p);
        let anon_id = journey::browsed_anonymously(i).then(|| format!("anon-{i:07}"));
        let row = |name: &str, kind: &str, customer: Option<i64>, message_id: String| EventRow {
            id: 0,
            source_id: source.id,
            message_id,
            kind: kind.into(),
            name: name.into(),
            customer_id: customer,
            user_id: customer.map(|_| format!("HG-{:07}", i + 1)),
            anonymous_id: anon_id.clone(),
            channel: e.channel.as_str().into(),
            ts: e.ts as i64 * 1000,
            received_at: e.ts as i64 * 1000,
            properties: "{}".into(),
            context: "{}".into(),
        };
        if anon_id.is_some()
            && first_purchase.get(&e.customer) == Some(&e.ts)
            && e.name() == "purchase"
        {
            rows.push(row(
                "identify",
                "identify",
                Some(ids[i as usize]),
                format!("demo-{n}-identify"),
            ));
        }
        rows.push(row(
            e.name(),
            "track",
            (!anonymous).then_some(ids[i as usize]),
            format!("demo-{n}"),
        ));
    }
    for chunk in rows.chunks(20_000) {
        store.append_events(chunk).await?;
        bar.inc(chunk.len() as u64);
    }
    for (i, &id) in ids.iter().enumerate() {
        if journey::browsed_anonymously(i as u64) && first_purchase.contains_key(&(i as u32)) {
            let identity =
                nunchi_core::identity::Identity::parse("anonymous_id", &format!("anon-{i:07}"))?;
            store.add_identity(id, &identity, "demo").await?;
        }
    }
    bar.finish_and_clear();
    let feedback = load_feedback(store, seed, ids, korean, &events).await?;
    load_surveys(store, seed, ids, korean, &events).await?;
    Ok((rows.len(), feedback))
}

/// The demo brand's surveys: a post-purchase NPS sent a day after `purchase`, a delivery
/// CSAT with skip logic, and a draft employee pulse; the demo's survey answers become
/// their completed responses, and the brand caps surveys at four per person per 30 days.
/// Two closed-loop rules (detractors, late-delivery complaints) open follow-ups.
async fn load_surveys(
    store: &Arc<dyn Store>,
    seed: u64,
    ids: &[i64],
    korean: &[bool],
    events: &[nunchi_analytics::synth::SynthEvent],
) -> anyhow::Result<()> {
    use nunchi_store::model::{NewSurvey, NewSurveyResponse};
    use serde_json::json;
    if !store.surveys().await?.is_empty() {
        return Ok(());
    }
    let touchpoints = store.touchpoints().await?;
    let stages = store.stages().await?;
    let delivery = stages.iter().find(|s| s.key == "delivery").map(|s| s.id);
    let why = json!({"id": "why", "kind": "text",
        "text": {"ko": "그렇게 답하신 가장 큰 이유는 무엇인가요?", "en": "What is the main reason for your answer?"}});
    let specs = [
        (
            "구매 후 NPS",
            "active",
            "survey",
            json!([{"id": "nps", "kind": "nps", "required": true,
                    "text": {"ko": "저희를 친구나 동료에게 추천하실 가능성은 얼마나 되나요?", "en": "How likely are you to recommend us to a friend or colleague?"}}, why]),
            touchpoints
                .iter()
                .find(|t| t.event == "purchase")
                .map(|t| t.id),
            None,
            Some("purchase"),
        ),
        (
            "배송 만족도",
            "active",
            "survey",
            json!([{"id": "csat", "kind": "csat", "required": true,
                    "text": {"ko": "배송에 얼마나 만족하셨나요?", "en": "How satisfied were you with the delivery?"},
                    "logic": [{"when": {"op": "at_least", "value": 4}, "to": "end"}]},
                   {"id": "issue", "kind": "multi", "text": {"ko": "어떤 점이 아쉬웠나요?", "en": "What went wrong?"},
                    "choices": [{"id": "late", "ko": "늦은 도착", "en": "Late arrival"}, {"id": "damaged", "ko": "파손", "en": "Damaged box"},
                                {"id": "courier", "ko": "기사님 응대", "en": "Courier's manner"}]},
                   why]),
            touchpoints
                .iter()
                .find(|t| t.event == "order_delivered")
                .map(|t| t.id),
            delivery,
            Some("order_delivered"),
        ),
        (
            "직원 펄스 (eNPS)",
            "draft",
            "employee",
            json!([{"id": "enps", "kind": "nps", "required": true,
                    "text": {"ko": "우리 회사를 친구에게 직장으로 추천하시겠어요?", "en": "How likely are you to recommend us as a place to work?"}}, why]),
            None,
            None,
            None,
        ),
    ];
    let mut created = Vec::new();
    for (name, status, audience, questions, touchpoint_id, stage_id, trigger) in specs {
        let parsed: Vec<nunchi_core::survey::Question> = serde_json::from_value(questions.clone())?;
        nunchi_core::survey::validate(&parsed).map_err(|e| anyhow::anyhow!("{e}"))?;
        created.push(
            store
                .create_survey(
                    &nunchi_app::surveys::new_key(),
                    &NewSurvey {
                        name: name.into(),
                        status: status.into(),
                        audience: audience.into(),
                        questions: questions.to_string(),
                        touchpoint_id,
                        stage_id,
                        team_id: None,
                        trigger_event: trigger.map(str::to_string),
                        trigger_delay_hours: 24,
                        sample_rate: 0.5,
                        min_days: 30,
                        repeat: "until_answered".into(),
                    },
                )
                .await?,
        );
    }
    store
        .set_setting(nunchi_app::surveys::GLOBAL_CAP_KEY, "4")
        .await?;
    // Closed-loop rules, so the follow-ups page fills as the server reads the feedback.
    for (name, max_score, topic, due_hours) in [
        ("Detractors (NPS 0–6, CSAT 1–2)", Some(0.6), None, 48),
        ("배송 지연 불만", None, Some("배송 지연"), 24),
    ] {
        store
            .create_loop_rule(&nunchi_store::model::NewLoopRule {
                name: name.into(),
                max_score,
                min_score: None,
                max_sentiment: if topic.is_some() { Some(-0.2) } else { None },
                topic: topic.map(str::to_string),
                source: None,
                tag: None,
                owner_id: None,
                due_hours,
                notify_email: None,
                notify_webhook: false,
            })
            .await?;
    }
    let answers: Vec<_> = nunchi_demo::voc::feedback(seed, events, korean)
        .into_iter()
        .filter(|f| f.source == "survey")
        .collect();
    let bar = progress(answers.len() as u64, "demo survey responses");
    for f in &answers {
        let (survey, answer) = match f.metric {
            Some("nps") => (&created[0], json!({"nps": f.rating, "why": f.body})),
            Some("csat") => (&created[1], json!({"csat": f.rating, "why": f.body})),
            _ => continue,
        };
        let response = store
            .start_response(&NewSurveyResponse {
                survey_id: survey.id,
                token: nunchi_app::surveys::new_token(),
                customer_id: ids.get(f.customer as usize).copied(),
                anonymous_id: None,
                channel: "email".into(),
                lang: if korean.get(f.customer as usize).copied().unwrap_or(true) {
                    "ko"
                } else {
                    "en"
                }
                .into(),
                next_question: None,
            })
            .await?;
        store
            .save_response(
                response.id,
                &answer.to_string(),
                None,
                Some(f.ts as i64 * 1000),
            )
            .await?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(())
}

/// The demo's survey answers, reviews, support ratings and social posts, tied to the
/// customer, touchpoint and stage they are about. The server annotates their text.
async fn load_feedback(
    store: &Arc<dyn Store>,
    seed: u64,
    ids: &[i64],
    korean: &[bool],
    events: &[nunchi_analytics::synth::SynthEvent],
) -> anyhow::Result<usize> {
    use nunchi_store::model::NewFeedback;
    let touchpoints = store.touchpoints().await?;
    let items = nunchi_demo::voc::feedback(seed, events, korean);
    let bar = progress(items.len() as u64, "demo feedback");
    let mut rows: Vec<NewFeedback> = Vec::with_capacity(items.len());
    for f in &items {
        use nunchi_core::feedback::{Metric, Rating};
        let touchpoint = touchpoints.iter().find(|t| t.event == f.touchpoint_event);
        let rating = match f.rating {
            Some(r) => Some(Rating::new(
                Metric::parse(f.metric.unwrap_or("rating"))?,
                r as f64,
                None,
                None,
            )?),
            None => None,
        };
        rows.push(NewFeedback {
            source: f.source.into(),
            external_id: Some(f.external_id.clone()),
            metric: rating.map(|r| r.metric.as_str().into()),
            rating: rating.map(|r| r.value),
            scale_min: rating.map(|r| r.min),
            scale_max: rating.map(|r| r.max),
            score: rating.map(|r| r.normalised),
            body: f.body.clone(),
            url: None,
            author: None,
            customer_id: ids.get(f.customer as usize).copied(),
            touchpoint_id: touchpoint.map(|t| t.id),
            stage_id: touchpoint.and_then(|t| t.stage_id),
            team_id: None,
            channel: f.channel.into(),
            created_at: f.ts as i64 * 1000,
        });
    }
    for chunk in rows.chunks(1000) {
        store.add_feedback(chunk).await?;
        bar.inc(chunk.len() as u64);
    }
    bar.finish_and_clear();
    Ok(rows.len())
}

/// Writes the demo customers as a customer CSV. With `bad_every = Some(n)`, every nth row
/// is broken in one of several ways (bad e-mail, phone, date, channel, missing keys), so an
/// import has something to report.
pub fn write_csv(
    path: &std::path::Path,
    customers: u64,
    seed: u64,
    bad_every: Option<u64>,
) -> anyhow::Result<()> {
    let mut header: Vec<&str> = nunchi_core::import::CUSTOMER_COLUMNS.to_vec();
    header.extend(["attr_skin_type", "attr_membership_tier"]);
    let mut w = csv::Writer::from_path(path)
        .with_context(|| format!("failed to create {}", path.display()))?;
    w.write_record(&header)?;
    let bar = progress(customers, "writing CSV");
    for i in 0..customers {
        let r = nunchi_demo::customer(seed, i).record;
        let channels = |purpose: nunchi_core::consent::Purpose| {
            r.consents
                .iter()
                .filter(|(_, p)| *p == purpose)
                .map(|(c, _)| c.as_str())
                .collect::<Vec<_>>()
                .join(";")
        };
        let date = |kind: nunchi_core::life_event::LifeEventKind| {
            r.life_events
                .iter()
                .find(|(k, _)| *k == kind)
                .map(|(_, d)| d.to_string())
                .unwrap_or_default()
        };
        let attr = |key: &str| {
            r.attributes
                .iter()
                .find(|(k, _, _)| k == key)
                .map(|(_, _, v)| v.clone())
                .unwrap_or_default()
        };
        let mut row = vec![
            r.external_id.clone().unwrap_or_default(),
            r.profile
                .name
                .as_ref()
                .map(|n| n.as_str().to_string())
                .unwrap_or_default(),
            r.email
                .as_ref()
                .map(|e| e.as_str().to_string())
                .unwrap_or_default(),
            r.phone
                .as_ref()
                .map(|p| p.national_digits())
                .unwrap_or_default(),
            r.profile
                .language
                .as_ref()
                .map(|l| l.as_str().to_string())
                .unwrap_or_default(),
            r.profile
                .time_zone
                .as_ref()
                .map(|t| t.as_str().to_string())
                .unwrap_or_default(),
            r.profile
                .preferred_channel
                .map(|c| c.as_str().to_string())
                .unwrap_or_default(),
            r.tags
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(";"),
            channels(nunchi_core::consent::Purpose::Marketing),
            channels(nunchi_core::consent::Purpose::NightAds),
            date(nunchi_core::life_event::LifeEventKind::Birthday),
            date(nunchi_core::life_event::LifeEventKind::WeddingAnniversary),
            r.created_at.map(|m| m.to_rfc3339()).unwrap_or_default(),
            attr("skin_type"),
            attr("membership_tier"),
        ];
        if bad_every.is_some_and(|n| n > 0 && i % n == n - 1) {
            match (i / bad_every.unwrap_or(1)) % 5 {
                0 => row[2] = format!("{}-at-nowhere", row[1]),
                1 => row[3] = "010-12".into(),
                2 => row[10] = "1990-02-31".into(),
                3 => row[8] = "fax".into(),
                _ => {
                    row[0].clear();
                    row[2].clear();
                    row[3].clear();
                }
            }
        }
        w.write_record(&row)?;
        if i % 10_000 == 0 {
            bar.set_position(i);
        }
    }
    w.flush()?;
    bar.finish_and_clear();
    println!("wrote {customers} demo customers to {}", path.display());
    Ok(())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Times `queries` searches of the kinds agents type: a Korean name prefix ("김민"), a full
/// name, an e-mail prefix, the last digits of a phone number, an external id.
pub async fn bench_search(store: &Arc<dyn Store>, queries: usize) -> anyhow::Result<()> {
    let total = store.stats().await?.customers.max(1) as u64;
    let mut latencies: Vec<f64> = Vec::with_capacity(queries);
    let mut hits = 0usize;
    for q in 0..queries {
        let c = nunchi_demo::customer(nunchi_demo::DEFAULT_SEED, (q as u64 * 7_919) % total);
        let name = c
            .record
            .profile
            .name
            .as_ref()
            .map(|n| n.as_str().to_string())
            .unwrap_or_default();
        let text = match q % 5 {
            0 => name.chars().take(2).collect::<String>(),
            1 => name.clone(),
            2 => c
                .record
                .email
                .as_ref()
                .map(|e| e.as_str().chars().take(6).collect())
                .unwrap_or_default(),
            3 => c
                .record
                .phone
                .as_ref()
                .map(|p| p.national_digits()[..7].to_string())
                .unwrap_or_default(),
            _ => c.record.external_id.clone().unwrap_or_default(),
        };
        let query = nunchi_core::search::normalise_query(&text);
        let t = Instant::now();
        let found = store.search_customers(&query, 20).await?;
        latencies.push(t.elapsed().as_secs_f64() * 1e3);
        hits += usize::from(!found.is_empty());
    }
    latencies.sort_by(f64::total_cmp);
    println!(
        "search over {total} customers ({} backend), {queries} queries, limit 20:",
        store.backend()
    );
    println!(
        "  p50 {:.2} ms   p90 {:.2} ms   p99 {:.2} ms   max {:.2} ms   queries with hits: {hits}",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.9),
        percentile(&latencies, 0.99),
        latencies[latencies.len() - 1]
    );
    Ok(())
}
