//! Segments as operations: a rule is checked against what nunchi holds (the attributes
//! declared, the events seen, the loyalty tiers, the RFM cells), previewed (how many match
//! now, a few of them, the rule as a sentence in Korean and English), saved, and
//! evaluated: every customer against the same facts the rule language names — the
//! profile from the store, events from the analytics engine, orders and the models from
//! the customer-models snapshot, NPS answers from the feedback, tiers and points from the
//! loyalty ledger — and the
//! difference from the stored members recorded as entries and exits with their time.
//! [`SegmentRefreshJob`] re-evaluates every live segment every few minutes, so members
//! follow new data and time-relative rules move with the clock.

use std::collections::HashMap;

use nunchi_analytics::log;
use nunchi_analytics::rfm;
use nunchi_core::access::Permission;
use nunchi_core::customer::AttributeType;
use nunchi_core::segment::check::{self, Schema};
use nunchi_core::segment::eval::{self, Facts};
use nunchi_core::segment::{LoyaltyMeasure, OrderMeasure, Rule, ValueMeasure, describe};
use nunchi_store::model::{Customer, NewSegment, Segment, SegmentChange, SegmentDay};
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
    checked(app, rule).await?;
    let found = matching(app, rule).await?;
    Ok(Preview {
        customers: found.ids.len() as u64,
        of: found.of,
        sample: found.sample,
        sentence_ko: describe::describe(rule, true),
        sentence_en: describe::describe(rule, false),
        time_relative: rule.time_relative(),
    })
}

async fn checked(app: &App, rule: &Rule) -> Result<()> {
    check::check(rule, &schema(app).await?)
        .map_err(|e| Error::invalid("invalid_rule", e.to_string()))
}

/// Who matches a rule now.
struct Matching {
    /// Ascending.
    ids: Vec<i64>,
    of: u64,
    sample: Vec<SampleCustomer>,
}

async fn matching(app: &App, rule: &Rule) -> Result<Matching> {
    let snapshot = customer_models::snapshot(app).await?;
    let on_demand = OnDemand::load(app, rule).await?;
    let now = app.now();
    let mut ids = Vec::new();
    let mut of = 0u64;
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
                on_demand: &on_demand,
                scratch: std::cell::RefCell::new(std::mem::take(&mut scratch)),
            };
            let yes = eval::matches(rule, &facts, now);
            scratch = facts.scratch.into_inner();
            if yes {
                ids.push(c.row.id);
                if sample.len() < SAMPLE {
                    sample.push(SampleCustomer {
                        id: c.row.id,
                        name: c.row.name.clone(),
                    });
                }
            }
        }
    }
    Ok(Matching { ids, of, sample })
}

