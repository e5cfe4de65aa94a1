//! Segments as operations. This slice checks a rule against what nunchi holds (the
//! attributes declared, the events seen, the loyalty tiers, the RFM cells) and previews
//! who matches it now: how many, a few of them, and the rule as a sentence in Korean and
//! English. Every customer is evaluated against the same facts the rule language names —
//! the profile from the store, events from the analytics engine, orders and the models
//! from the customer-models snapshot, tiers and points from the loyalty ledger. Saved
//! segments with membership kept current, and their entries and exits, come next.

use std::collections::HashMap;

use nunchi_analytics::log;
use nunchi_analytics::rfm;
use nunchi_core::access::Permission;
use nunchi_core::customer::AttributeType;
use nunchi_core::segment::check::{self, Schema};
use nunchi_core::segment::eval::{self, Facts};
use nunchi_core::segment::{LoyaltyMeasure, OrderMeasure, Rule, ValueMeasure, describe};
use nunchi_store::model::Customer;
use serde::Serialize;
use utoipa::ToSchema;

use crate::customer_models::{self, Snapshot};
use crate::events::engine::{Engine, Who};
use crate::{App, Error, Result, actor::Actor};

/// Customers read from the store per page while evaluating.
const PAGE: i64 = 2_000;
/// Matching customers listed in a preview.
const SAMPLE: usize = 20;

/// What a rule may name, as nunchi holds it now.
pub async fn schema(app: &App) -> Result<Schema> {
    let mut attributes = Vec::new();
    for key in app.store.attribute_keys().await? {
        if let Some(ty) = app.store.attribute_type(&key).await? {
            attributes.push((key, ty));
        }
    }
    let events = {
        let engine = app.events.engine.read().map_err(|_| poisoned())?;
        let names = &engine.log.names;
        (0..names.len() as u16)
            .map(|c| names.name(c).to_string())
            .collect()
    };
    let program = crate::loyalty::program(app).await?;
    Ok(Schema {
        attributes,
        events,
        tiers: program.tiers.iter().map(|t| t.key.clone()).collect(),
        rfm_cells: rfm::Cell::ALL.iter().map(|c| c.key().to_string()).collect(),
    })
}

fn poisoned() -> Error {
    Error::Internal(anyhow::anyhow!("the analytics engine's lock is poisoned"))
}

/// Who matches a rule now.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Preview {
    /// Customers matching.
    pub customers: u64,
    /// Customers evaluated (every customer not merged away or erased).
    pub of: u64,
    /// The first matches by id: (id, name).
    pub sample: Vec<SampleCustomer>,
    pub sentence_ko: String,
    pub sentence_en: String,
    /// True when members move with the clock alone (windows, days since, the models).
    pub time_relative: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SampleCustomer {
    pub id: i64,
    pub name: Option<String>,
}

