//! Personas on real data: a persona's story (name, photo, goals, pains, preferred
//! channels, a quote, Korean and English) is linked to the segment of the customers it is
//! about, and its page shows the live truth beside the story — size, NPS, CSAT, lifetime
//! value, channel mix, the topics of their feedback, where they drop off the journey —
//! and says where the story and the data disagree ("prefers the app", but most of their
//! events are on the web).

use std::collections::HashMap;

use nunchi_analytics::log;
use nunchi_core::access::Permission;
use nunchi_core::channel::Channel;
use nunchi_store::model::{Persona, PersonaStory};
use serde::Serialize;
use utoipa::ToSchema;

use crate::events::engine::Who;
use crate::{App, Error, Result, actor::Actor};

/// Photos at most this large.
pub const MAX_PHOTO_BYTES: usize = 1024 * 1024;
/// Feedback read per persona for its topics, newest first.
const FEEDBACK_READ: i64 = 5_000;
/// The truth covers this many days back.
pub const TRUTH_DAYS: i64 = 90;
/// Below this share of their events, the channels a story prefers are contradicted.
const PREFERRED_SHARE: f64 = 0.5;
const DAY_MS: i64 = 86_400_000;

/// A persona to save, as the form and the API send it.
#[derive(Debug, Clone, Default, serde::Deserialize, ToSchema)]
pub struct PersonaInput {
    #[serde(default)]
    pub segment_id: Option<i64>,
    #[serde(default)]
    pub name_ko: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub goals_ko: String,
    #[serde(default)]
    pub goals_en: String,
    #[serde(default)]
    pub pains_ko: String,
    #[serde(default)]
    pub pains_en: String,
    #[serde(default)]
    pub quote_ko: String,
    #[serde(default)]
    pub quote_en: String,
    /// Channel keys: web, app, store, phone, email, messenger, social, custom.
    #[serde(default)]
    pub channels: Vec<String>,
}

fn text(value: &str, max: usize, field: &str) -> Result<String> {
    let t = value.trim();
    if t.chars().count() > max {
        return Err(Error::invalid(
            "invalid_persona",
            format!("{field} is at most {max} characters"),
        ));
    }
    Ok(t.to_string())
}

async fn story(app: &App, input: &PersonaInput) -> Result<PersonaStory> {
    let name_ko = text(&input.name_ko, 100, "name_ko")?;
    let name_en = text(&input.name_en, 100, "name_en")?;
    if name_ko.is_empty() && name_en.is_empty() {
        return Err(Error::invalid(
            "invalid_persona",
            "a persona needs a name in Korean or English",
        ));
    }
    let mut channels = Vec::new();
    for c in input.channels.iter().filter(|c| !c.trim().is_empty()) {
        let channel = Channel::parse(c)
            .ok_or_else(|| Error::invalid("invalid_persona", format!("unknown channel {c:?}")))?;
        if !channels.contains(&channel.as_str()) {
            channels.push(channel.as_str());
        }
    }
    if let Some(id) = input.segment_id {
        app.store
            .segment(id)
            .await
            .map_err(|_| Error::invalid("invalid_persona", format!("there is no segment {id}")))?;
    }
    Ok(PersonaStory {
        segment_id: input.segment_id,
        name_ko,
        name_en,
        goals_ko: text(&input.goals_ko, 2_000, "goals_ko")?,
        goals_en: text(&input.goals_en, 2_000, "goals_en")?,
        pains_ko: text(&input.pains_ko, 2_000, "pains_ko")?,
        pains_en: text(&input.pains_en, 2_000, "pains_en")?,
        quote_ko: text(&input.quote_ko, 500, "quote_ko")?,
        quote_en: text(&input.quote_en, 500, "quote_en")?,
        channels: channels.join(","),
    })
}

/// The text in the reader's language (`ko` or English), or the other one when it is empty.
pub fn in_language<'a>(ko: bool, text_ko: &'a str, text_en: &'a str) -> &'a str {
    match (ko, text_ko.is_empty(), text_en.is_empty()) {
        (true, false, _) | (false, false, true) => text_ko,
        _ => text_en,
    }
}

