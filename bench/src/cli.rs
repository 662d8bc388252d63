//! Running the release `ftb-offline` binary as users do, and timing it until it reports ready; building the
//! bench's release binaries.

use crate::processes::{Owned, Stop};
pub use ftb_offline::lambda::runtimes::cargo::clear_cargo_run_variables;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Builds `target/release/ftb-offline` (a no-op when it is up to date) and returns its path.
pub fn release_binary(root: &Path) -> PathBuf {
    cargo_build_release(root, &["--workspace", "--bin", "ftb-offline"]);
    release_path(root, "ftb-offline")
}

/// Where cargo puts the release build of `binary` (`CARGO_TARGET_DIR`, or the repository's `target`).
pub fn release_path(root: &Path, binary: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root.join("target"));
    target.join("release").join(binary)
}

/// The benchmark service's handlers (bench/serverless.yml), for `ftb-offline start --no-build --release`, and
/// `bench-limit`, the process model's limit. Each binary is named: with `--bin` given, cargo builds only the
/// binaries named, so a package's own would be left out (bench-hello never existed on a fresh clone).
pub fn build_bench_handlers(root: &Path) {
    let binaries =
        ["bench-hello", "bench-hello-current-thread", "bench-sqs", "bench-whoami", "bench-echo", "bench-limit"];
    let mut args = vec!["--workspace"];
    args.extend(binaries.iter().flat_map(|binary| ["--bin", binary]));
    cargo_build_release(root, &args);
}

/// `cargo build --release ARGS` in `root`, as a user would run it. Callers select the workspace (`--workspace
/// --bin …`), as `ftb-offline start` does for handlers, so every release build resolves features alike and shares
/// its dependencies (`-p` would resolve them per package and rebuild what differs).
pub fn cargo_build_release(root: &Path, args: &[&str]) {
    let mut cargo = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    clear_cargo_run_variables(&mut cargo);
    let status = cargo.current_dir(root).args(["build", "--release"]).args(args).status().expect("cargo runs");
    assert!(status.success(), "cargo build --release {args:?} failed");
}

/// A loopback port free right now (the tool given it binds it a moment later).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A running `ftb-offline`, stopped with SIGINT when dropped (it stops its handler processes).
pub struct Running {
    pub process: Owned,
    /// From spawning to the `ready:` line.
    pub ready_after: Duration,
}

impl Running {
    pub fn pid(&self) -> u32 {
        self.process.id()
    }
}

/// Starts `binary ARGS` in `dir` and waits (at most 2 minutes) for its `ready:` log line; the reason if it exits
/// or stays silent.
pub fn start_until_ready(binary: &Path, dir: &Path, args: &[&str]) -> Result<Running, String> {
    let started = Instant::now();
    let mut command = Command::new(binary);
    command.current_dir(dir).args(args).env("NO_COLOR", "1");
    let mut process = Owned::spawn(&mut command, Stop::Interrupt, "ready:")?;
    process.wait_for_marker(Duration::from_secs(120))?;
    Ok(Running { process, ready_after: started.elapsed() })
}

/// Runs `binary ARGS` in `dir` to completion; the reason if it fails.
pub fn run(binary: &Path, dir: &Path, args: &[&str]) -> Result<(), String> {
    let output = Command::new(binary)
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .map_err(|err| format!("{} does not run: {err}", binary.display()))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr.lines().rev().find(|line| !line.trim().is_empty()).unwrap_or_default();
    Err(format!("{} {} failed ({}): {last}", binary.display(), args.join(" "), output.status))
}

/// Resident memory of `pid` in MiB (VmRSS).
pub fn resident_mib(pid: u32) -> f64 {
    ftb_offline::procfs::resident_mib(pid).unwrap_or(0.0)
}

pub fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}