/// Tiers, points and NPS groups: read only when the rule asks for them.
#[derive(Default)]
struct OnDemand {
    tiers: HashMap<i64, String>,
    points: HashMap<i64, f64>,
    /// Each customer's latest NPS answer: (when, group).
    nps: HashMap<i64, (i64, &'static str)>,
}

fn reads(rule: &Rule, want: &impl Fn(&Rule) -> bool) -> bool {
    want(rule)
        || match rule {
            Rule::All { rules } | Rule::Any { rules } => rules.iter().any(|r| reads(r, want)),
            Rule::Not { rule } => reads(rule, want),
            _ => false,
        }
}

impl OnDemand {
    async fn load(app: &App, rule: &Rule) -> Result<OnDemand> {
        let mut out = OnDemand::default();
        if reads(rule, &|r| matches!(r, Rule::Tier { .. })) {
            for (customer, tier, _) in app.store.loyalty_tiers_held().await? {
                if let Some(t) = tier {
                    out.tiers.insert(customer, t);
                }
            }
        }
        if reads(rule, &|r| matches!(r, Rule::Nps { .. })) {
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
        if reads(rule, &|r| matches!(r, Rule::Loyalty { .. })) {
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
    snapshot: &'a Snapshot,
    engine: &'a Engine,
    on_demand: &'a OnDemand,
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

    fn nps_group(&self) -> Option<&str> {
        self.on_demand.nps.get(&self.c.row.id).map(|(_, g)| *g)
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
        self.on_demand.tiers.get(&self.c.row.id).map(String::as_str)
    }

    fn loyalty(&self, measure: LoyaltyMeasure) -> Option<f64> {
        match measure {
            LoyaltyMeasure::Points => self.on_demand.points.get(&self.c.row.id).copied(),
        }
    }
}

/// A rule from JSON; the error is serde's message, naming an unknown field or condition.
pub fn parse_rule(json: &str) -> std::result::Result<Rule, String> {
    serde_json::from_str(json).map_err(|e| format!("rule: {e}"))
}

/// A segment to save: its name, what it is for, and its rule.
#[derive(Debug, Clone)]
pub struct SegmentInput {
    pub name: String,
    pub description: String,
    pub rule: Rule,
}

/// A segment with its rule read out and its recent movement.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SegmentView {
    #[serde(flatten)]
    pub segment: Segment,
    pub sentence_ko: String,
    pub sentence_en: String,
}

fn view(segment: Segment) -> SegmentView {
    let rule = parse_rule(&segment.rule).ok();
    let say = |ko| {
        rule.as_ref()
            .map_or_else(String::new, |r| describe::describe(r, ko))
    };
    SegmentView {
        sentence_ko: say(true),
        sentence_en: say(false),
        segment,
    }
}

fn checked_name(input: &SegmentInput) -> Result<(String, String)> {
    let name = crate::error::required_text(
        &input.name,
        100,
        "invalid_name",
        "a segment needs a name of 1 to 100 characters",
    )?;
    let description = input.description.trim();
    if description.chars().count() > 1_000 {
        return Err(Error::invalid(
            "invalid_description",
            "the description is at most 1,000 characters",
        ));
    }
    Ok((name.to_string(), description.to_string()))
}

/// Stores a new segment (a taken name is a conflict) and records who made it.
async fn insert(
    app: &App,
    actor: &Actor,
    name: String,
    description: String,
    kind: &str,
    rule: String,
) -> Result<i64> {
    let id = app
        .store
        .create_segment(&NewSegment {
            name: name.clone(),
            description,
            kind: kind.into(),
            rule,
            created_by: actor.name.clone(),
        })
        .await
        .map_err(|e| match e {
            nunchi_store::StoreError::Conflict(_) => {
                Error::Conflict(format!("a segment named {name:?} exists"))
            }
            other => other.into(),
        })?;
    app.audit_by(actor, "segment.create", &format!("segment {id}"), &name)
        .await;
    Ok(id)
}

/// Saves a live segment and evaluates it at once.
pub async fn create(app: &App, actor: &Actor, input: &SegmentInput) -> Result<SegmentView> {
    if !actor.can(Permission::CustomersWrite) {
        return Err(Error::Forbidden);
    }
    let (name, description) = checked_name(input)?;
    checked(app, &input.rule).await?;
    let rule = serde_json::to_string(&input.rule).map_err(|e| Error::Internal(e.into()))?;
    let id = insert(app, actor, name, description, "live", rule).await?;
    evaluate(app, id).await?;
    Ok(view(app.store.segment(id).await?))
}

/// Changes a segment's name, description and rule, and evaluates it again.
pub async fn update(
    app: &App,
    actor: &Actor,
    id: i64,
    input: &SegmentInput,
) -> Result<SegmentView> {
    if !actor.can(Permission::CustomersWrite) {
        return Err(Error::Forbidden);
    }
    let (name, description) = checked_name(input)?;
    if app.store.segment(id).await?.kind != "live" {
        return Err(Error::invalid(
            "static_segment",
            "a static segment's members are fixed: create a live segment to follow a rule",
        ));
    }
    checked(app, &input.rule).await?;
    let rule = serde_json::to_string(&input.rule).map_err(|e| Error::Internal(e.into()))?;
    app.store
        .update_segment(id, &name, &description, &rule)
        .await?;
    app.audit_by(actor, "segment.update", &format!("segment {id}"), &name)
        .await;
    evaluate(app, id).await?;
    Ok(view(app.store.segment(id).await?))
}

pub async fn delete(app: &App, actor: &Actor, id: i64) -> Result<()> {
    if !actor.can(Permission::CustomersWrite) {
        return Err(Error::Forbidden);
    }
    let segment = app.store.segment(id).await?;
    app.store.delete_segment(id).await?;
    app.audit_by(
        actor,
        "segment.delete",
        &format!("segment {id}"),
        &segment.name,
    )
    .await;
    Ok(())
}

pub async fn list(app: &App, actor: &Actor) -> Result<Vec<SegmentView>> {
    if !actor.can(Permission::CustomersRead) {
        return Err(Error::Forbidden);
    }
    Ok(app.store.segments().await?.into_iter().map(view).collect())
}

pub async fn get(app: &App, actor: &Actor, id: i64) -> Result<SegmentView> {
    if !actor.can(Permission::CustomersRead) {
        return Err(Error::Forbidden);
    }
    Ok(view(app.store.segment(id).await?))
}

/// The newest entries and exits, and entries and exits per day.
pub async fn history(
    app: &App,
    actor: &Actor,
    id: i64,
) -> Result<(Vec<SegmentChange>, Vec<SegmentDay>)> {
    if !actor.can(Permission::CustomersRead) {
        return Err(Error::Forbidden);
    }
    app.store.segment(id).await?;
    Ok((
        app.store.segment_changes(id, 200).await?,
        app.store.segment_days(id).await?,
    ))
}

/// Saves a static segment with these members (a fixed list: evaluation leaves it alone).
async fn create_static(
    app: &App,
    actor: &Actor,
    name: &str,
    description: &str,
    mut members: Vec<i64>,
    reason: &str,
) -> Result<SegmentView> {
    if !actor.can(Permission::CustomersWrite) {
        return Err(Error::Forbidden);
    }
    let (name, description) = checked_name(&SegmentInput {
        name: name.to_string(),
        description: description.to_string(),
        rule: Rule::All { rules: vec![] },
    })?;
    let id = insert(app, actor, name, description, "static", String::new()).await?;
    members.sort_unstable();
    members.dedup();
    app.store
        .apply_segment_changes(id, &members, &[], app.now(), reason)
        .await?;
    Ok(view(app.store.segment(id).await?))
}

/// Freezes a segment's members now into a new static segment.
pub async fn freeze(app: &App, actor: &Actor, id: i64, name: &str) -> Result<SegmentView> {
    let source = app.store.segment(id).await?;
    let members = app.store.segment_member_ids(id).await?;
    let when = jiff::Timestamp::from_millisecond(app.now())
        .map(|t| {
            t.to_zoned(app.config.time_zone.clone())
                .strftime("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_default();
    let description = format!("{} · {when}", source.name);
    create_static(
        app,
        actor,
        name,
        &description,
        members,
        &format!("frozen from segment {id}"),
    )
    .await
}

/// A row of a customer list that names no customer, by its line in the file.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Rejected {
    pub line: u64,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Imported {
    pub segment: SegmentView,
    pub rejected: Vec<Rejected>,
}

/// The columns a customer list may name its customers by, in the order they are tried.
const LIST_COLUMNS: [&str; 4] = ["customer_id", "external_id", "email", "phone"];

/// A static segment from a CSV list of customers: a header naming `customer_id`,
/// `external_id`, `email` or `phone` (the first of these present is used); rows naming no
/// customer are reported by line and the rest are kept.
pub async fn import_static(
    app: &App,
    actor: &Actor,
    name: &str,
    description: &str,
    csv_text: &str,
) -> Result<Imported> {
    if !actor.can(Permission::CustomersWrite) {
        return Err(Error::Forbidden);
    }
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(csv_text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| Error::invalid("invalid_csv", format!("cannot read the header: {e}")))?
        .clone();
    let Some((col, kind)) = LIST_COLUMNS.iter().find_map(|k| {
        headers
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(k))
            .map(|i| (i, *k))
    }) else {
        return Err(Error::invalid(
            "invalid_csv",
            "the header must name customer_id, external_id, email or phone",
        ));
    };
    let mut members = Vec::new();
    let mut rejected = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = record
            .as_ref()
            .ok()
            .and_then(|r| r.position().map(|p| p.line()))
            .unwrap_or(i as u64 + 2);
        let value = match &record {
            Ok(r) => r.get(col).unwrap_or("").trim().to_string(),
            Err(e) => {
                rejected.push(Rejected {
                    line,
                    reason: format!("unreadable row: {e}"),
                });
                continue;
            }
        };
        let found = if kind == "customer_id" {
            match value.parse::<i64>() {
                Ok(id) => app.store.customer(id).await.ok().map(|c| c.row.id),
                Err(_) => None,
            }
        } else {
            match nunchi_core::identity::Identity::parse(kind, &value) {
                Ok(identity) => app.store.find_by_identity(&identity).await?,
                Err(e) => {
                    rejected.push(Rejected {
                        line,
                        reason: e.to_string(),
                    });
                    continue;
                }
            }
        };
        match found {
            Some(id) => members.push(id),
            None => rejected.push(Rejected {
                line,
                reason: format!("no customer with {kind} {value:?}"),
            }),
        }
    }
    let segment = create_static(app, actor, name, description, members, "imported list").await?;
    Ok(Imported { segment, rejected })
}

/// The customers a report is narrowed to: those with `tag`, those in saved segment
/// `segment`, or both (their intersection); `None` when neither is named. Ascending.
pub async fn members_of(
    app: &App,
    tag: Option<&str>,
    segment: Option<i64>,
) -> Result<Option<Vec<i64>>> {
    let tagged = match tag.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => {
            let mut ids = app.store.customers_tagged(t).await?;
            ids.sort_unstable();
            Some(ids)
        }
        None => None,
    };
    let listed = match segment {
        Some(id) => Some(app.store.segment_member_ids(id).await?),
        None => None,
    };
    Ok(match (tagged, listed) {
        (Some(a), Some(b)) => Some(
            a.into_iter()
                .filter(|c| b.binary_search(c).is_ok())
                .collect(),
        ),
        (a, b) => a.or(b),
    })
}

/// What one evaluation changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Evaluated {
    pub entered: usize,
    pub left: usize,
    pub members: usize,
}

/// Evaluates a live segment now and records who entered and who left. A rule that no
/// longer checks (an attribute or tier since removed) leaves the members as they are.
pub async fn evaluate(app: &App, id: i64) -> Result<Evaluated> {
    let segment = app.store.segment(id).await?;
    if segment.kind != "live" {
        return Ok(Evaluated::default());
    }
    let rule = parse_rule(&segment.rule).map_err(|e| Error::invalid("invalid_rule", e))?;
    checked(app, &rule).await?;
    let now_members = matching(app, &rule).await?.ids;
    let before = app.store.segment_member_ids(id).await?;
    let (entered, left) = difference(&before, &now_members);
    let at = app.now();
    app.store
        .apply_segment_changes(id, &entered, &left, at, "rule")
        .await?;
    Ok(Evaluated {
        entered: entered.len(),
        left: left.len(),
        members: now_members.len(),
    })
}

/// (in `after` only, in `before` only), both sorted ascending.
fn difference(before: &[i64], after: &[i64]) -> (Vec<i64>, Vec<i64>) {
    let (mut entered, mut left) = (Vec::new(), Vec::new());
    let (mut i, mut j) = (0, 0);
    while i < before.len() || j < after.len() {
        match (before.get(i), after.get(j)) {
            (Some(b), Some(a)) if b == a => {
                i += 1;
                j += 1;
            }
            (Some(b), Some(a)) if b < a => {
                left.push(*b);
                i += 1;
            }
            (Some(_), Some(a)) | (None, Some(a)) => {
                entered.push(*a);
                j += 1;
            }
            (Some(b), None) => {
                left.push(*b);
                i += 1;
            }
            (None, None) => break,
        }
    }
    (entered, left)
}

/// How often live segments are evaluated again.
pub const REFRESH_MS: i64 = 5 * 60_000;

/// Re-evaluates every live segment, then queues itself again.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct SegmentRefreshJob {}

impl crate::jobs::Job for SegmentRefreshJob {
    const KIND: &'static str = "segment_refresh";

