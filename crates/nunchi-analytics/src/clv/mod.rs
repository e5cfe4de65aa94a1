//! Customer lifetime value from purchase histories: each customer's repeat-purchase
//! summary ([`summary`]), the BG/NBD model of how often they buy and whether they are
//! still a customer ([`bgnbd`]), the Gamma-Gamma model of how much they spend
//! ([`gamma_gamma`]), both fitted here by maximum likelihood, and the discounted value of
//! their next months ([`value`]). Time is in weeks and purchases are counted per calendar
//! day, the conventions of Fader, Hardie and Lee and of the `lifetimes` package.

pub mod bgnbd;
pub mod gamma_gamma;
pub mod summary;
pub mod value;

pub use bgnbd::{BgNbd, BgNbdFit};
pub use gamma_gamma::{GammaGamma, GammaGammaFit};
pub use summary::{Purchase, Summary, summarize};
pub use value::lifetime_value;

/// What can stop a model from being fitted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClvError {
    #[error("no customers bought anything by the end of the calibration period")]
    NoCustomers,
    #[error("no customer bought more than once, so spend per repeat purchase cannot be fitted")]
    NoRepeatBuyers,
    #[error("the likelihood could not be maximised (the data give no finite optimum)")]
    NoOptimum,
}