/// A persona's name for the audit log and headings: the reader's language first.
pub fn name(p: &Persona, ko: bool) -> &str {
    in_language(ko, &p.name_ko, &p.name_en)
}

pub async fn create(app: &App, actor: &Actor, input: &PersonaInput) -> Result<Persona> {
    if !actor.can(Permission::SegmentsManage) {
        return Err(Error::Forbidden);
    }
    let story = story(app, input).await?;
    let id = app.store.create_persona(&story, &actor.name).await?;
    let p = app.store.persona(id).await?;
    app.audit_by(
        actor,
        "persona.create",
        &format!("persona {id}"),
        name(&p, false),
    )
    .await;
    Ok(p)
}

pub async fn update(app: &App, actor: &Actor, id: i64, input: &PersonaInput) -> Result<Persona> {
    if !actor.can(Permission::SegmentsManage) {
        return Err(Error::Forbidden);
    }
    let story = story(app, input).await?;
    app.store.update_persona(id, &story).await?;
    let p = app.store.persona(id).await?;
    app.audit_by(
        actor,
        "persona.update",
        &format!("persona {id}"),
        name(&p, false),
    )
    .await;
    Ok(p)
}

pub async fn delete(app: &App, actor: &Actor, id: i64) -> Result<()> {
    if !actor.can(Permission::SegmentsManage) {
        return Err(Error::Forbidden);
    }
    let p = app.store.persona(id).await?;
    app.store.delete_persona(id).await?;
    app.audit_by(
        actor,
        "persona.delete",
        &format!("persona {id}"),
        name(&p, false),
    )
    .await;
    Ok(())
}

pub async fn list(app: &App, actor: &Actor) -> Result<Vec<Persona>> {
    if !actor.can(Permission::CustomersRead) {
        return Err(Error::Forbidden);
    }
    Ok(app.store.personas().await?)
}

/// Stores a photo after checking it is an image by its bytes (PNG, JPEG, GIF or WebP).
pub async fn set_photo(app: &App, actor: &Actor, id: i64, bytes: &[u8]) -> Result<()> {
    if !actor.can(Permission::SegmentsManage) {
        return Err(Error::Forbidden);
    }
    if bytes.len() > MAX_PHOTO_BYTES {
        return Err(Error::invalid("invalid_photo", "a photo is at most 1 MiB"));
    }
    let accepted = nunchi_core::attachment::check("photo", bytes)
        .map_err(|e| Error::invalid("invalid_photo", e.to_string()))?;
    if !accepted.content_type.starts_with("image/") || accepted.content_type == "image/svg+xml" {
        return Err(Error::invalid(
            "invalid_photo",
            "a photo must be a PNG, JPEG, GIF or WebP image",
        ));
    }
    app.store
        .set_persona_photo(id, Some((accepted.content_type, bytes)))
        .await?;
    Ok(())
}

pub async fn photo(app: &App, actor: &Actor, id: i64) -> Result<Option<(String, Vec<u8>)>> {
    if !actor.can(Permission::CustomersRead) {
        return Err(Error::Forbidden);
    }
    Ok(app.store.persona_photo(id).await?)
}

/// One channel's share of the members' events.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ChannelShare {
    pub channel: String,
    pub events: u64,
    pub share: f64,
}

/// A topic their feedback mentions.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TopicCount {
    pub ko: String,
    pub en: String,
    pub mentions: u64,
    /// Of the mentions, those in negative feedback (sentiment below zero).
    pub negative: u64,
}

/// Where the story and the data disagree, said in both languages.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Disagreement {
    pub ko: String,
    pub en: String,
}

/// The live truth about a persona's customers over the last [`TRUTH_DAYS`] days.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Truth {
    pub segment_id: i64,
    pub segment_name: String,
    pub size: u64,
    #[schema(value_type = Option<Object>)]
    pub nps: Option<nunchi_analytics::scores::Score>,
    #[schema(value_type = Option<Object>)]
    pub csat: Option<nunchi_analytics::scores::Score>,
    /// Mean 12-month value of the members the models know, in `currency`.
    pub clv_mean: Option<f64>,
    pub currency: String,
    pub channels: Vec<ChannelShare>,
    pub topics: Vec<TopicCount>,
    pub stages: Vec<crate::analysis::StageView>,
    pub disagreements: Vec<Disagreement>,
}

