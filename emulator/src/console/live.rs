//! The console's live feed (`GET /api/live`, server-sent events): every new journal entry, within 100 ms of its
//! writing and batched with the others of that moment (an invocation without its payload, response and log, which
//! the page fetches when shown), and every second the
//! queues' counts and the functions' processes, which the page charts. Ends when the emulator stops or the page
//! goes.

use super::views::summary;
use super::Console;
use crate::server::{streamed, Body};
use bytes::Bytes;
use futures_util::StreamExt;
use hyper::Response;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};

/// How often the counts go out.
const COUNTS_EVERY: Duration = Duration::from_secs(1);

/// Entries are sent at most this long after they are written, together with those written meanwhile.
const BATCH_WINDOW: Duration = Duration::from_millis(100);

pub fn stream(console: &Arc<Console>) -> Response<Body> {
    let state = (console.clone(), console.lambda.journal().watch(), tokio::time::interval(COUNTS_EVERY));
    let events = futures_util::stream::unfold(state, |(console, mut entries, mut ticks)| async move {
        let text = tokio::select! {
            entry = entries.recv() => match entry {
                // What follows within the batch window goes in the same write: under load the page gets a few
                // writes a second, not one per invocation, and nothing here wakes for each one.
                Ok(entry) => {
                    tokio::time::sleep(BATCH_WINDOW).await;
                    let mut text = event("entry", &summary(&entry));
                    loop {
                        match entries.try_recv() {
                            Ok(next) => text.push_str(&event("entry", &summary(&next))),
                            Err(TryRecvError::Lagged(missed)) => text.push_str(&event("lagged", &json!({ "missed": missed }))),
                            Err(_) => break,
                        }
                    }
                    text
                }
                Err(RecvError::Lagged(missed)) => event("lagged", &json!({ "missed": missed })),
                Err(RecvError::Closed) => return None,
            },
            _ = ticks.tick() => event("counts", &counts(&console)),
        };
        Some((Ok(Bytes::from(text)), (console, entries, ticks)))
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
            Some((spec.key.clone(), json!({ "warm": pool.idle_workers(), "busy": pool.busy_processes() })))
        })
        .collect();
    json!({ "queues": queues, "functions": functions, "connections": console.websocket.connections().len() })
}
