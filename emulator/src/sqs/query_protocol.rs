//! SQS's query protocol (older SDKs): form-encoded `Action=…` parameters in the body or the query string, the
//! queue in `QueueUrl` or in the path (`/000000000000/<name>`), and XML responses and errors.

use super::error::{ErrorCode, SqsError};
use super::message::{AttributeValue, NewMessage, Received, Sent};
use super::move_tasks::TaskReport;
use super::requests::{BatchFailure, Request, Response};
use crate::aws::query::{element, Form};
use base64::Engine;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

pub const CONTENT_TYPE: &str = "text/xml";
const NAMESPACE: &str = "http://queue.amazonaws.com/doc/2012-11-05/";

/// The parameters of a query request, with SQS's ways of reading them.
pub struct Params(Form);

impl Params {
    pub fn parse(query: Option<&str>, body: &[u8]) -> Self {
        Self(Form::parse(query, body))
    }

    pub fn action(&self) -> Option<&str> {
        self.0.action()
    }

    fn get(&self, key: &str) -> Option<String> {
        self.0.get(key)
    }

    fn list(&self, prefix: &str) -> Vec<String> {
        self.0.list(prefix)
    }

    fn entries(&self, prefix: &str, key: &str, value: &str) -> BTreeMap<String, String> {
        self.0.entries(prefix, key, value)
    }

    fn required(&self, key: &str) -> Result<String, SqsError> {
        self.get(key).ok_or_else(|| SqsError::missing(key))
    }

    fn number(&self, key: &str) -> Result<Option<u64>, SqsError> {
        self.get(key)
            .map(|v| {
                v.parse().map_err(|_| {
                    SqsError::invalid(format!("Value {v} for parameter {key} is invalid: expected a whole number"))
                })
            })
            .transpose()
    }

    /// `Prefix.N.Name` / `Prefix.N.Value` pairs.
    fn pairs(&self, prefix: &str) -> BTreeMap<String, String> {
        self.entries(prefix, "Name", "Value")
    }

    /// Tags as `Tag.N.Key` / `Tag.N.Value` (the model), or `Tags.N.…` (what the AWS SDKs for Java send).
    fn tags(&self) -> BTreeMap<String, String> {
        let mut tags = self.entries("Tag", "Key", "Value");
        tags.extend(self.entries("Tags", "Key", "Value"));
        tags
    }

    fn message_attributes(&self, prefix: &str) -> Result<BTreeMap<String, AttributeValue>, SqsError> {
        let mut out = BTreeMap::new();
        for i in 1.. {
            let Some(name) = self.get(&format!("{prefix}.{i}.Name")) else { break };
            let value = |field: &str| self.get(&format!("{prefix}.{i}.Value.{field}"));
            let binary = match value("BinaryValue") {
                Some(b64) => Some(base64::engine::general_purpose::STANDARD.decode(b64).map_err(|_| {
                    SqsError::invalid(format!("The BinaryValue of message attribute {name} is not base64"))
                })?),
                None => None,
            };
            out.insert(
                name,
                AttributeValue {
                    data_type: value("DataType").unwrap_or_default(),
                    string: value("StringValue"),
                    binary,
                },
            );
        }
        Ok(out)
    }

    fn new_message(&self, prefix: &str) -> Result<NewMessage, SqsError> {
        Ok(NewMessage {
            body: self.required(&format!("{prefix}MessageBody"))?,
            attributes: self.message_attributes(&format!("{prefix}MessageAttribute"))?,
            system_attributes: self.message_attributes(&format!("{prefix}MessageSystemAttribute"))?,
            delay: self.number(&format!("{prefix}DelaySeconds"))?.map(Duration::from_secs),
            group_id: self.get(&format!("{prefix}MessageGroupId")),
            deduplication_id: self.get(&format!("{prefix}MessageDeduplicationId")),
        })
    }
}