/// A persona with the truth about its customers (none without a segment).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PersonaView {
    #[serde(flatten)]
    pub persona: Persona,
    pub truth: Option<Truth>,
}

pub async fn get(app: &App, actor: &Actor, id: i64) -> Result<PersonaView> {
    if !actor.can(Permission::CustomersRead) {
        return Err(Error::Forbidden);
    }
    let persona = app.store.persona(id).await?;
    let truth = match persona.segment_id {
        Some(segment) => Some(truth(app, &persona, segment).await?),
        None => None,
    };
    Ok(PersonaView { persona, truth })
}

async fn truth(app: &App, persona: &Persona, segment_id: i64) -> Result<Truth> {
    let segment = app.store.segment(segment_id).await?;
    let members = app.store.segment_member_ids(segment_id).await?;
    let now = app.now();
    let since = now - TRUTH_DAYS * DAY_MS;
    let from = Some((since / 1_000).to_string());
    let score = async |metric: &str| -> Result<Option<nunchi_analytics::scores::Score>> {
        let q = crate::scores::ScoresQuery {
            metric: metric.into(),
            from: from.clone(),
            segment: Some(segment_id),
            ..Default::default()
        };
        Ok(crate::scores::scores(app, &q).await?.overall)
    };
    let (nps, csat) = (score("nps").await?, score("csat").await?);
    let snapshot = crate::customer_models::snapshot(app).await?;
    let values: Vec<f64> = members
        .iter()
        .filter_map(|&c| snapshot.value(c).clv)
        .collect();
    let clv_mean = (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64);
    let channels = channel_mix(app, &members, (since / 1_000).max(0) as u32)?;
    let topics = topics(app, &members, since).await?;
    let journey = crate::analysis::journey(
        app,
        &crate::analysis::Filter {
            from: from.clone(),
            segment: Some(segment_id),
            ..Default::default()
        },
    )
    .await?;
    let disagreements = disagreements(persona, &channels, members.len());
    Ok(Truth {
        segment_id,
        segment_name: segment.name,
        size: members.len() as u64,
        nps,
        csat,
        clv_mean,
        currency: snapshot.currency.code().to_string(),
        channels,
        topics,
        stages: journey.stages,
        disagreements,
    })
}

/// The members' events since `since` (Unix s) by channel, largest share first.
fn channel_mix(app: &App, members: &[i64], since: u32) -> Result<Vec<ChannelShare>> {
    let engine = app
        .events
        .engine
        .read()
        .map_err(|_| crate::segment_facts::poisoned())?;
    let mut counts = [0u64; Channel::ALL.len()];
    let mut scratch = Vec::new();
    for &c in members {
        let Some(slot) = engine.slot(Who::Customer(c)) else {
            continue;
        };
        for &e in engine.log.run(slot, &mut scratch) {
            if log::ts(e) >= since {
                let code = usize::from(log::channel_code(e));
                if let Some(n) = counts.get_mut(code) {
                    *n += 1;
                }
            }
        }
    }
    let total: u64 = counts.iter().sum();
    let mut out: Vec<ChannelShare> = Channel::ALL
        .iter()
        .zip(counts)
        .filter(|(_, n)| *n > 0)
        .map(|(c, n)| ChannelShare {
            channel: c.as_str().to_string(),
            events: n,
            share: n as f64 / total as f64,
        })
        .collect();
    out.sort_by(|a, b| b.events.cmp(&a.events).then(a.channel.cmp(&b.channel)));
    Ok(out)
}

/// The topics of the members' feedback since `since` (Unix ms), most mentioned first.
async fn topics(app: &App, members: &[i64], since: i64) -> Result<Vec<TopicCount>> {
    let mut by_topic: HashMap<String, TopicCount> = HashMap::new();
    for f in app
        .store
        .feedback_of_customers(members, since, FEEDBACK_READ)
        .await?
    {
        let negative = f.sentiment.is_some_and(|s| s < 0.0);
        for t in f.topics.iter().flat_map(|j| j.0.iter()) {
            // Key phrases are too many and too thin for a persona's page.
            if t.topic.starts_with("phrase:") {
                continue;
            }
            let e = by_topic
                .entry(t.topic.clone())
                .or_insert_with(|| TopicCount {
                    ko: t.ko.clone(),
                    en: t.en.clone(),
                    mentions: 0,
                    negative: 0,
                });
            e.mentions += 1;
            e.negative += u64::from(negative);
        }
    }
    let mut out: Vec<TopicCount> = by_topic.into_values().collect();
    out.sort_by(|a, b| b.mentions.cmp(&a.mentions).then(a.en.cmp(&b.en)));
    out.truncate(8);
    Ok(out)
}

