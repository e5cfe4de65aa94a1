//! Charts drawn as SVG on the server: no JavaScript, crisp at any size, and the same markup
//! can be downloaded. Colours follow the stylesheet's palette. Pure functions from numbers
//! and labels to markup, with no IO: the pages draw with them, and a report or an e-mail
//! could.

use std::fmt::Write;

/// One bar: its label, its value, and the text shown above it.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub shown: String,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A vertical bar chart with an accessible title; empty data gives an empty-state message.
pub fn bar_chart(title: &str, bars: &[Bar], empty: &str) -> String {
    let (w, h, pad_top, pad_bottom) = (640.0, 240.0, 24.0, 36.0);
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg"><title>{}</title>"#,
        escape(title),
        escape(title)
    );
    if bars.is_empty() {
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="middle" class="muted">{}</text></svg>"#,
            w / 2.0,
            h / 2.0,
            escape(empty)
        );
        return svg;
    }
    let max = bars.iter().map(|b| b.value).fold(0.0, f64::max).max(1.0);
    let slot = w / bars.len() as f64;
    let bar_w = (slot * 0.7).min(60.0);
    let plot_h = h - pad_top - pad_bottom;
    let _ = write!(
        svg,
        r#"<line x1="0" y1="{0}" x2="{w}" y2="{0}" class="axis"/>"#,
        h - pad_bottom
    );
    for (i, b) in bars.iter().enumerate() {
        let bh = (b.value / max * plot_h).max(if b.value > 0.0 { 1.0 } else { 0.0 });
        let x = i as f64 * slot + (slot - bar_w) / 2.0;
        let y = h - pad_bottom - bh;
        let cx = x + bar_w / 2.0;
        let _ = write!(
            svg,
            r#"<rect x="{x:.1}" y="{y:.1}" width="{bar_w:.1}" height="{bh:.1}" rx="3" class="bar"><title>{}: {}</title></rect>"#,
            escape(&b.label),
            escape(&b.shown)
        );
        let _ = write!(
            svg,
            r#"<text x="{cx:.1}" y="{:.1}" text-anchor="middle" class="value">{}</text>"#,
            y - 6.0,
            escape(&b.shown)
        );
        let _ = write!(
            svg,
            r#"<text x="{cx:.1}" y="{:.1}" text-anchor="middle" class="label">{}</text>"#,
            h - pad_bottom + 18.0,
            escape(&b.label)
        );
    }
    svg.push_str("</svg>");
    svg
}

fn open_svg(svg: &mut String, w: f64, h: f64, title: &str) {
    let _ = write!(
        svg,
        r#"<svg class="chart" viewBox="0 0 {w} {h}" role="img" aria-label="{0}" xmlns="http://www.w3.org/2000/svg"><title>{0}</title>"#,
        escape(title)
    );
}

fn empty_svg(title: &str, empty: &str) -> String {
    let mut svg = String::new();
    open_svg(&mut svg, 640.0, 120.0, title);
    let _ = write!(
        svg,
        r#"<text x="320" y="60" text-anchor="middle" class="muted">{}</text></svg>"#,
        escape(empty)
    );
    svg
}

