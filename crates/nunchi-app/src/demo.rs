//! The demo brand written into a store: customers, orders and notes from `nunchi-demo`,
//! the journey map's touchpoints, 90 days of events, the feedback that follows them, and
//! the surveys and closed-loop rules, and the support desk's conversations. `nunchi demo` and `nunchi serve --demo-if-empty`
//! both call `load`.

use std::sync::Arc;

use anyhow::Context;
use nunchi_store::{Store, model::Upserted};

/// What a demo load stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DemoReport {
    pub customers: u64,
    pub order_lines: usize,
    pub notes: usize,
    pub events: usize,
    pub feedback: usize,
    /// Ledger entries written replaying the orders through the loyalty program.
    pub points_entries: usize,
}

/// How a face shows a long load: one stage after another, each with a known length.
pub trait Progress: Send + Sync {
    fn start(&self, what: &str, total: u64);
    fn advance(&self, n: u64);
    fn finish(&self);
}

/// No progress shown.
#[derive(Debug)]
pub struct Quiet;

impl Progress for Quiet {
    fn start(&self, _: &str, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}

const BATCH: u64 = 1000;

/// Loads the demo brand: `customers` customers with their orders and notes, the journey
/// map's touchpoints, 90 days of events, the feedback that follows them, and the surveys
/// and closed-loop rules. Loading again refreshes the customers and keeps the rest.
pub async fn load(
    store: &Arc<dyn Store>,
    customers: u64,
    seed: u64,
    progress: &dyn Progress,
) -> anyhow::Result<DemoReport> {
    progress.start("demo customers", customers);
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
    let mut report = DemoReport {
        customers,
        ..DemoReport::default()
    };
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
        report.order_lines += lines.len();
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
        report.notes += batch_notes.len();
        store.add_notes(&batch_notes).await?;
        progress.advance(batch.len() as u64);
    }
    generator.await?;
    progress.finish();
    (report.events, report.feedback) = load_events(store, seed, &ids, &korean, progress).await?;
    progress.start("demo points", 1);
    report.points_entries = crate::demo_loyalty::load(store, store.clock().now_ms()).await?;
    crate::demo_segments::load(store).await?;
    crate::demo_personas::load(store).await?;
    crate::demo_campaigns::load(store).await?;
    progress.finish();
    Ok(report)
}

async fn load_events(
    store: &Arc<dyn Store>,
    seed: u64,
    ids: &[i64],
    korean: &[bool],
    progress: &dyn Progress,
) -> anyhow::Result<(usize, usize)> {
    use nunchi_demo::journey;
    use nunchi_store::model::{EventRow, NewTouchpoint};

    let write_key = format!("demo-{seed}");
    if store.source_by_key(&write_key).await?.is_some() {
        // Loading the demo again refreshes its customers; its event history is
        // append-only, so it is loaded once per seed rather than doubled.
        tracing::info!(
            seed,
            "the demo's events are already loaded; kept as they are"
        );
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
    progress.start("demo events", events.len() as u64);
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
        progress.advance(chunk.len() as u64);
    }
    for (i, &id) in ids.iter().enumerate() {
        if journey::browsed_anonymously(i as u64) && first_purchase.contains_key(&(i as u32)) {
            let identity =
                nunchi_core::identity::Identity::parse("anonymous_id", &format!("anon-{i:07}"))?;
            store.add_identity(id, &identity, "demo").await?;
        }
    }
    progress.finish();
    let feedback = load_feedback(store, seed, ids, korean, &events, progress).await?;
    load_surveys(store, seed, ids, korean, &events, progress).await?;
    load_conversations(store, seed, ids, korean, &events, progress).await?;
    Ok((rows.len(), feedback))
}

