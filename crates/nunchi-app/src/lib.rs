//! What nunchi does, with no HTTP in it: ingesting events, reading feedback, running
//! surveys and the closed loop, importing files, sending mail and webhooks, and the
//! background jobs behind them. The HTTP server and the CLI are faces over `App`; a page
//! and an endpoint that do the same thing call the same function here.

pub mod actor;
pub mod analysis;
pub mod assignment;
pub mod attachments;
pub mod breakdowns;
pub mod calls;
pub mod campaign_run;
pub mod campaign_spec;
pub mod campaigns;
pub mod chat;
pub mod contact_policy;
pub mod conversations;
pub mod csat;
pub use nunchi_core::clock;
pub mod csv_records;
pub mod customer_activity;
pub mod customer_models;
pub mod customers;
pub mod demo;
pub mod demo_campaigns;
pub mod demo_loyalty;
pub mod demo_personas;
pub mod demo_segments;
pub mod error;
pub mod event_names;
pub mod events;
pub mod feedback;
pub mod follow_up_conversations;
pub mod imap_poll;
pub mod import;
pub mod inbound_mail;
pub mod inbox;
pub mod jobs;
pub mod journeys;
pub mod live;
pub mod loops;
pub mod loyalty;
pub mod macros;
pub mod mail;
pub mod messengers;
pub mod orders;
pub mod outer_loop;
pub mod paging;
pub mod password;
pub mod periodic;
pub mod personas;
pub mod privacy;
pub mod reply_mail;
pub mod retention_report;
pub mod scores;
pub mod secret;
pub mod segment_facts;
pub mod segment_upkeep;
pub mod segments;
pub mod sla;
pub mod sources;
pub mod support_report;
pub mod survey_builder;
pub mod surveys;
pub mod text_encoding;
pub mod users;
pub mod webhooks;

use std::{path::PathBuf, sync::Arc, time::Duration};

use nunchi_store::{Store, model::NewAuditEntry};

pub use crate::actor::Actor;
pub use crate::error::{Error, Result};
pub use nunchi_core::clock::{Clock, SystemClock, TestClock};

/// What operations need to know of the deployment, resolved by the CLI.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// Where uploads wait for their import job.
    pub data_dir: PathBuf,
    /// Where outgoing e-mail goes (`smtp://…`, `smtps://…`); none: e-mail is off.
    pub smtp_url: Option<String>,
    /// The sender of outgoing e-mail.
    pub mail_from: String,
    /// A support mailbox to poll for incoming mail, and how often (seconds).
    pub imap: Option<imap_poll::Mailbox>,
    pub imap_poll_secs: u64,
    /// The address customers reach nunchi at, for survey links in e-mail.
    pub public_url: String,
    /// Message ids the tracking API's de-duplication window remembers at most.
    pub dedup_max_ids: usize,
    /// The brand's time zone: reports' days and weeks start at its midnight.
    pub time_zone: jiff::tz::TimeZone,
}

/// The brand's time zone when none is set.
pub const DEFAULT_TIME_ZONE: &str = "Asia/Seoul";

impl AppConfig {
    pub fn for_tests(data_dir: PathBuf) -> Self {
        AppConfig {
            data_dir,
            smtp_url: None,
            mail_from: "nunchi <cx@localhost>".into(),
            imap: None,
            imap_poll_secs: imap_poll::DEFAULT_POLL_SECS,
            public_url: "http://127.0.0.1".into(),
            dedup_max_ids: events::DEFAULT_MAX_IDS,
            time_zone: jiff::tz::TimeZone::get(DEFAULT_TIME_ZONE).expect("the bundled tz database"),
        }
    }
}

