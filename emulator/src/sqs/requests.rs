//! The SQS operations as typed requests and responses. Both wire protocols parse into [`Request`] and shape
//! [`Response`]; [`execute`] runs a request against the [`Sqs`] service, with SQS's checks of the request.

use super::checks::{check_batch, fifo_fields};
use super::error::{ErrorCode, SqsError};
use super::message::{AttributeValue, NewMessage, Received, Sent, TRACE_HEADER};
use super::move_tasks::TaskReport;
use super::policy::Permission;
use super::service::Sqs;
use super::settings::Setting;
use crate::aws::caller::Caller;
use crate::aws::sqs as limits;
use base64::Engine;
use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

#[derive(Debug, Clone)]
pub enum Request {
    CreateQueue {
        name: String,
        attributes: BTreeMap<String, String>,
        tags: BTreeMap<String, String>,
    },
    GetQueueUrl {
        name: String,
        /// `QueueOwnerAWSAccountId`: a queue of another account.
        owner: Option<String>,
    },
    ListQueues {
        prefix: Option<String>,
        max_results: Option<u64>,
        next_token: Option<String>,
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
    TagQueue {
        queue_url: String,
        tags: BTreeMap<String, String>,
    },
    UntagQueue {
        queue_url: String,
        keys: Vec<String>,
    },
    ListQueueTags {
        queue_url: String,
    },
    AddPermission {
        queue_url: String,
        label: String,
        accounts: Vec<String>,
        actions: Vec<String>,
    },
    RemovePermission {
        queue_url: String,
        label: String,
    },
    StartMessageMoveTask {
        source_arn: String,
        destination_arn: Option<String>,
        rate: Option<u64>,
    },
    ListMessageMoveTasks {
        source_arn: String,
        max: Option<u64>,
    },
    CancelMessageMoveTask {
        handle: String,
    },
}

impl Request {
    /// Messages sent with an `X-Amzn-Trace-Id` header carry it as their `AWSTraceHeader` (as on SQS), unless
    /// they set that system attribute themselves.
    pub fn traced(mut self, trace_header: Option<&str>) -> Self {
        let Some(trace) = trace_header else { return self };
        let messages: Vec<&mut NewMessage> = match &mut self {
            Request::SendMessage { message, .. } => vec![message],
            Request::SendMessageBatch { entries, .. } => entries.iter_mut().map(|(_, message)| message).collect(),
            _ => Vec::new(),
        };
        for message in messages {
            message.system_attributes.entry(TRACE_HEADER.to_string()).or_insert_with(|| AttributeValue {
                data_type: "String".to_string(),
                string: Some(trace.to_string()),
                binary: None,
            });
        }
        self
    }
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
    QueueUrls { urls: Vec<String>, next_token: Option<String> },
    DeadLetterSources(Vec<String>),
    Attributes(BTreeMap<String, String>),
    Sent(Sent),
    SentBatch { successful: Vec<(String, Sent)>, failed: Vec<BatchFailure> },
    Batch { successful: Vec<String>, failed: Vec<BatchFailure> },
    Messages(Vec<Received>),
    Tags(BTreeMap<String, String>),
    TaskHandle(String),
    MoveTasks(Vec<TaskReport>),
    MovedCount(u64),
}

/// Runs `request` for `caller`: queue names and URLs are in its account and region.
pub async fn execute(sqs: &Sqs, caller: &Caller, request: Request) -> Result<Response, SqsError> {
    let response = run(sqs, caller, request).await;
    // With --persist, nothing is acknowledged before it is on disk.
    sqs.flushed().await;
    response
}

async fn run(sqs: &Sqs, caller: &Caller, request: Request) -> Result<Response, SqsError> {
    let queue = |url: &str| sqs.queue_by_url(caller, url);
    Ok(match request {
        Request::CreateQueue { name, attributes, tags } => {
            Response::QueueUrl(sqs.create_queue(caller, &name, &attributes, &tags)?.url.clone())
        }
        Request::GetQueueUrl { name, owner } => {
            let place = Caller { account: owner.unwrap_or_else(|| caller.account.clone()), ..caller.clone() };
            Response::QueueUrl(sqs.queue(&place, &name)?.url.clone())
        }
        Request::ListQueues { prefix, max_results, next_token } => {
            let urls = sqs.list_queues(caller, prefix.as_deref()).iter().map(|q| q.url.clone()).collect();
            page_of_urls(urls, max_results, next_token.as_deref())?
        }
        Request::GetQueueAttributes { queue_url, names } => {
            let queue = queue(&queue_url)?;
            let all = queue.attributes();
            if let Some(unknown) = names.iter().find(|n| *n != "All" && !is_queue_attribute(n)) {
                return Err(SqsError::invalid_attribute_name(unknown));
            }
            let wanted: HashSet<&str> = names.iter().map(String::as_str).collect();
            Response::Attributes(
                all.into_iter().filter(|(k, _)| wanted.contains("All") || wanted.contains(k.as_str())).collect(),
            )
        }
        Request::SetQueueAttributes { queue_url, attributes } => {
            sqs.set_attributes(&*queue(&queue_url)?, &attributes)?;
            Response::Empty
        }
        Request::SendMessage { queue_url, message } => Response::Sent(sqs.send(&*queue(&queue_url)?, message)?),
        Request::SendMessageBatch { queue_url, entries } => {
            let queue = queue(&queue_url)?;
            check_batch("SendMessageBatchRequestEntry", entries.iter().map(|(id, _)| id))?;
            // A FIFO entry without its ids fails the whole request, as on SQS (a missing group id as an invalid
            // value, not a missing parameter); other faults fail one entry.
            let settings = queue.settings();
            for (_, message) in &entries {
                fifo_fields(message, &settings).map_err(|err| SqsError::invalid(err.message))?;
            }
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
            let queue = queue(&queue_url)?;
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
            sqs.delete(&*queue(&queue_url)?, &receipt)?;
            Response::Empty
        }
        Request::DeleteMessageBatch { queue_url, entries } => {
            let queue = queue(&queue_url)?;
            check_batch("DeleteMessageBatchRequestEntry", entries.iter().map(|(id, _)| id))?;
            batch(entries.into_iter().map(|(id, receipt)| (id, sqs.delete(&queue, &receipt))))
        }
        Request::ChangeMessageVisibility { queue_url, receipt, timeout } => {
            sqs.change_visibility(&*queue(&queue_url)?, &receipt, Duration::from_secs(timeout))?;
            Response::Empty
        }
        Request::ChangeMessageVisibilityBatch { queue_url, entries } => {
            let queue = queue(&queue_url)?;
            check_batch("ChangeMessageVisibilityBatchRequestEntry", entries.iter().map(|(id, _, _)| id))?;
            batch(entries.into_iter().map(|(id, receipt, timeout)| {
                (id, sqs.change_visibility(&queue, &receipt, Duration::from_secs(timeout)))
            }))
        }
        Request::PurgeQueue { queue_url } => {
            sqs.purge(&*queue(&queue_url)?);
            Response::Empty
        }
        Request::DeleteQueue { queue_url } => {
            sqs.delete_queue(&*queue(&queue_url)?);
            Response::Empty
        }
        Request::ListDeadLetterSourceQueues { queue_url } => {
            let queue = queue(&queue_url)?;
            Response::DeadLetterSources(sqs.dead_letter_sources(&queue).iter().map(|q| q.url.clone()).collect())
        }
        Request::TagQueue { queue_url, tags } => {
            sqs.tag_queue(&*queue(&queue_url)?, &tags)?;
            Response::Empty
        }
        Request::UntagQueue { queue_url, keys } => {
            sqs.untag_queue(&*queue(&queue_url)?, &keys)?;
            Response::Empty
        }
        Request::ListQueueTags { queue_url } => Response::Tags(queue(&queue_url)?.tags()),
        Request::AddPermission { queue_url, label, accounts, actions } => {
            let permission = Permission { label: &label, accounts: &accounts, actions: &actions };
            sqs.add_permission(&*queue(&queue_url)?, &permission)?;
            Response::Empty
        }
        Request::RemovePermission { queue_url, label } => {
            sqs.remove_permission(&*queue(&queue_url)?, &label)?;
            Response::Empty
        }
        Request::StartMessageMoveTask { source_arn, destination_arn, rate } => {
            let rate = rate.map(|r| u32::try_from(r).unwrap_or(u32::MAX));
            Response::TaskHandle(sqs.start_move_task(&source_arn, destination_arn.as_deref(), rate)?)
        }
        Request::ListMessageMoveTasks { source_arn, max } => {
            Response::MoveTasks(sqs.list_move_tasks(&source_arn, max)?)
        }
        Request::CancelMessageMoveTask { handle } => Response::MovedCount(sqs.cancel_move_task(&handle)?),
    })
}

/// The names GetQueueAttributes knows: the settings and what SQS computes.
fn is_queue_attribute(name: &str) -> bool {
    const COMPUTED: &[&str] = &[
        "QueueArn",
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
        "CreatedTimestamp",
        "LastModifiedTimestamp",
    ];
    COMPUTED.contains(&name) || Setting::from_name(name).is_some()
}

/// ListQueues answers up to 1000 URLs; with `MaxResults` (1 to 1000) a page of them and a `NextToken` for the
/// rest. The token is opaque to callers: here, the base64 of the last URL answered.
fn page_of_urls(urls: Vec<String>, max_results: Option<u64>, next_token: Option<&str>) -> Result<Response, SqsError> {
    if max_results.is_some_and(|m| !(1..=limits::MAX_LIST_QUEUES as u64).contains(&m)) {
        return Err(SqsError::invalid(
            "Value for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000.",
        ));
    }
    let after = match next_token {
        Some(token) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(token)
                .map_err(|_| SqsError::invalid("Invalid NextToken value."))?;
            Some(String::from_utf8(bytes).map_err(|_| SqsError::invalid("Invalid NextToken value."))?)
        }
        None => None,
    };
    let rest: Vec<String> = urls.into_iter().filter(|url| after.as_ref().is_none_or(|after| url > after)).collect();
    let page_size = max_results.map_or(limits::MAX_LIST_QUEUES, |m| m as usize);
    let more = max_results.is_some() && rest.len() > page_size;
    let urls: Vec<String> = rest.into_iter().take(page_size).collect();
    let next_token = more.then(|| base64::engine::general_purpose::STANDARD.encode(urls.last().expect("a full page")));
    Ok(Response::QueueUrls { urls, next_token })
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
