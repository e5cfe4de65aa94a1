//! Phone calls pushed by a telephony system: each call is found a customer by its number
//! (or the id given), joins the customer's open conversation or starts a phone one, and
//! becomes a line of the thread (its notes) with the call's facts beside it. Idempotent on
//! the telephony system's call id.

use nunchi_core::{
    access::Permission,
    conversation::{
        CallDirection, CallOutcome, ConversationChannel, MAX_MESSAGE_BYTES, MessageDirection,
        Priority,
    },
    identity::Identity,
    import::CustomerRecord,
    phone::Phone,
    sla::SlaEvent,
    time::Millis,
};
use nunchi_store::{
    StoreError,
    model::{Call, NewConversation, NewMessage},
};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::{App, Error, Result, actor::Actor, conversations::Intake};

/// One call as a telephony system reports it.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct CallInput {
    /// inbound or outbound.
    pub direction: String,
    /// The customer's number, in any usual form (010-1234-5678, +82 10 1234 5678).
    pub number: String,
    /// The customer, when the telephony system knows them; otherwise found by number.
    pub customer_id: Option<i64>,
    /// The agent who took or made the call.
    pub agent_id: Option<i64>,
    /// RFC 3339, a date or Unix seconds; now when absent.
    pub started_at: Option<String>,
    pub ended_at: Option<String>,
    /// answered, missed, voicemail, busy or failed.
    pub outcome: String,
    /// Where the recording can be played (http or https).
    pub recording_url: Option<String>,
    pub notes: Option<String>,
    /// The telephony system's id for the call: the same id logged twice is stored once.
    pub call_id: Option<String>,
}

fn when(field: &str, text: Option<&str>) -> Result<Option<i64>> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => Millis::parse(t)
            .map(|m| Some(m.0))
            .map_err(|e| Error::invalid(&format!("invalid_{field}"), e.to_string())),
    }
}

async fn already_logged(app: &App, call_id: &str) -> Result<Option<Intake>> {
    let found = app
        .store
        .messages_by_external_id(ConversationChannel::Phone.as_str(), &[call_id.to_string()])
        .await?;
    let Some(m) = found.into_iter().next() else {
        return Ok(None);
    };
    let c = app.store.conversation(m.conversation_id).await?;
    Ok(Some(Intake {
        conversation_id: c.id,
        message_id: m.id,
        customer_id: c.customer_id,
    }))
}

async fn customer_for_phone(app: &App, phone: &Phone) -> Result<i64> {
    let record = CustomerRecord {
        phone: Some(phone.clone()),
        ..Default::default()
    };
    crate::customers::find_or_create(app, &Identity::phone(phone), &record, &[], "phone").await
}

/// A call stored twice at once: the other request's ids; any other error as it is.
async fn settle_conflict(app: &App, call_id: Option<&str>, e: StoreError) -> Result<Intake> {
    match (e, call_id) {
        (StoreError::Conflict(_), Some(id)) => already_logged(app, id)
            .await?
            .ok_or_else(|| Error::Conflict("the call was stored and then vanished".into())),
        (e, _) => Err(e.into()),
    }
}

