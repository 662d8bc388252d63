//! The execution environments of one function, as Lambda manages them: one invocation at a time per process,
//! processes started on demand (cold start) and reused warm, at most `max_concurrency` at once, stopped when
//! idle, killed on a timeout, and replaced after a crash.

use super::handoff::{Completion, Delivery, PickUp};
use super::logs::{InvocationLog, Report};
use super::pace::{within, Pace};
use super::reporting;
use super::runtime_api::RuntimeApi;
use super::runtimes::Launch;
use super::spec::FunctionSpec;
use super::worker::Worker;
use super::{FunctionResult, InvokeRequest, InvokeResponse, ResponseStream};
use crate::aws::lambda as limits;
use crate::journal::Journal;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

pub struct FunctionPool {
    pub spec: FunctionSpec,
    /// The code new processes start from; replaced on a hot reload.
    code: Mutex<Code>,
    runtime: Arc<RuntimeApi>,
    idle: Mutex<Vec<Arc<Worker>>>,
    slots: Arc<Semaphore>,
    /// How long a warm process may sit idle before it is stopped.
    idle_timeout: Duration,
    journal: Arc<Journal>,
}

/// One version of the function's code.
#[derive(Debug, Clone)]
struct Code {
    launch: Launch,
    generation: u64,
    /// Why it cannot run (not defined or not built yet).
    unavailable: Option<String>,
}

/// What ending an invocation needs to know of its beginning.
#[derive(Clone)]
struct Ending {
    request_id: String,
    started_ms: u64,
    request: InvokeRequest,
    /// When the handler began (after init): durations count from here.
    begun: Instant,
    /// Reported with the first invocation of a process only.
    init_duration: Option<Duration>,
}

/// What a finished invocation leaves the worker fit for.
enum Aftermath {
    Reuse,
    Discard,
    /// The process ended before it picked the invocation up.
    Vanished,
}

impl FunctionPool {
    pub fn new(spec: FunctionSpec, idle_timeout: Duration, journal: Arc<Journal>) -> Arc<Self> {
        let runtime = RuntimeApi::new(spec.arn.clone(), spec.timeout, spec.handler.clone());
        let slots = Arc::new(Semaphore::new(spec.max_concurrency.max(1)));
        let code =
            Mutex::new(Code { launch: spec.launch.clone(), generation: 0, unavailable: spec.unavailable.clone() });
        let idle = Mutex::new(Vec::new());
        let pool = Arc::new(Self { spec, code, runtime, idle, slots, idle_timeout, journal });
        tokio::spawn(reap_idle(Arc::downgrade(&pool)));
        pool
    }

