//! The per-customer data lifecycle in one registry: for every table that references a
//! customer, what a merge, an erasure and a subject-access export do with its rows.
//! Merge, erase and export read their lists from here, and a conformance test reads the
//! live schema of both backends and fails when a table with a `customer_id` column is
//! missing, so a capability that adds such a table must say here what happens to it.
//! (Each operation once kept its own list; they drifted, and erasure left personal data
//! in `events` and `survey_responses` while merges skipped the survey tables.)

/// What a merge does with the merged-away customer's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnMerge {
    /// They move to the surviving customer.
    Move,
    /// They move, except where the survivor already has a row with the same values in
    /// these columns: the survivor's wins.
    MoveUnlessSurvivorHas(&'static [&'static str]),
    /// They are dropped and the survivor's are rebuilt (derived data such as search keys).
    Rebuild,
}

/// What an erasure does with the customer's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnErase {
    /// Deleted.
    Delete,
    /// Kept for the aggregates without who sent them or what they wrote (see
    /// `sql/erasure.rs`, which handles each such table by name).
    Anonymise,
    /// Kept as they are: they hold no personal data (an order's amounts and products).
    Keep,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CustomerTable {
    pub name: &'static str,
    pub on_merge: OnMerge,
    pub on_erase: OnErase,
    /// The field of `CustomerExport` that carries these rows; `None` for derived data.
    pub export: Option<&'static str>,
}

const fn table(
    name: &'static str,
    on_merge: OnMerge,
    on_erase: OnErase,
    export: Option<&'static str>,
) -> CustomerTable {
    CustomerTable {
        name,
        on_merge,
        on_erase,
        export,
    }
}

use OnErase::*;
use OnMerge::*;

/// Every table with a `customer_id` column.
pub const CUSTOMER_TABLES: &[CustomerTable] = &[
    table("customer_identities", Move, Delete, Some("customer")),
    table("identity_log", Move, Delete, Some("timeline")),
    table("search_keys", Rebuild, Delete, None),
    table(
        "customer_tags",
        MoveUnlessSurvivorHas(&["tag"]),
        Delete,
        Some("customer"),
    ),
    table(
        "customer_attributes",
        MoveUnlessSurvivorHas(&["key"]),
        Delete,
        Some("customer"),
    ),
    table("consents", Move, Delete, Some("consent_history")),
    table(
        "life_events",
        MoveUnlessSurvivorHas(&["kind", "label"]),
        Delete,
        Some("customer"),
    ),
    table("notes", Move, Delete, Some("notes")),
    table("orders", Move, Keep, Some("orders")),
    table("events", Move, Anonymise, Some("events")),
    table("feedback", Move, Anonymise, Some("feedback")),
    table(
        "survey_responses",
        Move,
        Anonymise,
        Some("survey_responses"),
    ),
    table("survey_contacts", Move, Anonymise, Some("survey_contacts")),
    table("conversations", Move, Anonymise, Some("conversations")),
    // Points are a financial record with no personal data: a merge moves the account (the
    // survivor then holds two), an erasure keeps it; its entries are exported.
    table("loyalty_accounts", Move, Keep, Some("loyalty_entries")),
    // Segment membership and its history are derived from the rules: a merge drops the
    // merged-away customer's rows (the survivor is re-evaluated), an erasure deletes them.
    table("segment_members", Rebuild, Delete, None),
    table("segment_changes", Rebuild, Delete, None),
    // What was sent to them: a merge moves it (one firing of a campaign stays one row), an
    // erasure deletes it, so campaign reports lose the erased person's rows.
    table(
        "deliveries",
        MoveUnlessSurvivorHas(&["campaign_id", "occurrence"]),
        Delete,
        Some("deliveries"),
    ),
];

/// The tables whose rows an erasure deletes.
pub fn erased_tables() -> impl Iterator<Item = &'static str> {
    CUSTOMER_TABLES
        .iter()
        .filter(|t| t.on_erase == Delete)
        .map(|t| t.name)
}

/// The statements that fold the merged-away customer's rows of `t` into the survivor's:
/// each binds the survivor as `$1` and the merged-away customer as `$2`, or with `false`
/// binds only the merged-away customer, as `$1`.
pub(crate) fn merge_statements(t: &CustomerTable) -> Vec<(String, bool)> {
    let name = t.name;
    let mv = format!("UPDATE {name} SET customer_id = $1 WHERE customer_id = $2");
    match t.on_merge {
        Move => vec![(mv, true)],
        MoveUnlessSurvivorHas(columns) => {
            let same = columns
                .iter()
                .map(|c| format!("s.{c} = {name}.{c}"))
                .collect::<Vec<_>>()
                .join(" AND ");
            vec![
                (
                    format!(
                        "DELETE FROM {name} WHERE customer_id = $2 AND EXISTS (SELECT 1
                         FROM {name} s WHERE s.customer_id = $1 AND {same})"
                    ),
                    true,
                ),
                (mv, true),
            ]
        }
        Rebuild => vec![(format!("DELETE FROM {name} WHERE customer_id = $1"), false)],
    }
}
