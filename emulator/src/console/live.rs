//! The console's live feed (`GET /api/live`, server-sent events): every new journal entry as it is written (an
//! invocation without its payload, response and log, which the page fetches when shown), and every second the
//! queues' counts and the functions' processes, which the page charts. Ends when the emulator stops or the page
//! goes.

use super::Console;
use crate::journal::Entry;
use crate::server::{streamed, Body};
use bytes::Bytes;
use futures_util::StreamExt;
use hyper::Response;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// How often the counts go out.
const COUNTS_EVERY: Duration = Duration::from_secs(1);

pub fn stream(console: &Arc<Console>) -> Response<Body> {
    let state = (console.clone(), console.lambda.journal().watch(), tokio::time::interval(COUNTS_EVERY));
    let events = futures_util::stream::unfold(state, |(console, mut entries, mut ticks)| async move {
        let event = tokio::select! {
            entry = entries.recv() => match entry {
                Ok(entry) => event("entry", &summary(&entry)),
                Err(RecvError::Lagged(missed)) => event("lagged", &json!({ "missed": missed })),
                Err(RecvError::Closed) => return None,
            },
            _ = ticks.tick() => event("counts", &counts(&console)),
        };
        Some((Ok(Bytes::from(event)), (console, entries, ticks)))
    });
    Response::builder()
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-store")
        .body(streamed(Bytes::from_static(b": live\n\n"), events.boxed()))
        .expect("static parts are valid")
}

fn event(name: &str, data: &Value) -> String {
    format!("event: {name}\ndata: {data}\n\n")
}

/// An entry without the long texts of an invocation.
fn summary(entry: &Entry) -> Value {
    let mut value = serde_json::to_value(entry).expect("entries serialise");
    if let Some(fields) = value.as_object_mut() {
        for long in ["payload", "response", "log"] {
            fields.remove(long);
        }
    }
    value
}

/// Each queue's counts and each function's processes, now.
fn counts(console: &Console) -> Value {
    let queues: serde_json::Map<String, Value> = console
        .sqs
        .list_queues(console.sqs.home(), None)
        .iter()
        .map(|queue| {
            let (visible, in_flight, delayed) = queue.counts();
            (queue.name.clone(), json!({ "visible": visible, "inFlight": in_flight, "delayed": delayed }))
        })
        .collect();
    let functions: serde_json::Map<String, Value> = console
        .lambda
        .functions()
        .iter()
        .filter_map(|spec| {
            let pool = console.lambda.find(&spec.key)?;
            Some((spec.key.clone(), json!({ "warm": pool.warm_processes(), "busy": pool.busy_processes() })))
        })
        .collect();
    json!({ "queues": queues, "functions": functions, "connections": console.websocket.connections().len() })
}
