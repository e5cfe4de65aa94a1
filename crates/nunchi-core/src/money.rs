//! Money as integer minor units of an ISO 4217 currency: KRW and JPY have none, USD two,
//! KWD three. Amounts are parsed from decimal text exactly, never through floats.

use crate::{CoreError, CoreResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency {
    code: [u8; 3],
    minor_units: u8,
}

/// The ISO 4217 currencies we accept, with their minor units.
const CURRENCIES: &[(&str, u8, &str)] = &[
    ("KRW", 0, "₩"),
    ("JPY", 0, "¥"),
    ("VND", 0, "₫"),
    ("CLP", 0, "CLP "),
    ("ISK", 0, "ISK "),
    ("USD", 2, "$"),
    ("EUR", 2, "€"),
    ("GBP", 2, "£"),
    ("CNY", 2, "CN¥"),
    ("HKD", 2, "HK$"),
    ("TWD", 2, "NT$"),
    ("SGD", 2, "S$"),
    ("AUD", 2, "A$"),
    ("CAD", 2, "CA$"),
    ("CHF", 2, "CHF "),
    ("THB", 2, "฿"),
    ("INR", 2, "₹"),
    ("PHP", 2, "₱"),
    ("IDR", 2, "Rp "),
    ("MYR", 2, "RM "),
    ("BHD", 3, "BHD "),
    ("KWD", 3, "KWD "),
    ("JOD", 3, "JOD "),
];

impl Currency {
    pub const KRW: Currency = Currency {
        code: *b"KRW",
        minor_units: 0,
    };
    pub const USD: Currency = Currency {
        code: *b"USD",
        minor_units: 2,
    };

    pub fn parse(code: &str) -> CoreResult<Self> {
        let upper = code.trim().to_ascii_uppercase();
        CURRENCIES
            .iter()
            .find(|(c, _, _)| *c == upper)
            .map(|(c, units, _)| {
                let b = c.as_bytes();
                Currency {
                    code: [b[0], b[1], b[2]],
                    minor_units: *units,
                }
            })
            .ok_or_else(|| {
                CoreError::new("currency", format!("unknown ISO 4217 currency {code:?}"))
            })
    }

    pub fn code(&self) -> &str {
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }

    pub fn minor_units(&self) -> u8 {
        self.minor_units
    }

    fn symbol(&self) -> &'static str {
        CURRENCIES
            .iter()
            .find(|(c, _, _)| *c == self.code())
            .map(|(_, _, s)| *s)
            .unwrap_or("")
    }
}

/// The largest amount, in minor units, that a price, an order line, an order or a refund
/// may reach: ₩100 trillion, $1 trillion. Far above any real order, and far enough below
/// `i64::MAX` that no sum of a few thousand such amounts can overflow, so one absurd row
/// cannot break an aggregate.
pub const MAX_AMOUNT_MINOR: i64 = 100_000_000_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// Parses a decimal amount such as `12,000` (KRW) or `19.99` (USD). More fraction digits
    /// than the currency has is an error, not a rounding.
    pub fn parse(amount: &str, currency: Currency) -> CoreResult<Self> {
        let err =
            |why: &str| CoreError::new("amount", format!("{why}: {amount:?} {}", currency.code()));
        let cleaned: String = amount
            .trim()
            .chars()
            .filter(|c| *c != ',' && *c != '_')
            .collect();
        let (negative, body) = match cleaned.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, cleaned.as_str()),
        };
        let (whole, frac) = body.split_once('.').unwrap_or((body, ""));
        if whole.is_empty()
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(err("not a decimal number"));
        }
        let units = usize::from(currency.minor_units);
        let frac = frac.trim_end_matches('0');
        if frac.len() > units {
            return Err(err(&format!(
                "{} allows {} decimal places",
                currency.code(),
                units
            )));
        }
        let scale = 10i64.pow(u32::from(currency.minor_units));
        let whole: i64 = whole.parse().map_err(|_| err("too large"))?;
        let frac_value: i64 = if frac.is_empty() {
            0
        } else {
            format!("{frac:0<units$}")
                .parse()
                .map_err(|_| err("bad fraction"))?
        };
        let minor = whole
            .checked_mul(scale)
            .and_then(|w| w.checked_add(frac_value))
            .ok_or_else(|| err("too large"))?;
        Ok(Self::new(if negative { -minor } else { minor }, currency))
    }

    /// Parses a price or refund: a decimal amount from zero up to `MAX_AMOUNT_MINOR`. A
    /// negative price is refused (a refund is recorded as a refund).
    pub fn parse_amount(amount: &str, currency: Currency) -> CoreResult<Self> {
        let money = Self::parse(amount, currency)?;
        money.checked_amount()?;
        Ok(money)
    }

    /// This amount, if it lies within `0..=MAX_AMOUNT_MINOR`.
    pub fn checked_amount(self) -> CoreResult<Self> {
        if self.minor < 0 {
            return Err(CoreError::new(
                "amount",
                format!(
                    "must not be negative: {} (record a refund instead)",
                    self.to_decimal_string()
                ),
            ));
        }
        if self.minor > MAX_AMOUNT_MINOR {
            return Err(CoreError::new(
                "amount",
                format!(
                    "{} is above the largest amount nunchi accepts, {}",
                    self.to_decimal_string(),
                    Money::new(MAX_AMOUNT_MINOR, self.currency).to_decimal_string()
                ),
            ));
        }
        Ok(self)
    }

    /// Price × quantity, refused when the line would pass `MAX_AMOUNT_MINOR`.
    pub fn line_total(self, quantity: i64) -> CoreResult<Self> {
        self.minor
            .checked_mul(quantity)
            .map(|minor| Money::new(minor, self.currency))
            .ok_or_else(|| CoreError::new("amount", "the line total is too large"))?
            .checked_amount()
            .map_err(|e| CoreError::new("line_total", e.message))
    }

    /// The sum of amounts in one currency, refused past `MAX_AMOUNT_MINOR` (an order total).
    pub fn checked_total(
        currency: Currency,
        amounts: impl IntoIterator<Item = i64>,
    ) -> CoreResult<Self> {
        let mut total: i64 = 0;
        for a in amounts {
            total = total
                .checked_add(a)
                .ok_or_else(|| CoreError::new("order_total", "the order total is too large"))?;
        }
        Money::new(total, currency)
            .checked_amount()
            .map_err(|e| CoreError::new("order_total", e.message))
    }

    /// The plain decimal form, `12000` or `19.99`, as CSV exports write it.
    pub fn to_decimal_string(&self) -> String {
        let units = u32::from(self.currency.minor_units);
        if units == 0 {
            return self.minor.to_string();
        }
        let scale = 10i64.pow(units);
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        format!(
            "{sign}{}.{:0width$}",
            abs / scale as u64,
            abs % scale as u64,
            width = units as usize
        )
    }

    /// The display form with symbol and thousands separators: `₩12,000`, `$1,234.50`.
    pub fn display(&self) -> String {
        let plain = self.to_decimal_string();
        let (sign, plain) = match plain.strip_prefix('-') {
            Some(p) => ("-", p.to_string()),
            None => ("", plain),
        };
        let (whole, frac) = plain
            .split_once('.')
            .map(|(w, f)| (w.to_string(), Some(f.to_string())))
            .unwrap_or((plain, None));
        let mut grouped = String::new();
        for (i, c) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        match frac {
            Some(f) => format!("{sign}{}{grouped}.{f}", self.currency.symbol()),
            None => format!("{sign}{}{grouped}", self.currency.symbol()),
        }
    }
}