/// The application: the store, the engines and workers fed from it, and the ways out
/// (mail, webhooks). Cheap to share behind an `Arc`.
pub struct App {
    pub store: Arc<dyn Store>,
    pub config: AppConfig,
    pub clock: Arc<dyn Clock>,
    /// Wakes the job runner when a job is queued.
    pub job_wakeup: jobs::Wakeup,
    pub events: Arc<events::Events>,
    pub annotator: Arc<feedback::Annotator>,
    pub mailer: Arc<mail::Mailer>,
    /// For webhook deliveries.
    pub http: reqwest::Client,
    /// Wakes the survey dispatcher (new contacts to send).
    pub survey_wakeup: Arc<tokio::sync::Notify>,
    /// Tells chat sockets and open inboxes which conversation moved.
    pub live: Arc<live::Live>,
    /// Lifetime value, RFM and recommendations, fitted from the orders.
    pub customer_models: Arc<customer_models::Cache>,
    /// Who changed since live segments were last kept up, and when answers come due.
    pub segment_upkeep: Arc<segment_upkeep::Upkeep>,
    /// Wakes the campaign rounds (a launch).
    pub campaign_wakeup: Arc<tokio::sync::Notify>,
}

impl App {
    /// The server's app: starts the event writer and the annotator over `store`.
    pub fn new(store: Arc<dyn Store>, config: AppConfig) -> Self {
        Self::build(store, config, true)
    }

    /// An app for one-shot commands (the CLI's `user`, `token`, `demo`): the same
    /// operations, without the event writer (whose start reads every stored event into
    /// the engine) and the annotator. Ingesting events through it fails as unavailable;
    /// text it stores waits for the server to annotate it.
    pub fn offline(store: Arc<dyn Store>, config: AppConfig) -> Self {
        Self::build(store, config, false)
    }

    fn build(store: Arc<dyn Store>, config: AppConfig, background: bool) -> Self {
        // One clock for the store's stamps and the operations' decisions.
        let clock = store.clock();
        let job_wakeup: jobs::Wakeup = Arc::new(tokio::sync::Notify::new());
        let mailer = mail::Mailer::new(config.smtp_url.as_deref(), &config.mail_from)
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "e-mail is off");
                mail::Mailer::new(None, "nunchi <cx@localhost>").expect("a valid sender")
            });
        let segment_upkeep: Arc<segment_upkeep::Upkeep> = Arc::default();
        App {
            store: store.clone(),
            events: if background {
                events::Events::start(
                    store.clone(),
                    config.dedup_max_ids,
                    clock.clone(),
                    segment_upkeep.clone(),
                )
            } else {
                events::Events::offline()
            },
            annotator: if background {
                feedback::Annotator::start(
                    store,
                    feedback::LoopContext {
                        job_wakeup: job_wakeup.clone(),
                        public_url: config.public_url.clone(),
                        clock: clock.clone(),
                    },
                )
            } else {
                feedback::Annotator::idle()
            },
            job_wakeup,
            mailer: Arc::new(mailer),
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(15))
                .build()
                .expect("an HTTP client"),
            survey_wakeup: Arc::new(tokio::sync::Notify::new()),
            live: Arc::new(live::Live::default()),
            customer_models: Arc::default(),
            segment_upkeep,
            campaign_wakeup: Arc::new(tokio::sync::Notify::new()),
            config,
            clock,
        }
    }

    /// These customers' profile, events, feedback or points changed: live segments judge
    /// them again in their next round.
    pub fn touched(&self, customers: impl IntoIterator<Item = i64>) {
        self.segment_upkeep.touches.customers(customers);
    }

    /// Unix milliseconds now, from the app's clock.
    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The brand's offset from UTC now, in seconds.
    pub fn utc_offset_secs(&self) -> i32 {
        jiff::Timestamp::from_millisecond(self.now())
            .map(|t| self.config.time_zone.to_offset(t).seconds())
            .unwrap_or(0)
    }

    /// Where uploads wait for their import job.
    pub fn uploads_dir(&self) -> PathBuf {
        self.config.data_dir.join("uploads")
    }

    /// Appends to the audit log; a failure is logged, never shown to the user whose action
    /// already happened.
    pub async fn audit(&self, entry: NewAuditEntry) {
        if let Err(e) = self.store.audit(&entry).await {
            tracing::error!(error = ?e, action = %entry.action, "cannot write the audit log");
        }
    }

    /// An audit entry for something the system did on someone's behalf.
    pub async fn audit_system(&self, actor: &str, action: &str, target: &str, detail: &str) {
        self.audit(NewAuditEntry {
            at: self.now(),
            actor: actor.into(),
            action: action.into(),
            target: target.into(),
            detail: detail.into(),
            ..Default::default()
        })
        .await;
    }
}
