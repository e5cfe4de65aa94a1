//! The feedback stream's edge and its annotator. Feedback from the API or a CSV file is
//! checked field by field into a `NewFeedback` (source, rating on its scale, customer by
//! id or external id, touchpoint, stage, channel, date); the annotator reads new text in
//! the background — language, sentiment and topics from `nunchi-text` — and fills the
//! annotations in, then runs the closed-loop rules, which open follow-ups. Its queues are
//! the feedback table itself (rows not yet annotated, not yet looked at by the rules), so
//! nothing is lost across a restart.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use nunchi_core::channel::Channel;
use nunchi_core::closed_loop::{self, TopicMention};
use nunchi_core::feedback::{Metric, Rating, Source};
use nunchi_core::identity::{Identity, IdentityKind};
use nunchi_core::time::Millis;
use nunchi_store::model::{Added, Feedback, LoopRule, NewFollowUp, Stage};
use nunchi_store::model::{Annotation, NewFeedback};
use nunchi_store::{Store, StoreError};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use utoipa::ToSchema;

use crate::jobs::Job;
use crate::{mail::EmailJob, webhooks};

/// Longest text kept, in characters.
pub const MAX_BODY_CHARS: usize = 10_000;
/// Items per API call or per stored group of CSV rows.
pub const MAX_ITEMS: usize = 1_000;
/// Texts annotated per pass.
const ANNOTATE_BATCH: i64 = 500;

/// One piece of feedback as callers send it (JSON body or CSV row).
#[derive(Debug, Clone, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackInput {
    /// survey, review, social, app_store, support or employee.
    pub source: String,
    /// The source's own id; sending it again stores nothing new.
    #[serde(default)]
    pub external_id: Option<String>,
    /// nps, csat, ces or rating (any other scale; 1–5 unless given).
    #[serde(default)]
    pub metric: Option<String>,
    #[serde(default)]
    pub rating: Option<f64>,
    #[serde(default)]
    pub scale_min: Option<f64>,
    #[serde(default)]
    pub scale_max: Option<f64>,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub author: Option<String>,
    #[serde(default)]
    pub customer_id: Option<i64>,
    /// The customer's external id, when the sender knows that rather than nunchi's id.
    #[serde(default)]
    pub customer_external_id: Option<String>,
    #[serde(default)]
    pub touchpoint_id: Option<i64>,
    /// A journey stage's key (e.g. `delivery`).
    #[serde(default)]
    pub stage: Option<String>,
    #[serde(default)]
    pub team_id: Option<i64>,
    /// web, app, store, phone, email, messenger, social or custom; from the source if absent.
    #[serde(default)]
    pub channel: Option<String>,
    /// When the customer gave it: RFC 3339, a date, or Unix seconds; now if absent.
    #[serde(default)]
    pub created_at: Option<String>,
}

