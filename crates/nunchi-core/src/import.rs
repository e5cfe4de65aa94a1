//! Rows of the customer and order CSV formats, parsed into domain values. The CSV reading
//! itself (bytes, quoting, line numbers) belongs to the caller; this module decides what a
//! row means and rejects it with a reason when it means nothing valid.

use crate::{
    CoreError, CoreResult,
    channel::Channel,
    consent::{ContactChannel, Purpose},
    customer::{
        AttributeType, CustomerName, Language, ProfileFields, Tag, TimeZoneName,
        parse_attribute_key,
    },
    email::Email,
    life_event::{LifeEventKind, parse_date},
    money::{Currency, Money},
    phone::Phone,
    time::Millis,
};

pub const CUSTOMER_COLUMNS: &[&str] = &[
    "external_id",
    "name",
    "email",
    "phone",
    "language",
    "time_zone",
    "preferred_channel",
    "tags",
    "marketing_consent",
    "night_ads_consent",
    "birthday",
    "wedding_anniversary",
    "created_at",
];
pub const ORDER_COLUMNS: &[&str] = &[
    "order_id",
    "customer_external_id",
    "placed_at",
    "status",
    "currency",
    "channel",
    "product",
    "category",
    "unit_price",
    "quantity",
    "refunded",
];

/// One customer row, ready to upsert. `Default` is a record with nothing known, for the
/// channels that create a customer from an identity alone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerRecord {
    pub external_id: Option<String>,
    pub profile: ProfileFields,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
    pub tags: Vec<Tag>,
    /// Channels and purposes the row grants; the import records them with its own source.
    pub consents: Vec<(ContactChannel, Purpose)>,
    pub life_events: Vec<(LifeEventKind, jiff::civil::Date)>,
    /// `attr_<key>` columns: key, inferred type, canonical value.
    pub attributes: Vec<(String, AttributeType, String)>,
    /// When they became a customer, if it was before this import (kept on creation only).
    pub created_at: Option<Millis>,
}

/// Which column holds what, resolved once from the header.
#[derive(Debug, Clone)]
pub struct Header {
    columns: Vec<String>,
}

