//! `ftb-bench`: measures ftb-offline beside the physical limit, in one run on this machine, and writes the
//! figures into docs/BENCHMARKS.md. Bounded: a fixed number of requests per run, loopback only.
//!
//! The same JSON echo answered (1) by a plain hyper server in-process, (2) by the process model's limit
//! (`bench-limit`: the least any tool can do with a `lambda_runtime` handler process), (3) through the emulator's
//! Invoke API and (4) through an HTTP API route; (2) to (4) hand it to a `lambda_runtime` handler process and back.
//! Figures: latency p50/p99, mean, requests/s and wrk's errors at 1 and 32 connections (wrk); the median of several
//! runs. The peers section adds `cargo lambda watch` and serverless-offline on the same route, and draws
//! docs/benchmarks.svg; the runtimes section runs Node.js and Python handlers on ftb-offline and serverless-offline.
//!
//! Each section builds what it runs. A tool that cannot start is shown as such in its table; a section that fails
//! otherwise leaves its table in the document as it was, the others still run, and the bench exits with status 1.
//! Every process the bench starts is stopped on every path (`processes.rs`).

mod app;
mod chart;
mod cli;
mod console;
mod dynamodb;
mod fanout;
mod figures;
mod launch;
mod limit;
mod load;
mod notifications;
mod overhead;
mod peers;
mod processes;
mod queue;
mod reload;
mod runtimes;
mod streams;
mod tools;

use ftb_offline::server::{self, json};
use futures_util::FutureExt;
use hyper::StatusCode;
use load::{measure, Stats, Target};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// As the ftb-offline binary's (emulator/src/main.rs): the emulator runs in this process.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const RUNS: usize = 5;
const WARMUP: Duration = Duration::from_secs(1);
const RUN_TIME: Duration = Duration::from_secs(3);
pub(crate) const LEVELS: [usize; 2] = [1, 32];

/// Every section, in the order they run. `--only a,b` runs some of them.
const SECTIONS: [&str; 14] = [
    "invoke",
    "http",
    "auth",
    "console",
    "fanout",
    "sqs",
    "streams",
    "notifications",
    "reload",
    "dynamodb",
    "launch",
    "peers",
    "runtimes",
    "app",
];

#[tokio::main]
async fn main() {
    processes::stop_all_on_interrupt();
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
    let mut failed = Vec::new();
    if ["invoke", "http", "auth", "sqs"].iter().any(|s| wanted(s)) {
        guarded("invoke, http, auth, sqs", overhead::sections(&root, &wanted, &record), &mut failed).await;
    }
    if wanted("console") {
        if let Some(table) = guarded("console", console::table(&root), &mut failed).await {
            record("console", &table);
        }
    }
    if wanted("fanout") {
        if let Some(table) = guarded("fanout", fanout::table(&root, RUNS), &mut failed).await {
            record("fanout", &table);
        }
    }
    if wanted("streams") {
        if let Some(table) = guarded("streams", streams::table(&root), &mut failed).await {
            record("streams", &table);
        }
    }
    if wanted("notifications") {
        if let Some(table) = guarded("notifications", notifications::table(&root), &mut failed).await {
            record("notifications", &table);
        }
    }
    if wanted("reload") {
        if let Some(table) = guarded("reload", reload_table(&root), &mut failed).await {
            record("reload", &table);
        }
    }
    if wanted("dynamodb") {
        if let Some(table) = guarded("dynamodb", dynamodb::table(&root), &mut failed).await {
            record("dynamodb", &table);
        }
    }
    if wanted("launch") {
        if let Some(table) = guarded("launch", launch::table(&root), &mut failed).await {
            record("launch", &table);
        }
    }
    if wanted("peers") {
        if let Some(tables) = guarded("peers", peers::table(&root), &mut failed).await {
            if let Some(path) = &output {
                let chart = path.with_file_name("benchmarks.svg");
                std::fs::write(&chart, chart::svg(&tables.figures, &today(), &machine_description()))
                    .expect("write the chart");
                println!("chart: {}", chart.display());
            }
            record("peers", &tables.peers);
            record("handler-runtime", &tables.handler_runtime);
        }
    }
    if wanted("runtimes") {
        if let Some(table) = guarded("runtimes", runtimes::table(&root), &mut failed).await {
            record("runtimes", &table);
        }
    }
    if wanted("app") {
        if let Some(table) = guarded("app", app::table(&root), &mut failed).await {
            record("app", &table);
        }
    }
    if !failed.is_empty() {
        eprintln!("failed sections (their tables are left as they were): {}", failed.join("; "));
        std::process::exit(1);
    }
}

/// Runs one section, turning a panic into a failure noted in `failed` (with the panic's message). The processes
/// the section started are stopped by their guards as its future is dropped.
async fn guarded<T>(name: &str, section: impl Future<Output = T>, failed: &mut Vec<String>) -> Option<T> {
    match AssertUnwindSafe(section).catch_unwind().await {
        Ok(value) => Some(value),
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            eprintln!("section {name} failed: {message}");
            failed.push(format!("{name}: {message}"));
            None
        }
    }
}

async fn reload_table(root: &Path) -> String {
    let reload = reload::measure(root).await;
    let ms = |d: Duration| d.as_millis();
    let watch = match &reload.cargo_lambda_watch {
        Ok(time) => format!("{} ms", ms(*time)),
        Err(reason) => format!("could not start: {reason}"),
    };
    println!(
        "hot reload: save → new code {} ms, cargo lambda watch {watch}, cargo build {} ms",
        ms(reload.save_to_new_code),
        ms(reload.cargo_build)
    );
    format!(
        "| save → first response from the new code, ftb-offline (median of 5) | the same on `cargo lambda watch` | `cargo build` alone, same edit | ftb-offline − cargo build |\n|---|---|---|---|\n| {} ms | {watch} | {} ms | {} ms |\n",
        ms(reload.save_to_new_code),
        ms(reload.cargo_build),
        ms(reload.save_to_new_code) as i128 - ms(reload.cargo_build) as i128
    )
}

/// The median of `RUNS` runs on each target, the runs taken in turn (a, b, c, a, b, c, …) after a warm-up of each.
/// `focus(i)` is called before each run of target `i`.
pub(crate) async fn interleaved_medians(targets: &[&Target], connections: usize, focus: &dyn Fn(usize)) -> Vec<Stats> {
    interleaved_medians_of(RUNS, targets, connections, focus).await
}

/// [`interleaved_medians`] with `runs` runs of each target.
pub(crate) async fn interleaved_medians_of(
    runs_each: usize,
    targets: &[&Target],
    connections: usize,
    focus: &dyn Fn(usize),
) -> Vec<Stats> {
    for (index, target) in targets.iter().enumerate() {
        focus(index);
        measure(target, connections, WARMUP).await;
    }
    let mut runs = vec![Vec::new(); targets.len()];
    for _ in 0..runs_each {
        for (index, (target, runs)) in targets.iter().zip(runs.iter_mut()).enumerate() {
            focus(index);
            runs.push(measure(target, connections, RUN_TIME).await);
        }
    }
    runs.into_iter().map(Stats::median).collect()
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
