//! A radar (spider) chart as inline SVG, drawn on the server: no script, no
//! chart library, readable on a phone and printable.

use std::fmt::Write;

const W: f64 = 340.0;
const H: f64 = 300.0;
const CX: f64 = 170.0;
const CY: f64 = 152.0;
const R: f64 = 100.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The point of axis `i` of `n` at `fraction` of the radius (axis 0 points up).
fn point(i: usize, n: usize, fraction: f64) -> (f64, f64) {
    let a = -std::f64::consts::FRAC_PI_2 + std::f64::consts::TAU * i as f64 / n as f64;
    (CX + R * fraction * a.cos(), CY + R * fraction * a.sin())
}

fn polygon(n: usize, f: impl Fn(usize) -> f64) -> String {
    (0..n)
        .map(|i| {
            let (x, y) = point(i, n, f(i));
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The chart of `items` (label, value 0–100). Values above 100 are drawn at 100.
pub fn radar_svg(items: &[(&str, u8)]) -> String {
    let n = items.len().max(3);
    let summary = items.iter().map(|(l, v)| format!("{l} {v} 分")).collect::<Vec<_>>().join("，");
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="radar" viewBox="0 0 {W} {H}" width="100%" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        esc(&summary)
    );
    let _ = write!(s, "<title>{}</title>", esc(&summary));
    for ring in [0.2, 0.4, 0.6, 0.8, 1.0] {
        let _ = write!(s, r##"<polygon points="{}" fill="none" stroke="#d5dbe3" stroke-width="1"/>"##, polygon(n, |_| ring));
    }
    for i in 0..n {
        let (x, y) = point(i, n, 1.0);
        let _ = write!(s, r##"<line x1="{CX}" y1="{CY}" x2="{x:.1}" y2="{y:.1}" stroke="#d5dbe3" stroke-width="1"/>"##);
    }
    let value = |i: usize| items.get(i).map_or(0.0, |(_, v)| f64::from((*v).min(100)) / 100.0);
    let _ = write!(
        s,
        r##"<polygon class="radar-value" points="{}" fill="rgba(26,95,180,0.25)" stroke="#1a5fb4" stroke-width="2"/>"##,
        polygon(n, value)
    );
    for (i, (label, v)) in items.iter().enumerate() {
        let (px, py) = point(i, n, value(i));
        let _ = write!(s, r##"<circle cx="{px:.1}" cy="{py:.1}" r="3" fill="#1a5fb4"/>"##);
        let (x, y) = point(i, n, 1.22);
        let anchor = if (x - CX).abs() < 1.0 {
            "middle"
        } else if x > CX {
            "start"
        } else {
            "end"
        };
        let _ = write!(
            s,
            r##"<text x="{x:.1}" y="{:.1}" text-anchor="{anchor}" font-size="13" fill="#1f2933">{} <tspan font-weight="bold">{v}</tspan></text>"##,
            y + 4.0,
            esc(label)
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_value_polygon_follows_the_scores() {
        let svg = radar_svg(&[("甲", 100), ("乙", 0), ("丙", 50), ("丁", 0), ("戊", 0)]);
        let start = svg.find(r#"class="radar-value" points=""#).unwrap() + r#"class="radar-value" points=""#.len();
        let pts = &svg[start..start + svg[start..].find('"').unwrap()];
        let pts: Vec<(f64, f64)> = pts
            .split(' ')
            .map(|p| {
                let (x, y) = p.split_once(',').unwrap();
                (x.parse().unwrap(), y.parse().unwrap())
            })
            .collect();
        // The first axis points up, at full radius; a zero sits at the centre.
        assert_eq!(pts[0], (CX, CY - R));
        assert_eq!(pts[1], (CX, CY));
        let d = ((pts[2].0 - CX).powi(2) + (pts[2].1 - CY).powi(2)).sqrt();
        assert!((d - R / 2.0).abs() < 0.2, "{d}");
        assert!(svg.contains("甲 100 分"));
    }

    #[test]
    fn labels_are_escaped() {
        let svg = radar_svg(&[("<script>", 10), ("b", 20), ("c", 30)]);
        assert!(!svg.contains("<script>") && svg.contains("&lt;script&gt;"));
    }
}