    async fn run(self, app: &App) -> anyhow::Result<String> {
        let mut done = Vec::new();
        for s in app
            .store
            .segments()
            .await?
            .into_iter()
            .filter(|s| s.kind == "live")
        {
            match evaluate(app, s.id).await {
                Ok(e) => done.push((s.id, e)),
                Err(e) => tracing::warn!(segment = s.id, error = %e, "segment not evaluated"),
            }
        }
        if !app.store.job_queued(Self::KIND).await? {
            crate::jobs::enqueue_at(app, &SegmentRefreshJob {}, app.now() + REFRESH_MS).await?;
        }
        Ok(serde_json::to_string(&done)?)
    }
}

/// Queues the refresh unless one is already waiting (at server start).
pub async fn ensure_scheduled(app: &App) -> anyhow::Result<()> {
    use crate::jobs::Job;
    if !app.store.job_queued(SegmentRefreshJob::KIND).await? {
        crate::jobs::enqueue(app, &SegmentRefreshJob {}).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::difference;

    #[test]
    fn difference_finds_who_entered_and_who_left() {
        assert_eq!(
            difference(&[1, 3, 5, 7], &[2, 3, 7, 9]),
            (vec![2, 9], vec![1, 5])
        );
        assert_eq!(difference(&[], &[4]), (vec![4], vec![]));
        assert_eq!(difference(&[4], &[]), (vec![], vec![4]));
    }
}
