//! The loyalty program's settings: return window, expiry, refund policy, credit line,
//! what a point is worth, and how tiers are measured and kept.

use serde::{Deserialize, Serialize};

use crate::{CoreError, CoreResult};

crate::named_enum! {
    /// What a refund does when the order's points were already spent.
    pub enum RefundPolicy("refund policy") {
        /// The balance goes below zero; later points pay it off first.
        NegativeBalance = "negative_balance",
        /// Take them from the customer's other lots (soonest to expire first), and only
        /// what is still missing goes below zero.
        ClawBack = "claw_back",
    }
}

crate::named_enum! {
    /// What tiers are measured on over the window.
    pub enum TierBasis("tier basis") {
        /// Points earned, net of refunds (thresholds in points).
        Points = "points",
        /// Money spent, net of refunds (thresholds in minor units of the program's currency).
        Spend = "spend",
    }
}

crate::named_enum! {
    /// When a customer whose points fell below their tier moves down.
    pub enum Downgrade("downgrade") {
        /// Never: a tier once reached is kept.
        Never = "never",
        /// At once, when the rolling window no longer reaches the tier.
        Automatic = "automatic",
        /// Only after the tier has been held for `downgrade_days`.
        AfterDays = "after_days",
    }
}

/// A program's settings (one program per nunchi instance: one brand). Fields left out
/// of a saved JSON take their defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Program {
    pub enabled: bool,
    /// Points stay pending this many days after the order (the return window).
    pub return_days: i64,
    /// Points expire this many days after they become available; 0 = never.
    pub validity_days: i64,
    pub refund_policy: RefundPolicy,
    /// How far below zero a redemption may take the balance (0 = no credit line).
    pub credit_limit: i64,
    /// What one point is worth, in minor units of `currency` (liabilities, store credit).
    pub point_value_minor: i64,
    pub currency: String,
    /// Tiers are measured over this many days, on points earned or money spent.
    pub tier_window_days: i64,
    pub tier_basis: TierBasis,
    pub downgrade: Downgrade,
    pub downgrade_days: i64,
    /// Products and categories that do not count towards tiers.
    pub tier_excluded_products: Vec<String>,
    pub tier_excluded_categories: Vec<String>,
    /// Customers are told this many days before points expire.
    pub expiry_notice_days: i64,
    /// The tier ladder, lowest threshold first (empty: no tiers).
    pub tiers: Vec<super::tiers::Tier>,
}

impl Default for Program {
    fn default() -> Self {
        Self {
            enabled: false,
            return_days: 14,
            validity_days: 365,
            refund_policy: RefundPolicy::ClawBack,
            credit_limit: 0,
            point_value_minor: 1,
            currency: "KRW".into(),
            tier_window_days: 365,
            tier_basis: TierBasis::Points,
            downgrade: Downgrade::AfterDays,
            downgrade_days: 90,
            tier_excluded_products: vec![],
            tier_excluded_categories: vec![],
            expiry_notice_days: 30,
            tiers: vec![],
        }
    }
}

impl Program {
    /// The settings if every number is in range.
    pub fn checked(mut self) -> CoreResult<Self> {
        let days = |field: &'static str, v: i64, max: i64| {
            if (0..=max).contains(&v) {
                Ok(())
            } else {
                Err(CoreError::new(
                    field,
                    format!("must be from 0 to {max} days"),
                ))
            }
        };
        days("return_days", self.return_days, 365)?;
        days("validity_days", self.validity_days, 3650)?;
        days("downgrade_days", self.downgrade_days, 3650)?;
        days("expiry_notice_days", self.expiry_notice_days, 365)?;
        if !(1..=3650).contains(&self.tier_window_days) {
            return Err(CoreError::new(
                "tier_window_days",
                "must be from 1 to 3650 days",
            ));
        }
        if !(0..=1_000_000_000).contains(&self.credit_limit) {
            return Err(CoreError::new("credit_limit", "must be 0 or more points"));
        }
        if !(1..=1_000_000).contains(&self.point_value_minor) {
            return Err(CoreError::new(
                "point_value_minor",
                "must be from 1 to 1000000 minor units",
            ));
        }
        self.currency = crate::money::Currency::parse(&self.currency)?
            .code()
            .to_string();
        self.tiers = super::tiers::checked_ladder(self.tiers)?;
        let clean = |list: Vec<String>| {
            let mut list: Vec<String> = list
                .into_iter()
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect();
            list.sort();
            list.dedup();
            list
        };
        self.tier_excluded_products = clean(self.tier_excluded_products);
        self.tier_excluded_categories = clean(self.tier_excluded_categories);
        Ok(self)
    }

    /// When points earned at `at` become spendable.
    pub fn available_at(&self, at: i64) -> i64 {
        at + self.return_days * DAY_MS
    }

    /// When points that became available at `available_at` expire.
    pub fn expires_at(&self, available_at: i64) -> Option<i64> {
        (self.validity_days > 0).then(|| available_at + self.validity_days * DAY_MS)
    }
}

pub(crate) const DAY_MS: i64 = 86_400_000;
