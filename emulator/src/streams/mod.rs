//! DynamoDB Streams → Lambda: `stream` events of type dynamodb become event source mappings that read the table's
//! stream on DynamoDB Local and invoke the function through the same pool as everything else, as Lambda does:
//! one batch in flight per shard, shards in order, `batchSize` (Serverless's default 10) gathered for up to
//! `maximumBatchingWindow` seconds, `startingPosition`
//! (TRIM_HORIZON, or LATEST from the mapping's start), a failed batch retried (until `maximumRetryAttempts`; -1,
//! the default, until it succeeds), `ReportBatchItemFailures` resuming from the lowest failed sequence number.
//! Records are passed on as the Streams API returns them, with the `eventSourceARN` Lambda adds (DynamoDB Local
//! leaves it out) and the function's region. The stream is found by the table name in the ARN, so an ARN
//! written for AWS resolves locally.
//!
//! - [`client`]: the Streams API of DynamoDB Local, in plain JSON.
//! - [`filter`]: `filterPatterns`, as Lambda filters records.

pub mod client;
pub mod filter;

use crate::config::intrinsics::Intrinsics;
use crate::config::{ConfigError, Event, Service};
use crate::lambda::{FunctionResult, InvokeRequest, Lambda, Trigger};
use client::StreamsClient;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// One mapping: a table's stream feeding a function.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamMapping {
    pub function: String,
    pub table: String,
    /// The stream ARN as the service gives it, which records carry as `eventSourceARN`.
    pub arn: String,
    pub batch_size: u32,
    /// `maximumBatchingWindow`: how long records are gathered before a batch that is not full goes.
    pub batching_window: Duration,
    pub from_latest: bool,
    pub maximum_retry_attempts: i64,
    pub report_batch_item_failures: bool,
    pub bisect: bool,
    pub filter_patterns: Vec<Value>,
    pub region: String,
}

impl StreamMapping {
    pub fn describe(&self) -> String {
        format!("{} ← stream of {}", self.function, self.table)
    }
}

/// The enabled `stream` mappings of `service`, their ARNs resolved.
pub fn mappings(service: &Service, intrinsics: &Intrinsics) -> Result<Vec<StreamMapping>, ConfigError> {
    let mut out = Vec::new();
    for function in service.functions.values() {
        for (i, event) in function.events.iter().enumerate() {
            let Event::Stream(stream) = event else { continue };
            if !stream.enabled {
                continue;
            }
            let path = format!("functions.{}.events.{i}.stream.arn", function.key);
            let arn = intrinsics.resolve_string(&stream.arn, &path)?;
            let table = table_of(&arn).ok_or_else(|| {
                ConfigError::at_path(
                    &path,
                    format!("expected a DynamoDB stream ARN (arn:aws:dynamodb:…:table/<name>/stream/…), found `{arn}`"),
                )
            })?;
            out.push(StreamMapping {
                function: function.key.clone(),
                table,
                arn,
                batch_size: stream.batch_size,
                batching_window: Duration::from_secs(stream.maximum_batching_window_seconds as u64),
                from_latest: stream.from_latest,
                maximum_retry_attempts: stream.maximum_retry_attempts,
                report_batch_item_failures: stream.report_batch_item_failures,
                bisect: stream.bisect_batch_on_function_error,
                filter_patterns: stream.filter_patterns.clone(),
                region: service.region.clone(),
            });
        }
    }
    Ok(out)
}

/// The table a stream ARN names.
fn table_of(arn: &str) -> Option<String> {
    let rest = arn.split_once(":table/")?.1;
    let table = rest.split('/').next()?;
    (!table.is_empty() && rest.contains("/stream/")).then(|| table.to_string())
}

/// The running mappings, replaced when a plan changes them.
pub struct StreamMappings {
    lambda: Weak<Lambda>,
    endpoint: String,
    running: Mutex<Vec<(StreamMapping, tokio::task::JoinHandle<()>)>>,
}

impl StreamMappings {
    pub fn new(lambda: &Arc<Lambda>, dynamodb_endpoint: &str) -> Self {
        Self {
            lambda: Arc::downgrade(lambda),
            endpoint: dynamodb_endpoint.to_string(),
            running: Mutex::new(Vec::new()),
        }
    }

    /// Runs `mappings` instead of the current ones; returns the lines to log for what started and stopped.
    pub fn apply(&self, mappings: Vec<StreamMapping>) -> Vec<String> {
        let mut running = self.running.lock().unwrap();
        let mut lines = Vec::new();
        running.retain(|(mapping, task)| {
            let keep = mappings.contains(mapping);
            if !keep {
                task.abort();
                lines.push(format!("stopped {}", mapping.describe()));
            }
            keep
        });
        for mapping in mappings {
            if running.iter().any(|(m, _)| *m == mapping) {
                continue;
            }
            lines.push(format!("{} (batch {})", mapping.describe(), mapping.batch_size));
            let client = StreamsClient::new(&self.endpoint, &mapping.region);
            let task = tokio::spawn(poll(mapping.clone(), client, self.lambda.clone()));
            running.push((mapping, task));
        }
        lines
    }
}

