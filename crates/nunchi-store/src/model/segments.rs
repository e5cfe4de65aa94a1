//! Segments as stored: the definition (a rule as JSON, or a fixed list), its member count
//! as of the last evaluation, and the entries and exits that evaluation recorded.

use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct Segment {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// `live` (members follow the rule) or `static` (a fixed list).
    pub kind: String,
    /// The rule as JSON (`nunchi_core::segment::Rule`); empty for a static segment.
    pub rule: String,
    pub members: i64,
    pub evaluated_at: Option<i64>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A segment to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSegment {
    pub name: String,
    pub description: String,
    pub kind: String,
    pub rule: String,
    pub created_by: String,
}

/// One customer entering or leaving a segment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct SegmentChange {
    pub customer_id: i64,
    pub entered: bool,
    pub at: i64,
    pub reason: String,
}

/// Entries and exits on one UTC day (days since 1970-01-01).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct SegmentDay {
    pub day: i64,
    pub entered: i64,
    pub left: i64,
}
