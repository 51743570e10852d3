//! The plot: p50 latency per hop against message size, log-log, one line per path, the
//! baselines dashed. Written by hand: a few dozen elements of plain SVG.
//!
//! ```
//! use ipc_lab::bench::report::{Results, Row};
//! use ipc_lab::bench::{svg, PathKind};
//! use ipc_lab::i18n::Lang;
//!
//! let row = |bytes, p50_ns| Row { path: PathKind::IpcOn, bytes, p50_ns, p99_ns: p50_ns, msgs_per_s: 1.0, copies: 0.0, samples: 1 };
//! let results = Results {
//!     rows: vec![row(64, 300), row(4096, 310)],
//!     sizes: vec![64, 4096],
//!     pipeline: vec![],
//!     pipeline_sizes: vec![],
//!     camera_write: 0,
//!     interrupted: false,
//! };
//! let plot = svg::render(&results, Lang::En);
//! assert!(plot.starts_with("<?xml") && plot.contains(r#"data-path="ipc-on""#));
//! ```

use std::fmt::Write;

use super::report::Results;
use super::PathKind;
use crate::i18n::{Lang, Text};

const WIDTH: f64 = 900.0;
const HEIGHT: f64 = 540.0;
/// The plot area inside the picture: room for the axes on the left and below, and for
/// the legend on the right.
const LEFT: f64 = 90.0;
const RIGHT: f64 = 700.0;
const TOP: f64 = 60.0;
const BOTTOM: f64 = 470.0;

fn color(path: PathKind) -> &'static str {
    match path {
        PathKind::IpcOn => "#1b9e77",
        PathKind::IpcOff => "#d95f02",
        PathKind::Socket => "#7570b3",
        PathKind::Shm => "#e7298a",
        PathKind::ShmLoan => "#66a61e",
        PathKind::Dds => "#e6ab02",
        PathKind::ChannelBaseline => "#1b9e77",
        PathKind::MemcpyBaseline => "#d95f02",
        PathKind::SocketpairBaseline => "#7570b3",
        PathKind::Iceoryx2Baseline => "#66a61e",
    }
}

/// Whole decades around `lo..=hi`, at least one apart.
fn decades(lo: f64, hi: f64) -> (i32, i32) {
    let lo = lo.max(1.0).log10().floor() as i32;
    let hi = hi.max(1.0).log10().ceil() as i32;
    (lo, hi.max(lo + 1))
}

/// `10^decade` as an axis marks it with `units` a thousand apart: `1 B`, `10 kB`, `100 µs`.
fn decade_label(decade: i32, units: [&str; 4]) -> String {
    let unit = (decade / 3).clamp(0, 3);
    format!("{} {}", 10u64.pow((decade - unit * 3) as u32), units[unit as usize])
}

const TITLE: Text = Text {
    ko: "ipc-lab bench: 메시지 크기에 따른 hop당 p50 지연 (로그-로그)",
    en: "ipc-lab bench: p50 latency per hop against message size (log-log)",
};
const X_AXIS: Text = Text { ko: "메시지 크기 (바이트)", en: "message size (bytes)" };
const Y_AXIS: Text = Text { ko: "hop당 p50 지연", en: "p50 latency per hop" };

/// Where the plot puts sizes and latencies: both axes in whole decades, log scale.
struct Scale {
    /// The decades of message sizes in bytes, first and last.
    x0: i32,
    x1: i32,
    /// The decades of latencies in nanoseconds, first and last.
    y0: i32,
    y1: i32,
}

impl Scale {
    fn of(results: &Results) -> Scale {
        let sizes = results.rows.iter().map(|r| r.bytes as f64);
        let (x0, x1) = decades(sizes.clone().fold(f64::MAX, f64::min), sizes.fold(0.0, f64::max));
        let latencies = results.rows.iter().map(|r| r.p50_ns as f64);
        let (y0, y1) = decades(latencies.clone().fold(f64::MAX, f64::min), latencies.fold(0.0, f64::max));
        Scale { x0, x1, y0, y1 }
    }

