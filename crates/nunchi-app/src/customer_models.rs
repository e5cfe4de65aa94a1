//! The customer models over the shop's purchases: each customer's repeat-purchase
//! summary, RFM scores and cell, lifetime value (BG/NBD and Gamma-Gamma, fitted by
//! `nunchi-analytics`) and recommendations from what customers bought together.
//!
//! They are built from the store in one pass into a [`Snapshot`] that every read shares.
//! Written orders and refunds mark the snapshot stale; the next read after
//! [`MIN_REBUILD_MS`] rebuilds it (so a busy shop does not refit on every order), and no
//! snapshot outlives [`MAX_AGE_MS`] (time-relative figures such as recency move with the
//! clock).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use nunchi_analytics::Keys;
use nunchi_analytics::clv::{self, BgNbd, GammaGamma, Purchase, Summary};
use nunchi_analytics::ease::{self, Ease};
use nunchi_analytics::recommend::{Interactions, ItemKnn, KnnConfig};
use nunchi_analytics::rfm;
use nunchi_core::access::Permission;
use nunchi_core::money::Currency;
use nunchi_core::segment::OrderMeasure;
use serde::Serialize;
use utoipa::ToSchema;

use crate::{App, Error, Result, actor::Actor};

/// A stale snapshot is rebuilt at most this often.
pub const MIN_REBUILD_MS: i64 = 60_000;
/// No snapshot is used once this old.
pub const MAX_AGE_MS: i64 = 10 * 60_000;
/// Months ahead for expected purchases and lifetime value.
pub const HORIZON_MONTHS: u32 = 12;
/// Monthly discount rate for lifetime value.
pub const MONTHLY_DISCOUNT: f64 = 0.01;
const PAGE: i64 = 20_000;
const DAY_MS: i64 = 86_400_000;
/// EASE's L2 weight: the paper's default, not tuned to any data set.
const EASE_LAMBDA: f64 = 500.0;

/// The models as of one moment.
pub struct Snapshot {
    pub built_at: i64,
    /// Order touches up to this mark ([`crate::segment_upkeep::Touches::mark`]) are in
    /// these models.
    pub touch_mark: u64,
    /// Lifetime value is in the currency most purchases were made in.
    pub currency: Currency,
    pub bgnbd: Option<BgNbd>,
    pub gamma_gamma: Option<GammaGamma>,
    customers: HashMap<i64, Row>,
    pub overview: Overview,
    products: Keys<Box<str>>,
    categories: Keys<Box<str>>,
    /// Every customer's purchased lines, by interaction index: `lines[starts[i]..starts[i + 1]]`.
    line_starts: Vec<u32>,
    lines: Vec<LineFact>,
    interactions: Interactions,
    knn: ItemKnn,
    /// Per-customer scores from EASE when the catalogue is small enough for it (better
    /// than the neighbours on MovieLens: NDCG@10 0.29 against 0.25), else none.
    ease: Option<Ease>,
}

/// One purchased line as segment rules read it.
#[derive(Debug, Clone, Copy)]
struct LineFact {
    placed_at: i64,
    order_id: i64,
    /// Net of refunds, in major units; 0 outside the main currency.
    net: f64,
    product: u32,
    category: u32,
}

struct Row {
    /// Index in the interactions (every purchasing customer has one).
    index: u32,
    /// Present when they bought in the snapshot's currency.
    value: Option<(Summary, rfm::Scores)>,
}

/// The snapshot shared by every reader, and whether orders changed since it was built.
#[derive(Default)]
pub struct Cache {
    current: tokio::sync::RwLock<Option<Arc<Snapshot>>>,
    building: tokio::sync::Mutex<()>,
    stale: AtomicBool,
}

impl Cache {
    /// Orders were written or refunded: the next read after [`MIN_REBUILD_MS`] rebuilds.
    pub fn mark_stale(&self) {
        self.stale.store(true, Ordering::Relaxed);
    }

    /// The current snapshot, unless it is missing or due for a rebuild.
    async fn fresh(&self, now: i64) -> Option<Arc<Snapshot>> {
        let current = self.current.read().await;
        let s = current.as_ref()?;
        let age = now - s.built_at;
        let due =
            age >= MAX_AGE_MS || (self.stale.load(Ordering::Relaxed) && age >= MIN_REBUILD_MS);
        (!due).then(|| s.clone())
    }
}

