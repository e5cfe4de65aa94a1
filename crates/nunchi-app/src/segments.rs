//! Segments as operations: a rule is checked against what nunchi holds (the attributes
//! declared, the events seen, the loyalty tiers, the RFM cells), previewed (how many match
//! now, a few of them, the rule as a sentence in Korean and English), saved, imported from
//! a list or frozen. Who is in a live segment is kept by [`crate::segment_upkeep`], which
//! records every entry and exit with its time; [`SegmentRefreshJob`] judges every live
//! segment in full once an hour besides, for data that reached the store some other way.

use nunchi_analytics::rfm;
use nunchi_core::access::Permission;
use nunchi_core::segment::check::{self, Schema};
use nunchi_core::segment::{Rule, describe};
use nunchi_store::model::{NewSegment, Segment, SegmentChange, SegmentDay};
use serde::Serialize;
use utoipa::ToSchema;

use crate::segment_facts::{matching, poisoned};
pub use crate::segment_upkeep::evaluate;
use crate::{App, Error, Result, actor::Actor};

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
    // A rule may name a segment that names none itself: membership never goes in a circle.
    let segments = app
        .store
        .segments()
        .await?
        .into_iter()
        .filter(|s| {
            parse_rule(&s.rule).map_or(true, |r| {
                let mut named = Vec::new();
                crate::segment_facts::named_segments(&r, &mut named);
                named.is_empty()
            })
        })
        .map(|s| s.id)
        .collect();
    Ok(Schema {
        attributes,
        events,
        tiers: program.tiers.iter().map(|t| t.key.clone()).collect(),
        rfm_cells: rfm::Cell::ALL.iter().map(|c| c.key().to_string()).collect(),
        segments,
    })
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
    checked(app, rule, None).await?;
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

/// Checks a rule for segment `this` (none: a new one), which its rule may not name.
pub(crate) async fn checked(app: &App, rule: &Rule, this: Option<i64>) -> Result<()> {
    let mut schema = schema(app).await?;
    schema.segments.retain(|&s| Some(s) != this);
    check::check(rule, &schema).map_err(|e| Error::invalid("invalid_rule", e.to_string()))?;
    let mut names = Vec::new();
    crate::segment_facts::named_segments(rule, &mut names);
    if let (Some(id), false) = (this, names.is_empty()) {
        // One level only: a segment others name may not name one itself.
        let named_by_others = app.store.segments().await?.iter().any(|s| {
            parse_rule(&s.rule).is_ok_and(|r| {
                let mut n = Vec::new();
                crate::segment_facts::named_segments(&r, &mut n);
                n.contains(&id)
            })
        });
        if named_by_others {
            return Err(Error::invalid(
                "invalid_rule",
                "other segments name this one, so its rule may not name a segment (one level only)",
            ));
        }
    }
    Ok(())
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
    /// Customers who entered and who left in the last 7 days (UTC days, today included).
    pub entered_7d: i64,
    pub left_7d: i64,
}

/// Days of movement a segment's view sums.
const WEEK_DAYS: i64 = 7;

async fn view(app: &App, segment: Segment) -> Result<SegmentView> {
    let rule = parse_rule(&segment.rule).ok();
    let say = |ko| {
        rule.as_ref()
            .map_or_else(String::new, |r| describe::describe(r, ko))
    };
    let today = app.now().div_euclid(86_400_000);
    let (mut entered_7d, mut left_7d) = (0, 0);
    for d in app.store.segment_days(segment.id).await? {
        if d.day > today - WEEK_DAYS {
            entered_7d += d.entered;
            left_7d += d.left;
        }
    }
    Ok(SegmentView {
        sentence_ko: say(true),
        sentence_en: say(false),
        entered_7d,
        left_7d,
        segment,
    })
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
    if !actor.can(Permission::SegmentsManage) {
        return Err(Error::Forbidden);
    }
    let (name, description) = checked_name(input)?;
    checked(app, &input.rule, None).await?;
    let rule = serde_json::to_string(&input.rule).map_err(|e| Error::Internal(e.into()))?;
    let id = insert(app, actor, name, description, "live", rule).await?;
    evaluate(app, id).await?;
    view(app, app.store.segment(id).await?).await
}

/// Changes a segment's name, description and rule, and evaluates it again.
pub async fn update(
    app: &App,
    actor: &Actor,
    id: i64,
    input: &SegmentInput,
) -> Result<SegmentView> {
    if !actor.can(Permission::SegmentsManage) {
        return Err(Error::Forbidden);
    }
    let (name, description) = checked_name(input)?;
    if app.store.segment(id).await?.kind != "live" {
        return Err(Error::invalid(
            "static_segment",
            "a static segment's members are fixed: create a live segment to follow a rule",
        ));
    }
    checked(app, &input.rule, Some(id)).await?;
    let rule = serde_json::to_string(&input.rule).map_err(|e| Error::Internal(e.into()))?;
    app.store
        .update_segment(id, &name, &description, &rule)
        .await?;
    app.audit_by(actor, "segment.update", &format!("segment {id}"), &name)
        .await;
    evaluate(app, id).await?;
    view(app, app.store.segment(id).await?).await
}

pub async fn delete(app: &App, actor: &Actor, id: i64) -> Result<()> {
    if !actor.can(Permission::SegmentsManage) {
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
    let mut out = Vec::new();
    for s in app.store.segments().await? {
        out.push(view(app, s).await?);
    }
    Ok(out)
}

pub async fn get(app: &App, actor: &Actor, id: i64) -> Result<SegmentView> {
    if !actor.can(Permission::CustomersRead) {
        return Err(Error::Forbidden);
    }
    view(app, app.store.segment(id).await?).await
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
    if !actor.can(Permission::SegmentsManage) {
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
    view(app, app.store.segment(id).await?).await
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
    if !actor.can(Permission::SegmentsManage) {
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

/// How often every live segment is judged in full besides the upkeep's rounds.
pub const REFRESH_MS: i64 = 60 * 60_000;

/// Judges every live segment in full, then queues itself again.
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

/// Queues the refresh unless one is already waiting (at server start, where the upkeep's
/// first round judges every segment in full, so the refresh waits its interval).
pub async fn ensure_scheduled(app: &App) -> anyhow::Result<()> {
    use crate::jobs::Job;
    if !app.store.job_queued(SegmentRefreshJob::KIND).await? {
        crate::jobs::enqueue_at(app, &SegmentRefreshJob {}, app.now() + REFRESH_MS).await?;
    }
    Ok(())
}
