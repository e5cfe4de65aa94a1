//! Campaigns as a CX team runs them: build one (checked when saved), see what launching
//! would do before it does it ("12,400 will receive it, 3,100 suppressed by the weekly
//! cap"), preview the message for a chosen customer, launch or pause, and read the report
//! — deliveries by status and reason, and the goal's conversion against the held-out
//! control group. Sending and the triggers' rounds live in `campaign_run`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use nunchi_core::access::Permission;
use nunchi_core::contact::{self, Candidate, Decision, Recipient};
use nunchi_core::time::Millis;
use nunchi_store::model::{Campaign, DeliveryCount, DeliveryRequest, NewCampaign, RecipientFacts};
use serde::{Deserialize, Serialize};

use crate::campaign_spec::{self, Templates, Trigger};
use crate::{Actor, App, Error, Result, contact_policy};

/// A campaign as typed in the builder or sent to the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CampaignInput {
    pub name: String,
    /// marketing, service or survey.
    pub message_kind: String,
    pub trigger: Trigger,
    /// The audience (required for one-off sends and segment triggers).
    #[serde(default)]
    pub segment_id: Option<i64>,
    /// Channels in fallback order, comma-separated: `kakao_brand,sms,email`.
    pub channels: String,
    #[serde(default)]
    pub priority: i64,
    /// Campaigns sharing a key reach a customer once within the policy's window.
    #[serde(default)]
    pub dedup_key: Option<String>,
    pub templates: Templates,
    /// Per cent of the audience held out as a control group (0–50).
    #[serde(default)]
    pub holdout_pct: i64,
    /// The event that counts as the campaign working (e.g. `purchase`).
    #[serde(default)]
    pub goal_event: Option<String>,
    #[serde(default = "default_goal_days")]
    pub goal_days: i64,
}

fn default_goal_days() -> i64 {
    7
}

/// A campaign with its parsed parts.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CampaignView {
    pub campaign: Campaign,
    pub trigger: Trigger,
    pub templates: Templates,
    pub segment_name: Option<String>,
}

