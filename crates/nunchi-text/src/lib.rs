//! Text analytics for nunchi: language detection, sentiment, key phrases and topics for
//! Korean and English. Pure computation: no storage, no network, no files. The shipped
//! models are compiled into the crate, so an [`Analyzer`] is ready the moment it exists.

pub mod analyzer;
pub mod corpus;
pub mod features;
pub mod lang;
pub mod lexicon;
pub mod model;
pub mod normalize;
pub mod topics;
pub mod train;

pub use analyzer::{Analyzer, Scored};
pub use lang::{Lang, detect};
pub use model::{Label, Model, Sentiment};
