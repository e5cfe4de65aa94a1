//! The program's scheduled work, as one job in the jobs table that queues its own next
//! run: expire lots whose time has come (only their remainders), tell customers ahead of
//! time which points will expire, re-check the tiers of customers whose points expired,
//! and once a day sweep every member's tier (windows move with the clock). Balances never
//! wait for it: a lot past its expiry stops counting at once, and the job writes the entry
//! that says so.

use nunchi_core::{identity::IdentityKind, loyalty::Op};
use serde::{Deserialize, Serialize};

use crate::{App, jobs::Job};

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
const PAGE: i64 = 500;
/// The brand day (days since the epoch, in the brand's time zone) of the last tier sweep.
const SWEEP_KEY: &str = "loyalty_tier_sweep_day";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct LoyaltyKeeperJob {}

impl Job for LoyaltyKeeperJob {
    const KIND: &'static str = "loyalty_keeper";

    async fn run(self, app: &App) -> anyhow::Result<String> {
        let done = run_once(app).await?;
        // The next run, unless another node already queued one.
        if !app.store.job_queued(Self::KIND).await? {
            crate::jobs::enqueue_at(app, &LoyaltyKeeperJob {}, app.now() + HOUR_MS).await?;
        }
        Ok(serde_json::to_string(&done)?)
    }
}

/// Queues the keeper when no run is waiting (at start-up).
pub async fn ensure_scheduled(app: &App) -> anyhow::Result<()> {
    if !app.store.job_queued(LoyaltyKeeperJob::KIND).await? {
        crate::jobs::enqueue(app, &LoyaltyKeeperJob {}).await?;
    }
    Ok(())
}

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct KeeperRound {
    pub expired_customers: usize,
    pub expiry_entries: usize,
    pub notices: usize,
    pub tier_changes: usize,
}

/// One round: expiries, notices, tiers. Safe to run at any time and any number of times.
pub async fn run_once(app: &App) -> anyhow::Result<KeeperRound> {
    let program = app.store.loyalty_program().await?;
    let mut round = KeeperRound::default();
    if !program.enabled {
        return Ok(round);
    }
    let now = app.now();
    loop {
        let due = app.store.loyalty_customers_to_expire(now, PAGE).await?;
        if due.is_empty() {
            break;
        }
        let ops: Vec<(i64, Op)> = due.iter().map(|c| (*c, Op::Expire)).collect();
        for r in app.store.post_loyalty(&ops, "loyalty keeper").await? {
            round.expiry_entries += r.map(|ids| ids.len()).unwrap_or(0);
        }
        round.expired_customers += due.len();
        app.touched(due.iter().copied());
        for c in &due {
            if super::tiers::evaluate(app.store.as_ref(), &program, *c, now)
                .await?
                .is_some()
            {
                round.tier_changes += 1;
            }
        }
        if (due.len() as i64) < PAGE {
            break;
        }
    }
    let today = (now + i64::from(app.utc_offset_secs()) * 1000).div_euclid(DAY_MS);
    if app.store.setting(SWEEP_KEY).await?.as_deref() != Some(today.to_string().as_str()) {
        let swept = super::tiers::sweep(app.store.as_ref(), &program, now).await?;
        if swept > 0 {
            // Tiers moved across the program: every segment is judged again.
            app.segment_upkeep.touches.everyone();
        }
        round.tier_changes += swept;
        app.store.set_setting(SWEEP_KEY, &today.to_string()).await?;
    }
    if program.expiry_notice_days > 0 {
        let until = now + program.expiry_notice_days * DAY_MS;
        for n in app
            .store
            .loyalty_expiry_notices_due(now, until, PAGE)
            .await?
        {
            let customer = app.store.customer(n.customer_id).await?;
            if let Some(to) = customer.identity(IdentityKind::Email) {
                let ko = customer.row.language.as_deref() != Some("en");
                let day = brand_date(app, n.expires_at);
                let (subject, text) = if ko {
                    (
                        format!("{}포인트가 {day}에 소멸돼요", n.points),
                        format!(
                            "보유하신 포인트 중 {}점이 {day}에 소멸됩니다. 그 전에 사용해 주세요.",
                            n.points
                        ),
                    )
                } else {
                    (
                        format!("{} points expire on {day}", n.points),
                        format!(
                            "{} of your points expire on {day}. Use them before then.",
                            n.points
                        ),
                    )
                };
                crate::jobs::enqueue(
                    app,
                    &crate::mail::EmailJob {
                        to: to.to_string(),
                        subject,
                        text,
                    },
                )
                .await?;
                round.notices += 1;
            }
            app.store.record_loyalty_expiry_notice(&n).await?;
        }
    }
    Ok(round)
}

/// The date of `ms` in the brand's time zone, as `2026-12-31`.
fn brand_date(app: &App, ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| {
            t.to_zoned(app.config.time_zone.clone())
                .strftime("%Y-%m-%d")
                .to_string()
        })
        .unwrap_or_default()
}