/// The current snapshot, rebuilt first if it is missing or due.
pub async fn snapshot(app: &App) -> Result<Arc<Snapshot>> {
    let cache = &app.customer_models;
    if let Some(s) = cache.fresh(app.now()).await {
        return Ok(s);
    }
    // One rebuild at a time; whoever waited for it uses its result.
    let _one_builder = cache.building.lock().await;
    if let Some(s) = cache.fresh(app.now()).await {
        return Ok(s);
    }
    cache.stale.store(false, Ordering::Relaxed);
    let built = Arc::new(build(app).await?);
    *cache.current.write().await = Some(built.clone());
    Ok(built)
}

async fn build(app: &App) -> Result<Snapshot> {
    let touch_mark = app.segment_upkeep.touches.mark();
    let mut lines = Vec::new();
    let mut after = 0;
    loop {
        let page = app.store.purchase_lines_page(after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.line_id;
        let done = (page.len() as i64) < PAGE;
        lines.extend(page);
        if done {
            break;
        }
    }
    let now = app.now();
    let offset_ms = i64::from(app.utc_offset_secs()) * 1_000;
    let mut snapshot = tokio::task::spawn_blocking(move || fit(lines, now, offset_ms))
        .await
        .map_err(|e| Error::Internal(e.into()))??;
    snapshot.touch_mark = touch_mark;
    Ok(snapshot)
}

/// Fits everything from the purchased lines; CPU-bound, off the async threads.
fn fit(
    lines: Vec<nunchi_store::model::PurchaseLine>,
    now: i64,
    offset_ms: i64,
) -> Result<Snapshot> {
    let mut by_currency: HashMap<&str, usize> = HashMap::new();
    for l in &lines {
        *by_currency.entry(l.currency.as_str()).or_default() += 1;
    }
    let main = by_currency
        .into_iter()
        .max_by_key(|&(c, n)| (n, std::cmp::Reverse(c)))
        .map_or("KRW", |(c, _)| c)
        .to_string();
    let currency = Currency::parse(&main)?;
    let scale = 10f64.powi(i32::from(currency.minor_units()));
    let mut customer_index: HashMap<i64, u32> = HashMap::new();
    let mut customer_ids: Vec<i64> = Vec::new();
    let mut products: Keys<Box<str>> = Keys::new();
    let mut categories: Keys<Box<str>> = Keys::new();
    let mut bought = Vec::with_capacity(lines.len());
    let mut purchases = Vec::new();
    let mut facts: Vec<(u32, LineFact)> = Vec::with_capacity(lines.len());
    for l in &lines {
        let customer = *customer_index.entry(l.customer_id).or_insert_with(|| {
            customer_ids.push(l.customer_id);
            customer_ids.len() as u32 - 1
        });
        let product = products.index(l.product.as_str());
        bought.push((customer, product, 1.0f32));
        let main_currency = l.currency == main;
        facts.push((
            customer,
            LineFact {
                placed_at: l.placed_at,
                order_id: l.order_id,
                net: if main_currency {
                    l.net_minor() as f64 / scale
                } else {
                    0.0
                },
                product,
                category: categories.index(l.category.as_str()),
            },
        ));
        if main_currency {
            purchases.push(Purchase {
                customer,
                day: (l.placed_at + offset_ms).div_euclid(DAY_MS) as i32,
                amount: l.net_minor() as f64 / scale,
            });
        }
    }
    let interactions = Interactions::new(customer_ids.len(), products.len(), bought);
    facts.sort_by_key(|(c, f)| (*c, f.placed_at));
    let mut line_starts = vec![0u32; customer_ids.len() + 1];
    for (c, _) in &facts {
        line_starts[*c as usize + 1] += 1;
    }
    for i in 0..customer_ids.len() {
        line_starts[i + 1] += line_starts[i];
    }
    let line_facts: Vec<LineFact> = facts.into_iter().map(|(_, f)| f).collect();
    let knn = ItemKnn::fit(&interactions, KnnConfig::default());
    let ease = (interactions.items() <= ease::MAX_ITEMS)
        .then(|| Ease::fit(&interactions, EASE_LAMBDA).ok())
        .flatten();
    let today = (now + offset_ms).div_euclid(DAY_MS) as i32;
    let summaries = clv::summarize(&mut purchases, customer_ids.len(), today);
    let valued: Vec<Summary> = summaries.iter().flatten().copied().collect();
    let scores = rfm::score(&valued);
    let bgnbd = BgNbd::fit(&valued).ok().map(|f| f.params);
    let gamma_gamma = GammaGamma::fit(&valued).ok().map(|f| f.params);
    let overview = overview(&valued, &scores, bgnbd, gamma_gamma, currency.code(), now);
    let mut scored = scores.into_iter();
    let customers = summaries
        .into_iter()
        .enumerate()
        .map(|(i, s)| {
            let value = s.map(|s| (s, scored.next().expect("one score per summary")));
            (
                customer_ids[i],
                Row {
                    index: i as u32,
                    value,
                },
            )
        })
        .collect();
    Ok(Snapshot {
        built_at: now,
        touch_mark: 0,
        currency,
        bgnbd,
        gamma_gamma,
        customers,
        overview,
        products,
        categories,
        line_starts,
        lines: line_facts,
        interactions,
        knn,
        ease,
    })
}

/// Customers in one RFM cell, and what they are worth.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CellSummary {
    pub cell: String,
    pub customers: u64,
    pub share: f64,
    /// Mean 12-month value (null without a spend model).
    pub mean_clv: Option<f64>,
    pub mean_probability_alive: Option<f64>,
}

