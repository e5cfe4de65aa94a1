//! The reward catalogue: things a customer can take for points (a tote bag, a sample kit,
//! a voucher), each with its price in points and, when limited, how many are left.

use serde::{Deserialize, Serialize};

use crate::{CoreError, CoreResult};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reward {
    #[serde(default)]
    pub id: i64,
    pub name_ko: String,
    pub name_en: String,
    pub points: i64,
    /// How many are left; absent for no limit.
    #[serde(default)]
    pub stock: Option<i64>,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

impl Reward {
    pub fn checked(mut self) -> CoreResult<Self> {
        self.name_ko = self.name_ko.trim().to_string();
        self.name_en = self.name_en.trim().to_string();
        for name in [&self.name_ko, &self.name_en] {
            if name.is_empty() || name.chars().count() > 120 {
                return Err(CoreError::new(
                    "name",
                    "a reward needs a Korean and an English name of 1 to 120 characters",
                ));
            }
        }
        if !(1..=1_000_000_000).contains(&self.points) {
            return Err(CoreError::new("points", "must be from 1 to 1000000000"));
        }
        if self
            .stock
            .is_some_and(|s| !(0..=1_000_000_000).contains(&s))
        {
            return Err(CoreError::new(
                "stock",
                "must be 0 or more, or left out for no limit",
            ));
        }
        Ok(self)
    }

    /// Its name in Korean or English.
    pub fn name(&self, ko: bool) -> &str {
        if ko { &self.name_ko } else { &self.name_en }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reward_needs_both_names_a_price_and_a_sane_stock() {
        let r = Reward {
            id: 0,
            name_ko: " 에코백 ".into(),
            name_en: "Tote bag".into(),
            points: 3000,
            stock: Some(20),
            active: true,
        };
        assert_eq!(r.clone().checked().unwrap().name_ko, "에코백");
        assert!(
            Reward {
                name_en: " ".into(),
                ..r.clone()
            }
            .checked()
            .is_err()
        );
        assert!(
            Reward {
                points: 0,
                ..r.clone()
            }
            .checked()
            .is_err()
        );
        assert!(
            Reward {
                stock: Some(-1),
                ..r.clone()
            }
            .checked()
            .is_err()
        );
        assert!(Reward { stock: None, ..r }.checked().is_ok());
    }
}
