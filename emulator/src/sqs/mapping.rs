//! Lambda event source mappings for SQS: pollers receive batches (batchSize, maximumBatchingWindow), invoke the
//! function through the Lambda pool with the SQS event, delete what succeeded, and leave failures to reappear
//! after the visibility timeout, so the queue's redrive policy moves messages that keep failing to the
//! dead-letter queue. `functionResponseType: ReportBatchItemFailures` deletes all but the failed items.

use super::message::{Message, Received};
use super::pauses::Pauses;
use super::queue::Queue;
use super::service::Sqs;
use crate::aws::sqs::{MAX_BATCH, MAX_WAIT_SECONDS};
use crate::lambda::{FunctionResult, InvokeRequest, Lambda, Trigger};
use crate::server::{Shutdown, ShutdownTrigger};
use base64::Engine;
use serde_json::{json, Map, Value};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

/// One `sqs` event of one function.
#[derive(Clone)]
pub struct Mapping {
    pub function: String,
    pub queue: Arc<Queue>,
    pub batch_size: usize,
    pub batching_window: Duration,
    pub report_batch_item_failures: bool,
    /// Concurrent pollers, each with one batch in flight (at most the function's concurrency).
    pub pollers: usize,
    pub region: String,
}

impl Mapping {
    /// The same mapping: same function, same queue (not one deleted and created again), same settings.
    fn same_as(&self, other: &Mapping) -> bool {
        self.function == other.function
            && Arc::ptr_eq(&self.queue, &other.queue)
            && self.batch_size == other.batch_size
            && self.batching_window == other.batching_window
            && self.report_batch_item_failures == other.report_batch_item_failures
            && self.pollers == other.pollers
            && self.region == other.region
    }

    fn describe(&self) -> String {
        format!("{} ← {}", self.function, self.queue.name)
    }
}

/// The running mappings. A live edit of `serverless.yml` starts new ones and stops removed ones; a stopped
/// mapping finishes the batch it is running and receives no more.
pub struct Mappings {
    sqs: Arc<Sqs>,
    lambda: Arc<Lambda>,
    pauses: Arc<Pauses>,
    shutdown: Shutdown,
    running: Vec<(Arc<Mapping>, ShutdownTrigger)>,
}

/// What [`Mappings::apply`] changed, as `function ← queue`.
#[derive(Debug, Default)]
pub struct MappingChanges {
    pub started: Vec<String>,
    pub stopped: Vec<String>,
}

impl Mappings {
    /// Starts the pollers of every mapping; they all stop with `shutdown`.
    pub fn start(
        sqs: Arc<Sqs>,
        lambda: Arc<Lambda>,
        pauses: Arc<Pauses>,
        mappings: Vec<Mapping>,
        shutdown: Shutdown,
    ) -> Self {
        let mut this = Self { sqs, lambda, pauses, shutdown, running: Vec::new() };
        this.apply(mappings);
        this
    }

    /// Makes `mappings` the running set: unchanged ones keep running, the rest stop or start.
    pub fn apply(&mut self, mappings: Vec<Mapping>) -> MappingChanges {
        let mut changes = MappingChanges::default();
        let (kept, stopped): (Vec<_>, Vec<_>) = std::mem::take(&mut self.running)
            .into_iter()
            .partition(|(running, _)| mappings.iter().any(|m| m.same_as(running)));
        for (mapping, stop) in stopped {
            stop.trigger();
            tracing::info!(target: "sqs", "stopped {}", mapping.describe());
            changes.stopped.push(mapping.describe());
        }
        self.running = kept;
        for mapping in mappings {
            if self.running.iter().any(|(running, _)| running.same_as(&mapping)) {
                continue;
            }
            changes.started.push(mapping.describe());
            let mapping = Arc::new(mapping);
            let stop = self.spawn(mapping.clone());
            self.running.push((mapping, stop));
        }
        changes
    }

    fn spawn(&self, mapping: Arc<Mapping>) -> ShutdownTrigger {
        tracing::info!(target: "sqs", "{} (batch {}, {} pollers{})", mapping.describe(), mapping.batch_size, mapping.pollers,
            if mapping.report_batch_item_failures { ", ReportBatchItemFailures" } else { "" });
        let (trigger, stop) = crate::server::shutdown_pair();
        for _ in 0..mapping.pollers.max(1) {
            let (sqs, lambda, mapping) = (self.sqs.clone(), self.lambda.clone(), mapping.clone());
            let (mut shutdown, stop, pauses) = (self.shutdown.clone(), stop.clone(), self.pauses.clone());
            tokio::spawn(async move {
                tokio::select! {
                    _ = shutdown.wait() => {}
                    _ = poll(&sqs, &lambda, &mapping, &pauses, stop) => {}
                }
            });
        }
        trigger
    }
}

