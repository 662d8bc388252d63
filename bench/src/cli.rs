//! Running the release `ftb-offline` binary as users do, and timing it until it reports ready.

pub use ftb_offline::lambda::runtimes::cargo::clear_cargo_run_variables;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Builds `target/release/ftb-offline` (a no-op when it is up to date) and returns its path.
pub fn release_binary(root: &Path) -> PathBuf {
    cargo_build_release(root, &["-p", "ftb-offline", "--bin", "ftb-offline"]);
    root.join("target/release/ftb-offline")
}

/// The benchmark service's handlers (bench/serverless.yml), for `ftb-offline start --no-build --release`. Each
/// binary is named: with `--bin` given, cargo builds only the binaries named, so a package's own would be left
/// out (bench-hello never existed on a fresh clone).
pub fn build_bench_handlers(root: &Path) {
    let binaries = ["bench-hello", "bench-hello-current-thread", "bench-sqs", "bench-whoami"];
    let mut args = vec!["-p", "bench-hello", "-p", "ftb-bench"];
    args.extend(binaries.iter().flat_map(|binary| ["--bin", binary]));
    cargo_build_release(root, &args);
}

/// `cargo build --release ARGS` in `root`, as a user would run it.
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

/// A running `ftb-offline`, killed with SIGINT when dropped.
pub struct Running {
    pub child: Child,
    /// From spawning to the `ready:` line.
    pub ready_after: Duration,
}

impl Running {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGINT) };
        let _ = self.child.wait();
    }
}

/// Starts `binary ARGS` in `dir` and waits (at most 2 minutes) for its `ready:` log line.
pub fn start_until_ready(binary: &Path, dir: &Path, args: &[&str]) -> Running {
    let started = Instant::now();
    let mut child = Command::new(binary)
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ftb-offline starts");
    let stderr = child.stderr.take().expect("piped stderr");
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("ready:") {
                let _ = sender.send(());
            }
        }
    });
    receiver.recv_timeout(Duration::from_secs(120)).expect("ftb-offline reports ready within 2 minutes");
    Running { child, ready_after: started.elapsed() }
}

/// Runs `binary ARGS` in `dir` to completion.
pub fn run(binary: &Path, dir: &Path, args: &[&str]) {
    let output = Command::new(binary).current_dir(dir).args(args).output().expect("ftb-offline runs");
    assert!(output.status.success(), "ftb-offline {args:?} failed: {}", String::from_utf8_lossy(&output.stderr));
}

/// Resident memory of `pid` in MiB (VmRSS).
pub fn resident_mib(pid: u32) -> f64 {
    ftb_offline::procfs::resident_mib(pid).unwrap_or(0.0)
}

pub fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}
