//! The SQS operations as typed requests and responses. Both wire protocols parse into [`Request`] and shape
//! [`Response`]; [`execute`] runs a request against the [`Sqs`] service, with SQS's checks of the request.

use super::error::{ErrorCode, SqsError};
use super::message::{NewMessage, Received, Sent};
use super::service::Sqs;
use crate::aws::sqs as limits;
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

#[derive(Debug, Clone)]
pub enum Request {
    CreateQueue {
        name: String,
        attributes: BTreeMap<String, String>,
    },
    GetQueueUrl {
        name: String,
    },
    ListQueues {
        prefix: Option<String>,
    },
    GetQueueAttributes {
        queue_url: String,
        names: Vec<String>,
    },
    SetQueueAttributes {
        queue_url: String,
        attributes: BTreeMap<String, String>,
    },
    SendMessage {
        queue_url: String,
        message: NewMessage,
    },
    SendMessageBatch {
        queue_url: String,
        entries: Vec<(String, NewMessage)>,
    },
    ReceiveMessage {
        queue_url: String,
        max: Option<u64>,
        visibility: Option<u64>,
        wait: Option<u64>,
        attribute_names: Vec<String>,
        message_attribute_names: Vec<String>,
    },
    DeleteMessage {
        queue_url: String,
        receipt: String,
    },
    DeleteMessageBatch {
        queue_url: String,
        entries: Vec<(String, String)>,
    },
    ChangeMessageVisibility {
        queue_url: String,
        receipt: String,
        timeout: u64,
    },
    ChangeMessageVisibilityBatch {
        queue_url: String,
        entries: Vec<(String, String, u64)>,
    },
    PurgeQueue {
        queue_url: String,
    },
    DeleteQueue {
        queue_url: String,
    },
    ListDeadLetterSourceQueues {
        queue_url: String,
    },
}

/// A batch entry that failed, by its `Id`.
#[derive(Debug, Clone)]
pub struct BatchFailure {
    pub id: String,
    pub error: SqsError,
}

#[derive(Debug, Clone)]
pub enum Response {
    Empty,
    QueueUrl(String),
    QueueUrls(Vec<String>),
    DeadLetterSources(Vec<String>),
    Attributes(BTreeMap<String, String>),
    Sent(Sent),
    SentBatch { successful: Vec<(String, Sent)>, failed: Vec<BatchFailure> },
    Batch { successful: Vec<String>, failed: Vec<BatchFailure> },
    Messages(Vec<Received>),
}

pub async fn execute(sqs: &Sqs, request: Request) -> Result<Response, SqsError> {
    let response = run(sqs, request).await;
    // With --persist, nothing is acknowledged before it is on disk.
    sqs.flushed().await;
    response
}

