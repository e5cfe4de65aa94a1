//! `nunchi bench --assignment-agents N --assignment-open M`: a fresh SQLite database with N
//! agents (each capped at enough open conversations) holding M open conversations between
//! them, then times the desk's balanced assignment of new conversations — the decision
//! (who is on duty, under their cap, least loaded) and its atomic write together — and
//! prints the percentiles.

use std::{sync::Arc, time::Instant};

use indicatif::{ProgressBar, ProgressStyle};
use nunchi_app::assignment::AssignmentMode;
use nunchi_core::{
    conversation::{ConversationChannel, MessageDirection, Priority},
    customer::{CustomerName, ProfileFields},
    import::CustomerRecord,
};
use nunchi_store::model::{AgentAvailability, NewConversation, NewMessage};

use super::demo::percentile;

const DECISIONS: usize = 1_000;

fn opening(customer_id: i64, n: usize) -> (NewConversation, NewMessage) {
    (
        NewConversation {
            customer_id,
            channel: ConversationChannel::Chat,
            subject: format!("배송 문의 {n}"),
            priority: Priority::Normal,
            team_id: None,
        },
        NewMessage {
            direction: MessageDirection::Incoming,
            channel: ConversationChannel::Chat,
            author_user_id: None,
            text: format!("주문 {n} 배송이 언제 오나요?"),
            external_id: None,
            subject: None,
            delivery: None,
            at: None,
            client_id: None,
        },
    )
}

pub async fn run(agents: usize, open: usize) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("nunchi-assign-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let outcome = drive(&dir, agents, open).await;
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

async fn drive(dir: &std::path::Path, agents: usize, open: usize) -> anyhow::Result<()> {
    let store =
        nunchi_store::connect(&format!("sqlite:{}", dir.join("nunchi.db").display())).await?;
    let app = Arc::new(nunchi_app::App::offline(
        store.clone(),
        nunchi_app::AppConfig::for_tests(dir.to_path_buf()),
    ));
    nunchi_app::assignment::set_mode(&app, &nunchi_app::Actor::operator(), "balanced").await?;
    // Room for every conversation the run adds, so that caps are checked but never full.
    let cap = (open + DECISIONS).div_ceil(agents.max(1)) as i64 + 1;
    let mut ids = Vec::with_capacity(agents);
    for i in 0..agents {
        let u = store
            .create_user(
                &format!("agent{i}@bench.local"),
                &format!("Agent {i}"),
                "not-a-password-hash",
                "agent",
                "ko",
            )
            .await?;
        store
            .set_availability(&AgentAvailability {
                user_id: u.id,
                away: false,
                max_open: Some(cap),
                working_hours: None,
                time_zone: "Asia/Seoul".into(),
                last_assigned_at: None,
                skills: String::new(),
            })
            .await?;
        ids.push(u.id);
    }
    let record = CustomerRecord {
        external_id: Some("ASSIGN-BENCH".into()),
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
    };
    let customer = store.create_customer(&record, &[], "bench").await?;
    let bar = ProgressBar::new(open as u64).with_style(ProgressStyle::with_template(
        "{msg} {bar:40} {pos}/{len} {per_sec} eta {eta}",
    )?);
    bar.set_message("open conversations");
    for n in 0..open {
        let (c, first) = opening(customer, n);
        let (conversation, _) = store.create_conversation(&c, &first).await?;
        store
            .assign_within_cap(conversation.id, ids[n % ids.len()], None)
            .await?;
        bar.inc(1);
    }
    bar.finish_and_clear();

    let (mut decide, mut whole) = (Vec::with_capacity(DECISIONS), Vec::with_capacity(DECISIONS));
    let mut assigned = 0;
    for n in 0..DECISIONS {
        let (c, first) = opening(customer, open + n);
        let (conversation, _) = store.create_conversation(&c, &first).await?;
        // The decision alone (who, in which order), then the whole assignment with its
        // atomic write and activity line.
        let start = Instant::now();
        let order =
            nunchi_app::assignment::candidates(&app, AssignmentMode::Balanced, &conversation)
                .await?;
        decide.push(start.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(!order.is_empty(), "nobody could take conversation {n}");
        let start = Instant::now();
        let who = nunchi_app::assignment::auto_assign(&app, &conversation).await?;
        whole.push(start.elapsed().as_secs_f64() * 1000.0);
        assigned += usize::from(who.is_some());
    }
    decide.sort_by(f64::total_cmp);
    whole.sort_by(f64::total_cmp);
    println!(
        "{agents} agents, {open} open conversations: {assigned} of {DECISIONS} new ones assigned"
    );
    for (what, ms) in [("decision", &decide), ("decision and its write", &whole)] {
        println!(
            "{what}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            percentile(ms, 0.50),
            percentile(ms, 0.99),
            ms.last().copied().unwrap_or(0.0)
        );
    }
    Ok(())
}
