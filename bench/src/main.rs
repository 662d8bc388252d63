//! `ftb-bench`: measures ftb-offline beside the physical limit, in one run on this machine, and writes the
//! figures into docs/BENCHMARKS.md. Bounded: a fixed number of requests per run, loopback only.
//!
//! The same JSON echo answered (1) by a plain hyper server in-process, (2) through the emulator's Invoke API and
//! (3) through an HTTP API route; (2) and (3) hand it to a `lambda_runtime` handler process and back. Figures:
//! latency p50/p99 and requests/s at 1 and 32 connections (wrk); the median of several runs. The peers section
//! adds `cargo lambda watch` and serverless-offline on the same route, and draws docs/benchmarks.svg; the runtimes
//! section runs Node.js and Python handlers on ftb-offline and serverless-offline.

mod chart;
mod cli;
mod dynamodb;
mod fanout;
mod launch;
mod load;
mod peers;
mod queue;
mod reload;
mod runtimes;

use bytes::Bytes;
use ftb_offline::lambda::runtimes::cargo::BuildMode;
use ftb_offline::server::{self, json};
use hyper::StatusCode;
use load::{measure, Stats, Target};
use std::path::{Path, PathBuf};
use std::time::Duration;

const RUNS: usize = 5;
const WARMUP: Duration = Duration::from_secs(1);
const RUN_TIME: Duration = Duration::from_secs(3);
pub(crate) const LEVELS: [usize; 2] = [1, 32];

/// Every section, in the order they run. `--only a,b` runs some of them.
const SECTIONS: [&str; 9] = ["invoke", "http", "fanout", "sqs", "reload", "dynamodb", "launch", "peers", "runtimes"];

#[tokio::main]
async fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("bench/ is in the repository").to_path_buf();
    let argument = |name: &str| std::env::args().skip_while(|a| a != name).nth(1);
    let output = argument("--write").map(PathBuf::from);
    let only: Vec<String> = match argument("--only") {
        Some(list) => list.split(',').map(str::to_string).collect(),
        None => SECTIONS.iter().map(|s| s.to_string()).collect(),
    };
    let wanted = |name: &str| only.iter().any(|o| o == name);
    if let Some(unknown) = only.iter().find(|o| !SECTIONS.contains(&o.as_str())) {
        panic!("unknown section {unknown}; the sections are {SECTIONS:?}");
    }

    // Each table is written as soon as it is measured, so a later section's failure loses nothing.
    let record = |name: &str, table: &str| {
        println!("\n{table}");
        if let Some(path) = &output {
            write_section(path, name, table);
        }
    };
    if ["invoke", "http", "sqs"].iter().any(|s| wanted(s)) {
        for (name, table) in emulator_sections(&root, &wanted).await {
            record(name, &table);
        }
    }
    if wanted("fanout") {
        record("fanout", &fanout::table(&root, RUNS).await);
    }
    if wanted("reload") {
        record("reload", &reload_table(&root).await);
    }
    if wanted("dynamodb") {
        record("dynamodb", &dynamodb::table(&root).await);
    }
    if wanted("launch") {
        record("launch", &launch::table(&root).await);
    }
    if wanted("peers") {
        let tables = peers::table(&root).await;
        if let Some(path) = &output {
            let chart = path.with_file_name("benchmarks.svg");
            std::fs::write(&chart, chart::svg(&tables.figures, &today(), &machine_description()))
                .expect("write the chart");
            println!("chart: {}", chart.display());
        }
        record("peers", &tables.peers);
        record("handler-runtime", &tables.handler_runtime);
    }
    if wanted("runtimes") {
        record("runtimes", &runtimes::table(&root).await);
    }
}

