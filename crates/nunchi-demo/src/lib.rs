//! The demo brand: 하늘결 (Haneulgyeol), a Korean D2C skincare and lifestyle brand that sells
//! on its website, in its app and in a few stores. Everything is generated from a seed, per
//! customer index, so the same `--customers N` gives the same data on every machine and a
//! customer's data does not depend on how many others were generated. Pure data: writing
//! it into a store is the caller's job. Later capabilities extend this generator.

mod catalog;
pub mod journey;
mod people;
pub mod support;
pub mod surveys;
pub mod voc;

use nunchi_core::{
    channel::Channel,
    consent::{ContactChannel, Purpose},
    customer::{AttributeType, CustomerName, Language, ProfileFields, Tag, TimeZoneName},
    email::Email,
    import::{CustomerRecord, OrderLine, OrderStatus},
    life_event::LifeEventKind,
    money::{Currency, Money},
    phone::Phone,
    time::Millis,
};
use rand::{Rng, SeedableRng, seq::SliceRandom};
use rand_chacha::ChaCha8Rng;

pub use catalog::{CATALOG, Product};

pub const BRAND_KO: &str = "하늘결";
pub const BRAND_EN: &str = "Haneulgyeol";
/// The demo's "today": fixed, so generated dates do not drift between runs.
pub const ANCHOR: &str = "2026-11-01T09:00:00+09:00";
pub const DEFAULT_SEED: u64 = 0x6e75_6e63_6869;
const DAY_MS: i64 = 86_400_000;

/// One generated customer with their orders and staff notes.
#[derive(Debug, Clone)]
pub struct DemoCustomer {
    pub record: CustomerRecord,
    pub orders: Vec<OrderLine>,
    /// (author, body)
    pub notes: Vec<(String, String)>,
}