fn text(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// What items refer to besides customers: read once per request or file, not per item.
pub struct Refs {
    touchpoints: Vec<i64>,
    stages: Vec<Stage>,
}

impl Refs {
    pub async fn load(store: &dyn Store) -> Result<Refs, StoreError> {
        Ok(Refs {
            touchpoints: store.touchpoints().await?.iter().map(|t| t.id).collect(),
            stages: store.stages().await?,
        })
    }
}

/// Checks one item and resolves what it refers to; the error says which field is wrong.
pub async fn prepare(
    store: &dyn Store,
    refs: &Refs,
    input: &FeedbackInput,
    now: i64,
) -> Result<NewFeedback, String> {
    let source = Source::parse(&input.source).map_err(|e| e.to_string())?;
    let rating = match input.rating {
        Some(value) => {
            let metric = match text(&input.metric) {
                Some(m) => Metric::parse(m).map_err(|e| e.to_string())?,
                None => Metric::Rating,
            };
            Some(
                Rating::new(metric, value, input.scale_min, input.scale_max)
                    .map_err(|e| e.to_string())?,
            )
        }
        None if text(&input.metric).is_some() => {
            return Err("rating: a metric was given without a rating".into());
        }
        None => None,
    };
    let body = input.text.as_deref().unwrap_or("").trim().to_string();
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(format!("text: longer than {MAX_BODY_CHARS} characters"));
    }
    if body.is_empty() && rating.is_none() {
        return Err("text: feedback needs a rating, a text or both".into());
    }
    let url = text(&input.url).map(str::to_string);
    if let Some(u) = &url
        && (u.len() > 2_000 || !(u.starts_with("https://") || u.starts_with("http://")))
    {
        return Err("url: an http(s) address of at most 2,000 characters".into());
    }
    let author = text(&input.author).map(str::to_string);
    if author.as_ref().is_some_and(|a| a.chars().count() > 200) {
        return Err("author: at most 200 characters".into());
    }
    let external_id = text(&input.external_id).map(str::to_string);
    if external_id.as_ref().is_some_and(|x| x.len() > 200) {
        return Err("external_id: at most 200 bytes".into());
    }
    let channel = match text(&input.channel) {
        Some(c) => Channel::parse(c).ok_or_else(|| format!("channel: unknown channel {c:?}"))?,
        None => source.default_channel(),
    };
    let created_at = match text(&input.created_at) {
        Some(t) => Millis::parse(t).map_err(|e| e.to_string())?.0,
        None => now,
    };
    if created_at > now + 86_400_000 {
        return Err("created_at: more than a day in the future".into());
    }
    let customer_id = match (input.customer_id, text(&input.customer_external_id)) {
        (Some(id), _) => {
            store
                .customer(id)
                .await
                .map_err(|_| format!("customer_id: no customer {id}"))?;
            Some(id)
        }
        (None, Some(ext)) => {
            let identity =
                Identity::new(IdentityKind::ExternalId, ext).map_err(|e| e.to_string())?;
            Some(
                store
                    .find_by_identity(&identity)
                    .await
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| format!("customer_external_id: no customer {ext:?}"))?,
            )
        }
        (None, None) => None,
    };
    if let Some(t) = input.touchpoint_id
        && !refs.touchpoints.contains(&t)
    {
        return Err(format!("touchpoint_id: no touchpoint {t}"));
    }
    let stage_id = match text(&input.stage) {
        Some(key) => Some(
            refs.stages
                .iter()
                .find(|s| s.key == key || s.id.to_string() == key)
                .map(|s| s.id)
                .ok_or_else(|| format!("stage: no journey stage {key:?}"))?,
        ),
        None => None,
    };
    Ok(NewFeedback {
        source: source.as_str().into(),
        external_id,
        metric: rating.map(|r| r.metric.as_str().into()),
        rating: rating.map(|r| r.value),
        scale_min: rating.map(|r| r.min),
        scale_max: rating.map(|r| r.max),
        score: rating.map(|r| r.normalised),
        body,
        url,
        author,
        customer_id,
        touchpoint_id: input.touchpoint_id,
        stage_id,
        team_id: input.team_id,
        channel: channel.as_str().into(),
        created_at,
    })
}

/// What happened to one item of a batch or one line of a file.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemResult {
    /// The item's index in the batch, or its line in the file (the header is line 1).
    pub at: usize,
    /// created, existing, rejected, or valid (a dry run checked it and stored nothing).
    pub status: &'static str,
    pub id: Option<i64>,
    pub error: Option<String>,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct AddReport {
    pub created: usize,
    pub existing: usize,
    pub rejected: usize,
    /// Every item: rejected ones with the reason.
    pub results: Vec<ItemResult>,
}

impl AddReport {
    pub fn reject(&mut self, at: usize, error: String) {
        self.rejected += 1;
        self.results.push(ItemResult {
            at,
            status: "rejected",
            id: None,
            error: Some(error),
        });
    }

    /// Stores the prepared items in one transaction and records each outcome.
    pub async fn store(
        &mut self,
        store: &dyn Store,
        items: Vec<(usize, NewFeedback)>,
    ) -> Result<(), StoreError> {
        if items.is_empty() {
            return Ok(());
        }
        let rows: Vec<NewFeedback> = items.iter().map(|(_, f)| f.clone()).collect();
        let added = store.add_feedback(&rows).await?;
        for ((at, _), outcome) in items.into_iter().zip(added) {
            let (status, id) = match outcome {
                Added::Created(id) => {
                    self.created += 1;
                    ("created", id)
                }
                Added::Existing(id) => {
                    self.existing += 1;
                    ("existing", id)
                }
            };
            self.results.push(ItemResult {
                at,
                status,
                id: Some(id),
                error: None,
            });
        }
        Ok(())
    }
}

/// The CSV columns, named as the JSON fields; `text` may also be called `body` or `comment`.
pub const CSV_COLUMNS: &[&str] = &[
    "source",
    "external_id",
    "metric",
    "rating",
    "scale_min",
    "scale_max",
    "text",
    "url",
    "author",
    "customer_id",
    "customer_external_id",
    "touchpoint_id",
    "stage",
    "team_id",
    "channel",
    "created_at",
];

