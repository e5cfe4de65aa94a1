//! A follow-up a closed-loop rule opens becomes a conversation its owner can answer: the
//! customer's feedback is the thread's first line, the owner is its assignee, and a reply
//! goes to the customer by e-mail like any other, so the loop is closed where the desk
//! works. Queued as a job in the transaction that opens the follow-up (the rule engine runs
//! without the desk's operations); customers without an e-mail address keep the follow-up
//! alone.

use nunchi_core::{
    conversation::{ConversationChannel, MessageDirection, Priority},
    identity::IdentityKind,
    sla::SlaEvent,
};
use nunchi_store::{
    StoreError,
    model::{NewConversation, NewMessage},
};
use serde::{Deserialize, Serialize};

use crate::{App, inbound_mail, jobs::Job};

/// The Message-ID of a follow-up conversation's first line: one per follow-up.
pub fn first_line_id(app: &App, follow_up_id: i64) -> String {
    format!("nunchi.follow-up.{follow_up_id}@{}", app.mailer.domain())
}

/// Opens the conversation for the follow-up of one piece of feedback.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUpConversationJob {
    pub feedback_id: i64,
}

impl Job for FollowUpConversationJob {
    const KIND: &'static str = "follow_up_conversation";

    async fn run(self, app: &App) -> anyhow::Result<String> {
        let follow_up = app.store.follow_up_for(self.feedback_id).await?;
        if let Some(c) = follow_up.conversation_id {
            return Ok(format!("conversation {c} already opened"));
        }
        let feedback = app.store.feedback(self.feedback_id).await?;
        let Some(customer_id) = feedback.customer_id else {
            return Ok("the feedback has no customer".into());
        };
        let customer = match app.store.customer(customer_id).await {
            Ok(c) => c,
            // Erased or merged away since: nobody to answer.
            Err(StoreError::NotFound(_) | StoreError::Conflict(_)) => {
                return Ok("the customer is gone".into());
            }
            Err(e) => return Err(e.into()),
        };
        if customer.row.erased_at.is_some() || customer.identity(IdentityKind::Email).is_none() {
            return Ok("the customer has no e-mail address to answer".into());
        }
        let ko = customer.row.language.as_deref().is_none_or(|l| l == "ko");
        let what = feedback.body.lines().next().unwrap_or("").trim();
        let subject = match (ko, what.is_empty()) {
            (true, true) => "고객 의견에 대한 후속 조치".to_string(),
            (true, false) => format!("고객 의견: {what}"),
            (false, true) => "Following up on your feedback".to_string(),
            (false, false) => format!("Your feedback: {what}"),
        };
        let text = if feedback.body.trim().is_empty() {
            feedback.rating_label().unwrap_or_else(|| subject.clone())
        } else {
            feedback.body.clone()
        };
        // The first line's id is the follow-up's own, so a run retried after a crash finds
        // the conversation the first run opened instead of opening a second.
        let first_line = first_line_id(app, follow_up.id);
        let opened = crate::live::open(
            app,
            &NewConversation {
                customer_id,
                channel: ConversationChannel::Email,
                subject: inbound_mail::clip(&subject, 200),
                priority: Priority::High,
                team_id: feedback.team_id,
            },
            &NewMessage {
                direction: MessageDirection::Incoming,
                channel: ConversationChannel::Email,
                author_user_id: None,
                text,
                external_id: Some(first_line.clone()),
                subject: None,
                delivery: None,
                at: Some(feedback.created_at),
                client_id: None,
            },
        )
        .await;
        let conversation = match opened {
            Ok((conversation, _)) => conversation,
            Err(crate::Error::Conflict(_)) => {
                let earlier = app
                    .store
                    .messages_by_external_id(ConversationChannel::Email.as_str(), &[first_line])
                    .await?;
                let Some(line) = earlier.into_iter().next() else {
                    anyhow::bail!("follow-up {}'s conversation vanished", follow_up.id);
                };
                // An earlier run opened it and stopped before the rest: finish its work.
                app.store.conversation(line.conversation_id).await?
            }
            Err(e) => return Err(e.into()),
        };
        if !app
            .store
            .link_follow_up(follow_up.id, conversation.id)
            .await?
        {
            // Another run linked one first: this one is not needed.
            return Ok(format!("follow-up {} was linked meanwhile", follow_up.id));
        }
        match follow_up.owner_id {
            // The follow-up's owner answers it, whatever the desk's assignment would choose.
            Some(owner) => {
                crate::sla::track(
                    app,
                    &conversation,
                    SlaEvent::Opened {
                        at: conversation.created_at,
                    },
                )
                .await?;
                if app
                    .store
                    .assign_within_cap(conversation.id, owner, None)
                    .await?
                {
                    crate::live::activity(
                        app,
                        conversation.id,
                        conversation.channel,
                        None,
                        &format!("assignee={owner}"),
                    )
                    .await?;
                }
            }
            None => crate::conversations::opened(app, &conversation).await?,
        }
        crate::live::activity(
            app,
            conversation.id,
            conversation.channel,
            None,
            &format!("follow_up={}", follow_up.id),
        )
        .await?;
        Ok(serde_json::json!({ "conversation_id": conversation.id }).to_string())
    }
}
