//! The server's analytics state: the engine's event log fed from stored events, who each
//! log slot is (a customer, or an anonymous visitor not yet stitched), and the touchpoint
//! rules that tag events for the journey map.

use std::collections::HashMap;

use nunchi_analytics::Keys;
use nunchi_analytics::log::{CustomerSet, Event, EventLog, MAX_TOUCHPOINTS};
use nunchi_core::channel::Channel;
use nunchi_core::touchpoint::Rule;
use nunchi_store::model::{EventRow, Touchpoint};
use serde_json::Value;

/// Who a slot of the log belongs to: a customer, or an anonymous visitor by a 64-bit
/// hash of their anonymous id (so feeding an event allocates nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Who {
    Customer(i64),
    Anon(u64),
}

fn anon_key(anonymous_id: &str) -> Who {
    use std::hash::{BuildHasher, BuildHasherDefault};
    Who::Anon(
        BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default()
            .hash_one(anonymous_id),
    )
}

impl From<&Who> for Who {
    fn from(w: &Who) -> Who {
        *w
    }
}

/// Follows merges from `id` to the profile that survived them.
fn resolve(redirects: &HashMap<i64, i64>, mut id: i64) -> i64 {
    // Chains are short (a merged profile merged again); the bound only guards a cycle.
    for _ in 0..32 {
        match redirects.get(&id) {
            Some(&next) => id = next,
            None => break,
        }
    }
    id
}

/// Touchpoint rules by event name; codes are 1-based positions in `ids`.
#[derive(Debug, Default)]
struct Matcher {
    by_event: HashMap<String, Vec<(u16, Rule)>>,
    ids: Vec<i64>,
}

/// An event's top-level properties as text, as touchpoint conditions compare them.
fn property_texts(properties: &str) -> HashMap<String, String> {
    let Ok(Value::Object(map)) = serde_json::from_str::<Value>(properties) else {
        return HashMap::new();
    };
    map.into_iter()
        .filter_map(|(k, v)| match v {
            Value::Null => None,
            Value::String(s) => Some((k, s)),
            other => Some((k, other.to_string())),
        })
        .collect()
}

impl Matcher {
    fn new(touchpoints: &[Touchpoint]) -> Matcher {
        let mut m = Matcher::default();
        for t in touchpoints.iter().take(MAX_TOUCHPOINTS as usize) {
            let rule = Rule {
                event: t.event.clone(),
                conditions: t.conditions.0.clone(),
            };
            m.ids.push(t.id);
            let code = m.ids.len() as u16;
            m.by_event
                .entry(t.event.clone())
                .or_default()
                .push((code, rule));
        }
        m
    }

    /// The first touchpoint whose rule the event meets; 0 for none. Properties are parsed
    /// only when a rule for this event name has conditions.
    fn code(&self, name: &str, properties: &str) -> u16 {
        let Some(rules) = self.by_event.get(name) else {
            return 0;
        };
        let mut texts: Option<HashMap<String, String>> = None;
        for (code, rule) in rules {
            if rule.conditions.is_empty() {
                return *code;
            }
            let texts = texts.get_or_insert_with(|| property_texts(properties));
            if rule.matches(name, |p| texts.get(p).map(String::as_str)) {
                return *code;
            }
        }
        0
    }
}

#[derive(Debug, Default)]
pub struct Engine {
    pub log: EventLog,
    keys: Keys<Who>,
    links: HashMap<Box<str>, i64>,
    matcher: Matcher,
    /// Customers merged away (or being merged) → who they became. Events and links that
    /// still name the old profile land on the survivor.
    redirects: HashMap<i64, i64>,
    /// The last stored event id fed in.
    pub last_id: i64,
}

impl Engine {
    pub fn new(touchpoints: &[Touchpoint], links: Vec<(String, i64)>) -> Engine {
        Engine {
            matcher: Matcher::new(touchpoints),
            links: links
                .into_iter()
                .map(|(a, c)| (a.into_boxed_str(), c))
                .collect(),
            ..Engine::default()
        }
    }

    /// The customer an anonymous id is stitched to, if any.
    pub fn linked(&self, anonymous_id: &str) -> Option<i64> {
        self.links.get(anonymous_id).map(|&c| self.resolve(c))
    }