    /// Runs one invocation to its end, or for a streamed response to its start: the stream then runs on, and the
    /// invocation ends with it ([`Self::relay`]). Never hangs: every wait is bounded by the init or function
    /// timeout.
    pub async fn invoke(self: &Arc<Self>, request: InvokeRequest) -> InvokeResponse {
        let started_ms = crate::aws::epoch_ms();
        // Held until the invocation ends: for a streamed response, when its stream does.
        let slot = self.slots.clone().acquire_owned().await.expect("the semaphore is never closed");
        let request_id = request.request_id.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let log = InvocationLog::start(&self.spec.key, &request_id);
        let code = self.code.lock().unwrap().clone();
        if let Some(reason) = &code.unavailable {
            return self.refuse((request_id, started_ms), &request, log, reason);
        }
        let warm = self.checkout(code.generation);
        let was_warm = warm.is_some();
        let mut log = log;
        let mut worker = match warm {
            Some(worker) => worker,
            None => match self.cold_start(&code).await {
                Ok(worker) => {
                    log.before_start(init_start(&self.spec));
                    worker
                }
                Err(err) => return self.refuse((request_id, started_ms), &request, log, &spawn_failure(&code, &err)),
            },
        };
        let mut started = Instant::now();
        let mut init_failed_again = false;
        let (mut result, mut aftermath) = self.run(&worker, &request_id, &request, log).await;
        if was_warm && matches!(aftermath, Aftermath::Vanished) {
            // The warm process ended between invocations (a runtime that reports a fatal error, then exits): the
            // invocation never reached it, so it runs on a fresh process, as Lambda starts a new environment.
            let log = worker.take_log().unwrap_or_else(|| InvocationLog::resume(&self.spec.key, &request_id));
            worker = match self.cold_start(&code).await {
                Ok(worker) => worker,
                Err(err) => return self.refuse((request_id, started_ms), &request, log, &spawn_failure(&code, &err)),
            };
            started = Instant::now();
            (result, aftermath) = self.run(&worker, &request_id, &request, log).await;
        } else if !was_warm && !worker.link.is_initialized() {
            // Init failed. Lambda reports it (INIT_REPORT) and tries init once more within the invocation, whose
            // error is then the second attempt's.
            let mut log = worker.take_log().unwrap_or_else(|| InvocationLog::resume(&self.spec.key, &request_id));
            log.line(init_report(&worker, &result, "init"));
            worker.kill();
            worker = match self.cold_start(&code).await {
                Ok(worker) => worker,
                Err(err) => return self.refuse((request_id, started_ms), &request, log, &spawn_failure(&code, &err)),
            };
            started = Instant::now();
            (result, aftermath) = self.run(&worker, &request_id, &request, log).await;
            init_failed_again = !worker.link.is_initialized();
        }
        let init_duration = worker.init_duration().filter(|_| !worker.init_reported.swap(true, Ordering::SeqCst));
        // Duration counts from the end of init, as on Lambda.
        let begun = worker.ready_at().map_or(started, |ready| ready.max(started));
        let ending = Ending { request_id, started_ms, request, begun, init_duration };
        if let FunctionResult::Streaming(stream) = result {
            let stream = self.relay(worker, stream, ending.clone(), slot);
            return InvokeResponse {
                request_id: ending.request_id,
                result: FunctionResult::Streaming(stream),
                log: String::new(),
            };
        }
        // Let the output readers pass on lines the handler printed just before it answered.
        tokio::task::yield_now().await;
        let mut log = worker.take_log().unwrap_or_else(|| InvocationLog::resume(&self.spec.key, &ending.request_id));
        if init_failed_again {
            log.line(init_report(&worker, &result, "invoke"));
        }
        let log_text = self.finish(worker, &ending, &result, aftermath, log);
        InvokeResponse { request_id: ending.request_id, result, log: log_text }
    }

    /// Ends an invocation: its error in the log, REPORT, telemetry, the journal, and the process back to the pool
    /// (or stopped). Returns the whole log.
    fn finish(
        &self,
        worker: Arc<Worker>,
        ending: &Ending,
        result: &FunctionResult,
        aftermath: Aftermath,
        mut log: InvocationLog,
    ) -> String {
        if let FunctionResult::Error { payload, .. } = result {
            log.line(String::from_utf8_lossy(payload).into_owned());
        }
        let report = self.report(ending.begun.elapsed(), worker.max_memory_mb(), ending.init_duration);
        let log_text = log.finish(report);
        reporting::report_telemetry(&worker, &ending.request_id, result, report);
        reporting::record_invocation(
            &self.journal,
            &self.spec.key,
            (&ending.request_id, ending.started_ms),
            &ending.request,
            result,
            report,
            &log_text,
        );
        let current = self.code.lock().unwrap().generation;
        match aftermath {
            // A process of older code finishes its invocation, then stops: new ones run the new code.
            Aftermath::Reuse if worker.is_alive() && worker.generation == current => {
                worker.touch();
                self.idle.lock().unwrap().push(worker);
            }
            _ => worker.kill(),
        }
        log_text
    }