impl Drop for StreamMappings {
    fn drop(&mut self) {
        self.running.lock().unwrap().drain(..).for_each(|(_, task)| task.abort());
    }
}

/// How often an empty shard is read again (Lambda polls a stream's shards about four times a second).
const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// Reads the stream shard by shard (a child after its parent), delivering each batch before reading on.
async fn poll(mapping: StreamMapping, client: StreamsClient, lambda: Weak<Lambda>) {
    let stream = wait_for_stream(&mapping, &client).await;
    let mut done: HashSet<String> = HashSet::new();
    let mut at_start = true;
    loop {
        let shards = match client.shards(&stream).await {
            Ok(shards) => shards,
            Err(err) => {
                tracing::warn!(target: "streams", "{}: {err}; trying again", mapping.describe());
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
        };
        let ready = |(id, parent): &&(String, Option<String>)| {
            !done.contains(id)
                && parent.as_ref().is_none_or(|p| done.contains(p) || !shards.iter().any(|(i, _)| i == p))
        };
        let Some((shard, _)) = shards.iter().find(ready).cloned() else {
            tokio::time::sleep(POLL_INTERVAL).await;
            continue;
        };
        let position = if at_start && mapping.from_latest { "LATEST" } else { "TRIM_HORIZON" };
        at_start = false;
        if read_shard(&mapping, &client, &lambda, &stream, &shard, position).await {
            done.insert(shard);
        }
    }
}

/// The table's stream, once it has one (the table may be created after the mapping starts).
async fn wait_for_stream(mapping: &StreamMapping, client: &StreamsClient) -> String {
    let mut warned = false;
    loop {
        match client.stream_of(&mapping.table).await {
            Ok(Some(arn)) => return arn,
            outcome => {
                if !warned {
                    let why = match outcome {
                        Err(err) => err,
                        _ => "the table has no stream: give it a StreamSpecification".to_string(),
                    };
                    tracing::warn!(target: "streams", "{}: waiting: {why}", mapping.describe());
                    warned = true;
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        }
    }
}

/// Reads one shard, batch by batch. True once a closed shard has been read to its end.
///
/// Records are gathered into a batch until it holds `batchSize` records or `maximumBatchingWindow` has passed
/// since its first record (at once without a window), as Lambda batches them. The shard's checkpoint moves only
/// once a batch is delivered: after a read error the shard is read again from there, and what was gathered is
/// dropped, to be read again.
async fn read_shard(
    mapping: &StreamMapping,
    client: &StreamsClient,
    lambda: &Weak<Lambda>,
    stream: &str,
    shard: &str,
    position: &str,
) -> bool {
    let mut checkpoint: Option<String> = None;
    let mut iterator = None;
    let mut gathered = Gathered::default();
    loop {
        let current = match iterator.take() {
            Some(current) => current,
            None => {
                gathered = Gathered::default();
                let (kind, after) = match &checkpoint {
                    Some(sequence) => ("AFTER_SEQUENCE_NUMBER", Some(sequence.as_str())),
                    None => (position, None),
                };
                match client.iterator(stream, shard, kind, after).await {
                    Ok(fresh) => fresh,
                    Err(err) => {
                        tracing::warn!(target: "streams", "{}: {err}", mapping.describe());
                        tokio::time::sleep(Duration::from_secs(2)).await;
                        continue;
                    }
                }
            }
        };
        let room = mapping.batch_size.saturating_sub(gathered.records.len() as u32).max(1);
        let (records, next) = match client.records(&current, room).await {
            Ok(read) => read,
            Err(err) => {
                tracing::warn!(target: "streams", "{}: {err}; reading again from the last batch delivered", mapping.describe());
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if let Some(last) = records.last().and_then(|r| r["dynamodb"]["SequenceNumber"].as_str()) {
            let last = last.to_string();
            // Records no filter pattern matches are skipped; the shard moves on past them.
            gathered.add(records.into_iter().filter(|r| filter::passes(&mapping.filter_patterns, r)), last);
        } else {
            tokio::time::sleep(POLL_INTERVAL).await;
        }
        let closed = next.is_none();
        if gathered.ready(mapping, closed) {
            let (batch, last) = std::mem::take(&mut gathered).into_batch();
            if !batch.is_empty() {
                deliver(mapping, lambda, batch).await;
            }
            checkpoint = last;
        }
        match next {
            Some(next) => iterator = Some(next),
            None => return true,
        }
    }
}

/// The records read from a shard and not delivered yet.
#[derive(Default)]
struct Gathered {
    records: Vec<Value>,
    /// The sequence number of the last record read, passing the filters or not: the checkpoint once delivered.
    last: Option<String>,
    /// When the first record of the batch was read.
    since: Option<std::time::Instant>,
}

impl Gathered {
    fn add(&mut self, records: impl Iterator<Item = Value>, last: String) {
        let before = self.records.len();
        self.records.extend(records);
        if before == 0 && !self.records.is_empty() {
            self.since = Some(std::time::Instant::now());
        }
        self.last = Some(last);
    }

    /// Whether the batch goes now: full, its window passed, or the shard read to its end.
    fn ready(&self, mapping: &StreamMapping, closed: bool) -> bool {
        let window_over = self.since.is_none_or(|since| since.elapsed() >= mapping.batching_window);
        self.last.is_some() && (closed || window_over || self.records.len() >= mapping.batch_size as usize)
    }

    fn into_batch(self) -> (Vec<Value>, Option<String>) {
        (self.records, self.last)
    }
}

/// Invokes the function with one batch until it succeeds (or the retries run out). With ReportBatchItemFailures,
/// a batch resumes from the lowest sequence number the function reports; with bisectBatchOnFunctionError, a
/// failing batch is split in two and each half delivered (the splits are not retries).
async fn deliver(mapping: &StreamMapping, lambda: &Weak<Lambda>, records: Vec<Value>) {
    let batch: Vec<Value> = records
        .into_iter()
        .map(|mut record| {
            record["eventSourceARN"] = json!(mapping.arn);
            record["awsRegion"] = json!(mapping.region);
            record
        })
        .collect();
    deliver_batch(mapping, lambda, batch).await;
}

async fn deliver_batch(mapping: &StreamMapping, lambda: &Weak<Lambda>, mut batch: Vec<Value>) {
    let mut attempts: i64 = 0;
    while !batch.is_empty() {
        let Some(lambda) = lambda.upgrade() else { return };
        let payload = json!({ "Records": batch }).to_string();
        let request = InvokeRequest::new(payload).by(Trigger::Stream { table: mapping.table.clone() });
        let Some(response) = lambda.invoke(&mapping.function, request).await else { return };
        let resume_at = match &response.result {
            FunctionResult::Error { error_type, .. } => {
                tracing::warn!(target: "streams", "{} failed ({error_type}) on a batch of {}", mapping.describe(), batch.len());
                Some(0)
            }
            FunctionResult::Success(body) if mapping.report_batch_item_failures => failed_from(&batch, body),
            _ => None,
        };
        let Some(index) = resume_at else { return };
        batch.drain(..index);
        if mapping.bisect && index == 0 && batch.len() > 1 {
            let second = batch.split_off(batch.len() / 2);
            Box::pin(deliver_batch(mapping, &Arc::downgrade(&lambda), batch)).await;
            Box::pin(deliver_batch(mapping, &Arc::downgrade(&lambda), second)).await;
            return;
        }
        attempts += 1;
        if mapping.maximum_retry_attempts >= 0 && attempts > mapping.maximum_retry_attempts {
            tracing::warn!(target: "streams", "{}: {} records dropped after {attempts} attempts", mapping.describe(), batch.len());
            return;
        }
        tokio::time::sleep(Duration::from_millis(500 * attempts.min(10) as u64)).await;
    }
}

/// Where a batch resumes after a ReportBatchItemFailures answer: the lowest reported sequence number, or the
/// whole batch again when an identifier is empty or unknown; `None` when nothing failed.
fn failed_from(batch: &[Value], body: &[u8]) -> Option<usize> {
    let answer: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let failures = answer.get("batchItemFailures").and_then(Value::as_array).filter(|f| !f.is_empty())?;
    let positions: Option<Vec<usize>> = failures
        .iter()
        .map(|failure| {
            let id = failure.get("itemIdentifier")?.as_str().filter(|id| !id.is_empty())?;
            batch.iter().position(|r| r["dynamodb"]["SequenceNumber"].as_str() == Some(id))
        })
        .collect();
    Some(positions.and_then(|p| p.into_iter().min()).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_arn_names_its_table_wherever_it_was_written_for() {
        assert_eq!(
            table_of("arn:aws:dynamodb:eu-north-1:000000000000:table/tasks/stream/local").as_deref(),
            Some("tasks")
        );
        assert_eq!(
            table_of("arn:aws:dynamodb:us-east-1:123456789012:table/t-dev/stream/2026-01-01T00:00:00.000").as_deref(),
            Some("t-dev")
        );
        assert_eq!(table_of("arn:aws:dynamodb:eu-north-1:000000000000:table/tasks"), None);
    }

    #[test]
    fn reported_failures_resume_the_batch_at_the_lowest() {
        let batch: Vec<Value> = ["1", "2", "3"].iter().map(|s| json!({"dynamodb": {"SequenceNumber": s}})).collect();
        let answer = |ids: &[&str]| {
            let failures: Vec<Value> = ids.iter().map(|id| json!({"itemIdentifier": id})).collect();
            json!({ "batchItemFailures": failures }).to_string().into_bytes()
        };
        assert_eq!(failed_from(&batch, &answer(&["3", "2"])), Some(1));
        assert_eq!(failed_from(&batch, &answer(&[])), None);
        assert_eq!(failed_from(&batch, &answer(&[""])), Some(0), "an empty identifier fails the whole batch");
        assert_eq!(failed_from(&batch, b"null"), None);
    }
}