    fn x(&self, bytes: f64) -> f64 {
        LEFT + (bytes.max(1.0).log10() - f64::from(self.x0)) / f64::from(self.x1 - self.x0) * (RIGHT - LEFT)
    }

    fn y(&self, ns: f64) -> f64 {
        BOTTOM - (ns.max(1.0).log10() - f64::from(self.y0)) / f64::from(self.y1 - self.y0) * (BOTTOM - TOP)
    }
}

/// The SVG document.
pub fn render(results: &Results, lang: Lang) -> String {
    let scale = Scale::of(results);
    let mut svg = String::new();
    let _ = writeln!(svg, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(svg, r#"<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>"#);
    let _ = writeln!(svg, r#"<text x="{LEFT}" y="30" font-size="16">{}</text>"#, TITLE.get(lang));
    axes(&mut svg, &scale, lang);
    lines(&mut svg, &scale, results);
    svg.push_str("</svg>\n");
    svg
}

/// The grid, its decade labels, the frame and the axis titles.
fn axes(svg: &mut String, scale: &Scale, lang: Lang) {
    for decade in scale.x0..=scale.x1 {
        let at = scale.x(10f64.powi(decade));
        let _ = writeln!(svg, r##"<line x1="{at:.1}" y1="{TOP}" x2="{at:.1}" y2="{BOTTOM}" stroke="#ddd"/>"##);
        let label = decade_label(decade, ["B", "kB", "MB", "GB"]);
        let _ = writeln!(svg, r#"<text x="{at:.1}" y="{}" text-anchor="middle">{label}</text>"#, BOTTOM + 18.0);
    }
    for decade in scale.y0..=scale.y1 {
        let at = scale.y(10f64.powi(decade));
        let _ = writeln!(svg, r##"<line x1="{LEFT}" y1="{at:.1}" x2="{RIGHT}" y2="{at:.1}" stroke="#ddd"/>"##);
        let label = decade_label(decade, ["ns", "µs", "ms", "s"]);
        let _ = writeln!(svg, r#"<text x="{}" y="{:.1}" text-anchor="end">{label}</text>"#, LEFT - 8.0, at + 4.0);
    }
    let _ = writeln!(
        svg,
        r##"<rect x="{LEFT}" y="{TOP}" width="{}" height="{}" fill="none" stroke="#888"/>"##,
        RIGHT - LEFT,
        BOTTOM - TOP
    );
    let _ = writeln!(
        svg,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        (LEFT + RIGHT) / 2.0,
        BOTTOM + 45.0,
        X_AXIS.get(lang)
    );
    let _ = writeln!(
        svg,
        r#"<text transform="translate(22 {}) rotate(-90)" text-anchor="middle">{}</text>"#,
        (TOP + BOTTOM) / 2.0,
        Y_AXIS.get(lang)
    );
}

/// One line per path, dashed for the baselines, with its legend entry.
fn lines(svg: &mut String, scale: &Scale, results: &Results) {
    let mut legend_y = TOP + 10.0;
    for path in PathKind::ALL {
        let points: Vec<String> = results
            .rows
            .iter()
            .filter(|r| r.path == path)
            .map(|r| format!("{:.1},{:.1}", scale.x(r.bytes as f64), scale.y(r.p50_ns as f64)))
            .collect();
        if points.is_empty() {
            continue;
        }
        let dash = if path.is_baseline() { r#" stroke-dasharray="6 4""# } else { "" };
        let (name, color) = (path.name(), color(path));
        let _ = writeln!(
            svg,
            r#"<polyline data-path="{name}" points="{}" fill="none" stroke="{color}" stroke-width="2"{dash}/>"#,
            points.join(" ")
        );
        let _ = writeln!(
            svg,
            r#"<line x1="{}" y1="{legend_y}" x2="{}" y2="{legend_y}" stroke="{color}" stroke-width="2"{dash}/>"#,
            RIGHT + 15.0,
            RIGHT + 45.0
        );
        let _ = writeln!(svg, r#"<text x="{}" y="{}">{name}</text>"#, RIGHT + 52.0, legend_y + 4.0);
        legend_y += 20.0;
    }
}
