//! The Fault Tolerant App's own handlers (handlers/, ./serverless.yml, release build) under load: `POST /tasks`
//! (submitTask: a DynamoDB PutItem and an SQS SendMessage; processTask and the WebSocket push follow from the
//! queue) at 1 and 32 connections, with submitTask's context switches per request and the resident memory of all
//! the app's handler processes afterwards. DynamoDB Local runs as `start:with-db` runs it, for a stage of the
//! bench's own, removed at the end. docs/BENCHMARKS.md compares the handlers on tokio's two runtimes with it.

use crate::cli;
use crate::load::{self, Stats, Target};
use std::path::Path;

const HANDLERS: [&str; 10] = [
    "submit-task",
    "process-task",
    "dlq-handler",
    "get-tasks",
    "sweep-tasks",
    "task-stats",
    "get-stats",
    "ws-connect",
    "ws-default",
    "ws-disconnect",
];
const STAGE: &str = "benchapp";
const RUNS: usize = 3;

/// One row: the load figures, submitTask's context switches per request, the handlers' memory after the runs.
struct Row {
    stats: Stats,
    switches_per_request: f64,
    handlers_mib: f64,
}

pub async fn table(root: &Path) -> String {
    let header = "| connections | p50 | mean | requests/s | submitTask context switches / request | handler processes' memory |\n|---|---|---|---|---|---|\n";
    match measure(root).await {
        Ok(rows) => {
            let mut table = header.to_string();
            for row in rows {
                println!(
                    "app {} connections: {}; {:.1} switches/request",
                    row.stats.connections, row.stats, row.switches_per_request
                );
                table.push_str(&format!(
                    "| {} | {} µs | {} µs | {:.0} | {:.1} | {:.1} MiB |\n",
                    row.stats.connections,
                    row.stats.p50.as_micros(),
                    row.stats.mean.as_micros(),
                    row.stats.requests_per_second,
                    row.switches_per_request,
                    row.handlers_mib
                ));
            }
            table
        }
        Err(reason) => {
            println!("the app could not start: {reason}");
            format!("{header}| could not start: {reason} | – | – | – | – | – |\n")
        }
    }
}

async fn measure(root: &Path) -> Result<Vec<Row>, String> {
    let binary = cli::release_binary(root);
    let mut build = vec!["--workspace"];
    build.extend(HANDLERS.iter().flat_map(|handler| ["--bin", handler]));
    cli::cargo_build_release(root, &build);
    let http_port = cli::free_port().to_string();
    let args = [
        "start:with-db",
        "--no-console",
        "--no-build",
        "--release",
        "--no-watch",
        "--stage",
        STAGE,
        "--param",
        "failureRate=0",
        "--http-port",
        &http_port,
        "--websocket-port",
        "0",
        "--lambda-port",
        "0",
        "--s3-port",
        "0",
        "--db-port",
        "0",
    ];
    let stop_db = StopDb { binary: binary.clone(), root: root.to_path_buf() };
    let running = cli::start_until_ready(&binary, root, &args)?;
    let target = Target {
        addr: format!("http://127.0.0.1:{http_port}"),
        // A REST API (`http` events) serves under its stage, as API Gateway's invoke URL does.
        path: format!("/{STAGE}/tasks"),
        body: bytes::Bytes::from_static(br#"{"answer":"42"}"#),
    };
    if !load::answers_ok(&target).await {
        return Err(format!("POST {} did not answer 201", target.path));
    }
    let mut rows = Vec::new();
    for connections in crate::LEVELS {
        let before = context_switches(running.pid(), "submit-task");
        let mut runs = Vec::new();
        for _ in 0..RUNS {
            runs.push(load::measure(&target, connections, crate::RUN_TIME).await);
        }
        let switches = context_switches(running.pid(), "submit-task").saturating_sub(before);
        let requests: u64 = runs.iter().map(|s| s.requests).sum();
        let stats = Stats::median(runs);
        let handlers_mib =
            handler_processes(running.pid()).iter().filter_map(|pid| ftb_offline::procfs::resident_mib(*pid)).sum();
        rows.push(Row { stats, switches_per_request: switches as f64 / requests.max(1) as f64, handlers_mib });
    }
    drop(running);
    drop(stop_db);
    Ok(rows)
}

/// `stop:db --purge` for the bench's stage, on every path.
struct StopDb {
    binary: std::path::PathBuf,
    root: std::path::PathBuf,
}

impl Drop for StopDb {
    fn drop(&mut self) {
        let _ = cli::run(&self.binary, &self.root, &["stop:db", "--purge", "--stage", STAGE]);
    }
}

/// The emulator's child processes that run one of the app's handlers.
fn handler_processes(emulator: u32) -> Vec<u32> {
    descendants(emulator).into_iter().filter(|pid| HANDLERS.contains(&command_name(*pid).as_str())).collect()
}

/// Voluntary and involuntary context switches of every thread of the handler processes named `handler`.
fn context_switches(emulator: u32, handler: &str) -> u64 {
    let processes = handler_processes(emulator).into_iter().filter(|pid| command_name(*pid) == handler);
    processes
        .flat_map(|pid| std::fs::read_dir(format!("/proc/{pid}/task")).into_iter().flatten().flatten())
        .map(|thread| {
            let status = std::fs::read_to_string(thread.path().join("status")).unwrap_or_default();
            status
                .lines()
                .filter(|line| {
                    line.starts_with("voluntary_ctxt_switches") || line.starts_with("nonvoluntary_ctxt_switches")
                })
                .filter_map(|line| line.split_whitespace().nth(1)?.parse::<u64>().ok())
                .sum::<u64>()
        })
        .sum()
}

fn command_name(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default().trim().to_string()
}

fn descendants(pid: u32) -> Vec<u32> {
    crate::tools::children(pid).into_iter().flat_map(|child| std::iter::once(child).chain(descendants(child))).collect()
}
