//! Telemetry subscriptions of one execution environment: the Telemetry API (2022-07-01) and its older form, the
//! Logs API (2020-08-15). An extension subscribes to `platform`, `function` and `extension` events; Lambda
//! buffers them (`maxItems`, `maxBytes`, `timeoutMs`) and POSTs each batch as a JSON array to the extension's
//! HTTP destination (`http://sandbox.localdomain:<port>`, which is the extension's own machine: here, loopback).
//! This module owns the subscriptions, the events' shapes (Lambda's telemetry event schema 2022-12-13, and the
//! Logs API's names for the same moments) and their delivery; the wire format of the subscribe call is
//! [`super::telemetry_api`]'s.

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::mpsc;

/// Which API a subscription came through: their event names differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    Telemetry,
    Logs,
}

/// How a subscriber wants its events buffered (Telemetry API reference, "buffering").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Buffering {
    pub max_items: usize,
    pub max_bytes: usize,
    pub timeout: Duration,
}

impl Default for Buffering {
    fn default() -> Self {
        Self { max_items: 1000, max_bytes: 256 * 1024, timeout: Duration::from_millis(1000) }
    }
}

/// A checked subscription request.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    pub schema: Schema,
    /// Where batches are POSTed, `sandbox.localdomain` already made loopback.
    pub destination: String,
    pub platform: bool,
    pub function: bool,
    pub extension: bool,
    pub buffering: Buffering,
}

/// One subscriber: what it wants and where its events go.
struct Subscriber {
    subscription: Subscription,
    events: mpsc::Sender<Value>,
}

/// Events waiting for a subscriber's next batch at most; beyond, new ones are dropped (a destination that does
/// not answer cannot make the emulator hold every line forever).
const MAX_QUEUED_EVENTS: usize = 10_000;

/// How long a batch's POST may take before it is given up.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(5);

/// The subscriptions of one process.
#[derive(Default)]
pub struct Telemetry {
    subscribers: Mutex<Vec<Subscriber>>,
    /// Whether anyone subscribed: checked first on every log line, so that without subscribers they cost nothing.
    any: AtomicBool,
    /// The init phase's platform events so far, for extensions that subscribe before the first invocation (they
    /// subscribe during init, possibly after some of it).
    init: Mutex<Vec<(Platform, Value, String)>>,
    /// The first invocation has started: init's events are no longer given to new subscribers.
    invoked: AtomicBool,
}

/// The kinds of platform event, by the moment they mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    InitStart,
    InitRuntimeDone,
    InitReport,
    Start,
    RuntimeDone,
    Report,
}

impl Platform {
    /// The event's type in `schema`; `None` where that API has no such event.
    fn name(self, schema: Schema) -> Option<&'static str> {
        Some(match (self, schema) {
            (Platform::InitStart, Schema::Telemetry) => "platform.initStart",
            (Platform::InitRuntimeDone, Schema::Telemetry) => "platform.initRuntimeDone",
            (Platform::InitReport, Schema::Telemetry) => "platform.initReport",
            (Platform::Start, _) => "platform.start",
            (Platform::RuntimeDone, Schema::Telemetry) => "platform.runtimeDone",
            // The Logs API's name for the end of the runtime's work on an invocation.
            (Platform::RuntimeDone, Schema::Logs) => "platform.end",
            (Platform::Report, _) => "platform.report",
            _ => return None,
        })
    }
}

impl Telemetry {
    /// Adds a subscriber and starts delivering its events: during init, init's events so far first.
    pub fn subscribe(&self, subscription: Subscription) {
        let (events, receiver) = mpsc::channel(MAX_QUEUED_EVENTS);
        tokio::spawn(deliver(subscription.destination.clone(), subscription.buffering, receiver));
        let subscriber = Subscriber { subscription, events };
        if subscriber.subscription.platform && !self.invoked.load(Ordering::SeqCst) {
            for (kind, record, time) in self.init.lock().unwrap().iter() {
                subscriber.send_at(time, |schema| kind.name(schema).map(|name| (name, record.clone())));
            }
        }
        self.subscribers.lock().unwrap().push(subscriber);
        self.any.store(true, Ordering::SeqCst);
    }