    /// Passes a streamed response on as the function writes it, at Lambda's pace ([`Pace`]), and ends the
    /// invocation when the stream ends: REPORT then (its duration the stream's), and the process back to the pool.
    /// At the function's timeout the stream is cut off with `Sandbox.Timedout` and the process is stopped, as on
    /// Lambda. A client that goes away does not stop the function: the rest is read and dropped.
    fn relay(
        self: &Arc<Self>,
        worker: Arc<Worker>,
        stream: ResponseStream,
        ending: Ending,
        slot: tokio::sync::OwnedSemaphorePermit,
    ) -> ResponseStream {
        let Some(mut chunks) = stream.take() else { return stream };
        let (sender, relayed) = ResponseStream::channel(&stream.content_type);
        let (pool, outcome) = (self.clone(), relayed.clone());
        tokio::spawn(async move {
            let timeout = pool.spec.timeout;
            let deadline = timeout.and_then(|t| ending.begun.checked_add(t)).map(tokio::time::Instant::from_std);
            let mut pace = Pace::default();
            // Reading the function and writing to a client that reads slowly both count against its timeout.
            let ended = loop {
                match within(deadline, chunks.recv()).await {
                    Some(Some(Ok(bytes))) => {
                        if within(deadline, pace.wait_for(bytes.len())).await.is_none() {
                            break None;
                        }
                        // A client that went away leaves the send failing: the rest is read and dropped.
                        if within(deadline, sender.send(Ok(bytes))).await.is_none() {
                            break None;
                        }
                    }
                    Some(Some(Err((error_type, payload)))) => {
                        break Some(FunctionResult::Error { error_type, payload })
                    }
                    Some(None) => break Some(FunctionResult::Success(bytes::Bytes::new())),
                    None => break None,
                }
            };
            let (result, aftermath) = match ended {
                Some(result) => (result, Aftermath::Reuse),
                None => {
                    worker.abandon();
                    let timeout = timeout.expect("a deadline comes from a timeout");
                    (timed_out(&ending.request_id, timeout), Aftermath::Discard)
                }
            };
            // Let the output readers pass on lines the handler printed as it ended the stream.
            tokio::task::yield_now().await;
            let log = worker.take_log().unwrap_or_else(|| InvocationLog::resume(&pool.spec.key, &ending.request_id));
            outcome.set_final_log(pool.finish(worker, &ending, &result, aftermath, log));
            drop(slot);
            // The error that ended the stream goes last, after the log it is reported with.
            if let FunctionResult::Error { error_type, payload } = result {
                let _ = sender.send(Err((error_type, payload))).await;
            }
        });
        relayed
    }

    async fn run(
        &self,
        worker: &Arc<Worker>,
        request_id: &str,
        request: &InvokeRequest,
        log: InvocationLog,
    ) -> (FunctionResult, Aftermath) {
        let pick_up = Arc::new(PickUp::default());
        let delivery = Delivery {
            request_id: request_id.to_string(),
            payload: request.payload.clone(),
            client_context: request.client_context.clone(),
            cognito_identity: request.cognito_identity.clone(),
            trace_id: request.trace_id.clone().unwrap_or_else(|| trace_header(request_id)),
            pick_up: pick_up.clone(),
        };
        let Some(mut done) = worker.deliver(delivery, log).await else {
            return (exited(request_id, "the runtime is gone"), Aftermath::Vanished);
        };
        let initialized = worker.link.is_initialized();
        let timeout = self.spec.timeout.unwrap_or(Duration::MAX);
        let delivered = tokio::time::Instant::now();
        if !initialized {
            // A cold start's init phase ends when the process picks the invocation up, within Lambda's init limit.
            tokio::select! {
                biased;
                _ = pick_up.wait() => {}
                completion = &mut done => return (self.early_end(request_id, completion.ok()), Aftermath::Discard),
                _ = tokio::time::sleep(limits::INIT_TIMEOUT) => {
                    worker.abandon();
                    let message = format!("RequestId: {request_id} Error: init did not finish within {} seconds", limits::INIT_TIMEOUT.as_secs());
                    return (FunctionResult::error(limits::ERROR_INIT, &message), Aftermath::Discard);
                }
            }
        }
        // The handler runs within the function's timeout: from the end of init on a cold start, and from the
        // hand-over on a warm process, so that one still busy with leftover work of its last invocation (a
        // Node.js callback handler that did not wait for the event loop) picks up late, and that counts, as on
        // Lambda. One wait, one timer: nothing wakes the invocation when a warm process picks it up.
        let started = if initialized { delivered } else { tokio::time::Instant::now() };
        let deadline = started.checked_add(timeout).unwrap_or_else(|| started + Duration::from_secs(365 * 24 * 3600));
        tokio::select! {
            biased;
            completion = &mut done => match completion {
                // A warm process that ended before it picked the invocation up never saw it: it runs elsewhere.
                Ok(Completion::Exited(_)) | Err(_) if !pick_up.is_marked() => {
                    (self.early_end(request_id, completion.ok()), Aftermath::Vanished)
                }
                Ok(Completion::Response(body)) => (FunctionResult::Success(body), Aftermath::Reuse),
                Ok(Completion::Streamed(streamed)) => (FunctionResult::Streamed(streamed), Aftermath::Reuse),
                // The stream goes on as the process writes it; the process asks for its next work when done.
                Ok(Completion::Streaming(stream)) => (FunctionResult::Streaming(stream), Aftermath::Reuse),
                Ok(Completion::Error { error_type, payload }) => (FunctionResult::Error { error_type, payload }, Aftermath::Reuse),
                Ok(Completion::InitError { error_type, payload }) => (FunctionResult::Error { error_type, payload }, Aftermath::Discard),
                Ok(Completion::Exited(how)) => (exited(request_id, &how), Aftermath::Discard),
                Err(_) => (exited(request_id, "the runtime is gone"), Aftermath::Discard),
            },
            _ = tokio::time::sleep_until(deadline) => {
                worker.abandon();
                (timed_out(request_id, timeout), Aftermath::Discard)
            }
        }
    }

