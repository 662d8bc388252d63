//! One handler process (a Lambda execution environment): spawning it with Lambda's environment (its layers'
//! external extensions first, each registered before the runtime starts), its mailbox with the Runtime API (one
//! invocation at a time), its output lines, and how it ends (`SHUTDOWN` to the external extensions, with their
//! grace period).

use super::handoff::{Completion, Delivery, InFlight, WorkerLink};
use super::logs::InvocationLog;
use super::runtime_api::RuntimeApi;
use super::runtimes::Launch;
use super::spec::FunctionSpec;
use crate::aws::lambda as limits;
use crate::server::ShutdownTrigger;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot};

/// The shutdown phase Lambda gives a runtime whose environment has only internal extensions (Lambda
/// execution environment lifecycle, "Shutdown phase").
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);

/// The shutdown phase with external extensions: 2 s for the runtime and the extensions together, after which
/// Lambda kills what is left (Lambda execution environment lifecycle, "Shutdown phase").
const EXTERNAL_SHUTDOWN_GRACE: Duration = Duration::from_millis(2000);

/// How a process is ended.
enum Ending {
    Kill,
    /// SIGTERM, then SIGKILL after the grace period.
    Terminate(Duration),
}

/// How long a reading of a process's peak memory stands for REPORT lines (invocations further apart read afresh).
const PEAK_MEMORY_REFRESH: Duration = Duration::from_millis(100);

/// A running handler process and the means to hand it work.
pub struct Worker {
    pub link: Arc<WorkerLink>,
    deliver: mpsc::Sender<Delivery>,
    kill: Mutex<Option<oneshot::Sender<Ending>>>,
    alive: Arc<AtomicBool>,
    pid: Option<u32>,
    pub started: Instant,
    last_used: Mutex<Instant>,
    /// Init Duration is reported once, on the first invocation.
    pub init_reported: AtomicBool,
    /// Which version of the function's code this process runs.
    pub generation: u64,
    /// The last reading of the process's peak memory (MB) and when it was taken.
    peak_memory: Mutex<Option<(Instant, u64)>>,
    /// Its peak memory (KiB) as it exited; 0 while it runs.
    exit_peak_kib: Arc<AtomicU64>,
    /// Tells each external extension's watcher that the environment is shutting down, with the grace it has.
    external: Mutex<Vec<oneshot::Sender<Duration>>>,
    /// The invocation timed out: the environment ends with `SHUTDOWN` reason `timeout`.
    timed_out: AtomicBool,
    /// Keeps this process's Runtime API listener open; the last holder's drop closes it (the external extensions'
    /// watchers hold it through their grace, so the extensions can still take their `SHUTDOWN`).
    _runtime_api: Arc<ShutdownTrigger>,
}

impl Worker {
    /// Starts a process of the function from `launch`, with Lambda's environment and `runtime_api` as its
    /// Runtime API.
    pub async fn spawn(
        spec: &FunctionSpec,
        launch: &Launch,
        generation: u64,
        worker_id: String,
        runtime: &Arc<RuntimeApi>,
    ) -> std::io::Result<Self> {
        // Init starts here, extensions' included (REPORT's Init Duration counts them, as on Lambda).
        let started = Instant::now();
        let (deliver, deliveries) = mpsc::channel(1);
        let link = Arc::new(WorkerLink::new(worker_id.clone(), spec.key.clone(), spec.name.clone(), deliveries));
        let (runtime_api, runtime_api_listener) = runtime.attach(link.clone()).await?;
        let runtime_api_listener = Arc::new(runtime_api_listener);
        let environment = spec.process_environment(&worker_id, &runtime_api, launch);
        let external = start_external_extensions(spec, &environment, &link, &runtime_api_listener).await;
        let mut command = Command::new(&launch.program);
        command
            .args(&launch.args)
            .env_clear()
            .envs(environment)
            .current_dir(&launch.working_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        end_with_this_process(&mut command);
        let mut child = command.spawn()?;
        let pid = child.id();
        spawn_reader(child.stdout.take(), link.clone(), WorkerLink::output_line);
        spawn_reader(child.stderr.take(), link.clone(), WorkerLink::output_line);
        let alive = Arc::new(AtomicBool::new(true));
        let (kill, kill_rx) = oneshot::channel();
        let exit_peak_kib = Arc::new(AtomicU64::new(0));
        tokio::spawn(watch_exit(child, kill_rx, link.clone(), alive.clone(), exit_peak_kib.clone()));
        Ok(Self {
            link,
            deliver,
            kill: Mutex::new(Some(kill)),
            alive,
            pid,
            started,
            last_used: Mutex::new(Instant::now()),
            init_reported: AtomicBool::new(false),
            generation,
            peak_memory: Mutex::new(None),
            exit_peak_kib,
            external: Mutex::new(external),
            timed_out: AtomicBool::new(false),
            _runtime_api: runtime_api_listener,
        })
    }

    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
    }

