//! The analytics engine: customers' events in a compact in-memory form, kept sorted by
//! time per customer as they arrive, and the queries a CX team runs on them — ordered
//! funnels with ClickHouse `windowFunnel` semantics, paths, retention cohorts and journey
//! stage metrics, and CX scores (NPS, CSAT, CES) by period and group; and the customer
//! models over purchase histories — RFM scores, lifetime value (BG/NBD, Gamma-Gamma) and
//! item-to-item recommendations.
//! No storage, HTTP or clock in here: callers feed events and pass times in.
//!
//! Every fast query has a slow, obviously-correct twin in [`reference`]; the property
//! tests check that they agree on random logs.

pub mod clv;
pub mod duration;
pub mod ease;
pub mod funnel;
pub mod journey;
pub mod keys;
pub mod log;
mod minimize;
mod parallel;
pub mod paths;
pub mod recommend;
pub mod reference;
pub mod retention;
pub mod rfm;
pub mod scores;
mod special;
pub mod synth;

pub use funnel::{Breakdown, FunnelReport, FunnelSpec};
pub use keys::{Keys, Names};
pub use log::{Event, EventLog, Scope};

/// What can go wrong when asking the engine something.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AnalyticsError {
    #[error("a funnel needs at least one step")]
    NoSteps,
    #[error("unknown event name {0:?}")]
    UnknownEvent(String),
    #[error("too many distinct event names (the limit is {0})")]
    TooManyNames(usize),
    #[error("too many periods (the limit is {0})")]
    TooManyPeriods(usize),
}
