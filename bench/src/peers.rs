//! ftb-offline beside serverless-offline 13 (the last line for Serverless Framework v3) on the same route in the
//! same run: `POST /hello` of an HTTP API, answered by bench-hello on ftb-offline and by its Node.js twin
//! (bench/peers/serverless-offline/handler.js) on serverless-offline. Both run as users run them, as their own
//! processes: latency and requests/s at 1 and 32 connections, launch to the first 200, and resident memory idle
//! and after the load.

use crate::cli;
use crate::load::{self, Stats, Target};
use bytes::Bytes;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One tool serving the route, as a process group (serverless-offline may start helpers).
struct Served {
    child: Child,
    launch_to_first_200: Duration,
    http: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the process group of our own child.
        unsafe { libc::kill(-(self.child.id() as libc::pid_t), libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

/// The figures of one tool.
struct Figures {
    by_connections: Vec<(usize, Stats)>,
    launch: Duration,
    idle_mib: f64,
    loaded_mib: f64,
}

pub async fn table(root: &Path) -> String {
    let peer_dir = root.join("bench/peers/serverless-offline");
    install(&peer_dir);
    let ours = figures(start_ftb_offline(root).await).await;
    let theirs = figures(start_serverless_offline(&peer_dir).await).await;
    render(&ours, &theirs)
}

async fn figures(served: Served) -> Figures {
    let pid = served.child.id();
    let idle_mib = group_resident_mib(pid);
    let target = Target { addr: served.http.clone(), path: "/hello".into(), body: Bytes::from_static(br#"{"n":42}"#) };
    let mut by_connections = Vec::new();
    for connections in crate::LEVELS {
        let stats = crate::median_of_runs(&target, connections).await;
        println!("{connections:>2} conn  {}  {stats}", served.http);
        by_connections.push((connections, stats));
    }
    let loaded_mib = group_resident_mib(pid);
    Figures { by_connections, launch: served.launch_to_first_200, idle_mib, loaded_mib }
}

/// `npm ci` of the pinned serverless@3 and serverless-offline@13 (into the fixture's node_modules) when missing.
fn install(dir: &Path) {
    if dir.join("node_modules/.bin/serverless").exists() {
        return;
    }
    println!("installing serverless@3 and serverless-offline@13 (npm ci in {})", dir.display());
    let status = Command::new("npm")
        .current_dir(dir)
        .args(["ci", "--no-audit", "--no-fund", "--silent"])
        .status()
        .expect("npm runs (Node.js 20 is needed for the serverless-offline row)");
    assert!(status.success(), "npm ci failed in {}", dir.display());
}

async fn start_ftb_offline(root: &Path) -> Served {
    let binary = cli::release_binary(root);
    let port = free_port();
    let config = root.join("bench/serverless.yml");
    let args = ["start", "--no-build", "--release", "--no-watch", "-c", config.to_str().unwrap()];
    let mut command = Command::new(binary);
    command.current_dir(root).args(args).args([
        "--http-port",
        &port.to_string(),
        "--websocket-port",
        "0",
        "--lambda-port",
        "0",
    ]);
    serve(command, port).await
}

async fn start_serverless_offline(dir: &Path) -> Served {
    let port = free_port();
    let mut command = Command::new(dir.join("node_modules/.bin/serverless"));
    command
        .current_dir(dir)
        .args(["offline", "start", "--host", "127.0.0.1", "--httpPort", &port.to_string()])
        .args(["--lambdaPort", &free_port().to_string()])
        .env("SLS_TELEMETRY_DISABLED", "1")
        .env("SLS_NOTIFICATIONS_MODE", "off");
    serve(command, port).await
}

/// Spawns `command` in its own process group and times it until `POST /hello` on `port` answers 200.
async fn serve(mut command: Command, port: u16) -> Served {
    let started = Instant::now();
    let child = command.process_group(0).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("the tool starts");
    let http = format!("http://127.0.0.1:{port}");
    let target = Target { addr: http.clone(), path: "/hello".into(), body: Bytes::from_static(br#"{"n":1}"#) };
    while !load::answers_ok(&target).await {
        assert!(started.elapsed() < Duration::from_secs(120), "{http}/hello did not answer 200 within 2 minutes");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Served { child, launch_to_first_200: started.elapsed(), http }
}

/// Resident memory of a process and its descendants (the tool, not the handler processes of ftb-offline,
/// which are its children too: both tools' handlers are counted, as both run them).
fn group_resident_mib(pid: u32) -> f64 {
    let mut total = ftb_offline::procfs::resident_mib(pid).unwrap_or(0.0);
    for child in children(pid) {
        total += group_resident_mib(child);
    }
    total
}

/// The children of every thread of `pid` (a process started from a worker thread is listed under that thread).
fn children(pid: u32) -> Vec<u32> {
    let threads = std::fs::read_dir(format!("/proc/{pid}/task")).into_iter().flatten().flatten();
    threads
        .flat_map(|thread| {
            std::fs::read_to_string(thread.path().join("children"))
                .unwrap_or_default()
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn render(ours: &Figures, theirs: &Figures) -> String {
    let mut out = String::from(
        "| figure | ftb-offline | serverless-offline 13 | serverless-offline ÷ ftb-offline |\n|---|---|---|---|\n",
    );
    let mut row = |figure: String, ours: f64, theirs: f64, unit: &str| {
        out.push_str(&format!("| {figure} | {ours:.1} {unit} | {theirs:.1} {unit} | {:.1}× |\n", theirs / ours));
    };
    for ((connections, a), (_, b)) in ours.by_connections.iter().zip(&theirs.by_connections) {
        row(format!("p50 latency, {connections} connection(s)"), micros(a.p50), micros(b.p50), "µs");
        row(format!("p99 latency, {connections} connection(s)"), micros(a.p99), micros(b.p99), "µs");
        row(format!("requests/s, {connections} connection(s)"), a.requests_per_second, b.requests_per_second, "req/s");
    }
    row("launch → first 200".into(), ours.launch.as_secs_f64() * 1000.0, theirs.launch.as_secs_f64() * 1000.0, "ms");
    row("resident memory, idle (with handlers)".into(), ours.idle_mib, theirs.idle_mib, "MiB");
    row("resident memory, after the load".into(), ours.loaded_mib, theirs.loaded_mib, "MiB");
    out
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