/// Checks `rule` and counts who matches it now.
pub async fn preview(app: &App, actor: &Actor, rule: &Rule) -> Result<Preview> {
    if !actor.can(Permission::CustomersRead) {
        return Err(Error::Forbidden);
    }
    check::check(rule, &schema(app).await?)
        .map_err(|e| Error::invalid("invalid_rule", e.to_string()))?;
    let snapshot = customer_models::snapshot(app).await?;
    let loyalty = Loyalty::load(app, rule).await?;
    let now = app.now();
    let (mut matched, mut of) = (0u64, 0u64);
    let mut sample = Vec::new();
    let mut after = 0;
    loop {
        let page = app.store.customers_page(after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.row.id;
        let engine = app.events.engine.read().map_err(|_| poisoned())?;
        let mut scratch = Vec::new();
        for c in page
            .iter()
            .filter(|c| c.row.merged_into.is_none() && c.row.erased_at.is_none())
        {
            of += 1;
            let facts = CustomerFacts {
                c,
                snapshot: &snapshot,
                engine: &engine,
                loyalty: &loyalty,
                scratch: std::cell::RefCell::new(std::mem::take(&mut scratch)),
            };
            let yes = eval::matches(rule, &facts, now);
            scratch = facts.scratch.into_inner();
            if yes {
                matched += 1;
                if sample.len() < SAMPLE {
                    sample.push(SampleCustomer {
                        id: c.row.id,
                        name: c.row.name.clone(),
                    });
                }
            }
        }
    }
    Ok(Preview {
        customers: matched,
        of,
        sample,
        sentence_ko: describe::describe(rule, true),
        sentence_en: describe::describe(rule, false),
        time_relative: rule.time_relative(),
    })
}

/// Tiers and points, read only when the rule asks for them.
#[derive(Default)]
struct Loyalty {
    tiers: HashMap<i64, String>,
    points: HashMap<i64, f64>,
}

fn reads(rule: &Rule, want: &impl Fn(&Rule) -> bool) -> bool {
    want(rule)
        || match rule {
            Rule::All { rules } | Rule::Any { rules } => rules.iter().any(|r| reads(r, want)),
            Rule::Not { rule } => reads(rule, want),
            _ => false,
        }
}

impl Loyalty {
    async fn load(app: &App, rule: &Rule) -> Result<Loyalty> {
        let mut out = Loyalty::default();
        if reads(rule, &|r| matches!(r, Rule::Tier { .. })) {
            for (customer, tier, _) in app.store.loyalty_tiers_held().await? {
                if let Some(t) = tier {
                    out.tiers.insert(customer, t);
                }
            }
        }
        if reads(rule, &|r| matches!(r, Rule::Loyalty { .. })) {
            let now = app.now();
            let mut after = 0;
            loop {
                let page = app.store.customers_page(after, PAGE).await?;
                let Some(last) = page.last() else { break };
                after = last.row.id;
                for c in &page {
                    let held = app.store.loyalty_points(c.row.id).await?;
                    out.points.insert(c.row.id, held.balance(now) as f64);
                }
            }
        }
        Ok(out)
    }
}

/// One customer's facts for the rule language.
struct CustomerFacts<'a> {
    c: &'a Customer,
    snapshot: &'a Snapshot,
    engine: &'a Engine,
    loyalty: &'a Loyalty,
    scratch: std::cell::RefCell<Vec<u64>>,
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

    fn event_count(&self, name: &str, since: Option<i64>) -> u32 {
        let (Some(slot), Some(code)) = (
            self.engine.slot(Who::Customer(self.c.row.id)),
            self.engine.log.names.code(name),
        ) else {
            return 0;
        };
        let since_secs = since.map_or(0, |s| s.div_euclid(1_000).max(0) as u64) as u32;
        let mut scratch = self.scratch.borrow_mut();
        self.engine
            .log
            .run(slot, &mut scratch)
            .iter()
            .filter(|&&e| log::name(e) == code && log::ts(e) >= since_secs)
            .count() as u32
    }

    fn orders(
        &self,
        measure: OrderMeasure,
        since: Option<i64>,
        product: Option<&str>,
        category: Option<&str>,
        now: i64,
    ) -> Option<f64> {
        self.snapshot
            .orders(self.c.row.id, measure, since, product, category, now)
    }

    fn rfm_cell(&self) -> Option<&str> {
        self.snapshot.rfm_cell(self.c.row.id)
    }

    fn value(&self, measure: ValueMeasure) -> Option<f64> {
        let v = self.snapshot.value(self.c.row.id);
        match measure {
            ValueMeasure::Clv => v.clv,
            ValueMeasure::ProbabilityAlive => v.probability_alive,
            ValueMeasure::ExpectedPurchases => v.expected_purchases,
        }
    }

    fn tier(&self) -> Option<&str> {
        self.loyalty.tiers.get(&self.c.row.id).map(String::as_str)
    }

    fn loyalty(&self, measure: LoyaltyMeasure) -> Option<f64> {
        match measure {
            LoyaltyMeasure::Points => self.loyalty.points.get(&self.c.row.id).copied(),
        }
    }
}
