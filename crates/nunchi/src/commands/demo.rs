//! `nunchi demo` and `nunchi bench`: load the deterministic demo brand with a progress bar,
//! and measure search latency over it.

use std::{sync::Arc, time::Instant};

use anyhow::Context;
use nunchi_store::Store;

use super::progress;

/// Loads the demo brand through `nunchi_app::demo`, with a progress bar per stage.
pub async fn load(store: &Arc<dyn Store>, customers: u64, seed: u64) -> anyhow::Result<()> {
    let started = Instant::now();
    let r = nunchi_app::demo::load(store, customers, seed, &Bars::default()).await?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "demo brand {} loaded: {} customers, {} order lines, {} notes, {} events, {} pieces of feedback, {} points entries in {secs:.1}s ({:.0} customers/s)",
        nunchi_demo::BRAND_KO,
        r.customers,
        r.order_lines,
        r.notes,
        r.events,
        r.feedback,
        r.points_entries,
        customers as f64 / secs
    );
    Ok(())
}

/// The demo load's stages as terminal progress bars, one at a time.
#[derive(Default)]
struct Bars(std::sync::Mutex<Option<indicatif::ProgressBar>>);

impl nunchi_app::demo::Progress for Bars {
    fn start(&self, what: &str, total: u64) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(progress(total, what));
    }
    fn advance(&self, n: u64) {
        if let Some(bar) = &*self.0.lock().unwrap_or_else(|e| e.into_inner()) {
            bar.inc(n);
        }
    }
    fn finish(&self) {
        if let Some(bar) = self.0.lock().unwrap_or_else(|e| e.into_inner()).take() {
            bar.finish_and_clear();
        }
    }
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

pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
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
