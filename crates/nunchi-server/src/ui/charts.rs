//! Charts drawn as SVG on the server: no JavaScript, crisp at any size, and the same markup
//! can be downloaded. Colours follow the stylesheet's palette.

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
}
