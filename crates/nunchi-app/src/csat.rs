//! CSAT after support: resolving a conversation asks its customer, on the conversation's
//! own channel, for a one-question rating (1–5, in their language) — by e-mail, or in the
//! chat or messenger itself as a line the desk sends by itself; the answer joins the feedback stream as
//! a support rating of the conversation's team (so VoC scores and closed-loop rules see
//! it), and the request keeps the agent for the support report. One answer per link.

use nunchi_core::identity::IdentityKind;
use nunchi_core::{
    conversation::ConversationChannel,
    feedback::{Metric, Rating},
};
use nunchi_store::{
    StoreError,
    model::{Conversation, CsatRequest, NewFeedback},
};

use crate::{App, Error, Result};

/// Sends the CSAT question for a conversation that was just resolved, when its customer
/// can be reached on its channel (e-mail, or the chat they wrote in). Returns whether it
/// was sent.
pub async fn ask(app: &App, c: &Conversation) -> Result<bool> {
    let customer = app.store.customer(c.customer_id).await?;
    let to = match c.channel {
        ConversationChannel::Email => {
            let Some(to) = customer.identity(IdentityKind::Email).map(str::to_string) else {
                return Ok(false);
            };
            Some(to)
        }
        ConversationChannel::Chat | ConversationChannel::Messenger => None,
        ConversationChannel::Phone => return Ok(false),
    };
    let ko = customer.row.language.as_deref().is_none_or(|l| l == "ko");
    let token = crate::secret::random_token();
    app.store
        .create_csat_request(&CsatRequest {
            token_hash: crate::secret::hash(&token),
            conversation_id: c.id,
            agent_id: c.assignee_id,
            team_id: c.team_id,
            lang: if ko { "ko" } else { "en" }.into(),
            sent_at: app.now(),
            answered_at: None,
            rating: None,
            feedback_id: None,
        })
        .await?;
    let link = format!(
        "{}/csat/{token}",
        app.config.public_url.trim_end_matches('/')
    );
    let Some(to) = to else {
        // In the chat or messenger: one line the customer sees at once, which is no
        // one's reply (a messenger sends it as a job, like a reply).
        let by_messenger = c.channel == ConversationChannel::Messenger;
        let text = if ko {
            format!("문의하신 내용이 해결되었습니다. 상담은 어떠셨나요? 평가해 주세요: {link}")
        } else {
            format!("Your request was resolved. How did we do? Rate us: {link}")
        };
        let line = crate::live::add_line(
            app,
            c.id,
            &nunchi_store::model::NewMessage {
                direction: nunchi_core::conversation::MessageDirection::Automatic,
                channel: c.channel,
                author_user_id: None,
                text,
                external_id: None,
                subject: None,
                delivery: by_messenger.then(|| "queued".to_string()),
                at: None,
                client_id: None,
            },
        )
        .await?;
        if by_messenger {
            crate::messengers::queue_delivery(app, &line).await?;
        }
        crate::live::activity(app, c.id, c.channel, None, "csat_requested").await?;
        return Ok(true);
    };
    let choices: String = (1..=5)
        .rev()
        .map(|r| format!("  {r} {}: {link}?rating={r}\n", "★".repeat(r)))
        .collect();
    let (subject, text) = if ko {
        (
            format!("[{}] 상담은 어떠셨나요?", c.subject),
            format!(
                "문의하신 내용이 해결되었습니다. 상담에 얼마나 만족하셨는지 알려주세요.\n\n{choices}"
            ),
        )
    } else {
        (
            format!("[{}] How did we do?", c.subject),
            format!(
                "Your request was resolved. How satisfied were you with our support?\n\n{choices}"
            ),
        )
    };
    crate::jobs::enqueue(app, &crate::mail::EmailJob { to, subject, text }).await?;
    crate::live::activity(app, c.id, c.channel, None, "csat_requested").await?;
    Ok(true)
}

/// What a CSAT link shows: the conversation's subject and whether it was answered.
pub async fn request(app: &App, token: &str) -> Result<(CsatRequest, Conversation)> {
    let r = app.store.csat_request(&crate::secret::hash(token)).await?;
    let c = app.store.conversation(r.conversation_id).await?;
    Ok((r, c))
}

/// Records a customer's answer (1–5 and an optional comment).
pub async fn answer(app: &App, token: &str, rating: i64, comment: &str) -> Result<()> {
    let hash = crate::secret::hash(token);
    let r = app.store.csat_request(&hash).await?;
    if r.answered_at.is_some() {
        return Err(Error::Conflict("this rating was already given".into()));
    }
    let value = Rating::new(Metric::Csat, rating as f64, None, None)?;
    let comment = comment.trim();
    if comment.chars().count() > 5_000 {
        return Err(Error::invalid(
            "invalid_comment",
            "write at most 5,000 characters",
        ));
    }
    let c = app.store.conversation(r.conversation_id).await?;
    let now = app.now();
    let added = app
        .store
        .add_feedback(&[NewFeedback {
            source: "support".into(),
            external_id: Some(format!("csat-{}", &hash[..24])),
            metric: Some(value.metric.as_str().into()),
            rating: Some(value.value),
            scale_min: Some(value.min),
            scale_max: Some(value.max),
            score: Some(value.normalised),
            body: comment.into(),
            url: None,
            author: None,
            customer_id: Some(c.customer_id),
            touchpoint_id: None,
            stage_id: None,
            team_id: r.team_id,
            channel: c.channel.as_str().into(),
            created_at: now,
        }])
        .await?;
    let feedback_id = match added.first() {
        Some(
            nunchi_store::model::Added::Created(id) | nunchi_store::model::Added::Existing(id),
        ) => *id,
        None => {
            return Err(Error::Internal(anyhow::anyhow!(
                "the rating was not stored"
            )));
        }
    };
    match app.store.answer_csat(&hash, rating, feedback_id, now).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return Err(Error::Conflict("this rating was already given".into()));
        }
        Err(e) => return Err(e.into()),
    }
    app.touched([c.customer_id]);
    app.annotator.wake();
    crate::live::activity(app, c.id, c.channel, None, &format!("csat={rating}")).await
}