/// One CSV row as an input, or what is wrong with its numbers.
fn row_input(header: &[String], row: &[&str]) -> Result<FeedbackInput, String> {
    let mut input = FeedbackInput::default();
    for (name, value) in header.iter().zip(row.iter()) {
        let value = value.trim();
        let some = || (!value.is_empty()).then(|| value.to_string());
        let number = |field: &str| -> Result<Option<f64>, String> {
            some()
                .map(|v| {
                    v.parse::<f64>()
                        .map_err(|_| format!("{field}: not a number: {v:?}"))
                })
                .transpose()
        };
        let id = |field: &str| -> Result<Option<i64>, String> {
            some()
                .map(|v| {
                    v.parse::<i64>()
                        .map_err(|_| format!("{field}: not an id: {v:?}"))
                })
                .transpose()
        };
        match name.as_str() {
            "source" => input.source = value.to_string(),
            "external_id" => input.external_id = some(),
            "metric" => input.metric = some(),
            "rating" => input.rating = number("rating")?,
            "scale_min" => input.scale_min = number("scale_min")?,
            "scale_max" => input.scale_max = number("scale_max")?,
            "text" | "body" | "comment" => input.text = some(),
            "url" => input.url = some(),
            "author" => input.author = some(),
            "customer_id" => input.customer_id = id("customer_id")?,
            "customer_external_id" => input.customer_external_id = some(),
            "touchpoint_id" => input.touchpoint_id = id("touchpoint_id")?,
            "stage" => input.stage = some(),
            "team_id" => input.team_id = id("team_id")?,
            "channel" => input.channel = some(),
            "created_at" => input.created_at = some(),
            _ => {}
        }
    }
    Ok(input)
}