    /// Fails an invocation that no process can run (`Runtime.InvalidEntrypoint`, as Lambda does for a bad bootstrap).
    fn refuse(
        &self,
        (request_id, started_ms): (String, u64),
        request: &InvokeRequest,
        mut log: InvocationLog,
        reason: &str,
    ) -> InvokeResponse {
        let message = format!("RequestId: {request_id} Error: {reason}");
        log.line(message.clone());
        let report = self.report(Duration::ZERO, None, None);
        let log = log.finish(report);
        let result = FunctionResult::error(limits::ERROR_INVALID_ENTRYPOINT, &message);
        reporting::record_invocation(
            &self.journal,
            &self.spec.key,
            (&request_id, started_ms),
            request,
            &result,
            report,
            &log,
        );
        InvokeResponse { request_id, result, log }
    }

    /// Invocations running now.
    pub fn busy_processes(&self) -> usize {
        self.spec.max_concurrency.max(1) - self.slots.available_permits()
    }

    /// The invocation ended before the process picked it up: an init failure.
    fn early_end(&self, request_id: &str, completion: Option<Completion>) -> FunctionResult {
        match completion {
            Some(Completion::InitError { error_type, payload }) => FunctionResult::Error { error_type, payload },
            // A process that ends during init is a Runtime.ExitError, as Lambda reports it.
            Some(Completion::Exited(how)) => exited(request_id, &how),
            _ => FunctionResult::error(
                limits::ERROR_INIT,
                &format!("RequestId: {request_id} Error: Runtime failed to start"),
            ),
        }
    }

    fn checkout(&self, generation: u64) -> Option<Arc<Worker>> {
        let mut idle = self.idle.lock().unwrap();
        while let Some(worker) = idle.pop() {
            if worker.is_alive() && worker.generation == generation {
                return Some(worker);
            }
            worker.stop();
        }
        None
    }

    /// Starts a new execution environment: its init phase begins.
    async fn cold_start(&self, code: &Code) -> std::io::Result<Arc<Worker>> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let worker = Worker::spawn(&self.spec, &code.launch, code.generation, id, &self.runtime).await?;
        tracing::debug!(target: "lambda", function = %self.spec.key, worker = %worker.link.id, "cold start");
        Ok(Arc::new(worker))
    }

    fn report(&self, duration: Duration, max_memory_used_mb: Option<u64>, init_duration: Option<Duration>) -> Report {
        Report { duration, memory_size_mb: self.spec.memory_mb, max_memory_used_mb, init_duration }
    }

    /// Hot reload: new invocations start processes from `launch`; warm processes of the old code are stopped,
    /// and those still running an invocation stop when it ends.
    pub fn reload(&self, launch: Launch) {
        let generation = {
            let mut code = self.code.lock().unwrap();
            *code = Code { launch, generation: code.generation + 1, unavailable: None };
            code.generation
        };
        self.idle.lock().unwrap().retain(|worker| {
            worker.stop();
            false
        });
        tracing::debug!(target: "lambda", function = %self.spec.key, generation, "reloaded");
    }

    /// The code new processes start from, and why it cannot run if it cannot.
    pub fn current_code(&self) -> (Launch, Option<String>) {
        let code = self.code.lock().unwrap();
        (code.launch.clone(), code.unavailable.clone())
    }

    /// How many times the code was replaced since the function was created (for tests: the moment a reload
    /// took effect, after which no invocation starts on the old code).
    pub fn code_generation(&self) -> u64 {
        self.code.lock().unwrap().generation
    }

    /// Warm processes right now (for tests and benchmarks).
    pub fn idle_workers(&self) -> usize {
        self.idle.lock().unwrap().len()
    }

    /// Stops every warm process, as Lambda spins environments down (their external extensions get `SHUTDOWN`).
    pub fn shutdown(&self) {
        for worker in self.idle.lock().unwrap().drain(..) {
            worker.stop();
        }
    }
}