impl TryFrom<String> for Currency {
    type Error = CoreError;
    fn try_from(s: String) -> CoreResult<Self> {
        Currency::parse(&s)
    }
}

impl std::fmt::Display for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// Sent and stored as its ISO 4217 code.
impl serde::Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minor_units_per_currency() {
        let krw = Currency::parse("krw").unwrap();
        assert_eq!(Money::parse("12,000", krw).unwrap().minor, 12_000);
        assert!(Money::parse("12000.5", krw).is_err());
        assert_eq!(Money::parse("12000.00", krw).unwrap().minor, 12_000);
        let usd = Currency::parse("USD").unwrap();
        assert_eq!(Money::parse("19.99", usd).unwrap().minor, 1999);
        assert_eq!(Money::parse("19.9", usd).unwrap().minor, 1990);
        assert_eq!(Money::parse("-5", usd).unwrap().minor, -500);
        assert!(Money::parse("1.999", usd).is_err());
        let kwd = Currency::parse("KWD").unwrap();
        assert_eq!(Money::parse("1.5", kwd).unwrap().minor, 1500);
        assert!(Currency::parse("XYZ").is_err());
        assert!(Money::parse("abc", usd).is_err());
        assert!(Money::parse("99999999999999999999", usd).is_err());
    }

    #[test]
    fn display() {
        assert_eq!(Money::new(1_234_500, Currency::KRW).display(), "₩1,234,500");
        assert_eq!(Money::new(123_450, Currency::USD).display(), "$1,234.50");
        assert_eq!(Money::new(-5, Currency::USD).display(), "-$0.05");
        assert_eq!(Money::new(100, Currency::KRW).display(), "₩100");
        assert_eq!(Money::new(1999, Currency::USD).to_decimal_string(), "19.99");
    }

    #[test]
    fn amounts_are_bounded_and_never_negative() {
        let krw = Currency::KRW;
        assert!(Money::parse_amount("9223372036854775807", krw).is_err());
        assert!(Money::parse_amount("5000000000000000000", krw).is_err());
        assert!(Money::parse_amount("-1", krw).is_err());
        assert_eq!(Money::parse_amount("0", krw).unwrap().minor, 0);
        assert_eq!(
            Money::parse_amount("100000000000000", krw).unwrap().minor,
            MAX_AMOUNT_MINOR
        );
        assert!(Money::parse_amount("100000000000001", krw).is_err());
        let price = Money::new(MAX_AMOUNT_MINOR, krw);
        assert!(price.line_total(1).is_ok());
        assert!(price.line_total(2).is_err());
        assert!(Money::new(i64::MAX / 2, krw).line_total(100_000).is_err());
        assert!(Money::checked_total(krw, [MAX_AMOUNT_MINOR, 1]).is_err());
        assert!(Money::checked_total(krw, [i64::MAX, i64::MAX]).is_err());
        assert_eq!(Money::checked_total(krw, [3, 4]).unwrap().minor, 7);
    }

    proptest::proptest! {
        #[test]
        fn decimal_round_trip(minor in -1_000_000_000i64..1_000_000_000, code in proptest::sample::select(vec!["KRW", "USD", "KWD"])) {
            let c = Currency::parse(code).unwrap();
            let m = Money::new(minor, c);
            proptest::prop_assert_eq!(Money::parse(&m.to_decimal_string(), c).unwrap(), m);
        }
    }
}