/// A funnel: one horizontal bar per step, widths relative to the first step.
pub fn funnel_chart(title: &str, steps: &[Bar], empty: &str) -> String {
    let first = steps.first().map_or(0.0, |b| b.value);
    if first <= 0.0 {
        return empty_svg(title, empty);
    }
    let (w, row, label_w) = (640.0, 34.0, 170.0);
    let h = row * steps.len() as f64 + 8.0;
    let mut svg = String::new();
    open_svg(&mut svg, w, h, title);
    let plot = w - label_w - 110.0;
    for (i, b) in steps.iter().enumerate() {
        let y = 4.0 + i as f64 * row;
        let bw = (b.value / first * plot).max(if b.value > 0.0 { 1.0 } else { 0.0 });
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end" class="label">{}</text><rect x="{label_w}" y="{y:.1}" width="{bw:.1}" height="{:.1}" rx="3" class="bar"><title>{}: {}</title></rect><text x="{:.1}" y="{:.1}" class="value">{}</text>"#,
            label_w - 8.0,
            y + row * 0.6,
            escape(&b.label),
            row - 8.0,
            escape(&b.label),
            escape(&b.shown),
            label_w + bw + 6.0,
            y + row * 0.6,
            escape(&b.shown)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// One line of a curve chart: its name, a value (0..1) per column or none, a CSS class.
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
    pub class: &'static str,
}

/// Lines across labelled columns on a 0–100% scale, as a journey map's curve, with each
/// column's name along the bottom; columns flagged in `marks` get a warning marker.
pub fn curve_chart(title: &str, columns: &[String], series: &[Series], marks: &[bool]) -> String {
    // The plot, then a band below it for the columns' names.
    let (w, plot_h, pad, axis) = (960.0, 200.0, 28.0, 26.0);
    let h = plot_h + axis;
    let mut svg = String::new();
    open_svg(&mut svg, w, h, title);
    let n = columns.len().max(1) as f64;
    let x = |i: usize| (i as f64 + 0.5) * w / n;
    let y = |v: f64| pad + (1.0 - v.clamp(0.0, 1.0)) * (plot_h - 2.0 * pad);
    // A name wider than its column is cut, and kept whole in its tooltip. Widths in
    // half-ems: a Latin letter takes one, a Hangul syllable two.
    let room = ((w / n) / 6.5).max(4.0) as usize;
    let width = |c: char| if c.is_ascii() { 1 } else { 2 };
    for (i, name) in columns.iter().enumerate() {
        let shown: String = if name.chars().map(width).sum::<usize>() > room {
            let mut used = 1; // the ellipsis
            let mut cut: String = name
                .chars()
                .take_while(|c| {
                    used += width(*c);
                    used <= room
                })
                .collect();
            cut.push('…');
            cut
        } else {
            name.clone()
        };
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" class="label axis-x"><title>{}</title>{}</text>"#,
            x(i),
            plot_h + axis - 8.0,
            escape(name),
            escape(&shown)
        );
    }
    for frac in [0.0, 0.5, 1.0] {
        let _ = write!(
            svg,
            r#"<line x1="0" x2="{w}" y1="{0:.1}" y2="{0:.1}" class="grid"/><text x="4" y="{1:.1}" class="label">{2}%</text>"#,
            y(frac),
            y(frac) - 3.0,
            (frac * 100.0) as u32
        );
    }
    for (i, flagged) in marks.iter().enumerate() {
        if *flagged {
            let _ = write!(
                svg,
                r#"<rect x="{:.1}" y="0" width="{:.1}" height="{plot_h}" class="pain-zone"/>"#,
                x(i) - w / n / 2.0,
                w / n
            );
        }
    }
    for s in series {
        let mut d = String::new();
        for (i, v) in s.values.iter().enumerate() {
            if let Some(v) = v {
                let _ = write!(
                    d,
                    "{}{:.1},{:.1} ",
                    if d.is_empty() { "M" } else { "L" },
                    x(i),
                    y(*v)
                );
            }
        }
        if !d.is_empty() {
            let _ = write!(
                svg,
                r#"<path d="{}" class="line {}" fill="none"><title>{}</title></path>"#,
                d.trim_end(),
                s.class,
                escape(&s.name)
            );
        }
        for (i, v) in s.values.iter().enumerate() {
            if let Some(v) = v {
                let _ = write!(
                    svg,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="4" class="dot {}"><title>{} · {}: {:.1}%</title></circle>"#,
                    x(i),
                    y(*v),
                    s.class,
                    escape(&s.name),
                    escape(columns.get(i).map_or("", String::as_str)),
                    v * 100.0
                );
            }
        }
    }
    for (i, flagged) in marks.iter().enumerate() {
        if *flagged {
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="18" text-anchor="middle" class="pain-mark">⚠</text>"#,
                x(i)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// A flow between named nodes in columns: (column, from, to, count) links, the columns
/// being positions along customers' paths.
pub fn sankey(title: &str, links: &[(u8, String, String, u64)], empty: &str) -> String {
    use std::collections::BTreeMap;
    if links.is_empty() {
        return empty_svg(title, empty);
    }
    let columns = links.iter().map(|l| l.0 as usize + 2).max().unwrap_or(2);
    // Node size: the larger of its inflow and outflow.
    let mut size: BTreeMap<(usize, &str), (u64, u64)> = BTreeMap::new();
    for (step, from, to, n) in links {
        size.entry((*step as usize, from)).or_default().1 += n;
        size.entry((*step as usize + 1, to)).or_default().0 += n;
    }
    let (w, h, node_w, gap) = (960.0, 420.0, 12.0, 10.0);
    let value = |k: &(usize, &str)| size.get(k).map_or(0, |(i, o)| *i.max(o)) as f64;
    let mut col_total = vec![0.0f64; columns];
    let mut col_count = vec![0usize; columns];
    for k in size.keys() {
        col_total[k.0] += value(k);
        col_count[k.0] += 1;
    }
    let scale = (0..columns)
        .filter(|&c| col_total[c] > 0.0)
        .map(|c| (h - 20.0 - gap * col_count[c].saturating_sub(1) as f64) / col_total[c])
        .fold(f64::INFINITY, f64::min);
    let x = |c: usize| 8.0 + c as f64 * (w - 160.0 - node_w) / (columns - 1).max(1) as f64;
    // Place nodes top-down, largest first, within each column.
    let mut place: BTreeMap<(usize, &str), f64> = BTreeMap::new();
    for c in 0..columns {
        let mut nodes: Vec<(usize, &str)> = size.keys().filter(|k| k.0 == c).copied().collect();
        nodes.sort_by(|a, b| value(b).total_cmp(&value(a)).then(a.1.cmp(b.1)));
        let mut y = 10.0;
        for k in nodes {
            place.insert(k, y);
            y += value(&k) * scale + gap;
        }
    }
    let mut svg = String::new();
    open_svg(&mut svg, w, h, title);
    let mut out_used: BTreeMap<(usize, &str), f64> = BTreeMap::new();
    let mut in_used: BTreeMap<(usize, &str), f64> = BTreeMap::new();
    let mut sorted: Vec<&(u8, String, String, u64)> = links.iter().collect();
    sorted.sort_by_key(|x| std::cmp::Reverse(x.3));
    for (step, from, to, n) in sorted {
        let (a, b) = (
            (*step as usize, from.as_str()),
            (*step as usize + 1, to.as_str()),
        );
        let thick = *n as f64 * scale;
        let y0 = place[&a] + *out_used.entry(a).or_default() + thick / 2.0;
        let y1 = place[&b] + *in_used.entry(b).or_default() + thick / 2.0;
        *out_used.get_mut(&a).expect("entered above") += thick;
        *in_used.get_mut(&b).expect("entered above") += thick;
        let (x0, x1) = (x(a.0) + node_w, x(b.0));
        let mid = (x0 + x1) / 2.0;
        let _ = write!(
            svg,
            r#"<path d="M{x0:.1},{y0:.1} C{mid:.1},{y0:.1} {mid:.1},{y1:.1} {x1:.1},{y1:.1}" class="flow" stroke-width="{:.1}" fill="none"><title>{} → {}: {n}</title></path>"#,
            thick.max(1.0),
            escape(from),
            escape(to)
        );
    }
    for (k, y) in &place {
        let hgt = (value(k) * scale).max(1.0);
        let _ = write!(
            svg,
            r#"<rect x="{:.1}" y="{y:.1}" width="{node_w}" height="{hgt:.1}" class="node"><title>{}: {}</title></rect><text x="{:.1}" y="{:.1}" class="label">{}</text>"#,
            x(k.0),
            escape(k.1),
            value(k),
            x(k.0) + node_w + 4.0,
            y + hgt / 2.0 + 4.0,
            escape(k.1)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A retention heatmap: one row per cohort, one cell per period, shaded by the rate.
/// Labels a heatmap needs besides its rows.
pub struct HeatmapLabels<'a> {
    pub title: &'a str,
    pub empty: &'a str,
    /// Above the row labels and the sizes.
    pub row_head: &'a str,
    pub size_head: &'a str,
    /// The columns' unit, after their numbers ("weeks later").
    pub unit: &'a str,
    /// The hover text of a cell with no value yet.
    pub not_yet: &'a str,
}

/// Rows of (label, size, share per column); a `None` share is a period that has not
/// happened yet, drawn as an empty cell rather than 0%.
pub fn heatmap(l: &HeatmapLabels<'_>, rows: &[(String, u64, Vec<Option<f64>>)]) -> String {
    if rows.is_empty() {
        return empty_svg(l.title, l.empty);
    }
    let cols = rows.iter().map(|r| r.2.len()).max().unwrap_or(0);
    let (label_w, size_w, cell_w, cell_h) = (100.0, 70.0, 52.0, 26.0);
    let w = label_w + size_w + cell_w * cols as f64 + 4.0;
    let h = cell_h * (rows.len() + 2) as f64 + 4.0;
    let mut svg = String::new();
    open_svg(&mut svg, w, h, l.title);
    let _ = write!(
        svg,
        r#"<text x="{:.1}" y="14" text-anchor="middle" class="label">{}</text><text x="4" y="{:.1}" class="label">{}</text><text x="{:.1}" y="{:.1}" text-anchor="end" class="label">{}</text>"#,
        label_w + size_w + cell_w * cols as f64 / 2.0,
        escape(l.unit),
        cell_h + 18.0,
        escape(l.row_head),
        label_w + size_w - 8.0,
        cell_h + 18.0,
        escape(l.size_head),
    );
    for k in 0..cols {
        let _ = write!(
            svg,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" class="label">+{k}</text>"#,
            label_w + size_w + cell_w * (k as f64 + 0.5),
            cell_h + 18.0
        );
    }
    for (r, (label, size, rates)) in rows.iter().enumerate() {
        let y = cell_h * (r + 2) as f64;
        let _ = write!(
            svg,
            r#"<text x="4" y="{:.1}" class="label">{}</text><text x="{:.1}" y="{:.1}" text-anchor="end" class="label">{size}</text>"#,
            y + 17.0,
            escape(label),
            label_w + size_w - 8.0,
            y + 17.0
        );
        for (k, rate) in rates.iter().enumerate() {
            let x = label_w + size_w + cell_w * k as f64;
            let Some(rate) = rate else {
                let _ = write!(
                    svg,
                    r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" class="cell-empty"><title>{} +{k}: {}</title></rect>"#,
                    cell_w - 2.0,
                    cell_h - 2.0,
                    escape(label),
                    escape(l.not_yet),
                );
                continue;
            };
            let _ = write!(
                svg,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" class="cell" fill-opacity="{:.3}"><title>{} +{k}: {:.1}%</title></rect><text x="{:.1}" y="{:.1}" text-anchor="middle" class="{}">{:.0}%</text>"#,
                cell_w - 2.0,
                cell_h - 2.0,
                0.08 + 0.92 * rate.clamp(0.0, 1.0),
                escape(label),
                rate * 100.0,
                x + cell_w / 2.0,
                y + 17.0,
                if *rate > 0.5 {
                    "value inverse"
                } else {
                    "value"
                },
                rate * 100.0
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_and_escape_labels() {
        let svg = bar_chart(
            "t",
            &[
                Bar {
                    label: "<a>".into(),
                    value: 10.0,
                    shown: "10".into(),
                },
                Bar {
                    label: "b".into(),
                    value: 5.0,
                    shown: "5".into(),
                },
            ],
            "none",
        );
        assert!(svg.contains("&lt;a&gt;") && !svg.contains("<a>"));
        assert!(
            svg.contains(r#"height="180.0""#),
            "the largest bar fills the plot: {svg}"
        );
        assert!(svg.contains(r#"height="90.0""#));
        assert!(bar_chart("t", &[], "nothing yet").contains("nothing yet"));
    }

    #[test]
    fn sankey_links_are_as_thick_as_their_counts() {
        let links = vec![
            (0, "visit".to_string(), "view".to_string(), 300),
            (0, "visit".to_string(), "search".to_string(), 100),
            (1, "view".to_string(), "<cart>".to_string(), 150),
        ];
        let svg = sankey("paths", &links, "none");
        let widths: Vec<f64> = svg
            .split("stroke-width=\"")
            .skip(1)
            .map(|p| p.split('"').next().unwrap().parse().unwrap())
            .collect();
        assert_eq!(widths.len(), 3);
        // Drawn heaviest first: 300, 150, 100.
        assert!((widths[0] / widths[1] - 2.0).abs() < 0.05, "{widths:?}");
        assert!((widths[0] / widths[2] - 3.0).abs() < 0.05, "{widths:?}");
        assert!(svg.contains("&lt;cart&gt;"));
        assert!(sankey("paths", &[], "none yet").contains("none yet"));
    }

    #[test]
    fn trends_break_at_empty_periods_and_show_sparse_ones_hollow() {
        let point = |value: Option<f64>, responses: u64| TrendPoint {
            label: "w".into(),
            value,
            margin: value.map(|_| 20.0),
            responses,
        };
        let svg = trend_chart(
            "nps",
            &[
                point(Some(30.0), 40),
                point(Some(35.0), 50),
                point(None, 0),
                point(Some(-100.0), 3),
                point(Some(20.0), 30),
            ],
            (-100.0, 100.0),
            "none",
            "few answers",
        );
        // Two line runs (never across the empty week), one band per run of reliable weeks.
        assert_eq!(svg.matches(r#"class="line current""#).count(), 2, "{svg}");
        assert_eq!(svg.matches(r#"class="band""#).count(), 2, "{svg}");
        assert_eq!(svg.matches("dot sparse").count(), 1);
        assert!(svg.contains("(n = 3, few answers)"));
        assert!(
            trend_chart("nps", &[point(None, 0)], (-100.0, 100.0), "none", "").contains("none")
        );
    }

    #[test]
    fn heatmap_shades_by_rate_and_curve_marks_pains() {
        let labels = HeatmapLabels {
            title: "r",
            empty: "none",
            row_head: "cohort",
            size_head: "customers",
            unit: "weeks later",
            not_yet: "not yet",
        };
        let svg = heatmap(
            &labels,
            &[("2026-08-03".into(), 120, vec![Some(1.0), Some(0.25), None])],
        );
        assert!(
            svg.contains(r#"fill-opacity="1.000""#) && svg.contains(r#"fill-opacity="0.310""#),
            "{svg}"
        );
        assert!(svg.contains("25%"));
        // A period that has not happened is an empty cell, never "0%".
        assert_eq!(svg.matches("cell-empty").count(), 1);
        assert!(!svg.contains(">0%<"), "{svg}");
        assert!(svg.contains("weeks later") && svg.contains(">customers<"));
        let curve = curve_chart(
            "c",
            &["a".into(), "b".into()],
            &[Series {
                name: "now".into(),
                values: vec![Some(0.5), None],
                class: "current",
            }],
            &[false, true],
        );
        assert_eq!(curve.matches("pain-mark").count(), 1);
        assert_eq!(curve.matches("<circle").count(), 1);
        // The journey map names its stages along the x axis (a long name is cut and kept
        // whole in its tooltip).
        let long = "구매 후 배송 조회와 리뷰 작성 단계".to_string();
        let mut stages = vec!["인지".to_string(), "구매".to_string(), long.clone()];
        stages.extend((0..5).map(|i| format!("단계 {i}")));
        let named = curve_chart("c", &stages, &[], &[false; 8]);
        assert_eq!(named.matches("axis-x").count(), 8, "{named}");
        assert!(named.contains(">인지</text>") && named.contains(">구매</text>"));
        assert!(named.contains(&format!("<title>{long}</title>")) && named.contains('…'));
        let f = funnel_chart(
            "f",
            &[Bar {
                label: "visit".into(),
                value: 10.0,
                shown: "10".into(),
            }],
            "none",
        );
        assert!(f.contains("visit"));
        assert!(funnel_chart("f", &[], "empty!").contains("empty!"));
    }
}

/// One period of a score trend: its label, and the score with its margin of error;
/// `value` is `None` for a period without answers.
#[derive(Debug, Clone)]
pub struct TrendPoint {
    pub label: String,
    pub value: Option<f64>,
    pub margin: Option<f64>,
    pub responses: u64,
}

/// Below this many answers a period's score is shown as a hollow dot without a band: its
/// margin would fill the chart and read as a swing.
pub const SPARSE_RESPONSES: u64 = 10;

/// A score over time on its own scale (`lo..hi`, e.g. −100..100 for NPS): a line with a
/// shaded band for the 95% margin of error. Periods without answers break the line (it
/// never joins across them), and sparse periods are hollow dots outside the band.
/// `sparse` is the words after "n = 3" in a sparse dot's hover text.
pub fn trend_chart(
    title: &str,
    points: &[TrendPoint],
    (lo, hi): (f64, f64),
    empty: &str,
    sparse: &str,
) -> String {
    if points.iter().all(|p| p.value.is_none()) {
        return empty_svg(title, empty);
    }
    let (w, h, pad, left) = (960.0, 220.0, 26.0, 44.0);
    let mut svg = String::new();
    open_svg(&mut svg, w, h, title);
    let n = points.len() as f64;
    let x = |i: usize| left + (i as f64 + 0.5) * (w - left) / n;
    let y = |v: f64| pad + (1.0 - ((v - lo) / (hi - lo)).clamp(0.0, 1.0)) * (h - 2.0 * pad);
    for v in [lo, (lo + hi) / 2.0, hi] {
        let _ = write!(
            svg,
            r#"<line x1="{left}" x2="{w}" y1="{0:.1}" y2="{0:.1}" class="grid"/><text x="4" y="{1:.1}" class="label">{2}</text>"#,
            y(v),
            y(v) + 4.0,
            v.round()
        );
    }
    // Runs of consecutive periods: with answers (the line), and with enough answers and a
    // margin (the band).
    let runs = |keep: &dyn Fn(&TrendPoint) -> bool| {
        let mut out: Vec<Vec<usize>> = Vec::new();
        let mut run: Vec<usize> = Vec::new();
        for (i, p) in points.iter().enumerate() {
            if keep(p) {
                run.push(i);
            } else if !run.is_empty() {
                out.push(std::mem::take(&mut run));
            }
        }
        if !run.is_empty() {
            out.push(run);
        }
        out
    };
    let solid =
        |p: &TrendPoint| p.value.is_some() && p.margin.is_some() && p.responses >= SPARSE_RESPONSES;
    for run in runs(&solid) {
        let value = |i: usize| points[i].value.unwrap_or_default();
        let margin = |i: usize| points[i].margin.unwrap_or_default();
        let upper: Vec<String> = run
            .iter()
            .map(|&i| format!("{:.1},{:.1}", x(i), y(value(i) + margin(i))))
            .collect();
        let lower: Vec<String> = run
            .iter()
            .rev()
            .map(|&i| format!("{:.1},{:.1}", x(i), y(value(i) - margin(i))))
            .collect();
        let _ = write!(
            svg,
            r#"<path d="M{} L{} Z" class="band"/>"#,
            upper.join(" L"),
            lower.join(" L")
        );
    }
    for run in runs(&|p: &TrendPoint| p.value.is_some()) {
        let d: Vec<String> = run
            .iter()
            .map(|&i| format!("{:.1},{:.1}", x(i), y(points[i].value.unwrap_or_default())))
            .collect();
        let _ = write!(
            svg,
            r#"<path d="M{}" class="line current" fill="none"/>"#,
            d.join(" L")
        );
    }
    let every = (points.len() / 12).max(1);
    for (i, p) in points.iter().enumerate() {
        if let Some(value) = p.value {
            let few = p.responses < SPARSE_RESPONSES;
            let margin = match p.margin {
                Some(m) if !few => format!(" ± {m:.1}"),
                _ => String::new(),
            };
            let _ = write!(
                svg,
                r#"<circle cx="{:.1}" cy="{:.1}" r="4" class="dot {}"><title>{}: {:.1}{} (n = {}{})</title></circle>"#,
                x(i),
                y(value),
                if few { "sparse" } else { "current" },
                escape(&p.label),
                value,
                margin,
                p.responses,
                if few {
                    format!(", {}", escape(sparse))
                } else {
                    String::new()
                }
            );
        }
        if i % every == 0 {
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="middle" class="label">{}</text>"#,
                x(i),
                h - 6.0,
                escape(&p.label)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}
