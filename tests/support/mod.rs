//! Shared set-up for the end-to-end tests: an emulator started in-process on port 0 from a fixture
//! `serverless.yml` (so tests run side by side), and real AWS clients pointed at it.

pub mod app;

use ftb_offline::lambda::build::BuildMode;
use ftb_offline::{Emulator, EmulatorOptions};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ is inside the repository").to_path_buf()
}

/// The test-only functions in `tests/fixtures/serverless.yml`.
pub fn fixtures_config() -> PathBuf {
    repo_root().join("tests/fixtures/serverless.yml")
}

/// Options for an emulator of the fixture functions on free ports, building them with cargo first.
pub fn fixture_options() -> EmulatorOptions {
    let mut options = EmulatorOptions::new(fixtures_config());
    options.http_port = Some(0);
    options.websocket_port = Some(0);
    options.lambda_port = Some(0);
    options.build = BuildMode::Build { release: false };
    options
}

pub async fn start_fixtures() -> Emulator {
    start(fixture_options()).await
}

pub async fn start(options: EmulatorOptions) -> Emulator {
    Emulator::start(options).await.unwrap_or_else(|err| panic!("the emulator did not start: {err}"))
}

/// A stock client of one AWS SDK crate for `endpoint`, with dummy credentials (the config types differ per crate).
macro_rules! stock_client {
    ($sdk:ident, $endpoint:expr) => {{
        use $sdk::config::{BehaviorVersion, Credentials, Region};
        let config = $sdk::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-north-1"))
            .credentials_provider(Credentials::new("test", "test", None, None, "ftb-offline-tests"))
            .endpoint_url($endpoint)
            .build();
        $sdk::Client::from_conf(config)
    }};
}

/// `aws-sdk-lambda` for this emulator's Lambda API.
pub fn lambda_client(emulator: &Emulator) -> aws_sdk_lambda::Client {
    lambda_client_at(&emulator.endpoints().lambda_url())
}

/// `aws-sdk-lambda` for the Lambda API at `endpoint`.
pub fn lambda_client_at(endpoint: &str) -> aws_sdk_lambda::Client {
    stock_client!(aws_sdk_lambda, endpoint)
}

/// `aws-sdk-sqs` for this emulator's SQS API.
pub fn sqs_client(emulator: &Emulator) -> aws_sdk_sqs::Client {
    sqs_client_at(&emulator.endpoints().lambda_url())
}

/// `aws-sdk-sqs` for the SQS API at `endpoint` (an emulator running as its own process).
pub fn sqs_client_at(endpoint: &str) -> aws_sdk_sqs::Client {
    stock_client!(aws_sdk_sqs, endpoint)
}

/// `aws-sdk-apigatewaymanagement` for `endpoint` (`http://127.0.0.1:PORT/dev`).
pub fn management_client(endpoint: &str) -> aws_sdk_apigatewaymanagement::Client {
    stock_client!(aws_sdk_apigatewaymanagement, endpoint)
}

/// `text` as a form or query value: everything but unreserved characters percent-encoded.
pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Runs `tests/browser/<script>` (headless Chromium through playwright-core) with `args`, and returns the JSON
/// line it prints. Panics with its output if it fails.
pub async fn run_browser_script(script: &str, args: &[&std::ffi::OsStr]) -> serde_json::Value {
    let browser_tests = repo_root().join("tests/browser");
    assert!(
        browser_tests.join("node_modules/playwright-core").is_dir(),
        "playwright-core is missing: run the README's test command (scripts/test), which installs it"
    );
    let output = tokio::process::Command::new("node")
        .arg(browser_tests.join(script))
        .args(args)
        .output()
        .await
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "the browser run failed:\n{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{script} printed no JSON line ({e}): {stdout}"))
}

/// Polls `condition` every 20 ms until it holds or `limit` passes.
pub async fn eventually(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if condition() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    condition()
}

/// The AWS CLI, which the test command installs. Missing, the test fails with what to do. Async, so the
/// emulator in the same test keeps serving while the CLI waits for it.
pub fn aws_cli() -> tokio::process::Command {
    let found = std::process::Command::new("aws").arg("--version").output().is_ok_and(|o| o.status.success());
    assert!(found, "the AWS CLI is not installed: run the README's test command (scripts/test), which installs it");
    let mut command = tokio::process::Command::new("aws");
    command
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_DEFAULT_REGION", "eu-north-1")
        .env("AWS_PAGER", "")
        .env_remove("AWS_PROFILE");
    command
}

/// Options for an emulator of `tests/fixtures/http.yml` on free ports.
pub fn http_options() -> EmulatorOptions {
    let mut options = fixture_options();
    options.config_path = repo_root().join("tests/fixtures/http.yml");
    options
}

/// An AWS sample event shipped with `aws_lambda_events` (the fixtures it tests itself against).
pub fn aws_sample_event(name: &str) -> serde_json::Value {
    let path = sample_events_dir().join(name);
    serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

fn sample_events_dir() -> PathBuf {
    let registry = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap()).join(".cargo"));
    let sources = registry.join("registry/src");
    std::fs::read_dir(&sources)
        .expect("the cargo registry sources")
        .flatten()
        .flat_map(|index| std::fs::read_dir(index.path()).into_iter().flatten().flatten())
        .filter(|krate| krate.file_name().to_string_lossy().starts_with("aws_lambda_events-1."))
        .map(|krate| krate.path().join("src/fixtures"))
        .find(|fixtures| fixtures.is_dir())
        .expect("aws_lambda_events' fixtures in the cargo registry")
}

/// Options for an emulator of `tests/fixtures/ws.yml` whose handler records events in `events_dir`.
pub fn ws_options(events_dir: &Path) -> EmulatorOptions {
    let mut options = fixture_options();
    options.config_path = repo_root().join("tests/fixtures/ws.yml");
    options.load.params.insert("eventsDir".into(), events_dir.display().to_string());
    options
}

/// The events the WebSocket fixture recorded so far.
pub fn recorded_events(events_dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(events_dir.join("events.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON event per line"))
        .collect()
}

/// Options for an emulator of `tests/fixtures/sqs.yml` whose consumers record what they see in `events_dir`.
pub fn sqs_options(events_dir: &Path) -> EmulatorOptions {
    let mut options = fixture_options();
    options.config_path = repo_root().join("tests/fixtures/sqs.yml");
    options.load.params.insert("eventsDir".into(), events_dir.display().to_string());
    options
}

/// What the SQS fixture recorded: one entry per record it received.
pub fn recorded_records(events_dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(events_dir.join("sqs.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON record per line"))
        .collect()
}

/// `aws-sdk-dynamodb` for a DynamoDB Local at `endpoint`.
pub fn dynamodb_client(endpoint: &str) -> aws_sdk_dynamodb::Client {
    stock_client!(aws_sdk_dynamodb, endpoint)
}

/// Arguments that put every listener of `ftb-offline start` on a free port (the ready line names them).
pub const FREE_PORTS: [&str; 6] = ["--http-port", "0", "--websocket-port", "0", "--lambda-port", "0"];

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
        command.env_remove("FTB_DYNAMODB_LOCAL_DIR").env_remove("DOCKER_HOST");
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

/// `ready: HTTP API on http://…, WebSocket API on ws://…, Lambda and SQS APIs on http://…, DynamoDB at http://…`
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
