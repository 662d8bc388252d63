//! The `ftb-offline` command line as its own process ([`CliProcess`], [`run_cli`]), started on free ports, with
//! its log read line by line and the addresses of its `ready:` line ([`ReadyLine`]).

use crate::repo_root;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Arguments that put every listener of `ftb-offline start` on a free port (the ready line names them).
pub const FREE_PORTS: [&str; 10] =
    ["--http-port", "0", "--websocket-port", "0", "--lambda-port", "0", "--s3-port", "0", "--console-port", "0"];

/// The `ftb-offline` binary the test command built (`cargo build --workspace` before the tests).
pub fn ftb_offline_binary() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| repo_root().join("target"));
    let binary = target.join("debug/ftb-offline");
    assert!(
        binary.is_file(),
        "{} is missing: run the README's test command (scripts/test), which builds it",
        binary.display()
    );
    binary
}

/// The `ftb-offline` command line running in the background, its log read line by line.
pub struct CliProcess {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    /// Every line read so far, for failure messages.
    pub log: Vec<String>,
}

impl CliProcess {
    /// Starts `ftb-offline ARGS` in `dir` with extra environment variables.
    pub fn spawn(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Self {
        let mut command = std::process::Command::new(ftb_offline_binary());
        command.current_dir(dir).args(args).env("NO_COLOR", "1").env("FTB_LOG", "info");
        // Only what a test passes counts, not what the shell running the tests happens to have.
        command.env_remove("FTB_DYNAMODB_LOCAL_DIR").env_remove("DOCKER_HOST").env_remove("VIRTUAL_ENV");
        for (key, value) in env {
            command.env(key, value);
        }
        let mut child = command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("ftb-offline starts");
        let (sender, lines) = std::sync::mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let sender = sender.clone();
            std::thread::spawn(move || {
                use std::io::BufRead;
                for line in std::io::BufReader::new(stream).lines().map_while(Result::ok) {
                    let _ = sender.send(strip_ansi(&line));
                }
            });
        }
        Self { child, lines, log: Vec::new() }
    }

    /// The first line (from now on) containing `needle`; panics with the log after `limit`.
    pub fn wait_for_line(&mut self, needle: &str, limit: Duration) -> String {
        let deadline = std::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.log.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!("no line with {needle:?} within {limit:?}; the log:\n{}", self.log.join("\n")),
            }
        }
    }

    /// The lines written since the last call (without waiting), also kept in `log`.
    pub fn new_lines(&mut self) -> Vec<String> {
        let fresh: Vec<String> = self.lines.try_iter().collect();
        self.log.extend(fresh.iter().cloned());
        fresh
    }

    /// Waits for the emulator's `ready:` line, which names every bound endpoint.
    pub fn wait_until_ready(&mut self, limit: Duration) -> ReadyLine {
        ReadyLine(self.wait_for_line("ready:", limit))
    }

    /// Sends Ctrl-C (SIGINT) and waits for the exit status.
    pub fn interrupt(mut self) -> std::process::ExitStatus {
        // SAFETY: kill(2) on our own child's pid.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGINT) };
        self.child.wait().expect("ftb-offline exits")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `kill -9`: the process ends at once, with no chance to save or clean anything.
    pub fn crash(mut self) {
        self.child.kill().expect("SIGKILL reaches our own child");
        self.child.wait().expect("ftb-offline exits");
    }

    /// Waits for the process to end on its own and returns its status and whole output.
    pub fn finish(mut self, limit: Duration) -> (std::process::ExitStatus, String) {
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("the child can be waited for") {
                while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
                    self.log.push(line);
                }
                return (status, self.log.join("\n"));
            }
            assert!(std::time::Instant::now() < deadline, "ftb-offline did not exit within {limit:?}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for CliProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `ready: HTTP API on http://…, WebSocket API on ws://…, Lambda, SQS and SNS APIs on http://…, S3 on http://…, DynamoDB at http://…`
pub struct ReadyLine(pub String);

impl ReadyLine {
    /// The address written after `label` (`"HTTP API on "`, `"DynamoDB at "`).
    pub fn address(&self, label: &str) -> String {
        let rest = self.0.split(label).nth(1).unwrap_or_else(|| panic!("no {label:?} in {:?}", self.0));
        rest.split([',', ' ']).next().unwrap_or_default().to_string()
    }
}

/// Runs `ftb-offline ARGS` in `dir` to completion.
pub fn run_cli(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (std::process::ExitStatus, String) {
    CliProcess::spawn(dir, args, env).finish(Duration::from_secs(120))
}

fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