/// Logs one call.
pub async fn log_call(app: &App, actor: &Actor, input: &CallInput) -> Result<Intake> {
    if !actor.can(Permission::InboxWrite) {
        return Err(Error::Forbidden);
    }
    let direction = CallDirection::parse(&input.direction)?;
    let outcome = CallOutcome::parse(&input.outcome)?;
    let phone = Phone::parse(&input.number)?;
    let started_at = when("started_at", input.started_at.as_deref())?.unwrap_or_else(|| app.now());
    let ended_at = when("ended_at", input.ended_at.as_deref())?;
    if ended_at.is_some_and(|e| e < started_at) {
        return Err(Error::invalid(
            "invalid_ended_at",
            "a call ends after it starts",
        ));
    }
    let recording_url = input
        .recording_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(|u| {
            let ok = (u.starts_with("https://") || u.starts_with("http://")) && u.len() <= 2_000;
            ok.then(|| u.to_string()).ok_or_else(|| {
                Error::invalid(
                    "invalid_recording_url",
                    "the recording is an http(s) address of at most 2,000 characters",
                )
            })
        })
        .transpose()?;
    let notes = input.notes.as_deref().unwrap_or("").trim().to_string();
    if notes.len() > MAX_MESSAGE_BYTES {
        return Err(Error::invalid("invalid_notes", "the notes are too long"));
    }
    let call_id = input
        .call_id
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    if call_id.as_ref().is_some_and(|c| c.len() > 200) {
        return Err(Error::invalid(
            "invalid_call_id",
            "the call id is at most 200 characters",
        ));
    }
    if let Some(id) = &call_id
        && let Some(done) = already_logged(app, id).await?
    {
        return Ok(done);
    }
    if let Some(agent) = input.agent_id {
        app.store
            .user(agent)
            .await
            .map_err(|_| Error::invalid("invalid_agent_id", format!("there is no user {agent}")))?;
    }
    let customer_id = match input.customer_id {
        Some(id) => app.store.customer(id).await?.row.id,
        None => customer_for_phone(app, &phone).await?,
    };
    let line = NewMessage {
        direction: match direction {
            CallDirection::Inbound => MessageDirection::Incoming,
            CallDirection::Outbound => MessageDirection::Outgoing,
        },
        channel: ConversationChannel::Phone,
        author_user_id: input.agent_id,
        text: notes,
        external_id: call_id.clone(),
        subject: None,
        delivery: None,
        at: Some(started_at),
        client_id: None,
    };
    let call = Call {
        message_id: 0,
        direction: direction.as_str().into(),
        number: phone.as_str().into(),
        agent_id: input.agent_id,
        started_at,
        ended_at,
        outcome: outcome.as_str().into(),
        recording_url,
    };
    // One customer, one history: the call joins what is still open with them.
    let open = crate::conversations::open_one(app, customer_id, None).await?;
    let (conversation, added) = match open {
        Some(c) => match app.store.add_call(c.id, &line, &call).await {
            Ok(m) => (c, m),
            Err(e) => return settle_conflict(app, call_id.as_deref(), e).await,
        },
        None => {
            let new = NewConversation {
                customer_id,
                channel: ConversationChannel::Phone,
                subject: phone.as_str().into(),
                priority: Priority::Normal,
                team_id: None,
            };
            match app.store.create_call_conversation(&new, &line, &call).await {
                Ok((c, m)) => {
                    app.touched([c.customer_id]);
                    crate::sla::track(app, &c, SlaEvent::Opened { at: c.created_at }).await?;
                    // The agent on the call keeps the conversation; otherwise the desk assigns it.
                    match input.agent_id {
                        Some(agent) => {
                            app.store.assign_within_cap(c.id, agent, None).await?;
                        }
                        None => {
                            crate::assignment::auto_assign(app, &c).await?;
                        }
                    }
                    (c, m)
                }
                Err(e) => return settle_conflict(app, call_id.as_deref(), e).await,
            }
        }
    };
    let event = match direction {
        CallDirection::Inbound => SlaEvent::Incoming {
            at: started_at,
            replied_before: conversation.first_reply_at.is_some(),
        },
        CallDirection::Outbound => SlaEvent::Reply { at: started_at },
    };
    app.live.publish(crate::live::Moved {
        conversation_id: conversation.id,
        seq: added.seq,
    });
    let fresh = app.store.conversation(conversation.id).await?;
    crate::sla::track(app, &fresh, event).await?;
    app.audit_by(
        actor,
        "call.log",
        &format!("conversation:{}", conversation.id),
        "",
    )
    .await;
    Ok(Intake {
        conversation_id: conversation.id,
        message_id: added.id,
        customer_id,
    })
}
