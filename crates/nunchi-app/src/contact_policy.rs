//! The brand's contact policy as saved (caps, gap, quiet hours, what happens to an ad at
//! night, whether Korean law applies) and the sender identity every ad must carry; read
//! by campaigns, and edited on the contact-policy page and through the API.

use nunchi_core::consent::ContactChannel;
use nunchi_core::contact::{Cap, MessageKind, NightPolicy, Period, Policy, Via};
use serde::{Deserialize, Serialize};

use crate::{Actor, App, Error, Result};

const POLICY_KEY: &str = "contact_policy";
const BRAND_NAME_KEY: &str = "brand_name";
const BRAND_CONTACT_KEY: &str = "brand_contact";
/// The brand names itself in ads as the demo brand does until someone sets it.
pub const DEFAULT_BRAND_NAME: &str = "하늘결";

/// One cap as typed: `{"kind": "marketing", "channel": null, "max": 3, "period": "week"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CapInput {
    /// A message kind, or none for every counted kind.
    #[serde(default)]
    pub kind: Option<String>,
    /// A consent channel (email, sms, kakao, line, push), or none for all.
    #[serde(default)]
    pub channel: Option<String>,
    pub max: u32,
    /// day, week, month or lifetime.
    pub period: String,
}

/// The policy as typed and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PolicyInput {
    pub caps: Vec<CapInput>,
    #[serde(default)]
    pub min_gap_minutes: i64,
    /// Local hours `[from, to)` in which counted messages wait, e.g. `[22, 9]`.
    #[serde(default)]
    pub quiet_hours: Option<(u8, u8)>,
    /// hold (until the window ends) or skip.
    pub night: String,
    pub korean_law: bool,
    #[serde(default = "default_dedup_hours")]
    pub dedup_hours: i64,
    pub brand_name: String,
    #[serde(default)]
    pub brand_contact: String,
}

fn default_dedup_hours() -> i64 {
    7 * 24
}

/// The policy with the sender's identity.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub policy: Policy,
    pub brand_name: String,
    pub brand_contact: String,
}

/// The saved policy, or the default one (one marketing message a day, three a week, the
/// Korean rules on, night-time ads held to 08:00).
pub async fn load(app: &App) -> Result<Loaded> {
    let store = app.store.as_ref();
    let policy = match store.setting(POLICY_KEY).await? {
        Some(json) => {
            let input: PolicyInput = serde_json::from_str(&json)
                .map_err(|e| Error::Internal(anyhow::anyhow!("stored contact policy: {e}")))?;
            parse(&input)?
        }
        None => Policy::default(),
    };
    Ok(Loaded {
        policy,
        brand_name: store
            .setting(BRAND_NAME_KEY)
            .await?
            .unwrap_or_else(|| DEFAULT_BRAND_NAME.into()),
        brand_contact: store.setting(BRAND_CONTACT_KEY).await?.unwrap_or_default(),
    })
}

/// The policy as the page and the API show it.
pub async fn current(app: &App) -> Result<PolicyInput> {
    let l = load(app).await?;
    Ok(to_input(&l))
}

pub fn to_input(l: &Loaded) -> PolicyInput {
    let p = &l.policy;
    PolicyInput {
        caps: p
            .caps
            .iter()
            .map(|c| CapInput {
                kind: c.kind.map(|k| k.as_str().to_string()),
                channel: c.channel.map(|c| c.as_str().to_string()),
                max: c.max,
                period: c.period.as_str().to_string(),
            })
            .collect(),
        min_gap_minutes: p.min_gap_ms / 60_000,
        quiet_hours: p.quiet_hours,
        night: match p.night {
            NightPolicy::Hold => "hold".into(),
            NightPolicy::Skip => "skip".into(),
        },
        korean_law: p.korean_law,
        dedup_hours: p.dedup_window_ms / 3_600_000,
        brand_name: l.brand_name.clone(),
        brand_contact: l.brand_contact.clone(),
    }
}