/// The sections measured against one emulator of bench/serverless.yml (release build).
async fn emulator_sections(root: &Path, wanted: &dyn Fn(&str) -> bool) -> Vec<(&'static str, String)> {
    let body = Bytes::from_static(br#"{"n":42,"text":"benchmark"}"#);
    let (_baseline_stop, baseline) = start_baseline().await;
    let mut options = ftb_offline::EmulatorOptions::new(root.join("bench/serverless.yml"));
    options.lambda_port = Some(0);
    options.http_port = Some(0);
    options.websocket_port = Some(0);
    options.build = BuildMode::Build { release: true };
    options.max_concurrency = 32;
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
    let http = Target { addr: endpoints.http_url(), path: "/hello".into(), body };

    let mut sections = Vec::new();
    for (name, label, target) in
        [("invoke", "ftb-offline Invoke API", &invoke), ("http", "ftb-offline HTTP API route", &http)]
    {
        if !wanted(name) {
            continue;
        }
        let mut rows = Vec::new();
        for connections in LEVELS {
            let base = median_of_runs(&hyper, connections).await;
            let ours = median_of_runs(target, connections).await;
            println!("{connections:>2} conn  hyper {base}\n{connections:>2} conn  {label} {ours}");
            rows.push((connections, base, ours));
        }
        sections.push((name, render(label, &rows)));
    }
    if wanted("sqs") {
        sections.push(("sqs", queue::table(root, &endpoints.lambda_url(), &sqs_out).await));
    }
    let _ = std::fs::remove_file(&sqs_out);
    emulator.stop().await;
    sections
}

async fn reload_table(root: &Path) -> String {
    let reload = reload::measure(root).await;
    let ms = |d: Duration| d.as_millis();
    println!(
        "hot reload: save → new code {} ms, cargo lambda watch {} ms, cargo build {} ms",
        ms(reload.save_to_new_code),
        ms(reload.cargo_lambda_watch),
        ms(reload.cargo_build)
    );
    format!(
        "| save → first response from the new code, ftb-offline (median of 5) | the same on `cargo lambda watch` | `cargo build` alone, same edit | ftb-offline − cargo build |\n|---|---|---|---|\n| {} ms | {} ms | {} ms | {} ms |\n",
        ms(reload.save_to_new_code),
        ms(reload.cargo_lambda_watch),
        ms(reload.cargo_build),
        ms(reload.save_to_new_code) as i128 - ms(reload.cargo_build) as i128
    )
}

/// The median of `RUNS` runs on each target, the runs taken in turn (a, b, c, a, b, c, …) after a warm-up of each.
/// `focus(i)` is called before each run of target `i`.
pub(crate) async fn interleaved_medians(targets: &[&Target], connections: usize, focus: &dyn Fn(usize)) -> Vec<Stats> {
    for (index, target) in targets.iter().enumerate() {
        focus(index);
        measure(target, connections, WARMUP).await;
    }
    let mut runs = vec![Vec::new(); targets.len()];
    for _ in 0..RUNS {
        for (index, (target, runs)) in targets.iter().zip(runs.iter_mut()).enumerate() {
            focus(index);
            runs.push(measure(target, connections, RUN_TIME).await);
        }
    }
    runs.into_iter().map(Stats::median).collect()
}

pub(crate) async fn median_of_runs(target: &Target, connections: usize) -> Stats {
    interleaved_medians(&[target], connections, &|_| {}).await[0]
}

/// The physical limit: hyper in-process, doing the handler's work (parse the JSON, answer JSON).
pub(crate) async fn start_baseline() -> (server::ShutdownTrigger, String) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = format!("http://{}", listener.local_addr().unwrap());
    let (trigger, shutdown) = server::shutdown_pair();
    server::serve(
        listener,
        |request, _| async move {
            let body = server::read_body(request.into_body(), 6 << 20).await.unwrap_or_default();
            let event: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            json(StatusCode::OK, &serde_json::json!({"message": "hello", "n": event.get("n").cloned()}))
        },
        shutdown,
    );
    (trigger, addr)
}

fn render(label: &str, rows: &[(usize, Stats, Stats)]) -> String {
    let mut out = format!("| connections | hyper in-process p50 / p99 | hyper req/s | {label} p50 / p99 | ftb-offline req/s | overhead at p50 |\n|---|---|---|---|---|---|\n");
    for (connections, base, ours) in rows {
        out.push_str(&format!(
            "| {connections} | {} / {} | {:.0} | {} / {} | {:.0} | {} |\n",
            micros(base.p50),
            micros(base.p99),
            base.requests_per_second,
            micros(ours.p50),
            micros(ours.p99),
            ours.requests_per_second,
            micros(ours.p50.saturating_sub(base.p50)),
        ));
    }
    out
}

fn micros(d: std::time::Duration) -> String {
    format!("{} µs", d.as_micros())
}

/// Replaces the text between `<!-- name:start -->` and `<!-- name:end -->`, adding the section if absent.
fn write_section(path: &Path, name: &str, table: &str) {
    let (start, end) = (format!("<!-- {name}:start -->"), format!("<!-- {name}:end -->"));
    let machine = machine_description();
    let block = format!("{start}\nMeasured {} on {machine}, `{}`.\n\n{table}{end}", today(), "scripts/bench");
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let updated = match (text.find(&start), text.find(&end)) {
        (Some(a), Some(b)) if a < b => format!("{}{block}{}", &text[..a], &text[b + end.len()..]),
        _ => format!("{text}\n{block}\n"),
    };
    std::fs::write(path, updated).expect("write the results");
}

pub(crate) fn machine_description() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    format!("{cores} cores ({cpu})")
}

pub(crate) fn today() -> String {
    let out = std::process::Command::new("date").arg("-u").arg("+%Y-%m-%d").output().ok();
    out.map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string()).unwrap_or_default()
}
