//! `nunchi bench --loyalty-lines N`: imports N order lines (a third of as many customers,
//! one to three lines per order, some refunded) into two fresh SQLite databases, one with
//! the loyalty program off and one with it on (a base rate and a category multiplier), and
//! prints both import rates; then recomputes every customer's points from the entries
//! (read and replay) and checks them against the kept lots, and times the pure replay of
//! a synthetic one-million-entry ledger. `--loyalty-orders FILE` replays an order CSV (the
//! CDNOW purchases, see `scripts/loyalty-cdnow.sh`) and prints its totals as JSON.

use std::{sync::Arc, time::Instant};

use nunchi_core::{
    customer::{CustomerName, ProfileFields},
    import::CustomerRecord,
    loyalty::{
        Ledger, Op, Program,
        earn::{EarnRule, ScopeKind},
    },
};

const CATEGORIES: [&str; 5] = ["skincare", "suncare", "body", "lifestyle", "gift"];

/// The order CSV: deterministic, with every 25th order refunded in part.
fn order_csv(lines: usize, customers: usize) -> Vec<u8> {
    let mut out = String::from(
        "order_id,customer_external_id,placed_at,status,product,category,unit_price,quantity,refunded\n",
    );
    let (mut written, mut order) = (0, 0usize);
    while written < lines {
        order += 1;
        let items = 1 + order % 3;
        let customer = order * 7919 % customers;
        let day = 1 + order % 28;
        for item in 0..items.min(lines - written) {
            let category = CATEGORIES[(order + item) % CATEGORIES.len()];
            let price = 8_000 + (order * 31 + item * 17) % 50 * 1_000;
            let refunded = if order % 25 == 0 { "5000" } else { "" };
            out.push_str(&format!(
                "B-{order:08},LB-{customer:07},2026-06-{day:02}T10:00:00+09:00,delivered,product-{item},{category},{price},1,{refunded}\n"
            ));
            written += 1;
        }
    }
    out.into_bytes()
}

async fn fresh(
    dir: &std::path::Path,
    name: &str,
    customers: usize,
) -> anyhow::Result<Arc<dyn nunchi_store::Store>> {
    let store = nunchi_store::connect(&format!("sqlite:{}", dir.join(name).display())).await?;
    let records: Vec<CustomerRecord> = (0..customers)
        .map(|i| CustomerRecord {
            external_id: Some(format!("LB-{i:07}")),
            profile: ProfileFields {
                name: CustomerName::parse(&format!("고객 {i}")).ok(),
                ..Default::default()
            },
            ..Default::default()
        })
        .collect();
    for chunk in records.chunks(5000) {
        store.upsert_customers(chunk, "bench").await?;
    }
    Ok(store)
}

