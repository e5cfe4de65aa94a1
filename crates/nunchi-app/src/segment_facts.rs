//! The facts segment rules read, gathered for one customer at a time: the profile from
//! the store, events from the analytics engine, orders and the models from the
//! customer-models snapshot, and — only when a rule asks — NPS answers, loyalty tiers and
//! points. A full evaluation walks every customer; the upkeep walks only those touched
//! or due. Both judge a customer through [`judge`], so they cannot disagree.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
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
    /// The sources `rules` read for everyone, as of now.
    pub async fn load(app: &App, rules: &[&Rule]) -> Result<Sources> {
        let snapshot = customer_models::snapshot(app).await?;
        Sources::with(app, snapshot, rules, Whose::Everyone).await
    }

    /// The sources `rules` read for `whose`, with these models.
    pub async fn with(
        app: &App,
        snapshot: Arc<Snapshot>,
        rules: &[&Rule],
        whose: Whose<'_>,
    ) -> Result<Sources> {
        Ok(Sources {
            snapshot,
            on_demand: OnDemand::load(app, rules, whose).await?,
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

/// Whose on-demand facts to read: everyone (a full evaluation) or a few (a round).
#[derive(Clone, Copy)]
pub(crate) enum Whose<'a> {
    Everyone,
    Customers(&'a [i64]),
}

/// One feedback item as rules read it.
struct FeedbackFact {
    at: i64,
    metric: Option<&'static str>,
    rating: Option<f64>,
    sentiment: Option<f64>,
    /// Each topic's key and labels, lower case.
    topics: Vec<String>,
}

/// Read only when a rule asks for them: tiers, points, feedback, open conversations and
/// the members of segments rules name.
#[derive(Default)]
struct OnDemand {
    tiers: HashMap<i64, String>,
    points: HashMap<i64, f64>,
    /// Each customer's feedback, newest first (employee pulse answers are not theirs).
    feedback: HashMap<i64, Vec<FeedbackFact>>,
    open_conversations: HashSet<i64>,
    /// (segment, customer) for the segments rules name.
    memberships: HashSet<(i64, i64)>,
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

/// The segments a rule names.
pub(crate) fn named_segments(rule: &Rule, out: &mut Vec<i64>) {
    match rule {
        Rule::All { rules } | Rule::Any { rules } => {
            rules.iter().for_each(|r| named_segments(r, out))
        }
        Rule::Not { rule } => named_segments(rule, out),
        Rule::Segment { segment } => out.push(*segment),
        _ => {}
    }
}

/// Feedback read per page when reading everyone's.
const FEEDBACK_PAGE: i64 = 5_000;
/// Conversations read per page when finding everyone's open ones.
const CONVERSATION_PAGE: i64 = 2_000;
/// Up to this many customers, a round reads their ledgers one by one, not every ledger.
const LEDGERS_ONE_BY_ONE: usize = 500;

impl OnDemand {
    async fn load(app: &App, rules: &[&Rule], whose: Whose<'_>) -> Result<OnDemand> {
        let any = |want: &dyn Fn(&Rule) -> bool| rules.iter().any(|r| reads(r, &want));
        let mut out = OnDemand::default();
        if any(&|r| matches!(r, Rule::Tier { .. })) {
            for (customer, tier, _) in app.store.loyalty_tiers_held().await? {
                if let Some(t) = tier {
                    out.tiers.insert(customer, t);
                }
            }
        }
        if any(&|r| {
            matches!(
                r,
                Rule::Nps { .. }
                    | Rule::Rating { .. }
                    | Rule::Sentiment { .. }
                    | Rule::Topic { .. }
            )
        }) {
            out.load_feedback(app, whose).await?;
        }
        if any(&|r| matches!(r, Rule::OpenConversation {})) {
            out.load_open_conversations(app, whose).await?;
        }
        let mut segments = Vec::new();
        rules.iter().for_each(|r| named_segments(r, &mut segments));
        if !segments.is_empty() {
            match whose {
                Whose::Everyone => {
                    for s in segments {
                        for c in app.store.segment_member_ids(s).await? {
                            out.memberships.insert((s, c));
                        }
                    }
                }
                Whose::Customers(ids) => {
                    out.memberships
                        .extend(app.store.segment_memberships(ids).await?);
                }
            }
        }
        if any(&|r| matches!(r, Rule::Loyalty { .. })) {
            let now = app.now();
            match whose {
                // A round's few customers: their own ledgers.
                Whose::Customers(ids) if ids.len() <= LEDGERS_ONE_BY_ONE => {
                    for &c in ids {
                        let ledger = app.store.loyalty_ledger(c).await?;
                        out.points.insert(c, ledger.balance(now) as f64);
                    }
                }
                // Every ledger in one read (a query per customer would be two per member).
                _ => {
                    for (customer, ledger) in app.store.all_loyalty_ledgers().await? {
                        out.points.insert(customer, ledger.balance(now) as f64);
                    }
                }
            }
        }
        Ok(out)
    }

    async fn load_feedback(&mut self, app: &App, whose: Whose<'_>) -> Result<()> {
        let mut keep = |f: nunchi_store::model::Feedback| {
            let (Some(customer), false) = (f.customer_id, f.source.as_str() == "employee") else {
                return;
            };
            let topics = f
                .topics
                .iter()
                .flat_map(|j| j.0.iter())
                .flat_map(|t| {
                    [
                        t.topic.to_lowercase(),
                        t.ko.to_lowercase(),
                        t.en.to_lowercase(),
                    ]
                })
                .filter(|t| !t.is_empty())
                .collect();
            self.feedback
                .entry(customer)
                .or_default()
                .push(FeedbackFact {
                    at: f.created_at,
                    metric: f.metric.map(|m| m.as_str()),
                    rating: f.rating,
                    sentiment: f.sentiment,
                    topics,
                });
        };
        match whose {
            Whose::Customers(ids) => {
                for f in app
                    .store
                    .feedback_of_customers(ids, i64::MIN, i64::from(u32::MAX))
                    .await?
                {
                    keep(f);
                }
            }
            Whose::Everyone => {
                let mut before = None;
                loop {
                    let page = app
                        .store
                        .list_feedback(&nunchi_store::model::FeedbackFilter {
                            before_id: before,
                            limit: FEEDBACK_PAGE,
                            ..Default::default()
                        })
                        .await?;
                    let done = (page.len() as i64) < FEEDBACK_PAGE;
                    before = page.last().map(|f| f.id);
                    page.into_iter().for_each(&mut keep);
                    if done || before.is_none() {
                        break;
                    }
                }
            }
        }
        // Newest first, whatever order the reads gave.
        for items in self.feedback.values_mut() {
            items.sort_by_key(|f| std::cmp::Reverse(f.at));
        }
        Ok(())
    }

    async fn load_open_conversations(&mut self, app: &App, whose: Whose<'_>) -> Result<()> {
        use nunchi_core::conversation::ConversationStatus as S;
        use nunchi_store::model::ConversationFilter;
        match whose {
            Whose::Customers(ids) => {
                for &c in ids {
                    let open = app
                        .store
                        .conversations(&ConversationFilter {
                            customer_id: Some(c),
                            limit: 1_000,
                            ..Default::default()
                        })
                        .await?
                        .iter()
                        .any(|v| v.status != S::Resolved);
                    if open {
                        self.open_conversations.insert(c);
                    }
                }
            }
            Whose::Everyone => {
                for status in [S::Open, S::Pending, S::Snoozed] {
                    let mut before = None;
                    loop {
                        let page = app
                            .store
                            .conversations(&ConversationFilter {
                                status: Some(status),
                                before,
                                limit: CONVERSATION_PAGE,
                                ..Default::default()
                            })
                            .await?;
                        self.open_conversations
                            .extend(page.iter().map(|v| v.customer_id));
                        match page.last() {
                            Some(l) if page.len() as i64 == CONVERSATION_PAGE => {
                                before = Some((l.last_message_at, l.id));
                            }
                            _ => break,
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// A customer's feedback at or after `since`, newest first.
    fn feedback_since(
        &self,
        customer: i64,
        since: Option<i64>,
    ) -> impl Iterator<Item = &FeedbackFact> {
        self.feedback
            .get(&customer)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .take_while(move |f| since.is_none_or(|s| f.at >= s))
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

    fn on_demand(&self) -> &OnDemand {
        &self.judge.sources.on_demand
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
        self.latest_rating("nps", None)
            .map(|(r, _)| nunchi_core::segment::nps_group(r))
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
            // No ledger is no points, however the ledgers were read.
            LoyaltyMeasure::Points => Some(
                self.on_demand()
                    .points
                    .get(&self.id())
                    .copied()
                    .unwrap_or(0.0),
            ),
        }
    }

    fn latest_rating(&self, metric: &str, since: Option<i64>) -> Option<(f64, i64)> {
        self.on_demand()
            .feedback_since(self.id(), since)
            .find(|f| f.metric == Some(metric) && f.rating.is_some())
            .and_then(|f| Some((f.rating?, f.at)))
    }

    fn sentiment(&self, since: Option<i64>) -> Option<(f64, i64)> {
        let (mut sum, mut n, mut first) = (0.0, 0u32, None);
        for f in self.on_demand().feedback_since(self.id(), since) {
            if let Some(s) = f.sentiment {
                sum += s;
                n += 1;
                first = Some(f.at);
            }
        }
        first.map(|at| (sum / f64::from(n), at))
    }

    fn mentions(&self, topic: &str, negative: bool, since: Option<i64>) -> (u32, Option<i64>) {
        let topic = topic.trim().to_lowercase();
        self.on_demand()
            .feedback_since(self.id(), since)
            .filter(|f| !negative || f.sentiment.is_some_and(|s| s < 0.0))
            .filter(|f| f.topics.contains(&topic))
            .fold((0, None), |(n, _), f| (n + 1, Some(f.at)))
    }

    fn open_conversation(&self) -> bool {
        self.on_demand().open_conversations.contains(&self.id())
    }

    fn has_identity(&self, kind: &str) -> bool {
        self.c.identities.iter().any(|i| i.kind.as_str() == kind)
    }

    fn in_segment(&self, segment: i64) -> bool {
        self.on_demand().memberships.contains(&(segment, self.id()))
    }

    fn event_span(&self, name: Option<&str>) -> Option<(i64, i64)> {
        let engine = self.judge.engine;
        let slot = engine.slot(Who::Customer(self.id()))?;
        let code = match name {
            Some(n) => Some(engine.log.names.code(n)?),
            None => None,
        };
        let mut scratch = self.judge.scratch.borrow_mut();
        let run = engine.log.run(slot, &mut scratch);
        let mut kept = run
            .iter()
            .filter(|&&e| code.is_none_or(|c| log::name(e) == c))
            .map(|&e| i64::from(log::ts(e)) * 1_000);
        let first = kept.next()?;
        Some((first, kept.next_back().unwrap_or(first)))
    }
}