/// Checks a typed policy.
pub fn parse(input: &PolicyInput) -> Result<Policy> {
    let bad = |why: String| Error::invalid("invalid_contact_policy", why);
    let mut caps = Vec::new();
    for (i, c) in input.caps.iter().enumerate() {
        let kind = c
            .kind
            .as_deref()
            .filter(|k| !k.is_empty())
            .map(MessageKind::parse)
            .transpose()?;
        if kind == Some(MessageKind::Transactional) {
            return Err(bad(format!(
                "caps[{i}]: transactional messages are never capped"
            )));
        }
        if c.max == 0 || c.max > 1000 {
            return Err(bad(format!("caps[{i}]: the cap must be 1–1000")));
        }
        caps.push(Cap {
            kind,
            channel: c
                .channel
                .as_deref()
                .filter(|k| !k.is_empty())
                .map(ContactChannel::parse)
                .transpose()?,
            max: c.max,
            period: Period::parse(&c.period)?,
        });
    }
    if !(0..=30 * 24 * 60).contains(&input.min_gap_minutes) {
        return Err(bad("min_gap_minutes: 0 to 30 days".into()));
    }
    if let Some((from, to)) = input.quiet_hours
        && (from > 23 || to > 23 || from == to)
    {
        return Err(bad("quiet_hours: two different hours 0–23".into()));
    }
    if !(0..=90 * 24).contains(&input.dedup_hours) {
        return Err(bad("dedup_hours: 0 to 90 days".into()));
    }
    Ok(Policy {
        caps,
        min_gap_ms: input.min_gap_minutes * 60_000,
        quiet_hours: input.quiet_hours,
        night: match input.night.as_str() {
            "hold" => NightPolicy::Hold,
            "skip" => NightPolicy::Skip,
            other => return Err(bad(format!("night: {other:?}; use hold or skip"))),
        },
        korean_law: input.korean_law,
        dedup_window_ms: input.dedup_hours * 3_600_000,
    })
}

/// Saves a policy after checking it; audited.
pub async fn save(app: &App, actor: &Actor, input: &PolicyInput) -> Result<()> {
    if !actor.can(nunchi_core::access::Permission::CampaignsManage) {
        return Err(Error::Forbidden);
    }
    parse(input)?;
    let name = crate::error::required_text(
        &input.brand_name,
        100,
        "invalid_brand_name",
        "brand_name: the sender's name every ad carries (1–100 characters)",
    )?;
    let store = app.store.as_ref();
    let json = serde_json::to_string(input).map_err(|e| Error::Internal(e.into()))?;
    store.set_setting(POLICY_KEY, &json).await?;
    store.set_setting(BRAND_NAME_KEY, name).await?;
    store
        .set_setting(BRAND_CONTACT_KEY, input.brand_contact.trim())
        .await?;
    app.audit_by(actor, "contact_policy.update", "settings", "")
        .await;
    Ok(())
}

/// Where messages on a channel other than e-mail go: the brand's provider (an SMS
/// gateway, a Kakao or LINE partner, a push service) receiving signed webhooks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Provider {
    pub url: String,
    #[serde(skip_serializing)]
    pub secret: String,
}

fn provider_key(via: Via) -> String {
    format!("provider:{}", via.as_str())
}

/// The provider set for a channel.
pub async fn provider(app: &App, via: Via) -> Result<Option<Provider>> {
    Ok(match app.store.setting(&provider_key(via)).await? {
        Some(json) => Some(
            serde_json::from_str(&json)
                .map_err(|e| Error::Internal(anyhow::anyhow!("stored provider: {e}")))?,
        ),
        None => None,
    })
}

/// Sets a channel's provider URL; returns the signing secret the receiver checks (a new
/// one each time, shown once).
pub async fn set_provider(app: &App, actor: &Actor, via: Via, url: &str) -> Result<String> {
    if !actor.can(nunchi_core::access::Permission::CampaignsManage) {
        return Err(Error::Forbidden);
    }
    if via == Via::Email {
        return Err(Error::invalid(
            "invalid_channel",
            "e-mail goes out over SMTP (NUNCHI_SMTP_URL), not a provider",
        ));
    }
    let url = crate::webhooks::checked_url(url)?;
    let secret = crate::webhooks::new_secret();
    let json = serde_json::to_string(&serde_json::json!({"url": url, "secret": secret}))
        .map_err(|e| Error::Internal(e.into()))?;
    app.store.set_setting(&provider_key(via), &json).await?;
    app.audit_by(actor, "campaign.provider", via.as_str(), &url)
        .await;
    Ok(secret)
}
