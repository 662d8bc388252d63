//! ftb-offline beside its peers on the same route in the same run: `POST /hello`, answered
//! - by a plain hyper server in-process doing the handler's work (the physical limit);
//! - by ftb-offline's HTTP API route with bench-hello (bench/hello), the Rust handler;
//! - by `cargo lambda watch` with the same bench-hello crate, on its function URL route;
//! - by serverless-offline 13 (the last line for Serverless Framework v3) with bench-hello's Node.js twin
//!   (bench/peers/serverless-offline/handler.js).
//!
//! The three tools run as users run them, as their own processes: latency and requests/s at 1 and 32
//! connections (wrk, the runs of all four interleaved), launch to the first 200, and resident memory idle and
//! after the load.

use crate::cli;
use crate::load::{self, Stats, Target};
use bytes::Bytes;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The handler processes each tool may run at once: ftb-offline's default `--max-concurrency`, and the same
/// for `cargo lambda watch --concurrency` (serverless-offline has no such setting).
const CONCURRENCY: usize = 10;

/// One tool serving the route, as a process group (each starts helpers or handler processes).
pub struct Served {
    pub child: Child,
    launch_to_first_200: Duration,
    pub target: Target,
    /// The WebSocket API's port (cargo lambda watch has none).
    pub websocket_port: Option<u16>,
    /// The route to bench-hello-current-thread, the same handler on a current-thread runtime (the Rust tools).
    current_thread: Option<Target>,
}

impl Drop for Served {
    fn drop(&mut self) {
        // SAFETY: kill(2) on the process group of our own child.
        unsafe { libc::kill(-(self.child.id() as libc::pid_t), libc::SIGKILL) };
        let _ = self.child.wait();
    }
}

/// The figures of one tool (the in-process limit has no launch time or memory of its own).
pub struct Figures {
    pub name: &'static str,
    pub by_connections: Vec<(usize, Stats)>,
    pub launch: Option<Duration>,
    pub idle_mib: Option<f64>,
    pub loaded_mib: Option<f64>,
}

/// The peers table, the table of the handler's runtime, and the figures of the first (for the chart).
pub struct Tables {
    pub peers: String,
    pub handler_runtime: String,
    pub figures: Vec<Figures>,
}

/// Starts every tool (one after the other, for the launch figure), then measures them with their runs
/// interleaved (limit, ftb-offline, cargo lambda watch, serverless-offline, then the two Rust tools on the
/// current-thread handler, then again), so a drift of the machine's speed during the run touches every tool alike.
/// While one tool is measured, the others are paused.
pub async fn table(root: &Path) -> Tables {
    let peer_dir = root.join("bench/peers/serverless-offline");
    install_serverless_offline(&peer_dir);
    let (_stop, limit_addr) = crate::start_baseline().await;
    let limit = Target { addr: limit_addr, path: "/hello".into(), body: body() };
    let served = [
        start_ftb_offline(root).await,
        start_cargo_lambda_watch(root).await,
        start_serverless_offline(&peer_dir, &[]).await,
    ];
    let names = [
        "hyper in-process",
        "ftb-offline",
        "cargo lambda watch",
        "serverless-offline 13",
        "ftb-offline, current-thread handler",
        "cargo lambda watch, current-thread handler",
    ];
    let idle: Vec<f64> = served.iter().map(|s| group_resident_mib(s.child.id())).collect();
    // Each target with the tool serving it (the limit is in-process): the others are paused while it is measured.
    let mut owned: Vec<(&Target, Option<usize>)> = vec![(&limit, None)];
    owned.extend(served.iter().enumerate().map(|(index, tool)| (&tool.target, Some(index))));
    owned.extend(
        served.iter().enumerate().filter_map(|(index, tool)| tool.current_thread.as_ref().map(|t| (t, Some(index)))),
    );
    let targets: Vec<&Target> = owned.iter().map(|(target, _)| *target).collect();
    let focus = |target: usize| {
        for (index, tool) in served.iter().enumerate() {
            tool.pause(owned[target].1 != Some(index));
        }
    };
    let mut stats: Vec<Vec<(usize, Stats)>> = vec![Vec::new(); targets.len()];
    for connections in crate::LEVELS {
        for (tool, median) in crate::interleaved_medians(&targets, connections, &focus).await.into_iter().enumerate() {
            println!("{connections:>2} conn  {:<42} {median}", names[tool]);
            stats[tool].push((connections, median));
        }
    }
    served.iter().for_each(|tool| tool.pause(false));
    let request_figures = |index: usize| Figures {
        name: names[index],
        by_connections: stats[index].clone(),
        launch: None,
        idle_mib: None,
        loaded_mib: None,
    };
    let mut all = vec![request_figures(0)];
    for (index, tool) in served.iter().enumerate() {
        all.push(Figures {
            launch: Some(tool.launch_to_first_200),
            idle_mib: Some(idle[index]),
            loaded_mib: Some(group_resident_mib(tool.child.id())),
            ..request_figures(index + 1)
        });
    }
    let handler_runtime = render(&[request_figures(0), request_figures(4), request_figures(5)]);
    Tables { peers: render(&all), handler_runtime, figures: all }
}