/// Why a feedback file could not be read at all (bad rows are reported, not errors).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0}")]
    Header(String),
    #[error("{0}")]
    Csv(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads a feedback CSV: every bad row reported with its line, the good ones stored in
/// groups of [`MAX_ITEMS`] (nothing stored with `dry_run`). `on_row` hears each row's line.
pub async fn import_csv(
    store: &dyn Store,
    text: &str,
    now: i64,
    dry_run: bool,
    on_row: &(dyn Fn(usize) + Sync),
) -> Result<AddReport, ImportError> {
    let mut records = crate::csv_records::Records::new(text.as_bytes());
    let header: Vec<String> = match records.read() {
        Ok(Some(Ok(record))) => record
            .strs()
            .unwrap_or_default()
            .iter()
            .map(|h| h.trim().to_ascii_lowercase())
            .collect(),
        Ok(Some(Err(broken))) => return Err(ImportError::Csv(broken.reason)),
        Ok(None) => return Err(ImportError::Header("the file is empty".into())),
        Err(e) => return Err(ImportError::Csv(e.to_string())),
    };
    let unknown: Vec<&str> = header
        .iter()
        .map(String::as_str)
        .filter(|h| !CSV_COLUMNS.contains(h) && !matches!(*h, "body" | "comment"))
        .collect();
    if !unknown.is_empty() || !header.iter().any(|h| h == "source") {
        return Err(ImportError::Header(format!(
            "the header needs a source column and may name only {}; unknown: {}",
            CSV_COLUMNS.join(", "),
            unknown.join(", ")
        )));
    }
    let refs = Refs::load(store).await?;
    let mut report = AddReport::default();
    let mut good = Vec::new();
    while let Some(row) = records
        .read()
        .map_err(|e| ImportError::Csv(e.to_string()))?
    {
        let line = match &row {
            Ok(r) => r.line,
            Err(b) => b.line,
        } as usize;
        if row.as_ref().is_ok_and(|r| r.is_blank()) {
            continue;
        }
        on_row(line);
        let prepared = match row {
            Err(broken) => Err(broken.reason),
            Ok(r) if r.len() != header.len() => Err(format!(
                "{} fields where the header has {}",
                r.len(),
                header.len()
            )),
            Ok(r) => match row_input(&header, &r.strs().unwrap_or_default()) {
                Ok(input) => prepare(store, &refs, &input, now).await,
                Err(e) => Err(e),
            },
        };
        match prepared {
            Ok(_) if dry_run => report.results.push(ItemResult {
                at: line,
                status: "valid",
                id: None,
                error: None,
            }),
            Ok(f) => good.push((line, f)),
            Err(e) => report.reject(line, e),
        }
        if good.len() == MAX_ITEMS {
            report.store(store, std::mem::take(&mut good)).await?;
        }
    }
    report.store(store, good).await?;
    report.results.sort_by_key(|r| r.at);
    Ok(report)
}

/// The annotations for one text: language, sentiment and the topics it mentions.
pub fn annotate(body: &str) -> Annotation {
    let analyzer = nunchi_text::Analyzer::shipped();
    let scored = analyzer.sentiment(body);
    let mut labels: Vec<serde_json::Value> = Vec::new();
    for m in nunchi_text::topics::mentions(analyzer, body) {
        if !labels.iter().any(|l| l["topic"] == m.topic.as_str()) {
            labels.push(serde_json::json!({
                "topic": m.topic, "ko": m.label_ko, "en": m.label_en, "score": m.score,
            }));
        }
    }
    Annotation {
        lang: scored.lang.code().into(),
        sentiment: scored.score as f64,
        sentiment_label: scored.label.as_str().into(),
        topics: serde_json::Value::Array(labels).to_string(),
    }
}

/// Wakes the background annotator when new text arrives.
pub struct Annotator {
    wake: Notify,
}

/// What the closed loop needs besides the store: the job runner to wake for the
/// notifications it queues, and the address links in e-mail point to.
#[derive(Clone)]
pub struct LoopContext {
    pub job_wakeup: crate::jobs::Wakeup,
    pub public_url: String,
    pub clock: Arc<dyn crate::Clock>,
}

impl Annotator {
    /// Starts the background task, which drains the queue now, on every wake and at
    /// least every few seconds.
    pub fn start(store: Arc<dyn Store>, cx: LoopContext) -> Arc<Annotator> {
        let annotator = Arc::new(Annotator {
            wake: Notify::new(),
        });
        let me = annotator.clone();
        tokio::spawn(async move {
            loop {
                match drain(store.as_ref(), &cx).await {
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "annotating feedback failed; retrying"),
                }
                let _ = tokio::time::timeout(Duration::from_secs(5), me.wake.notified()).await;
            }
        });
        annotator
    }

    /// An annotator that never runs: the server's picks the text up when it starts.
    pub fn idle() -> Arc<Annotator> {
        Arc::new(Annotator {
            wake: Notify::new(),
        })
    }

    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// The topics annotated on a piece of feedback (none before annotation).
pub fn topics_of(f: &Feedback) -> &[TopicMention] {
    f.topics.as_deref().map_or(&[], Vec::as_slice)
}

/// Whether a closed-loop rule applies to a piece of feedback whose topics are `topics`
/// (`closed_loop::matches`).
pub fn rule_matches(rule: &LoopRule, f: &Feedback, topics: &[TopicMention]) -> bool {
    closed_loop::matches(
        &closed_loop::Conditions {
            source: rule.source,
            max_score: rule.max_score,
            min_score: rule.min_score,
            max_sentiment: rule.max_sentiment,
            topic: rule.topic.as_deref(),
        },
        &closed_loop::Signal {
            source: f.source,
            score: f.score,
            sentiment: f.sentiment,
            topics,
        },
    )
}

/// Runs the closed-loop rules over feedback they have not seen (text feedback once it is
/// annotated): opens the follow-ups, queues the rules' e-mail and webhook notices and the
/// `feedback.created` webhooks, all in the transaction that marks the feedback as seen.
/// Returns how many follow-ups were opened.
pub async fn close_the_loop(store: &dyn Store, cx: &LoopContext) -> anyhow::Result<usize> {
    let rules = store.loop_rules().await?;
    let hooks = store.webhooks().await?;
    // Each tag and saved segment a rule names, read once per pass.
    let mut tagged: HashMap<String, HashSet<i64>> = HashMap::new();
    for tag in rules.iter().filter_map(|r| r.tag.as_deref()) {
        if !tagged.contains_key(tag) {
            let members = store.customers_tagged(tag).await?.into_iter().collect();
            tagged.insert(tag.to_string(), members);
        }
    }
    let mut segments: HashMap<i64, HashSet<i64>> = HashMap::new();
    for id in rules.iter().filter_map(|r| r.segment_id) {
        if let std::collections::hash_map::Entry::Vacant(e) = segments.entry(id) {
            e.insert(store.segment_member_ids(id).await?.into_iter().collect());
        }
    }
    let in_segment = |r: &LoopRule, f: &Feedback| {
        let member = |m: Option<&HashSet<i64>>| {
            f.customer_id
                .is_some_and(|c| m.is_some_and(|m| m.contains(&c)))
        };
        r.tag.as_deref().is_none_or(|t| member(tagged.get(t)))
            && r.segment_id.is_none_or(|s| member(segments.get(&s)))
    };
    let mut opened = 0;
    loop {
        let batch = store.unlooped(ANNOTATE_BATCH).await?;
        if batch.is_empty() {
            return Ok(opened);
        }
        let now = cx.clock.now_ms();
        let mut follow_ups = Vec::new();
        let mut jobs = Vec::new();
        for f in &batch {
            let data = serde_json::to_value(f)?;
            jobs.extend(webhooks::jobs_for(
                &hooks,
                "feedback.created",
                &format!("fb{}", f.id),
                &data,
                None,
                now,
            ));
            let topics = topics_of(f);
            let mut matched: Vec<&LoopRule> = rules
                .iter()
                .filter(|r| rule_matches(r, f, topics) && in_segment(r, f))
                .collect();
            // One follow-up per customer problem, however many rules it met: the most
            // urgent rule (shortest due time, then the oldest rule) sets owner and due
            // time, falling back to another matching rule's owner; every rule is recorded.
            matched.sort_by_key(|r| (r.due_hours, r.id));
            let Some(first) = matched.first() else {
                continue;
            };
            let due_at = f.received_at + first.due_hours * 3_600_000;
            let owner_id = matched.iter().find_map(|r| r.owner_id);
            // Its owner answers the customer in a conversation, opened by a job once the
            // follow-up is stored (in the same transaction as this job).
            jobs.push(
                crate::follow_up_conversations::FollowUpConversationJob { feedback_id: f.id }
                    .row(now),
            );
            follow_ups.push(NewFollowUp {
                feedback_id: f.id,
                rule_ids: matched.iter().map(|r| r.id).collect(),
                owner_id,
                due_at,
            });
            // Each address is told once, by the first rule that names it.
            let mut told: Vec<&str> = Vec::new();
            for r in &matched {
                if let Some(to) = r.notify_email.as_deref()
                    && !told.contains(&to)
                {
                    told.push(to);
                    jobs.push(follow_up_email(to, r, f, due_at, &cx.public_url).row(now));
                }
            }
            if matched.iter().any(|r| r.notify_webhook) {
                let data = serde_json::json!({
                    "rule_id": first.id, "rule": first.name, "owner_id": owner_id,
                    "rule_ids": matched.iter().map(|r| r.id).collect::<Vec<_>>(),
                    "due_at": due_at, "feedback": data,
                });
                jobs.extend(webhooks::jobs_for(
                    &hooks,
                    "follow_up.opened",
                    &format!("fu{}", f.id),
                    &data,
                    Some(f.id),
                    now,
                ));
            }
        }
        opened += follow_ups.len();
        let ids: Vec<i64> = batch.iter().map(|f| f.id).collect();
        store.open_follow_ups(&ids, &follow_ups, &jobs).await?;
        if !jobs.is_empty() {
            cx.job_wakeup.notify_one();
        }
    }
}

/// The notice a rule sends when it opens a follow-up.
fn follow_up_email(
    to: &str,
    rule: &LoopRule,
    f: &Feedback,
    due_at: i64,
    public_url: &str,
) -> EmailJob {
    let rating = f.rating_label().unwrap_or_else(|| "no rating".into());
    let due = jiff::Timestamp::from_millisecond(due_at)
        .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default();
    EmailJob {
        to: to.into(),
        subject: format!(
            "[nunchi] Follow-up: {} feedback #{} ({rating})",
            f.source, f.id
        ),
        text: format!(
            "The rule \"{}\" opened a follow-up, due {due}.\n\n{rating}\n{}\n\nOpen it: {}/follow-ups\n",
            rule.name,
            if f.body.is_empty() {
                "(no text)"
            } else {
                &f.body
            },
            public_url.trim_end_matches('/'),
        ),
    }
}

/// Annotates everything waiting, then lets the closed-loop rules see it; returns how many
/// texts were annotated.
pub async fn drain(store: &dyn Store, cx: &LoopContext) -> anyhow::Result<usize> {
    let mut done = 0;
    loop {
        let waiting = store.unannotated(ANNOTATE_BATCH).await?;
        if waiting.is_empty() {
            close_the_loop(store, cx).await?;
            return Ok(done);
        }
        let annotated = tokio::task::spawn_blocking(move || {
            waiting
                .into_iter()
                .map(|(id, body)| (id, annotate(&body)))
                .collect::<Vec<_>>()
        })
        .await?;
        done += annotated.len();
        store.annotate(&annotated).await?;
    }
}
