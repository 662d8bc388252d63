//! One handler process (a Lambda execution environment): spawning it with Lambda's environment, its mailbox
//! with the Runtime API (one invocation at a time), its output lines, and how it ends.

use super::logs::InvocationLog;
use super::runtime_api::RuntimeApi;
use super::spec::FunctionSpec;
use crate::server::ShutdownTrigger;
use bytes::Bytes;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot};

/// How long a reading of a process's peak memory stands for REPORT lines (invocations further apart read afresh).
const PEAK_MEMORY_REFRESH: Duration = Duration::from_millis(100);

/// An invocation handed to the process by `GET /runtime/invocation/next`.
pub struct Delivery {
    pub request_id: String,
    pub payload: Bytes,
    pub client_context: Option<String>,
    pub cognito_identity: Option<String>,
    pub trace_id: String,
    /// Told the deadline (epoch time) when the process picks the invocation up.
    pub picked_up: oneshot::Sender<SystemTime>,
}

/// How an invocation ended, as the Runtime API or the process reported it.
#[derive(Debug)]
pub enum Completion {
    Response(Bytes),
    /// `POST /invocation/{id}/error` (or a response Lambda refuses): the payload is the error document.
    Error {
        error_type: String,
        payload: Bytes,
    },
    /// `POST /init/error` before the process picked the invocation up.
    InitError {
        error_type: String,
        payload: Bytes,
    },
    /// The process ended; the text is Lambda's (`exit status 101`, `signal: killed`).
    Exited(String),
}

/// The invocation the process is working on.
pub struct InFlight {
    pub request_id: String,
    pub done: oneshot::Sender<Completion>,
}

/// What the Runtime API server shares with one process.
pub struct WorkerLink {
    pub id: String,
    pub function: String,
    deliveries: tokio::sync::Mutex<mpsc::Receiver<Delivery>>,
    in_flight: Mutex<Option<InFlight>>,
    log: Mutex<Option<InvocationLog>>,
    /// When the process first asked for work: the end of its init phase.
    ready_at: OnceLock<Instant>,
}

impl WorkerLink {
    /// The next invocation for this process; `None` once the worker is gone.
    pub async fn next_delivery(&self) -> Option<Delivery> {
        let _ = self.ready_at.set(Instant::now());
        self.deliveries.lock().await.recv().await
    }

    /// Ends the in-flight invocation if `request_id` is it. Returns false for an unknown id.
    pub fn complete(&self, request_id: &str, completion: Completion) -> bool {
        let mut slot = self.in_flight.lock().unwrap();
        match slot.take() {
            Some(in_flight) if in_flight.request_id == request_id => {
                let _ = in_flight.done.send(completion);
                true
            }
            other => {
                *slot = other;
                false
            }
        }
    }

    /// Ends whatever is in flight (init errors, process exit).
    pub fn complete_any(&self, completion: Completion) {
        if let Some(in_flight) = self.in_flight.lock().unwrap().take() {
            let _ = in_flight.done.send(completion);
        }
    }

    pub fn is_initialized(&self) -> bool {
        self.ready_at.get().is_some()
    }

    fn output_line(&self, line: &str) {
        let mut log = self.log.lock().unwrap();
        match log.as_mut() {
            Some(log) => log.output(line),
            None => tracing::info!(target: "lambda", "{} {line}", self.function),
        }
    }
}

/// A running handler process and the means to hand it work.
pub struct Worker {
    pub link: Arc<WorkerLink>,
    deliver: mpsc::Sender<Delivery>,
    kill: Mutex<Option<oneshot::Sender<()>>>,
    alive: Arc<AtomicBool>,
    pid: Option<u32>,
    pub started: Instant,
    last_used: Mutex<Instant>,
    /// Init Duration is reported once, on the first invocation.
    pub init_reported: AtomicBool,
    /// Which version of the function's binary this process runs.
    pub generation: u64,
    /// The last reading of the process's peak memory (MB) and when it was taken.
    peak_memory: Mutex<Option<(Instant, u64)>>,
    /// Keeps this process's Runtime API listener open; dropping it closes the listener.
    _runtime_api: ShutdownTrigger,
}