    /// Whether anyone subscribed (callers skip building events otherwise).
    pub fn is_active(&self) -> bool {
        self.any.load(Ordering::SeqCst)
    }

    /// A platform event of the init phase: sent, and kept for later subscribers until the first invocation.
    pub fn init_event(&self, kind: Platform, record: Value) {
        self.init.lock().unwrap().push((kind, record.clone(), now()));
        self.platform(kind, record);
    }

    /// The invoke phase of `request_id` starts (`platform.start`).
    pub fn invocation_started(&self, request_id: &str) {
        self.invoked.store(true, Ordering::SeqCst);
        if self.is_active() {
            let record = json!({ "requestId": request_id, "version": crate::aws::lambda::VERSION_LATEST });
            self.platform(Platform::Start, record);
        }
    }

    /// A line the function printed.
    pub fn function_line(&self, line: &str) {
        self.send(|s| s.function, |_| Some(("function", Value::String(line.to_string()))));
    }

    /// A line an extension printed.
    pub fn extension_line(&self, line: &str) {
        self.send(|s| s.extension, |_| Some(("extension", Value::String(line.to_string()))));
    }

    /// A platform event with `record`.
    pub fn platform(&self, kind: Platform, record: Value) {
        self.send(|s| s.platform, |schema| kind.name(schema).map(|name| (name, record.clone())));
    }

    fn send(&self, wants: impl Fn(&Subscription) -> bool, event: impl Fn(Schema) -> Option<(&'static str, Value)>) {
        if !self.any.load(Ordering::SeqCst) {
            return;
        }
        for subscriber in self.subscribers.lock().unwrap().iter().filter(|s| wants(&s.subscription)) {
            subscriber.send(&event);
        }
    }
}

impl Subscriber {
    /// The event in this subscriber's schema, stamped now; nothing if its API has no such event.
    fn send(&self, event: impl Fn(Schema) -> Option<(&'static str, Value)>) {
        self.send_at(&now(), event);
    }

    fn send_at(&self, time: &str, event: impl Fn(Schema) -> Option<(&'static str, Value)>) {
        if let Some((kind, record)) = event(self.subscription.schema) {
            // A full queue (a destination that does not keep up) drops the event.
            let _ = self.events.try_send(json!({ "time": time, "type": kind, "record": record }));
        }
    }
}

/// Now, as telemetry events are stamped: RFC 3339 with milliseconds, UTC.
fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Posts `events` to `destination` in batches: when `max_items` or `max_bytes` are buffered, or `timeout` after
/// the first of a batch. Ends when the environment goes (its senders are dropped), after sending what is left.
async fn deliver(destination: String, buffering: Buffering, mut events: mpsc::Receiver<Value>) {
    let client: Client<HttpConnector, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    while let Some(first) = events.recv().await {
        let mut batch = vec![first];
        let mut bytes = batch[0].to_string().len();
        let deadline = tokio::time::Instant::now() + buffering.timeout;
        while batch.len() < buffering.max_items && bytes < buffering.max_bytes {
            match tokio::time::timeout_at(deadline, events.recv()).await {
                Ok(Some(event)) => {
                    bytes += event.to_string().len();
                    batch.push(event);
                }
                _ => break,
            }
        }
        let body = Value::Array(batch).to_string();
        let request = hyper::Request::post(&destination)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .expect("a checked destination");
        match tokio::time::timeout(DELIVERY_TIMEOUT, client.request(request)).await {
            Ok(Ok(_)) => {}
            Ok(Err(err)) => tracing::debug!(target: "lambda", "telemetry to {destination} was not delivered: {err}"),
            Err(_) => tracing::debug!(target: "lambda", "telemetry to {destination} was not answered in time"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_api_names_the_moments_its_own_way() {
        assert_eq!(Platform::RuntimeDone.name(Schema::Telemetry), Some("platform.runtimeDone"));
        assert_eq!(Platform::RuntimeDone.name(Schema::Logs), Some("platform.end"));
        assert_eq!(Platform::InitStart.name(Schema::Logs), None);
    }
}