    /// Stops the process at once (SIGKILL), as Lambda does on a timeout or a failure; external extensions get
    /// `SHUTDOWN` (reason `timeout` or `failure`) and their grace period.
    pub fn kill(&self) {
        let reason = if self.timed_out.load(Ordering::SeqCst) { "timeout" } else { "failure" };
        self.end(Ending::Kill, reason);
    }

    /// Shuts the environment down as Lambda does when it reclaims an idle one (reason `spindown`): with external
    /// extensions, they get `SHUTDOWN` and the runtime SIGTERM, and what is left after 2 s is killed; with only
    /// internal ones, the runtime gets SIGTERM and 500 ms; without extensions, SIGKILL.
    pub fn stop(&self) {
        if self.link.extensions.has_external() {
            self.end(Ending::Terminate(EXTERNAL_SHUTDOWN_GRACE), "spindown");
        } else if self.link.extensions.is_empty() {
            self.kill();
        } else {
            self.end(Ending::Terminate(SHUTDOWN_GRACE), "spindown");
        }
    }

    fn end(&self, ending: Ending, reason: &str) {
        if let Some(kill) = self.kill.lock().unwrap().take() {
            let _ = kill.send(ending);
            self.shut_down_external(reason);
        }
    }

    /// Sends `SHUTDOWN` to the external extensions subscribed to it; their watchers kill those still running after
    /// [`EXTERNAL_SHUTDOWN_GRACE`].
    fn shut_down_external(&self, reason: &str) {
        let watchers = std::mem::take(&mut *self.external.lock().unwrap());
        if watchers.is_empty() {
            return;
        }
        let deadline_ms = crate::aws::epoch_ms() + EXTERNAL_SHUTDOWN_GRACE.as_millis() as u64;
        let event = serde_json::json!({ "eventType": "SHUTDOWN", "shutdownReason": reason, "deadlineMs": deadline_ms });
        self.link.extensions.shutdown(&event);
        for watcher in watchers {
            let _ = watcher.send(EXTERNAL_SHUTDOWN_GRACE);
        }
    }

    pub fn ready_at(&self) -> Option<Instant> {
        self.link.ready_at()
    }

    /// How long the process took from start to its first `next`: REPORT's Init Duration.
    pub fn init_duration(&self) -> Option<Duration> {
        self.link.ready_at().map(|ready| ready.saturating_duration_since(self.started))
    }

    pub fn idle_for(&self) -> Duration {
        self.last_used.lock().unwrap().elapsed()
    }

    pub fn touch(&self) {
        *self.last_used.lock().unwrap() = Instant::now();
    }

    /// Peak resident memory of the process so far, in MB (`VmHWM`), as REPORT's Max Memory Used. Read from /proc
    /// at most every `PEAK_MEMORY_REFRESH`: under load the reading was a tenth of the emulator's time per invocation.
    /// A process that has ended gives its peak at exit (or its last reading), so every REPORT has a figure.
    pub fn max_memory_mb(&self) -> Option<u64> {
        let mut reading = self.peak_memory.lock().unwrap();
        match *reading {
            Some((taken, mb)) if taken.elapsed() < PEAK_MEMORY_REFRESH => Some(mb),
            last => {
                let Some(mb) = self.pid.and_then(|pid| crate::procfs::status_kib(pid, "VmHWM")) else {
                    let at_exit = self.exit_peak_kib.load(Ordering::SeqCst).div_ceil(1024);
                    return Some(at_exit.max(last.map_or(0, |(_, mb)| mb))).filter(|mb| *mb > 0);
                };
                let mb = mb.div_ceil(1024).max(last.map_or(0, |(_, mb)| mb));
                *reading = Some((Instant::now(), mb));
                Some(mb)
            }
        }
    }

