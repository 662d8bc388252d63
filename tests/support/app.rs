//! The Fault Tolerant App as the end-to-end and fault-injection tests run it: `ftb-offline start:with-db` on the
//! repository's serverless.yml, with DynamoDB Local in Docker, each test on its own stage (so its own tables,
//! queues and database container) and free ports.

use crate::{repo_root, run_cli, CliProcess};
use futures_util::StreamExt;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

pub const ALLOWED_ORIGIN: &str = "http://localhost:4200";
pub const READY: Duration = Duration::from_secs(120);
/// The tasks queue's visibility timeout for tests whose tasks fail: the gap between attempts. SQS hands a message
/// out again once it expires, whether or not the attempt holding it has ended, so it must outlast an attempt
/// on a loaded machine (a cold start, DynamoDB Local, the push); at 1 s the retries' pushes could overlap.
pub const RETRY_AFTER_3_S: &str = "queueVisibilityTimeout=3";

pub type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A running app: the `ftb-offline` process and where it answers.
pub struct App {
    pub process: Option<CliProcess>,
    /// The service directory it runs in (the repository's root for the Rust app).
    dir: PathBuf,
    pub stage: String,
    pub http: String,
    pub websocket: String,
    /// The Lambda and SQS APIs, and DynamoDB Local.
    pub lambda: String,
    pub dynamodb: String,
    /// The web console.
    pub console: String,
    /// Extra arguments of `start:with-db`, kept for a restart.
    extra: Vec<String>,
}

impl App {
    pub fn start(stage: &str, params: &[&str]) -> Self {
        Self::start_with(stage, params, &[])
    }

    /// `start:with-db` with `extra` arguments too (`--persist`, `--db-port 8123`).
    pub fn start_with(stage: &str, params: &[&str], extra: &[&str]) -> Self {
        Self::start_in(&repo_root(), stage, params, extra)
    }

    /// The app whose serverless.yml is in `dir` (`examples/node-app`).
    pub fn start_in(dir: &Path, stage: &str, params: &[&str], extra: &[&str]) -> Self {
        let mut args = vec!["start:with-db", "--no-build", "--no-watch", "--stage", stage];
        args.extend(crate::FREE_PORTS);
        for param in params {
            args.extend_from_slice(&["--param", param]);
        }
        args.extend_from_slice(extra);
        if !extra.contains(&"--db-port") {
            args.extend_from_slice(&["--db-port", "0"]);
        }
        let mut process = CliProcess::spawn(dir, &args, &[]);
        let ready = process.wait_until_ready(READY);
        let (http, websocket) = (ready.address("HTTP API on "), ready.address("WebSocket API on "));
        let (lambda, dynamodb) = (ready.address("Lambda, SQS and SNS APIs on "), ready.address("DynamoDB at "));
        let console = ready.address("console on ");
        let extra = extra.iter().map(|s| s.to_string()).collect();
        let stage = stage.to_string();
        let dir = dir.to_path_buf();
        Self { process: Some(process), dir, stage, http, websocket, lambda, dynamodb, console, extra }
    }

    pub fn tasks_url(&self) -> String {
        format!("{}/{}/tasks", self.http, self.stage)
    }

    pub async fn connect(&self) -> Socket {
        let (socket, _) = tokio_tungstenite::connect_async(&self.websocket).await.expect("the WebSocket API accepts");
        socket
    }

    pub async fn submit(&self, body: Value) -> reqwest::Response {
        reqwest::Client::new()
            .post(self.tasks_url())
            .header("Origin", ALLOWED_ORIGIN)
            .json(&body)
            .send()
            .await
            .expect("POST /tasks answers")
    }

