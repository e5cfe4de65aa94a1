//! Earn rules: a base rate per currency (points per so many minor units) and multipliers
//! scoped to products, categories, channels or tiers, each inside an optional date window.
//! Every rule a line matches earns its own entry, keyed by (order line, rule), so replaying
//! an order earns nothing more. Two rules that would reward the same thing twice (same
//! kind, same scope dimension with a shared value, overlapping windows) are refused.

use serde::{Deserialize, Serialize};

use crate::{CoreError, CoreResult};

crate::named_enum! {
    /// What a rule's scope ranges over.
    pub enum ScopeKind("scope") {
        All = "all",
        Product = "product",
        Category = "category",
        Channel = "channel",
        Tier = "tier",
    }
}

crate::named_enum! {
    /// A base rate, or a multiplier on top of the base.
    pub enum RuleKind("rule kind") {
        Base = "base",
        Multiplier = "multiplier",
    }
}

/// One earn rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarnRule {
    #[serde(default)]
    pub id: i64,
    pub name: String,
    pub kind: RuleKind,
    /// Base: `points` for every `per_minor` minor units of `currency` spent.
    #[serde(default)]
    pub points: i64,
    #[serde(default)]
    pub per_minor: i64,
    #[serde(default = "krw")]
    pub currency: String,
    /// Multiplier: the base times `percent` / 100 (200 doubles it); the rule earns the
    /// part above the base.
    #[serde(default)]
    pub percent: i64,
    pub scope: ScopeKind,
    #[serde(default)]
    pub scope_values: Vec<String>,
    /// Orders placed in `[starts_at, ends_at)`; open-ended when absent.
    #[serde(default)]
    pub starts_at: Option<i64>,
    #[serde(default)]
    pub ends_at: Option<i64>,
    #[serde(default = "yes")]
    pub active: bool,
}

fn krw() -> String {
    "KRW".into()
}

fn yes() -> bool {
    true
}

/// One order line as the rules see it.
#[derive(Debug, Clone, Copy)]
pub struct LineContext<'a> {
    pub product: &'a str,
    pub category: &'a str,
    pub channel: &'a str,
    pub tier: Option<&'a str>,
    pub currency: &'a str,
    pub total_minor: i64,
    pub placed_at: i64,
}

impl EarnRule {
    /// A base rate for everything: `points` per `per_minor` minor units of `currency`,
    /// always on (narrow it by setting the other fields).
    pub fn base(name: &str, points: i64, per_minor: i64, currency: &str) -> Self {
        Self {
            id: 0,
            name: name.into(),
            kind: RuleKind::Base,
            points,
            per_minor,
            currency: currency.into(),
            percent: 0,
            scope: ScopeKind::All,
            scope_values: vec![],
            starts_at: None,
            ends_at: None,
            active: true,
        }
    }

    /// A multiplier (`percent`, 200 doubling the base) for the given values of `scope`,
    /// always on.
    pub fn multiplier(name: &str, percent: i64, scope: ScopeKind, values: &[&str]) -> Self {
        Self {
            kind: RuleKind::Multiplier,
            points: 0,
            per_minor: 0,
            percent,
            scope,
            scope_values: values.iter().map(|v| v.to_string()).collect(),
            ..Self::base(name, 0, 0, "KRW")
        }
    }

    /// The rule if it makes sense on its own.
    pub fn checked(mut self) -> CoreResult<Self> {
        self.name = self.name.trim().to_string();
        if self.name.is_empty() || self.name.chars().count() > 120 {
            return Err(CoreError::new("name", "must be 1 to 120 characters"));
        }
        match self.kind {
            RuleKind::Base => {
                if !(1..=1_000_000).contains(&self.points) {
                    return Err(CoreError::new("points", "must be from 1 to 1000000"));
                }
                if !(1..=1_000_000_000).contains(&self.per_minor) {
                    return Err(CoreError::new(
                        "per_minor",
                        "must be from 1 to 1000000000 minor units",
                    ));
                }
                self.currency = crate::money::Currency::parse(&self.currency)?
                    .code()
                    .to_string();
            }
            RuleKind::Multiplier => {
                if !(101..=1000).contains(&self.percent) {
                    return Err(CoreError::new(
                        "percent",
                        "must be from 101 to 1000 (200 doubles the base)",
                    ));
                }
            }
        }
        self.scope_values = self
            .scope_values
            .iter()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect();
        self.scope_values.sort();
        self.scope_values.dedup();
        if (self.scope == ScopeKind::All) != self.scope_values.is_empty() {
            return Err(CoreError::new(
                "scope_values",
                "name the products, categories, channels or tiers the rule is for (and none for all)",
            ));
        }
        if let (Some(s), Some(e)) = (self.starts_at, self.ends_at)
            && e <= s
        {
            return Err(CoreError::new("ends_at", "must be after the start"));
        }
        Ok(self)
    }

