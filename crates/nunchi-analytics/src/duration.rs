//! Distributions of durations (time to convert, time in stage) in constant memory:
//! exact counts in human-sized bands for charts, and a log-linear histogram with under
//! 3% error for medians and percentiles.

use serde::Serialize;

/// Band edges in seconds for the time-to-convert chart: 1 min, 10 min, 1 h, 6 h, 1 d, 3 d, 7 d.
pub const BAND_EDGES: [u64; 7] = [60, 600, 3_600, 21_600, 86_400, 259_200, 604_800];

/// Band labels in the same order, plus the open band after the last edge.
pub const BAND_LABELS: [&str; 8] = [
    "< 1m", "1–10m", "10m–1h", "1–6h", "6–24h", "1–3d", "3–7d", "≥ 7d",
];

const LINEAR: u64 = 64;
const SUB_BITS: u32 = 5;
const BUCKETS: usize = LINEAR as usize + (64 - 6) * (1 << SUB_BITS);

#[derive(Debug, Clone)]
pub struct Durations {
    buckets: Vec<u64>,
    bands: [u64; 8],
    count: u64,
}

impl Default for Durations {
    fn default() -> Self {
        Durations {
            buckets: vec![0; BUCKETS],
            bands: [0; 8],
            count: 0,
        }
    }
}

fn bucket(v: u64) -> usize {
    if v < LINEAR {
        return v as usize;
    }
    let exp = 63 - v.leading_zeros();
    let sub = (v >> (exp - SUB_BITS)) & ((1 << SUB_BITS) - 1);
    LINEAR as usize + (exp as usize - 6) * (1 << SUB_BITS) + sub as usize
}

/// The smallest value that lands in bucket `b`.
fn bucket_floor(b: usize) -> u64 {
    if b < LINEAR as usize {
        return b as u64;
    }
    let rest = b - LINEAR as usize;
    let exp = (rest >> SUB_BITS) as u32 + 6;
    let sub = (rest & ((1 << SUB_BITS) - 1)) as u64;
    (1u64 << exp) | (sub << (exp - SUB_BITS))
}

impl Durations {
    #[inline]
    pub fn add(&mut self, secs: u64) {
        self.buckets[bucket(secs)] += 1;
        self.bands[BAND_EDGES.partition_point(|&e| e <= secs)] += 1;
        self.count += 1;
    }

    pub fn merge(&mut self, other: &Durations) {
        for (a, b) in self.buckets.iter_mut().zip(&other.buckets) {
            *a += b;
        }
        for (a, b) in self.bands.iter_mut().zip(&other.bands) {
            *a += b;
        }
        self.count += other.count;
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// Exact counts per band of [`BAND_LABELS`].
    pub fn bands(&self) -> [u64; 8] {
        self.bands
    }

    /// The `q`-quantile (0..=1), as the lower edge of its bucket; `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        if self.count == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * (self.count - 1) as f64).round() as u64).min(self.count);
        let mut seen = 0;
        for (b, &n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen > rank {
                return Some(bucket_floor(b));
            }
        }
        None
    }

    pub fn median(&self) -> Option<u64> {
        self.quantile(0.5)
    }

    pub fn summary(&self) -> DurationSummary {
        DurationSummary {
            count: self.count,
            median_secs: self.median(),
            p90_secs: self.quantile(0.9),
            bands: BAND_LABELS
                .iter()
                .zip(self.bands)
                .map(|(label, count)| (label.to_string(), count))
                .collect(),
        }
    }
}

/// What a report shows of a distribution.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DurationSummary {
    pub count: u64,
    pub median_secs: Option<u64>,
    pub p90_secs: Option<u64>,
    pub bands: Vec<(String, u64)>,
}

/// "3d 4h", "12m 5s", "45s": durations as people read them.
pub fn human(secs: u64) -> String {
    human_in(secs, ["d", "h", "m", "s"])
}

/// [`human`] with the units (day, hour, minute, second) of another language: "3일 4시간".
pub fn human_in(secs: u64, [ud, uh, um, us]: [&str; 4]) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3_600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}{ud} {h}{uh}")
    } else if h > 0 {
        format!("{h}{uh} {m}{um}")
    } else if m > 0 {
        format!("{m}{um} {s}{us}")
    } else {
        format!("{s}{us}")
    }
}

/// Parses a span such as `90s`, `30m`, `2h`, `7d` or `2w` into seconds.
pub fn parse_span(s: &str) -> Result<u64, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a span; use e.g. 90s, 30m, 2h, 7d or 2w"))?;
    let unit_secs = match unit {
        "s" | "" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 604_800,
        _ => {
            return Err(format!(
                "{s:?} has an unknown unit {unit:?}; use s, m, h, d or w"
            ));
        }
    };
    n.checked_mul(unit_secs)
        .ok_or_else(|| format!("{s:?} is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_parse_with_units() {
        assert_eq!(parse_span("90s"), Ok(90));
        assert_eq!(parse_span("2h"), Ok(7_200));
        assert_eq!(parse_span("7d"), Ok(604_800));
        assert_eq!(parse_span("45"), Ok(45));
        assert!(parse_span("7y").is_err());
        assert!(parse_span("d").is_err());
    }

    #[test]
    fn buckets_are_monotone_and_floors_invert_them() {
        let mut last = 0;
        for v in (0..5_000_000u64).step_by(997) {
            let b = bucket(v);
            assert!(b >= last);
            last = b;
            let floor = bucket_floor(b);
            assert!(floor <= v && v - floor <= v / 32 + 1, "{v} -> {floor}");
        }
    }

    #[test]
    fn median_and_bands_of_a_known_sample() {
        let mut d = Durations::default();
        for secs in [30, 90, 4_000, 100_000, 700_000] {
            d.add(secs);
        }
        let m = d.median().unwrap();
        assert!((3_900..=4_000).contains(&m), "{m}");
        assert_eq!(d.bands(), [1, 1, 0, 1, 0, 1, 0, 1]);
        assert_eq!(Durations::default().median(), None);
        assert_eq!(human(90_061), "1d 1h");
        assert_eq!(human(61), "1m 1s");
    }
}