impl Worker {
    /// Starts the function's binary with Lambda's environment and `runtime_api` as its Runtime API.
    pub async fn spawn(
        spec: &FunctionSpec,
        binary: &Path,
        generation: u64,
        worker_id: String,
        runtime: &Arc<RuntimeApi>,
    ) -> std::io::Result<Self> {
        let (deliver, deliveries) = mpsc::channel(1);
        let link = Arc::new(WorkerLink {
            id: worker_id.clone(),
            function: spec.key.clone(),
            deliveries: tokio::sync::Mutex::new(deliveries),
            in_flight: Mutex::new(None),
            log: Mutex::new(None),
            ready_at: OnceLock::new(),
        });
        let (runtime_api, runtime_api_listener) = runtime.attach(link.clone()).await?;
        let mut command = Command::new(binary);
        command
            .env_clear()
            .envs(spec.process_environment(&worker_id, &runtime_api))
            .current_dir(&spec.working_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn()?;
        let pid = child.id();
        spawn_reader(child.stdout.take(), link.clone());
        spawn_reader(child.stderr.take(), link.clone());
        let alive = Arc::new(AtomicBool::new(true));
        let (kill, kill_rx) = oneshot::channel();
        tokio::spawn(watch_exit(child, kill_rx, link.clone(), alive.clone()));
        Ok(Self {
            link,
            deliver,
            kill: Mutex::new(Some(kill)),
            alive,
            pid,
            started: Instant::now(),
            last_used: Mutex::new(Instant::now()),
            init_reported: AtomicBool::new(false),
            generation,
            peak_memory: Mutex::new(None),
            _runtime_api: runtime_api_listener,
        })
    }

    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
    }

    /// Stops the process (SIGKILL), as Lambda does on a timeout or when reclaiming an environment.
    pub fn kill(&self) {
        if let Some(kill) = self.kill.lock().unwrap().take() {
            let _ = kill.send(());
        }
    }

    pub fn ready_at(&self) -> Option<Instant> {
        self.link.ready_at.get().copied()
    }

    /// How long the process took from start to its first `next`: REPORT's Init Duration.
    pub fn init_duration(&self) -> Option<Duration> {
        self.link.ready_at.get().map(|ready| ready.saturating_duration_since(self.started))
    }

    pub fn idle_for(&self) -> Duration {
        self.last_used.lock().unwrap().elapsed()
    }

    pub fn touch(&self) {
        *self.last_used.lock().unwrap() = Instant::now();
    }

    /// Peak resident memory of the process so far, in MB (`VmHWM`), as REPORT's Max Memory Used. Read from /proc
    /// at most every `PEAK_MEMORY_REFRESH`: under load the reading was a tenth of the emulator's time per invocation.
    pub fn max_memory_mb(&self) -> Option<u64> {
        let mut reading = self.peak_memory.lock().unwrap();
        match *reading {
            Some((taken, mb)) if taken.elapsed() < PEAK_MEMORY_REFRESH => Some(mb),
            _ => {
                let mb = crate::procfs::status_kib(self.pid?, "VmHWM")?.div_ceil(1024);
                *reading = Some((Instant::now(), mb));
                Some(mb)
            }
        }
    }

    /// Hands an invocation to the process. The returned receiver tells how it ended.
    pub async fn deliver(&self, delivery: Delivery, log: InvocationLog) -> Option<oneshot::Receiver<Completion>> {
        let (done, done_rx) = oneshot::channel();
        *self.link.in_flight.lock().unwrap() = Some(InFlight { request_id: delivery.request_id.clone(), done });
        *self.link.log.lock().unwrap() = Some(log);
        self.deliver.send(delivery).await.ok()?;
        Some(done_rx)
    }

    /// Takes back the invocation's log once it has ended.
    pub fn take_log(&self) -> Option<InvocationLog> {
        self.link.log.lock().unwrap().take()
    }

    /// Forgets the in-flight invocation (before killing the process on a timeout).
    pub fn abandon(&self) {
        self.link.in_flight.lock().unwrap().take();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.kill();
    }
}

fn spawn_reader(stream: Option<impl AsyncRead + Unpin + Send + 'static>, link: Arc<WorkerLink>) {
    let Some(stream) = stream else { return };
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            link.output_line(&line);
        }
    });
}

/// Waits for the process to end (or kills it when asked), then fails whatever it was doing.
async fn watch_exit(mut child: Child, kill: oneshot::Receiver<()>, link: Arc<WorkerLink>, alive: Arc<AtomicBool>) {
    let status = tokio::select! {
        status = child.wait() => status,
        _ = kill => {
            let _ = child.start_kill();
            child.wait().await
        }
    };
    alive.store(false, Ordering::SeqCst);
    let text = match status {
        Ok(status) => exit_text(status),
        Err(err) => format!("wait failed: {err}"),
    };
    link.complete_any(Completion::Exited(text));
}

/// Lambda's wording for how a process ended: `exit status 1`, `signal: killed`.
fn exit_text(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    match status.signal() {
        Some(6) => "signal: aborted".to_string(),
        Some(9) => "signal: killed".to_string(),
        Some(11) => "signal: segmentation fault".to_string(),
        Some(15) => "signal: terminated".to_string(),
        Some(n) => format!("signal: {n}"),
        None => "exited".to_string(),
    }
}