fn require(actor: &Actor) -> Result<()> {
    if actor.can(Permission::CampaignsManage) {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

fn require_read(actor: &Actor) -> Result<()> {
    if actor.can(Permission::CustomersRead) {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

async fn checked(app: &App, input: &CampaignInput) -> Result<NewCampaign> {
    let name = crate::error::required_text(
        &input.name,
        200,
        "invalid_name",
        "name: 1 to 200 characters",
    )?;
    if let Some(id) = input.segment_id {
        app.store.segment(id).await?;
    }
    if !(0..=50).contains(&input.holdout_pct) {
        return Err(Error::invalid(
            "invalid_holdout",
            "holdout_pct: 0 to 50 per cent",
        ));
    }
    if !(1..=90).contains(&input.goal_days) {
        return Err(Error::invalid("invalid_goal", "goal_days: 1 to 90 days"));
    }
    if !(-100..=100).contains(&input.priority) {
        return Err(Error::invalid("invalid_priority", "priority: -100 to 100"));
    }
    let attributes: BTreeSet<String> = app.store.attribute_keys().await?.into_iter().collect();
    let brand = contact_policy::load(app).await?;
    let c = campaign_spec::check(
        &input.message_kind,
        input.trigger.clone(),
        input.segment_id,
        &input.channels,
        input.templates.clone(),
        &attributes,
        &brand.brand_name,
        app.now(),
    )?;
    Ok(NewCampaign {
        name: name.to_string(),
        kind: if c.trigger.is_one_off() {
            "one_off"
        } else {
            "programme"
        }
        .into(),
        message_kind: c.kind.as_str().into(),
        trigger_spec: to_json(&c.trigger),
        segment_id: input.segment_id,
        channels: c
            .channels
            .iter()
            .map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join(","),
        priority: input.priority,
        dedup_key: input
            .dedup_key
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(str::to_string),
        templates: to_json(&c.templates),
        holdout_pct: input.holdout_pct,
        goal_event: input
            .goal_event
            .as_deref()
            .map(str::trim)
            .filter(|g| !g.is_empty())
            .map(str::to_string),
        goal_days: input.goal_days,
    })
}

/// A part the store keeps as JSON text.
fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// Saves a new campaign as a draft.
pub async fn create(app: &App, actor: &Actor, input: &CampaignInput) -> Result<i64> {
    require(actor)?;
    let c = checked(app, input).await?;
    let id = app.store.create_campaign(&c, &actor.label).await?;
    app.audit_by(actor, "campaign.create", &format!("campaign:{id}"), &c.name)
        .await;
    Ok(id)
}

/// Changes a draft or paused campaign.
pub async fn update(app: &App, actor: &Actor, id: i64, input: &CampaignInput) -> Result<()> {
    require(actor)?;
    let current = app.store.campaign(id).await?;
    if !matches!(current.status.as_str(), "draft" | "paused") {
        return Err(Error::Conflict(
            "pause the campaign before changing it".into(),
        ));
    }
    let c = checked(app, input).await?;
    app.store.update_campaign(id, &c).await?;
    app.audit_by(actor, "campaign.update", &format!("campaign:{id}"), &c.name)
        .await;
    Ok(())
}

/// Parses a stored campaign's JSON parts.
pub fn view_of(c: Campaign, segment_name: Option<String>) -> Result<CampaignView> {
    let trigger: Trigger = serde_json::from_str(&c.trigger_spec)
        .map_err(|e| Error::Internal(anyhow::anyhow!("campaign {}: trigger: {e}", c.id)))?;
    let templates: Templates = serde_json::from_str(&c.templates)
        .map_err(|e| Error::Internal(anyhow::anyhow!("campaign {}: templates: {e}", c.id)))?;
    Ok(CampaignView {
        campaign: c,
        trigger,
        templates,
        segment_name,
    })
}

pub async fn get(app: &App, actor: &Actor, id: i64) -> Result<CampaignView> {
    require_read(actor)?;
    let c = app.store.campaign(id).await?;
    let segment_name = match c.segment_id {
        Some(s) => Some(app.store.segment(s).await?.name),
        None => None,
    };
    view_of(c, segment_name)
}

pub async fn list(app: &App, actor: &Actor) -> Result<Vec<Campaign>> {
    require_read(actor)?;
    Ok(app.store.campaigns().await?)
}

/// The audience's customer ids: the segment's members, or everyone for a programme
/// without a segment.
pub async fn audience(app: &App, c: &Campaign) -> Result<Vec<i64>> {
    match c.segment_id {
        Some(s) => Ok(app.store.segment_member_ids(s).await?),
        None => {
            let mut ids = Vec::new();
            loop {
                let page = app
                    .store
                    .live_customer_ids(ids.last().copied().unwrap_or(0), 10_000)
                    .await?;
                if page.is_empty() {
                    break;
                }
                ids.extend(page);
            }
            Ok(ids)
        }
    }
}

/// Whether Korean law applies to a customer: Korean-speaking, in Korea's time zone or
/// with a Korean phone number (the rules are the stricter, so doubt applies them).
pub fn is_korean(language: Option<&str>, tz: Option<&str>, phone: Option<&str>) -> bool {
    language.is_none_or(|l| l == "ko")
        || tz == Some("Asia/Seoul")
        || phone.is_some_and(|p| p.starts_with("+82"))
}

/// A stored consent answer as the rules read it.
pub fn consent_of(c: &nunchi_store::model::ConsentRow) -> nunchi_core::consent::Consent {
    nunchi_core::consent::Consent {
        channel: c.channel,
        purpose: c.purpose,
        granted: c.granted,
        at: Millis(c.at),
        source: c.source.clone(),
    }
}

/// Recipients' facts for the budget's rules, read in bulk.
pub async fn facts_of(app: &App, ids: &[i64]) -> Result<HashMap<i64, RecipientFacts>> {
    let rows = app.store.recipients(ids).await?;
    let mut consents: HashMap<i64, Vec<nunchi_core::consent::Consent>> = HashMap::new();
    for (id, c) in app.store.consents_of(ids).await? {
        consents.entry(id).or_default().push(consent_of(&c));
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let tz = r
                .time_zone
                .as_deref()
                .and_then(|t| jiff::tz::TimeZone::get(t).ok())
                .unwrap_or_else(|| app.config.time_zone.clone());
            let facts = RecipientFacts {
                korean: is_korean(
                    r.language.as_deref(),
                    r.time_zone.as_deref(),
                    r.phone.as_deref(),
                ),
                tz,
                consents: consents.remove(&r.id).unwrap_or_default(),
                preferred: r
                    .preferred_channel
                    .as_deref()
                    .and_then(|c| nunchi_core::consent::ContactChannel::parse(c).ok()),
            };
            (r.id, facts)
        })
        .collect())
}

/// Whether a customer is in the held-out control group: a stable draw per campaign.
pub fn held_out(campaign_id: i64, customer_id: i64, pct: i64) -> bool {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{campaign_id}:{customer_id}").as_bytes());
    let draw = u16::from_be_bytes([digest[0], digest[1]]) as i64 % 100;
    draw < pct
}

/// A delivery request for one customer of a campaign.
pub fn request_for(
    c: &Campaign,
    customer_id: i64,
    occurrence: String,
    due_at: i64,
) -> DeliveryRequest {
    let kind =
        contact::MessageKind::parse(&c.message_kind).unwrap_or(contact::MessageKind::Marketing);
    DeliveryRequest {
        campaign_id: Some(c.id),
        customer_id,
        occurrence,
        kind,
        channels: c
            .channels
            .split(',')
            .filter_map(|v| contact::Via::parse(v).ok())
            .collect(),
        dedup: c.dedup_key.clone(),
        priority: c.priority as i32,
        variant: if held_out(c.id, customer_id, c.holdout_pct) {
            "control".into()
        } else {
            "a".into()
        },
        due_at,
    }
}

/// What launching would do now, decided without writing anything.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct Impact {
    pub audience: usize,
    pub would_send: usize,
    /// Waiting for a quiet or night-time window to end.
    pub held: usize,
    pub held_out: usize,
    /// (reason code, count, explanation in the reader's language), largest first.
    pub suppressed: Vec<(String, usize, String)>,
}

/// Decides every customer of the audience against the policy as if the campaign launched
/// now (one-off) or fired now (programme).
pub async fn impact(app: &App, actor: &Actor, id: i64, lang: &str) -> Result<Impact> {
    require_read(actor)?;
    let c = app.store.campaign(id).await?;
    let ids = audience(app, &c).await?;
    let policy = contact_policy::load(app).await?.policy;
    let now = app.now();
    let mut out = Impact {
        audience: ids.len(),
        ..Default::default()
    };
    let mut reasons: BTreeMap<String, (usize, String)> = BTreeMap::new();
    for chunk in ids.chunks(2_000) {
        let facts = facts_of(app, chunk).await?;
        let history = app.store.contact_history(chunk).await?;
        for &customer in chunk {
            let request = request_for(&c, customer, "preview".into(), now);
            if request.variant == "control" {
                out.held_out += 1;
                continue;
            }
            let Some(f) = facts.get(&customer) else {
                continue;
            };
            let r = Recipient {
                tz: &f.tz,
                korean: f.korean,
                consents: &f.consents,
                history: history.get(&customer).map_or(&[][..], Vec::as_slice),
            };
            let candidate = Candidate {
                kind: request.kind,
                via: contact::Via::Email,
                dedup: request.dedup.clone(),
                priority: request.priority,
            };
            let channels = f.channel_order(&request.channels);
            match contact::decide_channels(&policy, &r, &candidate, &channels, Millis(now)).1 {
                Decision::Send => out.would_send += 1,
                Decision::Hold { .. } => out.held += 1,
                Decision::Suppress(why) => {
                    let entry = reasons
                        .entry(why.code().to_string())
                        .or_insert((0, why.explain(lang)));
                    entry.0 += 1;
                }
            }
        }
    }
    let mut suppressed: Vec<_> = reasons
        .into_iter()
        .map(|(code, (n, text))| (code, n, text))
        .collect();
    suppressed.sort_by_key(|s| std::cmp::Reverse(s.1));
    out.suppressed = suppressed;
    Ok(out)
}

/// Starts a campaign: a one-off send now reserves every audience member's delivery at
/// once; one at a time waits for its moment; a programme starts listening.
pub async fn launch(app: &App, actor: &Actor, id: i64) -> Result<()> {
    require(actor)?;
    let c = app.store.campaign(id).await?;
    if !matches!(c.status.as_str(), "draft" | "paused") {
        return Err(Error::Conflict(format!("the campaign is {}", c.status)));
    }
    let view = view_of(c.clone(), None)?;
    // Checked again: a moment may have passed, a segment may have gone.
    view.trigger.check(c.segment_id, app.now())?;
    app.store.set_campaign_status(id, "active", true).await?;
    app.audit_by(actor, "campaign.launch", &format!("campaign:{id}"), &c.name)
        .await;
    if view.trigger == Trigger::Now {
        crate::campaign_run::send_one_off(app, &c, app.now()).await?;
    }
    app.campaign_wakeup.notify_one();
    Ok(())
}

/// Stops a campaign firing; reserved deliveries not yet sent are left to go out.
pub async fn pause(app: &App, actor: &Actor, id: i64) -> Result<()> {
    require(actor)?;
    let c = app.store.campaign(id).await?;
    if c.status != "active" {
        return Err(Error::Conflict(format!("the campaign is {}", c.status)));
    }
    app.store.set_campaign_status(id, "paused", false).await?;
    app.audit_by(actor, "campaign.pause", &format!("campaign:{id}"), &c.name)
        .await;
    Ok(())
}

/// One variant's outcome: how many were reached (or held out), and how many did the goal
/// event within the goal window after.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct VariantResult {
    pub variant: String,
    pub customers: i64,
    pub converted: i64,
    pub conversion_rate: Option<f64>,
}