    fn in_window(&self, at: i64) -> bool {
        self.starts_at.is_none_or(|s| at >= s) && self.ends_at.is_none_or(|e| at < e)
    }

    fn matches(&self, line: &LineContext<'_>) -> bool {
        if !self.active || !self.in_window(line.placed_at) {
            return false;
        }
        if self.kind == RuleKind::Base && self.currency != line.currency {
            return false;
        }
        let value = match self.scope {
            ScopeKind::All => return true,
            ScopeKind::Product => Some(line.product),
            ScopeKind::Category => Some(line.category),
            ScopeKind::Channel => Some(line.channel),
            ScopeKind::Tier => line.tier,
        };
        value.is_some_and(|v| self.scope_values.iter().any(|x| x == v))
    }

    /// Whether this rule and `other` would both reward the same purchase as the same
    /// thing: same kind (and currency for bases), same scope dimension with a value in
    /// common (or both for everything), and windows that overlap.
    pub fn double_awards_with(&self, other: &EarnRule) -> bool {
        if self.id == other.id || !self.active || !other.active || self.kind != other.kind {
            return false;
        }
        if self.kind == RuleKind::Base && self.currency != other.currency {
            return false;
        }
        if self.scope != other.scope {
            return false;
        }
        let shared = self.scope == ScopeKind::All
            || self
                .scope_values
                .iter()
                .any(|v| other.scope_values.contains(v));
        let overlap = self.starts_at.unwrap_or(i64::MIN) < other.ends_at.unwrap_or(i64::MAX)
            && other.starts_at.unwrap_or(i64::MIN) < self.ends_at.unwrap_or(i64::MAX);
        shared && overlap
    }
}

/// Refuses `rule` when it would double-award with one of `existing`.
pub fn check_no_double_award(existing: &[EarnRule], rule: &EarnRule) -> CoreResult<()> {
    match existing.iter().find(|r| r.double_awards_with(rule)) {
        Some(r) => Err(CoreError::new(
            "rule",
            format!(
                "overlaps rule {:?} (same kind and scope, overlapping dates): an order would earn twice",
                r.name
            ),
        )),
        None => Ok(()),
    }
}

