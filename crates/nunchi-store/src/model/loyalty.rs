//! Loyalty records: ledger entries with their draws, the kept copy of each lot, a
//! customer's current points, tier moves, and the program-wide figures.

use nunchi_core::loyalty::{Draw, EntryKind, Posting, ledger::Totals};
use serde::Serialize;
use utoipa::ToSchema;

/// One ledger entry as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct LoyaltyEntryRow {
    pub id: i64,
    pub account_id: i64,
    #[sqlx(try_from = "String")]
    #[schema(value_type = String)]
    pub kind: EntryKind,
    pub points: i64,
    pub key: String,
    pub order_ref: Option<String>,
    pub rule_id: Option<i64>,
    pub product: Option<String>,
    pub category: Option<String>,
    pub occurred_at: i64,
    pub available_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub waived: i64,
    pub reason: String,
    pub actor: String,
    pub created_at: i64,
}

/// An entry with the lots it drew from (debits).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct LoyaltyEntry {
    #[serde(flatten)]
    pub row: LoyaltyEntryRow,
    #[schema(value_type = Vec<Object>)]
    pub draws: Vec<Draw>,
}

impl LoyaltyEntry {
    /// The entry as the posting that wrote it, for replays.
    pub fn posting(&self) -> Posting {
        let r = &self.row;
        Posting {
            kind: r.kind,
            points: r.points,
            key: r.key.clone(),
            order_ref: r.order_ref.clone(),
            rule_id: r.rule_id,
            product: r.product.clone(),
            category: r.category.clone(),
            occurred_at: r.occurred_at,
            available_at: r.available_at,
            expires_at: r.expires_at,
            waived: r.waived,
            reason: r.reason.clone(),
            draws: self.draws.clone(),
        }
    }
}

/// The kept copy of what is left of one credit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct LotRow {
    pub lot_id: i64,
    pub account_id: i64,
    pub amount: i64,
    pub remaining: i64,
    pub available_at: i64,
    pub expires_at: Option<i64>,
}

/// A customer's points as kept: lots, debt and tier.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PointsState {
    pub lots: Vec<LotRow>,
    pub debt: i64,
    pub tier: Option<String>,
    pub tier_since: Option<i64>,
}

impl PointsState {
    pub fn balance(&self, now: i64) -> i64 {
        self.lots
            .iter()
            .filter(|l| l.available_at <= now && l.expires_at.is_none_or(|e| e > now))
            .map(|l| l.remaining)
            .sum::<i64>()
            - self.debt
    }

    pub fn pending(&self, now: i64) -> i64 {
        self.lots
            .iter()
            .filter(|l| l.available_at > now && l.expires_at.is_none_or(|e| e > now))
            .map(|l| l.remaining)
            .sum()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct TierChange {
    pub id: i64,
    pub account_id: i64,
    pub from_tier: Option<String>,
    pub to_tier: Option<String>,
    pub points: i64,
    pub at: i64,
}

/// The program's liabilities and movements.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LoyaltySummary {
    /// Customers with an account.
    pub members: i64,
    /// Spendable points outstanding, net of debt.
    pub outstanding: i64,
    pub pending: i64,
    pub debt: i64,
    /// Points that expire within the next 30 days unless spent.
    pub expiring_soon: i64,
    /// Members per tier key (`None`: no tier).
    pub tiers: Vec<(Option<String>, i64)>,
    pub totals: Totals,
}

/// A full replay compared with the kept lots and debts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LoyaltyCheck {
    pub customers: u64,
    pub entries: u64,
    /// Customers whose kept state differs from the replay of their entries.
    pub mismatched: Vec<i64>,
}

/// A customer whose points expire soon and who has not been told yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct ExpiryNoticeDue {
    pub customer_id: i64,
    pub account_id: i64,
    /// The earliest expiry among the lots, and the points that expire then.
    pub expires_at: i64,
    pub points: i64,
}

/// What taking a reward did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RewardOutcome {
    /// Taken: the entries written (the spend first).
    Taken(Vec<i64>),
    /// This key had already taken it; nothing more was spent or taken from stock.
    AlreadyTaken,
    /// Switched off, out of stock, or no such reward.
    Unavailable,
    /// The ledger refused the spend (not enough points).
    Refused(nunchi_core::loyalty::ledger::LedgerError),
}