async fn poll(sqs: &Sqs, lambda: &Lambda, mapping: &Mapping, pauses: &Pauses, mut stop: Shutdown) {
    let (function, queue_arn) = (&mapping.function, &mapping.queue.arn);
    loop {
        tokio::select! {
            _ = pauses.wait_until_enabled(function, queue_arn) => {}
            _ = stop.wait() => return,
        }
        let Some(batch) = collect_batch(sqs, mapping, pauses, &mut stop).await else { return };
        if batch.is_empty() {
            continue;
        }
        // With --persist, the batch is on disk as in flight before the function sees it.
        sqs.flushed().await;
        let event = json!({ "Records": batch.iter().map(|m| record(m, &mapping.queue.arn, &mapping.region)).collect::<Vec<_>>() });
        let message_ids = batch.iter().map(|m| m.message_id.clone()).collect();
        let request = InvokeRequest::new(serde_json::to_vec(&event).expect("events serialise"))
            .by(Trigger::Queue { queue: mapping.queue.name.clone(), message_ids });
        let Some(response) = lambda.invoke(&mapping.function, request).await else {
            tracing::warn!(target: "sqs", "the function {} of a mapping does not exist", mapping.function);
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        let failed = match &response.result {
            FunctionResult::Success(payload) if mapping.report_batch_item_failures => failed_items(payload, &batch),
            FunctionResult::Success(_) | FunctionResult::Streamed(_) | FunctionResult::Streaming(_) => {
                Some(HashSet::new())
            }
            FunctionResult::Error { .. } => None,
        };
        match failed {
            None => {
                tracing::info!(target: "sqs", "{} failed a batch of {} from {}; the messages return after the visibility timeout", mapping.function, batch.len(), mapping.queue.name)
            }
            Some(failed) => {
                for message in batch.iter().filter(|m| !failed.contains(&m.message_id)) {
                    let _ = sqs.delete(&mapping.queue, &message.receipt_handle);
                }
                if !failed.is_empty() {
                    tracing::info!(target: "sqs", "{} reported {} of {} messages from {} as failed; they return after the visibility timeout", mapping.function, failed.len(), batch.len(), mapping.queue.name);
                }
            }
        }
    }
}

/// Up to `batch_size` messages: one long poll, then more until the batching window closes. `None` once the
/// mapping is stopped, and empty once it is paused: both only while nothing is received yet, so no message is
/// left in flight; what was received is always delivered.
async fn collect_batch(sqs: &Sqs, mapping: &Mapping, pauses: &Pauses, stop: &mut Shutdown) -> Option<Vec<Received>> {
    let long_poll =
        sqs.receive(&mapping.queue, mapping.batch_size.min(MAX_BATCH), None, Duration::from_secs(MAX_WAIT_SECONDS));
    let mut batch = tokio::select! {
        _ = stop.wait() => return None,
        _ = pauses.wait_until_paused(&mapping.function, &mapping.queue.arn) => return Some(Vec::new()),
        first = long_poll => first,
    };
    if batch.is_empty() || mapping.batching_window.is_zero() {
        return Some(batch);
    }
    let window_end = tokio::time::Instant::now() + mapping.batching_window;
    while batch.len() < mapping.batch_size {
        let left = window_end.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            break;
        }
        let wanted = (mapping.batch_size - batch.len()).min(MAX_BATCH);
        batch.extend(sqs.receive(&mapping.queue, wanted, None, left).await);
    }
    Some(batch)
}

/// The message ids a ReportBatchItemFailures answer names; `None` makes the whole batch fail (invalid JSON, an
/// empty or unknown itemIdentifier), as Lambda does.
fn failed_items(payload: &[u8], batch: &[Received]) -> Option<HashSet<String>> {
    let answer: Value =
        if payload.iter().all(u8::is_ascii_whitespace) { Value::Null } else { serde_json::from_slice(payload).ok()? };
    let items = match answer.get("batchItemFailures") {
        None | Some(Value::Null) => return Some(HashSet::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return None,
    };
    let known: HashSet<&str> = batch.iter().map(|m| m.message_id.as_str()).collect();
    items
        .iter()
        .map(|item| {
            item.get("itemIdentifier")
                .and_then(Value::as_str)
                .filter(|id| !id.is_empty() && known.contains(id))
                .map(String::from)
        })
        .collect()
}

/// The event a mapping of the queue `queue_arn` would deliver with one message, `{}`, received once: the
/// console's sample event for a function with an `sqs` trigger.
pub fn sample_event(queue_arn: &str, region: &str) -> Value {
    let received = Message::sent_now("{}").receive(tokio::time::Instant::now(), Duration::ZERO);
    json!({ "Records": [record(&received, queue_arn, region)] })
}

/// One record of the SQS event, as Lambda delivers it.
fn record(message: &Received, queue_arn: &str, region: &str) -> Value {
    let attributes: Map<String, Value> = message
        .attributes
        .iter()
        .map(|(name, value)| {
            let binary = value.binary.as_ref().map(|b| base64::engine::general_purpose::STANDARD.encode(b));
            (name.clone(), json!({ "stringValue": value.string, "binaryValue": binary, "stringListValues": [], "binaryListValues": [], "dataType": value.data_type }))
        })
        .collect();
    json!({
        "messageId": message.message_id,
        "receiptHandle": message.receipt_handle,
        "body": message.body,
        "attributes": message.system,
        "messageAttributes": attributes,
        "md5OfBody": message.md5_body,
        "md5OfMessageAttributes": message.md5_attributes,
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    })
}