/// Customer number `i` of the demo generated from `seed`.
pub fn customer(seed: u64, i: u64) -> DemoCustomer {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let anchor = Millis::parse(ANCHOR).map(|m| m.0).unwrap_or(0);
    let person = people::person(&mut rng, i);
    let external_id = format!("HG-{:07}", i + 1);
    // Recent customers are more common: the brand is growing.
    let age_days = (rng.r#gen::<f64>().powf(1.6) * 720.0) as i64 + 1;
    let since = anchor - age_days * DAY_MS - rng.gen_range(0..DAY_MS);

    let mut tags: Vec<Tag> = Vec::new();
    for (tag, p) in [
        ("앱회원", 0.35),
        ("매장고객", 0.2),
        ("민감성피부", 0.15),
        ("선물구매", 0.1),
    ] {
        if rng.gen_bool(p) {
            tags.extend(Tag::parse(tag));
        }
    }
    let mut consents = Vec::new();
    for (channel, p) in [
        (ContactChannel::Email, 0.55),
        (ContactChannel::Sms, 0.4),
        (ContactChannel::Kakao, 0.6),
        (ContactChannel::Push, 0.3),
    ] {
        if rng.gen_bool(p) {
            consents.push((channel, Purpose::Marketing));
            if rng.gen_bool(0.15) {
                consents.push((channel, Purpose::NightAds));
            }
        }
    }
    let mut life_events = Vec::new();
    if rng.gen_bool(0.7) {
        let year = rng.gen_range(1965..2006);
        if let Ok(d) = jiff::civil::Date::new(year, rng.gen_range(1..=12), rng.gen_range(1..=28)) {
            life_events.push((LifeEventKind::Birthday, d));
        }
    }
    if rng.gen_bool(0.2) {
        let year = rng.gen_range(1995..2026);
        if let Ok(d) = jiff::civil::Date::new(year, rng.gen_range(1..=12), rng.gen_range(1..=28)) {
            life_events.push((LifeEventKind::WeddingAnniversary, d));
        }
    }
    let skin = ["건성", "지성", "복합성", "민감성", "중성"]
        .choose(&mut rng)
        .copied()
        .unwrap_or("중성");
    let mut attributes = vec![(
        "skin_type".to_string(),
        AttributeType::Text,
        skin.to_string(),
    )];

    let orders = orders(&mut rng, &external_id, since, anchor);
    let spent: i64 = orders.iter().map(|o| o.unit_price.minor * o.quantity).sum();
    let tier = match spent {
        s if s >= 600_000 => "vip",
        s if s >= 250_000 => "gold",
        s if s >= 80_000 => "silver",
        _ => "bronze",
    };
    attributes.push((
        "membership_tier".to_string(),
        AttributeType::Text,
        tier.to_string(),
    ));
    if tier == "vip" {
        tags.extend(Tag::parse("vip"));
    }
    let order_count = orders
        .iter()
        .map(|o| &o.order_id)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    if order_count >= 2 {
        tags.extend(Tag::parse("재구매"));
    } else if age_days < 60 {
        tags.extend(Tag::parse("신규"));
    }
    // One in 25 is a teacher (Teachers' Day campaign), decided by the id rather than the
    // random stream, so everything generated after stays as it was.
    let fnv = external_id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    if fnv % 25 == 0 {
        tags.extend(Tag::parse("교사"));
    }
    tags.sort();
    tags.dedup();

    let notes = people::notes(&mut rng, person.korean, !orders.is_empty());
    let preferred = [
        ContactChannel::Kakao,
        ContactChannel::Kakao,
        ContactChannel::Email,
        ContactChannel::Sms,
        ContactChannel::Push,
    ]
    .choose(&mut rng)
    .copied();
    let record = CustomerRecord {
        external_id: Some(external_id),
        profile: ProfileFields {
            name: CustomerName::parse(&person.name).ok(),
            language: Language::parse(if person.korean { "ko" } else { "en" }).ok(),
            time_zone: TimeZoneName::parse(person.time_zone).ok(),
            preferred_channel: if person.korean {
                preferred
            } else {
                Some(ContactChannel::Email)
            },
        },
        email: Email::parse(&person.email).ok(),
        phone: Phone::parse(&person.phone).ok(),
        tags,
        consents,
        life_events,
        attributes,
        created_at: Some(Millis(since)),
    };
    DemoCustomer {
        record,
        orders,
        notes,
    }
}

fn orders(rng: &mut ChaCha8Rng, customer: &str, since: i64, anchor: i64) -> Vec<OrderLine> {
    let count = match rng.r#gen::<f64>() {
        x if x < 0.22 => 0,
        x if x < 0.58 => 1,
        x if x < 0.78 => 2,
        x if x < 0.9 => 3,
        _ => rng.gen_range(4..10),
    };
    let mut lines = Vec::new();
    let span = (anchor - since).max(DAY_MS);
    let mut times: Vec<i64> = (0..count).map(|_| since + rng.gen_range(0..span)).collect();
    times.sort();
    for (n, placed) in times.into_iter().enumerate() {
        let order_id = format!("{customer}-{:03}", n + 1);
        let channel = *[Channel::Web, Channel::App, Channel::App, Channel::Store]
            .choose(rng)
            .unwrap_or(&Channel::Web);
        let age = anchor - placed;
        let roll = rng.r#gen::<f64>();
        let status = if roll < 0.04 {
            OrderStatus::Refunded
        } else if roll < 0.06 {
            OrderStatus::Cancelled
        } else if age < 3 * DAY_MS {
            OrderStatus::Shipped
        } else {
            OrderStatus::Delivered
        };
        let items = rng.gen_range(1..=3);
        let mut picked: Vec<&Product> = CATALOG.choose_multiple(rng, items).collect();
        picked.sort_by_key(|p| p.name);
        let total: i64 = picked.iter().map(|p| p.price_krw).sum();
        for p in picked {
            let quantity = if rng.gen_bool(0.15) { 2 } else { 1 };
            lines.push(OrderLine {
                order_id: order_id.clone(),
                customer_external_id: customer.to_string(),
                placed_at: Millis(placed),
                status,
                channel,
                product: p.name.to_string(),
                category: p.category.to_string(),
                unit_price: Money::new(p.price_krw, Currency::KRW),
                quantity,
                refunded: (status == OrderStatus::Refunded)
                    .then(|| Money::new(total, Currency::KRW)),
            });
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_per_index_and_valid() {
        let a = customer(DEFAULT_SEED, 42);
        let b = customer(DEFAULT_SEED, 42);
        assert_eq!(a.record, b.record);
        assert_eq!(a.orders, b.orders);
        assert_ne!(customer(DEFAULT_SEED, 43).record, a.record);
        assert_ne!(customer(1, 42).record, a.record);
    }

    #[test]
    fn looks_like_a_korean_brand() {
        let people: Vec<DemoCustomer> = (0..2000).map(|i| customer(DEFAULT_SEED, i)).collect();
        let korean = people
            .iter()
            .filter(|c| {
                c.record
                    .profile
                    .language
                    .as_ref()
                    .is_some_and(|l| l.as_str() == "ko")
            })
            .count();
        assert!(
            (1500..1950).contains(&korean),
            "mostly Korean customers: {korean}"
        );
        assert!(people.iter().all(|c| c.record.email.is_some()
            && c.record.phone.is_some()
            && c.record.profile.name.is_some()));
        let emails: std::collections::HashSet<_> =
            people.iter().map(|c| c.record.email.clone()).collect();
        let phones: std::collections::HashSet<_> =
            people.iter().map(|c| c.record.phone.clone()).collect();
        assert_eq!(
            (emails.len(), phones.len()),
            (2000, 2000),
            "identities are unique"
        );
        let buyers = people.iter().filter(|c| !c.orders.is_empty()).count();
        assert!((1400..1700).contains(&buyers), "{buyers}");
        assert!(
            people
                .iter()
                .any(|c| c.orders.iter().any(|o| o.status == OrderStatus::Refunded))
        );
        assert!(people.iter().any(|c| !c.notes.is_empty()));
        assert!(people.iter().any(|c| {
            c.record
                .profile
                .name
                .as_ref()
                .is_some_and(|n| n.as_str().starts_with("김민"))
        }));
    }
}