    /// Hands an invocation to the process. The returned receiver tells how it ended.
    pub async fn deliver(&self, delivery: Delivery, log: InvocationLog) -> Option<oneshot::Receiver<Completion>> {
        // A reading now stands for the REPORT if the process dies before the invocation ends. Not on a cold start:
        // a process still starting reads about 1 MB, and that reading stood for its first REPORTs. (One that dies
        // in init reports its peak at exit.)
        if self.link.is_initialized() {
            let _ = self.max_memory_mb();
        }
        let (done, done_rx) = oneshot::channel();
        self.link.begin(InFlight { request_id: delivery.request_id.clone(), done }, log);
        self.deliver.send(delivery).await.ok()?;
        Some(done_rx)
    }

    /// Takes back the invocation's log once it has ended.
    pub fn take_log(&self) -> Option<InvocationLog> {
        self.link.take_log()
    }

    /// Forgets the in-flight invocation (before killing the process on a timeout).
    pub fn abandon(&self) {
        self.timed_out.store(true, Ordering::SeqCst);
        self.link.forget_in_flight();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Starts the function's external extensions with the runtime's environment and waits, within init's time
/// limit, until each has registered (Lambda starts the runtime only then), or has ended without registering,
/// which is logged and leaves it out. Each then has a watcher ([`watch_extension`]); the returned senders tell
/// them the environment is shutting down.
async fn start_external_extensions(
    spec: &FunctionSpec,
    environment: &[(String, String)],
    link: &Arc<WorkerLink>,
    runtime_api: &Arc<ShutdownTrigger>,
) -> Vec<oneshot::Sender<Duration>> {
    if spec.extensions.is_empty() {
        return Vec::new();
    }
    link.extensions.expect_external(spec.extensions.iter().map(|(name, _)| name.clone()).collect());
    // Index for index: the extensions that started, and their processes.
    let (mut started, mut children) = (Vec::new(), Vec::new());
    for (name, path) in &spec.extensions {
        let mut command = Command::new(path);
        command
            .env_clear()
            .envs(environment.iter().cloned())
            .current_dir(path.parent().unwrap_or(std::path::Path::new("/")))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        end_with_this_process(&mut command);
        match command.spawn() {
            Ok(mut child) => {
                spawn_reader(child.stdout.take(), link.clone(), WorkerLink::extension_line);
                spawn_reader(child.stderr.take(), link.clone(), WorkerLink::extension_line);
                children.push(child);
                started.push(name.clone());
            }
            Err(err) => {
                tracing::error!(target: "lambda", "{}: the extension {} did not start: {err}", spec.key, path.display())
            }
        }
    }
    let children = Mutex::new(children);
    let gone = |i: usize| children.lock().unwrap().get_mut(i).is_none_or(|child| !matches!(child.try_wait(), Ok(None)));
    let waited = tokio::time::timeout(limits::INIT_TIMEOUT, link.extensions.registered_of(&started, gone)).await;
    let missing = waited.unwrap_or_else(|_| started.clone());
    for name in missing.iter().filter(|name| !link.extensions.names().contains(name)) {
        tracing::error!(target: "lambda", "{}: the extension {name} did not register; the runtime starts without it", spec.key);
    }
    let children = children.into_inner().unwrap();
    children
        .into_iter()
        .zip(started)
        .map(|(child, name)| {
            let (shutting_down, told) = oneshot::channel();
            tokio::spawn(watch_extension(child, name, link.clone(), told, runtime_api.clone()));
            shutting_down
        })
        .collect()
}

/// Watches one external extension. If it ends on its own, it is no longer waited for, and the error is logged
/// (Lambda reports `Extension.Crash`). Told the environment is shutting down, it gets the grace period, then
/// SIGKILL. It holds the Runtime API open until then, so that its `SHUTDOWN` and its last calls get through.
async fn watch_extension(
    mut child: Child,
    name: String,
    link: Arc<WorkerLink>,
    told: oneshot::Receiver<Duration>,
    _runtime_api: Arc<ShutdownTrigger>,
) {
    tokio::select! {
        status = child.wait() => {
            let how = status.map_or_else(|e| e.to_string(), exit_text);
            tracing::error!(target: "lambda", "{}: the extension {name} exited ({how}): Extension.Crash", link.function);
            link.extensions.gone(&name);
        }
        grace = told => {
            let grace = grace.unwrap_or(Duration::ZERO);
            if tokio::time::timeout(grace, child.wait()).await.is_err() {
                let _ = child.start_kill();
                let _ = child.wait().await;
            }
        }
    }
}

/// Makes the process end with the emulator even when the emulator cannot stop it: killed outright (`kill -9`), or
/// a test process that exits with the emulator still running. The kernel then sends it SIGKILL
/// (`PR_SET_PDEATHSIG`). Without it such a process outlived us: a Node.js handler in the middle of an invocation
/// found its log gone and spun at full CPU time, its memory growing, until someone killed it by hand.
///
/// The signal follows the thread that started the process: a runtime's worker thread, which lives as long as the
/// emulator's runtime. An emulator that died between the fork and the `prctl` sends no signal; the child then
/// has another parent already and does not start.
fn end_with_this_process(command: &mut Command) {
    #[cfg(target_os = "linux")]
    // SAFETY: the closure runs in the child between fork and exec and only calls prctl(2) and getppid(2), which
    // are async-signal-safe.
    unsafe {
        let emulator = std::process::id() as libc::pid_t;
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::getppid() != emulator {
                // No allocation here (another thread may have held the allocator's lock at the fork): a bare
                // error number, "no such process", the emulator.
                return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
    #[cfg(not(target_os = "linux"))]
    let _ = command;
}

/// Passes each line of a process's output to `pass` (the runtime's as function output, an extension's as its own).
fn spawn_reader(
    stream: Option<impl AsyncRead + Unpin + Send + 'static>,
    link: Arc<WorkerLink>,
    pass: fn(&WorkerLink, &str),
) {
    let Some(stream) = stream else { return };
    tokio::spawn(async move {
        // Bytes, not text: a line that is not UTF-8 is passed on lossily instead of ending the reading (and the
        // pipe, which would leave the process writing into nothing).
        let mut reader = BufReader::new(stream);
        let mut line = Vec::new();
        while reader.read_until(b'\n', &mut line).await.is_ok_and(|read| read > 0) {
            let text = String::from_utf8_lossy(&line);
            pass(&link, text.trim_end_matches(['\n', '\r']));
            line.clear();
        }
    });
}

/// Waits for the process to end (or kills it when asked), then fails whatever it was doing.
/// Waits for the process to end (or ends it when asked), then fails whatever it was doing. Its peak memory is
/// taken at its exit, before it is reaped, for the REPORT of an invocation it did not live through.
async fn watch_exit(
    mut child: Child,
    kill: oneshot::Receiver<Ending>,
    link: Arc<WorkerLink>,
    alive: Arc<AtomicBool>,
    exit_peak_kib: Arc<AtomicU64>,
) {
    let pid = child.id();
    let exited = tokio::task::spawn_blocking(move || pid.and_then(peak_memory_at_exit));
    tokio::pin!(exited);
    let peak = tokio::select! {
        peak = &mut exited => peak,
        ending = kill => {
            let grace = match ending {
                Ok(Ending::Terminate(grace)) => grace,
                _ => Duration::ZERO,
            };
            if let (false, Some(pid)) = (grace.is_zero(), pid) {
                // SAFETY: kill(2) with the pid of our own child, which has not been reaped yet (reaping waits
                // for `exited`).
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
            }
            match tokio::time::timeout(grace, &mut exited).await {
                Ok(peak) => peak,
                Err(_) => {
                    let _ = child.start_kill();
                    exited.await
                }
            }
        }
    };
    if let Ok(Some(kib)) = peak {
        exit_peak_kib.store(kib, Ordering::SeqCst);
    }
    let status = child.wait().await;
    alive.store(false, Ordering::SeqCst);
    let text = match status {
        Ok(status) => exit_text(status),
        Err(err) => format!("wait failed: {err}"),
    };
    link.complete_any(Completion::Exited(text));
}

/// Blocks until process `pid` (a child of ours) has exited, without reaping it, and returns its peak resident
/// memory in KiB (`ru_maxrss`); `None` if it cannot be waited for.
fn peak_memory_at_exit(pid: u32) -> Option<u64> {
    loop {
        // SAFETY: zeroed plain C structs, written by the kernel.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: Linux's raw waitid(2), whose fifth argument is a `struct rusage *`; both pointers are to the
        // locals above. WNOWAIT leaves the child a zombie for tokio to reap.
        let waited = unsafe {
            libc::syscall(
                libc::SYS_waitid,
                libc::P_PID,
                pid as libc::id_t,
                &mut info as *mut libc::siginfo_t,
                libc::WEXITED | libc::WNOWAIT,
                &mut usage as *mut libc::rusage,
            )
        };
        if waited == 0 {
            return Some(usage.ru_maxrss.max(0) as u64);
        }
        if std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
            return None;
        }
    }
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