    /// The customer `id` stands for now: itself, or the survivor of its merges.
    pub fn resolve(&self, id: i64) -> i64 {
        resolve(&self.redirects, id)
    }

    /// From now on `from` means `into` (`None`: no longer, the merge did not happen).
    pub fn redirect(&mut self, from: i64, into: Option<i64>) {
        match into {
            Some(into) => self.redirects.insert(from, into),
            None => self.redirects.remove(&from),
        };
    }

    /// Redirects carried over from an engine this one replaces.
    pub fn take_redirects(&mut self, from: &mut Engine) {
        self.redirects = std::mem::take(&mut from.redirects);
    }

    /// A merge committed: `from`'s history joins `into`'s.
    pub fn merge(&mut self, from: i64, into: i64) {
        self.redirects.insert(from, into);
        let into = self.resolve(into);
        if let Some(slot) = self.keys.get(&Who::Customer(from)) {
            let target = self.keys.index(&Who::Customer(into));
            self.log.merge_customers(slot, target);
        }
    }

    /// An erasure committed: the anonymous ids stitched to `customer` are forgotten (the
    /// events stay, counted on the erased profile).
    pub fn forget(&mut self, customer: i64) {
        let redirects = &self.redirects;
        self.links.retain(|_, c| resolve(redirects, *c) != customer);
    }

    pub fn feed(&mut self, row: &EventRow) {
        self.last_id = self.last_id.max(row.id);
        let who = match (row.customer_id, row.anonymous_id.as_deref()) {
            (Some(c), _) => Who::Customer(self.resolve(c)),
            (None, Some(a)) => match self.linked(a) {
                Some(c) => Who::Customer(c),
                None => anon_key(a),
            },
            (None, None) => return,
        };
        let Ok(name) = self.log.intern(&row.name) else {
            tracing::warn!(name = %row.name, "too many distinct event names; event not analysed");
            return;
        };
        let slot = self.keys.index(&who);
        self.log.push(
            slot,
            Event {
                ts: (row.ts.div_euclid(1000)).clamp(0, u32::MAX as i64) as u32,
                name,
                touchpoint: self.matcher.code(&row.name, &row.properties),
                channel: Channel::parse(&row.channel).unwrap_or(Channel::Custom),
            },
        );
    }

    /// Stitches an anonymous visitor to a customer: their earlier events join the
    /// customer's journey, and later ones go there directly.
    pub fn link(&mut self, anonymous_id: &str, customer_id: i64) {
        if self.links.contains_key(anonymous_id) {
            return;
        }
        let customer_id = self.resolve(customer_id);
        self.links.insert(anonymous_id.into(), customer_id);
        if let Some(from) = self.keys.get(&anon_key(anonymous_id)) {
            let into = self.keys.index(&Who::Customer(customer_id));
            self.log.merge_customers(from, into);
        }
    }

    /// Who a slot is.
    pub fn who(&self, slot: u32) -> &Who {
        self.keys.key(slot)
    }

    /// The log slot of a customer or visitor with events.
    pub fn slot(&self, who: Who) -> Option<u32> {
        self.keys.get(&who)
    }

    /// The log slots of these customers (those with events).
    pub fn slots_of(&self, customers: &[i64]) -> CustomerSet {
        customers
            .iter()
            .filter_map(|&c| self.keys.get(&Who::Customer(c)))
            .collect()
    }

    /// Per slot, a code for the customer's value of an attribute; `u32::MAX` for none.
    pub fn attribute_codes(&self, values: &[(i64, String)]) -> (Vec<u32>, Vec<String>) {
        let mut labels: Vec<String> = Vec::new();
        let mut codes = vec![u32::MAX; self.log.customers() as usize];
        let mut index: HashMap<&str, u32> = HashMap::new();
        for (customer, value) in values {
            let Some(slot) = self.keys.get(&Who::Customer(*customer)) else {
                continue;
            };
            let code = *index.entry(value.as_str()).or_insert_with(|| {
                labels.push(value.clone());
                labels.len() as u32 - 1
            });
            if let Some(c) = codes.get_mut(slot as usize) {
                *c = code;
            }
        }
        (codes, labels)
    }

