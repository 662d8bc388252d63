//! The chart the README links: the peers section's figures as horizontal bars, one panel per figure, one bar per
//! tool, written as a self-contained SVG (no fonts or scripts to fetch). A tool that could not start has no bars
//! ("n/a").

use crate::figures::{micros, number};
use crate::peers::Figures;
use std::fmt::Write;

const WIDTH: f64 = 760.0;
const LABEL_WIDTH: f64 = 170.0;
const BAR_HEIGHT: f64 = 18.0;
const BAR_GAP: f64 = 6.0;
const PANEL_TITLE: f64 = 28.0;
const PANEL_GAP: f64 = 18.0;
const COLOURS: [&str; 5] = ["#9e9e9e", "#495057", "#d9480f", "#1c7ed6", "#5c940d"];

/// One panel: a title and one value per tool (None where the figure does not apply).
struct Panel {
    title: String,
    values: Vec<Option<f64>>,
    unit: &'static str,
}

pub fn svg(all: &[Figures], date: &str, machine: &str) -> String {
    let panels = panels(all);
    let panel_height = PANEL_TITLE + all.len() as f64 * (BAR_HEIGHT + BAR_GAP);
    let height = 56.0 + panels.len() as f64 * (panel_height + PANEL_GAP);
    let mut out = String::new();
    let _ = write!(
        out,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<text x="10" y="22" font-size="15" font-weight="bold">POST /hello through each tool's HTTP route (wrk, medians of 5 runs)</text>
<text x="10" y="40" fill="#555">{date}, {machine}, scripts/bench</text>
"##
    );
    let mut y = 56.0;
    for panel in &panels {
        let _ = writeln!(out, r#"<text x="10" y="{}" font-weight="bold">{}</text>"#, y + 16.0, panel.title);
        let max = panel.values.iter().flatten().cloned().fold(0.0, f64::max).max(f64::MIN_POSITIVE);
        let mut bar_y = y + PANEL_TITLE;
        for ((tool, value), colour) in all.iter().zip(&panel.values).zip(COLOURS) {
            let _ = writeln!(out, r#"<text x="10" y="{}">{}</text>"#, bar_y + 13.0, tool.name);
            match value {
                Some(v) => {
                    let width = (WIDTH - LABEL_WIDTH - 110.0) * v / max;
                    let _ = writeln!(
                        out,
                        r#"<rect x="{LABEL_WIDTH}" y="{bar_y}" width="{width:.1}" height="{BAR_HEIGHT}" fill="{colour}"/><text x="{:.1}" y="{}">{} {}</text>"#,
                        LABEL_WIDTH + width + 6.0,
                        bar_y + 13.0,
                        number(*v),
                        panel.unit
                    );
                }
                None => {
                    let _ = writeln!(out, r##"<text x="{LABEL_WIDTH}" y="{}" fill="#888">n/a</text>"##, bar_y + 13.0);
                }
            }
            bar_y += BAR_HEIGHT + BAR_GAP;
        }
        y += panel_height + PANEL_GAP;
    }
    out.push_str("</svg>\n");
    out
}

fn panels(all: &[Figures]) -> Vec<Panel> {
    let mut panels = Vec::new();
    for (index, connections) in crate::LEVELS.iter().enumerate() {
        let plural = if *connections == 1 { "" } else { "s" };
        panels.push(Panel {
            title: format!("requests/s, {connections} connection{plural} (longer is better)"),
            values: all.iter().map(|f| f.at(index).map(|s| s.requests_per_second)).collect(),
            unit: "req/s",
        });
        panels.push(Panel {
            title: format!("p50 latency, {connections} connection{plural} (shorter is better)"),
            values: all.iter().map(|f| f.at(index).map(|s| micros(s.p50))).collect(),
            unit: "µs",
        });
    }
    panels.push(Panel {
        title: "resident memory after the load, with handler processes (shorter is better)".into(),
        values: all.iter().map(|f| f.loaded_mib).collect(),
        unit: "MiB",
    });
    panels
}
