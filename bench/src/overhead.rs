//! The invoke, http and auth sections (and sqs, on the same emulator): one emulator of bench/serverless.yml in-process
//! (release build, 32 handler processes at most), measured beside the plain hyper server in-process (one loopback
//! exchange, no handler process) and the process model's limit (`limit.rs`, 32 bench-hello processes, given the
//! request's body for the Invoke API and the route's event for the HTTP route, [`route_event`]): its Invoke
//! API and its HTTP API route, with the runs of the three interleaved. The limit is the reference row: ftb-offline
//! is held to issue #28's targets against it.

use crate::limit;
use crate::load::{Stats, Target, CONTRADICTION_NOTE};
use crate::tools::Served;
use crate::{queue, LEVELS};
use bytes::Bytes;
use ftb_offline::lambda::runtimes::cargo::BuildMode;
use std::path::Path;

/// Handler processes per function, on the emulator and on the limit.
const CONCURRENCY: usize = 32;

/// The figures of one connection level: the hyper server's, the limit's (None if it could not start) and ours.
struct Level {
    connections: usize,
    hyper: Stats,
    limit: Option<Stats>,
    ours: Stats,
}

/// Measures the wanted sections of invoke, http and sqs, handing each table to `record` as soon as it is measured.
pub async fn sections(root: &Path, wanted: &dyn Fn(&str) -> bool, record: &dyn Fn(&str, &str)) {
    let body = Bytes::from_static(br#"{"n":42,"text":"benchmark"}"#);
    let (_baseline_stop, baseline) = crate::start_baseline().await;
    // The limit builds itself; the emulator builds its handlers.
    let limit = if wanted("invoke") || wanted("http") {
        limit::start(root, CONCURRENCY).await
    } else {
        Err("not measured".into())
    };
    let mut options = ftb_offline::EmulatorOptions::new(root.join("bench/serverless.yml"));
    options.lambda_port = Some(0);
    options.s3_port = Some(0);
    options.http_port = Some(0);
    options.websocket_port = Some(0);
    options.build = BuildMode::Build { release: true };
    options.max_concurrency = CONCURRENCY;
    let sqs_out = std::env::temp_dir().join(format!("ftb-bench-sqs-{}.csv", std::process::id()));
    let _ = std::fs::remove_file(&sqs_out);
    options.load.params.insert("benchOut".into(), sqs_out.display().to_string());
    let emulator = ftb_offline::Emulator::start(options).await.expect("the emulator starts");
    let endpoints = emulator.endpoints().clone();
    let hyper = Target { addr: baseline, path: "/".into(), body: body.clone() };
    let invoke = Target {
        addr: endpoints.lambda_url(),
        path: "/2015-03-31/functions/hello/invocations".into(),
        body: body.clone(),
    };
    let http = Target { addr: endpoints.http_url(), path: "/hello".into(), body: body.clone() };
    if wanted("invoke") {
        let label = "ftb-offline Invoke API";
        let limit_given = LimitGiven::new(body.clone(), "");
        let levels = measure(&hyper, &limit, &limit_given, &invoke, label).await;
        record("invoke", &render(label, &limit_given.name, &levels, limit.as_ref().err()));
    }
    if wanted("http") {
        let label = "ftb-offline HTTP API route";
        let limit_given = route_event(&endpoints.http_url(), &body).await;
        let levels = measure(&hyper, &limit, &limit_given, &http, label).await;
        record("http", &render(label, &limit_given.name, &levels, limit.as_ref().err()));
    }
    if wanted("auth") {
        // The same query string on both: the events differ only by what the authorizer adds.
        let plain = Target { addr: endpoints.http_url(), path: "/hello?token=bench".into(), body: body.clone() };
        let authorized =
            Target { addr: endpoints.http_url(), path: "/hello-authorized?token=bench".into(), body: body.clone() };
        record("auth", &authorizer_table(&plain, &authorized).await);
    }
    if wanted("sqs") {
        record("sqs", &queue::table(root, &endpoints.lambda_url(), &sqs_out).await);
    }
    let _ = std::fs::remove_file(&sqs_out);
    emulator.stop().await;
}

/// What a cached Lambda authorizer adds to a request: the same HTTP API route with and without it, runs
/// interleaved, at each connection level. Issue #23's target is at most 20 µs at p50. At 1 connection that is the
/// p50 difference; at 32 the two cores are saturated and p50 is mostly queueing, so the figure held to the target
/// is the machine time added per request, the difference of 1 ÷ requests/s.
async fn authorizer_table(plain: &Target, authorized: &Target) -> String {
    const TARGET: std::time::Duration = std::time::Duration::from_micros(20);
    let mut out = String::from(
        "| connections | route | p50 / p99 | mean | requests/s | wrk timeouts / socket errors / non-2xx | added at p50 | added machine time per request | target ≤ 20 µs |\n|---|---|---|---|---|---|---|---|---|\n",
    );
    for connections in LEVELS {
        // Three times the usual runs: the difference is small beside the run-to-run spread.
        let medians = crate::interleaved_medians_of(15, &[plain, authorized], connections, &|_| {}).await;
        let (without, with) = (medians[0], medians[1]);
        println!("{connections:>2} conn  no authorizer {without}\n{connections:>2} conn  cached authorizer {with}");
        let added_p50 = with.p50.saturating_sub(without.p50);
        let per_request = |stats: &Stats| 1e6 / stats.requests_per_second.max(1.0);
        let added_time = (per_request(&with) - per_request(&without)).max(0.0);
        let held = if connections == 1 { added_p50.as_secs_f64() * 1e6 } else { added_time };
        let verdict = if held <= TARGET.as_secs_f64() * 1e6 { "met" } else { "not met" };
        let held_on = if connections == 1 { "p50" } else { "time per request" };
        for (route, stats, notes) in [
            ("`POST /hello?token=bench`, no authorizer", &without, "– | – | –".to_string()),
            (
                "`POST /hello-authorized?token=bench`, cached Lambda authorizer",
                &with,
                format!("{} | {added_time:.1} µs | {verdict} ({held_on})", micros(added_p50)),
            ),
        ] {
            out.push_str(&format!(
                "| {connections} | {route} | {} | {} µs | {:.0} | {} | {notes} |\n",
                stats.percentiles(),
                stats.mean.as_micros(),
                stats.requests_per_second,
                stats.errors(),
            ));
        }
    }
    out
}

/// What the limit is given to pass to its handler, and its row's name.
pub(crate) struct LimitGiven {
    pub body: Bytes,
    /// What the body is (empty: the request's body, as for the Invoke API).
    pub given: &'static str,
    name: String,
}

impl LimitGiven {
    /// `given` says what the body is, for the row's name (empty: the request's body, as for the Invoke API).
    fn new(body: Bytes, given: &'static str) -> Self {
        Self { body, given, name: format!("{}{given} ({CONCURRENCY} bench-hello processes)", limit::NAME) }
    }
}

/// For the HTTP route: the event the route gives its handler for wrk's request, asked once of `POST /echo` (the
/// same route, answered by bench-echo), so that the limit's handler parses what ftb-offline's does and the two
/// differ only by the tool's own work. Without it, the limit is given the request's body, as for the Invoke API.
pub(crate) async fn route_event(http_url: &str, body: &Bytes) -> LimitGiven {
    let host = http_url.trim_start_matches("http://");
    match crate::load::post(host, "/echo", body.clone()).await {
        // The route key and path say /echo; the event is otherwise the one POST /hello builds.
        Some(event) => LimitGiven::new(event, " given the route's event"),
        None => LimitGiven::new(body.clone(), " given the body: POST /echo failed"),
    }
}

/// The median figures of the hyper server, the limit (when it started) and `ours` at each connection level, the
/// runs interleaved and the limit paused while the others are measured.
async fn measure(
    hyper: &Target,
    limit: &Result<Served, String>,
    limit_given: &LimitGiven,
    ours: &Target,
    label: &str,
) -> Vec<Level> {
    let limit_target =
        limit.as_ref().ok().map(|served| Target { body: limit_given.body.clone(), ..served.route("/hello") });
    let mut targets = vec![hyper, ours];
    targets.extend(limit_target.as_ref());
    let focus = |index: usize| {
        if let Ok(served) = limit {
            served.pause(index != 2);
        }
    };
    let mut levels = Vec::new();
    for connections in LEVELS {
        let medians = crate::interleaved_medians(&targets, connections, &focus).await;
        println!("{connections:>2} conn  hyper {}\n{connections:>2} conn  {label} {}", medians[0], medians[1]);
        if let Some(limit) = medians.get(2) {
            println!("{connections:>2} conn  {} {limit}", limit::NAME);
        }
        levels.push(Level { connections, hyper: medians[0], limit: medians.get(2).copied(), ours: medians[1] });
    }
    if let Ok(served) = limit {
        served.pause(false);
    }
    levels
}

/// Three rows per connection level (hyper, the limit, ftb-offline): latency, mean latency, requests/s and wrk's
/// errors of each, ftb-offline's overhead over hyper and the limit's at p50, and ftb-offline against the limit's
/// target.
fn render(label: &str, limit_name: &str, levels: &[Level], limit_failure: Option<&String>) -> String {
    let mut out = String::from(
        "| connections | server | p50 / p99 | mean | requests/s | wrk timeouts / socket errors / non-2xx | overhead at p50 over hyper | against the limit (issue #28's target) |\n|---|---|---|---|---|---|---|---|\n",
    );
    let mut flagged = false;
    for level in levels {
        let row = |out: &mut String, server: &str, stats: &Stats, overhead: String, against: String| {
            out.push_str(&format!(
                "| {} | {server} | {} | {} µs | {:.0} | {} | {overhead} | {against} |\n",
                level.connections,
                stats.percentiles(),
                stats.mean.as_micros(),
                stats.requests_per_second,
                stats.errors(),
            ));
        };
        let over_hyper = |stats: &Stats| micros(stats.p50.saturating_sub(level.hyper.p50));
        row(&mut out, "hyper in-process", &level.hyper, "–".into(), "–".into());
        match (&level.limit, limit_failure) {
            (Some(limit), _) => row(&mut out, limit_name, limit, over_hyper(limit), "reference".into()),
            (None, reason) => out.push_str(&format!(
                "| {} | {limit_name} | could not start: {} | – | – | – | – | – |\n",
                level.connections,
                reason.map(String::as_str).unwrap_or("unknown")
            )),
        }
        let against = level.limit.as_ref().map(|limit| limit::against(&level.ours, limit));
        let against = against.unwrap_or_else(|| "–".into());
        row(&mut out, label, &level.ours, over_hyper(&level.ours), against);
        let all = [Some(level.hyper), level.limit, Some(level.ours)];
        flagged |= all.iter().flatten().any(Stats::contradicts_throughput);
    }
    if flagged {
        out.push_str(&format!("\n{CONTRADICTION_NOTE}\n"));
    }
    out
}

fn micros(d: std::time::Duration) -> String {
    format!("{} µs", d.as_micros())
}