/// The demo brand's surveys (`nunchi_demo::surveys`); the demo's survey answers become
/// their completed responses, and the brand caps surveys per person per 30 days. The
/// closed-loop rules open follow-ups as the server reads the feedback.
async fn load_surveys(
    store: &Arc<dyn Store>,
    seed: u64,
    ids: &[i64],
    korean: &[bool],
    events: &[nunchi_analytics::synth::SynthEvent],
    progress: &dyn Progress,
) -> anyhow::Result<()> {
    use nunchi_demo::surveys::{self, WHY};
    use nunchi_store::model::{NewLoopRule, NewSurvey, NewSurveyResponse};
    if !store.surveys().await?.is_empty() {
        return Ok(());
    }
    let touchpoints = store.touchpoints().await?;
    let stages = store.stages().await?;
    let specs = surveys::surveys();
    let mut created = Vec::with_capacity(specs.len());
    for spec in &specs {
        nunchi_core::survey::validate(&spec.questions)?;
        let survey = NewSurvey {
            name: spec.name.into(),
            status: spec.status,
            audience: spec.audience,
            questions: serde_json::to_string(&spec.questions)?,
            touchpoint_id: spec
                .touchpoint_event
                .and_then(|e| touchpoints.iter().find(|t| t.event == e))
                .map(|t| t.id),
            stage_id: spec
                .stage_key
                .and_then(|k| stages.iter().find(|s| s.key == k))
                .map(|s| s.id),
            team_id: None,
            trigger_event: spec.trigger_event.map(str::to_string),
            trigger_delay_hours: spec.trigger_delay_hours,
            sample_rate: spec.sample_rate,
            min_days: spec.min_days,
            repeat: spec.repeat,
        };
        created.push(
            store
                .create_survey(&crate::surveys::new_key(), &survey)
                .await?,
        );
    }
    store
        .set_setting(
            crate::surveys::GLOBAL_CAP_KEY,
            &surveys::SURVEYS_PER_30_DAYS.to_string(),
        )
        .await?;
    for rule in surveys::loop_rules() {
        store
            .create_loop_rule(&NewLoopRule {
                name: rule.name.into(),
                max_score: rule.max_score,
                min_score: None,
                max_sentiment: rule.max_sentiment,
                topic: rule.topic.map(str::to_string),
                source: None,
                tag: None,
                owner_id: None,
                due_hours: rule.due_hours,
                notify_email: None,
                notify_webhook: false,
                segment_id: None,
            })
            .await?;
    }
    let answers: Vec<_> = nunchi_demo::voc::feedback(seed, events, korean)
        .into_iter()
        .filter(|f| f.source == "survey")
        .collect();
    progress.start("demo survey responses", answers.len() as u64);
    for f in &answers {
        let Some(metric) = f.metric else { continue };
        let Some(survey) = specs
            .iter()
            .zip(&created)
            .find(|(spec, _)| spec.answers(metric))
            .map(|(_, s)| s)
        else {
            continue;
        };
        let mut answer = serde_json::Map::new();
        answer.insert(metric.into(), f.rating.into());
        answer.insert(WHY.into(), f.body.clone().into());
        let response = store
            .start_response(&NewSurveyResponse {
                survey_id: survey.id,
                token: crate::surveys::new_token(),
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
                &serde_json::Value::Object(answer).to_string(),
                None,
                Some(f.ts as i64 * 1000),
            )
            .await?;
        progress.advance(1);
    }
    progress.finish();
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
    progress: &dyn Progress,
) -> anyhow::Result<usize> {
    use nunchi_store::model::NewFeedback;
    let touchpoints = store.touchpoints().await?;
    let items = nunchi_demo::voc::feedback(seed, events, korean);
    progress.start("demo feedback", items.len() as u64);
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
        progress.advance(chunk.len() as u64);
    }
    progress.finish();
    Ok(rows.len())
}