impl Header {
    /// Checks the header of a customer or order file: every column must be known, or an
    /// `attr_` custom attribute when `allow_attributes` is set.
    pub fn parse(
        fields: &[&str],
        known: &[&str],
        required: &[&str],
        allow_attributes: bool,
    ) -> CoreResult<Self> {
        let columns: Vec<String> = fields
            .iter()
            .map(|f| f.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
            .collect();
        for c in &columns {
            let is_attr = allow_attributes
                && c.strip_prefix("attr_")
                    .is_some_and(|k| parse_attribute_key(k).is_ok());
            if !known.contains(&c.as_str()) && !is_attr {
                return Err(CoreError::new(
                    "header",
                    format!(
                        "unknown column {c:?}; expected some of {}",
                        known.join(", ")
                    ),
                ));
            }
        }
        for r in required {
            if !columns.iter().any(|c| c == r) {
                return Err(CoreError::new("header", format!("missing column {r:?}")));
            }
        }
        let mut seen = columns.clone();
        seen.sort();
        if seen.windows(2).any(|w| w[0] == w[1]) {
            return Err(CoreError::new("header", "a column appears twice"));
        }
        Ok(Self { columns })
    }

    fn get<'a>(&self, row: &'a [&'a str], name: &str) -> Option<&'a str> {
        self.columns
            .iter()
            .position(|c| c == name)
            .and_then(|i| row.get(i))
            .map(|v| v.trim())
            .filter(|v| !v.is_empty())
    }

    fn check_width(&self, row: &[&str]) -> CoreResult<()> {
        if row.len() != self.columns.len() {
            return Err(CoreError::new(
                "row",
                format!(
                    "has {} fields, the header has {}",
                    row.len(),
                    self.columns.len()
                ),
            ));
        }
        Ok(())
    }

    pub fn customer(&self, row: &[&str]) -> CoreResult<CustomerRecord> {
        self.check_width(row)?;
        let opt = |name: &str| self.get(row, name);
        let channels = |name: &str| -> CoreResult<Vec<ContactChannel>> {
            opt(name)
                .map(|v| {
                    v.split([';', ','])
                        .filter(|c| !c.trim().is_empty())
                        .map(ContactChannel::parse)
                        .collect()
                })
                .unwrap_or(Ok(vec![]))
        };
        let mut consents: Vec<(ContactChannel, Purpose)> = channels("marketing_consent")?
            .into_iter()
            .map(|c| (c, Purpose::Marketing))
            .collect();
        consents.extend(
            channels("night_ads_consent")?
                .into_iter()
                .map(|c| (c, Purpose::NightAds)),
        );
        let mut life_events = Vec::new();
        for (col, kind) in [
            ("birthday", LifeEventKind::Birthday),
            ("wedding_anniversary", LifeEventKind::WeddingAnniversary),
        ] {
            if let Some(v) = opt(col) {
                life_events.push((
                    kind,
                    parse_date(v)
                        .map_err(|e| CoreError::new("date", format!("{col}: {}", e.message)))?,
                ));
            }
        }
        let mut attributes = Vec::new();
        for (i, c) in self.columns.iter().enumerate() {
            if let (Some(key), Some(v)) = (
                c.strip_prefix("attr_"),
                row.get(i).map(|v| v.trim()).filter(|v| !v.is_empty()),
            ) {
                let ty = AttributeType::infer(v);
                attributes.push((key.to_string(), ty, ty.canonical(key, v)?));
            }
        }
        let record = CustomerRecord {
            external_id: opt("external_id")
                .map(|x| {
                    if x.chars().count() > 200 {
                        Err(CoreError::new("external_id", "longer than 200 characters"))
                    } else {
                        Ok(x.to_string())
                    }
                })
                .transpose()?,
            profile: ProfileFields {
                name: opt("name").map(CustomerName::parse).transpose()?,
                language: opt("language").map(Language::parse).transpose()?,
                time_zone: opt("time_zone").map(TimeZoneName::parse).transpose()?,
                preferred_channel: opt("preferred_channel")
                    .map(ContactChannel::parse)
                    .transpose()?,
            },
            email: opt("email").map(Email::parse).transpose()?,
            phone: opt("phone").map(Phone::parse).transpose()?,
            tags: opt("tags")
                .map(Tag::parse_list)
                .transpose()?
                .unwrap_or_default(),
            consents,
            life_events,
            attributes,
            created_at: opt("created_at").map(Millis::parse).transpose()?,
        };
        if record.external_id.is_none() && record.email.is_none() && record.phone.is_none() {
            return Err(CoreError::new(
                "row",
                "needs at least one of external_id, email or phone",
            ));
        }
        Ok(record)
    }

    pub fn order_line(&self, row: &[&str]) -> CoreResult<OrderLine> {
        self.check_width(row)?;
        let opt = |name: &str| self.get(row, name);
        let req = |name: &'static str| opt(name).ok_or_else(|| CoreError::new(name, "is required"));
        let currency = Currency::parse(opt("currency").unwrap_or("KRW"))?;
        let quantity: i64 = req("quantity")?
            .parse()
            .map_err(|_| CoreError::new("quantity", QUANTITY_RULE))?;
        OrderLine {
            order_id: req("order_id")?.to_string(),
            customer_external_id: req("customer_external_id")?.to_string(),
            placed_at: Millis::parse(req("placed_at")?)?,
            status: OrderStatus::parse(opt("status").unwrap_or("paid"))?,
            channel: opt("channel")
                .map(Channel::parse_checked)
                .transpose()?
                .unwrap_or(Channel::Web),
            product: req("product")?.to_string(),
            category: opt("category").unwrap_or("").to_string(),
            unit_price: Money::parse(req("unit_price")?, currency)?,
            quantity,
            refunded: opt("refunded")
                .map(|v| Money::parse(v, currency))
                .transpose()?,
        }
        .checked()
    }
}

const QUANTITY_RULE: &str = "must be a whole number from 1 to 100000";

/// One line item of an order file; lines sharing `order_id` form one order.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderLine {
    pub order_id: String,
    pub customer_external_id: String,
    pub placed_at: Millis,
    pub status: OrderStatus,
    pub channel: Channel,
    pub product: String,
    pub category: String,
    pub unit_price: Money,
    pub quantity: i64,
    pub refunded: Option<Money>,
}

impl OrderLine {
    /// The line if its numbers are sane: a quantity of 1 to 100,000, a price and a refund
    /// from zero to `MAX_AMOUNT_MINOR`, and a line total that stays within it too. Every
    /// way an order line enters (CSV, API) passes through here.
    pub fn checked(self) -> CoreResult<Self> {
        if !(1..=100_000).contains(&self.quantity) {
            return Err(CoreError::new("quantity", QUANTITY_RULE));
        }
        self.unit_price
            .checked_amount()
            .map_err(|e| CoreError::new("unit_price", e.message))?;
        self.unit_price.line_total(self.quantity)?;
        if let Some(r) = self.refunded {
            r.checked_amount()
                .map_err(|e| CoreError::new("refunded", e.message))?;
        }
        Ok(self)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Pending,
    Paid,
    Shipped,
    Delivered,
    Cancelled,
    Refunded,
    PartiallyRefunded,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 7] = [
        Self::Pending,
        Self::Paid,
        Self::Shipped,
        Self::Delivered,
        Self::Cancelled,
        Self::Refunded,
        Self::PartiallyRefunded,
    ];

