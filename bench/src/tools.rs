//! The tools the bench measures, each started as users run it, as its own process group owned from its spawn
//! (`processes::Owned`): ftb-offline (release), `cargo lambda watch`, serverless-offline 13 and the process
//! model's limit (`limit.rs`). A tool that cannot start gives the reason instead (`Err`), which the tables show
//! as "could not start: …".

use crate::cli;
use crate::load::{self, Target};
use crate::processes::{Owned, Stop};
use bytes::Bytes;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// The handler processes each tool may run at once: ftb-offline's default `--max-concurrency`, and the same
/// for `cargo lambda watch --concurrency` and the limit (serverless-offline has no such setting).
pub const CONCURRENCY: usize = 10;
/// How long a tool has to answer its first 200 (cargo lambda watch may build first).
const START_LIMIT: Duration = Duration::from_secs(300);
/// How long one request may take while a tool starts before it is asked again.
const ATTEMPT_LIMIT: Duration = Duration::from_secs(60);

/// One tool serving the route.
pub struct Served {
    pub process: Owned,
    pub launch_to_first_200: Duration,
    pub target: Target,
    /// The WebSocket API's port (cargo lambda watch has none).
    pub websocket_port: Option<u16>,
    /// The route to bench-hello-current-thread, the same handler on a current-thread runtime (the Rust tools).
    pub current_thread: Option<Target>,
}

/// The request body of the routes.
pub fn body() -> Bytes {
    Bytes::from_static(br#"{"n":42}"#)
}

/// `npm ci` of the pinned serverless@3, serverless-offline@13 and serverless-offline-sqs@8 (into the fixture's
/// node_modules) when one is missing.
pub fn install_serverless_offline(dir: &Path) -> Result<(), String> {
    let installed = ["node_modules/.bin/serverless", "node_modules/serverless-offline-sqs/package.json"];
    if installed.iter().all(|path| dir.join(path).exists()) {
        return Ok(());
    }
    println!(
        "installing serverless@3, serverless-offline@13 and serverless-offline-sqs@8 (npm ci in {})",
        dir.display()
    );
    let status = Command::new("npm")
        .current_dir(dir)
        .args(["ci", "--no-audit", "--no-fund", "--silent"])
        .status()
        .map_err(|err| format!("npm does not run (Node.js 20 is needed): {err}"))?;
    if !status.success() {
        return Err(format!("npm ci failed ({status})"));
    }
    Ok(())
}

/// `ftb-offline start` (release) on bench/serverless.yml, with `concurrency` processes per function.
pub async fn start_ftb_offline(root: &Path, concurrency: usize) -> Result<Served, String> {
    let binary = cli::release_binary(root);
    cli::build_bench_handlers(root);
    let (port, websocket_port) = (cli::free_port(), cli::free_port());
    let config = root.join("bench/serverless.yml");
    let args = ["start", "--no-console", "--no-build", "--release", "--no-watch", "-c", config.to_str().unwrap()];
    let mut command = Command::new(binary);
    command.current_dir(root).args(args).args(["--max-concurrency", &concurrency.to_string()]).args([
        "--http-port",
        &port.to_string(),
        "--websocket-port",
        &websocket_port.to_string(),
        "--lambda-port",
        "0",
        "--s3-port",
        "0",
    ]);
    let mut served = serve(command, port, "/hello", Some(websocket_port)).await?;
    served.also_serve("/hello-current-thread").await?;
    Ok(served)
}

/// `cargo lambda watch` on bench-hello in release, as ftb-offline runs it here. It checks the build before it
/// answers; that check is a no-op because the same build (`cargo build --release -p bench-hello`, cargo lambda's
/// own package selection, whose features differ from the workspace's) is made first, so its launch is not a build.
pub async fn start_cargo_lambda_watch(root: &Path, concurrency: usize) -> Result<Served, String> {
    cli::cargo_build_release(root, &["-p", "bench-hello"]);
    let port = cli::free_port();
    let mut command = Command::new("cargo");
    cli::clear_cargo_run_variables(&mut command);
    command.current_dir(root).args(["lambda", "watch", "--release", "-p", "bench-hello"]).args([
        "--invoke-address",
        "127.0.0.1",
        "--invoke-port",
        &port.to_string(),
        "--concurrency",
        &concurrency.to_string(),
        "--ignore-changes",
    ]);
    let mut served = serve(command, port, "/lambda-url/bench-hello/hello", None).await?;
    served.also_serve("/lambda-url/bench-hello-current-thread/hello").await?;
    Ok(served)
}

/// serverless-offline on the fixture in `dir` (installed first when missing), with `env` added to its
/// environment.
pub async fn start_serverless_offline(dir: &Path, env: &[(&str, String)]) -> Result<Served, String> {
    install_serverless_offline(dir)?;
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

/// Spawns `command` in its own process group and times it until `POST path` on `port` answers 200. The tool is
/// owned from its spawn on, so one that never answers is stopped with its process group.
pub async fn serve(mut command: Command, port: u16, path: &str, websocket_port: Option<u16>) -> Result<Served, String> {
    let started = Instant::now();
    let mut process = Owned::spawn(&mut command, Stop::KillGroup, "")?;
    let target = Target { addr: format!("http://127.0.0.1:{port}"), path: path.into(), body: body() };
    wait_for_200(&mut process, &target).await?;
    let launch_to_first_200 = started.elapsed();
    Ok(Served { process, launch_to_first_200, target, websocket_port, current_thread: None })
}

impl Served {
    pub fn pid(&self) -> u32 {
        self.process.id()
    }

    /// Pauses (SIGSTOP) or resumes (SIGCONT) the tool's process group: while one tool is measured, the others'
    /// timers and watchers stay off the cores, as when a user runs one tool.
    pub fn pause(&self, paused: bool) {
        self.process.signal(if paused { libc::SIGSTOP } else { libc::SIGCONT });
    }

    /// Adds the route to the current-thread handler, once it answers 200.
    async fn also_serve(&mut self, path: &str) -> Result<(), String> {
        let target = Target { addr: self.target.addr.clone(), path: path.into(), body: body() };
        wait_for_200(&mut self.process, &target).await?;
        self.current_thread = Some(target);
        Ok(())
    }

    /// The same tool on another route of the same body.
    pub fn route(&self, path: &str) -> Target {
        Target { addr: self.target.addr.clone(), path: path.into(), body: body() }
    }
}

/// Waits (at most 5 minutes) until `target` answers 200; the reason if the process exits first or it never does.
async fn wait_for_200(process: &mut Owned, target: &Target) -> Result<(), String> {
    let started = Instant::now();
    loop {
        let attempt = tokio::time::timeout(ATTEMPT_LIMIT, load::answers_ok(target)).await;
        if matches!(attempt, Ok(true)) {
            return Ok(());
        }
        if let Some(reason) = process.exited() {
            return Err(reason);
        }
        if started.elapsed() > START_LIMIT {
            return Err(process.explain(&format!("POST {} did not answer 200 within 5 minutes", target.path)));
        }
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
pub fn children(pid: u32) -> Vec<u32> {
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