    /// `ftb-offline trigger <function>` against this app: fires the function's schedule now, and returns what the
    /// function answered.
    pub async fn trigger(&self, function: &str) -> Value {
        let port = self.lambda.rsplit(':').next().expect("a port").to_string();
        let args = ["trigger", function, "--stage", &self.stage, "--lambda-port", &port];
        let dir = self.dir.clone();
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let (status, output) = tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            crate::run_cli(&dir, &args, &[])
        })
        .await
        .unwrap();
        assert!(status.success(), "trigger {function}: {output}");
        let answer = output.lines().rev().find(|line| line.trim_start().starts_with('{')).unwrap_or_default();
        serde_json::from_str(answer).unwrap_or_else(|e| panic!("trigger's output {output:?}: {e}"))
    }

    pub async fn tasks(&self) -> Vec<Value> {
        let response = reqwest::Client::new().get(self.tasks_url()).send().await.unwrap();
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// Ctrl-C, then `start:with-db` again: the database keeps running in between, with its data.
    pub fn restart(mut self, params: &[&str]) -> App {
        let status = self.process.take().expect("running").interrupt();
        assert!(status.success(), "Ctrl-C stops the emulator cleanly");
        let stage = std::mem::take(&mut self.stage); // the new App owns the database now
        App::start_in(&self.dir, &stage, params, &self.extra.iter().map(String::as_str).collect::<Vec<_>>())
    }

    /// `kill -9` of the emulator, then `start:with-db` again with the same arguments.
    pub fn crash_and_restart(mut self, params: &[&str]) -> App {
        self.process.take().expect("running").crash();
        let stage = std::mem::take(&mut self.stage);
        App::start_in(&self.dir, &stage, params, &self.extra.iter().map(String::as_str).collect::<Vec<_>>())
    }

    /// The emulator's log lines written since the last call.
    pub fn new_log_lines(&mut self) -> Vec<String> {
        self.process.as_mut().expect("running").new_lines()
    }

    /// The emulator's process id.
    pub fn pid(&self) -> u32 {
        self.process.as_ref().expect("running").pid()
    }
}

impl Drop for App {
    fn drop(&mut self) {
        drop(self.process.take());
        if !self.stage.is_empty() {
            let _ = run_cli(&self.dir, &["stop:db", "--purge", "--stage", &self.stage], &[]);
        }
    }
}

/// `python3 -m http.server`, the README's one-line command for the dashboard, on a free port; stopped on drop.
pub struct StaticServer {
    child: std::process::Child,
    pub origin: String,
}

impl StaticServer {
    /// Serves `dir` on a port the system picks: the server binds port 0 and says which port it got ("Serving HTTP
    /// on 127.0.0.1 port N …", once it listens), so no other test can take the port in between.
    pub fn start(dir: &std::path::Path) -> Self {
        use std::io::BufRead;
        let mut child = std::process::Command::new("python3")
            .args(["-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "-d"])
            .arg(dir)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3 serves the dashboard");
        let mut first_line = String::new();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        stdout.read_line(&mut first_line).expect("the static server says where it listens");
        let port = first_line
            .split_whitespace()
            .skip_while(|word| *word != "port")
            .nth(1)
            .and_then(|port| port.parse::<u16>().ok())
            .unwrap_or_else(|| panic!("the static server's first line names its port: {first_line:?}"));
        // Its request log goes to stderr, discarded; whatever else it prints is drained until it ends.
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Self { child, origin: format!("http://127.0.0.1:{port}") }
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The next JSON text message, skipping other frames; panics after `limit`.
pub async fn next_json(socket: &mut Socket, limit: Duration) -> Value {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let message = tokio::time::timeout_at(deadline, socket.next())
            .await
            .expect("a message in time")
            .expect("the socket stays open")
            .expect("a good frame");
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"));
        }
    }
}

/// Status pushes for `task_id` until one with a final status.
pub async fn pushes_until_final(socket: &mut Socket, task_id: &str) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        let push = next_json(socket, Duration::from_secs(60)).await;
        if push["taskId"] != task_id {
            continue;
        }
        let last = push["status"] != "pending";
        seen.push(push);
        if last {
            return seen;
        }
    }
}

pub fn stage(tag: &str) -> String {
    format!("{tag}{}", std::process::id())
}