impl Drop for FunctionPool {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Stops processes idle for longer than the pool's idle timeout.
async fn reap_idle(pool: std::sync::Weak<FunctionPool>) {
    let period = pool.upgrade().map(|p| (p.idle_timeout / 4).clamp(Duration::from_millis(50), Duration::from_secs(5)));
    let Some(period) = period else { return };
    loop {
        tokio::time::sleep(period).await;
        let Some(pool) = pool.upgrade() else { return };
        let mut idle = pool.idle.lock().unwrap();
        idle.retain(|worker| {
            let keep = worker.is_alive() && worker.idle_for() < pool.idle_timeout;
            if !keep {
                tracing::debug!(target: "lambda", function = %pool.spec.key, worker = %worker.link.id, "stopping idle process");
                worker.stop();
            }
            keep
        });
    }
}

fn exited(request_id: &str, how: &str) -> FunctionResult {
    FunctionResult::error(
        limits::ERROR_EXIT,
        &format!("RequestId: {request_id} Error: Runtime exited with error: {how}"),
    )
}

/// `INIT_START`, as Lambda logs the start of an init phase. Local runtimes have no runtime version of AWS's, so the
/// version reads `local`.
fn init_start(spec: &FunctionSpec) -> String {
    let runtime = spec.runtime.replacen('.', ":", 1);
    let arn = crate::aws::names::runtime_version_arn(&spec.region);
    format!("INIT_START Runtime Version: {runtime}.local\tRuntime Version ARN: {arn}")
}

/// `INIT_REPORT` for a failed init phase (`phase`: `init`, or `invoke` for the attempt within the invocation), as
/// Lambda logs it: its duration, and the error type or `timeout`.
fn init_report(worker: &Worker, result: &FunctionResult, phase: &str) -> String {
    let took = worker.started.elapsed();
    let ms = took.as_secs_f64() * 1000.0;
    let status = match result {
        _ if took >= limits::INIT_TIMEOUT => "Status: timeout".to_string(),
        FunctionResult::Error { error_type, .. } => format!("Status: error\tError Type: {error_type}"),
        _ => "Status: error".to_string(),
    };
    format!("INIT_REPORT Init Duration: {ms:.2} ms\tPhase: {phase}\t{status}")
}

/// An X-Ray trace header for one invocation: `Root=1-<epoch hex>-<24 hex>;Sampled=0`.
pub fn trace_header(request_id: &str) -> String {
    let epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let random: String = request_id.chars().filter(|c| c.is_ascii_hexdigit()).take(24).collect();
    format!("Root=1-{epoch:08x}-{random:0<24};Parent={};Sampled=0", &random[..16.min(random.len())])
}

/// Why a process could not be started.
fn spawn_failure(code: &Code, err: &std::io::Error) -> String {
    format!("fork/exec {}: {err}", code.launch.program.display())
}

/// Lambda's `Sandbox.Timedout` for an invocation that ran past `timeout`.
fn timed_out(request_id: &str, timeout: Duration) -> FunctionResult {
    let message = format!("RequestId: {request_id} Error: Task timed out after {:.2} seconds", timeout.as_secs_f64());
    FunctionResult::error(limits::ERROR_TIMEOUT, &message)
}