async fn import(store: &Arc<dyn nunchi_store::Store>, csv: &[u8]) -> anyhow::Result<f64> {
    let started = Instant::now();
    let report = nunchi_app::import::import_orders(
        store.clone(),
        Box::new(std::io::Cursor::new(csv.to_vec())),
        false,
        &|_| {},
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    anyhow::ensure!(report.rejected == 0, "rows were rejected: {report:?}");
    Ok(report.imported as f64 / started.elapsed().as_secs_f64())
}

pub async fn run(lines: usize) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("nunchi-loyalty-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let outcome = drive(&dir, lines).await;
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

async fn drive(dir: &std::path::Path, lines: usize) -> anyhow::Result<()> {
    let customers = (lines / 3).max(1);
    let csv = order_csv(lines, customers);
    let off = fresh(dir, "off.db", customers).await?;
    let off_rate = import(&off, &csv).await?;
    println!("import {lines} order lines, loyalty off: {off_rate:.0} lines/s");
    let on = fresh(dir, "on.db", customers).await?;
    on.set_loyalty_program(&Program {
        enabled: true,
        ..Program::default()
    })
    .await?;
    on.save_loyalty_rule(&EarnRule::base("base", 1, 100, "KRW"))
        .await?;
    let gift = EarnRule::multiplier("gift x2", 200, ScopeKind::Category, &["gift"]);
    on.save_loyalty_rule(&gift).await?;
    let on_rate = import(&on, &csv).await?;
    println!(
        "import {lines} order lines, loyalty on: {on_rate:.0} lines/s ({:.1}% of the rate without earning)",
        on_rate / off_rate * 100.0
    );
    let started = Instant::now();
    let check = on.verify_loyalty().await?;
    println!(
        "recompute from the database: {} entries of {} customers read and replayed in {:.2}s, {} differing from the kept state",
        check.entries,
        check.customers,
        started.elapsed().as_secs_f64(),
        check.mismatched.len()
    );
    anyhow::ensure!(
        check.mismatched.is_empty(),
        "the kept state differs from the replay"
    );
    replay_million();
    Ok(())
}

/// Plans and writes a million postings in memory (earns, spends, refunds, expiries over
/// 10,000 customers), then times replaying them from scratch.
fn replay_million() {
    const CUSTOMERS: usize = 10_000;
    const DAY: i64 = 86_400_000;
    let mut ledgers: Vec<Ledger> = vec![Ledger::default(); CUSTOMERS];
    let mut written: Vec<Vec<(i64, nunchi_core::loyalty::Posting)>> = vec![vec![]; CUSTOMERS];
    let (mut id, mut step) = (0i64, 0usize);
    while id < 1_000_000 {
        step += 1;
        let c = step * 7919 % CUSTOMERS;
        let now = (step as i64 / 50) * DAY / 10;
        let order = format!("o{}", step / 3);
        let op = match step % 10 {
            0..=5 => Op::Earn {
                key: format!("e{step}"),
                points: 100 + (step % 900) as i64,
                order_ref: Some(order),
                rule_id: Some(1),
                product: None,
                category: None,
                occurred_at: now,
                available_at: now + 7 * DAY,
                expires_at: Some(now + 180 * DAY),
            },
            6 | 7 => Op::Spend {
                key: format!("s{step}"),
                points: 50 + (step % 300) as i64,
                order_ref: Some(order),
                credit_limit: 0,
                reason: String::new(),
            },
            8 => Op::Reverse {
                order_ref: format!("o{}", step / 3 - 1),
                refunded: 1,
                total: 2,
                policy: nunchi_core::loyalty::RefundPolicy::ClawBack,
            },
            _ => Op::Expire,
        };
        for p in ledgers[c].plan(&op, now).unwrap_or_default() {
            id += 1;
            ledgers[c].apply(id, &p);
            written[c].push((id, p));
        }
    }
    let started = Instant::now();
    let replayed: Vec<Ledger> = written
        .iter()
        .map(|w| Ledger::replay(w.iter().map(|(id, p)| (*id, p))))
        .collect();
    let secs = started.elapsed().as_secs_f64();
    let same = replayed == ledgers;
    println!(
        "recompute in memory: {id} entries of {CUSTOMERS} customers replayed in {secs:.3}s ({:.1} M entries/s); equal to the incremental state: {same}",
        id as f64 / secs / 1e6
    );
}

/// Replays an order CSV (its customers made from `customer_external_id`) through a program
/// with one base rate, expires what is due, recomputes, and prints figures, then the
/// totals as one JSON line for a checking script.
pub async fn replay_file(
    path: &std::path::Path,
    currency: &str,
    per_minor: i64,
) -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("nunchi-loyalty-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let outcome = replay_in(&dir, path, currency, per_minor).await;
    let _ = std::fs::remove_dir_all(&dir);
    outcome
}

async fn replay_in(
    dir: &std::path::Path,
    path: &std::path::Path,
    currency: &str,
    per_minor: i64,
) -> anyhow::Result<()> {
    let csv = std::fs::read(path)?;
    let text = std::str::from_utf8(&csv)?;
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let column = header
        .iter()
        .position(|h| *h == "customer_external_id")
        .ok_or_else(|| anyhow::anyhow!("the file has no customer_external_id column"))?;
    let mut customers: Vec<String> = lines
        .filter_map(|l| l.split(',').nth(column).map(str::to_string))
        .collect();
    customers.sort();
    customers.dedup();
    let store =
        nunchi_store::connect(&format!("sqlite:{}", dir.join("replay.db").display())).await?;
    let records: Vec<CustomerRecord> = customers
        .iter()
        .map(|id| CustomerRecord {
            external_id: Some(id.clone()),
            ..Default::default()
        })
        .collect();
    for chunk in records.chunks(5000) {
        store.upsert_customers(chunk, "bench").await?;
    }
    store
        .set_loyalty_program(&Program {
            enabled: true,
            currency: currency.to_string(),
            ..Program::default()
        })
        .await?;
    store
        .save_loyalty_rule(&EarnRule::base("base", 1, per_minor, currency))
        .await?;
    let started = Instant::now();
    let report = nunchi_app::import::import_orders(
        store.clone(),
        Box::new(std::io::Cursor::new(csv.clone())),
        false,
        &|_| {},
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let import_secs = started.elapsed().as_secs_f64();
    let now = store.clock().now_ms();
    let due = store.loyalty_customers_to_expire(now, i64::MAX).await?;
    for chunk in due.chunks(1000) {
        let ops: Vec<(i64, Op)> = chunk.iter().map(|c| (*c, Op::Expire)).collect();
        store.post_loyalty(&ops, "bench").await?;
    }
    let started = Instant::now();
    let check = store.verify_loyalty().await?;
    let recompute_secs = started.elapsed().as_secs_f64();
    let outstanding: i64 = store
        .all_loyalty_ledgers()
        .await?
        .iter()
        .map(|(_, l)| l.outstanding())
        .sum();
    let totals = store.loyalty_summary(now).await?.totals;
    println!(
        "replayed {} purchases of {} customers in {import_secs:.2}s ({:.0} purchases/s, earning included); {} entries recomputed from the database in {recompute_secs:.2}s, {} differing",
        report.imported,
        customers.len(),
        report.imported as f64 / import_secs,
        check.entries,
        check.mismatched.len()
    );
    println!(
        "{}",
        serde_json::json!({
            "purchases": report.imported,
            "rejected": report.rejected,
            "customers": customers.len(),
            "earned": totals.earned,
            "reversed": totals.reversed,
            "totals": totals,
            "outstanding": outstanding,
            "entries": check.entries,
            "mismatched": check.mismatched.len(),
            "import_secs": import_secs,
            "recompute_secs": recompute_secs,
        })
    );
    Ok(())
}
