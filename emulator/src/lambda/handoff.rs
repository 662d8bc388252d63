//! The hand-off between a function's pool and one of its processes, met in the middle by the Runtime API: the
//! invocation handed over ([`Delivery`]) and when it was picked up ([`PickUp`]), how it ended ([`Completion`]), and the mailbox both sides share
//! ([`WorkerLink`]). The pool and the worker put invocations in; the Runtime API server takes them out and
//! reports their end. Neither side imports the other.

use super::extensions::Extensions;
use super::logs::InvocationLog;
use super::result::{ResponseStream, StreamedResponse};
use super::telemetry::{Platform, Subscription, Telemetry};
use bytes::Bytes;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;
use tokio::sync::{mpsc, oneshot, Notify};

/// An invocation handed to the process by `GET /runtime/invocation/next`.
pub struct Delivery {
    pub request_id: String,
    pub payload: Bytes,
    pub client_context: Option<String>,
    pub cognito_identity: Option<String>,
    pub trace_id: String,
    /// Marked when the process picks the invocation up.
    pub pick_up: Arc<PickUp>,
}

/// Whether the process has picked an invocation up: marked by the Runtime API, read by the pool, which waits for
/// it only on a cold start (the end of init).
#[derive(Default)]
pub struct PickUp {
    marked: AtomicBool,
    noticed: Notify,
}

impl PickUp {
    pub fn mark(&self) {
        self.marked.store(true, Ordering::SeqCst);
        // Kept as a permit if nobody waits yet.
        self.noticed.notify_one();
    }

    pub fn is_marked(&self) -> bool {
        self.marked.load(Ordering::SeqCst)
    }

    pub async fn wait(&self) {
        while !self.is_marked() {
            self.noticed.notified().await;
        }
    }
}

/// How an invocation ended, as the Runtime API or the process reported it.
#[derive(Debug)]
pub enum Completion {
    Response(Bytes),
    /// A streamed response, handed on as it arrives.
    Streaming(ResponseStream),
    /// A streamed HTTP response that arrived whole (its content type, without the streaming mode header).
    Streamed(StreamedResponse),
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
    /// The function's key (`submitTask`), as log lines name it.
    pub function: String,
    /// The deployed name, as the Extensions API reports it.
    pub function_name: String,
    /// The process's extensions (Extensions API).
    pub extensions: Extensions,
    /// Their telemetry subscriptions (Telemetry and Logs APIs).
    pub telemetry: Telemetry,
    /// When the environment was created: its init phase starts.
    created: Instant,
    deliveries: tokio::sync::Mutex<mpsc::Receiver<Delivery>>,
    in_flight: Mutex<Option<InFlight>>,
    log: Mutex<Option<InvocationLog>>,
    /// When the process first asked for work: the end of its init phase.
    ready_at: OnceLock<Instant>,
}

impl WorkerLink {
    pub fn new(id: String, function: String, function_name: String, deliveries: mpsc::Receiver<Delivery>) -> Self {
        let telemetry = Telemetry::default();
        let init_start = json!({
            "initializationType": "on-demand",
            "phase": "init",
            "functionName": function_name,
            "functionVersion": crate::aws::lambda::VERSION_LATEST,
        });
        telemetry.init_event(Platform::InitStart, init_start);
        Self {
            id,
            function,
            function_name,
            extensions: Extensions::default(),
            telemetry,
            created: Instant::now(),
            deliveries: tokio::sync::Mutex::new(deliveries),
            in_flight: Mutex::new(None),
            log: Mutex::new(None),
            ready_at: OnceLock::new(),
        }
    }

    /// The next invocation for this process; `None` once the worker is gone. It is handed over once every
    /// extension is ready, as Lambda does; the runtime's first call ends init, and extension registration.
    pub async fn next_delivery(&self) -> Option<Delivery> {
        if self.ready_at.set(Instant::now()).is_ok() {
            self.init_done();
        }
        self.extensions.close_registration();
        let delivery = self.deliveries.lock().await.recv().await?;
        self.extensions.all_ready().await;
        // The invoke phase starts: after init, every extension's subscriptions made.
        self.telemetry.invocation_started(&delivery.request_id);
        Some(delivery)
    }

    /// Records the invocation being handed over and the log its output lines go to.
    pub fn begin(&self, in_flight: InFlight, log: InvocationLog) {
        *self.in_flight.lock().unwrap() = Some(in_flight);
        *self.log.lock().unwrap() = Some(log);
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

    /// Forgets the in-flight invocation (before the process is killed on a timeout).
    pub fn forget_in_flight(&self) {
        self.in_flight.lock().unwrap().take();
    }

    /// Takes back the invocation's log once it has ended.
    pub fn take_log(&self) -> Option<InvocationLog> {
        self.log.lock().unwrap().take()
    }

    pub fn is_initialized(&self) -> bool {
        self.ready_at.get().is_some()
    }

    /// When the process first asked for work.
    pub fn ready_at(&self) -> Option<Instant> {
        self.ready_at.get().copied()
    }

    /// The platform events of the end of init, for telemetry subscribers.
    fn init_done(&self) {
        let init = json!({ "initializationType": "on-demand", "phase": "init", "status": "success" });
        self.telemetry.init_event(Platform::InitRuntimeDone, init.clone());
        let duration_ms = self.created.elapsed().as_secs_f64() * 1000.0;
        let report = json!({ "metrics": { "durationMs": duration_ms } });
        self.telemetry.init_event(Platform::InitReport, merged(init, report));
    }

    /// An extension's telemetry subscription.
    pub fn subscribe_telemetry(&self, subscription: Subscription) {
        self.telemetry.subscribe(subscription);
    }

    /// A line an extension printed: logged as the process's lines are, and `extension` telemetry.
    pub fn extension_line(&self, line: &str) {
        self.telemetry.extension_line(line);
        self.log_line(line);
    }

    /// A line the process printed: into the invocation's log, or the emulator's log between invocations.
    pub fn output_line(&self, line: &str) {
        self.telemetry.function_line(line);
        self.log_line(line);
    }

    fn log_line(&self, line: &str) {
        let mut log = self.log.lock().unwrap();
        match log.as_mut() {
            Some(log) => log.output(line),
            None => tracing::info!(target: "lambda", "{} {line}", self.function),
        }
    }
}

/// `base` with the fields of `more` added.
fn merged(mut base: Value, more: Value) -> Value {
    if let (Some(base), Value::Object(more)) = (base.as_object_mut(), more) {
        base.extend(more);
    }
    base
}
