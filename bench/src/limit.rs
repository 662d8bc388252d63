//! The process model's limit (issue #28, item 4): `bench-limit` (src/bin/bench-limit.rs), the least any tool can
//! do to serve a `lambda_runtime` handler as processes, run on the same bench-hello binary as the reference
//! ftb-offline is held to. Targets: ftb-offline's p50 at 1 connection at most 1.15× the limit's, its requests/s
//! at 32 connections at least 0.85× the limit's.

use crate::cli;
use crate::load::Stats;
use crate::tools::{self, Served};
use std::path::Path;
use std::process::Command;

pub const NAME: &str = "process-model limit";
/// The most ftb-offline's p50 at 1 connection may be, as a multiple of the limit's.
const P50_TARGET: f64 = 1.15;
/// The least ftb-offline's requests/s at 32 connections may be, as a multiple of the limit's.
const THROUGHPUT_TARGET: f64 = 0.85;

/// Builds and starts `bench-limit` with `concurrency` bench-hello processes, serving `POST /hello`.
pub async fn start(root: &Path, concurrency: usize) -> Result<Served, String> {
    cli::build_bench_handlers(root);
    let port = cli::free_port();
    let mut command = Command::new(cli::release_path(root, "bench-limit"));
    command.current_dir(root).arg(cli::release_path(root, "bench-hello")).args([
        "--port",
        &port.to_string(),
        "--concurrency",
        &concurrency.to_string(),
    ]);
    tools::serve(command, port, "/hello", None).await
}

/// ftb-offline (`ours`) against the limit, both measured on the same number of connections, on the figure with a
/// target there (p50 at 1 connection, requests/s above): the ratio, the target and whether it is met.
pub fn against(ours: &Stats, limit: &Stats) -> String {
    if ours.connections == 1 {
        let ratio = ours.p50.as_secs_f64() / limit.p50.as_secs_f64().max(f64::MIN_POSITIVE);
        let verdict = met(ratio <= P50_TARGET);
        format!("p50 {ratio:.2}× the limit's (target ≤ {P50_TARGET}×: {verdict})")
    } else {
        let ratio = ours.requests_per_second / limit.requests_per_second.max(f64::MIN_POSITIVE);
        let verdict = met(ratio >= THROUGHPUT_TARGET);
        format!("requests/s {ratio:.2}× the limit's (target ≥ {THROUGHPUT_TARGET}×: {verdict})")
    }
}

fn met(yes: bool) -> &'static str {
    if yes {
        "met"
    } else {
        "not met"
    }
}

/// A line under a table: ftb-offline against the limit at each connection level measured on both.
pub fn summary(ours: &[(usize, Stats)], limit: &[(usize, Stats)], given: &str) -> String {
    let parts: Vec<String> = ours
        .iter()
        .zip(limit)
        .map(|((connections, ours), (_, limit))| {
            let plural = if *connections == 1 { "" } else { "s" };
            format!("{connections} connection{plural}: {}", against(ours, limit))
        })
        .collect();
    if parts.is_empty() {
        return String::new();
    }
    format!("\nftb-offline against the {NAME}{given} (issue #28): {}.\n", parts.join("; "))
}