/// Parses a query request. `path_queue` is the queue URL when the path names one.
pub fn parse(params: &Params, path_queue: Option<String>) -> Result<Request, SqsError> {
    let action = params.action().ok_or_else(|| SqsError::missing("Action"))?;
    let queue_url = || params.get("QueueUrl").or(path_queue.clone()).ok_or_else(|| SqsError::missing("QueueUrl"));
    let entries =
        |prefix: &'static str| (1..).map_while(move |i| params.get(&format!("{prefix}.{i}.Id")).map(|id| (i, id)));
    Ok(match action {
        "CreateQueue" => Request::CreateQueue {
            name: params.required("QueueName")?,
            attributes: params.pairs("Attribute"),
            tags: params.tags(),
        },
        "GetQueueUrl" => {
            Request::GetQueueUrl { name: params.required("QueueName")?, owner: params.get("QueueOwnerAWSAccountId") }
        }
        "ListQueues" => Request::ListQueues {
            prefix: params.get("QueueNamePrefix"),
            max_results: params.number("MaxResults")?,
            next_token: params.get("NextToken"),
        },
        "GetQueueAttributes" => {
            Request::GetQueueAttributes { queue_url: queue_url()?, names: params.list("AttributeName") }
        }
        "SetQueueAttributes" => {
            Request::SetQueueAttributes { queue_url: queue_url()?, attributes: params.pairs("Attribute") }
        }
        "SendMessage" => Request::SendMessage { queue_url: queue_url()?, message: params.new_message("")? },
        "SendMessageBatch" => Request::SendMessageBatch {
            queue_url: queue_url()?,
            entries: entries("SendMessageBatchRequestEntry")
                .map(|(i, id)| Ok((id, params.new_message(&format!("SendMessageBatchRequestEntry.{i}."))?)))
                .collect::<Result<_, SqsError>>()?,
        },
        "ReceiveMessage" => {
            let mut attribute_names = params.list("AttributeName");
            attribute_names.extend(params.list("MessageSystemAttributeName"));
            Request::ReceiveMessage {
                queue_url: queue_url()?,
                max: params.number("MaxNumberOfMessages")?,
                visibility: params.number("VisibilityTimeout")?,
                wait: params.number("WaitTimeSeconds")?,
                attribute_names,
                message_attribute_names: params.list("MessageAttributeName"),
            }
        }
        "DeleteMessage" => {
            Request::DeleteMessage { queue_url: queue_url()?, receipt: params.required("ReceiptHandle")? }
        }
        "DeleteMessageBatch" => Request::DeleteMessageBatch {
            queue_url: queue_url()?,
            entries: entries("DeleteMessageBatchRequestEntry")
                .map(|(i, id)| {
                    (id, params.get(&format!("DeleteMessageBatchRequestEntry.{i}.ReceiptHandle")).unwrap_or_default())
                })
                .collect(),
        },
        "ChangeMessageVisibility" => Request::ChangeMessageVisibility {
            queue_url: queue_url()?,
            receipt: params.required("ReceiptHandle")?,
            timeout: params.number("VisibilityTimeout")?.ok_or_else(|| SqsError::missing("VisibilityTimeout"))?,
        },
        "ChangeMessageVisibilityBatch" => Request::ChangeMessageVisibilityBatch {
            queue_url: queue_url()?,
            entries: entries("ChangeMessageVisibilityBatchRequestEntry")
                .map(|(i, id)| {
                    let field = |f: &str| params.get(&format!("ChangeMessageVisibilityBatchRequestEntry.{i}.{f}"));
                    (
                        id,
                        field("ReceiptHandle").unwrap_or_default(),
                        field("VisibilityTimeout").and_then(|v| v.parse().ok()).unwrap_or(0),
                    )
                })
                .collect(),
        },
        "PurgeQueue" => Request::PurgeQueue { queue_url: queue_url()? },
        "DeleteQueue" => Request::DeleteQueue { queue_url: queue_url()? },
        "ListDeadLetterSourceQueues" => Request::ListDeadLetterSourceQueues { queue_url: queue_url()? },
        "TagQueue" => Request::TagQueue { queue_url: queue_url()?, tags: params.tags() },
        "UntagQueue" => Request::UntagQueue { queue_url: queue_url()?, keys: params.list("TagKey") },
        "ListQueueTags" => Request::ListQueueTags { queue_url: queue_url()? },
        "AddPermission" => Request::AddPermission {
            queue_url: queue_url()?,
            label: params.required("Label")?,
            accounts: params.list("AWSAccountId"),
            actions: params.list("ActionName"),
        },
        "RemovePermission" => Request::RemovePermission { queue_url: queue_url()?, label: params.required("Label")? },
        "StartMessageMoveTask" => Request::StartMessageMoveTask {
            source_arn: params.required("SourceArn")?,
            destination_arn: params.get("DestinationArn"),
            rate: params.number("MaxNumberOfMessagesPerSecond")?,
        },
        "ListMessageMoveTasks" => Request::ListMessageMoveTasks {
            source_arn: params.required("SourceArn")?,
            max: params.number("MaxResults")?,
        },
        "CancelMessageMoveTask" => Request::CancelMessageMoveTask { handle: params.required("TaskHandle")? },
        other => {
            return Err(SqsError::new(
                ErrorCode::InvalidAction,
                format!("The action {other} is not valid for this endpoint."),
            ))
        }
    })
}

