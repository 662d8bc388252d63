//! The AWS JSON 1.0 protocol of SQS (current SDKs and the AWS CLI): `POST /` with
//! `X-Amz-Target: AmazonSQS.<Operation>` and a JSON body; errors as `{"__type": "com.amazonaws.sqs#Code"}` with
//! the query-compatible code in `x-amzn-query-error`.

use super::error::{ErrorCode, SqsError};
use super::message::{AttributeValue, NewMessage, Received, Sent};
use super::move_tasks::TaskReport;
use super::requests::{BatchFailure, Request, Response};
use base64::Engine;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::time::Duration;

pub const CONTENT_TYPE: &str = "application/x-amz-json-1.0";
/// The header that carries the query protocol's error code, for SDKs that still expect it.
pub const QUERY_ERROR_HEADER: &str = "x-amzn-query-error";

/// The operation an `X-Amz-Target: AmazonSQS.<Operation>` header names; `None` for other targets.
pub fn operation(target: &str) -> Option<&str> {
    target.strip_prefix("AmazonSQS.")
}

/// Parses one operation's JSON body.
pub fn parse(operation: &str, body: &[u8]) -> Result<Request, SqsError> {
    let input: Value = if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(body)
            .map_err(|e| SqsError::invalid(format!("The request body is not valid JSON: {e}")))?
    };
    let input = Input(&input);
    Ok(match operation {
        "CreateQueue" => Request::CreateQueue {
            name: input.string("QueueName")?,
            attributes: input.string_map("Attributes")?,
            tags: input.string_map("tags")?,
        },
        "GetQueueUrl" => Request::GetQueueUrl {
            name: input.string("QueueName")?,
            owner: input.optional_string("QueueOwnerAWSAccountId")?,
        },
        "ListQueues" => Request::ListQueues {
            prefix: input.optional_string("QueueNamePrefix")?,
            max_results: input.number("MaxResults")?,
            next_token: input.optional_string("NextToken")?,
        },
        "GetQueueAttributes" => Request::GetQueueAttributes {
            queue_url: input.string("QueueUrl")?,
            names: input.string_list("AttributeNames")?,
        },
        "SetQueueAttributes" => Request::SetQueueAttributes {
            queue_url: input.string("QueueUrl")?,
            attributes: input.string_map("Attributes")?,
        },
        "SendMessage" => Request::SendMessage { queue_url: input.string("QueueUrl")?, message: new_message(&input)? },
        "SendMessageBatch" => Request::SendMessageBatch {
            queue_url: input.string("QueueUrl")?,
            entries: input
                .entries()?
                .iter()
                .map(|e| Ok((Input(e).string("Id")?, new_message(&Input(e))?)))
                .collect::<Result<_, SqsError>>()?,
        },
        "ReceiveMessage" => {
            let mut attribute_names = input.string_list("AttributeNames")?;
            attribute_names.extend(input.string_list("MessageSystemAttributeNames")?);
            Request::ReceiveMessage {
                queue_url: input.string("QueueUrl")?,
                max: input.number("MaxNumberOfMessages")?,
                visibility: input.number("VisibilityTimeout")?,
                wait: input.number("WaitTimeSeconds")?,
                attribute_names,
                message_attribute_names: input.string_list("MessageAttributeNames")?,
            }
        }
        "DeleteMessage" => {
            Request::DeleteMessage { queue_url: input.string("QueueUrl")?, receipt: input.string("ReceiptHandle")? }
        }
        "DeleteMessageBatch" => Request::DeleteMessageBatch {
            queue_url: input.string("QueueUrl")?,
            entries: input
                .entries()?
                .iter()
                .map(|e| Ok((Input(e).string("Id")?, Input(e).string("ReceiptHandle")?)))
                .collect::<Result<_, SqsError>>()?,
        },
        "ChangeMessageVisibility" => Request::ChangeMessageVisibility {
            queue_url: input.string("QueueUrl")?,
            receipt: input.string("ReceiptHandle")?,
            timeout: input.number("VisibilityTimeout")?.ok_or_else(|| SqsError::missing("VisibilityTimeout"))?,
        },
        "ChangeMessageVisibilityBatch" => Request::ChangeMessageVisibilityBatch {
            queue_url: input.string("QueueUrl")?,
            entries: input
                .entries()?
                .iter()
                .map(|e| {
                    let entry = Input(e);
                    Ok((
                        entry.string("Id")?,
                        entry.string("ReceiptHandle")?,
                        entry.number("VisibilityTimeout")?.unwrap_or(0),
                    ))
                })
                .collect::<Result<_, SqsError>>()?,
        },
        "PurgeQueue" => Request::PurgeQueue { queue_url: input.string("QueueUrl")? },
        "DeleteQueue" => Request::DeleteQueue { queue_url: input.string("QueueUrl")? },
        "ListDeadLetterSourceQueues" => Request::ListDeadLetterSourceQueues { queue_url: input.string("QueueUrl")? },
        "TagQueue" => Request::TagQueue { queue_url: input.string("QueueUrl")?, tags: input.string_map("Tags")? },
        "UntagQueue" => {
            Request::UntagQueue { queue_url: input.string("QueueUrl")?, keys: input.string_list("TagKeys")? }
        }
        "ListQueueTags" => Request::ListQueueTags { queue_url: input.string("QueueUrl")? },
        "AddPermission" => Request::AddPermission {
            queue_url: input.string("QueueUrl")?,
            label: input.string("Label")?,
            accounts: input.string_list("AWSAccountIds")?,
            actions: input.string_list("Actions")?,
        },
        "RemovePermission" => {
            Request::RemovePermission { queue_url: input.string("QueueUrl")?, label: input.string("Label")? }
        }
        "StartMessageMoveTask" => Request::StartMessageMoveTask {
            source_arn: input.string("SourceArn")?,
            destination_arn: input.optional_string("DestinationArn")?,
            rate: input.number("MaxNumberOfMessagesPerSecond")?,
        },
        "ListMessageMoveTasks" => {
            Request::ListMessageMoveTasks { source_arn: input.string("SourceArn")?, max: input.number("MaxResults")? }
        }
        "CancelMessageMoveTask" => Request::CancelMessageMoveTask { handle: input.string("TaskHandle")? },
        other => {
            return Err(SqsError::new(
                ErrorCode::UnsupportedOperation,
                format!("ftb-offline does not emulate the SQS operation {other}"),
            ))
        }
    })
}