fn body() -> Bytes {
    Bytes::from_static(br#"{"n":42}"#)
}

/// `npm ci` of the pinned serverless@3, serverless-offline@13 and serverless-offline-sqs@8 (into the fixture's
/// node_modules) when one is missing.
pub fn install_serverless_offline(dir: &Path) {
    let installed = ["node_modules/.bin/serverless", "node_modules/serverless-offline-sqs/package.json"];
    if installed.iter().all(|path| dir.join(path).exists()) {
        return;
    }
    println!(
        "installing serverless@3, serverless-offline@13 and serverless-offline-sqs@8 (npm ci in {})",
        dir.display()
    );
    let status = Command::new("npm")
        .current_dir(dir)
        .args(["ci", "--no-audit", "--no-fund", "--silent"])
        .status()
        .expect("npm runs (Node.js 20 is needed for the serverless-offline row)");
    assert!(status.success(), "npm ci failed in {}", dir.display());
}

pub async fn start_ftb_offline(root: &Path) -> Served {
    let binary = cli::release_binary(root);
    cli::build_bench_handlers(root);
    let (port, websocket_port) = (cli::free_port(), cli::free_port());
    let config = root.join("bench/serverless.yml");
    let args = ["start", "--no-build", "--release", "--no-watch", "-c", config.to_str().unwrap()];
    let mut command = Command::new(binary);
    command.current_dir(root).args(args).args(["--max-concurrency", &CONCURRENCY.to_string()]).args([
        "--http-port",
        &port.to_string(),
        "--websocket-port",
        &websocket_port.to_string(),
        "--lambda-port",
        "0",
    ]);
    let mut served = serve(command, port, "/hello", Some(websocket_port)).await;
    served.also_serve("/hello-current-thread").await;
    served
}

/// `cargo lambda watch` on bench-hello in release, as ftb-offline runs it here. It checks the build (a no-op:
/// `cli::release_binary` built it with the same settings) before it answers.
async fn start_cargo_lambda_watch(root: &Path) -> Served {
    cli::build_bench_handlers(root);
    let port = cli::free_port();
    let mut command = Command::new("cargo");
    cli::clear_cargo_run_variables(&mut command);
    command.current_dir(root).args(["lambda", "watch", "--release", "-p", "bench-hello"]).args([
        "--invoke-address",
        "127.0.0.1",
        "--invoke-port",
        &port.to_string(),
        "--concurrency",
        &CONCURRENCY.to_string(),
        "--ignore-changes",
    ]);
    let mut served = serve(command, port, "/lambda-url/bench-hello/hello", None).await;
    served.also_serve("/lambda-url/bench-hello-current-thread/hello").await;
    served
}

/// serverless-offline on the fixture in `dir`, with `env` added to its environment.
pub async fn start_serverless_offline(dir: &Path, env: &[(&str, String)]) -> Served {
    let (port, websocket_port) = (cli::free_port(), cli::free_port());
    let mut command = Command::new(dir.join("node_modules/.bin/serverless"));
    command
        .current_dir(dir)
        .args(["offline", "start", "--host", "127.0.0.1", "--httpPort", &port.to_string()])
        .args(["--websocketPort", &websocket_port.to_string()])
        .args(["--lambdaPort", &cli::free_port().to_string()])
        .env("SLS_TELEMETRY_DISABLED", "1")
        .env("SLS_NOTIFICATIONS_MODE", "off")
        .envs(env.iter().map(|(name, value)| (name, value)));
    serve(command, port, "/hello", Some(websocket_port)).await
}

/// Spawns `command` in its own process group and times it until `POST path` on `port` answers 200.
/// The tool is owned from its spawn on, so a tool that never answers is stopped with its process group when the
/// bench panics.
pub(crate) async fn serve(mut command: Command, port: u16, path: &str, websocket_port: Option<u16>) -> Served {
    let started = Instant::now();
    let child = command.process_group(0).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("the tool starts");
    let target = Target { addr: format!("http://127.0.0.1:{port}"), path: path.into(), body: body() };
    let mut served =
        Served { child, launch_to_first_200: Duration::ZERO, target, websocket_port, current_thread: None };
    wait_for_200(&served.target).await;
    served.launch_to_first_200 = started.elapsed();
    served
}

impl Served {
    /// Pauses (SIGSTOP) or resumes (SIGCONT) the tool's process group: while one tool is measured, the others'
    /// timers and watchers stay off the cores, as when a user runs one tool.
    pub fn pause(&self, paused: bool) {
        let signal = if paused { libc::SIGSTOP } else { libc::SIGCONT };
        // SAFETY: kill(2) on the process group of our own child.
        unsafe { libc::kill(-(self.child.id() as libc::pid_t), signal) };
    }

    /// Adds the route to the current-thread handler, once it answers 200.
    async fn also_serve(&mut self, path: &str) {
        let target = Target { addr: self.target.addr.clone(), path: path.into(), body: body() };
        wait_for_200(&target).await;
        self.current_thread = Some(target);
    }
}

/// Waits (at most 5 minutes: cargo lambda watch may build first) until `target` answers 200.
async fn wait_for_200(target: &Target) {
    let started = Instant::now();
    while !load::answers_ok(target).await {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "{}{} did not answer 200 within 5 minutes",
            target.addr,
            target.path
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Resident memory of a process and its descendants: each tool's handler processes are counted, as each runs them.
pub fn group_resident_mib(pid: u32) -> f64 {
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

/// One row per figure, one column per tool, and each peer's figure as a ratio to ftb-offline's (`×`): above 1
/// means ftb-offline is ahead (faster, smaller), for requests/s as well (ftb-offline's ÷ the peer's).
fn render(all: &[Figures]) -> String {
    let ours = &all[1];
    let mut out = String::from("| figure |");
    for tool in all {
        out.push_str(&format!(" {} |", tool.name));
    }
    out.push('\n');
    out.push_str(&"|---".repeat(all.len() + 1));
    out.push_str("|\n");
    let mut row = |figure: String, value: &dyn Fn(&Figures) -> Option<f64>, unit: &str, lower_is_better: bool| {
        if all.iter().all(|tool| value(tool).is_none()) {
            return;
        }
        out.push_str(&format!("| {figure} |"));
        let mine = value(ours);
        for tool in all {
            match value(tool) {
                Some(v) if tool.name == ours.name => out.push_str(&format!(" **{} {unit}** |", number(v))),
                Some(v) => {
                    let ratio = mine.map(|m| format!(" ({:.1}×)", lead(m, v, lower_is_better))).unwrap_or_default();
                    out.push_str(&format!(" {} {unit}{ratio} |", number(v)));
                }
                None => out.push_str(" – |"),
            }
        }
        out.push('\n');
    };
    for (index, connections) in crate::LEVELS.iter().enumerate() {
        let stat = move |f: &Figures| f.by_connections[index].1;
        let plural = if *connections == 1 { "" } else { "s" };
        row(format!("p50 latency, {connections} connection{plural}"), &|f| Some(micros(stat(f).p50)), "µs", true);
        row(format!("p99 latency, {connections} connection{plural}"), &|f| Some(micros(stat(f).p99)), "µs", true);
        row(
            format!("requests/s, {connections} connection{plural}"),
            &|f| Some(stat(f).requests_per_second),
            "req/s",
            false,
        );
    }
    row("launch → first 200".into(), &|f| f.launch.map(|d| d.as_secs_f64() * 1000.0), "ms", true);
    row("resident memory, idle (with handlers)".into(), &|f| f.idle_mib, "MiB", true);
    row("resident memory, after the load".into(), &|f| f.loaded_mib, "MiB", true);
    out
}

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
