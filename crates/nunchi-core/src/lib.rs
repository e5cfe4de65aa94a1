//! Domain types and pure rules of nunchi: identities, money, consent, access control,
//! life events, PII masking, search tokens, import rows and segment rules. Nothing here does IO, knows
//! SQL or HTTP, or reads the clock: callers pass the time in.

pub mod access;
pub mod attachment;
pub mod business_hours;
pub mod calendar;
pub mod canned;
pub mod channel;
pub mod clock;
pub mod closed_loop;
pub mod consent;
pub mod contact;
pub mod conversation;
pub mod customer;
pub mod email;
pub mod error;
pub mod feedback;
pub mod identity;
pub mod import;
pub mod life_event;
pub mod loyalty;
pub mod mask;
pub mod money;
pub mod named;
pub mod phone;
pub mod routing;
pub mod search;
pub mod segment;
pub mod sla;
pub mod status;
pub mod survey;
pub mod survey_edit;
pub mod time;
pub mod touchpoint;

pub use error::{CoreError, CoreResult};