    /// The stored id of the touchpoint a log code stands for.
    pub fn touchpoint_id(&self, code: u16) -> Option<i64> {
        (code as usize)
            .checked_sub(1)
            .and_then(|i| self.matcher.ids.get(i))
            .copied()
    }

    /// The log code of a stored touchpoint id.
    pub fn touchpoint_code(&self, id: i64) -> Option<u16> {
        self.matcher
            .ids
            .iter()
            .position(|&t| t == id)
            .map(|i| i as u16 + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        id: i64,
        name: &str,
        customer: Option<i64>,
        anon: Option<&str>,
        ts: i64,
        props: &str,
    ) -> EventRow {
        EventRow {
            id,
            source_id: 1,
            message_id: format!("m{id}"),
            kind: "track".into(),
            name: name.into(),
            customer_id: customer,
            user_id: None,
            anonymous_id: anon.map(str::to_string),
            channel: "web".into(),
            ts,
            received_at: ts,
            properties: props.into(),
            context: "{}".into(),
        }
    }

    fn touchpoint(id: i64, event: &str, conditions: &str) -> Touchpoint {
        Touchpoint {
            id,
            name: format!("tp{id}"),
            channel: "web".into(),
            event: event.into(),
            conditions: nunchi_store::Json(serde_json::from_str(conditions).unwrap()),
            stage_id: None,
            expected_rating: None,
            created_at: 0,
        }
    }

    #[test]
    fn stitching_moves_anonymous_history_to_the_customer() {
        let mut e = Engine::new(&[], vec![]);
        e.feed(&row(1, "visit", None, Some("a-1"), 1_000, "{}"));
        e.feed(&row(2, "view", None, Some("a-1"), 2_000, "{}"));
        e.feed(&row(3, "purchase", Some(42), None, 3_000, "{}"));
        e.link("a-1", 42);
        e.feed(&row(4, "review", None, Some("a-1"), 4_000, "{}"));
        let slot = e.keys.get(&Who::Customer(42)).unwrap();
        let mut scratch = Vec::new();
        assert_eq!(e.log.run(slot, &mut scratch).len(), 4);
        assert_eq!(e.last_id, 4);
        assert_eq!(e.linked("a-1"), Some(42));
    }

    #[test]
    fn merges_move_history_and_later_events_to_the_survivor() {
        let mut e = Engine::new(&[], vec![("a-7".into(), 7)]);
        e.feed(&row(1, "visit", Some(7), None, 1_000, "{}"));
        e.feed(&row(2, "visit", Some(8), None, 2_000, "{}"));
        e.merge(7, 8);
        // Rows built before the merge still name 7, and the stitched visitor too.
        e.feed(&row(3, "purchase", Some(7), None, 3_000, "{}"));
        e.feed(&row(4, "review", None, Some("a-7"), 4_000, "{}"));
        let survivor = e.keys.get(&Who::Customer(8)).unwrap();
        let old = e.keys.get(&Who::Customer(7)).unwrap();
        let mut scratch = Vec::new();
        assert_eq!(e.log.run(survivor, &mut scratch).len(), 4);
        assert!(e.log.run(old, &mut scratch).is_empty());
        assert_eq!(e.linked("a-7"), Some(8));
        e.forget(8);
        assert_eq!(e.linked("a-7"), None);
    }

    #[test]
    fn touchpoints_match_by_name_then_conditions() {
        let tps = [
            touchpoint(
                10,
                "page_view",
                r#"[{"property":"name","op":"eq","value":"Checkout"}]"#,
            ),
            touchpoint(11, "page_view", "[]"),
            touchpoint(
                12,
                "purchase",
                r#"[{"property":"total","op":"gte","value":"50000"}]"#,
            ),
        ];
        let e = Engine::new(&tps, vec![]);
        assert_eq!(e.matcher.code("page_view", r#"{"name":"Checkout"}"#), 1);
        assert_eq!(e.matcher.code("page_view", r#"{"name":"Home"}"#), 2);
        assert_eq!(e.matcher.code("purchase", r#"{"total":72000}"#), 3);
        assert_eq!(e.matcher.code("purchase", r#"{"total":100}"#), 0);
        assert_eq!(e.touchpoint_id(3), Some(12));
        assert_eq!(e.touchpoint_code(11), Some(2));
    }
}