fn new_message(input: &Input) -> Result<NewMessage, SqsError> {
    Ok(NewMessage {
        body: input.string("MessageBody")?,
        attributes: message_attributes(input.0.get("MessageAttributes"))?,
        system_attributes: message_attributes(input.0.get("MessageSystemAttributes"))?,
        delay: input.number("DelaySeconds")?.map(Duration::from_secs),
        group_id: input.optional_string("MessageGroupId")?,
        deduplication_id: input.optional_string("MessageDeduplicationId")?,
    })
}

fn message_attributes(value: Option<&Value>) -> Result<BTreeMap<String, AttributeValue>, SqsError> {
    let Some(Value::Object(map)) = value else { return Ok(BTreeMap::new()) };
    map.iter()
        .map(|(name, attribute)| {
            let data_type = attribute.get("DataType").and_then(Value::as_str).unwrap_or_default().to_string();
            let string = attribute.get("StringValue").and_then(Value::as_str).map(String::from);
            let binary = match attribute.get("BinaryValue").and_then(Value::as_str) {
                Some(b64) => Some(base64::engine::general_purpose::STANDARD.decode(b64).map_err(|_| {
                    SqsError::invalid(format!("The BinaryValue of message attribute {name} is not base64"))
                })?),
                None => None,
            };
            Ok((name.clone(), AttributeValue { data_type, string, binary }))
        })
        .collect()
}

/// Shapes a successful response.
pub fn response_body(response: &Response) -> Value {
    match response {
        Response::Empty => json!({}),
        Response::QueueUrl(url) => json!({ "QueueUrl": url }),
        Response::QueueUrls { urls, next_token } => {
            // No queue: no `QueueUrls` at all, as on SQS.
            let mut out = if urls.is_empty() { json!({}) } else { json!({ "QueueUrls": urls }) };
            if let Some(token) = next_token {
                out["NextToken"] = json!(token);
            }
            out
        }
        Response::DeadLetterSources(urls) => json!({ "queueUrls": urls }),
        // With no attribute asked for, SQS sends no `Attributes` at all.
        Response::Attributes(attributes) if attributes.is_empty() => json!({}),
        Response::Attributes(attributes) => json!({ "Attributes": attributes }),
        Response::Tags(tags) if tags.is_empty() => json!({}),
        Response::Tags(tags) => json!({ "Tags": tags }),
        Response::TaskHandle(handle) => json!({ "TaskHandle": handle }),
        Response::MoveTasks(tasks) => json!({ "Results": tasks.iter().map(task_json).collect::<Vec<_>>() }),
        Response::MovedCount(moved) => json!({ "ApproximateNumberOfMessagesMoved": moved }),
        Response::Sent(sent) => sent_json(None, sent),
        Response::SentBatch { successful, failed } => json!({
            "Successful": successful.iter().map(|(id, sent)| sent_json(Some(id), sent)).collect::<Vec<_>>(),
            "Failed": failed.iter().map(failure_json).collect::<Vec<_>>(),
        }),
        Response::Batch { successful, failed } => json!({
            "Successful": successful.iter().map(|id| json!({"Id": id})).collect::<Vec<_>>(),
            "Failed": failed.iter().map(failure_json).collect::<Vec<_>>(),
        }),
        Response::Messages(messages) => json!({ "Messages": messages.iter().map(message_json).collect::<Vec<_>>() }),
    }
}

