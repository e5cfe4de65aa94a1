//! The facts segment rules read, gathered for one customer at a time: the profile from
//! the store, events from the analytics engine, orders and the models from the
//! customer-models snapshot, and — only when a rule asks — NPS answers, loyalty tiers and
//! points. A full evaluation walks every customer; the upkeep walks only those touched
//! or due. Both judge a customer through [`judge`], so they cannot disagree.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

use nunchi_analytics::log;
use nunchi_core::customer::AttributeType;
use nunchi_core::segment::eval::{self, Facts};
use nunchi_core::segment::{LoyaltyMeasure, OrderMeasure, Rule, ValueMeasure};
use nunchi_store::model::Customer;

use crate::customer_models::{self, Snapshot};
use crate::events::engine::{Engine, Who};
use crate::segments::SampleCustomer;
use crate::{App, Error, Result};

/// Customers read from the store per page while evaluating.
const PAGE: i64 = 2_000;
/// Matching customers listed in a preview.
const SAMPLE: usize = 20;

pub(crate) fn poisoned() -> Error {
    Error::Internal(anyhow::anyhow!("the analytics engine's lock is poisoned"))
}

/// Whether a customer is still someone (not merged away, not erased).
pub(crate) fn is_live(c: &Customer) -> bool {
    c.row.merged_into.is_none() && c.row.erased_at.is_none()
}

/// Everything but the profile and the events: the models and what rules read on demand.
pub(crate) struct Sources {
    pub snapshot: Arc<Snapshot>,
    on_demand: OnDemand,
}

impl Sources {
    /// The sources `rules` read, as of now.
    pub async fn load(app: &App, rules: &[&Rule]) -> Result<Sources> {
        Ok(Sources {
            snapshot: customer_models::snapshot(app).await?,
            on_demand: OnDemand::load(app, rules).await?,
        })
    }
}

/// Judges customers one after another, reusing one buffer for their events.
pub(crate) struct Judge<'a> {
    pub sources: &'a Sources,
    pub engine: &'a Engine,
    pub now: i64,
    scratch: RefCell<Vec<u64>>,
}

impl<'a> Judge<'a> {
    pub fn new(sources: &'a Sources, engine: &'a Engine, now: i64) -> Self {
        Judge {
            sources,
            engine,
            now,
            scratch: RefCell::new(Vec::new()),
        }
    }

    /// Whether `c` matches `rule` now, and the moment the answer could next change with
    /// no new data (a window passing, another day since the last order).
    pub fn judge(&self, rule: &Rule, c: &Customer) -> (bool, Option<i64>) {
        let facts = CustomerFacts { c, judge: self };
        (
            eval::matches(rule, &facts, self.now),
            eval::next_change(rule, &facts, self.now),
        )
    }
}

/// Who matches a rule now.
pub(crate) struct Matching {
    /// Ascending.
    pub ids: Vec<i64>,
    pub of: u64,
    pub sample: Vec<SampleCustomer>,
    /// (customer, when their answer could next change), for every customer with one.
    pub due: Vec<(i64, i64)>,
}

/// Every customer judged against `rule`.
pub(crate) async fn matching(app: &App, rule: &Rule) -> Result<Matching> {
    matching_with(app, rule, &Sources::load(app, &[rule]).await?).await
}