/// Shapes a successful response as `<ActionResponse><ActionResult>…</ActionResult><ResponseMetadata>…`.
pub fn response_body(action: &str, response: &Response, request_id: &str) -> String {
    let mut result = String::new();
    match response {
        Response::Empty => {}
        Response::QueueUrl(url) => element(&mut result, "QueueUrl", url),
        Response::QueueUrls { urls, next_token } => {
            urls.iter().for_each(|u| element(&mut result, "QueueUrl", u));
            if let Some(token) = next_token {
                element(&mut result, "NextToken", token);
            }
        }
        Response::DeadLetterSources(urls) => urls.iter().for_each(|u| element(&mut result, "QueueUrl", u)),
        Response::Tags(tags) => {
            for (key, value) in tags {
                result.push_str("<Tag>");
                element(&mut result, "Key", key);
                element(&mut result, "Value", value);
                result.push_str("</Tag>");
            }
        }
        Response::TaskHandle(handle) => element(&mut result, "TaskHandle", handle),
        Response::MovedCount(moved) => element(&mut result, "ApproximateNumberOfMessagesMoved", &moved.to_string()),
        Response::MoveTasks(tasks) => tasks.iter().for_each(|task| task_xml(&mut result, task)),
        Response::Attributes(attributes) => {
            for (name, value) in attributes {
                result.push_str("<Attribute>");
                element(&mut result, "Name", name);
                element(&mut result, "Value", value);
                result.push_str("</Attribute>");
            }
        }
        Response::Sent(sent) => sent_xml(&mut result, sent),
        Response::SentBatch { successful, failed } => {
            for (id, sent) in successful {
                result.push_str("<SendMessageBatchResultEntry>");
                element(&mut result, "Id", id);
                sent_xml(&mut result, sent);
                result.push_str("</SendMessageBatchResultEntry>");
            }
            failures(&mut result, failed);
        }
        Response::Batch { successful, failed } => {
            let entry = format!("{action}ResultEntry");
            for id in successful {
                let _ = write!(result, "<{entry}>");
                element(&mut result, "Id", id);
                let _ = write!(result, "</{entry}>");
            }
            failures(&mut result, failed);
        }
        Response::Messages(messages) => messages.iter().for_each(|m| message_xml(&mut result, m)),
    }
    format!(
        "<?xml version=\"1.0\"?><{action}Response xmlns=\"{NAMESPACE}\"><{action}Result>{result}</{action}Result><ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{action}Response>"
    )
}

