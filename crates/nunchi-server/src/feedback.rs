//! The feedback stream's edge and its annotator. Feedback from the API or a CSV file is
//! checked field by field into a `NewFeedback` (source, rating on its scale, customer by
//! id or external id, touchpoint, stage, channel, date); the annotator reads new text in
//! the background — language, sentiment and topics from `nunchi-text` — and fills the
//! annotations in. Its queue is the feedback table itself (rows not yet annotated), so
//! nothing is lost across a restart.

use std::sync::Arc;
use std::time::Duration;

use nunchi_core::channel::Channel;
use nunchi_core::feedback::{Metric, Rating, Source};
use nunchi_core::identity::{Identity, IdentityKind};
use nunchi_core::time::Millis;
use nunchi_store::Store;
use nunchi_store::model::{Annotation, NewFeedback};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use utoipa::ToSchema;

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

/// Checks one item and resolves what it refers to; the error says which field is wrong.
pub async fn prepare(
    store: &dyn Store,
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
        && !store
            .touchpoints()
            .await
            .map_err(|e| e.to_string())?
            .iter()
            .any(|tp| tp.id == t)
    {
        return Err(format!("touchpoint_id: no touchpoint {t}"));
    }
    let stage_id = match text(&input.stage) {
        Some(key) => Some(
            store
                .stages()
                .await
                .map_err(|e| e.to_string())?
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

impl Annotator {
    /// Starts the background task, which drains the queue now, on every wake and at
    /// least every few seconds.
    pub fn start(store: Arc<dyn Store>) -> Arc<Annotator> {
        let annotator = Arc::new(Annotator {
            wake: Notify::new(),
        });
        let me = annotator.clone();
        tokio::spawn(async move {
            loop {
                match drain(store.as_ref()).await {
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "annotating feedback failed; retrying"),
                }
                let _ = tokio::time::timeout(Duration::from_secs(5), me.wake.notified()).await;
            }
        });
        annotator
    }

    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Annotates everything waiting; returns how many texts were annotated.
pub async fn drain(store: &dyn Store) -> anyhow::Result<usize> {
    let mut done = 0;
    loop {
        let waiting = store.unannotated(ANNOTATE_BATCH).await?;
        if waiting.is_empty() {
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
