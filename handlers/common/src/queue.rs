//! The SQS message that carries a task to the worker: `{"taskId": "…"}`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskMessage {
    pub task_id: String,
}

impl TaskMessage {
    pub fn body(task_id: &str) -> String {
        serde_json::to_string(&TaskMessage { task_id: task_id.to_string() }).expect("a message serialises")
    }

    /// `None` for a body that is not a task message (logged and dropped by the consumers, never poison).
    pub fn parse(body: Option<&str>) -> Option<Self> {
        serde_json::from_str::<Self>(body?).ok().filter(|m| !m.task_id.is_empty())
    }
}

/// Reports `message` as failed in a ReportBatchItemFailures response: SQS delivers it again later.
pub fn batch_item_failure(message: &aws_lambda_events::sqs::SqsMessage) -> aws_lambda_events::sqs::BatchItemFailure {
    let mut failure = aws_lambda_events::sqs::BatchItemFailure::default();
    failure.item_identifier = message.message_id.clone().unwrap_or_default();
    failure
}

/// How many times SQS has delivered the message, including this time (`ApproximateReceiveCount`).
pub fn receive_count(message: &aws_lambda_events::sqs::SqsMessage) -> u32 {
    message.attributes.get("ApproximateReceiveCount").and_then(|n| n.parse().ok()).unwrap_or(1)
}