/// The demo's support conversations (`nunchi_demo::support`), each with its lines at their
/// own times; loading again skips those already stored (their first line's id is stable).
async fn load_conversations(
    store: &Arc<dyn Store>,
    seed: u64,
    ids: &[i64],
    korean: &[bool],
    events: &[nunchi_analytics::synth::SynthEvent],
    progress: &dyn Progress,
) -> anyhow::Result<usize> {
    use nunchi_core::conversation::{
        ConversationChannel, ConversationStatus, MessageDirection, Priority,
    };
    use nunchi_store::model::{ConversationState, NewConversation, NewMessage};
    let all = nunchi_demo::support::conversations(seed, events, korean);
    let policy = demo_sla_policy(store).await?;
    demo_macros(store).await?;
    let messenger = demo_messenger(store).await?;
    let hours = crate::sla::hours_of(&policy)?;
    let targets = crate::sla::targets_of(&policy);
    // The demo's "now": deadlines before it that nobody met were missed.
    let until = events.iter().map(|e| e.ts as i64 * 1000).max().unwrap_or(0);
    progress.start("demo conversations", all.len() as u64);
    let mut stored = 0;
    for (k, c) in all.iter().enumerate() {
        progress.advance(1);
        let Some(&customer_id) = ids.get(c.customer as usize) else {
            continue;
        };
        let channel = ConversationChannel::parse(c.channel)?;
        let line = |l: &nunchi_demo::support::DemoLine, external_id: Option<String>| NewMessage {
            direction: if l.incoming {
                MessageDirection::Incoming
            } else {
                MessageDirection::Outgoing
            },
            channel,
            author_user_id: None,
            text: l.text.clone(),
            external_id,
            subject: (channel == ConversationChannel::Email).then(|| c.subject.clone()),
            delivery: (!l.incoming
                && matches!(
                    channel,
                    ConversationChannel::Email | ConversationChannel::Messenger
                ))
            .then(|| "sent".to_string()),
            at: Some(l.ts as i64 * 1000),
            client_id: None,
        };
        let first = line(&c.lines[0], Some(format!("demo-{seed}-conversation-{k}")));
        let (conversation, _) = match store
            .create_conversation(
                &NewConversation {
                    customer_id,
                    channel,
                    subject: c.subject.clone(),
                    priority: Priority::parse(c.priority)?,
                    team_id: None,
                },
                &first,
            )
            .await
        {
            Ok(created) => created,
            Err(nunchi_store::StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        };
        for l in &c.lines[1..] {
            store.add_message(conversation.id, &line(l, None)).await?;
        }
        if channel == ConversationChannel::Messenger {
            // A LINE user id's shape: U and 32 hex digits.
            let user = format!("U{:032x}", (seed << 32) ^ customer_id as u64);
            store
                .link_messenger_thread(conversation.id, messenger.id, &user)
                .await?;
        }
        let status = ConversationStatus::parse(c.status)?;
        if status != ConversationStatus::Open {
            store
                .set_conversation_state(
                    conversation.id,
                    &ConversationState {
                        status,
                        snoozed_until: None,
                        priority: conversation.priority,
                        team_id: None,
                        assignee_id: None,
                        at: c.resolved_at.map(|t| t as i64 * 1000),
                    },
                )
                .await?;
        }
        let labels: Vec<String> = c.labels.iter().map(|l| l.to_string()).collect();
        store.set_labels(conversation.id, &labels).await?;
        let (deadlines, missed) = sla_history(c, &hours, &targets, until);
        store
            .set_sla(conversation.id, Some(policy.id), &deadlines)
            .await?;
        for (metric, due, at) in missed {
            store
                .record_breach(conversation.id, metric.as_str(), due, at)
                .await?;
        }
        stored += 1;
    }
    progress.finish();
    Ok(stored)
}

/// The demo's canned replies for its late-delivery pain point, added once.
async fn demo_macros(store: &Arc<dyn Store>) -> anyhow::Result<()> {
    if !store.macros().await?.is_empty() {
        return Ok(());
    }
    for (shortcut, name, ko, en) in nunchi_demo::support::MACROS {
        store.create_macro(shortcut, name, ko, en).await?;
    }
    Ok(())
}

/// The demo's messenger: a LINE account with no access token, so its conversations read
/// like real ones and a reply says plainly that a real channel must be connected.
async fn demo_messenger(
    store: &Arc<dyn Store>,
) -> anyhow::Result<nunchi_store::model::MessengerChannel> {
    const KEY: &str = "line-demo";
    match store.messenger_channel(KEY).await {
        Ok(c) => return Ok(c),
        Err(nunchi_store::StoreError::NotFound(_)) => {}
        Err(e) => return Err(e.into()),
    }
    Ok(store
        .create_messenger_channel(&nunchi_store::model::NewMessengerChannel {
            key: KEY.into(),
            kind: nunchi_core::conversation::MessengerKind::Line,
            name: "LINE 공식 계정 (데모) / LINE account (demo)".into(),
            secret: crate::secret::random_token(),
            access_token: None,
            api_base: None,
        })
        .await?)
}

/// The demo's SLA policy: the one it finds, or a weekday one it adds.
async fn demo_sla_policy(store: &Arc<dyn Store>) -> anyhow::Result<nunchi_store::model::SlaPolicy> {
    if let Some(p) = store.sla_policies().await?.into_iter().next() {
        return Ok(p);
    }
    Ok(store
        .create_sla_policy(&nunchi_store::model::NewSlaPolicy {
            name: "평일 응대 / Weekday support".into(),
            team_id: None,
            priority: None,
            first_response_minutes: Some(4 * 60),
            next_response_minutes: Some(8 * 60),
            resolution_minutes: Some(3 * 9 * 60),
            business_hours: Some("mon-fri 09:00-18:00".into()),
            time_zone: "Asia/Seoul".into(),
            korean_holidays: true,
            holidays: String::new(),
        })
        .await?)
}

/// A demo conversation's SLA clocks replayed through its lines: the deadlines it is left
/// with, and every deadline it missed (metric, due, when it was seen missed) — those still
/// open before `until` (ms) count as missed at their due time.
fn sla_history(
    c: &nunchi_demo::support::DemoConversation,
    hours: &nunchi_core::business_hours::BusinessHours,
    targets: &nunchi_core::sla::Targets,
    until: i64,
) -> (
    nunchi_core::sla::Deadlines,
    Vec<(nunchi_core::sla::SlaMetric, i64, i64)>,
) {
    use nunchi_core::{
        conversation::ConversationStatus::*,
        sla::{Deadlines, SlaEvent, SlaMetric, apply},
    };
    let ms = |ts: u32| ts as i64 * 1000;
    let mut missed = Vec::new();
    let mut d = Deadlines::default();
    let mut step = |d: Deadlines, event: SlaEvent, at: i64| {
        let (next, m) = apply(d, targets, hours, event);
        missed.extend(m.into_iter().map(|(metric, due)| (metric, due, at)));
        next
    };
    let opened = ms(c.lines[0].ts);
    d = step(d, SlaEvent::Opened { at: opened }, opened);
    let mut replied = false;
    for l in &c.lines[1..] {
        let at = ms(l.ts);
        if l.incoming {
            d = step(
                d,
                SlaEvent::Status {
                    from: Pending,
                    to: Open,
                    at,
                },
                at,
            );
            d = step(
                d,
                SlaEvent::Incoming {
                    at,
                    replied_before: replied,
                },
                at,
            );
        } else {
            d = step(d, SlaEvent::Reply { at }, at);
            d = step(
                d,
                SlaEvent::Status {
                    from: Open,
                    to: Pending,
                    at,
                },
                at,
            );
            replied = true;
        }
    }
    if let Some(done) = c.resolved_at {
        let at = ms(done);
        d = step(
            d,
            SlaEvent::Status {
                from: Open,
                to: Resolved,
                at,
            },
            at,
        );
    }
    for metric in SlaMetric::ALL {
        if let Some(due) = d.due(*metric).filter(|due| *due < until) {
            missed.push((*metric, due, due));
        }
    }
    (d, missed)
}