/// The whole base at a glance: the RFM grid, its cells, and how value is spread.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Overview {
    pub currency: String,
    /// Customers with purchases in the currency.
    pub customers: u64,
    pub fitted_at: i64,
    /// Customers per (R, F) score: `grid[r − 1][f − 1]`.
    pub grid: Vec<Vec<u64>>,
    pub cells: Vec<CellSummary>,
    /// The next 12 months' value of every customer together.
    pub total_clv: Option<f64>,
    /// Customers by 12-month value, the last range open above.
    pub clv_histogram: Vec<ValueBin>,
    /// BG/NBD's r, alpha, a, b (time in weeks).
    #[schema(value_type = Option<Object>)]
    pub bgnbd: Option<BgNbd>,
    /// Gamma-Gamma's p, q, gamma.
    #[schema(value_type = Option<Object>)]
    pub gamma_gamma: Option<GammaGamma>,
}

/// Customers whose 12-month value is in [from, to) (`to` null: no upper end).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ValueBin {
    pub from: f64,
    pub to: Option<f64>,
    pub customers: u64,
}

/// Bins of the value histogram.
const CLV_BINS: usize = 10;

fn overview(
    valued: &[Summary],
    scores: &[rfm::Scores],
    bgnbd: Option<BgNbd>,
    gamma_gamma: Option<GammaGamma>,
    currency: &str,
    now: i64,
) -> Overview {
    let mut grid = vec![vec![0u64; 5]; 5];
    let mut by_cell: HashMap<rfm::Cell, (u64, f64, f64)> = HashMap::new();
    let mut values = Vec::with_capacity(valued.len());
    for (s, sc) in valued.iter().zip(scores) {
        grid[usize::from(sc.r) - 1][usize::from(sc.f) - 1] += 1;
        let alive = bgnbd.map_or(0.0, |b| b.probability_alive(s));
        let value = bgnbd.zip(gamma_gamma).map_or(0.0, |(b, g)| {
            clv::lifetime_value(&b, &g, s, HORIZON_MONTHS, MONTHLY_DISCOUNT)
        });
        let value = if value.is_finite() { value } else { 0.0 };
        values.push(value);
        let e = by_cell.entry(rfm::Cell::of(sc.r, sc.f)).or_default();
        e.0 += 1;
        e.1 += value;
        e.2 += alive;
    }
    let n = valued.len() as u64;
    let cells = rfm::Cell::ALL
        .into_iter()
        .filter_map(|cell| {
            let (count, value, alive) = *by_cell.get(&cell)?;
            Some(CellSummary {
                cell: cell.key().to_string(),
                customers: count,
                share: count as f64 / n.max(1) as f64,
                mean_clv: gamma_gamma.and(bgnbd).map(|_| value / count as f64),
                mean_probability_alive: bgnbd.map(|_| alive / count as f64),
            })
        })
        .collect();
    let has_value = bgnbd.is_some() && gamma_gamma.is_some();
    Overview {
        currency: currency.to_string(),
        customers: n,
        fitted_at: now,
        grid,
        cells,
        total_clv: has_value.then(|| values.iter().sum()),
        clv_histogram: if has_value {
            histogram(&mut values)
        } else {
            Vec::new()
        },
        bgnbd,
        gamma_gamma,
    }
}

/// Equal-width bins up to the 99th percentile (so one whale does not squash the rest),
/// the last bin holding everything above.
fn histogram(values: &mut [f64]) -> Vec<ValueBin> {
    if values.is_empty() {
        return Vec::new();
    }
    values.sort_by(f64::total_cmp);
    let top = values[(values.len() - 1) * 99 / 100].max(1e-9);
    let width = top / CLV_BINS as f64;
    let mut bins: Vec<ValueBin> = (0..CLV_BINS)
        .map(|i| ValueBin {
            from: width * i as f64,
            to: (i + 1 < CLV_BINS).then(|| width * (i + 1) as f64),
            customers: 0,
        })
        .collect();
    for v in values.iter() {
        let i = ((v / width) as usize).min(CLV_BINS - 1);
        bins[i].customers += 1;
    }
    bins
}