/// A campaign's report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Report {
    pub counts: Vec<DeliveryCount>,
    pub variants: Vec<VariantResult>,
}

/// Deliveries by status and reason; with a goal event, conversion per variant (sent
/// messages against the held-out control, each counted from its own moment).
pub async fn report(app: &App, actor: &Actor, id: i64) -> Result<Report> {
    require_read(actor)?;
    let c = app.store.campaign(id).await?;
    let counts = app.store.delivery_counts(id).await?;
    let mut variants = Vec::new();
    if let Some(goal) = &c.goal_event {
        let window = c.goal_days * 86_400_000;
        let mut by: BTreeMap<String, (i64, i64)> = BTreeMap::new();
        for d in app.store.campaign_deliveries(id).await? {
            let counted = matches!(d.status.as_str(), "sent" | "delivered" | "held_out");
            if !counted {
                continue;
            }
            let from = d.sent_at.unwrap_or(d.due_at);
            let events = app.store.customer_events(d.customer_id, 500).await?;
            let converted = events
                .iter()
                .any(|e| &e.name == goal && e.ts >= from && e.ts < from + window);
            let entry = by.entry(d.variant.clone()).or_default();
            entry.0 += 1;
            entry.1 += i64::from(converted);
        }
        variants = by
            .into_iter()
            .map(|(variant, (customers, converted))| VariantResult {
                variant,
                customers,
                converted,
                conversion_rate: (customers > 0).then(|| converted as f64 / customers as f64),
            })
            .collect();
    }
    Ok(Report { counts, variants })
}

