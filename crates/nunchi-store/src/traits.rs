//! The storage traits. Each capability has its own trait so later ones (events, feedback,
//! conversations, points) add a trait and a module without touching the others; `Store`
//! bundles them for the server, which holds one `Arc<dyn Store>`.

use async_trait::async_trait;
use nunchi_core::{
    consent::Consent,
    customer::{AttributeType, ProfileFields, Tag},
    identity::Identity,
    import::{CustomerRecord, OrderLine},
    life_event::LifeEventKind,
    loyalty::{Ledger, Op, Program, earn::EarnRule, ledger::LedgerError, reward::Reward},
};

use crate::{StoreResult, model::*};

pub use crate::campaign_store::CampaignStore;
pub use crate::persona_store::PersonaStore;
pub use crate::segment_store::SegmentStore;

#[async_trait]
pub trait CustomerStore: Send + Sync {
    /// Creates a customer with the record's identities plus `extra`. Fails with `Conflict`
    /// when an identity already belongs to someone else.
    async fn create_customer(
        &self,
        record: &CustomerRecord,
        extra: &[Identity],
        source: &str,
    ) -> StoreResult<i64>;
    /// Inserts or updates customers by external id (then e-mail, then phone), in one
    /// transaction. One result per record: a conflict on one row leaves the others intact.
    async fn upsert_customers(
        &self,
        records: &[CustomerRecord],
        source: &str,
    ) -> StoreResult<Vec<StoreResult<Upserted>>>;
    async fn customer(&self, id: i64) -> StoreResult<Customer>;
    /// One list line per customer id, in the order given (unknown ids are left out).
    async fn customer_summaries(&self, ids: &[i64]) -> StoreResult<Vec<CustomerSummary>>;
    async fn update_profile(&self, id: i64, fields: &ProfileFields) -> StoreResult<()>;
    async fn find_by_identity(&self, identity: &Identity) -> StoreResult<Option<i64>>;
    async fn add_identity(&self, id: i64, identity: &Identity, actor: &str) -> StoreResult<()>;
    async fn remove_identity(&self, id: i64, identity: &Identity, actor: &str) -> StoreResult<()>;
    /// Newest first; `before` is the last id of the previous page.
    async fn list_customers(
        &self,
        filter: &CustomerFilter,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<CustomerSummary>>;
    /// Customers whose search keys start with the normalised query, best match first.
    async fn search_customers(&self, query: &str, limit: i64) -> StoreResult<Vec<CustomerSummary>>;
    async fn set_tags(&self, id: i64, tags: &[Tag]) -> StoreResult<()>;
    /// Declares the attribute on first use; later values must match the declared type.
    async fn set_attribute(
        &self,
        id: i64,
        key: &str,
        ty: AttributeType,
        value: &str,
    ) -> StoreResult<()>;
    async fn attribute_type(&self, key: &str) -> StoreResult<Option<AttributeType>>;
    /// Every declared custom attribute key, sorted.
    async fn attribute_keys(&self) -> StoreResult<Vec<String>>;
    /// (customer, value) of one attribute, for analytics breakdowns.
    async fn attribute_values(&self, key: &str) -> StoreResult<Vec<(i64, String)>>;
    /// Customers carrying a tag: the segment an analysis is narrowed to.
    async fn customers_tagged(&self, tag: &str) -> StoreResult<Vec<i64>>;
    async fn record_consent(&self, id: i64, consent: &Consent) -> StoreResult<()>;
    async fn consent_history(&self, id: i64) -> StoreResult<Vec<ConsentRow>>;
    async fn set_life_event(
        &self,
        id: i64,
        kind: LifeEventKind,
        label: &str,
        date: &str,
        recurring: bool,
    ) -> StoreResult<()>;
    async fn add_note(
        &self,
        id: i64,
        author_user_id: Option<i64>,
        author_name: &str,
        body: &str,
    ) -> StoreResult<Note>;
    /// Adds many notes in one transaction: (customer id, author name, body).
    async fn add_notes(&self, notes: &[(i64, String, String)]) -> StoreResult<()>;
    async fn notes(&self, id: i64) -> StoreResult<Vec<Note>>;
    async fn timeline(
        &self,
        id: i64,
        after: Option<&TimelineCursor>,
        limit: i64,
    ) -> StoreResult<Vec<TimelineEntry>>;
    /// Moves everything that points at `source` to `target` and leaves `source` as a
    /// tombstone that redirects to `target`.
    async fn merge_customers(&self, source: i64, target: i64, actor: &str) -> StoreResult<()>;
    /// Removes PII, identities, notes, consents and life events; keeps the anonymised
    /// row and its orders so aggregates stay right.
    async fn erase_customer(&self, id: i64, actor: &str) -> StoreResult<()>;
    async fn export_customer(&self, id: i64) -> StoreResult<CustomerExport>;
    /// Full profiles in id order after `after_id`, for streaming exports.
    async fn customers_page(&self, after_id: i64, limit: i64) -> StoreResult<Vec<Customer>>;
    async fn stats(&self) -> StoreResult<Stats>;
    /// New customers per UTC day (days since the Unix epoch), oldest first.
    async fn daily_signups(&self) -> StoreResult<Vec<(i64, i64)>>;
}

#[async_trait]
pub trait OrderStore: Send + Sync {
    /// Upserts order lines by order id and product, creating the order on its first line
    /// and recomputing its total. One result per line.
    async fn upsert_order_lines(&self, lines: &[OrderLine]) -> StoreResult<Vec<StoreResult<i64>>>;
    async fn order(&self, id: i64) -> StoreResult<Order>;
    async fn orders_of(&self, customer_id: i64) -> StoreResult<Vec<Order>>;
    /// Orders in id order after `after_id`, for streaming exports.
    async fn orders_page(&self, after_id: i64, limit: i64) -> StoreResult<Vec<Order>>;
    /// The orders with these ids (those that exist), with their items, in id order.
    async fn orders_by_ids(&self, ids: &[i64]) -> StoreResult<Vec<Order>>;
    /// Order lines placed in `(from, to]` in `currency`, by customer (one customer's, or
    /// everyone's), for tiers measured on spend.
    async fn spend_lines(
        &self,
        customer_id: Option<i64>,
        from: i64,
        to: i64,
        currency: &str,
    ) -> StoreResult<Vec<(i64, nunchi_core::loyalty::tiers::SpendLine)>>;
    /// Each product's sales (units in all and since `recent_since`), for slow movers.
    async fn product_sales(
        &self,
        recent_since: i64,
    ) -> StoreResult<Vec<nunchi_core::loyalty::slow_movers::ProductSales>>;
    /// Purchased lines (orders neither pending nor cancelled) after the line id
    /// `after_line_id`, in line-id order, for the customer models: lifetime value,
    /// RFM and recommendations.
    async fn purchase_lines_page(
        &self,
        after_line_id: i64,
        limit: i64,
    ) -> StoreResult<Vec<PurchaseLine>>;
    /// Records a refund of `amount_minor`; the status follows (refunded when it is whole).
    async fn refund_order(&self, order_id: i64, amount_minor: i64) -> StoreResult<OrderRow>;
    /// Net revenue (after refunds) per sales channel and currency, in minor units.
    async fn revenue_by_channel(&self) -> StoreResult<Vec<(String, String, i64)>>;
}

#[async_trait]
pub trait UserStore: Send + Sync {
    async fn create_user(
        &self,
        email: &str,
        name: &str,
        password_hash: &str,
        role: &str,
        locale: &str,
    ) -> StoreResult<User>;
    async fn user(&self, id: i64) -> StoreResult<User>;
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>>;
    async fn users(&self) -> StoreResult<Vec<User>>;
    async fn count_users(&self) -> StoreResult<i64>;
    async fn set_role(&self, id: i64, role: &str) -> StoreResult<()>;
    async fn set_password(&self, id: i64, password_hash: &str) -> StoreResult<()>;
    async fn set_locale(&self, id: i64, locale: &str) -> StoreResult<()>;
    async fn set_team(&self, id: i64, team_id: Option<i64>) -> StoreResult<()>;
    async fn set_disabled(&self, id: i64, disabled: bool) -> StoreResult<()>;
    /// Counts a failed sign-in and locks the account until `lock_until` once `max` is reached.
    async fn record_login_failure(&self, id: i64, max: i64, lock_until: i64) -> StoreResult<()>;
    async fn record_login_success(&self, id: i64) -> StoreResult<()>;
    async fn create_team(&self, name: &str) -> StoreResult<Team>;
    async fn teams(&self) -> StoreResult<Vec<Team>>;
    async fn create_session(&self, session: &Session) -> StoreResult<()>;
    async fn session(&self, token_hash: &str, now: i64) -> StoreResult<Option<(Session, User)>>;
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()>;
    async fn create_api_token(
        &self,
        user_id: i64,
        name: &str,
        token_hash: &str,
        prefix: &str,
        scopes: &str,
    ) -> StoreResult<ApiToken>;
    async fn api_token(&self, token_hash: &str) -> StoreResult<Option<(ApiToken, User)>>;
    async fn api_tokens(&self, user_id: i64) -> StoreResult<Vec<ApiToken>>;
    async fn revoke_api_token(&self, user_id: i64, token_id: i64) -> StoreResult<()>;
}

#[async_trait]
pub trait AuditStore: Send + Sync {
    async fn audit(&self, entry: &NewAuditEntry) -> StoreResult<()>;
    /// Newest first; `before` is the last id of the previous page.
    async fn audit_log(&self, before: Option<i64>, limit: i64) -> StoreResult<Vec<AuditEntry>>;
}

#[async_trait]
pub trait JobStore: Send + Sync {
    async fn enqueue_job(
        &self,
        kind: &str,
        payload: &str,
        run_at: i64,
        max_attempts: i64,
    ) -> StoreResult<i64>;
    /// Takes the oldest due job: queued, or running with an expired lease (its worker died).
    async fn claim_job(&self, worker: &str, now: i64, lease_ms: i64) -> StoreResult<Option<Job>>;
    async fn complete_job(&self, id: i64, result: &str) -> StoreResult<()>;
    /// Records the error; with `retry_at` the job is queued again, without it it has failed.
    async fn fail_job(&self, id: i64, error: &str, retry_at: Option<i64>) -> StoreResult<()>;
    async fn job(&self, id: i64) -> StoreResult<Job>;
    async fn jobs(&self, limit: i64) -> StoreResult<Vec<Job>>;
    /// Whether a job of this kind waits in the queue (for jobs that schedule themselves).
    async fn job_queued(&self, kind: &str) -> StoreResult<bool>;
}

#[async_trait]
pub trait EventStore: Send + Sync {
    async fn create_source(
        &self,
        name: &str,
        write_key_hash: &str,
        write_key_prefix: &str,
        channel: Option<&str>,
    ) -> StoreResult<EventSource>;
    async fn sources(&self) -> StoreResult<Vec<EventSource>>;
    async fn source_by_key(&self, write_key_hash: &str) -> StoreResult<Option<EventSource>>;
    /// Appends events in one transaction: all are durable when this returns, or none.
    async fn append_events(&self, events: &[EventRow]) -> StoreResult<()>;
    /// Events in arrival order after `after_id`, for rebuilding the analytics engine.
    async fn events_page(&self, after_id: i64, limit: i64) -> StoreResult<Vec<EventRow>>;
    /// Every anonymous id linked to a customer (its `anonymous_id` identities).
    async fn anonymous_links(&self) -> StoreResult<Vec<(String, i64)>>;
    /// A customer's newest events, including those sent under linked anonymous ids.
    async fn customer_events(&self, customer_id: i64, limit: i64) -> StoreResult<Vec<EventRow>>;
    async fn count_events(&self) -> StoreResult<i64>;
}

#[async_trait]
pub trait JourneyStore: Send + Sync {
    /// In map order.
    async fn stages(&self) -> StoreResult<Vec<Stage>>;
    /// Adds a stage at the end of the map.
    async fn add_stage(&self, key: &str, name_ko: &str, name_en: &str) -> StoreResult<Stage>;
    async fn rename_stage(&self, id: i64, name_ko: &str, name_en: &str) -> StoreResult<()>;
    /// Moves a stage one place left (-1) or right (+1).
    async fn move_stage(&self, id: i64, by: i64) -> StoreResult<()>;
    /// Removes a stage; its touchpoints stay, off the map.
    async fn delete_stage(&self, id: i64) -> StoreResult<()>;
    async fn touchpoints(&self) -> StoreResult<Vec<Touchpoint>>;
    async fn create_touchpoint(&self, t: &NewTouchpoint) -> StoreResult<Touchpoint>;
    async fn update_touchpoint(&self, id: i64, t: &NewTouchpoint) -> StoreResult<Touchpoint>;
    async fn delete_touchpoint(&self, id: i64) -> StoreResult<()>;
}

/// Operations on the database as a whole.
/// The Voice-of-the-Customer feedback stream.
#[async_trait]
pub trait FeedbackStore: Send + Sync {
    /// Stores feedback in one transaction, idempotent on (source, external id): an item
    /// whose pair is already stored is reported as `Existing` and left as it was.
    async fn add_feedback(&self, items: &[NewFeedback]) -> StoreResult<Vec<Added>>;
    async fn feedback(&self, id: i64) -> StoreResult<Feedback>;
    /// The feedback with these ids (those that exist), in id order.
    async fn feedback_many(&self, ids: &[i64]) -> StoreResult<Vec<Feedback>>;
    /// Newest first by the time it was given (then id), or, after `after_id`, the rows
    /// stored since in the order they arrived (the live feed's catch-up).
    async fn list_feedback(&self, filter: &FeedbackFilter) -> StoreResult<Vec<Feedback>>;
    /// The id of the feedback stored last (0 when there is none): where a live feed starts.
    async fn last_feedback_id(&self) -> StoreResult<i64>;
    /// Ratings on one metric given in `[from, to)` (Unix ms), for scores.
    async fn metric_ratings(
        &self,
        metric: &str,
        from: i64,
        to: i64,
    ) -> StoreResult<Vec<MetricRating>>;
    /// Per journey stage, the normalised ratings and text sentiment given in `[from, to)`.
    async fn stage_signals(&self, from: i64, to: i64) -> StoreResult<Vec<StageSignal>>;
    /// Per touchpoint, the normalised ratings given in `[from, to)`.
    async fn touchpoint_signals(&self, from: i64, to: i64) -> StoreResult<Vec<TouchpointSignal>>;
    /// Feedback with text that has no annotations yet, oldest first.
    async fn unannotated(&self, limit: i64) -> StoreResult<Vec<(i64, String)>>;
    async fn annotate(&self, items: &[(i64, Annotation)]) -> StoreResult<()>;
    /// Replaces the text of feedback `(source, external id)` (a survey's free-text answer
    /// arriving after its rating) and queues it for annotation and the rules again.
    async fn set_feedback_body(
        &self,
        source: &str,
        external_id: &str,
        body: &str,
    ) -> StoreResult<()>;
}

/// The closed loop: rules, the follow-ups they open, and their closure.
#[async_trait]
pub trait LoopStore: Send + Sync {
    async fn create_loop_rule(&self, rule: &NewLoopRule) -> StoreResult<LoopRule>;
    async fn loop_rules(&self) -> StoreResult<Vec<LoopRule>>;
    async fn delete_loop_rule(&self, id: i64) -> StoreResult<()>;
    /// Feedback the rules have not looked at yet and whose text (if any) is annotated,
    /// oldest first.
    async fn unlooped(&self, limit: i64) -> StoreResult<Vec<Feedback>>;
    /// Opens the follow-ups (at most one per feedback, recording every rule it met) and
    /// marks `looked_at`
    /// feedback as looked at, in one transaction.
    /// Also links the negative ones to open root-cause items of their topics and queues
    /// `jobs` (notifications, webhooks), so that nothing the rules decided is lost.
    async fn open_follow_ups(
        &self,
        looked_at: &[i64],
        follow_ups: &[NewFollowUp],
        jobs: &[NewJob],
    ) -> StoreResult<()>;
    /// Follow-ups, newest first; only those with this status when given.
    async fn follow_ups(&self, status: Option<&str>, limit: i64) -> StoreResult<Vec<FollowUp>>;
    async fn follow_up(&self, id: i64) -> StoreResult<FollowUp>;
    /// The follow-up opened for a piece of feedback (there is at most one).
    async fn follow_up_for(&self, feedback_id: i64) -> StoreResult<FollowUp>;
    async fn close_follow_up(&self, id: i64, resolution: &str) -> StoreResult<FollowUp>;
    /// Names the conversation a follow-up is answered in; false when it already has one.
    async fn link_follow_up(&self, id: i64, conversation_id: i64) -> StoreResult<bool>;
    async fn add_follow_up_note(
        &self,
        follow_up_id: i64,
        author_id: Option<i64>,
        body: &str,
    ) -> StoreResult<FollowUpNote>;
    async fn follow_up_notes(&self, follow_up_id: i64) -> StoreResult<Vec<FollowUpNote>>;
    /// The notes of all these follow-ups, oldest first.
    async fn follow_up_notes_many(&self, follow_up_ids: &[i64]) -> StoreResult<Vec<FollowUpNote>>;
    async fn create_webhook(&self, url: &str, secret: &str, events: &str) -> StoreResult<Webhook>;
    async fn webhooks(&self) -> StoreResult<Vec<Webhook>>;
    async fn webhook(&self, id: i64) -> StoreResult<Webhook>;
    async fn delete_webhook(&self, id: i64) -> StoreResult<()>;
    /// Opens a root-cause item for a topic and groups under it the negative feedback on
    /// that topic received since `since`.
    async fn create_root_cause(
        &self,
        topic: &str,
        title: &str,
        owner_id: Option<i64>,
        since: i64,
    ) -> StoreResult<RootCause>;
    async fn root_causes(&self) -> StoreResult<Vec<RootCause>>;
    async fn root_cause(&self, id: i64) -> StoreResult<RootCause>;
    /// The customers who gave the feedback grouped under a root cause.
    async fn root_cause_customers(&self, id: i64) -> StoreResult<Vec<i64>>;
    /// Marks it fixed, records how many customers are told, and queues `jobs` (the
    /// e-mails that tell them, webhooks) in one transaction.
    async fn fix_root_cause(
        &self,
        id: i64,
        note: &str,
        notified: i64,
        jobs: &[NewJob],
    ) -> StoreResult<RootCause>;
}

/// Surveys, their responses (partial ones kept), every attempt to reach someone with
/// what became of it, and the brand's key-value settings.
#[async_trait]
pub trait SurveyStore: Send + Sync {
    async fn create_survey(&self, key: &str, survey: &NewSurvey) -> StoreResult<Survey>;
    async fn update_survey(&self, id: i64, survey: &NewSurvey) -> StoreResult<Survey>;
    async fn survey(&self, id: i64) -> StoreResult<Survey>;
    async fn survey_by_key(&self, key: &str) -> StoreResult<Survey>;
    async fn surveys(&self) -> StoreResult<Vec<Survey>>;
    async fn start_response(&self, response: &NewSurveyResponse) -> StoreResult<SurveyResponse>;
    async fn response_by_token(&self, token: &str) -> StoreResult<SurveyResponse>;
    /// Stores the answers so far and what comes next; `completed_at` once done.
    async fn save_response(
        &self,
        id: i64,
        answers: &str,
        next_question: Option<&str>,
        completed_at: Option<i64>,
    ) -> StoreResult<()>;
    /// Newest first.
    async fn responses(&self, survey_id: i64, limit: i64) -> StoreResult<Vec<SurveyResponse>>;
    /// Per survey: responses with at least one answer, and those completed.
    async fn response_counts(&self) -> StoreResult<Vec<ResponseCount>>;
    /// Contacts to record; one per survey and triggering event (repeats are ignored).
    async fn add_contacts(&self, contacts: &[NewSurveyContact]) -> StoreResult<()>;
    /// Records contacts triggered by events up to `cursor` and moves the trigger cursor
    /// there, in one transaction.
    async fn schedule_triggered(
        &self,
        contacts: &[NewSurveyContact],
        cursor: i64,
    ) -> StoreResult<()>;
    /// Contacts waiting to be sent whose time has come, oldest first.
    async fn due_contacts(&self, now: i64, limit: i64) -> StoreResult<Vec<SurveyContact>>;
    /// Records what became of a due contact.
    async fn settle_contact(
        &self,
        id: i64,
        status: &str,
        reason: Option<&str>,
        reason_value: Option<i64>,
        response_token: Option<&str>,
    ) -> StoreResult<()>;
    /// A send failed: try again at `due_at`.
    async fn retry_contact(&self, id: i64, due_at: i64, error: &str) -> StoreResult<()>;
    /// What has reached this person (a customer, else an anonymous visitor) by `now`.
    async fn exposure(
        &self,
        customer_id: Option<i64>,
        anonymous_id: Option<&str>,
        survey_id: i64,
        now: i64,
    ) -> StoreResult<ExposureCounts>;
    async fn contact_counts(&self, survey_id: i64) -> StoreResult<Vec<ContactCount>>;
    /// Newest first.
    async fn contacts(&self, survey_id: i64, limit: i64) -> StoreResult<Vec<SurveyContact>>;
    async fn setting(&self, key: &str) -> StoreResult<Option<String>>;
    async fn set_setting(&self, key: &str, value: &str) -> StoreResult<()>;
    /// Events with a known customer after `after_id` whose name is one of `names`.
    async fn trigger_events(
        &self,
        after_id: i64,
        names: &[String],
        limit: i64,
    ) -> StoreResult<Vec<TriggerEvent>>;
    async fn last_event_id(&self) -> StoreResult<i64>;
}

/// The support desk: conversations and their threads.
#[async_trait]
pub trait ConversationStore: Send + Sync {
    /// Opens a conversation with its first line, in one transaction.
    async fn create_conversation(
        &self,
        conversation: &NewConversation,
        first: &NewMessage,
    ) -> StoreResult<(Conversation, ConversationMessage)>;
    /// Adds a line and moves the conversation's activity times (an outgoing line is its
    /// first reply if none came before). A line whose (channel, external id) is already
    /// stored fails with `Conflict`; one whose client id is already stored in the
    /// conversation is answered with the stored line.
    async fn add_message(
        &self,
        conversation_id: i64,
        message: &NewMessage,
    ) -> StoreResult<ConversationMessage>;
    /// The lines numbered after `after_seq`, in order, at most `limit`: what a live client
    /// that saw `after_seq` missed.
    async fn messages_after(
        &self,
        conversation_id: i64,
        after_seq: i64,
        limit: i64,
    ) -> StoreResult<Vec<ConversationMessage>>;
    /// The line a chat client sent with this id, if it was stored.
    async fn message_by_client_id(
        &self,
        conversation_id: i64,
        client_id: &str,
    ) -> StoreResult<Option<ConversationMessage>>;
    /// Opens a conversation whose first line is a call, with the call's facts, in one
    /// transaction (`call.message_id` is ignored).
    async fn create_call_conversation(
        &self,
        conversation: &NewConversation,
        line: &NewMessage,
        call: &Call,
    ) -> StoreResult<(Conversation, ConversationMessage)>;
    /// Adds a call's line and its facts in one transaction (`call.message_id` is ignored).
    async fn add_call(
        &self,
        conversation_id: i64,
        line: &NewMessage,
        call: &Call,
    ) -> StoreResult<ConversationMessage>;
    /// The calls among a thread's lines.
    async fn calls(&self, conversation_id: i64) -> StoreResult<Vec<Call>>;
    /// Adds many lines (history brought in from elsewhere) in one transaction.
    async fn import_messages(&self, lines: &[(i64, NewMessage)]) -> StoreResult<()>;
    async fn conversation(&self, id: i64) -> StoreResult<Conversation>;
    async fn conversations(&self, filter: &ConversationFilter) -> StoreResult<Vec<Conversation>>;
    async fn inbox_counts(&self, user_id: i64) -> StoreResult<InboxCounts>;
    /// The newest message to or from the customer of each of these conversations.
    async fn latest_messages(
        &self,
        conversation_ids: &[i64],
    ) -> StoreResult<Vec<ConversationMessage>>;
    /// A thread in order.
    async fn messages(&self, conversation_id: i64) -> StoreResult<Vec<ConversationMessage>>;
    /// The stored lines among `external_ids` on `channel`.
    async fn messages_by_external_id(
        &self,
        channel: &str,
        external_ids: &[String],
    ) -> StoreResult<Vec<ConversationMessage>>;
    async fn set_conversation_state(
        &self,
        id: i64,
        state: &ConversationState,
    ) -> StoreResult<Conversation>;
    async fn set_labels(&self, id: i64, labels: &[String]) -> StoreResult<()>;
    /// Records how sending an outgoing line went.
    async fn set_delivery(
        &self,
        message_id: i64,
        delivery: &str,
        error: Option<&str>,
    ) -> StoreResult<()>;
    async fn message(&self, id: i64) -> StoreResult<ConversationMessage>;
    async fn keep_unreadable_mail(&self, raw: &[u8], reason: &str) -> StoreResult<i64>;
    /// Messages and notes containing `query` (any language, any length, case-insensitive
    /// for Latin letters), newest first.
    async fn search_messages(
        &self,
        query: &str,
        limit: i64,
    ) -> StoreResult<Vec<ConversationMessage>>;
    async fn unreadable_mail(&self, limit: i64) -> StoreResult<Vec<UnreadableMail>>;
}

/// The support desk's settings and measurements: SLA policies and breaches, agents'
/// availability and assignment, canned replies, CSAT requests, report facts.
#[async_trait]
pub trait DeskStore: Send + Sync {
    /// Records that a user has read a conversation up to line `seq` (never backwards).
    async fn mark_read(&self, user_id: i64, conversation_id: i64, seq: i64) -> StoreResult<()>;
    /// Per conversation of these with any, the customer's lines the user has not read.
    async fn unread(&self, user_id: i64, conversation_ids: &[i64]) -> StoreResult<Vec<(i64, i64)>>;
    /// Sets an agent's availability (their last assignment time is kept).
    async fn set_availability(&self, a: &AgentAvailability) -> StoreResult<()>;
    async fn availabilities(&self) -> StoreResult<Vec<AgentAvailability>>;
    /// Open (not resolved) conversations per assignee.
    async fn open_counts(&self) -> StoreResult<Vec<(i64, i64)>>;
    /// Every enabled user with their availability and open count, for one assignment.
    async fn assignment_pool(&self) -> StoreResult<Vec<AgentLoad>>;
    /// Assigns an unassigned conversation to `user_id` if they hold fewer than `cap` open
    /// ones, atomically however many assigners run at once; says whether it did.
    async fn assign_within_cap(
        &self,
        conversation_id: i64,
        user_id: i64,
        cap: Option<i64>,
    ) -> StoreResult<bool>;
    async fn create_csat_request(&self, request: &CsatRequest) -> StoreResult<()>;
    async fn csat_request(&self, token_hash: &str) -> StoreResult<CsatRequest>;
    /// Records the answer once; `Conflict` when it was already answered.
    async fn answer_csat(
        &self,
        token_hash: &str,
        rating: i64,
        feedback_id: i64,
        at: i64,
    ) -> StoreResult<()>;
    /// `Conflict` when the shortcut is taken.
    async fn create_macro(
        &self,
        shortcut: &str,
        name: &str,
        body_ko: &str,
        body_en: &str,
    ) -> StoreResult<Macro>;
    async fn macros(&self) -> StoreResult<Vec<Macro>>;
    async fn delete_macro(&self, id: i64) -> StoreResult<()>;
    async fn create_sla_policy(&self, policy: &NewSlaPolicy) -> StoreResult<SlaPolicy>;
    async fn sla_policies(&self) -> StoreResult<Vec<SlaPolicy>>;
    async fn delete_sla_policy(&self, id: i64) -> StoreResult<()>;
    /// Stores the policy a conversation is held to and its deadlines.
    async fn set_sla(
        &self,
        conversation_id: i64,
        policy_id: Option<i64>,
        deadlines: &nunchi_core::sla::Deadlines,
    ) -> StoreResult<()>;
    /// Records a missed deadline once; says whether it was new.
    async fn record_breach(
        &self,
        conversation_id: i64,
        metric: &str,
        due_at: i64,
        at: i64,
    ) -> StoreResult<bool>;
    /// The facts the support report reads, for conversations started in `[from, to)`.
    async fn conversation_facts(&self, from: i64, to: i64) -> StoreResult<Vec<ConversationFacts>>;
    /// Breaches from `since` (ms) on, newest first.
    async fn sla_breaches(&self, since: i64, limit: i64) -> StoreResult<Vec<SlaBreach>>;
}

/// The loyalty program and its points ledger.
#[async_trait]
pub trait LoyaltyStore: Send + Sync {
    /// The program's settings; the defaults (switched off) until someone saves them.
    async fn loyalty_program(&self) -> StoreResult<Program>;
    async fn set_loyalty_program(&self, program: &Program) -> StoreResult<()>;
    async fn loyalty_rules(&self) -> StoreResult<Vec<EarnRule>>;
    /// Adds (`id` 0) or replaces a rule; `Conflict` when it would double-award with
    /// another rule.
    async fn save_loyalty_rule(&self, rule: &EarnRule) -> StoreResult<i64>;
    /// Carries out operations on customers' points in one transaction, each planned
    /// against its customer's ledger as it then stands; lots and debts stay current. One
    /// result per operation: the ids of the entries written (none when it was already
    /// done), or why the ledger refused it.
    async fn post_loyalty(
        &self,
        ops: &[(i64, Op)],
        actor: &str,
    ) -> StoreResult<Vec<Result<Vec<i64>, LedgerError>>>;
    /// The same, planned and stamped as of `at` (replaying history, as the demo does).
    async fn post_loyalty_at(
        &self,
        ops: &[(i64, Op)],
        actor: &str,
        at: i64,
    ) -> StoreResult<Vec<Result<Vec<i64>, LedgerError>>>;
    /// The customer's ledger rebuilt from their entries.
    async fn loyalty_ledger(&self, customer_id: i64) -> StoreResult<Ledger>;
    /// Their entries, newest first.
    async fn loyalty_entries(&self, customer_id: i64, limit: i64)
    -> StoreResult<Vec<LoyaltyEntry>>;
    /// Their entry written under `key`; none when no entry has it or it is another's.
    async fn loyalty_entry_by_key(
        &self,
        customer_id: i64,
        key: &str,
    ) -> StoreResult<Option<LoyaltyEntryRow>>;
    /// Their points as kept (lots, debt, tier), without a replay.
    async fn loyalty_points(&self, customer_id: i64) -> StoreResult<PointsState>;
    /// Customers holding a lot whose expiry has passed with points left.
    async fn loyalty_customers_to_expire(&self, now: i64, limit: i64) -> StoreResult<Vec<i64>>;
    /// Accounts with points expiring in `(now, until]` not yet told.
    async fn loyalty_expiry_notices_due(
        &self,
        now: i64,
        until: i64,
        limit: i64,
    ) -> StoreResult<Vec<ExpiryNoticeDue>>;
    async fn record_loyalty_expiry_notice(&self, notice: &ExpiryNoticeDue) -> StoreResult<()>;
    /// Moves each customer `(id, tier, points measured)` to their tier, in one
    /// transaction; the moves that changed something, recorded as tier changes.
    async fn set_loyalty_tiers(
        &self,
        moves: &[(i64, Option<String>, i64)],
    ) -> StoreResult<Vec<(i64, TierChange)>>;
    async fn loyalty_tier_changes(&self, customer_id: i64) -> StoreResult<Vec<TierChange>>;
    /// Every member's tier and since when, by customer id.
    async fn loyalty_tiers_held(&self) -> StoreResult<Vec<(i64, Option<String>, Option<i64>)>>;
    async fn loyalty_summary(&self, now: i64) -> StoreResult<LoyaltySummary>;
    /// Every customer's ledger replayed from all entries, by customer id.
    async fn all_loyalty_ledgers(&self) -> StoreResult<Vec<(i64, Ledger)>>;
    /// Replays every customer's entries and compares them with the kept lots and debts.
    async fn verify_loyalty(&self) -> StoreResult<LoyaltyCheck>;
}

/// The reward catalogue and taking rewards for points.
#[async_trait]
pub trait RewardStore: Send + Sync {
    async fn loyalty_rewards(&self) -> StoreResult<Vec<Reward>>;
    /// Adds (`id` 0) or replaces a reward.
    async fn save_loyalty_reward(&self, reward: &Reward) -> StoreResult<i64>;
    /// Takes one of the reward for the customer: its stock lowered and its points spent
    /// under `key` in one transaction (nothing changes unless both happen).
    async fn redeem_reward(
        &self,
        customer_id: i64,
        reward_id: i64,
        key: &str,
        order_ref: Option<&str>,
        credit_limit: i64,
        actor: &str,
    ) -> StoreResult<RewardOutcome>;
}

/// Messenger channels and where each messenger conversation's replies go.
#[async_trait]
pub trait MessengerStore: Send + Sync {
    /// `Conflict` when the key is taken.
    async fn create_messenger_channel(
        &self,
        channel: &NewMessengerChannel,
    ) -> StoreResult<MessengerChannel>;
    async fn messenger_channels(&self) -> StoreResult<Vec<MessengerChannel>>;
    async fn messenger_channel(&self, key: &str) -> StoreResult<MessengerChannel>;
    async fn messenger_channel_by_id(&self, id: i64) -> StoreResult<MessengerChannel>;
    /// Its conversations stay; their replies can no longer be sent.
    async fn delete_messenger_channel(&self, id: i64) -> StoreResult<()>;
    /// Names the channel and recipient a conversation answers to (the first link stays).
    async fn link_messenger_thread(
        &self,
        conversation_id: i64,
        channel_id: i64,
        recipient: &str,
    ) -> StoreResult<()>;
    async fn messenger_thread(&self, conversation_id: i64) -> StoreResult<Option<MessengerThread>>;
    /// The recipient's newest conversation on the channel that is not resolved.
    async fn open_messenger_conversation(
        &self,
        channel_id: i64,
        recipient: &str,
    ) -> StoreResult<Option<i64>>;
}

/// What threads e-mail whose parent is not stored: the Message-IDs each incoming e-mail
/// named in `In-Reply-To` and `References`.
#[async_trait]
pub trait MailThreadStore: Send + Sync {
    async fn add_mail_references(&self, message_id: i64, references: &[String]) -> StoreResult<()>;
    /// The conversation of the first stored e-mail that named any of `message_ids`.
    async fn conversation_naming(&self, message_ids: &[String]) -> StoreResult<Option<i64>>;
}

/// Files sent with conversation messages.
#[async_trait]
pub trait AttachmentStore: Send + Sync {
    /// Records a file; `data` holds its bytes when the row keeps them (PostgreSQL).
    async fn create_attachment(
        &self,
        attachment: &NewAttachment,
        data: Option<&[u8]>,
    ) -> StoreResult<Attachment>;
    async fn attachment(&self, id: i64) -> StoreResult<Attachment>;
    /// The bytes kept in the row, if they are there.
    async fn attachment_data(&self, id: i64) -> StoreResult<Option<Vec<u8>>>;
    /// The files of these messages, in the order they were added.
    async fn message_attachments(&self, message_ids: &[i64]) -> StoreResult<Vec<Attachment>>;
    /// Gives uploads still waiting in the conversation to a message; says how many.
    async fn bind_attachments(
        &self,
        conversation_id: i64,
        message_id: i64,
        ids: &[i64],
    ) -> StoreResult<u64>;
    /// The data-folder files of a customer's conversations (to remove on erasure).
    async fn customer_attachment_files(&self, customer_id: i64) -> StoreResult<Vec<String>>;
}

#[async_trait]
pub trait AdminStore: Send + Sync {
    fn backend(&self) -> &'static str;
    /// The clock the store stamps rows with; operations read the time from it too.
    fn clock(&self) -> std::sync::Arc<dyn nunchi_core::clock::Clock>;
    async fn ping(&self) -> StoreResult<()>;
    /// Brings the planner's statistics and the search indexes up to date, as the database's
    /// own maintenance does in time (PostgreSQL: VACUUM ANALYZE, which also moves GIN's
    /// pending entries into the index; SQLite: ANALYZE): after a bulk load, before timing.
    async fn refresh_statistics(&self) -> StoreResult<()>;
    /// Copies the live database to `path` (SQLite's online backup API).
    async fn backup_to(&self, path: &std::path::Path) -> StoreResult<()>;
    async fn close(&self);
}

pub trait Store:
    CustomerStore
    + OrderStore
    + UserStore
    + AuditStore
    + JobStore
    + EventStore
    + JourneyStore
    + FeedbackStore
    + LoopStore
    + SurveyStore
    + ConversationStore
    + DeskStore
    + MessengerStore
    + AttachmentStore
    + MailThreadStore
    + LoyaltyStore
    + RewardStore
    + SegmentStore
    + PersonaStore
    + CampaignStore
    + AdminStore
{
}
impl<
    T: CustomerStore
        + OrderStore
        + UserStore
        + AuditStore
        + JobStore
        + EventStore
        + JourneyStore
        + FeedbackStore
        + LoopStore
        + SurveyStore
        + ConversationStore
        + DeskStore
        + MessengerStore
        + AttachmentStore
        + MailThreadStore
        + LoyaltyStore
        + RewardStore
        + SegmentStore
        + PersonaStore
        + CampaignStore
        + AdminStore,
> Store for T
{
}
