//! How the tables write their figures: a lead over a peer, a number to three significant figures, a duration in
//! microseconds.

use std::time::Duration;

/// How far ftb-offline (`ours`) is ahead of a peer (`theirs`) on one figure: above 1 means ahead, whether the
/// figure is better low (latency, memory) or high (requests/s).
pub fn lead(ours: f64, theirs: f64, lower_is_better: bool) -> f64 {
    if lower_is_better {
        theirs / ours
    } else {
        ours / theirs
    }
}

/// Three significant figures at most, no fraction above 100.
pub fn number(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

pub fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