fn sent_json(id: Option<&String>, sent: &Sent) -> Value {
    let mut out = Map::new();
    if let Some(id) = id {
        out.insert("Id".into(), json!(id));
    }
    out.insert("MessageId".into(), json!(sent.message_id));
    out.insert("MD5OfMessageBody".into(), json!(sent.md5_body));
    if let Some(md5) = &sent.md5_attributes {
        out.insert("MD5OfMessageAttributes".into(), json!(md5));
    }
    if let Some(md5) = &sent.md5_system_attributes {
        out.insert("MD5OfMessageSystemAttributes".into(), json!(md5));
    }
    if let Some(sequence) = &sent.sequence_number {
        out.insert("SequenceNumber".into(), json!(sequence));
    }
    Value::Object(out)
}

/// A message move task as ListMessageMoveTasks shows it (fields without a value left out).
fn task_json(task: &TaskReport) -> Value {
    let mut out = json!({
        "Status": task.status.name(),
        "SourceArn": task.source_arn,
        "ApproximateNumberOfMessagesMoved": task.moved,
        "ApproximateNumberOfMessagesToMove": task.to_move,
        "StartedTimestamp": task.started_ms,
    });
    let optional = [
        ("TaskHandle", task.handle.clone().map(Value::from)),
        ("DestinationArn", task.destination_arn.clone().map(Value::from)),
        ("MaxNumberOfMessagesPerSecond", task.rate.map(Value::from)),
        ("FailureReason", task.failure_reason.clone().map(Value::from)),
    ];
    for (name, value) in optional {
        if let Some(value) = value {
            out[name] = value;
        }
    }
    out
}

fn failure_json(failure: &BatchFailure) -> Value {
    json!({ "Id": failure.id, "SenderFault": true, "Code": failure.error.code.name(), "Message": failure.error.message })
}

fn message_json(message: &Received) -> Value {
    let mut out = json!({
        "MessageId": message.message_id,
        "ReceiptHandle": message.receipt_handle,
        "MD5OfBody": message.md5_body,
        "Body": message.body,
    });
    let fields = out.as_object_mut().expect("an object");
    if !message.system.is_empty() {
        fields.insert("Attributes".into(), json!(message.system));
    }
    if let Some(md5) = &message.md5_attributes {
        fields.insert("MD5OfMessageAttributes".into(), json!(md5));
        let attributes: Map<String, Value> = message
            .attributes
            .iter()
            .map(|(name, value)| {
                let mut attribute = json!({ "DataType": value.data_type });
                if let Some(s) = &value.string {
                    attribute["StringValue"] = json!(s);
                }
                if let Some(b) = &value.binary {
                    attribute["BinaryValue"] = json!(base64::engine::general_purpose::STANDARD.encode(b));
                }
                (name.clone(), attribute)
            })
            .collect();
        fields.insert("MessageAttributes".into(), Value::Object(attributes));
    }
    out
}

/// The error body and the [`QUERY_ERROR_HEADER`] value.
pub fn error_body(error: &SqsError) -> (Value, String) {
    (
        json!({ "__type": error.code.json_type(), "message": error.message }),
        format!("{};Sender", error.code.query_code()),
    )
}

/// Field access with SQS-style errors.
struct Input<'a>(&'a Value);

impl Input<'_> {
    fn optional_string(&self, key: &str) -> Result<Option<String>, SqsError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(SqsError::invalid(format!("{key} must be a string"))),
        }
    }
    fn string(&self, key: &str) -> Result<String, SqsError> {
        self.optional_string(key)?.ok_or_else(|| SqsError::missing(key))
    }
    fn number(&self, key: &str) -> Result<Option<u64>, SqsError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())).map(Some).ok_or_else(|| {
                SqsError::invalid(format!("Value {v} for parameter {key} is invalid: expected a whole number"))
            }),
        }
    }
    fn string_list(&self, key: &str) -> Result<Vec<String>, SqsError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(String::from)
                        .ok_or_else(|| SqsError::invalid(format!("{key} must be a list of strings")))
                })
                .collect(),
            Some(_) => Err(SqsError::invalid(format!("{key} must be a list of strings"))),
        }
    }
    fn string_map(&self, key: &str) -> Result<BTreeMap<String, String>, SqsError> {
        match self.0.get(key) {
            None | Some(Value::Null) => Ok(BTreeMap::new()),
            Some(Value::Object(map)) => map
                .iter()
                .map(|(k, v)| {
                    v.as_str()
                        .map(|s| (k.clone(), s.to_string()))
                        .ok_or_else(|| SqsError::invalid(format!("{key}.{k} must be a string")))
                })
                .collect(),
            Some(_) => Err(SqsError::invalid(format!("{key} must be a map of strings"))),
        }
    }
    fn entries(&self) -> Result<&Vec<Value>, SqsError> {
        match self.0.get("Entries") {
            Some(Value::Array(items)) => Ok(items),
            _ => Err(SqsError::missing("Entries")),
        }
    }
}