/// Every customer judged against `rule` with sources already loaded for it.
pub(crate) async fn matching_with(app: &App, rule: &Rule, sources: &Sources) -> Result<Matching> {
    let now = app.now();
    let mut found = Matching {
        ids: Vec::new(),
        of: 0,
        sample: Vec::new(),
        due: Vec::new(),
    };
    let mut after = 0;
    loop {
        let page = app.store.customers_page(after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.row.id;
        let engine = app.events.engine.read().map_err(|_| poisoned())?;
        let judge = Judge::new(sources, &engine, now);
        for c in page.iter().filter(|c| is_live(c)) {
            found.of += 1;
            let (yes, next) = judge.judge(rule, c);
            if let Some(at) = next {
                found.due.push((c.row.id, at));
            }
            if yes {
                found.ids.push(c.row.id);
                if found.sample.len() < SAMPLE {
                    found.sample.push(SampleCustomer {
                        id: c.row.id,
                        name: c.row.name.clone(),
                    });
                }
            }
        }
    }
    Ok(found)
}

/// Tiers, points and NPS groups: read only when a rule asks for them.
#[derive(Default)]
struct OnDemand {
    tiers: HashMap<i64, String>,
    points: HashMap<i64, f64>,
    /// Each customer's latest NPS answer: (when, group).
    nps: HashMap<i64, (i64, &'static str)>,
}

/// Whether `rule` or any rule inside it satisfies `want`.
pub(crate) fn reads(rule: &Rule, want: &impl Fn(&Rule) -> bool) -> bool {
    want(rule)
        || match rule {
            Rule::All { rules } | Rule::Any { rules } => rules.iter().any(|r| reads(r, want)),
            Rule::Not { rule } => reads(rule, want),
            _ => false,
        }
}

impl OnDemand {
    async fn load(app: &App, rules: &[&Rule]) -> Result<OnDemand> {
        let any = |want: &dyn Fn(&Rule) -> bool| rules.iter().any(|r| reads(r, &want));
        let mut out = OnDemand::default();
        if any(&|r| matches!(r, Rule::Tier { .. })) {
            for (customer, tier, _) in app.store.loyalty_tiers_held().await? {
                if let Some(t) = tier {
                    out.tiers.insert(customer, t);
                }
            }
        }
        if any(&|r| matches!(r, Rule::Nps { .. })) {
            for r in app.store.metric_ratings("nps", i64::MIN, i64::MAX).await? {
                // Employee pulse answers are not customers'.
                let (Some(customer), false) = (r.customer_id, r.source.as_str() == "employee")
                else {
                    continue;
                };
                let group = nunchi_core::segment::nps_group(r.rating);
                let e = out.nps.entry(customer).or_insert((r.created_at, group));
                if r.created_at >= e.0 {
                    *e = (r.created_at, group);
                }
            }
        }
        if any(&|r| matches!(r, Rule::Loyalty { .. })) {
            // Every ledger in one read (a query per customer would be two per member).
            let now = app.now();
            for (customer, ledger) in app.store.all_loyalty_ledgers().await? {
                out.points.insert(customer, ledger.balance(now) as f64);
            }
        }
        Ok(out)
    }
}

/// One customer's facts for the rule language.
struct CustomerFacts<'a> {
    c: &'a Customer,
    judge: &'a Judge<'a>,
}

impl CustomerFacts<'_> {
    fn id(&self) -> i64 {
        self.c.row.id
    }
}

impl Facts for CustomerFacts<'_> {
    fn has_tag(&self, tag: &str) -> bool {
        self.c.tags.iter().any(|t| t == tag)
    }

    fn attribute(&self, key: &str) -> Option<(AttributeType, &str)> {
        self.c
            .attributes
            .iter()
            .find(|a| a.key == key)
            .map(|a| (a.ty, a.value.as_str()))
    }

    fn consented(&self, channel: &str, purpose: &str) -> bool {
        self.c
            .consents
            .iter()
            .any(|k| k.granted && k.channel.as_str() == channel && k.purpose.as_str() == purpose)
    }

    fn events(&self, name: &str, since: Option<i64>) -> (u32, Option<i64>) {
        let engine = self.judge.engine;
        let (Some(slot), Some(code)) = (
            engine.slot(Who::Customer(self.id())),
            engine.log.names.code(name),
        ) else {
            return (0, None);
        };
        let since_secs = since.map_or(0, |s| s.div_euclid(1_000).max(0) as u64) as u32;
        let mut scratch = self.judge.scratch.borrow_mut();
        let (n, first) = log::tally(engine.log.run(slot, &mut scratch), code, since_secs);
        // The engine keeps seconds: an event counts while the window starts within its
        // second, so it is reported at that second's last millisecond.
        (n, first.map(|ts| i64::from(ts) * 1_000 + 999))
    }

    fn orders(
        &self,
        measure: OrderMeasure,
        since: Option<i64>,
        product: Option<&str>,
        category: Option<&str>,
        now: i64,
    ) -> Option<f64> {
        self.judge
            .sources
            .snapshot
            .orders(self.id(), measure, since, product, category, now)
    }

    fn order_times(
        &self,
        since: Option<i64>,
        product: Option<&str>,
        category: Option<&str>,
    ) -> Option<(i64, i64)> {
        self.judge
            .sources
            .snapshot
            .order_times(self.id(), since, product, category)
    }

    fn rfm_cell(&self) -> Option<&str> {
        self.judge.sources.snapshot.rfm_cell(self.id())
    }

    fn nps_group(&self) -> Option<&str> {
        self.judge
            .sources
            .on_demand
            .nps
            .get(&self.id())
            .map(|(_, g)| *g)
    }

    fn value(&self, measure: ValueMeasure) -> Option<f64> {
        let v = self.judge.sources.snapshot.value(self.id());
        match measure {
            ValueMeasure::Clv => v.clv,
            ValueMeasure::ProbabilityAlive => v.probability_alive,
            ValueMeasure::ExpectedPurchases => v.expected_purchases,
        }
    }

    fn tier(&self) -> Option<&str> {
        self.judge
            .sources
            .on_demand
            .tiers
            .get(&self.id())
            .map(String::as_str)
    }

    fn loyalty(&self, measure: LoyaltyMeasure) -> Option<f64> {
        match measure {
            LoyaltyMeasure::Points => self.judge.sources.on_demand.points.get(&self.id()).copied(),
        }
    }
}