pub fn error_body(error: &SqsError, request_id: &str) -> String {
    let mut out = format!("<?xml version=\"1.0\"?><ErrorResponse xmlns=\"{NAMESPACE}\"><Error><Type>Sender</Type>");
    element(&mut out, "Code", error.code.query_code());
    // The query protocol words a missing queue as SQS's first API did.
    let message = match error.code {
        ErrorCode::QueueDoesNotExist => "The specified queue does not exist for this wsdl version.",
        _ => &error.message,
    };
    element(&mut out, "Message", message);
    let _ = write!(out, "<Detail/></Error><RequestId>{request_id}</RequestId></ErrorResponse>");
    out
}

fn sent_xml(out: &mut String, sent: &Sent) {
    element(out, "MessageId", &sent.message_id);
    element(out, "MD5OfMessageBody", &sent.md5_body);
    if let Some(md5) = &sent.md5_attributes {
        element(out, "MD5OfMessageAttributes", md5);
    }
    if let Some(md5) = &sent.md5_system_attributes {
        element(out, "MD5OfMessageSystemAttributes", md5);
    }
    if let Some(sequence) = &sent.sequence_number {
        element(out, "SequenceNumber", sequence);
    }
}

fn failures(out: &mut String, failed: &[BatchFailure]) {
    for failure in failed {
        out.push_str("<BatchResultErrorEntry>");
        element(out, "Id", &failure.id);
        element(out, "SenderFault", "true");
        element(out, "Code", failure.error.code.name());
        element(out, "Message", &failure.error.message);
        out.push_str("</BatchResultErrorEntry>");
    }
}

fn message_xml(out: &mut String, message: &Received) {
    out.push_str("<Message>");
    element(out, "MessageId", &message.message_id);
    element(out, "ReceiptHandle", &message.receipt_handle);
    element(out, "MD5OfBody", &message.md5_body);
    element(out, "Body", &message.body);
    for (name, value) in &message.system {
        out.push_str("<Attribute>");
        element(out, "Name", name);
        element(out, "Value", value);
        out.push_str("</Attribute>");
    }
    if let Some(md5) = &message.md5_attributes {
        element(out, "MD5OfMessageAttributes", md5);
    }
    for (name, value) in &message.attributes {
        out.push_str("<MessageAttribute>");
        element(out, "Name", name);
        out.push_str("<Value>");
        element(out, "DataType", &value.data_type);
        if let Some(s) = &value.string {
            element(out, "StringValue", s);
        }
        if let Some(b) = &value.binary {
            element(out, "BinaryValue", &base64::engine::general_purpose::STANDARD.encode(b));
        }
        out.push_str("</Value></MessageAttribute>");
    }
    out.push_str("</Message>");
}

/// A message move task as ListMessageMoveTasks shows it (fields without a value left out).
fn task_xml(out: &mut String, task: &TaskReport) {
    out.push_str("<ListMessageMoveTasksResultEntry>");
    if let Some(handle) = &task.handle {
        element(out, "TaskHandle", handle);
    }
    element(out, "Status", task.status.name());
    element(out, "SourceArn", &task.source_arn);
    if let Some(destination) = &task.destination_arn {
        element(out, "DestinationArn", destination);
    }
    if let Some(rate) = task.rate {
        element(out, "MaxNumberOfMessagesPerSecond", &rate.to_string());
    }
    element(out, "ApproximateNumberOfMessagesMoved", &task.moved.to_string());
    element(out, "ApproximateNumberOfMessagesToMove", &task.to_move.to_string());
    if let Some(reason) = &task.failure_reason {
        element(out, "FailureReason", reason);
    }
    element(out, "StartedTimestamp", &task.started_ms.to_string());
    out.push_str("</ListMessageMoveTasksResultEntry>");
}