    pub fn parse(s: &str) -> CoreResult<Self> {
        Self::ALL
            .into_iter()
            .find(|x| x.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| CoreError::new("status", format!("unknown order status {s:?}")))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Paid => "paid",
            Self::Shipped => "shipped",
            Self::Delivered => "delivered",
            Self::Cancelled => "cancelled",
            Self::Refunded => "refunded",
            Self::PartiallyRefunded => "partially_refunded",
        }
    }
}

crate::read_by_name!(OrderStatus);

#[cfg(test)]
mod tests {
    use super::*;

    fn customer_header() -> Header {
        Header::parse(
            &[
                "external_id",
                "name",
                "email",
                "phone",
                "tags",
                "marketing_consent",
                "birthday",
                "attr_skin_type",
            ],
            CUSTOMER_COLUMNS,
            &[],
            true,
        )
        .unwrap()
    }

    #[test]
    fn good_customer_row() {
        let r = customer_header()
            .customer(&[
                "C1",
                "김민준",
                "MJ@x.com",
                "010-1234-5678",
                "vip;new",
                "email;sms",
                "1990-05-08",
                "dry",
            ])
            .unwrap();
        assert_eq!(r.external_id.as_deref(), Some("C1"));
        assert_eq!(r.phone.unwrap().as_str(), "+821012345678");
        assert_eq!(
            r.consents,
            vec![
                (ContactChannel::Email, Purpose::Marketing),
                (ContactChannel::Sms, Purpose::Marketing)
            ]
        );
        assert_eq!(
            r.attributes,
            vec![("skin_type".into(), AttributeType::Text, "dry".into())]
        );
        assert_eq!(r.tags.len(), 2);
    }

    #[test]
    fn bad_customer_rows_say_why() {
        let h = customer_header();
        let why = |row: &[&str]| h.customer(row).unwrap_err().field;
        assert_eq!(
            why(&["C1", "x", "not-an-email", "", "", "", "", ""]),
            "email"
        );
        assert_eq!(why(&["C1", "x", "", "123", "", "", "", ""]), "phone");
        assert_eq!(why(&["C1", "x", "", "", "", "fax", "", ""]), "channel");
        assert_eq!(why(&["C1", "x", "", "", "", "", "1990-13-01", ""]), "date");
        assert_eq!(why(&["", "x", "", "", "", "", "", ""]), "row");
        assert_eq!(why(&["C1", "x"]), "row");
    }

    #[test]
    fn headers() {
        assert!(
            Header::parse(
                &["external_id", "favourite_colour"],
                CUSTOMER_COLUMNS,
                &[],
                true
            )
            .is_err()
        );
        assert!(
            Header::parse(
                &["\u{feff}external_id", "attr_colour"],
                CUSTOMER_COLUMNS,
                &[],
                true
            )
            .is_ok()
        );
        assert!(
            Header::parse(
                &["order_id"],
                ORDER_COLUMNS,
                &["order_id", "product"],
                false
            )
            .is_err()
        );
        assert!(Header::parse(&["name", "name"], CUSTOMER_COLUMNS, &[], true).is_err());
    }

    #[test]
    fn order_lines() {
        let h = Header::parse(ORDER_COLUMNS, ORDER_COLUMNS, &[], false).unwrap();
        let line = h
            .order_line(&[
                "O1",
                "C1",
                "2026-05-01T10:00:00+09:00",
                "paid",
                "KRW",
                "app",
                "수분크림",
                "skincare",
                "32,000",
                "2",
                "",
            ])
            .unwrap();
        assert_eq!(line.unit_price.minor, 32_000);
        assert_eq!(line.channel, Channel::App);
        assert!(
            h.order_line(&[
                "O1",
                "C1",
                "2026-05-01",
                "paid",
                "KRW",
                "app",
                "x",
                "",
                "1.5",
                "1",
                ""
            ])
            .is_err()
        );
        assert!(
            h.order_line(&[
                "O1",
                "C1",
                "2026-05-01",
                "paid",
                "USD",
                "app",
                "x",
                "",
                "1.5",
                "0",
                ""
            ])
            .is_err()
        );
        assert!(
            h.order_line(&[
                "O1",
                "C1",
                "2026-05-01",
                "lost",
                "USD",
                "app",
                "x",
                "",
                "1.5",
                "1",
                ""
            ])
            .is_err()
        );
    }
}