/// The points a line earns under each rule it matches, as (rule id, points), bases first.
/// Multipliers earn their share of the base, so they never compound on each other.
pub fn line_points(rules: &[EarnRule], line: &LineContext<'_>) -> Vec<(i64, i64)> {
    if line.total_minor <= 0 {
        return vec![];
    }
    let mut out = Vec::new();
    let mut base: i64 = 0;
    for r in rules
        .iter()
        .filter(|r| r.kind == RuleKind::Base && r.matches(line))
    {
        let points = i128::from(line.total_minor) * i128::from(r.points) / i128::from(r.per_minor);
        let points = i64::try_from(points).unwrap_or(i64::MAX);
        base = base.saturating_add(points);
        if points > 0 {
            out.push((r.id, points));
        }
    }
    for r in rules
        .iter()
        .filter(|r| r.kind == RuleKind::Multiplier && r.matches(line))
    {
        let extra = i128::from(base) * i128::from(r.percent - 100) / 100;
        let extra = i64::try_from(extra).unwrap_or(i64::MAX);
        if extra > 0 {
            out.push((r.id, extra));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(id: i64, per_minor: i64) -> EarnRule {
        EarnRule {
            id,
            ..EarnRule::base(&format!("base {id}"), 1, per_minor, "KRW")
        }
    }

    fn multiplier(id: i64, scope: ScopeKind, values: &[&str], percent: i64) -> EarnRule {
        EarnRule {
            id,
            ..EarnRule::multiplier(&format!("rule {id}"), percent, scope, values)
        }
    }

    fn line(total_minor: i64) -> LineContext<'static> {
        LineContext {
            product: "coat",
            category: "outer",
            channel: "web",
            tier: Some("tree"),
            currency: "KRW",
            total_minor,
            placed_at: 1_000,
        }
    }

    #[test]
    fn base_rate_floors_and_multipliers_add_their_share() {
        let rules = vec![
            base(1, 100),
            multiplier(2, ScopeKind::Category, &["outer"], 200),
            multiplier(3, ScopeKind::Tier, &["tree"], 150),
            multiplier(4, ScopeKind::Product, &["hat"], 300),
        ];
        // 32,050 KRW at 1 point per 100 KRW = 320; ×2 for outerwear adds 320, ×1.5 for the
        // tier adds 160; the hat rule does not match.
        assert_eq!(
            line_points(&rules, &line(32_050)),
            vec![(1, 320), (2, 320), (3, 160)]
        );
        assert_eq!(line_points(&rules, &line(99)), vec![]);
        assert_eq!(line_points(&rules, &line(0)), vec![]);
    }

    #[test]
    fn windows_currencies_and_inactive_rules_are_respected() {
        let mut r = base(1, 100);
        r.starts_at = Some(2_000);
        assert!(line_points(std::slice::from_ref(&r), &line(10_000)).is_empty());
        r.starts_at = Some(0);
        r.ends_at = Some(1_000);
        assert!(line_points(std::slice::from_ref(&r), &line(10_000)).is_empty());
        r.ends_at = Some(1_001);
        assert_eq!(
            line_points(std::slice::from_ref(&r), &line(10_000)),
            vec![(1, 100)]
        );
        r.currency = "USD".into();
        assert!(line_points(std::slice::from_ref(&r), &line(10_000)).is_empty());
        let mut off = base(2, 100);
        off.active = false;
        assert!(line_points(&[off], &line(10_000)).is_empty());
    }

    #[test]
    fn overlapping_rules_that_would_double_award_are_refused() {
        let a = multiplier(1, ScopeKind::Category, &["outer", "shoes"], 200);
        let b = multiplier(2, ScopeKind::Category, &["shoes"], 150);
        assert!(check_no_double_award(std::slice::from_ref(&a), &b).is_err());
        // Different dimensions stack on purpose (a tier bonus on a category promotion).
        let c = multiplier(3, ScopeKind::Tier, &["tree"], 150);
        assert!(check_no_double_award(std::slice::from_ref(&a), &c).is_ok());
        // Windows that only touch do not overlap.
        let mut d = b.clone();
        d.id = 4;
        let mut e = b.clone();
        e.id = 5;
        d.ends_at = Some(100);
        e.starts_at = Some(100);
        assert!(check_no_double_award(std::slice::from_ref(&d), &e).is_ok());
        // Two base rates for the same currency always overlap when open-ended.
        assert!(check_no_double_award(&[base(1, 100)], &base(2, 1000)).is_err());
        let mut usd = base(2, 1);
        usd.currency = "USD".into();
        assert!(check_no_double_award(&[base(1, 100)], &usd).is_ok());
    }

    #[test]
    fn checked_refuses_nonsense() {
        assert!(base(1, 0).checked().is_err());
        assert!(
            multiplier(1, ScopeKind::Category, &["x"], 100)
                .checked()
                .is_err()
        );
        assert!(
            multiplier(1, ScopeKind::Category, &[], 200)
                .checked()
                .is_err()
        );
        assert!(
            multiplier(1, ScopeKind::All, &["x"], 200)
                .checked()
                .is_err()
        );
        let mut r = base(1, 100);
        r.starts_at = Some(5);
        r.ends_at = Some(5);
        assert!(r.checked().is_err());
        assert_eq!(
            multiplier(1, ScopeKind::Category, &[" b ", "a", "b", ""], 200)
                .checked()
                .unwrap()
                .scope_values,
            vec!["a", "b"]
        );
    }
}
