//! Breakdowns by saved segment or by persona: reports split into one row per group of
//! customers, where — unlike a channel or an attribute — a customer may be in several
//! groups and counts in each. A persona's group is its segment's members.

use std::collections::HashSet;

use nunchi_store::model::MetricRating;

use crate::scores::{ScorePoint, ScoreSpec, ScoresReport, report};
use crate::{App, Result};

/// Groups shown at most, largest first.
pub const MAX_GROUPS: usize = 20;

/// What a report is split by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    Segment,
    Persona,
}

impl GroupKind {
    /// `segment` or `persona`; anything else is none of these.
    pub fn parse(s: &str) -> Option<GroupKind> {
        match s {
            "segment" => Some(GroupKind::Segment),
            "persona" => Some(GroupKind::Persona),
            _ => None,
        }
    }
}

/// One group: its name and its customers.
#[derive(Debug, Clone)]
pub struct Group {
    pub name: String,
    pub members: HashSet<i64>,
}

/// The groups of `kind` with their members now, largest first, at most [`MAX_GROUPS`]. A
/// persona is named in both languages ("지현 · Jihyun") and left out without a segment.
pub async fn groups(app: &App, kind: GroupKind) -> Result<Vec<Group>> {
    let mut out = Vec::new();
    match kind {
        GroupKind::Segment => {
            for s in app.store.segments().await? {
                let members = app.store.segment_member_ids(s.id).await?;
                out.push(Group {
                    name: s.name,
                    members: members.into_iter().collect(),
                });
            }
        }
        GroupKind::Persona => {
            for p in app.store.personas().await? {
                let Some(segment) = p.segment_id else {
                    continue;
                };
                let name = match (p.name_ko.is_empty(), p.name_en.is_empty()) {
                    (false, false) => format!("{} · {}", p.name_ko, p.name_en),
                    (false, true) => p.name_ko.clone(),
                    _ => p.name_en.clone(),
                };
                let members = app.store.segment_member_ids(segment).await?;
                out.push(Group {
                    name,
                    members: members.into_iter().collect(),
                });
            }
        }
    }
    out.sort_by(|a, b| {
        b.members
            .len()
            .cmp(&a.members.len())
            .then(a.name.cmp(&b.name))
    });
    out.truncate(MAX_GROUPS);
    Ok(out)
}

/// Scores over `ratings` for everyone and per group: each group's overall score and its
/// series, labelled with the group's name.
pub fn scores_by(ratings: &[MetricRating], spec: &ScoreSpec, groups: &[Group]) -> ScoresReport {
    let mut all = report(ratings, spec);
    all.groups.clear();
    all.series.clear();
    for g in groups {
        let mine: Vec<MetricRating> = ratings
            .iter()
            .filter(|r| r.customer_id.is_some_and(|c| g.members.contains(&c)))
            .cloned()
            .collect();
        let part = report(&mine, spec);
        let label = |p: ScorePoint| ScorePoint {
            group: Some(g.name.clone()),
            ..p
        };
        all.groups.extend(part.groups.into_iter().map(label));
        all.series.extend(part.series.into_iter().map(label));
    }
    all
}
