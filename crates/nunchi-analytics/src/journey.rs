//! Journey-map stage metrics: touchpoints grouped into ordered stages; per stage the reach,
//! conversion to the next stage, drop-off, time in stage, and which stages are pain points.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::duration::Durations;
use crate::log::{self, EventLog, Scope};

/// Which stage each touchpoint code belongs to (`None`: not on the map).
#[derive(Debug, Clone, Default)]
pub struct StageMap {
    pub stage_of: Vec<Option<u8>>,
    pub stages: usize,
}

impl StageMap {
    pub fn new(stages: usize) -> StageMap {
        StageMap {
            stage_of: Vec::new(),
            stages,
        }
    }

    pub fn assign(&mut self, touchpoint: u16, stage: u8) {
        let t = touchpoint as usize;
        if t >= self.stage_of.len() {
            self.stage_of.resize(t + 1, None);
        }
        self.stage_of[t] = Some(stage);
    }

    #[inline]
    fn stage(&self, touchpoint: u16) -> Option<usize> {
        self.stage_of
            .get(touchpoint as usize)
            .copied()
            .flatten()
            .map(usize::from)
            .filter(|&s| s < self.stages)
    }
}

#[derive(Debug, Clone, Default)]
pub struct StageReport {
    /// Customers with at least one event at a touchpoint of this stage.
    pub reach: u64,
    /// Of those, customers who reached the next stage at or after entering this one.
    pub converted: u64,
    /// Time from entering this stage to entering the next, for those who converted.
    pub time_to_next: Durations,
    /// Customers reached per touchpoint code of this stage.
    pub touchpoints: BTreeMap<u16, u64>,
}

impl StageReport {
    pub fn conversion(&self) -> Option<f64> {
        (self.reach > 0).then(|| self.converted as f64 / self.reach as f64)
    }
}

pub fn journey(log: &EventLog, scope: Scope<'_>, map: &StageMap) -> Vec<StageReport> {
    let stages = map.stages;
    log.scan(
        scope,
        || {
            (
                vec![StageReport::default(); stages],
                vec![u32::MAX; stages],
                Vec::<u16>::new(),
            )
        },
        |(reports, entered, touched), _, run| {
            entered.fill(u32::MAX);
            touched.clear();
            for &e in scope.slice(run) {
                let tp = log::touchpoint(e);
                let Some(stage) = map.stage(tp) else {
                    continue;
                };
                if entered[stage] == u32::MAX {
                    entered[stage] = log::ts(e);
                }
                if !touched.contains(&tp) {
                    touched.push(tp);
                }
            }
            for &tp in touched.iter() {
                let stage = map.stage(tp).expect("touched touchpoints are on the map");
                *reports[stage].touchpoints.entry(tp).or_default() += 1;
            }
            for s in 0..stages {
                if entered[s] == u32::MAX {
                    continue;
                }
                reports[s].reach += 1;
                if s + 1 < stages && entered[s + 1] != u32::MAX && entered[s + 1] >= entered[s] {
                    reports[s].converted += 1;
                    reports[s]
                        .time_to_next
                        .add((entered[s + 1] - entered[s]) as u64);
                }
            }
        },
        |(mut a, e, t), (b, _, _)| {
            for (x, y) in a.iter_mut().zip(b) {
                x.reach += y.reach;
                x.converted += y.converted;
                x.time_to_next.merge(&y.time_to_next);
                for (tp, n) in y.touchpoints {
                    *x.touchpoints.entry(tp).or_default() += n;
                }
            }
            (a, e, t)
        },
    )
    .0
}

/// Why a stage is flagged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Pain {
    /// The lowest conversion to the next stage on the map.
    WorstDropOff,
    /// Conversion fell against the previous period of the same length: by at least 5
    /// points and a tenth of what it was.
    Worsening,
    /// Customers feel bad here: emotion below −0.2 on the −1..1 scale.
    NegativeEmotion,
}

/// Flags pain points from each stage's conversion (`None` for the last stage or no
/// reach), the same stage's conversion in the previous period, and, when the Voice of the
/// Customer has scores, its emotion in −1..1.
pub fn pain_points(
    conversion: &[Option<f64>],
    previous: &[Option<f64>],
    emotion: &[Option<f64>],
) -> Vec<Vec<Pain>> {
    let rates: Vec<f64> = conversion.iter().flatten().copied().collect();
    let worst = rates.iter().copied().reduce(f64::min);
    conversion
        .iter()
        .enumerate()
        .map(|(i, rate)| {
            let mut pains = Vec::new();
            if let Some(rate) = *rate {
                if rates.len() > 1 && Some(rate) == worst {
                    pains.push(Pain::WorstDropOff);
                }
                if let Some(before) = previous.get(i).copied().flatten()
                    && before - rate >= 0.05
                    && before - rate >= 0.1 * before
                {
                    pains.push(Pain::Worsening);
                }
            }
            if emotion.get(i).copied().flatten().is_some_and(|e| e < -0.2) {
                pains.push(Pain::NegativeEmotion);
            }
            pains
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use nunchi_core::channel::Channel;

    use super::*;
    use crate::log::Event;

    #[test]
    fn stages_reach_convert_and_flag_the_worst() {
        let mut log = EventLog::new();
        let name = log.intern("e").unwrap();
        let ev = |ts, touchpoint| Event {
            ts,
            name,
            touchpoint,
            channel: Channel::Web,
        };
        // Touchpoints 1,2 → stage 0; 3 → stage 1; 4 → stage 2.
        let mut map = StageMap::new(3);
        for (tp, stage) in [(1, 0), (2, 0), (3, 1), (4, 2)] {
            map.assign(tp, stage);
        }
        log.push(0, ev(0, 1));
        log.push(0, ev(60, 3));
        log.push(0, ev(120, 4));
        log.push(1, ev(0, 2));
        log.push(1, ev(100, 3));
        log.push(2, ev(0, 1));
        log.push(2, ev(5, 9));
        log.push(3, ev(50, 3));
        log.push(3, ev(10, 1));
        let stages = journey(&log, Scope::all(), &map);
        assert_eq!(
            stages.iter().map(|s| s.reach).collect::<Vec<_>>(),
            vec![4, 3, 1]
        );
        assert_eq!(
            stages.iter().map(|s| s.converted).collect::<Vec<_>>(),
            vec![3, 1, 0]
        );
        assert_eq!(stages[0].touchpoints[&1], 3);
        assert_eq!(stages[0].time_to_next.count(), 3);
        let conversion: Vec<Option<f64>> =
            vec![stages[0].conversion(), stages[1].conversion(), None];
        let previous = [Some(0.76), Some(0.3), None];
        let pains = pain_points(&conversion, &previous, &[None, None, Some(-0.5)]);
        let worse = pain_points(&[Some(0.6), Some(0.5)], &[Some(0.9), Some(0.52)], &[]);
        assert_eq!(worse, vec![vec![Pain::Worsening], vec![Pain::WorstDropOff]]);
        assert_eq!(
            pains,
            vec![
                vec![],
                vec![Pain::WorstDropOff],
                vec![Pain::NegativeEmotion]
            ]
        );
    }
}