/// Where the story says one thing and the members do another.
fn disagreements(p: &Persona, mix: &[ChannelShare], size: usize) -> Vec<Disagreement> {
    let mut out = Vec::new();
    if size == 0 {
        out.push(Disagreement {
            ko: "이 세그먼트에는 지금 고객이 없습니다: 이야기를 확인할 데이터가 없습니다.".into(),
            en: "The segment has no customers now: there is no data to check the story against."
                .into(),
        });
        return out;
    }
    let preferred: Vec<&str> = p.channels.split(',').filter(|c| !c.is_empty()).collect();
    let share: f64 = mix
        .iter()
        .filter(|c| preferred.contains(&c.channel.as_str()))
        .map(|c| c.share)
        .sum();
    if let (false, Some(top)) = (preferred.is_empty(), mix.first())
        && share < PREFERRED_SHARE
        && !preferred.contains(&top.channel.as_str())
    {
        let label = |key: &str, ko: bool| {
            Channel::parse(key).map_or(key.to_string(), |c| {
                if ko { c.label_ko() } else { c.label_en() }.to_string()
            })
        };
        let said = |ko: bool| {
            preferred
                .iter()
                .map(|c| label(c, ko))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let pct = |x: f64| (x * 100.0).round();
        out.push(Disagreement {
            ko: format!(
                "선호 채널은 {}이지만 이벤트의 {}%는 {}에서, {}%만 선호 채널에서 일어났습니다.",
                said(true),
                pct(top.share),
                label(&top.channel, true),
                pct(share)
            ),
            en: format!(
                "Said to prefer {}, but {}% of their events are on {} and only {}% on the preferred channels.",
                said(false),
                pct(top.share),
                label(&top.channel, false),
                pct(share)
            ),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn persona(channels: &str) -> Persona {
        Persona {
            id: 1,
            segment_id: Some(1),
            name_ko: "민지".into(),
            name_en: "Minji".into(),
            goals_ko: String::new(),
            goals_en: String::new(),
            pains_ko: String::new(),
            pains_en: String::new(),
            quote_ko: String::new(),
            quote_en: String::new(),
            channels: channels.into(),
            has_photo: false,
            created_by: "t".into(),
            created_at: 0,
            updated_at: 0,
        }
    }

    fn mix(shares: &[(&str, u64)]) -> Vec<ChannelShare> {
        let total: u64 = shares.iter().map(|s| s.1).sum();
        shares
            .iter()
            .map(|&(c, n)| ChannelShare {
                channel: c.into(),
                events: n,
                share: n as f64 / total as f64,
            })
            .collect()
    }

    #[test]
    fn a_preferred_channel_the_members_rarely_use_is_flagged() {
        let web_heavy = mix(&[("web", 70), ("app", 30)]);
        let flags = disagreements(&persona("app"), &web_heavy, 10);
        assert_eq!(flags.len(), 1);
        assert!(
            flags[0].en.contains("70% of their events are on"),
            "{}",
            flags[0].en
        );
        assert!(flags[0].ko.contains("70%"));
        // The story holds when the preferred channel leads.
        assert!(disagreements(&persona("web"), &web_heavy, 10).is_empty());
        // Or when the preferred channels together hold half.
        let even = mix(&[("web", 50), ("app", 30), ("store", 20)]);
        assert!(disagreements(&persona("app,store"), &even, 10).is_empty());
        // No channel claimed, nothing to contradict; no members, nothing to check.
        assert!(disagreements(&persona(""), &web_heavy, 10).is_empty());
        assert_eq!(disagreements(&persona("app"), &[], 0).len(), 1);
    }
}