/// A message as one customer would get it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Preview {
    pub lang: String,
    pub subject: String,
    pub body: String,
}

/// Renders a campaign's message for a chosen customer, in their language.
pub async fn preview(app: &App, actor: &Actor, id: i64, customer_id: i64) -> Result<Preview> {
    require_read(actor)?;
    let view = get(app, actor, id).await?;
    let customer = app.store.customer(customer_id).await?;
    let lang = customer.row.language.clone().unwrap_or_else(|| "ko".into());
    let (lang, t) = view
        .templates
        .pick(&lang)
        .ok_or_else(|| Error::invalid("invalid_template", "the campaign has no message"))?;
    let brand = contact_policy::load(app).await?;
    let values =
        crate::campaign_run::Values::load(app, &customer, &t.subject, &t.body, &brand, None)
            .await?;
    let masked = !actor.sees_pii();
    let value = |f: &str| {
        let v = values.get(f);
        match f {
            "name" if masked => nunchi_core::mask::mask_name(&v),
            "email" if masked => nunchi_core::mask::mask_email(&v),
            _ => v,
        }
    };
    Ok(Preview {
        lang: lang.into(),
        subject: campaign_spec::render(&t.subject, &value),
        body: campaign_spec::render(&t.body, &value),
    })
}

/// A customer's deliveries, newest first (the profile's message log).
pub async fn deliveries_of(
    app: &App,
    actor: &Actor,
    customer_id: i64,
) -> Result<Vec<nunchi_store::model::Delivery>> {
    require_read(actor)?;
    app.store.customer(customer_id).await?;
    Ok(app.store.customer_deliveries(customer_id, 200).await?)
}
