//! Loyalty points as pure rules: the append-only ledger of lots and draws (`ledger`), how
//! an order line earns (`earn`), and tiers over a rolling window (`tiers`). The store
//! keeps the entries and a current copy of each lot; everything that decides a number
//! lives here, so a full replay and the incremental state are the same code.

pub mod earn;
pub mod ledger;
pub mod program;
pub mod reward;
pub mod slow_movers;
pub mod tiers;

pub use ledger::{Draw, EntryKind, Ledger, Lot, Op, Posting};
pub use program::{Downgrade, Program, RefundPolicy, TierBasis};