/// RFM scores and the cell they put the customer in.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RfmView {
    pub r: u8,
    pub f: u8,
    pub m: u8,
    /// champions, loyal, potential_loyalists, new_customers, promising, need_attention,
    /// about_to_sleep, at_risk, cant_lose, hibernating, lost.
    pub cell: String,
}

/// A customer's value as the models see it; every figure is absent for a customer with
/// no purchases in the models' currency.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CustomerValue {
    pub currency: String,
    /// Days with purchases, the first included.
    pub purchase_days: Option<u32>,
    /// Days since the last purchase.
    pub days_since_last: Option<u32>,
    /// Spent in all, net of refunds, in major units.
    pub total_spend: Option<f64>,
    pub rfm: Option<RfmView>,
    /// Probability the customer is still a customer (BG/NBD).
    pub probability_alive: Option<f64>,
    /// Purchases expected over the next 12 months.
    pub expected_purchases: Option<f64>,
    /// Expected spend per future purchase (Gamma-Gamma).
    pub expected_spend: Option<f64>,
    /// The next 12 months' value, discounted 1% a month.
    pub clv: Option<f64>,
    /// When the models were fitted (Unix ms).
    pub fitted_at: i64,
}

impl Snapshot {
    pub fn value(&self, customer_id: i64) -> CustomerValue {
        let found = self.customers.get(&customer_id).and_then(|r| r.value);
        let weeks = f64::from(HORIZON_MONTHS) * clv::value::WEEKS_PER_MONTH;
        let bg = self.bgnbd.filter(|_| found.is_some());
        let both = bg.zip(self.gamma_gamma);
        CustomerValue {
            currency: self.currency.code().to_string(),
            purchase_days: found.map(|(s, _)| s.purchases()),
            days_since_last: found.map(|(s, _)| s.days_since_last()),
            total_spend: found.map(|(s, _)| s.total),
            rfm: found.map(|(_, sc)| RfmView {
                r: sc.r,
                f: sc.f,
                m: sc.m,
                cell: rfm::Cell::of(sc.r, sc.f).key().to_string(),
            }),
            probability_alive: bg
                .zip(found)
                .map(|(b, (s, _))| b.probability_alive(&s))
                .filter(|v| v.is_finite()),
            expected_purchases: bg
                .zip(found)
                .map(|(b, (s, _))| b.expected_purchases(weeks, &s))
                .filter(|v| v.is_finite()),
            expected_spend: self
                .gamma_gamma
                .zip(found)
                .map(|(g, (s, _))| g.expected_spend(&s))
                .filter(|v| v.is_finite()),
            clv: both
                .zip(found)
                .map(|((b, g), (s, _))| {
                    clv::lifetime_value(&b, &g, &s, HORIZON_MONTHS, MONTHLY_DISCOUNT)
                })
                .filter(|v| v.is_finite()),
            fitted_at: self.built_at,
        }
    }

    /// The top `n` products for a customer, never ones they bought; `personal` is false
    /// when nothing they bought has neighbours (the list is the best sellers).
    pub fn recommend(&self, customer_id: i64, n: usize) -> Recommendations {
        let history = self
            .customers
            .get(&customer_id)
            .map_or(&[][..], |r| self.interactions.of_customer(r.index));
        let personal = history
            .iter()
            .any(|&(i, _)| !self.knn.similar(i).is_empty());
        let ranked = match &self.ease {
            Some(e) => e.recommend(history, n, true),
            None => self.knn.recommend(history, n, true),
        };
        let products = ranked
            .iter()
            .map(|&i| self.products.key(i).to_string())
            .collect();
        Recommendations { products, personal }
    }