async fn run(sqs: &Sqs, request: Request) -> Result<Response, SqsError> {
    Ok(match request {
        Request::CreateQueue { name, attributes } => {
            Response::QueueUrl(sqs.create_queue(&name, &attributes)?.url.clone())
        }
        Request::GetQueueUrl { name } => Response::QueueUrl(sqs.queue(&name)?.url.clone()),
        Request::ListQueues { prefix } => {
            Response::QueueUrls(sqs.list_queues(prefix.as_deref()).iter().map(|q| q.url.clone()).collect())
        }
        Request::GetQueueAttributes { queue_url, names } => {
            let all = sqs.queue_by_url(&queue_url)?.attributes();
            let wanted: HashSet<&str> = names.iter().map(String::as_str).collect();
            Response::Attributes(
                all.into_iter().filter(|(k, _)| wanted.contains("All") || wanted.contains(k.as_str())).collect(),
            )
        }
        Request::SetQueueAttributes { queue_url, attributes } => {
            sqs.set_attributes(&*sqs.queue_by_url(&queue_url)?, &attributes)?;
            Response::Empty
        }
        Request::SendMessage { queue_url, message } => {
            Response::Sent(sqs.send(&*sqs.queue_by_url(&queue_url)?, message)?)
        }
        Request::SendMessageBatch { queue_url, entries } => {
            let queue = sqs.queue_by_url(&queue_url)?;
            check_batch(entries.iter().map(|(id, _)| id))?;
            let total: usize = entries.iter().map(|(_, message)| message.body.len()).sum();
            if total > limits::MAX_MESSAGE_BYTES {
                return Err(SqsError::new(
                    ErrorCode::BatchRequestTooLong,
                    format!("Batch requests cannot be longer than {} bytes.", limits::MAX_MESSAGE_BYTES),
                ));
            }
            let (mut successful, mut failed) = (Vec::new(), Vec::new());
            for (id, message) in entries {
                match sqs.send(&queue, message) {
                    Ok(sent) => successful.push((id, sent)),
                    Err(error) => failed.push(BatchFailure { id, error }),
                }
            }
            Response::SentBatch { successful, failed }
        }
        Request::ReceiveMessage { queue_url, max, visibility, wait, attribute_names, message_attribute_names } => {
            let queue = sqs.queue_by_url(&queue_url)?;
            let max = max.unwrap_or(1);
            if !(1..=limits::MAX_BATCH as u64).contains(&max) {
                return Err(SqsError::invalid(format!("Value {max} for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10, if provided.")));
            }
            if let Some(wait) = wait.filter(|w| *w > limits::MAX_WAIT_SECONDS) {
                return Err(SqsError::invalid(format!("Value {wait} for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20, if provided.")));
            }
            if let Some(v) = visibility.filter(|v| *v > limits::MAX_VISIBILITY_TIMEOUT_SECONDS) {
                return Err(SqsError::invalid(format!(
                    "Value {v} for parameter VisibilityTimeout is invalid. Reason: Must be between 0 and 43200."
                )));
            }
            let wait = wait.map(Duration::from_secs).unwrap_or_else(|| queue.settings().receive_wait);
            let received = sqs.receive(&queue, max as usize, visibility.map(Duration::from_secs), wait).await;
            Response::Messages(
                received.into_iter().map(|m| filter_received(m, &attribute_names, &message_attribute_names)).collect(),
            )
        }
        Request::DeleteMessage { queue_url, receipt } => {
            sqs.delete(&*sqs.queue_by_url(&queue_url)?, &receipt)?;
            Response::Empty
        }
        Request::DeleteMessageBatch { queue_url, entries } => {
            let queue = sqs.queue_by_url(&queue_url)?;
            check_batch(entries.iter().map(|(id, _)| id))?;
            batch(entries.into_iter().map(|(id, receipt)| (id, sqs.delete(&queue, &receipt))))
        }
        Request::ChangeMessageVisibility { queue_url, receipt, timeout } => {
            sqs.change_visibility(&*sqs.queue_by_url(&queue_url)?, &receipt, Duration::from_secs(timeout))?;
            Response::Empty
        }
        Request::ChangeMessageVisibilityBatch { queue_url, entries } => {
            let queue = sqs.queue_by_url(&queue_url)?;
            check_batch(entries.iter().map(|(id, _, _)| id))?;
            batch(entries.into_iter().map(|(id, receipt, timeout)| {
                (id, sqs.change_visibility(&queue, &receipt, Duration::from_secs(timeout)))
            }))
        }
        Request::PurgeQueue { queue_url } => {
            sqs.purge(&*sqs.queue_by_url(&queue_url)?);
            Response::Empty
        }
        Request::DeleteQueue { queue_url } => {
            sqs.delete_queue(&*sqs.queue_by_url(&queue_url)?);
            Response::Empty
        }
        Request::ListDeadLetterSourceQueues { queue_url } => {
            let queue = sqs.queue_by_url(&queue_url)?;
            Response::DeadLetterSources(sqs.dead_letter_sources(&queue).iter().map(|q| q.url.clone()).collect())
        }
    })
}

fn check_batch<'a>(ids: impl Iterator<Item = &'a String>) -> Result<(), SqsError> {
    let ids: Vec<&String> = ids.collect();
    if ids.is_empty() {
        return Err(SqsError::new(ErrorCode::EmptyBatchRequest, "There should be at least one entry in the request."));
    }
    if ids.len() > limits::MAX_BATCH {
        return Err(SqsError::new(
            ErrorCode::TooManyEntriesInBatchRequest,
            format!("Maximum number of entries per request are 10. You have sent {}.", ids.len()),
        ));
    }
    let distinct: HashSet<&&String> = ids.iter().collect();
    if distinct.len() != ids.len() {
        return Err(SqsError::new(
            ErrorCode::BatchEntryIdsNotDistinct,
            "Two or more batch entries in the request have the same Id.",
        ));
    }
    Ok(())
}

fn batch(results: impl Iterator<Item = (String, Result<(), SqsError>)>) -> Response {
    let (mut successful, mut failed) = (Vec::new(), Vec::new());
    for (id, result) in results {
        match result {
            Ok(()) => successful.push(id),
            Err(error) => failed.push(BatchFailure { id, error }),
        }
    }
    Response::Batch { successful, failed }
}

/// Keeps the system and message attributes the request asked for (`All`, names, or `prefix.*`).
fn filter_received(mut message: Received, attribute_names: &[String], message_attribute_names: &[String]) -> Received {
    let wants = |names: &[String], key: &str| {
        names
            .iter()
            .any(|n| n == "All" || n == ".*" || n == key || n.strip_suffix(".*").is_some_and(|p| key.starts_with(p)))
    };
    message.system.retain(|k, _| wants(attribute_names, k));
    message.attributes.retain(|k, _| wants(message_attribute_names, k));
    // SDKs check the digest against the attributes they receive, so it covers exactly those.
    message.md5_attributes = super::digest::md5_of_attributes(&message.attributes);
    message
}