    /// The customer's RFM cell key, when they bought in the models' currency.
    pub fn rfm_cell(&self, customer_id: i64) -> Option<&'static str> {
        let (_, sc) = self.customers.get(&customer_id)?.value?;
        Some(rfm::Cell::of(sc.r, sc.f).key())
    }

    /// A measure of the customer's purchased lines placed at or after `since`, of one
    /// product or category when given (segment rules read orders through this).
    pub fn orders(
        &self,
        customer_id: i64,
        measure: OrderMeasure,
        since: Option<i64>,
        product: Option<&str>,
        category: Option<&str>,
        now: i64,
    ) -> Option<f64> {
        let kept = self.lines_of(customer_id, since, product, category);
        match measure {
            OrderMeasure::Count => {
                let mut orders: Vec<i64> = kept.map(|l| l.order_id).collect();
                orders.sort_unstable();
                orders.dedup();
                Some(orders.len() as f64)
            }
            OrderMeasure::Spend => Some(kept.map(|l| l.net).sum()),
            OrderMeasure::DaysSinceLast => kept
                .map(|l| l.placed_at)
                .max()
                .map(|last| ((now - last).max(0) / DAY_MS) as f64),
        }
    }

    /// When the customer's first and last orders at or after `since` (of one product or
    /// category when given) were placed.
    pub fn order_times(
        &self,
        customer_id: i64,
        since: Option<i64>,
        product: Option<&str>,
        category: Option<&str>,
    ) -> Option<(i64, i64)> {
        self.lines_of(customer_id, since, product, category)
            .fold(None, |span, l| match span {
                None => Some((l.placed_at, l.placed_at)),
                Some((a, b)) => Some((l.placed_at.min(a), l.placed_at.max(b))),
            })
    }

    /// A customer's purchased lines at or after `since`, of one product or category.
    fn lines_of<'a>(
        &'a self,
        customer_id: i64,
        since: Option<i64>,
        product: Option<&str>,
        category: Option<&str>,
    ) -> impl Iterator<Item = &'a LineFact> + 'a {
        // A product or category never bought matches no line (u32::MAX is no index).
        let product = product.map(|p| self.products.get(p).unwrap_or(u32::MAX));
        let category = category.map(|c| self.categories.get(c).unwrap_or(u32::MAX));
        let kept = self.customers.get(&customer_id).map_or(&[][..], |r| {
            let i = r.index as usize;
            &self.lines[self.line_starts[i] as usize..self.line_starts[i + 1] as usize]
        });
        kept.iter().filter(move |l| {
            since.is_none_or(|s| l.placed_at >= s)
                && product.is_none_or(|p| l.product == p)
                && category.is_none_or(|c| l.category == c)
        })
    }

    /// Products bought together with `product`, most similar first.
    pub fn similar(&self, product: &str, n: usize) -> Vec<String> {
        let Some(i) = self.products.get(product) else {
            return Vec::new();
        };
        self.knn
            .similar(i)
            .iter()
            .take(n)
            .map(|&(j, _)| self.products.key(j).to_string())
            .collect()
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Recommendations {
    pub products: Vec<String>,
    /// True when the list comes from what this customer bought; false for best sellers.
    pub personal: bool,
}

/// A customer's value (RFM, probability alive, expected purchases, lifetime value).
pub async fn customer_value(app: &App, actor: &Actor, customer_id: i64) -> Result<CustomerValue> {
    if !actor.can(Permission::CustomersRead) {
        return Err(Error::Forbidden);
    }
    app.store.customer(customer_id).await?;
    Ok(snapshot(app).await?.value(customer_id))
}

/// Products to offer a customer (at most 50).
pub async fn customer_recommendations(
    app: &App,
    actor: &Actor,
    customer_id: i64,
    n: usize,
) -> Result<Recommendations> {
    if !actor.can(Permission::CustomersRead) {
        return Err(Error::Forbidden);
    }
    if !(1..=50).contains(&n) {
        return Err(Error::invalid("invalid_top", "top is 1 to 50"));
    }
    app.store.customer(customer_id).await?;
    Ok(snapshot(app).await?.recommend(customer_id, n))
}

/// The RFM grid, its cells and how value is spread over the whole base.
pub async fn overview_of(app: &App, actor: &Actor) -> Result<Overview> {
    if !actor.can(Permission::CustomersRead) {
        return Err(Error::Forbidden);
    }
    Ok(snapshot(app).await?.overview.clone())
}

/// Products bought together with one product (at most 50).
pub async fn similar_products(
    app: &App,
    actor: &Actor,
    product: &str,
    n: usize,
) -> Result<Vec<String>> {
    if !actor.can(Permission::CustomersRead) {
        return Err(Error::Forbidden);
    }
    if !(1..=50).contains(&n) {
        return Err(Error::invalid("invalid_top", "top is 1 to 50"));
    }
    let snapshot = snapshot(app).await?;
    if snapshot.products.get(product).is_none() {
        return Err(Error::NotFound(format!("no purchases of {product:?}")));
    }
    Ok(snapshot.similar(product, n))
}
